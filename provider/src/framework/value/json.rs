//! The JSON value format of `DynamicValue.json` and of stored state (`RawState.json`), as go-cty's
//! `cty/json` writes it.
//!
//! null is `null`; numbers are JSON numbers (decoded from their exact text, so big and precise
//! decimals survive; a string holding a number is accepted too, as cty converts it); list, set and
//! tuple are arrays; map and object are objects; a `dynamic` slot holds
//! `{"value": ..., "type": <type JSON>}` (or `null`). Unknown values cannot be written.
//! Like cty, decoding also accepts a bool as `"true"`/`"false"` and a number or bool where a
//! string is required.

use std::collections::BTreeMap;

use super::ty_json::{type_from_tree, write_type};
use super::{Number, Type, Value, ValueError};
use crate::framework::path::PathStep;
use crate::json::{self as json_text, Json, Strictness};

/// Values nested deeper than this are refused when encoding (decoding is bounded by the JSON
/// reader's nesting limit).
pub const MAX_DEPTH: usize = json_text::MAX_DEPTH;

/// Decodes JSON `bytes` as a value of type `ty`. Object attributes absent from the JSON are null;
/// attributes the type lacks are an error.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    decode_with(bytes, ty, false)
}

/// Decodes stored state: like [`decode`], but object attributes the type lacks are dropped (state
/// written under an older schema may hold attributes the current schema removed).
pub fn decode_lenient(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    decode_with(bytes, ty, true)
}

/// Encodes `value` as JSON against type `ty`. Unknown values are an error. The same leniency about
/// value variants applies as for [`super::msgpack::encode`].
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, ValueError> {
    let mut e = Encoder {
        out: Vec::new(),
        path: Vec::new(),
    };
    e.value(value, ty, 0)?;
    Ok(e.out)
}

fn decode_with(bytes: &[u8], ty: &Type, drop_extra_attributes: bool) -> Result<Value, ValueError> {
    let tree = json_text::parse(bytes, Strictness::Go).map_err(ValueError::root)?;
    let mut d = Decoder {
        path: Vec::new(),
        drop_extra_attributes,
    };
    d.value(&tree, ty)
}

struct Decoder {
    path: Vec<PathStep>,
    drop_extra_attributes: bool,
}

impl Decoder {
    fn err(&self, message: impl Into<String>) -> ValueError {
        ValueError::at(&self.path, message)
    }

    fn required(&self, what: &str, got: &Json) -> ValueError {
        self.err(format!("{what} is required, not {}", got.kind()))
    }

    // Recursion is value() -> one kind's function -> value(), with small frames on the way (see
    // the msgpack decoder).

    fn value(&mut self, j: &Json, ty: &Type) -> Result<Value, ValueError> {
        match (j, ty) {
            (Json::Null, _) => Ok(Value::Null),
            (_, Type::Dynamic) => self.dynamic(j),
            (_, Type::Bool | Type::Number | Type::String) => self.primitive(j, ty),
            (_, Type::List(elem)) => self.items(j, "a list", |_| Some(elem)).map(Value::List),
            (_, Type::Set(elem)) => self.items(j, "a set", |_| Some(elem)).map(Value::set),
            (_, Type::Tuple(elems)) => self.tuple(j, elems),
            (_, Type::Map(elem)) => self.map(j, elem),
            (_, Type::Object { attributes, .. }) => self.object(j, attributes),
        }
    }

    fn primitive(&self, j: &Json, ty: &Type) -> Result<Value, ValueError> {
        match (ty, j) {
            (Type::Bool, Json::Bool(b)) => Ok(Value::Bool(*b)),
            (Type::Bool, Json::String(s)) if s == "true" => Ok(Value::Bool(true)),
            (Type::Bool, Json::String(s)) if s == "false" => Ok(Value::Bool(false)),
            (Type::Number, Json::Number(text) | Json::String(text)) => Number::parse(text)
                .map(Value::Number)
                .ok_or_else(|| self.err(format!("{text:?} is not a number"))),
            (Type::String, Json::String(s) | Json::Number(s)) => Ok(Value::String(s.clone())),
            (Type::String, Json::Bool(b)) => Ok(Value::String(b.to_string())),
            (ty, other) => Err(self.required(&format!("a {}", ty.friendly_name()), other)),
        }
    }

