//! `mesh_lf_tag`: an LF-tag key and its allowed values, the vocabulary of tag-based access
//! control (LF-TBAC).

use super::Mesh;
use super::{aws_diag, known};
use crate::aws::Found as _;
use crate::aws::Service;
use crate::framework::value::Attr;
use crate::framework::{
    invalid_import_id, Attribute, Block, Diagnostic, Diagnostics, Failure, PlanRequest, Private,
    Resource, Schema, Type, Validator,
};
use crate::resources::Action;
use crate::rules::{check_tag_key as check_key, check_tag_value as check_value, is_account_id};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// Lake Formation's limit on values per LF-tag.
pub const MAX_VALUES: usize = 1000;
/// Lake Formation accepts at most this many values in one CreateLFTag or UpdateLFTag call.
pub const BATCH: usize = 50;

/// The resource.
#[derive(Debug, Default)]
pub struct LfTag;

/// `mesh_lf_tag`'s model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// `CATALOG:KEY`.
    pub id: Attr<String>,
    /// The tag key.
    pub key: Attr<String>,
    /// The allowed values.
    pub values: Attr<BTreeSet<String>>,
    /// The Data Catalog (account id) holding the tag.
    pub catalog_id: Attr<String>,
}

/// A parsed `mesh_lf_tag` id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagId {
    /// Catalog (account) id.
    pub catalog_id: String,
    /// Tag key.
    pub key: String,
}

impl TagId {
    /// Parses `CATALOG:KEY`, or a bare `KEY` (the catalog is then `default_catalog`). A key may
    /// itself contain `:`, so the prefix counts as a catalog only when it is a 12-digit account id.
    pub fn parse(
        id: &str,
        default_catalog: impl FnOnce() -> Option<String>,
    ) -> Result<Self, String> {
        let (catalog, key) = match id.split_once(':') {
            Some((c, k)) if is_account_id(c) => (Some(c.to_string()), k),
            _ => (None, id),
        };
        if key.is_empty() {
            return Err(format!("{id:?} has no tag key; use KEY or CATALOG:KEY."));
        }
        if let Some(problem) = check_key(key) {
            return Err(problem);
        }
        let catalog_id = match catalog {
            Some(c) => c,
            None => default_catalog().ok_or("the caller's account id is not known")?,
        };
        Ok(Self {
            catalog_id,
            key: key.to_string(),
        })
    }
}

impl fmt::Display for TagId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.catalog_id, self.key)
    }
}

fn lf(e: &crate::aws::AwsError, action: Action, id: &str) -> Diagnostics {
    aws_diag(action, format!("LF-tag {id}"), e)
}

impl LfTag {
    /// Adds then removes values in batches of [`BATCH`]. Adding first keeps the tag from ever
    /// having no values, which Lake Formation refuses.
    async fn change_values(
        &self,
        client: &Mesh,
        id: &TagId,
        add: &[String],
        remove: &[String],
    ) -> Result<(), Diagnostics> {
        for chunk in add.chunks(BATCH) {
            client
                .call(Service::LakeFormation, "UpdateLFTag", || {
                    client
                        .lakeformation()
                        .update_lf_tag()
                        .catalog_id(&id.catalog_id)
                        .tag_key(&id.key)
                        .set_tag_values_to_add(Some(chunk.to_vec()))
                        .send()
                })
                .await
                .map_err(|e| lf(&e, Action::Update, &id.to_string()))?;
        }
        for chunk in remove.chunks(BATCH) {
            client
                .call(Service::LakeFormation, "UpdateLFTag", || {
                    client
                        .lakeformation()
                        .update_lf_tag()
                        .catalog_id(&id.catalog_id)
                        .tag_key(&id.key)
                        .set_tag_values_to_delete(Some(chunk.to_vec()))
                        .send()
                })
                .await
                .map_err(|e| lf(&e, Action::Update, &id.to_string()))?;
        }
        Ok(())
    }
}

#[async_trait]
impl Resource for LfTag {
    type Model = Model;
    type Client = Mesh;
    type Id = TagId;
    type Spec = Spec;
    type Found = BTreeSet<String>;

