//! The LF-tag ontology of a catalog, and attaching LF-tags to Lake Formation resources.
//!
//! Shared by the resources that tag databases, tables and columns: they check tags against the
//! ontology (at plan time, and again at apply time because some implementations accept tags that
//! were never defined), and attach or detach only what changed.

use super::aws_diag;
use super::Mesh;
use crate::aws::{AwsError, Service};
use crate::framework::value::{Attr, Value};
use crate::framework::{AttributePath, Diagnostic, Diagnostics, Validator};
use crate::resources::Action;
use crate::rules::{check_tag_key as check_key, check_tag_value as check_value};
use aws_sdk_lakeformation::types::{LfTagPair, Resource};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// The LF-tag key every domain's database and every product's table carries.
pub const DOMAIN_TAG: &str = "domain";
/// Shown as the value of the `domain` tag in `lf_tags` when it is missing from the resource, so
/// that the drift appears in the plan.
pub const ABSENT: &str = "(absent)";

/// Checks an `lf_tags` map: key and value rules, and `domain`, which the provider sets itself.
pub fn tags_validator() -> Validator {
    Validator::new("LF-tag pairs", |v, path, diags| {
        let Value::Map(m) = v else { return };
        for (k, val) in m {
            let at = path.then_key(k.clone());
            if k == DOMAIN_TAG {
                diags.error_at(at.clone(), "Reserved LF-tag", "The `domain` LF-tag is always set by the provider (to the domain's name); remove it here.");
            }
            if let Some(p) = check_key(k) {
                diags.error_at(at.clone(), "Invalid LF-tag key", p);
            }
            if let Value::String(s) = val {
                if let Some(p) = check_value(s) {
                    diags.error_at(at, "Invalid LF-tag value", p);
                }
            }
        }
    })
}

/// The `lf_tags` to show for tags found on a resource: the extra tags, plus the `domain` tag
/// only when it is not `domain` (wrong, or [`ABSENT`]), so that drift shows in the plan. Null
/// stays null when there is nothing to show.
pub fn shown_tags(
    mut found: BTreeMap<String, String>,
    domain: &str,
    prior: &Attr<BTreeMap<String, String>>,
) -> Attr<BTreeMap<String, String>> {
    match found.remove(DOMAIN_TAG) {
        Some(v) if v == domain => {}
        Some(v) => {
            found.insert(DOMAIN_TAG.into(), v);
        }
        None => {
            found.insert(DOMAIN_TAG.into(), ABSENT.into());
        }
    }
    if found.is_empty() && prior.is_null() {
        Attr::Null
    } else {
        Attr::Known(found)
    }
}

/// The tags a resource declares: its `lf_tags` (without an [`ABSENT`] marker) plus
/// `domain = <domain>`.
pub fn declared(
    lf_tags: &Attr<BTreeMap<String, String>>,
    domain: &str,
) -> BTreeMap<String, String> {
    let mut tags = lf_tags.known().cloned().unwrap_or_default();
    tags.retain(|_, v| v != ABSENT);
    tags.insert(DOMAIN_TAG.into(), domain.to_string());
    tags
}

/// What a prior state says is attached: its shown `lf_tags` without the [`ABSENT`] marker, with
/// `domain` attached unless the state shows it otherwise.
pub fn attached(prior: &Attr<BTreeMap<String, String>>, domain: &str) -> BTreeMap<String, String> {
    let mut tags = prior.known().cloned().unwrap_or_default();
    tags.entry(DOMAIN_TAG.into())
        .or_insert_with(|| domain.to_string());
    tags.retain(|_, v| v != ABSENT);
    tags
}

/// Tag key -> allowed values, as defined in one catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ontology(pub BTreeMap<String, BTreeSet<String>>);