    fn tuple(&mut self, j: &Json, elems: &[Type]) -> Result<Value, ValueError> {
        let items = self.items(j, "a tuple", |i| elems.get(i))?;
        if items.len() != elems.len() {
            return Err(self.err(format!(
                "a tuple of {} elements is required ({} given)",
                elems.len(),
                items.len()
            )));
        }
        Ok(Value::Tuple(items))
    }

    fn map(&mut self, j: &Json, elem: &Type) -> Result<Value, ValueError> {
        let Json::Object(members) = j else {
            return Err(self.required("a map", j));
        };
        let mut entries = BTreeMap::new();
        for (k, v) in members {
            self.path.push(PathStep::ElementKeyString(k.clone()));
            if entries.contains_key(k) {
                return Err(self.err("duplicate map key"));
            }
            let v = self.value(v, elem)?;
            self.path.pop();
            entries.insert(k.clone(), v);
        }
        Ok(Value::Map(entries))
    }

    fn object(
        &mut self,
        j: &Json,
        attributes: &BTreeMap<String, Type>,
    ) -> Result<Value, ValueError> {
        let Json::Object(members) = j else {
            return Err(self.required("an object", j));
        };
        let mut attrs = BTreeMap::new();
        for (k, v) in members {
            self.path.push(PathStep::Attribute(k.clone()));
            let Some(aty) = attributes.get(k) else {
                if self.drop_extra_attributes {
                    self.path.pop();
                    continue;
                }
                return Err(self.err("unsupported attribute"));
            };
            if attrs.contains_key(k) {
                return Err(self.err("duplicate attribute"));
            }
            let v = self.value(v, aty)?;
            self.path.pop();
            attrs.insert(k.clone(), v);
        }
        for name in attributes.keys() {
            if !attrs.contains_key(name) {
                attrs.insert(name.clone(), Value::Null);
            }
        }
        Ok(Value::Object(attrs))
    }

    fn items<'t>(
        &mut self,
        j: &Json,
        what: &str,
        elem: impl Fn(usize) -> Option<&'t Type>,
    ) -> Result<Vec<Value>, ValueError> {
        let Json::Array(items) = j else {
            return Err(self.required(what, j));
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Some(ty) = elem(i) else {
                return Err(self.err(format!(
                    "{what} with fewer elements is required ({} given)",
                    items.len()
                )));
            };
            self.path.push(PathStep::ElementKeyInt(i as i64));
            out.push(self.value(item, ty)?);
            self.path.pop();
        }
        Ok(out)
    }

    /// `{"value": ..., "type": ...}` (either order, both required).
    fn dynamic(&mut self, j: &Json) -> Result<Value, ValueError> {
        let Json::Object(members) = j else {
            return Err(self.required("a dynamic value ({\"value\": ..., \"type\": ...})", j));
        };
        let (mut ty, mut value) = (None, None);
        for (k, v) in members {
            match k.as_str() {
                "type" if ty.is_none() => {
                    ty = Some(
                        type_from_tree(v)
                            .map_err(|e| self.err(format!("dynamic value: invalid type: {e}")))?,
                    )
                }
                "value" if value.is_none() => value = Some(v),
                other => return Err(self.err(format!("invalid key {other:?} in a dynamic value"))),
            }
        }
        let ty = ty.ok_or_else(|| self.err("dynamic value without \"type\""))?;
        let value = value.ok_or_else(|| self.err("dynamic value without \"value\""))?;
        let v = self.value(value, &ty)?;
        Ok(match ty {
            Type::Dynamic => v,
            ty => Value::Dynamic(ty, Box::new(v)),
        })
    }
}

