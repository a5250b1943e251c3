//! The msgpack value format of `DynamicValue.msgpack` (go-cty's `cty/msgpack`).
//!
//! - null is nil; any extension reads as unknown, and extension 12 with a payload carries
//!   refinements (malformed ones are dropped). An unknown is written as fixext1 `d4 00 00`, or,
//!   when it carries refinements that apply to its type (as decoded from Terraform), as
//!   extension 12 the way go-cty writes it;
//! - numbers are ints, floats or decimal strings; strings are str (bin accepted);
//! - list/set/tuple are arrays, map/object are maps keyed by name;
//! - a `dynamic` slot holds `[type JSON, value]`, except that a null of unknown type is nil and an
//!   unknown of unknown type is the bare extension.
//!
//! The decoder is meant for untrusted bytes: it never panics, limits nesting to [`MAX_DEPTH`],
//! checks every length prefix against the bytes that remain before allocating, and rejects
//! trailing bytes.

use std::collections::BTreeMap;
use std::convert::Infallible;

use rmp::encode::{self as enc, ByteBuf, ValueWriteError};
use rmp::Marker;

use super::ty_json::type_from_json_limited;
use super::{Number, Refinement, Type, Value, ValueError};
use crate::framework::path::PathStep;

/// Values nested deeper than this are refused (by both directions). The type JSON of a dynamic
/// value shares the budget: at depth `d` its arrays may nest at most `MAX_DEPTH - d` deep.
pub const MAX_DEPTH: usize = 256;

/// The extension code of a refined unknown.
const REFINED_UNKNOWN_EXT: i8 = 12;

/// Fallback element type for closures that must return a type reference.
static DYNAMIC: Type = Type::Dynamic;

/// Decodes msgpack `bytes` as a value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    let mut d = Decoder {
        r: Reader { buf: bytes, pos: 0 },
        path: Vec::new(),
    };
    let v = d.value(ty, 0)?;
    if d.r.pos != bytes.len() {
        return Err(d.err(format!(
            "{} unexpected bytes after the value",
            bytes.len() - d.r.pos
        )));
    }
    Ok(v)
}

