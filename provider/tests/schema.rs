//! Every schema Terraform receives is well formed: Terraform 1.0 panics on a malformed attribute
//! type, and refuses impossible attribute flag combinations.

use mesh_provider::framework::server::Provider;
use mesh_provider::framework::value::Type;
use mesh_provider::framework::{Block, Schema};
use mesh_provider::provider::{resources, MeshProvider};

fn check_block(owner: &str, block: &Block, problems: &mut Vec<String>) {
    let mut names = std::collections::BTreeSet::new();
    for a in &block.attributes {
        let at = format!("{owner}.{}", a.name);
        if !names.insert(a.name.clone()) {
            problems.push(format!("{at}: duplicate name"));
        }
        let valid_name = a
            .name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
            && a.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_name {
            problems.push(format!("{at}: not a valid attribute name"));
        }
        match Type::from_json(&a.ty.to_json()) {
            Ok(t) if t == a.ty => {}
            other => problems.push(format!("{at}: type JSON does not round-trip: {other:?}")),
        }
        let flags = (a.required, a.optional, a.computed);
        if !matches!(
            flags,
            (true, false, false)
                | (false, true, false)
                | (false, true, true)
                | (false, false, true)
        ) {
            problems.push(format!(
                "{at}: invalid required/optional/computed combination {flags:?}"
            ));
        }
        if a.description.trim().is_empty() {
            problems.push(format!("{at}: no description"));
        }
        if a.default.is_some() && !(a.optional && a.computed) {
            problems.push(format!("{at}: a default needs optional + computed"));
        }
    }
    for b in &block.blocks {
        if !names.insert(b.type_name.clone()) {
            problems.push(format!("{owner}.{}: duplicate name", b.type_name));
        }
        if b.block.description.trim().is_empty() {
            problems.push(format!("{owner}.{}: no description", b.type_name));
        }
        check_block(&format!("{owner}.{}", b.type_name), &b.block, problems);
    }
}

fn check(owner: &str, schema: &Schema, problems: &mut Vec<String>) {
    if schema.block.description.trim().is_empty() {
        problems.push(format!("{owner}: no description"));
    }
    check_block(owner, &schema.block, problems);
}

#[test]
fn schemas_are_well_formed() {
    let mut problems = Vec::new();
    check("provider", &MeshProvider.schema(), &mut problems);
    for r in resources() {
        assert!(
            r.type_name().starts_with("mesh_"),
            "{} lacks the mesh_ prefix",
            r.type_name()
        );
        check(r.type_name(), r.schema(), &mut problems);
    }
    assert!(
        problems.is_empty(),
        "schema problems:\n{}",
        problems.join("\n")
    );
}
