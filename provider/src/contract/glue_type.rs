//! Glue/Hive column type strings: `string`, `decimal(12,2)`, `array<struct<sku:string,qty:int>>`.
//!
//! [`parse`] accepts what a person writes (any case, spaces around punctuation, `integer` for
//! `int`, `decimal` for `decimal(10,0)`) and [`GlueType`]'s `Display` writes the canonical form
//! Glue stores and returns (lowercase, no spaces), so comparing a configured type with the one
//! read back from the catalog is a comparison of parsed values, never of spellings.
//!
//! Only Glue/Hive names are accepted: `long`, `bool` or `text` are refused with a suggestion,
//! because Athena and Spark read the catalog type verbatim and would fail later, far from the
//! configuration that caused it.

use std::fmt;
use std::str::FromStr;

/// Deepest nesting of `array`/`map`/`struct` accepted; deeper types are almost certainly
/// mistakes, and the bound keeps the recursive parser and every consumer free of stack overflow.
pub const MAX_DEPTH: usize = 32;
/// Longest `char(n)` (Hive and Athena limit).
pub const MAX_CHAR_LENGTH: u32 = 255;
/// Longest `varchar(n)` (Hive and Athena limit).
pub const MAX_VARCHAR_LENGTH: u32 = 65_535;
/// Largest decimal precision (Hive, Athena and Spark limit).
pub const MAX_DECIMAL_PRECISION: u32 = 38;
/// Precision of a bare `decimal` (Hive's default).
pub const DEFAULT_DECIMAL_PRECISION: u32 = 10;
/// Scale of a bare `decimal` or `decimal(p)` (Hive's default).
pub const DEFAULT_DECIMAL_SCALE: u32 = 0;

/// A Glue/Hive column type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GlueType {
    /// `string`.
    String,
    /// `char(n)`: fixed length, 1..=255.
    Char(u32),
    /// `varchar(n)`: bounded length, 1..=65535.
    Varchar(u32),
    /// `tinyint`: 8-bit signed integer.
    TinyInt,
    /// `smallint`: 16-bit signed integer.
    SmallInt,
    /// `int` (also written `integer`): 32-bit signed integer.
    Int,
    /// `bigint`: 64-bit signed integer.
    BigInt,
    /// `float`: 32-bit floating point.
    Float,
    /// `double`: 64-bit floating point.
    Double,
    /// `decimal(precision,scale)`: 1 <= precision <= 38, 0 <= scale <= precision.
    Decimal {
        /// Total number of digits.
        precision: u32,
        /// Digits after the decimal point.
        scale: u32,
    },
    /// `boolean`.
    Boolean,
    /// `binary`.
    Binary,
    /// `date`.
    Date,
    /// `timestamp`.
    Timestamp,
    /// `array<T>`.
    Array(Box<GlueType>),
    /// `map<K,V>`; the key is a primitive type.
    Map(Box<GlueType>, Box<GlueType>),
    /// `struct<name:T,...>`: at least one field, names unique, stored lowercase.
    Struct(Vec<(String, GlueType)>),
}

impl GlueType {
    /// Neither `array`, `map` nor `struct`.
    pub fn is_primitive(&self) -> bool {
        !matches!(
            self,
            GlueType::Array(_) | GlueType::Map(..) | GlueType::Struct(_)
        )
    }

    /// `string`, `char(n)` or `varchar(n)`.
    pub fn is_string_like(&self) -> bool {
        matches!(
            self,
            GlueType::String | GlueType::Char(_) | GlueType::Varchar(_)
        )
    }
}

