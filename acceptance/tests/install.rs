//! Installation the way users get it: `terraform init` from a filesystem mirror, no overrides.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use mesh_acceptance::{provider_bin, provider_version, unique_name, Emulator, Workspace};

use mesh_acceptance::{terraform_tests, Terraform};

terraform_tests!(init_from_filesystem_mirror,);

/// The `version` recorded for `provider_address` in a `.terraform.lock.hcl`, if any.
fn locked_version(lock: &str, provider_address: &str) -> Option<String> {
    let header = format!("provider \"{provider_address}\" {{");
    let block = lock.split_once(&header)?.1.split_once('}')?.0;
    block.lines().find_map(|line| {
        let (name, value) = line.split_once('=')?;
        (name.trim() == "version").then(|| value.trim().trim_matches('"').to_string())
    })
}

async fn init_from_filesystem_mirror(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let version = provider_version();
    let key = unique_name("mirror");
    let hcl = format!(
        r#"terraform {{
  required_providers {{
    mesh = {{
      source  = "meshcraft/mesh"
      version = "{version}"
    }}
  }}
}}

provider "mesh" {{
  region   = "us-east-1"
  endpoint = "{{{{endpoint}}}}"
}}

resource "mesh_lf_tag" "t" {{
  key    = "{key}"
  values = ["m"]
}}
"#
    );
    let ws = Workspace::new(tf, emulator, &hcl);

    let mirror = ws.root().join("mirror");
    let platform_dir = mirror.join(format!(
        "registry.terraform.io/meshcraft/mesh/{version}/linux_amd64"
    ));
    fs::create_dir_all(&platform_dir).expect("create the mirror");
    let binary = platform_dir.join(format!("terraform-provider-mesh_v{version}"));
    fs::copy(provider_bin(), &binary).expect("copy the provider into the mirror");
    fs::set_permissions(&binary, fs::Permissions::from_mode(0o755)).expect("chmod the provider");
    ws.set_cli_config(&format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/meshcraft/*\"]\n  }}\n}}\n",
        mirror.display()
    ));

    let init = ws.init();
    assert!(
        !init.combined().contains("overrides"),
        "init must not rely on dev_overrides:\n{init}"
    );
    let lock_path = ws.dir().join(".terraform.lock.hcl");
    let lock = fs::read_to_string(&lock_path)
        .unwrap_or_else(|e| panic!("no lock file after init ({e}):\n{init}"));
    assert_eq!(
        locked_version(&lock, "registry.terraform.io/meshcraft/mesh").as_deref(),
        Some(version),
        "lock file:\n{lock}"
    );

    ws.apply();
    assert_eq!(
        emulator.lf_tag_values(&key).await,
        Some(vec!["m".to_string()])
    );
    ws.assert_plan_empty();
}
