//! Semver releases of modules: compare each module with its last published version, decide the
//! bump, explain it, and write a CHANGELOG entry.
//!
//! # The rules
//!
//! MAJOR, because a caller's configuration that worked may now fail:
//! - a variable or output removed (a rename is a removal plus an addition; when an added one has
//!   the same type and description, or for outputs the same description and sensitivity, the
//!   reason says it looks renamed);
//! - a new variable without a default (required);
//! - a variable's type changed (any change, even a widening one: type conversions differ);
//! - a variable's default removed (it becomes required);
//! - a variable's `nullable` going from true (or absent) to false;
//! - a validation narrowed: any validation condition in the new version that was not in the old
//!   one (a condition added, or one changed, which is a removal plus an addition);
//! - an output becoming sensitive (callers must then mark what they derive from it sensitive).
//!
//! MINOR, because the module accepts or offers more and every old call still works:
//! - a new variable with a default, or a new output;
//! - a variable gaining a default (it becomes optional), or becoming nullable;
//! - validations relaxed: conditions only removed, never added. Our choice: removing a condition
//!   only widens the accepted inputs, so it is not breaking, but it is more than a fix.
//!
//! PATCH: anything else that changed: descriptions, validation error messages, defaults' values,
//! `sensitive` on variables, an output no longer sensitive, resource bodies, README, examples.
//!
//! No release: the module's files (CHANGELOG.md aside) are byte-identical to the published zip.
//! First release (nothing published): 1.0.0.
//!
//! # Versions and the store
//!
//! A module's version is the first `## X.Y.Z` heading of its CHANGELOG.md; the store's is the
//! highest version in its index. `release` compares against the store's zip of that version
//! (checking its sha256), and insists both agree: a CHANGELOG ahead of the store means a release
//! was cut but not published, and `release` refuses (publish first) rather than stacking a second
//! unpublished version whose reasons would be measured against the wrong base. A store ahead of
//! the CHANGELOG means the working copy is stale, also refused. All modules are checked before
//! any CHANGELOG is written.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use semver::Version;

use crate::interface::{Interface, Output, Variable};
use crate::publish::{self, Store};

/// Arguments of `mesh-modules release`.
#[derive(clap::Args, Debug)]
pub struct ReleaseArgs {
    /// The folder holding one subfolder per module.
    #[arg(long, value_name = "DIR", default_value = "modules")]
    pub modules: PathBuf,
    /// Where the last published versions are: a directory or s3://BUCKET/PREFIX. A store that
    /// does not exist yet, or lacks a module, means that module was never published.
    #[arg(long, value_name = "STORE")]
    pub from: String,
    /// S3 endpoint URL, for an emulator or S3-compatible service (default: $AWS_ENDPOINT_URL,
    /// else AWS).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// AWS region of the bucket (default: the AWS configuration chain, else us-east-1).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Release only this module (repeatable); default: every module.
    #[arg(long = "module", value_name = "NAME")]
    pub module: Vec<String>,
    /// Print what would be released without writing CHANGELOG.md.
    #[arg(long)]
    pub dry_run: bool,
    /// The date of the CHANGELOG entries, YYYY-MM-DD (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
}

/// How much a version moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bump {
    /// Fixes and changes invisible to callers.
    Patch,
    /// Backward-compatible additions.
    Minor,
    /// Changes that can break a caller.
    Major,
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        })
    }
}

impl Bump {
    /// The version after `current`.
    pub fn apply(self, current: &Version) -> Version {
        match self {
            Bump::Major => Version::new(current.major + 1, 0, 0),
            Bump::Minor => Version::new(current.major, current.minor + 1, 0),
            Bump::Patch => Version::new(current.major, current.minor, current.patch + 1),
        }
    }
}

/// A decided bump and why, most significant reasons first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The bump.
    pub bump: Bump,
    /// Human-readable reasons, e.g. `variable "name" removed`.
    pub reasons: Vec<String>,
}

