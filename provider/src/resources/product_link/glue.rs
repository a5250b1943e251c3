//! The link and its database in Glue: the one table lookup, creating the links database when missing, and deleting it only when it is ours and empty.

use super::*;
use crate::resources::Action;

impl ProductLink {
    pub(super) async fn get_table(
        &self,
        client: &Mesh,
        database: &str,
        name: &str,
    ) -> Result<Lookup, Diagnostics> {
        let out = client
            .call(Service::Glue, "GetTable", || {
                client
                    .glue()
                    .get_table()
                    .database_name(database)
                    .name(name)
                    .send()
            })
            .await
            // A missing database answers EntityNotFound too: the link is gone either way.
            .found()
            .map_err(|e| aws_diag(Action::Read, format!("resource link {database}.{name}"), &e))?;
        Ok(match out.and_then(|o| o.table) {
            None => Lookup::Gone,
            Some(table) => match target_of(&table) {
                Some(target) => Lookup::Link(target, table.catalog_id.unwrap_or_default()),
                None => Lookup::NotALink,
            },
        })
    }

    /// Creates the links database when it is missing. Returns whether this call created it.
    pub(super) async fn ensure_database(
        &self,
        client: &Mesh,
        name: &str,
    ) -> Result<bool, Diagnostics> {
        if crate::resources::find_database(client, name)
            .await?
            .is_some()
        {
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
            Err(e) => {
                return Err(aws_diag(
                    Action::Create,
                    format!("Glue database {name}"),
                    &e,
                ))
            }
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
    pub(super) async fn delete_database_if_ours(
        &self,
        client: &Mesh,
        name: &str,
    ) -> Result<(), Diagnostics> {
        let Some(db) = crate::resources::find_database(client, name).await? else {
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
        let tables = tables
            .found()
            .map_err(|e| aws_diag(Action::List, format!("tables of {name}"), &e))?;
        // Gone already, or still holding links: nothing to delete.
        match tables {
            None => return Ok(()),
            Some(out) if !out.table_list().is_empty() => return Ok(()),
            Some(_) => {}
        }
        client
            .call(Service::Glue, "DeleteDatabase", || {
                client.glue().delete_database().name(name).send()
            })
            .await
            .or_gone()
            .map_err(|e| aws_diag(Action::Delete, format!("Glue database {name}"), &e))
    }

    pub(super) async fn create_link(
        &self,
        client: &Mesh,
        spec: &Spec,
    ) -> Result<String, Diagnostics> {
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
                    Lookup::Link(target, catalog) if target == spec.target => Ok(catalog),
                    _ => Err(already_exists(spec, &e)),
                };
            }
            Err(e) => {
                return Err(aws_diag(
                    Action::Create,
                    format!(
                        "resource link {}.{} to {}",
                        spec.database, spec.name, spec.target
                    ),
                    &e,
                ))
            }
        }
        match self.get_table(client, &spec.database, &spec.name).await? {
            Lookup::Link(_, catalog) if !catalog.is_empty() => Ok(catalog),
            _ => client.account().await,
        }
    }

    /// A found link; a table there that is not a link is an error, not a link that is gone.
    pub(super) fn link(id: &LinkId, found: Lookup) -> Result<Option<Found>, Diagnostics> {
        match found {
            Lookup::Gone => Ok(None),
            Lookup::Link(target, catalog_id) => Ok(Some(Found { target, catalog_id })),
            Lookup::NotALink => Err(Diagnostic::error(
                "Not a resource link",
                format!(
                    "The Glue table {}.{} exists but is not a resource link (it has no TargetTable), so mesh_product_link will not manage or delete it. Rename or remove that table, or take this resource out of state with `terraform state rm`.",
                    id.database, id.name
                ),
            )
            .into()),
        }
    }
}
