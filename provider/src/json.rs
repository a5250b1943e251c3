//! The provider's one JSON tree: objects keep their key order, numbers keep their exact text, a
//! deterministic writer (compact and 2-space pretty) and a reader with a depth limit.
//!
//! Why not `serde_json::Value`: without its workspace-wide `preserve_order` and
//! `arbitrary_precision` features, which would change every other crate's behaviour, its
//! objects are sorted maps and its numbers are f64 or 64-bit integers. A JSON Schema's
//! `properties` would come back alphabetically (losing the column order of a registered schema),
//! a cty number with more digits than f64 holds would change, and a dynamic value's `"value"`
//! may come before its `"type"`, so decoding needs a tree anyway. Owning the writer also pins
//! the exact bytes the provider registers and hashes. Typed documents (the contract document,
//! private state) still go through serde.

use std::fmt::Write as _;

/// A JSON value with ordered objects and numbers as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number's text exactly as written (validated against the JSON grammar).
    Number(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// Members in document order.
    Object(Vec<(String, Json)>),
}

/// Arrays and objects nested deeper than this are refused, so hostile input cannot exhaust the
/// stack.
pub const MAX_DEPTH: usize = 256;

/// How forgiving the reader is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// As Terraform (Go's encoding/json) writes and reads JSON: a lone surrogate escape becomes
    /// U+FFFD and a repeated key is kept (the first wins in [`Json::get`]).
    Go,
    /// Refuse lone surrogates and repeated keys: for documents the provider itself generated,
    /// where either means corruption.
    Strict,
}

impl Json {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Json {
        Json::String(s.into())
    }

    /// An integer value.
    pub fn int(n: i64) -> Json {
        Json::Number(n.to_string())
    }

    /// An object from pairs, in the given order.
    pub fn obj(pairs: Vec<(&str, Json)>) -> Json {
        Json::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    /// A short name of the JSON kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    /// The first value under `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.as_obj()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_arr(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The members, if this is an object.
    pub fn as_obj(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Object(pairs) => Some(pairs),
            _ => None,
        }
    }

    /// An integral number (`12`, not `12.5` or `1e3`).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// Compact text: no whitespace at all.
    pub fn compact(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, None, 0);
        out
    }

    /// Pretty text: 2-space indent, `"key": value`, empty containers as `[]`/`{}`.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, Some(2), 0);
        out
    }

    fn write(&self, out: &mut String, indent: Option<usize>, level: usize) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => out.push_str(n),
            Json::String(s) => write_string(out, s),
            Json::Array(items) if items.is_empty() => out.push_str("[]"),
            Json::Object(pairs) if pairs.is_empty() => out.push_str("{}"),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent, level + 1);
                    item.write(out, indent, level + 1);
                }
                newline(out, indent, level);
                out.push(']');
            }
            Json::Object(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent, level + 1);
                    write_string(out, k);
                    out.push(':');
                    if indent.is_some() {
                        out.push(' ');
                    }
                    v.write(out, indent, level + 1);
                }
                newline(out, indent, level);
                out.push('}');
            }
        }
    }
}

fn newline(out: &mut String, indent: Option<usize>, level: usize) {
    if let Some(width) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', width * level));
    }
}

/// Appends `s` as a JSON string literal: non-ASCII as UTF-8, control characters escaped.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// [`write_string`] into bytes.
pub fn write_string_bytes(out: &mut Vec<u8>, s: &str) {
    let mut text = String::with_capacity(s.len() + 2);
    write_string(&mut text, s);
    out.extend_from_slice(text.as_bytes());
}

/// Parses one JSON document (surrounding whitespace allowed, nothing else after it), nested at
/// most [`MAX_DEPTH`] deep.
pub fn parse(bytes: &[u8], strictness: Strictness) -> Result<Json, String> {
    parse_limited(bytes, MAX_DEPTH, strictness)
}

