//! Schemas: what Terraform is told about a provider, resource or data source, built with a small
//! builder, plus the validators attached to attributes.
//!
//! Descriptions are markdown: they become the registry docs and Terraform's hover text.

use super::diag::Diagnostics;
use super::path::AttributePath;
use super::value::{Type, Value};
use std::fmt;
use std::sync::Arc;

/// A versioned schema.
#[derive(Debug, Clone)]
pub struct Schema {
    /// Bumped when stored state needs an upgrade.
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

impl Schema {
    /// A schema at version 0.
    pub fn new(block: Block) -> Self {
        Self { version: 0, block }
    }

    /// The same schema at `version`.
    pub fn version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    /// The object type of values under this schema.
    pub fn ty(&self) -> Type {
        self.block.ty()
    }
}

/// A block: attributes and nested blocks.
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// Attributes, in the order given.
    pub attributes: Vec<Attribute>,
    /// Nested block types.
    pub blocks: Vec<NestedBlock>,
    /// Markdown description.
    pub description: String,
    /// Deprecated as a whole.
    pub deprecated: bool,
}

impl Block {
    /// An empty block with a markdown description.
    pub fn new(description: impl Into<String>) -> Self {
        Self {
            description: description.into(),
            ..Self::default()
        }
    }

    /// Adds an attribute.
    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// Adds a nested block type.
    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    /// The attribute named `name`.
    pub fn get_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The object type of this block's values.
    pub fn ty(&self) -> Type {
        let attrs = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.ty.clone()))
            .chain(self.blocks.iter().map(|b| (b.type_name.clone(), b.ty())));
        Type::object(attrs)
    }
}

/// How a nested block repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most one; null when absent.
    Single,
    /// An ordered list.
    List,
    /// A set.
    Set,
    /// A map by label.
    Map,
    /// Exactly one, never null: absent means all attributes null.
    Group,
}

/// A nested block type.
#[derive(Debug, Clone)]
pub struct NestedBlock {
    /// The block's name in HCL.
    pub type_name: String,
    /// Its content.
    pub block: Block,
    /// How it repeats.
    pub nesting: Nesting,
    /// Fewest blocks: 0 or 1 for single blocks (equal to `max_items`), any for lists and sets.
    pub min_items: i64,
    /// Most blocks: 0 or 1 for single blocks (equal to `min_items`); for lists and sets 0 means
    /// unlimited.
    pub max_items: i64,
}

impl NestedBlock {
    /// A nested block type.
    pub fn new(type_name: impl Into<String>, nesting: Nesting, block: Block) -> Self {
        Self {
            type_name: type_name.into(),
            block,
            nesting,
            min_items: 0,
            max_items: 0,
        }
    }

    /// Sets the item bounds of a list or set (`max` 0: unlimited). Single blocks are optional
    /// (0/0) or [`NestedBlock::required`] (1/1); Terraform refuses any other bounds for them.
    pub fn items(mut self, min: i64, max: i64) -> Self {
        self.min_items = min;
        self.max_items = max;
        self
    }

    /// The block must be written: exactly one single block, or at least one list or set block.
    pub fn required(mut self) -> Self {
        self.min_items = 1;
        if self.nesting == Nesting::Single {
            self.max_items = 1;
        }
        self
    }

    /// The type of this block's value in its parent object.
    pub fn ty(&self) -> Type {
        let inner = self.block.ty();
        match self.nesting {
            Nesting::Single | Nesting::Group => inner,
            Nesting::List => Type::list(inner),
            Nesting::Set => Type::set(inner),
            Nesting::Map => Type::map(inner),
        }
    }
}

/// One attribute and what the framework does with it.
#[derive(Clone)]
pub struct Attribute {
    /// Name in HCL.
    pub name: String,
    /// Its cty type.
    pub ty: Type,
    /// Markdown description.
    pub description: String,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// Set by the provider when not configured.
    pub computed: bool,
    /// Hidden in plan output.
    pub sensitive: bool,
    /// Shown as deprecated.
    pub deprecated: bool,
    /// A change to this attribute replaces the resource.
    pub requires_replace: bool,
    /// When unconfigured and computed, keep the prior state's value through updates instead of
    /// planning it unknown (for values that never change after create, like ids).
    pub use_state_for_unknown: bool,
    /// Planned when unset in configuration (the attribute must be optional and computed).
    pub default: Option<Value>,
    /// Checks run on known, non-null configured values.
    pub validators: Vec<Validator>,
}

impl fmt::Debug for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("ty", &self.ty)
            .field("required", &self.required)
            .field("optional", &self.optional)
            .field("computed", &self.computed)
            .finish_non_exhaustive()
    }
}

impl Attribute {
    /// An attribute of any type; call one of `required`, `optional`, `computed` next.
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Self {
            name: name.into(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            deprecated: false,
            requires_replace: false,
            use_state_for_unknown: false,
            default: None,
            validators: Vec::new(),
        }
    }

