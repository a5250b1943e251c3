//! `mesh_tag_grant` and `mesh_product_grant`: create, update in place, exact read-back, drift,
//! import, plan-time ontology checks, twenty concurrent grants, destroy. State is checked with
//! ListPermissions through the AWS SDK.
//!
//! Isolation: every test uses its own LF-tag keys, Glue database and principals (unique role
//! names), and only looks at the grants of its own principals.

use aws_sdk_lakeformation::types::{
    DataLakePrincipal, LfTag, LfTagPolicyResource, Permission, Resource, ResourceType,
};
use mesh_acceptance::{
    mesh_config, random_account, terraform_tests, unique_name, Emulator, Proxy, Terraform,
    Workspace, ACCOUNT_ID,
};

terraform_tests!(
    tag_grant_lifecycle,
    tag_grant_change_failing_part_way_tracks_every_grant,
    tag_grant_grant_failing_part_way_tracks_every_grant,
    tag_grant_drift_is_restored,
    tag_grant_disappears,
    tag_grant_unknown_key_or_value_fails_plan,
    tag_grant_validation,
    twenty_tag_grants_in_parallel,
    product_grant_lifecycle,
    product_grant_adds_a_permission_in_place,
    product_grant_change_failing_part_way_tracks_every_grant,
    product_grant_disappears,
    product_grant_columns_and_shared_database_grant,
    product_grant_validation,
);

/// One grant as ListPermissions shows it: principal, a readable resource, sorted permissions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Listed {
    principal: String,
    resource: String,
    permissions: Vec<String>,
}

fn listed(principal: &str, resource: &str, permissions: &[&str]) -> Listed {
    let mut permissions: Vec<String> = permissions.iter().map(|p| p.to_string()).collect();
    permissions.sort();
    Listed {
        principal: principal.to_string(),
        resource: resource.to_string(),
        permissions,
    }
}

/// A resource as text: `tables tagged k=a,b;k2=c`, `database d`, `table d.t`,
/// `columns d.t [a,b]`.
fn describe(r: &Resource) -> String {
    if let Some(p) = &r.lf_tag_policy {
        let kind = match p.resource_type {
            ResourceType::Database => "databases",
            _ => "tables",
        };
        let mut clauses: Vec<String> = p
            .expression
            .iter()
            .map(|t| {
                let mut v = t.tag_values.clone();
                v.sort();
                format!("{}={}", t.tag_key, v.join(","))
            })
            .collect();
        clauses.sort();
        return format!("{kind} tagged {}", clauses.join(";"));
    }
    if let Some(d) = &r.database {
        return format!("database {}", d.name);
    }
    if let Some(t) = &r.table {
        return format!(
            "table {}.{}",
            t.database_name,
            t.name.clone().unwrap_or_default()
        );
    }
    if let Some(t) = &r.table_with_columns {
        let cols = match (&t.column_names, &t.column_wildcard) {
            (Some(c), _) => format!("[{}]", c.join(",")),
            (_, Some(w)) => format!("all but [{}]", w.excluded_column_names().join(",")),
            _ => String::new(),
        };
        return format!("columns {}.{} {cols}", t.database_name, t.name);
    }
    format!("{r:?}")
}

/// Every grant in the default account's catalog whose principal is in `principals`, sorted.
async fn grants_of(emulator: &Emulator, principals: &[String]) -> Vec<Listed> {
    // The emulator refuses a principal filter without a resource and cannot filter by LF-tag
    // policy, so list the catalog and filter here.
    let out = emulator
        .lakeformation()
        .list_permissions()
        .catalog_id(ACCOUNT_ID)
        .send()
        .await
        .unwrap_or_else(|e| panic!("lakeformation:ListPermissions failed: {e:?}"));
    let mut found: Vec<Listed> = out
        .principal_resource_permissions()
        .iter()
        .filter_map(|e| {
            let principal = e.principal()?.data_lake_principal_identifier()?.to_string();
            if !principals.contains(&principal) {
                return None;
            }
            let mut permissions: Vec<String> = e
                .permissions()
                .iter()
                .map(|p| p.as_str().to_string())
                .collect();
            permissions.sort();
            Some(Listed {
                principal,
                resource: describe(e.resource()?),
                permissions,
            })
        })
        .filter(|l| !l.permissions.is_empty())
        .collect();
    found.sort();
    found
}

