terraform {
  required_version = ">= 1.6"

  required_providers {
    neocloud = {
      source = "neocloud/neocloud"
    }
  }
}
