# <cloud>/<the cloud's key id>
import {
  to = neocloud_ssh_key.me
  id = "lambda/ddf9a0a2b2bd4b5a9b1b1d3e1c2f3a4b"
}
