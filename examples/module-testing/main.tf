# A small module of the kind a team writes on top of the provider: one GPU machine on Lambda
# Cloud for a job, with an SSH key Lambda generates and a price cap. tests/ checks it with
# `terraform test` (Terraform >= 1.6) against the local neocloud emulator instead of a real
# cloud; docs/guides/testing-modules.md shows how, and `make examples-test` runs it.
terraform {
  required_version = ">= 1.6"

  required_providers {
    neocloud = {
      source = "neocloud/neocloud"
    }
  }
}

variable "name" {
  type        = string
  description = "Name of the machine and of its SSH key."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,39}$", var.name))
    error_message = "The name must start with a lowercase letter and hold at most 40 lowercase letters, digits and dashes."
  }
}

variable "gpu_type" {
  type        = string
  description = "Neutral GPU model, such as A10_24GB or H100_80GB_SXM."
  default     = "A10_24GB"
}

variable "gpu_count" {
  type        = number
  description = "GPUs in the machine."
  default     = 1
}

variable "max_price_per_hour" {
  type        = number
  description = "Refuse machines that cost more than this, USD per hour."
  default     = 2
}

# What Lambda sells of this shape right now, within the cap: the module refuses to plan a
# machine nobody can launch.
data "neocloud_gpu_offers" "this" {
  clouds             = ["lambda"]
  gpu_type           = var.gpu_type
  gpu_count          = var.gpu_count
  max_price_per_hour = var.max_price_per_hour
}

resource "neocloud_ssh_key" "this" {
  cloud = "lambda"
  name  = var.name
}

resource "neocloud_gpu_instance" "this" {
  name               = var.name
  cloud              = "lambda"
  gpu_type           = var.gpu_type
  gpu_count          = var.gpu_count
  ssh_key_ids        = [neocloud_ssh_key.this.id]
  max_price_per_hour = var.max_price_per_hour
  tags               = { job = var.name }

  lifecycle {
    precondition {
      condition     = length(data.neocloud_gpu_offers.this.offers) > 0
      error_message = "Lambda has no ${var.gpu_count}x ${var.gpu_type} under ${var.max_price_per_hour} USD/hour with capacity right now."
    }
  }
}

output "region" {
  description = "Region the machine runs in."
  value       = neocloud_gpu_instance.this.region
}

output "price_per_hour" {
  description = "USD per hour."
  value       = neocloud_gpu_instance.this.price_per_hour
}

output "ssh" {
  description = "Command to log in (save the private_key output to job.pem first)."
  value       = "ssh -i job.pem -p ${neocloud_gpu_instance.this.ssh_port} ${neocloud_gpu_instance.this.ssh_user}@${neocloud_gpu_instance.this.ssh_host}"
}

output "private_key" {
  description = "The generated SSH private key."
  value       = neocloud_ssh_key.this.private_key
  sensitive   = true
}
