# --- Governance account ----------------------------------------------------------------------

# The governance module, generated from the blueprint (examples/blueprint/mesh.yaml): Lake
# Formation administrators and no IAM_ALLOWED_PRINCIPALS defaults, the LF-tag ontology
# (domain, sensitivity, region), and the guardrail SCP on the Domain OU: only the governance
# account changes Lake Formation settings, and only the named MeshAdmin roles register or
# deregister S3 locations.
module "governance" {
  source = "../../modules/governance"

  providers = {
    mesh = mesh.governance
  }

  lake_admins          = ["arn:aws:iam::${var.governance_account_id}:role/MeshAdmin"]
  guardrail_target_ids = [var.domain_ou_id]
  registration_principal_arns = [
    "arn:aws:iam::${var.governance_account_id}:role/MeshAdmin",
    "arn:aws:iam::${var.commerce_account_id}:role/MeshAdmin",
    "arn:aws:iam::${var.finance_account_id}:role/MeshAdmin",
  ]
}

# The reference article's analytics grant: the AnalyticsTeam role reads every Commerce table
# tagged public or internal (and sees the databases that hold them), whatever account holds it.
# It names LF-tags the governance module creates in this same apply, so it depends on it.
module "governance_access" {
  source = "../../modules/consumer-access"

  providers = {
    mesh = mesh.governance
  }

  tag_grants = {
    analytics = {
      principal            = "arn:aws:iam::${var.governance_account_id}:role/AnalyticsTeam"
      expression           = { domain = ["commerce"], sensitivity = ["public", "internal"] }
      table_permissions    = ["SELECT", "DESCRIBE"]
      database_permissions = ["DESCRIBE"]
    }
  }

  depends_on = [module.governance]
}
