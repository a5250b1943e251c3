# --- Governance account ----------------------------------------------------------------------

# Lake Formation administrators, and no IAM_ALLOWED_PRINCIPALS defaults for new databases and
# tables: access goes through Lake Formation only. Settings not declared here are kept.
resource "mesh_lake_settings" "governance" {
  provider = mesh.governance

  admins                          = ["arn:aws:iam::${var.governance_account_id}:role/MeshAdmin"]
  iam_allowed_principals_defaults = false
}

# The governance ontology: every domain account names these tags (tag_catalog_id).
resource "mesh_lf_tag" "domain" {
  provider = mesh.governance

  key    = "domain"
  values = ["commerce", "finance", "logistics", "customer"]
}

resource "mesh_lf_tag" "sensitivity" {
  provider = mesh.governance

  key    = "sensitivity"
  values = ["public", "internal", "confidential"]
}

resource "mesh_lf_tag" "region" {
  provider = mesh.governance

  key    = "region"
  values = ["eu", "us"]
}

# The service control policy on the Domain OU: only the governance account changes Lake
# Formation settings, and only the named MeshAdmin roles register or deregister S3 locations.
resource "mesh_guardrail" "lake_formation" {
  provider = mesh.governance

  name                  = "mesh-lake-formation-guardrails"
  description           = "Data mesh guardrails: Lake Formation settings and registrations are governed centrally."
  governance_account_id = var.governance_account_id
  rules = [
    "protect_lake_formation_settings",
    "protect_lake_formation_registration",
  ]
  allowed_principal_arns = [
    "arn:aws:iam::${var.governance_account_id}:role/MeshAdmin",
    "arn:aws:iam::${var.commerce_account_id}:role/MeshAdmin",
    "arn:aws:iam::${var.finance_account_id}:role/MeshAdmin",
  ]
  target_ids = [var.domain_ou_id]
}

# The reference article's analytics grant: the AnalyticsTeam role reads every Commerce table
# tagged public or internal (and sees the databases that hold them), whatever account holds it.
resource "mesh_tag_grant" "analytics" {
  provider = mesh.governance

  principal = "arn:aws:iam::${var.governance_account_id}:role/AnalyticsTeam"
  expression = {
    (mesh_lf_tag.domain.key)      = ["commerce"]
    (mesh_lf_tag.sensitivity.key) = ["public", "internal"]
  }
  table_permissions    = ["SELECT", "DESCRIBE"]
  database_permissions = ["DESCRIBE"]
}
