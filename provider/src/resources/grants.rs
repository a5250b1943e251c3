//! Lake Formation grant mechanics, in one place: a typed [`Grant`] with exact equality, reading
//! grants back ([`list`], [`owned`]), and changing them without an access gap ([`apply_change`]).
//!
//! The rules every grant resource follows:
//! - a resource owns exactly the grants it declares; read keeps, from what Lake Formation lists,
//!   only the entries with the same principal and resource, and of those only the permissions the
//!   resource declared, so broader or implicit grants made by others are neither drift nor touched;
//! - a change grants what is new first and only then revokes what left, so a consumer never loses
//!   access mid-apply; revoking something already gone is success;
//! - several entries go in one BatchGrantPermissions / BatchRevokePermissions call (at most
//!   [`BATCH`] entries each), and per-entry ConcurrentModificationException failures are retried
//!   with backoff and jitter (whole-call failures are retried by [`Clients::call`]).

use super::aws_diag;
use super::Mesh;
use crate::aws::{AwsError, ErrorKind, RetryPolicy, Service};
use crate::framework::{Diagnostic, Diagnostics};
use crate::resources::Action;
use aws_sdk_lakeformation::types::{
    BatchPermissionsFailureEntry, BatchPermissionsRequestEntry, ColumnWildcard, DataLakePrincipal,
    DataLakeResourceType, DatabaseResource, LfTag, LfTagPolicyResource, Permission,
    PrincipalResourcePermissions, Resource, ResourceType, TableResource, TableWithColumnsResource,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Lake Formation accepts at most this many entries in one batch grant or revoke call.
pub const BATCH: usize = 20;

/// How many times entries that failed with ConcurrentModificationException inside a batch
/// answer are sent again before the failure surfaces.
const ENTRY_RETRIES: u32 = 8;

/// Permissions Lake Formation grants on tables (and on LF-tag policies of type TABLE).
pub const TABLE_PERMISSIONS: &[&str] = &[
    "ALL", "ALTER", "DELETE", "DESCRIBE", "DROP", "INSERT", "SELECT",
];

/// Permissions Lake Formation grants on databases (and on LF-tag policies of type DATABASE).
pub const DATABASE_PERMISSIONS: &[&str] = &["ALL", "ALTER", "CREATE_TABLE", "DESCRIBE", "DROP"];

/// Which columns a column-level grant covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Columns {
    /// Exactly these columns.
    Only(BTreeSet<String>),
    /// Every column but these.
    Except(BTreeSet<String>),
}

/// The kind of resources an LF-tag policy grant applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PolicyKind {
    /// Databases whose tags match the expression.
    Database,
    /// Tables whose tags match the expression.
    Table,
}

/// What a grant is on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Target {
    /// A Glue database.
    Database {
        /// The catalog (account id) holding it.
        catalog_id: String,
        /// Database name.
        name: String,
    },
    /// A whole Glue table.
    Table {
        /// The catalog (account id) holding it.
        catalog_id: String,
        /// Database name.
        database: String,
        /// Table name.
        name: String,
    },
    /// Some columns of a Glue table.
    Columns {
        /// The catalog (account id) holding it.
        catalog_id: String,
        /// Database name.
        database: String,
        /// Table name.
        name: String,
        /// The columns.
        columns: Columns,
    },
    /// Every database or table whose LF-tags match an expression.
    TagPolicy {
        /// The catalog (account id) holding the LF-tags.
        catalog_id: String,
        /// Databases or tables.
        kind: PolicyKind,
        /// Tag key -> the values any of which matches.
        expression: BTreeMap<String, BTreeSet<String>>,
    },
}

impl Target {
    /// The catalog the target lives in: where the grant is made and listed.
    pub fn catalog_id(&self) -> &str {
        match self {
            Target::Database { catalog_id, .. }
            | Target::Table { catalog_id, .. }
            | Target::Columns { catalog_id, .. }
            | Target::TagPolicy { catalog_id, .. } => catalog_id,
        }
    }