    fn type_name(&self) -> &'static str {
        "mesh_lf_tag"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "An LF-tag: a key and the values it may take, the governance ontology of tag-based \
                 access control in Lake Formation (for example `domain`, `sensitivity`). Tables, \
                 columns and databases carry LF-tags; grants name tag expressions.\n\n\
                 Values change in place: new values are added before old ones are removed, so the \
                 tag always exists, and large changes go in batches of 50 (the API's limit per \
                 call). A tag deleted outside Terraform is planned for re-creation.\n\n\
                 Import with `terraform import mesh_lf_tag.NAME KEY` or `CATALOG:KEY`.",
            )
            .attribute(
                Attribute::string("id")
                    .computed()
                    .use_state_for_unknown()
                    .describe("`CATALOG:KEY`, e.g. `111122223333:sensitivity`."),
            )
            .attribute(
                Attribute::string("key")
                    .required()
                    .requires_replace()
                    .describe("The tag key: 1 to 128 letters, digits, spaces and `_ . : / = + - @ %`. Changing it replaces the tag.")
                    .validate(Validator::string("LF-tag key rules", "Invalid LF-tag key", check_key)),
            )
            .attribute(
                Attribute::new("values", Type::set(Type::String))
                    .required()
                    .describe(format!(
                        "The values the tag may take: 1 to {MAX_VALUES}, each 1 to 256 letters, digits, spaces and `_ . : / = + - @ % *`. Changed in place."
                    ))
                    .validate(Validator::size_between(1, MAX_VALUES))
                    .validate(Validator::string("LF-tag value rules", "Invalid LF-tag value", check_value).each()),
            )
            .attribute(
                Attribute::string("catalog_id")
                    .optional()
                    .computed()
                    .requires_replace()
                    .use_state_for_unknown()
                    .describe("The Data Catalog (account id) that holds the tag. Defaults to the caller's account.")
                    .validate(Validator::string("12-digit account id", "Invalid catalog id", |s| {
                        (!is_account_id(s)).then(|| format!("{s:?} is not a 12-digit AWS account id."))
                    })),
            ),
        )
    }

    async fn modify_plan(&self, client: Option<&Mesh>, req: &mut PlanRequest<Model>) {
        // Tell the grants and products planned after this tag that it will exist.
        let (Attr::Known(key), Attr::Known(values)) = (&req.planned.key, &req.planned.values)
        else {
            return;
        };
        // Planned tags are state of the configured provider: unconfigured, there is none.
        let Some(client) = client else { return };
        let catalog = match &req.planned.catalog_id {
            Attr::Known(c) => c.clone(),
            _ => match client.account_id().await {
                Ok(c) => c,
                // Only a hint for later plans; the tag's own apply reports the problem.
                Err(_) => return,
            },
        };
        client.planned_tags().note(&catalog, key, values);
    }

    fn spec(&self, m: &Model) -> Result<Spec, Diagnostics> {
        Ok(Spec {
            key: known(&m.key, "key")?.clone(),
            values: known(&m.values, "values")?.clone(),
            catalog_id: m.catalog_id.known().cloned(),
        })
    }

    fn id(&self, state: &Model) -> Result<TagId, Diagnostics> {
        Ok(TagId {
            catalog_id: known(&state.catalog_id, "catalog_id")?.clone(),
            key: known(&state.key, "key")?.clone(),
        })
    }

    async fn parse_id(&self, client: &Mesh, raw: &str) -> Result<TagId, Diagnostics> {
        let account = if raw.split_once(':').is_some_and(|(c, _)| is_account_id(c)) {
            None
        } else {
            Some(client.account().await?)
        };
        TagId::parse(raw, || account).map_err(|p| invalid_import_id(p, "KEY or CATALOG:KEY"))
    }

    /// GetLFTag: the values; `None` when the tag does not exist.
    async fn find(
        &self,
        client: &Mesh,
        id: &TagId,
    ) -> Result<Option<BTreeSet<String>>, Diagnostics> {
        let out = client
            .call(Service::LakeFormation, "GetLFTag", || {
                client
                    .lakeformation()
                    .get_lf_tag()
                    .catalog_id(&id.catalog_id)
                    .tag_key(&id.key)
                    .send()
            })
            .await
            .found()
            .map_err(|e| lf(&e, Action::Read, &id.to_string()))?;
        let values: BTreeSet<String> = out
            .and_then(|o| o.tag_values)
            .unwrap_or_default()
            .into_iter()
            .collect();
        // A real LF-tag always has a value; an empty answer means there is no such tag (some
        // implementations answer a missing key that way instead of EntityNotFound).
        Ok((!values.is_empty()).then_some(values))
    }

    fn flatten(&self, id: &TagId, values: BTreeSet<String>, _prior: &Model) -> Model {
        flatten(id, values)
    }

    async fn create(
        &self,
        client: &Mesh,
        spec: Spec,
        _planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let catalog_id = match spec.catalog_id {
            Some(c) => c,
            None => client.account().await.map_err(Failure::clean)?,
        };
        let id = TagId {
            catalog_id,
            key: spec.key,
        };
        let values: Vec<String> = spec.values.iter().cloned().collect();
        let (first, rest) = values.split_at(values.len().min(BATCH));
        client
            .call(Service::LakeFormation, "CreateLFTag", || {
                client
                    .lakeformation()
                    .create_lf_tag()
                    .catalog_id(&id.catalog_id)
                    .tag_key(&id.key)
                    .set_tag_values(Some(first.to_vec()))
                    .send()
            })
            .await
            .map_err(|e| {
                let mut diags = lf(&e, Action::Create, &id.to_string());
                if e.is_already_exists() {
                    diags.push(Diagnostic::error(
                        "LF-tag already exists",
                        format!("Import it instead: terraform import <address> {id}"),
                    ));
                }
                Failure::clean(diags)
            })?;
        // The tag exists now: if adding the remaining values fails, save what exists so the
        // next apply adds the rest instead of failing on a duplicate create.
        if let Err(diags) = self.change_values(client, &id, rest, &[]).await {
            let state = flatten(&id, first.iter().cloned().collect());
            return Err(Failure::partial(state, diags));
        }
        Ok(flatten(&id, spec.values))
    }

    async fn update(
        &self,
        client: &Mesh,
        prior: Model,
        spec: Spec,
        _planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let id = self.id(&prior).map_err(Failure::clean)?;
        let before = known(&prior.values, "values").map_err(Failure::clean)?;
        let add: Vec<String> = spec.values.difference(before).cloned().collect();
        let remove: Vec<String> = before.difference(&spec.values).cloned().collect();
        if let Err(diags) = self.change_values(client, &id, &add, &remove).await {
            // Some batches may have gone through: record what is there now, so the next plan
            // shows exactly what is left to do.
            return match self.find(client, &id).await {
                Ok(Some(values)) => Err(Failure::partial(flatten(&id, values), diags)),
                _ => Err(Failure::partial(prior, diags)),
            };
        }
        Ok(flatten(&id, spec.values))
    }

    async fn delete(
        &self,
        client: &Mesh,
        state: Model,
        _private: &Private,
    ) -> Result<(), Diagnostics> {
        let id = self.id(&state)?;
        client
            .call(Service::LakeFormation, "DeleteLFTag", || {
                client
                    .lakeformation()
                    .delete_lf_tag()
                    .catalog_id(&id.catalog_id)
                    .tag_key(&id.key)
                    .send()
            })
            .await
            .or_gone()
            .map_err(|e| lf(&e, Action::Delete, &id.to_string()))
    }
}

