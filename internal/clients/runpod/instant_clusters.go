package runpod

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Instant Clusters as RunPod's API has them (neocloud_gpu_cluster is built on these). A cluster
// carries no tag and takes no client token, and names are not unique, so a create whose answer
// was lost is resolved by listing before and after: a cluster that was not there before, with
// the requested name, is the one created.

// ListClusters lists the account's Instant Clusters.
func (c *Cloud) ListClusters(ctx context.Context) ([]Cluster, error) {
	return c.api.ListClusters(ctx)
}

// CreateInstantCluster creates an Instant Cluster. Compute.GPUTypeID may be a neutral GPU name; it is
// sent as RunPod's id. When the answer is lost, a new cluster of that name is adopted; it is
// never created twice.
func (c *Cloud) CreateInstantCluster(ctx context.Context, req CreateClusterRequest) (*Cluster, error) {
	if strings.TrimSpace(req.Name) == "" {
		return nil, clients.Errorf(clients.ErrInvalid, "a RunPod cluster needs a name")
	}
	if req.Type == "" {
		req.Type = ClusterTraining
	}
	id, _, maxCount, err := resolveGPU(req.Compute.GPUTypeID)
	if err != nil {
		return nil, err
	}
	req.Compute.GPUTypeID = id
	if req.Compute.GPUCountPerPod < 1 || req.Compute.GPUCountPerPod > maxCount {
		return nil, clients.Errorf(clients.ErrInvalid, "a RunPod cluster node has 1 to %d GPUs of type %s, not %d", maxCount, id, req.Compute.GPUCountPerPod)
	}
	if req.Compute.PodCount < 2 || req.Compute.PodCount > 250 {
		return nil, clients.Errorf(clients.ErrInvalid, "a RunPod cluster has 2 to 250 nodes, not %d", req.Compute.PodCount)
	}
	if req.Image == "" {
		return nil, clients.Errorf(clients.ErrInvalid, "a RunPod cluster needs a container image")
	}
	return createAdopting(ctx, c, "cluster "+req.Name, c.api.ListClusters,
		func(ctx context.Context) (*Cluster, error) { return c.api.CreateCluster(ctx, req) },
		func(cl Cluster) (string, bool) { return cl.ID, cl.Name == req.Name })
}

// GetInstantCluster reads a cluster; ErrNotFound when it does not exist.
func (c *Cloud) GetInstantCluster(ctx context.Context, id string) (*Cluster, error) {
	return c.api.GetCluster(ctx, id)
}

// RenameCluster renames a cluster (the only change RunPod allows in place).
func (c *Cloud) RenameCluster(ctx context.Context, id, name string) (*Cluster, error) {
	if strings.TrimSpace(name) == "" {
		return nil, clients.Errorf(clients.ErrInvalid, "a RunPod cluster name cannot be empty")
	}
	return c.api.RenameCluster(ctx, id, name)
}

// ListClusterPods lists a cluster's member pods in full.
func (c *Cloud) ListClusterPods(ctx context.Context, id string) ([]Pod, error) {
	return c.api.ListClusterPods(ctx, id)
}

// ClusterInstances lists a cluster's member pods as neutral instances (ranks and overlay IPs
// are on the pods: Pod.Cluster).
func (c *Cloud) ClusterInstances(ctx context.Context, id string) ([]*clients.Instance, error) {
	pods, err := c.api.ListClusterPods(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]*clients.Instance, len(pods))
	for i, p := range pods {
		out[i] = InstanceFromPod(p)
	}
	return out, nil
}

// DeleteInstantCluster deletes a cluster and terminates its pods; one already gone counts as deleted.
func (c *Cloud) DeleteInstantCluster(ctx context.Context, id string) error {
	err := c.api.DeleteCluster(ctx, id)
	if clients.IsNotFound(err) {
		return nil
	}
	return err
}

// ids is the set of the ids of a list's objects.
func ids[T any](list []T, id func(T) string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, v := range list {
		m[id(v)] = true
	}
	return m
}

// createAdopting creates an object with create, and when the create's answer was lost, looks
// for it instead of sending it again (see clients.Adopt): the one object that match accepts
// and whose id was not listed before the create. More than one such object cannot be told
// apart and none is adopted.
func createAdopting[T any](ctx context.Context, c *Cloud, what string, list func(context.Context) ([]T, error),
	create func(context.Context) (*T, error), match func(T) (string, bool)) (*T, error) {
	listed, err := list(ctx)
	if err != nil {
		return nil, err
	}
	before := ids(listed, func(v T) string { id, _ := match(v); return id })
	created, createErr := create(ctx)
	if !errors.Is(createErr, clients.ErrOutcomeUnknown) {
		return created, createErr
	}
	v, lookErr := clients.Adopt(ctx, clients.AdoptPolicy{Window: c.adoptWindow, Interval: c.adoptInterval, MaxPause: adoptMaxPause},
		func(ctx context.Context) (*T, error) {
			all, err := list(ctx)
			if err != nil {
				return nil, err
			}
			var found []int
			for i, v := range all {
				if id, ok := match(v); ok && !before[id] {
					found = append(found, i)
				}
			}
			switch {
			case len(found) == 1:
				return &all[found[0]], nil
			case len(found) > 1:
				return nil, clients.Errorf(clients.ErrConflict, "%v; %d new objects match %s, so none was adopted: check the RunPod console and delete the extra ones",
					createErr, len(found), what)
			}
			return nil, nil
		})
	switch {
	case v != nil:
		return v, nil
	case clients.IsConflict(lookErr):
		return nil, &clients.KindError{Kind: clients.ErrOutcomeUnknown, Msg: lookErr.Error()}
	case lookErr == nil:
		return nil, fmt.Errorf("%v; a look %s after the create found no new %s, so it was not created; it was not sent again: apply again to retry", createErr, c.adoptWindow, what)
	}
	return nil, &clients.KindError{Kind: clients.ErrOutcomeUnknown, Msg: fmt.Sprintf(
		"%v; the new %s may still appear: the looks for it failed until the operation's time ran out (the last: %v), and the create was not repeated: "+
			"check the RunPod console before applying again", createErr, what, lookErr)}
}
