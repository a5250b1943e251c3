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
use crate::framework::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, Failure, PlanRequest, Private,
    Resource, Schema, Type, Validator,
};
use crate::rules::{check_tag_key as check_key, check_tag_value as check_value, is_account_id};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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

/// A parsed `mesh_tag_grant` id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantId {
    /// Catalog (account) id.
    pub catalog_id: String,
    /// Principal.
    pub principal: String,
    /// Expression.
    pub expression: Expression,
}

/// Characters that separate the parts of an id; escaped (with `%`) inside keys and values.
const RESERVED: [(char, &str); 5] = [
    ('%', "%25"),
    ('|', "%7C"),
    (';', "%3B"),
    ('=', "%3D"),
    (',', "%2C"),
];

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match RESERVED.iter().find(|(r, _)| *r == c) {
            Some((_, e)) => out.push_str(e),
            None => out.push(c),
        }
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = s.to_string();
    // `%25` last, so an escaped `%` never forms another escape.
    for (c, e) in RESERVED.iter().rev() {
        out = out.replace(e, &c.to_string());
    }
    out
}

impl GrantId {
    /// `CATALOG|PRINCIPAL|KEY=V1,V2;KEY2=V3`, keys and values sorted; `%`, `|`, `;`, `=` and
    /// `,` inside keys and values are percent-escaped.
    pub fn render(&self) -> String {
        let expr: Vec<String> = self
            .expression
            .iter()
            .map(|(k, vs)| {
                let vs: Vec<String> = vs.iter().map(|v| escape(v)).collect();
                format!("{}={}", escape(k), vs.join(","))
            })
            .collect();
        format!("{}|{}|{}", self.catalog_id, self.principal, expr.join(";"))
    }

    /// Parses [`GrantId::render`]'s format.
    pub fn parse(id: &str) -> Result<Self, String> {
        let parts: Vec<&str> = id.splitn(3, '|').collect();
        let [catalog, principal, expr] = parts.as_slice() else {
            return Err(format!(
                "{id:?} is not CATALOG|PRINCIPAL|KEY=VALUE,VALUE;KEY=VALUE."
            ));
        };
        if !is_account_id(catalog) {
            return Err(format!(
                "{catalog:?} (before the first `|`) is not a 12-digit catalog id."
            ));
        }
        if let Some(p) = check_principal(principal) {
            return Err(p);
        }
        let mut expression = Expression::new();
        for clause in expr.split(';') {
            let Some((k, vs)) = clause.split_once('=') else {
                return Err(format!("{clause:?} is not KEY=VALUE,VALUE."));
            };
            let values: BTreeSet<String> = vs.split(',').map(unescape).collect();
            if values.iter().any(String::is_empty) {
                return Err(format!("{clause:?} has an empty value."));
            }
            let key = unescape(k);
            if let Some(p) = check_key(&key) {
                return Err(p);
            }
            if expression.insert(key.clone(), values).is_some() {
                return Err(format!("The key {key:?} appears twice."));
            }
        }
        Ok(Self {
            catalog_id: catalog.to_string(),
            principal: principal.to_string(),
            expression,
        })
    }
}

