# <cloud>/<the cloud's volume id>
import {
  to = neocloud_volume.datasets
  id = "lambda/398578a2336b49079e74043f0bd2cfe8"
}
