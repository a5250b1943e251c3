# One provider alias per account. Each assumes the MeshAdmin role of its account with the
# credentials Terraform runs with (environment, profile, SSO, CI role...).

terraform {
  required_providers {
    mesh = {
      source = "meshcraft/mesh"
    }
  }
}

# The governance account: the data lake settings, the LF-tag ontology, the guardrail and the
# tag-based grants.
provider "mesh" {
  alias    = "governance"
  region   = var.region
  endpoint = var.endpoint

  assume_role {
    role_arn = "arn:aws:iam::${var.governance_account_id}:role/MeshAdmin"
  }
}

# The Commerce domain's account: its domain and data products, and the grants that share them.
# LF-tags are named and checked in the governance account's catalog.
provider "mesh" {
  alias          = "commerce"
  region         = var.region
  endpoint       = var.endpoint
  tag_catalog_id = var.governance_account_id

  assume_role {
    role_arn = "arn:aws:iam::${var.commerce_account_id}:role/MeshAdmin"
  }
}

# The Finance domain's account: a consumer of Commerce's orders.
provider "mesh" {
  alias          = "finance"
  region         = var.region
  endpoint       = var.endpoint
  tag_catalog_id = var.governance_account_id

  assume_role {
    role_arn = "arn:aws:iam::${var.finance_account_id}:role/MeshAdmin"
  }
}
