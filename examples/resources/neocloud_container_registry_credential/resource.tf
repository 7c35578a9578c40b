# A private training image on RunPod: the credential is kept in the RunPod account and the pod
# names it. With Terraform 1.11 or later the password stays out of the state file.
resource "neocloud_container_registry_credential" "ghcr" {
  cloud               = "runpod"
  name                = "ghcr-acme"
  username            = "acme-bot"
  password_wo         = var.ghcr_token
  password_wo_version = 1 # raise it when the token changes

  # A new credential is made, and the pods moved to it, before the old one is deleted:
  # RunPod refuses to delete a credential a pod pulls with.
  lifecycle {
    create_before_destroy = true
  }
}

resource "neocloud_gpu_instance" "trainer" {
  name      = "trainer"
  cloud     = "runpod"
  gpu_type  = "H100_80GB_SXM"
  gpu_count = 8
  runpod {
    image                  = "ghcr.io/acme/trainer:2026-06"
    registry_credential_id = neocloud_container_registry_credential.ghcr.id
    ports                  = ["22/tcp"]
  }
}

# With Terraform 1.5 to 1.10: a sensitive password, which the state file holds.
resource "neocloud_container_registry_credential" "dockerhub" {
  cloud    = "runpod"
  name     = "dockerhub-acme"
  username = "acme"
  password = var.dockerhub_token
}

variable "ghcr_token" {
  type      = string
  sensitive = true
}

variable "dockerhub_token" {
  type      = string
  sensitive = true
}
