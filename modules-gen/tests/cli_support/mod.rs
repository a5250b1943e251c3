//! Shared helpers of the `release` and `publish` CLI tests: an isolated working directory, the
//! built `mesh-modules` binary, and module folders written from inline text.

#![allow(dead_code)] // Each test file uses a different part.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The tools folder `make tools` fills: $MESH_TOOLS_DIR, else `.tools` at the workspace root.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("MESH_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools"))
}

/// A tool from the tools folder; panics (the test fails, never skips) when it is missing.
pub fn tool(name: &str) -> PathBuf {
    let path = tools_dir().join("bin").join(name);
    assert!(
        path.exists(),
        "{name} not found at {}: run `make tools` (or set MESH_TOOLS_DIR)",
        path.display()
    );
    path
}

/// Runs `init` and `apply` on a root module calling `source` with `name`, once on each
/// supported Terraform (1.0.3 and the newest), each in a new folder under `dir`, and returns the
/// applied `name` output (the same from both). Panics with Terraform's output on failure.
pub fn terraform_consume(dir: &Path, source: &str, name: &str, env: &[(&str, &str)]) -> String {
    let mut outputs = Vec::new();
    for tf in mesh_acceptance::Terraform::both() {
        let dir = dir.join(format!("terraform-{}", tf.version()));
        outputs.push(consume_with(tf, &dir, source, name, env));
    }
    assert_eq!(
        outputs[0], outputs[1],
        "the two Terraform versions disagree"
    );
    outputs.remove(0)
}

fn consume_with(
    tf: &mesh_acceptance::Terraform,
    dir: &Path,
    source: &str,
    name: &str,
    env: &[(&str, &str)],
) -> String {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("main.tf"),
        format!(
            "module \"product\" {{\n  source = \"{source}\"\n  name   = \"{name}\"\n}}\n\n\
             output \"name\" {{\n  value = module.product.name\n}}\n"
        ),
    )
    .unwrap();
    let run = |args: &[&str]| -> String {
        let output = Command::new(tf.path())
            .args(args)
            .current_dir(dir)
            .env_remove("TF_CLI_CONFIG_FILE")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .envs(env.iter().copied())
            .output()
            .expect("run terraform");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.success(),
            "{tf}: terraform {args:?} failed for source {source}:\n{text}"
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    run(&["init", "-input=false", "-no-color"]);
    run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    run(&["output", "-raw", "name"])
}

/// The `  source: ...` line `publish` printed for `module`'s `version`.
pub fn printed_source(stdout: &str, module: &str, version: &str) -> String {
    let mut lines = stdout.lines();
    lines
        .find(|l| *l == format!("published {module} {version}"))
        .unwrap_or_else(|| panic!("{module} {version} not published:\n{stdout}"));
    lines
        .find_map(|l| l.strip_prefix("  source: "))
        .unwrap_or_else(|| panic!("no source printed:\n{stdout}"))
        .to_string()
}

/// An isolated working directory with a `modules/` folder, removed on drop.
pub struct Workspace {
    dir: tempfile::TempDir,
}

/// The result of one CLI run, with both streams as text.
pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with both streams unless the run succeeded.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert!(
            self.success,
            "mesh-modules failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Panics with both streams unless the run failed; returns stderr.
    #[track_caller]
    pub fn fails(self) -> String {
        assert!(
            !self.success,
            "mesh-modules succeeded unexpectedly\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self.stderr
    }
}

impl Workspace {
    pub fn new() -> Workspace {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::create_dir(dir.path().join("modules")).expect("modules folder");
        Workspace { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn module_dir(&self, name: &str) -> PathBuf {
        self.path().join("modules").join(name)
    }

    /// Writes (or overwrites) files of module `name`.
    pub fn write(&self, module: &str, files: &[(&str, &str)]) {
        for (name, text) in files {
            let path = self.module_dir(module).join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    pub fn read(&self, module: &str, name: &str) -> String {
        std::fs::read_to_string(self.module_dir(module).join(name)).unwrap()
    }

    /// A `mesh-modules` command run in the workspace, with no AWS settings leaking in from the
    /// environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mesh-modules"));
        command.args(args).current_dir(self.path());
        for var in [
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_S3",
            "AWS_PROFILE",
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
        ] {
            command.env_remove(var);
        }
        command.env("AWS_EC2_METADATA_DISABLED", "true");
        command
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run mesh-modules"))
    }
}

/// A data-product-like module: variables with a validation, and an output.
pub const VARIABLES_V1: &str = r#"variable "name" {
  type        = string
  description = "The product name."
  validation {
    condition     = can(regex("^[a-z_]+$", var.name))
    error_message = "Use snake_case."
  }
}

variable "tags" {
  type        = map(string)
  description = "Extra tags."
  default     = {}
}
"#;

// No providers and no resources, so Terraform 1.0.3 can init and apply it offline.
pub const MAIN_V1: &str = r#"locals {
  product = { name = var.name, tags = var.tags }
}
"#;

pub const OUTPUTS_V1: &str = r#"output "name" {
  description = "The product name."
  value       = local.product.name
}
"#;

/// Writes version 1 of module `name`.
pub fn write_v1(ws: &Workspace, name: &str) {
    ws.write(
        name,
        &[
            ("variables.tf", VARIABLES_V1),
            ("main.tf", MAIN_V1),
            ("outputs.tf", OUTPUTS_V1),
            ("README.md", "# Data product\n"),
            (
                "examples/basic/main.tf",
                "module \"product\" {\n  source = \"../..\"\n  name   = \"orders\"\n}\n",
            ),
        ],
    );
}
