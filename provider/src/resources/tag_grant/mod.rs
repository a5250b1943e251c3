//! `mesh_tag_grant`: LF-tag based access control (LF-TBAC): permissions on every database and
//! table whose LF-tags match an expression, granted to one principal. One resource makes the
//! DATABASE and the TABLE LF-tag policy grants, and changes them in place without an access gap.

use super::grants::{
    self, check_principal, Grant, PolicyKind, Target, DATABASE_PERMISSIONS, TABLE_PERMISSIONS,
};
use super::ontology::{self, Ontology, TagUse};
use super::Mesh;
use super::{aws_diag, known};
use crate::framework::value::{Attr, Value};
use crate::framework::PrivateState;
use crate::framework::{
    invalid_import_id, Attribute, AttributePath, Block, Diagnostics, Failure, PlanRequest, Private,
    Resource, Schema, Type, Validator,
};
use crate::resources::Action;
use crate::rules::{check_tag_key as check_key, check_tag_value as check_value, is_account_id};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

mod find;
mod spec;
use find::*;
use spec::*;

/// The resource.
#[derive(Debug, Default)]
pub struct TagGrant;

/// An LF-tag expression: tag key -> the values any of which matches.
pub type Expression = BTreeMap<String, BTreeSet<String>>;

/// `mesh_tag_grant`'s model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// `CATALOG|PRINCIPAL|KEY=V1,V2;KEY2=V3`.
    pub id: Attr<String>,
    /// Who receives the permissions.
    pub principal: Attr<String>,
    /// The LF-tag expression.
    pub expression: Attr<Expression>,
    /// Permissions on matching tables.
    pub table_permissions: Attr<BTreeSet<String>>,
    /// Permissions on matching databases.
    pub database_permissions: Attr<BTreeSet<String>>,
    /// The permissions the principal may grant on.
    pub grantable_permissions: Attr<BTreeSet<String>>,
    /// The catalog holding the LF-tags (and the grants).
    pub catalog_id: Attr<String>,
}

fn set_default(items: &[&str]) -> Value {
    Value::set(items.iter().map(|s| Value::String(s.to_string())).collect())
}

#[async_trait]
impl Resource for TagGrant {
    type Model = Model;
    type Client = Mesh;
    type Id = GrantId;
    type Spec = Spec;
    type Found = Vec<Grant>;

