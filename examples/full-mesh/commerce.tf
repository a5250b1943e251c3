# --- Commerce account (producer) -------------------------------------------------------------

# The Commerce domain: its bucket registered with Lake Formation and its Lake Formation-only
# database commerce_products, tagged domain = commerce (a value of the governance ontology).
resource "mesh_domain" "commerce" {
  provider = mesh.commerce

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

# Orders: confidential, so the analytics tag grant (public, internal) does not reach it; Finance
# gets it by name instead (mesh_product_grant below).
resource "mesh_data_product" "orders" {
  provider = mesh.commerce

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

# Order items: internal, so the AnalyticsTeam reads it through the tag grant.
resource "mesh_data_product" "order_items" {
  provider = mesh.commerce

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

# Orders shared with the Finance account: DESCRIBE on commerce_products, SELECT and DESCRIBE on
# orders. Finance's data lake administrator passes it on to Finance's own principals.
resource "mesh_product_grant" "orders_to_finance" {
  provider = mesh.commerce

  product     = mesh_data_product.orders.id
  principal   = var.finance_account_id
  permissions = ["SELECT", "DESCRIBE"]
}
