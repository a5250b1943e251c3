//! `mesh_product_link` across accounts, then the whole multi-account mesh of
//! `examples/full-mesh` (governance 111111111111, commerce 444455556666, finance 777788889999),
//! applied with the real Terraform CLI against the emulator and checked through the AWS SDK in
//! each account.
//!
//! The emulator attributes requests made with assumed-role credentials to the role's account, so
//! every account here is reached by assuming `arn:aws:iam::<account>:role/MeshAdmin`, by
//! Terraform (provider `assume_role`) and by the checks below alike. The product link tests use
//! random account ids of their own, so they never meet each other or the full mesh.
//!
//! Emulator limits, worked around here and nowhere in the provider:
//! - Each account's Lake Formation view is separate in the emulator: LF-tags defined in the
//!   governance catalog (111111111111) are invisible to the commerce account even when it names
//!   that catalog (on AWS the governance account shares them). The full mesh test therefore
//!   mirrors the ontology into the commerce account's view of catalog 111111111111 before apply,
//!   as `examples/full-mesh/README.md` describes.

use aws_sdk_glue::types::{DatabaseInput, TableIdentifier, TableInput};
use aws_sdk_lakeformation::types::{PrincipalResourcePermissions, Resource};
use mesh_acceptance::fixtures::line_of;
use mesh_acceptance::steps::Life;
use mesh_acceptance::unless_not_found;
use mesh_acceptance::{
    copy_config_dir, modules_bin, random_account, repo_root, run_with_timeout, s3_client,
    terraform_tests, unique_name, Emulator, Terraform, Workspace, ACCESS_KEY_ID, REGION,
    SECRET_ACCESS_KEY,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::process::Command;
use std::time::Duration;

terraform_tests!(
    product_link_lifecycle,
    product_link_keeps_an_existing_database,
    product_link_never_takes_over_a_table,
    product_link_validation_points_at_attributes,
    full_mesh_applies_exactly,
    full_mesh_from_published_modules,
);

const GOVERNANCE: &str = "111111111111";
const COMMERCE: &str = "444455556666";
const FINANCE: &str = "777788889999";
const LINK: &str = "mesh_product_link.orders";

// ---------------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------------

/// SDK clients acting in one account (through an assumed MeshAdmin role).
struct Account {
    id: String,
    config: aws_config::SdkConfig,
}

impl Account {
    /// Credentials of a role in account `id`, from the emulator's STS.
    async fn assume(emulator: &Emulator, id: &str) -> Account {
        Account {
            id: id.to_string(),
            config: emulator.account_sdk_config(id).await,
        }
    }

    fn glue(&self) -> aws_sdk_glue::Client {
        aws_sdk_glue::Client::new(&self.config)
    }

    fn lakeformation(&self) -> aws_sdk_lakeformation::Client {
        aws_sdk_lakeformation::Client::new(&self.config)
    }

    /// Creates database `name` (with `params`) unless it exists.
    async fn ensure_database(&self, name: &str, params: &[(&str, &str)]) {
        let input = DatabaseInput::builder()
            .name(name)
            .set_parameters(Some(
                params
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ))
            .build()
            .expect("DatabaseInput");
        match self
            .glue()
            .create_database()
            .database_input(input)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_already_exists_exception()) => {}
            Err(e) => panic!("glue:CreateDatabase({name}) in {} failed: {e:?}", self.id),
        }
    }

    /// Creates a plain (data) table `database.name`.
    async fn create_table(&self, database: &str, name: &str) {
        let input = TableInput::builder()
            .name(name)
            .table_type("EXTERNAL_TABLE")
            .build()
            .expect("TableInput");
        self.glue()
            .create_table()
            .database_name(database)
            .table_input(input)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "glue:CreateTable({database}.{name}) in {} failed: {e:?}",
                    self.id
                )
            });
    }

    /// The database `name`, or `None`.
    async fn database(&self, name: &str) -> Option<aws_sdk_glue::types::Database> {
        unless_not_found(
            self.glue().get_database().name(name).send().await,
            &format!("glue:GetDatabase({name}) in {}", self.id),
        )
        .and_then(|out| out.database)
    }

    /// The table `database.name`, or `None`.
    async fn table(&self, database: &str, name: &str) -> Option<aws_sdk_glue::types::Table> {
        unless_not_found(
            self.glue()
                .get_table()
                .database_name(database)
                .name(name)
                .send()
                .await,
            &format!("glue:GetTable({database}.{name}) in {}", self.id),
        )
        .and_then(|out| out.table)
    }

    /// Where the link `database.name` points, as `catalog:database.table`; `None` when there is
    /// no such table; panics when it is not a link.
    async fn link_target(&self, database: &str, name: &str) -> Option<String> {
        let table = self.table(database, name).await?;
        let t = table
            .target_table()
            .unwrap_or_else(|| panic!("{database}.{name} is not a resource link: {table:#?}"));
        Some(format!(
            "{}:{}.{}",
            t.catalog_id().unwrap_or(""),
            t.database_name().unwrap_or(""),
            t.name().unwrap_or("")
        ))
    }

    /// Points the link `database.name` at another table, out of band.
    async fn repoint_link(&self, database: &str, name: &str, target: (&str, &str, &str)) {
        let input = TableInput::builder()
            .name(name)
            .target_table(
                TableIdentifier::builder()
                    .catalog_id(target.0)
                    .database_name(target.1)
                    .name(target.2)
                    .build(),
            )
            .build()
            .expect("TableInput");
        self.glue()
            .update_table()
            .database_name(database)
            .table_input(input)
            .send()
            .await
            .unwrap_or_else(|e| panic!("glue:UpdateTable({database}.{name}) failed: {e:?}"));
    }

    async fn delete_table(&self, database: &str, name: &str) {
        self.glue()
            .delete_table()
            .database_name(database)
            .name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("glue:DeleteTable({database}.{name}) failed: {e:?}"));
    }

    /// Every Lake Formation permission in this account's catalog, normalised.
    async fn permissions(&self) -> BTreeSet<Grant> {
        let mut all = BTreeSet::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .lakeformation()
                .list_permissions()
                .set_next_token(token.clone())
                .send()
                .await
                .unwrap_or_else(|e| {
                    panic!("lakeformation:ListPermissions in {} failed: {e:?}", self.id)
                });
            for p in out.principal_resource_permissions() {
                all.insert(Grant::from(p));
            }
            token = out.next_token.filter(|t| !t.is_empty());
            if token.is_none() {
                return all;
            }
        }
    }

    fn organizations(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::new(&self.config)
    }
}

