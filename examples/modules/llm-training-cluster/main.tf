# A multi-node training cluster on whichever listed cloud is cheapest and has room for every
# node, within a budget: SSH keys on the clouds that take them, one neocloud_gpu_cluster with
# placement, and the launcher inputs (hostfile, torchrun commands) as outputs.

locals {
  key_clouds = [for c in var.clouds : c if contains(["lambda", "runpod"], c)]
}

resource "neocloud_ssh_key" "this" {
  for_each = toset(local.key_clouds)

  cloud      = each.key
  name       = var.name
  public_key = var.ssh_public_key
}

resource "neocloud_gpu_cluster" "this" {
  name               = var.name
  gpu_type           = var.gpu_type
  gpus_per_node      = var.gpus_per_node
  node_count         = var.nodes
  max_price_per_hour = var.max_price_per_hour
  capacity_type      = var.capacity_type
  interconnect       = var.interconnect
  ssh_key_ids        = length(local.key_clouds) > 0 ? [for k in neocloud_ssh_key.this : k.id] : null

  placement {
    clouds   = var.clouds
    regions  = var.regions
    strategy = "cheapest"
  }

  dynamic "runpod" {
    for_each = contains(var.clouds, "runpod") ? [var.image] : []
    content {
      image = runpod.value
      ports = ["22/tcp"]
    }
  }
}

locals {
  cluster = neocloud_gpu_cluster.this
  ssh = [for n in local.cluster.nodes :
    n.ssh_host == null ? null : "ssh -p ${n.ssh_port} ${n.ssh_user}@${n.ssh_host}"
  ]
}
