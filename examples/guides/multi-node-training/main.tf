# Multi-node training on a Lambda Cloud cluster: the cluster's outputs turned into the launch
# commands of torchrun, DeepSpeed and Slurm. Rendered into docs/guides/multi-node-training.md.

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

resource "neocloud_ssh_key" "me" {
  cloud      = "lambda"
  name       = "llm-train"
  public_key = var.public_key
}

# 4 nodes of 8x H100 SXM: 32 GPUs. Lambda opens all traffic between the nodes' private
# addresses (a firewall ruleset made for the cluster) and mounts one shared filesystem on all.
resource "neocloud_gpu_cluster" "train" {
  name          = "llm-train"
  cloud         = "lambda"
  gpu_type      = "H100_80GB_SXM"
  gpus_per_node = 8
  node_count    = 4
  ssh_key_ids   = [neocloud_ssh_key.me.id]

  lambda {
    file_system_name = "llm-train-data"
  }
}

locals {
  cluster = neocloud_gpu_cluster.train
  # How to log in to each node. nodes is in rank order (rank 0, the head, first), so
  # local.ssh[n.rank] is node n's.
  ssh = [for n in local.cluster.nodes : "ssh -p ${n.ssh_port} ${n.ssh_user}@${n.ssh_host}"]
}

# torchrun, static rendezvous: the same command on every node, each with its own rank. The
# head node listens on its private address (head_node_ip), port 29500.
output "torchrun" {
  value = [for n in local.cluster.nodes : join(" ", [
    local.ssh[n.rank], "--",
    "torchrun",
    "--nnodes=${length(local.cluster.nodes)}",
    "--nproc-per-node=${local.cluster.gpus_per_node}",
    "--node-rank=${n.rank}",
    "--master-addr=${local.cluster.head_node_ip}",
    "--master-port=29500",
    "train.py",
  ])]
}

# DeepSpeed (and mpirun): one "<private ip> slots=<gpus_per_node>" line per node, in rank order.
output "hostfile" {
  value = local.cluster.hostfile
}

output "head_ssh" {
  value = local.ssh[0]
}

# Slurm: the nodes as slurm.conf lines. Node names gpu0..gpuN-1 follow the ranks; their
# addresses come from node_private_ips, in the same order.
output "slurm_conf" {
  value = join("\n", [
    "NodeName=gpu[0-${length(local.cluster.node_private_ips) - 1}] NodeAddr=${join(",", local.cluster.node_private_ips)} Gres=gpu:${local.cluster.gpus_per_node} State=UNKNOWN",
    "PartitionName=train Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
  ])
}

# Start slurmd on each node under the name slurm.conf gives it.
output "slurmd" {
  value = [for n in local.cluster.nodes : "${local.ssh[n.rank]} -- sudo slurmd -N gpu${n.rank}"]
}
