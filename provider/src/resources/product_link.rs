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
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, Failure, NestedBlock, Nesting,
    PlanRequest, Private, Resource, Schema, Validator,
};
use crate::rules::{check_glue_name, is_account_id};
use async_trait::async_trait;
use aws_sdk_glue::types::{DatabaseInput, Table, TableIdentifier, TableInput};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Database parameter marking a links database that a `mesh_product_link` created: only such a
/// database is ever deleted, and only once it is empty.
pub const P_CREATED_BY: &str = "mesh:created_by";
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

/// The link's coordinates and target, all known.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    database: String,
    name: String,
    target: Target,
}

/// Where a link points.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    catalog_id: String,
    database: String,
    table: String,
}

impl Spec {
    fn from(m: &Model) -> Result<Self, Diagnostics> {
        let source = known(&m.source, "source")?;
        Ok(Self {
            database: known(&m.database, "database")?.clone(),
            name: known(&m.name, "name")?.clone(),
            target: Target {
                catalog_id: known(&source.catalog_id, "source.catalog_id")?.clone(),
                database: known(&source.database, "source.database")?.clone(),
                table: known(&source.table, "source.table")?.clone(),
            },
        })
    }

    fn id(&self) -> String {
        format!("{}/{}", self.database, self.name)
    }

    fn state(&self, catalog_id: &str) -> Model {
        Model {
            id: Attr::Known(self.id()),
            source: Attr::Known(Source {
                catalog_id: Attr::Known(self.target.catalog_id.clone()),
                database: Attr::Known(self.target.database.clone()),
                table: Attr::Known(self.target.table.clone()),
            }),
            database: Attr::Known(self.database.clone()),
            name: Attr::Known(self.name.clone()),
            catalog_id: Attr::Known(catalog_id.to_string()),
        }
    }

    fn table_input(&self) -> Result<TableInput, Diagnostics> {
        TableInput::builder()
            .name(&self.name)
            .target_table(
                TableIdentifier::builder()
                    .catalog_id(&self.target.catalog_id)
                    .database_name(&self.target.database)
                    .name(&self.target.table)
                    .build(),
            )
            .build()
            .map_err(|e| Diagnostic::provider_bug(e).into())
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}.{}", self.catalog_id, self.database, self.table)
    }
}

/// The target of a Glue table, when it is a resource link.
fn target_of(table: &Table) -> Option<Target> {
    let t = table.target_table.as_ref()?;
    Some(Target {
        catalog_id: t.catalog_id.clone().unwrap_or_default(),
        database: t.database_name.clone().unwrap_or_default(),
        table: t.name.clone().unwrap_or_default(),
    })
}

/// Parses an import id `<database>/<name>`.
pub fn parse_id(id: &str) -> Result<(String, String), String> {
    let Some((database, name)) = id.split_once('/') else {
        return Err(format!(
            "{id:?} is not <database>/<name> (the local database and the link's name)."
        ));
    };
    for part in [database, name] {
        if let Some(problem) = check_glue_name(part) {
            return Err(problem);
        }
    }
    Ok((database.to_string(), name.to_string()))
}

fn name_validator() -> Validator {
    Validator::string("Glue name rules", "Invalid name", check_glue_name)
}

/// What the read found.
enum Found {
    /// No table (or no database) by that name.
    Gone,
    /// A resource link, pointing at the target, in this catalog.
    Link(Target, String),
    /// A table that is not a resource link.
    NotALink,
}

impl ProductLink {
    async fn get_table(
        &self,
        client: &Mesh,
        database: &str,
        name: &str,
    ) -> Result<Found, Diagnostics> {
        match client
            .call(Service::Glue, "GetTable", || {
                client
                    .glue()
                    .get_table()
                    .database_name(database)
                    .name(name)
                    .send()
            })
            .await
        {
            Ok(out) => Ok(match out.table {
                None => Found::Gone,
                Some(table) => match target_of(&table) {
                    Some(target) => Found::Link(target, table.catalog_id.unwrap_or_default()),
                    None => Found::NotALink,
                },
            }),
            // A missing database answers EntityNotFound too: the link is gone either way.
            Err(e) if e.is_not_found() => Ok(Found::Gone),
            Err(e) => Err(aws_diag(
                format!("Cannot read resource link {database}.{name}"),
                &e,
            )),
        }
    }

