//! The serde bridge, writing side: [`to_value`] turns a typed model into a [`Value`] of a type.
//!
//! Two passes: serde writes the model into an untyped [`Shape`] (serde alone cannot know whether a
//! `Vec` is a list, a set or a tuple), then the shape is converted against the schema type, which
//! decides. In `dynamic` slots the type is inferred from the shape instead.

use std::collections::BTreeMap;

use serde::ser::{self, Serialize};

use super::attr::UNKNOWN_TOKEN;
use super::error::BridgeError;
use super::{Number, Type, Value, ValueError};
use crate::framework::path::AttributePath;

/// Writes a typed model as a value of type `ty` (usually a schema's object type).
///
/// Type-directed: Rust sequences become a list, a set (canonicalised) or a tuple as `ty` says;
/// structs and maps become an object or a map. Object attributes the model lacks (or skips) are
/// null; a model field the type lacks is an error (model and schema disagree: a provider bug).
/// `None` and [`super::Attr::Null`] are null, [`super::Attr::Unknown`] is unknown; integers and
/// floats are numbers (NaN and infinities are an error); unit variants are strings. In a
/// `dynamic` slot the concrete type is inferred from the shape (a homogeneous sequence is a list,
/// else a tuple; a struct is an object; a homogeneous map is a map) and the value wrapped in
/// [`Value::Dynamic`].
pub fn to_value<T: Serialize + ?Sized>(model: &T, ty: &Type) -> Result<Value, ValueError> {
    let root = AttributePath::root();
    let shape = model
        .serialize(ShapeSerializer { depth: 0 })
        .map_err(|e| ValueError::from(e.within(&root)))?;
    convert(shape, ty, &root).map_err(ValueError::from)
}

