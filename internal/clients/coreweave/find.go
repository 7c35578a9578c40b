package coreweave

import (
	"context"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

var _ clients.ClusterFinder = (*Cloud)(nil)

// FindCluster looks for the CKS cluster an earlier, interrupted apply created for this resource,
// without creating anything (cluster placement asks every candidate cloud before creating on
// any). A CKS cluster carries no labels, so what identifies it is what the adapter made for the
// resource: a cluster named spec.Name (the launch token is derived from the same kind and
// name) in the VPC made for a cluster of that name (ownedVPCName), and, once its node pool
// exists, the pool's launch-token label.
//
//   - none, or one being deleted, or one in a VPC the adapter did not make (someone else's, or
//     a coreweave.vpc_id's, which CreateCluster refuses with its own message): nil;
//   - one created at or after spec.AdoptSince (within the create timeout): it is returned to be
//     adopted, with the node pool it is to get remembered when it has none yet (the wait's
//     SettleCluster creates it once the cluster runs);
//   - one created earlier, one in another zone than spec.Region, or one whose pool carries
//     another launch token: ErrConflict, with the import command.
func (c *Cloud) FindCluster(ctx context.Context, spec clients.ClusterSpec) (*clients.Cluster, error) {
	if spec.Name == "" {
		return nil, nil
	}
	list, err := c.api.ListClusters(ctx)
	if err != nil {
		return nil, err
	}
	var cl *Cluster
	for i := range list {
		if list[i].Name == spec.Name {
			cl = &list[i]
			break
		}
	}
	if cl == nil || cl.Status == ClusterStatusDeleting || cl.Status == ClusterStatusDeleted {
		return nil, nil
	}
	owned, err := c.vpcOwnedBy(ctx, cl.VPCID, cl.Name)
	if err != nil {
		return nil, err
	}
	if !owned {
		return nil, nil
	}
	switch {
	case !spec.AdoptSince.IsZero() && cl.CreatedAt.Before(spec.AdoptSince):
		return nil, c.oldCluster(cl, "was created before this apply's create timeout began, so it is not the cluster an interrupted apply of it left")
	case spec.Region != "" && cl.Zone != spec.Region:
		return nil, c.oldCluster(cl, "is in another zone than this resource's "+spec.Region)
	}
	plan, _, err := c.clusterPlan(spec) // cl is named spec.Name
	if err != nil {
		return nil, err
	}
	if apiServerUp(cl.Status) {
		kc, err := c.kube.For(cl.APIServerEndpoint)
		if err != nil {
			return nil, err
		}
		pool, _, err := c.poolAndNodes(ctx, kc, plan.Name)
		switch {
		case err == nil:
			if tok := pool.Metadata.Labels[labelLaunchToken]; plan.Token != "" && tok != "" && tok != plan.Token {
				return nil, c.oldCluster(cl, "has a node pool "+plan.Name+" that another launch made")
			}
		case clients.IsNotFound(err), transientKube(err):
			// No pool yet, or the API server not answering for now: the name and the VPC
			// made for it identify the cluster.
		default:
			return nil, err
		}
	}
	c.setPlan(cl.ID, plan)
	c.rememberCluster(cl, owned)
	v, err := c.GetCluster(ctx, cl.ID)
	if err != nil {
		c.dropPlan(cl.ID)
		return nil, err
	}
	v.Adopted = "created by an earlier apply that was interrupted"
	return v, nil
}

// oldCluster is the conflict of a CKS cluster of this resource's name that is not one an
// interrupted apply of it left: nothing is created, and the error says how to manage it.
func (c *Cloud) oldCluster(cl *Cluster, why string) error {
	return clients.Errorf(clients.ErrConflict, "a CKS cluster named %q already exists (id %s, zone %s, %s, created %s) and %s. Nothing was created. "+
		"If it is this resource's cluster, import it:\n  terraform import <this resource's address> coreweave/%s\nor add an import block { to = <this resource's address>, id = \"coreweave/%s\" }. "+
		"If it belongs to another configuration, choose another name.",
		cl.Name, cl.ID, cl.Zone, cl.Status, cl.CreatedAt.UTC().Format(time.RFC3339), why, cl.ID, cl.ID)
}
