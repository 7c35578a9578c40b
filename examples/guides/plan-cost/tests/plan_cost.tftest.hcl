# The plan alone prices the stack, against the neocloud emulator (its endpoints and keys come
# from the environment, as docs/guides/testing-modules.md shows). Nothing is launched.

variables {
  public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDqcrG8UAPKJ8kwZ4SB0zHUdLcFEGq5N9ZnbGJr4vE4h tftest"
}

run "plan_shows_the_cost" {
  command = plan

  assert {
    condition     = neocloud_gpu_instance.dev.price_per_hour == 0.75
    error_message = "The Lambda A10's price is not in the plan: ${jsonencode(neocloud_gpu_instance.dev.price_per_hour)}."
  }

  assert {
    condition     = neocloud_gpu_instance.notebook.max_possible_price_per_hour == 0.8
    error_message = "The placed notebook may cost at most Lambda's $0.80, the plan says ${neocloud_gpu_instance.notebook.max_possible_price_per_hour}."
  }

  assert {
    condition     = neocloud_gpu_cluster.pretrain.price_per_hour == 98.48
    error_message = "Two CoreWeave H100 nodes list at $98.48 per hour, the plan says ${neocloud_gpu_cluster.pretrain.price_per_hour}."
  }

  assert {
    condition     = abs(output.hourly_cost.at_most - 100.03) < 0.001
    error_message = "The stack may cost ${output.hourly_cost.at_most} per hour, expected 100.03."
  }
}
