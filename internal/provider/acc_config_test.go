package provider

import (
	"fmt"
)

// The Terraform configurations the acceptance tests share: a provider block pointing at the
// test's emulators (testEnv.providerConfig) plus these resources.

const testPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0uZ01d/Zu7xLD0VwkQuiI3BI+QR5KCskqRTD1BPRx4 neocloud-test"

// runpodImage is the image of every RunPod pod and cluster the tests make.
const runpodImage = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"

// sshKeyHCL is a neocloud_ssh_key "label" on cloud, named name, with the test's public key.
func sshKeyHCL(label, cloud, name string) string {
	return fmt.Sprintf(`
resource "neocloud_ssh_key" %q {
  cloud      = %q
  name       = %q
  public_key = %q
}
`, label, cloud, name, testPublicKey)
}

// lambdaInstanceConfig is the Lambda machine "test" (with the key "me"), extra lines in its
// block.
func lambdaInstanceConfig(env *testEnv, name, gpuType string, extra string) string {
	return env.providerConfig() + sshKeyHCL("me", "lambda", "acc-key") + fmt.Sprintf(`
resource "neocloud_gpu_instance" "test" {
  name        = %q
  cloud       = "lambda"
  gpu_type    = %q
  ssh_key_ids = [neocloud_ssh_key.me.id]
  tags        = { team = "research" }
  %s
}
`, name, gpuType, extra)
}

// lambdaClusterConfig is the Lambda node group "c" of nodes A10s (with the key "me"), extra
// lines in its block.
func lambdaClusterConfig(env *testEnv, nodes int, extra string) string {
	return env.providerConfig() + sshKeyHCL("me", "lambda", "acc-key") + fmt.Sprintf(`
resource "neocloud_gpu_cluster" "c" {
  name          = "acc-cluster"
  cloud         = "lambda"
  gpu_type      = "A10_24GB"
  gpus_per_node = 1
  node_count    = %d
  ssh_key_ids   = [neocloud_ssh_key.me.id]
  %s
}
`, nodes, extra)
}

// runpodPodHCL is the RunPod pod "pod" of one GPU with the key "me": extra lines in its block,
// runpodBody in its runpod block.
func runpodPodHCL(name, gpuType, extra, runpodBody string) string {
	return fmt.Sprintf(`
resource "neocloud_gpu_instance" "pod" {
  name        = %q
  cloud       = "runpod"
  gpu_type    = %q
  gpu_count   = 1
  ssh_key_ids = [neocloud_ssh_key.me.id]
  %s
  runpod {
    %s
  }
}
`, name, gpuType, extra, runpodBody)
}

// runpodPodConfig is the pod "acc-pod" with the image and ports every pod test uses.
func runpodPodConfig(env *testEnv, gpuType, extra, runpodExtra string) string {
	return env.providerConfig() + sshKeyHCL("me", "runpod", "acc-key") +
		runpodPodHCL("acc-pod", gpuType, extra, fmt.Sprintf(`image = %q
    ports = ["22/tcp", "8888/http"]
    %s`, runpodImage, runpodExtra))
}

// templatePodConfig is a pod based on a RunPod template, with no image or ports of its own.
func templatePodConfig(env *testEnv, templateID, runpodExtra string) string {
	return env.providerConfig() + sshKeyHCL("me", "runpod", "acc-key") +
		runpodPodHCL("acc-template-pod", "A6000_48GB", "", fmt.Sprintf(`template_id = %q
    %s`, templateID, runpodExtra))
}

// runpodPodResource is a RunPod pod with extra attributes (no provider block).
func runpodPodResource(extra string) string {
	return fmt.Sprintf(`
resource "neocloud_gpu_instance" "pod" {
  name      = "acc-spot"
  cloud     = "runpod"
  gpu_type  = "A6000_48GB"
  gpu_count = 1
  %s
  runpod {
    image = %q
  }
}
`, extra, runpodImage)
}

