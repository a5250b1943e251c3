//! `mesh_lake_settings`: an account's Lake Formation data lake settings, the fields the mesh
//! governs (admins, the default permissions of new databases and tables, trusted resource owners)
//! and nothing else.
//!
//! PutDataLakeSettings replaces the whole settings object, so every write is a
//! read-modify-write: GetDataLakeSettings, change only the managed fields, put back everything
//! else as found (read-only admins, external data filtering, parameters, ...).
//!
//! Destroy restores what the resource found. Delete sees only the state (no private data), so
//! what was found lives in the computed attribute `previous_settings`: a canonical JSON object
//! with one entry per managed field, recorded when the resource takes charge of the field (at
//! create, at import, or when an update starts managing it).

use super::Mesh;
use super::{aws_diag, known};
use crate::aws::Service;
use crate::framework::value::{Attr, Value};
use crate::framework::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, Failure, PlanRequest, Private,
    Resource, Schema, Type, Validator,
};
use crate::rules::{is_account_id, IAM_ALLOWED_PRINCIPALS};
use async_trait::async_trait;
use aws_sdk_lakeformation::types::{
    DataLakePrincipal, DataLakeSettings, Permission, PrincipalPermissions,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Lake Formation's limit on data lake administrators.
const MAX_ADMINS: usize = 30;

// Keys of `previous_settings`.
const K_ADMINS: &str = "admins";
const K_TRUSTED: &str = "trusted_resource_owners";
const K_DB_DEFAULTS: &str = "create_database_default_permissions";
const K_TABLE_DEFAULTS: &str = "create_table_default_permissions";

/// The resource.
#[derive(Debug, Default)]
pub struct LakeSettings;

/// `mesh_lake_settings`'s model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// = catalog id.
    pub id: Attr<String>,
    /// The account whose settings these are.
    pub catalog_id: Attr<String>,
    /// Data lake administrators; null: not managed.
    pub admins: Attr<BTreeSet<String>>,
    /// New databases and tables get IAM_ALLOWED_PRINCIPALS ALL (true) or nothing (false).
    pub iam_allowed_principals_defaults: Attr<bool>,
    /// Accounts whose resources this account trusts; null: not managed.
    pub trusted_resource_owners: Attr<BTreeSet<String>>,
    /// JSON of what the resource found for each managed field; destroy restores it.
    pub previous_settings: Attr<String>,
}

/// One default-permission entry, as `previous_settings` records it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Grant {
    principal: String,
    permissions: Vec<String>,
}

/// What `previous_settings` holds: one entry per field the resource manages (a missing entry is a
/// field it does not manage). Fields in alphabetical order, so the JSON is canonical.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Previous {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    admins: Option<BTreeSet<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    create_database_default_permissions: Option<Vec<Grant>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    create_table_default_permissions: Option<Vec<Grant>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trusted_resource_owners: Option<BTreeSet<String>>,
}

impl Previous {
    fn parse(text: &Attr<String>) -> Result<Self, Diagnostics> {
        match text {
            Attr::Known(t) => serde_json::from_str(t).map_err(|e| {
                Diagnostic::provider_bug(format!("previous_settings is not readable: {e}")).into()
            }),
            _ => Ok(Self::default()),
        }
    }

    /// Canonical JSON: fields in a fixed order, sets sorted.
    fn to_json(&self) -> Result<String, Diagnostics> {
        serde_json::to_string(self).map_err(|e| Diagnostic::provider_bug(e).into())
    }

    /// The keys present, for comparing which fields are managed.
    fn keys(&self) -> BTreeSet<&'static str> {
        let mut keys = BTreeSet::new();
        if self.admins.is_some() {
            keys.insert(K_ADMINS);
        }
        if self.trusted_resource_owners.is_some() {
            keys.insert(K_TRUSTED);
        }
        if self.create_database_default_permissions.is_some() {
            keys.insert(K_DB_DEFAULTS);
        }
        if self.create_table_default_permissions.is_some() {
            keys.insert(K_TABLE_DEFAULTS);
        }
        keys
    }
}

/// The fields a model manages: `previous_settings` keys it needs.
fn managed_keys(m: &Model) -> BTreeSet<&'static str> {
    let mut keys = BTreeSet::from([K_DB_DEFAULTS, K_TABLE_DEFAULTS]);
    if !m.admins.is_null() {
        keys.insert(K_ADMINS);
    }
    if !m.trusted_resource_owners.is_null() {
        keys.insert(K_TRUSTED);
    }
    keys
}

