//! Governance resources end to end: `mesh_lake_settings` (read-modify-write of an account's data
//! lake settings, restored on destroy) and `mesh_guardrail` (an SCP from named rules).
//!
//! Lake settings are account-global and an organization has one management account, so each
//! test works in an account of its own: Terraform assumes a role in a random account id (the
//! emulator attributes assumed-role requests to the role's account) and the SDK checks do the
//! same.

use aws_sdk_lakeformation::types::{DataLakePrincipal, DataLakeSettings, PrincipalPermissions};
use mesh_acceptance::{
    mesh_config, random_account, terraform_tests, unique_name, Emulator, Terraform, Workspace,
};
use serde_json::Value;
use std::collections::BTreeSet;

terraform_tests!(
    lake_settings_change_only_their_fields_repair_drift_import_and_restore_on_destroy,
    guardrail_scp_plans_its_json_attaches_in_place_repairs_drift_imports_and_destroys,
    sync governance_validation_names_the_attribute,
);

fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/MeshGovernanceTest")
}

/// The terraform and provider blocks, the provider assuming a role in `account`.
fn provider_in(account: &str, resources: &str) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    mesh = {{ source = "meshcraft/mesh" }}
  }}
}}

provider "mesh" {{
  region   = "us-east-1"
  endpoint = "{{{{endpoint}}}}"
  assume_role {{
    role_arn = "{}"
  }}
}}

{resources}"#,
        role_arn(account)
    )
}

fn principals(list: &[DataLakePrincipal]) -> BTreeSet<String> {
    list.iter()
        .filter_map(|p| p.data_lake_principal_identifier.clone())
        .collect()
}

fn principal(arn: &str) -> DataLakePrincipal {
    DataLakePrincipal::builder()
        .data_lake_principal_identifier(arn)
        .build()
}

fn iam_allowed(list: &[PrincipalPermissions]) -> bool {
    list.iter().any(|g| {
        g.principal
            .as_ref()
            .and_then(|p| p.data_lake_principal_identifier.as_deref())
            == Some("IAM_ALLOWED_PRINCIPALS")
    })
}

async fn get_settings(lf: &aws_sdk_lakeformation::Client) -> DataLakeSettings {
    lf.get_data_lake_settings()
        .send()
        .await
        .expect("GetDataLakeSettings")
        .data_lake_settings
        .expect("settings")
}

async fn put_settings(lf: &aws_sdk_lakeformation::Client, settings: DataLakeSettings) {
    lf.put_data_lake_settings()
        .data_lake_settings(settings)
        .send()
        .await
        .expect("PutDataLakeSettings");
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn lake_settings_hcl(account: &str, admins: &[String]) -> String {
    let admins = admins
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    provider_in(
        account,
        &format!(
            r#"resource "mesh_lake_settings" "s" {{
  admins                          = [{admins}]
  iam_allowed_principals_defaults = false
  trusted_resource_owners         = ["444455556666"]
}}
"#
        ),
    )
}

