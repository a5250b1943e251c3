output "products" {
  description = "Each product's id, table and contract document."
  value = {
    for p in [mesh_data_product.orders, mesh_data_product.order_items] : p.id => {
      table        = "${p.database_name}.${p.name}"
      contract_uri = p.contract_uri
    }
  }
}

output "orders_link" {
  description = "The resource link in the Finance account (<database>/<name>) and the table it points at."
  value = {
    id     = mesh_product_link.orders.id
    target = "${mesh_product_link.orders.source.catalog_id}:${mesh_product_link.orders.source.database}.${mesh_product_link.orders.source.table}"
  }
}

output "guardrail_policy_id" {
  description = "The id of the service control policy attached to the Domain OU."
  value       = mesh_guardrail.lake_formation.policy_id
}