/// What serde wrote, before types are applied.
#[derive(Debug)]
enum Shape {
    Null,
    Unknown,
    Bool(bool),
    Number(Number),
    /// A float that is not a cty number (NaN, ±inf): an error once its path is known.
    BadFloat(f64),
    String(String),
    Bytes(Vec<u8>),
    Seq(Vec<Shape>),
    /// From `serialize_map`: keys are shapes too (converted to strings with a path).
    Map(Vec<(Shape, Shape)>),
    /// From structs and struct variants.
    Struct(Vec<(&'static str, Shape)>),
}

impl Shape {
    fn kind(&self) -> &'static str {
        match self {
            Shape::Null => "null",
            Shape::Unknown => "unknown",
            Shape::Bool(_) => "bool",
            Shape::Number(_) | Shape::BadFloat(_) => "number",
            Shape::String(_) => "string",
            Shape::Bytes(_) => "byte string",
            Shape::Seq(_) => "sequence",
            Shape::Map(_) => "map",
            Shape::Struct(_) => "struct",
        }
    }
}

fn mismatch(path: &AttributePath, shape: &Shape, ty: &Type) -> BridgeError {
    BridgeError::at(
        path,
        format!(
            "the model has a {} where the schema type is {} \
             (model and schema disagree: a provider bug)",
            shape.kind(),
            ty.friendly_name()
        ),
    )
}

fn map_key(key: Shape, path: &AttributePath) -> Result<String, BridgeError> {
    match key {
        Shape::String(s) => Ok(s),
        Shape::Number(n) => Ok(n.to_string()),
        Shape::Bool(b) => Ok(b.to_string()),
        other => Err(BridgeError::at(
            path,
            format!(
                "map keys must be strings, numbers or bools, not a {}",
                other.kind()
            ),
        )),
    }
}

/// Entries of a map or struct shape with string keys.
fn entries(shape: Shape, path: &AttributePath) -> Result<Vec<(String, Shape)>, BridgeError> {
    match shape {
        Shape::Map(entries) => entries
            .into_iter()
            .map(|(k, v)| Ok((map_key(k, path)?, v)))
            .collect(),
        Shape::Struct(fields) => Ok(fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()),
        _ => Ok(Vec::new()),
    }
}

fn string_from_bytes(bytes: Vec<u8>, path: &AttributePath) -> Result<String, BridgeError> {
    String::from_utf8(bytes)
        .map_err(|_| BridgeError::at(path, "bytes are not UTF-8, so not a string"))
}

fn number(shape: &Shape, path: &AttributePath) -> Option<Result<Number, BridgeError>> {
    match shape {
        Shape::Number(n) => Some(Ok(n.clone())),
        Shape::BadFloat(f) => Some(Err(BridgeError::at(
            path,
            format!("{f} is not a number Terraform can hold"),
        ))),
        _ => None,
    }
}

/// Applies the schema type to a shape.
fn convert(shape: Shape, ty: &Type, path: &AttributePath) -> Result<Value, BridgeError> {
    if let Type::Dynamic = ty {
        let (t, v) = infer(shape, path)?;
        return Ok(match t {
            // Null and unknown of unknown type stay bare.
            Type::Dynamic => v,
            t => Value::Dynamic(t, Box::new(v)),
        });
    }
    match (shape, ty) {
        (Shape::Null, _) => Ok(Value::Null),
        (Shape::Unknown, _) => Ok(Value::unknown()),
        (Shape::Bool(b), Type::Bool) => Ok(Value::Bool(b)),
        (s @ (Shape::Number(_) | Shape::BadFloat(_)), Type::Number) => match number(&s, path) {
            Some(n) => n.map(Value::Number),
            None => Err(mismatch(path, &s, ty)),
        },
        (Shape::String(s), Type::String) => Ok(Value::String(s)),
        (Shape::Bytes(b), Type::String) => string_from_bytes(b, path).map(Value::String),
        (Shape::Seq(items), Type::List(elem)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| convert(item, elem, &path.then_index(i)))
            .collect::<Result<_, _>>()
            .map(Value::List),
        (Shape::Seq(items), Type::Set(elem)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| convert(item, elem, &path.then_index(i)))
            .collect::<Result<_, _>>()
            .map(Value::set),
        (Shape::Seq(items), Type::Tuple(elems)) => {
            if items.len() != elems.len() {
                return Err(BridgeError::at(
                    path,
                    format!(
                        "the model has {} elements where the schema's tuple has {} (a provider bug)",
                        items.len(),
                        elems.len()
                    ),
                ));
            }
            items
                .into_iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (item, t))| convert(item, t, &path.then_index(i)))
                .collect::<Result<_, _>>()
                .map(Value::Tuple)
        }
        (shape @ (Shape::Map(_) | Shape::Struct(_)), Type::Map(elem)) => {
            let mut out = BTreeMap::new();
            for (k, v) in entries(shape, path)? {
                let p = path.then_key(k.clone());
                let v = convert(v, elem, &p)?;
                if out.insert(k, v).is_some() {
                    return Err(BridgeError::at(&p, "the model has this key twice"));
                }
            }
            Ok(Value::Map(out))
        }
        (shape @ (Shape::Map(_) | Shape::Struct(_)), Type::Object { attributes, .. }) => {
            let mut out = BTreeMap::new();
            for (k, v) in entries(shape, path)? {
                let p = path.then_attr(k.clone());
                let Some(aty) = attributes.get(&k) else {
                    return Err(BridgeError::at(
                        &p,
                        "the model has this field but the schema type has no such attribute \
                         (model and schema disagree: a provider bug)",
                    ));
                };
                let v = convert(v, aty, &p)?;
                if out.insert(k, v).is_some() {
                    return Err(BridgeError::at(&p, "the model has this field twice"));
                }
            }
            for name in attributes.keys() {
                if !out.contains_key(name) {
                    out.insert(name.clone(), Value::Null);
                }
            }
            Ok(Value::Object(out))
        }
        (shape, ty) => Err(mismatch(path, &shape, ty)),
    }
}

