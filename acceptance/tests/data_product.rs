//! `mesh_data_product`: the Glue table, LF-tags on table and columns, the registry schema
//! contract, the contract document; evolution checked at plan time, drift, failure part-way,
//! destroy guarding data, import, AWS call budgets, validation.

use mesh_acceptance::fixtures::{
    line_of, Mesh, ProductOpts, COLUMNS, DOMAIN_ADDRESS, DOMAIN_TAG, OWNER_EMAIL, OWNER_TEAM,
    PRODUCT, PRODUCT_ADDRESS, QUALITY_RULES, SENSITIVITY_ADDRESS,
};
use mesh_acceptance::{lf_tags, Emulator, Proxy, Workspace, ACCOUNT_ID};
use serde_json::Value;
use sha2::{Digest, Sha256};

use mesh_acceptance::{terraform_tests, Terraform};

terraform_tests!(
    product_create,
    product_evolution_adds_a_version_and_refuses_a_breaking_change,
    product_default_backward_refuses_a_removed_column,
    product_drift_tag_removed_and_table_deleted,
    product_create_failing_at_create_table_leaves_no_orphan,
    product_create_failing_at_put_object_leaves_no_orphan,
    product_update_failing_at_put_object_is_repaired_by_the_next_apply,
    product_destroy_keeps_data_unless_force_destroy,
    product_import,
    product_call_budgets,
    sync product_validate_refuses_bad_input,
    product_sla_alarms_follow_the_sla,
);

const PARQUET_SERDE: &str = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";

fn product_state(ws: &Workspace) -> Value {
    ws.state_resource(PRODUCT_ADDRESS).unwrap_or_else(|| {
        panic!(
            "{PRODUCT_ADDRESS} missing from state:\n{:#}",
            ws.state_json()
        )
    })
}

