//! Generated gRPC bindings for `terraform-provider-mesh`.
//!
//! - [`tfplugin6`]: the Terraform plugin protocol 6.10 `Provider` service and its messages.
//! - [`plugin`]: hashicorp/go-plugin's `GRPCController`, `GRPCStdio` and `GRPCBroker` services, which
//!   every go-plugin server registers beside the plugin itself.
//!
//! The code is generated at build time from `proto/*.proto` (see `build.rs`); services have server and
//! client halves, and every server method has a default body that answers `UNIMPLEMENTED`.

/// Terraform plugin protocol 6 (`package tfplugin6`).
#[allow(missing_docs, clippy::all, clippy::pedantic, rustdoc::all)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin's own services (`package plugin`).
#[allow(missing_docs, clippy::all, clippy::pedantic, rustdoc::all)]
pub mod plugin {
    tonic::include_proto!("plugin");
}