/// A Lake Formation permission reduced to what the mesh cares about, comparable as a set:
/// `(principal, resource, permissions, grantable)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Grant {
    principal: String,
    resource: String,
    permissions: BTreeSet<String>,
    grantable: BTreeSet<String>,
}

impl Grant {
    fn new(principal: &str, resource: &str, permissions: &[&str]) -> Grant {
        Grant {
            principal: principal.to_string(),
            resource: resource.to_string(),
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
            grantable: BTreeSet::new(),
        }
    }
}

/// `table:db.name`, `table:db.name[cols]`, `database:db`, `tags:DATABASE{k=v1,v2;...}`...
fn describe_resource(r: Option<&Resource>) -> String {
    let Some(r) = r else {
        return "(none)".into();
    };
    if let Some(d) = r.database() {
        return format!("database:{}", d.name());
    }
    if let Some(t) = r.table() {
        return format!("table:{}.{}", t.database_name(), t.name().unwrap_or("*"));
    }
    if let Some(t) = r.table_with_columns() {
        let mut cols: Vec<&str> = t.column_names().iter().map(String::as_str).collect();
        cols.sort();
        let mut excluded: Vec<&str> = t
            .column_wildcard()
            .map(|w| {
                w.excluded_column_names()
                    .iter()
                    .map(String::as_str)
                    .collect()
            })
            .unwrap_or_default();
        excluded.sort();
        // All columns, however it is spelled, is the table.
        if cols.is_empty() && excluded.is_empty() {
            return format!("table:{}.{}", t.database_name(), t.name());
        }
        let excluded = if excluded.is_empty() {
            String::new()
        } else {
            format!(" excluding [{}]", excluded.join(","))
        };
        return format!(
            "table:{}.{}[{}]{excluded}",
            t.database_name(),
            t.name(),
            cols.join(",")
        );
    }
    if let Some(p) = r.lf_tag_policy() {
        let mut terms: Vec<String> = p
            .expression()
            .iter()
            .map(|t| {
                let mut values: Vec<&str> = t.tag_values().iter().map(String::as_str).collect();
                values.sort();
                format!("{}={}", t.tag_key(), values.join(","))
            })
            .collect();
        terms.sort();
        return format!("tags:{}{{{}}}", p.resource_type().as_str(), terms.join(";"));
    }
    format!("{r:?}")
}

