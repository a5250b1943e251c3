//! Semver releases of modules (owned by the release work; placeholder signatures).

/// Arguments of `mesh-modules release`.
#[derive(clap::Args, Debug)]
pub struct ReleaseArgs {}

/// Runs `release`.
pub fn run(_args: &ReleaseArgs) -> Result<(), String> {
    Err("not implemented yet".into())
}
