//! Semver releases of modules: compare each module with its last published version, decide the
//! bump, explain it, and write a CHANGELOG entry.
//!
//! # The rules
//!
//! MAJOR, because a caller's configuration that worked may now fail:
//! - a variable or output removed, or renamed (a rename is a removal plus an addition; when an
//!   added one has the same type and description, or for outputs the same description and
//!   sensitivity, the reason says it looks renamed);
//! - a new required variable: added without a default, or an existing variable's default
//!   removed;
//! - a variable's type changed (any change, even a widening one: type conversions differ);
//! - a validation narrowed: a condition added, or one changed so that it may reject a value it
//!   accepted (see below).
//!
//! Where we are stricter than that list, also MAJOR because they break callers:
//! - an output becoming sensitive (a caller that shows it, or uses it where sensitive values are
//!   not allowed, fails until it marks what it derives from it sensitive);
//! - a variable becoming non-nullable (`nullable = false` where it was true or absent: a caller
//!   passing `null` now gets the default instead, or an error when there is none).
//!
//! MINOR, because the module offers more and every old call still works: a new optional
//! variable (with a default), a new output.
//!
//! PATCH: anything else that changed, including what only widens the accepted inputs: a
//! validation widened or removed, a default added (the variable becomes optional) or changed, a
//! variable becoming nullable, `sensitive` on a variable, an output no longer sensitive,
//! descriptions, validation error messages, resource bodies, README, examples.
//!
//! No release: the module's files (CHANGELOG.md aside) are byte-identical to the published zip.
//! First release (nothing published): 1.0.0.
//!
//! # Validations
//!
//! A variable's validations all must hold, so the new set accepts at least what the old one did
//! when every new condition accepts at least what some old condition accepted. Conditions found
//! unchanged in both are set aside. Each remaining new condition is compared with the remaining
//! old ones by [`compare_conditions`] (a structural comparison on the HCL expression tree, which
//! knows that adding a value to an allowed list or raising an upper bound widens): when it widens
//! one of them, that is a PATCH "validation widened"; otherwise it is a MAJOR "validation
//! narrowed", either changed from the old condition it narrows (or that stood at the same place)
//! or added. We pair by meaning rather than by error message because a message usually lists the
//! allowed values and so changes with them. Old conditions left unpaired were removed: PATCH.
//! What the comparison cannot tell counts as narrowed.
//!
//! # Versions and the store
//!
//! A module's version is the first `## X.Y.Z` heading of its CHANGELOG.md; the store's is the
//! highest version in its index. `release` compares against the store's zip of that version
//! (checking its sha256):
//!
//! - CHANGELOG at the store's version: the next version is the store's plus the bump, and its
//!   entry is added on top.
//! - CHANGELOG ahead of the store (a release cut but not published): the top entry is
//!   recomputed against the store's version and replaced, so `release` can be run again after
//!   more changes and stays idempotent until `publish`. The entry below it must be the store's
//!   version (else `--from` points at the wrong store). When nothing changed since the store's
//!   version any more, the unpublished entry is removed.
//! - Store ahead of the CHANGELOG: the working copy is stale; refused.
//!
//! `publish` makes the same comparison and refuses a version whose step from the store's is
//! smaller than the changes need. All modules are checked before any CHANGELOG is written.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use semver::Version;

use crate::interface::{compare_conditions, ConditionChange, Interface, Output, Variable};
use crate::store::{self, Store};

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
    /// How many of the first `reasons` need `bump` (the others need less).
    pub decisive: usize,
}

