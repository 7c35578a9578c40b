# A Lambda filesystem, mounted by an instance in the same region.
resource "neocloud_volume" "datasets" {
  cloud  = "lambda"
  name   = "datasets"
  region = "us-east-1"
}

resource "neocloud_gpu_instance" "trainer" {
  name        = "trainer"
  cloud       = "lambda"
  region      = neocloud_volume.datasets.region
  gpu_type    = "H100_80GB_SXM"
  gpu_count   = 8
  ssh_key_ids = [var.ssh_key_id]

  lambda {
    file_system_names = [neocloud_volume.datasets.name]
  }
}

variable "ssh_key_id" {
  type = string
}
