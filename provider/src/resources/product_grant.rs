//! `mesh_product_grant`: a named grant of one data product (a Glue table) to a consumer, in
//! this account or another: DESCRIBE on the product's database and the permissions on its table,
//! optionally on some columns only. Changed in place without an access gap.

use super::grants::{self, check_principal, Columns, Filter, Grant, Target, TABLE_PERMISSIONS};
use super::Mesh;
use super::{aws_diag, known};
use crate::aws::AwsError;
use crate::framework::value::{Attr, Value};
use crate::framework::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, Failure, PlanRequest, Private,
    Resource, Schema, Type, Validator,
};
use crate::rules::{self, check_domain_name, database_name, is_account_id};
use async_trait::async_trait;
use aws_sdk_lakeformation::types::DataLakeResourceType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Private-state flag read leaves when the database DESCRIBE grant is missing (it has no
/// attribute of its own), so the plan shows an update that restores it.
const DRIFT_DATABASE: &str = "database_grant_missing";

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

/// A parsed `mesh_product_grant` id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantId {
    /// Catalog (account) id.
    pub catalog_id: String,
    /// Principal.
    pub principal: String,
    /// Database name.
    pub database: String,
    /// Table name.
    pub table: String,
}

impl GrantId {
    /// `CATALOG|PRINCIPAL|DATABASE.TABLE`.
    pub fn render(&self) -> String {
        format!(
            "{}|{}|{}.{}",
            self.catalog_id, self.principal, self.database, self.table
        )
    }

    /// Parses [`GrantId::render`]'s format.
    pub fn parse(id: &str) -> Result<Self, String> {
        let parts: Vec<&str> = id.splitn(3, '|').collect();
        let [catalog, principal, target] = parts.as_slice() else {
            return Err(format!("{id:?} is not CATALOG|PRINCIPAL|DATABASE.TABLE."));
        };
        if !is_account_id(catalog) {
            return Err(format!(
                "{catalog:?} (before the first `|`) is not a 12-digit catalog id."
            ));
        }
        if let Some(p) = check_principal(principal) {
            return Err(p);
        }
        let Some((database, table)) = target.split_once('.') else {
            return Err(format!("{target:?} is not DATABASE.TABLE."));
        };
        for n in [database, table] {
            if let Some(p) = check_glue_name(n) {
                return Err(p);
            }
        }
        Ok(Self {
            catalog_id: catalog.to_string(),
            principal: principal.to_string(),
            database: database.to_string(),
            table: table.to_string(),
        })
    }
}

/// What is wrong with a Glue database or table name here, if anything: Glue's rules, and no `.`
/// or `|`, which separate the parts of this resource's id.
fn check_glue_name(name: &str) -> Option<String> {
    rules::check_glue_name(name).or_else(|| {
        name.chars().find(|c| matches!(c, '.' | '|')).map(|c| {
            format!("{name:?} contains {c:?}, which separates the parts of this grant's id.")
        })
    })
}

/// What is wrong with a `<domain>/<name>` product reference, if anything.
fn check_product(s: &str) -> Option<String> {
    let Some((domain, name)) = s.split_once('/') else {
        return Some(format!(
            "{s:?} is not DOMAIN/NAME (for example \"commerce/orders\")."
        ));
    };
    check_domain_name(domain).or_else(|| {
        let ok = !name.is_empty()
            && name.len() <= 128
            && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        (!ok).then(|| format!("{name:?} is not a product name: 1 to 128 lowercase letters, digits and underscores, starting with a letter."))
    })
}

/// The product a table is, when it is a domain's product in `account`'s own catalog.
fn product_of(catalog: &str, account: &str, database: &str, table: &str) -> Option<String> {
    let domain = database.strip_suffix("_products")?;
    (catalog == account
        && check_domain_name(domain).is_none()
        && check_product(&format!("{domain}/{table}")).is_none())
    .then(|| format!("{domain}/{table}"))
}

/// Everything the grant operations need, from a model whose values are known.
#[derive(Debug, Clone)]
struct Spec {
    catalog_id: String,
    database: String,
    table: String,
    principal: String,
    permissions: BTreeSet<String>,
    columns: Option<Columns>,
}

impl Spec {
    fn from(m: &Model) -> Result<Self, Diagnostics> {
        let columns = match (&m.columns, &m.excluded_columns) {
            (Attr::Known(c), _) => Some(Columns::Only(c.clone())),
            (_, Attr::Known(c)) if !c.is_empty() => Some(Columns::Except(c.clone())),
            _ => None,
        };
        Ok(Self {
            catalog_id: known(&m.catalog_id, "catalog_id")?.clone(),
            database: known(&m.database, "database")?.clone(),
            table: known(&m.table, "table")?.clone(),
            principal: known(&m.principal, "principal")?.clone(),
            permissions: known(&m.permissions, "permissions")?.clone(),
            columns,
        })
    }

