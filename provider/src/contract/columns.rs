//! Columns of a data product and the rules their names follow.
//!
//! Names are checked strictly (lowercase letters, digits and underscores) rather than leniently:
//! Glue lowercases every column name it stores, so a configured `OrderId` would read back as
//! `orderid` and show as a diff on every plan, and consumers' SQL would have to guess the case.
//! Hive/Athena DDL reserved words are refused too, because every consumer would have to quote
//! them in every query.

use super::glue_type::GlueType;
use std::collections::HashMap;

/// Longest column name Glue accepts.
pub const MAX_NAME_LENGTH: usize = 255;

/// One column (or partition key) of a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column name (see [`check_column_name`]).
    pub name: String,
    /// Its Glue type.
    pub ty: GlueType,
    /// Free-text description, stored as the Glue column comment.
    pub comment: Option<String>,
    /// Whether values may be null; part of the contract (registry schema, compatibility,
    /// contract document), since Glue table columns themselves carry no nullability.
    pub nullable: bool,
}

impl Column {
    /// A nullable column without comment.
    pub fn new(name: impl Into<String>, ty: GlueType) -> Column {
        Column {
            name: name.into(),
            ty,
            comment: None,
            nullable: true,
        }
    }

    /// The same column, non-nullable.
    pub fn required(mut self) -> Column {
        self.nullable = false;
        self
    }

    /// The same column with a comment.
    pub fn with_comment(mut self, comment: impl Into<String>) -> Column {
        self.comment = Some(comment.into());
        self
    }
}

/// A problem with the column at `index` of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnProblem {
    /// 0-based position in the list.
    pub index: usize,
    /// What is wrong; names the column.
    pub message: String,
}

/// Athena's list of reserved keywords in DDL statements (lowercased); Glue tables are queried
/// through Athena and Hive, which both refuse these unquoted.
pub const RESERVED_WORDS: &[&str] = &[
    "all",
    "alter",
    "and",
    "array",
    "as",
    "authorization",
    "between",
    "bigint",
    "binary",
    "boolean",
    "both",
    "by",
    "case",
    "cashe",
    "cast",
    "char",
    "column",
    "commit",
    "conf",
    "constraint",
    "create",
    "cross",
    "cube",
    "current",
    "current_date",
    "current_timestamp",
    "cursor",
    "database",
    "date",
    "dayofweek",
    "decimal",
    "delete",
    "describe",
    "distinct",
    "div",
    "double",
    "drop",
    "else",
    "end",
    "exchange",
    "exists",
    "extended",
    "external",
    "extract",
    "false",
    "fetch",
    "float",
    "floor",
    "following",
    "for",
    "foreign",
    "from",
    "full",
    "function",
    "grant",
    "group",
    "grouping",
    "having",
    "if",
    "import",
    "in",
    "inner",
    "insert",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "join",
    "lateral",
    "left",
    "less",
    "like",
    "local",
    "macro",
    "map",
    "more",
    "none",
    "not",
    "null",
    "numeric",
    "of",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "over",
    "partialscan",
    "partition",
    "percent",
    "preceding",
    "precision",
    "preserve",
    "primary",
    "procedure",
    "range",
    "reads",
    "reduce",
    "references",
    "regexp",
    "revoke",
    "right",
    "rlike",
    "rollback",
    "rollup",
    "row",
    "rows",
    "select",
    "set",
    "smallint",
    "start",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "transform",
    "trigger",
    "true",
    "truncate",
    "unbounded",
    "union",
    "uniquejoin",
    "update",
    "user",
    "using",
    "utc_timestamp",
    "values",
    "varchar",
    "views",
    "when",
    "where",
    "window",
    "with",
];

/// Whether `word` (any case) is a Hive/Athena DDL reserved word.
pub fn is_reserved(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    RESERVED_WORDS.binary_search(&lower.as_str()).is_ok()
}

