# A product team's configuration uses the commerce domain that the platform team manages.
data "mesh_domain" "commerce" {
  name = "commerce"
}

output "commerce_products_database" {
  value = data.mesh_domain.commerce.database_name
}

output "commerce_owner" {
  value = "${data.mesh_domain.commerce.owner_team} <${data.mesh_domain.commerce.owner_email}>"
}
