# --- Commerce account (producer) -------------------------------------------------------------

# The Commerce domain: its bucket (named by the blueprint's convention) registered with Lake
# Formation and its Lake Formation-only database commerce_products, tagged domain = commerce
# and region = us.
module "commerce" {
  source = "../../modules/domain"

  providers = {
    mesh = mesh.commerce
  }

  name        = "commerce"
  description = "Orders, order items and payments of the web shop."
  region      = var.region

  depends_on = [module.governance]
}

# Orders: confidential, so the analytics tag grant (public, internal) does not reach it; Finance
# gets it by name instead (producer_access below).
module "orders" {
  source = "../../modules/data-product"

  providers = {
    mesh = mesh.commerce
  }

  domain            = module.commerce.name
  name              = "orders"
  description       = "Orders placed on the web shop, one row per order."
  region            = var.region
  freshness_minutes = 60
  lf_tags           = { sensitivity = "confidential" }
  compatibility     = "BACKWARD_ALL"

  columns = [
    { name = "order_id", type = "string", comment = "Order identifier", nullable = false },
    { name = "customer_id", type = "string", comment = "Customer identifier" },
    { name = "order_amount", type = "decimal(12,2)", comment = "Order total" },
    { name = "currency", type = "string", comment = "ISO 4217 currency code" },
    { name = "created_at", type = "timestamp", comment = "When the order was placed" },
  ]
  partition_keys = [{ name = "order_date", type = "date" }]

  quality_rules = [
    "IsComplete \"order_id\"",
    "IsUnique \"order_id\"",
    "ColumnValues \"currency\" in [\"EUR\", \"USD\", \"GBP\"]",
  ]
}

# Order items: internal, so the AnalyticsTeam reads it through the tag grant.
module "order_items" {
  source = "../../modules/data-product"

  providers = {
    mesh = mesh.commerce
  }

  domain            = module.commerce.name
  name              = "order_items"
  description       = "Line items of each order."
  region            = var.region
  freshness_minutes = 60
  lf_tags           = { sensitivity = "internal" }

  columns = [
    { name = "order_id", type = "string", nullable = false },
    { name = "line_number", type = "int", nullable = false },
    { name = "sku", type = "string" },
    { name = "quantity", type = "int" },
    { name = "unit_price", type = "decimal(12,2)" },
  ]

  quality_rules = ["IsComplete \"order_id\"", "ColumnValues \"quantity\" > 0"]
}

# Orders shared with the Finance account: DESCRIBE on commerce_products, SELECT and DESCRIBE on
# orders. Finance's data lake administrator passes it on to Finance's own principals.
module "producer_access" {
  source = "../../modules/consumer-access"

  providers = {
    mesh = mesh.commerce
  }

  product_grants = {
    orders_to_finance = {
      product     = module.orders.id
      principal   = var.finance_account_id
      permissions = ["SELECT", "DESCRIBE"]
    }
  }
}