    /// The SDK resource. Always names the catalog and lists keys and values sorted: some
    /// implementations (the emulator) compare stored resources as exact documents, so the same
    /// grant must always be sent the same way.
    pub fn to_sdk(&self) -> Result<Resource, Diagnostics> {
        let bug = |e: aws_smithy_types::error::operation::BuildError| {
            Diagnostics::from(Diagnostic::provider_bug(e))
        };
        Ok(match self {
            Target::Database { catalog_id, name } => Resource::builder()
                .database(
                    DatabaseResource::builder()
                        .catalog_id(catalog_id)
                        .name(name)
                        .build()
                        .map_err(bug)?,
                )
                .build(),
            Target::Table {
                catalog_id,
                database,
                name,
            } => Resource::builder()
                .table(
                    TableResource::builder()
                        .catalog_id(catalog_id)
                        .database_name(database)
                        .name(name)
                        .build()
                        .map_err(bug)?,
                )
                .build(),
            Target::Columns {
                catalog_id,
                database,
                name,
                columns,
            } => {
                let mut b = TableWithColumnsResource::builder()
                    .catalog_id(catalog_id)
                    .database_name(database)
                    .name(name);
                b = match columns {
                    Columns::Only(cols) => b.set_column_names(Some(cols.iter().cloned().collect())),
                    Columns::Except(cols) => b.column_wildcard(
                        ColumnWildcard::builder()
                            .set_excluded_column_names(Some(cols.iter().cloned().collect()))
                            .build(),
                    ),
                };
                Resource::builder()
                    .table_with_columns(b.build().map_err(bug)?)
                    .build()
            }
            Target::TagPolicy {
                catalog_id,
                kind,
                expression,
            } => {
                let mut tags = Vec::with_capacity(expression.len());
                for (key, values) in expression {
                    tags.push(
                        LfTag::builder()
                            .tag_key(key)
                            .set_tag_values(Some(values.iter().cloned().collect()))
                            .build()
                            .map_err(bug)?,
                    );
                }
                let policy = LfTagPolicyResource::builder()
                    .catalog_id(catalog_id)
                    .resource_type(match kind {
                        PolicyKind::Database => ResourceType::Database,
                        PolicyKind::Table => ResourceType::Table,
                    })
                    .set_expression(Some(tags))
                    .build()
                    .map_err(bug)?;
                Resource::builder().lf_tag_policy(policy).build()
            }
        })
    }

    /// The target of a listed resource; `None` for kinds no resource here manages. A missing
    /// catalog id means `default_catalog` (the catalog that was listed). A column grant on every
    /// column (a wildcard without exclusions) is the table itself: Lake Formation lists the
    /// SELECT of a table grant that way.
    pub fn from_sdk(resource: &Resource, default_catalog: &str) -> Option<Target> {
        let catalog = |c: Option<&str>| c.unwrap_or(default_catalog).to_string();
        if let Some(db) = &resource.database {
            return Some(Target::Database {
                catalog_id: catalog(db.catalog_id()),
                name: db.name.clone(),
            });
        }
        if let Some(t) = &resource.table {
            return Some(Target::Table {
                catalog_id: catalog(t.catalog_id()),
                database: t.database_name.clone(),
                name: t.name.clone()?,
            });
        }
        if let Some(t) = &resource.table_with_columns {
            let catalog_id = catalog(t.catalog_id());
            let columns = match (&t.column_names, &t.column_wildcard) {
                (Some(names), _) if !names.is_empty() => {
                    Columns::Only(names.iter().cloned().collect())
                }
                (_, Some(w)) if !w.excluded_column_names().is_empty() => {
                    Columns::Except(w.excluded_column_names().iter().cloned().collect())
                }
                _ => {
                    return Some(Target::Table {
                        catalog_id,
                        database: t.database_name.clone(),
                        name: t.name.clone(),
                    })
                }
            };
            return Some(Target::Columns {
                catalog_id,
                database: t.database_name.clone(),
                name: t.name.clone(),
                columns,
            });
        }
        if let Some(p) = &resource.lf_tag_policy {
            let kind = match p.resource_type {
                ResourceType::Database => PolicyKind::Database,
                ResourceType::Table => PolicyKind::Table,
                _ => return None,
            };
            // A named expression is another kind of grant; ours are always inline.
            if p.expression_name.is_some() {
                return None;
            }
            let mut expression: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for tag in &p.expression {
                expression
                    .entry(tag.tag_key.clone())
                    .or_default()
                    .extend(tag.tag_values.iter().cloned());
            }
            return Some(Target::TagPolicy {
                catalog_id: catalog(p.catalog_id()),
                kind,
                expression,
            });
        }
        None
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Database { catalog_id, name } => write!(f, "database {catalog_id}:{name}"),
            Target::Table {
                catalog_id,
                database,
                name,
            } => write!(f, "table {catalog_id}:{database}.{name}"),
            Target::Columns {
                catalog_id,
                database,
                name,
                columns,
            } => {
                let (how, cols) = match columns {
                    Columns::Only(c) => ("columns", c),
                    Columns::Except(c) => ("all columns except", c),
                };
                let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
                write!(
                    f,
                    "{how} {} of table {catalog_id}:{database}.{name}",
                    cols.join(", ")
                )
            }
            Target::TagPolicy {
                catalog_id,
                kind,
                expression,
            } => {
                let kind = match kind {
                    PolicyKind::Database => "databases",
                    PolicyKind::Table => "tables",
                };
                let expr: Vec<String> = expression
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{k} in [{}]",
                            v.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
                        )
                    })
                    .collect();
                write!(
                    f,
                    "{kind} tagged {} (catalog {catalog_id})",
                    expr.join(" and ")
                )
            }
        }
    }
}

