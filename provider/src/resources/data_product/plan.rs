//! The plan: defaults and unknowns for computed values, the ontology and compatibility checks,
//! and drift that has no attribute of its own.

use super::*;
use crate::framework::PrivateState;
use crate::resources::Action;

/// What read and plan learned that has no attribute of its own, carried in private state to
/// the plan and apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Drift {
    /// The contract document is missing or is not the one the product publishes.
    pub(super) contract: bool,
    /// The registry schema is gone.
    pub(super) schema: bool,
    /// The plan could not confirm every LF-tag against the ontology: apply checks again.
    pub(super) unverified_tags: bool,
    /// An SLA alarm was changed outside Terraform in a part no attribute shows.
    #[serde(default)]
    pub(super) alarms: bool,
}

impl PrivateState for Drift {
    const KEY: &'static str = "data_product";
}

impl DataProduct {
    pub(super) async fn plan(&self, client: Option<&Mesh>, req: &mut PlanRequest<Model>) {
        let mut drift = req.private.load::<Drift>();
        self.plan_with(client, req, &mut drift).await;
        req.private.store(&drift);
    }

    async fn plan_with(
        &self,
        client: Option<&Mesh>,
        req: &mut PlanRequest<Model>,
        drift: &mut Drift,
    ) {
        let Ok(after) = Spec::from(&req.planned) else {
            // Values known only at apply: the tags are checked then.
            drift.unverified_tags = true;
            return;
        };
        // The alarms follow from the configuration: show them in the plan.
        req.planned.alarm_names = if drift.alarms {
            Attr::Unknown
        } else {
            Attr::Known(
                alarms::expected(&after)
                    .into_iter()
                    .map(|a| a.name)
                    .collect(),
            )
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
                        drift.unverified_tags = true;
                    }
                    req.diags.extend(
                        o.with_planned(client.planned_tags(), &catalog)
                            .check(&uses, false),
                    );
                }
                Err(e) => req.diags.extend(aws_diag(
                    Action::List,
                    "LF-tags to check the product's tags",
                    &e,
                )),
            }
        } else if tags_changed {
            drift.unverified_tags = true;
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
        } else if !drift.schema {
            req.planned.schema_version_number = prior_model.schema_version_number;
        }
        let content_same = Spec {
            force_destroy: false,
            ..before.clone()
        } == Spec {
            force_destroy: false,
            ..after.clone()
        };
        if content_same && !drift.contract {
            req.planned.contract_sha256 = prior_model.contract_sha256.clone();
        }
        if content_same && !drift.schema {
            req.planned.schema_version_number = prior_model.schema_version_number;
        }
        if drift.contract || drift.schema {
            req.planned.contract_sha256 = Attr::Unknown;
        }
        if drift.schema {
            req.planned.schema_version_number = Attr::Unknown;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_travels_in_private_state_and_nothing_is_stored_when_there_is_none() {
        let mut private = Private::default();
        private.store(&Drift {
            contract: true,
            ..Drift::default()
        });
        let back: Drift = private.load();
        assert!(back.contract && !back.schema && !back.unverified_tags);
        private.store(&Drift::default());
        assert!(private.to_bytes().is_empty());
    }
}
