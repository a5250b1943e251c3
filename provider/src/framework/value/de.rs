//! The serde bridge, reading side: [`from_value`] turns a [`Value`] into a typed model.

use std::collections::btree_map;

use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

use super::attr::UNKNOWN_TOKEN;
use super::error::BridgeError;
use super::ser::MAX_BRIDGE_DEPTH;
use super::{Number, Value, ValueError};
use crate::framework::path::AttributePath;

/// Reads a typed model from a value.
///
/// Objects and maps become structs and maps; lists, sets and tuples become sequences (`Vec`,
/// `BTreeSet`, tuples); strings, bools and numbers become their Rust counterparts (integers are
/// range-checked; floats are the nearest `f64`). `Option<T>` takes null as `None`;
/// [`super::Attr`] takes null, unknown and known. A null or unknown value anywhere else is an
/// error naming its path, and so is an unknown in an `Option`. Object attributes the model does
/// not name are ignored (even when unknown). A dynamic value is read as its inner value. serde
/// attributes (`default`, `rename`, `skip`, ...) work as usual.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, ValueError> {
    let root = AttributePath::root();
    T::deserialize(ValueDeserializer {
        value,
        path: root.clone(),
        depth: 0,
    })
    .map_err(|e| ValueError::from(e.within(&root)))
}

/// Deserializes one value at one path.
struct ValueDeserializer<'a> {
    value: &'a Value,
    path: AttributePath,
    /// Enclosing collections, limited like the serializing side (`MAX_BRIDGE_DEPTH`).
    depth: usize,
}

impl<'a> ValueDeserializer<'a> {
    fn fail(&self, message: impl Into<String>) -> BridgeError {
        BridgeError::at(&self.path, message)
    }

    /// The value (through dynamic wrappers), refusing null and unknown.
    fn present(&self) -> Result<&'a Value, BridgeError> {
        match self.value.unwrap_dynamic() {
            Value::Null => Err(self.fail("value is null")),
            Value::Unknown(_) => Err(self.fail("value is unknown")),
            v => Ok(v),
        }
    }

    fn mismatch(&self, v: &Value, wanted: &str) -> BridgeError {
        self.fail(format!("{wanted} is required, not a {}", v.kind()))
    }

    /// Refuses to descend below the depth limit (only recursive model types get there).
    fn descend(&self) -> Result<usize, BridgeError> {
        if self.depth >= MAX_BRIDGE_DEPTH {
            return Err(self.fail(format!(
                "value is nested more than {MAX_BRIDGE_DEPTH} levels deep"
            )));
        }
        Ok(self.depth + 1)
    }

    fn number(&self) -> Result<&'a Number, BridgeError> {
        match self.present()? {
            Value::Number(n) => Ok(n),
            v => Err(self.mismatch(v, "a number")),
        }
    }
}