/// Checks one column name: lowercase ASCII letters, digits and underscores, starting with a
/// letter or underscore, at most 255 characters, not a reserved word. `None` means valid.
pub fn check_column_name(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("column name is empty".into());
    }
    let length = name.chars().count();
    if length > MAX_NAME_LENGTH {
        return Some(format!(
            "column name \"{}...\" is {length} characters long; Glue allows at most \
             {MAX_NAME_LENGTH}",
            name.chars().take(20).collect::<String>()
        ));
    }
    let lower = name.to_lowercase();
    if name.chars().any(|c| c.is_uppercase()) {
        let valid_once_lowered = check_column_name(&lower).is_none();
        return Some(if valid_once_lowered {
            format!(
                "column name \"{name}\" has uppercase letters; Glue stores column names in \
                 lowercase, so write \"{lower}\""
            )
        } else {
            format!(
                "column name \"{name}\" has uppercase letters; Glue stores column names in \
                 lowercase: use lowercase letters, digits and underscores"
            )
        });
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        let shown = match bad {
            ' ' => "a space".to_string(),
            c if c.is_control() => format!("the control character U+{:04X}", c as u32),
            c => format!("'{c}'"),
        };
        return Some(format!(
            "column name \"{name}\" contains {shown}; use lowercase letters, digits and \
             underscores (e.g. \"{}\")",
            suggest(name)
        ));
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(format!(
            "column name \"{name}\" starts with a digit; start it with a letter or underscore \
             (e.g. \"_{name}\")"
        ));
    }
    if is_reserved(name) {
        return Some(format!(
            "column name \"{name}\" is a reserved word in Hive/Athena DDL, so every query would \
             have to quote it; choose another name (e.g. \"{name}_value\")"
        ));
    }
    None
}

