//! `mesh_lf_tag`: create, update in place, drift, import, destroy, validation.

use mesh_acceptance::steps::Life;
use mesh_acceptance::{mesh_config, unique_name, Emulator, Workspace, ACCOUNT_ID};
use serde_json::Value;

use mesh_acceptance::{terraform_tests, Terraform};

terraform_tests!(
    lf_tag_create,
    lf_tag_update_in_place,
    lf_tag_disappears,
    lf_tag_import,
    lf_tag_import_missing_fails,
    lf_tag_destroy,
    sync lf_tag_validate_bad_value,
    lf_tag_many_values_in_batches,
);

const ADDRESS: &str = "mesh_lf_tag.t";

/// A configuration with one `mesh_lf_tag.t`.
fn tag_config(key: &str, values: &[&str]) -> String {
    let values: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    mesh_config(&format!(
        "resource \"mesh_lf_tag\" \"t\" {{\n  key    = {key:?}\n  values = [{}]\n}}\n",
        values.join(", ")
    ))
}

fn sorted(values: &[&str]) -> Vec<String> {
    let mut values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    values.sort();
    values
}

/// The `values` attribute of the resource in state, sorted.
fn state_values(resource: &Value) -> Vec<String> {
    let mut values: Vec<String> = resource["values"]
        .as_array()
        .unwrap_or_else(|| panic!("no values list in state: {resource:#}"))
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    values.sort();
    values
}

fn state_of(ws: &Workspace) -> Value {
    ws.state_resource(ADDRESS)
        .unwrap_or_else(|| panic!("{ADDRESS} missing from state:\n{:#}", ws.state_json()))
}

async fn lf_tag_create(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let key = unique_name("create");
    let ws = Workspace::new(tf, emulator, &tag_config(&key, &["sales", "finance"]));
    ws.apply();

    assert_eq!(
        emulator.lf_tag_values(&key).await,
        Some(sorted(&["sales", "finance"]))
    );
    let state = state_of(&ws);
    assert_eq!(state["id"], format!("{ACCOUNT_ID}:{key}"), "{state:#}");
    assert_eq!(state["key"], key.as_str(), "{state:#}");
    assert_eq!(state["catalog_id"], ACCOUNT_ID, "{state:#}");
    assert_eq!(state_values(&state), sorted(&["sales", "finance"]));
    ws.assert_plan_empty();
}

/// The whole life through the step runner: create, check, import verify, update in place,
/// check, destroy, check.
async fn lf_tag_update_in_place(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let key = unique_name("update");
    let mut life = Life::create(tf, emulator, ADDRESS, &tag_config(&key, &["a", "b", "c"]));
    assert_eq!(
        emulator.lf_tag_values(&key).await,
        Some(sorted(&["a", "b", "c"]))
    );
    let id_before = life.state()["id"].clone();
    life.import_verify(&key, &[]);

    // Remove "a", keep "b" and "c", add "d".
    life.update(&tag_config(&key, &["b", "c", "d"]), &["update"]);
    assert_eq!(
        emulator.lf_tag_values(&key).await,
        Some(sorted(&["b", "c", "d"]))
    );
    let state = life.state();
    assert_eq!(
        state["id"], id_before,
        "the id changed on an in-place update"
    );
    assert_eq!(state_values(&state), sorted(&["b", "c", "d"]));

    life.destroy();
    assert_eq!(emulator.lf_tag_values(&key).await, None);
}

async fn lf_tag_disappears(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let key = unique_name("gone");
    let ws = Workspace::new(tf, emulator, &tag_config(&key, &["x", "y"]));
    ws.apply();

    emulator
        .lakeformation()
        .delete_lf_tag()
        .tag_key(&key)
        .send()
        .await
        .expect("DeleteLFTag out of band");
    assert_eq!(emulator.lf_tag_values(&key).await, None);

    assert_eq!(ws.resource_change_actions(ADDRESS), ["create"]);
    ws.apply();
    assert_eq!(
        emulator.lf_tag_values(&key).await,
        Some(sorted(&["x", "y"]))
    );
    ws.assert_plan_empty();
}

