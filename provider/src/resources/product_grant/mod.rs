//! `mesh_product_grant`: a named grant of one data product (a Glue table) to a consumer, in
//! this account or another: DESCRIBE on the product's database and the permissions on its table,
//! optionally on some columns only. Changed in place without an access gap.

use super::grants::{self, check_principal, Columns, Filter, Grant, Target, TABLE_PERMISSIONS};
use super::Mesh;
use super::{aws_diag, known};
use crate::aws::AwsError;
use crate::framework::value::{Attr, Value};
use crate::framework::PrivateState;
use crate::framework::{
    invalid_import_id, Attribute, AttributePath, Block, Diagnostics, Failure, PlanRequest, Private,
    Resource, Schema, Type, Validator,
};
use crate::rules::{self, check_domain_name, database_name, is_account_id};
use async_trait::async_trait;
use aws_sdk_lakeformation::types::DataLakeResourceType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

mod find;
mod spec;
use spec::*;

/// Private state: read found the database DESCRIBE grant missing (it has no attribute of its
/// own), so the plan shows an update that restores it.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
struct DatabaseGrantMissing(bool);

impl PrivateState for DatabaseGrantMissing {
    const KEY: &'static str = "database_grant_missing";
}

/// The permission column grants carry; every other permission is on the whole table.
const SELECT: &str = "SELECT";
/// What the consumer gets on the database, so it can see the table.
const DESCRIBE: &str = "DESCRIBE";

/// The resource.
#[derive(Debug, Default)]
pub struct ProductGrant;

/// `mesh_product_grant`'s model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// `CATALOG|PRINCIPAL|DATABASE.TABLE`.
    pub id: Attr<String>,
    /// `<domain>/<name>`.
    pub product: Attr<String>,
    /// The catalog holding the table.
    pub catalog_id: Attr<String>,
    /// Database name.
    pub database: Attr<String>,
    /// Table name.
    pub table: Attr<String>,
    /// Who receives the permissions.
    pub principal: Attr<String>,
    /// Permissions on the table.
    pub permissions: Attr<BTreeSet<String>>,
    /// Only these columns.
    pub columns: Attr<BTreeSet<String>>,
    /// Every column but these.
    pub excluded_columns: Attr<BTreeSet<String>>,
}

fn set_default(items: &[&str]) -> Value {
    Value::set(items.iter().map(|s| Value::String(s.to_string())).collect())
}

fn columns_validator() -> Validator {
    Validator::new("column names", |v, path, diags| {
        let Value::Set(items) = v else { return };
        if items.is_empty() {
            diags.error_at(
                path.clone(),
                "No columns",
                "List at least one column, or leave the attribute out to grant on every column.",
            );
        }
    })
}

#[async_trait]
impl Resource for ProductGrant {
    type Model = Model;
    type Client = Mesh;
    type Id = GrantId;
    type Spec = Spec;
    type Found = Found;

