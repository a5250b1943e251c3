//! The Terraform CLIs the suite runs on: the oldest supported (1.0.3, from PyPI into `.tools`)
//! and the newest on the machine (`MESH_TERRAFORM_NEWEST`, else the `terraform` on `PATH`).
//!
//! Every end-to-end test runs once on each, through [`terraform_tests!`](crate::terraform_tests):
//! Terraform 1.0 checks far less than current versions (it accepted schemas every later version
//! refuses), and users and Terraform Cloud run current versions. A missing or too old newest
//! binary fails the test with a message saying how to provide one; the suite never passes on
//! one version alone.

use crate::{run_with_timeout, tools_dir, TOOLS_HINT};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// A Terraform version, `major.minor.patch` (pre-release suffixes are ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// Patch.
    pub patch: u32,
}

impl Version {
    /// `major.minor.patch`.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// Parses `1.11.4`, `v1.11.4` or `1.12.0-beta1`.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim().trim_start_matches('v');
        let core = text.split(['-', '+']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
        let version = Version::new(parts.next()??, parts.next()??, parts.next()??);
        parts.next().is_none().then_some(version)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The oldest Terraform the provider supports, installed by `make tools`.
pub const OLDEST: Version = Version::new(1, 0, 3);

/// The newest Terraform must be at least this: the tests of `import` blocks,
/// `-generate-config-out` (1.5) and `removed` blocks (1.7) need it.
pub const NEWEST_AT_LEAST: Version = Version::new(1, 7, 0);

/// Environment variable naming the newest Terraform binary (instead of `terraform` on `PATH`).
pub const NEWEST_ENV: &str = "MESH_TERRAFORM_NEWEST";

/// One Terraform CLI binary and its version.
#[derive(Debug)]
pub struct Terraform {
    path: PathBuf,
    version: Version,
}

static OLDEST_TF: OnceLock<Result<Terraform, String>> = OnceLock::new();
static NEWEST_TF: OnceLock<Result<Terraform, String>> = OnceLock::new();

impl Terraform {
    /// Terraform 1.0.3 from `.tools` (never the machine's own). Panics with a hint when missing.
    pub fn oldest() -> &'static Terraform {
        let found = OLDEST_TF.get_or_init(|| {
            let path = tools_dir().join("bin").join("terraform");
            if !path.is_file() {
                return Err(format!(
                    "Terraform {OLDEST} not found at {}: {TOOLS_HINT}",
                    path.display()
                ));
            }
            let tf = Terraform::probe(&path)?;
            if tf.version != OLDEST {
                return Err(format!(
                    "{} is Terraform {}, not {OLDEST}: run `make clean-tools tools`",
                    path.display(),
                    tf.version
                ));
            }
            Ok(tf)
        });
        found.as_ref().unwrap_or_else(|message| panic!("{message}"))
    }

    /// The newest Terraform on this machine: `$MESH_TERRAFORM_NEWEST`, else `terraform` on
    /// `PATH`; at least [`NEWEST_AT_LEAST`]. Panics saying how to provide one when missing.
    pub fn newest() -> &'static Terraform {
        Terraform::find_newest().unwrap_or_else(|message| panic!("{message}"))
    }

    /// Like [`Terraform::newest`], but says what is missing instead of panicking.
    pub fn find_newest() -> Result<&'static Terraform, &'static str> {
        let found = NEWEST_TF.get_or_init(|| {
            let how = format!(
                "every acceptance test also runs on a current Terraform (>= {NEWEST_AT_LEAST}): \
                 put one on PATH as `terraform` (this machine kind ships 1.11.4 at \
                 /usr/local/bin/terraform) or set {NEWEST_ENV}=/path/to/terraform"
            );
            let path = match std::env::var_os(NEWEST_ENV).filter(|v| !v.is_empty()) {
                Some(path) => PathBuf::from(path),
                None => find_on_path("terraform")
                    .ok_or_else(|| format!("no `terraform` on PATH: {how}"))?,
            };
            if !path.is_file() {
                return Err(format!("{} does not exist: {how}", path.display()));
            }
            let tf = Terraform::probe(&path)?;
            if tf.version < NEWEST_AT_LEAST {
                return Err(format!(
                    "{} is Terraform {}, too old: {how}",
                    path.display(),
                    tf.version
                ));
            }
            Ok(tf)
        });
        found.as_ref().map_err(String::as_str)
    }