/// One tag assignment to check, with where it was written.
#[derive(Debug, Clone)]
pub struct TagUse {
    /// Where the user wrote it.
    pub path: AttributePath,
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// The LF-tags a resource declares, each with where the user wrote it: `domain = <name>` from
/// the attribute at `domain_at` (when known), then every entry of the `lf_tags` map at
/// `tags_at`.
pub fn declared_uses(
    domain_at: AttributePath,
    domain: &Attr<String>,
    tags_at: AttributePath,
    tags: &Attr<BTreeMap<String, String>>,
) -> Vec<TagUse> {
    let mut uses: Vec<TagUse> = domain
        .known()
        .map(|d| TagUse {
            path: domain_at,
            key: DOMAIN_TAG.into(),
            value: d.clone(),
        })
        .into_iter()
        .collect();
    uses.extend(map_uses(tags_at, tags));
    uses
}

/// The entries of an `lf_tags` map at `at`, each with its path.
pub fn map_uses(at: AttributePath, tags: &Attr<BTreeMap<String, String>>) -> Vec<TagUse> {
    tags.known()
        .into_iter()
        .flatten()
        .map(|(k, v)| TagUse {
            path: at.then_key(k.clone()),
            key: k.clone(),
            value: v.clone(),
        })
        .collect()
}

/// LF-tags that `mesh_lf_tag` resources have planned (created or changed) in one provider
/// configuration, by catalog id: state of the configured provider ([`super::Mesh`]).
///
/// Terraform plans a resource after the resources it references, so a grant or product planned
/// after the `mesh_lf_tag` it names (with the same provider configuration) finds that tag here
/// even though the catalog does not hold it yet: a fresh mesh plans in one go, while a key that
/// nothing creates is still caught at plan time. Apply checks the catalog itself again.
#[derive(Debug, Default)]
pub struct PlannedTags(Mutex<BTreeMap<String, BTreeMap<String, BTreeSet<String>>>>);

impl PlannedTags {
    /// Records that a `mesh_lf_tag` in `catalog` is planned to exist with `values`.
    pub fn note(&self, catalog: &str, key: &str, values: &BTreeSet<String>) {
        // A panic elsewhere while holding the lock leaves the map usable; never panic here.
        let mut planned = self.0.lock().unwrap_or_else(|e| e.into_inner());
        planned
            .entry(catalog.to_string())
            .or_default()
            .entry(key.to_string())
            .or_default()
            .extend(values.iter().cloned());
    }

    /// The tags planned in `catalog`.
    fn of(&self, catalog: &str) -> BTreeMap<String, BTreeSet<String>> {
        let planned = self.0.lock().unwrap_or_else(|e| e.into_inner());
        planned.get(catalog).cloned().unwrap_or_default()
    }
}

/// The catalog holding the ontology: the provider's `tag_catalog_id`, else the caller's account.
pub async fn tag_catalog(client: &Mesh) -> Result<String, AwsError> {
    match client.tag_catalog_id() {
        Some(c) => Ok(c.to_string()),
        None => client.account_id().await,
    }
}

impl Ontology {
    /// This ontology plus the tags `planned` in `catalog`: what a plan may rely on.
    pub fn with_planned(mut self, planned: &PlannedTags, catalog: &str) -> Self {
        for (key, values) in planned.of(catalog) {
            self.0.entry(key).or_default().extend(values);
        }
        self
    }

    /// [`Ontology::load`] plus the tags planned with this provider configuration in that
    /// catalog: the ontology a plan checks against.
    pub async fn load_for_plan(client: &Mesh) -> Result<Self, AwsError> {
        let catalog = tag_catalog(client).await?;
        Ok(Self::load(client)
            .await?
            .with_planned(client.planned_tags(), &catalog))
    }

    /// Lists every LF-tag of the ontology's catalog (the provider's `tag_catalog_id`, else the
    /// caller's), following pages.
    pub async fn load(client: &Mesh) -> Result<Self, AwsError> {
        Self::load_catalog(client, client.tag_catalog_id()).await
    }

