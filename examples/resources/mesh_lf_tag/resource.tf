# An LF-tag key and the values it may take.
resource "mesh_lf_tag" "sensitivity" {
  key    = "sensitivity"
  values = ["public", "internal", "confidential"]
}

# In another account's catalog (the caller needs Lake Formation admin rights there).
resource "mesh_lf_tag" "domain" {
  catalog_id = "111111111111"
  key        = "domain"
  values     = ["commerce", "finance"]
}