impl fmt::Display for GlueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GlueType::String => f.write_str("string"),
            GlueType::Char(n) => write!(f, "char({n})"),
            GlueType::Varchar(n) => write!(f, "varchar({n})"),
            GlueType::TinyInt => f.write_str("tinyint"),
            GlueType::SmallInt => f.write_str("smallint"),
            GlueType::Int => f.write_str("int"),
            GlueType::BigInt => f.write_str("bigint"),
            GlueType::Float => f.write_str("float"),
            GlueType::Double => f.write_str("double"),
            GlueType::Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            GlueType::Boolean => f.write_str("boolean"),
            GlueType::Binary => f.write_str("binary"),
            GlueType::Date => f.write_str("date"),
            GlueType::Timestamp => f.write_str("timestamp"),
            GlueType::Array(item) => write!(f, "array<{item}>"),
            GlueType::Map(key, value) => write!(f, "map<{key},{value}>"),
            GlueType::Struct(fields) => {
                f.write_str("struct<")?;
                for (i, (name, ty)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}:{ty}")?;
                }
                f.write_str(">")
            }
        }
    }
}

impl FromStr for GlueType {
    type Err = TypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

/// Why a type string was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeError {
    /// 0-based character offset of the problem in the input (`Display` shows it 1-based, as
    /// "character N").
    pub position: usize,
    /// What is wrong, without the position.
    pub message: String,
}

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at character {}", self.message, self.position + 1)
    }
}

impl std::error::Error for TypeError {}

/// Parses a Glue/Hive type string (see the module docs for what is accepted).
pub fn parse(s: &str) -> Result<GlueType, TypeError> {
    let mut p = Parser {
        chars: s.chars().collect(),
        pos: 0,
    };
    p.ws();
    if p.pos >= p.chars.len() {
        return Err(TypeError {
            position: p.pos,
            message: "empty type: expected a Glue type such as string, int, decimal(12,2) or \
                      array<string>"
                .into(),
        });
    }
    let ty = p.ty(1)?;
    p.ws();
    if let Some(c) = p.peek() {
        return Err(p.err(format!(
            "unexpected '{c}' after {}: the type is already complete",
            p.consumed()
        )));
    }
    Ok(ty)
}

/// Names people reach for that Glue does not know, with the Glue name to use instead.
const SUGGESTIONS: &[(&str, &str)] = &[
    ("long", "bigint"),
    ("int64", "bigint"),
    ("int8", "bigint"),
    ("int32", "int"),
    ("int4", "int"),
    ("short", "smallint"),
    ("int16", "smallint"),
    ("int2", "smallint"),
    ("byte", "tinyint"),
    ("bool", "boolean"),
    ("text", "string"),
    ("str", "string"),
    ("uuid", "string"),
    ("json", "string"),
    ("datetime", "timestamp"),
    ("timestamptz", "timestamp"),
    ("real", "float"),
    ("float4", "float"),
    ("float8", "double"),
    ("number", "decimal(p,s)"),
    ("numeric", "decimal(p,s)"),
    ("dec", "decimal(p,s)"),
    ("bytes", "binary"),
    ("blob", "binary"),
    ("varbinary", "binary"),
    ("list", "array<T>"),
    ("object", "struct<name:T,...>"),
    ("record", "struct<name:T,...>"),
    ("row", "struct<name:T,...>"),
];