impl From<&PrincipalResourcePermissions> for Grant {
    fn from(p: &PrincipalResourcePermissions) -> Grant {
        Grant {
            principal: p
                .principal()
                .and_then(|p| p.data_lake_principal_identifier())
                .unwrap_or("")
                .to_string(),
            resource: describe_resource(p.resource()),
            permissions: p
                .permissions()
                .iter()
                .map(|x| x.as_str().to_string())
                .collect(),
            grantable: p
                .permissions_with_grant_option()
                .iter()
                .map(|x| x.as_str().to_string())
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// mesh_product_link
// ---------------------------------------------------------------------------------------------

/// A shared table in a producer account and a consumer account that links to it.
struct LinkFixture {
    producer: Account,
    consumer: Account,
    source_db: String,
    other_db: String,
    links_db: String,
}

impl LinkFixture {
    async fn new(emulator: &Emulator) -> LinkFixture {
        let producer = Account::assume(emulator, &random_account()).await;
        let consumer = Account::assume(emulator, &random_account()).await;
        let source_db = unique_name("commerce_products");
        let other_db = unique_name("other_products");
        producer.ensure_database(&source_db, &[]).await;
        producer.create_table(&source_db, "orders").await;
        producer.ensure_database(&other_db, &[]).await;
        producer.create_table(&other_db, "orders").await;
        LinkFixture {
            producer,
            consumer,
            source_db,
            other_db,
            links_db: unique_name("shared_products"),
        }
    }

    fn target(&self) -> String {
        format!("{}:{}.orders", self.producer.id, self.source_db)
    }

    /// The consumer's provider and a link to `orders`; `name` set or left to its default.
    fn config(&self, name: Option<&str>) -> String {
        let name = name
            .map(|n| format!("  name     = \"{n}\"\n"))
            .unwrap_or_default();
        format!(
            r#"terraform {{
  required_providers {{
    mesh = {{
      source = "meshcraft/mesh"
    }}
  }}
}}

provider "mesh" {{
  region   = "us-east-1"
  endpoint = "{{{{endpoint}}}}"
  assume_role {{
    role_arn = "arn:aws:iam::{consumer}:role/MeshAdmin"
  }}
}}

resource "mesh_product_link" "orders" {{
  source {{
    catalog_id = "{producer}"
    database   = "{source_db}"
    table      = "orders"
  }}
  database = "{links_db}"
{name}}}
"#,
            consumer = self.consumer.id,
            producer = self.producer.id,
            source_db = self.source_db,
            links_db = self.links_db,
        )
    }
}

/// Terraform wraps diagnostics at 78 columns: compare text with whitespace runs as one space.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn link_state(ws: &Workspace) -> Value {
    ws.state_resource(LINK)
        .unwrap_or_else(|| panic!("{LINK} missing from state:\n{:#}", ws.state_json()))
}

async fn product_link_lifecycle(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let f = LinkFixture::new(emulator).await;
    let config = f.config(None);
    let life = Life::create(tf, emulator, LINK, &config);
    let ws = life.workspace();

    // The link, in the consumer's catalog, named after the source table by default.
    assert_eq!(
        f.consumer.link_target(&f.links_db, "orders").await,
        Some(f.target())
    );
    let state = link_state(ws);
    assert_eq!(state["id"], format!("{}/orders", f.links_db), "{state:#}");
    assert_eq!(state["name"], "orders", "{state:#}");
    assert_eq!(state["catalog_id"], f.consumer.id.as_str(), "{state:#}");
    assert_eq!(
        state["source"]["catalog_id"],
        f.producer.id.as_str(),
        "{state:#}"
    );
    // The links database was created Lake Formation-only, and marked as the link's.
    let db = f
        .consumer
        .database(&f.links_db)
        .await
        .expect("links database created");
    assert_eq!(
        db.create_table_default_permissions,
        Some(Vec::new()),
        "links database must have no default permissions: {db:#?}"
    );
    assert_eq!(
        db.parameters()
            .and_then(|p| p.get("mesh:created_by"))
            .map(String::as_str),
        Some("mesh_product_link"),
        "{db:#?}"
    );
    // Nothing was created in the producer's account.
    assert!(f.producer.database(&f.links_db).await.is_none());
    ws.assert_plan_empty();

    // Pointed elsewhere out of band: drift on `source`, replaced, restored.
    f.consumer
        .repoint_link(
            &f.links_db,
            "orders",
            (&f.producer.id, &f.other_db, "orders"),
        )
        .await;
    let plan = ws.tf_ok(&["plan", "-input=false"]);
    assert!(
        plan.stdout.contains(&f.other_db) && plan.stdout.contains("must be replaced"),
        "the plan should show the link's drifted source and replace it:\n{plan}"
    );
    assert_eq!(ws.resource_change_actions(LINK), ["delete", "create"]);
    ws.apply();
    assert_eq!(
        f.consumer.link_target(&f.links_db, "orders").await,
        Some(f.target())
    );
    ws.assert_plan_empty();

    // Deleted out of band: planned for creation, recreated.
    f.consumer.delete_table(&f.links_db, "orders").await;
    assert_eq!(ws.resource_change_actions(LINK), ["create"]);
    ws.apply();
    assert_eq!(
        f.consumer.link_target(&f.links_db, "orders").await,
        Some(f.target())
    );
    ws.assert_plan_empty();

    // Import by <database>/<name> into an empty state: the same state, nothing to change.
    life.import_verify(&format!("{}/orders", f.links_db), &[]);

    // Destroy: the link goes, and so does the links database it created (now empty).
    life.destroy();
    assert!(f.consumer.table(&f.links_db, "orders").await.is_none());
    assert!(
        f.consumer.database(&f.links_db).await.is_none(),
        "the links database created by the link should be deleted once empty"
    );
    // The producer's table is untouched.
    assert!(f.producer.table(&f.source_db, "orders").await.is_some());
}

