//! Module generation from a blueprint (owned by the generator work; placeholder signatures).

use std::path::PathBuf;

/// Arguments of `mesh-modules generate`.
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// The blueprint file.
    #[arg(long, default_value = "mesh.yaml")]
    pub blueprint: PathBuf,
    /// The folder the modules are written into.
    #[arg(long, default_value = "modules")]
    pub out: PathBuf,
}

/// Arguments of `mesh-modules check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The blueprint file.
    #[arg(long, default_value = "mesh.yaml")]
    pub blueprint: PathBuf,
    /// The folder holding the committed modules.
    #[arg(long, default_value = "modules")]
    pub out: PathBuf,
}

/// Runs `generate`.
pub fn run_generate(_args: &GenerateArgs) -> Result<(), String> {
    Err("not implemented yet".into())
}

/// Runs `check`.
pub fn run_check(_args: &CheckArgs) -> Result<(), String> {
    Err("not implemented yet".into())
}