    /// Lists every LF-tag of `catalog_id` (`None`: the caller's catalog), following pages.
    pub async fn load_catalog(client: &Mesh, catalog_id: Option<&str>) -> Result<Self, AwsError> {
        let mut tags = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
            let page = client
                .call(Service::LakeFormation, "ListLFTags", || {
                    client
                        .lakeformation()
                        .list_lf_tags()
                        .set_catalog_id(catalog_id.map(str::to_string))
                        .max_results(1000)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            for tag in page.lf_tags.unwrap_or_default() {
                tags.insert(tag.tag_key, tag.tag_values.into_iter().collect());
            }
            token = page.next_token.filter(|t| !t.is_empty());
            if token.is_none() {
                return Ok(Self(tags));
            }
        }
    }

    /// Checks uses against the ontology. A value the key does not allow is always an error. A
    /// key the catalog lacks is an error when `missing_key_is_error`, else a warning: at plan
    /// time the key may be created by the same apply (a `mesh_lf_tag` in the configuration).
    pub fn check(&self, uses: &[TagUse], missing_key_is_error: bool) -> Diagnostics {
        let mut diags = Diagnostics::new();
        for u in uses {
            match self.0.get(&u.key) {
                Some(values) if values.contains(&u.value) => {}
                Some(values) => diags.error_at(
                    u.path.clone(),
                    "LF-tag value not in the ontology",
                    format!(
                        "LF-tag {:?} does not allow the value {:?}; its values are: {}.",
                        u.key,
                        u.value,
                        values.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", ")
                    ),
                ),
                None if missing_key_is_error => diags.error_at(
                    u.path.clone(),
                    "Unknown LF-tag key",
                    format!("No LF-tag {:?} is defined in the catalog. Define it with a mesh_lf_tag; when the same configuration creates it, refer to that resource (for example `(mesh_lf_tag.NAME.key)`) so it is planned first.", u.key),
                ),
                None => diags.push(
                    Diagnostic::warning(
                        "LF-tag key not defined yet",
                        format!(
                            "No LF-tag {:?} is defined in the catalog yet. If a mesh_lf_tag in this configuration creates it, make this resource depend on it; otherwise apply will fail.",
                            u.key
                        ),
                    )
                    .at(u.path.clone()),
                ),
            }
        }
        diags
    }
}

/// Builds LF-tag pairs from a key -> value map, naming the catalog that defines the tags.
pub fn pairs(tags: &BTreeMap<String, String>, catalog_id: &str) -> Vec<LfTagPair> {
    tags.iter()
        .filter_map(|(k, v)| {
            LfTagPair::builder()
                .catalog_id(catalog_id)
                .tag_key(k)
                .tag_values(v)
                .build()
                .ok()
        })
        .collect()
}

/// Changes the tags on `resource` from `before` to `after`: attaches the declared set when
/// anything in it is new or changed (a key's value changes in place), then detaches keys that
/// left. Returns after the first failure.
pub async fn retag(
    client: &Mesh,
    resource: &Resource,
    catalog_id: &str,
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
    what: &str,
) -> Result<(), Diagnostics> {
    // Anything new or changed: send the whole declared set. Lake Formation merges an add into
    // what is attached, and one implementation (the emulator) replaces the attached set with it;
    // sending everything this resource declares is right for both.
    // Tags are named in the catalog that defines them, which may be another account's.
    let tag_catalog = client.tag_catalog_id().unwrap_or(catalog_id);
    let changed = after.iter().any(|(k, v)| before.get(k) != Some(v));
    let add = if changed {
        after.clone()
    } else {
        BTreeMap::new()
    };
    let remove: BTreeMap<String, String> = before
        .iter()
        .filter(|(k, _)| !after.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !add.is_empty() {
        let out = client
            .call(Service::LakeFormation, "AddLFTagsToResource", || {
                client
                    .lakeformation()
                    .add_lf_tags_to_resource()
                    .catalog_id(catalog_id)
                    .resource(resource.clone())
                    .set_lf_tags(Some(pairs(&add, tag_catalog)))
                    .send()
            })
            .await
            .map_err(|e| aws_diag(Action::Attach, format!("LF-tags to {what}"), &e))?;
        failures(out.failures, what)?;
    }
    if !remove.is_empty() {
        let out = client
            .call(Service::LakeFormation, "RemoveLFTagsFromResource", || {
                client
                    .lakeformation()
                    .remove_lf_tags_from_resource()
                    .catalog_id(catalog_id)
                    .resource(resource.clone())
                    .set_lf_tags(Some(pairs(&remove, tag_catalog)))
                    .send()
            })
            .await
            .map_err(|e| aws_diag(Action::Detach, format!("LF-tags from {what}"), &e))?;
        failures(out.failures, what)?;
    }
    Ok(())
}

/// Lake Formation reports per-tag failures in a 200 answer; they are errors all the same.
fn failures(
    list: Option<Vec<aws_sdk_lakeformation::types::LfTagError>>,
    what: &str,
) -> Result<(), Diagnostics> {
    let list = list.unwrap_or_default();
    if list.is_empty() {
        return Ok(());
    }
    let detail = list
        .iter()
        .map(|f| {
            let tag = f
                .lf_tag
                .as_ref()
                .map(|t| format!("{}={}", t.tag_key, t.tag_values.join("|")))
                .unwrap_or_default();
            let err = f.error.as_ref().map(|e| {
                format!(
                    "{}: {}",
                    e.error_code.as_deref().unwrap_or("error"),
                    e.error_message.as_deref().unwrap_or("")
                )
            });
            format!("{tag}: {}", err.unwrap_or_default())
        })
        .collect::<Vec<_>>()
        .join("; ");
    Err(Diagnostic::error(format!("Lake Formation refused LF-tags on {what}"), detail).into())
}

/// Reads tag pairs into a key -> value map (a key with several values keeps them joined by `|`,
/// which never matches a configured single value, so it shows as drift).
pub fn to_map(pairs: impl IntoIterator<Item = LfTagPair>) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .map(|p| (p.tag_key, p.tag_values.join("|")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(values: &[&str]) -> BTreeSet<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    fn tag_use(key: &str, value: &str) -> TagUse {
        TagUse {
            path: AttributePath::attr("expression").then_key(key.to_string()),
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn planned_tags_count_at_plan_for_their_catalog_only() {
        let planned = PlannedTags::default();
        planned.note("900000000001", "tier", &set(&["gold", "silver"]));
        let uses = [tag_use("tier", "gold")];

        let empty = Ontology::default();
        assert!(empty.check(&uses, true).has_errors());
        assert!(!empty
            .clone()
            .with_planned(&planned, "900000000001")
            .check(&uses, true)
            .has_errors());
        assert!(empty
            .with_planned(&planned, "900000000002")
            .check(&uses, true)
            .has_errors());
        // Another provider configuration has its own.
        assert!(Ontology::default()
            .with_planned(&PlannedTags::default(), "900000000001")
            .check(&uses, true)
            .has_errors());
    }

    #[test]
    fn declared_uses_name_where_each_tag_was_written() {
        let tags = Attr::Known([("sensitivity".to_string(), "internal".to_string())].into());
        let uses = declared_uses(
            AttributePath::attr("name"),
            &Attr::Known("commerce".into()),
            AttributePath::attr("lf_tags"),
            &tags,
        );
        let shown: Vec<String> = uses
            .iter()
            .map(|u| format!("{}: {}={}", u.path, u.key, u.value))
            .collect();
        assert_eq!(
            shown,
            [
                "name: domain=commerce",
                "lf_tags[\"sensitivity\"]: sensitivity=internal"
            ]
        );
        assert!(declared_uses(
            AttributePath::attr("name"),
            &Attr::Unknown,
            AttributePath::attr("lf_tags"),
            &Attr::Null
        )
        .is_empty());
    }

    #[test]
    fn planned_values_add_to_the_catalog_values() {
        let planned = PlannedTags::default();
        planned.note("900000000003", "sensitivity", &set(&["public"]));
        let mut found = BTreeMap::new();
        found.insert("sensitivity".to_string(), set(&["internal"]));
        let o = Ontology(found).with_planned(&planned, "900000000003");
        assert!(!o
            .check(&[tag_use("sensitivity", "public")], true)
            .has_errors());
        assert!(!o
            .check(&[tag_use("sensitivity", "internal")], true)
            .has_errors());
        let bad = o.check(&[tag_use("sensitivity", "secret")], true);
        assert!(bad.has_errors());
    }
}
