//! Plan helpers: the framework's part of PlanResourceChange.
//!
//! The order is fixed (and mirrors terraform-plugin-framework):
//! 1. defaults fill unconfigured optional+computed attributes;
//! 2. unconfigured computed attributes become unknown on create, and on an update that changes
//!    anything, except those marked `use_state_for_unknown`, which keep their prior value;
//! 3. (the resource's own plan hook runs after this module, in `resource.rs`);
//! 4. requires-replace paths are collected, sorted and de-duplicated so output is deterministic.

use super::path::AttributePath;
use super::schema::{Block, Nesting};
use super::value::Value;

/// Fills defaults and marks unconfigured computed values unknown, in `planned` (which starts as
/// Terraform's proposed new state). `prior` is null on create.
pub fn plan_computed(block: &Block, prior: &Value, config: &Value, planned: &mut Value) {
    apply_defaults(block, config, planned);
    let changed = prior.is_null() || !planned_equals_prior(planned, prior);
    mark_unknown(block, prior, config, planned, changed);
}

/// True when `planned` equals `prior`: nothing for apply to do.
pub fn planned_equals_prior(planned: &Value, prior: &Value) -> bool {
    planned == prior
}

/// Fills every null attribute that has a default with it (nested blocks included): the state an
/// import returns gets the defaults the schema states, as a configuration leaving them unset
/// would plan them, so no resource restates a default.
pub fn fill_defaults(block: &Block, value: &mut Value) {
    let as_config = value.clone();
    apply_defaults(block, &as_config, value);
}

fn apply_defaults(block: &Block, config: &Value, planned: &mut Value) {
    let Value::Object(planned_attrs) = planned else {
        return;
    };
    for attr in &block.attributes {
        if let Some(default) = &attr.default {
            if config.get_attr(&attr.name).is_none_or(Value::is_null) {
                planned_attrs.insert(attr.name.clone(), default.clone());
            }
        }
    }
    for nested in &block.blocks {
        let config_child = config.get_attr(&nested.type_name).unwrap_or(&Value::Null);
        let Some(planned_child) = planned_attrs.get_mut(&nested.type_name) else {
            continue;
        };
        for_each_nested(nested.nesting, config_child, planned_child, |c, p| {
            apply_defaults(&nested.block, c, p)
        });
    }
}

fn mark_unknown(block: &Block, prior: &Value, config: &Value, planned: &mut Value, changed: bool) {
    let Value::Object(planned_attrs) = planned else {
        return;
    };
    for attr in &block.attributes {
        if !attr.computed || attr.default.is_some() {
            continue;
        }
        let configured = config.get_attr(&attr.name).is_some_and(|v| !v.is_null());
        if configured {
            continue;
        }
        let prior_value = prior.get_attr(&attr.name).filter(|v| !v.is_null());
        let keep = match prior_value {
            Some(_) if attr.use_state_for_unknown => true,
            Some(_) => !changed,
            None => false,
        };
        let slot = planned_attrs.entry(attr.name.clone()).or_default();
        *slot = match (keep, prior_value) {
            (true, Some(v)) => v.clone(),
            _ => Value::unknown(),
        };
    }
    for nested in &block.blocks {
        let config_child = config.get_attr(&nested.type_name).unwrap_or(&Value::Null);
        let prior_child = prior.get_attr(&nested.type_name).unwrap_or(&Value::Null);
        let Some(planned_child) = planned_attrs.get_mut(&nested.type_name) else {
            continue;
        };
        match nested.nesting {
            Nesting::Single | Nesting::Group => mark_unknown(
                &nested.block,
                prior_child,
                config_child,
                planned_child,
                changed,
            ),
            Nesting::List => {
                if let (Value::List(config_items), Value::List(planned_items)) =
                    (config_child, planned_child)
                {
                    for (i, (c, p)) in config_items
                        .iter()
                        .zip(planned_items.iter_mut())
                        .enumerate()
                    {
                        let prior_item = match prior_child {
                            Value::List(items) => items.get(i).unwrap_or(&Value::Null),
                            _ => &Value::Null,
                        };
                        mark_unknown(&nested.block, prior_item, c, p, changed);
                    }
                }
            }
            // Set and map elements cannot be matched to prior ones by position; computed
            // attributes inside them are not supported (no schema here uses them).
            Nesting::Set | Nesting::Map => {}
        }
    }
}

fn for_each_nested(
    nesting: Nesting,
    config: &Value,
    planned: &mut Value,
    mut f: impl FnMut(&Value, &mut Value),
) {
    match (nesting, config, planned) {
        (Nesting::Single | Nesting::Group, c, p) if !p.is_null() => f(c, p),
        (Nesting::List, Value::List(cs), Value::List(ps)) => {
            for (c, p) in cs.iter().zip(ps.iter_mut()) {
                f(c, p)
            }
        }
        _ => {}
    }
}

/// Paths of `requires_replace` attributes whose planned value differs from the prior one
/// (an unknown planned value counts as a change), sorted and de-duplicated.
pub fn requires_replace(block: &Block, prior: &Value, planned: &Value) -> Vec<AttributePath> {
    let mut paths = Vec::new();
    if prior.is_null() || planned.is_null() {
        return paths;
    }
    collect_replace(block, &AttributePath::root(), prior, planned, &mut paths);
    paths.sort();
    paths.dedup();
    paths
}

