//! Module generation from a blueprint: `mesh-modules generate` and `mesh-modules check`.
//!
//! [`render`] turns a [`Blueprint`] into every file of the four modules, in memory, with the
//! handlebars templates under `modules-gen/templates/` (compiled into the binary). `generate`
//! writes them and removes stale files; `check` compares them with a folder. Output is
//! deterministic (blueprint order or sorted, no timestamps, no paths) and `terraform fmt`-clean.
//!
//! Files the generator does not own are left alone and never compared: `CHANGELOG.md` (written
//! by `mesh-modules release`), `.terraform*` and `*.tfstate*` (left by Terraform runs).

mod hcl;
mod modules;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use serde_json::json;

use crate::blueprint::Blueprint;
pub use hcl::escape as hcl_escape;
pub use modules::MODULE_NAMES;

/// Arguments of `mesh-modules generate`.
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// The blueprint file.
    #[arg(long, default_value = "mesh.yaml")]
    pub blueprint: PathBuf,
    /// The folder the modules are written into (one subfolder per module).
    #[arg(long, default_value = "modules")]
    pub out: PathBuf,
}

/// Arguments of `mesh-modules check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The blueprint file.
    #[arg(long, default_value = "mesh.yaml")]
    pub blueprint: PathBuf,
    /// The folder holding the committed modules.
    #[arg(long, default_value = "modules")]
    pub out: PathBuf,
}

/// Generated files: path relative to the output folder (with `/`) to content.
pub type Files = BTreeMap<String, String>;

/// How a folder differs from what the blueprint generates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// The file exists with other content; `line` is the first line that differs (1-based).
    Changed {
        /// Relative path.
        path: String,
        /// First differing line.
        line: usize,
    },
    /// The file is generated but absent.
    Missing(String),
    /// The file is in a module folder but not generated.
    Extra(String),
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Difference::Changed { path, line } => {
                write!(f, "changed: {path} (first difference at line {line})")
            }
            Difference::Missing(path) => write!(f, "missing: {path}"),
            Difference::Extra(path) => write!(f, "extra:   {path}"),
        }
    }
}

/// Runs `generate`.
pub fn run_generate(args: &GenerateArgs) -> Result<(), String> {
    let blueprint = Blueprint::load(&args.blueprint).map_err(|e| e.to_string())?;
    let files = render(&blueprint)?;
    let report = write(&files, &args.out)?;
    println!(
        "generated {} modules ({} files) in {}: {} written, {} unchanged, {} stale removed",
        MODULE_NAMES.len(),
        files.len(),
        args.out.display(),
        report.written,
        files.len() - report.written,
        report.removed.len()
    );
    for path in &report.removed {
        println!("  removed {path}");
    }
    Ok(())
}