/// One grant: permissions (and the grantable subset) of a principal on a target.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    /// The principal: an IAM role or user ARN, an account id, an organization or OU ARN.
    pub principal: String,
    /// What the grant is on.
    pub target: Target,
    /// Permissions, e.g. `SELECT`.
    pub permissions: BTreeSet<String>,
    /// Permissions the principal may grant on to others (a subset of `permissions`).
    pub grantable: BTreeSet<String>,
}

impl Grant {
    /// A grant without grant options.
    pub fn new(
        principal: impl Into<String>,
        target: Target,
        permissions: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            principal: principal.into(),
            target,
            permissions: permissions.into_iter().map(Into::into).collect(),
            grantable: BTreeSet::new(),
        }
    }

    /// True when the grant gives nothing.
    pub fn is_empty(&self) -> bool {
        self.permissions.is_empty() && self.grantable.is_empty()
    }

    fn key(&self) -> (&str, &Target) {
        (&self.principal, &self.target)
    }
}

/// What to list: everything in a catalog, narrowed by principal and target, or by a kind.
#[derive(Debug, Clone)]
pub struct Filter {
    /// The catalog to list (its grants are stored there).
    pub catalog_id: String,
    /// Only this principal's grants (Lake Formation requires a target with it).
    pub principal: Option<String>,
    /// Only grants on this target.
    pub target: Option<Target>,
    /// Only grants on resources of this kind (when no target is given).
    pub kind: Option<DataLakeResourceType>,
}

impl Filter {
    /// The grants of `principal` on `target`.
    pub fn exact(principal: &str, target: &Target) -> Self {
        Self {
            catalog_id: target.catalog_id().to_string(),
            principal: Some(principal.to_string()),
            target: Some(target.clone()),
            kind: None,
        }
    }

    fn keeps(&self, grant: &Grant) -> bool {
        self.principal
            .as_ref()
            .is_none_or(|p| *p == grant.principal)
            && self.target.as_ref().is_none_or(|t| *t == grant.target)
    }
}

fn principal(id: &str) -> DataLakePrincipal {
    DataLakePrincipal::builder()
        .data_lake_principal_identifier(id)
        .build()
}

fn names(perms: &[Permission]) -> impl Iterator<Item = String> + '_ {
    perms.iter().map(|p| p.as_str().to_string())
}

/// Lists grants (ListPermissions, every page) and merges entries with the same principal and
/// target (Lake Formation may list one grant as several entries). Entries on resources no
/// resource here manages are skipped. The filter is applied here as well as in the request.
pub async fn list(client: &Mesh, filter: &Filter) -> Result<Vec<Grant>, AwsError> {
    let resource = match &filter.target {
        Some(t) => Some(t.to_sdk().map_err(|d| AwsError {
            service: "lakeformation",
            operation: "ListPermissions",
            code: None,
            message: d.to_string(),
            status: None,
            kind: ErrorKind::Other,
        })?),
        None => None,
    };
    // Lake Formation takes a principal only together with a resource; without one, the
    // principal is filtered here.
    let principal_id = resource.as_ref().and(filter.principal.as_deref());
    let entries = match list_pages(client, filter, resource.clone(), principal_id).await {
        Ok(entries) => entries,
        // Some implementations (the emulator) cannot filter by LF-tag policy or column
        // resources and refuse the request as invalid; listing the whole catalog and filtering
        // here gives the same answer.
        Err(e) if e.kind == ErrorKind::InvalidInput && resource.is_some() => {
            let whole = Filter {
                principal: None,
                target: None,
                ..filter.clone()
            };
            list_pages(client, &whole, None, None).await?
        }
        Err(e) => return Err(e),
    };
    let mut merged: BTreeMap<(String, Target), Grant> = BTreeMap::new();
    for entry in entries {
        let Some(grant) = from_entry(&entry, &filter.catalog_id) else {
            continue;
        };
        if !filter.keeps(&grant) {
            continue;
        }
        merged
            .entry((grant.principal.clone(), grant.target.clone()))
            .and_modify(|g| {
                g.permissions.extend(grant.permissions.iter().cloned());
                g.grantable.extend(grant.grantable.iter().cloned());
            })
            .or_insert(grant);
    }
    Ok(merged.into_values().collect())
}