    /// Creates the links database when it is missing. Returns whether this call created it.
    async fn ensure_database(&self, client: &Mesh, name: &str) -> Result<bool, Diagnostics> {
        if super::find_database(client, name).await?.is_some() {
            return Ok(false);
        }
        let input = DatabaseInput::builder()
            .name(name)
            .description(
                "Resource links to shared data products (created by terraform-provider-mesh).",
            )
            .set_parameters(Some(HashMap::from([(
                P_CREATED_BY.to_string(),
                CREATED_BY.to_string(),
            )])))
            // Empty, not absent: an absent list lets the account default (IAM_ALLOWED_PRINCIPALS
            // ALL on every new table) apply, so IAM policies would bypass Lake Formation.
            .set_create_table_default_permissions(Some(Vec::new()))
            .build()
            .map_err(|e| Diagnostics::from(Diagnostic::provider_bug(e)))?;
        match client
            .call(Service::Glue, "CreateDatabase", || {
                client
                    .glue()
                    .create_database()
                    .database_input(input.clone())
                    .send()
            })
            .await
        {
            Ok(_) => {}
            // Another link created it meanwhile (links applied in parallel): use it.
            Err(e) if e.is_already_exists() => return Ok(false),
            Err(e) => return Err(aws_diag(format!("Cannot create Glue database {name}"), &e)),
        }
        // The account's CreateDatabaseDefaultPermissions may have granted IAM_ALLOWED_PRINCIPALS
        // on the new database; Lake Formation-only means none.
        if let Err(diags) = grants::revoke_iam_allowed(client, name).await {
            let _ = self.delete_database_if_ours(client, name).await;
            return Err(diags);
        }
        Ok(true)
    }

    /// Deletes the links database when a product link created it and it holds no table. A
    /// database someone else made, or one still holding tables or other links, stays.
    async fn delete_database_if_ours(&self, client: &Mesh, name: &str) -> Result<(), Diagnostics> {
        let Some(db) = super::find_database(client, name).await? else {
            return Ok(());
        };
        let ours = db
            .parameters
            .as_ref()
            .and_then(|p| p.get(P_CREATED_BY))
            .is_some_and(|v| v == CREATED_BY);
        if !ours {
            return Ok(());
        }
        let tables = client
            .call(Service::Glue, "GetTables", || {
                client
                    .glue()
                    .get_tables()
                    .database_name(name)
                    .max_results(1)
                    .send()
            })
            .await;
        match tables {
            Ok(out) if !out.table_list().is_empty() => return Ok(()),
            Ok(_) => {}
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(aws_diag(format!("Cannot list tables of {name}"), &e)),
        }
        client
            .call(Service::Glue, "DeleteDatabase", || {
                client.glue().delete_database().name(name).send()
            })
            .await
            .or_gone()
            .map_err(|e| aws_diag(format!("Cannot delete Glue database {name}"), &e))
    }

    async fn create_link(&self, client: &Mesh, spec: &Spec) -> Result<String, Diagnostics> {
        let input = spec.table_input()?;
        let created = client
            .call(Service::Glue, "CreateTable", || {
                client
                    .glue()
                    .create_table()
                    .database_name(&spec.database)
                    .table_input(input.clone())
                    .send()
            })
            .await;
        match created {
            Ok(_) => {}
            Err(e) if e.is_already_exists() => {
                // The same link already (an earlier create that was interrupted): adopt it.
                return match self.get_table(client, &spec.database, &spec.name).await? {
                    Found::Link(target, catalog) if target == spec.target => Ok(catalog),
                    _ => Err(already_exists(spec, &e)),
                };
            }
            Err(e) => {
                return Err(aws_diag(
                    format!(
                        "Cannot create resource link {}.{} to {}",
                        spec.database, spec.name, spec.target
                    ),
                    &e,
                ))
            }
        }
        match self.get_table(client, &spec.database, &spec.name).await? {
            Found::Link(_, catalog) if !catalog.is_empty() => Ok(catalog),
            _ => client
                .account_id()
                .await
                .map_err(|e| aws_diag("Cannot find the caller's account id", &e)),
        }
    }

    /// The state of the link `database.name` as AWS has it, from `found`.
    fn found_state(database: &str, name: &str, found: Found) -> Result<Option<Model>, Diagnostics> {
        match found {
            Found::Gone => Ok(None),
            Found::Link(target, catalog) => Ok(Some(
                Spec {
                    database: database.to_string(),
                    name: name.to_string(),
                    target,
                }
                .state(&catalog),
            )),
            Found::NotALink => Err(Diagnostic::error(
                "Not a resource link",
                format!(
                    "The Glue table {database}.{name} exists but is not a resource link (it has no TargetTable), so mesh_product_link will not manage or delete it. Rename or remove that table, or take this resource out of state with `terraform state rm`."
                ),
            )
            .into()),
        }
    }
}

