//! Terraform Cloud's dynamic credentials: a web identity token exchanged for a role's
//! credentials, configured in the provider block (inline token or token file) or left to the
//! standard chain (`AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`, as Terraform Cloud sets them).
//!
//! The test credentials are removed from Terraform's environment, so the web identity is the
//! only way the provider can sign a request; the emulator attributes the role's credentials to
//! the role's account, where the resources must appear. Every run logs at TRACE, and the token
//! must never show.

use mesh_acceptance::{
    random_account, random_token, terraform_tests, unique_name, Emulator, Terraform, TfOutput,
    Workspace, ACCOUNT_ID,
};

terraform_tests!(
    web_identity_block_with_an_inline_token,
    web_identity_block_with_a_token_file,
    web_identity_from_the_environment_through_the_standard_chain,
    sync web_identity_block_is_validated,
);

const ROLE: &str = "TerraformCloudRun";

fn hcl(provider_extra: &str, key: &str) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    mesh = {{ source = "meshcraft/mesh" }}
  }}
}}

provider "mesh" {{
  region   = "us-east-1"
  endpoint = "{{{{endpoint}}}}"
{provider_extra}
}}

resource "mesh_lf_tag" "t" {{
  key    = "{key}"
  values = ["dynamic"]
}}
"#
    )
}

/// A workspace without the test's static credentials, logging at TRACE.
fn without_static_credentials(tf: &'static Terraform, hcl: &str) -> Workspace {
    let mut ws = Workspace::new(tf, Emulator::shared(), hcl);
    ws.unset_env("AWS_ACCESS_KEY_ID")
        .unset_env("AWS_SECRET_ACCESS_KEY")
        .set_env("TF_LOG", "TRACE");
    ws
}

fn assert_no_token(out: &TfOutput, token: &str) {
    out.assert_no_secret(token, "the web identity token");
}

/// Applies, checks the tag is in `account` and not in the default one, plans empty, destroys;
/// the token never shows in any TRACE log.
async fn apply_in_account(
    ws: &Workspace,
    account: &str,
    key: &str,
    token: &str,
    exchange_logged: bool,
) {
    let emulator = Emulator::shared();
    let apply = ws.apply();
    assert_no_token(&apply, token);
    // The TRACE log holds the provider's lines, and the exchange when the provider made it (the
    // standard chain makes its own, unlogged): the check above looked at the right log.
    let logged = |needle: &str| apply.stderr.lines().any(|l| l.contains(needle));
    assert!(
        logged("provider.terraform-provider-mesh") && logged("CreateLFTag"),
        "no provider TRACE lines in the log of `{}`",
        apply.command
    );
    assert_eq!(
        logged("AssumeRoleWithWebIdentity"),
        exchange_logged,
        "the token exchange's TRACE line in the log of `{}`",
        apply.command
    );
    let state = ws
        .state_resource("mesh_lf_tag.t")
        .unwrap_or_else(|| panic!("no tag in state:\n{apply}"));
    assert_eq!(state["catalog_id"], account, "{state:#}");
    let lf = aws_sdk_lakeformation::Client::new(&emulator.account_sdk_config(account).await);
    let tag = lf
        .get_lf_tag()
        .tag_key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetLFTag in {account}: {e:?}"));
    assert_eq!(tag.tag_values(), ["dynamic"]);
    assert_eq!(
        emulator.lf_tag_values(key).await,
        None,
        "the tag was created in the default account {ACCOUNT_ID}"
    );
    let plan = ws.tf(&["plan", "-input=false", "-detailed-exitcode"]);
    assert_no_token(&plan, token);
    assert_eq!(plan.code, 0, "expected an empty plan:\n{plan}");
    let destroy = ws.destroy();
    assert_no_token(&destroy, token);
}

async fn web_identity_block_with_an_inline_token(tf: &'static Terraform) {
    let account = random_account();
    let key = unique_name("wif_inline");
    let token = random_token(48);
    let ws = without_static_credentials(
        tf,
        &hcl(
            &format!(
                "  assume_role_with_web_identity {{\n    role_arn           = \"arn:aws:iam::{account}:role/{ROLE}\"\n    session_name       = \"tfc-run\"\n    web_identity_token = \"{token}\"\n  }}"
            ),
            &key,
        ),
    );
    apply_in_account(&ws, &account, &key, &token, true).await;
}

async fn web_identity_block_with_a_token_file(tf: &'static Terraform) {
    let account = random_account();
    let key = unique_name("wif_file");
    let token = random_token(48);
    let ws = without_static_credentials(tf, "");
    let token_file = ws.root().join("token.jwt");
    std::fs::write(&token_file, format!("{token}\n")).expect("write the token file");
    ws.write_main(&hcl(
        &format!(
            "  assume_role_with_web_identity {{\n    role_arn                = \"arn:aws:iam::{account}:role/{ROLE}\"\n    web_identity_token_file = \"{}\"\n  }}",
            token_file.display()
        ),
        &key,
    ));
    apply_in_account(&ws, &account, &key, &token, true).await;
}

async fn web_identity_from_the_environment_through_the_standard_chain(tf: &'static Terraform) {
    let account = random_account();
    let key = unique_name("wif_env");
    let token = random_token(48);
    let mut ws = without_static_credentials(tf, &hcl("", &key));
    let token_file = ws.root().join("tfc-token.jwt");
    std::fs::write(&token_file, &token).expect("write the token file");
    let endpoint = Emulator::shared().endpoint().to_string();
    ws.set_env(
        "AWS_ROLE_ARN",
        &format!("arn:aws:iam::{account}:role/{ROLE}"),
    )
    .set_env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file.to_string_lossy())
    // The chain's own STS call follows the SDKs' standard endpoint variable.
    .set_env("AWS_ENDPOINT_URL_STS", &endpoint);
    apply_in_account(&ws, &account, &key, &token, false).await;
}

fn web_identity_block_is_validated(tf: &'static Terraform) {
    let validate = |block: &str| {
        let ws = Workspace::new(tf, Emulator::shared(), &hcl(block, "k"));
        let out = ws.validate();
        assert!(!out.success(), "validate passed:\n{out}");
        out
    };
    let out = validate(
        "  assume_role_with_web_identity {\n    role_arn           = \"arn:aws:iam::123456789012:user/not-a-role\"\n    session_name       = \"has spaces\"\n    web_identity_token = \"inline-token\"\n  }",
    );
    let text = out.combined();
    for expected in ["Invalid role ARN", "Invalid session name"] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let out = validate(
        "  assume_role_with_web_identity {\n    role_arn                = \"arn:aws:iam::123456789012:role/Run\"\n    web_identity_token      = \"inline-token\"\n    web_identity_token_file = \"/run/token\"\n  }",
    );
    let text = out.combined();
    assert!(
        text.contains("Conflicting web identity token")
            && text.contains("web_identity_token_file = \"/run/token\""),
        "the conflict is not reported at the attribute:\n{out}"
    );
}