// runpodClusterConfig is the RunPod Instant Cluster "c" of nodes 8x H100 pods.
func runpodClusterConfig(env *testEnv, name string, nodes int) string {
	return env.providerConfig() + fmt.Sprintf(`
resource "neocloud_gpu_cluster" "c" {
  name          = %q
  cloud         = "runpod"
  region        = "US-TX-3"
  gpu_type      = "H100_80GB_SXM"
  gpus_per_node = 8
  node_count    = %d
  runpod {
    cluster_type = "TRAINING"
    image        = %q
  }
}
`, name, nodes, runpodImage)
}

// coreweaveClusterHCL is a CKS cluster "cw" of nodes 8x H100 nodes in US-EAST-04A, with extra
// lines in its block.
func coreweaveClusterHCL(name string, nodes int, extra string) string {
	return fmt.Sprintf(`
resource "neocloud_gpu_cluster" "cw" {
  name          = %q
  cloud         = "coreweave"
  region        = "US-EAST-04A"
  gpu_type      = "H100_80GB_SXM"
  gpus_per_node = 8
  node_count    = %d
  %s
  coreweave {
    kubernetes_version = "v1.35"
  }
}
`, name, nodes, extra)
}

// coreweaveClusterResource is the CKS cluster "acc-cks" with extra attributes (no provider
// block).
func coreweaveClusterResource(nodes int, extra string) string {
	return coreweaveClusterHCL("acc-cks", nodes, extra)
}

// coreweaveClusterConfig is the CKS cluster "acc-cks" followed by more configuration.
func coreweaveClusterConfig(env *testEnv, nodes int, more string) string {
	return env.providerConfig() + coreweaveClusterResource(nodes, "") + more + "\n"
}

// placedConfig is the machine "placed" of one GPU, on a cloud its placement chooses, with a
// key on Lambda and one on RunPod.
func placedConfig(env *testEnv, gpuType, placement string) string {
	return env.providerConfig() + sshKeyHCL("lambda", "lambda", "acc-key") + sshKeyHCL("runpod", "runpod", "acc-key") + fmt.Sprintf(`
resource "neocloud_gpu_instance" "placed" {
  name        = "acc-placed"
  gpu_type    = %q
  gpu_count   = 1
  ssh_key_ids = [neocloud_ssh_key.lambda.id, neocloud_ssh_key.runpod.id]
  placement {
    %s
  }
  runpod {
    image = %q
    ports = ["22/tcp"]
  }
}
`, gpuType, placement, runpodImage)
}

// placedClusterConfig is the cluster "c" of two 8x H100 nodes, on a cloud its placement
// chooses, extra lines in its block.
func placedClusterConfig(env *testEnv, placement, extra string) string {
	return env.providerConfig() + sshKeyHCL("lambda", "lambda", "acc-key") + h100ClusterHCL("acc-placed", fmt.Sprintf(`ssh_key_ids = [neocloud_ssh_key.lambda.id]
  %s
  placement {
    %s
  }
  runpod {
    image = %q
  }`, extra, placement, runpodImage))
}

// h100ClusterHCL is the cluster "c" named name of two 8x H100 nodes, with attrs (its cloud or
// placement, keys, vendor blocks) in its block.
func h100ClusterHCL(name, attrs string) string {
	return fmt.Sprintf(`
resource "neocloud_gpu_cluster" "c" {
  name          = %q
  gpu_type      = "H100_80GB_SXM"
  gpus_per_node = 8
  node_count    = 2
  %s
}
`, name, attrs)
}

// lambdaMachineHCL is a one-A10 Lambda machine "label" named name with the key "me", extra
// lines in its block.
func lambdaMachineHCL(label, name, extra string) string {
	return fmt.Sprintf(`
resource "neocloud_gpu_instance" %q {
  name        = %q
  cloud       = "lambda"
  gpu_type    = "A10_24GB"
  gpu_count   = 1
  ssh_key_ids = [neocloud_ssh_key.me.id]
  %s
}
`, label, name, extra)
}

// forgetHCL takes addr out of state and leaves it on the cloud: what an apply that crashed
// before it saved state leaves behind.
func forgetHCL(addr string) string {
	return fmt.Sprintf(`
removed {
  from = %s
  lifecycle {
    destroy = false
  }
}
`, addr)
}
