package provider

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// What each cloud looks like to the fault matrix: its resources, routes and emulator hooks.

// ---------------------------------------------------------------------------------------------
// What each cloud looks like to the matrix.

// kitRoutes are the emulator's route templates (as counted in emucore.Stats) that a cloud's
// machine operations use.
type kitRoutes struct {
	list   string // the list every read and wait of a machine goes through
	create string
	delete string
	update string // "" when the cloud changes nothing in place
	// reads are every read route a refresh of the machine uses (list first).
	reads []string
	// createReads are the read routes a create uses besides the list (catalog, SSH keys).
	createReads []string
}

// cloudKit is one cloud as the matrix drives it.
type cloudKit struct {
	name string
	// support is what the cloud's machine needs besides itself (an SSH key, a CKS cluster).
	support string
	// machine is the neocloud_gpu_instance "m" named name, with extra lines in its block.
	machine func(name, extra string) string
	core    func(env *testEnv) *emucore.Core
	// liveNames maps the ids (as in state) of the machines the emulator holds as live (booting,
	// running, failed but still billed) to the names the cloud has for them.
	liveNames func(env *testEnv) map[string]string
	// ever counts every machine the emulator has launched, terminated ones included; nil when
	// the emulator forgets deleted machines (CoreWeave node pools).
	ever   func(env *testEnv) int
	routes kitRoutes
	// listPath and createPath match the raw URL paths of routes.list and routes.create, for
	// the wire log.
	listPath, createPath *regexp.Regexp
	// launchToken matches "<key>=<value>": the tag, label or environment entry a user looks for
	// after a create whose outcome is unknown.
	launchToken string
	// createIsIdempotent says a create can be sent again without launching twice (CoreWeave: the
	// node pool's name is derived from the launch token, so a second send meets AlreadyExists).
	createIsIdempotent bool

	// noCapacity takes away the capacity the machine needs and returns how to give it back;
	// capacityErr is what the error must name.
	noCapacity  func(env *testEnv) (restore func())
	capacityErr *regexp.Regexp
	// noQuota does the same with the account's quota (nil: the cloud has none for a machine).
	noQuota  func(env *testEnv) (restore func())
	quotaErr *regexp.Regexp
	// failBooting fails the first machine seen booting (nil: the emulator cannot).
	failBooting   func(env *testEnv) (stop func())
	failedBootErr *regexp.Regexp
	// deleteOutOfBand deletes a machine behind Terraform's back and waits until it is gone.
	deleteOutOfBand func(t *testing.T, env *testEnv, id string)
	// skip says why a scenario cannot happen on this cloud.
	skip map[string]string
}

func lambdaKit() *cloudKit {
	return &cloudKit{
		name:    "lambda",
		support: sshKeyHCL("me", "lambda", "fm-key"),
		machine: func(name, extra string) string {
			return kitMachine(name, "lambda", "A10_24GB", 1, `region      = "us-east-1"
  ssh_key_ids = [neocloud_ssh_key.me.id]
  `+extra)
		},
		core:      func(env *testEnv) *emucore.Core { return env.emu.Lambda.Core },
		liveNames: liveLambdaNames,
		ever:      func(env *testEnv) int { return len(env.emu.Lambda.Instances()) },
		routes: kitRoutes{
			list:        "GET /api/v1/instances",
			create:      "POST /api/v1/instance-operations/launch",
			delete:      "POST /api/v1/instance-operations/terminate",
			update:      "POST /api/v1/instances/{id}",
			reads:       []string{"GET /api/v1/instances", "GET /api/v1/instances/{id}"},
			createReads: []string{"GET /api/v1/instance-types", "GET /api/v1/ssh-keys"},
		},
		listPath:    regexp.MustCompile(`^/api/v1/instances$`),
		createPath:  regexp.MustCompile(`^/api/v1/instance-operations/launch$`),
		launchToken: `neocloud-launch-token\s*[=:]\s*[a-z0-9][a-z0-9-]{7,}`,
		noCapacity: func(env *testEnv) func() {
			before := env.emu.Lambda.Capacity("gpu_1x_a10", "us-east-1")
			env.emu.Lambda.SetCapacity("gpu_1x_a10", "us-east-1", 0)
			return func() { env.emu.Lambda.SetCapacity("gpu_1x_a10", "us-east-1", before) }
		},
		capacityErr: mentionsAll(`lambda`, `us-east-1`, `gpu_1x_a10`, `capacity`),
		noQuota: func(env *testEnv) func() {
			before := env.emu.Lambda.Quota()
			env.emu.Lambda.SetQuota(0)
			return func() { env.emu.Lambda.SetQuota(before) }
		},
		quotaErr:      mentionsAll(`lambda`, `gpu_1x_a10`, `quota`),
		failBooting:   func(env *testEnv) func() { return breakWhileBooting(env, 1) },
		failedBootErr: regexp.MustCompile(`(?i)unhealthy`),
		deleteOutOfBand: func(t *testing.T, env *testEnv, id string) {
			if err := env.emu.Lambda.DeleteOutOfBand(id); err != nil {
				t.Fatalf("deleting instance %s out of band: %v", id, err)
			}
		},
	}
}

