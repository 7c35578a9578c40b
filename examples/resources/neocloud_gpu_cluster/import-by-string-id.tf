# CoreWeave and RunPod: <cloud>/<cluster id>
import {
  to = neocloud_gpu_cluster.pretrain
  id = "coreweave/6b8d8a2e-2f2a-4c1e-9a51-0c1b0c7f5e4d"
}

# Lambda: lambda/<cluster name>
import {
  to = neocloud_gpu_cluster.sweep
  id = "lambda/sweep"
}
