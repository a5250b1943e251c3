//! The rules a schema must satisfy before Terraform is told about it.
//!
//! Terraform core checks every provider schema when it loads one (since 1.1; 1.0 did not) and
//! refuses the whole provider when any rule is broken, so a broken schema means no user can run
//! the provider at all. The core rules below follow `InternalValidate` in hashicorp/terraform's
//! `internal/configs/configschema`; the framework rules are ours: they keep Terraform from
//! ignoring a value (meta-argument names), keep the registry docs complete (descriptions) and
//! keep plan helpers meaningful (defaults, use-state-for-unknown).
//!
//! [`Server`](super::server::Server) refuses to serve a schema with violations, and a unit test
//! walks every schema the provider has.

use super::schema::{Attribute, Block, Nesting, Schema};
use super::value::Type;
use std::collections::BTreeSet;
use std::fmt;

/// What the schema belongs to: decides which names are reserved by Terraform itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    /// The provider block (`alias` and `version` are Terraform's).
    Provider,
    /// A managed resource (`count`, `for_each`, `lifecycle`... are Terraform's).
    Resource,
    /// A data source.
    DataSource,
}

impl SchemaKind {
    /// Top-level names Terraform takes for its own meta-arguments in this kind of block.
    fn reserved(self) -> &'static [&'static str] {
        match self {
            SchemaKind::Provider => &["alias", "version"],
            SchemaKind::Resource => &[
                "count",
                "depends_on",
                "for_each",
                "lifecycle",
                "provider",
                "provisioner",
                "connection",
            ],
            SchemaKind::DataSource => &["count", "depends_on", "for_each", "lifecycle", "provider"],
        }
    }
}

/// One broken rule, at a dotted path inside the schema (e.g. `sla.freshness_minutes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where, from the top-level block: names joined by dots.
    pub path: String,
    /// What is wrong, in Terraform's words where Terraform has a rule for it.
    pub rule: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.rule)
    }
}

/// Every rule `schema` breaks, in schema order (empty when Terraform will accept it).
pub fn check(kind: SchemaKind, schema: &Schema) -> Vec<Violation> {
    let mut out = Vec::new();
    if schema.version < 0 {
        out.push(Violation {
            path: "(schema)".into(),
            rule: "the schema version must not be negative".into(),
        });
    }
    if schema.block.description.trim().is_empty() {
        out.push(Violation {
            path: "(schema)".into(),
            rule: "no description (it becomes the registry doc)".into(),
        });
    }
    for name in kind.reserved() {
        let taken = schema.block.get_attribute(name).is_some()
            || schema.block.blocks.iter().any(|b| b.type_name == *name);
        if taken {
            out.push(Violation {
                path: (*name).into(),
                rule: "the name is reserved for a Terraform meta-argument".into(),
            });
        }
    }
    check_block(&schema.block, "", &mut out);
    if kind == SchemaKind::DataSource {
        plan_behaviour(&schema.block, "", &mut out);
    }
    out
}

/// Data sources are read, never planned: defaults and plan modifiers in their schemas would
/// never run, so they are mistakes.
fn plan_behaviour(block: &Block, prefix: &str, out: &mut Vec<Violation>) {
    for a in &block.attributes {
        let mut push = |rule: &str| {
            out.push(Violation {
                path: format!("{prefix}{}", a.name),
                rule: rule.to_string(),
            })
        };
        if a.default.is_some() {
            push("a data source attribute has no default (data sources are not planned)");
        }
        if a.requires_replace || a.use_state_for_unknown {
            push("a data source attribute has no plan modifiers (data sources are not planned)");
        }
    }
    for b in &block.blocks {
        plan_behaviour(&b.block, &format!("{prefix}{}.", b.type_name), out);
    }
}

