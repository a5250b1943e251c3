//! `terraform-provider-mesh`: a Terraform provider (plugin protocol 6) for running a data mesh on AWS.
//!
//! Code map (see ARCHITECTURE.md):
//! - [`transport`]: the go-plugin handshake, AutoMTLS, and the gRPC services. Knows gRPC, not AWS.
//! - [`framework`]: cty values and codecs, schemas, diagnostics, plan helpers and the resource traits.
//!   Knows neither gRPC nor AWS.
//! - [`aws`]: AWS clients per configured provider, retries with backoff, error mapping, call logging.
//! - [`resources`]: one file per resource; sees typed models, never gRPC or msgpack.
//! - [`log`]: go-hclog JSON lines on stderr, which Terraform reads.
#![deny(missing_docs)]

pub mod aws;
pub mod contract;
pub mod data_sources;
pub mod framework;
pub mod json;
pub mod log;
pub mod provider;
pub mod resources;
pub mod rules;
pub mod transport;
