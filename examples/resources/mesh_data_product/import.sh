# The id is <domain>/<name>.
terraform import mesh_data_product.orders commerce/orders