/// What is wrong with a data lake administrator, if anything: an IAM role or user ARN.
pub fn check_admin(s: &str) -> Option<String> {
    if let Err(e) = crate::aws::check_arn(s) {
        return Some(e);
    }
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let iam = parts.get(2) == Some(&"iam")
        && parts.get(4).is_some_and(|a| is_account_id(a))
        && parts
            .get(5)
            .is_some_and(|r| r.starts_with("role/") || r.starts_with("user/"));
    (!iam).then(|| {
        format!("{s:?} is not an IAM role or user ARN (arn:aws:iam::ACCOUNT:role/NAME or arn:aws:iam::ACCOUNT:user/NAME).")
    })
}

fn principals(arns: &BTreeSet<String>) -> Vec<DataLakePrincipal> {
    arns.iter()
        .map(|a| {
            DataLakePrincipal::builder()
                .data_lake_principal_identifier(a)
                .build()
        })
        .collect()
}

fn principal_set(list: Option<&Vec<DataLakePrincipal>>) -> BTreeSet<String> {
    list.into_iter()
        .flatten()
        .filter_map(|p| p.data_lake_principal_identifier.clone())
        .collect()
}

fn to_grants(list: Option<&Vec<PrincipalPermissions>>) -> Vec<Grant> {
    let mut grants: Vec<Grant> = list
        .into_iter()
        .flatten()
        .map(|g| {
            let mut permissions: Vec<String> = g
                .permissions
                .iter()
                .flatten()
                .map(|p| p.as_str().to_string())
                .collect();
            permissions.sort();
            permissions.dedup();
            Grant {
                principal: g
                    .principal
                    .as_ref()
                    .and_then(|p| p.data_lake_principal_identifier.clone())
                    .unwrap_or_default(),
                permissions,
            }
        })
        .collect();
    grants.sort();
    grants
}

fn from_grants(grants: &[Grant]) -> Vec<PrincipalPermissions> {
    grants
        .iter()
        .map(|g| {
            PrincipalPermissions::builder()
                .principal(
                    DataLakePrincipal::builder()
                        .data_lake_principal_identifier(&g.principal)
                        .build(),
                )
                .set_permissions(Some(
                    g.permissions
                        .iter()
                        .map(|p| Permission::from(p.as_str()))
                        .collect(),
                ))
                .build()
        })
        .collect()
}

/// The default permissions `iam_allowed_principals_defaults` stands for.
fn defaults_for(iam_allowed: bool) -> Vec<Grant> {
    if iam_allowed {
        vec![Grant {
            principal: IAM_ALLOWED_PRINCIPALS.into(),
            permissions: vec!["ALL".into()],
        }]
    } else {
        Vec::new()
    }
}

/// `iam_allowed_principals_defaults` as found: `Some(true)` when both default lists are exactly
/// IAM_ALLOWED_PRINCIPALS ALL, `Some(false)` when both are empty, `None` for anything else
/// (shown as null, so any configuration plans a repair).
fn defaults_found(settings: &DataLakeSettings) -> Option<bool> {
    let db = to_grants(settings.create_database_default_permissions.as_ref());
    let table = to_grants(settings.create_table_default_permissions.as_ref());
    [true, false]
        .into_iter()
        .find(|&v| db == defaults_for(v) && table == defaults_for(v))
}

fn lf(e: &crate::aws::AwsError, doing: &str, catalog: &str) -> Diagnostics {
    aws_diag(
        format!("Cannot {doing} the data lake settings of {catalog}"),
        e,
    )
}

impl LakeSettings {
    /// GetDataLakeSettings. An account that never set anything has default settings, never
    /// "not found".
    async fn get(&self, client: &Mesh, catalog: &str) -> Result<DataLakeSettings, Diagnostics> {
        let out = client
            .call(Service::LakeFormation, "GetDataLakeSettings", || {
                client
                    .lakeformation()
                    .get_data_lake_settings()
                    .catalog_id(catalog)
                    .send()
            })
            .await
            .map_err(|e| lf(&e, "read", catalog))?;
        Ok(out
            .data_lake_settings
            .unwrap_or_else(|| DataLakeSettings::builder().build()))
    }

    async fn put(
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
            .map_err(|e| lf(&e, "write", catalog))
    }

    async fn catalog(&self, client: &Mesh, model: &Model) -> Result<String, Diagnostics> {
        match &model.catalog_id {
            Attr::Known(c) => Ok(c.clone()),
            _ => client
                .account_id()
                .await
                .map_err(|e| aws_diag("Cannot find the caller's account id", &e)),
        }
    }

