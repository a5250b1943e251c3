//! `mesh_data_product`: one governed data product: its Glue table under the domain's bucket,
//! LF-tags on the table and its columns, a schema contract in the Glue Schema Registry with
//! compatibility checked at plan time, quality rules (DQDL), a freshness SLA, and the
//! machine-readable contract document consumers and discovery read.
//!
//! The Glue Data Quality ruleset itself is carried in the contract document (as a DQDL ruleset)
//! rather than created with CreateDataQualityRuleset, which the local emulator does not serve.

use super::ontology::{self, Ontology, TagUse};
use super::{aws_diag, known, storage};
use super::{Mesh, Owner};
use crate::aws::Service;
use crate::contract::columns::{check_column_name, Column};
use crate::contract::document::Contract;
use crate::contract::dqdl;
use crate::contract::format::Format;
use crate::contract::glue_type::{self, GlueType};
use crate::contract::schema::{self as reg, Compatibility, DataFormat};
use crate::framework::value::{Attr, Value};
use crate::framework::{
    invalid_import_id, Attribute, AttributePath, Block, Diagnostic, Diagnostics, Failure,
    NestedBlock, Nesting, PlanRequest, Private, Resource, Schema, Type, Validator,
};
use crate::resources::Action;
use crate::rules::{self, database_name};
use async_trait::async_trait;
use aws_sdk_glue::types::{
    Column as GlueColumn, SchemaId, SerDeInfo, StorageDescriptor, TableInput,
};
use aws_sdk_lakeformation::types::{
    Resource as LfResource, TableResource, TableWithColumnsResource,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;

mod alarms;
mod apply;
mod find;
mod flex;
mod model;
mod plan;
mod registry;
mod spec;

use alarms::AlarmSpec;
use model::*;
pub use model::{ColumnBlock, DataProduct, Model, PartitionKey, SchemaContract, Sla};
use plan::Drift;
use spec::*;

#[async_trait]
impl Resource for DataProduct {
    type Model = Model;
    type Client = Mesh;
    type Id = ProductId;
    type Spec = Spec;
    type Found = find::Found;

    fn type_name(&self) -> &'static str {
        "mesh_data_product"
    }

    fn schema(&self) -> Schema {
        model::schema()
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        model::validate(config, diags)
    }

    async fn modify_plan(&self, client: Option<&Mesh>, req: &mut PlanRequest<Model>) {
        self.plan(client, req).await
    }

    fn spec(&self, model: &Model) -> Result<Spec, Diagnostics> {
        Spec::from(model)
    }

    fn id(&self, state: &Model) -> Result<ProductId, Diagnostics> {
        Ok(ProductId {
            domain: known(&state.domain, "domain")?.clone(),
            name: known(&state.name, "name")?.clone(),
        })
    }

    async fn parse_id(&self, _client: &Mesh, raw: &str) -> Result<ProductId, Diagnostics> {
        ProductId::parse(raw).map_err(|p| invalid_import_id(p, "<domain>/<name>"))
    }

    async fn find(
        &self,
        client: &Mesh,
        id: &ProductId,
    ) -> Result<Option<find::Found>, Diagnostics> {
        self.lookup(client, id).await
    }

    fn flatten(&self, _id: &ProductId, found: find::Found, prior: &Model) -> Model {
        flex::flatten(&found, prior)
    }

    async fn create(
        &self,
        client: &Mesh,
        spec: Spec,
        planned: Model,
        private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let mut drift = private.load::<Drift>();
        let verify = std::mem::take(&mut drift.unverified_tags);
        private.store(&drift);
        let checks = async {
            // The plan verified the tags unless it said otherwise; some implementations accept
            // undefined keys, so what the plan could not verify is checked now.
            if verify {
                let ontology = Ontology::load(client)
                    .await
                    .map_err(|e| aws_diag(Action::List, "LF-tags", &e))?;
                let problems = ontology.check(&Self::tag_uses(&planned), true);
                if problems.has_errors() {
                    return Err(problems);
                }
            }
            self.home(client, &spec.domain).await
        };
        let (home, schema) = futures::join!(checks, self.adopt_or_create_schema(client, &spec));
        let (reg, schema_created) = match schema {
            Ok(s) => s,
            Err(d) => {
                let mut diags = d;
                if let Err(more) = home {
                    diags.extend(more);
                }
                return Err(Failure::clean(diags));
            }
        };
        let home = match home {
            Ok(h) => h,
            Err(diags) => {
                return Err(self
                    .fail(client, &spec, None, schema_created, false, diags, &planned)
                    .await)
            }
        };
        let input = match self.table_input(&spec, &home, &reg) {
            Ok(i) => i,
            Err(diags) => {
                return Err(self
                    .fail(
                        client,
                        &spec,
                        Some(&home),
                        schema_created,
                        false,
                        diags,
                        &planned,
                    )
                    .await)
            }
        };
        let created = client
            .call(Service::Glue, "CreateTable", || {
                client
                    .glue()
                    .create_table()
                    .database_name(spec.database())
                    .table_input(input.clone())
                    .send()
            })
            .await;
        if let Err(e) = created {
            let diags = aws_diag(
                Action::Create,
                format!("table {}.{}", spec.database(), spec.name),
                &e,
            );
            return Err(self
                .fail(
                    client,
                    &spec,
                    Some(&home),
                    schema_created,
                    false,
                    diags,
                    &planned,
                )
                .await);
        }
        let (tagged, contract, alarms) = futures::join!(
            self.tag_new(client, &spec, &home),
            self.put_contract(client, &spec, &home, &reg),
            self.sync_alarms(client, &spec, &[])
        );
        let sha = match (tagged, contract, alarms) {
            (Ok(()), Ok(sha), Ok(())) => sha,
            (t, c, a) => {
                let mut diags = Diagnostics::new();
                for d in [t.err(), c.err(), a.err()].into_iter().flatten() {
                    diags.extend(d);
                }
                return Err(self
                    .fail(
                        client,
                        &spec,
                        Some(&home),
                        schema_created,
                        true,
                        diags,
                        &planned,
                    )
                    .await);
            }
        };
        Ok(self.state(&spec, &home, &reg, sha, &planned))
    }

    async fn read(
        &self,
        client: &Mesh,
        state: Model,
        private: &mut Private,
    ) -> Result<Option<Model>, Diagnostics> {
        let id = self.id(&state)?;
        let Some(found) = self.find(client, &id).await? else {
            return Ok(None);
        };
        let mut model = flex::flatten(&found, &state);
        let freshness = model
            .sla
            .known()
            .and_then(|s| s.freshness_minutes.known().copied());
        let mut drift = Drift {
            schema: found.schema.is_none(),
            alarms: alarms::reshaped(&id, freshness, &found.alarms),
            ..private.load::<Drift>()
        };
        match &found.document {
            Some(bytes) => {
                // One source of truth: the document must be the one the product as read
                // publishes. A failed write after the table changed, an edit out of band or
                // an older document all differ, and the next apply rewrites it.
                let params = found.table.parameters.clone().unwrap_or_default();
                let owner = (
                    params.get(P_TEAM).cloned().unwrap_or_default(),
                    params.get(P_EMAIL).cloned().unwrap_or_default(),
                );
                let stale = found.schema.is_some()
                    && self.expected_contract(&model, owner)?.as_deref() != Some(&bytes[..]);
                drift.contract = stale;
                model.contract_sha256 = Attr::Known(Contract::sha256_hex(bytes));
            }
            None => drift.contract = true,
        }
        private.store(&drift);
        Ok(Some(model))
    }

    async fn update(
        &self,
        client: &Mesh,
        prior: Model,
        after: Spec,
        planned: Model,
        private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let before = Spec::from(&prior).map_err(Failure::clean)?;
        let keep = |d: Diagnostics| Failure::partial(prior.clone(), d);
        let home = self.home(client, &after.domain).await.map_err(keep)?;
        let mut drift = private.load::<Drift>();
        let verify = std::mem::take(&mut drift.unverified_tags);
        private.store(&drift);
        if verify {
            let ontology = Ontology::load(client)
                .await
                .map_err(|e| keep(aws_diag(Action::List, "LF-tags", &e)))?;
            let problems = ontology.check(&Self::tag_uses(&planned), true);
            if problems.has_errors() {
                return Err(keep(problems));
            }
        }
        let mut reg = Registered {
            arn: prior.schema_arn.known().cloned().unwrap_or_default(),
            version: prior.schema_version_number.known().copied().unwrap_or(1),
        };
        if drift.schema {
            let (r, _) = self
                .adopt_or_create_schema(client, &after)
                .await
                .map_err(keep)?;
            reg = r;
        } else if !before.same_schema(&after) {
            reg.version = self.register_version(client, &after).await.map_err(keep)?;
        }
        if before.compatibility != after.compatibility {
            client
                .call(Service::Glue, "UpdateSchema", || {
                    client
                        .glue()
                        .update_schema()
                        .schema_id(Self::schema_id(&after))
                        .compatibility(aws_sdk_glue::types::Compatibility::from(
                            after.compatibility.as_str(),
                        ))
                        .send()
                })
                .await
                .map_err(|e| {
                    keep(aws_diag(
                        Action::Update,
                        format!("the compatibility of {}", after.schema_name()),
                        &e,
                    ))
                })?;
        }
        let input = self.table_input(&after, &home, &reg).map_err(keep)?;
        client
            .call(Service::Glue, "UpdateTable", || {
                client
                    .glue()
                    .update_table()
                    .database_name(after.database())
                    .table_input(input.clone())
                    .send()
            })
            .await
            .map_err(|e| {
                keep(aws_diag(
                    Action::Update,
                    format!("table {}.{}", after.database(), after.name),
                    &e,
                ))
            })?;
        // The prior state may show the domain tag absent: retag from what it says.
        let current = ontology::attached(&prior.lf_tags, &before.domain);
        let what = format!("table {}.{}", after.database(), after.name);
        let table =
            table_resource(&home.catalog_id, &after.database(), &after.name).map_err(keep)?;
        ontology::retag(
            client,
            &table,
            &home.catalog_id,
            &current,
            &after.table_tags,
            &what,
        )
        .await
        .map_err(keep)?;
        // Columns: one call per distinct (before, after) tag change.
        let groups = apply::column_tag_changes(&prior, &after);
        for ((was, now), names) in groups {
            let res = columns_resource(
                &home.catalog_id,
                &after.database(),
                &after.name,
                names.clone(),
            )
            .map_err(keep)?;
            ontology::retag(
                client,
                &res,
                &home.catalog_id,
                &was,
                &now,
                &format!("columns {} of {what}", names.join(", ")),
            )
            .await
            .map_err(keep)?;
        }
        let wanted: Vec<String> = alarms::expected(&after)
            .into_iter()
            .map(|a| a.name)
            .collect();
        if drift.alarms
            || before.freshness != after.freshness
            || before.watch != after.watch
            || prior.alarm_names.known() != Some(&wanted)
        {
            // Both names: an alarm made outside Terraform under a name no longer declared goes.
            let had: Vec<String> = alarms::names(&after.id()).into();
            let had = match prior.alarm_names.known() {
                Some(known) if !drift.alarms => known.clone(),
                _ => had,
            };
            self.sync_alarms(client, &after, &had).await.map_err(keep)?;
        }
        let sha = self
            .put_contract(client, &after, &home, &reg)
            .await
            .map_err(keep)?;
        private.store(&Drift::default());
        Ok(self.state(&after, &home, &reg, sha, &planned))
    }

    async fn delete(
        &self,
        client: &Mesh,
        state: Model,
        _private: &Private,
    ) -> Result<(), Diagnostics> {
        let spec = Spec::from(&state)?;
        let bucket = state.location.known().and_then(|l| bucket_of(l));
        let metadata = async {
            match &bucket {
                Some(b) => {
                    storage::delete_prefix(client, b, &format!("{}_metadata/", spec.prefix())).await
                }
                None => Ok(()),
            }
        };
        let alarms = state.alarm_names.known().cloned().unwrap_or_default();
        let (t, s, m, a) = futures::join!(
            self.delete_table(client, &spec),
            self.delete_schema(client, &spec),
            metadata,
            self.delete_alarms(client, &alarms)
        );
        let mut diags = Diagnostics::new();
        for r in [t, s, m, a] {
            if let Err(d) = r {
                diags.extend(d);
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        if let (true, Some(b)) = (spec.force_destroy, &bucket) {
            storage::delete_prefix(client, b, &spec.prefix()).await?;
        }
        Ok(())
    }

    /// Import finds the product, then returns what read needs to fill in the rest.
    async fn import(&self, client: &Mesh, raw: &str) -> Result<Model, Diagnostics> {
        let id = self.parse_id(client, raw).await?;
        self.import_product(client, &id).await
    }
}