/// Collects reasons with their bump and orders them.
#[derive(Default)]
struct Reasons(Vec<(Bump, String)>);

impl Reasons {
    fn push(&mut self, bump: Bump, reason: String) {
        self.0.push((bump, reason));
    }

    fn into_change(mut self) -> Change {
        // Stable: within a bump, reasons keep their (name) order.
        self.0.sort_by_key(|(bump, _)| std::cmp::Reverse(*bump));
        Change {
            bump: self.0.first().map_or(Bump::Patch, |(bump, _)| *bump),
            reasons: self.0.into_iter().map(|(_, reason)| reason).collect(),
        }
    }
}

/// Compares two interfaces by the rules in the module documentation. Identical interfaces give
/// PATCH with no reasons (the caller decides from the files whether anything changed at all).
pub fn compare(old: &Interface, new: &Interface) -> Change {
    let mut reasons = Reasons::default();
    compare_variables(old, new, &mut reasons);
    compare_outputs(old, new, &mut reasons);
    reasons.into_change()
}

fn compare_variables(old: &Interface, new: &Interface, reasons: &mut Reasons) {
    let added: Vec<&Variable> = new
        .variables
        .values()
        .filter(|v| !old.variables.contains_key(&v.name))
        .collect();
    for (name, before) in &old.variables {
        let Some(after) = new.variables.get(name) else {
            let renamed = added
                .iter()
                .find(|v| v.type_expr == before.type_expr && v.description == before.description);
            reasons.push(
                Bump::Major,
                match renamed {
                    Some(to) => {
                        format!("variable {name:?} removed (looks renamed to {:?})", to.name)
                    }
                    None => format!("variable {name:?} removed"),
                },
            );
            continue;
        };
        compare_variable(name, before, after, reasons);
    }
    for variable in added {
        if variable.required() {
            reasons.push(
                Bump::Major,
                format!(
                    "variable {:?} added without a default (required)",
                    variable.name
                ),
            );
        } else {
            reasons.push(
                Bump::Minor,
                format!("variable {:?} added (optional)", variable.name),
            );
        }
    }
}

fn compare_variable(name: &str, before: &Variable, after: &Variable, reasons: &mut Reasons) {
    let mut push = |bump, what: String| reasons.push(bump, format!("variable {name:?}: {what}"));
    if before.type_expr != after.type_expr {
        push(
            Bump::Major,
            format!(
                "type changed from {} to {}",
                before.type_expr, after.type_expr
            ),
        );
    }
    match (&before.default, &after.default) {
        (Some(_), None) => push(Bump::Major, "default removed (now required)".into()),
        (None, Some(_)) => push(Bump::Minor, "default added (now optional)".into()),
        (Some(a), Some(b)) if a != b => {
            push(Bump::Patch, format!("default changed from {a} to {b}"))
        }
        _ => {}
    }
    match (before.is_nullable(), after.is_nullable()) {
        (true, false) => push(Bump::Major, "no longer nullable".into()),
        (false, true) => push(Bump::Minor, "now nullable".into()),
        _ => {}
    }
    let (old_conditions, new_conditions) = (before.conditions(), after.conditions());
    let added: Vec<&str> = new_conditions
        .difference(&old_conditions)
        .copied()
        .collect();
    let removed: Vec<&str> = old_conditions
        .difference(&new_conditions)
        .copied()
        .collect();
    match (added.as_slice(), removed.as_slice()) {
        ([], []) => {}
        ([], removed) => push(
            Bump::Minor,
            format!(
                "validation relaxed (condition removed: {})",
                removed.join("; ")
            ),
        ),
        ([new], [old]) => push(
            Bump::Major,
            format!("validation narrowed (condition changed from {old} to {new})"),
        ),
        (added, _) => push(
            Bump::Major,
            format!(
                "validation narrowed (condition added: {})",
                added.join("; ")
            ),
        ),
    }
    let messages = |v: &Variable| -> BTreeMap<String, String> {
        v.validations
            .iter()
            .map(|v| (v.condition.clone(), v.error_message.clone()))
            .collect()
    };
    let (old_messages, new_messages) = (messages(before), messages(after));
    if old_messages
        .iter()
        .any(|(condition, message)| new_messages.get(condition).is_some_and(|m| m != message))
    {
        push(Bump::Patch, "validation error message changed".into());
    }
    if before.description != after.description {
        push(Bump::Patch, "description changed".into());
    }
    match (before.sensitive, after.sensitive) {
        (false, true) => push(Bump::Patch, "now sensitive".into()),
        (true, false) => push(Bump::Patch, "no longer sensitive".into()),
        _ => {}
    }
}

