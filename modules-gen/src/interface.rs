//! Module interfaces (variables and outputs) read from HCL.
//!
//! An interface is what a caller of a module depends on: the `variable` and `output` blocks of
//! the `.tf` files at the module's root (nested folders such as `examples/` are other modules).
//! It is read with the real HCL parser (`hcl-rs`) from a directory or from an in-memory map of
//! file name to text, so [`release`](crate::release) can compare a working copy with a published
//! zip. Expressions (types, defaults, validation conditions) are kept as normalized text: the
//! parser drops whitespace and comments, and the text is re-rendered in one compact form, so
//! only real changes to an expression show up as differences. [`compare_conditions`] parses two
//! conditions back into expression trees to tell whether a change widens or narrows what a
//! validation accepts.
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

// ----- comparing validation conditions -----------------------------------------------------

/// How a changed validation condition relates to the old one, as the sets of values each accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionChange {
    /// The same condition (the expressions differ only in parentheses or number spelling).
    Same,
    /// The new condition accepts every value the old one accepted, and more.
    Widened,
    /// The new condition accepts only values the old one accepted, and fewer.
    Narrowed,
    /// Cannot tell: the expressions differ in shape, in a part whose effect is not known, or in
    /// both directions at once. [`release`](crate::release) counts this as narrowed.
    Unknown,
}

impl ConditionChange {
    /// Both changes at once, as in the two operands of `&&`.
    fn and(self, other: ConditionChange) -> ConditionChange {
        use ConditionChange::*;
        match (self, other) {
            (Same, x) | (x, Same) => x,
            (a, b) if a == b => a,
            _ => Unknown,
        }
    }

    /// The change seen through a negation when `positive` is false.
    fn signed(self, positive: bool) -> ConditionChange {
        match (self, positive) {
            (ConditionChange::Widened, false) => ConditionChange::Narrowed,
            (ConditionChange::Narrowed, false) => ConditionChange::Widened,
            (change, _) => change,
        }
    }
}

/// What a sub-expression means to the condition around it, which decides how a change in it
/// moves the whole condition. `true` is the positive sense: the sub-expression growing widens the
/// condition; `false` is reversed (under `!`, or the other side of a comparison).
#[derive(Clone, Copy, Debug)]
enum Role {
    /// A boolean: growing means true for more values.
    Predicate(bool),
    /// A collection whose members are what counts (the list of `contains(list, value)`):
    /// growing means a superset.
    Members(bool),
    /// A number compared with `<`, `<=`, `>`, `>=`: growing means larger.
    Number(bool),
    /// The list given to `alltrue`: each element must hold.
    AllOf(bool),
    /// The list given to `anytrue`: one element must hold.
    AnyOf(bool),
    /// Anything else: any difference is [`ConditionChange::Unknown`].
    Exact,
}

/// Compares two validation conditions (normalized expression texts, see
/// [`Validation::condition`]) structurally on the HCL expression tree.
///
/// Both must have the same shape. Where they differ, the difference must be one whose effect is
/// known from its place in the condition:
///
/// - a list literal of constants that is a set of allowed values (the first argument of
///   `contains`, possibly through `lookup` or `try`): a superset widens, a subset narrows;
/// - a list literal of constants that `alltrue([for x in LIST : ...])` ranges over: a superset
///   narrows (more must hold), a subset widens; for `anytrue` the other way round;
/// - an object literal of such lists given to `lookup(OBJECT, key, default)`: values are compared
///   key by key, and a key added (or removed) is compared with the default it replaces, so a key
///   added with default `[]` widens;
/// - a number literal compared with the other side: for `x <= N` and `x < N` a larger `N` widens,
///   for `x >= N` and `x > N` a smaller one does (mirrored when the literal is on the left);
/// - a `true`/`false` literal in a boolean place.
///
/// These compose through `&&`, `||`, `!`, `try`, `alltrue`, `anytrue`, `flatten`, `for`
/// expressions and conditionals; changes in both directions give [`ConditionChange::Unknown`], as
/// does any other difference (a changed regex pattern, a changed `==`, an added `&&` operand, a
/// text that does not parse).
pub fn compare_conditions(old: &str, new: &str) -> ConditionChange {
    if old == new {
        return ConditionChange::Same;
    }
    match (old.parse::<Expression>(), new.parse::<Expression>()) {
        (Ok(old), Ok(new)) => compare_in(&old, &new, Role::Predicate(true)),
        _ => ConditionChange::Unknown,
    }
}

