//! Reading grants back: exactly as declared, every grant of the principal in the database, and what a failed change left.

use super::*;
impl ProductGrant {
    /// What exists of `spec`'s grants, exactly as declared.
    pub(super) async fn find_declared(
        &self,
        client: &Mesh,
        spec: &Spec,
    ) -> Result<Found, Diagnostics> {
        let (table_grants, database_grant) = (spec.table_grants(), [spec.database_grant()]);
        let (table, database, account) = futures::join!(
            grants::read_owned(client, &table_grants),
            grants::read_owned(client, &database_grant),
            self.account(client)
        );
        Ok(Found {
            table: table.map_err(|e| list_diag(spec, &e))?,
            database: !database.map_err(|e| list_diag(spec, &e))?.is_empty(),
            account: account?,
        })
    }

    /// Every grant of the principal on any table of the spec's database.
    pub(super) async fn table_grants_in_database(
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

    pub(super) async fn account(&self, client: &Mesh) -> Result<String, Diagnostics> {
        client.account().await
    }

    /// The state after a failure part-way: what exists, or nothing.
    pub(super) async fn after_failure(
        &self,
        client: &Mesh,
        spec: &Spec,
        diags: Diagnostics,
    ) -> Failure<Model> {
        match self.find_declared(client, spec).await {
            Ok(found) if !found.table.is_empty() || found.database => {
                Failure::partial(spec.state(&found.table, &found.account), diags)
            }
            _ => Failure::clean(diags),
        }
    }
}