func runpodKit() *cloudKit {
	return &cloudKit{
		name:    "runpod",
		support: sshKeyHCL("me", "runpod", "fm-key"),
		machine: func(name, extra string) string {
			return kitMachine(name, "runpod", "A6000_48GB", 1, fmt.Sprintf(`region      = "US-KS-2"
  ssh_key_ids = [neocloud_ssh_key.me.id]
  runpod {
    image = %q
    ports = ["22/tcp"]
  }
  %s`, runpodImage, extra))
		},
		core:      func(env *testEnv) *emucore.Core { return env.emu.RunPod.Core },
		liveNames: liveRunPodNames,
		ever:      func(env *testEnv) int { return len(env.emu.RunPod.Pods()) },
		routes: kitRoutes{
			list:        "GET /v2/pods",
			create:      "POST /v2/pods",
			delete:      "DELETE /v2/pods/{id}",
			update:      "PATCH /v2/pods/{id}",
			reads:       []string{"GET /v2/pods", "GET /v2/pods/{id}"},
			createReads: []string{"GET /v2/catalog/gpus", "GET /v2/account/ssh-keys"},
		},
		listPath:    regexp.MustCompile(`^/v2/pods$`),
		createPath:  regexp.MustCompile(`^/v2/pods$`),
		launchToken: `NEOCLOUD_LAUNCH_TOKEN\s*[=:]\s*[a-z0-9][a-z0-9-]{7,}`,
		noCapacity: func(env *testEnv) func() {
			before := env.emu.RunPod.Capacity("NVIDIA RTX A6000", "US-KS-2", "SECURE")
			env.emu.RunPod.SetCapacity("NVIDIA RTX A6000", "US-KS-2", "SECURE", 0)
			return func() { env.emu.RunPod.SetCapacity("NVIDIA RTX A6000", "US-KS-2", "SECURE", before) }
		},
		capacityErr: mentionsAll(`runpod`, `US-KS-2`, `NVIDIA\s+RTX\s+A6000`, `capacity|available`),
		// RunPod's account limit on creating a machine is its balance (402 on create).
		noQuota: func(env *testEnv) func() {
			env.emu.RunPod.SetBalance(0)
			return func() { env.emu.RunPod.SetBalance(math.Inf(1)) }
		},
		quotaErr:      mentionsAll(`runpod`, `NVIDIA\s+RTX\s+A6000`, `balance`),
		failBooting:   failPodWhileBooting,
		failedBootErr: regexp.MustCompile(`\bERROR\b`),
		deleteOutOfBand: func(t *testing.T, env *testEnv, id string) {
			if err := env.emu.RunPod.DeleteOutOfBand(id); err != nil {
				t.Fatalf("deleting pod %s out of band: %v", id, err)
			}
		},
	}
}

// coreweaveMachinePool is the prefix of the node pools of the matrix's CoreWeave machine (the
// cluster's own pool is fm-cks-gpu).
const coreweaveMachinePool = "fmnode-"

const noCoreWeaveUpdate = "a CoreWeave machine has nothing to change in place: its type and pool are fixed and its " +
	"name is part of the pool's name (UpdateInstance refuses; the provider plans a replacement)"

