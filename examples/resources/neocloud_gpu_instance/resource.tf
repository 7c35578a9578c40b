resource "neocloud_ssh_key" "me" {
  cloud      = "lambda"
  name       = "me"
  public_key = var.public_key
}

# 8x H100 SXM on Lambda, in any region with capacity, refused above $30/hour.
resource "neocloud_gpu_instance" "finetune" {
  name               = "finetune-1"
  cloud              = "lambda"
  gpu_type           = "H100_80GB_SXM"
  gpu_count          = 8
  ssh_key_ids        = [neocloud_ssh_key.me.id]
  user_data          = file("${path.module}/cloud-init.yaml")
  max_price_per_hour = 30
  tags               = { team = "research" }

  lambda {
    file_system_names = ["datasets"]
  }

  timeouts {
    create = "40m"
  }
}

output "ssh" {
  value = "ssh ${neocloud_gpu_instance.finetune.ssh_user}@${neocloud_gpu_instance.finetune.ssh_host}"
}

# A RunPod pod: 1x H100 SXM running a PyTorch container, reachable over direct SSH, stopped
# (GPUs released, disk kept) by setting desired_state = "stopped".
resource "neocloud_ssh_key" "runpod" {
  cloud      = "runpod"
  name       = "me"
  public_key = var.public_key
}

resource "neocloud_gpu_instance" "notebook" {
  name          = "notebook"
  cloud         = "runpod"
  gpu_type      = "H100_80GB_SXM"
  gpu_count     = 1
  ssh_key_ids   = [neocloud_ssh_key.runpod.id]
  desired_state = "running"

  runpod {
    image     = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
    ports     = ["22/tcp", "8888/http"]
    env       = { HF_HOME = "/workspace/hf" }
    volume_gb = 100
  }
}

# Let the provider choose: the cheapest of Lambda and RunPod that has an 8x H100 free now,
# moving on to the other on a capacity refusal. Each cloud gets its own key of the list.
resource "neocloud_gpu_instance" "anywhere" {
  name        = "pretrain-scout"
  gpu_type    = "H100_80GB_SXM"
  gpu_count   = 8
  ssh_key_ids = [neocloud_ssh_key.me.id, neocloud_ssh_key.runpod.id]

  placement {
    clouds   = ["lambda", "runpod"]
    strategy = "cheapest"
  }

  runpod {
    image = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
    ports = ["22/tcp"]
  }
}

variable "public_key" {
  description = "An OpenSSH public key, such as file(\"~/.ssh/id_ed25519.pub\")."
  type        = string
}
