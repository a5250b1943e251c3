//! `mesh_product_link`: the consumer side of a shared data product: a Glue resource link in the
//! consumer account's catalog that points at a table in the producer's catalog, in a local
//! database for links that is created when missing (Lake Formation-only).
//!
//! A link's target cannot be changed in place: Glue documents `TargetTable` only for creating a
//! link, and the AWS provider's `aws_glue_catalog_table` also forces a new link when it changes.
//! So every argument here replaces the link; a link holds no data, so replacing it loses nothing.

use super::grants;
use super::Mesh;
use super::{aws_diag, known};
use crate::aws::Found as _;
use crate::aws::{AwsError, Service};
use crate::framework::value::Attr;
use crate::framework::{
    invalid_import_id, Attribute, Block, Diagnostic, Diagnostics, Failure, NestedBlock, Nesting,
    PlanRequest, Private, Resource, Schema, Validator,
};
use crate::resources::Action;
use crate::rules::{check_glue_name, is_account_id};
use async_trait::async_trait;
use aws_sdk_glue::types::{DatabaseInput, Table, TableIdentifier, TableInput};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

mod glue;
mod spec;
use spec::*;

/// Database parameter marking a links database that a `mesh_product_link` created: only such a
/// database is ever deleted, and only once it is empty.
pub use crate::rules::param::CREATED_BY as P_CREATED_BY;
/// The value of [`P_CREATED_BY`].
pub const CREATED_BY: &str = "mesh_product_link";

/// The resource.
#[derive(Debug, Default)]
pub struct ProductLink;

/// `source { catalog_id, database, table }`: the shared table the link points at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The producer's catalog (account id).
    pub catalog_id: Attr<String>,
    /// The producer's database.
    pub database: Attr<String>,
    /// The producer's table.
    pub table: Attr<String>,
}

/// `mesh_product_link`'s model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// `<database>/<name>`.
    pub id: Attr<String>,
    /// The shared table.
    pub source: Attr<Source>,
    /// The local database holding the link.
    pub database: Attr<String>,
    /// The link's name.
    pub name: Attr<String>,
    /// The consumer's catalog (account id) holding the link.
    pub catalog_id: Attr<String>,
}

#[async_trait]
impl Resource for ProductLink {
    type Model = Model;
    type Client = Mesh;
    type Id = LinkId;
    type Spec = Spec;
    type Found = Found;

