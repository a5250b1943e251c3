# The id is <database>/<name>: the local database and the link's name.
terraform import mesh_product_link.orders shared_products/commerce_orders