    /// Records in `previous` what `found` holds for every field `planned` manages and `previous`
    /// has no entry for yet; drops entries of fields no longer managed.
    fn remember(previous: &mut Previous, found: &DataLakeSettings, planned: &Model) {
        if planned.admins.is_null() {
            previous.admins = None;
        } else if previous.admins.is_none() {
            previous.admins = Some(principal_set(found.data_lake_admins.as_ref()));
        }
        if planned.trusted_resource_owners.is_null() {
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
    fn apply(
        mut found: DataLakeSettings,
        planned: &Model,
    ) -> Result<DataLakeSettings, Diagnostics> {
        if let Attr::Known(admins) = &planned.admins {
            found.data_lake_admins = Some(principals(admins));
        }
        if let Attr::Known(owners) = &planned.trusted_resource_owners {
            found.trusted_resource_owners = Some(owners.iter().cloned().collect());
        }
        let iam_allowed = *known(
            &planned.iam_allowed_principals_defaults,
            "iam_allowed_principals_defaults",
        )?;
        // Empty lists, not absent ones: absent would leave Lake Formation's own default
        // (IAM_ALLOWED_PRINCIPALS ALL), which lets IAM policies bypass Lake Formation.
        let grants = from_grants(&defaults_for(iam_allowed));
        found.create_database_default_permissions = Some(grants.clone());
        found.create_table_default_permissions = Some(grants);
        Ok(found)
    }

    /// The state for `found`, keeping from `prior` which fields are managed.
    fn state(catalog: &str, found: &DataLakeSettings, prior: &Model) -> Model {
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

    /// Writes `planned` (read-modify-write) and returns the resulting state.
    async fn write(
        &self,
        client: &Mesh,
        catalog: &str,
        mut previous: Previous,
        planned: &Model,
    ) -> Result<Model, Diagnostics> {
        let found = self.get(client, catalog).await?;
        Self::remember(&mut previous, &found, planned);
        let wanted = Self::apply(found, planned)?;
        self.put(client, catalog, wanted.clone()).await?;
        Ok(Model {
            previous_settings: Attr::Known(previous.to_json()?),
            ..Self::state(catalog, &wanted, planned)
        })
    }
}

#[async_trait]
impl Resource for LakeSettings {
    type Model = Model;
    type Client = Mesh;

    fn type_name(&self) -> &'static str {
        "mesh_lake_settings"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "An account's Lake Formation data lake settings, as far as the mesh governs them: \
                 the data lake administrators, the default permissions of new databases and tables \
                 (Lake Formation-only by default), and the trusted resource owners. Declare one per \
                 account (one per provider alias).\n\n\
                 Only the fields this resource declares change; every other setting (read-only \
                 admins, external data filtering, parameters, ...) is written back exactly as found \
                 (PutDataLakeSettings replaces the whole object, so each write reads first). \
                 `admins` and `trusted_resource_owners` are managed only when set: leave one out \
                 and it is neither changed nor restored.\n\n\
                 Drift in a managed field (an admin removed outside Terraform, default permissions \
                 granted to `IAM_ALLOWED_PRINCIPALS` again) shows in the plan and apply repairs it.\n\n\
                 **Destroy restores what the resource found** for the fields it manages, recorded \
                 in `previous_settings` when it took charge of each field: at create, at import \
                 (the settings as they were then), or when an update starts managing a field. \
                 Removing `admins` or `trusted_resource_owners` from the configuration stops \
                 managing that field and leaves it as it is.\n\n\
                 Import with `terraform import mesh_lake_settings.NAME ACCOUNT_ID` (the catalog id). \
                 Import manages `admins` and `trusted_resource_owners` when they are not empty.",
            )
            .attribute(
                Attribute::string("id")
                    .computed()
                    .use_state_for_unknown()
                    .describe("The catalog (account) id."),
            )
            .attribute(
                Attribute::string("catalog_id")
                    .optional()
                    .computed()
                    .requires_replace()
                    .use_state_for_unknown()
                    .describe("The account whose data lake settings these are. Defaults to the caller's account. Changing it replaces the resource.")
                    .validate(Validator::string("12-digit account id", "Invalid catalog id", |s| {
                        (!is_account_id(s)).then(|| format!("{s:?} is not a 12-digit AWS account id."))
                    })),
            )
            .attribute(
                Attribute::new("admins", Type::set(Type::String))
                    .optional()
                    .describe(format!(
                        "Data lake administrators: IAM role or user ARNs, at most {MAX_ADMINS}. Exactly this set is kept. Unset: the administrators are not managed."
                    ))
                    .validate(Validator::size_between(0, MAX_ADMINS))
                    .validate(Validator::string("IAM role or user ARN", "Invalid data lake administrator", check_admin).each()),
            )
            .attribute(
                Attribute::bool("iam_allowed_principals_defaults")
                    .default_value(Value::Bool(false))
                    .describe("Whether new databases and tables get `IAM_ALLOWED_PRINCIPALS` `ALL` by default (Lake Formation's factory setting, which lets IAM policies bypass Lake Formation). Default `false`: `CreateDatabaseDefaultPermissions` and `CreateTableDefaultPermissions` are empty, so every access goes through Lake Formation grants."),
            )
            .attribute(
                Attribute::new("trusted_resource_owners", Type::set(Type::String))
                    .optional()
                    .describe("Account ids whose resources this account trusts (12 digits each). Exactly this set is kept. Unset: not managed.")
                    .validate(Validator::string("12-digit account id", "Invalid account id", |s| {
                        (!is_account_id(s)).then(|| format!("{s:?} is not a 12-digit AWS account id."))
                    }).each()),
            )
            .attribute(
                Attribute::string("previous_settings")
                    .computed()
                    .describe("JSON of what the resource found for each field it manages (`admins`, `trusted_resource_owners`, `create_database_default_permissions`, `create_table_default_permissions`); destroy restores these values."),
            ),
        )
    }