/// Creates the LF-tag `key` with `values` out of band (the ontology a grant is checked against).
async fn create_tag(emulator: &Emulator, key: &str, values: &[&str]) {
    emulator
        .lakeformation()
        .create_lf_tag()
        .tag_key(key)
        .set_tag_values(Some(values.iter().map(|v| v.to_string()).collect()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("lakeformation:CreateLFTag({key}) failed: {e:?}"));
}

fn role(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:role/{name}")
}

fn hcl_list(values: &[&str]) -> String {
    let v: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", v.join(", "))
}

/// A `mesh_tag_grant.g` with `expression` = `[(key, values)]`.
fn tag_grant_config(principal: &str, expression: &[(&str, &[&str])]) -> String {
    let expr: Vec<String> = expression
        .iter()
        .map(|(k, v)| format!("    {k:?} = {}", hcl_list(v)))
        .collect();
    mesh_config(&format!(
        "resource \"mesh_tag_grant\" \"g\" {{\n  principal = {principal:?}\n  expression = {{\n{}\n  }}\n}}\n",
        expr.join("\n")
    ))
}

/// The tag-policy resource of a grant, exactly as the provider sends it (catalog named, keys
/// and values sorted), for out-of-band changes.
fn policy(kind: ResourceType, expression: &[(&str, &[&str])]) -> Resource {
    let mut expression: Vec<(&str, Vec<&str>)> = expression
        .iter()
        .map(|(k, v)| {
            let mut v = v.to_vec();
            v.sort();
            (*k, v)
        })
        .collect();
    expression.sort();
    let mut p = LfTagPolicyResource::builder()
        .catalog_id(ACCOUNT_ID)
        .resource_type(kind);
    for (k, v) in expression {
        p = p.expression(
            LfTag::builder()
                .tag_key(k)
                .set_tag_values(Some(v.iter().map(|s| s.to_string()).collect()))
                .build()
                .expect("LfTag"),
        );
    }
    Resource::builder()
        .lf_tag_policy(p.build().expect("LfTagPolicyResource"))
        .build()
}

fn principal(id: &str) -> DataLakePrincipal {
    DataLakePrincipal::builder()
        .data_lake_principal_identifier(id)
        .build()
}

const TAG_GRANT: &str = "mesh_tag_grant.g";

async fn tag_grant_lifecycle(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let domain = unique_name("domain");
    let sensitivity = unique_name("sensitivity");
    create_tag(emulator, &domain, &["commerce", "finance"]).await;
    create_tag(
        emulator,
        &sensitivity,
        &["public", "internal", "confidential"],
    )
    .await;
    let who = role(&unique_name("Analytics"));
    let principals = [who.clone()];

    // Create: exactly the two policy grants.
    let before: &[(&str, &[&str])] = &[(&domain, &["commerce"]), (&sensitivity, &["internal"])];
    let ws = Workspace::new(tf, emulator, &tag_grant_config(&who, before));
    ws.apply();
    let expr_before = format!("{domain}=commerce;{sensitivity}=internal");
    assert_eq!(
        grants_of(emulator, &principals).await,
        vec![
            listed(
                &who,
                &format!("databases tagged {expr_before}"),
                &["DESCRIBE"]
            ),
            listed(
                &who,
                &format!("tables tagged {expr_before}"),
                &["SELECT", "DESCRIBE"]
            ),
        ]
    );
    let state = ws.state_resource(TAG_GRANT).expect("tag grant in state");
    let id = format!("{ACCOUNT_ID}|{who}|{expr_before}");
    assert_eq!(state["id"], id.as_str(), "{state:#}");
    assert_eq!(state["catalog_id"], ACCOUNT_ID, "{state:#}");
    ws.assert_plan_empty();

    // Adding `public`: an update in place; afterwards the new grants and nothing of the old.
    let after: &[(&str, &[&str])] = &[
        (&domain, &["commerce"]),
        (&sensitivity, &["internal", "public"]),
    ];
    ws.write_main(&tag_grant_config(&who, after));
    assert_eq!(ws.resource_change_actions(TAG_GRANT), ["update"]);
    ws.apply();
    let expr_after = format!("{domain}=commerce;{sensitivity}=internal,public");
    let expected = vec![
        listed(
            &who,
            &format!("databases tagged {expr_after}"),
            &["DESCRIBE"],
        ),
        listed(
            &who,
            &format!("tables tagged {expr_after}"),
            &["SELECT", "DESCRIBE"],
        ),
    ];
    assert_eq!(grants_of(emulator, &principals).await, expected);
    ws.assert_plan_empty();

    // Import by id into a fresh workspace: an empty plan.
    let id = format!("{ACCOUNT_ID}|{who}|{expr_after}");
    let imported = Workspace::new(tf, emulator, &tag_grant_config(&who, after));
    imported.import(TAG_GRANT, &id);
    imported.assert_plan_empty();
    let state = imported.state_resource(TAG_GRANT).expect("imported state");
    assert_eq!(state["id"], id.as_str(), "{state:#}");

    // Destroy removes both grants; destroying them again (the imported copy) is success.
    ws.destroy();
    assert_eq!(grants_of(emulator, &principals).await, vec![]);
    imported.destroy();
    assert_eq!(grants_of(emulator, &principals).await, vec![]);
}

/// An expression change whose revoke of the old grants fails after the new ones went through:
/// the new grants must be tracked. Going back to the old expression revokes them; destroy
/// leaves no grant. The proxy also shows every change grants before it revokes.
async fn tag_grant_change_failing_part_way_tracks_every_grant(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let domain = unique_name("domain");
    create_tag(emulator, &domain, &["commerce", "finance"]).await;
    let who = role(&unique_name("Analytics"));
    let principals = [who.clone()];
    let proxy = Proxy::start(emulator);
    let old: &[(&str, &[&str])] = &[(&domain, &["commerce"])];
    let new: &[(&str, &[&str])] = &[(&domain, &["finance"])];
    let ws = Workspace::with_proxy(tf, &proxy, &tag_grant_config(&who, old));
    ws.apply();

    ws.write_main(&tag_grant_config(&who, new));
    proxy.reset_counts();
    proxy.fail(
        "lakeformation:BatchRevokePermissions",
        1000,
        400,
        "AccessDeniedException",
    );
    let out = ws.tf(&["apply", "-auto-approve", "-input=false"]);
    assert!(!out.success(), "apply passed despite the fault:\n{out}");
    let calls = proxy.calls();
    let first_grant = calls
        .iter()
        .position(|c| c.contains("GrantPermissions") && !c.contains("Revoke"));
    let first_revoke = calls.iter().position(|c| c.contains("RevokePermissions"));
    assert!(
        matches!((first_grant, first_revoke), (Some(g), Some(r)) if g < r),
        "the change must grant before it revokes:\n{}",
        proxy.report()
    );
    proxy.clear_faults();
    let both = grants_of(emulator, &principals).await;
    assert_eq!(
        both.len(),
        4,
        "old and new grants both exist now: {both:#?}"
    );

    // Back to the old expression: the new grants nobody declares any more must go.
    ws.write_main(&tag_grant_config(&who, old));
    assert_eq!(
        ws.resource_change_actions(TAG_GRANT),
        ["update"],
        "grants from the failed change must show as a change"
    );
    ws.apply();
    let expr = format!("{domain}=commerce");
    assert_eq!(
        grants_of(emulator, &principals).await,
        vec![
            listed(&who, &format!("databases tagged {expr}"), &["DESCRIBE"]),
            listed(
                &who,
                &format!("tables tagged {expr}"),
                &["SELECT", "DESCRIBE"]
            ),
        ]
    );
    ws.assert_plan_empty();

    // The same failure again, then destroy: nothing is left.
    ws.write_main(&tag_grant_config(&who, new));
    proxy.fail(
        "lakeformation:BatchRevokePermissions",
        1000,
        400,
        "AccessDeniedException",
    );
    assert!(!ws.tf(&["apply", "-auto-approve", "-input=false"]).success());
    proxy.clear_faults();
    ws.destroy();
    assert_eq!(grants_of(emulator, &principals).await, vec![]);
}

/// A `mesh_tag_grant.g` whose DESCRIBE is grantable: each of its two policy grants then goes in
/// its own GrantPermissions call (entries with grant options are not batched), so a change can
/// fail with one new grant made and the other not.
fn grantable_tag_grant_config(principal: &str, expression: &[(&str, &[&str])]) -> String {
    tag_grant_config(principal, expression).replace(
        "  expression = {",
        "  grantable_permissions = [\"DESCRIBE\"]\n  expression = {",
    )
}

/// The grant side failing part-way: the new database grant is made, the new table grant is
/// not. State (and private state) must track the grant that was made, so going back to the old
/// expression revokes it and destroy leaves nothing.
async fn tag_grant_grant_failing_part_way_tracks_every_grant(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let domain = unique_name("domain");
    create_tag(emulator, &domain, &["commerce", "finance"]).await;
    let who = role(&unique_name("Steward"));
    let principals = [who.clone()];
    let proxy = Proxy::start(emulator);
    let old: &[(&str, &[&str])] = &[(&domain, &["commerce"])];
    let new: &[(&str, &[&str])] = &[(&domain, &["finance"])];
    let ws = Workspace::with_proxy(tf, &proxy, &grantable_tag_grant_config(&who, old));
    ws.apply();
    assert_eq!(grants_of(emulator, &principals).await.len(), 2);

    ws.write_main(&grantable_tag_grant_config(&who, new));
    proxy.fail_after(
        "lakeformation:GrantPermissions",
        1,
        1000,
        400,
        "AccessDeniedException",
    );
    let out = ws.tf(&["apply", "-auto-approve", "-input=false"]);
    assert!(!out.success(), "apply passed despite the fault:\n{out}");
    assert!(
        proxy.count("lakeformation:GrantPermissions") >= 2,
        "the fault must hit the second grant, not the first:\n{}",
        proxy.report()
    );
    assert_eq!(
        proxy.count("lakeformation:RevokePermissions")
            + proxy.count("lakeformation:BatchRevokePermissions"),
        0,
        "nothing is revoked before every grant is made:\n{}",
        proxy.report()
    );
    proxy.clear_faults();
    let now = grants_of(emulator, &principals).await;
    assert_eq!(now.len(), 3, "the old two and one new grant: {now:#?}");

    // Back to the old expression: the one new grant nobody declares must go.
    ws.write_main(&grantable_tag_grant_config(&who, old));
    assert_eq!(
        ws.resource_change_actions(TAG_GRANT),
        ["update"],
        "the grant the failed change made must show as a change"
    );
    ws.apply();
    let expr = format!("{domain}=commerce");
    assert_eq!(
        grants_of(emulator, &principals).await,
        vec![
            listed(&who, &format!("databases tagged {expr}"), &["DESCRIBE"]),
            listed(
                &who,
                &format!("tables tagged {expr}"),
                &["SELECT", "DESCRIBE"]
            ),
        ]
    );
    ws.assert_plan_empty();

    // The same failure again, then destroy: nothing is left.
    ws.write_main(&grantable_tag_grant_config(&who, new));
    proxy.fail_after(
        "lakeformation:GrantPermissions",
        1,
        1000,
        400,
        "AccessDeniedException",
    );
    assert!(!ws.tf(&["apply", "-auto-approve", "-input=false"]).success());
    proxy.clear_faults();
    ws.destroy();
    assert_eq!(grants_of(emulator, &principals).await, vec![]);
}

/// Both policy grants revoked outside Terraform: planned for creation, granted again.
async fn tag_grant_disappears(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let domain = unique_name("domain");
    create_tag(emulator, &domain, &["commerce"]).await;
    let who = role(&unique_name("Analytics"));
    let principals = [who.clone()];
    let expr: &[(&str, &[&str])] = &[(&domain, &["commerce"])];
    let ws = Workspace::new(tf, emulator, &tag_grant_config(&who, expr));
    ws.apply();
    let granted = grants_of(emulator, &principals).await;
    assert_eq!(granted.len(), 2, "{granted:#?}");
    let lf = emulator.lakeformation();
    for (kind, permissions) in [
        (ResourceType::Database, vec![Permission::Describe]),
        (
            ResourceType::Table,
            vec![Permission::Select, Permission::Describe],
        ),
    ] {
        lf.revoke_permissions()
            .catalog_id(ACCOUNT_ID)
            .principal(principal(&who))
            .resource(policy(kind, expr))
            .set_permissions(Some(permissions))
            .send()
            .await
            .expect("RevokePermissions out of band");
    }
    assert_eq!(grants_of(emulator, &principals).await, vec![]);
    assert_eq!(ws.resource_change_actions(TAG_GRANT), ["create"]);
    ws.apply();
    assert_eq!(grants_of(emulator, &principals).await, granted);
    ws.assert_plan_empty();
    ws.destroy();
}

async fn tag_grant_drift_is_restored(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let domain = unique_name("domain");
    create_tag(emulator, &domain, &["commerce"]).await;
    let who = role(&unique_name("Analytics"));
    let principals = [who.clone()];
    let expr: &[(&str, &[&str])] = &[(&domain, &["commerce"])];
    let ws = Workspace::new(tf, emulator, &tag_grant_config(&who, expr));
    ws.apply();
    let expected = vec![
        listed(
            &who,
            &format!("databases tagged {domain}=commerce"),
            &["DESCRIBE"],
        ),
        listed(
            &who,
            &format!("tables tagged {domain}=commerce"),
            &["SELECT", "DESCRIBE"],
        ),
    ];
    assert_eq!(grants_of(emulator, &principals).await, expected);

    // SELECT revoked out of band: drift, shown as an in-place update, restored by apply.
    emulator
        .lakeformation()
        .revoke_permissions()
        .catalog_id(ACCOUNT_ID)
        .principal(principal(&who))
        .resource(policy(ResourceType::Table, expr))
        .permissions(Permission::Select)
        .send()
        .await
        .expect("RevokePermissions out of band");
    assert_eq!(
        grants_of(emulator, &principals).await[1].permissions,
        ["DESCRIBE"]
    );
    assert_eq!(ws.resource_change_actions(TAG_GRANT), ["update"]);
    ws.apply();
    assert_eq!(grants_of(emulator, &principals).await, expected);
    ws.assert_plan_empty();

    // A broader grant by someone else on the same policy is neither drift nor touched.
    emulator
        .lakeformation()
        .grant_permissions()
        .catalog_id(ACCOUNT_ID)
        .principal(principal(&who))
        .resource(policy(ResourceType::Table, expr))
        .permissions(Permission::Alter)
        .send()
        .await
        .expect("GrantPermissions out of band");
    ws.assert_plan_empty();

    // Destroy revokes what this resource granted and leaves the other grant alone.
    ws.destroy();
    assert_eq!(
        grants_of(emulator, &principals).await,
        vec![listed(
            &who,
            &format!("tables tagged {domain}=commerce"),
            &["ALTER"],
        )]
    );
}

async fn tag_grant_unknown_key_or_value_fails_plan(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let sensitivity = unique_name("sensitivity");
    create_tag(emulator, &sensitivity, &["public", "internal"]).await;
    let who = role(&unique_name("Analytics"));

    let missing_key = unique_name("nosuchkey");
    let ws = Workspace::new(
        tf,
        emulator,
        &tag_grant_config(&who, &[(&missing_key, &["x"]), (&sensitivity, &["public"])]),
    );
    let out = ws.tf(&["plan", "-input=false"]).assert_failure();
    let text = out.combined();
    assert!(text.contains("Unknown LF-tag key"), "{text}");
    assert!(
        text.contains(&missing_key),
        "the error does not name the key:\n{text}"
    );

    ws.write_main(&tag_grant_config(
        &who,
        &[(&sensitivity, &["public", "secret"])],
    ));
    let out = ws.tf(&["plan", "-input=false"]).assert_failure();
    let text = out.combined();
    assert!(text.contains("not in the ontology"), "{text}");
    assert!(
        text.contains("\\\"secret\\\"") || text.contains("\"secret\""),
        "the error does not name the value:\n{text}"
    );

    // Nothing was granted.
    assert_eq!(grants_of(emulator, &[who]).await, vec![]);
}

async fn tag_grant_validation(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let ws = Workspace::new(
        tf,
        emulator,
        &mesh_config(
            r#"resource "mesh_tag_grant" "g" {
  principal             = "arn:aws:iam::123456789012:group/nope"
  expression            = { "bad#key" = [] }
  table_permissions     = ["SELECT", "FLY"]
  grantable_permissions = ["ALTER"]
}
"#,
        ),
    );
    let out = ws.validate();
    let text = out.combined();
    assert!(!out.success(), "{text}");
    for needle in [
        "Invalid principal",
        "Invalid LF-tag key",
        "No values",
        "\"FLY\"",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

/// Twenty grants at -parallelism=20, through a proxy that answers the first
/// BatchGrantPermissions with ConcurrentModificationException: all succeed.
async fn twenty_tag_grants_in_parallel(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let proxy = Proxy::start(emulator);
    let key = unique_name("domain");
    create_tag(emulator, &key, &["commerce"]).await;
    let prefix = unique_name("Consumer");
    let principals: Vec<String> = (0..20).map(|i| role(&format!("{prefix}-{i}"))).collect();
    let hcl = mesh_config(&format!(
        r#"resource "mesh_tag_grant" "g" {{
  count      = 20
  principal  = "arn:aws:iam::{ACCOUNT_ID}:role/{prefix}-${{count.index}}"
  expression = {{ {key:?} = ["commerce"] }}
}}
"#
    ));
    let ws = Workspace::with_proxy(tf, &proxy, &hcl);
    proxy.fail(
        "lakeformation:BatchGrantPermissions",
        1,
        400,
        "ConcurrentModificationException",
    );
    ws.tf_ok(&["apply", "-auto-approve", "-input=false", "-parallelism=20"]);
    assert_eq!(
        proxy.faults_remaining("lakeformation:BatchGrantPermissions"),
        0,
        "the fault was never hit:\n{}",
        proxy.report()
    );
    let found = grants_of(emulator, &principals).await;
    assert_eq!(found.len(), 40, "{found:#?}");
    for p in &principals {
        let mine: Vec<&Listed> = found.iter().filter(|l| &l.principal == p).collect();
        assert_eq!(
            mine,
            vec![
                &listed(
                    p,
                    &format!("databases tagged {key}=commerce"),
                    &["DESCRIBE"]
                ),
                &listed(
                    p,
                    &format!("tables tagged {key}=commerce"),
                    &["SELECT", "DESCRIBE"]
                ),
            ]
        );
    }
    ws.assert_plan_empty();
    ws.tf_ok(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-parallelism=20",
    ]);
    assert_eq!(grants_of(emulator, &principals).await, vec![]);
}

