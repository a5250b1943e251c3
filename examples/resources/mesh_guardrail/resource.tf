# An SCP on the Domains OU: only the governance account may change Lake Formation settings, and
# only the named roles may register or deregister data locations.
resource "mesh_guardrail" "lake_formation" {
  name                  = "mesh-lake-formation-guardrail"
  description           = "Domain accounts stay under Lake Formation governance"
  governance_account_id = "111111111111"
  rules = [
    "protect_lake_formation_settings",
    "protect_lake_formation_registration",
  ]
  allowed_principal_arns = [
    "arn:aws:iam::111111111111:role/DataPlatformAdmin",
    "arn:aws:iam::*:role/DomainDataAdmin",
  ]
  target_ids = ["ou-ab12-domains1"]
}
