//! The product's schema contract in the Glue Schema Registry: generating AVRO or JSON Schema
//! definitions from the columns, reading them back, and checking a column change against the
//! registry's compatibility mode at plan time.
//!
//! # Generated definitions
//!
//! Definitions are compact JSON with a fixed key order, so the same columns always give the same
//! bytes (the registry creates a new schema version for any textual change).
//!
//! AVRO: one record (name and namespace sanitised to Avro's name rules), one field per column in
//! column order. A nullable column is `["null", T]` with `"default": null`; a comment becomes
//! `"doc"`. Types: string/char/varchar -> `"string"`, tinyint/smallint/int -> `"int"`, bigint ->
//! `"long"`, float, double, boolean, binary -> `"bytes"`, decimal(p,s) -> bytes with logical type
//! `decimal`, date -> int `date`, timestamp -> long `timestamp-micros`, array -> `array`,
//! map with a string key -> `map`, struct -> a nested record named `<parent>_<field>` (made
//! unique). Avro maps only have string keys, so a map with another key type becomes an array of
//! `{key, value}` records. Struct fields are nullable (Hive struct fields always are); array
//! items and map values are not wrapped in a union.
//!
//! JSON: a draft-07 JSON Schema object: `properties` in column order, `required` listing the
//! non-nullable columns, nullable types as `["null", T]` type arrays, comments as
//! `description`. Types: string, char/varchar (`maxLength`), integers (`integer`, bounded for
//! tinyint/smallint/int), float/double/decimal (`number`), boolean, binary (base64 `string`),
//! date (`format: date`), timestamp (`format: date-time`), array (`items`), map
//! (`additionalProperties`), struct (nested `properties`).
//!
//! Where a format cannot express a column's Glue type exactly (char vs varchar, int widths in
//! AVRO, decimal in JSON, non-string map keys, ...), the field also carries `"glueType"` with the
//! exact Glue type. Both formats allow such extra attributes, and it makes
//! [`columns_from_definition`] an exact inverse, which matters: previous versions are read back
//! from the registry to check compatibility, and a lossy read would report changes nobody made.
//!
//! # Compatibility rules (our product's contract)
//!
//! Columns are compared by name; struct fields are compared recursively and reported with dotted
//! paths (`address.city`, `items[].sku` for structs in arrays, `attributes{}.x` in map values).
//!
//! - NONE: nothing is checked.
//! - DISABLED: the schema is frozen; any change at all (a column added, removed, reordered,
//!   retyped, made (non-)nullable or re-commented) is incompatible, since the registry refuses
//!   every new version.
//! - BACKWARD (readers of the new version read data written with the previous one):
//!   a removed column is incompatible (consumers' queries name it); an added non-nullable column
//!   is incompatible (old data has no value for it); a type change is incompatible unless it is a
//!   lossless promotion; nullable -> non-nullable is incompatible. Removed struct fields are
//!   incompatible too; added struct fields are fine (struct fields are nullable).
//! - FORWARD (readers of the previous version read data written with the new one): removing a
//!   non-nullable column is incompatible; adding any column is fine; a type change is
//!   incompatible unless the promotion holds from the new type to the old; non-nullable ->
//!   nullable is incompatible.
//! - FULL: BACKWARD and FORWARD.
//! - BACKWARD_ALL, FORWARD_ALL, FULL_ALL: the same, against every previous version rather than
//!   only the latest.
//!
//! Lossless promotions: tinyint -> smallint -> int -> bigint; tinyint/smallint/int/bigint ->
//! double; float -> double; char/varchar -> string; varchar(n) -> varchar(m) with m >= n;
//! decimal(p,s) -> decimal(q,s) with q >= p; element-wise for arrays and maps.

use super::columns::Column;
use super::glue_type::{self, GlueType};
use crate::json::{self, Json, Strictness};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// The attribute that carries a field's exact Glue type where the format cannot express it.
pub const GLUE_TYPE_ATTRIBUTE: &str = "glueType";
/// `$schema` of generated JSON Schemas.
pub const JSON_SCHEMA_DRAFT: &str = "http://json-schema.org/draft-07/schema#";

/// The registry's data format. PROTOBUF is not offered: schemas are generated from columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataFormat {
    /// Apache Avro.
    Avro,
    /// JSON Schema.
    Json,
}

impl DataFormat {
    /// The Glue name: `AVRO` or `JSON`.
    pub fn as_str(&self) -> &'static str {
        match self {
            DataFormat::Avro => "AVRO",
            DataFormat::Json => "JSON",
        }
    }
}

impl fmt::Display for DataFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DataFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "AVRO" => Ok(DataFormat::Avro),
            "JSON" => Ok(DataFormat::Json),
            "PROTOBUF" => Err(
                "PROTOBUF is not supported: schemas are generated from the columns as AVRO or \
                 JSON"
                    .into(),
            ),
            other if other.eq_ignore_ascii_case("avro") || other.eq_ignore_ascii_case("json") => {
                Err(format!(
                    "data format \"{other}\" must be written in capitals: \"{}\"",
                    other.to_ascii_uppercase()
                ))
            }
            other => Err(format!(
                "unknown data format \"{other}\"; use \"AVRO\" or \"JSON\""
            )),
        }
    }
}

/// The registry's compatibility mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compatibility {
    /// No check.
    None,
    /// No new versions at all.
    Disabled,
    /// New readers read the previous version's data.
    Backward,
    /// [`Compatibility::Backward`] against every previous version.
    BackwardAll,
    /// Previous readers read the new version's data.
    Forward,
    /// [`Compatibility::Forward`] against every previous version.
    ForwardAll,
    /// Backward and forward.
    Full,
    /// [`Compatibility::Full`] against every previous version.
    FullAll,
}

impl Compatibility {
    /// Every mode, in the registry's documentation order.
    pub const ALL: [Compatibility; 8] = [
        Compatibility::None,
        Compatibility::Disabled,
        Compatibility::Backward,
        Compatibility::BackwardAll,
        Compatibility::Forward,
        Compatibility::ForwardAll,
        Compatibility::Full,
        Compatibility::FullAll,
    ];

    /// The Glue name, e.g. `BACKWARD_ALL`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Compatibility::None => "NONE",
            Compatibility::Disabled => "DISABLED",
            Compatibility::Backward => "BACKWARD",
            Compatibility::BackwardAll => "BACKWARD_ALL",
            Compatibility::Forward => "FORWARD",
            Compatibility::ForwardAll => "FORWARD_ALL",
            Compatibility::Full => "FULL",
            Compatibility::FullAll => "FULL_ALL",
        }
    }

    /// (backward, forward) guarantee levels: 0 none, 1 against the latest version, 2 against
    /// every version, 3 frozen (`DISABLED` accepts no new version, so it guarantees everything).
    fn levels(self) -> (u8, u8) {
        match self {
            Compatibility::None => (0, 0),
            Compatibility::Backward => (1, 0),
            Compatibility::BackwardAll => (2, 0),
            Compatibility::Forward => (0, 1),
            Compatibility::ForwardAll => (0, 2),
            Compatibility::Full => (1, 1),
            Compatibility::FullAll => (2, 2),
            Compatibility::Disabled => (3, 3),
        }
    }

    /// Whether this mode guarantees at least what `floor` does: both of its levels are at
    /// least `floor`'s. BACKWARD_ALL and FULL are stronger than BACKWARD; FORWARD is neither
    /// stronger nor weaker (incomparable).
    pub fn at_least(self, floor: Compatibility) -> bool {
        let (b, f) = self.levels();
        let (fb, ff) = floor.levels();
        b >= fb && f >= ff
    }

    /// The modes at least as strong as `floor`, in documented order.
    pub fn allowed_by(floor: Compatibility) -> Vec<Compatibility> {
        Compatibility::ALL
            .into_iter()
            .filter(|m| m.at_least(floor))
            .collect()
    }

    /// Whether the mode checks every previous version, not only the latest.
    pub fn checks_all_versions(&self) -> bool {
        matches!(
            self,
            Compatibility::BackwardAll | Compatibility::ForwardAll | Compatibility::FullAll
        )
    }

    fn directions(&self) -> (bool, bool) {
        match self {
            Compatibility::Backward | Compatibility::BackwardAll => (true, false),
            Compatibility::Forward | Compatibility::ForwardAll => (false, true),
            Compatibility::Full | Compatibility::FullAll => (true, true),
            Compatibility::None | Compatibility::Disabled => (false, false),
        }
    }
}