/// A workspace with the standard product applied.
async fn applied(
    tf: &'static Terraform,
    emulator: &Emulator,
    mesh: &Mesh,
    opts: &ProductOpts,
) -> Workspace {
    mesh.prepare(emulator).await;
    let ws = Workspace::new(tf, emulator, &mesh.product_config(opts));
    ws.apply();
    ws
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every string anywhere in a JSON document.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The table's column names, in order.
fn column_names(table: &aws_sdk_glue::types::Table) -> Vec<String> {
    table
        .storage_descriptor()
        .map(|sd| sd.columns())
        .unwrap_or_default()
        .iter()
        .map(|c| c.name().to_string())
        .collect()
}

/// The product's contract document from S3, parsed.
async fn contract(emulator: &Emulator, mesh: &Mesh) -> (Vec<u8>, Value) {
    let bytes = emulator
        .get_object(&mesh.bucket, &mesh.contract_key())
        .await
        .unwrap_or_else(|| {
            panic!(
                "contract document s3://{}/{} missing",
                mesh.bucket,
                mesh.contract_key()
            )
        });
    let doc: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "the contract document is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (bytes, doc)
}

async fn product_create(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    let ws = applied(tf, emulator, &mesh, &ProductOpts::default()).await;
    let db = mesh.database();

    // The Glue table.
    let table = emulator
        .get_table(&db, PRODUCT)
        .await
        .unwrap_or_else(|| panic!("Glue table {db}.{PRODUCT} missing"));
    let sd = table
        .storage_descriptor()
        .unwrap_or_else(|| panic!("no storage descriptor: {table:#?}"));
    assert_eq!(
        sd.location(),
        Some(mesh.product_location().as_str()),
        "{table:#?}"
    );
    let columns: Vec<(String, String, Option<String>)> = sd
        .columns()
        .iter()
        .map(|c| {
            (
                c.name().to_string(),
                c.r#type().unwrap_or_default().to_string(),
                c.comment().map(String::from),
            )
        })
        .collect();
    let expected: Vec<(String, String, Option<String>)> = COLUMNS
        .iter()
        .map(|(n, t, c)| (n.to_string(), t.to_string(), c.map(String::from)))
        .collect();
    assert_eq!(columns, expected, "columns (name, type, comment) in order");
    let partitions: Vec<(String, String)> = table
        .partition_keys()
        .iter()
        .map(|c| {
            (
                c.name().to_string(),
                c.r#type().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        partitions,
        [("order_date".to_string(), "date".to_string())],
        "partition keys"
    );
    assert_eq!(
        sd.serde_info().and_then(|s| s.serialization_library()),
        Some(PARQUET_SERDE),
        "SerDe: {sd:#?}"
    );
    let params = table.parameters().cloned().unwrap_or_default();
    assert_eq!(
        params.get("classification").map(String::as_str),
        Some("parquet"),
        "table parameters: {params:#?}"
    );
    for expected in [OWNER_TEAM, OWNER_EMAIL] {
        assert!(
            params.values().any(|v| v == expected),
            "table parameters should record the owner ({expected:?}), defaulted from the domain: {params:#?}"
        );
    }
    assert!(
        params
            .iter()
            .any(|(k, v)| k.contains("freshness") && v.contains("60")),
        "table parameters should record the freshness SLA (60 minutes): {params:#?}"
    );
    assert!(
        params
            .keys()
            .any(|k| k.contains("schema") || k.contains("contract")),
        "table parameters should point at the contract / schema version: {params:#?}"
    );

    // LF-tags on the table and on the tagged column.
    assert_eq!(
        emulator.table_lf_tags(&db, PRODUCT).await,
        lf_tags(&[
            (DOMAIN_TAG, mesh.domain.as_str()),
            (mesh.sensitivity.as_str(), "internal")
        ]),
        "table LF-tags"
    );
    assert_eq!(
        emulator.column_lf_tags(&db, PRODUCT, "order_amount").await,
        lf_tags(&[(mesh.sensitivity.as_str(), "confidential")]),
        "LF-tags on column order_amount"
    );

    // The schema contract in the registry.
    let schema = emulator
        .get_schema(&mesh.registry, &mesh.schema_name())
        .await
        .unwrap_or_else(|| {
            panic!(
                "schema {} missing from registry {}",
                mesh.schema_name(),
                mesh.registry
            )
        });
    assert_eq!(
        schema.compatibility().map(|c| c.as_str()),
        Some("BACKWARD_ALL"),
        "{schema:#?}"
    );
    assert_eq!(
        schema.data_format().map(|c| c.as_str()),
        Some("AVRO"),
        "{schema:#?}"
    );
    assert_eq!(
        emulator
            .list_schema_versions(&mesh.registry, &mesh.schema_name())
            .await,
        Some(vec![1])
    );
    let definition = emulator
        .schema_definition(&mesh.registry, &mesh.schema_name(), 1)
        .await
        .expect("schema version 1 has a definition");
    let avro: Value = serde_json::from_str(&definition)
        .unwrap_or_else(|e| panic!("the AVRO definition is not JSON ({e}):\n{definition}"));
    let fields = avro["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no fields in the AVRO schema:\n{avro:#}"));
    let field = |name: &str| {
        fields
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no field {name} in the AVRO schema:\n{avro:#}"))
    };
    let nullable = |f: &Value| {
        f["type"]
            .as_array()
            .is_some_and(|u| u.iter().any(|t| t == "null"))
    };
    assert!(
        !nullable(field("order_id")),
        "order_id is nullable = false:\n{avro:#}"
    );
    assert!(
        nullable(field("customer_id")),
        "customer_id is nullable by default:\n{avro:#}"
    );

    // The contract document.
    let (bytes, doc) = contract(emulator, &mesh).await;
    assert_eq!(doc["kind"], "DataContract", "{doc:#}");
    assert_eq!(doc["id"], mesh.product_id(), "{doc:#}");
    let mut texts = Vec::new();
    strings(&doc, &mut texts);
    for (column, _, _) in COLUMNS {
        assert!(
            texts.iter().any(|t| t == column),
            "column {column} missing from the contract:\n{doc:#}"
        );
    }
    for rule in QUALITY_RULES {
        assert!(
            texts.iter().any(|t| t.contains(rule)),
            "quality rule {rule} missing from the contract:\n{doc:#}"
        );
    }

    // State.
    let state = product_state(&ws);
    assert_eq!(state["id"], mesh.product_id(), "{state:#}");
    assert_eq!(state["database_name"], db, "{state:#}");
    assert_eq!(state["table_arn"], mesh.table_arn(), "{state:#}");
    assert_eq!(state["location"], mesh.product_location(), "{state:#}");
    assert_eq!(state["schema_version_number"], 1, "{state:#}");
    assert_eq!(
        state["schema_arn"],
        format!(
            "arn:aws:glue:us-east-1:{ACCOUNT_ID}:schema/{}/{}",
            mesh.registry,
            mesh.schema_name()
        ),
        "{state:#}"
    );
    assert_eq!(
        state["contract_uri"],
        format!("{}_metadata/product.json", mesh.product_location()),
        "{state:#}"
    );
    assert_eq!(
        state["contract_sha256"],
        sha256_hex(&bytes),
        "contract_sha256 must be the sha256 of the stored document"
    );
    ws.assert_plan_empty();
}

async fn product_evolution_adds_a_version_and_refuses_a_breaking_change(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    let ws = applied(tf, emulator, &mesh, &ProductOpts::default()).await;

    // Adding a nullable column: an in-place update and schema version 2.
    let added = ProductOpts {
        extra_columns: vec![
            "  column {\n    name    = \"coupon_code\"\n    type    = \"string\"\n    comment = \"Coupon\"\n  }\n"
                .to_string(),
        ],
        ..ProductOpts::default()
    };
    ws.write_main(&mesh.product_config(&added));
    assert_eq!(ws.resource_change_actions(PRODUCT_ADDRESS), ["update"]);
    ws.apply();
    assert_eq!(
        emulator
            .list_schema_versions(&mesh.registry, &mesh.schema_name())
            .await,
        Some(vec![1, 2])
    );
    assert_eq!(product_state(&ws)["schema_version_number"], 2);
    let table = emulator
        .get_table(&mesh.database(), PRODUCT)
        .await
        .expect("table");
    assert_eq!(
        column_names(&table).last().map(String::as_str),
        Some("coupon_code"),
        "{table:#?}"
    );
    ws.assert_plan_empty();

    // Removing a column breaks BACKWARD_ALL: refused at plan time, naming column and mode.
    let removed = ProductOpts {
        drop_columns: vec!["customer_id".to_string()],
        ..added
    };
    ws.write_main(&mesh.product_config(&removed));
    let out = ws.tf(&["plan", "-input=false"]).assert_failure();
    let text = out.combined();
    assert!(
        text.contains("customer_id") && text.contains("BACKWARD_ALL"),
        "the plan error should name the removed column and the compatibility mode:\n{out}"
    );
    assert_eq!(
        emulator
            .list_schema_versions(&mesh.registry, &mesh.schema_name())
            .await,
        Some(vec![1, 2]),
        "a refused plan must not register a version"
    );
}

async fn product_default_backward_refuses_a_removed_column(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    let opts = ProductOpts {
        compatibility: None,
        ..ProductOpts::default()
    };
    let ws = applied(tf, emulator, &mesh, &opts).await;
    let schema = emulator
        .get_schema(&mesh.registry, &mesh.schema_name())
        .await
        .expect("schema");
    assert_eq!(
        schema.compatibility().map(|c| c.as_str()),
        Some("BACKWARD"),
        "compatibility defaults to BACKWARD: {schema:#?}"
    );
    let state = product_state(&ws);
    // A single nested block: an object in state (a list if the schema nests it as a list).
    let contract = match &state["schema_contract"] {
        Value::Array(items) => items.first().cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    assert_eq!(contract["compatibility"], "BACKWARD", "{state:#}");
    ws.assert_plan_empty();

    let removed = ProductOpts {
        drop_columns: vec!["customer_id".to_string()],
        ..opts
    };
    ws.write_main(&mesh.product_config(&removed));
    let out = ws.tf(&["plan", "-input=false"]).assert_failure();
    let text = out.combined();
    assert!(
        text.contains("customer_id") && text.contains("BACKWARD"),
        "the plan error should name the removed column and the compatibility mode:\n{out}"
    );
}

async fn product_drift_tag_removed_and_table_deleted(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    let ws = applied(tf, emulator, &mesh, &ProductOpts::default()).await;
    let db = mesh.database();
    let expected_tags = lf_tags(&[
        (DOMAIN_TAG, mesh.domain.as_str()),
        (mesh.sensitivity.as_str(), "internal"),
    ]);

    // An LF-tag removed from the table out of band.
    emulator
        .remove_table_lf_tag(&db, PRODUCT, &mesh.sensitivity)
        .await;
    assert_eq!(
        emulator.table_lf_tags(&db, PRODUCT).await,
        lf_tags(&[(DOMAIN_TAG, mesh.domain.as_str())]),
        "the out-of-band removal did not take"
    );
    let out = ws.tf(&["plan", "-input=false", "-detailed-exitcode"]);
    assert_eq!(
        out.code, 2,
        "the removed LF-tag should show as drift:\n{out}"
    );
    ws.apply();
    assert_eq!(
        emulator.table_lf_tags(&db, PRODUCT).await,
        expected_tags,
        "apply should restore the table's LF-tag"
    );
    ws.assert_plan_empty();

    // The table deleted out of band: the next apply recreates it.
    emulator.delete_table(&db, PRODUCT).await;
    let out = ws.tf(&["plan", "-input=false", "-detailed-exitcode"]);
    assert_eq!(
        out.code, 2,
        "the deleted table should show as drift:\n{out}"
    );
    ws.apply();
    let table = emulator
        .get_table(&db, PRODUCT)
        .await
        .expect("apply should recreate the deleted table");
    assert_eq!(column_names(&table).len(), COLUMNS.len(), "{table:#?}");
    assert_eq!(emulator.table_lf_tags(&db, PRODUCT).await, expected_tags);
    ws.assert_plan_empty();
}

/// Injects a non-retryable failure into `op` during the product's first apply, then checks
/// that nothing is orphaned and that the next apply converges.
async fn failure_part_way(tf: &'static Terraform, op: &str) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    mesh.prepare(emulator).await;
    let proxy = Proxy::start(emulator);
    let ws = Workspace::with_proxy(tf, &proxy, &mesh.domain_config());
    ws.apply();

    ws.write_main(&mesh.product_config(&ProductOpts::default()));
    proxy.reset_counts();
    proxy.fail(op, 1000, 400, "AccessDeniedException");
    let out = ws.tf(&["apply", "-auto-approve", "-input=false"]);
    let calls = proxy.report();
    assert!(
        !out.success(),
        "apply passed despite {op} failing:\n{out}\ncalls:\n{calls}"
    );
    assert!(
        proxy.count(op) >= 1,
        "the apply never called {op}, so the fault was not exercised:\n{calls}"
    );
    assert!(
        out.combined().contains("AccessDeniedException"),
        "the error should carry the AWS code:\n{out}"
    );
    let operation = op.split(':').nth(1).unwrap_or(op);
    assert!(
        out.combined().contains(operation),
        "the error should name the operation {operation}:\n{out}"
    );

    // No orphan: whatever exists is in state, or was undone.
    let in_state = ws.state_resource(PRODUCT_ADDRESS).is_some();
    let schema_left = emulator
        .get_schema(&mesh.registry, &mesh.schema_name())
        .await
        .is_some();
    let table_left = emulator
        .get_table(&mesh.database(), PRODUCT)
        .await
        .is_some();
    let contract_left = emulator
        .get_object(&mesh.bucket, &mesh.contract_key())
        .await
        .is_some();
    assert!(
        in_state || !(schema_left || table_left || contract_left),
        "after the failed create, the state has no product but AWS has: schema={schema_left} \
         table={table_left} contract={contract_left}\ncalls:\n{calls}"
    );

    // Converges once the fault is gone.
    proxy.clear_faults();
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(
        emulator
            .list_schema_versions(&mesh.registry, &mesh.schema_name())
            .await,
        Some(vec![1]),
        "the registry should hold exactly one schema {} at version 1",
        mesh.schema_name()
    );
    assert!(emulator
        .get_table(&mesh.database(), PRODUCT)
        .await
        .is_some());
    assert!(emulator
        .get_object(&mesh.bucket, &mesh.contract_key())
        .await
        .is_some());
}

async fn product_create_failing_at_create_table_leaves_no_orphan(tf: &'static Terraform) {
    failure_part_way(tf, "glue:CreateTable").await;
}

async fn product_create_failing_at_put_object_leaves_no_orphan(tf: &'static Terraform) {
    failure_part_way(tf, "s3:PutObject").await;
}

/// An update whose contract document write fails after the table changed: the published
/// contract is stale, so the next plan must show the product out of date and apply must repair
/// the document (not an empty plan over an old contract).
async fn product_update_failing_at_put_object_is_repaired_by_the_next_apply(
    tf: &'static Terraform,
) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    mesh.prepare(emulator).await;
    let proxy = Proxy::start(emulator);
    let ws = Workspace::with_proxy(tf, &proxy, &mesh.product_config(&ProductOpts::default()));
    ws.apply();
    let column = |doc: &Value| doc.to_string().contains("coupon_code");

    let added = ProductOpts {
        extra_columns: vec![
            "  column {\n    name = \"coupon_code\"\n    type = \"string\"\n  }\n".to_string(),
        ],
        ..ProductOpts::default()
    };
    ws.write_main(&mesh.product_config(&added));
    proxy.fail("s3:PutObject", 1000, 403, "AccessDenied");
    let out = ws.tf(&["apply", "-auto-approve", "-input=false"]);
    assert!(!out.success(), "apply passed despite the fault:\n{out}");
    assert!(proxy.count("s3:PutObject") >= 1, "{}", proxy.report());
    proxy.clear_faults();
    // The table has the new column; the published contract does not.
    let table = emulator
        .get_table(&mesh.database(), PRODUCT)
        .await
        .expect("table");
    assert!(
        column_names(&table).iter().any(|c| c == "coupon_code"),
        "{table:#?}"
    );
    let (_, doc) = contract(emulator, &mesh).await;
    assert!(
        !column(&doc),
        "the document changed although its write failed"
    );

    assert_eq!(
        ws.resource_change_actions(PRODUCT_ADDRESS),
        ["update"],
        "the stale contract document must show as a change"
    );
    ws.apply();
    let (_, doc) = contract(emulator, &mesh).await;
    assert!(
        column(&doc),
        "the contract document was not repaired:\n{doc:#}"
    );
    ws.assert_plan_empty();
}

async fn product_destroy_keeps_data_unless_force_destroy(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    let ws = applied(tf, emulator, &mesh, &ProductOpts::default()).await;
    let data_key = format!("{}part-0000.parquet", mesh.product_prefix());
    emulator
        .put_object(&mesh.bucket, &data_key, b"PAR1 not really parquet PAR1")
        .await;
    let destroy_product = [
        "destroy",
        "-auto-approve",
        "-input=false",
        "-target",
        PRODUCT_ADDRESS,
    ];

    ws.tf_ok(&destroy_product);
    assert!(
        emulator.get_object(&mesh.bucket, &data_key).await.is_some(),
        "destroy deleted a data object without force_destroy"
    );
    assert!(emulator
        .get_table(&mesh.database(), PRODUCT)
        .await
        .is_none());
    assert!(
        emulator
            .get_schema(&mesh.registry, &mesh.schema_name())
            .await
            .is_none(),
        "the registry schema survived destroy"
    );
    assert!(
        emulator
            .get_object(&mesh.bucket, &mesh.contract_key())
            .await
            .is_none(),
        "the contract document survived destroy"
    );
    assert_eq!(ws.state_resource(PRODUCT_ADDRESS), None);

    // Recreate, switch on force_destroy (applied first), then destroy removes the data too.
    ws.apply();
    let forced = ProductOpts {
        force_destroy: true,
        ..ProductOpts::default()
    };
    ws.write_main(&mesh.product_config(&forced));
    ws.apply();
    ws.assert_plan_empty();
    ws.tf_ok(&destroy_product);
    assert_eq!(
        emulator
            .list_keys(&mesh.bucket, &mesh.product_prefix())
            .await,
        Vec::<String>::new(),
        "force_destroy should remove every object under the product's prefix"
    );
    assert!(emulator
        .get_table(&mesh.database(), PRODUCT)
        .await
        .is_none());
}

async fn product_import(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    let opts = ProductOpts::default();
    let ws = applied(tf, emulator, &mesh, &opts).await;
    let applied_state = product_state(&ws);

    let imported = Workspace::new(tf, emulator, &mesh.product_config(&opts));
    imported.import(SENSITIVITY_ADDRESS, &mesh.sensitivity);
    imported.import(DOMAIN_ADDRESS, &mesh.domain);
    imported.import(PRODUCT_ADDRESS, &mesh.product_id());
    let state = product_state(&imported);
    assert_eq!(state["id"], mesh.product_id(), "{state:#}");
    assert_eq!(
        state["contract_sha256"], applied_state["contract_sha256"],
        "{state:#}"
    );
    imported.assert_plan_empty();
}

/// Calls that are not provider configuration (STS identity look-ups happen once per
/// Terraform walk, whatever the resources).
fn resource_calls(calls: &[String]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| !c.starts_with("sts:"))
        .cloned()
        .collect()
}

async fn product_call_budgets(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    mesh.prepare(emulator).await;
    let proxy = Proxy::start(emulator);
    let ws = Workspace::with_proxy(tf, &proxy, &mesh.domain_config());
    ws.apply();

    // Baseline: what a no-change plan of the rest of the configuration costs.
    proxy.reset_counts();
    ws.assert_plan_empty();
    let baseline = resource_calls(&proxy.calls());
    let baseline_report = proxy.report();

    // Create: the apply that adds the product (its refresh and plan included).
    ws.write_main(&mesh.product_config(&ProductOpts::default()));
    proxy.reset_counts();
    ws.apply();
    let create = resource_calls(&proxy.calls());
    let create_report = proxy.report();
    let distinct_column_tag_sets = 1;
    // One PutMetricAlarm per alarm the SLA declares (the standard product: freshness only).
    let alarms = 1;
    let create_budget = 8 + distinct_column_tag_sets + alarms;
    let product_create = create.len().saturating_sub(baseline.len());
    let mut over_budget = Vec::new();
    if product_create > create_budget {
        over_budget.push(format!(
            "creating a product took {product_create} AWS calls (budget {create_budget}): {} \
             during the apply minus {} for the rest of the configuration's refresh\n\
             apply calls:\n{create_report}",
            create.len(),
            baseline.len()
        ));
    }

    // Refresh: a no-change plan.
    proxy.reset_counts();
    ws.assert_plan_empty();
    let refresh = resource_calls(&proxy.calls());
    let refresh_report = proxy.report();
    let product_refresh = refresh.len().saturating_sub(baseline.len());
    // GetTable, then concurrently: table and column LF-tags, the schema, the contract document
    // and the alarms (one DescribeAlarms for both names).
    if product_refresh > 6 {
        over_budget.push(format!(
            "a no-change plan took {product_refresh} AWS calls for the product (budget 6): {} \
             minus {} for the rest\nplan calls:\n{refresh_report}",
            refresh.len(),
            baseline.len()
        ));
    }
    // Positive control: the counts are the product's own calls, not an empty log.
    for (what, calls, op) in [
        ("create", &create, "glue:CreateTable"),
        ("create", &create, "s3:PutObject"),
        ("create", &create, "monitoring:PutMetricAlarm"),
        ("refresh", &refresh, "glue:GetTable"),
        ("refresh", &refresh, "s3:GetObject"),
        ("refresh", &refresh, "monitoring:DescribeAlarms"),
    ] {
        assert!(
            calls.iter().any(|c| c == op),
            "the proxy saw no {op} during the {what}, so the budget measured nothing:\n{}",
            calls.join("\n")
        );
    }
    assert!(
        over_budget.is_empty(),
        "{}\nbaseline (no-change plan without the product):\n{baseline_report}",
        over_budget.join("\n\n")
    );
    eprintln!(
        "[budget] product create: {product_create} calls (budget {create_budget}); \
         product refresh: {product_refresh} calls (budget 6)"
    );
}

/// `terraform validate` refuses `hcl`, naming `attribute` and pointing at one of `lines`.
fn assert_invalid(ws: &Workspace, hcl: &str, attribute: &str, lines: &[usize]) {
    ws.write_main(hcl);
    let out = ws.validate();
    assert!(!out.success(), "validate accepted bad input:\n{out}");
    let text = out.combined();
    assert!(
        text.contains(attribute),
        "the diagnostic should name `{attribute}`:\n{out}"
    );
    assert!(
        lines.iter().any(|l| text.contains(&format!("line {l}"))),
        "the diagnostic should point at main.tf line(s) {lines:?}:\n{out}"
    );
}

fn with_column(mesh: &Mesh, column: &str) -> String {
    mesh.product_config(&ProductOpts {
        extra_columns: vec![column.to_string()],
        ..ProductOpts::default()
    })
}

fn product_validate_refuses_bad_input(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    let good = mesh.product_config(&ProductOpts::default());
    let ws = Workspace::new(tf, emulator, &good);
    // Control: the standard product validates, so each failure below is about its bad input.
    let out = ws.validate();
    assert!(
        out.success(),
        "the standard product does not validate:\n{out}"
    );

    for bad_type in ["strnig", "decimal(12"] {
        let hcl = with_column(
            &mesh,
            &format!("  column {{\n    name = \"extra_col\"\n    type = \"{bad_type}\"\n  }}\n"),
        );
        let line = line_of(&hcl, &format!("\"{bad_type}\""));
        assert_invalid(&ws, &hcl, "type", &[line]);
    }

    // A duplicate column name: the diagnostic may point at either `name = "currency"`.
    let hcl = with_column(
        &mesh,
        "  column {\n    name = \"currency\"\n    type = \"string\"\n  }\n",
    );
    let lines: Vec<usize> = hcl
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("name = \"currency\""))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 2);
    assert_invalid(&ws, &hcl, "currency", &lines);

    // A reserved word as a column name.
    let hcl = with_column(
        &mesh,
        "  column {\n    name = \"select\"\n    type = \"string\"\n  }\n",
    );
    assert_invalid(&ws, &hcl, "name", &[line_of(&hcl, "\"select\"")]);

    // A misspelt DQDL rule type.
    let hcl = good.replace(
        "IsComplete \\\"order_id\\\"",
        "IsCompleted \\\"order_id\\\"",
    );
    assert_ne!(hcl, good, "the test failed to change the rule");
    assert_invalid(
        &ws,
        &hcl,
        "quality_rules",
        &[line_of(&hcl, "quality_rules")],
    );

    // An unknown compatibility mode.
    let hcl = good.replace("\"BACKWARD_ALL\"", "\"BACKWARDS\"");
    assert_ne!(hcl, good, "the test failed to change the mode");
    assert_invalid(
        &ws,
        &hcl,
        "compatibility",
        &[line_of(&hcl, "\"BACKWARDS\"")],
    );
}

