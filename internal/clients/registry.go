package clients

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Settings is what the provider's configuration hands to a cloud's constructor.
type Settings struct {
	APIKey    string
	Endpoint  string
	UserAgent string
	// Insecure allows an http endpoint to a host that is not loopback (the key then travels
	// in clear text); see CheckEndpoint.
	Insecure bool
	// RateScale multiplies the vendor's published rate-limit intervals used for client-side
	// pacing, and the vendor's own delays the adapters wait out (how late a new machine may be
	// listed). 0 or 1 means real time; an emulator running with -time-scale F is matched with
	// RateScale F (set from NEOCLOUD_RATE_SCALE).
	RateScale float64
}

// Every returns a vendor's real-world interval d (a rate limit's, a listing delay) on the
// clock RateScale sets.
func (s Settings) Every(d time.Duration) time.Duration {
	if s.RateScale > 0 && s.RateScale < 1 {
		return time.Duration(float64(d) * s.RateScale)
	}
	return d
}

// Factory builds a Cloud from settings.
type Factory func(Settings) (Cloud, error)

// CloudInfo describes a cloud to the provider layer: how it is configured and built.
type CloudInfo struct {
	Name string
	// DisplayName is used in diagnostics: "Lambda Cloud".
	DisplayName     string
	DefaultEndpoint string
	// KeyEnv and EndpointEnv are the environment variables read when the provider block
	// leaves the values out.
	KeyEnv      string
	EndpointEnv string
	// KeyAttribute is the attribute name of the secret in the provider block ("api_key").
	KeyAttribute string
	New          Factory
	// Lacks names the resource kinds the cloud cannot hold, each with the reason a user is
	// told at plan time. The cloud's Cloud value implements the kind's interface exactly when
	// the kind is not listed here (SSHKeyCloud, VolumeCloud, RegistryCredentialCloud).
	Lacks map[Kind]string
	// Spot says the cloud's API offers spot capacity (machines it may reclaim, for less).
	// NoSpotReason is what a user asking a cloud without it for spot is told at plan time
	// ("Lambda Cloud's API (1.8) has no spot instances: ..."); empty gives a generic sentence.
	Spot         bool
	NoSpotReason string
	// Interconnect names the network between the cloud's machines of an instance type
	// (InterconnectInfiniBand, InterconnectFabric, InterconnectEthernet), and ClusterInterconnect
	// the one between the nodes of its clusters of that type. Nil means ethernet for machines,
	// and the machines' network for clusters.
	Interconnect        func(instanceType string) string
	ClusterInterconnect func(instanceType string) string
}

// The networks between machines (CloudInfo.Interconnect), as each cloud documents them.
const (
	InterconnectInfiniBand = "infiniband"
	InterconnectFabric     = "high_speed_fabric" // a fabric the cloud documents without naming it
	InterconnectEthernet   = "ethernet"
)

// MachineInterconnect is the network between a registered cloud's machines of an instance type.
func MachineInterconnect(cloud, instanceType string) string {
	if info, ok := registry[cloud]; ok && info.Interconnect != nil {
		return info.Interconnect(instanceType)
	}
	return InterconnectEthernet
}

// ClusterInterconnect is the network between the nodes of a registered cloud's cluster of an
// instance type.
func ClusterInterconnect(cloud, instanceType string) string {
	if info, ok := registry[cloud]; ok && info.ClusterInterconnect != nil {
		return info.ClusterInterconnect(instanceType)
	}
	return MachineInterconnect(cloud, instanceType)
}

// Kind is a resource kind that not every cloud can hold.
type Kind string

// The kinds a cloud may lack; the values are the provider's resource names without prefix.
const (
	KindSSHKey             Kind = "ssh_key"
	KindVolume             Kind = "volume"
	KindRegistryCredential Kind = "container_registry_credential"
)

// NamesWith lists the registered clouds that can hold a kind, sorted.
func NamesWith(kind Kind) []string {
	var out []string
	for _, n := range Names() {
		if _, lacks := registry[n].Lacks[kind]; !lacks {
			out = append(out, n)
		}
	}
	return out
}

var registry = map[string]CloudInfo{}

// Register adds a cloud. Vendor packages call it from init; the provider imports them through
// internal/clients/all.
func Register(info CloudInfo) {
	if _, dup := registry[info.Name]; dup {
		panic("clients: cloud registered twice: " + info.Name)
	}
	registry[info.Name] = info
}

// Lookup returns a registered cloud's description.
func Lookup(name string) (CloudInfo, bool) {
	info, ok := registry[name]
	return info, ok
}

// Names lists the registered clouds, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// UnknownCloudError says which clouds exist.
func UnknownCloudError(name string) error {
	return fmt.Errorf("unknown cloud %q; supported clouds: %s", name, strings.Join(Names(), ", "))
}
