# The id is the policy id. Only policies created by mesh_guardrail carry the tags import needs.
terraform import mesh_guardrail.lake_formation p-examplea1