/// Runs `check`.
pub fn run_check(args: &CheckArgs) -> Result<(), String> {
    let blueprint = Blueprint::load(&args.blueprint).map_err(|e| e.to_string())?;
    let files = render(&blueprint)?;
    let differences = compare(&files, &args.out)?;
    if differences.is_empty() {
        println!(
            "{} matches {} ({} files)",
            args.out.display(),
            args.blueprint.display(),
            files.len()
        );
        return Ok(());
    }
    let mut message = format!(
        "{} differs from what {} generates ({} difference{}):\n",
        args.out.display(),
        args.blueprint.display(),
        differences.len(),
        if differences.len() == 1 { "" } else { "s" }
    );
    for d in &differences {
        message.push_str(&format!("  {d}\n"));
    }
    message.push_str(&format!(
        "Generated modules are not edited by hand: change the blueprint or the templates, then run\n  \
         mesh-modules generate --blueprint {} --out {}\nand commit the result.",
        args.blueprint.display(),
        args.out.display()
    ));
    Err(message)
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/// The templates, compiled in so the binary needs no files beside it.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "variables.tf",
        include_str!("../templates/variables.tf.hbs"),
    ),
    ("outputs.tf", include_str!("../templates/outputs.tf.hbs")),
    ("versions.tf", include_str!("../templates/versions.tf.hbs")),
    ("README.md", include_str!("../templates/README.md.hbs")),
    (
        "governance/main.tf",
        include_str!("../templates/governance/main.tf.hbs"),
    ),
    (
        "governance/example.tf",
        include_str!("../templates/governance/example.tf.hbs"),
    ),
    (
        "governance/intro.md",
        include_str!("../templates/governance/intro.md.hbs"),
    ),
    (
        "domain/main.tf",
        include_str!("../templates/domain/main.tf.hbs"),
    ),
    (
        "domain/example.tf",
        include_str!("../templates/domain/example.tf.hbs"),
    ),
    (
        "domain/intro.md",
        include_str!("../templates/domain/intro.md.hbs"),
    ),
    (
        "data-product/main.tf",
        include_str!("../templates/data-product/main.tf.hbs"),
    ),
    (
        "data-product/example.tf",
        include_str!("../templates/data-product/example.tf.hbs"),
    ),
    (
        "data-product/intro.md",
        include_str!("../templates/data-product/intro.md.hbs"),
    ),
    (
        "consumer-access/main.tf",
        include_str!("../templates/consumer-access/main.tf.hbs"),
    ),
    (
        "consumer-access/example.tf",
        include_str!("../templates/consumer-access/example.tf.hbs"),
    ),
    (
        "consumer-access/intro.md",
        include_str!("../templates/consumer-access/intro.md.hbs"),
    ),
];

/// Template helpers: `{{hcl s}}` writes an HCL string literal, `{{md s}}` Markdown table cell
/// text and `{{md_code s}}` a code span's content in a table cell.
mod helpers {
    use super::hcl;
    use handlebars::handlebars_helper;

    handlebars_helper!(hcl_string: |s: str| hcl::string(s));
    handlebars_helper!(markdown_cell: |s: str| hcl::markdown_cell(s));
    handlebars_helper!(markdown_code: |s: str| hcl::markdown_code(s));
}

fn registry() -> Result<Handlebars<'static>, String> {
    let mut hb = Handlebars::new();
    // A missing field is a template bug; fail instead of rendering an empty string.
    hb.set_strict_mode(true);
    // The output is HCL and Markdown, not HTML; escaping is explicit through helpers.
    hb.register_escape_fn(handlebars::no_escape);
    hb.register_helper("hcl", Box::new(helpers::hcl_string));
    hb.register_helper("md", Box::new(helpers::markdown_cell));
    hb.register_helper("md_code", Box::new(helpers::markdown_code));
    for (name, text) in TEMPLATES {
        hb.register_template_string(name, *text)
            .map_err(|e| format!("template {name} is invalid (a generator bug): {e}"))?;
    }
    Ok(hb)
}

/// Renders every file of the four modules for a blueprint.
pub fn render(blueprint: &Blueprint) -> Result<Files, String> {
    // Blueprint::load guarantees these; a blueprint built by hand might not, and the templates
    // need one of each for the examples.
    if blueprint.domains.is_empty()
        || blueprint.regions.allowed.is_empty()
        || blueprint.ontology.sensitivity_levels().is_empty()
    {
        return Err(
            "the blueprint needs at least one domain, one allowed region and one \
                    sensitivity level (Blueprint::load checks this)"
                .into(),
        );
    }
    let hb = registry()?;
    let run = |template: &str, data: &serde_json::Value| -> Result<String, String> {
        hb.render(template, data)
            .map(|text| tidy(&text))
            .map_err(|e| format!("rendering {template} failed (a generator bug): {e}"))
    };
    let header = format!(
        "# Generated by mesh-modules from the blueprint of the \"{}\" mesh. Do not edit: change the\n\
         # blueprint (or the generator's templates) and run `mesh-modules generate`.",
        blueprint.mesh
    );
    let header_md = format!(
        "<!-- Generated by mesh-modules from the blueprint of the \"{}\" mesh. Do not edit: change the\n     \
         blueprint (or the generator's templates) and run `mesh-modules generate`. -->",
        blueprint.mesh
    );
    let mut files = Files::new();
    for spec in modules::specs(blueprint) {
        let name = spec.name;
        let mut context = spec.context;
        if let Some(map) = context.as_object_mut() {
            map.insert("header".into(), json!(header));
        }
        let main = run(&format!("{name}/main.tf"), &context)?;
        let example = run(&format!("{name}/example.tf"), &context)?;
        let intro = run(&format!("{name}/intro.md"), &context)?;
        let shared = json!({
            "header": header,
            "header_md": header_md,
            "provider_version": blueprint.provider_version,
            "variables": spec.variables,
            "outputs": spec.outputs,
            "intro": intro.trim_end(),
            "example": without_header(&example).trim_end(),
        });
        files.insert(format!("{name}/main.tf"), main);
        files.insert(
            format!("{name}/variables.tf"),
            run("variables.tf", &shared)?,
        );
        files.insert(format!("{name}/outputs.tf"), run("outputs.tf", &shared)?);
        files.insert(format!("{name}/versions.tf"), run("versions.tf", &shared)?);
        files.insert(format!("{name}/README.md"), run("README.md", &shared)?);
        files.insert(format!("{name}/examples/basic/main.tf"), example);
    }
    Ok(files)
}

