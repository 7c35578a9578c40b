package coreweave

import (
	"fmt"
	"strings"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Plan-time rules of CoreWeave clusters: what CKS and its node pools accept, checked before
// anything is sent.

// ClusterRules: 1 to 64 nodes, resized in place (a merge patch of the pool's targetNodes),
// never renamed (a CKS cluster's name is immutable). The instance type fixes the GPUs per node.
func (c *Cloud) ClusterRules() clients.ClusterRules {
	return clients.ClusterRules{MinNodes: ClusterMinNodes, MaxNodes: ClusterMaxNodes, Resizable: true, Renamable: false}
}

// clusterOptions are the spec's CoreWeave options with the defaults filled in.
// Settings of another cloud's type are an error.
func clusterOptions(spec clients.ClusterSpec) (ClusterOptions, error) {
	o, err := clients.OptionsOr[ClusterOptions](cloudName, spec.Options)
	if err != nil {
		return o, err
	}
	o.KubernetesVersion = strings.TrimSpace(o.KubernetesVersion) // "": the newest CoreWeave offers (createCluster)
	o.ComputeClass = neutralComputeClass(o.ComputeClass)
	return o, nil
}

// wireComputeClass spells a neutral compute class ("default", "spot") the way the notes show
// NodePool.spec.computeClass ("default", "Spot"); "" stays "" (CoreWeave's default applies).
func wireComputeClass(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return ""
	case ComputeClassDefault:
		return ComputeClassDefault
	case ComputeClassSpot:
		return wireComputeClassSpot
	}
	return s
}

// neutralComputeClass spells a pool's compute class the neutral way (lowercase), so that a
// configuration saying "spot" reads back unchanged.
func neutralComputeClass(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func validComputeClass(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", ComputeClassDefault, ComputeClassSpot:
		return true
	}
	return false
}

// ValidateClusterSpec checks what CoreWeave's rules allow without calling the API, so the
// provider can refuse bad input at plan time. CreateCluster checks the same again.
func (c *Cloud) ValidateClusterSpec(spec clients.ClusterSpec) []clients.FieldError {
	var errs []clients.FieldError
	add := func(field, summary, detail string) {
		errs = append(errs, clients.FieldError{Field: field, Summary: summary, Detail: detail})
	}
	switch {
	case spec.Name == "":
		add("name", "A CoreWeave cluster needs a name", "Set name: it names the CKS cluster, its VPC and its node pool.")
	case len(spec.Name) > maxNameLen:
		add("name", "Cluster name too long", fmt.Sprintf("CoreWeave cluster names are at most %d characters; %q has %d.", maxNameLen, spec.Name, len(spec.Name)))
	case !namePattern.MatchString(spec.Name):
		add("name", "Invalid cluster name", fmt.Sprintf("%q: CoreWeave cluster names are lowercase letters, digits and dashes, starting and ending with a letter or digit.", spec.Name))
	}
	if spec.Region == "" {
		add("region", "A CoreWeave cluster needs a zone", "Set region to a CoreWeave zone: "+strings.Join(zones, ", ")+".")
	}
	if spec.NodeCount < ClusterMinNodes || spec.NodeCount > ClusterMaxNodes {
		add("node_count", "Unsupported node count", fmt.Sprintf("A CoreWeave cluster has %d to %d nodes; %d given.", ClusterMinNodes, ClusterMaxNodes, spec.NodeCount))
	}
	if it, err := c.ResolveInstanceType(spec.GPUType, spec.GPUsPerNode); err != nil {
		field := "gpu_type"
		if spec.GPUsPerNode != 0 {
			if _, err0 := c.ResolveInstanceType(spec.GPUType, 0); err0 == nil {
				field = "gpus_per_node"
			}
		}
		add(field, "GPU type not available for a CoreWeave cluster", err.Error())
	} else if t, ok := lookupNodeType(it.Name); ok && !t.InfiniBand {
		add("gpu_type", "Not an InfiniBand node type", fmt.Sprintf(
			"%s (%s) has no InfiniBand, which a CoreWeave GPU cluster is for (multi-node training); use %s, or a neocloud_gpu_instance per node.",
			t.Name, t.GPU, strings.Join(infiniBandTypes(), ", ")))
	} else if err := checkRackMultiple(it.Name, spec.NodeCount); err != nil {
		add("node_count", "Rack-scale node count", err.Error())
	}
	if len(spec.SSHKeyIDs) > 0 {
		add("ssh_key_ids", "CoreWeave takes no SSH keys",
			"CoreWeave nodes are reached through the cluster's Kubernetes API (the kubeconfig attribute), not SSH: leave ssh_key_ids out.")
	}
	o, err := clients.OptionsOf[ClusterOptions](cloudName, spec.Options)
	if err != nil {
		errs = append(errs, clients.OptionsField(cloudName, err))
	}
	if o != nil {
		if !validComputeClass(o.ComputeClass) {
			add("coreweave.compute_class", "Unknown compute class", fmt.Sprintf("%q is neither %q nor %q.", o.ComputeClass, ComputeClassDefault, ComputeClassSpot))
		}
		if v := strings.TrimSpace(o.KubernetesVersion); v != "" && !versionPattern.MatchString(v) {
			add("coreweave.kubernetes_version", "Invalid Kubernetes version", fmt.Sprintf("%q is not a CKS version such as %s.", v, DefaultKubernetesVersion))
		}
		if o.VPCID != "" && !validID.MatchString(o.VPCID) {
			add("coreweave.vpc_id", "Invalid VPC id", fmt.Sprintf("%q is not a CoreWeave VPC id.", o.VPCID))
		}
	}
	return errs
}

// checkRackMultiple refuses a node count that is not whole racks of a rack-scale type.
func checkRackMultiple(instanceType string, nodes int) error {
	if r := rackNodes(instanceType); r > 0 && nodes%r != 0 {
		return clients.Errorf(clients.ErrInvalid, "%s is sold by the rack: a pool has a multiple of %d nodes, not %d", instanceType, r, nodes)
	}
	return nil
}

// infiniBandTypes lists the InfiniBand GPU node types of the price list.
func infiniBandTypes() []string {
	var out []string
	for _, t := range priceList {
		if t.InfiniBand {
			out = append(out, t.Name)
		}
	}
	return out
}