func coreweaveKit() *cloudKit {
	const poolsPath = "/k8s/{cluster}/apis/compute.coreweave.com/v1alpha1/nodepools"
	return &cloudKit{
		name: "coreweave",
		// The machine is a one-node pool in a CKS cluster made by the same configuration.
		support: coreweaveClusterHCL("fm-cks", 1, `timeouts {
    create = "4m"
    update = "4m"
    delete = "4m"
  }`),
		// Its name stays fixed: a CoreWeave machine's name is part of its pool's name, so it
		// cannot change in place.
		machine: func(_, extra string) string {
			return kitMachine("fmnode", "coreweave", "H100_80GB_SXM", 8, `coreweave {
    cluster_id = neocloud_gpu_cluster.cw.id
  }
  `+extra)
		},
		core: func(env *testEnv) *emucore.Core { return env.emu.CoreWeave.Core },
		// A pool is named after the machine plus its launch token: the config's name is the
		// machine's name.
		liveNames: func(env *testEnv) map[string]string {
			names := map[string]string{}
			for _, p := range env.emu.CoreWeave.NodePools() {
				if strings.HasPrefix(p.Name, coreweaveMachinePool) && !p.Deleting {
					names[p.Cluster+"/"+p.Name] = "fmnode"
				}
			}
			return names
		},
		routes: kitRoutes{
			list:   "GET " + poolsPath,
			create: "POST " + poolsPath,
			delete: "DELETE " + poolsPath + "/{name}",
			reads: []string{
				"GET " + poolsPath,
				"GET /k8s/{cluster}/api/v1/nodes",
				"POST /coreweave.cks.v1beta1.ClusterService/ListClusters",
				"GET " + poolsPath + "/{name}",
			},
			createReads: []string{"POST /coreweave.cks.v1beta1.ClusterService/GetCluster"},
		},
		listPath:           regexp.MustCompile(`^/k8s/[^/]+/apis/compute\.coreweave\.com/v1alpha1/nodepools$`),
		createPath:         regexp.MustCompile(`^/k8s/[^/]+/apis/compute\.coreweave\.com/v1alpha1/nodepools$`),
		launchToken:        `terraform-provider-neocloud/launch-token\s*[=:]\s*[a-z0-9][a-z0-9-]{7,}`,
		createIsIdempotent: true,
		noCapacity: func(env *testEnv) func() {
			before := env.emu.CoreWeave.Capacity("gd-8xh100ib-i128", "US-EAST-04A")
			env.emu.CoreWeave.SetCapacity("gd-8xh100ib-i128", "US-EAST-04A", 0)
			return func() { env.emu.CoreWeave.SetCapacity("gd-8xh100ib-i128", "US-EAST-04A", before) }
		},
		capacityErr:     mentionsAll(`coreweave`, `US-EAST-04A`, `gd-8xh100ib-i128`, `capacity`),
		deleteOutOfBand: deleteCoreWeavePoolOutOfBand,
		skip: map[string]string{
			"update/5xx":       noCoreWeaveUpdate,
			"update/429-storm": noCoreWeaveUpdate,
			"create/quota": "CoreWeave's only quota is on CKS clusters; a machine is a node pool in an existing cluster " +
				"and takes none (capacity is create/capacity)",
			"create/failed-boot": "the CoreWeave emulator cannot fail one node while it joins (FailCluster fails the whole " +
				"control plane: the cluster resource's case, TestAccGPUCluster_coreweavePlanErrorsAndFailedCluster)",
		},
	}
}

// live lists the ids of the machines the emulator holds as live, sorted.
func (k *cloudKit) live(env *testEnv) []string {
	return slices.Sorted(maps.Keys(k.liveNames(env)))
}

// config is the kit's configuration: its support always, its machine when withMachine.
func (k *cloudKit) config(env *testEnv, withMachine bool, name, extra string) string {
	cfg := env.providerConfig() + k.support
	if withMachine {
		cfg += k.machine(name, extra)
	}
	return cfg
}

// kitMachine is the matrix's machine "m", with body in its block.
func kitMachine(name, cloud, gpuType string, gpus int, body string) string {
	return fmt.Sprintf(`
resource "neocloud_gpu_instance" "m" {
  name      = %q
  cloud     = %q
  gpu_type  = %q
  gpu_count = %d
  %s
}
`, name, cloud, gpuType, gpus, body)
}
