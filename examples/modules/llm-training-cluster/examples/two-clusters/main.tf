# Two training clusters from one module call with for_each: a small Lambda one for debugging and
# a larger one wherever H100s are cheapest. Their hourly cost is summed in an output.

terraform {
  required_version = ">= 1.6"

  required_providers {
    neocloud = {
      source = "neocloud/neocloud"
    }
  }
}

provider "neocloud" {}

variable "ssh_public_key" {
  type = string
}

locals {
  clusters = {
    debug = { gpu_type = "A10_24GB", gpus_per_node = 1, nodes = 2, clouds = ["lambda"], budget = 2 }
    train = { gpu_type = "H100_80GB_SXM", gpus_per_node = 8, nodes = 2, clouds = ["runpod", "lambda"], budget = 60 }
  }
}

module "cluster" {
  source   = "../.."
  for_each = local.clusters

  name               = each.key
  gpu_type           = each.value.gpu_type
  gpus_per_node      = each.value.gpus_per_node
  nodes              = each.value.nodes
  clouds             = each.value.clouds
  max_price_per_hour = each.value.budget
  ssh_public_key     = var.ssh_public_key
}

output "hostfiles" {
  value = { for k, m in module.cluster : k => m.hostfile }
}

output "torchrun" {
  value = { for k, m in module.cluster : k => m.torchrun_commands }
}

output "usd_per_hour" {
  value = sum([for m in module.cluster : m.price_per_hour])
}