    /// A string attribute.
    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, Type::String)
    }

    /// A number attribute.
    pub fn number(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number)
    }

    /// A bool attribute.
    pub fn bool(name: impl Into<String>) -> Self {
        Self::new(name, Type::Bool)
    }

    /// Must be configured.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// May be configured.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Set by the provider (combine with `optional` for "configured or else computed").
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    /// Hidden in plans and logs of Terraform.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Markdown description.
    pub fn describe(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// A change replaces the resource.
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    /// Keep the prior value through updates when unconfigured.
    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }

    /// The value planned when unconfigured; makes the attribute optional and computed.
    pub fn default_value(mut self, value: Value) -> Self {
        self.default = Some(value);
        self.optional = true;
        self.computed = true;
        self
    }

    /// Adds a validator.
    pub fn validate(mut self, validator: Validator) -> Self {
        self.validators.push(validator);
        self
    }
}

type CheckFn = dyn Fn(&Value, &AttributePath, &mut Diagnostics) + Send + Sync;

/// A named check of a configured value. Runs only on known, non-null values.
#[derive(Clone)]
pub struct Validator {
    /// What it checks, in words (for docs and debugging).
    pub description: String,
    check: Arc<CheckFn>,
}

impl Validator {
    /// A validator from a description and a check that reports into `diags` at `path`.
    pub fn new(
        description: impl Into<String>,
        check: impl Fn(&Value, &AttributePath, &mut Diagnostics) + Send + Sync + 'static,
    ) -> Self {
        Self {
            description: description.into(),
            check: Arc::new(check),
        }
    }

    /// Runs the check when the value is known and not null.
    pub fn run(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if !value.is_null() && !value.is_unknown() {
            (self.check)(value, path, diags);
        }
    }

    /// Applies `self` to each element of a list or set (element paths use the element value for
    /// sets, as Terraform does, and the index for lists).
    pub fn each(self) -> Validator {
        let description = format!("each element: {}", self.description);
        Validator::new(description, move |value, path, diags| match value {
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.run(item, &path.then_index(i), diags);
                }
            }
            Value::Set(items) => {
                // Terraform cannot point inside a set by index; point at the set itself.
                for item in items {
                    self.run(item, path, diags);
                }
            }
            Value::Map(items) => {
                for (key, item) in items {
                    self.run(item, &path.then_key(key.clone()), diags);
                }
            }
            _ => {}
        })
    }

    /// A string check: `check` returns an error detail for a bad string.
    pub fn string(
        description: impl Into<String>,
        summary: &'static str,
        check: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Validator {
        Validator::new(description, move |value, path, diags| {
            if let Value::String(s) = value {
                if let Some(detail) = check(s) {
                    diags.error_at(path.clone(), summary, detail);
                }
            }
        })
    }

    /// Collection size within `min..=max` elements.
    pub fn size_between(min: usize, max: usize) -> Validator {
        Validator::new(
            format!("between {min} and {max} elements"),
            move |value, path, diags| {
                let len = match value {
                    Value::List(v) | Value::Set(v) | Value::Tuple(v) => v.len(),
                    Value::Map(m) => m.len(),
                    _ => return,
                };
                if len < min || len > max {
                    diags.error_at(
                        path.clone(),
                        "Invalid number of elements",
                        format!(
                            "`{path}` must have between {min} and {max} elements; it has {len}."
                        ),
                    );
                }
            },
        )
    }

    /// String length in characters within `min..=max`.
    pub fn length_between(min: usize, max: usize) -> Validator {
        Validator::string(
            format!("between {min} and {max} characters"),
            "Invalid length",
            move |s| {
                let len = s.chars().count();
                (len < min || len > max).then(|| {
                    format!("{s:?} is {len} characters long; it must have between {min} and {max}.")
                })
            },
        )
    }

    /// One of the given strings.
    pub fn one_of(allowed: &'static [&'static str]) -> Validator {
        Validator::string(
            format!("one of {}", allowed.join(", ")),
            "Invalid value",
            move |s| {
                (!allowed.contains(&s))
                    .then(|| format!("{s:?} is not allowed; use one of: {}.", allowed.join(", ")))
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_type_includes_nested_blocks_by_nesting() {
        let block = Block::new("r")
            .attribute(Attribute::string("a").required())
            .block(NestedBlock::new(
                "one",
                Nesting::Single,
                Block::new("").attribute(Attribute::string("x").optional()),
            ))
            .block(NestedBlock::new("many", Nesting::List, Block::new("")));
        let Type::Object { attributes, .. } = block.ty() else {
            panic!("not an object")
        };
        assert_eq!(attributes["a"], Type::String);
        assert!(matches!(attributes["one"], Type::Object { .. }));
        assert!(matches!(attributes["many"], Type::List(_)));
    }

    #[test]
    fn validators_skip_unknown_and_null_and_point_at_elements() {
        let v = Validator::length_between(1, 3).each();
        let mut diags = Diagnostics::new();
        let list = Value::List(vec![
            Value::String("ok".into()),
            Value::unknown(),
            Value::String("toolong".into()),
        ]);
        v.run(&list, &AttributePath::attr("values"), &mut diags);
        assert_eq!(diags.0.len(), 1);
        assert_eq!(
            diags.0[0].path.as_ref().map(|p| p.to_string()).as_deref(),
            Some("values[2]")
        );
    }
}