/// Normalizes template output: no trailing spaces, no runs of blank lines, no blank line after
/// an opening brace or before a closing one, exactly one newline at the end (as `terraform fmt`
/// leaves files).
fn tidy(text: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim_end) {
        let blank = line.is_empty();
        let prev_blank = lines.last().is_none_or(|l| l.is_empty());
        let prev_opens = lines
            .last()
            .is_some_and(|l| l.ends_with('{') || l.ends_with('['));
        if blank && (prev_blank || prev_opens) {
            continue;
        }
        let closes = line.trim_start().starts_with('}') || line.trim_start().starts_with(']');
        if closes && lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines.push(line);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// A file without its leading comment header (for quoting an example in a README).
fn without_header(text: &str) -> String {
    text.lines()
        .skip_while(|l| l.starts_with('#'))
        .skip_while(|l| l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------------------------
// Writing and comparing
// ---------------------------------------------------------------------------------------------

/// What [`write`] did.
#[derive(Debug, Default)]
pub struct WriteReport {
    /// Files written (new or changed).
    pub written: usize,
    /// Stale files removed, relative paths.
    pub removed: Vec<String>,
}

/// Whether a path (relative to the output folder) belongs to someone else: CHANGELOG.md files
/// (written by `release`), `.terraform*` and `*.tfstate*` (left by Terraform runs).
pub fn is_ignored(relative: &str) -> bool {
    relative.split('/').any(|part| {
        part.starts_with(".terraform") || part.contains(".tfstate") || part == "CHANGELOG.md"
    })
}

/// Writes the files under `out` (only those whose content changed) and removes files in the
/// module folders that are no longer generated, keeping ignored ones.
pub fn write(files: &Files, out: &Path) -> Result<WriteReport, String> {
    let mut report = WriteReport::default();
    for (relative, content) in files {
        let path = out.join(relative);
        if fs::read(&path).is_ok_and(|old| old == content.as_bytes()) {
            continue;
        }
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        fs::write(&path, content).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        report.written += 1;
    }
    for relative in existing_module_files(out)? {
        if !files.contains_key(&relative) && !is_ignored(&relative) {
            let path = out.join(&relative);
            fs::remove_file(&path)
                .map_err(|e| format!("cannot remove stale {}: {e}", path.display()))?;
            report.removed.push(relative);
        }
    }
    for module in MODULE_NAMES {
        remove_empty_dirs(&out.join(module), false)?;
    }
    Ok(report)
}

/// Compares the files with what is under `out`.
pub fn compare(files: &Files, out: &Path) -> Result<Vec<Difference>, String> {
    let existing: BTreeSet<String> = existing_module_files(out)?
        .into_iter()
        .filter(|p| !is_ignored(p))
        .collect();
    let mut differences = Vec::new();
    for (relative, content) in files {
        if !existing.contains(relative) {
            differences.push(Difference::Missing(relative.clone()));
            continue;
        }
        let path = out.join(relative);
        let old = fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if old != content.as_bytes() {
            let old = String::from_utf8_lossy(&old);
            let line = first_different_line(&old, content);
            differences.push(Difference::Changed {
                path: relative.clone(),
                line,
            });
        }
    }
    for relative in existing {
        if !files.contains_key(&relative) {
            differences.push(Difference::Extra(relative));
        }
    }
    differences.sort_by(|a, b| path_of(a).cmp(path_of(b)));
    Ok(differences)
}

fn path_of(d: &Difference) -> &str {
    match d {
        Difference::Changed { path, .. } | Difference::Missing(path) | Difference::Extra(path) => {
            path
        }
    }
}

fn first_different_line(old: &str, new: &str) -> usize {
    let mut old_lines = old.split('\n');
    let mut new_lines = new.split('\n');
    let mut n = 1;
    loop {
        match (old_lines.next(), new_lines.next()) {
            (Some(a), Some(b)) if a == b => n += 1,
            _ => return n,
        }
    }
}

/// Every file under the four module folders of `out`, relative, with `/`. Symbolic links count
/// as files and are not followed.
fn existing_module_files(out: &Path) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    for module in MODULE_NAMES {
        collect_files(&out.join(module), module, &mut found)?;
    }
    found.sort();
    Ok(found)
}

fn collect_files(dir: &Path, relative: &str, found: &mut Vec<String>) -> Result<(), String> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot list {}: {e}", dir.display())),
    };
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let child = format!("{relative}/{name}");
        let kind = entry
            .file_type()
            .map_err(|e| format!("cannot inspect {}: {e}", entry.path().display()))?;
        if kind.is_dir() {
            // Terraform's working folders are not ours; nothing inside them matters.
            if !is_ignored(&child) {
                collect_files(&entry.path(), &child, found)?;
            }
        } else {
            found.push(child);
        }
    }
    Ok(())
}

