//! Shared helpers of the `release` and `publish` CLI tests: an isolated working directory, the
//! built `mesh-modules` binary, and module folders written from inline text.

#![allow(dead_code)] // Each test file uses a different part.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

pub const MAIN_V1: &str = r#"resource "terraform_data" "product" {
  input = { name = var.name, tags = var.tags }
}
"#;

pub const OUTPUTS_V1: &str = r#"output "name" {
  description = "The product name."
  value       = terraform_data.product.output.name
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