async fn lake_settings_change_only_their_fields_repair_drift_import_and_restore_on_destroy(
    tf: &'static Terraform,
) {
    let emulator = Emulator::shared();
    let account = random_account();
    let lf = aws_sdk_lakeformation::Client::new(&emulator.account_sdk_config(&account).await);
    let arn = |name: &str| format!("arn:aws:iam::{account}:role/{name}");

    // What the account had before: an old admin, a read-only admin and a parameter this resource
    // does not manage, and the factory defaults (IAM_ALLOWED_PRINCIPALS on new databases/tables).
    let mut before = get_settings(&lf).await;
    before.data_lake_admins = Some(vec![principal(&arn("OldAdmin"))]);
    before.read_only_admins = Some(vec![principal(&arn("Auditor"))]);
    before.parameters = Some([("CROSS_ACCOUNT_VERSION".to_string(), "4".to_string())].into());
    put_settings(&lf, before.clone()).await;
    assert!(iam_allowed(before.create_table_default_permissions()));

    let admins = vec![arn("Governance"), arn("DataPlatformAdmin")];
    let ws = Workspace::new(tf, emulator, &lake_settings_hcl(&account, &admins));
    ws.apply();
    let now = get_settings(&lf).await;
    assert_eq!(
        principals(now.data_lake_admins()),
        admins.iter().cloned().collect()
    );
    assert!(
        now.create_database_default_permissions().is_empty(),
        "{now:?}"
    );
    assert!(now.create_table_default_permissions().is_empty(), "{now:?}");
    assert_eq!(now.trusted_resource_owners(), ["444455556666".to_string()]);
    // Untouched: fields the resource does not declare.
    assert_eq!(now.read_only_admins, before.read_only_admins);
    assert_eq!(now.parameters, before.parameters);
    let state = ws.state_resource("mesh_lake_settings.s").expect("in state");
    assert_eq!(state["id"], account.as_str(), "{state:#}");
    assert_eq!(state["catalog_id"], account.as_str(), "{state:#}");
    ws.assert_plan_empty();

    // Changing the admins is an update in place.
    let admins = vec![arn("Governance"), arn("Steward")];
    ws.write_main(&lake_settings_hcl(&account, &admins));
    assert_eq!(
        ws.resource_change_actions("mesh_lake_settings.s"),
        ["update"]
    );
    ws.apply();
    assert_eq!(
        principals(get_settings(&lf).await.data_lake_admins()),
        admins.iter().cloned().collect()
    );
    ws.assert_plan_empty();

    // Drift: an admin removed outside Terraform shows in the plan and apply restores it.
    let mut drifted = get_settings(&lf).await;
    drifted.data_lake_admins = Some(vec![principal(&arn("Governance"))]);
    put_settings(&lf, drifted).await;
    assert_eq!(
        ws.resource_change_actions("mesh_lake_settings.s"),
        ["update"]
    );
    ws.apply();
    assert_eq!(
        principals(get_settings(&lf).await.data_lake_admins()),
        admins.iter().cloned().collect()
    );
    ws.assert_plan_empty();

    // Drift in the defaults too (IAM_ALLOWED_PRINCIPALS back on new tables).
    let mut drifted = get_settings(&lf).await;
    drifted.create_table_default_permissions = before.create_table_default_permissions.clone();
    put_settings(&lf, drifted).await;
    assert_eq!(
        ws.resource_change_actions("mesh_lake_settings.s"),
        ["update"]
    );
    ws.apply();
    assert!(get_settings(&lf)
        .await
        .create_table_default_permissions()
        .is_empty());

    // Import by account id, in a second workspace: an empty plan.
    let ws2 = Workspace::new(tf, emulator, &lake_settings_hcl(&account, &admins));
    ws2.import("mesh_lake_settings.s", &account);
    ws2.assert_plan_empty();
    ws2.tf_ok(&["state", "rm", "mesh_lake_settings.s"]);

    // Destroy restores what the resource found, and still keeps the unmanaged fields.
    ws.destroy();
    let after = get_settings(&lf).await;
    assert_eq!(
        principals(after.data_lake_admins()),
        set(&[&arn("OldAdmin")])
    );
    assert!(iam_allowed(after.create_database_default_permissions()));
    assert!(iam_allowed(after.create_table_default_permissions()));
    assert!(after.trusted_resource_owners().is_empty(), "{after:?}");
    assert_eq!(after.read_only_admins, before.read_only_admins);
    assert_eq!(after.parameters, before.parameters);
}

/// An organization whose management account is `account`, with an OU "Domains" and one member
/// account: (OU id, member account id).
async fn organization(orgs: &aws_sdk_organizations::Client) -> (String, String) {
    orgs.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("CreateOrganization");
    let root = orgs
        .list_roots()
        .send()
        .await
        .expect("ListRoots")
        .roots
        .unwrap_or_default()
        .into_iter()
        .next()
        .and_then(|r| r.id)
        .expect("a root");
    let ou = orgs
        .create_organizational_unit()
        .parent_id(&root)
        .name("Domains")
        .send()
        .await
        .expect("CreateOrganizationalUnit")
        .organizational_unit
        .and_then(|o| o.id)
        .expect("OU id");
    let name = unique_name("finance");
    let member = orgs
        .create_account()
        .account_name(&name)
        .email(format!("{name}@example.com"))
        .send()
        .await
        .expect("CreateAccount")
        .create_account_status
        .and_then(|s| s.account_id)
        .expect("account id");
    (ou, member)
}

