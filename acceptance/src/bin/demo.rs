//! `make demo`: the quickstart example applied against a local emulator.
//!
//! Starts moto, copies `examples/quickstart/` to a temp dir, runs
//! `terraform apply -auto-approve -var endpoint=...` with the freshly built provider
//! (dev_overrides), prints `terraform output`, and stops the emulator.
//!
//! It runs the newest Terraform on the machine (as users do), else the oldest supported.
//! No `terraform init`: with dev_overrides it is unnecessary, and Terraform 1.0.3 would still
//! query the public registry for the overridden provider. Modules, if the example ever uses
//! any, are fetched with `terraform get`.

use std::path::Path;
use std::process::ExitCode;

use mesh_acceptance::{repo_root, Emulator, Terraform, Workspace};

fn main() -> ExitCode {
    let emulator = match Emulator::start() {
        Ok(emulator) => emulator,
        Err(message) => {
            eprintln!("demo: {message}");
            return ExitCode::FAILURE;
        }
    };
    println!("AWS emulator (moto) listening on {}", emulator.endpoint());

    // The Terraform users run today; the oldest supported one when none is installed.
    let tf = Terraform::find_newest().unwrap_or_else(|missing| {
        println!("{missing}\nthe demo runs on the oldest supported Terraform instead");
        Terraform::oldest()
    });
    println!("running {tf}");
    let example = repo_root().join("examples").join("quickstart");
    let ws = Workspace::from_dir(tf, &emulator, &example);
    println!("quickstart copied to {}", ws.dir().display());

    let endpoint = format!("-var=endpoint={}", emulator.endpoint());
    let mut steps = vec![vec!["apply", "-auto-approve", "-input=false", &endpoint]];
    if uses_modules(ws.dir()) {
        steps.insert(0, vec!["get"]);
    }
    for args in steps {
        println!("\n$ terraform {}", args.join(" "));
        let out = ws.tf(&args);
        print!("{}", out.stdout);
        if !out.success() {
            eprintln!("{}", out.stderr);
            eprintln!("demo: `terraform {}` failed (exit {})", args[0], out.code);
            return ExitCode::FAILURE;
        }
    }

    println!("\n$ terraform output");
    let out = ws.tf(&["output"]);
    print!("{}", out.stdout);
    eprint!("{}", out.stderr);

    emulator.stop();
    println!("\nemulator stopped");
    if out.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// True when a `.tf` file in `dir` declares a module.
fn uses_modules(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path = entry.path();
        path.extension().is_some_and(|e| e == "tf")
            && std::fs::read_to_string(&path).is_ok_and(|text| text.contains("module \""))
    })
}
