//! The cty value model Terraform speaks: typed values that may be null or unknown, their types,
//! and the codecs (msgpack, JSON, cty type JSON) and the serde bridge to typed Rust models.
//!
//! Architecture invariant: nothing here knows gRPC or AWS. Values are decoded against a [`Type`]
//! (usually a schema's object type) because the wire formats do not say whether an array is a list
//! or a set, or whether a map is a map or an object.

use std::collections::{BTreeMap, BTreeSet};

mod attr;
mod de;
mod error;
pub mod json;
pub mod msgpack;
mod number;
mod ser;
pub mod ty_json;

pub use attr::Attr;
pub use de::{from_value, struct_fields};
pub use error::ValueError;
pub use number::{Number, ParseNumberError};
pub use ser::to_value;

/// A cty type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Type {
    /// `bool`
    Bool,
    /// `number`: arbitrary precision in cty.
    Number,
    /// `string`
    String,
    /// `dynamic`: the concrete type travels with the value.
    Dynamic,
    /// `list(T)`
    List(Box<Type>),
    /// `set(T)`
    Set(Box<Type>),
    /// `map(T)`
    Map(Box<Type>),
    /// `object({...})`, with the names of its optional attributes (type constraints only).
    Object {
        /// Attribute types by name.
        attributes: BTreeMap<String, Type>,
        /// Names of optional attributes (the third element of the type JSON, when present).
        optional: BTreeSet<String>,
    },
    /// `tuple([...])`
    Tuple(Vec<Type>),
}

impl Type {
    /// `list(elem)`
    pub fn list(elem: Type) -> Type {
        Type::List(Box::new(elem))
    }
    /// `set(elem)`
    pub fn set(elem: Type) -> Type {
        Type::Set(Box::new(elem))
    }
    /// `map(elem)`
    pub fn map(elem: Type) -> Type {
        Type::Map(Box::new(elem))
    }
    /// `object({...})` without optional attributes.
    pub fn object(attributes: impl IntoIterator<Item = (String, Type)>) -> Type {
        Type::Object {
            attributes: attributes.into_iter().collect(),
            optional: BTreeSet::new(),
        }
    }
}

/// What Terraform promised about an unknown value (protocol 6 "refined unknowns").
///
/// Decoded so that refined unknowns are accepted, and written back (msgpack extension 12) when a
/// value that carries them is encoded, so that passing a config value through keeps them; the
/// provider never needs to produce them itself. Only the refinements that apply to the value's
/// type are kept (a prefix for strings, bounds for numbers, lengths for list/set/map).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Refinement {
    /// The wire's nullness refinement (key 1): `Some(false)` means definitely not null. (The wire
    /// value `true`, "definitely null", decodes to a known null instead, as in cty.)
    pub not_null: Option<bool>,
    /// A known prefix of an unknown string.
    pub string_prefix: Option<String>,
    /// Lower bound of an unknown number, and whether it is inclusive.
    pub number_lower: Option<(Number, bool)>,
    /// Upper bound of an unknown number, and whether it is inclusive.
    pub number_upper: Option<(Number, bool)>,
    /// Lower bound of an unknown collection's length.
    pub length_lower: Option<u64>,
    /// Upper bound of an unknown collection's length.
    pub length_upper: Option<u64>,
}

/// A cty value. Its type is known from context (the schema); the variants say which shape it has.
///
/// Sets are kept canonical (sorted by [`Ord`] and without duplicates) by every constructor and
/// decoder, so `==` on values is cty equality, set order included.
///
/// Equality is structural (numbers compare numerically, unknowns by their refinements). The order
/// is total: by variant (null < unknown < bool < number < string < list < set < map < object <
/// tuple < dynamic), then by content.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    /// Null of whatever type the context gives.
    #[default]
    Null,
    /// Not known until apply.
    Unknown(Refinement),
    /// A known bool.
    Bool(bool),
    /// A known number.
    Number(Number),
    /// A known string.
    String(String),
    /// A list.
    List(Vec<Value>),
    /// A set, canonical order.
    Set(Vec<Value>),
    /// A map.
    Map(BTreeMap<String, Value>),
    /// An object.
    Object(BTreeMap<String, Value>),
    /// A tuple.
    Tuple(Vec<Value>),
    /// A value in a slot of type `dynamic`, with its concrete type.
    Dynamic(Type, Box<Value>),
}

impl Value {
    /// An unknown value with no refinements.
    pub fn unknown() -> Value {
        Value::Unknown(Refinement::default())
    }

    /// A set from elements in any order (sorted and de-duplicated here).
    pub fn set(mut elems: Vec<Value>) -> Value {
        elems.sort();
        elems.dedup();
        Value::Set(elems)
    }

    /// True when null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True when this value itself is unknown (not looking inside).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
            _ => true,
        }
    }

    /// An object's attribute; `None` for a missing attribute or a value that is not an object.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.get(name),
            _ => None,
        }
    }

    /// A short name of this value's kind, for messages (`"null"`, `"string"`, `"list"`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown(_) => "unknown",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Tuple(_) => "tuple",
            Value::Dynamic(..) => "dynamic",
        }
    }

    /// The value itself, or the inner value of a [`Value::Dynamic`] (through any nesting).
    pub fn unwrap_dynamic(&self) -> &Value {
        let mut v = self;
        while let Value::Dynamic(_, inner) = v {
            v = inner;
        }
        v
    }

    /// The concrete type this value's shape implies, used to write a plain value into a `dynamic`
    /// slot. `None` for null and unknown (their type is not known) and for collections whose
    /// elements have different types. Nulls and unknowns inside a list, set or map take the
    /// other elements' type; inside objects and tuples they are `dynamic`. A
    /// [`Value::Dynamic`] is a dynamic slot, so its implied type is `dynamic`.
    pub fn implied_type(&self) -> Option<Type> {
        fn slot(v: &Value) -> Option<Type> {
            match v {
                Value::Null | Value::Unknown(_) => Some(Type::Dynamic),
                v => v.implied_type(),
            }
        }
        fn unify<'a>(items: impl Iterator<Item = &'a Value>) -> Option<Type> {
            let mut found: Option<Type> = None;
            for item in items {
                if item.is_null() || item.is_unknown() {
                    continue;
                }
                let t = item.implied_type()?;
                match &found {
                    Some(f) if *f != t => return None,
                    Some(_) => {}
                    None => found = Some(t),
                }
            }
            Some(found.unwrap_or(Type::Dynamic))
        }
        Some(match self {
            Value::Null | Value::Unknown(_) => return None,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(items) => Type::list(unify(items.iter())?),
            Value::Set(items) => Type::set(unify(items.iter())?),
            Value::Map(entries) => Type::map(unify(entries.values())?),
            Value::Tuple(items) => Type::Tuple(items.iter().map(slot).collect::<Option<_>>()?),
            Value::Object(attrs) => Type::object(
                attrs
                    .iter()
                    .map(|(k, v)| Some((k.clone(), slot(v)?)))
                    .collect::<Option<Vec<_>>>()?,
            ),
            Value::Dynamic(..) => Type::Dynamic,
        })
    }

    /// A mutable object attribute.
    pub fn get_attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) => m.get_mut(name),
            _ => None,
        }
    }
}