    fn id(&self) -> String {
        GrantId {
            catalog_id: self.catalog_id.clone(),
            principal: self.principal.clone(),
            database: self.database.clone(),
            table: self.table.clone(),
        }
        .render()
    }

    fn database_target(&self) -> Target {
        Target::Database {
            catalog_id: self.catalog_id.clone(),
            name: self.database.clone(),
        }
    }

    fn table_target(&self) -> Target {
        Target::Table {
            catalog_id: self.catalog_id.clone(),
            database: self.database.clone(),
            name: self.table.clone(),
        }
    }

    fn columns_target(&self, columns: &Columns) -> Target {
        Target::Columns {
            catalog_id: self.catalog_id.clone(),
            database: self.database.clone(),
            name: self.table.clone(),
            columns: columns.clone(),
        }
    }

    fn database_grant(&self) -> Grant {
        Grant::new(&self.principal, self.database_target(), [DESCRIBE])
    }

    /// The grants on the table: with columns, SELECT on those columns and the other permissions
    /// on the table; without, every permission on the table.
    fn table_grants(&self) -> Vec<Grant> {
        let mut out = Vec::new();
        let mut table_perms = self.permissions.clone();
        if let Some(cols) = &self.columns {
            if table_perms.remove(SELECT) {
                out.push(Grant::new(
                    &self.principal,
                    self.columns_target(cols),
                    [SELECT],
                ));
            }
        }
        if !table_perms.is_empty() {
            out.push(Grant::new(
                &self.principal,
                self.table_target(),
                table_perms,
            ));
        }
        out
    }

    fn grants(&self) -> Vec<Grant> {
        let mut out = vec![self.database_grant()];
        out.extend(self.table_grants());
        out
    }

    /// The model for what exists of this spec's table grants.
    fn state(&self, owned: &[Grant], account: &str) -> Model {
        let mut permissions = BTreeSet::new();
        let mut columns: Option<Columns> = None;
        for g in owned {
            match &g.target {
                Target::Table { .. } => permissions.extend(g.permissions.iter().cloned()),
                Target::Columns { columns: c, .. } => {
                    permissions.extend(g.permissions.iter().cloned());
                    columns = Some(c.clone());
                }
                _ => {}
            }
        }
        // Columns are part of what the grant is on: keep the declared ones (a column grant
        // gone entirely shows as SELECT missing).
        let columns = self.columns.clone().or(columns);
        let (cols, excluded) = match columns {
            Some(Columns::Only(c)) => (Attr::Known(c), Attr::Null),
            Some(Columns::Except(c)) => (Attr::Null, Attr::Known(c)),
            None => (Attr::Null, Attr::Null),
        };
        Model {
            id: Attr::Known(self.id()),
            product: product_of(&self.catalog_id, account, &self.database, &self.table).into(),
            catalog_id: Attr::Known(self.catalog_id.clone()),
            database: Attr::Known(self.database.clone()),
            table: Attr::Known(self.table.clone()),
            principal: Attr::Known(self.principal.clone()),
            permissions: Attr::Known(permissions),
            columns: cols,
            excluded_columns: excluded,
        }
    }
}

fn list_diag(spec: &Spec, e: &AwsError) -> Diagnostics {
    aws_diag(
        format!(
            "Cannot list the grants of {} on {}.{}",
            spec.principal, spec.database, spec.table
        ),
        e,
    )
}

/// What exists now of a spec's grants.
struct Found {
    table: Vec<Grant>,
    database: bool,
}

impl ProductGrant {
    /// What exists of `spec`'s grants, exactly as declared.
    async fn find(&self, client: &Mesh, spec: &Spec) -> Result<Found, Diagnostics> {
        let (table_grants, database_grant) = (spec.table_grants(), [spec.database_grant()]);
        let (table, database) = futures::join!(
            grants::read_owned(client, &table_grants),
            grants::read_owned(client, &database_grant)
        );
        Ok(Found {
            table: table.map_err(|e| list_diag(spec, &e))?,
            database: !database.map_err(|e| list_diag(spec, &e))?.is_empty(),
        })
    }

