# Quickstart: the governance ontology of a data mesh, as LF-tags.
#
# Against the local emulator: `make demo` (it passes -var endpoint=...).
# Against AWS: drop `endpoint` and use your usual AWS credentials.

terraform {
  required_providers {
    mesh = {
      source = "meshcraft/mesh"
    }
  }
}

variable "region" {
  type        = string
  default     = "us-east-1"
  description = "AWS region."
}

variable "endpoint" {
  type        = string
  default     = null
  description = "One endpoint URL for every AWS service (a local emulator); null for real AWS."
}

provider "mesh" {
  region   = var.region
  endpoint = var.endpoint
}

# Which domain owns a product.
resource "mesh_lf_tag" "domain" {
  key    = "domain"
  values = ["commerce", "logistics", "finance", "customer"]
}

# How sensitive a table or column is; grants name the levels a consumer may read.
resource "mesh_lf_tag" "sensitivity" {
  key    = "sensitivity"
  values = ["public", "internal", "confidential"]
}

# Where the data may live.
resource "mesh_lf_tag" "region" {
  key    = "region"
  values = ["eu", "us"]
}

output "ontology" {
  description = "The LF-tag ontology: key => allowed values."
  value = {
    for tag in [mesh_lf_tag.domain, mesh_lf_tag.sensitivity, mesh_lf_tag.region] :
    tag.key => sort(tolist(tag.values))
  }
}

output "tag_ids" {
  description = "LF-tag ids (CATALOG:KEY)."
  value       = [mesh_lf_tag.domain.id, mesh_lf_tag.sensitivity.id, mesh_lf_tag.region.id]
}