fn guardrail_hcl(account: &str, name: &str, targets: &[&str]) -> String {
    let targets = targets
        .iter()
        .map(|t| format!("{t:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    provider_in(
        account,
        &format!(
            r#"resource "mesh_guardrail" "g" {{
  name                  = "{name}"
  description           = "Domain accounts stay under Lake Formation governance"
  governance_account_id = "111111111111"
  rules                 = ["protect_lake_formation_settings", "protect_lake_formation_registration"]
  allowed_principal_arns = [
    "arn:aws:iam::111111111111:role/DataPlatformAdmin",
    "arn:aws:iam::*:role/DomainDataAdmin",
  ]
  target_ids = [{targets}]
}}
"#
        ),
    )
}

async fn policy_content(orgs: &aws_sdk_organizations::Client, id: &str) -> Option<String> {
    match orgs.describe_policy().policy_id(id).send().await {
        Ok(out) => out.policy.and_then(|p| p.content),
        Err(e) => {
            let code = e.as_service_error().and_then(|s| {
                aws_sdk_organizations::error::ProvideErrorMetadata::code(s).map(str::to_string)
            });
            assert_eq!(
                code.as_deref(),
                Some("PolicyNotFoundException"),
                "DescribePolicy: {e:?}"
            );
            None
        }
    }
}

async fn policy_targets(orgs: &aws_sdk_organizations::Client, id: &str) -> BTreeSet<String> {
    orgs.list_targets_for_policy()
        .policy_id(id)
        .send()
        .await
        .expect("ListTargetsForPolicy")
        .targets
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| t.target_id)
        .collect()
}

fn planned_values(plan: &Value, address: &str) -> Value {
    plan["planned_values"]["root_module"]["resources"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["address"] == address))
        .map(|r| r["values"].clone())
        .unwrap_or_else(|| panic!("{address} not planned:\n{plan:#}"))
}