fn expression_validator() -> Validator {
    Validator::new("LF-tag expression", |v, path, diags| {
        let Value::Map(m) = v else { return };
        if m.is_empty() {
            diags.error_at(
                path.clone(),
                "Empty expression",
                "The expression must name at least one LF-tag key with its values.",
            );
        }
        for (k, vals) in m {
            let at = path.then_key(k.clone());
            if let Some(p) = check_key(k) {
                diags.error_at(at.clone(), "Invalid LF-tag key", p);
            }
            match vals {
                Value::Set(items) | Value::List(items) => {
                    if items.is_empty() {
                        diags.error_at(
                            at.clone(),
                            "No values",
                            format!("The LF-tag {k:?} must list at least one value."),
                        );
                    }
                    for item in items {
                        if let Value::String(s) = item {
                            if let Some(p) = check_value(s) {
                                diags.error_at(at.clone(), "Invalid LF-tag value", p);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    })
}

/// Everything the grant operations need, from a model whose values are known.
#[derive(Debug, Clone)]
struct Spec {
    catalog_id: String,
    principal: String,
    expression: Expression,
    table: BTreeSet<String>,
    database: BTreeSet<String>,
    grantable: BTreeSet<String>,
}

impl Spec {
    fn from(m: &Model) -> Result<Self, Diagnostics> {
        Ok(Self {
            catalog_id: known(&m.catalog_id, "catalog_id")?.clone(),
            principal: known(&m.principal, "principal")?.clone(),
            expression: known(&m.expression, "expression")?.clone(),
            table: known(&m.table_permissions, "table_permissions")?.clone(),
            database: known(&m.database_permissions, "database_permissions")?.clone(),
            grantable: m.grantable_permissions.known().cloned().unwrap_or_default(),
        })
    }

    fn id(&self) -> String {
        GrantId {
            catalog_id: self.catalog_id.clone(),
            principal: self.principal.clone(),
            expression: self.expression.clone(),
        }
        .render()
    }

    fn target(&self, kind: PolicyKind) -> Target {
        Target::TagPolicy {
            catalog_id: self.catalog_id.clone(),
            kind,
            expression: self.expression.clone(),
        }
    }

    /// The two policy grants (either left out when it has no permissions).
    fn grants(&self) -> Vec<Grant> {
        [
            (PolicyKind::Database, &self.database),
            (PolicyKind::Table, &self.table),
        ]
        .into_iter()
        .filter(|(_, perms)| !perms.is_empty())
        .map(|(kind, perms)| Grant {
            principal: self.principal.clone(),
            target: self.target(kind),
            permissions: perms.clone(),
            grantable: self.grantable.intersection(perms).cloned().collect(),
        })
        .collect()
    }

    /// The model for what `owned` shows exists of this spec's grants.
    fn state(&self, owned: &[Grant], import: bool) -> Model {
        let of = |kind: PolicyKind| owned.iter().find(|g| g.target == self.target(kind));
        let perms = |kind| of(kind).map(|g| g.permissions.clone()).unwrap_or_default();
        let grantable: BTreeSet<String> = if import {
            owned
                .iter()
                .flat_map(|g| g.grantable.iter().cloned())
                .collect()
        } else {
            // Grantable as declared only where every grant that carries the permission still
            // has its grant option; otherwise the plan shows it missing and apply restores it.
            self.grantable
                .iter()
                .filter(|p| {
                    [PolicyKind::Database, PolicyKind::Table]
                        .into_iter()
                        .filter(|k| match k {
                            PolicyKind::Database => self.database.contains(*p),
                            PolicyKind::Table => self.table.contains(*p),
                        })
                        .all(|k| of(k).is_some_and(|g| g.grantable.contains(*p)))
                })
                .cloned()
                .collect()
        };
        Model {
            id: Attr::Known(self.id()),
            principal: Attr::Known(self.principal.clone()),
            expression: Attr::Known(self.expression.clone()),
            table_permissions: Attr::Known(perms(PolicyKind::Table)),
            database_permissions: Attr::Known(perms(PolicyKind::Database)),
            grantable_permissions: Attr::Known(grantable),
            catalog_id: Attr::Known(self.catalog_id.clone()),
        }
    }
}

fn tag_uses(expression: &Expression) -> Vec<TagUse> {
    expression
        .iter()
        .flat_map(|(k, vs)| {
            vs.iter().map(move |v| TagUse {
                path: AttributePath::attr("expression").then_key(k.clone()),
                key: k.clone(),
                value: v.clone(),
            })
        })
        .collect()
}

/// Checks the expression against the catalog's LF-tags: an unknown key or value is an error. At
/// plan time the LF-tags this provider has planned count as defined (see
/// [`ontology::PlannedTags`]); at apply only what the catalog holds counts.
async fn check_expression(
    client: &Mesh,
    catalog: &str,
    expression: &Expression,
    at_plan: bool,
) -> Result<(), Diagnostics> {
    let mut o = Ontology::load_catalog(client, Some(catalog))
        .await
        .map_err(|e| aws_diag("Cannot list LF-tags to check the expression", &e))?;
    if at_plan {
        o = o.with_planned(client.planned_tags(), catalog);
    }
    let problems = o.check(&tag_uses(expression), true);
    if problems.has_errors() {
        Err(problems)
    } else {
        Ok(())
    }
}

fn all_permissions() -> BTreeSet<String> {
    TABLE_PERMISSIONS
        .iter()
        .chain(DATABASE_PERMISSIONS)
        .map(|p| p.to_string())
        .collect()
}

impl TagGrant {
    /// What exists of `spec`'s grants. With `import`, every permission found counts.
    async fn find(
        &self,
        client: &Mesh,
        spec: &Spec,
        import: bool,
    ) -> Result<Vec<Grant>, Diagnostics> {
        let declared = if import {
            let all = all_permissions();
            Spec {
                table: all.clone(),
                database: all.clone(),
                grantable: all,
                ..spec.clone()
            }
            .grants()
        } else {
            spec.grants()
        };
        grants::read_owned(client, &declared).await.map_err(|e| {
            aws_diag(
                format!("Cannot list the LF-tag policy grants of {}", spec.principal),
                &e,
            )
        })
    }
}

/// Private state: grants a failed change made that the state does not declare (the new
/// expression's, granted before revoking the old failed). Read keeps those still there, plan
/// shows an update while any remain, update revokes them unless declared, delete revokes them.
const STRAY: &str = "stray_grants";

impl TagGrant {
    /// After a failed change from `before` to `after`: the state to keep (what exists of the
    /// grants `before` declares) and, in `private`, every other grant the change may have made.
    async fn after_failure(
        &self,
        client: &Mesh,
        before: &Spec,
        after: &Spec,
        stray: Vec<Grant>,
        private: &mut Private,
        mut diags: Diagnostics,
    ) -> Failure<Model> {
        let owned = match self.find(client, before, false).await {
            Ok(owned) => owned,
            Err(d) => {
                // Cannot tell what exists: keep the prior state and every candidate.
                private.set(
                    STRAY,
                    &grants::merge(after.grants().into_iter().chain(stray)),
                );
                diags.extend(d);
                return Failure::clean(diags);
            }
        };
        let candidates = grants::merge(after.grants().into_iter().chain(stray));
        let left = match grants::read_owned(client, &candidates).await {
            Ok(found) => grants::subtract(&found, &owned),
            Err(_) => grants::subtract(&candidates, &owned),
        };
        if left.is_empty() {
            private.remove(STRAY);
        } else {
            private.set(STRAY, &left);
        }
        if owned.is_empty() && left.is_empty() {
            Failure::clean(diags)
        } else {
            Failure::partial(before.state(&owned, false), diags)
        }
    }
}

fn set_default(items: &[&str]) -> Value {
    Value::set(items.iter().map(|s| Value::String(s.to_string())).collect())
}

#[async_trait]
impl Resource for TagGrant {
    type Model = Model;
    type Client = Mesh;

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
                            .extend(aws_diag("Cannot find the caller's account id", &e));
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
        if req.prior.is_some() && req.private.contains(STRAY) {
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

    async fn create(
        &self,
        client: &Mesh,
        mut planned: Model,
        _private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        if !planned.catalog_id.is_known() {
            let c = ontology::tag_catalog(client)
                .await
                .map_err(|e| Failure::clean(aws_diag("Cannot find the caller's account id", &e)))?;
            planned.catalog_id = Attr::Known(c);
        }
        let spec = Spec::from(&planned).map_err(Failure::clean)?;
        // Again at apply: values known only now, and tags removed since the plan. Lake
        // Formation refuses unknown tags itself, but not every implementation does.
        check_expression(client, &spec.catalog_id, &spec.expression, false)
            .await
            .map_err(Failure::clean)?;
        if let Err(diags) = grants::apply_change(client, &[], &spec.grants()).await {
            // Some grants may have gone through: keep what exists so nothing is orphaned.
            return match self.find(client, &spec, false).await {
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
        // After an import the permissions are not known yet: everything found counts.
        let import = state.table_permissions.is_null() || state.database_permissions.is_null();
        let spec = Spec {
            catalog_id: known(&state.catalog_id, "catalog_id")?.clone(),
            principal: known(&state.principal, "principal")?.clone(),
            expression: known(&state.expression, "expression")?.clone(),
            table: state.table_permissions.known().cloned().unwrap_or_default(),
            database: state
                .database_permissions
                .known()
                .cloned()
                .unwrap_or_default(),
            grantable: state
                .grantable_permissions
                .known()
                .cloned()
                .unwrap_or_default(),
        };
        let stray: Vec<Grant> = private.get(STRAY).unwrap_or_default();
        let (owned, left) = futures::join!(
            self.find(client, &spec, import),
            grants::read_owned(client, &stray)
        );
        let owned = owned?;
        let left = left.map_err(|e| {
            aws_diag(
                format!("Cannot list the LF-tag policy grants of {}", spec.principal),
                &e,
            )
        })?;
        if left.is_empty() {
            private.remove(STRAY);
        } else {
            private.set(STRAY, &left);
        }
        if owned.is_empty() && left.is_empty() {
            return Ok(None);
        }
        // Only stray grants left: stay in state (with nothing declared found) so that the next
        // apply revokes them.
        Ok(Some(spec.state(&owned, import)))
    }

    async fn update(
        &self,
        client: &Mesh,
        prior: Model,
        planned: Model,
        private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let before = Spec::from(&prior).map_err(Failure::clean)?;
        let after = Spec::from(&planned).map_err(Failure::clean)?;
        let stray: Vec<Grant> = private.get(STRAY).unwrap_or_default();
        if before.expression != after.expression {
            check_expression(client, &after.catalog_id, &after.expression, false)
                .await
                .map_err(Failure::clean)?;
        }
        // What exists now, not what the state says: the change then also restores drift, and
        // never revokes what is already gone.
        let owned = self
            .find(client, &before, false)
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
        private.remove(STRAY);
        Ok(after.state(&after.grants(), false))
    }

    async fn delete(
        &self,
        client: &Mesh,
        state: Model,
        private: &Private,
    ) -> Result<(), Diagnostics> {
        let spec = Spec::from(&state)?;
        let stray: Vec<Grant> = private.get(STRAY).unwrap_or_default();
        grants::revoke(
            client,
            &grants::merge(spec.grants().into_iter().chain(stray)),
        )
        .await
    }

    async fn import(&self, client: &Mesh, id: &str) -> Result<Model, Diagnostics> {
        let parsed = GrantId::parse(id).map_err(|problem| {
            Diagnostics::from(
                Diagnostic::error(
                    "Invalid import id",
                    format!("{problem} Import ids for mesh_tag_grant are CATALOG|PRINCIPAL|KEY=V1,V2;KEY2=V3."),
                )
                .at(AttributePath::attr("id")),
            )
        })?;
        let spec = Spec {
            catalog_id: parsed.catalog_id.clone(),
            principal: parsed.principal.clone(),
            expression: parsed.expression.clone(),
            table: BTreeSet::new(),
            database: BTreeSet::new(),
            grantable: BTreeSet::new(),
        };
        // Refuse to import what is not there, rather than import an empty shell.
        if self.find(client, &spec, true).await?.is_empty() {
            return Err(Diagnostic::error(
                "Cannot import a missing grant",
                format!(
                    "No LF-tag policy grant to {} on the expression {} exists in catalog {}.",
                    parsed.principal,
                    parsed.render().rsplit('|').next().unwrap_or_default(),
                    parsed.catalog_id
                ),
            )
            .into());
        }
        Ok(Model {
            id: Attr::Known(parsed.render()),
            principal: Attr::Known(parsed.principal),
            expression: Attr::Known(parsed.expression),
            table_permissions: Attr::Null,
            database_permissions: Attr::Null,
            grantable_permissions: Attr::Null,
            catalog_id: Attr::Known(parsed.catalog_id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ids_round_trip_sorted_and_escaped() {
        let id = GrantId {
            catalog_id: "111111111111".into(),
            principal: "arn:aws:iam::111111111111:role/Analytics".into(),
            expression: BTreeMap::from([
                ("sensitivity".into(), set(&["public", "internal"])),
                ("domain".into(), set(&["commerce"])),
                ("odd=key".into(), set(&["a,b", "100%"])),
            ]),
        };
        let text = id.render();
        assert_eq!(
            text,
            "111111111111|arn:aws:iam::111111111111:role/Analytics|domain=commerce;odd%3Dkey=100%25,a%2Cb;sensitivity=internal,public"
        );
        assert_eq!(GrantId::parse(&text).unwrap(), id);
        // Any order parses to the same grant.
        let shuffled = "111111111111|arn:aws:iam::111111111111:role/Analytics|sensitivity=public,internal;domain=commerce;odd%3Dkey=a%2Cb,100%25";
        assert_eq!(GrantId::parse(shuffled).unwrap(), id);
    }

    #[test]
    fn bad_ids_say_why() {
        assert!(GrantId::parse("nonsense").is_err());
        assert!(GrantId::parse("1234|123456789012|k=v").is_err());
        assert!(GrantId::parse("111111111111|nobody|k=v").is_err());
        assert!(GrantId::parse("111111111111|123456789012|k").is_err());
        assert!(GrantId::parse("111111111111|123456789012|k=").is_err());
        assert!(GrantId::parse("111111111111|123456789012|k=a;k=b").is_err());
        assert!(GrantId::parse("111111111111|123456789012|k=a;j=b").is_ok());
    }

    #[test]
    fn grants_split_grant_options_by_kind() {
        let spec = Spec {
            catalog_id: "111111111111".into(),
            principal: "123456789012".into(),
            expression: BTreeMap::from([("domain".into(), set(&["commerce"]))]),
            table: set(&["SELECT", "DESCRIBE"]),
            database: set(&["DESCRIBE"]),
            grantable: set(&["SELECT"]),
        };
        let g = spec.grants();
        assert_eq!(g.len(), 2);
        assert!(g[0].grantable.is_empty());
        assert_eq!(g[1].grantable, set(&["SELECT"]));
        // Read back exactly what was granted: the same model.
        let state = spec.state(&g, false);
        assert_eq!(
            state.table_permissions,
            Attr::Known(set(&["SELECT", "DESCRIBE"]))
        );
        assert_eq!(state.grantable_permissions, Attr::Known(set(&["SELECT"])));
        // No database permissions: one grant only.
        let spec = Spec {
            database: BTreeSet::new(),
            ..spec
        };
        assert_eq!(spec.grants().len(), 1);
    }
}