const PRODUCT_GRANT: &str = "mesh_product_grant.g";

/// A Glue database `<domain>_products` with the table `orders`, out of band.
async fn product_table(emulator: &Emulator) -> (String, String) {
    let domain = unique_name("commerce");
    let database = format!("{domain}_products");
    emulator
        .glue()
        .create_database()
        .database_input(
            aws_sdk_glue::types::DatabaseInput::builder()
                .name(&database)
                .build()
                .expect("DatabaseInput"),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("glue:CreateDatabase({database}) failed: {e:?}"));
    emulator.create_table(&database, "orders").await;
    (domain, database)
}

fn product_grant_config(
    product: &str,
    principal: &str,
    permissions: &[&str],
    extra: &str,
) -> String {
    mesh_config(&format!(
        "resource \"mesh_product_grant\" \"g\" {{\n  product     = {product:?}\n  principal   = {principal:?}\n  permissions = {}\n{extra}}}\n",
        hcl_list(permissions)
    ))
}

async fn product_grant_lifecycle(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let (domain, database) = product_table(emulator).await;
    let product = format!("{domain}/orders");
    let who = format!("arn:aws:iam::777788889999:role/{}", unique_name("Finance"));
    let principals = [who.clone()];
    let hcl = product_grant_config(&product, &who, &["SELECT", "DESCRIBE"], "");

    let ws = Workspace::new(tf, emulator, &hcl);
    ws.apply();
    let expected = vec![
        listed(&who, &format!("database {database}"), &["DESCRIBE"]),
        listed(
            &who,
            &format!("table {database}.orders"),
            &["SELECT", "DESCRIBE"],
        ),
    ];
    assert_eq!(grants_of(emulator, &principals).await, expected);
    let state = ws
        .state_resource(PRODUCT_GRANT)
        .expect("product grant in state");
    let id = format!("{ACCOUNT_ID}|{who}|{database}.orders");
    assert_eq!(state["id"], id.as_str(), "{state:#}");
    assert_eq!(state["database"], database.as_str(), "{state:#}");
    assert_eq!(state["table"], "orders", "{state:#}");
    ws.assert_plan_empty();

    // The database grant revoked out of band: drift, restored by the next apply.
    emulator
        .lakeformation()
        .revoke_permissions()
        .catalog_id(ACCOUNT_ID)
        .principal(principal(&who))
        .resource(database_resource(&database))
        .permissions(Permission::Describe)
        .send()
        .await
        .expect("RevokePermissions out of band");
    assert_eq!(ws.resource_change_actions(PRODUCT_GRANT), ["update"]);
    ws.apply();
    assert_eq!(grants_of(emulator, &principals).await, expected);
    ws.assert_plan_empty();

    // Import by id, with the `product` form of the configuration: an empty plan.
    let imported = Workspace::new(tf, emulator, &hcl);
    imported.import(PRODUCT_GRANT, &id);
    imported.assert_plan_empty();

    // Dropping DESCRIBE from the table: in place; SELECT stays, DESCRIBE is revoked.
    ws.write_main(&product_grant_config(&product, &who, &["SELECT"], ""));
    assert_eq!(ws.resource_change_actions(PRODUCT_GRANT), ["update"]);
    ws.apply();
    assert_eq!(
        grants_of(emulator, &principals).await,
        vec![
            listed(&who, &format!("database {database}"), &["DESCRIBE"]),
            listed(&who, &format!("table {database}.orders"), &["SELECT"]),
        ]
    );
    ws.assert_plan_empty();

    // The whole grant revoked out of band: planned for creation again.
    emulator
        .lakeformation()
        .revoke_permissions()
        .catalog_id(ACCOUNT_ID)
        .principal(principal(&who))
        .resource(table_resource(&database, "orders"))
        .permissions(Permission::Select)
        .send()
        .await
        .expect("RevokePermissions out of band");
    emulator
        .lakeformation()
        .revoke_permissions()
        .catalog_id(ACCOUNT_ID)
        .principal(principal(&who))
        .resource(database_resource(&database))
        .permissions(Permission::Describe)
        .send()
        .await
        .expect("RevokePermissions out of band");
    assert_eq!(ws.resource_change_actions(PRODUCT_GRANT), ["create"]);
    ws.apply();
    ws.assert_plan_empty();

    ws.destroy();
    assert_eq!(grants_of(emulator, &principals).await, vec![]);
    imported.destroy();
}