impl Change {
    /// The reasons that need the full bump.
    pub fn decisive_reasons(&self) -> &[String] {
        &self.reasons[..self.decisive.min(self.reasons.len())]
    }
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
        let bump = self.0.first().map_or(Bump::Patch, |(bump, _)| *bump);
        Change {
            bump,
            decisive: self.0.iter().filter(|(b, _)| *b == bump).count(),
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
        (None, Some(_)) => push(Bump::Patch, "default added (now optional)".into()),
        (Some(a), Some(b)) if a != b => {
            push(Bump::Patch, format!("default changed from {a} to {b}"))
        }
        _ => {}
    }
    match (before.is_nullable(), after.is_nullable()) {
        (true, false) => push(Bump::Major, "no longer nullable".into()),
        (false, true) => push(Bump::Patch, "now nullable".into()),
        _ => {}
    }
    for (bump, what) in compare_validations(before, after) {
        push(bump, what);
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

/// The validation changes of a variable, by the rules in the module documentation.
fn compare_validations(before: &Variable, after: &Variable) -> Vec<(Bump, String)> {
    // In file order, so that "the same place" means something.
    let only_in = |variable: &Variable, other: &Variable| -> Vec<String> {
        let others = other.conditions();
        let mut seen = std::collections::BTreeSet::new();
        variable
            .validations
            .iter()
            .map(|v| v.condition.clone())
            .filter(|c| !others.contains(c.as_str()) && seen.insert(c.clone()))
            .collect()
    };
    let removed = only_in(before, after);
    let added = only_in(after, before);
    let mut paired = vec![false; removed.len()];
    let mut changes = Vec::new();
    for (position, new) in added.iter().enumerate() {
        let verdicts: Vec<ConditionChange> = removed
            .iter()
            .map(|old| compare_conditions(old, new))
            .collect();
        let find = |wanted: ConditionChange| verdicts.iter().position(|v| *v == wanted);
        let (bump, what, counterpart, note) = if let Some(i) = find(ConditionChange::Same) {
            (
                Bump::Patch,
                "validation condition rewritten with the same meaning",
                Some(i),
                "",
            )
        } else if let Some(i) = find(ConditionChange::Widened) {
            (Bump::Patch, "validation widened", Some(i), "")
        } else if let Some(i) = find(ConditionChange::Narrowed) {
            (Bump::Major, "validation narrowed", Some(i), "")
        } else if position < removed.len() && !paired[position] {
            // The condition at the same place changed beyond what the comparison can tell.
            let note = "; counted as narrowed because it is not provably wider";
            (Bump::Major, "validation narrowed", Some(position), note)
        } else {
            (Bump::Major, "validation narrowed", None, "")
        };
        let what = match counterpart {
            Some(i) => {
                paired[i] = true;
                format!(
                    "{what} (condition changed from {} to {new}{note})",
                    removed[i]
                )
            }
            None => format!("{what} (condition added: {new})"),
        };
        changes.push((bump, what));
    }
    let unpaired: Vec<&str> = removed
        .iter()
        .zip(&paired)
        .filter(|(_, paired)| !**paired)
        .map(|(old, _)| old.as_str())
        .collect();
    if !unpaired.is_empty() {
        changes.push((
            Bump::Patch,
            format!(
                "validation relaxed (condition removed: {})",
                unpaired.join("; ")
            ),
        ));
    }
    changes
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
    Ok(changelog_versions(text, 1)?.into_iter().next())
}

/// The versions of the first `count` `## ` headings of a CHANGELOG text, newest first; each
/// heading must start with a semver version.
pub fn changelog_versions(text: &str, count: usize) -> Result<Vec<Version>, String> {
    entry_offsets(text)
        .into_iter()
        .take(count)
        .map(|offset| {
            let line = text[offset..].lines().next().unwrap_or("");
            let heading = line.strip_prefix("## ").unwrap_or(line);
            let word = heading.split_whitespace().next().unwrap_or("");
            Version::parse(word).map_err(|e| {
                format!("the heading `## {heading}` does not start with a semver version ({e})")
            })
        })
        .collect()
}

/// The byte offsets of the `## ` heading lines (the entries) of a CHANGELOG text.
fn entry_offsets(text: &str) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("## ") {
            offsets.push(offset);
        }
        offset += line.len();
    }
    offsets
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

/// `text` (a CHANGELOG.md) with its newest entry replaced by `entry` (added under the title when
/// there is no entry).
pub fn replace_top_entry(text: &str, entry: &str) -> String {
    let offsets = entry_offsets(text);
    match (offsets.first(), offsets.get(1)) {
        (None, _) => prepend_entry(Some(text), entry),
        (Some(&start), Some(&next)) => format!("{}{entry}\n{}", &text[..start], &text[next..]),
        (Some(&start), None) => format!("{}{entry}", &text[..start]),
    }
}

/// `text` (a CHANGELOG.md) without its newest entry.
pub fn remove_top_entry(text: &str) -> String {
    let offsets = entry_offsets(text);
    match (offsets.first(), offsets.get(1)) {
        (None, _) => text.to_string(),
        (Some(&start), Some(&next)) => format!("{}{}", &text[..start], &text[next..]),
        (Some(&start), None) => text[..start].to_string(),
    }
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
    /// The unpublished version at the top of CHANGELOG.md, whose entry this release replaces
    /// (or removes, when nothing is left to release).
    pub replaces: Option<Version>,
    /// The new version and why; `None` when nothing changed since the published version.
    pub release: Option<(Version, Change)>,
}

/// The module's last published version in the store's `index`, and how the module's current
/// `files` changed since (`None` when nothing changed, CHANGELOG.md aside). `None` when the
/// module was never published. The zip is found from the module and version, not from the
/// index's `file`, and must match the index's sha256.
pub async fn changes_since_published(
    store: &Store,
    index: &store::Index,
    name: &str,
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<Option<(Version, Option<Change>)>, String> {
    let Some(entry) = index.entry_latest(name) else {
        return Ok(None);
    };
    let version = Version::parse(&entry.version)
        .map_err(|e| format!("module {name}: index version {:?}: {e}", entry.version))?;
    let key = store::zip_key(name, &version);
    let zip = store.get(&key).await?.ok_or_else(|| {
        format!(
            "module {name}: the index lists {version} but {} is missing",
            store.object_url(&key)
        )
    })?;
    if store::sha256_hex(&zip) != entry.sha256 {
        return Err(format!(
            "module {name}: {} does not match the sha256 in the index",
            store.object_url(&key)
        ));
    }
    let old = store::unzip_files(&zip).map_err(|e| format!("module {name} {version}: {e}"))?;
    let change = compare_modules(&old, files).map_err(|e| format!("module {name}: {e}"))?;
    Ok(Some((version, change)))
}

fn read_changelog(dir: &Path) -> Result<Option<String>, String> {
    let path = dir.join(CHANGELOG);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Decides the release of one module against the store's `index` (see the module
/// documentation).
async fn plan_module(
    store: &Store,
    index: &store::Index,
    name: &str,
    dir: &Path,
) -> Result<Plan, String> {
    let versions = match read_changelog(dir)? {
        Some(text) => changelog_versions(&text, 2)
            .map_err(|e| format!("{}: {e}", dir.join(CHANGELOG).display()))?,
        None => Vec::new(),
    };
    let files = store::module_files(dir)?;
    // Even a first release must be a module Terraform can read.
    Interface::from_file_bytes(&files).map_err(|e| format!("module {name}: {e}"))?;
    let show = |v: Option<&Version>| v.map_or_else(|| "none".to_string(), ToString::to_string);
    let replaces = match (versions.first(), index.latest(name)) {
        (None, None) => None,
        (None, Some(remote)) => {
            return Err(format!(
                "module {name}: {} already has {remote} but {} has no CHANGELOG.md; restore it \
                 from the published zip",
                store.describe(),
                dir.display()
            ))
        }
        (Some(local), Some(remote)) if *local == remote => None,
        (Some(local), Some(remote)) if *local < remote => {
            return Err(format!(
                "module {name}: {} already has {remote}, newer than {local} in CHANGELOG.md; \
                 update the working copy",
                store.describe()
            ))
        }
        (Some(local), remote) => {
            // Released but not published: the entry is recomputed, measured from the entry
            // below it, which must be what the store has.
            let below = versions.get(1);
            if below != remote.as_ref() {
                return Err(format!(
                    "module {name}: {local} in CHANGELOG.md is not published and the entry below \
                     it is {}, but the latest version in {} is {}; point --from at the store the \
                     module is published to",
                    show(below),
                    store.describe(),
                    show(remote.as_ref())
                ));
            }
            Some(local.clone())
        }
    };
    let (published, release) = match changes_since_published(store, index, name, &files).await? {
        None => (
            None,
            Some((
                Version::new(1, 0, 0),
                Change {
                    bump: Bump::Major,
                    reasons: vec!["first release".into()],
                    decisive: 1,
                },
            )),
        ),
        Some((remote, change)) => (
            Some(remote.clone()),
            change.map(|change| (change.bump.apply(&remote), change)),
        ),
    };
    Ok(Plan {
        module: name.to_string(),
        dir: dir.to_path_buf(),
        published,
        replaces,
        release,
    })
}

/// Runs `release`: plans every selected module, prints each decision, and (unless `--dry-run`)
/// writes the CHANGELOG entries. Nothing is written when any module fails.
pub fn run(args: &ReleaseArgs) -> Result<(), String> {
    let date = match &args.date {
        Some(date) => parse_date(date)?,
        None => today_utc(),
    };
    let modules = store::select_modules(&args.modules, &args.module)?;
    let plans = store::block_on(async {
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
        let path = plan.dir.join(CHANGELOG);
        let existing = read_changelog(&plan.dir)?;
        let Some((version, change)) = &plan.release else {
            match &plan.replaces {
                None => println!("{}: {published}, unchanged: no release needed", plan.module),
                Some(unpublished) => println!(
                    "{}: {published}, unchanged: no release needed (removing the unpublished \
                     {unpublished} entry from CHANGELOG.md)",
                    plan.module
                ),
            }
            if let (Some(_), Some(text), false) = (&plan.replaces, &existing, args.dry_run) {
                std::fs::write(&path, remove_top_entry(text))
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            continue;
        };
        let kind = if plan.published.is_none() {
            "first release".to_string()
        } else {
            change.bump.to_string()
        };
        match &plan.replaces {
            None => println!("{}: {published} -> {version} ({kind})", plan.module),
            Some(unpublished) => println!(
                "{}: {published} -> {version} ({kind}), replacing the unpublished {unpublished} \
                 entry in CHANGELOG.md",
                plan.module
            ),
        }
        for reason in &change.reasons {
            println!("  - {reason}");
        }
        if args.dry_run {
            continue;
        }
        let entry = changelog_entry(version, &date, change, plan.published.is_none());
        let text = match (&plan.replaces, existing.as_deref()) {
            (Some(_), Some(text)) => replace_top_entry(text, &entry),
            (_, existing) => prepend_entry(existing, &entry),
        };
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
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
    fn removed_validation_is_patch() {
        let after = BASE.replace(
            "  validation {\n    condition     = can(regex(\"^[a-z_]+$\", var.name))\n    error_message = \"snake_case only.\"\n  }\n",
            "",
        );
        check(
            &after,
            Bump::Patch,
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
            Bump::Patch,
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
    fn gaining_a_default_is_patch() {
        let after = BASE.replace(
            "  description = \"The product name.\"\n",
            "  description = \"The product name.\"\n  default     = \"x\"\n",
        );
        check(
            &after,
            Bump::Patch,
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
                reasons: vec![],
                decisive: 0,
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
        let plan = store::block_on(async {
            let store = Store::open(&store_dir, None, None).await?;
            plan_module(&store, &store::Index::new(), "m", &dir).await
        })
        .unwrap();
        assert_eq!(plan.published, None);
        let (version, change) = plan.release.unwrap();
        assert_eq!(version, Version::new(1, 0, 0));
        assert_eq!(change.reasons, ["first release"]);

        let change = Change {
            bump: Bump::Major,
            reasons: vec!["first release".into()],
            decisive: 1,
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
            decisive: 1,
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

    // ----- blueprint-like changes on the generated modules' variables ----------------------

    const DATA_PRODUCT: &str = include_str!("../tests/fixtures/data-product-variables.tf");
    const DOMAIN: &str = include_str!("../tests/fixtures/domain-variables.tf");
    const CONSUMER_ACCESS: &str = include_str!("../tests/fixtures/consumer-access-variables.tf");

    /// The change from `before` to `before` with each `(from, to)` replaced (every `from` must
    /// occur).
    fn edit(before: &str, edits: &[(&str, &str)]) -> Change {
        let mut after = before.to_string();
        for (from, to) in edits {
            assert!(after.contains(from), "{from:?} not found");
            after = after.replace(from, to);
        }
        compare(&module(before), &module(&after))
    }

    fn has_reason(change: &Change, prefix: &str) -> bool {
        change.reasons.iter().any(|r| r.starts_with(prefix))
    }

    #[test]
    fn blueprint_additions_are_not_major() {
        // A region allowed.
        let change = edit(
            DATA_PRODUCT,
            &[
                (
                    "\"us-east-1\", \"eu-west-1\"]",
                    "\"us-east-1\", \"eu-west-1\", \"ap-south-1\"]",
                ),
                ("us-east-1, eu-west-1", "us-east-1, eu-west-1, ap-south-1"),
            ],
        );
        assert_eq!(change.bump, Bump::Patch, "{change:#?}");
        assert!(has_reason(&change, "variable \"region\": validation widened (condition changed from try(contains([\"us-east-1\", \"eu-west-1\"], var.region), false) to "), "{change:#?}");
        assert!(
            has_reason(
                &change,
                "variable \"region\": validation error message changed"
            ) || has_reason(&change, "variable \"region\": description changed")
        );

        // A domain added.
        let change = edit(
            DATA_PRODUCT,
            &[
                (
                    "[\"commerce\", \"finance\"]",
                    "[\"commerce\", \"finance\", \"logistics\"]",
                ),
                ("commerce, finance", "commerce, finance, logistics"),
            ],
        );
        assert_eq!(change.bump, Bump::Patch, "{change:#?}");
        assert!(
            has_reason(&change, "variable \"domain\": validation widened"),
            "{change:#?}"
        );

        // A tag value added (in the column tags' lookup and in the sensitivity check).
        let change = edit(
            DATA_PRODUCT,
            &[
                ("\"confidential\"]", "\"confidential\", \"restricted\"]"),
                (
                    "internal, confidential",
                    "internal, confidential, restricted",
                ),
            ],
        );
        assert_eq!(change.bump, Bump::Patch, "{change:#?}");
        assert!(
            has_reason(&change, "variable \"columns\": validation widened"),
            "{change:#?}"
        );
        assert!(
            has_reason(&change, "variable \"lf_tags\": validation widened"),
            "{change:#?}"
        );

        // A larger freshness bound.
        let change = edit(DATA_PRODUCT, &[("1440", "2880")]);
        assert_eq!(change.bump, Bump::Patch, "{change:#?}");
        assert!(
            has_reason(
                &change,
                "variable \"freshness_minutes\": validation widened"
            ),
            "{change:#?}"
        );

        // A tag key allowed on domains and a domain in grant expressions.
        let change = edit(
            CONSUMER_ACCESS,
            &[("\"customer\"]", "\"customer\", \"marketing\"]")],
        );
        assert_eq!(change.bump, Bump::Patch, "{change:#?}");
        assert!(
            has_reason(&change, "variable \"tag_grants\": validation widened"),
            "{change:#?}"
        );
        let change = edit(
            DOMAIN,
            &[("\"confidential\"] }", "\"confidential\", \"restricted\"] }")],
        );
        assert_eq!(change.bump, Bump::Patch, "{change:#?}");
    }

    #[test]
    fn blueprint_removals_are_major() {
        let narrowed = |change: &Change, variable: &str| {
            assert_eq!(change.bump, Bump::Major, "{change:#?}");
            assert!(
                has_reason(
                    change,
                    &format!("variable {variable:?}: validation narrowed")
                ),
                "{change:#?}"
            );
        };
        // A region removed.
        let change = edit(
            DATA_PRODUCT,
            &[("[\"us-east-1\", \"eu-west-1\"]", "[\"us-east-1\"]")],
        );
        narrowed(&change, "region");
        // A lower freshness bound.
        narrowed(&edit(DATA_PRODUCT, &[("1440", "720")]), "freshness_minutes");
        // A tag value removed.
        narrowed(
            &edit(DATA_PRODUCT, &[(", \"confidential\"]", "]")]),
            "lf_tags",
        );
        // A tag key every product must carry: more required, narrower, even though the same key
        // is now allowed (widened).
        let change = edit(
            DATA_PRODUCT,
            &[
                (
                    "for k in [\"sensitivity\"]",
                    "for k in [\"sensitivity\", \"owner\"]",
                ),
                (
                    "contains([\"sensitivity\"], k)",
                    "contains([\"sensitivity\", \"owner\"], k)",
                ),
            ],
        );
        narrowed(&change, "lf_tags");
        assert!(
            has_reason(&change, "variable \"lf_tags\": validation widened"),
            "{change:#?}"
        );
        // A new tag key where unknown keys accepted any value: conservatively narrowed.
        let change = edit(
            DOMAIN,
            &[(
                "\"confidential\"] }",
                "\"confidential\"], \"region\" = [\"eu\", \"us\"] }",
            )],
        );
        narrowed(&change, "lf_tags");
        assert!(
            change
                .reasons
                .iter()
                .any(|r| r.contains("counted as narrowed because it is not provably wider")),
            "{change:#?}"
        );
        // A changed naming rule: a regex, conservatively narrowed.
        narrowed(&edit(DATA_PRODUCT, &[("{2,62}", "{2,30}")]), "name");
        narrowed(&edit(DATA_PRODUCT, &[("{2,62}", "{2,100}")]), "name");
    }

    #[test]
    fn validations_pair_by_meaning_not_position() {
        let two = |first: &str, second: &str| {
            format!(
                "variable \"x\" {{\n  type = number\n  validation {{\n    condition     = {first}\n    error_message = \"a\"\n  }}\n  validation {{\n    condition     = {second}\n    error_message = \"b\"\n  }}\n}}\n"
            )
        };
        let before = two("var.x >= 1", "var.x <= 10");
        // Reordered and the upper bound raised: widened.
        let change = compare(&module(&before), &module(&two("var.x <= 20", "var.x >= 1")));
        assert_eq!(change.bump, Bump::Patch, "{change:#?}");
        // (The messages stayed in place, so `var.x >= 1` now has the other one.)
        assert_eq!(
            change.reasons,
            [
                "variable \"x\": validation widened (condition changed from var.x <= 10 to var.x <= 20)",
                "variable \"x\": validation error message changed"
            ]
        );
        // One condition replaced by an unrelated one: narrowed, paired by position.
        let change = compare(&module(&before), &module(&two("var.x >= 1", "var.x != 5")));
        assert_eq!(change.bump, Bump::Major);
        assert_eq!(
            change.reasons,
            ["variable \"x\": validation narrowed (condition changed from var.x <= 10 to var.x != 5; counted as narrowed because it is not provably wider)"]
        );
        // A condition added beside unchanged ones.
        let three = format!(
            "{}  validation {{\n    condition     = var.x != 5\n    error_message = \"c\"\n  }}\n}}\n",
            before.trim_end().strip_suffix('}').unwrap()
        );
        let change = compare(&module(&before), &module(&three));
        assert_eq!(
            change.reasons,
            ["variable \"x\": validation narrowed (condition added: var.x != 5)"]
        );
        // And removed again: a patch.
        let change = compare(&module(&three), &module(&before));
        assert_eq!(change.bump, Bump::Patch);
        assert_eq!(
            change.reasons,
            ["variable \"x\": validation relaxed (condition removed: var.x != 5)"]
        );
    }

    #[test]
    fn decisive_reasons_are_those_of_the_bump() {
        let after = format!("{BASE}\noutput \"name\" {{\n  value = var.name\n}}\n")
            .replace("output \"table_arn\"", "locals_x \"table_arn\"")
            .replace("Extra tags.", "More tags.");
        let change = compare(&module(BASE), &module(&after));
        assert_eq!(change.decisive_reasons(), ["output \"table_arn\" removed"]);
        assert_eq!(change.reasons.len(), 3);
    }

    #[test]
    fn top_entries_are_replaced_and_removed() {
        let text = "# Changelog\n\n## 1.0.1 (2026-02-01)\n\nPatch release.\n\n- x\n\n\
                    ## 1.0.0 (2026-01-01)\n\nFirst release.\n\n- first release\n";
        assert_eq!(
            changelog_versions(text, 2).unwrap(),
            [Version::new(1, 0, 1), Version::new(1, 0, 0)]
        );
        let entry = "## 1.1.0 (2026-02-02)\n\nMinor release.\n\n- y\n";
        assert_eq!(
            replace_top_entry(text, entry),
            "# Changelog\n\n## 1.1.0 (2026-02-02)\n\nMinor release.\n\n- y\n\n\
             ## 1.0.0 (2026-01-01)\n\nFirst release.\n\n- first release\n"
        );
        assert_eq!(
            remove_top_entry(text),
            "# Changelog\n\n## 1.0.0 (2026-01-01)\n\nFirst release.\n\n- first release\n"
        );
        let only = "# Changelog\n\n## 1.0.0 (2026-01-01)\n\nFirst release.\n\n- first release\n";
        assert_eq!(
            replace_top_entry(only, entry),
            format!("# Changelog\n\n{entry}")
        );
        assert_eq!(
            replace_top_entry("# Changelog\n", entry),
            format!("# Changelog\n\n{entry}")
        );
        assert!(changelog_versions("## 1.0.0\n\n## later\n", 2).is_err());
        assert_eq!(
            changelog_versions("## 1.0.0\n\n## later\n", 1)
                .unwrap()
                .len(),
            1
        );
    }
}