macro_rules! deserialize_int {
    ($($method:ident $visit:ident $t:ty;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
            let n = self.number()?;
            let v = n
                .as_i64()
                .and_then(|i| <$t>::try_from(i).ok())
                .or_else(|| n.as_u64().and_then(|u| <$t>::try_from(u).ok()))
                .ok_or_else(|| {
                    self.fail(format!("{n} is not an integer in the range of {}", stringify!($t)))
                })?;
            visitor.$visit::<BridgeError>(v).map_err(|e| e.within(&self.path))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'_> {
    type Error = BridgeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
        let path = self.path.clone();
        let r = match self.value.unwrap_dynamic() {
            Value::Null => visitor.visit_unit::<BridgeError>(),
            Value::Unknown(_) => return Err(self.fail("value is unknown")),
            Value::Bool(b) => visitor.visit_bool::<BridgeError>(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => visitor.visit_i64::<BridgeError>(i),
                (None, Some(u)) => visitor.visit_u64::<BridgeError>(u),
                _ => visitor.visit_f64::<BridgeError>(n.as_f64()),
            },
            Value::String(s) => visitor.visit_str::<BridgeError>(s),
            Value::List(_) | Value::Set(_) | Value::Tuple(_) => return seq_any(self, visitor),
            Value::Map(_) | Value::Object(_) => return map_any(self, visitor),
            Value::Dynamic(..) => return Err(self.fail("internal: nested dynamic wrapper")),
        };
        r.map_err(|e| e.within(&path))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
        match self.present()? {
            Value::Bool(b) => visitor
                .visit_bool::<BridgeError>(*b)
                .map_err(|e| e.within(&self.path)),
            v => Err(self.mismatch(v, "a bool")),
        }
    }

    deserialize_int! {
        deserialize_i8 visit_i8 i8;
        deserialize_i16 visit_i16 i16;
        deserialize_i32 visit_i32 i32;
        deserialize_i64 visit_i64 i64;
        deserialize_i128 visit_i128 i128;
        deserialize_u8 visit_u8 u8;
        deserialize_u16 visit_u16 u16;
        deserialize_u32 visit_u32 u32;
        deserialize_u64 visit_u64 u64;
        deserialize_u128 visit_u128 u128;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
        let f = self.number()?.as_f64();
        visitor
            .visit_f32::<BridgeError>(f as f32)
            .map_err(|e| e.within(&self.path))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
        let f = self.number()?.as_f64();
        visitor
            .visit_f64::<BridgeError>(f)
            .map_err(|e| e.within(&self.path))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
        match self.present()? {
            Value::String(s) => visitor
                .visit_str::<BridgeError>(s)
                .map_err(|e| e.within(&self.path)),
            v => Err(self.mismatch(v, "a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
        match self.present()? {
            Value::String(s) => visitor
                .visit_bytes::<BridgeError>(s.as_bytes())
                .map_err(|e| e.within(&self.path)),
            _ => seq_any(self, visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
        match self.value.unwrap_dynamic() {
            Value::Null => visitor
                .visit_none::<BridgeError>()
                .map_err(|e| e.within(&self.path)),
            // Only Attr's visitor accepts the token; any other (Option's) refuses, and then the
            // honest message is that the value is unknown.
            Value::Unknown(_) => visitor
                .visit_str::<BridgeError>(UNKNOWN_TOKEN)
                .map_err(|_| self.fail("value is unknown")),
            _ => {
                let path = self.path.clone();
                visitor.visit_some(self).map_err(|e| e.within(&path))
            }
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
        match self.value.unwrap_dynamic() {
            Value::Null => visitor
                .visit_unit::<BridgeError>()
                .map_err(|e| e.within(&self.path)),
            Value::Unknown(_) => Err(self.fail("value is unknown")),
            v => Err(self.mismatch(v, "null")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, BridgeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, BridgeError> {
        let path = self.path.clone();
        visitor
            .visit_newtype_struct(self)
            .map_err(|e| e.within(&path))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
        seq_any(self, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, BridgeError> {
        seq_any(self, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, BridgeError> {
        seq_any(self, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
        map_any(self, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, BridgeError> {
        map_any(self, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, BridgeError> {
        match self.present()? {
            // A unit variant by name.
            Value::String(s) => {
                let d: StrDeserializer<'_, BridgeError> = s.as_str().into_deserializer();
                visitor.visit_enum(d).map_err(|e| e.within(&self.path))
            }
            // Externally tagged: {variant: content}.
            Value::Map(entries) | Value::Object(entries) if entries.len() == 1 => {
                let Some((variant, content)) = entries.iter().next() else {
                    return Err(self.fail("an enum needs exactly one key"));
                };
                let access = EnumAccess {
                    variant,
                    content: ValueDeserializer {
                        value: content,
                        path: self.path.then_attr(variant.clone()),
                        depth: self.descend()?,
                    },
                };
                visitor.visit_enum(access).map_err(|e| e.within(&self.path))
            }
            v => Err(self.mismatch(v, "a string or a single-key object (an enum)")),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
        // Attributes the model does not name may hold anything, unknowns included.
        visitor.visit_unit::<BridgeError>()
    }
}

/// `visit_seq` for any visitor lifetime (the values are owned by the caller, not borrowed).
fn seq_any<'de, V: Visitor<'de>>(
    d: ValueDeserializer<'_>,
    visitor: V,
) -> Result<V::Value, BridgeError> {
    match d.present()? {
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            let access = SeqAccess {
                iter: items.iter(),
                index: 0,
                path: &d.path,
                depth: d.descend()?,
            };
            visitor.visit_seq(access).map_err(|e| e.within(&d.path))
        }
        v => Err(d.mismatch(v, "a list, set or tuple")),
    }
}

/// `visit_map` for any visitor lifetime.
fn map_any<'de, V: Visitor<'de>>(
    d: ValueDeserializer<'_>,
    visitor: V,
) -> Result<V::Value, BridgeError> {
    let v = d.present()?;
    match v {
        Value::Map(entries) | Value::Object(entries) => {
            let access = MapAccess {
                iter: entries.iter(),
                pending: None,
                is_object: matches!(v, Value::Object(_)),
                path: &d.path,
                depth: d.descend()?,
            };
            visitor.visit_map(access).map_err(|e| e.within(&d.path))
        }
        v => Err(d.mismatch(v, "an object or map")),
    }
}

struct SeqAccess<'a, 'p> {
    iter: std::slice::Iter<'a, Value>,
    index: usize,
    path: &'p AttributePath,
    depth: usize,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_, '_> {
    type Error = BridgeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, BridgeError> {
        let Some(value) = self.iter.next() else {
            return Ok(None);
        };
        let path = self.path.then_index(self.index);
        self.index += 1;
        seed.deserialize(ValueDeserializer {
            value,
            path: path.clone(),
            depth: self.depth,
        })
        .map(Some)
        .map_err(|e| e.within(&path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapAccess<'a, 'p> {
    iter: btree_map::Iter<'a, String, Value>,
    pending: Option<(&'a String, &'a Value)>,
    is_object: bool,
    path: &'p AttributePath,
    depth: usize,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, '_> {
    type Error = BridgeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, BridgeError> {
        let Some((k, v)) = self.iter.next() else {
            return Ok(None);
        };
        self.pending = Some((k, v));
        let d: StrDeserializer<'_, BridgeError> = k.as_str().into_deserializer();
        seed.deserialize(d).map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, BridgeError> {
        let Some((k, value)) = self.pending.take() else {
            return Err(BridgeError::at(
                self.path,
                "internal: map value requested before its key",
            ));
        };
        let path = if self.is_object {
            self.path.then_attr(k.clone())
        } else {
            self.path.then_key(k.clone())
        };
        seed.deserialize(ValueDeserializer {
            value,
            path: path.clone(),
            depth: self.depth,
        })
        .map_err(|e| e.within(&path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct EnumAccess<'a> {
    variant: &'a str,
    content: ValueDeserializer<'a>,
}

impl<'de, 'a> de::EnumAccess<'de> for EnumAccess<'a> {
    type Error = BridgeError;
    type Variant = ValueDeserializer<'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), BridgeError> {
        let d: StrDeserializer<'_, BridgeError> = self.variant.into_deserializer();
        Ok((seed.deserialize(d)?, self.content))
    }
}

impl<'de> de::VariantAccess<'de> for ValueDeserializer<'_> {
    type Error = BridgeError;

    fn unit_variant(self) -> Result<(), BridgeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, BridgeError> {
        let path = self.path.clone();
        seed.deserialize(self).map_err(|e| e.within(&path))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, BridgeError> {
        seq_any(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, BridgeError> {
        map_any(self, visitor)
    }
}

/// The field names a serde struct reads (after `rename`), taken from its `Deserialize` impl
/// without a value: what a model can hold. `None` when `T` is not read as a plain struct (a map,
/// `flatten`), which the framework cannot check.
pub fn struct_fields<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    /// A deserializer that records the fields `deserialize_struct` is asked for, then stops.
    struct Probe(Option<&'static [&'static str]>);

    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("probe")
        }
    }
    impl std::error::Error for Stop {}
    impl de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }

    impl<'de> de::Deserializer<'de> for &mut Probe {
        type Error = Stop;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = Some(fields);
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    let mut probe = Probe(None);
    let _ = T::deserialize(&mut probe);
    probe.0
}
