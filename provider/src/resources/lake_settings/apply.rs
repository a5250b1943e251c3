//! Reading and writing the settings: read-modify-write, so fields this resource does not manage stay as they are.

use super::*;
use crate::resources::Action;
impl LakeSettings {
    /// GetDataLakeSettings. An account that never set anything has default settings, never
    /// "not found".
    pub(super) async fn get(
        &self,
        client: &Mesh,
        catalog: &str,
    ) -> Result<DataLakeSettings, Diagnostics> {
        let out = client
            .call(Service::LakeFormation, "GetDataLakeSettings", || {
                client
                    .lakeformation()
                    .get_data_lake_settings()
                    .catalog_id(catalog)
                    .send()
            })
            .await
            .map_err(|e| lf(&e, Action::Read, catalog))?;
        Ok(out
            .data_lake_settings
            .unwrap_or_else(|| DataLakeSettings::builder().build()))
    }

    pub(super) async fn put(
        &self,
        client: &Mesh,
        catalog: &str,
        settings: DataLakeSettings,
    ) -> Result<(), Diagnostics> {
        client
            .call(Service::LakeFormation, "PutDataLakeSettings", || {
                client
                    .lakeformation()
                    .put_data_lake_settings()
                    .catalog_id(catalog)
                    .data_lake_settings(settings.clone())
                    .send()
            })
            .await
            .map(|_| ())
            .map_err(|e| lf(&e, Action::Write, catalog))
    }

    /// Records in `previous` what `found` holds for every field `planned` manages and `previous`
    /// has no entry for yet; drops entries of fields no longer managed.
    pub(super) fn remember(previous: &mut Previous, found: &DataLakeSettings, planned: &Spec) {
        if planned.admins.is_none() {
            previous.admins = None;
        } else if previous.admins.is_none() {
            previous.admins = Some(principal_set(found.data_lake_admins.as_ref()));
        }
        if planned.trusted_resource_owners.is_none() {
            previous.trusted_resource_owners = None;
        } else if previous.trusted_resource_owners.is_none() {
            previous.trusted_resource_owners = Some(
                found
                    .trusted_resource_owners
                    .iter()
                    .flatten()
                    .cloned()
                    .collect(),
            );
        }
        if previous.create_database_default_permissions.is_none() {
            previous.create_database_default_permissions = Some(to_grants(
                found.create_database_default_permissions.as_ref(),
            ));
        }
        if previous.create_table_default_permissions.is_none() {
            previous.create_table_default_permissions =
                Some(to_grants(found.create_table_default_permissions.as_ref()));
        }
    }

    /// `found` with the managed fields of `planned` applied; everything else untouched.
    pub(super) fn apply(mut found: DataLakeSettings, planned: &Spec) -> DataLakeSettings {
        if let Some(admins) = &planned.admins {
            found.data_lake_admins = Some(principals(admins));
        }
        if let Some(owners) = &planned.trusted_resource_owners {
            found.trusted_resource_owners = Some(owners.iter().cloned().collect());
        }
        // Empty lists, not absent ones: absent would leave Lake Formation's own default
        // (IAM_ALLOWED_PRINCIPALS ALL), which lets IAM policies bypass Lake Formation.
        let grants = from_grants(&defaults_for(planned.iam_allowed_defaults));
        found.create_database_default_permissions = Some(grants.clone());
        found.create_table_default_permissions = Some(grants);
        found
    }

    /// The state for `found`, keeping from `prior` which fields are managed.
    pub(super) fn state(catalog: &str, found: &DataLakeSettings, prior: &Model) -> Model {
        Model {
            id: Attr::Known(catalog.to_string()),
            catalog_id: Attr::Known(catalog.to_string()),
            admins: if prior.admins.is_null() {
                Attr::Null
            } else {
                Attr::Known(principal_set(found.data_lake_admins.as_ref()))
            },
            trusted_resource_owners: if prior.trusted_resource_owners.is_null() {
                Attr::Null
            } else {
                Attr::Known(
                    found
                        .trusted_resource_owners
                        .iter()
                        .flatten()
                        .cloned()
                        .collect(),
                )
            },
            iam_allowed_principals_defaults: defaults_found(found).into(),
            previous_settings: prior.previous_settings.clone(),
        }
    }

    /// Writes `spec` (read-modify-write) and returns the resulting state.
    pub(super) async fn write(
        &self,
        client: &Mesh,
        spec: &Spec,
        mut previous: Previous,
        planned: &Model,
    ) -> Result<Model, Diagnostics> {
        let catalog = spec.catalog.as_str();
        let found = self.get(client, catalog).await?;
        Self::remember(&mut previous, &found, spec);
        let wanted = Self::apply(found, spec);
        self.put(client, catalog, wanted.clone()).await?;
        Ok(Model {
            previous_settings: Attr::Known(previous.to_json()?),
            ..Self::state(catalog, &wanted, planned)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_shows_only_the_fields_the_configuration_manages() {
        let mut found = DataLakeSettings::builder().build();
        found.data_lake_admins = Some(principals(&BTreeSet::from([
            "arn:aws:iam::111111111111:role/admin".to_string(),
        ])));
        found.trusted_resource_owners = Some(vec!["222222222222".into()]);
        found.create_database_default_permissions = Some(Vec::new());
        found.create_table_default_permissions = Some(Vec::new());
        let prior = Model {
            admins: Attr::Known(BTreeSet::new()),
            previous_settings: Attr::Known("{}".into()),
            ..Model::default()
        };
        let state = LakeSettings::state("111111111111", &found, &prior);
        assert_eq!(state.id, Attr::Known("111111111111".into()));
        assert_eq!(
            state.admins,
            Attr::Known(BTreeSet::from([
                "arn:aws:iam::111111111111:role/admin".to_string()
            ])),
            "managed: read back exactly (drift shows)"
        );
        assert_eq!(
            state.trusted_resource_owners,
            Attr::Null,
            "not managed: not shown"
        );
        assert_eq!(state.iam_allowed_principals_defaults, Attr::Known(false));
        assert_eq!(state.previous_settings, Attr::Known("{}".into()));
    }
}