/// Terraform's names: lowercase letters, digits and underscores. We also require a letter or
/// underscore first, since HCL cannot write an identifier starting with a digit.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn check_block(block: &Block, prefix: &str, out: &mut Vec<Violation>) {
    let mut nested = Vec::new();
    let mut push = |name: &str, rule: &str| {
        out.push(Violation {
            path: format!("{prefix}{name}"),
            rule: rule.to_string(),
        })
    };
    let mut seen = BTreeSet::new();
    for a in &block.attributes {
        if !seen.insert(a.name.as_str()) {
            push(&a.name, "the name is defined twice");
        }
        for rule in attribute_rules(a) {
            push(&a.name, &rule);
        }
    }
    for b in &block.blocks {
        let name = b.type_name.as_str();
        if block.get_attribute(name).is_some() {
            push(name, "name defined as both attribute and child block type");
        } else if !seen.insert(name) {
            push(name, "the name is defined twice");
        }
        if !valid_name(name) {
            push(
                name,
                "name may contain only lowercase letters, digits and underscores",
            );
        }
        if b.block.description.trim().is_empty() {
            push(name, "no description (it becomes the registry doc)");
        }
        let (min, max) = (b.min_items, b.max_items);
        if min < 0 || max < 0 {
            push(name, "MinItems and MaxItems must both be greater than zero");
        }
        match b.nesting {
            Nesting::Single if min != max => push(
                name,
                "MinItems and MaxItems must match in NestingSingle mode",
            ),
            Nesting::Single if !(0..=1).contains(&min) => push(
                name,
                "MinItems and MaxItems must be set to either 0 or 1 in NestingSingle mode",
            ),
            Nesting::Group if min != 0 || max != 0 => push(
                name,
                "MinItems and MaxItems cannot be used in NestingGroup mode",
            ),
            Nesting::List | Nesting::Set if min > max && max != 0 => push(
                name,
                &format!(
                    "MinItems must be less than or equal to MaxItems in {} mode",
                    if b.nesting == Nesting::List {
                        "NestingList"
                    } else {
                        "NestingSet"
                    }
                ),
            ),
            Nesting::Map if min != 0 || max != 0 => push(
                name,
                "MinItems and MaxItems must both be 0 in NestingMap mode",
            ),
            _ => {}
        }
        if b.nesting == Nesting::Set && has_dynamic(&b.block.ty()) {
            push(
                name,
                "NestingSet blocks may not contain attributes of cty.DynamicPseudoType",
            );
        }
        nested.push((&b.block, format!("{prefix}{name}.")));
    }
    // Inner blocks after this block's own rules, in schema order.
    for (inner, inner_prefix) in nested {
        check_block(inner, &inner_prefix, out);
    }
}

/// The rules one attribute breaks.
fn attribute_rules(a: &Attribute) -> Vec<String> {
    let mut rules = Vec::new();
    let mut rule = |text: &str| rules.push(text.to_string());
    if !valid_name(&a.name) {
        rule("name may contain only lowercase letters, digits and underscores");
    }
    if !a.optional && !a.required && !a.computed {
        rule("must set Optional, Required or Computed");
    }
    if a.optional && a.required {
        rule("cannot set both Optional and Required");
    }
    if a.computed && a.required {
        rule("cannot set both Computed and Required");
    }
    if a.description.trim().is_empty() {
        rule("no description (it becomes the registry doc)");
    }
    if let Some(default) = &a.default {
        if !(a.optional && a.computed) {
            rule("a default needs Optional and Computed");
        }
        // Encoding checks the value against the type, as every plan carrying it will.
        if super::value::msgpack::encode(default, &a.ty).is_err() {
            rule("the default's type is not the attribute's type");
        }
    }
    if a.use_state_for_unknown && !a.computed {
        rule("use-state-for-unknown applies only to Computed attributes");
    }
    if a.requires_replace && !(a.required || a.optional) {
        rule("requires-replace applies only to attributes set in configuration");
    }
    if has_dynamic_in_set(&a.ty) {
        rule("a set may not contain cty.DynamicPseudoType (set elements need a known type)");
    }
    rules
}

fn has_dynamic(ty: &Type) -> bool {
    match ty {
        Type::Dynamic => true,
        Type::Bool | Type::Number | Type::String => false,
        Type::List(t) | Type::Set(t) | Type::Map(t) => has_dynamic(t),
        Type::Object { attributes, .. } => attributes.values().any(has_dynamic),
        Type::Tuple(items) => items.iter().any(has_dynamic),
    }
}