async fn list_pages(
    client: &Mesh,
    filter: &Filter,
    resource: Option<Resource>,
    principal_id: Option<&str>,
) -> Result<Vec<PrincipalResourcePermissions>, AwsError> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .call(Service::LakeFormation, "ListPermissions", || {
                client
                    .lakeformation()
                    .list_permissions()
                    .catalog_id(&filter.catalog_id)
                    .set_principal(principal_id.map(principal))
                    .set_resource(resource.clone())
                    .set_resource_type(if resource.is_none() {
                        filter.kind.clone()
                    } else {
                        None
                    })
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
        all.extend(page.principal_resource_permissions.unwrap_or_default());
        token = page.next_token.filter(|t| !t.is_empty());
        if token.is_none() {
            return Ok(all);
        }
    }
}

fn from_entry(entry: &PrincipalResourcePermissions, catalog: &str) -> Option<Grant> {
    let principal = entry
        .principal
        .as_ref()?
        .data_lake_principal_identifier
        .clone()?;
    let target = Target::from_sdk(entry.resource.as_ref()?, catalog)?;
    Some(Grant {
        principal,
        target,
        permissions: names(entry.permissions()).collect(),
        grantable: names(entry.permissions_with_grant_option()).collect(),
    })
}

/// What of `declared` exists in `found`: for each declared grant, the found grant with the same
/// principal and target, narrowed to the declared permissions. Declared grants with nothing
/// found are left out.
pub fn owned(found: &[Grant], declared: &[Grant]) -> Vec<Grant> {
    declared
        .iter()
        .filter_map(|d| {
            let f = found.iter().find(|f| f.key() == d.key())?;
            let g = Grant {
                principal: d.principal.clone(),
                target: d.target.clone(),
                permissions: f
                    .permissions
                    .intersection(&d.permissions)
                    .cloned()
                    .collect(),
                grantable: f.grantable.intersection(&d.grantable).cloned().collect(),
            };
            (!g.is_empty()).then_some(g)
        })
        .collect()
}

/// `grants` with entries for the same principal and target combined (permissions and grant
/// options united), in first-seen order: a change must see each target once.
pub fn merge(grants: impl IntoIterator<Item = Grant>) -> Vec<Grant> {
    let mut out: Vec<Grant> = Vec::new();
    for g in grants {
        match out.iter_mut().find(|o| o.key() == g.key()) {
            Some(o) => {
                o.permissions.extend(g.permissions);
                o.grantable.extend(g.grantable);
            }
            None => out.push(g),
        }
    }
    out
}

/// What of `found` is not in `declared`: per principal and target, the permissions and grant
/// options `declared` does not cover. Entries left with nothing are dropped.
pub fn subtract(found: &[Grant], declared: &[Grant]) -> Vec<Grant> {
    found
        .iter()
        .filter_map(|f| {
            let d = declared.iter().find(|d| d.key() == f.key());
            let g = match d {
                None => f.clone(),
                Some(d) => Grant {
                    principal: f.principal.clone(),
                    target: f.target.clone(),
                    permissions: f.permissions.difference(&d.permissions).cloned().collect(),
                    grantable: f.grantable.difference(&d.grantable).cloned().collect(),
                },
            };
            (!g.is_empty()).then_some(g)
        })
        .collect()
}

/// Lists what exists of each declared grant (one ListPermissions per grant, concurrently) and
/// returns what of it this resource owns; see [`owned`].
pub async fn read_owned(client: &Mesh, declared: &[Grant]) -> Result<Vec<Grant>, AwsError> {
    let filters: Vec<Filter> = declared
        .iter()
        .map(|d| Filter::exact(&d.principal, &d.target))
        .collect();
    let lists = futures::future::join_all(filters.iter().map(|f| list(client, f))).await;
    let mut found = Vec::new();
    for l in lists {
        found.extend(l?);
    }
    Ok(owned(&found, declared))
}

/// The grant and revoke entries that take `before` to `after`.
pub fn plan_change(before: &[Grant], after: &[Grant]) -> (Vec<Grant>, Vec<Grant>) {
    let empty = BTreeSet::new();
    let mut grants = Vec::new();
    for a in after {
        let b = before.iter().find(|b| b.key() == a.key());
        let had = b.map_or(&empty, |b| &b.permissions);
        let had_go = b.map_or(&empty, |b| &b.grantable);
        let grantable: BTreeSet<String> = a.grantable.difference(had_go).cloned().collect();
        // A grant option is granted with its permission.
        let permissions: BTreeSet<String> = a
            .permissions
            .difference(had)
            .cloned()
            .chain(grantable.iter().cloned())
            .collect();
        let g = Grant {
            principal: a.principal.clone(),
            target: a.target.clone(),
            permissions,
            grantable,
        };
        if !g.is_empty() {
            grants.push(g);
        }
    }
    let mut revokes = Vec::new();
    for b in before {
        let a = after.iter().find(|a| a.key() == b.key());
        let keep = a.map_or(&empty, |a| &a.permissions);
        let keep_go = a.map_or(&empty, |a| &a.grantable);
        let g = Grant {
            principal: b.principal.clone(),
            target: b.target.clone(),
            permissions: b.permissions.difference(keep).cloned().collect(),
            grantable: b.grantable.difference(keep_go).cloned().collect(),
        };
        if !g.is_empty() {
            revokes.push(g);
        }
    }
    (grants, revokes)
}

