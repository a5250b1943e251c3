//! Every schema the provider serves passes Terraform core's schema rules (and the framework's
//! own), so that every supported Terraform loads the provider, and every resource's model has
//! exactly the schema's attributes and blocks. Terraform 1.0 checked none of
//! them; later versions refuse the whole provider over one broken block.

use mesh_provider::framework::schema_rules::{self, SchemaKind};
use mesh_provider::framework::server::Provider;
use mesh_provider::framework::value::Type;
use mesh_provider::framework::{Block, Schema};
use mesh_provider::provider::{data_sources, resources, MeshProvider};

/// Attribute types whose JSON does not round-trip (Terraform 1.0 panics on a malformed type).
fn type_problems(owner: &str, block: &Block, problems: &mut Vec<String>) {
    for a in &block.attributes {
        match Type::from_json(&a.ty.to_json()) {
            Ok(t) if t == a.ty => {}
            other => problems.push(format!(
                "{owner}.{}: type JSON does not round-trip: {other:?}",
                a.name
            )),
        }
    }
    for b in &block.blocks {
        type_problems(&format!("{owner}.{}", b.type_name), &b.block, problems);
    }
}

fn check(owner: &str, kind: SchemaKind, schema: &Schema, problems: &mut Vec<String>) {
    for violation in schema_rules::check(kind, schema) {
        problems.push(format!("{owner}: {violation}"));
    }
    type_problems(owner, &schema.block, problems);
}

#[test]
fn every_schema_passes_terraforms_rules() {
    let mut problems = Vec::new();
    check(
        "provider",
        SchemaKind::Provider,
        &MeshProvider.schema(),
        &mut problems,
    );
    let all = resources();
    assert!(!all.is_empty(), "the provider serves no resources");
    for r in all {
        assert!(
            r.type_name().starts_with("mesh_"),
            "{} lacks the mesh_ prefix",
            r.type_name()
        );
        check(
            r.type_name(),
            SchemaKind::Resource,
            r.schema(),
            &mut problems,
        );
        for problem in r.model_problems() {
            problems.push(format!("{}: {problem}", r.type_name()));
        }
    }
    let sources = data_sources();
    assert!(!sources.is_empty(), "the provider serves no data sources");
    for d in sources {
        assert!(d.type_name().starts_with("mesh_"), "{}", d.type_name());
        check(
            d.type_name(),
            SchemaKind::DataSource,
            d.schema(),
            &mut problems,
        );
        for problem in d.model_problems() {
            problems.push(format!("data {}: {problem}", d.type_name()));
        }
    }
    assert!(
        problems.is_empty(),
        "schema problems:\n{}",
        problems.join("\n")
    );
}
