# The id is CATALOG:KEY; a bare KEY means the caller's account.
terraform import mesh_lf_tag.sensitivity 111122223333:sensitivity
terraform import mesh_lf_tag.domain domain
