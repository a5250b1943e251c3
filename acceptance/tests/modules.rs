//! The generated modules (modules/, from examples/blueprint/mesh.yaml) with the real Terraform
//! CLI and the built provider: formatted, valid, and enforcing the blueprint's policy at plan.
//! Publishing them and consuming them by `s3::` source is in full_mesh.rs
//! (`full_mesh_from_published_modules`).

use mesh_acceptance::{repo_root, Emulator, Workspace};
use std::process::Command;

use mesh_acceptance::{terraform_tests, Terraform};

terraform_tests!(
    sync generated_modules_are_formatted,
    sync every_module_and_its_example_validates,
    sync a_product_against_the_policy_fails_plan_with_the_rule,
);

const MODULES: [&str; 4] = ["governance", "domain", "data-product", "consumer-access"];

/// Whitespace collapsed: Terraform wraps long diagnostics.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn generated_modules_are_formatted(tf: &'static Terraform) {
    let out = Command::new(tf.path())
        .args(["fmt", "-check", "-recursive", "-diff", "-no-color"])
        .current_dir(repo_root().join("modules"))
        .output()
        .expect("run terraform fmt");
    assert!(
        out.status.success(),
        "terraform fmt -check found unformatted files:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn every_module_and_its_example_validates(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let ws = Workspace::from_dir(tf, emulator, &repo_root().join("modules"));
    for module in MODULES {
        for dir in [module.to_string(), format!("{module}/examples/basic")] {
            assert!(
                ws.dir().join(&dir).join("main.tf").is_file(),
                "{dir}/main.tf"
            );
            ws.tf_ok(&[&format!("-chdir={dir}"), "get"]);
            let out = ws.tf(&[&format!("-chdir={dir}"), "validate", "-no-color"]);
            assert!(
                out.success() && out.combined().contains("The configuration is valid"),
                "{dir} does not validate:\n{}",
                out.combined()
            );
        }
    }
}

/// A data product through the data-product module, with one input overridden.
fn product_config(overrides: &str) -> String {
    let module = repo_root().join("modules").join("data-product");
    format!(
        r#"terraform {{
  required_providers {{
    mesh = {{
      source = "meshcraft/mesh"
    }}
  }}
}}

provider "mesh" {{
  region   = "us-east-1"
  endpoint = "{{{{endpoint}}}}"
}}

module "product" {{
  source = "{}"

  domain            = "commerce"
  region            = "us-east-1"
  freshness_minutes = 60
  columns           = [{{ name = "order_id", type = "string" }}]
{overrides}
}}
"#,
        module.display()
    )
}

fn a_product_against_the_policy_fails_plan_with_the_rule(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let cases = [
        (
            "  name    = \"orders\"\n  lf_tags = { sensitivity = \"secret\" }",
            "The sensitivity (lf_tags.sensitivity) must be one of the mesh's levels: public, internal, confidential.",
        ),
        (
            "  name    = \"Orders-2024\"\n  lf_tags = { sensitivity = \"internal\" }",
            "The product name must match the mesh's naming rule ^[a-z][a-z0-9_]{2,62}$.",
        ),
        (
            "  name          = \"orders\"\n  lf_tags       = { sensitivity = \"internal\" }\n  compatibility = \"NONE\"",
            "The compatibility must be at least as strong as the mesh's floor BACKWARD: one of DISABLED, BACKWARD, BACKWARD_ALL, FULL, FULL_ALL.",
        ),
        (
            "  name    = \"orders\"\n  lf_tags = {}",
            "Every data product must carry the LF-tags sensitivity: set them in lf_tags.",
        ),
    ];
    let other_inputs = [
        (
            "domain            = \"commerce\"",
            "domain            = \"marketing\"",
            "The domain must be one of the mesh's domains: commerce, finance.",
        ),
        (
            "region            = \"us-east-1\"",
            "region            = \"ap-south-1\"",
            "The region must be one of the mesh's allowed regions: us-east-1, eu-west-1.",
        ),
        (
            "freshness_minutes = 60",
            "freshness_minutes = 2000",
            "The freshness SLA (freshness_minutes) must be a whole number of minutes from 1 to 1440, the mesh's bound.",
        ),
    ];
    let within = "  name    = \"orders\"\n  lf_tags = { sensitivity = \"internal\" }";
    let cases = cases
        .iter()
        .map(|(overrides, message)| (product_config(overrides), *message))
        .chain(other_inputs.iter().map(|(from, to, message)| {
            let config = product_config(within);
            assert!(config.contains(from), "{from:?} not in the base config");
            (config.replace(from, to), *message)
        }))
        .collect::<Vec<_>>();
    for (config, message) in cases {
        let ws = Workspace::new(tf, emulator, &config);
        ws.tf_ok(&["get"]);
        let out = ws.tf(&["plan", "-input=false"]).assert_failure();
        let text = flat(&out.combined());
        assert!(
            text.contains("Invalid value for variable") && text.contains(message),
            "plan of\n{config}\nmust fail with {message:?}, got:\n{}",
            out.combined()
        );
    }

    // The same product within the policy plans.
    let ws = Workspace::new(
        tf,
        emulator,
        &product_config("  name    = \"orders\"\n  lf_tags = { sensitivity = \"internal\" }"),
    );
    ws.tf_ok(&["get"]);
    ws.tf_ok(&["plan", "-input=false"]);
}
