# <cloud>/<the cloud's instance id>
terraform import neocloud_gpu_instance.finetune lambda/0920582c7ff041399e34823a0be62549