fn collect_replace(
    block: &Block,
    at: &AttributePath,
    prior: &Value,
    planned: &Value,
    out: &mut Vec<AttributePath>,
) {
    for attr in &block.attributes {
        if !attr.requires_replace {
            continue;
        }
        let before = prior.get_attr(&attr.name).unwrap_or(&Value::Null);
        let after = planned.get_attr(&attr.name).unwrap_or(&Value::Null);
        if before != after {
            out.push(at.then_attr(&attr.name));
        }
    }
    for nested in &block.blocks {
        let before = prior.get_attr(&nested.type_name).unwrap_or(&Value::Null);
        let after = planned.get_attr(&nested.type_name).unwrap_or(&Value::Null);
        let path = at.then_attr(&nested.type_name);
        match (nested.nesting, before, after) {
            (Nesting::Single | Nesting::Group, b, a) if !b.is_null() && !a.is_null() => {
                collect_replace(&nested.block, &path, b, a, out)
            }
            (Nesting::List, Value::List(bs), Value::List(as_)) if bs.len() == as_.len() => {
                for (i, (b, a)) in bs.iter().zip(as_).enumerate() {
                    collect_replace(&nested.block, &path.then_index(i), b, a, out);
                }
            }
            (_, b, a) if b != a && block_has_replacing(&nested.block) => out.push(path),
            _ => {}
        }
    }
}

fn block_has_replacing(block: &Block) -> bool {
    block.attributes.iter().any(|a| a.requires_replace)
        || block.blocks.iter().any(|b| block_has_replacing(&b.block))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::Attribute;
    use crate::framework::value::Type;
    use std::collections::BTreeMap;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }
    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    fn block() -> Block {
        Block::new("")
            .attribute(Attribute::string("key").required().requires_replace())
            .attribute(Attribute::new("values", Type::set(Type::String)).required())
            .attribute(Attribute::string("id").computed().use_state_for_unknown())
            .attribute(Attribute::string("etag").computed())
    }

    #[test]
    fn fill_defaults_sets_only_null_defaulted_attributes_nested_ones_too() {
        use crate::framework::schema::NestedBlock;
        let block = Block::new("")
            .attribute(Attribute::string("format").default_value(s("parquet")))
            .attribute(Attribute::string("kept").default_value(s("x")))
            .attribute(Attribute::string("plain").optional())
            .block(NestedBlock::new(
                "column",
                Nesting::List,
                Block::new("")
                    .attribute(Attribute::bool("nullable").default_value(Value::Bool(true))),
            ));
        let mut v = obj(&[
            ("format", Value::Null),
            ("kept", s("set")),
            ("plain", Value::Null),
            (
                "column",
                Value::List(vec![
                    obj(&[("nullable", Value::Null)]),
                    obj(&[("nullable", Value::Bool(false))]),
                ]),
            ),
        ]);
        fill_defaults(&block, &mut v);
        assert_eq!(v.get_attr("format"), Some(&s("parquet")));
        assert_eq!(v.get_attr("kept"), Some(&s("set")));
        assert_eq!(v.get_attr("plain"), Some(&Value::Null));
        let Some(Value::List(columns)) = v.get_attr("column") else {
            panic!("{v:?}")
        };
        assert_eq!(columns[0].get_attr("nullable"), Some(&Value::Bool(true)));
        assert_eq!(columns[1].get_attr("nullable"), Some(&Value::Bool(false)));
    }

    #[test]
    fn create_marks_unconfigured_computed_unknown() {
        let config = obj(&[
            ("key", s("k")),
            ("values", Value::set(vec![s("a")])),
            ("id", Value::Null),
            ("etag", Value::Null),
        ]);
        let mut planned = config.clone();
        plan_computed(&block(), &Value::Null, &config, &mut planned);
        assert!(planned.get_attr("id").is_some_and(Value::is_unknown));
        assert!(planned.get_attr("etag").is_some_and(Value::is_unknown));
    }

    #[test]
    fn update_keeps_state_for_marked_and_unknowns_the_rest() {
        let prior = obj(&[
            ("key", s("k")),
            ("values", Value::set(vec![s("a")])),
            ("id", s("1:k")),
            ("etag", s("e1")),
        ]);
        let config = obj(&[
            ("key", s("k")),
            ("values", Value::set(vec![s("b")])),
            ("id", Value::Null),
            ("etag", Value::Null),
        ]);
        let mut planned = obj(&[
            ("key", s("k")),
            ("values", Value::set(vec![s("b")])),
            ("id", s("1:k")),
            ("etag", s("e1")),
        ]);
        plan_computed(&block(), &prior, &config, &mut planned);
        assert_eq!(planned.get_attr("id"), Some(&s("1:k")));
        assert!(planned.get_attr("etag").is_some_and(Value::is_unknown));
        assert!(requires_replace(&block(), &prior, &planned).is_empty());
    }

    #[test]
    fn no_change_plans_prior_exactly() {
        let prior = obj(&[
            ("key", s("k")),
            ("values", Value::set(vec![s("a")])),
            ("id", s("1:k")),
            ("etag", s("e1")),
        ]);
        let config = obj(&[
            ("key", s("k")),
            ("values", Value::set(vec![s("a")])),
            ("id", Value::Null),
            ("etag", Value::Null),
        ]);
        let mut planned = prior.clone();
        plan_computed(&block(), &prior, &config, &mut planned);
        assert_eq!(planned, prior);
    }

    #[test]
    fn replace_paths_name_changed_replacing_attributes() {
        let prior = obj(&[
            ("key", s("k")),
            ("values", Value::Null),
            ("id", s("1:k")),
            ("etag", Value::Null),
        ]);
        let planned = obj(&[
            ("key", s("other")),
            ("values", Value::Null),
            ("id", s("1:k")),
            ("etag", Value::Null),
        ]);
        let paths = requires_replace(&block(), &prior, &planned);
        assert_eq!(paths, vec![AttributePath::attr("key")]);
    }
}
