//! Publishing module versions (owned by the release work; placeholder signatures).

/// Arguments of `mesh-modules publish`.
#[derive(clap::Args, Debug)]
pub struct PublishArgs {}

/// Runs `publish`.
pub fn run(_args: &PublishArgs) -> Result<(), String> {
    Err("not implemented yet".into())
}