    fn type_name(&self) -> &'static str {
        "mesh_product_link"
    }

    fn schema(&self) -> Schema {
        let account_id = Validator::string("12-digit account id", "Invalid catalog id", |s| {
            (!is_account_id(s)).then(|| format!("{s:?} is not a 12-digit AWS account id."))
        });
        Schema::new(
            Block::new(
                "The consumer side of a shared data product: a Glue **resource link** in this \
                 account's Data Catalog that points at a table in the producer's catalog (shared \
                 with this account by a `mesh_product_grant`). Query engines such as Athena reach \
                 the shared table through the link.\n\n\
                 The link lives in `database`, a local database for links. When that database is \
                 missing it is created Lake Formation-only (no default permissions for new tables, \
                 no `IAM_ALLOWED_PRINCIPALS` grant) and marked with the parameter \
                 `mesh:created_by = mesh_product_link`. Destroy deletes the link, and deletes the \
                 database only when it carries that mark and holds nothing else: a database you \
                 made yourself, or one that still holds tables or other links, is never deleted.\n\n\
                 A link that was deleted outside Terraform is planned for re-creation; a link \
                 that now points at another table shows the difference on `source` and is \
                 replaced. Glue does not change a link's target in place, so changing `source`, \
                 `database` or `name` replaces the link (it holds no data; Lake Formation \
                 permissions granted on the link itself must be granted again).\n\n\
                 Grants on the target table are made in the producer's account \
                 (`mesh_product_grant`); a link does not grant anything.\n\n\
                 Import with `terraform import mesh_product_link.NAME <database>/<name>`.",
            )
            .attribute(
                Attribute::string("id")
                    .computed()
                    .use_state_for_unknown()
                    .describe("`<database>/<name>`."),
            )
            .attribute(
                Attribute::string("database")
                    .required()
                    .requires_replace()
                    .describe("The local Glue database that holds the link, e.g. `shared_products`. Created (Lake Formation-only) when missing. Lower case, 1 to 255 characters. Changing it replaces the link.")
                    .validate(name_validator()),
            )
            .attribute(
                Attribute::string("name")
                    .optional()
                    .computed()
                    .requires_replace()
                    .describe("The link's name in `database`. Defaults to the source table's name. Lower case, 1 to 255 characters. Changing it replaces the link.")
                    .validate(name_validator()),
            )
            .attribute(
                Attribute::string("catalog_id")
                    .computed()
                    .use_state_for_unknown()
                    .describe("The account whose Data Catalog holds the link (the consumer's)."),
            )
            .block(
                NestedBlock::new(
                    "source",
                    Nesting::Single,
                    Block::new("The shared table the link points at, in the producer's catalog.")
                        .attribute(
                            Attribute::string("catalog_id")
                                .required()
                                .requires_replace()
                                .describe("The producer's account id (12 digits), whose catalog holds the table.")
                                .validate(account_id),
                        )
                        .attribute(
                            Attribute::string("database")
                                .required()
                                .requires_replace()
                                .describe("The producer's database, e.g. `commerce_products`.")
                                .validate(name_validator()),
                        )
                        .attribute(
                            Attribute::string("table")
                                .required()
                                .requires_replace()
                                .describe("The producer's table, e.g. `orders`.")
                                .validate(name_validator()),
                        ),
                )
                .required(),
            ),
        )
    }

    async fn modify_plan(&self, _client: Option<&Mesh>, req: &mut PlanRequest<Model>) {
        // `name` defaults to the source table's name (unknown while that is unknown).
        if req.config.name.is_null() {
            req.planned.name = match &req.config.source {
                Attr::Known(source) => source.table.clone(),
                _ => Attr::Unknown,
            };
        }
        // The id follows from the configuration: show it in the plan.
        if let (Attr::Known(database), Attr::Known(name)) =
            (&req.planned.database, &req.planned.name)
        {
            req.planned.id = Attr::Known(format!("{database}/{name}"));
        }
    }

    fn spec(&self, model: &Model) -> Result<Spec, Diagnostics> {
        Spec::from(model)
    }

    fn id(&self, state: &Model) -> Result<LinkId, Diagnostics> {
        Ok(LinkId {
            database: known(&state.database, "database")?.clone(),
            name: known(&state.name, "name")?.clone(),
        })
    }

    async fn parse_id(&self, _client: &Mesh, raw: &str) -> Result<LinkId, Diagnostics> {
        let (database, name) =
            parse_id(raw).map_err(|p| invalid_import_id(p, "<database>/<name>"))?;
        Ok(LinkId { database, name })
    }

    /// GetTable: the link; `None` when no table (or database) has that name.
    async fn find(&self, client: &Mesh, id: &LinkId) -> Result<Option<Found>, Diagnostics> {
        let found = self.get_table(client, &id.database, &id.name).await?;
        Self::link(id, found)
    }

    fn flatten(&self, id: &LinkId, found: Found, _prior: &Model) -> Model {
        flatten(id, found)
    }

    async fn create(
        &self,
        client: &Mesh,
        spec: Spec,
        _planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let created_database = self
            .ensure_database(client, &spec.database)
            .await
            .map_err(Failure::clean)?;
        match self.create_link(client, &spec).await {
            Ok(catalog_id) => Ok(spec.state(&catalog_id)),
            Err(mut diags) => {
                // Undo: a database made only for this link must not be left behind.
                if created_database {
                    if let Err(more) = self.delete_database_if_ours(client, &spec.database).await {
                        diags.extend(more);
                    }
                }
                Err(Failure::clean(diags))
            }
        }
    }

    async fn update(
        &self,
        _client: &Mesh,
        prior: Model,
        _spec: Spec,
        planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        // Every argument replaces the link, so an update changes nothing in AWS; it only carries
        // the computed values over.
        Ok(Model {
            id: prior.id,
            catalog_id: prior.catalog_id,
            ..planned
        })
    }

    async fn delete(
        &self,
        client: &Mesh,
        state: Model,
        _private: &Private,
    ) -> Result<(), Diagnostics> {
        let database = known(&state.database, "database")?.clone();
        let name = known(&state.name, "name")?.clone();
        match self.get_table(client, &database, &name).await? {
            Lookup::Link(..) => {
                client
                    .call(Service::Glue, "DeleteTable", || {
                        client
                            .glue()
                            .delete_table()
                            .database_name(&database)
                            .name(&name)
                            .send()
                    })
                    .await
                    .or_gone()
                    .map_err(|e| {
                        aws_diag(
                            Action::Delete,
                            format!("resource link {database}.{name}"),
                            &e,
                        )
                    })?;
            }
            // Gone already, or replaced by a real table, which holds data and is not ours.
            Lookup::Gone | Lookup::NotALink => {}
        }
        self.delete_database_if_ours(client, &database).await
    }
}