/// Removes empty folders below `dir` (and `dir` itself when `remove_self`).
fn remove_empty_dirs(dir: &Path, remove_self: bool) -> Result<bool, String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(false);
    };
    let mut empty = true;
    for entry in entries.flatten() {
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && !is_ignored(&entry.file_name().to_string_lossy()) {
            if !remove_empty_dirs(&entry.path(), true)? {
                empty = false;
            }
        } else {
            empty = false;
        }
    }
    if empty && remove_self {
        fs::remove_dir(dir).map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
        return Ok(true);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_normalizes_blank_lines_and_ending() {
        assert_eq!(
            tidy("a {\n\n  b = 1  \n\n\n  c = 2\n\n}\n\n\n"),
            "a {\n  b = 1\n\n  c = 2\n}\n"
        );
        assert_eq!(tidy("\n\nx"), "x\n");
    }

    #[test]
    fn ignored_paths() {
        assert!(is_ignored("domain/CHANGELOG.md"));
        assert!(is_ignored("domain/examples/basic/.terraform/x"));
        assert!(is_ignored("domain/examples/basic/.terraform.lock.hcl"));
        assert!(is_ignored("domain/examples/basic/terraform.tfstate.backup"));
        assert!(!is_ignored("domain/README.md"));
        assert!(!is_ignored("domain/changelog.txt"));
    }

    #[test]
    fn first_difference() {
        // A missing final newline shows after the last line.
        assert_eq!(first_different_line("a\nb\nc", "a\nb\nc\n"), 4);
        assert_eq!(first_different_line("a\nx", "a\ny"), 2);
        assert_eq!(first_different_line("", "a"), 1);
    }

    #[test]
    fn an_unchecked_empty_blueprint_is_refused_not_a_panic() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/blueprint/mesh.yaml"),
        )
        .unwrap();
        let mut blueprint = Blueprint::parse(&text, "mesh.yaml").unwrap();
        assert!(render(&blueprint).is_ok());
        blueprint.domains.clear();
        assert!(render(&blueprint)
            .unwrap_err()
            .contains("at least one domain"));
    }

    #[test]
    fn header_is_dropped_from_quoted_examples() {
        assert_eq!(without_header("# a\n# b\n\nx {\n}\n"), "x {\n}");
    }
}
