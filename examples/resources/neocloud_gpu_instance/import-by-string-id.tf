# <cloud>/<the cloud's instance id>
import {
  to = neocloud_gpu_instance.finetune
  id = "lambda/0920582c7ff041399e34823a0be62549"
}
