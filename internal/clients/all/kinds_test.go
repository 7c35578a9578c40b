package all

import (
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// A cloud's registration says which resource kinds it lacks; the provider plans from that
// alone (attribute lists and plan-time errors), so it must agree with what the cloud's client
// implements, or a plan would pass that the apply cannot carry out.
func TestRegisteredKindsMatchImplementations(t *testing.T) {
	for _, name := range clients.Names() {
		info, _ := clients.Lookup(name)
		cloud, err := info.New(clients.Settings{APIKey: "k", Endpoint: "http://127.0.0.1:1"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		implements := map[clients.Kind]bool{}
		_, implements[clients.KindSSHKey] = cloud.(clients.SSHKeyCloud)
		_, implements[clients.KindVolume] = cloud.(clients.VolumeCloud)
		_, implements[clients.KindRegistryCredential] = cloud.(clients.RegistryCredentialCloud)
		for kind, has := range implements {
			reason, lacks := info.Lacks[kind]
			if has == lacks {
				t.Errorf("%s: implements %s = %v but its registration lacks it = %v", name, kind, has, lacks)
			}
			if lacks && reason == "" {
				t.Errorf("%s: lacks %s without saying why", name, kind)
			}
		}
	}
	if got := clients.NamesWith(clients.KindSSHKey); len(got) == 0 {
		t.Errorf("no cloud holds SSH keys: %v", got)
	}
}
