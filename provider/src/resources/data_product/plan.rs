//! The plan: defaults and unknowns for computed values, the ontology and compatibility checks,
//! and drift that has no attribute of its own.

use super::*;

/// Private-state flags read leaves for the plan: drift in things that have no attribute.
pub(super) const DRIFT_CONTRACT: &str = "contract_drift";
pub(super) const DRIFT_SCHEMA: &str = "schema_missing";
/// Set by the plan when it could not confirm every LF-tag against the ontology.
pub(super) const UNVERIFIED_TAGS: &str = "unverified_tags";

impl DataProduct {
    pub(super) async fn plan(&self, client: Option<&Clients>, req: &mut PlanRequest<Model>) {
        let Ok(after) = Spec::from(&req.planned) else {
            // Values known only at apply: the tags are checked then.
            req.private.0.insert(UNVERIFIED_TAGS.into(), true.into());
            return;
        };
        let prior = req.prior.as_ref().and_then(|p| Spec::from(p).ok());
        let tags_changed = prior
            .as_ref()
            .is_none_or(|p| p.table_tags != after.table_tags || p.column_tags != after.column_tags);
        if let (Some(client), true) = (client, tags_changed) {
            let loaded = match ontology::tag_catalog(client).await {
                Ok(catalog) => Ontology::load(client).await.map(|o| (o, catalog)),
                Err(e) => Err(e),
            };
            match loaded {
                Ok((o, catalog)) => {
                    let uses = Self::tag_uses(&req.config);
                    // A key missing now may be created by this apply: apply checks again then.
                    if !o.check(&uses, false).is_empty() {
                        req.private.0.insert(UNVERIFIED_TAGS.into(), true.into());
                    }
                    req.diags
                        .extend(o.with_planned(&catalog).check(&uses, false));
                }
                Err(e) => req.diags.extend(aws_diag(
                    "Cannot list LF-tags to check the product's tags",
                    &e,
                )),
            }
        } else if tags_changed {
            req.private.0.insert(UNVERIFIED_TAGS.into(), true.into());
        }
        let (Some(prior_model), Some(before)) = (req.prior.clone(), prior) else {
            return;
        };
        let contract_at = AttributePath::attr("schema_contract");
        if before.data_format != after.data_format {
            req.diags.error_at(contract_at.then_attr("data_format"), "Data format cannot change", format!(
                "The registry schema {} is {}; a schema's data format cannot change. Replace the product (terraform apply -replace=...) to start a new contract.",
                after.schema_name(), before.data_format.as_str()));
        }
        if before.registry != after.registry {
            req.diags.error_at(contract_at.then_attr("registry"), "Registry cannot change", format!(
                "The contract lives in registry {:?}; moving it would lose its version history. Replace the product (terraform apply -replace=...) to start it in {:?}.",
                before.registry, after.registry));
        }
        if !before.same_schema(&after) {
            let history = if after.compatibility.checks_all_versions() {
                match client {
                    Some(client) => match self.history(client, &before).await {
                        Ok(h) => h,
                        Err(d) => {
                            req.diags.extend(d);
                            return;
                        }
                    },
                    None => vec![before.columns.clone()],
                }
            } else {
                vec![before.columns.clone()]
            };
            for problem in reg::check_compatibility(after.compatibility, &history, &after.columns) {
                let index = after
                    .columns
                    .iter()
                    .position(|c| c.name == problem.column.split('.').next().unwrap_or_default());
                let path = match index {
                    Some(i) => AttributePath::attr("column").then_index(i),
                    None => AttributePath::attr("column"),
                };
                req.diags
                    .error_at(path, "Incompatible schema change", problem.message);
            }
        } else if !req.private.0.contains_key(DRIFT_SCHEMA) {
            req.planned.schema_version_number = prior_model.schema_version_number;
        }
        let content_same = Spec {
            force_destroy: false,
            ..before.clone()
        } == Spec {
            force_destroy: false,
            ..after.clone()
        };
        if content_same && !req.private.0.contains_key(DRIFT_CONTRACT) {
            req.planned.contract_sha256 = prior_model.contract_sha256.clone();
        }
        if content_same && !req.private.0.contains_key(DRIFT_SCHEMA) {
            req.planned.schema_version_number = prior_model.schema_version_number;
        }
        if req.private.0.contains_key(DRIFT_CONTRACT) || req.private.0.contains_key(DRIFT_SCHEMA) {
            req.planned.contract_sha256 = Attr::Unknown;
        }
        if req.private.0.contains_key(DRIFT_SCHEMA) {
            req.planned.schema_version_number = Attr::Unknown;
        }
    }
}