/// `name` with every character outside `[a-z0-9_]` replaced by `_`, for suggestions.
fn suggest(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// Every problem in one list of names: invalid names and duplicates (case-insensitively, since
/// Glue lowercases), each reported once at the later occurrence.
pub fn check_column_list(names: &[String]) -> Vec<ColumnProblem> {
    check_columns(names, &[])
        .into_iter()
        .map(|(_, index, message)| ColumnProblem { index, message })
        .collect()
}

/// Every problem in a product's columns and partition keys, as `(is_partition_key, index,
/// message)` in declaration order (columns first): each invalid name ([`check_column_name`]),
/// and each duplicate — within columns, within partition keys, or a partition key that repeats a
/// column (in Glue a partition key is a column of its own). Callers need not also call
/// [`check_column_name`].
pub fn check_columns(columns: &[String], partition_keys: &[String]) -> Vec<(bool, usize, String)> {
    let mut problems = Vec::new();
    // Lowercased name -> whether it was first seen as a partition key.
    let mut seen: HashMap<String, bool> = HashMap::new();
    let all = columns
        .iter()
        .enumerate()
        .map(|(i, n)| (false, i, n))
        .chain(partition_keys.iter().enumerate().map(|(i, n)| (true, i, n)));
    for (is_partition, index, name) in all {
        if let Some(message) = check_column_name(name) {
            let message = if is_partition {
                message.replacen("column name", "partition key", 1)
            } else {
                message
            };
            problems.push((is_partition, index, message));
        }
        if name.is_empty() {
            continue;
        }
        let key = name.to_lowercase();
        match seen.get(&key) {
            None => {
                seen.insert(key, is_partition);
            }
            Some(first_is_partition) => {
                let message = match (*first_is_partition, is_partition) {
                    (false, false) => format!("column \"{name}\" is declared more than once"),
                    (true, true) => format!("partition key \"{name}\" is declared more than once"),
                    _ => format!(
                        "partition key \"{name}\" has the same name as a column; a partition key \
                         is a column of its own, so declare it only as a partition key"
                    ),
                };
                let message = if *name != key {
                    format!("{message} (Glue lowercases names, so it clashes with \"{key}\")")
                } else {
                    message
                };
                problems.push((is_partition, index, message));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reserved_words_are_sorted_for_binary_search() {
        let mut sorted = RESERVED_WORDS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, RESERVED_WORDS);
    }

    #[test]
    fn accepts_good_names() {
        for name in [
            "order_id",
            "_private",
            "a",
            "col2",
            "created_at",
            &"x".repeat(255),
        ] {
            assert_eq!(check_column_name(name), None, "{name}");
        }
    }

    #[test]
    fn refuses_bad_names_precisely() {
        assert_eq!(
            check_column_name("OrderId").as_deref(),
            Some(
                "column name \"OrderId\" has uppercase letters; Glue stores column names in \
                 lowercase, so write \"orderid\""
            )
        );
        assert!(check_column_name("Order-Id")
            .is_some_and(|m| m.contains("use lowercase letters, digits and underscores")));
        assert_eq!(
            check_column_name("order-id").as_deref(),
            Some(
                "column name \"order-id\" contains '-'; use lowercase letters, digits and \
                 underscores (e.g. \"order_id\")"
            )
        );
        assert!(check_column_name("order id").is_some_and(|m| m.contains("contains a space")));
        assert!(check_column_name("ordér").is_some_and(|m| m.contains("contains 'é'")));
        assert!(check_column_name("2fa").is_some_and(|m| m.contains("starts with a digit")));
        assert_eq!(
            check_column_name("").as_deref(),
            Some("column name is empty")
        );
        assert!(check_column_name(&"x".repeat(256))
            .is_some_and(|m| m.contains("is 256 characters long")));
        for reserved in [
            "date",
            "timestamp",
            "select",
            "partition",
            "all",
            "user",
            "order",
        ] {
            assert!(
                check_column_name(reserved).is_some_and(|m| m.contains("reserved word")),
                "{reserved}"
            );
        }
        assert!(is_reserved("WHERE"));
        assert!(!is_reserved("order_date"));
    }

    #[test]
    fn finds_duplicates_within_and_across_lists() {
        let problems = check_columns(
            &names(&["id", "amount", "id", "region"]),
            &names(&["dt", "region", "dt"]),
        );
        assert_eq!(
            problems,
            vec![
                (
                    false,
                    2,
                    "column \"id\" is declared more than once".to_string()
                ),
                (
                    true,
                    1,
                    "partition key \"region\" has the same name as a column; a partition key is \
                     a column of its own, so declare it only as a partition key"
                        .to_string()
                ),
                (
                    true,
                    2,
                    "partition key \"dt\" is declared more than once".to_string()
                ),
            ]
        );
    }

    #[test]
    fn reports_name_problems_with_the_right_noun_and_case_clashes() {
        let problems = check_columns(&names(&["id", "ID"]), &names(&["date"]));
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(!problems[0].0);
        assert_eq!(problems[0].1, 1);
        assert!(problems[0]
            .2
            .starts_with("column name \"ID\" has uppercase letters"));
        assert!(problems[1]
            .2
            .ends_with("(Glue lowercases names, so it clashes with \"id\")"));
        assert_eq!((problems[2].0, problems[2].1), (true, 0));
        assert!(problems[2]
            .2
            .starts_with("partition key \"date\" is a reserved word"));
        assert!(check_columns(&names(&["a", "b"]), &names(&["c"])).is_empty());
    }

    #[test]
    fn column_list_problems_carry_indices() {
        assert_eq!(
            check_column_list(&names(&["a", "select", "a"])),
            vec![
                ColumnProblem {
                    index: 1,
                    message: check_column_name("select").unwrap_or_default()
                },
                ColumnProblem {
                    index: 2,
                    message: "column \"a\" is declared more than once".into()
                },
            ]
        );
    }

    #[test]
    fn builders() {
        let c = Column::new("id", GlueType::String)
            .required()
            .with_comment("key");
        assert!(!c.nullable);
        assert_eq!(c.comment.as_deref(), Some("key"));
        assert!(Column::new("x", GlueType::Int).nullable);
    }
}