    async fn modify_plan(&self, _client: Option<&Mesh>, req: &mut PlanRequest<Model>) {
        // previous_settings changes only when the resource starts or stops managing a field;
        // otherwise it is the prior value (the framework alone would plan it unknown on any
        // update).
        let Some(prior) = &req.prior else { return };
        let Ok(previous) = Previous::parse(&prior.previous_settings) else {
            return;
        };
        if previous.keys() == managed_keys(&req.config) {
            req.planned.previous_settings = prior.previous_settings.clone();
        } else {
            req.planned.previous_settings = Attr::Unknown;
        }
    }

    async fn create(
        &self,
        client: &Mesh,
        planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let catalog = self
            .catalog(client, &planned)
            .await
            .map_err(Failure::clean)?;
        // A single PutDataLakeSettings: it either happened or not, nothing to undo.
        self.write(client, &catalog, Previous::default(), &planned)
            .await
            .map_err(Failure::clean)
    }

    async fn read(
        &self,
        client: &Mesh,
        state: Model,
        _private: &mut Private,
    ) -> Result<Option<Model>, Diagnostics> {
        let catalog = known(&state.catalog_id, "catalog_id")?.clone();
        let found = self.get(client, &catalog).await?;
        Ok(Some(Self::state(&catalog, &found, &state)))
    }

    async fn update(
        &self,
        client: &Mesh,
        prior: Model,
        planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let catalog = known(&prior.catalog_id, "catalog_id")
            .map_err(Failure::clean)?
            .clone();
        let previous = Previous::parse(&prior.previous_settings).map_err(Failure::clean)?;
        self.write(client, &catalog, previous, &planned)
            .await
            .map_err(|diags| Failure::partial(prior.clone(), diags))
    }

    async fn delete(
        &self,
        client: &Mesh,
        state: Model,
        _private: &Private,
    ) -> Result<(), Diagnostics> {
        let catalog = known(&state.catalog_id, "catalog_id")?.clone();
        let previous = Previous::parse(&state.previous_settings)?;
        if previous.keys().is_empty() {
            return Ok(());
        }
        let mut settings = self.get(client, &catalog).await?;
        if let Some(admins) = &previous.admins {
            settings.data_lake_admins = Some(principals(admins));
        }
        if let Some(owners) = &previous.trusted_resource_owners {
            settings.trusted_resource_owners = Some(owners.iter().cloned().collect());
        }
        if let Some(grants) = &previous.create_database_default_permissions {
            settings.create_database_default_permissions = Some(from_grants(grants));
        }
        if let Some(grants) = &previous.create_table_default_permissions {
            settings.create_table_default_permissions = Some(from_grants(grants));
        }
        self.put(client, &catalog, settings).await
    }

