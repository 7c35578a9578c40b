output "cloud" {
  description = "The cloud the cluster was placed on."
  value       = neocloud_gpu_cluster.this.cloud
}

output "region" {
  description = "Its region or zone."
  value       = neocloud_gpu_cluster.this.region
}

output "price_per_hour" {
  description = "What the cluster costs, USD per hour (all nodes)."
  value       = neocloud_gpu_cluster.this.price_per_hour
}

output "max_possible_price_per_hour" {
  description = "The most it can cost, USD per hour, known at plan time."
  value       = neocloud_gpu_cluster.this.max_possible_price_per_hour
}

output "head_node_ip" {
  description = "Rank 0's address on the cluster network (MASTER_ADDR)."
  value       = neocloud_gpu_cluster.this.head_node_ip
}

output "hostfile" {
  description = "DeepSpeed / MPI hostfile: one '<private ip> slots=<gpus>' line per node, in rank order."
  value       = neocloud_gpu_cluster.this.hostfile
}

output "ssh_commands" {
  description = "How to log in to each node, in rank order (null on CoreWeave, whose nodes are reached through Kubernetes)."
  value       = local.ssh
}

output "launcher_env" {
  description = "Each node's launcher environment (MASTER_ADDR, MASTER_PORT, NODE_RANK, NUM_NODES, NPROC_PER_NODE, WORLD_SIZE), in rank order."
  value       = [for n in neocloud_gpu_cluster.this.nodes : n.env]
}

output "torchrun_commands" {
  description = "The torchrun command to run on each node, in rank order."
  value = [for n in neocloud_gpu_cluster.this.nodes :
    "torchrun --nnodes=${n.env.NUM_NODES} --node_rank=${n.env.NODE_RANK} --nproc_per_node=${n.env.NPROC_PER_NODE} --master_addr=${n.env.MASTER_ADDR} --master_port=${n.env.MASTER_PORT} ${var.train_script}"
  ]
}
