//! The provider framework: values, schemas, diagnostics, plan helpers, and the traits resources
//! implement. Knows neither gRPC nor AWS.

pub mod data_source;
pub mod diag;
pub mod docs;
pub mod path;
pub mod plan;
pub mod resource;
pub mod schema;
pub mod schema_rules;
pub mod server;
pub mod value;

pub use data_source::{DataSource, RegisteredData};
pub use diag::{Diagnostic, Diagnostics};
pub use path::AttributePath;
pub use resource::{
    invalid_import_id, Failure, PlanRequest, Private, PrivateState, Registered, Resource,
};
pub use schema::{Attribute, Block, NestedBlock, Nesting, Schema, Validator};
pub use value::{Type, Value};