/// Takes the grants from `before` (what this resource owns now) to `after`: grants what is new
/// first, then revokes only what left, so access never lapses. Revoking what is already gone is
/// success. A failure stops before any revoke when it happens while granting.
pub async fn apply_change(
    client: &Mesh,
    before: &[Grant],
    after: &[Grant],
) -> Result<(), Diagnostics> {
    let (grants, revokes) = plan_change(before, after);
    send_all(client, Op::Grant, &grants).await?;
    send_all(client, Op::Revoke, &revokes).await
}

/// Revokes every `IAM_ALLOWED_PRINCIPALS` grant on `database` in the caller's catalog (what keeps
/// a database Lake Formation-only); none to revoke is success.
pub async fn revoke_iam_allowed(client: &Mesh, database: &str) -> Result<(), Diagnostics> {
    let principal = DataLakePrincipal::builder()
        .data_lake_principal_identifier(crate::rules::IAM_ALLOWED_PRINCIPALS)
        .build();
    let db = DatabaseResource::builder()
        .name(database)
        .build()
        .map_err(|e| Diagnostics::from(Diagnostic::provider_bug(e)))?;
    let resource = Resource::builder().database(db).build();
    let result = client
        .call(Service::LakeFormation, "RevokePermissions", || {
            client
                .lakeformation()
                .revoke_permissions()
                .principal(principal.clone())
                .resource(resource.clone())
                .permissions(Permission::All)
                .send()
        })
        .await;
    match result {
        Ok(_) => Ok(()),
        // "No permissions revoked" and a missing grant both mean there is nothing to do.
        Err(e) if e.is_not_found() || e.kind == ErrorKind::InvalidInput => Ok(()),
        Err(e) => Err(aws_diag(
            Action::Revoke,
            format!("IAM_ALLOWED_PRINCIPALS on {database}"),
            &e,
        )),
    }
}

/// Revokes `grants`; what is already gone is success.
pub async fn revoke(client: &Mesh, grants: &[Grant]) -> Result<(), Diagnostics> {
    let grants: Vec<Grant> = grants.iter().filter(|g| !g.is_empty()).cloned().collect();
    send_all(client, Op::Revoke, &grants).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Grant,
    Revoke,
}

impl Op {
    fn action(self) -> Action {
        match self {
            Op::Grant => Action::Grant,
            Op::Revoke => Action::Revoke,
        }
    }
}

/// True when an error says the permissions to revoke are not there: nothing to do.
fn already_revoked(code: Option<&str>, message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    match code {
        Some("EntityNotFoundException") => true,
        Some("InvalidInputException") => {
            message.contains("no permissions revoked")
                || message.contains("does not have")
                || message.contains("not found")
                || message.contains("no permission")
        }
        _ => false,
    }
}

/// Sends grants or revokes, batched per catalog. Entries carrying grant options go one by one
/// through GrantPermissions / RevokePermissions: the emulator reads a batch entry's grant
/// options under another field name and would drop them; the single calls are equally right on
/// AWS.
async fn send_all(client: &Mesh, op: Op, grants: &[Grant]) -> Result<(), Diagnostics> {
    let (single, batched): (Vec<&Grant>, Vec<&Grant>) =
        grants.iter().partition(|g| !g.grantable.is_empty());
    let mut by_catalog: BTreeMap<&str, Vec<&Grant>> = BTreeMap::new();
    for g in batched {
        by_catalog.entry(g.target.catalog_id()).or_default().push(g);
    }
    for (catalog, list) in by_catalog {
        for chunk in list.chunks(BATCH) {
            send_batch(client, op, catalog, chunk).await?;
        }
    }
    for g in single {
        send_one(client, op, g).await?;
    }
    Ok(())
}

fn perms(set: &BTreeSet<String>) -> Vec<Permission> {
    set.iter().map(|p| Permission::from(p.as_str())).collect()
}

