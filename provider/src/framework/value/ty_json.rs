//! cty type JSON: the `Attribute.type` bytes of a schema and the type half of a dynamic value.
//!
//! `"string" | "number" | "bool" | "dynamic" | ["list",T] | ["set",T] | ["map",T] |
//! ["object",{name:T}] | ["object",{name:T},[optional names]] | ["tuple",[T...]]`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::{Type, ValueError};
use crate::json::{self as json_text, Json, Strictness};

impl Type {
    /// Parses cty type JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Type, ValueError> {
        type_from_json_limited(bytes, json_text::MAX_DEPTH)
    }

    /// The compact cty type JSON of this type (object attributes sorted by name; the optional
    /// attribute list only when there are optional attributes).
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write_type(&mut out, self);
        out
    }

    /// The cty type JSON of this type as a [`serde_json::Value`].
    pub fn to_json_value(&self) -> serde_json::Value {
        use serde_json::Value as J;
        let kind = |k: &str, inner: J| J::Array(vec![J::String(k.into()), inner]);
        match self {
            Type::Bool => J::String("bool".into()),
            Type::Number => J::String("number".into()),
            Type::String => J::String("string".into()),
            Type::Dynamic => J::String("dynamic".into()),
            Type::List(e) => kind("list", e.to_json_value()),
            Type::Set(e) => kind("set", e.to_json_value()),
            Type::Map(e) => kind("map", e.to_json_value()),
            Type::Tuple(elems) => kind(
                "tuple",
                J::Array(elems.iter().map(Type::to_json_value).collect()),
            ),
            Type::Object {
                attributes,
                optional,
            } => {
                let attrs = attributes
                    .iter()
                    .map(|(name, ty)| (name.clone(), ty.to_json_value()))
                    .collect();
                let mut parts = vec![J::String("object".into()), J::Object(attrs)];
                if !optional.is_empty() {
                    parts.push(J::Array(optional.iter().cloned().map(J::String).collect()));
                }
                J::Array(parts)
            }
        }
    }

    /// A short name for messages, as cty's `FriendlyName`: `string`, `list of number`, `object`,
    /// `tuple`, `dynamic` (objects and tuples without their, possibly long, contents).
    pub fn friendly_name(&self) -> String {
        match self {
            Type::Bool => "bool".into(),
            Type::Number => "number".into(),
            Type::String => "string".into(),
            Type::Dynamic => "dynamic".into(),
            Type::List(e) => format!("list of {}", e.friendly_name()),
            Type::Set(e) => format!("set of {}", e.friendly_name()),
            Type::Map(e) => format!("map of {}", e.friendly_name()),
            Type::Tuple(_) => "tuple".into(),
            Type::Object { .. } => "object".into(),
        }
    }

    /// True for `dynamic`.
    pub fn is_dynamic(&self) -> bool {
        matches!(self, Type::Dynamic)
    }
}

/// [`Type::from_json`] with the type JSON nested at most `max_depth` arrays deep. The msgpack
/// decoder passes what is left of its nesting budget, so that a deep type inside a deep value
/// cannot add up to more recursion than the budget.
pub(crate) fn type_from_json_limited(bytes: &[u8], max_depth: usize) -> Result<Type, ValueError> {
    let tree = json_text::parse_limited(bytes, max_depth, Strictness::Go)
        .map_err(|e| ValueError::root(format!("invalid type JSON: {e}")))?;
    type_from_tree(&tree).map_err(|e| ValueError::root(format!("invalid type JSON: {e}")))
}

