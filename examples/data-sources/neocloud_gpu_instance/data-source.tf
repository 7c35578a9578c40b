# A machine made outside this configuration, by name.
data "neocloud_gpu_instance" "dev_box" {
  cloud = "lambda"
  name  = "dev-box"
}

output "dev_box_ssh" {
  value = "ssh ${data.neocloud_gpu_instance.dev_box.ssh_user}@${data.neocloud_gpu_instance.dev_box.ssh_host}"
}