/// Encodes `value` as msgpack against type `ty` (the schema's type, which says how each value is
/// written).
///
/// The value must conform to the type, with some leniency: any sequence variant (list, set,
/// tuple) is accepted where any sequence type is required, and map or object where either is;
/// set elements are written in canonical order. Object attributes missing from the value are
/// written as null; attributes the type lacks are an error. A plain (unwrapped) value in a
/// `dynamic` slot is written with its [`Value::implied_type`].
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, ValueError> {
    let mut e = Encoder {
        out: ByteBuf::new(),
        path: Vec::new(),
    };
    e.value(value, ty, 0)?;
    Ok(e.out.into_vec())
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// A cursor over the input. Every read is bounds-checked; running out of bytes is an error.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// The input ended early; turned into a [`ValueError`] with the current path by the caller.
struct Truncated;

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Truncated> {
        let end = self.pos.checked_add(n).ok_or(Truncated)?;
        let bytes = self.buf.get(self.pos..end).ok_or(Truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Truncated> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, Truncated> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, Truncated> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, Truncated> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, Truncated> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn marker(&mut self) -> Result<Marker, Truncated> {
        Ok(Marker::from_u8(self.u8()?))
    }

    /// The length that follows a str/bin/array/map/ext marker (fixed kinds carry it inline).
    fn len_after(&mut self, m: Marker) -> Result<Option<usize>, Truncated> {
        Ok(Some(match m {
            Marker::FixStr(n) | Marker::FixArray(n) | Marker::FixMap(n) => usize::from(n),
            Marker::Str8 | Marker::Bin8 | Marker::Ext8 => usize::from(self.u8()?),
            Marker::Str16 | Marker::Bin16 | Marker::Ext16 | Marker::Array16 | Marker::Map16 => {
                usize::from(self.u16()?)
            }
            Marker::Str32 | Marker::Bin32 | Marker::Ext32 | Marker::Array32 | Marker::Map32 => {
                // u32 always fits usize on the 32- and 64-bit targets Terraform runs on; saturate
                // elsewhere, which the remaining-bytes checks then reject.
                usize::try_from(self.u32()?).unwrap_or(usize::MAX)
            }
            Marker::FixExt1 => 1,
            Marker::FixExt2 => 2,
            Marker::FixExt4 => 4,
            Marker::FixExt8 => 8,
            Marker::FixExt16 => 16,
            _ => return Ok(None),
        }))
    }
}

fn is_ext(m: Marker) -> bool {
    matches!(
        m,
        Marker::FixExt1
            | Marker::FixExt2
            | Marker::FixExt4
            | Marker::FixExt8
            | Marker::FixExt16
            | Marker::Ext8
            | Marker::Ext16
            | Marker::Ext32
    )
}

fn is_str_or_bin(m: Marker) -> bool {
    matches!(
        m,
        Marker::FixStr(_)
            | Marker::Str8
            | Marker::Str16
            | Marker::Str32
            | Marker::Bin8
            | Marker::Bin16
            | Marker::Bin32
    )
}

/// Reads an integer of any msgpack int encoding after its marker; `None` if `m` is no int.
fn read_int(r: &mut Reader<'_>, m: Marker) -> Result<Option<Number>, Truncated> {
    Ok(Some(match m {
        Marker::FixPos(v) => Number::from(v),
        Marker::FixNeg(v) => Number::from(v),
        Marker::U8 => Number::from(r.u8()?),
        Marker::U16 => Number::from(r.u16()?),
        Marker::U32 => Number::from(r.u32()?),
        Marker::U64 => Number::from(r.u64()?),
        Marker::I8 => Number::from(i8::from_be_bytes(r.array()?)),
        Marker::I16 => Number::from(i16::from_be_bytes(r.array()?)),
        Marker::I32 => Number::from(i32::from_be_bytes(r.array()?)),
        Marker::I64 => Number::from(i64::from_be_bytes(r.array()?)),
        _ => return Ok(None),
    }))
}

struct Decoder<'a> {
    r: Reader<'a>,
    /// Where the decoder is, for error messages.
    path: Vec<PathStep>,
}

impl<'a> Decoder<'a> {
    fn err(&self, message: impl Into<String>) -> ValueError {
        ValueError::at(&self.path, message)
    }

    fn truncated(&self) -> ValueError {
        self.err("unexpected end of msgpack input")
    }

    fn marker(&mut self) -> Result<Marker, ValueError> {
        self.r.marker().map_err(|_| self.truncated())
    }

    fn len_after(&mut self, m: Marker) -> Result<Option<usize>, ValueError> {
        self.r.len_after(m).map_err(|_| self.truncated())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ValueError> {
        self.r.take(n).map_err(|_| self.truncated())
    }

    /// The element count of an array (or, with `per_item` 2, a map) after its marker, checked
    /// against the remaining input: every element takes at least one byte, so a larger count is
    /// a lie, refused before anything is allocated for it.
    fn count(&mut self, m: Marker, what: &str, per_item: usize) -> Result<usize, ValueError> {
        let n = self
            .len_after(m)?
            .ok_or_else(|| self.err(format!("{what} is required")))?;
        if n.saturating_mul(per_item) > self.r.remaining() {
            return Err(self.err(format!(
                "{what} of {n} elements is longer than the remaining {} bytes of input",
                self.r.remaining()
            )));
        }
        Ok(n)
    }

    // Recursion is value() -> one kind's function -> value(). Each kind has its own function so
    // that the frames on the recursion path stay small (unoptimised builds give every match arm
    // its own stack slots), which keeps the deepest accepted input far from the stack limit.

    fn value(&mut self, ty: &Type, depth: usize) -> Result<Value, ValueError> {
        if depth > MAX_DEPTH {
            return Err(self.too_deep());
        }
        let Some(first) = self.r.peek() else {
            return Err(self.truncated());
        };
        let m = Marker::from_u8(first);
        // Every extension is an unknown, whatever the type (go-cty checks this first too).
        if is_ext(m) {
            self.r.pos += 1;
            return self.unknown(m, ty);
        }
        if let Type::Dynamic = ty {
            return self.dynamic(depth);
        }
        self.r.pos += 1;
        match (m, ty) {
            (Marker::Null, _) => Ok(Value::Null),
            (Marker::True, Type::Bool) => Ok(Value::Bool(true)),
            (Marker::False, Type::Bool) => Ok(Value::Bool(false)),
            (_, Type::Bool) => Err(self.err("bool is required")),
            (_, Type::Number) => self.number(m).map(Value::Number),
            (_, Type::String) => self.string(m, "string").map(Value::String),
            (_, Type::List(elem)) => self.list(m, elem, depth).map(Value::List),
            (_, Type::Set(elem)) => self.list(m, elem, depth).map(Value::set),
            (_, Type::Tuple(elems)) => self.tuple(m, elems, depth),
            (_, Type::Map(elem)) => self.map(m, elem, depth),
            (_, Type::Object { attributes, .. }) => self.object(m, attributes, depth),
            (_, Type::Dynamic) => Err(self.err("internal: dynamic handled above")),
        }
    }

    #[cold]
    fn too_deep(&self) -> ValueError {
        self.err(format!("value is nested more than {MAX_DEPTH} levels deep"))
    }

    fn list(&mut self, m: Marker, elem: &Type, depth: usize) -> Result<Vec<Value>, ValueError> {
        let n = self.count(m, "list or set", 1)?;
        self.items(n, depth, |_| elem)
    }

    fn tuple(&mut self, m: Marker, elems: &[Type], depth: usize) -> Result<Value, ValueError> {
        let n = self.count(m, "tuple", 1)?;
        if n != elems.len() {
            return Err(self.err(format!(
                "a tuple of {} elements is required ({n} given)",
                elems.len()
            )));
        }
        self.items(n, depth, |i| elems.get(i).unwrap_or(&DYNAMIC))
            .map(Value::Tuple)
    }

    fn map(&mut self, m: Marker, elem: &Type, depth: usize) -> Result<Value, ValueError> {
        let n = self.count(m, "map", 2)?;
        let mut entries = BTreeMap::new();
        for _ in 0..n {
            let key = self.key()?;
            self.path.push(PathStep::ElementKeyString(key.clone()));
            if entries.contains_key(&key) {
                return Err(self.err("duplicate map key"));
            }
            let v = self.value(elem, depth + 1)?;
            self.path.pop();
            entries.insert(key, v);
        }
        Ok(Value::Map(entries))
    }

    fn object(
        &mut self,
        m: Marker,
        attributes: &BTreeMap<String, Type>,
        depth: usize,
    ) -> Result<Value, ValueError> {
        let n = self.count(m, "object", 2)?;
        let mut attrs = BTreeMap::new();
        for _ in 0..n {
            let key = self.key()?;
            self.path.push(PathStep::Attribute(key.clone()));
            let Some(aty) = attributes.get(&key) else {
                return Err(self.err("unsupported attribute"));
            };
            if attrs.contains_key(&key) {
                return Err(self.err("duplicate attribute"));
            }
            let v = self.value(aty, depth + 1)?;
            self.path.pop();
            attrs.insert(key, v);
        }
        // Lenient: an attribute the encoder left out is null.
        for name in attributes.keys() {
            if !attrs.contains_key(name) {
                attrs.insert(name.clone(), Value::Null);
            }
        }
        Ok(Value::Object(attrs))
    }

    fn items<'t>(
        &mut self,
        n: usize,
        depth: usize,
        elem: impl Fn(usize) -> &'t Type,
    ) -> Result<Vec<Value>, ValueError> {
        let mut items = Vec::with_capacity(n); // n <= remaining bytes, checked by count()
        for i in 0..n {
            self.path.push(PathStep::ElementKeyInt(i as i64));
            items.push(self.value(elem(i), depth + 1)?);
            self.path.pop();
        }
        Ok(items)
    }

    fn key(&mut self) -> Result<String, ValueError> {
        let m = self.marker()?;
        self.string(m, "string key")
    }

    /// A str (or bin) after its marker, as UTF-8.
    fn string(&mut self, m: Marker, what: &str) -> Result<String, ValueError> {
        if !is_str_or_bin(m) {
            return Err(self.err(format!("{what} is required")));
        }
        let n = self.len_after(m)?.unwrap_or(0);
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| self.err(format!("{what} is not valid UTF-8")))
    }

    fn number(&mut self, m: Marker) -> Result<Number, ValueError> {
        if let Some(n) = read_int(&mut self.r, m).map_err(|_| self.truncated())? {
            return Ok(n);
        }
        let f = match m {
            Marker::F32 => f64::from(f32::from_be_bytes(
                self.r.array().map_err(|_| self.truncated())?,
            )),
            Marker::F64 => f64::from_be_bytes(self.r.array().map_err(|_| self.truncated())?),
            _ if is_str_or_bin(m) => {
                let text = self.string(m, "number")?;
                return Number::parse(&text)
                    .ok_or_else(|| self.err(format!("{text:?} is not a number")));
            }
            _ => return Err(self.err("number is required")),
        };
        Number::from_f64(f).ok_or_else(|| self.err(format!("number {f} is not finite")))
    }

    /// After the marker of a dynamic slot's value: nil, or `[type JSON, value]`.
    fn dynamic(&mut self, depth: usize) -> Result<Value, ValueError> {
        let m = self.marker()?;
        if let Marker::Null = m {
            return Ok(Value::Null);
        }
        let n = self.len_after(m)?;
        if !matches!(m, Marker::FixArray(_) | Marker::Array16 | Marker::Array32) || n != Some(2) {
            return Err(self.err("a dynamic value must be a [type, value] array"));
        }
        let ty = self.dynamic_type(depth)?;
        let v = self.value(&ty, depth + 1)?;
        Ok(match ty {
            // A value declared dynamic inside a dynamic slot is just that inner dynamic value.
            Type::Dynamic => v,
            ty => Value::Dynamic(ty, Box::new(v)),
        })
    }

    /// The type half of a dynamic value (its own function: parsing is off the recursion path).
    fn dynamic_type(&mut self, depth: usize) -> Result<Type, ValueError> {
        let tm = self.marker()?;
        let type_json = self.string(tm, "type JSON of a dynamic value")?;
        type_from_json_limited(type_json.as_bytes(), MAX_DEPTH.saturating_sub(depth))
            .map_err(|e| self.err(format!("dynamic value: {}", e.message)))
    }

    /// After the marker of an extension: the unknown it stands for.
    fn unknown(&mut self, m: Marker, ty: &Type) -> Result<Value, ValueError> {
        let n = self.len_after(m)?.unwrap_or(0);
        let code = self.take(1)?.first().copied().unwrap_or(0) as i8;
        let payload = self.take(n)?;
        // Refinements of a dynamic unknown are ignored (cty has none), as are payloads of other
        // codes and the one-byte payload of the plain encoding.
        if code != REFINED_UNKNOWN_EXT || payload.len() <= 1 || ty.is_dynamic() {
            return Ok(Value::unknown());
        }
        Ok(match parse_refinement(payload, ty) {
            Some(r) if r.not_null == Some(true) => Value::Null, // "definitely null" is a known null
            Some(r) => Value::Unknown(r),
            None => Value::unknown(), // malformed refinements are safe to drop
        })
    }
}