const KNOWN: &str = "string, char(n), varchar(n), tinyint, smallint, int, bigint, float, double, \
                     decimal(p,s), boolean, binary, date, timestamp, array<T>, map<K,V>, \
                     struct<name:T,...>";

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn err(&self, message: String) -> TypeError {
        TypeError {
            position: self.pos,
            message,
        }
    }

    fn err_at(&self, position: usize, message: String) -> TypeError {
        TypeError { position, message }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// The input read so far, quoted, for "after ..." messages (the tail only, if long).
    fn consumed(&self) -> String {
        let text: String = self
            .chars
            .get(..self.pos.min(self.chars.len()))
            .unwrap_or_default()
            .iter()
            .collect();
        let text = text.trim_end();
        let count = text.chars().count();
        if count > 40 {
            let tail: String = text.chars().skip(count - 40).collect();
            format!("\"...{tail}\"")
        } else {
            format!("\"{text}\"")
        }
    }

    /// Skips whitespace, then requires `c`.
    fn expect(&mut self, c: char) -> Result<(), TypeError> {
        self.ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            return Ok(());
        }
        // Point at the end of what was read, where the missing character belongs.
        let at = self.pos;
        let message = match self.peek() {
            None => format!("expected '{c}' after {}", self.consumed()),
            Some(found) => format!(
                "expected '{c}' after {} but found '{found}'",
                self.consumed()
            ),
        };
        Err(self.err_at(at, message))
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.pos += 1;
        }
        self.chars
            .get(start..self.pos)
            .unwrap_or_default()
            .iter()
            .collect()
    }

    fn number(&mut self, what: &str) -> Result<u32, TypeError> {
        self.ws();
        let start = self.pos;
        let digits = self.word();
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            self.pos = start;
            let message = match self.peek() {
                None => format!("expected {what} (a number) after {}", self.consumed()),
                Some(found) => format!(
                    "expected {what} (a number) after {} but found '{found}'",
                    self.consumed()
                ),
            };
            return Err(self.err(message));
        }
        digits
            .parse::<u32>()
            .map_err(|_| self.err_at(start, format!("{what} {digits} is far too large")))
    }

    /// `(n)` after `char`/`varchar`, bounded by `max`.
    fn length(&mut self, name: &str, max: u32) -> Result<u32, TypeError> {
        self.ws();
        if self.peek() != Some('(') {
            return Err(self.err(format!(
                "{name} needs a length, e.g. {name}(10); use string for text of any length"
            )));
        }
        self.pos += 1;
        let start = self.pos;
        let n = self.number("a length")?;
        if n == 0 || n > max {
            return Err(self.err_at(
                start,
                format!("{name} length must be between 1 and {max}, got {n}"),
            ));
        }
        self.expect(')')?;
        Ok(n)
    }

    fn decimal(&mut self) -> Result<GlueType, TypeError> {
        self.ws();
        if self.peek() != Some('(') {
            return Ok(GlueType::Decimal {
                precision: DEFAULT_DECIMAL_PRECISION,
                scale: DEFAULT_DECIMAL_SCALE,
            });
        }
        self.pos += 1;
        let p_at = self.pos;
        let precision = self.number("a precision")?;
        if precision == 0 || precision > MAX_DECIMAL_PRECISION {
            return Err(self.err_at(
                p_at,
                format!(
                    "decimal precision must be between 1 and {MAX_DECIMAL_PRECISION}, got \
                     {precision}"
                ),
            ));
        }
        self.ws();
        let mut scale = DEFAULT_DECIMAL_SCALE;
        if self.peek() == Some(',') {
            self.pos += 1;
            let s_at = self.pos;
            scale = self.number("a scale")?;
            if scale > precision {
                return Err(self.err_at(
                    s_at,
                    format!(
                        "decimal scale must be between 0 and the precision ({precision}), got \
                         {scale}"
                    ),
                ));
            }
        }
        self.expect(')')?;
        Ok(GlueType::Decimal { precision, scale })
    }

    fn ty(&mut self, depth: usize) -> Result<GlueType, TypeError> {
        self.ws();
        let start = self.pos;
        let name = self.word();
        if name.is_empty() {
            let message = match self.peek() {
                None => format!("expected a type after {}", self.consumed()),
                Some(found) => format!(
                    "expected a type name such as string or int but found '{found}'{}",
                    if self.pos > 0 {
                        format!(" after {}", self.consumed())
                    } else {
                        String::new()
                    }
                ),
            };
            return Err(self.err(message));
        }
        let lower = name.to_ascii_lowercase();
        let nested = matches!(lower.as_str(), "array" | "map" | "struct");
        if nested && depth > MAX_DEPTH {
            return Err(self.err_at(
                start,
                format!("type nests deeper than {MAX_DEPTH} levels of array/map/struct"),
            ));
        }
        Ok(match lower.as_str() {
            "string" => GlueType::String,
            "char" => GlueType::Char(self.length("char", MAX_CHAR_LENGTH)?),
            "varchar" => GlueType::Varchar(self.length("varchar", MAX_VARCHAR_LENGTH)?),
            "tinyint" => GlueType::TinyInt,
            "smallint" => GlueType::SmallInt,
            "int" | "integer" => GlueType::Int,
            "bigint" => GlueType::BigInt,
            "float" => GlueType::Float,
            "double" => GlueType::Double,
            "decimal" => self.decimal()?,
            "boolean" => GlueType::Boolean,
            "binary" => GlueType::Binary,
            "date" => GlueType::Date,
            "timestamp" => GlueType::Timestamp,
            "array" => {
                self.expect('<')?;
                let item = self.ty(depth + 1)?;
                self.expect('>')?;
                GlueType::Array(Box::new(item))
            }
            "map" => {
                self.expect('<')?;
                self.ws();
                let key_at = self.pos;
                let key = self.ty(depth + 1)?;
                if !key.is_primitive() {
                    return Err(self.err_at(
                        key_at,
                        format!("map keys must be a primitive type such as string, not {key}"),
                    ));
                }
                self.expect(',')?;
                let value = self.ty(depth + 1)?;
                self.expect('>')?;
                GlueType::Map(Box::new(key), Box::new(value))
            }
            "struct" => self.fields(depth)?,
            _ => {
                let hint = SUGGESTIONS
                    .iter()
                    .find(|(wrong, _)| *wrong == lower)
                    .map(|(_, right)| format!(" did you mean {right}?"))
                    .unwrap_or_default();
                return Err(self.err_at(
                    start,
                    format!("unknown type \"{name}\";{hint} Glue types are: {KNOWN}"),
                ));
            }
        })
    }

    fn fields(&mut self, depth: usize) -> Result<GlueType, TypeError> {
        self.expect('<')?;
        let mut fields: Vec<(String, GlueType)> = Vec::new();
        loop {
            self.ws();
            let name_at = self.pos;
            let name = self.word();
            if name.is_empty() {
                let message = match self.peek() {
                    Some('>') if fields.is_empty() => {
                        "a struct needs at least one field, e.g. struct<city:string>".to_string()
                    }
                    None => format!("expected a field name after {}", self.consumed()),
                    Some(found) => format!(
                        "expected a field name (letters, digits, underscores) after {} but \
                         found '{found}'",
                        self.consumed()
                    ),
                };
                return Err(self.err(message));
            }
            // Hive and Athena resolve struct field names case-insensitively and Glue reports
            // them lowercased, so the canonical form is lowercase (as for column names).
            let name = name.to_ascii_lowercase();
            if fields.iter().any(|(existing, _)| *existing == name) {
                return Err(self.err_at(
                    name_at,
                    format!("struct field \"{name}\" is declared twice"),
                ));
            }
            self.expect(':')?;
            let ty = self.ty(depth + 1)?;
            fields.push((name, ty));
            self.ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('>') => {
                    self.pos += 1;
                    return Ok(GlueType::Struct(fields));
                }
                None => {
                    return Err(self.err(format!("expected ',' or '>' after {}", self.consumed())))
                }
                Some(found) => {
                    return Err(self.err(format!(
                        "expected ',' or '>' after {} but found '{found}'",
                        self.consumed()
                    )))
                }
            }
        }
    }
}

