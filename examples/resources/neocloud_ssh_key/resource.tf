# Register your own public key (the contents of ~/.ssh/id_ed25519.pub, say).
resource "neocloud_ssh_key" "me" {
  cloud      = "lambda"
  name       = "me"
  public_key = var.public_key
}

# Or let Lambda generate a key pair; the private key is kept in state (sensitive).
resource "neocloud_ssh_key" "generated" {
  cloud = "lambda"
  name  = "ci-runner"
}

output "generated_private_key" {
  value     = neocloud_ssh_key.generated.private_key
  sensitive = true
}

# On RunPod the key joins the account's keys; keys added outside Terraform are left alone.
resource "neocloud_ssh_key" "runpod" {
  cloud      = "runpod"
  name       = "me"
  public_key = var.public_key
}

variable "public_key" {
  description = "An OpenSSH public key, such as file(\"~/.ssh/id_ed25519.pub\")."
  type        = string
}
