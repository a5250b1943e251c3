# --- Finance account (consumer) --------------------------------------------------------------

# A resource link in Finance's catalog to Commerce's orders: Finance queries it as
# shared_products.commerce_orders. The links database is created (Lake Formation-only) when
# missing.
resource "mesh_product_link" "orders" {
  provider = mesh.finance

  source {
    catalog_id = mesh_domain.commerce.catalog_id
    database   = mesh_data_product.orders.database_name
    table      = mesh_data_product.orders.name
  }
  database = "shared_products"
  name     = "commerce_orders"

  # The link is useful once the table is shared with this account.
  depends_on = [mesh_product_grant.orders_to_finance]
}
