# A stack whose hourly cost is in the plan: every neocloud_gpu_instance and neocloud_gpu_cluster
# plans price_per_hour when its cloud and machine type fix it, and max_possible_price_per_hour
# (the most it can cost) always, so `terraform show -json tfplan` carries the numbers a CI job
# sums. Rendered into docs/guides/choosing-gpus-and-cost.md; tests/ checks the plan against the
# local emulator (make examples-test).

terraform {
  required_version = ">= 1.6"

  required_providers {
    neocloud = {
      source = "neocloud/neocloud"
    }
  }
}

variable "public_key" {
  description = "An OpenSSH public key, such as file(\"~/.ssh/id_ed25519.pub\")."
  type        = string
}

resource "neocloud_ssh_key" "me" {
  cloud      = "lambda"
  name       = "me"
  public_key = var.public_key
}

# A fixed cloud and type: price_per_hour is known in the plan ($0.75 on the emulator).
resource "neocloud_gpu_instance" "dev" {
  name        = "dev"
  cloud       = "lambda"
  gpu_type    = "A10_24GB"
  gpu_count   = 1
  ssh_key_ids = [neocloud_ssh_key.me.id]
}

# Placed on the cheaper of two clouds at apply: the plan shows the most it may cost, the
# higher of the two list prices (never above max_price_per_hour).
resource "neocloud_gpu_instance" "notebook" {
  name               = "notebook"
  gpu_type           = "A6000_48GB"
  gpu_count          = 1
  ssh_key_ids        = [neocloud_ssh_key.me.id]
  max_price_per_hour = 1

  placement {
    clouds   = ["runpod", "lambda"]
    strategy = "cheapest"
  }

  runpod {
    image = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
  }
}

# A cluster: all nodes together; a node_count change plans the new price.
resource "neocloud_gpu_cluster" "pretrain" {
  name               = "pretrain"
  cloud              = "coreweave"
  region             = "US-EAST-04A"
  gpu_type           = "H100_80GB_SXM"
  gpus_per_node      = 8
  node_count         = 2
  max_price_per_hour = 100
}

locals {
  machines = [neocloud_gpu_instance.dev, neocloud_gpu_instance.notebook, neocloud_gpu_cluster.pretrain]
}

output "hourly_cost" {
  description = "USD per hour: the most this stack can cost, and what is known of its price."
  value = {
    at_most = sum([for m in local.machines : m.max_possible_price_per_hour])
    known   = sum(concat([0], [for m in local.machines : m.price_per_hour if m.price_per_hour != null]))
  }
}
