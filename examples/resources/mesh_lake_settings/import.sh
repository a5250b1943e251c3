# The id is the account (catalog) id whose data lake settings these are.
terraform import mesh_lake_settings.governance 111111111111
