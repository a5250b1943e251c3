//! AWS Glue Data Quality Definition Language (DQDL): checking single rules as written in HCL,
//! and assembling them into a ruleset.
//!
//! Glue validates a ruleset only when it is created, i.e. at apply, and then reports the first
//! problem of the whole document. Checking each rule here lets `terraform validate` point at the
//! rule that is wrong and say what is wrong with it.
//!
//! What is checked, following the DQDL reference and its open-source grammar (awslabs/dqdl):
//! - the rule type, case-sensitively, with a suggestion for near misses (`IsCompleted`,
//!   `iscomplete`);
//! - the arguments: how many double-quoted strings the rule type takes (column names, a SQL
//!   statement, a reference dataset alias, ...);
//! - the expression: whether the rule type needs, allows or forbids one, and whether its
//!   operands have the right kind (a number for `Completeness`, a duration such as `24 hours`
//!   for `DataFreshness`, a date for `FileFreshness`, a size for `FileSize`, anything for
//!   `ColumnValues`); fractions such as `Completeness` must lie between 0 and 1;
//! - `where "..."` (only on rule types that support it) and `with threshold ...` (only on rule
//!   types evaluated row by row);
//! - composite rules: `(r1) and (r2)`, `(r1) or (r2)`, nested groups; `and` and `or` may not be
//!   mixed at one level without parentheses.
//!
//! What is not checked: SQL inside `CustomSql` and `where`, regular expressions, and whether a
//! reference dataset alias exists. Whether referenced columns exist is the caller's job, with
//! [`referenced_columns`].

use std::fmt::Write as _;

/// Glue's limit on the length of a ruleset document.
pub const MAX_RULESET_CHARS: usize = 65_536;
/// Deepest nesting of parentheses accepted (composite groups and arithmetic).
const MAX_DEPTH: usize = 32;

/// Checks one rule, as written in HCL (no trailing comma).
pub fn check_rule(rule: &str) -> Result<(), String> {
    parse_rule(rule).map(|_| ())
}

/// The ruleset document for `rules`, one rule per line, in order:
/// `Rules = [\n    r1,\n    r2\n]`. Rules are trimmed; nothing is validated here.
pub fn ruleset(rules: &[String]) -> String {
    if rules.is_empty() {
        return "Rules = []".to_string();
    }
    let mut out = String::from("Rules = [\n");
    for (i, rule) in rules.iter().enumerate() {
        let sep = if i + 1 < rules.len() { "," } else { "" };
        let _ = writeln!(out, "    {}{sep}", rule.trim());
    }
    out.push(']');
    out
}

/// Checks that a ruleset document fits Glue's size limit.
pub fn check_ruleset_length(ruleset: &str) -> Result<(), String> {
    let length = ruleset.chars().count();
    if length > MAX_RULESET_CHARS {
        Err(format!(
            "the quality rules make a ruleset of {length} characters; Glue accepts at most \
             {MAX_RULESET_CHARS}"
        ))
    } else {
        Ok(())
    }
}