fn unparenthesized(mut expr: &Expression) -> &Expression {
    while let Expression::Parenthesis(inner) = expr {
        expr = inner;
    }
    expr
}

fn compare_in(old: &Expression, new: &Expression, role: Role) -> ConditionChange {
    let (old, new) = (unparenthesized(old), unparenthesized(new));
    if old == new {
        return ConditionChange::Same;
    }
    let specific = match role {
        Role::Exact => return ConditionChange::Unknown,
        Role::Predicate(positive) => compare_predicates(old, new, positive),
        Role::Members(positive) => compare_members(old, new, positive),
        Role::Number(positive) => compare_numbers(old, new, positive),
        Role::AllOf(positive) => compare_lists(old, new, positive, true),
        Role::AnyOf(positive) => compare_lists(old, new, positive, false),
    };
    specific.unwrap_or_else(|| compare_transparent(old, new, role))
}

/// Constructs that pass their operands' meaning through unchanged, in any role: `try`,
/// `lookup` and conditionals.
fn compare_transparent(old: &Expression, new: &Expression, role: Role) -> ConditionChange {
    match (old, new) {
        (Expression::FuncCall(a), Expression::FuncCall(b)) => {
            let Some(name) = same_call(a, b) else {
                return ConditionChange::Unknown;
            };
            match name {
                "try" => all_args(a, b, |_| role),
                "lookup" => compare_lookups(a, b, role),
                _ => ConditionChange::Unknown,
            }
        }
        (Expression::Conditional(a), Expression::Conditional(b)) => {
            compare_in(&a.cond_expr, &b.cond_expr, Role::Exact)
                .and(compare_in(&a.true_expr, &b.true_expr, role))
                .and(compare_in(&a.false_expr, &b.false_expr, role))
        }
        _ => ConditionChange::Unknown,
    }
}

/// The function's name when both are calls of the same plain function with as many arguments.
fn same_call<'a>(a: &'a FuncCall, b: &FuncCall) -> Option<&'a str> {
    (a.name == b.name
        && !a.name.is_namespaced()
        && a.args.len() == b.args.len()
        && a.expand_final == b.expand_final)
        .then(|| a.name.name.as_str())
}

fn all_args(a: &FuncCall, b: &FuncCall, role: impl Fn(usize) -> Role) -> ConditionChange {
    a.args
        .iter()
        .zip(&b.args)
        .enumerate()
        .fold(ConditionChange::Same, |change, (i, (x, y))| {
            change.and(compare_in(x, y, role(i)))
        })
}

