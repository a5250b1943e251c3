//! The `terraform-provider-mesh` binary. Terraform starts it as a go-plugin; run by hand it
//! explains that and exits 1. `--debug` serves for a debugger and prints TF_REATTACH_PROVIDERS.

use mesh_provider::provider::MeshProvider;
use mesh_provider::transport::{self, tfplugin6::ProviderService};
use std::process::ExitCode;

fn main() -> ExitCode {
    transport::run(ProviderService::new(MeshProvider), std::env::args().skip(1))
}
