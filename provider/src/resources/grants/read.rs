//! Reading grants back: every page of ListPermissions merged per principal and target, and exactly what a resource declared of it.

use super::*;

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

pub(super) async fn list_pages(
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

pub(super) fn from_entry(entry: &PrincipalResourcePermissions, catalog: &str) -> Option<Grant> {
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
