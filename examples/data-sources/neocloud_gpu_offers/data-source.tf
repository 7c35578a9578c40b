# Every 8x H100 SXM machine under $30/hour that some configured cloud can launch right now.
data "neocloud_gpu_offers" "h100x8" {
  gpu_type           = "H100_80GB_SXM"
  gpu_count          = 8
  max_price_per_hour = 30
}

output "cheapest" {
  value = data.neocloud_gpu_offers.h100x8.offers[0]
}