    /// Both, oldest first.
    pub fn both() -> [&'static Terraform; 2] {
        [Terraform::oldest(), Terraform::newest()]
    }

    /// Runs `terraform version -json` (1.0 has it) and reads the version.
    fn probe(path: &Path) -> Result<Terraform, String> {
        let out = run_with_timeout(
            Command::new(path)
                .arg("version")
                .arg("-json")
                .env("CHECKPOINT_DISABLE", "1"),
            Duration::from_secs(60),
        );
        if !out.success() {
            return Err(format!("cannot run {}:\n{out}", path.display()));
        }
        let version = serde_json::from_str::<serde_json::Value>(&out.stdout)
            .ok()
            .and_then(|v| v["terraform_version"].as_str().and_then(Version::parse))
            .ok_or_else(|| format!("cannot read the version of {}:\n{out}", path.display()))?;
        Ok(Terraform {
            path: path.to_path_buf(),
            version,
        })
    }

    /// The binary.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// True from version `major.minor` on.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        self.version >= Version::new(major, minor, 0)
    }

    /// Says on stderr which Terraform the test runs on (shown with a failing test's output), and
    /// returns `self`.
    pub fn announce(&'static self) -> &'static Terraform {
        eprintln!("[harness] this test runs on {self}");
        self
    }
}

impl fmt::Display for Terraform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Terraform {} ({})", self.version, self.path.display())
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Registers end-to-end tests to run once per supported Terraform: for each test function
/// `name(tf: &'static Terraform)`, a module `name` with tests `terraform_1_0_3` and
/// `terraform_newest`, so every test's name says which Terraform ran it. Functions are `async`
/// (run on a tokio runtime) unless marked `sync`. A test marked `newest` runs only on the newest
/// Terraform: for language features 1.0 lacks (`moved`, `import` and `removed` blocks,
/// `-generate-config-out`), never to skip a test that could run on both.
///
/// ```ignore
/// terraform_tests!(lf_tag_create, sync lf_tag_validate_bad_value);
///
/// async fn lf_tag_create(tf: &'static Terraform) {
///     let ws = Workspace::new(tf, Emulator::shared(), &config);
///     ws.apply();
/// }
/// ```
#[macro_export]
macro_rules! terraform_tests {
    () => {};
    (newest $name:ident $(, $($rest:tt)*)?) => {
        mod $name {
            #[tokio::test]
            async fn terraform_newest() {
                super::$name($crate::Terraform::newest().announce()).await
            }
        }
        $($crate::terraform_tests!($($rest)*);)?
    };
    (sync $name:ident $(, $($rest:tt)*)?) => {
        mod $name {
            #[test]
            fn terraform_1_0_3() {
                super::$name($crate::Terraform::oldest().announce())
            }

            #[test]
            fn terraform_newest() {
                super::$name($crate::Terraform::newest().announce())
            }
        }
        $($crate::terraform_tests!($($rest)*);)?
    };
    ($name:ident $(, $($rest:tt)*)?) => {
        mod $name {
            #[tokio::test]
            async fn terraform_1_0_3() {
                super::$name($crate::Terraform::oldest().announce()).await
            }

            #[tokio::test]
            async fn terraform_newest() {
                super::$name($crate::Terraform::newest().announce()).await
            }
        }
        $($crate::terraform_tests!($($rest)*);)?
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        assert_eq!(Version::parse("1.0.3"), Some(OLDEST));
        assert_eq!(Version::parse("v1.11.4"), Some(Version::new(1, 11, 4)));
        assert_eq!(Version::parse("1.12.0-beta1"), Some(Version::new(1, 12, 0)));
        assert_eq!(Version::parse("1.11"), None);
        assert_eq!(Version::parse("1.11.4.1"), None);
        assert!(Version::new(1, 11, 4) > Version::new(1, 7, 0));
        assert!(Version::new(1, 10, 0) > Version::new(1, 9, 9));
        assert_eq!(Version::new(1, 11, 4).to_string(), "1.11.4");
    }
}