/// Proptest strategies shared by this module's and other modules' tests.
#[cfg(test)]
pub(crate) mod strategy {
    use super::*;
    use proptest::prelude::*;

    /// Any valid type, nesting a few levels deep.
    pub(crate) fn any_type() -> impl Strategy<Value = GlueType> {
        let leaf = prop_oneof![
            Just(GlueType::String),
            (1u32..=MAX_CHAR_LENGTH).prop_map(GlueType::Char),
            (1u32..=MAX_VARCHAR_LENGTH).prop_map(GlueType::Varchar),
            Just(GlueType::TinyInt),
            Just(GlueType::SmallInt),
            Just(GlueType::Int),
            Just(GlueType::BigInt),
            Just(GlueType::Float),
            Just(GlueType::Double),
            (1u32..=MAX_DECIMAL_PRECISION)
                .prop_flat_map(|p| (Just(p), 0..=p))
                .prop_map(|(precision, scale)| GlueType::Decimal { precision, scale }),
            Just(GlueType::Boolean),
            Just(GlueType::Binary),
            Just(GlueType::Date),
            Just(GlueType::Timestamp),
        ];
        leaf.clone().prop_recursive(6, 48, 5, move |inner| {
            prop_oneof![
                inner.clone().prop_map(|t| GlueType::Array(Box::new(t))),
                (leaf.clone(), inner.clone())
                    .prop_map(|(k, v)| GlueType::Map(Box::new(k), Box::new(v))),
                prop::collection::btree_map("[a-z_][a-z0-9_]{0,8}", inner, 1..5)
                    .prop_map(|fields| GlueType::Struct(fields.into_iter().collect())),
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::strategy::any_type;
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> GlueType {
        match parse(s) {
            Ok(t) => t,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    fn bad(s: &str) -> TypeError {
        match parse(s) {
            Ok(t) => panic!("{s:?} should be refused, parsed as {t}"),
            Err(e) => e,
        }
    }

    #[test]
    fn parses_every_primitive_with_canonical_display() {
        for (input, canonical) in [
            ("string", "string"),
            ("STRING", "string"),
            ("char(3)", "char(3)"),
            ("VarChar ( 20 )", "varchar(20)"),
            ("tinyint", "tinyint"),
            ("smallint", "smallint"),
            ("int", "int"),
            ("Integer", "int"),
            ("bigint", "bigint"),
            ("float", "float"),
            ("double", "double"),
            ("decimal", "decimal(10,0)"),
            ("decimal(5)", "decimal(5,0)"),
            ("DECIMAL( 12 , 2 )", "decimal(12,2)"),
            ("decimal(38,38)", "decimal(38,38)"),
            ("boolean", "boolean"),
            ("binary", "binary"),
            ("date", "date"),
            ("  timestamp  ", "timestamp"),
        ] {
            assert_eq!(ok(input).to_string(), canonical, "{input}");
        }
    }

    #[test]
    fn parses_nested_types() {
        assert_eq!(
            ok("ARRAY< STRING >"),
            GlueType::Array(Box::new(GlueType::String))
        );
        assert_eq!(ok("map< string , int >").to_string(), "map<string,int>");
        assert_eq!(
            ok("struct< Street : string, zip:int >"),
            GlueType::Struct(vec![
                ("street".into(), GlueType::String),
                ("zip".into(), GlueType::Int)
            ])
        );
        assert_eq!(
            ok("array<struct<sku:string,qty:int,tags:map<string,array<decimal(5,1)>>>>")
                .to_string(),
            "array<struct<sku:string,qty:int,tags:map<string,array<decimal(5,1)>>>>"
        );
        let deepest = format!("{}int{}", "array<".repeat(MAX_DEPTH), ">".repeat(MAX_DEPTH));
        assert_eq!(ok(&deepest).to_string(), deepest);
    }

    #[test]
    fn missing_closing_bracket_is_reported_with_context_and_position() {
        let e = bad("array<string");
        assert_eq!(e.position, 12);
        assert_eq!(
            e.to_string(),
            "expected '>' after \"array<string\" at character 13"
        );
        let e = bad("map<string int>");
        assert_eq!(e.message, "expected ',' after \"map<string\" but found 'i'");
        assert_eq!(e.position, 11);
    }

    #[test]
    fn unknown_names_get_suggestions() {
        let e = bad("long");
        assert_eq!(e.position, 0);
        assert!(
            e.message
                .starts_with("unknown type \"long\"; did you mean bigint?"),
            "{e}"
        );
        let e = bad("array<bool>");
        assert_eq!(e.position, 6);
        assert!(e.message.contains("did you mean boolean?"), "{e}");
        let e = bad("frobnicate");
        assert!(
            e.message
                .starts_with("unknown type \"frobnicate\"; Glue types are: string"),
            "{e}"
        );
    }

    #[test]
    fn refuses_out_of_range_parameters() {
        let e = bad("decimal(39,2)");
        assert_eq!(e.position, 8);
        assert_eq!(
            e.message,
            "decimal precision must be between 1 and 38, got 39"
        );
        let e = bad("decimal(0)");
        assert!(e.message.contains("got 0"), "{e}");
        let e = bad("decimal(5,6)");
        assert_eq!(e.position, 10);
        assert_eq!(
            e.message,
            "decimal scale must be between 0 and the precision (5), got 6"
        );
        assert!(bad("decimal(99999999999)")
            .message
            .contains("far too large"));
        assert!(bad("char(0)").message.contains("between 1 and 255"));
        assert!(bad("char(256)").message.contains("got 256"));
        assert!(bad("varchar(65536)")
            .message
            .contains("between 1 and 65535"));
        assert!(bad("varchar").message.starts_with("varchar needs a length"));
        assert!(bad("decimal(a)").message.contains("expected a precision"));
        assert!(bad("decimal(10,2").message.contains("expected ')'"));
    }

    #[test]
    fn refuses_malformed_structure() {
        assert!(bad("").message.starts_with("empty type"));
        assert!(bad("   ").message.starts_with("empty type"));
        let e = bad("string string");
        assert_eq!(e.position, 7);
        assert!(
            e.message.starts_with("unexpected 's' after \"string\""),
            "{e}"
        );
        let e = bad("map<array<int>,string>");
        assert_eq!(e.position, 4);
        assert!(
            e.message.starts_with("map keys must be a primitive type"),
            "{e}"
        );
        assert!(bad("struct<>").message.contains("at least one field"));
        let e = bad("struct<a:int,A:string>");
        assert_eq!(e.position, 13);
        assert_eq!(e.message, "struct field \"a\" is declared twice");
        assert!(bad("struct<a int>").message.contains("expected ':'"));
        assert!(bad("struct<a:int;b:int>")
            .message
            .contains("expected ',' or '>'"));
        assert!(bad("struct<a-b:int>").message.contains("expected ':'"));
        assert!(bad("struct<:int>")
            .message
            .contains("expected a field name"));
        assert!(bad("array<>").message.contains("expected a type name"));
        assert!(bad("array").message.contains("expected '<'"));
        let too_deep = format!(
            "{}int{}",
            "array<".repeat(MAX_DEPTH + 1),
            ">".repeat(MAX_DEPTH + 1)
        );
        assert!(bad(&too_deep).message.contains("deeper than 32"));
        let absurd = format!("{}int", "array<".repeat(100_000));
        assert!(bad(&absurd).message.contains("deeper than 32"));
    }

    #[test]
    fn from_str_is_parse() {
        assert_eq!("bigint".parse::<GlueType>(), Ok(GlueType::BigInt));
        assert!("nope".parse::<GlueType>().is_err());
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(t in any_type()) {
            let text = t.to_string();
            prop_assert_eq!(parse(&text), Ok(t.clone()));
            // Spacing and case do not matter either.
            let spaced = text.replace('<', " < ").replace(',', " , ").to_uppercase();
            prop_assert_eq!(parse(&spaced), Ok(t));
        }

        #[test]
        fn never_panics_on_arbitrary_input(s in ".{0,64}") {
            let _ = parse(&s);
        }

        #[test]
        fn never_panics_on_type_shaped_input(s in "[a-z<>(),: 0-9]{0,64}") {
            if let Ok(t) = parse(&s) {
                prop_assert_eq!(parse(&t.to_string()), Ok(t));
            }
        }
    }
}
