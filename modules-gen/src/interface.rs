//! Module interfaces (variables and outputs) read from HCL.
//!
//! An interface is what a caller of a module depends on: the `variable` and `output` blocks of
//! the `.tf` files at the module's root (nested folders such as `examples/` are other modules).
//! It is read with the real HCL parser (`hcl-rs`) from a directory or from an in-memory map of
//! file name to text, so [`release`](crate::release) can compare a working copy with a published
//! zip. Expressions (types, defaults, validation conditions) are kept as normalized text: the
//! parser drops whitespace and comments, and the text is re-rendered in one compact form, so
//! only real changes to an expression show up as differences.
//!
//! `.tf.json` files are not read: the generator never writes them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use hcl::expr::{Expression, FuncCall, ObjectKey, TemplateExpr};
use hcl::format::{Format, Formatter};
use hcl::structure::{Attribute, Block, Body};

/// The variables and outputs of one module, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Interface {
    /// The module's input variables.
    pub variables: BTreeMap<String, Variable>,
    /// The module's outputs.
    pub outputs: BTreeMap<String, Output>,
}

/// One `variable` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    /// The block label.
    pub name: String,
    /// The type constraint, normalized (see [`normalize_type`]); `any` when absent, as in
    /// Terraform.
    pub type_expr: String,
    /// The default value as normalized expression text; `None` means the variable is required.
    pub default: Option<String>,
    /// The `nullable` argument when present (Terraform treats absence as `true`).
    pub nullable: Option<bool>,
    /// The description, if any.
    pub description: Option<String>,
    /// The `sensitive` argument (absent means `false`).
    pub sensitive: bool,
    /// The `validation` blocks, in file order.
    pub validations: Vec<Validation>,
}

impl Variable {
    /// Whether callers must set the variable: it has no default.
    pub fn required(&self) -> bool {
        self.default.is_none()
    }

    /// Whether `null` is accepted, applying Terraform's default of `true`.
    pub fn is_nullable(&self) -> bool {
        self.nullable.unwrap_or(true)
    }

    /// The set of validation conditions, the part of a validation that decides what is accepted.
    pub fn conditions(&self) -> BTreeSet<&str> {
        self.validations
            .iter()
            .map(|v| v.condition.as_str())
            .collect()
    }
}

/// One `validation` block of a variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validation {
    /// The condition as normalized expression text.
    pub condition: String,
    /// The error message (the raw template text when it interpolates).
    pub error_message: String,
}

/// One `output` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The block label.
    pub name: String,
    /// The description, if any.
    pub description: Option<String>,
    /// The `sensitive` argument (absent means `false`).
    pub sensitive: bool,
}

