//! The data sources: one file each. Like resources, a data source sees typed models and the AWS
//! layer, never gRPC or msgpack; where a resource already reads the same object, the data source
//! reuses that resource's `find` and `flatten` rather than reading it a second way.

pub mod domain;