fn compare_outputs(old: &Interface, new: &Interface, reasons: &mut Reasons) {
    let added: Vec<&Output> = new
        .outputs
        .values()
        .filter(|o| !old.outputs.contains_key(&o.name))
        .collect();
    for (name, before) in &old.outputs {
        let Some(after) = new.outputs.get(name) else {
            let renamed = added.iter().find(|o| {
                o.description.is_some()
                    && o.description == before.description
                    && o.sensitive == before.sensitive
            });
            reasons.push(
                Bump::Major,
                match renamed {
                    Some(to) => format!("output {name:?} removed (looks renamed to {:?})", to.name),
                    None => format!("output {name:?} removed"),
                },
            );
            continue;
        };
        match (before.sensitive, after.sensitive) {
            (false, true) => reasons.push(Bump::Major, format!("output {name:?}: now sensitive")),
            (true, false) => {
                reasons.push(Bump::Patch, format!("output {name:?}: no longer sensitive"))
            }
            _ => {}
        }
        if before.description != after.description {
            reasons.push(Bump::Patch, format!("output {name:?}: description changed"));
        }
    }
    for output in added {
        reasons.push(Bump::Minor, format!("output {:?} added", output.name));
    }
}

/// The file that records releases; it is part of the module but not of what changes it.
pub const CHANGELOG: &str = "CHANGELOG.md";

/// Compares a module's published files with its current files (both keyed by module-relative
/// path). `None` means nothing changed (CHANGELOG.md aside): no release is needed. Otherwise the
/// interface comparison decides the bump, and a last reason lists the files that changed.
pub fn compare_modules(
    old: &BTreeMap<String, Vec<u8>>,
    new: &BTreeMap<String, Vec<u8>>,
) -> Result<Option<Change>, String> {
    let mut changed: Vec<&str> = Vec::new();
    for (name, bytes) in new {
        if name != CHANGELOG && old.get(name) != Some(bytes) {
            changed.push(name);
        }
    }
    for name in old.keys() {
        if name != CHANGELOG && !new.contains_key(name) {
            changed.push(name);
        }
    }
    if changed.is_empty() {
        return Ok(None);
    }
    changed.sort();
    let old_interface =
        Interface::from_file_bytes(old).map_err(|e| format!("published version: {e}"))?;
    let new_interface = Interface::from_file_bytes(new)?;
    let mut change = compare(&old_interface, &new_interface);
    change
        .reasons
        .push(format!("files changed: {}", changed.join(", ")));
    Ok(Some(change))
}