async fn product_link_keeps_an_existing_database(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let f = LinkFixture::new(emulator).await;
    // The consumer's own database, holding a table of its own.
    f.consumer.ensure_database(&f.links_db, &[]).await;
    f.consumer.create_table(&f.links_db, "local_table").await;

    let ws = Workspace::new(tf, emulator, &f.config(Some("commerce_orders")));
    ws.apply();
    assert_eq!(
        f.consumer.link_target(&f.links_db, "commerce_orders").await,
        Some(f.target())
    );
    assert_eq!(
        link_state(&ws)["id"],
        format!("{}/commerce_orders", f.links_db)
    );
    ws.assert_plan_empty();

    // Renaming the link replaces it.
    ws.write_main(&f.config(Some("orders_v2")));
    assert_eq!(ws.resource_change_actions(LINK), ["delete", "create"]);
    ws.apply();
    assert!(f
        .consumer
        .table(&f.links_db, "commerce_orders")
        .await
        .is_none());
    assert_eq!(
        f.consumer.link_target(&f.links_db, "orders_v2").await,
        Some(f.target())
    );

    ws.destroy();
    assert!(f.consumer.table(&f.links_db, "orders_v2").await.is_none());
    assert!(
        f.consumer.database(&f.links_db).await.is_some(),
        "a database the link did not create must stay"
    );
    assert!(f.consumer.table(&f.links_db, "local_table").await.is_some());
}

async fn product_link_never_takes_over_a_table(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let f = LinkFixture::new(emulator).await;
    f.consumer.ensure_database(&f.links_db, &[]).await;
    f.consumer.create_table(&f.links_db, "orders").await;

    let ws = Workspace::new(tf, emulator, &f.config(None));
    let out = ws
        .tf(&["apply", "-auto-approve", "-input=false"])
        .assert_failure();
    assert!(
        flat(&out.combined()).contains("already exists") && out.combined().contains("import"),
        "apply should refuse to replace an existing table:\n{out}"
    );
    // The table is still a plain table, and import refuses it too.
    let table = f
        .consumer
        .table(&f.links_db, "orders")
        .await
        .expect("table kept");
    assert!(table.target_table().is_none(), "{table:#?}");
    let imported = ws.tf(&[
        "import",
        "-input=false",
        LINK,
        &format!("{}/orders", f.links_db),
    ]);
    assert!(
        !imported.success() && flat(&imported.combined()).contains("is not a resource link"),
        "{imported}"
    );
}

async fn product_link_validation_points_at_attributes(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let config = mesh_acceptance::mesh_config(
        r#"resource "mesh_product_link" "bad" {
  source {
    catalog_id = "4444"
    database   = "Commerce_Products"
    table      = "orders"
  }
  database = "shared/products"
}
"#,
    );
    let ws = Workspace::new(tf, emulator, &config);
    let out = ws.validate().assert_failure();
    let text = flat(&out.combined());
    for (expected, needle) in [
        ("is not a 12-digit AWS account id", "catalog_id = \"4444\""),
        (
            "Glue stores names in lower case, so use \"commerce_products\"",
            "\"Commerce_Products\"",
        ),
        (
            "which Glue database and table names may not contain",
            "\"shared/products\"",
        ),
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{out}");
        // Each diagnostic points at the line of the attribute it is about.
        let line = line_of(&config, needle);
        assert!(
            text.contains(&format!("on main.tf line {line},")),
            "no diagnostic points at line {line} ({needle}):\n{out}"
        );
    }
    let bad_import = ws.tf(&[
        "import",
        "-input=false",
        "mesh_product_link.bad",
        "no-slash",
    ]);
    assert!(
        !bad_import.success() && flat(&bad_import.combined()).contains("<database>/<name>"),
        "{bad_import}"
    );
}

// ---------------------------------------------------------------------------------------------
// The full mesh
// ---------------------------------------------------------------------------------------------

/// The ontology `examples/full-mesh` defines in the governance catalog.
const ONTOLOGY: &[(&str, &[&str])] = &[
    ("domain", &["commerce", "finance", "logistics", "customer"]),
    ("sensitivity", &["public", "internal", "confidential"]),
    ("region", &["eu", "us"]),
];

