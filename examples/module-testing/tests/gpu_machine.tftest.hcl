# `terraform test` for the module, against the neocloud emulator. The provider block is empty:
# the emulator's endpoints and keys come from the environment (NEOCLOUD_LAMBDA_ENDPOINT,
# LAMBDA_API_KEY, NEOCLOUD_RATE_SCALE), as docs/guides/testing-modules.md shows.

variables {
  name = "tftest-job"
}

# Input checks cost nothing: plan only.
run "rejects_a_bad_name" {
  command = plan

  variables {
    name = "Not A Name"
  }

  expect_failures = [var.name]
}

# A cap below every offer is refused at plan time, before anything is launched.
run "refuses_a_price_cap_nobody_meets" {
  command = plan

  variables {
    max_price_per_hour = 0.01
  }

  expect_failures = [neocloud_gpu_instance.this]
}

# A real apply (against the emulator): the machine runs, within the cap, reachable over SSH.
# terraform test destroys it at the end.
run "launches_a_running_machine" {
  assert {
    condition     = neocloud_gpu_instance.this.status == "running"
    error_message = "The machine is ${neocloud_gpu_instance.this.status}, not running."
  }

  assert {
    condition     = output.price_per_hour > 0 && output.price_per_hour <= var.max_price_per_hour
    error_message = "Price ${output.price_per_hour}/hour is outside (0, ${var.max_price_per_hour}]."
  }

  assert {
    condition     = neocloud_gpu_instance.this.ssh_host != "" && startswith(output.ssh, "ssh -i job.pem")
    error_message = "No SSH endpoint: ${output.ssh}"
  }

  assert {
    condition     = neocloud_gpu_instance.this.tags["job"] == var.name
    error_message = "The machine is not tagged with its job."
  }
}
