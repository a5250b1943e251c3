# The id is CATALOG|PRINCIPAL|DATABASE.TABLE. Quote it for the shell.
terraform import mesh_product_grant.orders_to_finance '444455556666|777788889999|commerce_products.orders'