/// The more specific of two inferred types, treating `dynamic` (from nulls, unknowns and empty
/// collections, whose values fit any type) as a wildcard; `None` when they conflict.
fn unify(a: &Type, b: &Type) -> Option<Type> {
    Some(match (a, b) {
        (Type::Dynamic, t) | (t, Type::Dynamic) => t.clone(),
        (Type::List(x), Type::List(y)) => Type::list(unify(x, y)?),
        (Type::Set(x), Type::Set(y)) => Type::set(unify(x, y)?),
        (Type::Map(x), Type::Map(y)) => Type::map(unify(x, y)?),
        (Type::Tuple(xs), Type::Tuple(ys)) if xs.len() == ys.len() => Type::Tuple(
            xs.iter()
                .zip(ys)
                .map(|(x, y)| unify(x, y))
                .collect::<Option<_>>()?,
        ),
        (
            Type::Object {
                attributes: xa,
                optional: xo,
            },
            Type::Object { attributes: ya, .. },
        ) if xa.len() == ya.len() && xa.keys().eq(ya.keys()) => Type::Object {
            attributes: xa
                .iter()
                .zip(ya.values())
                .map(|((k, x), y)| Some((k.clone(), unify(x, y)?)))
                .collect::<Option<_>>()?,
            optional: xo.clone(),
        },
        (x, y) if x == y => x.clone(),
        _ => return None,
    })
}

/// A common element type for inferred collection elements, if they have one.
fn common_type<'a>(types: impl Iterator<Item = &'a Type>) -> Option<Type> {
    let mut acc = Type::Dynamic;
    for t in types {
        acc = unify(&acc, t)?;
    }
    Some(acc)
}

/// Infers a concrete type for a shape in a `dynamic` slot; the value conforms to it (unwrapped).
/// Null and unknown have type `dynamic`.
fn infer(shape: Shape, path: &AttributePath) -> Result<(Type, Value), BridgeError> {
    // Plain loops and one function per kind: this recursion follows the model's nesting, and
    // iterator adapters would add several large unoptimised frames per level.
    Ok(match shape {
        Shape::Null => (Type::Dynamic, Value::Null),
        Shape::Unknown => (Type::Dynamic, Value::unknown()),
        Shape::Bool(b) => (Type::Bool, Value::Bool(b)),
        s @ (Shape::Number(_) | Shape::BadFloat(_)) => match number(&s, path) {
            Some(n) => (Type::Number, Value::Number(n?)),
            None => return Err(mismatch(path, &s, &Type::Number)),
        },
        Shape::String(s) => (Type::String, Value::String(s)),
        Shape::Bytes(b) => (Type::String, Value::String(string_from_bytes(b, path)?)),
        Shape::Seq(items) => infer_seq(items, path)?,
        shape @ Shape::Map(_) => infer_entries(shape, path, true)?,
        shape @ Shape::Struct(_) => infer_entries(shape, path, false)?,
    })
}

fn infer_seq(items: Vec<Shape>, path: &AttributePath) -> Result<(Type, Value), BridgeError> {
    let mut types = Vec::with_capacity(items.len());
    let mut values = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let (t, v) = infer(item, &path.then_index(i))?;
        types.push(t);
        values.push(v);
    }
    Ok(match common_type(types.iter()) {
        Some(elem) => (Type::list(elem), Value::List(values)),
        None => (Type::Tuple(types), Value::Tuple(values)),
    })
}

/// A map (`as_map`: keyed by element, a map type when its values agree) or a struct (an object).
fn infer_entries(
    shape: Shape,
    path: &AttributePath,
    as_map: bool,
) -> Result<(Type, Value), BridgeError> {
    let mut typed = Vec::new();
    for (k, v) in entries(shape, path)? {
        let p = if as_map {
            path.then_key(k.clone())
        } else {
            path.then_attr(k.clone())
        };
        let (t, v) = infer(v, &p)?;
        typed.push((k, t, v));
    }
    if as_map {
        if let Some(elem) = common_type(typed.iter().map(|(_, t, _)| t)) {
            let mut values = BTreeMap::new();
            for (k, _, v) in typed {
                values.insert(k, v);
            }
            return Ok((Type::map(elem), Value::Map(values)));
        }
    }
    Ok(object_of(typed))
}

fn object_of(typed: Vec<(String, Type, Value)>) -> (Type, Value) {
    let mut attributes = BTreeMap::new();
    let mut values = BTreeMap::new();
    for (k, t, v) in typed {
        attributes.insert(k.clone(), t);
        values.insert(k, v);
    }
    (Type::object(attributes), Value::Object(values))
}

