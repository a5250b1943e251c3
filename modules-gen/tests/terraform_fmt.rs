//! The generated modules are exactly as `terraform fmt` writes them, checked with the real
//! Terraform 1.0.3 that `make tools` installs and with the newest Terraform on the machine.
//! Without them the tests fail with a hint: they never pass by skipping.

use std::path::{Path, PathBuf};
use std::process::Command;

use mesh_acceptance::Terraform;
use mesh_modules::blueprint::Blueprint;
use mesh_modules::generate;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate is in the workspace")
        .to_path_buf()
}

fn render_into(blueprint_text: &str, out: &Path) {
    let blueprint = Blueprint::parse(blueprint_text, "mesh.yaml").unwrap_or_else(|e| panic!("{e}"));
    let files = generate::render(&blueprint).unwrap();
    generate::write(&files, out).unwrap();
}

/// `terraform fmt -check` of every supported Terraform (1.0.3 and the newest) passes on `dir`.
fn assert_fmt_clean(dir: &Path) {
    for tf in Terraform::both() {
        let output = Command::new(tf.path())
            .args(["fmt", "-check", "-recursive", "-diff", "-no-color"])
            .arg(dir)
            .env_remove("TF_CLI_CONFIG_FILE")
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .expect("run terraform fmt");
        assert!(
            output.status.success(),
            "{tf}: terraform fmt would change the generated files:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn example_blueprint_modules_are_fmt_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo_root().join("examples/blueprint/mesh.yaml")).unwrap();
    render_into(&text, tmp.path());
    assert_fmt_clean(tmp.path());
}

/// Strings that need escaping, keys that need quoting, a regex with backslashes, no region tag,
/// a single domain: still valid, fmt-clean HCL.
#[test]
fn awkward_blueprint_modules_are_fmt_clean() {
    let text = r#"mesh: awkward-mesh
provider_version: ">= 0.1.0, < 2.0.0"
governance:
  account_id: "000000000001"
ontology:
  tags:
    domain: [sales_eu]
    confidentiality: [open, "need to know", secret]
    "cost center": ["a/b", "c=d", "e+f@g", "100%"]
  required: [confidentiality, "cost center"]
  sensitivity_tag: confidentiality
regions:
  allowed: [eu-central-1]
products:
  name_pattern: '^[a-z]\w{2,30}$'
contract:
  min_compatibility: FORWARD
  storage_format: orc
  data_format: JSON
sla:
  max_freshness_minutes: 30
domains:
  - name: sales_eu
    account_id: "012345678901"
    owner:
      team: 'Data "Core" ${team} %{ if x } \ back'
      email: data+core@example.com
"#;
    let tmp = tempfile::tempdir().unwrap();
    render_into(text, tmp.path());
    assert_fmt_clean(tmp.path());
    let domain = std::fs::read_to_string(tmp.path().join("domain/main.tf")).unwrap();
    assert!(
        domain.contains(r#"owner_team  = "Data \"Core\" $${team} %%{ if x } \\ back""#),
        "{domain}"
    );
    let variables = std::fs::read_to_string(tmp.path().join("data-product/variables.tf")).unwrap();
    assert!(
        variables.contains(r#"can(regex("^[a-z]\\w{2,30}$", var.name))"#),
        "{variables}"
    );
}
