# The governance account's Lake Formation settings: who administers the lake, and new databases
# and tables without IAM_ALLOWED_PRINCIPALS grants (Lake Formation-only).
resource "mesh_lake_settings" "governance" {
  admins = [
    "arn:aws:iam::111111111111:role/DataPlatformAdmin",
    "arn:aws:iam::111111111111:role/TerraformGovernance",
  ]
  iam_allowed_principals_defaults = false
  trusted_resource_owners         = ["444455556666", "777788889999"]
}

# A domain account (through a provider alias that assumes a role there): only the defaults are
# managed; its admins are left as they are.
resource "mesh_lake_settings" "commerce" {
  provider = mesh.commerce
}