/// Reads a refinement map (keys 1..6, see the module docs). Keys that do not apply to `ty` and
/// keys not known here are skipped. `None` when the payload is malformed.
fn parse_refinement(payload: &[u8], ty: &Type) -> Option<Refinement> {
    let mut r = Reader {
        buf: payload,
        pos: 0,
    };
    let m = r.marker().ok()?;
    if !matches!(m, Marker::FixMap(_) | Marker::Map16 | Marker::Map32) {
        return None;
    }
    let n = r.len_after(m).ok()??;
    if n.saturating_mul(2) > r.remaining() {
        return None;
    }
    let mut rf = Refinement::default();
    for _ in 0..n {
        let km = r.marker().ok()?;
        let key = read_int(&mut r, km).ok()??.as_i64()?;
        match key {
            1 => {
                rf.not_null = Some(match r.marker().ok()? {
                    Marker::True => true,
                    Marker::False => false,
                    _ => return None,
                })
            }
            2 => {
                let m = r.marker().ok()?;
                if !is_str_or_bin(m) {
                    return None;
                }
                let len = r.len_after(m).ok()??;
                let prefix = std::str::from_utf8(r.take(len).ok()?).ok()?;
                // An empty prefix says nothing (and encoders never write one).
                if let (Type::String, false) = (ty, prefix.is_empty()) {
                    rf.string_prefix = Some(prefix.to_string());
                }
            }
            3 | 4 => {
                let am = r.marker().ok()?;
                if !matches!(am, Marker::FixArray(2)) {
                    return None;
                }
                let mut sub = Decoder {
                    r: Reader {
                        buf: payload,
                        pos: r.pos,
                    },
                    path: Vec::new(),
                };
                let nm = sub.marker().ok()?;
                let bound = sub.number(nm).ok()?;
                let inclusive = match sub.marker().ok()? {
                    Marker::True => true,
                    Marker::False => false,
                    _ => return None,
                };
                r.pos = sub.r.pos;
                if let Type::Number = ty {
                    if key == 3 {
                        rf.number_lower = Some((bound, inclusive));
                    } else {
                        rf.number_upper = Some((bound, inclusive));
                    }
                }
            }
            5 | 6 => {
                let m = r.marker().ok()?;
                let len = read_int(&mut r, m).ok()??.as_u64()?;
                if let Type::List(_) | Type::Set(_) | Type::Map(_) = ty {
                    if key == 5 {
                        rf.length_lower = Some(len);
                    } else {
                        rf.length_upper = Some(len);
                    }
                }
            }
            _ => skip(&mut r, 0)?,
        }
    }
    // Bytes after the map are ignored, as go-cty does (room for future use).
    Some(rf)
}

