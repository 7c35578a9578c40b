variable "name" {
  type        = string
  description = "Name of the cluster (lowercase letters, digits and dashes, starting with a letter; at most 24 characters) and of its SSH keys."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,23}$", var.name))
    error_message = "The name must start with a lowercase letter and hold at most 24 lowercase letters, digits and dashes."
  }
}

variable "gpu_type" {
  type        = string
  description = "Neutral GPU model of every node, such as H100_80GB_SXM."
  default     = "H100_80GB_SXM"
}

variable "nodes" {
  type        = number
  description = "Number of nodes."
  default     = 2

  validation {
    condition     = var.nodes >= 1 && floor(var.nodes) == var.nodes
    error_message = "nodes must be a whole number of at least 1."
  }
}

variable "gpus_per_node" {
  type        = number
  description = "GPUs per node; null lets each cloud use its largest machine of gpu_type."
  default     = 8
}

variable "clouds" {
  type        = list(string)
  description = "Clouds to place the cluster on, cheapest first among those with room: any of lambda, runpod, coreweave."
  default     = ["runpod", "lambda"]

  validation {
    condition     = length(var.clouds) > 0 && alltrue([for c in var.clouds : contains(["lambda", "runpod", "coreweave"], c)])
    error_message = "clouds must list at least one of lambda, runpod, coreweave."
  }
}

variable "regions" {
  type        = list(string)
  description = "Regions to consider across the clouds (CoreWeave needs one of its zones here, such as US-EAST-04A); null lets each cloud pick."
  default     = null
}

variable "max_price_per_hour" {
  type        = number
  description = "Budget for the whole cluster, USD per hour: clouds above it are skipped, and a plan above it fails."
}

variable "capacity_type" {
  type        = string
  description = "on_demand, or spot (CoreWeave only: other clouds are then skipped)."
  default     = "on_demand"

  validation {
    condition     = contains(["on_demand", "spot"], var.capacity_type)
    error_message = "capacity_type is on_demand or spot."
  }
}

variable "interconnect" {
  type        = string
  description = "Require this network between the nodes (infiniband, high_speed_fabric, ethernet); null accepts any."
  default     = null
}

variable "ssh_public_key" {
  type        = string
  description = "OpenSSH public key installed on every node (Lambda, RunPod)."
}

variable "image" {
  type        = string
  description = "Container image of every node on RunPod."
  default     = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
}

variable "train_script" {
  type        = string
  description = "The training entry point the torchrun commands run."
  default     = "train.py"
}
