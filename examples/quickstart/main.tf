# Quickstart: one 8x H100 machine on Lambda Cloud, in whichever region has capacity, with an
# SSH key Lambda generates. `make demo` runs this against the local emulator; with real API
# keys in the environment (and no endpoint override) it runs against Lambda itself.
terraform {
  required_providers {
    neocloud = {
      source = "neocloud/neocloud"
    }
  }
}

provider "neocloud" {
  # Credentials and endpoints come from LAMBDA_API_KEY and NEOCLOUD_LAMBDA_ENDPOINT.
}

data "neocloud_gpu_offers" "h100x8" {
  gpu_type           = "H100_80GB_SXM"
  gpu_count          = 8
  max_price_per_hour = 30
}

resource "neocloud_ssh_key" "quickstart" {
  cloud = "lambda"
  name  = "neocloud-quickstart"
}

resource "neocloud_gpu_instance" "trainer" {
  name               = "neocloud-quickstart"
  cloud              = "lambda"
  gpu_type           = "H100_80GB_SXM"
  gpu_count          = 8
  ssh_key_ids        = [neocloud_ssh_key.quickstart.id]
  max_price_per_hour = 30
  tags               = { purpose = "quickstart" }

  timeouts {
    create = "40m"
  }
}

output "cheapest_offer" {
  value = length(data.neocloud_gpu_offers.h100x8.offers) > 0 ? data.neocloud_gpu_offers.h100x8.offers[0] : null
}

output "instance" {
  value = {
    id             = neocloud_gpu_instance.trainer.id
    region         = neocloud_gpu_instance.trainer.region
    instance_type  = neocloud_gpu_instance.trainer.instance_type
    status         = neocloud_gpu_instance.trainer.status
    price_per_hour = neocloud_gpu_instance.trainer.price_per_hour
  }
}

# Save the generated key first: terraform output -raw private_key > quickstart.pem && chmod 600 quickstart.pem
output "ssh" {
  value = "ssh -i quickstart.pem -p ${neocloud_gpu_instance.trainer.ssh_port} ${neocloud_gpu_instance.trainer.ssh_user}@${neocloud_gpu_instance.trainer.ssh_host}"
}

output "private_key" {
  value     = neocloud_ssh_key.quickstart.private_key
  sensitive = true
}