async fn send_one(client: &Mesh, op: Op, g: &Grant) -> Result<(), Diagnostics> {
    let resource = g.target.to_sdk()?;
    let catalog = g.target.catalog_id();
    let result = match op {
        Op::Grant => client
            .call(Service::LakeFormation, "GrantPermissions", || {
                client
                    .lakeformation()
                    .grant_permissions()
                    .catalog_id(catalog)
                    .principal(principal(&g.principal))
                    .resource(resource.clone())
                    .set_permissions(Some(perms(&g.permissions)))
                    .set_permissions_with_grant_option(Some(perms(&g.grantable)))
                    .send()
            })
            .await
            .map(|_| ()),
        Op::Revoke => client
            .call(Service::LakeFormation, "RevokePermissions", || {
                client
                    .lakeformation()
                    .revoke_permissions()
                    .catalog_id(catalog)
                    .principal(principal(&g.principal))
                    .resource(resource.clone())
                    .set_permissions(Some(perms(&g.permissions)))
                    .set_permissions_with_grant_option(Some(perms(&g.grantable)))
                    .send()
            })
            .await
            .map(|_| ()),
    };
    match result {
        Ok(()) => Ok(()),
        Err(e) if op == Op::Revoke && already_revoked(e.code.as_deref(), &e.message) => Ok(()),
        Err(e) => Err(aws_diag(op.action(), describe(g), &e)),
    }
}

fn describe(g: &Grant) -> String {
    let p: Vec<&str> = g.permissions.iter().map(String::as_str).collect();
    format!("{} on {} to {}", p.join(", "), g.target, g.principal)
}

fn entry(id: usize, g: &Grant) -> Result<BatchPermissionsRequestEntry, Diagnostics> {
    BatchPermissionsRequestEntry::builder()
        .id(id.to_string())
        .principal(principal(&g.principal))
        .resource(g.target.to_sdk()?)
        .set_permissions(Some(perms(&g.permissions)))
        .build()
        .map_err(|e| Diagnostic::provider_bug(e).into())
}

/// One batch call, then the entries that failed with ConcurrentModificationException again,
/// with backoff and jitter, up to [`ENTRY_RETRIES`] times. Other per-entry failures surface with
/// their codes; on revoke, "nothing to revoke" is success.
async fn send_batch(
    client: &Mesh,
    op: Op,
    catalog: &str,
    grants: &[&Grant],
) -> Result<(), Diagnostics> {
    let policy = RetryPolicy::default();
    let mut pending: Vec<(usize, &Grant)> = grants.iter().copied().enumerate().collect();
    let mut attempt = 0u32;
    loop {
        let entries = pending
            .iter()
            .map(|(i, g)| entry(*i, g))
            .collect::<Result<Vec<_>, _>>()?;
        let failures: Vec<BatchPermissionsFailureEntry> = match op {
            Op::Grant => client
                .call(Service::LakeFormation, "BatchGrantPermissions", || {
                    client
                        .lakeformation()
                        .batch_grant_permissions()
                        .catalog_id(catalog)
                        .set_entries(Some(entries.clone()))
                        .send()
                })
                .await
                .map(|out| out.failures.unwrap_or_default()),
            Op::Revoke => client
                .call(Service::LakeFormation, "BatchRevokePermissions", || {
                    client
                        .lakeformation()
                        .batch_revoke_permissions()
                        .catalog_id(catalog)
                        .set_entries(Some(entries.clone()))
                        .send()
                })
                .await
                .map(|out| out.failures.unwrap_or_default()),
        }
        .map_err(|e| {
            let what: Vec<String> = pending.iter().map(|(_, g)| describe(g)).collect();
            aws_diag(op.action(), "Lake Formation permissions", &e).with_detail_suffix(&what)
        })?;

        let mut retry = Vec::new();
        let mut errors = Vec::new();
        for failure in failures {
            let id = failure
                .request_entry
                .as_ref()
                .and_then(|e| e.id.parse::<usize>().ok());
            let Some((i, g)) = id
                .and_then(|id| pending.iter().find(|(i, _)| *i == id))
                .copied()
            else {
                errors.push(format!("an entry failed: {}", failure_text(&failure)));
                continue;
            };
            let code = failure.error.as_ref().and_then(|e| e.error_code());
            let message = failure
                .error
                .as_ref()
                .and_then(|e| e.error_message())
                .unwrap_or_default();
            if code == Some("ConcurrentModificationException") {
                retry.push((i, g));
            } else if op == Op::Revoke && already_revoked(code, message) {
                // Gone already: what revoke wanted.
            } else {
                errors.push(format!("{}: {}", describe(g), failure_text(&failure)));
            }
        }
        if !errors.is_empty() {
            return Err(Diagnostic::error(
                format!(
                    "Lake Formation refused to {} permissions",
                    op.action().verb()
                ),
                errors.join("\n"),
            )
            .into());
        }
        if retry.is_empty() {
            return Ok(());
        }
        if attempt >= ENTRY_RETRIES {
            let what: Vec<String> = retry.iter().map(|(_, g)| describe(g)).collect();
            return Err(Diagnostic::error(
                format!(
                    "Lake Formation kept refusing to {} permissions",
                    op.action().verb()
                ),
                format!(
                    "ConcurrentModificationException after {} attempts for: {}",
                    attempt + 1,
                    what.join("; ")
                ),
            )
            .into());
        }
        tokio::time::sleep(policy.backoff(attempt)).await;
        attempt += 1;
        pending = retry;
    }
}

