# runpod/<the cloud's credential id>. The username and password are not read back: keep them
# in the resource block, and the apply records them without replacing the credential.
import {
  to = neocloud_container_registry_credential.ghcr
  id = "runpod/k3x9q2m7vd"
}
