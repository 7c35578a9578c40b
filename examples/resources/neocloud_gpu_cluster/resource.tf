# CoreWeave: a CKS cluster (and a VPC made for it) with 4 nodes of 8x H100 on InfiniBand.
# node_count is changed in place.
resource "neocloud_gpu_cluster" "pretrain" {
  name          = "pretrain"
  cloud         = "coreweave"
  region        = "US-EAST-04A"
  gpu_type      = "H100_80GB_SXM"
  gpus_per_node = 8
  node_count    = 4

  coreweave {
    kubernetes_version = "v1.35"
  }
}

output "kubeconfig" {
  value     = neocloud_gpu_cluster.pretrain.kubeconfig
  sensitive = true
}

# RunPod: an Instant Cluster of 2 nodes with a fast fabric. RunPod cannot resize one, so a
# node_count change plans a replacement.
resource "neocloud_gpu_cluster" "finetune" {
  name          = "finetune"
  cloud         = "runpod"
  gpu_type      = "H100_80GB_SXM"
  gpus_per_node = 8
  node_count    = 2
  ssh_key_ids   = [var.runpod_ssh_key_id]

  runpod {
    cluster_type = "TRAINING"
    image        = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
  }
}

# Lambda: 4 instances of 8x H100 in one region, launched at Lambda's launch rate, with a
# shared filesystem and a firewall ruleset open between the nodes.
resource "neocloud_gpu_cluster" "sweep" {
  name        = "sweep"
  cloud       = "lambda"
  gpu_type    = "H100_80GB_SXM"
  node_count  = 4
  ssh_key_ids = [var.lambda_ssh_key_id]

  lambda {
    file_system_name = "sweep-data"
  }
}

# torchrun on every node, fed from the cluster's computed environment; each node says how to
# log in to it (on RunPod, through its SSH proxy: ssh_user is then the proxy's routing name).
output "torchrun" {
  value = [for n in neocloud_gpu_cluster.sweep.nodes :
    "ssh -p ${n.ssh_port} ${n.ssh_user}@${n.ssh_host} torchrun --nnodes=${n.env.NUM_NODES} --node_rank=${n.env.NODE_RANK} --nproc_per_node=${n.env.NPROC_PER_NODE} --master_addr=${n.env.MASTER_ADDR} --master_port=${n.env.MASTER_PORT} train.py"
  ]
}

# DeepSpeed or MPI: the hostfile ("<private ip> slots=<gpus_per_node>" per node, in rank order).
output "hostfile" {
  value = neocloud_gpu_cluster.sweep.hostfile
}

variable "runpod_ssh_key_id" {
  type = string
}

variable "lambda_ssh_key_id" {
  type = string
}

# Placement: the cluster goes to the first cloud (here, the cheapest) that has room for every
# node, within a budget for all nodes together. A cloud that runs out after launching some
# nodes has them deleted before the next cloud is tried; the plan shows the most it may cost
# (max_possible_price_per_hour).
resource "neocloud_gpu_cluster" "placed" {
  name               = "pretrain-anywhere"
  gpu_type           = "H100_80GB_SXM"
  gpus_per_node      = 8
  node_count         = 2
  ssh_key_ids        = [var.lambda_ssh_key_id, var.runpod_ssh_key_id]
  max_price_per_hour = 60

  placement {
    clouds   = ["runpod", "lambda"]
    strategy = "cheapest"
  }

  runpod {
    image = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
  }
}