/// The SLA is watched: the product owns a freshness alarm (silence alarms) and, with a minimum
/// score, a quality alarm; SLA changes update them in place; alarms deleted or reshaped outside
/// Terraform are drift that apply repairs; destroy leaves none.
async fn product_sla_alarms_follow_the_sla(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    let topic = "arn:aws:sns:eu-west-1:123456789012:mesh-sla";
    let watched = ProductOpts {
        sla_extra: format!("    min_quality_score = 0.9\n    alarm_actions     = [\"{topic}\"]\n"),
        ..ProductOpts::default()
    };
    let ws = applied(tf, emulator, &mesh, &watched).await;
    let freshness = format!("{}-{PRODUCT}-freshness", mesh.domain);
    let quality = format!("{}-{PRODUCT}-quality", mesh.domain);
    let names = vec![freshness.clone(), quality.clone()];
    let alarms = emulator.alarms(&names).await;
    assert_eq!(alarms.len(), 2, "{alarms:#?}");
    let f = &alarms[&freshness];
    assert_eq!(f.namespace(), Some("DataMesh"));
    assert_eq!(f.metric_name(), Some("freshness_minutes"));
    let mut dims: Vec<(String, String)> = f
        .dimensions()
        .iter()
        .map(|d| {
            (
                d.name().unwrap_or_default().into(),
                d.value().unwrap_or_default().into(),
            )
        })
        .collect();
    dims.sort();
    assert_eq!(
        dims,
        vec![
            ("Domain".to_string(), mesh.domain.clone()),
            ("Product".to_string(), PRODUCT.to_string())
        ]
    );
    assert_eq!(f.threshold(), Some(60.0));
    assert_eq!(
        f.comparison_operator().map(|c| c.as_str()),
        Some("GreaterThanThreshold")
    );
    assert_eq!(
        f.treat_missing_data(),
        Some("breaching"),
        "a dead pipeline alarms"
    );
    assert_eq!(f.alarm_actions(), [topic.to_string()]);
    let q = &alarms[&quality];
    assert_eq!(q.metric_name(), Some("quality_score"));
    assert_eq!(q.threshold(), Some(0.9));
    assert_eq!(
        q.comparison_operator().map(|c| c.as_str()),
        Some("LessThanThreshold")
    );
    let state = product_state(&ws);
    assert_eq!(state["alarm_names"], serde_json::json!(names), "{state:#}");
    let (_, doc) = contract(emulator, &mesh).await;
    let mut texts = Vec::new();
    strings(&doc, &mut texts);
    assert!(
        texts.contains(&freshness),
        "the contract names the alarms: {doc:#}"
    );

    // A looser SLA without a quality bound: updated in place, the quality alarm goes.
    let looser = ProductOpts {
        freshness_minutes: 120,
        sla_extra: format!("    alarm_actions = [\"{topic}\"]\n"),
        ..ProductOpts::default()
    };
    ws.write_main(&mesh.product_config(&looser));
    assert_eq!(ws.resource_change_actions(PRODUCT_ADDRESS), ["update"]);
    ws.apply();
    let alarms = emulator.alarms(&names).await;
    assert_eq!(alarms.keys().collect::<Vec<_>>(), [&freshness]);
    assert_eq!(alarms[&freshness].threshold(), Some(120.0));
    ws.assert_plan_empty();

    // Deleted outside Terraform: drift, put back.
    emulator
        .cloudwatch()
        .delete_alarms()
        .alarm_names(&freshness)
        .send()
        .await
        .expect("DeleteAlarms out of band");
    assert_eq!(ws.resource_change_actions(PRODUCT_ADDRESS), ["update"]);
    ws.apply();
    assert!(emulator.alarms(&names).await.contains_key(&freshness));
    ws.assert_plan_empty();

    // Reshaped outside Terraform (silence no longer alarms): drift, put back.
    emulator
        .cloudwatch()
        .put_metric_alarm()
        .alarm_name(&freshness)
        .namespace("DataMesh")
        .metric_name("freshness_minutes")
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("Domain")
                .value(&mesh.domain)
                .build(),
        )
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("Product")
                .value(PRODUCT)
                .build(),
        )
        .statistic(aws_sdk_cloudwatch::types::Statistic::Maximum)
        .period(300)
        .evaluation_periods(1)
        .threshold(120.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .treat_missing_data("notBreaching")
        .alarm_actions(topic)
        .send()
        .await
        .expect("PutMetricAlarm out of band");
    assert_eq!(ws.resource_change_actions(PRODUCT_ADDRESS), ["update"]);
    ws.apply();
    assert_eq!(
        emulator.alarms(&names).await[&freshness].treat_missing_data(),
        Some("breaching")
    );
    ws.assert_plan_empty();

    ws.destroy();
    assert!(
        emulator.alarms(&names).await.is_empty(),
        "destroy leaves no alarm"
    );
}