async fn product_grant_adds_a_permission_in_place(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let (domain, database) = product_table(emulator).await;
    let product = format!("{domain}/orders");
    // An account of its own: the checks list every grant to it.
    let who = random_account();
    let principals = [who.clone()];
    let ws = Workspace::new(
        tf,
        emulator,
        &product_grant_config(&product, &who, &["DESCRIBE"], ""),
    );
    ws.apply();
    assert_eq!(
        grants_of(emulator, &principals).await,
        vec![
            listed(&who, &format!("database {database}"), &["DESCRIBE"]),
            listed(&who, &format!("table {database}.orders"), &["DESCRIBE"]),
        ]
    );
    ws.assert_plan_empty();

    // Adding SELECT: in place, granted without revoking anything; exactly the new set after.
    ws.write_main(&product_grant_config(
        &product,
        &who,
        &["SELECT", "DESCRIBE"],
        "",
    ));
    assert_eq!(ws.resource_change_actions(PRODUCT_GRANT), ["update"]);
    ws.apply();
    assert_eq!(
        grants_of(emulator, &principals).await,
        vec![
            listed(&who, &format!("database {database}"), &["DESCRIBE"]),
            listed(
                &who,
                &format!("table {database}.orders"),
                &["SELECT", "DESCRIBE"]
            ),
        ]
    );
    ws.assert_plan_empty();

    ws.destroy();
    assert_eq!(grants_of(emulator, &principals).await, vec![]);
}

