# The reference architecture's analytics grant: the AnalyticsTeam role may read every table of
# the commerce domain whose sensitivity is public or internal, and see the databases that hold
# them. Adding a value or a permission later changes the grant in place, without an access gap.
resource "mesh_tag_grant" "analytics" {
  principal = "arn:aws:iam::111111111111:role/AnalyticsTeam"

  expression = {
    domain      = ["commerce"]
    sensitivity = ["public", "internal"]
  }

  # The defaults, spelled out.
  table_permissions    = ["SELECT", "DESCRIBE"]
  database_permissions = ["DESCRIBE"]
}

# A whole consumer account, which may pass the grant on to its own roles.
resource "mesh_tag_grant" "finance_account" {
  principal = "777788889999"

  expression = {
    domain = ["commerce"]
  }

  grantable_permissions = ["SELECT", "DESCRIBE"]
}
