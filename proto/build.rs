//! Generates the tfplugin6 and go-plugin bindings.
//!
//! protox parses the .proto files in pure Rust (no system `protoc`, so the build needs nothing but
//! cargo); it bundles google/protobuf/*.proto, which resolves `google.protobuf.Empty`/`Timestamp`.

use std::error::Error;

const PROTOS: &[&str] = &[
    "proto/tfplugin6.proto",
    "proto/grpc_controller.proto",
    "proto/grpc_stdio.proto",
    "proto/grpc_broker.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    println!("cargo:rerun-if-changed=build.rs");

    let fds = protox::compile(PROTOS, ["proto"])?;
    tonic_prost_build::configure()
        .build_server(true)
        // Clients are used by the transport and acceptance tests.
        .build_client(true)
        // Every RPC gets a default body answering UNIMPLEMENTED, as Go servers do through their
        // `Unimplemented*Server` embeds; Terraform relies on that status for RPCs we do not serve.
        .generate_default_stubs(true)
        .compile_fds(fds)?;
    Ok(())
}