/// A permission change whose revoke fails after the grant of the new permission went through:
/// the state must hold both, so destroy revokes both.
async fn product_grant_change_failing_part_way_tracks_every_grant(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let (domain, database) = product_table(emulator).await;
    let product = format!("{domain}/orders");
    let who = random_account();
    let principals = [who.clone()];
    let proxy = Proxy::start(emulator);
    let ws = Workspace::with_proxy(
        tf,
        &proxy,
        &product_grant_config(&product, &who, &["DESCRIBE"], ""),
    );
    ws.apply();

    // DESCRIBE -> SELECT: SELECT is granted, then revoking DESCRIBE fails.
    ws.write_main(&product_grant_config(&product, &who, &["SELECT"], ""));
    proxy.fail(
        "lakeformation:BatchRevokePermissions",
        1000,
        400,
        "AccessDeniedException",
    );
    let out = ws.tf(&["apply", "-auto-approve", "-input=false"]);
    assert!(!out.success(), "apply passed despite the fault:\n{out}");
    proxy.clear_faults();
    assert_eq!(
        grants_of(emulator, &principals).await,
        vec![
            listed(&who, &format!("database {database}"), &["DESCRIBE"]),
            listed(
                &who,
                &format!("table {database}.orders"),
                &["DESCRIBE", "SELECT"]
            ),
        ]
    );
    // The state holds both: the next apply finishes the change.
    assert_eq!(ws.resource_change_actions(PRODUCT_GRANT), ["update"]);
    ws.apply();
    assert_eq!(
        grants_of(emulator, &principals).await,
        vec![
            listed(&who, &format!("database {database}"), &["DESCRIBE"]),
            listed(&who, &format!("table {database}.orders"), &["SELECT"]),
        ]
    );
    ws.assert_plan_empty();

    // SELECT -> DESCRIBE failing the same way, then destroy: nothing is left.
    ws.write_main(&product_grant_config(&product, &who, &["DESCRIBE"], ""));
    proxy.fail(
        "lakeformation:BatchRevokePermissions",
        1000,
        400,
        "AccessDeniedException",
    );
    assert!(!ws.tf(&["apply", "-auto-approve", "-input=false"]).success());
    proxy.clear_faults();
    ws.destroy();
    assert_eq!(
        grants_of(emulator, &principals).await,
        vec![],
        "destroy must revoke what the failed change granted"
    );
}