/// Skips one msgpack value of any kind (for refinement keys not known here).
fn skip(r: &mut Reader<'_>, depth: usize) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    let m = r.marker().ok()?;
    let fixed = match m {
        Marker::FixPos(_) | Marker::FixNeg(_) | Marker::Null | Marker::True | Marker::False => 0,
        Marker::U8 | Marker::I8 => 1,
        Marker::U16 | Marker::I16 => 2,
        Marker::U32 | Marker::I32 | Marker::F32 => 4,
        Marker::U64 | Marker::I64 | Marker::F64 => 8,
        Marker::Reserved => return None,
        _ => {
            let n = r.len_after(m).ok()??;
            match m {
                Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => {
                    for _ in 0..n {
                        skip(r, depth + 1)?;
                    }
                }
                Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => {
                    for _ in 0..n.checked_mul(2)? {
                        skip(r, depth + 1)?;
                    }
                }
                _ if is_ext(m) => {
                    r.take(n.checked_add(1)?).ok()?;
                }
                _ => {
                    r.take(n).ok()?;
                }
            }
            return Some(());
        }
    };
    r.take(fixed).ok().map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/// rmp's writers on a [`ByteBuf`] cannot fail; this discards their uninhabited error types.
trait Infallibly {
    fn infallibly(self);
}

impl<T> Infallibly for Result<T, Infallible> {
    fn infallibly(self) {
        if let Err(e) = self {
            match e {}
        }
    }
}

impl<T> Infallibly for Result<T, ValueWriteError<Infallible>> {
    fn infallibly(self) {
        if let Err(ValueWriteError::InvalidMarkerWrite(e) | ValueWriteError::InvalidDataWrite(e)) =
            self
        {
            match e {}
        }
    }
}

struct Encoder {
    out: ByteBuf,
    path: Vec<PathStep>,
}

/// The plain unknown: fixext1, extension code 0, one zero byte.
const PLAIN_UNKNOWN: [u8; 3] = [0xd4, 0x00, 0x00];

impl Encoder {
    fn err(&self, message: impl Into<String>) -> ValueError {
        ValueError::at(&self.path, message)
    }

    fn len32(&self, n: usize) -> Result<u32, ValueError> {
        u32::try_from(n).map_err(|_| self.err("too many elements for msgpack"))
    }

    fn value(&mut self, v: &Value, ty: &Type, depth: usize) -> Result<(), ValueError> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("value is nested more than {MAX_DEPTH} levels deep")));
        }
        if let Type::Dynamic = ty {
            return self.dynamic(v, depth);
        }
        match (v, ty) {
            (Value::Unknown(r), _) => {
                self.unknown(r, ty);
                Ok(())
            }
            (Value::Null, _) => {
                enc::write_nil(&mut self.out).infallibly();
                Ok(())
            }
            (Value::Dynamic(t, inner), _) if t == ty => self.value(inner, ty, depth),
            (Value::Bool(b), Type::Bool) => {
                enc::write_bool(&mut self.out, *b).infallibly();
                Ok(())
            }
            (Value::Number(n), Type::Number) => {
                self.number(n);
                Ok(())
            }
            (Value::String(s), Type::String) => self.str(s),
            (Value::List(items) | Value::Set(items) | Value::Tuple(items), Type::List(elem)) => {
                self.items(items.iter(), items.len(), |_| Some(&**elem), depth)
            }
            (Value::List(items) | Value::Set(items) | Value::Tuple(items), Type::Set(elem)) => {
                // Written in canonical order, so equal sets encode to equal bytes.
                let mut sorted: Vec<&Value> = items.iter().collect();
                sorted.sort();
                sorted.dedup();
                let n = sorted.len();
                self.items(sorted.into_iter(), n, |_| Some(&**elem), depth)
            }
            (Value::List(items) | Value::Set(items) | Value::Tuple(items), Type::Tuple(elems)) => {
                if items.len() != elems.len() {
                    return Err(self.err(format!(
                        "a tuple of {} elements is required ({} given)",
                        elems.len(),
                        items.len()
                    )));
                }
                self.items(items.iter(), items.len(), |i| elems.get(i), depth)
            }
            (Value::Map(entries) | Value::Object(entries), Type::Map(elem)) => {
                let n = self.len32(entries.len())?;
                enc::write_map_len(&mut self.out, n).infallibly();
                for (k, item) in entries {
                    self.path.push(PathStep::ElementKeyString(k.clone()));
                    self.str(k)?;
                    self.value(item, elem, depth + 1)?;
                    self.path.pop();
                }
                Ok(())
            }
            (Value::Map(entries) | Value::Object(entries), Type::Object { attributes, .. }) => {
                if let Some(extra) = entries.keys().find(|k| !attributes.contains_key(*k)) {
                    self.path.push(PathStep::Attribute(extra.clone()));
                    return Err(self.err("attribute is not part of the type"));
                }
                let n = self.len32(attributes.len())?;
                enc::write_map_len(&mut self.out, n).infallibly();
                for (name, aty) in attributes {
                    self.path.push(PathStep::Attribute(name.clone()));
                    self.str(name)?;
                    self.value(entries.get(name).unwrap_or(&Value::Null), aty, depth + 1)?;
                    self.path.pop();
                }
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
        n: usize,
        elem: impl Fn(usize) -> Option<&'t Type>,
        depth: usize,
    ) -> Result<(), ValueError> {
        let n = self.len32(n)?;
        enc::write_array_len(&mut self.out, n).infallibly();
        for (i, item) in items.enumerate() {
            self.path.push(PathStep::ElementKeyInt(i as i64));
            let ty = elem(i).ok_or_else(|| self.err("more elements than the tuple type has"))?;
            self.value(item, ty, depth + 1)?;
            self.path.pop();
        }
        Ok(())
    }

    fn str(&mut self, s: &str) -> Result<(), ValueError> {
        let n = self.len32(s.len())?;
        enc::write_str_len(&mut self.out, n).infallibly();
        self.out.as_mut_vec().extend_from_slice(s.as_bytes());
        Ok(())
    }

    /// int when it fits i64 or u64, float64 when that is exact, else decimal text (as go-cty).
    fn number(&mut self, n: &Number) {
        if let Some(i) = n.as_i64() {
            enc::write_sint(&mut self.out, i).infallibly();
        } else if let Some(u) = n.as_u64() {
            enc::write_uint(&mut self.out, u).infallibly();
        } else if let Some(f) = n.to_f64_exact() {
            enc::write_f64(&mut self.out, f).infallibly();
        } else {
            let text = n.to_string();
            // A number's text is far below 4 GiB: Display bounds it.
            enc::write_str_len(&mut self.out, text.len() as u32).infallibly();
            self.out.as_mut_vec().extend_from_slice(text.as_bytes());
        }
    }

    /// A value in a `dynamic` slot.
    fn dynamic(&mut self, v: &Value, depth: usize) -> Result<(), ValueError> {
        let (ty, inner) = match v {
            Value::Null => {
                enc::write_nil(&mut self.out).infallibly();
                return Ok(());
            }
            // An unknown of unknown type carries no refinements in cty.
            Value::Unknown(_) => {
                self.out.as_mut_vec().extend_from_slice(&PLAIN_UNKNOWN);
                return Ok(());
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
        enc::write_array_len(&mut self.out, 2).infallibly();
        let type_json = ty.to_json();
        let n = self.len32(type_json.len())?;
        enc::write_bin_len(&mut self.out, n).infallibly();
        self.out.as_mut_vec().extend_from_slice(&type_json);
        self.value(inner, &ty, depth + 1)
    }

    /// An unknown of type `ty` (not dynamic), with the refinements that apply to `ty`.
    fn unknown(&mut self, r: &Refinement, ty: &Type) {
        if r.not_null == Some(true) {
            // cty collapses "unknown but definitely null" into null.
            enc::write_nil(&mut self.out).infallibly();
            return;
        }
        let mut body = Encoder {
            out: ByteBuf::new(),
            path: Vec::new(),
        };
        let mut entries = 0u32;
        if r.not_null == Some(false) {
            entries += 1;
            enc::write_pfix(&mut body.out, 1).infallibly();
            enc::write_bool(&mut body.out, false).infallibly();
        }
        match ty {
            Type::String => {
                if let Some(prefix) = r.string_prefix.as_deref().filter(|p| !p.is_empty()) {
                    entries += 1;
                    enc::write_pfix(&mut body.out, 2).infallibly();
                    // The prefix is a refinement of at most a string's length; cannot exceed u32.
                    let _ = body.str(prefix);
                }
            }
            Type::Number => {
                for (key, bound) in [(3u8, &r.number_lower), (4, &r.number_upper)] {
                    if let Some((n, inclusive)) = bound {
                        entries += 1;
                        enc::write_pfix(&mut body.out, key).infallibly();
                        enc::write_array_len(&mut body.out, 2).infallibly();
                        body.number(n);
                        enc::write_bool(&mut body.out, *inclusive).infallibly();
                    }
                }
            }
            Type::List(_) | Type::Set(_) | Type::Map(_) => {
                for (key, bound) in [(5u8, r.length_lower), (6, r.length_upper)] {
                    if let Some(len) = bound {
                        entries += 1;
                        enc::write_pfix(&mut body.out, key).infallibly();
                        enc::write_uint(&mut body.out, len).infallibly();
                    }
                }
            }
            _ => {}
        }
        if entries == 0 {
            // Without refinements, always the plain encoding (required for older Terraform).
            self.out.as_mut_vec().extend_from_slice(&PLAIN_UNKNOWN);
            return;
        }
        let mut payload = ByteBuf::new();
        enc::write_map_len(&mut payload, entries).infallibly();
        payload.as_mut_vec().extend_from_slice(body.out.as_slice());
        // A refinement payload is a handful of entries: far below 4 GiB.
        enc::write_ext_meta(
            &mut self.out,
            payload.as_slice().len() as u32,
            REFINED_UNKNOWN_EXT,
        )
        .infallibly();
        self.out.as_mut_vec().extend_from_slice(payload.as_slice());
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzzing support
// ---------------------------------------------------------------------------------------------

/// The schema types the fuzz target and the smoke test decode arbitrary bytes against: a
/// resource-like object (with nested blocks, a set, a map, a tuple and a dynamic attribute),
/// bare `dynamic`, and a few collections.
#[doc(hidden)]
pub fn fuzz_types() -> Vec<Type> {
    let item = Type::object([
        ("name".to_string(), Type::String),
        ("size".to_string(), Type::Number),
    ]);
    let resource = Type::Object {
        attributes: [
            ("id".to_string(), Type::String),
            ("count".to_string(), Type::Number),
            ("enabled".to_string(), Type::Bool),
            ("tags".to_string(), Type::map(Type::String)),
            ("items".to_string(), Type::list(item.clone())),
            ("members".to_string(), Type::set(Type::String)),
            ("extra".to_string(), Type::Dynamic),
            (
                "pair".to_string(),
                Type::Tuple(vec![Type::String, Type::Number]),
            ),
        ]
        .into_iter()
        .collect(),
        optional: Default::default(),
    };
    vec![
        resource,
        Type::Dynamic,
        Type::list(Type::Dynamic),
        Type::set(item),
        Type::map(Type::list(Type::Number)),
        Type::Number,
        Type::String,
    ]
}

/// One fuzz input: decodes `data` against every [`fuzz_types`] type. Decoding may fail but must
/// not panic; whatever decodes must encode, and decode again to the same value.
#[doc(hidden)]
pub fn fuzz_decode_one(data: &[u8]) {
    for ty in fuzz_types() {
        if let Ok(v) = decode(data, &ty) {
            let bytes = match encode(&v, &ty) {
                Ok(b) => b,
                Err(e) => panic!("a decoded value must encode: {e}; value {v:?}"),
            };
            match decode(&bytes, &ty) {
                Ok(again) => assert_eq!(again, v, "decode(encode(v)) != v"),
                Err(e) => panic!("an encoded value must decode: {e}; value {v:?}"),
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::framework::path::AttributePath;
    use crate::framework::value::ty_json::tests::arb_type;
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

    #[test]
    fn unknown_is_written_as_fixext1_and_any_extension_reads_as_unknown() {
        assert_eq!(
            encode(&Value::unknown(), &Type::String).unwrap(),
            vec![0xd4, 0, 0]
        );
        assert_eq!(
            encode(&Value::unknown(), &Type::Dynamic).unwrap(),
            vec![0xd4, 0, 0]
        );
        for bytes in [
            &[0xd4, 0, 0][..],
            &[0xd4, 7, 0xff],
            &[0xd5, 3, 1, 2],
            &[0xc7, 0, 5],
            &[0xc7, 3, 99, 1, 2, 3],
            &[0xd8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ] {
            assert_eq!(
                decode(bytes, &Type::Number).unwrap(),
                Value::unknown(),
                "{bytes:x?}"
            );
            assert_eq!(
                decode(bytes, &Type::Dynamic).unwrap(),
                Value::unknown(),
                "{bytes:x?}"
            );
        }
    }

    #[test]
    fn refined_unknowns() {
        // ext 12, payload {1: false, 2: "arn:"}
        let bytes = [
            0xc7, 9, 12, 0x82, 0x01, 0xc2, 0x02, 0xa4, b'a', b'r', b'n', b':',
        ];
        let v = decode(&bytes, &Type::String).unwrap();
        let expected = Value::Unknown(Refinement {
            not_null: Some(false),
            string_prefix: Some("arn:".into()),
            ..Refinement::default()
        });
        assert_eq!(v, expected);
        assert_eq!(encode(&v, &Type::String).unwrap(), bytes);
        // The prefix does not apply to a number: dropped, the rest kept.
        let v = decode(&bytes, &Type::Number).unwrap();
        assert_eq!(
            v,
            Value::Unknown(Refinement {
                not_null: Some(false),
                ..Refinement::default()
            })
        );
        // Dynamic unknowns carry no refinements.
        assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), Value::unknown());
        // {1: true}: definitely null, which cty makes a known null.
        assert_eq!(
            decode(&[0xd6, 12, 0x81, 0x01, 0xc3, 0x00], &Type::String).unwrap(),
            Value::Null
        );
        // Number bounds [num, inclusive] and length bounds; unknown key 9 skipped.
        let mut p = ByteBuf::new();
        enc::write_map_len(&mut p, 3).infallibly();
        p.as_mut_vec().extend_from_slice(&[0x03, 0x92, 0xcb]);
        p.as_mut_vec().extend_from_slice(&1.5f64.to_be_bytes());
        p.as_mut_vec()
            .extend_from_slice(&[0xc3, 0x04, 0x92, 0xa3, b'1', b'e', b'3', 0xc2]);
        p.as_mut_vec()
            .extend_from_slice(&[0x09, 0x92, 0xc0, 0xa1, b'x']);
        let mut bytes = vec![0xc7, p.as_slice().len() as u8, 12];
        bytes.extend_from_slice(p.as_slice());
        assert_eq!(
            decode(&bytes, &Type::Number).unwrap(),
            Value::Unknown(Refinement {
                number_lower: Some((Number::from_f64(1.5).unwrap(), true)),
                number_upper: Some((Number::from(1000i64), false)),
                ..Refinement::default()
            })
        );
        let lens = [0xc7, 5, 12, 0x82, 0x05, 0x01, 0x06, 0x03];
        let v = decode(&lens, &Type::set(Type::String)).unwrap();
        assert_eq!(
            v,
            Value::Unknown(Refinement {
                length_lower: Some(1),
                length_upper: Some(3),
                ..Refinement::default()
            })
        );
        assert_eq!(
            decode(
                &encode(&v, &Type::set(Type::String)).unwrap(),
                &Type::set(Type::String)
            )
            .unwrap(),
            v
        );
    }

    #[test]
    fn malformed_refinements_are_plain_unknowns() {
        for payload in [
            &[0x01, 0x02][..],               // not a map
            &[0x81, 0xa1, b'k', 0xc2],       // string key
            &[0x81, 0x01, 0x05],             // nullness not a bool
            &[0x82, 0x01, 0xc2],             // map shorter than it says
            &[0x81, 0x02, 0xa3, b'a'],       // truncated prefix
            &[0x81, 0x03, 0x92, 0xc3, 0xc3], // bound not a number
            &[0x81, 0x05, 0xff],             // negative length
            &[0x81, 0x02, 0xa2, 0xff, 0xfe], // prefix not UTF-8
        ] {
            let mut bytes = vec![0xc7, payload.len() as u8, 12];
            bytes.extend_from_slice(payload);
            assert_eq!(
                decode(&bytes, &Type::String).unwrap(),
                Value::unknown(),
                "{payload:x?}"
            );
            assert_eq!(
                decode(&bytes, &Type::Number).unwrap(),
                Value::unknown(),
                "{payload:x?}"
            );
        }
    }

    #[test]
    fn numbers_in_every_encoding() {
        let cases: &[(&[u8], &str)] = &[
            (&[0x01], "1"),
            (&[0xff], "-1"),
            (&[0xcc, 0xff], "255"),
            (&[0xcd, 0x01, 0x00], "256"),
            (&[0xd0, 0x80], "-128"),
            (
                &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                "18446744073709551615",
            ),
            (&[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], "-9223372036854775808"),
            (&[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], "1.5"),
            (&[0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0], "1"),
            (&[0xca, 0x3f, 0xc0, 0, 0], "1.5"),
            (&[0xa3, b'1', b'.', b'0'], "1"),
            (&[0xa4, b'0', b'.', b'1', b'0'], "0.1"),
            (&[0xc4, 0x02, b'4', b'2'], "42"),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                decode(bytes, &Type::Number).unwrap(),
                num(want),
                "{bytes:x?}"
            );
        }
        // Encoding: compact ints, exact floats, else decimal text.
        assert_eq!(encode(&num("1"), &Type::Number).unwrap(), [0x01]);
        assert_eq!(
            encode(&num("-200"), &Type::Number).unwrap(),
            [0xd1, 0xff, 0x38]
        );
        assert_eq!(
            encode(&num("1.5"), &Type::Number).unwrap(),
            [0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            encode(&num("0.1"), &Type::Number).unwrap(),
            [0xa3, b'0', b'.', b'1']
        );
        let big = "123456789012345678901234567890";
        let mut want = vec![0xa0 | big.len() as u8];
        want.extend_from_slice(big.as_bytes());
        assert_eq!(encode(&num(big), &Type::Number).unwrap(), want);
        assert_eq!(
            encode(&num("18446744073709551615"), &Type::Number).unwrap()[0],
            0xcf
        );
        for bad in [
            &[0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0][..],
            &[0xa3, b'a', b'b', b'c'],
            &[0xc3],
        ] {
            assert!(decode(bad, &Type::Number).is_err(), "{bad:x?}");
        }
    }

    #[test]
    fn strings_accept_bin_and_require_utf8() {
        assert_eq!(decode(&[0xa2, b'h', b'i'], &Type::String).unwrap(), s("hi"));
        assert_eq!(
            decode(&[0xc4, 2, b'h', b'i'], &Type::String).unwrap(),
            s("hi")
        );
        assert!(decode(&[0xa2, 0xff, 0xfe], &Type::String).is_err());
        assert!(decode(&[0x01], &Type::String).is_err());
    }

    #[test]
    fn dynamic_values() {
        // ["\"string\"" as bin, "hi"]
        let mut bytes = vec![0x92, 0xc4, 8];
        bytes.extend_from_slice(b"\"string\"");
        bytes.extend_from_slice(&[0xa2, b'h', b'i']);
        let v = Value::Dynamic(Type::String, Box::new(s("hi")));
        assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), v);
        assert_eq!(encode(&v, &Type::Dynamic).unwrap(), bytes);
        // The type may come as str too.
        bytes[1] = 0xa8;
        bytes.remove(2);
        assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), v);
        // Null and unknown of unknown type are bare.
        assert_eq!(decode(&[0xc0], &Type::Dynamic).unwrap(), Value::Null);
        assert_eq!(encode(&Value::Null, &Type::Dynamic).unwrap(), [0xc0]);
        // A typed null and a typed unknown keep their type.
        for inner in [Value::Null, Value::unknown()] {
            let v = Value::Dynamic(Type::list(Type::Number), Box::new(inner));
            assert_eq!(
                decode(&encode(&v, &Type::Dynamic).unwrap(), &Type::Dynamic).unwrap(),
                v
            );
        }
        // A plain value in a dynamic slot is written with its implied type.
        let plain = obj(&[("a", num("1")), ("b", Value::List(vec![s("x")]))]);
        let decoded = decode(&encode(&plain, &Type::Dynamic).unwrap(), &Type::Dynamic).unwrap();
        let Value::Dynamic(ty, inner) = decoded else {
            panic!("not dynamic")
        };
        assert_eq!(
            String::from_utf8(ty.to_json()).unwrap(),
            r#"["object",{"a":"number","b":["list","string"]}]"#
        );
        assert_eq!(*inner, plain);
        // ["\"dynamic\"", v] is just v.
        let mut nested = vec![0x92, 0xa9];
        nested.extend_from_slice(b"\"dynamic\"");
        nested.extend_from_slice(&bytes);
        assert_eq!(decode(&nested, &Type::Dynamic).unwrap(), v);
        // Not a pair, or a bad type.
        assert!(decode(&[0x91, 0xc0], &Type::Dynamic).is_err());
        assert!(decode(&[0x92, 0xa1, b'x', 0xc0], &Type::Dynamic).is_err());
        assert!(decode(&[0xa1, b'x'], &Type::Dynamic).is_err());
    }

    #[test]
    fn sets_decode_to_canonical_order() {
        let ty = Type::set(Type::String);
        let a = decode(&[0x93, 0xa1, b'b', 0xa1, b'a', 0xa1, b'b'], &ty).unwrap();
        assert_eq!(a, Value::Set(vec![s("a"), s("b")]));
        assert_eq!(
            encode(&Value::List(vec![s("b"), s("a")]), &ty).unwrap(),
            [0x92, 0xa1, b'a', 0xa1, b'b']
        );
    }

    #[test]
    fn objects_are_lenient_about_missing_attributes_and_strict_about_extra_ones() {
        let ty = Type::object([
            ("a".to_string(), Type::String),
            ("b".to_string(), Type::Bool),
        ]);
        assert_eq!(
            decode(&[0x81, 0xa1, b'a', 0xa1, b'x'], &ty).unwrap(),
            obj(&[("a", s("x")), ("b", Value::Null)])
        );
        let err = decode(&[0x81, 0xa1, b'z', 0xc0], &ty).unwrap_err();
        assert_eq!(err.path, AttributePath::attr("z"));
        assert_eq!(err.to_string(), "z: unsupported attribute");
        // Encoding writes every attribute; missing ones as nil; extras are an error.
        assert_eq!(
            encode(&obj(&[("b", Value::Bool(true))]), &ty).unwrap(),
            [0x82, 0xa1, b'a', 0xc0, 0xa1, b'b', 0xc3]
        );
        assert_eq!(
            encode(&obj(&[("c", Value::Null)]), &ty).unwrap_err().path,
            AttributePath::attr("c")
        );
    }

    #[test]
    fn errors_carry_the_path() {
        let ty = Type::object([(
            "rules".to_string(),
            Type::list(Type::object([(
                "tags".to_string(),
                Type::map(Type::Number),
            )])),
        )]);
        // {"rules": [{"tags": {"env": "x"}}]}
        let mut bytes = vec![0x81, 0xa5];
        bytes.extend_from_slice(b"rules");
        bytes.extend_from_slice(&[0x91, 0x81, 0xa4]);
        bytes.extend_from_slice(b"tags");
        bytes.extend_from_slice(&[0x81, 0xa3, b'e', b'n', b'v', 0xa1, b'x']);
        let err = decode(&bytes, &ty).unwrap_err();
        assert_eq!(
            err.to_string(),
            "rules[0].tags[\"env\"]: \"x\" is not a number"
        );
        let v = obj(&[(
            "rules",
            Value::List(vec![obj(&[("tags", Value::Bool(true))])]),
        )]);
        assert_eq!(
            encode(&v, &ty).unwrap_err().to_string(),
            "rules[0].tags: bool value where a map of number is required"
        );
    }

    #[test]
    fn hostile_input_is_refused_cheaply() {
        // An array claiming 2^32-1 elements in 6 bytes.
        let err = decode(
            &[0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0],
            &Type::list(Type::String),
        )
        .unwrap_err();
        assert!(err.message.contains("longer than the remaining"), "{err}");
        let err = decode(
            &[0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0],
            &Type::map(Type::String),
        )
        .unwrap_err();
        assert!(err.message.contains("longer than the remaining"), "{err}");
        // A string claiming 4 GiB.
        assert!(decode(&[0xdb, 0xff, 0xff, 0xff, 0xff, b'a'], &Type::String).is_err());
        // An extension claiming 4 GiB.
        assert!(decode(&[0xc9, 0xff, 0xff, 0xff, 0xff, 12, 0x80], &Type::String).is_err());
        // Deep nesting through dynamic values is an error, not a stack overflow.
        let mut deep = Vec::new();
        for _ in 0..100_000 {
            deep.extend_from_slice(&[0x92, 0xb2]);
            deep.extend_from_slice(br#"["list","dynamic"]"#);
            deep.push(0x91);
        }
        deep.push(0xc0);
        let err = decode(&deep, &Type::Dynamic).unwrap_err();
        assert!(err.message.contains("nested"), "{err}");
        // And through a deep type.
        let mut ty = Type::String;
        for _ in 0..300 {
            ty = Type::list(ty);
        }
        let mut bytes = vec![0x91; 300];
        bytes.push(0xc0);
        assert!(decode(&bytes, &ty).unwrap_err().message.contains("nested"));
        // Trailing bytes, empty input.
        assert!(decode(&[0xc0, 0xc0], &Type::String)
            .unwrap_err()
            .message
            .contains("unexpected bytes"));
        assert!(decode(&[], &Type::String).is_err());
        // Duplicate keys.
        assert!(decode(
            &[0x82, 0xa1, b'a', 0x01, 0xa1, b'a', 0x02],
            &Type::map(Type::Number)
        )
        .is_err());
    }

    /// `outer` nested dynamic slots, the innermost holding a null of a type nested `levels` deep.
    fn nested_dynamic(outer: usize, levels: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        for _ in 0..outer {
            bytes.extend_from_slice(&[0x92, 0xa9]);
            bytes.extend_from_slice(b"\"dynamic\"");
        }
        let ty_json = format!(
            "{}\"string\"{}",
            "[\"list\",".repeat(levels),
            "]".repeat(levels)
        );
        bytes.extend_from_slice(&[0x92, 0xdb]);
        bytes.extend_from_slice(&(ty_json.len() as u32).to_be_bytes());
        bytes.extend_from_slice(ty_json.as_bytes());
        bytes.push(0xc0);
        bytes
    }

    #[test]
    fn deepest_accepted_input_fits_a_small_stack() {
        // Value and type JSON share one nesting budget, so these are the worst cases for
        // recursion (values, then the JSON parser, then the type reader).
        for outer in [0, 1, MAX_DEPTH / 2, MAX_DEPTH - 1] {
            let levels = MAX_DEPTH - outer;
            let bytes = nested_dynamic(outer, levels);
            // Unoptimised code on a 1 MiB stack: half of what test threads and tokio workers get.
            let handle = std::thread::Builder::new()
                .stack_size(1 << 20)
                .spawn(move || decode(&bytes, &Type::Dynamic).map(|v| v.is_null()))
                .unwrap();
            let decoded = handle.join().expect("no stack overflow");
            assert!(decoded.is_ok(), "outer {outer}: {decoded:?}");
            let over = decode(&nested_dynamic(outer, levels + 1), &Type::Dynamic);
            assert!(
                over.is_err(),
                "outer {outer}: one level more must be refused"
            );
        }
        assert!(decode(&nested_dynamic(MAX_DEPTH, 0), &Type::Dynamic).is_err());
    }

    #[test]
    fn tuples_need_their_length() {
        let ty = Type::Tuple(vec![Type::String, Type::Number]);
        assert_eq!(
            decode(&[0x92, 0xa1, b'a', 0x05], &ty).unwrap(),
            Value::Tuple(vec![s("a"), num("5")])
        );
        assert!(decode(&[0x91, 0xa1, b'a'], &ty).is_err());
        assert!(encode(&Value::Tuple(vec![s("a")]), &ty).is_err());
    }

    /// Arbitrary refinements that apply to `ty` (and survive the round trip).
    fn arb_refinement(ty: &Type) -> BoxedStrategy<Refinement> {
        let not_null = prop::option::of(Just(false));
        let small_num = prop_oneof![
            any::<i64>().prop_map(Number::from),
            (-1e6..1e6f64).prop_map(|f| Number::from_f64(f).unwrap_or(Number::ZERO)),
        ];
        match ty {
            Type::String => (not_null, prop::option::of("[a-z:/]{1,8}"))
                .prop_map(|(not_null, string_prefix)| Refinement {
                    not_null,
                    string_prefix,
                    ..Refinement::default()
                })
                .boxed(),
            Type::Number => (
                not_null,
                prop::option::of((small_num.clone(), any::<bool>())),
                prop::option::of((small_num, any::<bool>())),
            )
                .prop_map(|(not_null, number_lower, number_upper)| Refinement {
                    not_null,
                    number_lower,
                    number_upper,
                    ..Refinement::default()
                })
                .boxed(),
            Type::List(_) | Type::Set(_) | Type::Map(_) => (
                not_null,
                prop::option::of(0u64..10),
                prop::option::of(any::<u64>()),
            )
                .prop_map(|(not_null, length_lower, length_upper)| Refinement {
                    not_null,
                    length_lower,
                    length_upper,
                    ..Refinement::default()
                })
                .boxed(),
            Type::Dynamic => Just(Refinement::default()).boxed(),
            _ => not_null
                .prop_map(|not_null| Refinement {
                    not_null,
                    ..Refinement::default()
                })
                .boxed(),
        }
    }

    pub(crate) fn arb_number() -> BoxedStrategy<Number> {
        prop_oneof![
            any::<i64>().prop_map(Number::from),
            any::<u64>().prop_map(Number::from),
            any::<f64>().prop_filter_map("finite", Number::from_f64),
            ("-?[0-9]{1,30}", -40i64..40)
                .prop_filter_map("decimal", |(d, e)| Number::parse(&format!("{d}e{e}"))),
        ]
        .boxed()
    }

    /// Arbitrary values of type `ty`: nulls and unknowns (when `unknowns`) anywhere, dynamic
    /// slots filled with values of arbitrary concrete types.
    pub(crate) fn arb_value(ty: &Type, depth: u32, unknowns: bool) -> BoxedStrategy<Value> {
        let known: BoxedStrategy<Value> = match ty {
            Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
            Type::Number => arb_number().prop_map(Value::Number).boxed(),
            Type::String => ".{0,12}".prop_map(Value::String).boxed(),
            Type::List(e) => prop::collection::vec(arb_value(e, depth, unknowns), 0..4)
                .prop_map(Value::List)
                .boxed(),
            Type::Set(e) => prop::collection::vec(arb_value(e, depth, unknowns), 0..4)
                .prop_map(Value::set)
                .boxed(),
            Type::Map(e) => {
                prop::collection::btree_map(".{0,6}", arb_value(e, depth, unknowns), 0..4)
                    .prop_map(Value::Map)
                    .boxed()
            }
            Type::Tuple(elems) => elems
                .iter()
                .map(|t| arb_value(t, depth, unknowns))
                .collect::<Vec<_>>()
                .prop_map(Value::Tuple)
                .boxed(),
            Type::Object { attributes, .. } => attributes
                .iter()
                .map(|(k, t)| (Just(k.clone()), arb_value(t, depth, unknowns)))
                .collect::<Vec<_>>()
                .prop_map(|attrs| Value::Object(attrs.into_iter().collect()))
                .boxed(),
            Type::Dynamic => arb_type(depth.min(2))
                .prop_filter("concrete", |t| !t.is_dynamic())
                .prop_flat_map(move |t| {
                    arb_value(&t, depth.saturating_sub(1), unknowns)
                        .prop_map(move |v| Value::Dynamic(t.clone(), Box::new(v)))
                })
                .boxed(),
        };
        if unknowns {
            prop_oneof![
                1 => Just(Value::Null),
                1 => arb_refinement(ty).prop_map(Value::Unknown),
                6 => known,
            ]
            .boxed()
        } else {
            prop_oneof![1 => Just(Value::Null), 6 => known].boxed()
        }
    }

    pub(crate) fn arb_typed_value(unknowns: bool) -> impl Strategy<Value = (Type, Value)> {
        arb_type(3).prop_flat_map(move |ty| {
            let v = arb_value(&ty, 2, unknowns);
            (Just(ty), v)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn msgpack_round_trips((ty, v) in arb_typed_value(true)) {
            let bytes = encode(&v, &ty).unwrap();
            prop_assert_eq!(decode(&bytes, &ty).unwrap(), v);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            fuzz_decode_one(&bytes);
        }
    }

    fn seeds_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/msgpack_decode")
    }

    /// Runs every committed fuzz seed, and deterministic mutations of each (truncations, byte
    /// flips, inserted and deleted bytes), through the fuzz target's function.
    #[test]
    fn fuzz_seeds_smoke() {
        let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(seeds_dir())
            .expect("seed corpus directory")
            .map(|e| std::fs::read(e.expect("seed entry").path()).expect("seed file"))
            .collect();
        seeds.sort();
        assert!(
            seeds.len() >= 12,
            "expected a dozen seeds, found {}",
            seeds.len()
        );
        // A small deterministic generator (xorshift) for the mutations.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut inputs = 0usize;
        for seed in &seeds {
            fuzz_decode_one(seed);
            inputs += 1;
            for cut in 0..seed.len() {
                fuzz_decode_one(&seed[..cut]);
                inputs += 1;
            }
            for _ in 0..200 {
                let mut m = seed.clone();
                if m.is_empty() {
                    m.push(0);
                }
                for _ in 0..1 + next() % 3 {
                    let i = (next() as usize) % m.len();
                    match next() % 4 {
                        0 => m[i] ^= 1 << (next() % 8),
                        1 => m[i] = next() as u8,
                        2 => m.insert(i, next() as u8),
                        _ if m.len() > 1 => {
                            m.remove(i);
                        }
                        _ => {}
                    }
                }
                fuzz_decode_one(&m);
                inputs += 1;
            }
        }
        assert!(inputs > 2_000, "only {inputs} inputs");
    }

    /// Writes the seed corpus; run by hand (`cargo test ... write_fuzz_seeds -- --ignored`) after
    /// changing it.
    #[test]
    #[ignore]
    fn write_fuzz_seeds() {
        let types = fuzz_types();
        let resource_ty = &types[0];
        let resource = obj(&[
            ("id", s("db-1")),
            ("count", num("3")),
            ("enabled", Value::Bool(true)),
            (
                "tags",
                Value::Map([("env".to_string(), s("prod"))].into_iter().collect()),
            ),
            (
                "items",
                Value::List(vec![obj(&[("name", s("a")), ("size", num("1.5"))])]),
            ),
            ("members", Value::set(vec![s("x"), s("y")])),
            (
                "extra",
                Value::Dynamic(
                    Type::list(Type::String),
                    Box::new(Value::List(vec![s("z")])),
                ),
            ),
            (
                "pair",
                Value::Tuple(vec![s("p"), num("123456789012345678901234567890.5")]),
            ),
        ]);
        let full = encode(&resource, resource_ty).unwrap();
        let with_unknowns = obj(&[
            ("id", Value::unknown()),
            ("count", Value::Null),
            ("extra", Value::unknown()),
            (
                "members",
                Value::Unknown(Refinement {
                    not_null: Some(false),
                    length_lower: Some(1),
                    ..Refinement::default()
                }),
            ),
        ]);
        let mut seeds: Vec<(&str, Vec<u8>)> = vec![
            ("resource", full.clone()),
            (
                "resource_unknowns",
                encode(&with_unknowns, resource_ty).unwrap(),
            ),
            ("resource_truncated", full[..full.len() / 2].to_vec()),
            ("unknown", vec![0xd4, 0, 0]),
            (
                "refined_unknown_string",
                vec![
                    0xc7, 9, 12, 0x82, 0x01, 0xc2, 0x02, 0xa4, b'a', b'r', b'n', b':',
                ],
            ),
            (
                "dynamic_string",
                encode(
                    &Value::Dynamic(Type::String, Box::new(s("hi"))),
                    &Type::Dynamic,
                )
                .unwrap(),
            ),
            ("dynamic_null", vec![0xc0]),
            ("number_string", encode(&num("0.1"), &Type::Number).unwrap()),
            ("number_float", encode(&num("1.5"), &Type::Number).unwrap()),
            (
                "number_uint64",
                encode(&num("18446744073709551615"), &Type::Number).unwrap(),
            ),
            (
                "lying_array_length",
                vec![0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0],
            ),
            (
                "lying_map_length",
                vec![0xdf, 0x7f, 0xff, 0xff, 0xff, 0xa1, b'a'],
            ),
            ("lying_str_length", vec![0xdb, 0xff, 0xff, 0xff, 0xff, b'a']),
            (
                "list_of_dynamic",
                encode(
                    &Value::List(vec![
                        Value::Dynamic(Type::Number, Box::new(num("7"))),
                        Value::Null,
                    ]),
                    &Type::list(Type::Dynamic),
                )
                .unwrap(),
            ),
        ];
        let mut nested = Vec::new();
        for _ in 0..40 {
            nested.extend_from_slice(&[0x92, 0xb2]);
            nested.extend_from_slice(br#"["list","dynamic"]"#);
            nested.push(0x91);
        }
        nested.push(0xc0);
        seeds.push(("nested_dynamic", nested));
        let dir = seeds_dir();
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in seeds {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}