impl Interface {
    /// Reads the interface of the module in `dir` from its root `.tf` files.
    pub fn from_dir(dir: &Path) -> Result<Interface, String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut files = BTreeMap::new();
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".tf") || !entry.path().is_file() {
                continue;
            }
            let text = std::fs::read_to_string(entry.path())
                .map_err(|e| format!("{}: {e}", entry.path().display()))?;
            files.insert(name, text);
        }
        Interface::from_files(&files).map_err(|e| format!("{}/{e}", dir.display()))
    }

    /// Reads the interface from file contents keyed by path relative to the module root, such as
    /// the entries of a published zip. Only root-level `*.tf` files count; other entries are
    /// ignored.
    pub fn from_files<S: AsRef<str>>(files: &BTreeMap<String, S>) -> Result<Interface, String> {
        let mut interface = Interface::default();
        for (name, text) in files {
            if name.contains('/') || !name.ends_with(".tf") {
                continue;
            }
            let body = hcl::parse(text.as_ref()).map_err(|e| parse_error(name, &e))?;
            interface
                .read_body(&body)
                .map_err(|e| format!("{name}: {e}"))?;
        }
        Ok(interface)
    }

    /// Reads the interface from raw file bytes (see [`Interface::from_files`]); root `.tf` files
    /// must be UTF-8.
    pub fn from_file_bytes(files: &BTreeMap<String, Vec<u8>>) -> Result<Interface, String> {
        let mut texts = BTreeMap::new();
        for (name, bytes) in files {
            if name.contains('/') || !name.ends_with(".tf") {
                continue;
            }
            let text = std::str::from_utf8(bytes).map_err(|_| format!("{name}: not UTF-8"))?;
            texts.insert(name.clone(), text);
        }
        Interface::from_files(&texts)
    }

    fn read_body(&mut self, body: &Body) -> Result<(), String> {
        for block in body.blocks() {
            match block.identifier() {
                "variable" => {
                    let variable = read_variable(block)?;
                    if self.variables.contains_key(&variable.name) {
                        return Err(format!("variable {:?} declared twice", variable.name));
                    }
                    self.variables.insert(variable.name.clone(), variable);
                }
                "output" => {
                    let output = read_output(block)?;
                    if self.outputs.contains_key(&output.name) {
                        return Err(format!("output {:?} declared twice", output.name));
                    }
                    self.outputs.insert(output.name.clone(), output);
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// `file:line:column: message`, the form editors jump to, instead of the parser's multi-line
/// rendering.
fn parse_error(file: &str, error: &hcl::Error) -> String {
    match error {
        hcl::Error::Parse(e) => format!(
            "{file}:{}:{}: {}",
            e.location().line(),
            e.location().column(),
            e.message()
        ),
        other => format!("{file}: {other}"),
    }
}

fn single_label(block: &Block) -> Result<String, String> {
    match block.labels() {
        [label] => Ok(label.as_str().to_string()),
        _ => Err(format!(
            "a {} block needs exactly one label (its name)",
            block.identifier()
        )),
    }
}

fn attribute<'a>(body: &'a Body, key: &str) -> Option<&'a Attribute> {
    body.attributes().find(|a| a.key() == key)
}

fn read_variable(block: &Block) -> Result<Variable, String> {
    let name = single_label(block)?;
    let body = block.body();
    let context = |what: &str| format!("variable {name:?}: {what}");
    let type_expr = match attribute(body, "type") {
        Some(attr) => normalize_type(attr.expr()),
        None => "any".to_string(),
    };
    let mut validations = Vec::new();
    for validation in body.blocks().filter(|b| b.identifier() == "validation") {
        let condition = attribute(validation.body(), "condition")
            .ok_or_else(|| context("a validation block has no condition"))?;
        let error_message = match attribute(validation.body(), "error_message") {
            Some(attr) => string_value(attr.expr())
                .ok_or_else(|| context("validation error_message is not a string"))?,
            None => String::new(),
        };
        validations.push(Validation {
            condition: expression_text(condition.expr()),
            error_message,
        });
    }
    Ok(Variable {
        type_expr,
        default: attribute(body, "default").map(|a| expression_text(a.expr())),
        nullable: optional_bool(body, "nullable").map_err(|e| context(&e))?,
        description: optional_string(body, "description").map_err(|e| context(&e))?,
        sensitive: optional_bool(body, "sensitive")
            .map_err(|e| context(&e))?
            .unwrap_or(false),
        validations,
        name,
    })
}

fn read_output(block: &Block) -> Result<Output, String> {
    let name = single_label(block)?;
    let body = block.body();
    let context = |what: &str| format!("output {name:?}: {what}");
    Ok(Output {
        description: optional_string(body, "description").map_err(|e| context(&e))?,
        sensitive: optional_bool(body, "sensitive")
            .map_err(|e| context(&e))?
            .unwrap_or(false),
        name,
    })
}

fn optional_bool(body: &Body, key: &str) -> Result<Option<bool>, String> {
    match attribute(body, key).map(Attribute::expr) {
        None => Ok(None),
        Some(Expression::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(format!(
            "{key} must be true or false, not {}",
            expression_text(other)
        )),
    }
}

fn optional_string(body: &Body, key: &str) -> Result<Option<String>, String> {
    match attribute(body, key) {
        None => Ok(None),
        Some(attr) => string_value(attr.expr())
            .map(Some)
            .ok_or_else(|| format!("{key} must be a string")),
    }
}

/// A literal string, or the raw text of a template (quoted with interpolations, or a heredoc).
fn string_value(expr: &Expression) -> Option<String> {
    match expr {
        Expression::String(s) => Some(s.clone()),
        Expression::TemplateExpr(template) => Some(match template.as_ref() {
            TemplateExpr::QuotedString(s) => s.clone(),
            TemplateExpr::Heredoc(heredoc) => heredoc.template.clone(),
        }),
        _ => None,
    }
}

/// An expression in one canonical, single-line-where-possible form.
pub fn expression_text(expr: &Expression) -> String {
    let mut formatter = Formatter::builder()
        .compact(true)
        .prefer_ident_keys(true)
        .build_vec();
    // Formatting into a Vec cannot fail; fall back to the Display form rather than panic.
    expr.format_string(&mut formatter)
        .unwrap_or_else(|_| expr.to_string())
}

/// A type constraint in canonical form, so that equivalent spellings compare equal: the legacy
/// quoted forms (`"string"`, `"list"`, `"map"`) and bare collection kinds (`list` means
/// `list(any)`) are rewritten, and object attributes are sorted by name.
pub fn normalize_type(expr: &Expression) -> String {
    match expr {
        Expression::String(s) => normalize_keyword(s),
        Expression::Variable(v) => normalize_keyword(v.as_str()),
        Expression::Parenthesis(inner) => normalize_type(inner),
        Expression::FuncCall(call) => normalize_call(call),
        other => expression_text(other),
    }
}

fn normalize_keyword(word: &str) -> String {
    match word {
        "list" | "map" | "set" => format!("{word}(any)"),
        other => other.to_string(),
    }
}

fn normalize_call(call: &FuncCall) -> String {
    let name = call.name.name.as_str();
    if call.name.is_namespaced() {
        return expression_text(&Expression::FuncCall(Box::new(call.clone())));
    }
    let args: Vec<String> = match (name, call.args.as_slice()) {
        ("object", [Expression::Object(attrs)]) => {
            let mut fields: Vec<(String, String)> = attrs
                .iter()
                .map(|(key, value)| (object_key_text(key), normalize_type(value)))
                .collect();
            fields.sort();
            let fields: Vec<String> = fields
                .into_iter()
                .map(|(key, value)| format!("{key} = {value}"))
                .collect();
            vec![format!("{{{}}}", fields.join(", "))]
        }
        ("tuple", [Expression::Array(items)]) => {
            let items: Vec<String> = items.iter().map(normalize_type).collect();
            vec![format!("[{}]", items.join(", "))]
        }
        // The second argument of optional() is a default value, not a type.
        ("optional", [ty, default]) => vec![normalize_type(ty), expression_text(default)],
        (_, args) => args.iter().map(normalize_type).collect(),
    };
    format!("{name}({})", args.join(", "))
}

fn object_key_text(key: &ObjectKey) -> String {
    match key {
        ObjectKey::Identifier(ident) => ident.to_string(),
        ObjectKey::Expression(Expression::String(s)) => s.clone(),
        ObjectKey::Expression(Expression::Variable(v)) => v.as_str().to_string(),
        ObjectKey::Expression(other) => expression_text(other),
        // ObjectKey is non-exhaustive; render any future kind through the formatter.
        other => {
            let mut formatter = Formatter::builder().build_vec();
            other
                .format_string(&mut formatter)
                .unwrap_or_else(|_| format!("{other:?}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Interface {
        let files = BTreeMap::from([("variables.tf".to_string(), text.to_string())]);
        Interface::from_files(&files).unwrap()
    }

    #[test]
    fn reads_variables_and_outputs() {
        let interface = parse(
            r#"
variable "name" {
  type        = string
  description = "The product name."
  validation {
    condition     = can(regex("^[a-z][a-z0-9_]*$", var.name))
    error_message = "Names are snake_case."
  }
}

variable "tags" {
  type     = map(string)
  default  = {}
  nullable = false
}

output "arn" {
  description = "The table ARN."
  value       = "x"
  sensitive   = true
}
"#,
        );
        let name = &interface.variables["name"];
        assert_eq!(name.type_expr, "string");
        assert!(name.required());
        assert_eq!(name.description.as_deref(), Some("The product name."));
        assert_eq!(name.validations.len(), 1);
        assert_eq!(
            name.validations[0].condition,
            r#"can(regex("^[a-z][a-z0-9_]*$", var.name))"#
        );
        assert_eq!(name.validations[0].error_message, "Names are snake_case.");
        let tags = &interface.variables["tags"];
        assert!(!tags.required());
        assert!(!tags.is_nullable());
        assert_eq!(tags.default.as_deref(), Some("{}"));
        let arn = &interface.outputs["arn"];
        assert!(arn.sensitive);
        assert_eq!(arn.description.as_deref(), Some("The table ARN."));
    }

    #[test]
    fn missing_type_is_any() {
        let interface = parse("variable \"x\" {}\n");
        assert_eq!(interface.variables["x"].type_expr, "any");
        assert!(interface.variables["x"].is_nullable());
    }

    #[test]
    fn equivalent_type_spellings_normalize_alike() {
        let a = parse(
            "variable \"x\" {\n  type = object({ b = list, a = optional(string, \"d\") })\n}\n",
        );
        let b = parse(
            "variable \"x\" {\n  type = object({\n    a = optional(string, \"d\")\n    b = list(any)\n  })\n}\n",
        );
        assert_eq!(a.variables["x"].type_expr, b.variables["x"].type_expr);
        assert_eq!(
            a.variables["x"].type_expr,
            "object({a = optional(string, \"d\"), b = list(any)})"
        );
        assert_eq!(
            parse("variable \"x\" { type = \"string\" }\n").variables["x"].type_expr,
            "string"
        );
    }

    #[test]
    fn whitespace_in_conditions_does_not_matter() {
        let a = parse(
            "variable \"x\" {\n  validation {\n    condition = length(var.x)>0\n    error_message = \"e\"\n  }\n}\n",
        );
        let b = parse(
            "variable \"x\" {\n  validation {\n    condition = length( var.x ) > 0 # why\n    error_message = \"e\"\n  }\n}\n",
        );
        assert_eq!(a, b);
    }

    #[test]
    fn only_root_tf_files_count() {
        let files = BTreeMap::from([
            ("main.tf".to_string(), "variable \"a\" {}\n".to_string()),
            (
                "examples/basic/main.tf".to_string(),
                "variable \"b\" {}\n".to_string(),
            ),
            ("README.md".to_string(), "variable \"c\" {}\n".to_string()),
        ]);
        let interface = Interface::from_files(&files).unwrap();
        assert_eq!(interface.variables.keys().collect::<Vec<_>>(), ["a"]);
    }

    #[test]
    fn errors_name_the_file_and_never_panic() {
        let files = BTreeMap::from([("bad.tf".to_string(), "variable \"x\" {".to_string())]);
        let err = Interface::from_files(&files).unwrap_err();
        assert!(err.starts_with("bad.tf:1:15: "), "{err}");

        let files = BTreeMap::from([(
            "a.tf".to_string(),
            "variable \"x\" {}\nvariable \"x\" {}\n".to_string(),
        )]);
        let err = Interface::from_files(&files).unwrap_err();
        assert!(err.contains("declared twice"), "{err}");

        let files = BTreeMap::from([(
            "a.tf".to_string(),
            "variable \"x\" {\n  nullable = \"no\"\n}\n".to_string(),
        )]);
        let err = Interface::from_files(&files).unwrap_err();
        assert!(err.contains("nullable must be true or false"), "{err}");
    }
}
