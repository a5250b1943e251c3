# --- Finance account (consumer) --------------------------------------------------------------

# A resource link in Finance's catalog to Commerce's orders: Finance queries it as
# shared_products.commerce_orders. The links database is created (Lake Formation-only) when
# missing; the producer's account comes from the blueprint.
module "consumer_access" {
  source = "../../modules/consumer-access"

  providers = {
    mesh = mesh.finance
  }

  product_links = {
    commerce_orders = {
      product  = module.orders.id
      database = "shared_products"
      name     = "commerce_orders"
    }
  }

  # The link is useful once the table is shared with this account.
  depends_on = [module.producer_access]
}