/// The columns of the dataset under test that a rule names, in order and without duplicates:
/// the column arguments of column rules (also inside composite rules), the primary-side columns
/// of `ReferentialIntegrity` and `DatasetMatch`, and the primary-dataset columns inside
/// `AggregateMatch` aggregations. Names are returned as written. An invalid rule yields none
/// (its problem is reported by [`check_rule`]).
pub fn referenced_columns(rule: &str) -> Vec<String> {
    let Ok(rules) = parse_rule(rule) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        let name = name.trim();
        if !name.is_empty() && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    };
    for r in &rules {
        match r.name.as_str() {
            "ReferentialIntegrity" => {
                if let Some(cols) = r.params.first() {
                    cols.split(',').for_each(&mut add);
                }
            }
            "DatasetMatch" => {
                for mappings in r.params.iter().skip(1) {
                    for mapping in mappings.split(',') {
                        add(mapping.split("->").next().unwrap_or(""));
                    }
                }
            }
            "AggregateMatch" => {
                for agg in &r.params {
                    if let Some(col) = aggregate_column(agg) {
                        if !col.contains('.') {
                            add(col);
                        }
                    }
                }
            }
            "DetectAnomalies" => {
                if let Some((metric, rest)) = r.params.split_first() {
                    if !matches!(
                        metric.as_str(),
                        "RowCount" | "ColumnCount" | "CustomSql" | "CustomSQL"
                    ) {
                        rest.iter().for_each(|c| add(c));
                    }
                }
            }
            name => {
                if spec(name).is_some_and(|s| s.params.is_columns()) {
                    r.params.iter().for_each(|c| add(c));
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Rule types
// ---------------------------------------------------------------------------------------------

/// The double-quoted arguments a rule type takes.
#[derive(Clone, Copy)]
enum Params {
    /// None.
    Nothing,
    /// Exactly this many column names.
    Columns(usize),
    /// At least one column name.
    OneOrMoreColumns,
    /// Between `min` and `max` quoted strings that are not column names; `what` describes them.
    Quoted {
        min: usize,
        max: usize,
        what: &'static str,
    },
}

impl Params {
    fn is_columns(self) -> bool {
        matches!(self, Params::Columns(_) | Params::OneOrMoreColumns)
    }

    fn accepts(self, n: usize) -> bool {
        match self {
            Params::Nothing => n == 0,
            Params::Columns(k) => n == k,
            Params::OneOrMoreColumns => n >= 1,
            Params::Quoted { min, max, .. } => (min..=max).contains(&n),
        }
    }

    fn describe(self) -> String {
        match self {
            Params::Nothing => "no arguments".into(),
            Params::Columns(1) => "one column name in double quotes".into(),
            Params::Columns(2) => "two column names in double quotes".into(),
            Params::Columns(k) => format!("{k} column names in double quotes"),
            Params::OneOrMoreColumns => "one or more column names in double quotes".into(),
            Params::Quoted { what, .. } => what.into(),
        }
    }
}

/// What an expression compares.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// A number (`> 0.95`, `between 10 and 100`, `= avg(last(10))`).
    Number,
    /// A duration (`<= 24 hours`).
    Duration,
    /// A date or time (`> (now() - 1 days)`, `> "2024-01-01"`).
    Date,
    /// A size (`< 5 GB`).
    Size,
    /// `ColumnValues`: numbers, strings, dates, `matches`.
    Values,
    /// `ColumnDataType`: `= "INTEGER"` or `in ["DATE", "TIMESTAMP"]`.
    DataType,
    /// `FileMatch`: checksums, `in ["..."]`.
    Strings,
}

#[derive(Clone, Copy, PartialEq)]
enum Cond {
    Forbidden,
    Required(Kind),
    Optional(Kind),
}

struct Spec {
    name: &'static str,
    params: Params,
    cond: Cond,
    /// Accepts `where "..."`.
    where_ok: bool,
    /// Accepts `with threshold ...` (row-level rule types).
    threshold_ok: bool,
    /// Accepts other `with <option> ...` clauses (file rules' options).
    options_ok: bool,
    /// Literal numbers in the expression must lie in this range (fractions, correlations).
    range: Option<(f64, f64)>,
    example: &'static str,
}

const FRACTION: Option<(f64, f64)> = Some((0.0, 1.0));

const fn spec_of(
    name: &'static str,
    params: Params,
    cond: Cond,
    where_ok: bool,
    example: &'static str,
) -> Spec {
    Spec {
        name,
        params,
        cond,
        where_ok,
        threshold_ok: false,
        options_ok: false,
        range: None,
        example,
    }
}

const fn with_range(mut s: Spec, range: Option<(f64, f64)>) -> Spec {
    s.range = range;
    s
}

const fn with_threshold(mut s: Spec) -> Spec {
    s.threshold_ok = true;
    s
}

const fn with_options(mut s: Spec) -> Spec {
    s.options_ok = true;
    s
}

use Cond::{Forbidden, Optional, Required};
use Kind::{Date, Duration, Number, Size, Strings, Values};

/// Every DQDL rule type, from the DQDL reference.
const SPECS: &[Spec] = &[
    spec_of(
        "AggregateMatch",
        Params::Quoted {
            min: 2,
            max: 2,
            what: "two aggregations in double quotes such as \"sum(amount)\" and \
                   \"sum(reference.amount)\"",
        },
        Required(Number),
        false,
        "AggregateMatch \"sum(amount)\" \"sum(reference.amount)\" >= 0.99",
    ),
    with_range(
        spec_of(
            "ColumnCorrelation",
            Params::Columns(2),
            Required(Number),
            true,
            "ColumnCorrelation \"height\" \"weight\" > 0.8",
        ),
        Some((-1.0, 1.0)),
    ),
    spec_of(
        "ColumnCount",
        Params::Nothing,
        Required(Number),
        false,
        "ColumnCount >= 5",
    ),
    with_threshold(spec_of(
        "ColumnDataType",
        Params::Columns(1),
        Required(Kind::DataType),
        true,
        "ColumnDataType \"amount\" = \"DOUBLE\"",
    )),
    spec_of(
        "ColumnExists",
        Params::Columns(1),
        Forbidden,
        false,
        "ColumnExists \"order_id\"",
    ),
    with_threshold(spec_of(
        "ColumnLength",
        Params::Columns(1),
        Required(Number),
        true,
        "ColumnLength \"postal_code\" = 5",
    )),
    spec_of(
        "ColumnNamesMatchPattern",
        Params::Quoted {
            min: 1,
            max: 1,
            what: "one regular expression in double quotes",
        },
        Forbidden,
        false,
        "ColumnNamesMatchPattern \"[a-z_]+\"",
    ),
    with_threshold(spec_of(
        "ColumnValues",
        Params::Columns(1),
        Required(Values),
        true,
        "ColumnValues \"currency\" in [\"EUR\", \"USD\"]",
    )),
    with_range(
        spec_of(
            "Completeness",
            Params::Columns(1),
            Required(Number),
            true,
            "Completeness \"email\" > 0.95",
        ),
        FRACTION,
    ),
    with_threshold(spec_of(
        "CustomSql",
        Params::Quoted {
            min: 1,
            max: 1,
            what: "one SQL statement in double quotes",
        },
        Optional(Number),
        false,
        "CustomSql \"select count(*) from primary\" > 0",
    )),
    with_threshold(spec_of(
        "DataFreshness",
        Params::Columns(1),
        Required(Duration),
        true,
        "DataFreshness \"created_at\" <= 24 hours",
    )),
    with_range(
        spec_of(
            "DatasetMatch",
            Params::Quoted {
                min: 2,
                max: 3,
                what: "a reference dataset alias, key column mappings and optionally match \
                       column mappings, each in double quotes",
            },
            Required(Number),
            false,
            "DatasetMatch \"reference\" \"id\" >= 0.9",
        ),
        FRACTION,
    ),
    spec_of(
        "DetectAnomalies",
        Params::Quoted {
            min: 1,
            max: 3,
            what: "a rule type in double quotes followed by that rule's arguments",
        },
        Forbidden,
        false,
        "DetectAnomalies \"RowCount\"",
    ),
    spec_of(
        "DistinctValuesCount",
        Params::Columns(1),
        Required(Number),
        true,
        "DistinctValuesCount \"state\" > 3",
    ),
    spec_of(
        "Entropy",
        Params::Columns(1),
        Required(Number),
        true,
        "Entropy \"star_rating\" > 1",
    ),
    with_options(with_threshold(spec_of(
        "FileFreshness",
        Params::Quoted {
            min: 0,
            max: 1,
            what: "an optional S3 path in double quotes",
        },
        Required(Date),
        false,
        "FileFreshness \"s3://bucket/prefix/\" > (now() - 24 hours)",
    ))),
    with_options(spec_of(
        "FileMatch",
        Params::Quoted {
            min: 0,
            max: 2,
            what: "up to two S3 paths in double quotes",
        },
        Optional(Strings),
        false,
        "FileMatch \"s3://bucket/a/\" \"s3://bucket/b/\"",
    )),
    with_options(with_threshold(spec_of(
        "FileSize",
        Params::Quoted {
            min: 0,
            max: 1,
            what: "an optional S3 path in double quotes",
        },
        Required(Size),
        false,
        "FileSize \"s3://bucket/prefix/\" < 5 GB",
    ))),
    with_options(with_range(
        spec_of(
            "FileUniqueness",
            Params::Quoted {
                min: 0,
                max: 1,
                what: "an optional S3 path in double quotes",
            },
            Required(Number),
            false,
            "FileUniqueness \"s3://bucket/prefix/\" > 0.5",
        ),
        FRACTION,
    )),
    spec_of(
        "IsComplete",
        Params::Columns(1),
        Forbidden,
        true,
        "IsComplete \"order_id\"",
    ),
    spec_of(
        "IsPrimaryKey",
        Params::OneOrMoreColumns,
        Forbidden,
        true,
        "IsPrimaryKey \"order_id\"",
    ),
    spec_of(
        "IsUnique",
        Params::OneOrMoreColumns,
        Forbidden,
        true,
        "IsUnique \"order_id\"",
    ),
    spec_of(
        "Mean",
        Params::Columns(1),
        Required(Number),
        true,
        "Mean \"order_amount\" between 10 and 500",
    ),
    with_range(
        spec_of(
            "ReferentialIntegrity",
            Params::Quoted {
                min: 2,
                max: 2,
                what: "the primary dataset's columns and the reference dataset's columns in \
                       double quotes, such as \"customer_id\" \"reference.customer_id\"",
            },
            Required(Number),
            false,
            "ReferentialIntegrity \"customer_id\" \"reference.id\" = 1.0",
        ),
        FRACTION,
    ),
    spec_of(
        "RowCount",
        Params::Nothing,
        Required(Number),
        true,
        "RowCount between 10 and 100",
    ),
    spec_of(
        "RowCountMatch",
        Params::Quoted {
            min: 1,
            max: 1,
            what: "a reference dataset alias in double quotes",
        },
        Required(Number),
        false,
        "RowCountMatch \"reference\" >= 0.9",
    ),
    with_range(
        spec_of(
            "SchemaMatch",
            Params::Quoted {
                min: 1,
                max: 1,
                what: "a reference dataset alias in double quotes",
            },
            Required(Number),
            false,
            "SchemaMatch \"reference\" = 1.0",
        ),
        FRACTION,
    ),
    spec_of(
        "StandardDeviation",
        Params::Columns(1),
        Required(Number),
        true,
        "StandardDeviation \"order_amount\" < 100",
    ),
    spec_of(
        "Sum",
        Params::Columns(1),
        Required(Number),
        true,
        "Sum \"order_amount\" > 0",
    ),
    with_range(
        spec_of(
            "UniqueValueRatio",
            Params::Columns(1),
            Required(Number),
            true,
            "UniqueValueRatio \"customer_id\" > 0.5",
        ),
        FRACTION,
    ),
    with_range(
        spec_of(
            "Uniqueness",
            Params::OneOrMoreColumns,
            Required(Number),
            true,
            "Uniqueness \"order_id\" = 1.0",
        ),
        FRACTION,
    ),
];

/// Rule types `DetectAnomalies` can watch, with how many arguments each takes.
const ANOMALY_METRICS: &[(&str, usize)] = &[
    ("RowCount", 0),
    ("ColumnCount", 0),
    ("Completeness", 1),
    ("Uniqueness", 1),
    ("Mean", 1),
    ("Sum", 1),
    ("StandardDeviation", 1),
    ("Entropy", 1),
    ("DistinctValuesCount", 1),
    ("UniqueValueRatio", 1),
    ("ColumnLength", 1),
    ("ColumnValues", 1),
    ("ColumnCorrelation", 2),
    ("CustomSql", 1),
    ("CustomSQL", 1),
];

/// Types `ColumnDataType` checks values against.
const DATA_TYPES: &[&str] = &[
    "BOOLEAN",
    "DATE",
    "TIMESTAMP",
    "INTEGER",
    "DOUBLE",
    "FLOAT",
    "LONG",
];

fn spec(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
}

/// `unknown rule type ...` with the closest known name, if any is close.
fn unknown_rule_type(name: &str) -> String {
    if name == "Rules" {
        return "write one rule per list element, without the surrounding Rules = [ ... ]: the \
                ruleset is assembled from the list"
            .into();
    }
    if name == "AllStatistics" {
        return "AllStatistics is an analyzer, not a rule; it cannot be used in a ruleset's \
                Rules"
            .into();
    }
    if let Some(s) = SPECS.iter().find(|s| s.name.eq_ignore_ascii_case(name)) {
        return format!(
            "unknown rule type \"{name}\"; rule types are case-sensitive: did you mean \"{}\"?",
            s.name
        );
    }
    let best = SPECS
        .iter()
        .map(|s| {
            (
                edit_distance(&name.to_lowercase(), &s.name.to_lowercase()),
                s.name,
            )
        })
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, candidate)) if d <= 3.max(name.chars().count() / 4) => {
            format!("unknown rule type \"{name}\"; did you mean \"{candidate}\"?")
        }
        _ => format!(
            "unknown rule type \"{name}\"; DQDL rule types are {}",
            SPECS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Levenshtein distance, bounded in cost: inputs are cut to 64 characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(64).collect();
    let b: Vec<char> = b.chars().take(64).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let delete = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let insert = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(substitute.min(delete).min(insert));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// The column inside an aggregation such as `sum(amount)` or `avg(reference.rating)`.
fn aggregate_column(agg: &str) -> Option<&str> {
    let agg = agg.trim();
    let open = agg.find('(')?;
    let function = agg.get(..open)?.trim();
    if !matches!(function, "sum" | "avg") || !agg.ends_with(')') {
        return None;
    }
    let inner = agg.get(open + 1..agg.len() - 1)?.trim();
    (!inner.is_empty()).then_some(inner)
}

// ---------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    LParen,
    RParen,
    LBrack,
    RBrack,
    Comma,
    /// `=`, `!=`, `>`, `>=`, `<`, `<=`.
    Cmp(&'static str),
    /// `+`, `-`, `*`, `/`.
    Arith(char),
    Dollar,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// 0-based character offset.
    pos: usize,
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Ident(s) => s.clone(),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Num(n) => n.clone(),
        Tok::LParen => "(".into(),
        Tok::RParen => ")".into(),
        Tok::LBrack => "[".into(),
        Tok::RBrack => "]".into(),
        Tok::Comma => ",".into(),
        Tok::Cmp(op) => (*op).into(),
        Tok::Arith(c) => c.to_string(),
        Tok::Dollar => "$".into(),
    }
}

fn lex(rule: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = rule.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let pos = i;
        let at = |what: String| format!("{what} at character {}", pos + 1);
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let tok = match c {
            '"' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(at(
                                "unterminated string: add the closing double quote to the \
                                 string starting"
                                    .into(),
                            ))
                        }
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') if matches!(chars.get(i + 1), Some('"' | '\\')) => {
                            text.push(chars.get(i + 1).copied().unwrap_or('\\'));
                            i += 2;
                        }
                        Some(&other) => {
                            text.push(other);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token {
                    tok: Tok::Str(text),
                    pos,
                });
                continue;
            }
            '\'' => {
                return Err(at(
                    "single quotes do not make a DQDL string: use double quotes, as in \
                     IsComplete \"order_id\","
                        .into(),
                ))
            }
            '#' => {
                return Err(at(
                    "comments are not allowed inside a rule (they would swallow the comma that \
                     joins the rules);"
                        .into(),
                ))
            }
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBrack,
            ']' => Tok::RBrack,
            ',' => Tok::Comma,
            '$' => Tok::Dollar,
            '+' | '-' | '*' | '/' => Tok::Arith(c),
            '=' => {
                if chars.get(i + 1) == Some(&'=') {
                    return Err(at("`==` is not DQDL: use a single `=`".into()));
                }
                Tok::Cmp("=")
            }
            '!' => {
                if chars.get(i + 1) == Some(&'=') {
                    i += 1;
                    Tok::Cmp("!=")
                } else {
                    return Err(at("`!` must be followed by `=` (not equal)".into()));
                }
            }
            '>' | '<' => {
                if chars.get(i + 1) == Some(&'=') {
                    i += 1;
                    Tok::Cmp(if c == '>' { ">=" } else { "<=" })
                } else if c == '<' && chars.get(i + 1) == Some(&'>') {
                    return Err(at("`<>` is not DQDL: use `!=`".into()));
                } else {
                    Tok::Cmp(if c == '>' { ">" } else { "<" })
                }
            }
            c if c.is_ascii_digit() => {
                let start = i;
                while chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
                if chars.get(i) == Some(&'.')
                    && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit())
                {
                    i += 1;
                    while chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
                        i += 1;
                    }
                }
                if chars.get(i) == Some(&'%') {
                    return Err(format!(
                        "percentages are written as fractions in DQDL (0.95, not 95%) at \
                         character {}",
                        i + 1
                    ));
                }
                let text: String = chars.get(start..i).unwrap_or_default().iter().collect();
                tokens.push(Token {
                    tok: Tok::Num(text),
                    pos,
                });
                continue;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                let text: String = chars.get(start..i).unwrap_or_default().iter().collect();
                tokens.push(Token {
                    tok: Tok::Ident(text),
                    pos,
                });
                continue;
            }
            '\u{201c}' | '\u{201d}' => {
                return Err(at(
                    "typographic quotes are not DQDL strings: use plain double quotes (\")".into(),
                ))
            }
            other => return Err(at(format!("unexpected character '{other}'"))),
        };
        tokens.push(Token { tok, pos });
        i += 1;
    }
    Ok(tokens)
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