async fn lf_tag_import(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let key = unique_name("import");
    emulator
        .lakeformation()
        .create_lf_tag()
        .tag_key(&key)
        .tag_values("p")
        .tag_values("q")
        .send()
        .await
        .expect("CreateLFTag out of band");
    let config = tag_config(&key, &["p", "q"]);

    // By KEY alone: the catalog is the caller's account.
    let by_key = Workspace::new(tf, emulator, &config);
    by_key.import(ADDRESS, &key);
    let state = state_of(&by_key);
    assert_eq!(state["id"], format!("{ACCOUNT_ID}:{key}"), "{state:#}");
    assert_eq!(state["catalog_id"], ACCOUNT_ID, "{state:#}");
    assert_eq!(state_values(&state), sorted(&["p", "q"]));
    by_key.assert_plan_empty();

    // By CATALOG:KEY, into another empty state.
    let by_id = Workspace::new(tf, emulator, &config);
    by_id.import(ADDRESS, &format!("{ACCOUNT_ID}:{key}"));
    let state = state_of(&by_id);
    assert_eq!(state["id"], format!("{ACCOUNT_ID}:{key}"), "{state:#}");
    assert_eq!(state_values(&state), sorted(&["p", "q"]));
    by_id.assert_plan_empty();
}

async fn lf_tag_import_missing_fails(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let key = unique_name("nosuch");
    let ws = Workspace::new(tf, emulator, &tag_config(&key, &["v"]));
    let out = ws
        .tf(&["import", "-input=false", ADDRESS, &key])
        .assert_failure();
    assert!(
        out.combined().contains("non-existent") || out.combined().contains(&key),
        "import of a missing tag should say what is missing:\n{out}"
    );
    assert_eq!(ws.state_resource(ADDRESS), None);
}

async fn lf_tag_destroy(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let key = unique_name("destroy");
    let ws = Workspace::new(tf, emulator, &tag_config(&key, &["v1", "v2"]));
    ws.apply();
    assert!(emulator.lf_tag_values(&key).await.is_some());

    ws.destroy();
    assert_eq!(emulator.lf_tag_values(&key).await, None);
    assert_eq!(ws.state_resource(ADDRESS), None);
}

/// `terraform validate` must refuse `hcl` with a diagnostic that mentions `needle` and points
/// at the line of `attribute` in main.tf.
fn assert_invalid(ws: &Workspace, hcl: &str, attribute: &str, needle: &str) {
    ws.write_main(hcl);
    let out = ws.validate().assert_failure();
    let text = out.combined();
    assert!(text.contains(needle), "expected {needle:?} in:\n{out}");
    let line = hcl
        .lines()
        .position(|l| l.trim_start().starts_with(attribute))
        .map(|i| i + 1)
        .expect("the attribute is in the config");
    assert!(
        text.contains(&format!("line {line}")),
        "expected the diagnostic to point at `{attribute}` (main.tf line {line}):\n{out}"
    );
}

fn lf_tag_validate_bad_value(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let ws = Workspace::new(tf, emulator, &tag_config("ok_key", &["ok-value"]));
    // Control: the same shape with good input validates, so the failures below are about input.
    ws.validate().assert_success();

    let bad_char = tag_config("ok_key", &["ok-value", "bad#value"]);
    assert_invalid(&ws, &bad_char, "values", "values");

    let long_key = "k".repeat(129);
    assert_invalid(&ws, &tag_config(&long_key, &["v"]), "key", "key");

    let many: Vec<String> = (0..1001).map(|i| format!("v{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_invalid(&ws, &tag_config("ok_key", &many), "values", "1000");
}

/// Lake Formation takes at most 50 values per call: a large tag is created and changed in
/// batches, and ends with exactly the configured values.
async fn lf_tag_many_values_in_batches(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let key = unique_name("batch");
    let first: Vec<String> = (0..120).map(|i| format!("v{i:03}")).collect();
    let refs: Vec<&str> = first.iter().map(String::as_str).collect();
    let ws = Workspace::new(tf, emulator, &tag_config(&key, &refs));
    ws.apply();
    assert_eq!(emulator.lf_tag_values(&key).await, Some(sorted(&refs)));
    ws.assert_plan_empty();

    // Drop 70, keep 50, add 60.
    let second: Vec<String> = (70..180).map(|i| format!("v{i:03}")).collect();
    let refs: Vec<&str> = second.iter().map(String::as_str).collect();
    ws.write_main(&tag_config(&key, &refs));
    assert_eq!(ws.resource_change_actions(ADDRESS), ["update"]);
    ws.apply();
    assert_eq!(emulator.lf_tag_values(&key).await, Some(sorted(&refs)));
    ws.assert_plan_empty();
}