struct Encoder {
    out: Vec<u8>,
    path: Vec<PathStep>,
}

impl Encoder {
    fn err(&self, message: impl Into<String>) -> ValueError {
        ValueError::at(&self.path, message)
    }

    fn value(&mut self, v: &Value, ty: &Type, depth: usize) -> Result<(), ValueError> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("value is nested more than {MAX_DEPTH} levels deep")));
        }
        if let Type::Dynamic = ty {
            return self.dynamic(v, depth);
        }
        match (v, ty) {
            (Value::Unknown(_), _) => {
                Err(self.err("value is unknown, which JSON cannot represent"))
            }
            (Value::Null, _) => {
                self.out.extend_from_slice(b"null");
                Ok(())
            }
            (Value::Dynamic(t, inner), _) if t == ty => self.value(inner, ty, depth),
            (Value::Bool(b), Type::Bool) => {
                self.out
                    .extend_from_slice(if *b { b"true" } else { b"false" });
                Ok(())
            }
            (Value::Number(n), Type::Number) => {
                self.out.extend_from_slice(n.to_string().as_bytes());
                Ok(())
            }
            (Value::String(s), Type::String) => {
                json_text::write_string_bytes(&mut self.out, s);
                Ok(())
            }
            (Value::List(items) | Value::Set(items) | Value::Tuple(items), Type::List(elem)) => {
                self.items(items.iter(), |_| Some(&**elem), depth)
            }
            (Value::List(items) | Value::Set(items) | Value::Tuple(items), Type::Set(elem)) => {
                let mut sorted: Vec<&Value> = items.iter().collect();
                sorted.sort();
                sorted.dedup();
                self.items(sorted.into_iter(), |_| Some(&**elem), depth)
            }
            (Value::List(items) | Value::Set(items) | Value::Tuple(items), Type::Tuple(elems)) => {
                if items.len() != elems.len() {
                    return Err(self.err(format!(
                        "a tuple of {} elements is required ({} given)",
                        elems.len(),
                        items.len()
                    )));
                }
                self.items(items.iter(), |i| elems.get(i), depth)
            }
            (Value::Map(entries) | Value::Object(entries), Type::Map(elem)) => {
                self.out.push(b'{');
                for (i, (k, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.path.push(PathStep::ElementKeyString(k.clone()));
                    json_text::write_string_bytes(&mut self.out, k);
                    self.out.push(b':');
                    self.value(item, elem, depth + 1)?;
                    self.path.pop();
                }
                self.out.push(b'}');
                Ok(())
            }
            (Value::Map(entries) | Value::Object(entries), Type::Object { attributes, .. }) => {
                if let Some(extra) = entries.keys().find(|k| !attributes.contains_key(*k)) {
                    self.path.push(PathStep::Attribute(extra.clone()));
                    return Err(self.err("attribute is not part of the type"));
                }
                self.out.push(b'{');
                for (i, (name, aty)) in attributes.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.path.push(PathStep::Attribute(name.clone()));
                    json_text::write_string_bytes(&mut self.out, name);
                    self.out.push(b':');
                    self.value(entries.get(name).unwrap_or(&Value::Null), aty, depth + 1)?;
                    self.path.pop();
                }
                self.out.push(b'}');
                Ok(())
            }
            (v, ty) => Err(self.err(format!(
                "{} value where a {} is required",
                v.kind(),
                ty.friendly_name()
            ))),
        }
    }

    fn items<'v, 't>(
        &mut self,
        items: impl Iterator<Item = &'v Value>,
        elem: impl Fn(usize) -> Option<&'t Type>,
        depth: usize,
    ) -> Result<(), ValueError> {
        self.out.push(b'[');
        for (i, item) in items.enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.path.push(PathStep::ElementKeyInt(i as i64));
            let ty = elem(i).ok_or_else(|| self.err("more elements than the tuple type has"))?;
            self.value(item, ty, depth + 1)?;
            self.path.pop();
        }
        self.out.push(b']');
        Ok(())
    }

    fn dynamic(&mut self, v: &Value, depth: usize) -> Result<(), ValueError> {
        let (ty, inner) = match v {
            Value::Null => {
                self.out.extend_from_slice(b"null");
                return Ok(());
            }
            Value::Unknown(_) => {
                return Err(self.err("value is unknown, which JSON cannot represent"))
            }
            Value::Dynamic(Type::Dynamic, inner) => {
                return self.value(inner, &Type::Dynamic, depth + 1)
            }
            Value::Dynamic(ty, inner) => (ty.clone(), &**inner),
            other => (
                other
                    .implied_type()
                    .ok_or_else(|| self.err("cannot tell the type of a value in a dynamic slot"))?,
                other,
            ),
        };
        // go-cty's order: value first, then type.
        self.out.extend_from_slice(b"{\"value\":");
        self.value(inner, &ty, depth + 1)?;
        self.out.extend_from_slice(b",\"type\":");
        write_type(&mut self.out, &ty);
        self.out.push(b'}');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::path::AttributePath;
    use crate::framework::value::msgpack::tests::arb_typed_value;
    use proptest::prelude::*;

    fn obj(attrs: &[(&str, Value)]) -> Value {
        Value::Object(
            attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    fn num(v: &str) -> Value {
        Value::Number(Number::parse(v).unwrap())
    }

    fn text(v: &Value, ty: &Type) -> String {
        String::from_utf8(encode(v, ty).unwrap()).unwrap()
    }

    #[test]
    fn encodes_like_cty() {
        let ty = Type::object([
            ("name".to_string(), Type::String),
            ("size".to_string(), Type::Number),
            ("tags".to_string(), Type::map(Type::String)),
            ("ids".to_string(), Type::set(Type::Number)),
            ("on".to_string(), Type::Bool),
            ("any".to_string(), Type::Dynamic),
        ]);
        let v = obj(&[
            ("name", s("a\"b")),
            ("size", num("12345678901234567890123.25")),
            (
                "tags",
                Value::Map([("k".to_string(), s("v"))].into_iter().collect()),
            ),
            ("ids", Value::List(vec![num("2"), num("1")])),
            (
                "any",
                Value::Dynamic(
                    Type::list(Type::String),
                    Box::new(Value::List(vec![s("x")])),
                ),
            ),
        ]);
        assert_eq!(
            text(&v, &ty),
            r#"{"any":{"value":["x"],"type":["list","string"]},"ids":[1,2],"name":"a\"b","on":null,"size":12345678901234567890123.25,"tags":{"k":"v"}}"#
        );
        assert!(encode(&Value::unknown(), &Type::String).is_err());
        let err = encode(&obj(&[("name", Value::unknown())]), &ty).unwrap_err();
        assert_eq!(err.path, AttributePath::attr("name"));
    }

    #[test]
    fn decodes_big_numbers_exactly() {
        let v = decode(
            b"123456789012345678901234567890.000000000000000000001",
            &Type::Number,
        )
        .unwrap();
        assert_eq!(
            v,
            num("123456789012345678901234567890.000000000000000000001")
        );
        assert_eq!(decode(b"1e400", &Type::Number).unwrap(), num("1e400"));
        assert_eq!(decode(br#""42""#, &Type::Number).unwrap(), num("42"));
        assert_eq!(decode(b"42", &Type::String).unwrap(), s("42"));
        assert_eq!(
            decode(br#""true""#, &Type::Bool).unwrap(),
            Value::Bool(true)
        );
        assert!(decode(br#""x""#, &Type::Number).is_err());
    }

    #[test]
    fn dynamic_values() {
        let v = decode(br#"{"type":"string","value":"hi"}"#, &Type::Dynamic).unwrap();
        assert_eq!(v, Value::Dynamic(Type::String, Box::new(s("hi"))));
        assert_eq!(
            text(&v, &Type::Dynamic),
            r#"{"value":"hi","type":"string"}"#
        );
        assert_eq!(decode(b"null", &Type::Dynamic).unwrap(), Value::Null);
        let typed_null = decode(
            br#"{"value":null,"type":["list","number"]}"#,
            &Type::Dynamic,
        )
        .unwrap();
        assert_eq!(
            typed_null,
            Value::Dynamic(Type::list(Type::Number), Box::new(Value::Null))
        );
        for bad in [
            &br#"{"value":"hi"}"#[..],
            br#"{"type":"string"}"#,
            br#"{"type":"string","value":"hi","x":1}"#,
            br#"{"type":"strin","value":"hi"}"#,
            br#""hi""#,
        ] {
            assert!(
                decode(bad, &Type::Dynamic).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn strict_and_lenient_object_decoding() {
        let ty = Type::object([
            ("id".to_string(), Type::String),
            (
                "nested".to_string(),
                Type::list(Type::object([("a".to_string(), Type::Number)])),
            ),
        ]);
        let stored = br#"{"id":"x","removed":true,"nested":[{"a":1,"gone":"y"}]}"#;
        let err = decode(stored, &ty).unwrap_err();
        assert_eq!(err.to_string(), "removed: unsupported attribute");
        let v = decode_lenient(stored, &ty).unwrap();
        assert_eq!(
            v,
            obj(&[
                ("id", s("x")),
                ("nested", Value::List(vec![obj(&[("a", num("1"))])]))
            ])
        );
        // Absent attributes are null in both.
        assert_eq!(
            decode(br#"{"id":"x"}"#, &ty).unwrap(),
            obj(&[("id", s("x")), ("nested", Value::Null)])
        );
    }

    #[test]
    fn errors_carry_the_path() {
        let ty = Type::object([("tags".to_string(), Type::map(Type::list(Type::Bool)))]);
        let err = decode(br#"{"tags":{"a":[true,3]}}"#, &ty).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tags[\"a\"][1]: a bool is required, not a number"
        );
        assert!(decode(b"[1,2", &Type::list(Type::Number)).is_err());
        assert!(decode(br#"[1,2]"#, &Type::Tuple(vec![Type::Number])).is_err());
        assert!(decode(br#"[1]"#, &Type::Tuple(vec![Type::Number, Type::Number])).is_err());
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let deep = "[".repeat(50_000);
        assert!(decode(deep.as_bytes(), &Type::Dynamic).is_err());
        let mut ty = Type::Number;
        for _ in 0..400 {
            ty = Type::list(ty);
        }
        let deep = format!("{}1{}", "[".repeat(400), "]".repeat(400));
        assert!(decode(deep.as_bytes(), &ty).is_err());
    }

    #[test]
    fn deepest_values_fit_a_small_stack() {
        let handle = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(|| {
                let depth = MAX_DEPTH - 1;
                let mut ty = Type::String;
                for _ in 0..depth {
                    ty = Type::list(ty);
                }
                let text = format!("{}\"x\"{}", "[".repeat(depth), "]".repeat(depth));
                let v = decode(text.as_bytes(), &ty).unwrap();
                assert_eq!(encode(&v, &ty).unwrap(), text.as_bytes());
                let wire = crate::framework::value::msgpack::encode(&v, &ty).unwrap();
                assert_eq!(
                    crate::framework::value::msgpack::decode(&wire, &ty).unwrap(),
                    v
                );
                let in_dynamic =
                    crate::framework::value::msgpack::encode(&v, &Type::Dynamic).unwrap();
                assert!(
                    crate::framework::value::msgpack::decode(&in_dynamic, &Type::Dynamic).is_ok()
                );
            })
            .unwrap();
        handle.join().expect("no stack overflow");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn json_round_trips((ty, v) in arb_typed_value(false)) {
            let bytes = encode(&v, &ty).unwrap();
            prop_assert_eq!(decode(&bytes, &ty).unwrap(), v.clone());
            prop_assert_eq!(decode_lenient(&bytes, &ty).unwrap(), v);
            // What we write is JSON any reader accepts.
            prop_assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_ok());
        }
    }
}