/// One simple rule found in a (possibly composite) rule.
struct Parsed {
    name: String,
    params: Vec<String>,
}

fn parse_rule(rule: &str) -> Result<Vec<Parsed>, String> {
    let tokens = lex(rule)?;
    if tokens.is_empty() {
        return Err("the rule is empty; write a rule such as IsComplete \"order_id\"".into());
    }
    let mut p = Parser {
        tokens,
        i: 0,
        end: rule.chars().count(),
        found: Vec::new(),
        strings: Vec::new(),
    };
    p.expr(0)?;
    if let Some(t) = p.tokens.get(p.i) {
        let text = describe(&t.tok);
        let hint = match &t.tok {
            Tok::Comma => {
                "; write one rule per list element (the ruleset adds the commas)".to_string()
            }
            Tok::Ident(w) if is_and_or(w) => {
                "; each rule joined with and/or must be in parentheses: (r1) and (r2)".into()
            }
            _ => String::new(),
        };
        return Err(format!(
            "unexpected \"{text}\" at character {} after the end of the rule{hint}",
            t.pos + 1
        ));
    }
    Ok(p.found)
}

fn is_and_or(word: &str) -> bool {
    matches!(word, "and" | "AND" | "or" | "OR")
}

/// A parsed expression operand, classified.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Operand {
    /// A number; `Some` when it is a plain literal.
    Number(Option<f64>),
    /// A plain string.
    Str,
    /// A string that reads as a date (`"2024-01-31"`) or time (`"9:30 AM"`).
    DateStr,
    /// `now()`, `(now() - 3 days)`.
    Date,
    Duration,
    Size,
    /// `NULL`.
    Null,
    /// `EMPTY`, `WHITESPACES_ONLY`.
    StrKeyword,
    /// `$name`.
    Variable,
}

impl Operand {
    fn describe(self) -> &'static str {
        match self {
            Operand::Number(_) => "a number",
            Operand::Str | Operand::StrKeyword | Operand::Variable => "a string",
            Operand::DateStr => "a date string",
            Operand::Date => "a date expression",
            Operand::Duration => "a duration",
            Operand::Size => "a size",
            Operand::Null => "NULL",
        }
    }
}