    fn type_name(&self) -> &'static str {
        "mesh_tag_grant"
    }

    fn schema(&self) -> Schema {
        let table_perms = TABLE_PERMISSIONS.join("`, `");
        let db_perms = DATABASE_PERMISSIONS.join("`, `");
        Schema::new(
            Block::new(
                "A Lake Formation LF-tag based access control (LF-TBAC) grant: permissions on every \
                 database and table whose LF-tags match `expression`, for one principal. It makes \
                 two LF-tag policy grants, one on matching databases (`database_permissions`, \
                 `DESCRIBE` by default, so the principal can see the databases that hold the \
                 tables) and one on matching tables (`table_permissions`, `SELECT` and `DESCRIBE` \
                 by default).\n\n\
                 The expression is checked against the LF-tags of the catalog at plan time: an \
                 unknown key or value fails the plan and names it. LF-tags that the same \
                 configuration creates count as defined when the grant refers to them, e.g. \
                 `(mesh_lf_tag.sensitivity.key) = [\"internal\"]`, with the same provider \
                 configuration: the reference makes Terraform plan the tag first. Apply checks \
                 the catalog again.\n\n\
                 Changes to the expression and the permissions are made **in place and without \
                 an access gap**: what is new is granted first, and only then is what left \
                 revoked. The resource reads back exactly the grants it made: broader or implicit \
                 grants made by others to the same principal are neither drift nor touched, and \
                 a grant revoked outside Terraform shows as drift and is restored by the next \
                 apply. Grants go through `BatchGrantPermissions`/`BatchRevokePermissions`, and \
                 `ConcurrentModificationException` is retried with backoff and jitter.\n\n\
                 Import with `terraform import mesh_tag_grant.NAME 'CATALOG|PRINCIPAL|KEY=V1,V2;KEY2=V3'` \
                 (keys and values in any order; `%`, `|`, `;`, `=` and `,` inside a key or value \
                 written `%25`, `%7C`, `%3B`, `%3D`, `%2C`), for example \
                 `111111111111|arn:aws:iam::111111111111:role/AnalyticsTeam|domain=commerce;sensitivity=internal,public`.",
            )
            .attribute(
                Attribute::string("id")
                    .computed()
                    .describe("`CATALOG|PRINCIPAL|KEY=V1,V2;KEY2=V3`, keys and values sorted (see the import section)."),
            )
            .attribute(
                Attribute::string("principal")
                    .required()
                    .requires_replace()
                    .describe("Who receives the permissions: an IAM role or user ARN, a 12-digit AWS account id (another account's administrators then grant on), or an AWS Organizations organization or organizational unit ARN. Changing it replaces the grant.")
                    .validate(Validator::string("a Lake Formation principal", "Invalid principal", check_principal)),
            )
            .attribute(
                Attribute::new("expression", Type::map(Type::set(Type::String)))
                    .required()
                    .describe("The LF-tag expression: a map of tag key to the values any of which matches, e.g. `{ domain = [\"commerce\"], sensitivity = [\"public\", \"internal\"] }`. A resource matches when it has every key with one of its values. Keys and values must exist in the catalog's LF-tags. Changed in place.")
                    .validate(expression_validator()),
            )
            .attribute(
                Attribute::new("table_permissions", Type::set(Type::String))
                    .default_value(set_default(&["SELECT", "DESCRIBE"]))
                    .describe(format!("Permissions on matching tables: any of `{table_perms}`. Defaults to `SELECT` and `DESCRIBE`. Changed in place."))
                    .validate(Validator::one_of(TABLE_PERMISSIONS).each()),
            )
            .attribute(
                Attribute::new("database_permissions", Type::set(Type::String))
                    .default_value(set_default(&["DESCRIBE"]))
                    .describe(format!("Permissions on matching databases: any of `{db_perms}`. Defaults to `DESCRIBE`, so the principal can see the databases that hold the tables. Changed in place."))
                    .validate(Validator::one_of(DATABASE_PERMISSIONS).each()),
            )
            .attribute(
                Attribute::new("grantable_permissions", Type::set(Type::String))
                    .default_value(set_default(&[]))
                    .describe("Permissions the principal may grant on to others; each must be among `table_permissions` or `database_permissions`. Defaults to none. Changed in place."),
            )
            .attribute(
                Attribute::string("catalog_id")
                    .optional()
                    .computed()
                    .requires_replace()
                    .use_state_for_unknown()
                    .describe("The Data Catalog (account id) that holds the LF-tags, where the grants are made. Defaults to the provider's `tag_catalog_id`, else the caller's account.")
                    .validate(Validator::string("12-digit account id", "Invalid catalog id", |s| {
                        (!is_account_id(s)).then(|| format!("{s:?} is not a 12-digit AWS account id."))
                    })),
            ),
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        let (Attr::Known(table), Attr::Known(db)) =
            (&config.table_permissions, &config.database_permissions)
        else {
            return;
        };
        if table.is_empty() && db.is_empty() {
            diags.error_at(
                AttributePath::attr("table_permissions"),
                "Nothing to grant",
                "`table_permissions` and `database_permissions` are both empty; grant something on tables, databases or both.",
            );
        }
        if let Attr::Known(grantable) = &config.grantable_permissions {
            for p in grantable {
                if !table.contains(p) && !db.contains(p) {
                    diags.error_at(
                        AttributePath::attr("grantable_permissions"),
                        "Grantable permission not granted",
                        format!("{p:?} is grantable but is in neither `table_permissions` nor `database_permissions`; a principal can only grant on what it holds."),
                    );
                }
            }
        }
    }

    async fn modify_plan(&self, client: Option<&Mesh>, req: &mut PlanRequest<Model>) {
        if req.planned.catalog_id.is_unknown() {
            if let Some(client) = client {
                match ontology::tag_catalog(client).await {
                    Ok(c) => req.planned.catalog_id = Attr::Known(c),
                    Err(e) => {
                        req.diags
                            .extend(aws_diag(Action::Read, "the caller's account id", &e));
                        return;
                    }
                }
            }
        }
        req.planned.id = match (
            &req.planned.catalog_id,
            &req.planned.principal,
            &req.planned.expression,
        ) {
            (Attr::Known(c), Attr::Known(p), Attr::Known(e)) => Attr::Known(
                GrantId {
                    catalog_id: c.clone(),
                    principal: p.clone(),
                    expression: e.clone(),
                }
                .render(),
            ),
            _ => Attr::Unknown,
        };
        // Grants left by a failed change: an update revokes those the plan does not declare.
        if req.prior.is_some() && !req.private.load::<Stray>().0.is_empty() {
            req.planned.id = Attr::Unknown;
        }
        let (Some(client), Attr::Known(catalog), Attr::Known(expression)) =
            (client, &req.planned.catalog_id, &req.planned.expression)
        else {
            // Known only at apply: checked then.
            return;
        };
        let unchanged = req.prior.as_ref().is_some_and(|p| {
            p.expression == req.planned.expression && p.catalog_id == req.planned.catalog_id
        });
        if unchanged {
            return;
        }
        if let Err(d) = check_expression(client, catalog, expression, true).await {
            req.diags.extend(d);
        }
    }

    async fn complete(&self, client: &Mesh, planned: &mut Model) -> Result<(), Diagnostics> {
        if !planned.catalog_id.is_known() {
            let c = ontology::tag_catalog(client)
                .await
                .map_err(|e| aws_diag(Action::Read, "the caller's account id", &e))?;
            planned.catalog_id = Attr::Known(c);
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
            expression: known(&state.expression, "expression")?.clone(),
        })
    }

    async fn parse_id(&self, _client: &Mesh, raw: &str) -> Result<GrantId, Diagnostics> {
        GrantId::parse(raw).map_err(|p| invalid_import_id(p, "CATALOG|PRINCIPAL|KEY=V1,V2;KEY2=V3"))
    }

    /// Every permission the principal holds on the expression; `None` when it holds none.
    async fn find(&self, client: &Mesh, id: &GrantId) -> Result<Option<Vec<Grant>>, Diagnostics> {
        let spec = Spec::of_id(id, &Model::default());
        let owned = self.find_declared(client, &spec, true).await?;
        Ok((!owned.is_empty()).then_some(owned))
    }

    /// After an import the permissions are not known yet: everything found counts.
    fn flatten(&self, id: &GrantId, owned: Vec<Grant>, prior: &Model) -> Model {
        let import = prior.table_permissions.is_null() || prior.database_permissions.is_null();
        Spec::of_id(id, prior).state(&owned, import)
    }

    async fn create(
        &self,
        client: &Mesh,
        spec: Spec,
        _planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        // Again at apply: values known only now, and tags removed since the plan. Lake
        // Formation refuses unknown tags itself, but not every implementation does.
        check_expression(client, &spec.catalog_id, &spec.expression, false)
            .await
            .map_err(Failure::clean)?;
        if let Err(diags) = grants::apply_change(client, &[], &spec.grants()).await {
            // Some grants may have gone through: keep what exists so nothing is orphaned.
            return match self.find_declared(client, &spec, false).await {
                Ok(owned) if !owned.is_empty() => {
                    Err(Failure::partial(spec.state(&owned, false), diags))
                }
                _ => Err(Failure::clean(diags)),
            };
        }
        Ok(spec.state(&spec.grants(), false))
    }

    async fn read(
        &self,
        client: &Mesh,
        state: Model,
        private: &mut Private,
    ) -> Result<Option<Model>, Diagnostics> {
        let id = self.id(&state)?;
        // After an import the permissions are not known yet: everything found counts.
        let import = state.table_permissions.is_null() || state.database_permissions.is_null();
        let spec = Spec::of_id(&id, &state);
        let stray: Vec<Grant> = private.load::<Stray>().0;
        let (owned, left) = futures::join!(
            self.find_declared(client, &spec, import),
            grants::read_owned(client, &stray)
        );
        let owned = owned?;
        let left = left.map_err(|e| {
            aws_diag(
                Action::List,
                format!("the LF-tag policy grants of {}", spec.principal),
                &e,
            )
        })?;
        private.store(&Stray(left.clone()));
        if owned.is_empty() && left.is_empty() {
            return Ok(None);
        }
        // Only stray grants left: stay in state (with nothing declared found) so that the next
        // apply revokes them.
        Ok(Some(self.flatten(&id, owned, &state)))
    }

    async fn update(
        &self,
        client: &Mesh,
        prior: Model,
        after: Spec,
        _planned: Model,
        private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let before = Spec::from(&prior).map_err(Failure::clean)?;
        let stray: Vec<Grant> = private.load::<Stray>().0;
        if before.expression != after.expression {
            check_expression(client, &after.catalog_id, &after.expression, false)
                .await
                .map_err(Failure::clean)?;
        }
        // What exists now, not what the state says: the change then also restores drift, and
        // never revokes what is already gone.
        let owned = self
            .find_declared(client, &before, false)
            .await
            .map_err(Failure::clean)?;
        let owned = grants::merge(owned.into_iter().chain(stray.iter().cloned()));
        if let Err(diags) = grants::apply_change(client, &owned, &after.grants()).await {
            // Granting comes first, so a failure leaves the old grants in place and perhaps
            // some new ones: the state keeps the old, private state the new, and the next plan
            // shows what is left to do.
            return Err(self
                .after_failure(client, &before, &after, stray, private, diags)
                .await);
        }
        private.store(&Stray::default());
        Ok(after.state(&after.grants(), false))
    }

    async fn delete(
        &self,
        client: &Mesh,
        state: Model,
        private: &Private,
    ) -> Result<(), Diagnostics> {
        let spec = Spec::from(&state)?;
        let stray: Vec<Grant> = private.load::<Stray>().0;
        grants::revoke(
            client,
            &grants::merge(spec.grants().into_iter().chain(stray)),
        )
        .await
    }
}