/// The module's released version: the first `## X.Y.Z` heading of its CHANGELOG.md, or `None`
/// when it has no CHANGELOG.md (never released).
pub fn current_version(module_dir: &Path) -> Result<Option<Version>, String> {
    let path = module_dir.join(CHANGELOG);
    match std::fs::read_to_string(&path) {
        Ok(text) => changelog_version(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// The version of the first `## ` heading of a CHANGELOG text (`None` when there is none).
pub fn changelog_version(text: &str) -> Result<Option<Version>, String> {
    let Some(heading) = text.lines().find_map(|line| line.strip_prefix("## ")) else {
        return Ok(None);
    };
    let word = heading.split_whitespace().next().unwrap_or("");
    Version::parse(word).map(Some).map_err(|e| {
        format!("the first heading `## {heading}` does not start with a semver version ({e})")
    })
}

/// The CHANGELOG entry for a release.
pub fn changelog_entry(version: &Version, date: &str, change: &Change, first: bool) -> String {
    let kind = if first {
        "First release.".to_string()
    } else {
        format!(
            "{} release.",
            match change.bump {
                Bump::Major => "Major",
                Bump::Minor => "Minor",
                Bump::Patch => "Patch",
            }
        )
    };
    let mut entry = format!("## {version} ({date})\n\n{kind}\n\n");
    for reason in &change.reasons {
        entry.push_str(&format!("- {reason}\n"));
    }
    entry
}

/// `existing` (a CHANGELOG.md text, or `None`) with `entry` inserted above the newest entry,
/// under the title; a new file gets a `# Changelog` title.
pub fn prepend_entry(existing: Option<&str>, entry: &str) -> String {
    let Some(text) = existing.filter(|t| !t.trim().is_empty()) else {
        return format!("# Changelog\n\n{entry}");
    };
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("## ") {
            return format!("{}{entry}\n{}", &text[..offset], &text[offset..]);
        }
        offset += line.len();
    }
    let mut out = text.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str(entry);
    out
}

/// Checks a `YYYY-MM-DD` date.
pub fn parse_date(date: &str) -> Result<String, String> {
    let bad = || format!("--date {date:?}: expected YYYY-MM-DD");
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let (y, m, d): (u32, u32, u32) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if d == 0 || d > days {
        return Err(bad());
    }
    Ok(date.to_string())
}

/// Today's date in UTC as `YYYY-MM-DD`.
pub fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// What `release` decided for one module.
#[derive(Debug)]
pub struct Plan {
    /// The module name.
    pub module: String,
    /// The module folder.
    pub dir: PathBuf,
    /// The last published version, if any.
    pub published: Option<Version>,
    /// The new version and why; `None` when nothing changed.
    pub release: Option<(Version, Change)>,
}

/// Decides the release of one module against the store's `index` (see the module
/// documentation).
async fn plan_module(
    store: &Store,
    index: &publish::Index,
    name: &str,
    dir: &Path,
) -> Result<Plan, String> {
    let changelog = current_version(dir)?;
    let files = publish::module_files(dir)?;
    // Even a first release must be a module Terraform can read.
    Interface::from_file_bytes(&files).map_err(|e| format!("module {name}: {e}"))?;
    let entry = index.entry_latest(name);
    let published = index.latest(name);
    let plan = |published: Option<Version>, release| Plan {
        module: name.to_string(),
        dir: dir.to_path_buf(),
        published,
        release,
    };
    match (changelog, published, entry) {
        (None, None, _) => Ok(plan(
            None,
            Some((
                Version::new(1, 0, 0),
                Change {
                    bump: Bump::Major,
                    reasons: vec!["first release".into()],
                },
            )),
        )),
        (Some(local), None, _) => Err(format!(
            "module {name}: CHANGELOG.md is at {local} but {} has no published version of it; \
             run `mesh-modules publish --to {}` first (or point --from at the store it was \
             published to)",
            store.describe(),
            store.describe()
        )),
        (None, Some(remote), _) => Err(format!(
            "module {name}: {} already has {remote} but {} has no CHANGELOG.md; restore it from \
             the published zip",
            store.describe(),
            dir.display()
        )),
        (Some(local), Some(remote), Some(entry)) => {
            if local > remote {
                return Err(format!(
                    "module {name}: {local} is released in CHANGELOG.md but not published (the \
                     store has {remote}); run `mesh-modules publish --to {}` first",
                    store.describe()
                ));
            }
            if local < remote {
                return Err(format!(
                    "module {name}: {} already has {remote}, newer than {local} in CHANGELOG.md; \
                     update the working copy",
                    store.describe()
                ));
            }
            let zip = store.get(&entry.file).await?.ok_or_else(|| {
                format!(
                    "module {name}: the index lists {remote} but {} is missing",
                    store.object_url(&entry.file)
                )
            })?;
            if publish::sha256_hex(&zip) != entry.sha256 {
                return Err(format!(
                    "module {name}: {} does not match the sha256 in the index",
                    store.object_url(&entry.file)
                ));
            }
            let old =
                publish::unzip_files(&zip).map_err(|e| format!("module {name} {remote}: {e}"))?;
            let change =
                compare_modules(&old, &files).map_err(|e| format!("module {name}: {e}"))?;
            let release = change.map(|change| (change.bump.apply(&remote), change));
            Ok(plan(Some(remote), release))
        }
        (Some(_), Some(_), None) => Err(format!("module {name}: inconsistent index")),
    }
}

/// Runs `release`: plans every selected module, prints each decision, and (unless `--dry-run`)
/// prepends the CHANGELOG entries. Nothing is written when any module fails.
pub fn run(args: &ReleaseArgs) -> Result<(), String> {
    let date = match &args.date {
        Some(date) => parse_date(date)?,
        None => today_utc(),
    };
    let modules = publish::select_modules(&args.modules, &args.module)?;
    let plans = publish::block_on(async {
        let store =
            Store::open(&args.from, args.endpoint.as_deref(), args.region.as_deref()).await?;
        if !store.exists().await? {
            println!(
                "store {} does not exist yet: every module counts as never published",
                store.describe()
            );
        }
        let index = store.read_index().await?;
        let mut plans = Vec::new();
        let mut errors = Vec::new();
        for (name, dir) in &modules {
            match plan_module(&store, &index, name, dir).await {
                Ok(plan) => plans.push(plan),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(plans)
        } else {
            Err(format!("nothing written:\n  {}", errors.join("\n  ")))
        }
    })?;
    for plan in &plans {
        let published = plan
            .published
            .as_ref()
            .map_or_else(|| "unreleased".to_string(), ToString::to_string);
        let Some((version, change)) = &plan.release else {
            println!("{}: {published}, unchanged: no release needed", plan.module);
            continue;
        };
        let kind = if plan.published.is_none() {
            "first release".to_string()
        } else {
            change.bump.to_string()
        };
        println!("{}: {published} -> {version} ({kind})", plan.module);
        for reason in &change.reasons {
            println!("  - {reason}");
        }
        if args.dry_run {
            continue;
        }
        let path = plan.dir.join(CHANGELOG);
        let existing = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let entry = changelog_entry(version, &date, change, plan.published.is_none());
        std::fs::write(&path, prepend_entry(existing.as_deref(), &entry))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if args.dry_run {
        println!("dry run: no CHANGELOG.md written");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module's interface from inline HCL.
    fn module(tf: &str) -> Interface {
        let files = BTreeMap::from([("variables.tf".to_string(), tf.to_string())]);
        Interface::from_files(&files).unwrap()
    }

    const BASE: &str = r#"
variable "name" {
  type        = string
  description = "The product name."
  validation {
    condition     = can(regex("^[a-z_]+$", var.name))
    error_message = "snake_case only."
  }
}

variable "sensitivity" {
  type        = string
  description = "How sensitive the data is."
  default     = "internal"
  nullable    = false
  validation {
    condition     = contains(["public", "internal", "confidential"], var.sensitivity)
    error_message = "Unknown sensitivity."
  }
}

variable "tags" {
  type        = map(string)
  description = "Extra tags."
  default     = {}
}

output "table_arn" {
  description = "The table ARN."
  value       = mesh_data_product.this.arn
}
"#;

    fn check(after: &str, bump: Bump, reason: &str) {
        let change = compare(&module(BASE), &module(after));
        assert_eq!(change.bump, bump, "{change:?}");
        assert!(
            change.reasons.iter().any(|r| r == reason),
            "no reason {reason:?} in {:?}",
            change.reasons
        );
    }

    #[test]
    fn removed_variable_is_major() {
        let after = BASE.replace("variable \"tags\"", "variable_x \"tags\"");
        check(&after, Bump::Major, "variable \"tags\" removed");
    }

    #[test]
    fn removed_output_is_major() {
        let after = BASE.replace("output \"table_arn\"", "locals_x \"table_arn\"");
        check(&after, Bump::Major, "output \"table_arn\" removed");
    }

    #[test]
    fn renamed_variable_is_major_and_says_so() {
        let after = BASE.replace("variable \"tags\"", "variable \"extra_tags\"");
        check(
            &after,
            Bump::Major,
            "variable \"tags\" removed (looks renamed to \"extra_tags\")",
        );
        check(
            &after,
            Bump::Major,
            "variable \"extra_tags\" added (optional)",
        );
    }

    #[test]
    fn renamed_output_is_major_and_says_so() {
        let after = BASE.replace("output \"table_arn\"", "output \"arn\"");
        check(
            &after,
            Bump::Major,
            "output \"table_arn\" removed (looks renamed to \"arn\")",
        );
    }

    #[test]
    fn new_required_variable_is_major() {
        let after = format!("{BASE}\nvariable \"owner\" {{\n  type = string\n}}\n");
        check(
            &after,
            Bump::Major,
            "variable \"owner\" added without a default (required)",
        );
    }

    #[test]
    fn changed_type_is_major() {
        let after = BASE.replace("map(string)", "map(number)");
        check(
            &after,
            Bump::Major,
            "variable \"tags\": type changed from map(string) to map(number)",
        );
    }

    #[test]
    fn narrowed_validation_is_major() {
        let after = BASE.replace(
            "[\"public\", \"internal\", \"confidential\"]",
            "[\"public\", \"internal\"]",
        );
        check(
            &after,
            Bump::Major,
            "variable \"sensitivity\": validation narrowed (condition changed from \
             contains([\"public\", \"internal\", \"confidential\"], var.sensitivity) to \
             contains([\"public\", \"internal\"], var.sensitivity))",
        );
    }

    #[test]
    fn added_validation_is_major() {
        let after = BASE.replace(
            "  default     = {}\n",
            "  default     = {}\n  validation {\n    condition     = length(var.tags) < 10\n    error_message = \"Too many.\"\n  }\n",
        );
        check(
            &after,
            Bump::Major,
            "variable \"tags\": validation narrowed (condition added: length(var.tags) < 10)",
        );
    }

    #[test]
    fn removed_validation_is_minor() {
        let after = BASE.replace(
            "  validation {\n    condition     = can(regex(\"^[a-z_]+$\", var.name))\n    error_message = \"snake_case only.\"\n  }\n",
            "",
        );
        check(
            &after,
            Bump::Minor,
            "variable \"name\": validation relaxed (condition removed: can(regex(\"^[a-z_]+$\", var.name)))",
        );
    }

    #[test]
    fn removed_default_is_major() {
        let after = BASE.replace("  default     = \"internal\"\n", "");
        check(
            &after,
            Bump::Major,
            "variable \"sensitivity\": default removed (now required)",
        );
    }

    #[test]
    fn no_longer_nullable_is_major() {
        let after = BASE.replace(
            "  default     = {}\n",
            "  default     = {}\n  nullable    = false\n",
        );
        check(&after, Bump::Major, "variable \"tags\": no longer nullable");
        let after = BASE.replace("  nullable    = false\n", "");
        check(
            &after,
            Bump::Minor,
            "variable \"sensitivity\": now nullable",
        );
    }

    #[test]
    fn output_becoming_sensitive_is_major() {
        let after = BASE.replace(
            "  value       = mesh_data_product.this.arn\n",
            "  value       = mesh_data_product.this.arn\n  sensitive   = true\n",
        );
        check(&after, Bump::Major, "output \"table_arn\": now sensitive");
    }

    #[test]
    fn new_optional_variable_is_minor() {
        let after =
            format!("{BASE}\nvariable \"owner\" {{\n  type    = string\n  default = null\n}}\n");
        check(&after, Bump::Minor, "variable \"owner\" added (optional)");
    }

    #[test]
    fn new_output_is_minor() {
        let after = format!("{BASE}\noutput \"name\" {{\n  value = var.name\n}}\n");
        check(&after, Bump::Minor, "output \"name\" added");
    }

    #[test]
    fn gaining_a_default_is_minor() {
        let after = BASE.replace(
            "  description = \"The product name.\"\n",
            "  description = \"The product name.\"\n  default     = \"x\"\n",
        );
        check(
            &after,
            Bump::Minor,
            "variable \"name\": default added (now optional)",
        );
    }

    #[test]
    fn description_change_is_patch() {
        let after = BASE.replace("Extra tags.", "Additional tags.");
        check(
            &after,
            Bump::Patch,
            "variable \"tags\": description changed",
        );
        let after = BASE.replace("The table ARN.", "The ARN of the table.");
        check(
            &after,
            Bump::Patch,
            "output \"table_arn\": description changed",
        );
        let after = BASE.replace("snake_case only.", "Use snake_case.");
        check(
            &after,
            Bump::Patch,
            "variable \"name\": validation error message changed",
        );
    }

    #[test]
    fn formatting_alone_changes_nothing_in_the_interface() {
        let after = BASE.replace("  type        = map(string)", "  type = map( string )");
        let change = compare(&module(BASE), &module(&after));
        assert_eq!(
            change,
            Change {
                bump: Bump::Patch,
                reasons: vec![]
            }
        );
    }

    #[test]
    fn major_reasons_come_first() {
        let after = format!("{BASE}\noutput \"name\" {{\n  value = var.name\n}}\n")
            .replace("variable \"tags\"", "variable_x \"tags\"");
        let change = compare(&module(BASE), &module(&after));
        assert_eq!(change.bump, Bump::Major);
        assert_eq!(
            change.reasons,
            ["variable \"tags\" removed", "output \"name\" added"]
        );
    }

    fn files(entries: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn body_change_is_patch() {
        let old = files(&[
            ("variables.tf", BASE),
            ("main.tf", "resource \"a\" \"b\" {\n  x = 1\n}\n"),
        ]);
        let new = files(&[
            ("variables.tf", BASE),
            ("main.tf", "resource \"a\" \"b\" {\n  x = 2\n}\n"),
        ]);
        let change = compare_modules(&old, &new).unwrap().unwrap();
        assert_eq!(change.bump, Bump::Patch);
        assert_eq!(change.reasons, ["files changed: main.tf"]);
    }

    #[test]
    fn readme_change_is_patch() {
        let old = files(&[("variables.tf", BASE), ("README.md", "# a\n")]);
        let new = files(&[("variables.tf", BASE), ("README.md", "# b\n")]);
        let change = compare_modules(&old, &new).unwrap().unwrap();
        assert_eq!(change.bump, Bump::Patch);
        assert_eq!(change.reasons, ["files changed: README.md"]);
    }

    #[test]
    fn no_change_needs_no_release() {
        let old = files(&[
            ("variables.tf", BASE),
            ("CHANGELOG.md", "# Changelog\n\n## 1.0.0 (2026-01-01)\n"),
        ]);
        // Only CHANGELOG.md differs: still nothing to release.
        let new = files(&[
            ("variables.tf", BASE),
            ("CHANGELOG.md", "# Changelog\n\n## 1.0.0 (2026-01-02)\n"),
        ]);
        assert_eq!(compare_modules(&old, &new).unwrap(), None);
        assert_eq!(
            compare(&module(BASE), &module(BASE)).reasons,
            Vec::<String>::new()
        );
    }

    #[test]
    fn interface_change_lists_files_last() {
        let old = files(&[("variables.tf", BASE)]);
        let new = files(&[
            ("variables.tf", &BASE.replace("map(string)", "map(any)")),
            ("extra.tf", "locals {}\n"),
        ]);
        let change = compare_modules(&old, &new).unwrap().unwrap();
        assert_eq!(change.bump, Bump::Major);
        assert_eq!(
            change.reasons.last().map(String::as_str),
            Some("files changed: extra.tf, variables.tf")
        );
    }

    #[test]
    fn first_release_is_1_0_0() {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("m");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("variables.tf"), BASE).unwrap();
        let store_dir = work.path().join("store").display().to_string();
        let plan = publish::block_on(async {
            let store = Store::open(&store_dir, None, None).await?;
            plan_module(&store, &publish::Index::new(), "m", &dir).await
        })
        .unwrap();
        assert_eq!(plan.published, None);
        let (version, change) = plan.release.unwrap();
        assert_eq!(version, Version::new(1, 0, 0));
        assert_eq!(change.reasons, ["first release"]);

        let change = Change {
            bump: Bump::Major,
            reasons: vec!["first release".into()],
        };
        let entry = changelog_entry(&Version::new(1, 0, 0), "2026-11-24", &change, true);
        assert_eq!(
            entry,
            "## 1.0.0 (2026-11-24)\n\nFirst release.\n\n- first release\n"
        );
        let text = prepend_entry(None, &entry);
        assert!(text.starts_with("# Changelog\n\n## 1.0.0 (2026-11-24)\n"));
        assert_eq!(
            changelog_version(&text).unwrap(),
            Some(Version::new(1, 0, 0))
        );
    }

    #[test]
    fn bumps_apply() {
        let v = Version::new(1, 2, 3);
        assert_eq!(Bump::Major.apply(&v), Version::new(2, 0, 0));
        assert_eq!(Bump::Minor.apply(&v), Version::new(1, 3, 0));
        assert_eq!(Bump::Patch.apply(&v), Version::new(1, 2, 4));
    }

    #[test]
    fn entries_are_prepended_under_the_title() {
        let existing =
            "# Changelog\n\n## 1.0.0 (2026-01-01)\n\nFirst release.\n\n- first release\n";
        let change = Change {
            bump: Bump::Minor,
            reasons: vec!["output \"x\" added".into()],
        };
        let entry = changelog_entry(&Version::new(1, 1, 0), "2026-02-01", &change, false);
        let text = prepend_entry(Some(existing), &entry);
        assert_eq!(
            text,
            "# Changelog\n\n## 1.1.0 (2026-02-01)\n\nMinor release.\n\n- output \"x\" added\n\n\
             ## 1.0.0 (2026-01-01)\n\nFirst release.\n\n- first release\n"
        );
        assert_eq!(
            changelog_version(&text).unwrap(),
            Some(Version::new(1, 1, 0))
        );
        assert_eq!(
            prepend_entry(Some("# Changelog\n"), &entry),
            format!("# Changelog\n\n{entry}")
        );
    }

    #[test]
    fn bad_changelog_headings_are_errors() {
        assert!(changelog_version("# Changelog\n\n## next\n").is_err());
        assert_eq!(changelog_version("# Changelog\n").unwrap(), None);
    }

    #[test]
    fn dates() {
        assert!(parse_date("2026-11-24").is_ok());
        assert!(parse_date("2024-02-29").is_ok());
        assert!(parse_date("2026-02-29").is_err());
        assert!(parse_date("2026-13-01").is_err());
        assert!(parse_date("26-11-24").is_err());
        assert!(parse_date("yesterday").is_err());
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_416), (2025, 11, 24));
        assert!(parse_date(&today_utc()).is_ok());
    }
}
