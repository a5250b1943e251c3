//! `mesh-modules`: the platform team's module generator.
//!
//! A blueprint (`mesh.yaml`) states the mesh's policy once; [`generate`] turns it into the four
//! shared modules (governance, domain, data-product, consumer-access), [`release`] decides the
//! semver bump of each module against its last published version from the module interfaces
//! ([`interface`]), and [`publish`] uploads immutable versions to S3 or a directory ([`store`]).
#![deny(missing_docs)]

pub mod blueprint;
pub mod generate;
pub mod interface;
pub mod publish;
pub mod release;
pub mod store;