/// Appends the type JSON of `ty` to `out`.
pub(crate) fn write_type(out: &mut Vec<u8>, ty: &Type) {
    match ty {
        Type::Bool => out.extend_from_slice(b"\"bool\""),
        Type::Number => out.extend_from_slice(b"\"number\""),
        Type::String => out.extend_from_slice(b"\"string\""),
        Type::Dynamic => out.extend_from_slice(b"\"dynamic\""),
        Type::List(e) | Type::Set(e) | Type::Map(e) => {
            out.extend_from_slice(match ty {
                Type::List(_) => b"[\"list\",",
                Type::Set(_) => b"[\"set\",",
                _ => b"[\"map\",",
            });
            write_type(out, e);
            out.push(b']');
        }
        Type::Tuple(elems) => {
            out.extend_from_slice(b"[\"tuple\",[");
            for (i, e) in elems.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_type(out, e);
            }
            out.extend_from_slice(b"]]");
        }
        Type::Object {
            attributes,
            optional,
        } => {
            out.extend_from_slice(b"[\"object\",{");
            for (i, (name, t)) in attributes.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_text::write_string_bytes(out, name);
                out.push(b':');
                write_type(out, t);
            }
            out.push(b'}');
            if !optional.is_empty() {
                out.extend_from_slice(b",[");
                for (i, name) in optional.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    json_text::write_string_bytes(out, name);
                }
                out.push(b']');
            }
            out.push(b']');
        }
    }
}

/// Reads a type from parsed JSON (depth is bounded by the parser).
pub(crate) fn type_from_tree(j: &Json) -> Result<Type, String> {
    match j {
        Json::String(name) => match name.as_str() {
            "bool" => Ok(Type::Bool),
            "number" => Ok(Type::Number),
            "string" => Ok(Type::String),
            "dynamic" => Ok(Type::Dynamic),
            other => Err(format!("unknown primitive type {other:?}")),
        },
        Json::Array(parts) => {
            let (Some(Json::String(kind)), Some(arg)) = (parts.first(), parts.get(1)) else {
                return Err("a complex type must be [kind, argument]".into());
            };
            let extra = parts.get(2..).unwrap_or_default();
            if !(extra.is_empty() || (kind == "object" && extra.len() == 1)) {
                return Err(format!("unexpected extra elements in the {kind} type"));
            }
            match kind.as_str() {
                "list" => Ok(Type::List(Box::new(type_from_tree(arg)?))),
                "set" => Ok(Type::Set(Box::new(type_from_tree(arg)?))),
                "map" => Ok(Type::Map(Box::new(type_from_tree(arg)?))),
                "tuple" => {
                    let Json::Array(elems) = arg else {
                        return Err("a tuple type needs an array of element types".into());
                    };
                    Ok(Type::Tuple(
                        elems.iter().map(type_from_tree).collect::<Result<_, _>>()?,
                    ))
                }
                "object" => {
                    let Json::Object(members) = arg else {
                        return Err("an object type needs an object of attribute types".into());
                    };
                    let mut attributes = BTreeMap::new();
                    for (name, t) in members {
                        if attributes
                            .insert(name.clone(), type_from_tree(t)?)
                            .is_some()
                        {
                            return Err(format!("duplicate attribute {name:?} in an object type"));
                        }
                    }
                    let mut optional = BTreeSet::new();
                    if let Some(opt) = extra.first() {
                        let Json::Array(names) = opt else {
                            return Err("optional attributes must be an array of names".into());
                        };
                        for n in names {
                            let Json::String(n) = n else {
                                return Err("optional attribute names must be strings".into());
                            };
                            if !attributes.contains_key(n) {
                                return Err(format!(
                                    "optional attribute {n:?} is not an attribute of the object"
                                ));
                            }
                            optional.insert(n.clone());
                        }
                    }
                    Ok(Type::Object {
                        attributes,
                        optional,
                    })
                }
                other => Err(format!("unknown type kind {other:?}")),
            }
        }
        other => Err(format!(
            "a type is a string or an array, not {}",
            other.kind()
        )),
    }
}

