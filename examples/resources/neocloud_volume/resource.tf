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

# A RunPod network volume, grown in place by raising size_gb.
resource "neocloud_volume" "checkpoints" {
  cloud   = "runpod"
  name    = "checkpoints"
  region  = "US-KS-2"
  size_gb = 500
  type    = "STANDARD"
}