/// Every grant revoked outside Terraform: planned for creation, granted again.
async fn product_grant_disappears(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let (domain, database) = product_table(emulator).await;
    let product = format!("{domain}/orders");
    let who = random_account();
    let principals = [who.clone()];
    let ws = Workspace::new(
        tf,
        emulator,
        &product_grant_config(&product, &who, &["SELECT", "DESCRIBE"], ""),
    );
    ws.apply();
    let granted = grants_of(emulator, &principals).await;
    assert_eq!(granted.len(), 2, "{granted:#?}");
    let lf = emulator.lakeformation();
    for (resource, permissions) in [
        (database_resource(&database), vec![Permission::Describe]),
        (
            table_resource(&database, "orders"),
            vec![Permission::Select, Permission::Describe],
        ),
    ] {
        lf.revoke_permissions()
            .catalog_id(ACCOUNT_ID)
            .principal(principal(&who))
            .resource(resource)
            .set_permissions(Some(permissions))
            .send()
            .await
            .expect("RevokePermissions out of band");
    }
    assert_eq!(grants_of(emulator, &principals).await, vec![]);
    assert_eq!(ws.resource_change_actions(PRODUCT_GRANT), ["create"]);
    ws.apply();
    assert_eq!(grants_of(emulator, &principals).await, granted);
    ws.assert_plan_empty();
    ws.destroy();
    assert_eq!(grants_of(emulator, &principals).await, vec![]);
}

