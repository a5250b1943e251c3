//! A data product's contract as pure logic: column types and names, DQDL quality rules, the
//! schema registry definition and its compatibility check, the ODCS contract document and the
//! storage descriptor per format.
//!
//! Nothing here knows Terraform values, gRPC or the AWS SDK: `mesh_data_product` turns its
//! model into these types, and the functions answer at plan time what AWS would otherwise only
//! answer at apply time (or never: Glue accepts a table whose types Athena cannot read).
//!
//! - [`glue_type`]: parse and print Glue/Hive column types.
//! - [`columns`]: the column model and naming rules.
//! - [`dqdl`]: check DQDL rules one by one; build the ruleset.
//! - [`schema`]: AVRO/JSON registry definitions, reading them back, compatibility rules.
//! - [`document`]: the Open Data Contract Standard v3 document and its hash.
//! - [`format`](mod@format): Hive input/output formats and SerDes per storage format.

pub mod columns;
pub mod document;
pub mod dqdl;
pub mod format;
pub mod glue_type;
pub mod schema;