/// [`parse`] with arrays and objects nested at most `max_depth` deep (0: scalars only).
pub fn parse_limited(
    bytes: &[u8],
    max_depth: usize,
    strictness: Strictness,
) -> Result<Json, String> {
    let mut p = Parser {
        b: bytes,
        i: 0,
        max_depth,
        strict: strictness == Strictness::Strict,
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i != p.b.len() {
        return Err(p.err("unexpected data after the JSON value"));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    max_depth: usize,
    strict: bool,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> String {
        format!("invalid JSON at byte {}: {what}", self.i)
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn literal(&mut self, word: &[u8], v: Json) -> Result<Json, String> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("unknown literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'n') => self.literal(b"null", Json::Null),
            Some(b't') => self.literal(b"true", Json::Bool(true)),
            Some(b'f') => self.literal(b"false", Json::Bool(false)),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b'[') => self.array(depth),
            Some(b'{') => self.object(depth),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, String> {
        if depth >= self.max_depth {
            return Err(self.err("nested too deeply"));
        }
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, String> {
        if depth >= self.max_depth {
            return Err(self.err("nested too deeply"));
        }
        self.i += 1;
        let mut members: Vec<(String, Json)> = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected an object key"));
            }
            let key = self.string()?;
            if self.strict && members.iter().any(|(k, _)| *k == key) {
                return Err(self.err(&format!("duplicate key {key:?}")));
            }
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.i += 1;
            self.ws();
            let v = self.value(depth + 1)?;
            members.push((key, v));
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Result<Json, String> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        let text = self.b.get(start..self.i).unwrap_or_default();
        // The grammar above admits only ASCII.
        Ok(Json::Number(String::from_utf8_lossy(text).into_owned()))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err("invalid \\u escape")),
            };
            v = v * 16 + u32::from(d);
            self.i += 1;
        }
        Ok(v)
    }

    /// The code point of a `\u` escape (the `\u` already read), joining a surrogate pair.
    fn unicode_escape(&mut self) -> Result<char, String> {
        let hi = self.hex4()?;
        let code =
            if (0xD800..0xDC00).contains(&hi) && self.b.get(self.i..self.i + 2) == Some(b"\\u") {
                let save = self.i;
                self.i += 2;
                let lo = self.hex4()?;
                if (0xDC00..0xE000).contains(&lo) {
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else {
                    // Not a pair: the high half stands alone, the escape after it is read on
                    // its own.
                    self.i = save;
                    hi
                }
            } else {
                hi
            };
        match char::from_u32(code) {
            Some(c) => Ok(c),
            None if self.strict => Err(self.err("unpaired surrogate")),
            // Lone surrogates become U+FFFD, as Go's encoding/json does.
            None => Ok('\u{FFFD}'),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1; // opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return Err(self.err("unterminated string"));
                    };
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(self.err("invalid escape")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0x00..=0x1f => return Err(self.err("control character in string")),
                _ => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|_| self.err("string is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(bytes: &[u8]) -> Result<Json, String> {
        parse(bytes, Strictness::Go)
    }

    /// The reason this tree exists, kept honest: `serde_json::Value` as this workspace builds it
    /// changes a cty number that f64 cannot hold, where this tree keeps its text.
    #[test]
    fn serde_json_value_changes_cty_numbers_this_tree_keeps() {
        let text = r#"{"n":12345678901234567890.123456789}"#;
        let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_ne!(
            serde_json::to_string(&theirs).unwrap(),
            text,
            "serde_json kept the number: the tree may no longer be needed (see the module doc)"
        );
        let ours = parse(text.as_bytes(), Strictness::Strict).unwrap();
        assert_eq!(ours.compact(), text);
    }

    #[test]
    fn parses_documents_keeping_order_and_number_text() {
        let j = go(br#" {"b": [1, -2.5e+3, true, null], "a": "x\u00e9\ud83d\ude00\n"} "#).unwrap();
        assert_eq!(
            j,
            Json::Object(vec![
                (
                    "b".into(),
                    Json::Array(vec![
                        Json::Number("1".into()),
                        Json::Number("-2.5e+3".into()),
                        Json::Bool(true),
                        Json::Null
                    ])
                ),
                ("a".into(), Json::String("xé😀\n".into())),
            ])
        );
        assert_eq!(
            go(b"123456789012345678901234567890.5").unwrap(),
            Json::Number("123456789012345678901234567890.5".into())
        );
    }

    #[test]
    fn go_and_strict_differ_only_on_lone_surrogates_and_repeated_keys() {
        assert_eq!(go(br#""\ud800""#).unwrap(), Json::str("\u{FFFD}"));
        assert!(parse(br#""\ud800""#, Strictness::Strict).is_err());
        let repeated = br#"{"a":1,"a":2}"#;
        assert_eq!(go(repeated).unwrap().get("a"), Some(&Json::int(1)));
        assert!(parse(repeated, Strictness::Strict)
            .unwrap_err()
            .contains("duplicate key"));
    }

    #[test]
    fn rejects_malformed_documents() {
        for bad in [
            &b""[..],
            b"[",
            b"{",
            b"[1,]",
            b"{\"a\"}",
            b"{\"a\" 1}",
            b"01",
            b"1.",
            b"-",
            b"nul",
            b"tru",
            b"\"abc",
            b"[1] x",
            b"{1:2}",
            b"\"\x01\"",
            b"\"\\x\"",
            b"\"\xff\"",
            b"+1",
        ] {
            for strictness in [Strictness::Go, Strictness::Strict] {
                assert!(
                    parse(bad, strictness).is_err(),
                    "{:?}",
                    String::from_utf8_lossy(bad)
                );
            }
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(go(deep.as_bytes()).unwrap_err().contains("deeply"));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(go(ok.as_bytes()).is_ok());
    }

    #[test]
    fn writes_compact_and_pretty_in_insertion_order_and_reads_them_back() {
        let v = Json::obj(vec![
            ("z", Json::int(1)),
            (
                "a",
                Json::Array(vec![Json::str("x\"y\n\u{1}é"), Json::Null]),
            ),
            ("e", Json::Array(vec![])),
            ("o", Json::Object(vec![])),
        ]);
        assert_eq!(
            v.compact(),
            r#"{"z":1,"a":["x\"y\n\u0001é",null],"e":[],"o":{}}"#
        );
        assert_eq!(
            v.pretty(),
            "{\n  \"z\": 1,\n  \"a\": [\n    \"x\\\"y\\n\\u0001é\",\n    null\n  ],\n  \"e\": [],\n  \"o\": {}\n}"
        );
        for text in [v.compact(), v.pretty()] {
            assert_eq!(parse(text.as_bytes(), Strictness::Strict), Ok(v.clone()));
        }
        let mut bytes = Vec::new();
        write_string_bytes(&mut bytes, "a\"b\\c\n\u{1}é");
        assert_eq!(String::from_utf8(bytes).unwrap(), r#""a\"b\\c\n\u0001é""#);
    }
}
