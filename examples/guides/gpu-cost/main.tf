# A stack on three clouds whose hourly cost is estimated at plan time: each machine's shape is
# written once, in locals, and used both to create it and to look its price up in
# neocloud_gpu_offers. Rendered into docs/guides/choosing-gpus-and-cost.md.

terraform {
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

variable "budget_usd_per_hour" {
  type    = number
  default = 120
}

locals {
  # nodes is 1 for a machine, node_count for a cluster.
  shapes = {
    dev      = { cloud = "lambda", gpu_type = "A10_24GB", gpu_count = 1, nodes = 1 }
    notebook = { cloud = "runpod", gpu_type = "L40S_48GB", gpu_count = 1, nodes = 1 }
    pretrain = { cloud = "coreweave", gpu_type = "H100_80GB_SXM", gpu_count = 8, nodes = 2 }
  }
}

resource "neocloud_ssh_key" "me" {
  cloud      = "lambda"
  name       = "me"
  public_key = var.public_key
}

resource "neocloud_gpu_instance" "dev" {
  name               = "dev"
  cloud              = local.shapes.dev.cloud
  gpu_type           = local.shapes.dev.gpu_type
  gpu_count          = local.shapes.dev.gpu_count
  ssh_key_ids        = [neocloud_ssh_key.me.id]
  max_price_per_hour = 1 # refused at plan time above $1/hour
}

resource "neocloud_gpu_instance" "notebook" {
  name      = "notebook"
  cloud     = local.shapes.notebook.cloud
  gpu_type  = local.shapes.notebook.gpu_type
  gpu_count = local.shapes.notebook.gpu_count

  runpod {
    image = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
  }
}

resource "neocloud_gpu_cluster" "pretrain" {
  name          = "pretrain"
  cloud         = local.shapes.pretrain.cloud
  region        = "US-EAST-04A"
  gpu_type      = local.shapes.pretrain.gpu_type
  gpus_per_node = local.shapes.pretrain.gpu_count
  node_count    = local.shapes.pretrain.nodes
}

# The cheapest offer of each shape on its cloud, read at plan time. Sold-out shapes are kept:
# they still have a price.
data "neocloud_gpu_offers" "price" {
  for_each = local.shapes

  clouds           = [each.value.cloud]
  gpu_type         = each.value.gpu_type
  gpu_count        = each.value.gpu_count
  include_sold_out = true
}

locals {
  # USD per hour of each entry; null when its cloud lists no offer for the shape.
  estimate = {
    for k, s in local.shapes :
    k => try(data.neocloud_gpu_offers.price[k].offers[0].price_per_hour * s.nodes, null)
  }
}

output "estimated_usd_per_hour" {
  value = {
    each  = local.estimate
    total = sum(concat([0], [for v in values(local.estimate) : v if v != null]))
  }
}

# A warning (not an error) in every plan that goes over the budget.
check "budget" {
  assert {
    condition     = sum(concat([0], [for v in values(local.estimate) : v if v != null])) <= var.budget_usd_per_hour
    error_message = "This stack is estimated above the budget of ${var.budget_usd_per_hour} USD per hour."
  }
}
