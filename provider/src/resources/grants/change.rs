//! Changing grants without an access gap: what is new is granted before what left is revoked, batched per catalog, with per-entry retries.

use super::*;

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
pub(super) enum Op {
    Grant,
    Revoke,
}

impl Op {
    pub(super) fn action(self) -> Action {
        match self {
            Op::Grant => Action::Grant,
            Op::Revoke => Action::Revoke,
        }
    }
}

/// True when an error says the permissions to revoke are not there: nothing to do.
pub(super) fn already_revoked(code: Option<&str>, message: &str) -> bool {
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
pub(super) async fn send_all(client: &Mesh, op: Op, grants: &[Grant]) -> Result<(), Diagnostics> {
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

pub(super) fn perms(set: &BTreeSet<String>) -> Vec<Permission> {
    set.iter().map(|p| Permission::from(p.as_str())).collect()
}

pub(super) async fn send_one(client: &Mesh, op: Op, g: &Grant) -> Result<(), Diagnostics> {
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

pub(super) fn describe(g: &Grant) -> String {
    let p: Vec<&str> = g.permissions.iter().map(String::as_str).collect();
    format!("{} on {} to {}", p.join(", "), g.target, g.principal)
}

pub(super) fn entry(id: usize, g: &Grant) -> Result<BatchPermissionsRequestEntry, Diagnostics> {
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
pub(super) async fn send_batch(
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

pub(super) fn failure_text(f: &BatchPermissionsFailureEntry) -> String {
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
