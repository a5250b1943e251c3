# The domain's LF-tag value must exist in the ontology first.
resource "mesh_lf_tag" "domain" {
  key    = "domain"
  values = ["commerce", "finance"]
}

resource "mesh_domain" "commerce" {
  name        = "commerce"
  description = "Orders, carts and payments of the web shop."

  owner {
    team  = "commerce-data"
    email = "commerce-data@example.com"
  }

  bucket {
    name = "example-mesh-commerce"
    # create        = true  (default; false uses an existing bucket and never deletes it)
    # force_destroy = false (default; destroy keeps a bucket that still holds data)
  }

  # Extra LF-tags on the database; domain = "commerce" is always added.
  lf_tags = { region = "eu" }

  depends_on = [mesh_lf_tag.domain]
}
