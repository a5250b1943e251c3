output "products" {
  description = "Each product's id, table and contract document."
  value = {
    for p in [module.orders, module.order_items] : p.id => {
      table        = p.table
      contract_uri = p.contract_uri
    }
  }
}

output "orders_link" {
  description = "The resource link in the Finance account (<database>/<name>)."
  value       = module.consumer_access.product_links["commerce_orders"]
}

output "guardrail_policy_id" {
  description = "The id of the service control policy attached to the Domain OU."
  value       = module.governance.guardrail_policy_id
}