/// Emulator only: makes the governance ontology visible to `account` under catalog
/// 111111111111 (see the module docs).
async fn mirror_ontology(account: &Account) {
    for (key, values) in ONTOLOGY {
        account
            .lakeformation()
            .create_lf_tag()
            .catalog_id(GOVERNANCE)
            .tag_key(*key)
            .set_tag_values(Some(values.iter().map(|v| v.to_string()).collect()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("mirroring LF-tag {key} into {} failed: {e:?}", account.id));
    }
}

/// Creates the organization (management account: governance) and its Domains OU; the OU id.
async fn create_organization(governance: &Account) -> String {
    let orgs = governance.organizations();
    orgs.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap_or_else(|e| panic!("organizations:CreateOrganization failed: {e:?}"));
    let roots = orgs
        .list_roots()
        .send()
        .await
        .unwrap_or_else(|e| panic!("organizations:ListRoots failed: {e:?}"));
    let root = roots
        .roots()
        .first()
        .and_then(|r| r.id())
        .unwrap_or_else(|| panic!("no root: {roots:?}"))
        .to_string();
    let ou = orgs
        .create_organizational_unit()
        .parent_id(root)
        .name("Domains")
        .send()
        .await
        .unwrap_or_else(|e| panic!("organizations:CreateOrganizationalUnit failed: {e:?}"));
    ou.organizational_unit()
        .and_then(|o| o.id())
        .unwrap_or_else(|| panic!("no OU id: {ou:?}"))
        .to_string()
}

/// The organization's own service control policies (not the AWS-managed FullAWSAccess), by
/// name: (id, content).
async fn scps(governance: &Account) -> BTreeMap<String, (String, Value)> {
    let orgs = governance.organizations();
    let list = orgs
        .list_policies()
        .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap_or_else(|e| panic!("organizations:ListPolicies failed: {e:?}"));
    let mut out = BTreeMap::new();
    for p in list.policies() {
        if p.aws_managed() {
            continue;
        }
        let id = p.id().unwrap_or_default().to_string();
        let described = orgs
            .describe_policy()
            .policy_id(&id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("organizations:DescribePolicy({id}) failed: {e:?}"));
        let content = described
            .policy()
            .and_then(|p| p.content())
            .unwrap_or("null");
        let content: Value = serde_json::from_str(content)
            .unwrap_or_else(|e| panic!("SCP {id} content is not JSON ({e}): {described:?}"));
        out.insert(p.name().unwrap_or_default().to_string(), (id, content));
    }
    out
}

async fn scp_targets(governance: &Account, policy_id: &str) -> BTreeSet<String> {
    governance
        .organizations()
        .list_targets_for_policy()
        .policy_id(policy_id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("organizations:ListTargetsForPolicy failed: {e:?}"))
        .targets()
        .iter()
        .filter_map(|t| t.target_id().map(String::from))
        .collect()
}

/// The statement of `policy` whose actions include `action`.
fn statement_with<'a>(policy: &'a Value, action: &str) -> &'a Value {
    let statements = match &policy["Statement"] {
        Value::Array(s) => s.iter().collect::<Vec<_>>(),
        s => vec![s],
    };
    statements
        .into_iter()
        .find(|s| {
            let actions = match &s["Action"] {
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>(),
                Value::String(a) => vec![a.as_str()],
                _ => Vec::new(),
            };
            actions.iter().any(|a| a.eq_ignore_ascii_case(action))
        })
        .unwrap_or_else(|| panic!("no statement for {action} in {policy:#}"))
}

/// Exactly the grants the full mesh makes in the governance account: the analytics tag grant.
fn governance_grants() -> BTreeSet<Grant> {
    let analytics = format!("arn:aws:iam::{GOVERNANCE}:role/AnalyticsTeam");
    let expression = "domain=commerce;sensitivity=internal,public";
    BTreeSet::from([
        Grant::new(
            &analytics,
            &format!("tags:DATABASE{{{expression}}}"),
            &["DESCRIBE"],
        ),
        Grant::new(
            &analytics,
            &format!("tags:TABLE{{{expression}}}"),
            &["DESCRIBE", "SELECT"],
        ),
    ])
}

/// Exactly the grants the full mesh makes in the commerce account: orders to finance.
fn commerce_grants() -> BTreeSet<Grant> {
    BTreeSet::from([
        Grant::new(FINANCE, "database:commerce_products", &["DESCRIBE"]),
        Grant::new(
            FINANCE,
            "table:commerce_products.orders",
            &["DESCRIBE", "SELECT"],
        ),
    ])
}

