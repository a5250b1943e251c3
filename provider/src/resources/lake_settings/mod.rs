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
    invalid_import_id, Attribute, Block, Diagnostic, Diagnostics, Failure, PlanRequest, Private,
    Resource, Schema, Type, Validator,
};
use crate::resources::Action;
use crate::rules::{is_account_id, AccountId, IAM_ALLOWED_PRINCIPALS};
use async_trait::async_trait;
use aws_sdk_lakeformation::types::{
    DataLakePrincipal, DataLakeSettings, Permission, PrincipalPermissions,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

mod apply;
mod settings;
use settings::*;

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

#[async_trait]
impl Resource for LakeSettings {
    type Model = Model;
    type Client = Mesh;
    type Id = AccountId;
    type Spec = Spec;
    type Found = DataLakeSettings;

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

    async fn complete(&self, client: &Mesh, planned: &mut Model) -> Result<(), Diagnostics> {
        if !planned.catalog_id.is_known() {
            let account = client.account().await?;
            planned.catalog_id = Attr::Known(account);
        }
        Ok(())
    }

    fn spec(&self, model: &Model) -> Result<Spec, Diagnostics> {
        Spec::from(model)
    }

    fn id(&self, state: &Model) -> Result<AccountId, Diagnostics> {
        AccountId::parse(known(&state.catalog_id, "catalog_id")?)
            .map_err(|p| Diagnostic::provider_bug(p).into())
    }

    async fn parse_id(&self, _client: &Mesh, raw: &str) -> Result<AccountId, Diagnostics> {
        AccountId::parse(raw).map_err(|p| invalid_import_id(p, "account (catalog) ids"))
    }

    /// GetDataLakeSettings: an account always has settings, so never `None`.
    async fn find(
        &self,
        client: &Mesh,
        id: &AccountId,
    ) -> Result<Option<DataLakeSettings>, Diagnostics> {
        self.get(client, id.as_str()).await.map(Some)
    }

    fn flatten(&self, id: &AccountId, found: DataLakeSettings, prior: &Model) -> Model {
        Self::state(id.as_str(), &found, prior)
    }

    async fn create(
        &self,
        client: &Mesh,
        spec: Spec,
        planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        // A single PutDataLakeSettings: it either happened or not, nothing to undo.
        self.write(client, &spec, Previous::default(), &planned)
            .await
            .map_err(Failure::clean)
    }

    async fn update(
        &self,
        client: &Mesh,
        prior: Model,
        spec: Spec,
        planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let previous = Previous::parse(&prior.previous_settings).map_err(Failure::clean)?;
        self.write(client, &spec, previous, &planned)
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

    /// Import takes charge of what is set: what it finds is what destroy restores.
    async fn import(&self, client: &Mesh, id: &str) -> Result<Model, Diagnostics> {
        let account = self.parse_id(client, id).await?;
        let found = self.get(client, account.as_str()).await?;
        let admins = principal_set(found.data_lake_admins.as_ref());
        let owners: BTreeSet<String> = found
            .trusted_resource_owners
            .iter()
            .flatten()
            .cloned()
            .collect();
        let managed = Spec {
            catalog: account,
            admins: (!admins.is_empty()).then_some(admins),
            trusted_resource_owners: (!owners.is_empty()).then_some(owners),
            iam_allowed_defaults: false,
        };
        let mut previous = Previous::default();
        Self::remember(&mut previous, &found, &managed);
        let managed = Model {
            admins: managed.admins.into(),
            trusted_resource_owners: managed.trusted_resource_owners.into(),
            ..Model::default()
        };
        Ok(Model {
            previous_settings: Attr::Known(previous.to_json()?),
            ..Self::state(id, &found, &managed)
        })
    }
}
