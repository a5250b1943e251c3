//! The `mesh-modules` command line: `generate`, `check`, `release` and `publish`.
//!
//! Each subcommand's arguments and behaviour live in the library module of the same name; this
//! file only dispatches and turns an error into a message and exit status 1.

use clap::{Parser, Subcommand};
use mesh_modules::{generate, publish, release};

/// Turns a data mesh blueprint into the shared Terraform modules domains consume, and releases
/// and publishes versions of them.
#[derive(Parser)]
#[command(name = "mesh-modules", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the four modules (governance, domain, data-product, consumer-access) from a blueprint.
    Generate(generate::GenerateArgs),
    /// Fail when the modules folder differs from what the blueprint generates.
    Check(generate::CheckArgs),
    /// Decide each module's next version against its last published one and write CHANGELOG entries.
    Release(release::ReleaseArgs),
    /// Upload each module's current version as `<module>/<version>.zip` plus an index.
    Publish(publish::PublishArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => generate::run_generate(&args),
        Command::Check(args) => generate::run_check(&args),
        Command::Release(args) => release::run(&args),
        Command::Publish(args) => publish::run(&args),
    };
    if let Err(message) = result {
        eprintln!("mesh-modules: {message}");
        std::process::exit(1);
    }
}
