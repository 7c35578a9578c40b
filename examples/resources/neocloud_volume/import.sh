# <cloud>/<the cloud's volume id>
terraform import neocloud_volume.datasets lambda/398578a2336b49079e74043f0bd2cfe8
