# The id is the domain name.
terraform import mesh_domain.commerce commerce
