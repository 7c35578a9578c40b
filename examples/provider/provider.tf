provider "neocloud" {
  lambda {
    api_key = var.lambda_api_key # or LAMBDA_API_KEY
  }
  runpod {
    api_key = var.runpod_api_key # or RUNPOD_API_KEY
  }
  coreweave {
    api_token = var.coreweave_api_token # or COREWEAVE_API_TOKEN
  }
}

variable "lambda_api_key" {
  type      = string
  sensitive = true
}

variable "runpod_api_key" {
  type      = string
  sensitive = true
}

variable "coreweave_api_token" {
  type      = string
  sensitive = true
}