    async fn import(&self, client: &Mesh, id: &str) -> Result<Model, Diagnostics> {
        if !is_account_id(id) {
            return Err(Diagnostic::error(
                "Invalid import id",
                format!("{id:?} is not a 12-digit account id. Import mesh_lake_settings by the account (catalog) id."),
            )
            .at(AttributePath::attr("id"))
            .into());
        }
        let found = self.get(client, id).await?;
        let admins = principal_set(found.data_lake_admins.as_ref());
        let owners: BTreeSet<String> = found
            .trusted_resource_owners
            .iter()
            .flatten()
            .cloned()
            .collect();
        // Take charge of what is set; what import finds is what destroy restores.
        let managed = Model {
            admins: (!admins.is_empty()).then_some(admins).into(),
            trusted_resource_owners: (!owners.is_empty()).then_some(owners).into(),
            ..Model::default()
        };
        let mut previous = Previous::default();
        Self::remember(&mut previous, &found, &managed);
        Ok(Model {
            previous_settings: Attr::Known(previous.to_json()?),
            ..Self::state(id, &found, &managed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(db: &[Grant], table: &[Grant]) -> DataLakeSettings {
        let mut s = DataLakeSettings::builder().build();
        s.create_database_default_permissions = Some(from_grants(db));
        s.create_table_default_permissions = Some(from_grants(table));
        s
    }

    #[test]
    fn defaults_are_read_exactly() {
        let iam = defaults_for(true);
        assert_eq!(defaults_found(&settings(&iam, &iam)), Some(true));
        assert_eq!(defaults_found(&settings(&[], &[])), Some(false));
        // Mixed: neither; shown as null so the plan repairs it.
        assert_eq!(defaults_found(&settings(&iam, &[])), None);
        let other = [Grant {
            principal: "arn:aws:iam::111111111111:role/x".into(),
            permissions: vec!["ALL".into()],
        }];
        assert_eq!(defaults_found(&settings(&other, &other)), None);
    }

    #[test]
    fn apply_keeps_unmanaged_fields() {
        let mut found = settings(&defaults_for(true), &defaults_for(true));
        found.read_only_admins = Some(principals(&BTreeSet::from([
            "arn:aws:iam::111111111111:role/ro".to_string(),
        ])));
        found.trusted_resource_owners = Some(vec!["222222222222".into()]);
        found.parameters = Some([("CROSS_ACCOUNT_VERSION".to_string(), "4".to_string())].into());
        let planned = Model {
            admins: Attr::Known(BTreeSet::from([
                "arn:aws:iam::111111111111:role/admin".to_string()
            ])),
            iam_allowed_principals_defaults: Attr::Known(false),
            ..Model::default()
        };
        let out = LakeSettings::apply(found.clone(), &planned).unwrap();
        assert_eq!(out.read_only_admins, found.read_only_admins);
        assert_eq!(out.parameters, found.parameters);
        // Not managed (null): untouched.
        assert_eq!(out.trusted_resource_owners, found.trusted_resource_owners);
        assert_eq!(out.create_table_default_permissions, Some(Vec::new()));
        assert_eq!(
            principal_set(out.data_lake_admins.as_ref()),
            BTreeSet::from(["arn:aws:iam::111111111111:role/admin".to_string()])
        );
    }

    #[test]
    fn previous_records_managed_fields_once() {
        let found = settings(&defaults_for(true), &defaults_for(true));
        let mut previous = Previous::default();
        let planned = Model {
            admins: Attr::Known(BTreeSet::new()),
            ..Model::default()
        };
        LakeSettings::remember(&mut previous, &found, &planned);
        assert_eq!(
            previous.keys(),
            BTreeSet::from([K_ADMINS, K_DB_DEFAULTS, K_TABLE_DEFAULTS])
        );
        assert_eq!(previous.keys(), managed_keys(&planned));
        let json = previous.to_json().unwrap();
        assert_eq!(
            json,
            r#"{"admins":[],"create_database_default_permissions":[{"principal":"IAM_ALLOWED_PRINCIPALS","permissions":["ALL"]}],"create_table_default_permissions":[{"principal":"IAM_ALLOWED_PRINCIPALS","permissions":["ALL"]}]}"#
        );
        // Found again later (already recorded): kept, not overwritten.
        let later = settings(&[], &[]);
        LakeSettings::remember(&mut previous, &later, &planned);
        assert_eq!(previous.to_json().unwrap(), json);
        // No longer managed: forgotten.
        LakeSettings::remember(&mut previous, &later, &Model::default());
        assert!(previous.admins.is_none());
    }

    #[test]
    fn admin_rules() {
        assert!(check_admin("arn:aws:iam::111111111111:role/DataPlatformAdmin").is_none());
        assert!(check_admin("arn:aws:iam::111111111111:user/alice").is_none());
        assert!(check_admin("arn:aws:iam::111111111111:group/admins").is_some());
        assert!(check_admin("arn:aws:s3:::bucket").is_some());
        assert!(check_admin("admin").is_some());
    }
}
