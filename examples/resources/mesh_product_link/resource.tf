# In the consumer (finance) account: a resource link to the orders product that the commerce
# account (444455556666) shared with this account through a mesh_product_grant.
provider "mesh" {
  alias = "finance"
  assume_role {
    role_arn = "arn:aws:iam::777788889999:role/MeshAdmin"
  }
}

resource "mesh_product_link" "orders" {
  provider = mesh.finance

  source {
    catalog_id = "444455556666"
    database   = "commerce_products"
    table      = "orders"
  }

  # The local database for links; created (Lake Formation-only) when missing.
  database = "shared_products"

  # Optional: the link's name; defaults to the source table's name.
  name = "commerce_orders"
}

# Query engines in the finance account read the shared table as shared_products.commerce_orders.
output "orders_link" {
  value = mesh_product_link.orders.id
}