fn compare_predicates(
    old: &Expression,
    new: &Expression,
    positive: bool,
) -> Option<ConditionChange> {
    use hcl::expr::{BinaryOperator as B, Operation, UnaryOperator};
    Some(match (old, new) {
        (Expression::Bool(false), Expression::Bool(true)) => {
            ConditionChange::Widened.signed(positive)
        }
        (Expression::Bool(true), Expression::Bool(false)) => {
            ConditionChange::Narrowed.signed(positive)
        }
        (Expression::Operation(a), Expression::Operation(b)) => match (a.as_ref(), b.as_ref()) {
            (Operation::Unary(a), Operation::Unary(b))
                if a.operator == UnaryOperator::Not && b.operator == UnaryOperator::Not =>
            {
                compare_in(&a.expr, &b.expr, Role::Predicate(!positive))
            }
            (Operation::Binary(a), Operation::Binary(b)) if a.operator == b.operator => {
                let (lhs, rhs) = match a.operator {
                    B::And | B::Or => (Role::Predicate(positive), Role::Predicate(positive)),
                    B::Less | B::LessEq => (Role::Number(!positive), Role::Number(positive)),
                    B::Greater | B::GreaterEq => (Role::Number(positive), Role::Number(!positive)),
                    _ => (Role::Exact, Role::Exact),
                };
                compare_in(&a.lhs_expr, &b.lhs_expr, lhs).and(compare_in(
                    &a.rhs_expr,
                    &b.rhs_expr,
                    rhs,
                ))
            }
            _ => ConditionChange::Unknown,
        },
        (Expression::FuncCall(a), Expression::FuncCall(b)) => {
            let name = same_call(a, b)?;
            match name {
                "contains" if a.args.len() == 2 => all_args(a, b, |i| {
                    if i == 0 {
                        Role::Members(positive)
                    } else {
                        Role::Exact
                    }
                }),
                "alltrue" if a.args.len() == 1 => all_args(a, b, |_| Role::AllOf(positive)),
                "anytrue" if a.args.len() == 1 => all_args(a, b, |_| Role::AnyOf(positive)),
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// Whether an expression is a constant: a literal string, number, bool or null.
fn is_constant(expr: &Expression) -> bool {
    matches!(
        expr,
        Expression::Null | Expression::Bool(_) | Expression::Number(_) | Expression::String(_)
    ) || number_value(expr).is_some()
}

fn number_value(expr: &Expression) -> Option<f64> {
    use hcl::expr::{Operation, UnaryOperator};
    match unparenthesized(expr) {
        Expression::Number(n) => n.as_f64(),
        Expression::Operation(op) => match op.as_ref() {
            Operation::Unary(u) if u.operator == UnaryOperator::Neg => {
                number_value(&u.expr).map(|n| -n)
            }
            _ => None,
        },
        _ => None,
    }
}

fn compare_numbers(old: &Expression, new: &Expression, positive: bool) -> Option<ConditionChange> {
    let (a, b) = (number_value(old)?, number_value(new)?);
    Some(match a.partial_cmp(&b)? {
        std::cmp::Ordering::Less => ConditionChange::Widened.signed(positive),
        std::cmp::Ordering::Greater => ConditionChange::Narrowed.signed(positive),
        std::cmp::Ordering::Equal => ConditionChange::Same,
    })
}

/// Compares two list literals of constants as sets.
fn compare_members(old: &Expression, new: &Expression, positive: bool) -> Option<ConditionChange> {
    let (Expression::Array(a), Expression::Array(b)) = (old, new) else {
        return None;
    };
    if !a.iter().chain(b).all(is_constant) {
        return Some(ConditionChange::Unknown);
    }
    let set =
        |items: &[Expression]| -> BTreeSet<String> { items.iter().map(expression_text).collect() };
    let (a, b) = (set(a), set(b));
    Some(if a == b {
        ConditionChange::Same
    } else if b.is_superset(&a) {
        ConditionChange::Widened.signed(positive)
    } else if b.is_subset(&a) {
        ConditionChange::Narrowed.signed(positive)
    } else {
        ConditionChange::Unknown
    })
}

/// The list of `alltrue` (`all` true) or `anytrue`: a `for` expression over a collection, a
/// `flatten` of such lists, a list literal of conditions, or one condition.
fn compare_lists(
    old: &Expression,
    new: &Expression,
    positive: bool,
    all: bool,
) -> Option<ConditionChange> {
    let role = |positive| {
        if all {
            Role::AllOf(positive)
        } else {
            Role::AnyOf(positive)
        }
    };
    Some(match (old, new) {
        (Expression::ForExpr(a), Expression::ForExpr(b)) => {
            if a.key_expr.is_some()
                || b.key_expr.is_some()
                || a.key_var != b.key_var
                || a.value_var != b.value_var
            {
                return Some(ConditionChange::Unknown);
            }
            // More elements means more conditions that must all hold (alltrue), or more chances
            // for one to hold (anytrue); a filter passing more elements acts the same way.
            let more_elements = all != positive;
            let collection = if a.key_var.is_none() {
                Role::Members(more_elements)
            } else {
                // With an index or key variable, positions matter: no set comparison.
                Role::Exact
            };
            let filter = match (&a.cond_expr, &b.cond_expr) {
                (None, None) => ConditionChange::Same,
                (Some(x), Some(y)) => compare_in(x, y, Role::Predicate(more_elements)),
                _ => ConditionChange::Unknown,
            };
            compare_in(&a.collection_expr, &b.collection_expr, collection)
                .and(filter)
                .and(compare_in(&a.value_expr, &b.value_expr, role(positive)))
        }
        (Expression::Array(a), Expression::Array(b)) => {
            if a.len() != b.len() {
                return Some(ConditionChange::Unknown);
            }
            a.iter()
                .zip(b)
                .fold(ConditionChange::Same, |change, (x, y)| {
                    change.and(compare_in(x, y, role(positive)))
                })
        }
        (Expression::FuncCall(a), Expression::FuncCall(b)) if a.name.name.as_str() == "flatten" => {
            same_call(a, b)?;
            all_args(a, b, |_| role(positive))
        }
        (Expression::ForExpr(_) | Expression::Array(_), _)
        | (_, Expression::ForExpr(_) | Expression::Array(_)) => ConditionChange::Unknown,
        // One condition standing for the list's elements.
        _ => compare_in(old, new, Role::Predicate(positive)),
    })
}

/// `lookup(object, key, default)` in `role`: with object literals, each key's value is compared
/// with the value (or the default) it had before.
fn compare_lookups(a: &FuncCall, b: &FuncCall, role: Role) -> ConditionChange {
    let (old_default, new_default) = (a.args.get(2), b.args.get(2));
    let key = match (a.args.get(1), b.args.get(1)) {
        (Some(x), Some(y)) => compare_in(x, y, Role::Exact),
        _ => return ConditionChange::Unknown,
    };
    let defaults = match (old_default, new_default) {
        (Some(x), Some(y)) => compare_in(x, y, role),
        _ => ConditionChange::Same,
    };
    let objects = match (
        a.args.first().map(unparenthesized),
        b.args.first().map(unparenthesized),
    ) {
        (Some(Expression::Object(x)), Some(Expression::Object(y))) => {
            let entries = |object: &hcl::expr::Object<ObjectKey, Expression>| {
                object
                    .iter()
                    .map(|(k, v)| (object_key_text(k), v.clone()))
                    .collect::<BTreeMap<String, Expression>>()
            };
            let (x, y) = (entries(x), entries(y));
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().fold(ConditionChange::Same, |change, key| {
                // A key missing from one object gives the default there (no default: an error).
                let before = x.get(key).or(old_default);
                let after = y.get(key).or(new_default);
                change.and(match (before, after) {
                    (Some(before), Some(after)) => compare_in(before, after, role),
                    _ => ConditionChange::Unknown,
                })
            })
        }
        (Some(x), Some(y)) => compare_in(x, y, Role::Exact),
        _ => ConditionChange::Unknown,
    };
    key.and(defaults).and(objects)
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

    /// `compare_conditions` on the condition of `before`, and the same text with `from`
    /// replaced by `to`.
    fn change(before: &str, from: &str, to: &str) -> ConditionChange {
        assert!(before.contains(from), "{from:?} not in {before:?}");
        let normalize = |text: &str| expression_text(&text.parse::<Expression>().unwrap());
        compare_conditions(&normalize(before), &normalize(&before.replace(from, to)))
    }

    use ConditionChange::{Narrowed, Same, Unknown, Widened};

    const REGION: &str = r#"try(contains(["us-east-1", "eu-west-1"], var.region), false)"#;
    const FRESHNESS: &str = "try(var.freshness_minutes >= 1 && var.freshness_minutes <= 1440 && floor(var.freshness_minutes) == var.freshness_minutes, false)";
    const COLUMN_TAGS: &str = r#"try(alltrue(flatten([for c in var.columns : [for k, v in lookup(c, "lf_tags", {}) : contains(lookup({ "sensitivity" = ["public", "internal", "confidential"], "region" = ["eu", "us"] }, k, []), v)]])), false)"#;
    const REQUIRED_KEYS: &str =
        r#"try(alltrue([for k in ["sensitivity"] : contains(keys(var.lf_tags), k)]), false)"#;
    const ALLOWED_KEYS: &str =
        r#"try(alltrue([for k in keys(var.lf_tags) : contains(["sensitivity"], k)]), false)"#;
    const DOMAIN_TAG_VALUES: &str = r#"try(alltrue([for k, v in var.lf_tags : contains(lookup({ "sensitivity" = ["public", "internal", "confidential"] }, k, [v]), v)]), false)"#;
    const GRANT_EXPRESSIONS: &str = r#"try(alltrue(flatten([for k, g in var.tag_grants : [for key, values in g.expression : [for v in values : contains(lookup({ "domain" = ["commerce", "finance"], "region" = ["eu", "us"] }, key, []), v)]]])), false)"#;
    const PRODUCT_REFERENCE: &str = r#"try(alltrue([for k, g in var.product_grants : length(split("/", g.product)) == 2 && contains(["commerce", "finance"], split("/", g.product)[0]) && can(regex("^[a-z][a-z0-9_]{2,62}$", split("/", g.product)[1]))]), false)"#;

    #[test]
    fn allowed_values_added_widen_and_removed_narrow() {
        assert_eq!(
            change(REGION, r#""eu-west-1""#, r#""eu-west-1", "ap-south-1""#),
            Widened
        );
        assert_eq!(change(REGION, r#""us-east-1", "#, ""), Narrowed);
        assert_eq!(change(REGION, r#""eu-west-1""#, r#""ap-south-1""#), Unknown);
        // Order does not matter.
        assert_eq!(
            change(
                REGION,
                r#"["us-east-1", "eu-west-1"]"#,
                r#"["eu-west-1", "us-east-1"]"#
            ),
            Same
        );
        // Only constants are compared as sets.
        assert_eq!(
            change(REGION, r#""eu-west-1""#, r#""eu-west-1", var.x"#),
            Unknown
        );
        assert_eq!(
            change(PRODUCT_REFERENCE, r#""finance""#, r#""finance", "sales""#),
            Widened
        );
        assert_eq!(change(PRODUCT_REFERENCE, r#""commerce", "#, ""), Narrowed);
    }

    #[test]
    fn bounds_move_the_right_way() {
        assert_eq!(change(FRESHNESS, "<= 1440", "<= 2880"), Widened);
        assert_eq!(change(FRESHNESS, "<= 1440", "<= 720"), Narrowed);
        assert_eq!(change(FRESHNESS, ">= 1 ", ">= 0 "), Widened);
        assert_eq!(change(FRESHNESS, ">= 1 ", ">= 5 "), Narrowed);
        assert_eq!(change(FRESHNESS, "<= 1440", "<= 1440.0"), Same);
        // Both ends moving outwards still widens; in opposite directions it cannot be told.
        let outwards = FRESHNESS
            .replace(">= 1 ", ">= 0 ")
            .replace("<= 1440", "<= 2880");
        assert_eq!(change(FRESHNESS, FRESHNESS, &outwards), Widened);
        let shifted = FRESHNESS
            .replace(">= 1 ", ">= 0 ")
            .replace("<= 1440", "<= 10");
        assert_eq!(change(FRESHNESS, FRESHNESS, &shifted), Unknown);
        // Strict comparisons, and the literal on the left.
        assert_eq!(change("var.x < 10", "10", "11"), Widened);
        assert_eq!(change("var.x > 10", "10", "11"), Narrowed);
        assert_eq!(change("10 >= var.x", "10", "11"), Widened);
        assert_eq!(change("10 < var.x", "10", "11"), Narrowed);
        assert_eq!(change("var.x >= -1", "-1", "-2"), Widened);
        // Under a negation everything is reversed.
        assert_eq!(change("!(var.x > 10)", "10", "11"), Widened);
        // Anything but a number literal: cannot tell.
        assert_eq!(change("var.x <= 10", "10", "var.y"), Unknown);
        assert_eq!(change("var.x == 10", "10", "11"), Unknown);
        assert_eq!(change("var.x <= 10", "var.x", "length(var.x)"), Unknown);
    }

    #[test]
    fn lookups_of_allowed_values_compare_key_by_key() {
        assert_eq!(
            change(
                COLUMN_TAGS,
                r#""confidential""#,
                r#""confidential", "secret""#
            ),
            Widened
        );
        assert_eq!(change(COLUMN_TAGS, r#", "confidential""#, ""), Narrowed);
        // A key added where a missing key allowed nothing ([]) widens; removed, it narrows.
        assert_eq!(
            change(
                COLUMN_TAGS,
                r#", "region" = ["eu", "us"]"#,
                r#", "region" = ["eu", "us"], "tier" = ["gold"]"#
            ),
            Widened
        );
        assert_eq!(
            change(COLUMN_TAGS, r#", "region" = ["eu", "us"]"#, ""),
            Narrowed
        );
        assert_eq!(
            change(
                GRANT_EXPRESSIONS,
                r#""finance""#,
                r#""finance", "logistics""#
            ),
            Widened
        );
        assert_eq!(change(GRANT_EXPRESSIONS, r#""eu", "#, ""), Narrowed);
        // Where a missing key allows any value ([v]), a key added narrows: cannot tell.
        assert_eq!(
            change(
                DOMAIN_TAG_VALUES,
                r#""confidential"] }"#,
                r#""confidential"], "region" = ["eu"] }"#
            ),
            Unknown
        );
        assert_eq!(change(DOMAIN_TAG_VALUES, r#""internal", "#, ""), Narrowed);
        assert_eq!(
            change(
                DOMAIN_TAG_VALUES,
                r#""public", "#,
                r#""public", "restricted", "#
            ),
            Widened
        );
    }

    #[test]
    fn lists_that_must_all_hold_narrow_when_they_grow() {
        // More required tag keys: narrower. More allowed tag keys: wider.
        assert_eq!(
            change(
                REQUIRED_KEYS,
                r#"["sensitivity"]"#,
                r#"["sensitivity", "owner"]"#
            ),
            Narrowed
        );
        assert_eq!(change(REQUIRED_KEYS, r#"["sensitivity"]"#, "[]"), Widened);
        assert_eq!(
            change(
                ALLOWED_KEYS,
                r#"["sensitivity"]"#,
                r#"["sensitivity", "owner"]"#
            ),
            Widened
        );
        assert_eq!(change(ALLOWED_KEYS, r#"["sensitivity"]"#, "[]"), Narrowed);
        // anytrue: more candidates, wider.
        let any = r#"anytrue([for p in ["a", "b"] : startswith(var.x, p)])"#;
        assert_eq!(change(any, r#""b""#, r#""b", "c""#), Widened);
        // A filter letting more elements through makes alltrue check more.
        let filtered = r#"alltrue([for k in keys(var.m) : contains(["a"], k) if k != "x"])"#;
        assert_eq!(
            change(filtered, r#"if k != "x""#, r#"if k != "x" || true"#),
            Unknown
        );
        assert_eq!(
            change("alltrue([true, var.b])", "[true", "[false"),
            Narrowed
        );
    }

    #[test]
    fn other_differences_cannot_be_told() {
        assert_eq!(
            change(
                "try(can(regex(\"^[a-z]+$\", var.name)), false)",
                "a-z",
                "a-z0-9"
            ),
            Unknown
        );
        assert_eq!(change(REGION, "var.region", "lower(var.region)"), Unknown);
        assert_eq!(change(REGION, ", false)", ", true)"), Widened);
        assert_eq!(
            change(
                FRESHNESS,
                " && floor(var.freshness_minutes) == var.freshness_minutes",
                ""
            ),
            Unknown
        );
        assert_eq!(change("var.a && var.b", "&&", "||"), Unknown);
        assert_eq!(compare_conditions("var.x >", "var.x > 1"), Unknown);
        assert_eq!(change("(var.x > 1)", "(var.x > 1)", "var.x > 1"), Same);
    }

    #[test]
    fn normalized_conditions_of_the_generated_modules_parse_back() {
        for text in [
            include_str!("../tests/fixtures/data-product-variables.tf"),
            include_str!("../tests/fixtures/domain-variables.tf"),
            include_str!("../tests/fixtures/consumer-access-variables.tf"),
            include_str!("../tests/fixtures/governance-variables.tf"),
        ] {
            for variable in parse(text).variables.values() {
                for validation in &variable.validations {
                    let expr: Expression = validation.condition.parse().unwrap();
                    assert_eq!(expression_text(&expr), validation.condition);
                    assert_eq!(
                        compare_conditions(&validation.condition, &validation.condition),
                        Same
                    );
                }
            }
        }
    }
}