impl fmt::Display for Type {
    /// The type as Terraform users write it: `string`, `list(number)`, `object({a=string})`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(e) => write!(f, "list({e})"),
            Type::Set(e) => write!(f, "set({e})"),
            Type::Map(e) => write!(f, "map({e})"),
            Type::Tuple(elems) => {
                f.write_str("tuple([")?;
                for (i, e) in elems.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str("])")
            }
            Type::Object {
                attributes,
                optional,
            } => {
                f.write_str("object({")?;
                for (i, (name, t)) in attributes.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if optional.contains(name) {
                        write!(f, "{name}=optional({t})")?;
                    } else {
                        write!(f, "{name}={t}")?;
                    }
                }
                f.write_str("})")
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Arbitrary types, nested at most `depth` levels.
    pub(crate) fn arb_type(depth: u32) -> BoxedStrategy<Type> {
        let leaf = prop_oneof![
            Just(Type::Bool),
            Just(Type::Number),
            Just(Type::String),
            Just(Type::Dynamic)
        ];
        leaf.prop_recursive(depth, 24, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(Type::list),
                inner.clone().prop_map(Type::set),
                inner.clone().prop_map(Type::map),
                prop::collection::vec(inner.clone(), 0..4).prop_map(Type::Tuple),
                (
                    prop::collection::btree_map("[a-z_][a-z0-9_]{0,6}", inner, 0..4),
                    any::<u8>()
                )
                    .prop_map(|(attributes, mask)| {
                        let optional = attributes
                            .keys()
                            .enumerate()
                            .filter(|(i, _)| mask & (1 << (i % 8)) != 0)
                            .map(|(_, k)| k.clone())
                            .collect();
                        Type::Object {
                            attributes,
                            optional,
                        }
                    }),
            ]
        })
        .boxed()
    }

    #[test]
    fn writes_compact_type_json() {
        let ty = Type::Object {
            attributes: [
                ("b".to_string(), Type::list(Type::String)),
                (
                    "a".to_string(),
                    Type::Tuple(vec![Type::Number, Type::Dynamic]),
                ),
                ("c".to_string(), Type::map(Type::set(Type::Bool))),
            ]
            .into_iter()
            .collect(),
            optional: ["c".to_string(), "a".to_string()].into_iter().collect(),
        };
        let text = r#"["object",{"a":["tuple",["number","dynamic"]],"b":["list","string"],"c":["map",["set","bool"]]},["a","c"]]"#;
        assert_eq!(String::from_utf8(ty.to_json()).unwrap(), text);
        assert_eq!(Type::from_json(text.as_bytes()).unwrap(), ty);
        assert_eq!(serde_json::to_string(&ty.to_json_value()).unwrap(), text);
        let plain = Type::object([("x".to_string(), Type::String)]);
        assert_eq!(plain.to_json(), br#"["object",{"x":"string"}]"#);
        assert_eq!(
            Type::list(Type::map(plain)).friendly_name(),
            "list of map of object"
        );
        assert_eq!(ty.to_string(), "object({a=optional(tuple([number, dynamic])), b=list(string), c=optional(map(set(bool)))})");
    }

    #[test]
    fn rejects_bad_type_json() {
        for bad in [
            r#""str""#,
            r#"["list"]"#,
            r#"["list","string","x"]"#,
            r#"["object",{"a":"string"},["b"]]"#,
            r#"["object",{"a":"string"},"a"]"#,
            r#"["object",{"a":"string","a":"number"}]"#,
            r#"["tuple","string"]"#,
            r#"["capsule","x"]"#,
            r#"1"#,
            r#"{"list":"string"}"#,
            r#""string" x"#,
        ] {
            assert!(Type::from_json(bad.as_bytes()).is_err(), "{bad}");
        }
        let deep = format!(
            "{}\"string\"{}",
            "[\"list\",".repeat(10_000),
            "]".repeat(10_000)
        );
        assert!(Type::from_json(deep.as_bytes()).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn type_json_round_trips(ty in arb_type(4)) {
            prop_assert_eq!(Type::from_json(&ty.to_json()).unwrap(), ty.clone());
            let via_serde = serde_json::to_vec(&ty.to_json_value()).unwrap();
            prop_assert_eq!(Type::from_json(&via_serde).unwrap(), ty);
        }
    }
}