    /// Every grant of the principal on any table of the spec's database.
    async fn table_grants_in_database(
        &self,
        client: &Mesh,
        spec: &Spec,
    ) -> Result<Vec<Grant>, Diagnostics> {
        let all = grants::list(
            client,
            &Filter {
                catalog_id: spec.catalog_id.clone(),
                principal: Some(spec.principal.clone()),
                target: None,
                kind: Some(DataLakeResourceType::Table),
            },
        )
        .await
        .map_err(|e| list_diag(spec, &e))?;
        Ok(all
            .into_iter()
            .filter(|g| match &g.target {
                Target::Table { database, .. } | Target::Columns { database, .. } => {
                    *database == spec.database
                }
                _ => false,
            })
            .collect())
    }

    async fn account(&self, client: &Mesh) -> Result<String, Diagnostics> {
        client
            .account_id()
            .await
            .map_err(|e| aws_diag("Cannot find the caller's account id", &e))
    }

    /// The state after a failure part-way: what exists, or nothing.
    async fn after_failure(
        &self,
        client: &Mesh,
        spec: &Spec,
        diags: Diagnostics,
    ) -> Failure<Model> {
        let account = client.account_id().await.unwrap_or_default();
        match self.find(client, spec).await {
            Ok(found) if !found.table.is_empty() || found.database => {
                Failure::partial(spec.state(&found.table, &account), diags)
            }
            _ => Failure::clean(diags),
        }
    }
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
            Some(client) => match client.account_id().await {
                Ok(a) => Some(a),
                Err(e) => {
                    req.diags
                        .extend(aws_diag("Cannot find the caller's account id", &e));
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
        if req.prior.is_some() && req.private.0.contains_key(DRIFT_DATABASE) {
            req.planned.id = Attr::Unknown;
        }
    }

    async fn create(
        &self,
        client: &Mesh,
        mut planned: Model,
        private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let account = self.account(client).await.map_err(Failure::clean)?;
        if !planned.catalog_id.is_known() {
            planned.catalog_id = Attr::Known(account.clone());
        }
        let spec = Spec::from(&planned).map_err(Failure::clean)?;
        if let Err(diags) = grants::apply_change(client, &[], &spec.grants()).await {
            return Err(self.after_failure(client, &spec, diags).await);
        }
        private.0.remove(DRIFT_DATABASE);
        Ok(spec.state(&spec.table_grants(), &account))
    }

    async fn read(
        &self,
        client: &Mesh,
        state: Model,
        private: &mut Private,
    ) -> Result<Option<Model>, Diagnostics> {
        let account = self.account(client).await?;
        // After an import the permissions and columns are not known yet: whatever the
        // principal holds on the table counts.
        let import = state.permissions.is_null();
        let mut spec = Spec::from(&Model {
            permissions: Attr::Known(BTreeSet::new()),
            ..state.clone()
        })?;
        spec.permissions = state.permissions.known().cloned().unwrap_or_default();
        let (table, database) = if import {
            let on_table: Vec<Grant> = self
                .table_grants_in_database(client, &spec)
                .await?
                .into_iter()
                .filter(|g| match &g.target {
                    Target::Table { name, .. } | Target::Columns { name, .. } => {
                        *name == spec.table
                    }
                    _ => false,
                })
                .collect();
            let db = grants::read_owned(client, &[spec.database_grant()])
                .await
                .map_err(|e| list_diag(&spec, &e))?;
            (on_table, !db.is_empty())
        } else {
            let found = self.find(client, &spec).await?;
            (found.table, found.database)
        };
        if table.is_empty() && !database {
            return Ok(None);
        }
        if database {
            private.0.remove(DRIFT_DATABASE);
        } else {
            private.0.insert(DRIFT_DATABASE.into(), true.into());
        }
        Ok(Some(spec.state(&table, &account)))
    }

    async fn update(
        &self,
        client: &Mesh,
        prior: Model,
        planned: Model,
        private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let account = self.account(client).await.map_err(Failure::clean)?;
        let before = Spec::from(&prior).map_err(Failure::clean)?;
        let after = Spec::from(&planned).map_err(Failure::clean)?;
        // What exists now, not what the state says: the change then also restores drift (the
        // database grant included), and never revokes what is already gone.
        let found = self.find(client, &before).await.map_err(Failure::clean)?;
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
        private.0.remove(DRIFT_DATABASE);
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

    async fn import(&self, client: &Mesh, id: &str) -> Result<Model, Diagnostics> {
        let parsed = GrantId::parse(id).map_err(|problem| {
            Diagnostics::from(
                Diagnostic::error(
                    "Invalid import id",
                    format!("{problem} Import ids for mesh_product_grant are CATALOG|PRINCIPAL|DATABASE.TABLE."),
                )
                .at(AttributePath::attr("id")),
            )
        })?;
        let model = Model {
            id: Attr::Known(parsed.render()),
            product: Attr::Null,
            catalog_id: Attr::Known(parsed.catalog_id.clone()),
            database: Attr::Known(parsed.database.clone()),
            table: Attr::Known(parsed.table.clone()),
            principal: Attr::Known(parsed.principal.clone()),
            permissions: Attr::Null,
            columns: Attr::Null,
            excluded_columns: Attr::Null,
        };
        // Refuse to import what is not there, rather than import an empty shell.
        if self
            .read(client, model.clone(), &mut Private::default())
            .await?
            .is_none()
        {
            return Err(Diagnostic::error(
                "Cannot import a missing grant",
                format!(
                    "{} holds no grant on {}.{} in catalog {}.",
                    parsed.principal, parsed.database, parsed.table, parsed.catalog_id
                ),
            )
            .into());
        }
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn spec(columns: Option<Columns>) -> Spec {
        Spec {
            catalog_id: "444455556666".into(),
            database: "commerce_products".into(),
            table: "orders".into(),
            principal: "777788889999".into(),
            permissions: set(&["SELECT", "DESCRIBE"]),
            columns,
        }
    }

    #[test]
    fn ids_round_trip() {
        let id = GrantId {
            catalog_id: "444455556666".into(),
            principal: "arn:aws:iam::777788889999:role/Analyst".into(),
            database: "commerce_products".into(),
            table: "orders".into(),
        };
        assert_eq!(
            id.render(),
            "444455556666|arn:aws:iam::777788889999:role/Analyst|commerce_products.orders"
        );
        assert_eq!(GrantId::parse(&id.render()).unwrap(), id);
        assert!(GrantId::parse("444455556666|777788889999|orders").is_err());
        assert!(GrantId::parse("4444|777788889999|a.b").is_err());
        assert!(GrantId::parse("444455556666|bob|a.b").is_err());
    }

    #[test]
    fn columns_carry_select_and_the_rest_stays_on_the_table() {
        let g = spec(Some(Columns::Only(set(&["id", "total"])))).table_grants();
        assert_eq!(g.len(), 2);
        assert!(matches!(g[0].target, Target::Columns { .. }));
        assert_eq!(g[0].permissions, set(&["SELECT"]));
        assert_eq!(g[1].permissions, set(&["DESCRIBE"]));
        let g = spec(None).table_grants();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].permissions, set(&["SELECT", "DESCRIBE"]));
    }

    #[test]
    fn state_reads_back_what_was_granted() {
        let s = spec(Some(Columns::Except(set(&["email"]))));
        let m = s.state(&s.table_grants(), "444455556666");
        assert_eq!(m.permissions, Attr::Known(set(&["SELECT", "DESCRIBE"])));
        assert_eq!(m.excluded_columns, Attr::Known(set(&["email"])));
        assert_eq!(m.columns, Attr::Null);
        assert_eq!(m.product, Attr::Known("commerce/orders".into()));
        // In another account's catalog it is not "a product in this account".
        let m = s.state(&s.table_grants(), "111111111111");
        assert_eq!(m.product, Attr::Null);
    }

    #[test]
    fn both_references_are_accepted_only_when_they_agree() {
        let config = |database: &str, table: &str| Model {
            product: Attr::Known("commerce/orders".into()),
            database: Attr::Known(database.into()),
            table: Attr::Known(table.into()),
            principal: Attr::Known("777788889999".into()),
            ..Model::default()
        };
        let problems = |m: &Model| {
            let mut diags = Diagnostics::new();
            ProductGrant.validate(m, &mut diags);
            diags
                .0
                .iter()
                .map(|d| {
                    format!(
                        "{}: {}",
                        d.path.as_ref().map(ToString::to_string).unwrap_or_default(),
                        d.summary
                    )
                })
                .collect::<Vec<_>>()
        };
        assert!(problems(&config("commerce_products", "orders")).is_empty());
        assert_eq!(
            problems(&config("finance_products", "invoices")),
            [
                "database: Conflicting product reference",
                "table: Conflicting product reference"
            ]
        );
    }

    #[test]
    fn product_references() {
        assert!(check_product("commerce/orders").is_none());
        assert!(check_product("commerce").is_some());
        assert!(check_product("Commerce/orders").is_some());
        assert!(check_product("commerce/Orders").is_some());
    }
}