    fn type_name(&self) -> &'static str {
        "mesh_product_grant"
    }

    fn schema(&self) -> Schema {
        let perms = TABLE_PERMISSIONS.join("`, `");
        Schema::new(
            Block::new(
                "A named grant of one data product to a consumer: `DESCRIBE` on the product's \
                 database (so the consumer can see it) and `permissions` on its table, optionally \
                 on some columns only. The consumer (`principal`) may be in another account: an \
                 account id or a principal ARN; it then reaches the table through a \
                 `mesh_product_link`.\n\n\
                 Name the product either as `product = \"<domain>/<name>\"` (a `mesh_data_product` \
                 in this account: database `<domain>_products`, table `<name>`), or with \
                 `database` and `table` (and `catalog_id` for another catalog).\n\n\
                 Permission changes are made **in place and without an access gap**: new \
                 permissions are granted first, then the ones that left are revoked. The resource \
                 reads back exactly the grants it made (Lake Formation's implicit all-columns \
                 listing of a table `SELECT` is the same grant, and grants made by others are \
                 neither drift nor touched); a grant revoked outside Terraform shows as drift and \
                 the next apply restores it (a missing database grant shows as a change of `id`). \
                 Destroy revokes the table grants, and the database `DESCRIBE` only when the \
                 principal holds no other grant on a table of that database.\n\n\
                 Import with `terraform import mesh_product_grant.NAME 'CATALOG|PRINCIPAL|DATABASE.TABLE'`, \
                 for example `444455556666|777788889999|commerce_products.orders`.",
            )
            .attribute(
                Attribute::string("id")
                    .computed()
                    .use_state_for_unknown()
                    .describe("`CATALOG|PRINCIPAL|DATABASE.TABLE`."),
            )
            .attribute(
                Attribute::string("product")
                    .optional()
                    .computed()
                    .describe("The product, `<domain>/<name>`, in this account's catalog: the table `<name>` of the database `<domain>_products`. Set either this, or `database` and `table`; both only when they agree (as Terraform's generated configuration writes them). Computed from `database` and `table` when they name a domain's product in this account.")
                    .validate(Validator::string("DOMAIN/NAME", "Invalid product", check_product)),
            )
            .attribute(
                Attribute::string("catalog_id")
                    .optional()
                    .computed()
                    .requires_replace()
                    .use_state_for_unknown()
                    .describe("The Data Catalog (account id) holding the table. Defaults to the caller's account; only with `database` and `table`.")
                    .validate(Validator::string("12-digit account id", "Invalid catalog id", |s| {
                        (!is_account_id(s)).then(|| format!("{s:?} is not a 12-digit AWS account id."))
                    })),
            )
            .attribute(
                Attribute::string("database")
                    .optional()
                    .computed()
                    .requires_replace()
                    .describe("The Glue database holding the table (with `table`, instead of `product`). Changing it replaces the grant.")
                    .validate(Validator::string("Glue name", "Invalid database name", check_glue_name)),
            )
            .attribute(
                Attribute::string("table")
                    .optional()
                    .computed()
                    .requires_replace()
                    .describe("The Glue table (with `database`, instead of `product`). Changing it replaces the grant.")
                    .validate(Validator::string("Glue name", "Invalid table name", check_glue_name)),
            )
            .attribute(
                Attribute::string("principal")
                    .required()
                    .requires_replace()
                    .describe("Who receives the permissions: a 12-digit account id (its data lake administrators then grant on, typically through a `mesh_product_link`), an IAM role or user ARN (in any account), or an AWS Organizations organization or OU ARN. Changing it replaces the grant.")
                    .validate(Validator::string("a Lake Formation principal", "Invalid principal", check_principal)),
            )
            .attribute(
                Attribute::new("permissions", Type::set(Type::String))
                    .default_value(set_default(&[SELECT, DESCRIBE]))
                    .describe(format!("Permissions on the table: any of `{perms}`. Defaults to `SELECT` and `DESCRIBE`. Changed in place, without an access gap."))
                    .validate(Validator::size_between(1, TABLE_PERMISSIONS.len()))
                    .validate(Validator::one_of(TABLE_PERMISSIONS).each()),
            )
            .attribute(
                Attribute::new("columns", Type::set(Type::String))
                    .optional()
                    .requires_replace()
                    .describe("Grant `SELECT` on these columns only (the other permissions stay on the table). Conflicts with `excluded_columns`. Changing it replaces the grant: Lake Formation merges column grants, so a column set cannot be swapped for another in place.")
                    .validate(columns_validator()),
            )
            .attribute(
                Attribute::new("excluded_columns", Type::set(Type::String))
                    .optional()
                    .requires_replace()
                    .describe("Grant `SELECT` on every column but these. Conflicts with `columns`. Changing it replaces the grant.")
                    .validate(columns_validator()),
            ),
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        let has_product = !config.product.is_null();
        let (has_db, has_table) = (!config.database.is_null(), !config.table.is_null());
        // Both ways of naming the table may be written together when they agree, as
        // `terraform plan -generate-config-out` writes them; `catalog_id` is checked at plan.
        if let Some((domain, name)) = config.product.known().and_then(|p| p.split_once('/')) {
            let expected = [
                ("database", database_name(domain)),
                ("table", name.to_string()),
            ];
            for (attr, (at, want)) in [&config.database, &config.table].into_iter().zip(expected) {
                if let Attr::Known(got) = attr {
                    if *got != want {
                        diags.error_at(
                            AttributePath::attr(at),
                            "Conflicting product reference",
                            format!("`product` names {domain}/{name}, whose {at} is {want:?}, but `{at}` is {got:?}. Set either `product` (a product in this account), or `database` and `table` (with `catalog_id` for another catalog); both only when they agree."),
                        );
                    }
                }
            }
        }
        if !has_product {
            if !has_db && !has_table {
                diags.error_at(
                    AttributePath::attr("product"),
                    "Missing product",
                    "Set `product = \"<domain>/<name>\"`, or `database` and `table`.",
                );
            } else if !has_db || !has_table {
                let missing = if has_db { "table" } else { "database" };
                diags.error_at(
                    AttributePath::attr(missing),
                    "Incomplete table reference",
                    "`database` and `table` go together: set both.",
                );
            }
        }
        // Unknown may still turn out null (inside a `for_each`, validate sees every value as
        // unknown): only lists known to be set conflict. Plan validates the known values again.
        if config.columns.is_known() && config.excluded_columns.is_known() {
            diags.error_at(
                AttributePath::attr("excluded_columns"),
                "Conflicting column lists",
                "Set `columns` (only these) or `excluded_columns` (all but these), not both.",
            );
        }
        let restricted = config.columns.is_known() || config.excluded_columns.is_known();
        if let (true, Attr::Known(perms)) = (restricted, &config.permissions) {
            let at = if config.columns.is_known() {
                "columns"
            } else {
                "excluded_columns"
            };
            if perms.contains("ALL") {
                diags.error_at(
                    AttributePath::attr("permissions"),
                    "ALL with a column list",
                    format!("`ALL` covers every column of the table, which contradicts `{at}`; list the permissions instead (for example SELECT and DESCRIBE)."),
                );
            } else if !perms.contains(SELECT) {
                diags.error_at(
                    AttributePath::attr(at),
                    "Column list without SELECT",
                    format!("`{at}` restricts SELECT, which `permissions` does not include; add SELECT or remove `{at}`."),
                );
            }
        }
    }

    async fn modify_plan(&self, client: Option<&Mesh>, req: &mut PlanRequest<Model>) {
        if let Attr::Known(product) = &req.config.product {
            if let Some((domain, name)) = product.split_once('/') {
                req.planned.database = Attr::Known(database_name(domain));
                req.planned.table = Attr::Known(name.to_string());
            }
        }
        let account = match client {
            Some(client) => match client.account().await {
                Ok(a) => Some(a),
                Err(d) => {
                    req.diags.extend(d);
                    return;
                }
            },
            None => None,
        };
        if let (Attr::Known(product), Attr::Known(catalog), Some(account)) =
            (&req.config.product, &req.config.catalog_id, &account)
        {
            if catalog != account {
                req.diags.error_at(
                    AttributePath::attr("catalog_id"),
                    "Conflicting product reference",
                    format!("`product` names {product} in this account's catalog ({account}), but `catalog_id` is {catalog}. For a table in another catalog, set `database` and `table` instead of `product`."),
                );
                return;
            }
        }
        if req.planned.catalog_id.is_unknown() {
            if let Some(a) = &account {
                req.planned.catalog_id = Attr::Known(a.clone());
            }
        }
        if req.config.product.is_null() {
            req.planned.product = match (
                &account,
                &req.planned.catalog_id,
                &req.planned.database,
                &req.planned.table,
            ) {
                (Some(a), Attr::Known(c), Attr::Known(d), Attr::Known(t)) => {
                    product_of(c, a, d, t).into()
                }
                _ => Attr::Unknown,
            };
        }
        req.planned.id = match (
            &req.planned.catalog_id,
            &req.planned.principal,
            &req.planned.database,
            &req.planned.table,
        ) {
            (Attr::Known(c), Attr::Known(p), Attr::Known(d), Attr::Known(t)) => Attr::Known(
                GrantId {
                    catalog_id: c.clone(),
                    principal: p.clone(),
                    database: d.clone(),
                    table: t.clone(),
                }
                .render(),
            ),
            _ => Attr::Unknown,
        };
        // The database grant has no attribute: when read found it missing, plan an update
        // (shown on `id`) so apply restores it.
        if req.prior.is_some() && req.private.load::<DatabaseGrantMissing>().0 {
            req.planned.id = Attr::Unknown;
        }
    }

    async fn complete(&self, client: &Mesh, planned: &mut Model) -> Result<(), Diagnostics> {
        if !planned.catalog_id.is_known() {
            planned.catalog_id = Attr::Known(self.account(client).await?);
        }
        Ok(())
    }

    fn spec(&self, model: &Model) -> Result<Spec, Diagnostics> {
        Spec::from(model)
    }

    fn id(&self, state: &Model) -> Result<GrantId, Diagnostics> {
        Ok(GrantId {
            catalog_id: known(&state.catalog_id, "catalog_id")?.clone(),
            principal: known(&state.principal, "principal")?.clone(),
            database: known(&state.database, "database")?.clone(),
            table: known(&state.table, "table")?.clone(),
        })
    }

    async fn parse_id(&self, _client: &Mesh, raw: &str) -> Result<GrantId, Diagnostics> {
        GrantId::parse(raw).map_err(|p| invalid_import_id(p, "CATALOG|PRINCIPAL|DATABASE.TABLE"))
    }

    /// Whatever the principal holds on the table, any permission on any columns, and the
    /// database grant; `None` when it holds neither.
    async fn find(&self, client: &Mesh, id: &GrantId) -> Result<Option<Found>, Diagnostics> {
        let spec = Spec::of_id(id);
        let database_grant = [spec.database_grant()];
        let (in_database, db, account) = futures::join!(
            self.table_grants_in_database(client, &spec),
            grants::read_owned(client, &database_grant),
            self.account(client)
        );
        let table: Vec<Grant> = in_database?
            .into_iter()
            .filter(|g| match &g.target {
                Target::Table { name, .. } | Target::Columns { name, .. } => *name == id.table,
                _ => false,
            })
            .collect();
        let database = !db.map_err(|e| list_diag(&spec, &e))?.is_empty();
        Ok((!table.is_empty() || database).then(|| Found {
            table,
            database,
            account: account.unwrap_or_default(),
        }))
    }

    fn flatten(&self, id: &GrantId, found: Found, prior: &Model) -> Model {
        let mut spec = Spec::of_id(id);
        spec.columns = Spec::columns_of(prior);
        spec.state(&found.table, &found.account)
    }

    async fn create(
        &self,
        client: &Mesh,
        spec: Spec,
        _planned: Model,
        private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let account = self.account(client).await.map_err(Failure::clean)?;
        if let Err(diags) = grants::apply_change(client, &[], &spec.grants()).await {
            return Err(self.after_failure(client, &spec, diags).await);
        }
        private.store(&DatabaseGrantMissing(false));
        Ok(spec.state(&spec.table_grants(), &account))
    }

    async fn read(
        &self,
        client: &Mesh,
        state: Model,
        private: &mut Private,
    ) -> Result<Option<Model>, Diagnostics> {
        let id = self.id(&state)?;
        // After an import the permissions are not known yet: whatever the principal holds on
        // the table counts.
        let found = if state.permissions.is_null() {
            self.find(client, &id).await?
        } else {
            let spec = Spec::from(&state)?;
            Some(self.find_declared(client, &spec).await?)
                .filter(|f| !f.table.is_empty() || f.database)
        };
        let Some(found) = found else {
            return Ok(None);
        };
        // The database grant has no attribute of its own: a missing one is drift the plan shows.
        private.store(&DatabaseGrantMissing(!found.database));
        Ok(Some(self.flatten(&id, found, &state)))
    }

    async fn update(
        &self,
        client: &Mesh,
        prior: Model,
        after: Spec,
        _planned: Model,
        private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let account = self.account(client).await.map_err(Failure::clean)?;
        let before = Spec::from(&prior).map_err(Failure::clean)?;
        // What exists now, not what the state says: the change then also restores drift (the
        // database grant included), and never revokes what is already gone.
        let found = self
            .find_declared(client, &before)
            .await
            .map_err(Failure::clean)?;
        let mut owned = found.table;
        if found.database {
            owned.push(before.database_grant());
        }
        if let Err(diags) = grants::apply_change(client, &owned, &after.grants()).await {
            // Some new permissions may have been granted before the failure: read back the
            // union of old and new, so the state tracks (and destroy revokes) all of them.
            let union = Spec {
                permissions: before
                    .permissions
                    .union(&after.permissions)
                    .cloned()
                    .collect(),
                ..before
            };
            return Err(self.after_failure(client, &union, diags).await);
        }
        private.store(&DatabaseGrantMissing(false));
        Ok(after.state(&after.table_grants(), &account))
    }

    async fn delete(
        &self,
        client: &Mesh,
        state: Model,
        _private: &Private,
    ) -> Result<(), Diagnostics> {
        let spec = Spec::from(&state)?;
        grants::revoke(client, &spec.table_grants()).await?;
        // The database DESCRIBE serves every grant of this principal on the database's tables
        // (several products of one domain shared with one consumer): keep it while another
        // one remains, so destroying one grant does not hide the other products.
        let others = self.table_grants_in_database(client, &spec).await?;
        if others.is_empty() {
            grants::revoke(client, &[spec.database_grant()]).await?;
        }
        Ok(())
    }
}