async fn guardrail_scp_plans_its_json_attaches_in_place_repairs_drift_imports_and_destroys(
    tf: &'static Terraform,
) {
    let emulator = Emulator::shared();
    let account = random_account();
    let orgs = aws_sdk_organizations::Client::new(&emulator.account_sdk_config(&account).await);
    let (ou, member) = organization(&orgs).await;
    let name = unique_name("mesh-guardrail");
    let ws = Workspace::new(tf, emulator, &guardrail_hcl(&account, &name, &[&ou]));

    // The document is known at plan time.
    let plan = ws.plan_json();
    let planned = planned_values(&plan, "mesh_guardrail.g");
    let policy_json = planned["policy_json"]
        .as_str()
        .unwrap_or_else(|| panic!("policy_json not known at plan:\n{planned:#}"))
        .to_string();

    ws.apply();
    let state = ws.state_resource("mesh_guardrail.g").expect("in state");
    let id = state["policy_id"].as_str().expect("policy id").to_string();
    assert_eq!(state["id"], id.as_str());
    assert_eq!(state["policy_json"], policy_json.as_str());
    let content = policy_content(&orgs, &id).await.expect("policy exists");
    assert_eq!(content, policy_json);
    let doc: Value = serde_json::from_str(&content).expect("JSON policy");
    let statements = doc["Statement"].as_array().expect("statements");
    let settings = statements
        .iter()
        .find(|s| s["Action"][0] == "lakeformation:PutDataLakeSettings")
        .unwrap_or_else(|| panic!("no PutDataLakeSettings statement: {doc:#}"));
    assert_eq!(settings["Effect"], "Deny");
    assert_eq!(
        settings["Condition"]["StringNotEquals"]["aws:PrincipalAccount"][0],
        "111111111111"
    );
    let registration = statements
        .iter()
        .find(|s| s["Condition"]["ArnNotLike"].is_object())
        .unwrap_or_else(|| panic!("no registration statement: {doc:#}"));
    assert_eq!(registration["Effect"], "Deny");
    assert!(registration["Action"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == "lakeformation:RegisterResource")));
    assert_eq!(policy_targets(&orgs, &id).await, set(&[&ou]));
    ws.assert_plan_empty();

    // Another target: update in place, the policy stays the same one.
    ws.write_main(&guardrail_hcl(&account, &name, &[&ou, &member]));
    assert_eq!(ws.resource_change_actions("mesh_guardrail.g"), ["update"]);
    ws.apply();
    assert_eq!(policy_targets(&orgs, &id).await, set(&[&ou, &member]));
    assert_eq!(
        ws.state_resource("mesh_guardrail.g").expect("in state")["policy_id"],
        id.as_str()
    );
    ws.assert_plan_empty();

    // The policy edited outside Terraform: drift, repaired in place.
    let loosened = content.replace("111111111111", "444455556666");
    orgs.update_policy()
        .policy_id(&id)
        .content(loosened)
        .send()
        .await
        .expect("UpdatePolicy");
    assert_eq!(ws.resource_change_actions("mesh_guardrail.g"), ["update"]);
    ws.apply();
    assert_eq!(policy_content(&orgs, &id).await, Some(policy_json.clone()));
    ws.assert_plan_empty();

    // An attachment removed outside Terraform: drift too.
    orgs.detach_policy()
        .policy_id(&id)
        .target_id(&member)
        .send()
        .await
        .expect("DetachPolicy");
    assert_eq!(ws.resource_change_actions("mesh_guardrail.g"), ["update"]);
    ws.apply();
    assert_eq!(policy_targets(&orgs, &id).await, set(&[&ou, &member]));

    // Import by policy id recovers the rules (from the policy's tags): an empty plan.
    let ws2 = Workspace::new(
        tf,
        emulator,
        &guardrail_hcl(&account, &name, &[&ou, &member]),
    );
    ws2.import("mesh_guardrail.g", &id);
    ws2.assert_plan_empty();
    ws2.tf_ok(&["state", "rm", "mesh_guardrail.g"]);

    // Deleted outside Terraform (detached, then deleted): planned for creation, recreated.
    for target in [&ou, &member] {
        orgs.detach_policy()
            .policy_id(&id)
            .target_id(target)
            .send()
            .await
            .expect("DetachPolicy");
    }
    orgs.delete_policy()
        .policy_id(&id)
        .send()
        .await
        .expect("DeletePolicy");
    assert_eq!(ws.resource_change_actions("mesh_guardrail.g"), ["create"]);
    ws.apply();
    let id = ws.state_resource("mesh_guardrail.g").expect("in state")["policy_id"]
        .as_str()
        .expect("policy id")
        .to_string();
    assert_eq!(policy_content(&orgs, &id).await, Some(policy_json.clone()));
    assert_eq!(policy_targets(&orgs, &id).await, set(&[&ou, &member]));
    ws.assert_plan_empty();

    // Removing a target detaches it in place.
    ws.write_main(&guardrail_hcl(&account, &name, &[&ou]));
    assert_eq!(ws.resource_change_actions("mesh_guardrail.g"), ["update"]);
    ws.apply();
    assert_eq!(policy_targets(&orgs, &id).await, set(&[&ou]));

    // Destroy detaches and deletes.
    ws.destroy();
    assert_eq!(policy_content(&orgs, &id).await, None);
    let on_ou: Vec<String> = orgs
        .list_policies_for_target()
        .target_id(&ou)
        .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .expect("ListPoliciesForTarget")
        .policies
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.id)
        .collect();
    assert!(!on_ou.contains(&id), "{on_ou:?}");
}

fn governance_validation_names_the_attribute(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let ws = Workspace::new(
        tf,
        emulator,
        &mesh_config(
            r#"resource "mesh_guardrail" "unknown_rule" {
  name                  = "g1"
  governance_account_id = "111111111111"
  rules                 = ["protect_everything"]
  target_ids            = ["domains"]
}

resource "mesh_guardrail" "no_allowed" {
  name                  = "g2"
  governance_account_id = "111111111111"
  rules                 = ["protect_lake_formation_registration"]
  target_ids            = ["ou-ab12-cdef3456"]
}

resource "mesh_lake_settings" "s" {
  admins                  = ["DataPlatformAdmin"]
  trusted_resource_owners = ["4444"]
}
"#,
        ),
    );
    let out = ws.validate();
    assert!(!out.success(), "validate passed:\n{out}");
    let text = out.combined();
    for expected in [
        "Unknown guardrail rule",
        "\"protect_everything\" is not a guardrail rule",
        "rules                 = [\"protect_everything\"]",
        "Missing allowed principals",
        "allowed_principal_arns",
        "Invalid policy target",
        "\"domains\" is not an organizational unit id",
        "Invalid data lake administrator",
        "Invalid account id",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{out}");
    }
}
