# Credentials come from the standard AWS chain (environment, shared files, SSO, instance roles).
provider "mesh" {
  region      = "eu-west-1"
  max_retries = 10
}

# One alias per account: assume a role in a domain's account.
provider "mesh" {
  alias  = "commerce"
  region = "eu-west-1"

  assume_role {
    role_arn     = "arn:aws:iam::444455556666:role/MeshDomainAdmin"
    session_name = "terraform-mesh"
    external_id  = "commerce-mesh"
  }
}

# A local emulator for every service, or one endpoint per service.
provider "mesh" {
  alias    = "local"
  region   = "us-east-1"
  endpoint = "http://127.0.0.1:5000"

  endpoints {
    lakeformation = "http://127.0.0.1:5000"
  }
}

# Terraform Cloud dynamic credentials, or any OIDC token: exchanged for the role's credentials.
# Without this block the standard chain reads AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE too.
provider "mesh" {
  alias  = "ci"
  region = "eu-west-1"

  assume_role_with_web_identity {
    role_arn                = "arn:aws:iam::111111111111:role/TerraformCloudRun"
    web_identity_token_file = "/var/run/secrets/oidc/token"
  }
}
