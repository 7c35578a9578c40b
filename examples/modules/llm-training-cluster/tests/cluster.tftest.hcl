# `terraform test` for the module against the neocloud emulator (make examples-test): endpoints
# and keys come from the environment (NEOCLOUD_LAMBDA_ENDPOINT, LAMBDA_API_KEY, ...), as
# docs/guides/testing-modules.md shows. terraform test destroys everything at the end.

variables {
  name           = "tftest"
  ssh_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDqcrG8UAPKJ8kwZ4SB0zHUdLcFEGq5N9ZnbGJr4vE4h tftest"
}

run "rejects_zero_nodes" {
  command = plan

  variables {
    nodes              = 0
    max_price_per_hour = 10
  }

  expect_failures = [var.nodes]
}

# The plan alone knows the price of a Lambda cluster: 2 x $0.75.
run "plans_the_cost" {
  command = plan

  variables {
    gpu_type           = "A10_24GB"
    gpus_per_node      = 1
    nodes              = 2
    clouds             = ["lambda"]
    max_price_per_hour = 2
  }

  assert {
    condition     = neocloud_gpu_cluster.this.price_per_hour == 1.5
    error_message = "The plan should price the cluster at $1.50 per hour, not ${jsonencode(neocloud_gpu_cluster.this.price_per_hour)}."
  }
}

# A real apply: two 8x H100 nodes on the cheaper cloud (RunPod, $43.04 per hour against Lambda's
# $47.84), with what a launcher needs.
run "trains_on_the_cheapest_cloud" {
  variables {
    gpu_type           = "H100_80GB_SXM"
    gpus_per_node      = 8
    nodes              = 2
    clouds             = ["lambda", "runpod"]
    max_price_per_hour = 60
  }

  assert {
    condition     = output.cloud == "runpod" && output.price_per_hour == 43.04
    error_message = "Expected RunPod at $43.04 per hour, got ${output.cloud} at ${output.price_per_hour}."
  }

  assert {
    condition     = length(compact(output.ssh_commands)) == 2 && alltrue([for c in output.ssh_commands : startswith(c, "ssh -p ")])
    error_message = "Every node needs an SSH command: ${jsonencode(output.ssh_commands)}"
  }

  assert {
    condition     = length(split("\n", trimspace(output.hostfile))) == 2 && strcontains(output.hostfile, "slots=8")
    error_message = "The hostfile should have two lines with 8 slots each:\n${output.hostfile}"
  }

  assert {
    condition     = startswith(output.torchrun_commands[1], "torchrun --nnodes=2 --node_rank=1 --nproc_per_node=8 --master_addr=${output.head_node_ip}")
    error_message = "Unexpected torchrun command: ${output.torchrun_commands[1]}"
  }
}

# The example root module: the module twice with for_each, applied.
run "example_two_clusters" {
  module {
    source = "./examples/two-clusters"
  }

  # RunPod holds a public key once per account: the example brings its own.
  variables {
    ssh_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHTQqnUcmqOElna4xLMapxko33syl1tUywG40s4AJdIz example"
  }

  assert {
    condition     = length(output.hostfiles) == 2 && abs(output.usd_per_hour - (1.5 + 43.04)) < 0.001
    error_message = "Expected two clusters costing $44.54 per hour together, got ${output.usd_per_hour}."
  }
}