/// Models nested deeper than this (only recursive types such as `serde_json::Value` can be) are
/// refused rather than risking the stack.
pub(crate) const MAX_BRIDGE_DEPTH: usize = 128;

/// serde's side: writes anything serializable as a [`Shape`]. `depth` counts enclosing
/// sequences, maps and structs.
#[derive(Clone, Copy)]
struct ShapeSerializer {
    depth: usize,
}

impl ShapeSerializer {
    /// The serializer for the elements of a compound value at this depth.
    fn nested(self) -> Result<ShapeSerializer, BridgeError> {
        if self.depth >= MAX_BRIDGE_DEPTH {
            return Err(ser::Error::custom(format!(
                "the model is nested more than {MAX_BRIDGE_DEPTH} levels deep"
            )));
        }
        Ok(ShapeSerializer {
            depth: self.depth + 1,
        })
    }
}

struct SeqShape(Vec<Shape>, ShapeSerializer);
struct VariantSeqShape(&'static str, Vec<Shape>, ShapeSerializer);
struct MapShape {
    entries: Vec<(Shape, Shape)>,
    key: Option<Shape>,
    child: ShapeSerializer,
}
struct StructShape(Vec<(&'static str, Shape)>, ShapeSerializer);
struct VariantStructShape(&'static str, Vec<(&'static str, Shape)>, ShapeSerializer);

fn tagged(variant: &'static str, content: Shape) -> Shape {
    // serde's external tagging: {variant: content}.
    Shape::Map(vec![(Shape::String(variant.to_string()), content)])
}

impl ser::Serializer for ShapeSerializer {
    type Ok = Shape;
    type Error = BridgeError;
    type SerializeSeq = SeqShape;
    type SerializeTuple = SeqShape;
    type SerializeTupleStruct = SeqShape;
    type SerializeTupleVariant = VariantSeqShape;
    type SerializeMap = MapShape;
    type SerializeStruct = StructShape;
    type SerializeStructVariant = VariantStructShape;

    fn serialize_bool(self, v: bool) -> Result<Shape, BridgeError> {
        Ok(Shape::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Shape, BridgeError> {
        Ok(Shape::Number(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Shape, BridgeError> {
        Ok(Shape::Number(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Shape, BridgeError> {
        Ok(Shape::Number(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Shape, BridgeError> {
        Ok(Shape::Number(v.into()))
    }
    fn serialize_i128(self, v: i128) -> Result<Shape, BridgeError> {
        Number::parse(&v.to_string())
            .map(Shape::Number)
            .ok_or_else(|| ser::Error::custom("integer out of range"))
    }
    fn serialize_u8(self, v: u8) -> Result<Shape, BridgeError> {
        Ok(Shape::Number(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Shape, BridgeError> {
        Ok(Shape::Number(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Shape, BridgeError> {
        Ok(Shape::Number(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Shape, BridgeError> {
        Ok(Shape::Number(v.into()))
    }
    fn serialize_u128(self, v: u128) -> Result<Shape, BridgeError> {
        Number::parse(&v.to_string())
            .map(Shape::Number)
            .ok_or_else(|| ser::Error::custom("integer out of range"))
    }
    fn serialize_f32(self, v: f32) -> Result<Shape, BridgeError> {
        // Through the shortest f32 text, so that 0.1_f32 is 0.1 and not 0.10000000149011612.
        if !v.is_finite() {
            return Ok(Shape::BadFloat(f64::from(v)));
        }
        Ok(Number::parse(&format!("{v:e}")).map_or(Shape::BadFloat(f64::from(v)), Shape::Number))
    }
    fn serialize_f64(self, v: f64) -> Result<Shape, BridgeError> {
        Ok(Number::from_f64(v).map_or(Shape::BadFloat(v), Shape::Number))
    }
    fn serialize_char(self, v: char) -> Result<Shape, BridgeError> {
        Ok(Shape::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Shape, BridgeError> {
        Ok(Shape::String(v.to_string()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Shape, BridgeError> {
        Ok(Shape::Bytes(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Shape, BridgeError> {
        Ok(Shape::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Shape, BridgeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Shape, BridgeError> {
        Ok(Shape::Null)
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<Shape, BridgeError> {
        Ok(if name == UNKNOWN_TOKEN {
            Shape::Unknown
        } else {
            Shape::Null
        })
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Shape, BridgeError> {
        Ok(Shape::String(variant.to_string()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Shape, BridgeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Shape, BridgeError> {
        Ok(tagged(variant, value.serialize(self.nested()?)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqShape, BridgeError> {
        // serde's length hint comes from the model in memory, not from input: safe to trust.
        Ok(SeqShape(
            Vec::with_capacity(len.unwrap_or(0)),
            self.nested()?,
        ))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqShape, BridgeError> {
        Ok(SeqShape(Vec::with_capacity(len), self.nested()?))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqShape, BridgeError> {
        Ok(SeqShape(Vec::with_capacity(len), self.nested()?))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSeqShape, BridgeError> {
        Ok(VariantSeqShape(
            variant,
            Vec::with_capacity(len),
            self.nested()?,
        ))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapShape, BridgeError> {
        Ok(MapShape {
            entries: Vec::new(),
            key: None,
            child: self.nested()?,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<StructShape, BridgeError> {
        Ok(StructShape(Vec::with_capacity(len), self.nested()?))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantStructShape, BridgeError> {
        Ok(VariantStructShape(
            variant,
            Vec::with_capacity(len),
            self.nested()?,
        ))
    }
}

impl ser::SerializeSeq for SeqShape {
    type Ok = Shape;
    type Error = BridgeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), BridgeError> {
        self.0.push(value.serialize(self.1)?);
        Ok(())
    }
    fn end(self) -> Result<Shape, BridgeError> {
        Ok(Shape::Seq(self.0))
    }
}

impl ser::SerializeTuple for SeqShape {
    type Ok = Shape;
    type Error = BridgeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), BridgeError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Shape, BridgeError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqShape {
    type Ok = Shape;
    type Error = BridgeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), BridgeError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Shape, BridgeError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleVariant for VariantSeqShape {
    type Ok = Shape;
    type Error = BridgeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), BridgeError> {
        self.1.push(value.serialize(self.2)?);
        Ok(())
    }
    fn end(self) -> Result<Shape, BridgeError> {
        Ok(tagged(self.0, Shape::Seq(self.1)))
    }
}

impl ser::SerializeMap for MapShape {
    type Ok = Shape;
    type Error = BridgeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), BridgeError> {
        self.key = Some(key.serialize(self.child)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), BridgeError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| <BridgeError as ser::Error>::custom("map value without a key"))?;
        self.entries.push((key, value.serialize(self.child)?));
        Ok(())
    }
    fn end(self) -> Result<Shape, BridgeError> {
        Ok(Shape::Map(self.entries))
    }
}

impl ser::SerializeStruct for StructShape {
    type Ok = Shape;
    type Error = BridgeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), BridgeError> {
        self.0.push((key, value.serialize(self.1)?));
        Ok(())
    }
    fn end(self) -> Result<Shape, BridgeError> {
        Ok(Shape::Struct(self.0))
    }
}

impl ser::SerializeStructVariant for VariantStructShape {
    type Ok = Shape;
    type Error = BridgeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), BridgeError> {
        self.1.push((key, value.serialize(self.2)?));
        Ok(())
    }
    fn end(self) -> Result<Shape, BridgeError> {
        Ok(tagged(self.0, Shape::Struct(self.1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::value::{from_value, msgpack, Attr};
    use serde::{Deserialize, Serialize};
    use std::collections::{BTreeSet, HashMap};

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    fn num(v: i64) -> Value {
        Value::Number(v.into())
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Fast,
        Safe,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Rule {
        name: String,
        priority: u16,
        #[serde(default)]
        note: Option<String>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Model {
        id: Attr<String>,
        #[serde(rename = "display_name")]
        name: String,
        size: Attr<i64>,
        ratio: f64,
        enabled: bool,
        tags: BTreeMap<String, String>,
        labels: HashMap<String, i32>,
        members: BTreeSet<String>,
        rules: Vec<Rule>,
        pair: (String, u8),
        mode: Mode,
        extra: Attr<serde_json::Value>,
        maybe: Option<Vec<String>>,
        #[serde(skip)]
        cache: u32,
    }

    fn model_type() -> Type {
        let rule = Type::object([
            ("name".to_string(), Type::String),
            ("priority".to_string(), Type::Number),
            ("note".to_string(), Type::String),
        ]);
        Type::object([
            ("id".to_string(), Type::String),
            ("display_name".to_string(), Type::String),
            ("size".to_string(), Type::Number),
            ("ratio".to_string(), Type::Number),
            ("enabled".to_string(), Type::Bool),
            ("tags".to_string(), Type::map(Type::String)),
            ("labels".to_string(), Type::map(Type::Number)),
            ("members".to_string(), Type::set(Type::String)),
            ("rules".to_string(), Type::list(rule)),
            (
                "pair".to_string(),
                Type::Tuple(vec![Type::String, Type::Number]),
            ),
            ("mode".to_string(), Type::String),
            ("extra".to_string(), Type::Dynamic),
            ("maybe".to_string(), Type::list(Type::String)),
            ("unused".to_string(), Type::Bool),
        ])
    }

    fn model() -> Model {
        Model {
            id: Attr::Unknown,
            name: "db".into(),
            size: Attr::Known(10),
            ratio: 0.25,
            enabled: true,
            tags: [("env".to_string(), "prod".to_string())]
                .into_iter()
                .collect(),
            labels: [("a".to_string(), -3)].into_iter().collect(),
            members: ["b".to_string(), "a".to_string()].into_iter().collect(),
            rules: vec![
                Rule {
                    name: "r1".into(),
                    priority: 1,
                    note: None,
                },
                Rule {
                    name: "r2".into(),
                    priority: 65535,
                    note: Some("n".into()),
                },
            ],
            pair: ("p".into(), 7),
            mode: Mode::Safe,
            extra: Attr::Known(serde_json::json!({"k": [1, 2], "s": "x"})),
            maybe: None,
            cache: 0,
        }
    }

    #[test]
    fn models_round_trip_through_values_and_msgpack() {
        let ty = model_type();
        let m = model();
        let v = to_value(&m, &ty).unwrap();
        assert_eq!(v.get_attr("id"), Some(&Value::unknown()));
        assert_eq!(v.get_attr("unused"), Some(&Value::Null));
        assert_eq!(
            v.get_attr("members"),
            Some(&Value::Set(vec![s("a"), s("b")]))
        );
        assert_eq!(
            v.get_attr("pair"),
            Some(&Value::Tuple(vec![s("p"), num(7)]))
        );
        assert_eq!(v.get_attr("mode"), Some(&s("safe")));
        let extra = v.get_attr("extra").unwrap();
        let Value::Dynamic(ety, _) = extra else {
            panic!("not dynamic: {extra:?}")
        };
        assert_eq!(
            String::from_utf8(ety.to_json()).unwrap(),
            r#"["object",{"k":["list","number"],"s":"string"}]"#
        );
        let back: Model = from_value(&v).unwrap();
        assert_eq!(back, m);
        let wire = msgpack::decode(&msgpack::encode(&v, &ty).unwrap(), &ty).unwrap();
        assert_eq!(wire, v);
        assert_eq!(from_value::<Model>(&wire).unwrap(), m);
    }

    #[test]
    fn null_and_unknown_need_attr_or_option() {
        let ty = model_type();
        let mut v = to_value(&model(), &ty).unwrap();
        if let Value::Object(attrs) = &mut v {
            attrs.insert("display_name".into(), Value::unknown());
        }
        let err = from_value::<Model>(&v).unwrap_err();
        assert_eq!(err.to_string(), "display_name: value is unknown");
        if let Value::Object(attrs) = &mut v {
            attrs.insert("display_name".into(), Value::Null);
        }
        assert_eq!(
            from_value::<Model>(&v).unwrap_err().to_string(),
            "display_name: value is null"
        );
        if let Value::Object(attrs) = &mut v {
            attrs.insert("display_name".into(), s("x"));
            attrs.insert("maybe".into(), Value::unknown());
        }
        assert_eq!(
            from_value::<Model>(&v).unwrap_err().to_string(),
            "maybe: value is unknown"
        );
        if let Value::Object(attrs) = &mut v {
            attrs.insert("maybe".into(), Value::Null);
            // An unknown in an attribute the model ignores is fine.
            attrs.insert("unused".into(), Value::unknown());
            attrs.insert(
                "rules".into(),
                Value::List(vec![Value::Object(
                    [
                        ("name".to_string(), s("r")),
                        ("priority".to_string(), num(70000)),
                    ]
                    .into_iter()
                    .collect(),
                )]),
            );
        }
        assert_eq!(
            from_value::<Model>(&v).unwrap_err().to_string(),
            "rules[0].priority: 70000 is not an integer in the range of u16"
        );
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Small {
        a: Attr<String>,
        b: Option<i32>,
        #[serde(default)]
        c: Vec<String>,
    }

    #[test]
    fn missing_fields_default_like_option() {
        let v = Value::Object(BTreeMap::new());
        let m: Small = from_value(&v).unwrap();
        assert_eq!(
            m,
            Small {
                a: Attr::Null,
                b: None,
                c: vec![]
            }
        );
        #[derive(Debug, Deserialize)]
        struct Needs {
            #[allow(dead_code)]
            x: String,
        }
        assert_eq!(
            from_value::<Needs>(&Value::Object(BTreeMap::new()))
                .unwrap_err()
                .to_string(),
            "missing field `x`"
        );
        let nested = Value::Object(
            [("n".to_string(), Value::Object(BTreeMap::new()))]
                .into_iter()
                .collect(),
        );
        #[derive(Debug, Deserialize)]
        struct Outer {
            #[allow(dead_code)]
            n: Needs,
        }
        assert_eq!(
            from_value::<Outer>(&nested).unwrap_err().to_string(),
            "n: missing field `x`"
        );
    }

    #[test]
    fn model_schema_mismatches_are_provider_bugs() {
        let ty = Type::object([("a".to_string(), Type::String)]);
        let err = to_value(
            &Small {
                a: Attr::Known("x".into()),
                b: Some(1),
                c: vec![],
            },
            &ty,
        )
        .unwrap_err();
        assert_eq!(err.path, AttributePath::attr("b"));
        assert!(err.message.contains("provider bug"), "{err}");
        let ty = Type::object([
            ("a".to_string(), Type::Number),
            ("b".to_string(), Type::Number),
            ("c".to_string(), Type::list(Type::String)),
        ]);
        let err = to_value(
            &Small {
                a: Attr::Known("x".into()),
                b: None,
                c: vec![],
            },
            &ty,
        )
        .unwrap_err();
        assert_eq!(err.path, AttributePath::attr("a"));
        assert!(to_value(&f64::NAN, &Type::Number).is_err());
    }

    #[test]
    fn dynamic_inference() {
        let v = to_value(&vec![1, 2], &Type::Dynamic).unwrap();
        assert_eq!(
            v,
            Value::Dynamic(
                Type::list(Type::Number),
                Box::new(Value::List(vec![num(1), num(2)]))
            )
        );
        let v = to_value(&("a", 1), &Type::Dynamic).unwrap();
        assert_eq!(
            v,
            Value::Dynamic(
                Type::Tuple(vec![Type::String, Type::Number]),
                Box::new(Value::Tuple(vec![s("a"), num(1)]))
            )
        );
        let v = to_value(&vec![Some("x"), None], &Type::Dynamic).unwrap();
        assert_eq!(
            v,
            Value::Dynamic(
                Type::list(Type::String),
                Box::new(Value::List(vec![s("x"), Value::Null]))
            )
        );
        assert_eq!(
            to_value(&None::<String>, &Type::Dynamic).unwrap(),
            Value::Null
        );
        assert_eq!(
            to_value(&Attr::<String>::Unknown, &Type::Dynamic).unwrap(),
            Value::unknown()
        );
        let map: BTreeMap<&str, i32> = [("a", 1)].into_iter().collect();
        let v = to_value(&map, &Type::Dynamic).unwrap();
        assert_eq!(
            v,
            Value::Dynamic(
                Type::map(Type::Number),
                Box::new(Value::Map(
                    [("a".to_string(), num(1))].into_iter().collect()
                ))
            )
        );
        // Round trip through the wire and back into the model.
        let wire = msgpack::decode(
            &msgpack::encode(&v, &Type::Dynamic).unwrap(),
            &Type::Dynamic,
        )
        .unwrap();
        assert_eq!(
            from_value::<BTreeMap<String, i32>>(&wire).unwrap(),
            [("a".to_string(), 1)].into_iter().collect()
        );
    }

    #[test]
    fn enums_and_numbers() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        enum Shape {
            Circle { r: f64 },
            Named(String),
            Empty,
        }
        let ty = Type::list(Type::Dynamic);
        let shapes = vec![
            Shape::Circle { r: 1.5 },
            Shape::Named("n".into()),
            Shape::Empty,
        ];
        let v = to_value(&shapes, &ty).unwrap();
        assert_eq!(from_value::<Vec<Shape>>(&v).unwrap(), shapes);
        assert_eq!(
            from_value::<u64>(&Value::Number(Number::from(u64::MAX))).unwrap(),
            u64::MAX
        );
        assert!(from_value::<i64>(&Value::Number(Number::from(u64::MAX))).is_err());
        assert!(from_value::<i32>(&Value::Number(Number::parse("1.5").unwrap())).is_err());
        assert_eq!(
            from_value::<f32>(&Value::Number(Number::parse("0.1").unwrap())).unwrap(),
            0.1f32
        );
        assert_eq!(
            to_value(&0.1f32, &Type::Number).unwrap(),
            Value::Number(Number::parse("0.1").unwrap())
        );
        assert_eq!(from_value::<i128>(&num(-5)).unwrap(), -5);
        assert_eq!(from_value::<char>(&s("x")).unwrap(), 'x');
        // Dynamic wrappers are transparent when reading.
        let d = Value::Dynamic(Type::String, Box::new(s("in")));
        assert_eq!(from_value::<String>(&d).unwrap(), "in");
        assert_eq!(
            from_value::<serde_json::Value>(&d).unwrap(),
            serde_json::json!("in")
        );
    }

    /// Runs `f` on a 1 MiB stack (half of what test threads and tokio workers get).
    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(f)
            .unwrap()
            .join()
            .expect("no stack overflow")
    }

    #[test]
    fn deep_models_are_refused_not_overflowed() {
        let deep_value = |n: usize| {
            let mut v = s("x");
            for _ in 0..n {
                v = Value::List(vec![v]);
            }
            v
        };
        let deep_json = |n: usize| {
            let mut j = serde_json::Value::Null;
            for _ in 0..n {
                j = serde_json::Value::Array(vec![j]);
            }
            j
        };
        let max = MAX_BRIDGE_DEPTH;
        on_small_stack(move || {
            assert!(from_value::<serde_json::Value>(&deep_value(max)).is_ok());
            let err = from_value::<serde_json::Value>(&deep_value(max + 1)).unwrap_err();
            assert!(err.message.contains("nested"), "{err}");
            assert!(to_value(&deep_json(max), &Type::Dynamic).is_ok());
            let err = to_value(&deep_json(max + 1), &Type::Dynamic).unwrap_err();
            assert!(err.message.contains("nested"), "{err}");
        });
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        #[test]
        fn typical_models_round_trip(
            name in ".{0,8}",
            size in proptest::option::of(proptest::prelude::any::<i64>()),
            ratio in -1e9..1e9f64,
            tags in proptest::collection::btree_map(".{0,5}", ".{0,5}", 0..4),
            members in proptest::collection::btree_set(".{0,5}", 0..4),
            unknown_id in proptest::prelude::any::<bool>(),
        ) {
            let mut m = model();
            m.name = name;
            m.size = size.into();
            m.ratio = ratio;
            m.tags = tags;
            m.members = members;
            m.id = if unknown_id { Attr::Unknown } else { Attr::Known("id".into()) };
            let ty = model_type();
            let v = to_value(&m, &ty).unwrap();
            proptest::prop_assert_eq!(from_value::<Model>(&v).unwrap(), m.clone());
            let wire = msgpack::decode(&msgpack::encode(&v, &ty).unwrap(), &ty).unwrap();
            proptest::prop_assert_eq!(from_value::<Model>(&wire).unwrap(), m);
        }
    }
}