fn failure_text(f: &BatchPermissionsFailureEntry) -> String {
    match &f.error {
        Some(e) => format!(
            "{}: {}",
            e.error_code().unwrap_or("error"),
            e.error_message().unwrap_or("")
        ),
        None => "no error detail".to_string(),
    }
}

trait DetailSuffix {
    fn with_detail_suffix(self, what: &[String]) -> Self;
}

impl DetailSuffix for Diagnostics {
    /// Adds which grants a failed call carried to each diagnostic's detail.
    fn with_detail_suffix(mut self, what: &[String]) -> Self {
        for d in &mut self.0 {
            d.detail = format!("{}\n\nThe call carried: {}", d.detail, what.join("; "));
        }
        self
    }
}

/// What is wrong with a principal, if anything: an IAM role or user ARN, a 12-digit account id,
/// or an AWS Organizations organization or organizational unit ARN.
pub fn check_principal(p: &str) -> Option<String> {
    if crate::rules::is_account_id(p) {
        return None;
    }
    let hint = "Use an IAM role or user ARN (arn:aws:iam::ACCOUNT:role/NAME), a 12-digit account id, or an organization (arn:aws:organizations::ACCOUNT:organization/o-ID) or OU ARN (arn:aws:organizations::ACCOUNT:ou/o-ID/ou-ID).";
    if let Err(problem) = crate::aws::check_arn(p) {
        return Some(format!("{problem} {hint}"));
    }
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    let (service, account, resource) = (parts[2], parts[4], parts[5]);
    let ok = match service {
        "iam" => {
            !account.is_empty()
                && ["role/", "user/"]
                    .iter()
                    .any(|k| resource.strip_prefix(k).is_some_and(|r| !r.is_empty()))
        }
        "organizations" => {
            let segs: Vec<&str> = resource.split('/').collect();
            !account.is_empty()
                && match segs.as_slice() {
                    ["organization", o] => o.starts_with("o-") && o.len() > 2,
                    ["ou", o, ou] => o.starts_with("o-") && ou.starts_with("ou-"),
                    _ => false,
                }
        }
        _ => false,
    };
    (!ok).then(|| format!("{p:?} is not a principal Lake Formation grants to. {hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(name: &str) -> Target {
        Target::Database {
            catalog_id: "111111111111".into(),
            name: name.into(),
        }
    }

    fn table(name: &str) -> Target {
        Target::Table {
            catalog_id: "111111111111".into(),
            database: "d".into(),
            name: name.into(),
        }
    }

    #[test]
    fn change_grants_new_and_revokes_only_what_left() {
        let before = vec![
            Grant::new("p", db("d"), ["DESCRIBE"]),
            Grant::new("p", table("t"), ["DESCRIBE"]),
        ];
        let after = vec![
            Grant::new("p", db("d"), ["DESCRIBE"]),
            Grant::new("p", table("t"), ["SELECT", "DESCRIBE"]),
        ];
        let (grants, revokes) = plan_change(&before, &after);
        assert_eq!(grants, vec![Grant::new("p", table("t"), ["SELECT"])]);
        assert!(revokes.is_empty());

        let (grants, revokes) = plan_change(&after, &before);
        assert!(grants.is_empty());
        assert_eq!(revokes, vec![Grant::new("p", table("t"), ["SELECT"])]);
    }

    #[test]
    fn merge_unites_entries_of_one_target_and_subtract_keeps_the_undeclared() {
        let merged = merge([
            Grant::new("p", table("t"), ["SELECT"]),
            Grant::new("p", db("d"), ["DESCRIBE"]),
            Grant::new("p", table("t"), ["DESCRIBE"]),
        ]);
        assert_eq!(
            merged,
            vec![
                Grant::new("p", table("t"), ["SELECT", "DESCRIBE"]),
                Grant::new("p", db("d"), ["DESCRIBE"]),
            ]
        );
        let declared = vec![Grant::new("p", table("t"), ["DESCRIBE"])];
        assert_eq!(
            subtract(&merged, &declared),
            vec![
                Grant::new("p", table("t"), ["SELECT"]),
                Grant::new("p", db("d"), ["DESCRIBE"]),
            ]
        );
        assert!(subtract(&declared, &merged).is_empty());
    }

    #[test]
    fn changed_target_grants_the_new_before_revoking_the_old() {
        let before = vec![Grant::new("p", table("a"), ["SELECT"])];
        let after = vec![Grant::new("p", table("b"), ["SELECT"])];
        let (grants, revokes) = plan_change(&before, &after);
        assert_eq!(grants, after);
        assert_eq!(revokes, before);
    }

    #[test]
    fn grant_options_travel_with_their_permission() {
        let before = vec![Grant::new("p", table("t"), ["SELECT"])];
        let mut after = before.clone();
        after[0].grantable.insert("SELECT".into());
        let (grants, revokes) = plan_change(&before, &after);
        assert_eq!(grants.len(), 1);
        assert_eq!(
            grants[0].permissions,
            BTreeSet::from(["SELECT".to_string()])
        );
        assert_eq!(grants[0].grantable, BTreeSet::from(["SELECT".to_string()]));
        assert!(revokes.is_empty());
        let (grants, revokes) = plan_change(&after, &before);
        assert!(grants.is_empty());
        assert!(revokes[0].permissions.is_empty());
        assert_eq!(revokes[0].grantable, BTreeSet::from(["SELECT".to_string()]));
    }

    #[test]
    fn owned_keeps_only_declared_permissions_of_the_same_grant() {
        let mut broad = Grant::new("p", table("t"), ["SELECT", "DESCRIBE", "ALTER"]);
        broad.grantable.insert("ALTER".into());
        let found = vec![
            broad,
            Grant::new("other", table("t"), ["SELECT"]),
            Grant::new("p", table("u"), ["SELECT"]),
        ];
        let declared = vec![
            Grant::new("p", table("t"), ["SELECT", "INSERT"]),
            Grant::new("p", db("d"), ["DESCRIBE"]),
        ];
        assert_eq!(
            owned(&found, &declared),
            vec![Grant::new("p", table("t"), ["SELECT"])]
        );
    }

    #[test]
    fn table_select_listed_as_all_columns_is_the_table() {
        let r = Resource::builder()
            .table_with_columns(
                TableWithColumnsResource::builder()
                    .catalog_id("111111111111")
                    .database_name("d")
                    .name("t")
                    .column_wildcard(ColumnWildcard::builder().build())
                    .build()
                    .unwrap(),
            )
            .build();
        assert_eq!(Target::from_sdk(&r, "999999999999"), Some(table("t")));
    }

    #[test]
    fn targets_round_trip_through_the_sdk() {
        let targets = [
            db("d"),
            table("t"),
            Target::Columns {
                catalog_id: "111111111111".into(),
                database: "d".into(),
                name: "t".into(),
                columns: Columns::Only(["a".to_string(), "b".to_string()].into()),
            },
            Target::Columns {
                catalog_id: "111111111111".into(),
                database: "d".into(),
                name: "t".into(),
                columns: Columns::Except(["c".to_string()].into()),
            },
            Target::TagPolicy {
                catalog_id: "111111111111".into(),
                kind: PolicyKind::Table,
                expression: BTreeMap::from([(
                    "sensitivity".to_string(),
                    BTreeSet::from(["internal".to_string(), "public".to_string()]),
                )]),
            },
        ];
        for t in targets {
            let sdk = t.to_sdk().unwrap();
            assert_eq!(Target::from_sdk(&sdk, "999999999999"), Some(t));
        }
    }

    #[test]
    fn nothing_to_revoke_is_success() {
        assert!(already_revoked(
            Some("InvalidInputException"),
            "No permissions revoked. Grantee has no permissions"
        ));
        assert!(already_revoked(Some("EntityNotFoundException"), ""));
        assert!(!already_revoked(
            Some("InvalidInputException"),
            "Bad principal"
        ));
        assert!(!already_revoked(
            Some("AccessDeniedException"),
            "no permission"
        ));
    }

    #[test]
    fn principals() {
        for ok in [
            "123456789012",
            "arn:aws:iam::123456789012:role/AnalyticsTeam",
            "arn:aws:iam::123456789012:role/path/x",
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:organizations::123456789012:organization/o-abc123",
            "arn:aws:organizations::123456789012:ou/o-abc123/ou-ab12-cd34",
        ] {
            assert_eq!(check_principal(ok), None, "{ok}");
        }
        for bad in [
            "12345",
            "arn:aws:iam::123456789012:group/x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:s3:::bucket",
            "arn:aws:organizations::123456789012:ou/ou-1",
            "AnalyticsTeam",
        ] {
            assert!(check_principal(bad).is_some(), "{bad}");
        }
    }
}
