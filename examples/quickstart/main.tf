# Quickstart: the governance ontology of a data mesh as LF-tags, the Commerce domain, and two
# governed data products.
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

variable "commerce_bucket" {
  type        = string
  default     = "meshcraft-quickstart-commerce"
  description = "Bucket of the Commerce domain (bucket names are global on AWS: pick your own)."
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

# The Commerce domain: its bucket, registered with Lake Formation, and its Lake Formation-only
# database commerce_products, tagged domain = commerce.
resource "mesh_domain" "commerce" {
  name        = "commerce"
  description = "Orders, order items and payments of the web shop."

  owner {
    team  = "commerce-data"
    email = "commerce-data@example.com"
  }

  bucket {
    name = var.commerce_bucket
  }

  lf_tags = { (mesh_lf_tag.region.key) = "eu" }

  depends_on = [mesh_lf_tag.domain]
}

# The reference article's orders product: a governed table, its schema contract
# (BACKWARD_ALL), quality rules and freshness SLA, with the amount column confidential.
resource "mesh_data_product" "orders" {
  domain      = mesh_domain.commerce.name
  name        = "orders"
  description = "Orders placed on the web shop, one row per order."

  column {
    name     = "order_id"
    type     = "string"
    comment  = "Order identifier"
    nullable = false
  }
  column {
    name    = "customer_id"
    type    = "string"
    comment = "Customer identifier"
  }
  column {
    name    = "order_amount"
    type    = "decimal(12,2)"
    comment = "Order total"
    lf_tags = { (mesh_lf_tag.sensitivity.key) = "confidential" }
  }
  column {
    name    = "currency"
    type    = "string"
    comment = "ISO 4217 currency code"
  }
  column {
    name    = "created_at"
    type    = "timestamp"
    comment = "When the order was placed"
  }

  partition_key {
    name = "order_date"
    type = "date"
  }

  lf_tags = { (mesh_lf_tag.sensitivity.key) = "confidential" }

  schema_contract {
    registry      = "commerce-contracts"
    compatibility = "BACKWARD_ALL"
  }

  quality_rules = [
    "IsComplete \"order_id\"",
    "IsUnique \"order_id\"",
    "ColumnValues \"currency\" in [\"EUR\", \"USD\", \"GBP\"]",
  ]

  sla {
    freshness_minutes = 60
  }
}

resource "mesh_data_product" "order_items" {
  domain      = mesh_domain.commerce.name
  name        = "order_items"
  description = "Line items of each order."

  column {
    name     = "order_id"
    type     = "string"
    nullable = false
  }
  column {
    name     = "line_number"
    type     = "int"
    nullable = false
  }
  column {
    name = "sku"
    type = "string"
  }
  column {
    name = "quantity"
    type = "int"
  }
  column {
    name = "unit_price"
    type = "decimal(12,2)"
  }

  lf_tags = { (mesh_lf_tag.sensitivity.key) = "internal" }

  schema_contract {
    registry = "commerce-contracts"
  }

  quality_rules = ["IsComplete \"order_id\"", "ColumnValues \"quantity\" > 0"]

  sla {
    freshness_minutes = 60
  }
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

output "products" {
  description = "Each product's contract document and registered schema version."
  value = {
    for p in [mesh_data_product.orders, mesh_data_product.order_items] : p.id => {
      contract_uri   = p.contract_uri
      schema_version = p.schema_version_number
      table          = "${p.database_name}.${p.name}"
    }
  }
}