/// Every `mesh_*` resource address in the state, in every module, with its import id (its `id`).
fn addresses_and_ids(ws: &Workspace) -> Vec<(String, String)> {
    fn walk(module: &Value, out: &mut Vec<(String, String)>) {
        for r in module["resources"].as_array().into_iter().flatten() {
            if r["mode"] != "managed" {
                continue;
            }
            let address = r["address"].as_str().unwrap_or_default().to_string();
            let id = r["values"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{address} has no id in state: {r:#}"))
                .to_string();
            out.push((address, id));
        }
        for child in module["child_modules"].as_array().into_iter().flatten() {
            walk(child, out);
        }
    }
    let mut out = Vec::new();
    walk(&ws.state_json()["values"]["root_module"], &mut out);
    out
}

/// One managed resource instance from the raw state file: its address, type, the alias of the
/// provider configuration that manages it, and its import id.
struct Managed {
    address: String,
    ty: String,
    alias: String,
    id: String,
}

/// Every managed resource instance in `ws`'s local state file.
fn managed_resources(ws: &Workspace) -> Vec<Managed> {
    let path = ws.dir().join("terraform.tfstate");
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let state: Value = serde_json::from_str(&text).expect("the state file is JSON");
    let mut out = Vec::new();
    for r in state["resources"].as_array().into_iter().flatten() {
        if r["mode"] != "managed" {
            continue;
        }
        let ty = r["type"].as_str().unwrap_or_default().to_string();
        let base = match r["module"].as_str() {
            Some(module) => format!("{module}.{ty}.{}", r["name"].as_str().unwrap_or_default()),
            None => format!("{ty}.{}", r["name"].as_str().unwrap_or_default()),
        };
        // provider["registry.terraform.io/meshcraft/mesh"].commerce
        let provider = r["provider"].as_str().unwrap_or_default();
        let alias = provider
            .rsplit_once("].")
            .map_or("", |(_, a)| a)
            .to_string();
        for instance in r["instances"].as_array().into_iter().flatten() {
            let address = match &instance["index_key"] {
                Value::String(key) => format!("{base}[{key:?}]"),
                Value::Number(n) => format!("{base}[{n}]"),
                _ => base.clone(),
            };
            let id = instance["attributes"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{address} has no id: {instance:#}"))
                .to_string();
            out.push(Managed {
                address,
                ty: ty.clone(),
                alias: alias.clone(),
                id,
            });
        }
    }
    out
}

/// What Terraform 1.5+ users do instead of `terraform import`: `import` blocks at every
/// resource's module address plan only imports; and `import` blocks alone, with Terraform
/// generating the configuration of every resource type, plan only imports too. Both converge to
/// an empty plan after apply.
fn import_blocks_and_generated_config(
    tf: &'static Terraform,
    emulator: &Emulator,
    example: &std::path::Path,
    tfvars: &str,
    applied: &Workspace,
) {
    let resources = managed_resources(applied);
    let types: BTreeSet<&str> = resources.iter().map(|r| r.ty.as_str()).collect();
    assert_eq!(
        types.len(),
        8,
        "every resource type is in the mesh: {types:?}"
    );
    let expected = format!(
        "Plan: {} to import, 0 to add, 0 to change, 0 to destroy.",
        resources.len()
    );

    let blocks = Workspace::from_dir(tf, emulator, example);
    blocks.write_file("terraform.tfvars", tfvars);
    blocks.tf_ok(&["get"]);
    let imports: String = resources
        .iter()
        .map(|r| format!("import {{\n  to = {}\n  id = {:?}\n}}\n\n", r.address, r.id))
        .collect();
    blocks.write_file("imports.tf", &imports);
    let plan = blocks.tf_ok(&["plan", "-input=false"]);
    assert_eq!(plan.plan_summary(), expected, "{plan}");
    blocks.apply();
    blocks.assert_plan_empty();
    drop(blocks);

    // Only the providers and variables of the example, and import blocks into root resources.
    let generated = Workspace::from_dir(tf, emulator, example);
    for file in ["governance.tf", "commerce.tf", "finance.tf", "outputs.tf"] {
        let path = generated.dir().join(file);
        fs::remove_file(&path).unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
    }
    generated.write_file("terraform.tfvars", tfvars);
    let imports: String = resources
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "import {{\n  to       = {}.r{i}\n  id       = {:?}\n  provider = mesh.{}\n}}\n\n",
                r.ty, r.id, r.alias
            )
        })
        .collect();
    generated.write_file("imports.tf", &imports);
    let first = generated.tf_ok(&["plan", "-input=false", "-generate-config-out=generated.tf"]);
    let config = fs::read_to_string(generated.dir().join("generated.tf"))
        .unwrap_or_else(|e| panic!("no generated.tf ({e}):\n{first}"));
    let plan = generated.tf_ok(&["plan", "-input=false"]);
    assert_eq!(
        plan.plan_summary(),
        expected,
        "generated configuration:\n{config}\n{plan}"
    );
    generated.apply();
    generated.assert_plan_empty();
}

async fn full_mesh_applies_exactly(tf: &'static Terraform) {
    // A fresh emulator: the mesh's accounts and names are fixed, and the test runs once per
    // Terraform version, concurrently.
    let emulator = Emulator::start().unwrap_or_else(|e| panic!("cannot start an emulator: {e}"));
    let emulator = &emulator;
    let governance = Account::assume(emulator, GOVERNANCE).await;
    let commerce = Account::assume(emulator, COMMERCE).await;
    let finance = Account::assume(emulator, FINANCE).await;
    let domain_ou = create_organization(&governance).await;
    mirror_ontology(&commerce).await;

    let example = repo_root().join("examples").join("full-mesh");
    let tfvars = format!(
        "endpoint     = \"{}\"\ndomain_ou_id = \"{domain_ou}\"\n",
        emulator.endpoint(),
    );
    let ws = Workspace::from_dir(tf, emulator, &example);
    ws.write_file("terraform.tfvars", &tfvars);
    // The example consumes the generated modules (modules/, by relative path): install them.
    ws.tf_ok(&["get"]);
    let settings_before = governance
        .lakeformation()
        .get_data_lake_settings()
        .send()
        .await
        .expect("GetDataLakeSettings")
        .data_lake_settings;

    ws.apply();

    // --- Governance: lake settings, the ontology, the analytics tag grant, the SCP. ----------
    let settings = governance
        .lakeformation()
        .get_data_lake_settings()
        .send()
        .await
        .expect("GetDataLakeSettings")
        .data_lake_settings
        .expect("settings");
    let admins: Vec<&str> = settings
        .data_lake_admins()
        .iter()
        .filter_map(|a| a.data_lake_principal_identifier())
        .collect();
    assert_eq!(
        admins,
        [format!("arn:aws:iam::{GOVERNANCE}:role/MeshAdmin")],
        "{settings:#?}"
    );
    assert!(
        settings.create_database_default_permissions().is_empty(),
        "{settings:#?}"
    );
    assert!(
        settings.create_table_default_permissions().is_empty(),
        "{settings:#?}"
    );

    for (key, values) in ONTOLOGY {
        let got = governance
            .lakeformation()
            .get_lf_tag()
            .tag_key(*key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetLFTag({key}): {e:?}"));
        let got: BTreeSet<&str> = got.tag_values().iter().map(String::as_str).collect();
        assert_eq!(got, values.iter().copied().collect(), "LF-tag {key}");
    }

    assert_eq!(
        governance.permissions().await,
        governance_grants(),
        "governance account grants"
    );

    let policies = scps(&governance).await;
    let (policy_id, policy) = policies
        .get("meshcraft-lake-formation-guardrails")
        .unwrap_or_else(|| panic!("SCP missing; policies: {policies:#?}"))
        .clone();
    assert_eq!(policies.len(), 1, "{policies:#?}");
    let settings_rule = statement_with(&policy, "lakeformation:PutDataLakeSettings");
    assert_eq!(settings_rule["Effect"], "Deny", "{policy:#}");
    assert!(
        settings_rule["Condition"].to_string().contains(GOVERNANCE),
        "the settings rule must exempt the governance account: {policy:#}"
    );
    let registration = statement_with(&policy, "lakeformation:RegisterResource");
    assert_eq!(registration["Effect"], "Deny", "{policy:#}");
    let registration_text = registration.to_string();
    assert!(
        registration_text
            .to_lowercase()
            .contains("lakeformation:deregisterresource"),
        "{policy:#}"
    );
    for account in [GOVERNANCE, COMMERCE, FINANCE] {
        assert!(
            registration_text.contains(&format!("arn:aws:iam::{account}:role/MeshAdmin")),
            "the registration rule must allow {account}'s MeshAdmin: {policy:#}"
        );
    }
    assert_eq!(
        scp_targets(&governance, &policy_id).await,
        BTreeSet::from([domain_ou.clone()]),
        "SCP attachment"
    );
    let guardrail = ws
        .state_resource("module.governance.mesh_guardrail.lake_formation")
        .expect("guardrail in state");
    assert_eq!(guardrail["policy_id"], policy_id.as_str(), "{guardrail:#}");
    let shown: Value = serde_json::from_str(guardrail["policy_json"].as_str().unwrap_or("null"))
        .unwrap_or_else(|e| panic!("policy_json is not JSON ({e}): {guardrail:#}"));
    assert_eq!(shown, policy, "the policy in state is the policy in AWS");

    // --- Commerce: the domain, the products, the grant of orders to finance. ------------------
    for product in ["orders", "order_items"] {
        assert!(
            commerce.table("commerce_products", product).await.is_some(),
            "product {product} missing in the commerce account"
        );
    }
    assert_eq!(
        commerce.permissions().await,
        commerce_grants(),
        "commerce account grants"
    );

    // --- Finance: the link, and no grants. ----------------------------------------------------
    assert_eq!(
        finance
            .link_target("shared_products", "commerce_orders")
            .await,
        Some(format!("{COMMERCE}:commerce_products.orders"))
    );
    assert_eq!(
        finance.permissions().await,
        BTreeSet::new(),
        "finance account grants"
    );

    let outputs = ws.outputs();
    assert_eq!(
        outputs["guardrail_policy_id"]["value"],
        policy_id.as_str(),
        "{outputs:#}"
    );
    assert_eq!(
        outputs["orders_link"]["value"]["id"], "shared_products/commerce_orders",
        "{outputs:#}"
    );
    for id in ["commerce/orders", "commerce/order_items"] {
        assert!(
            outputs["products"]["value"][id]["contract_uri"]
                .as_str()
                .is_some_and(|u| u.starts_with("s3://")),
            "{outputs:#}"
        );
    }

    ws.assert_plan_empty();

    // --- Import of every resource into an empty state gives an empty plan. --------------------
    let resources = addresses_and_ids(&ws);
    assert!(resources.len() >= 11, "{resources:#?}");
    let imported = Workspace::from_dir(tf, emulator, &example);
    imported.write_file("terraform.tfvars", &tfvars);
    imported.tf_ok(&["get"]);
    for (address, id) in &resources {
        imported.import(address, id);
    }
    imported.assert_plan_empty();
    drop(imported);
    if tf.at_least(1, 5) {
        import_blocks_and_generated_config(tf, emulator, &example, &tfvars, &ws);
    }

    // --- Destroy removes every grant and the link. -------------------------------------------
    ws.destroy();
    assert_eq!(
        governance.permissions().await,
        BTreeSet::new(),
        "governance grants after destroy"
    );
    assert_eq!(
        commerce.permissions().await,
        BTreeSet::new(),
        "commerce grants after destroy"
    );
    assert!(finance
        .table("shared_products", "commerce_orders")
        .await
        .is_none());
    assert!(finance.database("shared_products").await.is_none());
    assert!(scps(&governance).await.is_empty(), "the SCP should be gone");
    let settings_after = governance
        .lakeformation()
        .get_data_lake_settings()
        .send()
        .await
        .expect("GetDataLakeSettings")
        .data_lake_settings;
    assert_eq!(
        settings_after, settings_before,
        "destroy restores the lake settings it found"
    );
}

/// Where the published-modules test puts the modules in the emulator's S3.
const MODULES_BUCKET: &str = "meshcraft-modules";
const MODULES_PREFIX: &str = "platform";

/// Runs the built `mesh-modules` with the emulator's endpoint and credentials.
fn run_mesh_modules(emulator: &Emulator, args: &[&str]) -> mesh_acceptance::TfOutput {
    let mut cmd = Command::new(modules_bin());
    cmd.args(args)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("AWS_REGION", REGION)
        .env("AWS_ENDPOINT_URL", emulator.endpoint());
    run_with_timeout(&mut cmd, Duration::from_secs(120))
}

/// [`run_mesh_modules`], failing the test on an error; its output.
fn mesh_modules(emulator: &Emulator, args: &[&str]) -> String {
    let out = run_mesh_modules(emulator, args);
    assert!(
        out.success(),
        "mesh-modules {args:?} failed:\n{}",
        out.combined()
    );
    out.combined()
}

/// The platform team's release flow, then a domain's: the generated modules are released
/// (1.0.0) and published to S3; examples/full-mesh, every module source rewritten to its
/// published zip at that pinned version (`s3::` with the emulator's endpoint), applies and a
/// second plan is empty. A fresh emulator: the mesh's accounts and bucket names are fixed.
async fn full_mesh_from_published_modules(tf: &'static Terraform) {
    let emulator = Emulator::start().unwrap_or_else(|e| panic!("cannot start an emulator: {e}"));
    let emulator = &emulator;
    let governance = Account::assume(emulator, GOVERNANCE).await;
    let commerce = Account::assume(emulator, COMMERCE).await;
    let domain_ou = create_organization(&governance).await;
    mirror_ontology(&commerce).await;

    // --- The platform team: release and publish the committed modules. -----------------------
    s3_client(&emulator.sdk_config())
        .create_bucket()
        .bucket(MODULES_BUCKET)
        .send()
        .await
        .expect("CreateBucket for the modules");
    let scratch = tempfile::tempdir().expect("temp dir");
    let modules = scratch.path().join("modules");
    copy_config_dir(&repo_root().join("modules"), &modules).expect("copy modules/");
    let store = format!("s3://{MODULES_BUCKET}/{MODULES_PREFIX}");
    let modules_arg = modules.to_string_lossy().to_string();
    let released = mesh_modules(
        emulator,
        &[
            "release",
            "--modules",
            &modules_arg,
            "--from",
            &store,
            "--date",
            "2026-11-24",
        ],
    );
    const MODULES: [&str; 4] = ["consumer-access", "data-product", "domain", "governance"];
    for module in MODULES {
        let changelog = fs::read_to_string(modules.join(module).join("CHANGELOG.md"))
            .unwrap_or_else(|e| {
                panic!("no CHANGELOG for {module} ({e}); release said:\n{released}")
            });
        assert!(changelog.contains("## 1.0.0 (2026-11-24)"), "{changelog}");
    }
    mesh_modules(
        emulator,
        &["publish", "--modules", &modules_arg, "--to", &store],
    );
    // Published versions are immutable.
    let again = run_mesh_modules(
        emulator,
        &["publish", "--modules", &modules_arg, "--to", &store],
    );
    assert!(
        !again.success(),
        "publishing 1.0.0 twice must fail:\n{}",
        again.combined()
    );

    // --- A domain team: the full mesh from the published modules, pinned to 1.0.0. -----------
    let example = repo_root().join("examples").join("full-mesh");
    let ws = Workspace::from_dir(tf, emulator, &example);
    let mut rewritten = 0;
    for entry in fs::read_dir(ws.dir()).expect("read the example copy") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_none_or(|e| e != "tf") {
            continue;
        }
        let mut text = fs::read_to_string(&path).expect("read a .tf file");
        for module in MODULES {
            let local = format!("source = \"../../modules/{module}\"");
            let published = format!(
                "source = \"s3::{}/{MODULES_BUCKET}/{MODULES_PREFIX}/{module}/1.0.0.zip?aws_access_key_id={ACCESS_KEY_ID}&aws_access_key_secret={SECRET_ACCESS_KEY}\"",
                emulator.endpoint()
            );
            rewritten += text.matches(&local).count();
            text = text.replace(&local, &published);
        }
        assert!(
            !text.contains("../../modules"),
            "{}: {text}",
            path.display()
        );
        fs::write(&path, text).expect("write a .tf file");
    }
    assert_eq!(
        rewritten, 7,
        "every module block of the example uses a published source"
    );
    ws.write_file(
        "terraform.tfvars",
        &format!(
            "endpoint     = \"{}\"\ndomain_ou_id = \"{domain_ou}\"\n",
            emulator.endpoint()
        ),
    );
    let got = ws.tf_ok(&["get"]).combined();
    assert_eq!(
        got.matches("Downloading s3::").count(),
        7,
        "every module fetched from S3: {got}"
    );
    ws.apply();
    ws.assert_plan_empty();

    assert_eq!(
        commerce.permissions().await,
        commerce_grants(),
        "commerce account grants"
    );
    assert_eq!(
        governance.permissions().await,
        governance_grants(),
        "governance account grants"
    );
    ws.destroy();
}