fn has_dynamic_in_set(ty: &Type) -> bool {
    match ty {
        Type::Set(t) => has_dynamic(t),
        Type::Dynamic | Type::Bool | Type::Number | Type::String => false,
        Type::List(t) | Type::Map(t) => has_dynamic_in_set(t),
        Type::Object { attributes, .. } => attributes.values().any(has_dynamic_in_set),
        Type::Tuple(items) => items.iter().any(has_dynamic_in_set),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::NestedBlock;
    use crate::framework::value::Value;

    #[test]
    fn data_sources_have_no_plan_behaviour() {
        let schema = described(
            Block::new("d")
                .attribute(Attribute::string("name").required().describe("n"))
                .attribute(
                    Attribute::string("id")
                        .computed()
                        .use_state_for_unknown()
                        .describe("i"),
                ),
        );
        let found = check(SchemaKind::DataSource, &schema);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "id");
        assert!(found[0].rule.contains("plan modifiers"));
        // The same schema is fine for a resource.
        assert!(check(SchemaKind::Resource, &schema).is_empty());
    }

    fn described(block: Block) -> Schema {
        Schema::new(block)
    }

    fn single(min: i64, max: i64) -> Schema {
        described(
            Block::new("r").block(
                NestedBlock::new(
                    "owner",
                    Nesting::Single,
                    Block::new("the owner")
                        .attribute(Attribute::string("team").required().describe("team")),
                )
                .items(min, max),
            ),
        )
    }

    fn rules(schema: &Schema) -> Vec<String> {
        check(SchemaKind::Resource, schema)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn single_block_with_min_0_max_1_is_refused_as_terraform_does() {
        assert_eq!(
            rules(&single(0, 1)),
            ["owner: MinItems and MaxItems must match in NestingSingle mode"]
        );
        assert_eq!(
            rules(&single(2, 2)),
            ["owner: MinItems and MaxItems must be set to either 0 or 1 in NestingSingle mode"]
        );
        // Optional (0/0) and required (1/1) single blocks are fine.
        assert!(rules(&single(0, 0)).is_empty());
        assert!(rules(&single(1, 1)).is_empty());
    }

    #[test]
    fn list_set_group_and_map_bounds() {
        let with = |nesting, min, max| {
            described(
                Block::new("r")
                    .block(NestedBlock::new("b", nesting, Block::new("b")).items(min, max)),
            )
        };
        assert!(
            rules(&with(Nesting::List, 1, 0)).is_empty(),
            "max 0 = unlimited"
        );
        assert!(rules(&with(Nesting::Set, 2, 5)).is_empty());
        assert_eq!(
            rules(&with(Nesting::List, 3, 2)),
            ["b: MinItems must be less than or equal to MaxItems in NestingList mode"]
        );
        assert_eq!(
            rules(&with(Nesting::Group, 0, 1)),
            ["b: MinItems and MaxItems cannot be used in NestingGroup mode"]
        );
        assert_eq!(
            rules(&with(Nesting::Map, 1, 1)),
            ["b: MinItems and MaxItems must both be 0 in NestingMap mode"]
        );
        assert_eq!(
            rules(&with(Nesting::List, -1, 0)),
            ["b: MinItems and MaxItems must both be greater than zero"]
        );
    }

    #[test]
    fn attribute_flags_names_and_descriptions() {
        let schema = described(
            Block::new("r")
                .attribute(Attribute::string("none").describe("d"))
                .attribute(
                    Attribute::string("both")
                        .required()
                        .optional()
                        .describe("d"),
                )
                .attribute(Attribute::string("rc").required().computed().describe("d"))
                .attribute(Attribute::string("Bad-Name").optional().describe("d"))
                .attribute(Attribute::string("bare").optional())
                .attribute(Attribute::string("count").optional().describe("d"))
                .attribute(Attribute::string("dup").optional().describe("d"))
                .block(NestedBlock::new("dup", Nesting::List, Block::new("d"))),
        );
        assert_eq!(
            rules(&schema),
            [
                "count: the name is reserved for a Terraform meta-argument",
                "none: must set Optional, Required or Computed",
                "both: cannot set both Optional and Required",
                "rc: cannot set both Computed and Required",
                "Bad-Name: name may contain only lowercase letters, digits and underscores",
                "bare: no description (it becomes the registry doc)",
                "dup: name defined as both attribute and child block type",
            ]
        );
    }

    #[test]
    fn nested_paths_and_framework_rules() {
        let schema = described(
            Block::new("r").block(NestedBlock::new(
                "outer",
                Nesting::List,
                Block::new("o").block(NestedBlock::new(
                    "inner",
                    Nesting::Set,
                    Block::new("i")
                        .attribute(
                            Attribute::new("any", Type::Dynamic)
                                .optional()
                                .describe("d"),
                        )
                        .attribute(
                            Attribute::number("n")
                                .default_value(Value::String("x".into()))
                                .describe("d"),
                        )
                        .attribute(
                            Attribute::string("keep")
                                .optional()
                                .use_state_for_unknown()
                                .describe("d"),
                        )
                        .attribute(
                            Attribute::string("id")
                                .computed()
                                .requires_replace()
                                .describe("d"),
                        ),
                )),
            )),
        );
        assert_eq!(
            rules(&schema),
            [
                "outer.inner: NestingSet blocks may not contain attributes of cty.DynamicPseudoType",
                "outer.inner.n: the default's type is not the attribute's type",
                "outer.inner.keep: use-state-for-unknown applies only to Computed attributes",
                "outer.inner.id: requires-replace applies only to attributes set in configuration",
            ]
        );
    }

    #[test]
    fn provider_reserves_alias_and_version_only() {
        let schema = described(
            Block::new("p")
                .attribute(Attribute::string("alias").optional().describe("d"))
                .attribute(Attribute::string("count").optional().describe("d")),
        );
        let found: Vec<String> = check(SchemaKind::Provider, &schema)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            ["alias: the name is reserved for a Terraform meta-argument"]
        );
    }
}
