# <cloud>/<the cloud's credential id>; the username and password are not read back: write them
# in the configuration and the next apply records them without replacing the credential.
terraform import neocloud_container_registry_credential.ghcr runpod/k3x9q2m7vd