impl fmt::Display for Compatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Compatibility {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(mode) = Compatibility::ALL.iter().find(|m| m.as_str() == s) {
            return Ok(*mode);
        }
        let names = Compatibility::ALL
            .iter()
            .map(|m| format!("\"{}\"", m.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        match Compatibility::ALL
            .iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(&s.replace('-', "_")))
        {
            Some(mode) => Err(format!(
                "compatibility \"{s}\" must be written as \"{}\"",
                mode.as_str()
            )),
            None => Err(format!("unknown compatibility \"{s}\"; use one of {names}")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

/// The registry definition of `columns` (see the module docs for the mapping).
pub fn definition(
    format: DataFormat,
    record_name: &str,
    namespace: &str,
    columns: &[Column],
) -> String {
    match format {
        DataFormat::Avro => avro_definition(record_name, namespace, columns),
        DataFormat::Json => json_definition(record_name, namespace, columns),
    }
    .compact()
}

const AVRO_PRIMITIVES: &[&str] = &[
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

/// `s` as an Avro name: `[A-Za-z_][A-Za-z0-9_]*`.
fn avro_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn avro_definition(record_name: &str, namespace: &str, columns: &[Column]) -> Json {
    let mut name = avro_name(record_name);
    if record_name.is_empty() {
        name = "Record".into();
    }
    if AVRO_PRIMITIVES.contains(&name.as_str()) {
        name.push_str("_record");
    }
    let namespace = namespace
        .split('.')
        .filter(|part| !part.is_empty())
        .map(avro_name)
        .collect::<Vec<_>>()
        .join(".");
    let mut gen = AvroGen {
        used: BTreeSet::from([name.clone()]),
    };
    let fields = columns
        .iter()
        .map(|c| {
            let generated = gen.ty(&c.ty, &format!("{name}_{}", avro_name(&c.name)));
            let ty = if c.nullable {
                Json::Array(vec![Json::str("null"), generated.clone()])
            } else {
                generated.clone()
            };
            let mut field = vec![("name", Json::str(avro_name(&c.name))), ("type", ty)];
            if c.nullable {
                field.push(("default", Json::Null));
            }
            if let Some(doc) = &c.comment {
                field.push(("doc", Json::str(doc.clone())));
            }
            if avro_type(&generated).ok().as_ref() != Some(&c.ty) {
                field.push((GLUE_TYPE_ATTRIBUTE, Json::str(c.ty.to_string())));
            }
            Json::obj(field)
        })
        .collect();
    let mut record = vec![("type", Json::str("record")), ("name", Json::str(name))];
    if !namespace.is_empty() {
        record.push(("namespace", Json::str(namespace)));
    }
    record.push(("fields", Json::Array(fields)));
    Json::obj(record)
}

struct AvroGen {
    /// Record names already taken: Avro names must be unique within a schema.
    used: BTreeSet<String>,
}

impl AvroGen {
    fn unique(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut n = 2;
        while self.used.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.used.insert(name.clone());
        name
    }

    /// The Avro type of `ty`; `base` names a record if one is needed here.
    fn ty(&mut self, ty: &GlueType, base: &str) -> Json {
        match ty {
            GlueType::String | GlueType::Char(_) | GlueType::Varchar(_) => Json::str("string"),
            GlueType::TinyInt | GlueType::SmallInt | GlueType::Int => Json::str("int"),
            GlueType::BigInt => Json::str("long"),
            GlueType::Float => Json::str("float"),
            GlueType::Double => Json::str("double"),
            GlueType::Boolean => Json::str("boolean"),
            GlueType::Binary => Json::str("bytes"),
            GlueType::Decimal { precision, scale } => Json::obj(vec![
                ("type", Json::str("bytes")),
                ("logicalType", Json::str("decimal")),
                ("precision", Json::int(i64::from(*precision))),
                ("scale", Json::int(i64::from(*scale))),
            ]),
            GlueType::Date => Json::obj(vec![
                ("type", Json::str("int")),
                ("logicalType", Json::str("date")),
            ]),
            GlueType::Timestamp => Json::obj(vec![
                ("type", Json::str("long")),
                ("logicalType", Json::str("timestamp-micros")),
            ]),
            GlueType::Array(item) => Json::obj(vec![
                ("type", Json::str("array")),
                ("items", self.ty(item, &format!("{base}_item"))),
            ]),
            GlueType::Map(key, value) if key.is_string_like() => Json::obj(vec![
                ("type", Json::str("map")),
                ("values", self.ty(value, &format!("{base}_value"))),
            ]),
            GlueType::Map(key, value) => {
                let name = self.unique(&format!("{base}_entry"));
                let key = self.ty(key, &format!("{base}_key"));
                let value = self.ty(value, &format!("{base}_value"));
                Json::obj(vec![
                    ("type", Json::str("array")),
                    (
                        "items",
                        Json::obj(vec![
                            ("type", Json::str("record")),
                            ("name", Json::str(name)),
                            (
                                "fields",
                                Json::Array(vec![
                                    Json::obj(vec![("name", Json::str("key")), ("type", key)]),
                                    Json::obj(vec![("name", Json::str("value")), ("type", value)]),
                                ]),
                            ),
                        ]),
                    ),
                ])
            }
            GlueType::Struct(fields) => {
                let name = self.unique(base);
                let fields = fields
                    .iter()
                    .map(|(field, ty)| {
                        let field = avro_name(field);
                        let ty = self.ty(ty, &format!("{name}_{field}"));
                        Json::obj(vec![
                            ("name", Json::str(field)),
                            ("type", Json::Array(vec![Json::str("null"), ty])),
                            ("default", Json::Null),
                        ])
                    })
                    .collect();
                Json::obj(vec![
                    ("type", Json::str("record")),
                    ("name", Json::str(name)),
                    ("fields", Json::Array(fields)),
                ])
            }
        }
    }
}

/// Bounds that identify the narrower integer types in JSON Schema.
const INT_BOUNDS: &[(GlueType, i64, i64)] = &[
    (GlueType::TinyInt, -128, 127),
    (GlueType::SmallInt, -32_768, 32_767),
    (GlueType::Int, -2_147_483_648, 2_147_483_647),
];

fn json_definition(record_name: &str, namespace: &str, columns: &[Column]) -> Json {
    let title = if namespace.is_empty() {
        record_name.to_string()
    } else {
        format!("{namespace}.{record_name}")
    };
    let properties = columns
        .iter()
        .map(|c| {
            let generated = json_type(&c.ty);
            let exact = json_read_type(&generated).ok().as_ref() == Some(&c.ty);
            let mut property = if c.nullable {
                nullable(generated)
            } else {
                generated
            };
            if let Json::Object(pairs) = &mut property {
                if let Some(doc) = &c.comment {
                    pairs.push(("description".into(), Json::str(doc.clone())));
                }
                if !exact {
                    pairs.push((GLUE_TYPE_ATTRIBUTE.into(), Json::str(c.ty.to_string())));
                }
            }
            (c.name.clone(), property)
        })
        .collect();
    let required: Vec<Json> = columns
        .iter()
        .filter(|c| !c.nullable)
        .map(|c| Json::str(c.name.clone()))
        .collect();
    let mut schema = vec![
        ("$schema", Json::str(JSON_SCHEMA_DRAFT)),
        ("title", Json::str(title)),
        ("type", Json::str("object")),
        ("properties", Json::Object(properties)),
    ];
    if !required.is_empty() {
        schema.push(("required", Json::Array(required)));
    }
    Json::obj(schema)
}

/// `{"type": X, ...}` -> `{"type": ["null", X], ...}`.
fn nullable(schema: Json) -> Json {
    match schema {
        Json::Object(pairs) => Json::Object(
            pairs
                .into_iter()
                .map(|(k, v)| {
                    if k == "type" {
                        (k, Json::Array(vec![Json::str("null"), v]))
                    } else {
                        (k, v)
                    }
                })
                .collect(),
        ),
        other => other,
    }
}

fn json_type(ty: &GlueType) -> Json {
    let typed = |t: &str, rest: Vec<(&str, Json)>| {
        let mut pairs = vec![("type", Json::str(t))];
        pairs.extend(rest);
        Json::obj(pairs)
    };
    match ty {
        GlueType::String => typed("string", vec![]),
        GlueType::Char(n) | GlueType::Varchar(n) => {
            typed("string", vec![("maxLength", Json::int(i64::from(*n)))])
        }
        GlueType::TinyInt | GlueType::SmallInt | GlueType::Int => {
            let (min, max) = INT_BOUNDS
                .iter()
                .find(|(t, _, _)| t == ty)
                .map_or((i64::MIN, i64::MAX), |(_, lo, hi)| (*lo, *hi));
            typed(
                "integer",
                vec![("minimum", Json::int(min)), ("maximum", Json::int(max))],
            )
        }
        GlueType::BigInt => typed("integer", vec![]),
        GlueType::Float | GlueType::Double | GlueType::Decimal { .. } => typed("number", vec![]),
        GlueType::Boolean => typed("boolean", vec![]),
        GlueType::Binary => typed("string", vec![("contentEncoding", Json::str("base64"))]),
        GlueType::Date => typed("string", vec![("format", Json::str("date"))]),
        GlueType::Timestamp => typed("string", vec![("format", Json::str("date-time"))]),
        GlueType::Array(item) => typed("array", vec![("items", json_type(item))]),
        GlueType::Map(_, value) => {
            typed("object", vec![("additionalProperties", json_type(value))])
        }
        GlueType::Struct(fields) => typed(
            "object",
            vec![(
                "properties",
                Json::Object(
                    fields
                        .iter()
                        .map(|(name, ty)| (name.clone(), nullable(json_type(ty))))
                        .collect(),
                ),
            )],
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading back
// ---------------------------------------------------------------------------------------------

/// The columns of a definition this module generated: the inverse of [`definition`] (types and
/// nullability exactly, comments when present). Other definitions are read as far as they use
/// the same constructs; anything else is an error naming it.
pub fn columns_from_definition(
    format: DataFormat,
    definition: &str,
) -> Result<Vec<Column>, String> {
    let doc = json::parse(definition.as_bytes(), Strictness::Strict)?;
    match format {
        DataFormat::Avro => avro_columns(&doc),
        DataFormat::Json => json_columns(&doc),
    }
}

fn exact_type(field: &Json, derived: GlueType, name: &str) -> Result<GlueType, String> {
    match field.get(GLUE_TYPE_ATTRIBUTE) {
        None => Ok(derived),
        Some(Json::String(text)) => glue_type::parse(text)
            .map_err(|e| format!("field \"{name}\" has an invalid {GLUE_TYPE_ATTRIBUTE}: {e}")),
        Some(_) => Err(format!(
            "field \"{name}\"'s {GLUE_TYPE_ATTRIBUTE} is not a string"
        )),
    }
}

fn avro_columns(doc: &Json) -> Result<Vec<Column>, String> {
    if doc.get("type").and_then(Json::as_str) != Some("record") {
        return Err("the AVRO schema is not a record".into());
    }
    let fields = doc
        .get("fields")
        .and_then(Json::as_arr)
        .ok_or("the AVRO record has no fields array")?;
    fields
        .iter()
        .map(|field| {
            let name = field
                .get("name")
                .and_then(Json::as_str)
                .ok_or("an AVRO field has no name")?;
            let ty = field
                .get("type")
                .ok_or_else(|| format!("AVRO field \"{name}\" has no type"))?;
            let (ty, nullable) =
                avro_union(ty).map_err(|e| format!("AVRO field \"{name}\": {e}"))?;
            let derived = avro_type(ty).map_err(|e| format!("AVRO field \"{name}\": {e}"))?;
            Ok(Column {
                name: name.to_string(),
                ty: exact_type(field, derived, name)?,
                comment: field.get("doc").and_then(Json::as_str).map(str::to_string),
                nullable,
            })
        })
        .collect()
}

/// `["null", T]` (either order) -> `(T, true)`; `T` -> `(T, false)`.
fn avro_union(ty: &Json) -> Result<(&Json, bool), String> {
    match ty {
        Json::Array(branches) => {
            let non_null: Vec<&Json> = branches
                .iter()
                .filter(|b| b.as_str() != Some("null"))
                .collect();
            match non_null.as_slice() {
                [only] if branches.len() == 2 => Ok((only, true)),
                _ => Err("unions other than [\"null\", T] are not supported".into()),
            }
        }
        other => Ok((other, false)),
    }
}

fn avro_type(ty: &Json) -> Result<GlueType, String> {
    avro_type_at(ty, 0)
}

fn avro_type_at(ty: &Json, depth: usize) -> Result<GlueType, String> {
    if depth > glue_type::MAX_DEPTH * 2 {
        return Err("the schema nests too deeply".into());
    }
    let (name, logical) = match ty {
        Json::String(name) => (name.as_str(), None),
        Json::Object(_) => (
            ty.get("type")
                .and_then(Json::as_str)
                .ok_or("a complex AVRO type has no \"type\" name")?,
            ty.get("logicalType").and_then(Json::as_str),
        ),
        _ => return Err("nested unions are not supported".into()),
    };
    let int_attr = |key: &str| {
        ty.get(key)
            .and_then(Json::as_i64)
            .and_then(|n| u32::try_from(n).ok())
    };
    Ok(match (name, logical) {
        ("bytes", Some("decimal")) => GlueType::Decimal {
            precision: int_attr("precision").ok_or("a decimal has no valid precision")?,
            scale: int_attr("scale").unwrap_or(0),
        },
        ("int", Some("date")) => GlueType::Date,
        ("long", Some("timestamp-micros" | "timestamp-millis")) => GlueType::Timestamp,
        ("string", _) => GlueType::String,
        ("int", _) => GlueType::Int,
        ("long", _) => GlueType::BigInt,
        ("float", _) => GlueType::Float,
        ("double", _) => GlueType::Double,
        ("boolean", _) => GlueType::Boolean,
        ("bytes", _) => GlueType::Binary,
        ("array", _) => {
            let items = ty.get("items").ok_or("an AVRO array has no items")?;
            GlueType::Array(Box::new(avro_type_at(items, depth + 1)?))
        }
        ("map", _) => {
            let values = ty.get("values").ok_or("an AVRO map has no values")?;
            GlueType::Map(
                Box::new(GlueType::String),
                Box::new(avro_type_at(values, depth + 1)?),
            )
        }
        ("record", _) => {
            let fields = ty
                .get("fields")
                .and_then(Json::as_arr)
                .ok_or("an AVRO record has no fields")?;
            if fields.is_empty() {
                return Err("an AVRO record has no fields".into());
            }
            let mut out = Vec::new();
            for field in fields {
                let name = field
                    .get("name")
                    .and_then(Json::as_str)
                    .ok_or("an AVRO record field has no name")?;
                let ty = field
                    .get("type")
                    .ok_or_else(|| format!("AVRO field \"{name}\" has no type"))?;
                let (ty, _) = avro_union(ty)?;
                out.push((name.to_ascii_lowercase(), avro_type_at(ty, depth + 1)?));
            }
            GlueType::Struct(out)
        }
        (other, _) => {
            return Err(format!(
                "AVRO type \"{other}\" is not one this provider generates"
            ))
        }
    })
}

fn json_columns(doc: &Json) -> Result<Vec<Column>, String> {
    if doc.get("type").and_then(Json::as_str) != Some("object") {
        return Err("the JSON schema is not an object schema".into());
    }
    let properties = doc
        .get("properties")
        .and_then(Json::as_obj)
        .ok_or("the JSON schema has no properties")?;
    let required: Vec<&str> = doc
        .get("required")
        .and_then(Json::as_arr)
        .unwrap_or(&[])
        .iter()
        .filter_map(Json::as_str)
        .collect();
    properties
        .iter()
        .map(|(name, schema)| {
            let derived =
                json_read_type(schema).map_err(|e| format!("JSON property \"{name}\": {e}"))?;
            Ok(Column {
                name: name.clone(),
                ty: exact_type(schema, derived, name)?,
                comment: schema
                    .get("description")
                    .and_then(Json::as_str)
                    .map(str::to_string),
                nullable: !required.contains(&name.as_str()),
            })
        })
        .collect()
}

fn json_read_type(schema: &Json) -> Result<GlueType, String> {
    json_read_type_at(schema, 0)
}

fn json_read_type_at(schema: &Json, depth: usize) -> Result<GlueType, String> {
    if depth > glue_type::MAX_DEPTH * 2 {
        return Err("the schema nests too deeply".into());
    }
    let ty = match schema.get("type") {
        Some(Json::String(t)) => t.as_str(),
        Some(Json::Array(types)) => {
            let non_null: Vec<&str> = types
                .iter()
                .filter_map(Json::as_str)
                .filter(|t| *t != "null")
                .collect();
            match non_null.as_slice() {
                [only] if types.len() == 2 => *only,
                _ => return Err("type arrays other than [\"null\", T] are not supported".into()),
            }
        }
        _ => return Err("a schema has no \"type\"".into()),
    };
    Ok(match ty {
        "string" => match (
            schema.get("format").and_then(Json::as_str),
            schema.get("contentEncoding").and_then(Json::as_str),
            schema.get("maxLength").and_then(Json::as_i64),
        ) {
            (Some("date"), _, _) => GlueType::Date,
            (Some("date-time"), _, _) => GlueType::Timestamp,
            (_, Some("base64"), _) => GlueType::Binary,
            (_, _, Some(n)) => match u32::try_from(n) {
                Ok(n) if (1..=glue_type::MAX_VARCHAR_LENGTH).contains(&n) => GlueType::Varchar(n),
                _ => GlueType::String,
            },
            _ => GlueType::String,
        },
        "integer" => {
            let min = schema.get("minimum").and_then(Json::as_i64);
            let max = schema.get("maximum").and_then(Json::as_i64);
            INT_BOUNDS
                .iter()
                .find(|(_, lo, hi)| min == Some(*lo) && max == Some(*hi))
                .map_or(GlueType::BigInt, |(t, _, _)| t.clone())
        }
        "number" => GlueType::Double,
        "boolean" => GlueType::Boolean,
        "array" => {
            let items = schema.get("items").ok_or("an array schema has no items")?;
            GlueType::Array(Box::new(json_read_type_at(items, depth + 1)?))
        }
        "object" => match (schema.get("properties"), schema.get("additionalProperties")) {
            (Some(Json::Object(props)), _) if !props.is_empty() => GlueType::Struct(
                props
                    .iter()
                    .map(|(name, s)| {
                        Ok((name.to_ascii_lowercase(), json_read_type_at(s, depth + 1)?))
                    })
                    .collect::<Result<_, String>>()?,
            ),
            (_, Some(values @ Json::Object(_))) => GlueType::Map(
                Box::new(GlueType::String),
                Box::new(json_read_type_at(values, depth + 1)?),
            ),
            _ => {
                return Err(
                    "an object schema has neither properties nor additionalProperties".into(),
                )
            }
        },
        other => return Err(format!("JSON type \"{other}\" is not supported")),
    })
}

// ---------------------------------------------------------------------------------------------
// Compatibility
// ---------------------------------------------------------------------------------------------

/// A change that breaks the compatibility mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    /// The column, or a dotted path into it for struct fields (`address.city`).
    pub column: String,
    /// What breaks and why; names the column and the mode.
    pub message: String,
}

/// Checks `next` against the previous versions (oldest first; the last is the latest) under
/// `mode` (see the module docs for the rules). No previous version: nothing to check.
pub fn check_compatibility(
    mode: Compatibility,
    previous: &[Vec<Column>],
    next: &[Column],
) -> Vec<Incompatibility> {
    let Some(latest) = previous.last() else {
        return Vec::new();
    };
    match mode {
        Compatibility::None => Vec::new(),
        Compatibility::Disabled => frozen(latest, next),
        _ => {
            let (backward, forward) = mode.directions();
            let count = previous.len();
            let against: Vec<(usize, &Vec<Column>)> = if mode.checks_all_versions() {
                // Latest first, so problems with the latest version are reported as such.
                previous.iter().enumerate().rev().collect()
            } else {
                vec![(count.saturating_sub(1), latest)]
            };
            let mut out: Vec<Incompatibility> = Vec::new();
            let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
            for (index, old) in against {
                let mut found = Vec::new();
                let check = Check {
                    mode,
                    out: &mut found,
                };
                check.run(old, next, backward, forward);
                for inc in found {
                    if !seen.insert((inc.column.clone(), inc.message.clone())) {
                        continue;
                    }
                    let message = if index + 1 == count {
                        inc.message
                    } else {
                        format!(
                            "{} (against version {} of the {count} earlier versions, which {} \
                             also checks)",
                            inc.message,
                            index + 1,
                            mode.as_str()
                        )
                    };
                    out.push(Incompatibility {
                        column: inc.column,
                        message,
                    });
                }
            }
            out
        }
    }
}

/// DISABLED: every difference from the latest version.
fn frozen(latest: &[Column], next: &[Column]) -> Vec<Incompatibility> {
    let why = "compatibility is DISABLED: the schema is frozen and the registry accepts no new \
               version";
    let mut out = Vec::new();
    for old in latest {
        if !next.iter().any(|c| c.name == old.name) {
            out.push(Incompatibility {
                column: old.name.clone(),
                message: format!("removing column \"{}\" is not possible: {why}", old.name),
            });
        }
    }
    for new in next {
        let Some(old) = latest.iter().find(|c| c.name == new.name) else {
            out.push(Incompatibility {
                column: new.name.clone(),
                message: format!("adding column \"{}\" is not possible: {why}", new.name),
            });
            continue;
        };
        let mut changes = Vec::new();
        if old.ty != new.ty {
            changes.push(format!("type {} -> {}", old.ty, new.ty));
        }
        if old.nullable != new.nullable {
            changes.push(if new.nullable {
                "now nullable".to_string()
            } else {
                "now non-nullable".to_string()
            });
        }
        if old.comment != new.comment {
            changes.push("comment".to_string());
        }
        if !changes.is_empty() {
            out.push(Incompatibility {
                column: new.name.clone(),
                message: format!(
                    "changing column \"{}\" ({}) is not possible: {why}",
                    new.name,
                    changes.join(", ")
                ),
            });
        }
    }
    if out.is_empty() {
        let old_order: Vec<&str> = latest.iter().map(|c| c.name.as_str()).collect();
        let new_order: Vec<&str> = next.iter().map(|c| c.name.as_str()).collect();
        if let Some(moved) = old_order
            .iter()
            .zip(&new_order)
            .find(|(a, b)| a != b)
            .map(|(_, b)| *b)
        {
            out.push(Incompatibility {
                column: moved.to_string(),
                message: format!(
                    "reordering the columns (\"{moved}\" moved) is not possible: {why}"
                ),
            });
        }
    }
    out
}

struct Check<'a> {
    mode: Compatibility,
    out: &'a mut Vec<Incompatibility>,
}

impl Check<'_> {
    fn push(&mut self, column: &str, message: String) {
        self.out.push(Incompatibility {
            column: column.to_string(),
            message,
        });
    }

    fn run(mut self, old: &[Column], next: &[Column], backward: bool, forward: bool) {
        let mode = self.mode.as_str();
        for o in old {
            match next.iter().find(|n| n.name == o.name) {
                None => {
                    if backward {
                        self.push(
                            &o.name,
                            format!(
                                "removing column \"{}\" breaks {mode} compatibility: consumers' \
                                 queries and readers of the new version still expect it; keep the \
                                 column (nullable if it is no longer filled)",
                                o.name
                            ),
                        );
                    } else if forward && !o.nullable {
                        self.push(
                            &o.name,
                            format!(
                                "removing non-nullable column \"{}\" breaks {mode} \
                                 compatibility: readers of the previous version require a value \
                                 for it in every row",
                                o.name
                            ),
                        );
                    }
                }
                Some(n) => {
                    if backward && o.nullable && !n.nullable {
                        self.push(
                            &o.name,
                            format!(
                                "making column \"{}\" non-nullable breaks {mode} compatibility: \
                                 data written with the previous version may contain nulls",
                                o.name
                            ),
                        );
                    }
                    if forward && !o.nullable && n.nullable {
                        self.push(
                            &o.name,
                            format!(
                                "making column \"{}\" nullable breaks {mode} compatibility: \
                                 readers of the previous version require a value in every row",
                                o.name
                            ),
                        );
                    }
                    self.types(&o.name, "column", &o.ty, &n.ty, backward, forward, 0);
                }
            }
        }
        if backward {
            for n in next {
                if !n.nullable && !old.iter().any(|o| o.name == n.name) {
                    self.push(
                        &n.name,
                        format!(
                            "adding non-nullable column \"{}\" breaks {mode} compatibility: data \
                             written with the previous version has no value for it; make it \
                             nullable",
                            n.name
                        ),
                    );
                }
            }
        }
    }

    /// Compares a column's or struct field's types; recurses into structs (also inside arrays
    /// and map values) so that the message names the field.
    #[allow(clippy::too_many_arguments)]
    fn types(
        &mut self,
        path: &str,
        noun: &str,
        old: &GlueType,
        new: &GlueType,
        backward: bool,
        forward: bool,
        depth: usize,
    ) {
        let mode = self.mode.as_str();
        if depth <= glue_type::MAX_DEPTH * 2 {
            match (old, new) {
                (GlueType::Struct(old_fields), GlueType::Struct(new_fields)) => {
                    for (name, old_ty) in old_fields {
                        let field = format!("{path}.{name}");
                        match new_fields.iter().find(|(n, _)| n == name) {
                            Some((_, new_ty)) => self.types(
                                &field,
                                "field",
                                old_ty,
                                new_ty,
                                backward,
                                forward,
                                depth + 1,
                            ),
                            None if backward => self.push(
                                &field,
                                format!(
                                    "removing field \"{field}\" breaks {mode} compatibility: \
                                     consumers' queries and readers of the new version still \
                                     expect it"
                                ),
                            ),
                            // Struct fields are nullable: previous readers do without them.
                            None => {}
                        }
                    }
                    return;
                }
                (GlueType::Array(a), GlueType::Array(b))
                    if matches!((&**a, &**b), (GlueType::Struct(_), GlueType::Struct(_))) =>
                {
                    self.types(
                        &format!("{path}[]"),
                        "field",
                        a,
                        b,
                        backward,
                        forward,
                        depth + 1,
                    );
                    return;
                }
                (GlueType::Map(ka, va), GlueType::Map(kb, vb))
                    if matches!((&**va, &**vb), (GlueType::Struct(_), GlueType::Struct(_))) =>
                {
                    if ka != kb {
                        self.changed(path, noun, old, new, backward, forward);
                    }
                    self.types(
                        &format!("{path}{{}}"),
                        "field",
                        va,
                        vb,
                        backward,
                        forward,
                        depth + 1,
                    );
                    return;
                }
                _ => {}
            }
        }
        self.changed(path, noun, old, new, backward, forward);
    }

    fn changed(
        &mut self,
        path: &str,
        noun: &str,
        old: &GlueType,
        new: &GlueType,
        backward: bool,
        forward: bool,
    ) {
        let mode = self.mode.as_str();
        if backward && !lossless(old, new) {
            self.push(
                path,
                format!(
                    "changing {noun} \"{path}\" from {old} to {new} breaks {mode} compatibility: \
                     {old} values written with the previous version cannot be read as {new} \
                     without loss"
                ),
            );
        } else if forward && !lossless(new, old) {
            self.push(
                path,
                format!(
                    "changing {noun} \"{path}\" from {old} to {new} breaks {mode} compatibility: \
                     readers of the previous version cannot read {new} values as {old} without \
                     loss"
                ),
            );
        }
    }
}

/// Whether every value of `from` reads as `to` without loss (see the module docs).
pub fn lossless(from: &GlueType, to: &GlueType) -> bool {
    use GlueType as T;
    if from == to {
        return true;
    }
    let rank = |t: &GlueType| match t {
        T::TinyInt => Some(0),
        T::SmallInt => Some(1),
        T::Int => Some(2),
        T::BigInt => Some(3),
        _ => None,
    };
    match (from, to) {
        (a, b) if rank(a).is_some() && rank(b).is_some() => rank(a) < rank(b),
        (T::TinyInt | T::SmallInt | T::Int | T::BigInt | T::Float, T::Double) => true,
        (T::Char(_) | T::Varchar(_), T::String) => true,
        (T::Varchar(n), T::Varchar(m)) => n <= m,
        (
            T::Decimal {
                precision: p,
                scale: s,
            },
            T::Decimal {
                precision: q,
                scale: t,
            },
        ) => s == t && p <= q,
        (T::Array(a), T::Array(b)) => lossless(a, b),
        (T::Map(ka, va), T::Map(kb, vb)) => lossless(ka, kb) && lossless(va, vb),
        (T::Struct(a), T::Struct(b)) => a.iter().all(|(name, ta)| {
            b.iter()
                .find(|(n, _)| n == name)
                .is_some_and(|(_, tb)| lossless(ta, tb))
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn compatibility_order() {
        use Compatibility::*;
        let names = |v: Vec<Compatibility>| v.into_iter().map(|m| m.as_str()).collect::<Vec<_>>();
        assert_eq!(
            names(Compatibility::allowed_by(Backward)),
            ["DISABLED", "BACKWARD", "BACKWARD_ALL", "FULL", "FULL_ALL"]
        );
        assert_eq!(
            names(Compatibility::allowed_by(Forward)),
            ["DISABLED", "FORWARD", "FORWARD_ALL", "FULL", "FULL_ALL"]
        );
        assert_eq!(
            names(Compatibility::allowed_by(FullAll)),
            ["DISABLED", "FULL_ALL"]
        );
        assert_eq!(Compatibility::allowed_by(None).len(), 8);
        assert!(!None.at_least(Backward));
        assert!(!Forward.at_least(Backward) && !Backward.at_least(Forward));
        assert!(Disabled.at_least(FullAll));
    }

    use super::*;

    fn t(s: &str) -> GlueType {
        glue_type::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn col(name: &str, ty: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            ty: t(ty),
            comment: None,
            nullable,
        }
    }

    fn orders() -> Vec<Column> {
        vec![
            col("order_id", "string", false).with_comment("Order key"),
            col("customer_id", "string", true),
            col("order_amount", "decimal(12,2)", true),
            col("currency", "string", true),
            col("created_at", "timestamp", true),
        ]
    }

    #[test]
    fn parses_format_and_mode_names() {
        assert_eq!("AVRO".parse(), Ok(DataFormat::Avro));
        assert_eq!("JSON".parse(), Ok(DataFormat::Json));
        assert!("avro"
            .parse::<DataFormat>()
            .is_err_and(|e| e.contains("\"AVRO\"")));
        assert!("PROTOBUF"
            .parse::<DataFormat>()
            .is_err_and(|e| e.contains("not supported")));
        assert_eq!(DataFormat::Json.as_str(), "JSON");
        for mode in Compatibility::ALL {
            assert_eq!(mode.as_str().parse(), Ok(mode));
        }
        assert_eq!("BACKWARD_ALL".parse(), Ok(Compatibility::BackwardAll));
        assert!("backward-all"
            .parse::<Compatibility>()
            .is_err_and(|e| e.contains("\"BACKWARD_ALL\"")));
        assert!("SIDEWAYS"
            .parse::<Compatibility>()
            .is_err_and(|e| e.contains("\"FULL_ALL\"")));
        let all: Vec<bool> = Compatibility::ALL
            .iter()
            .map(|m| m.checks_all_versions())
            .collect();
        assert_eq!(all, [false, false, false, true, false, true, false, true]);
    }

    #[test]
    fn avro_golden() {
        assert_eq!(
            definition(DataFormat::Avro, "orders", "commerce", &orders()),
            concat!(
                r#"{"type":"record","name":"orders","namespace":"commerce","fields":["#,
                r#"{"name":"order_id","type":"string","doc":"Order key"},"#,
                r#"{"name":"customer_id","type":["null","string"],"default":null},"#,
                r#"{"name":"order_amount","type":["null",{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}],"default":null},"#,
                r#"{"name":"currency","type":["null","string"],"default":null},"#,
                r#"{"name":"created_at","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null}"#,
                r#"]}"#
            )
        );
    }

    #[test]
    fn avro_golden_nested_and_lossy() {
        let columns = vec![
            col("address", "struct<city:string,zip:int>", true),
            col("code", "char(3)", false),
            col("attrs", "map<int,string>", true),
            col("days", "array<date>", false),
        ];
        assert_eq!(
            definition(DataFormat::Avro, "my-product", "sales.eu-west", &columns),
            concat!(
                r#"{"type":"record","name":"my_product","namespace":"sales.eu_west","fields":["#,
                r#"{"name":"address","type":["null",{"type":"record","name":"my_product_address","fields":["#,
                r#"{"name":"city","type":["null","string"],"default":null},"#,
                r#"{"name":"zip","type":["null","int"],"default":null}]}],"default":null},"#,
                r#"{"name":"code","type":"string","glueType":"char(3)"},"#,
                r#"{"name":"attrs","type":["null",{"type":"array","items":{"type":"record","name":"my_product_attrs_entry","fields":["#,
                r#"{"name":"key","type":"int"},{"name":"value","type":"string"}]}}],"default":null,"glueType":"map<int,string>"},"#,
                r#"{"name":"days","type":{"type":"array","items":{"type":"int","logicalType":"date"}}}"#,
                r#"]}"#
            )
        );
    }

    #[test]
    fn avro_record_names_stay_unique() {
        let columns = vec![
            col("a_item", "struct<x:int>", true),
            col("a", "array<struct<y:int>>", true),
        ];
        let def = definition(DataFormat::Avro, "p", "", &columns);
        assert!(def.contains(r#""name":"p_a_item","#), "{def}");
        assert!(def.contains(r#""name":"p_a_item_2","#), "{def}");
        assert!(!def.contains("namespace"));
        assert!(definition(DataFormat::Avro, "int", "", &[]).contains(r#""name":"int_record""#));
        assert!(definition(DataFormat::Avro, "", "", &[]).contains(r#""name":"Record""#));
    }

    #[test]
    fn json_golden() {
        assert_eq!(
            definition(DataFormat::Json, "orders", "commerce", &orders()),
            concat!(
                r#"{"$schema":"http://json-schema.org/draft-07/schema#","title":"commerce.orders","type":"object","properties":{"#,
                r#""order_id":{"type":"string","description":"Order key"},"#,
                r#""customer_id":{"type":["null","string"]},"#,
                r#""order_amount":{"type":["null","number"],"glueType":"decimal(12,2)"},"#,
                r#""currency":{"type":["null","string"]},"#,
                r#""created_at":{"type":["null","string"],"format":"date-time"}"#,
                r#"},"required":["order_id"]}"#
            )
        );
    }

    #[test]
    fn json_golden_types() {
        let columns = vec![
            col("n", "int", false),
            col("b", "bigint", false),
            col("v", "varchar(10)", false),
            col("d", "date", true),
            col("raw", "binary", true),
            col("tags", "map<string,array<double>>", true),
            col("s", "struct<a:boolean>", true),
        ];
        assert_eq!(
            definition(DataFormat::Json, "p", "", &columns),
            concat!(
                r#"{"$schema":"http://json-schema.org/draft-07/schema#","title":"p","type":"object","properties":{"#,
                r#""n":{"type":"integer","minimum":-2147483648,"maximum":2147483647},"#,
                r#""b":{"type":"integer"},"#,
                r#""v":{"type":"string","maxLength":10},"#,
                r#""d":{"type":["null","string"],"format":"date"},"#,
                r#""raw":{"type":["null","string"],"contentEncoding":"base64"},"#,
                r#""tags":{"type":["null","object"],"additionalProperties":{"type":"array","items":{"type":"number"}}},"#,
                r#""s":{"type":["null","object"],"properties":{"a":{"type":["null","boolean"]}}}"#,
                r#"},"required":["n","b","v"]}"#
            )
        );
    }

    fn every_type_columns() -> Vec<Column> {
        let types = [
            "string",
            "char(2)",
            "varchar(7)",
            "tinyint",
            "smallint",
            "int",
            "bigint",
            "float",
            "double",
            "decimal(38,4)",
            "decimal",
            "boolean",
            "binary",
            "date",
            "timestamp",
            "array<string>",
            "array<array<char(1)>>",
            "map<string,int>",
            "map<bigint,smallint>",
            "map<varchar(3),struct<q:tinyint>>",
            "struct<a:int,b:struct<c:varchar(9),d:array<date>>>",
            "array<struct<sku:string,qty:smallint>>",
        ];
        types
            .iter()
            .enumerate()
            .map(|(i, ty)| Column {
                name: format!("c{i}"),
                ty: t(ty),
                comment: (i % 3 == 0).then(|| format!("comment \"{i}\"\n")),
                nullable: i % 2 == 0,
            })
            .collect()
    }

    #[test]
    fn definitions_read_back_exactly() {
        for format in [DataFormat::Avro, DataFormat::Json] {
            let columns = every_type_columns();
            let def = definition(format, "p", "ns", &columns);
            assert_eq!(
                columns_from_definition(format, &def),
                Ok(columns.clone()),
                "{format}: {def}"
            );
            assert_eq!(
                columns_from_definition(format, &definition(format, "p", "ns", &orders())),
                Ok(orders())
            );
            // Same input, same bytes.
            assert_eq!(def, definition(format, "p", "ns", &columns));
        }
    }

    #[test]
    fn reading_refuses_foreign_constructs() {
        let avro = |s: &str| columns_from_definition(DataFormat::Avro, s);
        assert!(avro("not json").is_err());
        assert!(avro(r#"{"type":"enum","name":"x","symbols":["A"]}"#)
            .is_err_and(|e| e.contains("not a record")));
        assert!(avro(
            r#"{"type":"record","name":"r","fields":[{"name":"x","type":["int","string"]}]}"#
        )
        .is_err_and(|e| e.contains("unions other than")));
        assert!(
            avro(r#"{"type":"record","name":"r","fields":[{"name":"x","type":"fixed"}]}"#)
                .is_err_and(|e| e.contains("\"fixed\""))
        );
        assert!(avro(
            r#"{"type":"record","name":"r","fields":[{"name":"x","type":"int","glueType":"long"}]}"#
        )
        .is_err_and(|e| e.contains("invalid glueType")));
        assert_eq!(
            avro(r#"{"type":"record","name":"r","fields":[{"name":"x","type":["long","null"]}]}"#),
            Ok(vec![col("x", "bigint", true)])
        );
        let json = |s: &str| columns_from_definition(DataFormat::Json, s);
        assert!(json(r#"{"type":"array"}"#).is_err());
        assert!(
            json(r#"{"type":"object","properties":{"x":{"type":"object"}}}"#)
                .is_err_and(|e| e.contains("neither properties"))
        );
        assert!(
            json(r#"{"type":"object","properties":{"x":{"type":["string","integer"]}}}"#).is_err()
        );
    }

    fn check(mode: Compatibility, previous: Vec<Vec<Column>>, next: &[Column]) -> Vec<String> {
        check_compatibility(mode, &previous, next)
            .into_iter()
            .map(|i| format!("{}: {}", i.column, i.message))
            .collect()
    }

    use Compatibility::{Backward, BackwardAll, Disabled, Forward, ForwardAll, Full, FullAll};

    #[test]
    fn first_version_and_none_check_nothing() {
        assert!(check(Backward, vec![], &orders()).is_empty());
        assert!(check(Disabled, vec![], &orders()).is_empty());
        assert!(check(Compatibility::None, vec![orders()], &[]).is_empty());
    }

    #[test]
    fn backward_rules() {
        let v1 = vec![col("id", "string", false), col("currency", "string", true)];
        // Removing a column.
        assert_eq!(
            check(Backward, vec![v1.clone()], &[col("id", "string", false)]),
            [
                "currency: removing column \"currency\" breaks BACKWARD compatibility: consumers' \
              queries and readers of the new version still expect it; keep the column (nullable \
              if it is no longer filled)"
            ]
        );
        // Adding a nullable column is fine; a non-nullable one is not.
        let mut v2 = v1.clone();
        v2.push(col("note", "string", true));
        assert!(check(Backward, vec![v1.clone()], &v2).is_empty());
        v2.push(col("region", "string", false));
        assert_eq!(
            check(Backward, vec![v1.clone()], &v2),
            ["region: adding non-nullable column \"region\" breaks BACKWARD compatibility: data \
              written with the previous version has no value for it; make it nullable"]
        );
        // Nullable -> non-nullable breaks; the reverse is fine for BACKWARD.
        let tightened = vec![col("id", "string", false), col("currency", "string", false)];
        assert_eq!(
            check(Backward, vec![v1.clone()], &tightened),
            [
                "currency: making column \"currency\" non-nullable breaks BACKWARD compatibility: \
              data written with the previous version may contain nulls"
            ]
        );
        let loosened = vec![col("id", "string", true), col("currency", "string", true)];
        assert!(check(Backward, vec![v1.clone()], &loosened).is_empty());
        // Reordering is fine.
        let reordered = vec![col("currency", "string", true), col("id", "string", false)];
        assert!(check(Backward, vec![v1], &reordered).is_empty());
    }

    #[test]
    fn backward_type_promotions() {
        let promotions = [
            ("int", "bigint"),
            ("int", "double"),
            ("bigint", "double"),
            ("float", "double"),
            ("smallint", "int"),
            ("tinyint", "bigint"),
            ("char(3)", "string"),
            ("varchar(10)", "string"),
            ("varchar(10)", "varchar(20)"),
            ("decimal(10,2)", "decimal(12,2)"),
            ("array<int>", "array<bigint>"),
            ("map<string,float>", "map<string,double>"),
        ];
        for (from, to) in promotions {
            let prev = vec![vec![col("x", from, true)]];
            assert!(
                check(Backward, prev.clone(), &[col("x", to, true)]).is_empty(),
                "{from} -> {to}"
            );
            // The reverse narrows.
            let back = check(
                Backward,
                vec![vec![col("x", to, true)]],
                &[col("x", from, true)],
            );
            assert_eq!(back.len(), 1, "{to} -> {from}: {back:?}");
        }
        for (from, to) in [
            ("bigint", "int"),
            ("int", "string"),
            ("double", "float"),
            ("string", "varchar(10)"),
            ("decimal(10,2)", "decimal(12,3)"),
            ("date", "timestamp"),
            ("int", "float"),
        ] {
            assert_eq!(
                check(
                    Backward,
                    vec![vec![col("x", from, true)]],
                    &[col("x", to, true)]
                ),
                [format!(
                    "x: changing column \"x\" from {} to {} breaks BACKWARD compatibility: {} \
                     values written with the previous version cannot be read as {} without loss",
                    t(from),
                    t(to),
                    t(from),
                    t(to)
                )],
                "{from} -> {to}"
            );
        }
    }

    #[test]
    fn forward_rules() {
        let v1 = vec![col("id", "string", false), col("note", "string", true)];
        // Adding any column is fine.
        let mut added = v1.clone();
        added.push(col("region", "string", false));
        assert!(check(Forward, vec![v1.clone()], &added).is_empty());
        // Removing a nullable column is fine; a non-nullable one is not.
        assert!(check(Forward, vec![v1.clone()], &[col("id", "string", false)]).is_empty());
        assert_eq!(
            check(Forward, vec![v1.clone()], &[col("note", "string", true)]),
            ["id: removing non-nullable column \"id\" breaks FORWARD compatibility: readers of the \
              previous version require a value for it in every row"]
        );
        // Non-nullable -> nullable breaks; the reverse is fine for FORWARD.
        assert_eq!(
            check(
                Forward,
                vec![v1.clone()],
                &[col("id", "string", true), col("note", "string", true)]
            ),
            [
                "id: making column \"id\" nullable breaks FORWARD compatibility: readers of the \
              previous version require a value in every row"
            ]
        );
        assert!(check(
            Forward,
            vec![v1],
            &[col("id", "string", false), col("note", "string", false)]
        )
        .is_empty());
        // Promotions hold in reverse: narrowing is fine, widening is not.
        assert!(check(
            Forward,
            vec![vec![col("x", "bigint", true)]],
            &[col("x", "int", true)]
        )
        .is_empty());
        assert_eq!(
            check(Forward, vec![vec![col("x", "int", true)]], &[col("x", "bigint", true)]),
            ["x: changing column \"x\" from int to bigint breaks FORWARD compatibility: readers \
              of the previous version cannot read bigint values as int without loss"]
        );
    }

    #[test]
    fn full_is_both_directions() {
        let v1 = vec![col("id", "string", false), col("note", "string", true)];
        // Removing a nullable column: fine for FORWARD, not for BACKWARD.
        let removed = check(Full, vec![v1.clone()], &[col("id", "string", false)]);
        assert_eq!(removed.len(), 1);
        assert!(
            removed[0].contains("breaks FULL compatibility"),
            "{removed:?}"
        );
        // Adding a nullable column is fine both ways; a non-nullable one breaks BACKWARD.
        let mut added = v1.clone();
        added.push(col("n", "int", true));
        assert!(check(Full, vec![v1.clone()], &added).is_empty());
        added.push(col("m", "int", false));
        assert_eq!(check(Full, vec![v1.clone()], &added).len(), 1);
        // Any type change but identity breaks one direction.
        assert_eq!(
            check(Full, vec![vec![col("x", "int", true)]], &[col("x", "bigint", true)]),
            ["x: changing column \"x\" from int to bigint breaks FULL compatibility: readers of \
              the previous version cannot read bigint values as int without loss"]
        );
        // Nullability changes break one direction each.
        assert_eq!(
            check(
                Full,
                vec![v1.clone()],
                &[col("id", "string", true), col("note", "string", true)]
            )
            .len(),
            1
        );
        assert_eq!(
            check(
                Full,
                vec![v1.clone()],
                &[col("id", "string", false), col("note", "string", false)]
            )
            .len(),
            1
        );
        assert!(check(Full, vec![v1.clone()], &v1).is_empty());
    }

    #[test]
    fn all_modes_check_every_earlier_version() {
        // v1 had "legacy"; v2 dropped it (allowed at the time under NONE, say); v3 = v2.
        let v1 = vec![col("id", "string", false), col("legacy", "string", true)];
        let v2 = vec![col("id", "string", false)];
        let next = v2.clone();
        assert!(check(Backward, vec![v1.clone(), v2.clone()], &next).is_empty());
        assert_eq!(
            check(BackwardAll, vec![v1.clone(), v2.clone()], &next),
            [
                "legacy: removing column \"legacy\" breaks BACKWARD_ALL compatibility: consumers' \
              queries and readers of the new version still expect it; keep the column (nullable \
              if it is no longer filled) (against version 1 of the 2 earlier versions, which \
              BACKWARD_ALL also checks)"
            ]
        );
        // FORWARD_ALL: v1 had a non-nullable column that v2 made nullable and next drops.
        let f1 = vec![col("id", "string", false), col("k", "int", false)];
        let f2 = vec![col("id", "string", false), col("k", "int", true)];
        let fnext = vec![col("id", "string", false)];
        assert!(check(Forward, vec![f1.clone(), f2.clone()], &fnext).is_empty());
        let all = check(ForwardAll, vec![f1.clone(), f2.clone()], &fnext);
        assert_eq!(all.len(), 1, "{all:?}");
        assert!(all[0].starts_with("k: removing non-nullable column \"k\" breaks FORWARD_ALL"));
        assert!(all[0].ends_with(
            "(against version 1 of the 2 earlier versions, which FORWARD_ALL also checks)"
        ));
        // FULL_ALL: a problem against the latest is reported once, without the suffix.
        let full = check(
            FullAll,
            vec![v2.clone(), v2.clone()],
            &[col("id", "int", false)],
        );
        assert_eq!(full.len(), 1, "{full:?}");
        assert!(!full[0].contains("against version"));
        assert!(full[0].contains("FULL_ALL"));
    }

    #[test]
    fn disabled_freezes_everything() {
        let v1 = vec![col("id", "string", false), col("note", "string", true)];
        assert!(check(Disabled, vec![v1.clone()], &v1).is_empty());
        let mut added = v1.clone();
        added.push(col("n", "int", true));
        assert_eq!(
            check(Disabled, vec![v1.clone()], &added),
            [
                "n: adding column \"n\" is not possible: compatibility is DISABLED: the schema is \
              frozen and the registry accepts no new version"
            ]
        );
        assert!(
            check(Disabled, vec![v1.clone()], &[col("id", "string", false)])[0]
                .starts_with("note: removing column \"note\" is not possible")
        );
        assert!(check(
            Disabled,
            vec![v1.clone()],
            &[col("id", "string", false), col("note", "varchar(5)", true)]
        )[0]
        .contains("(type string -> varchar(5))"));
        assert!(check(
            Disabled,
            vec![v1.clone()],
            &[col("id", "string", true), col("note", "string", true)]
        )[0]
        .contains("(now nullable)"));
        let commented = vec![
            col("id", "string", false).with_comment("x"),
            col("note", "string", true),
        ];
        assert!(check(Disabled, vec![v1.clone()], &commented)[0].contains("(comment)"));
        let reordered = vec![col("note", "string", true), col("id", "string", false)];
        assert!(check(Disabled, vec![v1], &reordered)[0]
            .contains("reordering the columns (\"note\" moved)"));
    }

    #[test]
    fn nested_fields_are_compared_with_paths() {
        let prev = vec![vec![col("address", "struct<city:string,zip:int>", true)]];
        // Adding a struct field is fine both ways.
        assert!(check(
            Full,
            prev.clone(),
            &[col(
                "address",
                "struct<city:string,zip:int,street:string>",
                true
            )]
        )
        .is_empty());
        // Removing one breaks BACKWARD (with its path), not FORWARD.
        assert_eq!(
            check(
                Backward,
                prev.clone(),
                &[col("address", "struct<city:string>", true)]
            ),
            [
                "address.zip: removing field \"address.zip\" breaks BACKWARD compatibility: \
              consumers' queries and readers of the new version still expect it"
            ]
        );
        assert!(check(
            Forward,
            prev.clone(),
            &[col("address", "struct<city:string>", true)]
        )
        .is_empty());
        // Retyping one names the path.
        assert_eq!(
            check(
                Backward,
                prev.clone(),
                &[col("address", "struct<city:int,zip:int>", true)]
            ),
            [
                "address.city: changing field \"address.city\" from string to int breaks BACKWARD \
              compatibility: string values written with the previous version cannot be read as \
              int without loss"
            ]
        );
        assert!(check(
            Backward,
            prev.clone(),
            &[col("address", "struct<city:string,zip:bigint>", true)]
        )
        .is_empty());
        // Structs inside arrays and maps.
        let items = vec![vec![col(
            "items",
            "array<struct<sku:string,qty:int>>",
            true,
        )]];
        assert_eq!(
            check(
                Backward,
                items.clone(),
                &[col("items", "array<struct<sku:string>>", true)]
            )[0],
            "items[].qty: removing field \"items[].qty\" breaks BACKWARD compatibility: \
             consumers' queries and readers of the new version still expect it"
        );
        let attrs = vec![vec![col("attrs", "map<string,struct<v:int>>", true)]];
        assert!(check(
            Backward,
            attrs.clone(),
            &[col("attrs", "map<string,struct<v:string>>", true)]
        )[0]
        .starts_with("attrs{}.v: changing field"));
        // A struct replaced by a primitive is a plain type change.
        assert_eq!(
            check(Backward, prev.clone(), &[col("address", "string", true)]).len(),
            1
        );
    }

    #[test]
    fn lossless_structs_and_maps() {
        assert!(lossless(
            &t("array<struct<a:int>>"),
            &t("array<struct<a:bigint,b:int>>")
        ));
        assert!(!lossless(
            &t("array<struct<a:int,b:int>>"),
            &t("array<struct<a:int>>")
        ));
        assert!(!lossless(&t("map<int,int>"), &t("map<string,int>")));
        assert!(lossless(&t("map<int,int>"), &t("map<bigint,bigint>")));
    }

    mod properties {
        use super::*;
        use crate::contract::glue_type::strategy::any_type;
        use proptest::prelude::*;

        fn any_columns() -> impl Strategy<Value = Vec<Column>> {
            prop::collection::vec(
                (
                    any_type(),
                    any::<bool>(),
                    prop::option::of("[ -~\\n\u{e9}]{0,12}"),
                ),
                0..6,
            )
            .prop_map(|cols| {
                cols.into_iter()
                    .enumerate()
                    .map(|(i, (ty, nullable, comment))| Column {
                        name: format!("c{i}"),
                        ty,
                        comment,
                        nullable,
                    })
                    .collect()
            })
        }

        /// Columns drawn from a small pool of names and types, so that versions overlap.
        fn small_columns() -> impl Strategy<Value = Vec<Column>> {
            let types = [
                "int",
                "bigint",
                "double",
                "float",
                "string",
                "varchar(5)",
                "decimal(5,2)",
                "decimal(7,2)",
                "struct<x:int>",
                "struct<x:bigint,y:string>",
                "array<struct<x:int>>",
            ];
            prop::collection::btree_map(
                prop::sample::select(vec!["a", "b", "c", "d"]),
                (prop::sample::select(types.to_vec()), any::<bool>()),
                0..4,
            )
            .prop_map(|m| {
                m.into_iter()
                    .map(|(name, (ty, nullable))| col(name, ty, nullable))
                    .collect()
            })
        }

        proptest! {
            #[test]
            fn definitions_round_trip(columns in any_columns(), name in "[a-z][a-z_-]{0,8}") {
                for format in [DataFormat::Avro, DataFormat::Json] {
                    let def = definition(format, &name, "mesh.commerce", &columns);
                    prop_assert_eq!(&def, &definition(format, &name, "mesh.commerce", &columns));
                    prop_assert_eq!(columns_from_definition(format, &def), Ok(columns.clone()));
                }
            }

            #[test]
            fn an_unchanged_schema_passes_every_mode(columns in any_columns()) {
                for mode in Compatibility::ALL {
                    let previous = [columns.clone(), columns.clone()];
                    prop_assert!(check_compatibility(mode, &previous, &columns).is_empty());
                }
            }

            #[test]
            fn full_is_backward_and_forward(old in small_columns(), new in small_columns()) {
                let previous = [old];
                let b = check_compatibility(Backward, &previous, &new);
                let f = check_compatibility(Forward, &previous, &new);
                let full = check_compatibility(Full, &previous, &new);
                prop_assert_eq!(full.is_empty(), b.is_empty() && f.is_empty());
                prop_assert!(full.len() >= b.len().max(f.len()));
                // *_ALL with a single previous version is the plain mode.
                prop_assert_eq!(check_compatibility(FullAll, &previous, &new).len(), full.len());
                prop_assert!(check_compatibility(Compatibility::None, &previous, &new).is_empty());
                let disabled = check_compatibility(Disabled, &previous, &new);
                prop_assert_eq!(disabled.is_empty(), previous[0] == new);
            }

            #[test]
            fn all_modes_find_at_least_what_the_latest_check_finds(
                v1 in small_columns(), v2 in small_columns(), next in small_columns()
            ) {
                let previous = [v1, v2];
                for (one, all) in [(Backward, BackwardAll), (Forward, ForwardAll), (Full, FullAll)] {
                    let latest = check_compatibility(one, &previous, &next);
                    let every = check_compatibility(all, &previous, &next);
                    prop_assert!(every.len() >= latest.len());
                    for inc in &latest {
                        prop_assert!(every.iter().any(|e| e.column == inc.column));
                    }
                }
            }

            #[test]
            fn lossless_is_reflexive_and_transitive(a in any_type(), b in any_type(), c in any_type()) {
                prop_assert!(lossless(&a, &a));
                if lossless(&a, &b) && lossless(&b, &c) {
                    prop_assert!(lossless(&a, &c));
                }
            }
        }
    }
}