fn database_resource(database: &str) -> Resource {
    Resource::builder()
        .database(
            aws_sdk_lakeformation::types::DatabaseResource::builder()
                .catalog_id(ACCOUNT_ID)
                .name(database)
                .build()
                .expect("DatabaseResource"),
        )
        .build()
}

fn table_resource(database: &str, table: &str) -> Resource {
    Resource::builder()
        .table(
            aws_sdk_lakeformation::types::TableResource::builder()
                .catalog_id(ACCOUNT_ID)
                .database_name(database)
                .name(table)
                .build()
                .expect("TableResource"),
        )
        .build()
}

async fn product_grant_columns_and_shared_database_grant(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let (_domain, database) = product_table(emulator).await;
    emulator.create_table(&database, "order_items").await;
    let who = unique_name("Auditor");
    let who = format!("arn:aws:iam::777788889999:role/{who}");
    let principals = [who.clone()];
    let hcl = mesh_config(&format!(
        r#"resource "mesh_product_grant" "orders" {{
  database         = "{database}"
  table            = "orders"
  principal        = "{who}"
  excluded_columns = ["customer_id"]
}}

resource "mesh_product_grant" "items" {{
  database  = "{database}"
  table     = "order_items"
  principal = "{who}"
  columns   = ["order_id", "quantity"]
}}
"#
    ));
    let ws = Workspace::new(tf, emulator, &hcl);
    ws.apply();
    assert_eq!(
        grants_of(emulator, &principals).await,
        vec![
            listed(
                &who,
                &format!("columns {database}.order_items [order_id,quantity]"),
                &["SELECT"]
            ),
            listed(
                &who,
                &format!("columns {database}.orders all but [customer_id]"),
                &["SELECT"]
            ),
            listed(&who, &format!("database {database}"), &["DESCRIBE"]),
            listed(
                &who,
                &format!("table {database}.order_items"),
                &["DESCRIBE"]
            ),
            listed(&who, &format!("table {database}.orders"), &["DESCRIBE"]),
        ]
    );
    let state = ws
        .state_resource("mesh_product_grant.orders")
        .expect("state");
    assert_eq!(
        state["product"],
        format!("{}/orders", database.trim_end_matches("_products"))
    );
    ws.assert_plan_empty();

    // Destroying one grant keeps the database DESCRIBE the other still needs.
    ws.tf_ok(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-target=mesh_product_grant.orders",
    ]);
    assert_eq!(
        grants_of(emulator, &principals).await,
        vec![
            listed(
                &who,
                &format!("columns {database}.order_items [order_id,quantity]"),
                &["SELECT"]
            ),
            listed(&who, &format!("database {database}"), &["DESCRIBE"]),
            listed(
                &who,
                &format!("table {database}.order_items"),
                &["DESCRIBE"]
            ),
        ]
    );
    ws.destroy();
    assert_eq!(grants_of(emulator, &principals).await, vec![]);
}