/// What the user declared.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    key: String,
    values: BTreeSet<String>,
    /// `None`: the caller's account.
    catalog_id: Option<String>,
}

/// The state of tag `id` holding `values`.
fn flatten(id: &TagId, values: BTreeSet<String>) -> Model {
    Model {
        id: Attr::Known(id.to_string()),
        key: Attr::Known(id.key.clone()),
        values: Attr::Known(values),
        catalog_id: Attr::Known(id.catalog_id.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_with_and_without_catalog() {
        let none = || None;
        assert_eq!(
            TagId::parse("123456789012:domain", none).unwrap(),
            TagId {
                catalog_id: "123456789012".into(),
                key: "domain".into()
            }
        );
        assert_eq!(
            TagId::parse("domain", || Some("111111111111".into()))
                .unwrap()
                .to_string(),
            "111111111111:domain"
        );
        // A key with a colon whose prefix is not an account id stays whole.
        assert_eq!(
            TagId::parse("a:b", || Some("111111111111".into()))
                .unwrap()
                .key,
            "a:b"
        );
        assert!(TagId::parse("123456789012:", none).is_err());
        assert!(TagId::parse("bad#key", || Some("111111111111".into())).is_err());
    }

    #[test]
    fn flatten_names_the_catalog_and_key_of_the_id() {
        let id = TagId {
            catalog_id: "123456789012".into(),
            key: "domain".into(),
        };
        let state = flatten(&id, ["sales".to_string()].into());
        assert_eq!(state.id, Attr::Known("123456789012:domain".into()));
        assert_eq!(state.catalog_id, Attr::Known("123456789012".into()));
        assert_eq!(state.values, Attr::Known(["sales".to_string()].into()));
    }

    #[test]
    fn key_and_value_rules() {
        assert!(check_key("domain").is_none());
        assert!(check_key("data classification:pii/v2").is_none());
        assert!(check_key("").is_some());
        assert!(check_key(&"k".repeat(129)).is_some());
        assert!(check_key("bad#key").unwrap().contains('#'));
        assert!(check_key("no*star").is_some());
        assert!(check_value("*").is_none());
        assert!(check_value("bad#value").is_some());
        assert!(check_value(&"v".repeat(257)).is_some());
        assert!(check_value("ünïcode").is_none());
        assert!(check_value("tab\there").is_some());
    }
}
