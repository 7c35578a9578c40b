package lambda

import "github.com/neocloud/terraform-provider-neocloud/internal/clients"

// InstanceOptions are Lambda Cloud's own launch settings (clients.InstanceSpec.Options): the
// filesystems to mount and the firewall rulesets to apply, both regional. In an Instance they are
// what the instance reports.
type InstanceOptions struct {
	FileSystemNames    []string
	FirewallRulesetIDs []string
}

// ClusterOptions are settings of a Lambda node group (clients.ClusterSpec.Options).
type ClusterOptions struct {
	// FileSystemName is a shared filesystem mounted on every node, created when absent.
	FileSystemName string
	Image          string
	UserData       string
}

// instanceOptions reads the spec's Lambda settings; nil when it has none. Settings of another
// cloud's type are refused by ValidateInstanceSpec, which every launch runs first.
func instanceOptions(spec clients.InstanceSpec) *InstanceOptions {
	o, _ := clients.OptionsOf[InstanceOptions](cloudName, spec.Options)
	return o
}

// clusterOptions reads the spec's Lambda settings: a zero ClusterOptions when it has none, an
// error when it holds another cloud's.
func clusterOptions(spec clients.ClusterSpec) (ClusterOptions, error) {
	return clients.OptionsOr[ClusterOptions](cloudName, spec.Options)
}
