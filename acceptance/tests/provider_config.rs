//! The provider block: malformed values are refused at `terraform validate`, pointing at the
//! attribute; valid ones pass.

use mesh_acceptance::{Emulator, Workspace};

use mesh_acceptance::{terraform_tests, Terraform};

terraform_tests!(
    sync provider_validate_refuses_malformed_arn_url_and_region,
    sync provider_validate_accepts_a_full_valid_block,
    sync provider_assume_role_reaches_the_role_account,
);

fn config(provider_body: &str) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    mesh = {{ source = "meshcraft/mesh" }}
  }}
}}

provider "mesh" {{
{provider_body}
}}

resource "mesh_lf_tag" "t" {{
  key    = "k"
  values = ["v"]
}}
"#
    )
}

fn provider_validate_refuses_malformed_arn_url_and_region(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let ws = Workspace::new(
        tf,
        emulator,
        &config(
            r#"  region   = "Mars"
  endpoint = "127.0.0.1:5000"
  assume_role {
    role_arn = "not-an-arn"
  }
  endpoints {
    glue = "ftp://glue.local"
  }"#,
        ),
    );
    let out = ws.validate();
    assert!(!out.success(), "validate passed:\n{out}");
    let text = out.combined();
    for expected in [
        "Invalid region",
        "Invalid endpoint URL",
        "Invalid role ARN",
        "\"not-an-arn\" is not an ARN",
        "\"ftp://glue.local\" must use http or https",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // Terraform shows the attribute's source line for each diagnostic.
    assert!(text.contains("role_arn = \"not-an-arn\""), "{out}");
}

fn provider_validate_accepts_a_full_valid_block(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let ws = Workspace::new(
        tf,
        emulator,
        &config(
            r#"  region      = "eu-west-1"
  endpoint    = "{{endpoint}}"
  max_retries = 3
  assume_role {
    role_arn     = "arn:aws:iam::444455556666:role/MeshDomainAdmin"
    session_name = "terraform-mesh"
    external_id  = "commerce-mesh"
  }
  endpoints {
    lakeformation = "{{endpoint}}"
  }"#,
        ),
    );
    let out = ws.validate();
    assert!(out.success(), "validate failed:\n{out}");
}

fn provider_assume_role_reaches_the_role_account(tf: &'static Terraform) {
    // The emulator attributes requests made with assumed-role credentials to the role's account,
    // so the tag's computed catalog id proves the provider assumed the role.
    let emulator = Emulator::shared();
    let key = mesh_acceptance::unique_name("assumed");
    let ws = Workspace::new(
        tf,
        emulator,
        &config(
            r#"  region   = "us-east-1"
  endpoint = "{{endpoint}}"
  assume_role {
    role_arn = "arn:aws:iam::444455556666:role/MeshDomainAdmin"
  }"#,
        )
        .replace("key    = \"k\"", &format!("key    = {key:?}")),
    );
    ws.apply();
    let state = ws.state_resource("mesh_lf_tag.t").expect("tag in state");
    assert_eq!(state["catalog_id"], "444455556666", "{state:#}");
    assert_eq!(state["id"], format!("444455556666:{key}"), "{state:#}");
    ws.assert_plan_empty();
}