async fn product_grant_validation(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let ws = Workspace::new(
        tf,
        emulator,
        &mesh_config(
            r#"resource "mesh_product_grant" "both" {
  product   = "commerce/orders"
  database  = "finance_products"
  principal = "777788889999"
}

resource "mesh_product_grant" "agreeing" {
  product    = "commerce/orders"
  database   = "commerce_products"
  table      = "orders"
  principal  = "777788889999"
}

resource "mesh_product_grant" "columns" {
  product          = "commerce/orders"
  principal        = "777788889999"
  permissions      = ["DESCRIBE"]
  columns          = ["a"]
  excluded_columns = ["b"]
}

resource "mesh_product_grant" "neither" {
  principal = "777788889999"
}

resource "mesh_product_grant" "nobody" {
  product   = "commerce/orders"
  principal = "77778888"
}
"#,
        ),
    );
    let out = ws.validate();
    let text = out.combined();
    assert!(!out.success(), "{text}");
    for needle in [
        "Conflicting product reference",
        "Conflicting column lists",
        "Column list without SELECT",
        "Missing product",
        "Invalid principal",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // Both references, agreeing (as generated configuration writes them), are fine.
    assert!(
        !text.contains("mesh_product_grant.agreeing"),
        "agreeing references refused:\n{text}"
    );

    // Inside a for_each, validate sees every value as unknown: optional column lists are no
    // conflict then. Plan sees them known and still refuses both together.
    let ws = Workspace::new(
        tf,
        emulator,
        &mesh_config(
            r#"variable "grants" {
  type    = any
  default = {}
}

resource "mesh_product_grant" "each" {
  for_each = var.grants

  product          = each.value.product
  principal        = each.value.principal
  permissions      = ["SELECT"]
  columns          = lookup(each.value, "columns", null)
  excluded_columns = lookup(each.value, "excluded_columns", null)
}
"#,
        ),
    );
    ws.validate().assert_success();
    ws.write_file(
        "terraform.tfvars.json",
        r#"{"grants": {"x": {"product": "commerce/orders", "principal": "777788889999", "columns": ["a"], "excluded_columns": ["b"]}}}"#,
    );
    let out = ws.tf(&["plan", "-input=false"]).assert_failure();
    assert!(
        out.combined().contains("Conflicting column lists"),
        "{}",
        out.combined()
    );
}
