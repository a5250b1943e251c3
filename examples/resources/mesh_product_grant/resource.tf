# Share the commerce domain's `orders` product with the finance account: DESCRIBE on
# commerce_products, SELECT and DESCRIBE on the table. Finance reaches it through a
# mesh_product_link in its own account.
resource "mesh_product_grant" "orders_to_finance" {
  product   = "commerce/orders"
  principal = "777788889999"
}

# A role in another account, some columns only, the table named directly.
resource "mesh_product_grant" "orders_to_auditor" {
  database  = "commerce_products"
  table     = "orders"
  principal = "arn:aws:iam::777788889999:role/Auditor"

  permissions      = ["SELECT"]
  excluded_columns = ["customer_id"]
}