fn already_exists(spec: &Spec, e: &AwsError) -> Diagnostics {
    let mut diags = aws_diag(
        format!(
            "Cannot create resource link {}.{}",
            spec.database, spec.name
        ),
        e,
    );
    diags.push(Diagnostic::error(
        "A table by that name already exists",
        format!(
            "{}.{} exists and is not a link to {}. If it is a link this configuration should manage, import it: terraform import <address> {}",
            spec.database,
            spec.name,
            spec.target,
            spec.id()
        ),
    ));
    diags
}

#[async_trait]
impl Resource for ProductLink {
    type Model = Model;
    type Client = Mesh;

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

    async fn create(
        &self,
        client: &Mesh,
        planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let spec = Spec::from(&planned).map_err(Failure::clean)?;
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

    async fn read(
        &self,
        client: &Mesh,
        state: Model,
        _private: &mut Private,
    ) -> Result<Option<Model>, Diagnostics> {
        let database = known(&state.database, "database")?.clone();
        let name = known(&state.name, "name")?.clone();
        let found = self.get_table(client, &database, &name).await?;
        Self::found_state(&database, &name, found)
    }

    async fn update(
        &self,
        _client: &Mesh,
        prior: Model,
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
            Found::Link(..) => {
                match client
                    .call(Service::Glue, "DeleteTable", || {
                        client
                            .glue()
                            .delete_table()
                            .database_name(&database)
                            .name(&name)
                            .send()
                    })
                    .await
                {
                    Ok(_) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) => {
                        return Err(aws_diag(
                            format!("Cannot delete resource link {database}.{name}"),
                            &e,
                        ))
                    }
                }
            }
            // Gone already, or replaced by a real table, which holds data and is not ours.
            Found::Gone | Found::NotALink => {}
        }
        self.delete_database_if_ours(client, &database).await
    }

    async fn import(&self, client: &Mesh, id: &str) -> Result<Model, Diagnostics> {
        let (database, name) = parse_id(id).map_err(|problem| {
            Diagnostics::from(
                Diagnostic::error(
                    "Invalid import id",
                    format!("{problem} Import ids for mesh_product_link are <database>/<name>."),
                )
                .at(AttributePath::attr("id")),
            )
        })?;
        let found = self.get_table(client, &database, &name).await?;
        Self::found_state(&database, &name, found)?.ok_or_else(|| {
            Diagnostic::error(
                "Cannot import a missing resource link",
                format!(
                    "No table {name:?} exists in the Glue database {database:?} of this account."
                ),
            )
            .into()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse() {
        assert_eq!(
            parse_id("shared_products/orders").unwrap(),
            ("shared_products".to_string(), "orders".to_string())
        );
        assert!(parse_id("orders").is_err());
        assert!(parse_id("/orders").is_err());
        assert!(parse_id("db/").is_err());
        assert!(parse_id("db/a/b").is_err());
        assert!(parse_id("DB/orders").unwrap_err().contains("lower case"));
    }

    #[test]
    fn glue_names() {
        assert!(check_glue_name("commerce_products").is_none());
        assert!(check_glue_name("orders-2024").is_none());
        assert!(check_glue_name("").is_some());
        assert!(check_glue_name(&"a".repeat(256)).is_some());
        assert!(check_glue_name("Orders").unwrap().contains("\"orders\""));
        assert!(check_glue_name("a/b").is_some());
        assert!(check_glue_name("a\nb").is_some());
    }

    #[test]
    fn links_become_state_and_tables_are_refused() {
        let target = Target {
            catalog_id: "444455556666".into(),
            database: "commerce_products".into(),
            table: "orders".into(),
        };
        let state = ProductLink::found_state(
            "shared",
            "orders",
            Found::Link(target.clone(), "777788889999".into()),
        )
        .unwrap()
        .unwrap();
        assert_eq!(state.id, Attr::Known("shared/orders".into()));
        assert_eq!(state.catalog_id, Attr::Known("777788889999".into()));
        assert_eq!(
            Spec::from(&state).unwrap().target,
            target,
            "source carries the link's target"
        );
        assert!(ProductLink::found_state("shared", "orders", Found::Gone)
            .unwrap()
            .is_none());
        assert!(ProductLink::found_state("shared", "orders", Found::NotALink).is_err());
    }

    #[test]
    fn table_input_names_the_target() {
        let spec = Spec {
            database: "shared".into(),
            name: "orders".into(),
            target: Target {
                catalog_id: "444455556666".into(),
                database: "commerce_products".into(),
                table: "orders".into(),
            },
        };
        let input = spec.table_input().unwrap();
        let t = input.target_table.unwrap();
        assert_eq!(t.catalog_id.as_deref(), Some("444455556666"));
        assert_eq!(t.database_name.as_deref(), Some("commerce_products"));
        assert_eq!(t.name.as_deref(), Some("orders"));
    }
}