/// The shape of an expression.
#[derive(Clone, Copy, PartialEq)]
enum Op {
    /// `=`, `!=`, `>`, `>=`, `<`, `<=`.
    Cmp(&'static str),
    Between,
    In,
    Matches,
}

struct Condition {
    op: Op,
    operands: Vec<Operand>,
    /// The string operands' contents and positions (for `ColumnDataType`'s type names).
    strings: Vec<(String, usize)>,
    /// Where the expression starts, for messages.
    pos: usize,
}

struct Parser {
    tokens: Vec<Token>,
    i: usize,
    /// Length of the rule in characters, for "at the end" positions.
    end: usize,
    found: Vec<Parsed>,
    /// String operands read by the expression being parsed.
    strings: Vec<(String, usize)>,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.i).map(|t| &t.tok)
    }

    fn peek_at(&self, offset: usize) -> Option<&Tok> {
        self.tokens.get(self.i + offset).map(|t| &t.tok)
    }

    fn pos(&self) -> usize {
        self.tokens.get(self.i).map_or(self.end, |t| t.pos)
    }

    /// `at character N` of the current token (or the end).
    fn here(&self) -> String {
        match self.tokens.get(self.i) {
            Some(t) => format!("at character {} (\"{}\")", t.pos + 1, describe(&t.tok)),
            None => format!("at character {} (the end of the rule)", self.end + 1),
        }
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.i).map(|t| t.tok.clone());
        if t.is_some() {
            self.i += 1;
        }
        t
    }

    fn is_ident(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w == word)
    }

    fn is_and_or_here(&self) -> Option<bool> {
        match self.peek() {
            Some(Tok::Ident(w)) if w == "and" || w == "AND" => Some(true),
            Some(Tok::Ident(w)) if w == "or" || w == "OR" => Some(false),
            _ => None,
        }
    }

    /// A rule: a simple rule, or parenthesised rules joined by one kind of operator.
    fn expr(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "composite rule nests deeper than {MAX_DEPTH} levels {}",
                self.here()
            ));
        }
        if self.peek() != Some(&Tok::LParen) {
            return self.simple();
        }
        self.group(depth)?;
        let mut operator: Option<bool> = None;
        while let Some(is_and) = self.is_and_or_here() {
            if operator.is_some_and(|op| op != is_and) {
                return Err(format!(
                    "\"and\" and \"or\" cannot be mixed at one level {}; group with \
                     parentheses, e.g. (r1) and ((r2) or (r3))",
                    self.here()
                ));
            }
            operator = Some(is_and);
            self.i += 1;
            if self.peek() != Some(&Tok::LParen) {
                return Err(format!(
                    "each rule joined with and/or must be in parentheses: expected '(' {}",
                    self.here()
                ));
            }
            self.group(depth)?;
        }
        Ok(())
    }

    fn group(&mut self, depth: usize) -> Result<(), String> {
        let open = self.pos();
        self.i += 1;
        self.expr(depth + 1)?;
        if self.peek() == Some(&Tok::RParen) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!(
                "expected ')' to close the '(' at character {} {}",
                open + 1,
                self.here()
            ))
        }
    }

    fn simple(&mut self) -> Result<(), String> {
        let name = match self.peek() {
            Some(Tok::Ident(name)) => name.clone(),
            _ => {
                return Err(format!(
                    "expected a rule type such as IsComplete or RowCount {}",
                    self.here()
                ))
            }
        };
        let spec = spec(&name).ok_or_else(|| unknown_rule_type(&name))?;
        self.i += 1;
        let usage = || {
            format!(
                "{} takes {}, e.g. {}",
                spec.name,
                spec.params.describe(),
                spec.example
            )
        };

        // Arguments: double-quoted strings, optionally joined by the connector words DQDL
        // allows between them ("of", "and").
        let mut params = Vec::new();
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(Tok::Str(s)), _) => {
                    params.push(s.clone());
                    self.i += 1;
                }
                (Some(Tok::Ident(w)), Some(Tok::Str(_)))
                    if !params.is_empty() && (w == "of" || w == "and") =>
                {
                    self.i += 1;
                }
                _ => break,
            }
        }
        if let Some(Tok::Ident(word)) = self.peek() {
            if !is_keyword(word) {
                return Err(format!(
                    "{} (found {word} without quotes {})",
                    usage(),
                    self.here()
                ));
            }
        }
        if !spec.params.accepts(params.len()) {
            let found = match params.len() {
                0 => "none".to_string(),
                n => n.to_string(),
            };
            return Err(format!("{} (found {found})", usage()));
        }
        self.check_params(spec, &params)?;

        // The expression.
        let starts_condition = matches!(self.peek(), Some(Tok::Cmp(_)))
            || ["between", "BETWEEN", "in", "not", "matches"]
                .iter()
                .any(|w| self.is_ident(w));
        if starts_condition {
            let kind = match spec.cond {
                Cond::Forbidden => {
                    return Err(format!(
                        "{} takes no comparison {}; it passes or fails on its own, e.g. {}",
                        spec.name,
                        self.here(),
                        spec.example
                    ))
                }
                Cond::Required(kind) | Cond::Optional(kind) => kind,
            };
            let condition = self.condition(0)?;
            check_condition(spec, kind, &condition)?;
        } else if let Cond::Required(_) = spec.cond {
            return Err(format!(
                "{} needs a comparison such as > 0.9 or between 1 and 10 {}, e.g. {}",
                spec.name,
                self.here(),
                spec.example
            ));
        }

        if self.is_ident("where") {
            if !spec.where_ok {
                return Err(format!(
                    "{} does not support a where clause {}{}",
                    spec.name,
                    self.here(),
                    if spec.name == "CustomSql" {
                        "; put the filter in the SQL statement"
                    } else {
                        ""
                    }
                ));
            }
            self.i += 1;
            match self.next() {
                Some(Tok::Str(filter)) if !filter.trim().is_empty() => {}
                _ => {
                    self.i = self.i.saturating_sub(1);
                    return Err(format!(
                        "where takes a SQL condition in double quotes, e.g. where \"amount > 0\" \
                         {}",
                        self.here()
                    ));
                }
            }
        }

        while self.is_ident("with") {
            let with_at = self.here();
            self.i += 1;
            let option = match self.next() {
                Some(Tok::Ident(option)) => option,
                _ => {
                    self.i = self.i.saturating_sub(1);
                    return Err(format!(
                        "with must be followed by an option such as threshold {}",
                        self.here()
                    ));
                }
            };
            if option == "threshold" {
                if !spec.threshold_ok {
                    return Err(format!(
                        "{} does not take `with threshold` ({with_at}); thresholds apply to \
                         rules checked row by row such as ColumnValues, ColumnLength, \
                         ColumnDataType, DataFreshness and CustomSql{}",
                        spec.name,
                        if spec.name == "IsComplete" {
                            "; for a share of complete values use Completeness \"col\" > 0.9"
                        } else {
                            ""
                        }
                    ));
                }
                let condition = self.condition(0)?;
                let threshold = Spec {
                    name: "with threshold",
                    params: Params::Nothing,
                    cond: Required(Number),
                    where_ok: false,
                    threshold_ok: false,
                    options_ok: false,
                    range: FRACTION,
                    example: "with threshold > 0.9",
                };
                check_condition(&threshold, Number, &condition)?;
            } else if spec.options_ok {
                self.condition(0)?;
            } else {
                return Err(format!(
                    "{} does not take `with {option}` ({with_at}); the only option here is \
                     `with threshold`",
                    spec.name
                ));
            }
        }

        self.found.push(Parsed { name, params });
        Ok(())
    }

    /// Rule-type-specific argument checks beyond their count.
    fn check_params(&self, spec: &Spec, params: &[String]) -> Result<(), String> {
        if spec.params.is_columns() {
            if let Some(empty) = params.iter().position(|p| p.trim().is_empty()) {
                return Err(format!(
                    "{}'s column name #{} is empty, e.g. {}",
                    spec.name,
                    empty + 1,
                    spec.example
                ));
            }
        }
        match spec.name {
            "CustomSql" | "ColumnNamesMatchPattern"
                if params.iter().any(|p| p.trim().is_empty()) =>
            {
                return Err(format!(
                    "{} takes {} that is not empty, e.g. {}",
                    spec.name,
                    spec.params.describe(),
                    spec.example
                ));
            }
            "AggregateMatch" => {
                for agg in params {
                    if aggregate_column(agg).is_none() {
                        return Err(format!(
                            "AggregateMatch aggregation \"{agg}\" must be sum(column) or \
                             avg(column), e.g. {}",
                            spec.example
                        ));
                    }
                }
            }
            "ReferentialIntegrity" => {
                let reference = params.get(1).map(String::as_str).unwrap_or("");
                if !reference.contains('.') {
                    return Err(format!(
                        "ReferentialIntegrity's second argument \"{reference}\" must name the \
                         reference dataset and its columns as \"alias.column\" or \
                         \"alias.{{col1,col2}}\", e.g. {}",
                        spec.example
                    ));
                }
            }
            "DetectAnomalies" => {
                let metric = params.first().map(String::as_str).unwrap_or("");
                let Some((_, arity)) = ANOMALY_METRICS.iter().find(|(m, _)| *m == metric) else {
                    return Err(format!(
                        "DetectAnomalies watches one of {}; \"{metric}\" is not one of them",
                        ANOMALY_METRICS
                            .iter()
                            .filter(|(m, _)| *m != "CustomSQL")
                            .map(|(m, _)| format!("\"{m}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                };
                if params.len() != arity + 1 {
                    return Err(format!(
                        "DetectAnomalies \"{metric}\" takes {arity} more argument{} in double \
                         quotes (found {}), e.g. DetectAnomalies \"ColumnLength\" \"id\"",
                        if *arity == 1 { "" } else { "s" },
                        params.len().saturating_sub(1)
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// An expression: `> x`, `between a and b`, `[not] in [..]`, `[not] matches "re"`.
    fn condition(&mut self, depth: usize) -> Result<Condition, String> {
        let pos = self.pos();
        self.strings.clear();
        let negated = self.is_ident("not");
        if negated {
            self.i += 1;
        }
        let op = match self.next() {
            Some(Tok::Cmp(op)) if !negated => Op::Cmp(op),
            Some(Tok::Ident(w)) if w == "between" || w == "BETWEEN" => Op::Between,
            Some(Tok::Ident(w)) if w == "in" => Op::In,
            Some(Tok::Ident(w)) if w == "matches" => Op::Matches,
            _ => {
                self.i = self.i.saturating_sub(1);
                return Err(format!(
                    "expected {} {}",
                    if negated {
                        "between, in or matches after not"
                    } else {
                        "a comparison (=, !=, >, >=, <, <=, between, in, matches)"
                    },
                    self.here()
                ));
            }
        };
        let mut operands = Vec::new();
        match op {
            Op::Cmp(_) => operands.push(self.operand(depth)?),
            Op::Between => {
                operands.push(self.operand(depth)?);
                if self.is_and_or_here() != Some(true) {
                    return Err(format!(
                        "expected \"and\" in between ... and ... {}",
                        self.here()
                    ));
                }
                self.i += 1;
                operands.push(self.operand(depth)?);
            }
            Op::In => {
                if self.peek() == Some(&Tok::Dollar) {
                    operands.push(self.operand(depth)?);
                } else {
                    if self.next() != Some(Tok::LBrack) {
                        self.i = self.i.saturating_sub(1);
                        return Err(format!(
                            "in takes a list in square brackets, e.g. in [\"EUR\", \"USD\"] {}",
                            self.here()
                        ));
                    }
                    loop {
                        operands.push(self.operand(depth)?);
                        match self.next() {
                            Some(Tok::Comma) => continue,
                            Some(Tok::RBrack) => break,
                            _ => {
                                self.i = self.i.saturating_sub(1);
                                return Err(format!(
                                    "expected ',' or ']' in the list {}",
                                    self.here()
                                ));
                            }
                        }
                    }
                }
            }
            Op::Matches => match self.next() {
                Some(Tok::Str(_)) => operands.push(Operand::Str),
                _ => {
                    self.i = self.i.saturating_sub(1);
                    return Err(format!(
                        "matches takes a regular expression in double quotes, e.g. matches \
                         \"[A-Z]{{3}}\" {}",
                        self.here()
                    ));
                }
            },
        }
        let strings = std::mem::take(&mut self.strings);
        Ok(Condition {
            op,
            operands,
            strings,
            pos,
        })
    }

    /// One operand, including arithmetic on numbers (`avg(last(10)) * 0.9`).
    fn operand(&mut self, depth: usize) -> Result<Operand, String> {
        let first = self.atom(depth)?;
        if !matches!(self.peek(), Some(Tok::Arith(_))) {
            return Ok(first);
        }
        if !matches!(first, Operand::Number(_)) {
            return Err(format!(
                "arithmetic applies to numbers only, not to {} {}",
                first.describe(),
                self.here()
            ));
        }
        while matches!(self.peek(), Some(Tok::Arith(_))) {
            self.i += 1;
            let next = self.atom(depth)?;
            if !matches!(next, Operand::Number(_)) {
                return Err(format!(
                    "arithmetic applies to numbers only, not to {}",
                    next.describe()
                ));
            }
        }
        Ok(Operand::Number(None))
    }

    fn atom(&mut self, depth: usize) -> Result<Operand, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "expression nests deeper than {MAX_DEPTH} levels {}",
                self.here()
            ));
        }
        let here = self.here();
        match self.next() {
            Some(Tok::Arith('-')) => match self.next() {
                Some(Tok::Num(n)) => self.after_number(&format!("-{n}")),
                _ => {
                    self.i = self.i.saturating_sub(1);
                    Err(format!("expected a number after '-' {}", self.here()))
                }
            },
            Some(Tok::Num(n)) => self.after_number(&n),
            Some(Tok::Str(s)) => {
                let kind = if looks_like_date_or_time(&s) {
                    Operand::DateStr
                } else {
                    Operand::Str
                };
                let pos = self
                    .tokens
                    .get(self.i.saturating_sub(1))
                    .map_or(0, |t| t.pos);
                self.strings.push((s, pos));
                Ok(kind)
            }
            Some(Tok::Dollar) => match self.next() {
                Some(Tok::Ident(_)) => Ok(Operand::Variable),
                _ => {
                    self.i = self.i.saturating_sub(1);
                    Err(format!(
                        "expected a variable name after '$' {}",
                        self.here()
                    ))
                }
            },
            Some(Tok::Ident(word)) => match word.as_str() {
                "NULL" => Ok(Operand::Null),
                "EMPTY" | "WHITESPACES_ONLY" => Ok(Operand::StrKeyword),
                "null" | "Null" | "empty" | "Empty" | "whitespaces_only" => Err(format!(
                    "DQDL keywords are upper case: write {} {here}",
                    word.to_uppercase()
                )),
                "now" if self.peek() == Some(&Tok::LParen) => {
                    self.i += 1;
                    if self.next() != Some(Tok::RParen) {
                        self.i = self.i.saturating_sub(1);
                        return Err(format!("now takes no arguments: now() {}", self.here()));
                    }
                    Ok(Operand::Date)
                }
                _ if self.peek() == Some(&Tok::LParen) => {
                    // A function of dynamic rules, e.g. avg(last(10)).
                    self.i += 1;
                    if self.peek() == Some(&Tok::RParen) {
                        self.i += 1;
                        return Ok(Operand::Number(None));
                    }
                    loop {
                        let arg = self.operand(depth + 1)?;
                        if !matches!(arg, Operand::Number(_)) {
                            return Err(format!(
                                "{word}() takes numbers, not {} {}",
                                arg.describe(),
                                self.here()
                            ));
                        }
                        match self.next() {
                            Some(Tok::Comma) => continue,
                            Some(Tok::RParen) => break,
                            _ => {
                                self.i = self.i.saturating_sub(1);
                                return Err(format!(
                                    "expected ',' or ')' in {word}(...) {}",
                                    self.here()
                                ));
                            }
                        }
                    }
                    Ok(Operand::Number(None))
                }
                _ => Err(format!(
                    "expected a value (a number, a string in double quotes, NULL, now()) but \
                     found {word} {here}"
                )),
            },
            Some(Tok::LParen) => {
                if self.is_ident("now") {
                    // (now() - 3 days)
                    self.atom(depth + 1)?;
                    match self.next() {
                        Some(Tok::Arith('+' | '-')) => {}
                        _ => {
                            self.i = self.i.saturating_sub(1);
                            return Err(format!(
                                "expected + or - after now(), as in (now() - 3 days) {}",
                                self.here()
                            ));
                        }
                    }
                    let amount = self.atom(depth + 1)?;
                    if amount != Operand::Duration {
                        return Err(format!(
                            "expected a duration such as 3 days after now() +/-, not {}",
                            amount.describe()
                        ));
                    }
                    if self.next() != Some(Tok::RParen) {
                        self.i = self.i.saturating_sub(1);
                        return Err(format!("expected ')' {}", self.here()));
                    }
                    return Ok(Operand::Date);
                }
                let inner = self.operand(depth + 1)?;
                if self.next() != Some(Tok::RParen) {
                    self.i = self.i.saturating_sub(1);
                    return Err(format!("expected ')' {}", self.here()));
                }
                if !matches!(inner, Operand::Number(_)) {
                    return Err(format!(
                        "parentheses group numbers or (now() - N days), not {}",
                        inner.describe()
                    ));
                }
                Ok(Operand::Number(None))
            }
            Some(Tok::LBrack) => Err(format!(
                "a list of values needs in, as in in [\"a\", \"b\"] {here}"
            )),
            Some(other) => Err(format!(
                "expected a value but found \"{}\" {here}",
                describe(&other)
            )),
            None => Err(format!("expected a value {here}")),
        }
    }

    /// After a number: a unit makes it a duration or size.
    fn after_number(&mut self, number: &str) -> Result<Operand, String> {
        if let Some(Tok::Ident(unit)) = self.peek() {
            let unit = unit.clone();
            match unit.as_str() {
                "days" | "hours" | "minutes" => {
                    self.i += 1;
                    return Ok(Operand::Duration);
                }
                "B" | "KB" | "MB" | "GB" | "TB" => {
                    self.i += 1;
                    return Ok(Operand::Size);
                }
                w if is_keyword(w) => {}
                "day" | "hour" | "minute" | "d" | "h" | "m" | "hrs" | "mins" | "seconds"
                | "weeks" | "Days" | "Hours" | "Minutes" => {
                    return Err(format!(
                        "unknown time unit \"{unit}\" {}; DQDL durations use minutes, hours or \
                         days (plural, lower case), e.g. 24 hours",
                        self.here()
                    ))
                }
                _ => {
                    return Err(format!(
                        "unknown unit \"{unit}\" after {number} {}; durations use minutes, \
                         hours or days and sizes B, KB, MB, GB or TB",
                        self.here()
                    ))
                }
            }
        }
        Ok(Operand::Number(number.parse::<f64>().ok()))
    }
}

/// Words that may follow a rule's arguments.
fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "and"
            | "AND"
            | "or"
            | "OR"
            | "between"
            | "BETWEEN"
            | "in"
            | "not"
            | "matches"
            | "where"
            | "with"
    )
}

/// `"2024-01-31"` or a time of day such as `"9:30 AM"` / `"21:30"`.
fn looks_like_date_or_time(s: &str) -> bool {
    let b = s.as_bytes();
    let is_date = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    let time = s.trim_end_matches(" AM").trim_end_matches(" PM");
    let is_time = time.split_once(':').is_some_and(|(h, m)| {
        !h.is_empty()
            && h.len() <= 2
            && m.len() == 2
            && h.bytes().chain(m.bytes()).all(|c| c.is_ascii_digit())
    });
    is_date || is_time
}

/// Checks an expression's operator and operands against what the rule type compares.
fn check_condition(spec: &Spec, kind: Kind, c: &Condition) -> Result<(), String> {
    let at = format!("at character {}", c.pos + 1);
    let name = spec.name;
    let bad = |found: Operand, want: &str| {
        Err(format!(
            "{name} compares {want}, not {} ({at}), e.g. {}",
            found.describe(),
            spec.example
        ))
    };
    if c.op == Op::Matches && kind != Values && kind != Strings {
        return Err(format!(
            "{name} cannot use matches ({at}); matches applies to ColumnValues, e.g. \
             ColumnValues \"code\" matches \"[A-Z]{{3}}\""
        ));
    }
    for &operand in &c.operands {
        match kind {
            Number => {
                if !matches!(operand, Operand::Number(_) | Operand::Null) {
                    return bad(operand, "a number");
                }
            }
            Duration => match operand {
                Operand::Duration => {}
                Operand::Number(_) => {
                    return Err(format!(
                        "{name} needs a time unit after the number ({at}), e.g. {}",
                        spec.example
                    ))
                }
                other => return bad(other, "a duration such as 24 hours"),
            },
            Date => {
                if !matches!(operand, Operand::Date | Operand::DateStr | Operand::Null) {
                    return bad(
                        operand,
                        "a date such as (now() - 24 hours) or \"2024-01-31\"",
                    );
                }
            }
            Size => match operand {
                Operand::Size => {}
                Operand::Number(_) => {
                    return Err(format!(
                        "{name} needs a size unit (B, KB, MB, GB, TB) after the number ({at}), \
                         e.g. {}",
                        spec.example
                    ))
                }
                other => return bad(other, "a size such as 5 GB"),
            },
            Values => {
                if matches!(operand, Operand::Duration | Operand::Size) {
                    return bad(operand, "values (numbers, strings or dates)");
                }
                let ordering = matches!(c.op, Op::Cmp(">" | ">=" | "<" | "<=") | Op::Between);
                if ordering
                    && matches!(
                        operand,
                        Operand::Str | Operand::StrKeyword | Operand::Variable
                    )
                {
                    return Err(format!(
                        "ColumnValues compares strings only with =, !=, in or matches ({at}); \
                         ordering comparisons need numbers or dates"
                    ));
                }
            }
            Kind::DataType => {
                if !matches!(c.op, Op::Cmp("=" | "!=") | Op::In) {
                    return Err(format!(
                        "ColumnDataType takes = \"TYPE\" or in [\"TYPE\", ...] ({at}), e.g. {}",
                        spec.example
                    ));
                }
                if !matches!(operand, Operand::Str) {
                    return bad(operand, "a type name in double quotes");
                }
                for (value, pos) in &c.strings {
                    if !DATA_TYPES.iter().any(|d| d.eq_ignore_ascii_case(value)) {
                        return Err(format!(
                            "ColumnDataType checks values against one of {}; \"{value}\" at \
                             character {} is not one of them",
                            DATA_TYPES
                                .iter()
                                .map(|d| format!("\"{d}\""))
                                .collect::<Vec<_>>()
                                .join(", "),
                            pos + 1
                        ));
                    }
                }
            }
            Strings => {
                if !matches!(operand, Operand::Str | Operand::DateStr | Operand::Variable) {
                    return bad(operand, "strings in double quotes");
                }
            }
        }
        if let (Some((lo, hi)), Operand::Number(Some(v))) = (spec.range, operand) {
            if v < lo || v > hi {
                let hint = if lo == 0.0 && v > 1.0 && v <= 100.0 {
                    format!("; did you mean {}?", v / 100.0)
                } else {
                    String::new()
                };
                return Err(format!(
                    "{name} is a {} between {lo} and {hi}, so {v} can never be met ({at}){hint}",
                    if lo < 0.0 { "correlation" } else { "fraction" },
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(rule: &str) {
        if let Err(e) = check_rule(rule) {
            panic!("{rule:?} should be accepted: {e}");
        }
    }

    fn err(rule: &str) -> String {
        match check_rule(rule) {
            Ok(()) => panic!("{rule:?} should be refused"),
            Err(e) => e,
        }
    }

    #[test]
    fn accepts_the_reference_examples() {
        for rule in [
            "IsComplete \"order_id\"",
            "IsComplete \"order-id\"",
            "Completeness \"x\" > 0.95",
            "Completeness \"x\" >= 0.5 where \"region = 'EU'\"",
            "IsUnique \"order_id\"",
            "IsUnique \"a\" \"b\"",
            "Uniqueness \"col\" = 1.0",
            "Uniqueness \"a\" \"b\" > 0.9",
            "ColumnValues \"currency\" in [\"EUR\",\"USD\"]",
            "ColumnValues \"Country\" in [ \"US\", \"CA\", \"UK\", NULL, EMPTY, WHITESPACES_ONLY ]",
            "ColumnValues \"gender\" in [\"F\", \"M\"] where \"weightinkgs < 10\"",
            "ColumnValues \"First_Name\" matches \"[a-zA-Z]*\"",
            "ColumnValues \"Load_Date\" > (now() - 3 days)",
            "ColumnValues \"Customer_ID\" between 1 and 2000",
            "ColumnValues \"Age\" != 21",
            "ColumnValues \"Age\" not in [21, 22, 23, NULL]",
            "ColumnValues \"Age\" = NULL",
            "ColumnValues \"code\" not matches \"x+\"",
            "ColumnValues \"x\" in [1, 2] with threshold > 0.9",
            "ColumnValues \"d\" > \"2024-01-01\"",
            "RowCount between 10 and 100",
            "RowCount > avg(last(10)) * 0.8",
            "RowCount not between 0 and 5",
            "RowCount = -1",
            "DataFreshness \"created_at\" <= 24 hours",
            "DataFreshness \"Order_Date\" between 2 days and 5 days",
            "DataFreshness \"ts\" < 30 minutes",
            "(IsComplete \"a\") and (IsUnique \"b\")",
            "(IsComplete \"a\") AND (IsUnique \"b\") and (RowCount > 0)",
            "(DataFreshness \"Order_Date\" <= 24 hours) OR (ColumnValues \"Order_Date\" = NULL)",
            "(Mean \"Star_Rating\" > 3) and ((Mean \"Order_Total\" > 500) or (IsComplete \"Order_Id\"))",
            "(RowCount > 0) or ((IsComplete \"colA\") and (IsUnique \"colA\"))",
            "CustomSql \"select count(*) from primary\" > 0",
            "CustomSql \"select count(*) from primary\" between 10 and 20",
            "CustomSql \"select id from primary where amount < 0\" with threshold > 0.9",
            "CustomSql \"select id from primary where amount < 0\"",
            "IsPrimaryKey \"col\"",
            "IsPrimaryKey \"a\" \"b\"",
            "ColumnExists \"col\"",
            "ColumnCount >= 3",
            "ColumnCorrelation \"a\" \"b\" > 0.8",
            "ColumnCorrelation \"a\" and \"b\" > -0.5",
            "ColumnDataType \"colA\" = \"INTEGER\"",
            "ColumnDataType \"colA\" = \"INTEGER\" with threshold > 0.9",
            "ColumnDataType \"colA\" in [\"DATE\", \"timestamp\"]",
            "ColumnLength \"postal\" = 5",
            "ColumnLength \"postal\" between 4 and 8 with threshold >= 0.95",
            "ColumnNamesMatchPattern \"aws_.*\"",
            "DistinctValuesCount \"state\" > 3",
            "Entropy \"star_rating\" > 1",
            "Mean \"amount\" between 5 and 10",
            "StandardDeviation \"amount\" < 10.5",
            "Sum \"amount\" > 100",
            "UniqueValueRatio \"x\" < 0.5",
            "ReferentialIntegrity \"zipcode\" \"reference.zipcode\" >= 0.9",
            "ReferentialIntegrity \"city,state\" \"reference.{ref_city,ref_state}\" = 1.0",
            "DatasetMatch \"reference\" \"ID\" >= 0.9",
            "DatasetMatch \"reference\" \"ID_1->ID_ref1,ID_2->ID_ref2\" \"Amount1->Amount2\" >= 0.9",
            "RowCountMatch \"reference\" >= 0.9",
            "SchemaMatch \"reference\" = 1.0",
            "AggregateMatch \"sum(amount)\" \"sum(total_amount)\" = 1.0",
            "AggregateMatch \"avg(ratings)\" \"avg(reference.ratings)\" >= 0.9",
            "DetectAnomalies \"RowCount\"",
            "DetectAnomalies \"ColumnLength\" \"id\"",
            "DetectAnomalies \"ColumnCorrelation\" \"a\" \"b\"",
            "FileFreshness \"s3://bucket/a/tickets.parquet\" > (now() - 24 hours)",
            "FileFreshness \"s3://bucket/\" >= (now() -1 days)",
            "FileFreshness \"s3://bucket/t/\" < (now() - 10 days) with threshold > 0.1",
            "FileFreshness \"s3://bucket/t/\" between \"2023-01-01\" and \"2024-01-01\"",
            "FileFreshness \"s3://bucket/t/\" between \"9:30 AM\" and \"9:30 PM\"",
            "FileFreshness \"s3://bucket/t/\" between now() and (now() - 45 minutes)",
            "FileSize \"s3://bucket/t/\" < 5 GB",
            "FileMatch \"s3://bucket/a/\" \"s3://bucket/b/\"",
            "FileMatch \"s3://bucket/a/f.csv\" in [\"abc123\"] with hashAlgorithm = \"MD5\"",
            "FileUniqueness \"s3://bucket/t/\" > 0.5",
            "  IsComplete   \"spaced\"  ",
            "ColumnValues \"x\" in $allowed",
            "ColumnValues \"x\" = \"say \\\"hi\\\"\"",
        ] {
            ok(rule);
        }
    }

    #[test]
    fn misspelled_rule_types_get_suggestions() {
        assert_eq!(
            err("IsCompleted \"order_id\""),
            "unknown rule type \"IsCompleted\"; did you mean \"IsComplete\"?"
        );
        assert_eq!(
            err("iscomplete \"order_id\""),
            "unknown rule type \"iscomplete\"; rule types are case-sensitive: did you mean \
             \"IsComplete\"?"
        );
        assert_eq!(
            err("CustomSQL \"select 1 from primary\" > 0"),
            "unknown rule type \"CustomSQL\"; rule types are case-sensitive: did you mean \
             \"CustomSql\"?"
        );
        assert!(err("Frobnicate \"x\"")
            .starts_with("unknown rule type \"Frobnicate\"; DQDL rule types are AggregateMatch, "));
        assert!(err("AllStatistics \"x\"").contains("is an analyzer, not a rule"));
        assert!(err("Rules = [ IsComplete \"a\" ]").starts_with("write one rule per list element"));
        assert!(err("RowCnt > 1").contains("did you mean \"RowCount\"?"));
    }

    #[test]
    fn wrong_argument_shapes_are_named() {
        assert_eq!(
            err("IsComplete order_id"),
            "IsComplete takes one column name in double quotes, e.g. IsComplete \"order_id\" \
             (found order_id without quotes at character 12 (\"order_id\"))"
        );
        assert_eq!(
            err("IsComplete"),
            "IsComplete takes one column name in double quotes, e.g. IsComplete \"order_id\" \
             (found none)"
        );
        assert!(err("IsComplete \"a\" \"b\"")
            .starts_with("IsComplete takes one column name in double quotes"));
        assert!(err("IsComplete 'order_id'").starts_with("single quotes do not make"));
        assert!(err("ColumnCorrelation \"a\" > 0.5")
            .starts_with("ColumnCorrelation takes two column names in double quotes"));
        assert!(err("RowCount \"id\" > 100").starts_with("RowCount takes no arguments"));
        assert!(err("IsPrimaryKey").contains("one or more column names"));
        assert!(err("IsComplete \"\"").contains("column name #1 is empty"));
        assert!(err("CustomSql > 0").starts_with("CustomSql takes one SQL statement"));
        assert!(err("CustomSql \"  \" > 0").contains("that is not empty"));
        assert!(err("AggregateMatch \"amount\" \"sum(x)\" = 1.0")
            .contains("must be sum(column) or avg(column)"));
        assert!(err("ReferentialIntegrity \"a\" \"b\" = 1.0").contains("alias.column"));
        assert!(err("DetectAnomalies \"Foo\"").contains("\"Foo\" is not one of them"));
        assert!(err("DetectAnomalies \"Mean\"").contains("takes 1 more argument"));
        assert!(err("DatasetMatch \"reference\" >= 0.9").starts_with("DatasetMatch takes"));
    }

    #[test]
    fn expressions_must_fit_the_rule_type() {
        assert_eq!(
            err("Completeness \"x\""),
            "Completeness needs a comparison such as > 0.9 or between 1 and 10 at character 17 \
             (the end of the rule), e.g. Completeness \"email\" > 0.95"
        );
        assert!(err("IsComplete \"x\" > 0.9").starts_with("IsComplete takes no comparison"));
        assert!(err("RowCount").starts_with("RowCount needs a comparison"));
        assert_eq!(
            err("Completeness \"x\" > 95"),
            "Completeness is a fraction between 0 and 1, so 95 can never be met (at character \
             18); did you mean 0.95?"
        );
        assert!(err("Completeness \"x\" > 95%").contains("0.95, not 95%"));
        assert!(err("Completeness \"x\" > \"high\"")
            .starts_with("Completeness compares a number, not a string"));
        assert!(err("ColumnCorrelation \"a\" \"b\" > 2").contains("correlation between -1 and 1"));
        assert_eq!(
            err("DataFreshness \"created_at\" <= 24"),
            "DataFreshness needs a time unit after the number (at character 28), e.g. \
             DataFreshness \"created_at\" <= 24 hours"
        );
        assert!(err("DataFreshness \"c\" <= 24 hour").contains("unknown time unit \"hour\""));
        assert!(err("DataFreshness \"c\" <= 24 weeks").contains("unknown time unit \"weeks\""));
        assert!(err("DataFreshness \"c\" <= 24 parsecs").contains("unknown unit \"parsecs\""));
        assert!(err("RowCount > 5 days").starts_with("RowCount compares a number, not a duration"));
        assert!(err("FileSize \"s3://b/\" < 5").contains("needs a size unit"));
        assert!(err("FileFreshness \"s3://b/\" > 5").starts_with("FileFreshness compares a date"));
        assert!(err("ColumnValues \"c\" > \"abc\"")
            .contains("compares strings only with =, !=, in or matches"));
        assert!(err("RowCount matches \"x\"").contains("cannot use matches"));
        assert!(err("ColumnDataType \"c\" > \"INTEGER\"").contains("takes = \"TYPE\""));
        assert!(err("ColumnDataType \"c\" = \"VARCHAR\"").contains("\"VARCHAR\" at character 22"));
        assert!(err("ColumnValues \"c\" in \"a\"").starts_with("in takes a list"));
        assert!(err("ColumnValues \"c\" in [\"a\" \"b\"]").contains("expected ',' or ']'"));
        assert!(err("ColumnValues \"c\" = null").contains("write NULL"));
        assert!(err("ColumnValues \"c\" between 1 or 2").contains("expected \"and\""));
        assert!(err("ColumnValues \"c\" not > 1").contains("between, in or matches after not"));
        assert!(err("ColumnValues \"c\" == 1").contains("use a single `=`"));
        assert!(err("ColumnValues \"c\" = [1]").contains("needs in"));
        assert!(err("ColumnValues \"c\" > (now() 3 days)").contains("expected + or -"));
        assert!(err("ColumnValues \"c\" > (now() - 3)").contains("duration such as 3 days"));
        assert!(err("ColumnValues \"c\" matches abc").contains("matches takes a regular"));
    }

    #[test]
    fn clauses_are_checked() {
        assert!(
            err("CustomSql \"select 1 from primary\" > 0 where \"x > 1\"")
                .contains("put the filter in the SQL statement")
        );
        assert!(err("IsComplete \"x\" where x > 1").contains("where takes a SQL condition"));
        assert!(
            err("IsComplete \"x\" with threshold > 0.9").contains("use Completeness \"col\" > 0.9")
        );
        assert!(err("ColumnValues \"x\" in [1] with threshold > 90").contains("did you mean 0.9?"));
        assert!(err("ColumnValues \"x\" in [1] with labels = \"a\"")
            .contains("does not take `with labels`"));
        assert!(err("ColumnValues \"x\" in [1] with").contains("followed by an option"));
        ok("ColumnValues \"x\" in [1] where \"y > 0\" with threshold > 0.5");
    }

    #[test]
    fn composite_rules_are_checked() {
        assert!(
            err("(IsComplete \"a\") and (IsUnique \"b\") or (RowCount > 0)")
                .contains("cannot be mixed at one level")
        );
        assert!(err("(IsComplete \"a\") and IsUnique \"b\"").contains("must be in parentheses"));
        assert!(err("IsComplete \"a\" and IsUnique \"b\"").contains("must be in parentheses"));
        assert!(err("(IsComplete \"a\"").contains("expected ')' to close the '(' at character 1"));
        assert!(err("(IsComplete \"a\")) ").contains("unexpected \")\""));
        assert!(err("(IsCompleted \"a\") and (IsUnique \"b\")").contains("did you mean"));
        assert!(err("IsComplete \"a\", IsUnique \"b\"").contains("one rule per list element"));
        let deep = format!("{}RowCount > 0{}", "(".repeat(100), ")".repeat(100));
        assert!(err(&deep).contains("deeper than 32"));
        let deep_number = format!("RowCount > {}1{}", "(".repeat(1000), ")".repeat(1000));
        assert!(err(&deep_number).contains("deeper than 32"));
    }

    #[test]
    fn lexical_errors_are_precise() {
        assert_eq!(
            err("IsComplete \"order_id"),
            "unterminated string: add the closing double quote to the string starting at \
             character 12"
        );
        assert!(err("").contains("the rule is empty"));
        assert!(err("   ").contains("the rule is empty"));
        assert!(err("IsComplete \"a\" # note").contains("comments are not allowed"));
        assert!(err("IsComplete \u{201c}a\u{201d}").contains("typographic quotes"));
        assert!(err("RowCount > 1 ; ").contains("unexpected character ';' at character 14"));
        assert!(err("RowCount <> 1").contains("use `!=`"));
    }

    #[test]
    fn never_panics_on_prefixes_and_garbage() {
        let samples = [
            "(DataFreshness \"Order_Date\" <= 24 hours) OR (ColumnValues \"Order_Date\" = NULL)",
            "FileFreshness \"s3://bucket/t/\" between now() and (now() - 45 minutes)",
            "ColumnValues \"x\" in [1, 2] where \"y\" with threshold > 0.9",
            "RowCount > avg(last(10)) * (0.8 + 1)",
        ];
        for sample in samples {
            let chars: Vec<char> = sample.chars().collect();
            for end in 0..=chars.len() {
                let prefix: String = chars[..end].iter().collect();
                let _ = check_rule(&prefix);
                let _ = referenced_columns(&prefix);
            }
        }
        for garbage in [
            "((((", "))))", "[[[", "$", "-", "- -", "now(", "(now()", "f(", "\"", "\\",
        ] {
            let _ = check_rule(garbage);
        }
    }

    #[test]
    fn ruleset_document() {
        assert_eq!(
            ruleset(&["IsComplete \"a\"".into(), "  RowCount > 0 ".into()]),
            "Rules = [\n    IsComplete \"a\",\n    RowCount > 0\n]"
        );
        assert_eq!(ruleset(&[]), "Rules = []");
        assert!(check_ruleset_length(&"x".repeat(MAX_RULESET_CHARS)).is_ok());
        assert!(check_ruleset_length(&"x".repeat(MAX_RULESET_CHARS + 1))
            .is_err_and(|e| e.contains("65537 characters")));
    }

    #[test]
    fn referenced_columns_of_each_rule_shape() {
        let cols = |r: &str| referenced_columns(r);
        assert_eq!(cols("IsComplete \"order_id\""), vec!["order_id"]);
        assert_eq!(cols("RowCount > 0"), Vec::<String>::new());
        assert_eq!(cols("IsPrimaryKey \"a\" \"b\""), vec!["a", "b"]);
        assert_eq!(
            cols("ColumnCorrelation \"a\" and \"b\" > 0.1"),
            vec!["a", "b"]
        );
        assert_eq!(
            cols("(IsComplete \"a\") and ((IsUnique \"b\") or (Completeness \"a\" > 0.5))"),
            vec!["a", "b"]
        );
        assert_eq!(
            cols("CustomSql \"select x from primary\" > 0"),
            Vec::<String>::new()
        );
        assert_eq!(
            cols("ColumnNamesMatchPattern \"a.*\""),
            Vec::<String>::new()
        );
        assert_eq!(
            cols("ReferentialIntegrity \"city, state\" \"reference.{c,s}\" = 1.0"),
            vec!["city", "state"]
        );
        assert_eq!(
            cols("DatasetMatch \"reference\" \"ID_1->ID_ref1,ID_2\" \"Amount1->Amount2\" >= 0.9"),
            vec!["ID_1", "ID_2", "Amount1"]
        );
        assert_eq!(
            cols("AggregateMatch \"sum(amount)\" \"sum(reference.amount)\" = 1.0"),
            vec!["amount"]
        );
        assert_eq!(cols("DetectAnomalies \"ColumnLength\" \"id\""), vec!["id"]);
        assert_eq!(cols("DetectAnomalies \"RowCount\""), Vec::<String>::new());
        assert_eq!(
            cols("DataFreshness \"created_at\" <= 24 hours"),
            vec!["created_at"]
        );
        assert_eq!(cols("IsCompleted \"x\""), Vec::<String>::new());
    }

    #[test]
    fn every_spec_example_is_valid_and_names_are_unique() {
        for s in SPECS {
            ok(s.example);
        }
        let mut names: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SPECS.len());
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("iscompleted", "iscomplete"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", "abc"), 0);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn never_panics_on_arbitrary_text(s in ".{0,80}") {
                let _ = check_rule(&s);
                let _ = referenced_columns(&s);
            }

            #[test]
            fn never_panics_on_dqdl_shaped_text(
                words in prop::collection::vec(
                    prop::sample::select(vec![
                        "IsComplete", "ColumnValues", "RowCount", "DataFreshness", "CustomSql",
                        "\"a\"", "\"s3://b/\"", "(", ")", "[", "]", ",", "and", "or", "not",
                        "in", "between", "matches", "where", "with", "threshold", ">", "<=",
                        "=", "!=", "-", "+", "*", "0.5", "10", "hours", "GB", "NULL", "now",
                        "()", "$v", "avg", "last",
                    ]),
                    0..16,
                )
            ) {
                let rule = words.join(" ");
                let valid = check_rule(&rule).is_ok();
                let columns = referenced_columns(&rule);
                // Only valid rules reference columns.
                prop_assert!(valid || columns.is_empty());
            }
        }
    }
}
