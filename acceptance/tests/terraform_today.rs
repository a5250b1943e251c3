//! What a user of a current Terraform does with the provider: diagnostics that point into the
//! configuration (`validate -json` ranges), a schema whose every attribute is described
//! (`providers schema -json`), and the configuration-driven workflows of Terraform 1.5 and
//! later: `import` blocks, `-generate-config-out`, `moved` and `removed` blocks.
//!
//! Import blocks and generated configuration of every resource type, across three accounts, are
//! in full_mesh.rs (`full_mesh_applies_exactly`).

use mesh_acceptance::fixtures::{line_of, Mesh, ProductOpts};
use mesh_acceptance::{
    mesh_config, terraform_tests, unique_name, Emulator, Terraform, Workspace, ACCOUNT_ID,
};
use serde_json::Value;

terraform_tests!(
    sync validate_json_diagnostics_carry_attribute_ranges,
    sync providers_schema_json_describes_every_attribute,
    newest import_blocks_plan_only_imports,
    newest generated_config_plans_no_change,
    newest moved_block_renames_without_changes,
    newest removed_block_forgets_without_destroying,
);

fn lf_tag(name: &str, key: &str) -> String {
    format!("resource \"mesh_lf_tag\" \"{name}\" {{\n  key    = \"{key}\"\n  values = [\"a\", \"b\"]\n}}\n")
}

fn validate_json_diagnostics_carry_attribute_ranges(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let hcl = mesh_config(
        "resource \"mesh_lf_tag\" \"t\" {\n  key    = \"ok_key\"\n  values = [\"a\", \"\"]\n}\n",
    );
    let ws = Workspace::new(tf, emulator, &hcl);
    let out = ws.tf(&["validate", "-json"]);
    assert!(!out.success(), "validate passed:\n{out}");
    let json: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("validate -json is not JSON ({e}):\n{out}"));
    assert_eq!(json["valid"], false, "{json:#}");
    let diags = json["diagnostics"].as_array().cloned().unwrap_or_default();
    let ours: Vec<&Value> = diags.iter().filter(|d| d["severity"] == "error").collect();
    assert!(!ours.is_empty(), "no error diagnostics:\n{json:#}");
    let line = line_of(&hcl, "values = ") as u64;
    for d in ours {
        let range = &d["range"];
        assert_eq!(range["filename"], "main.tf", "no range on {d:#}");
        assert_eq!(range["start"]["line"], line, "wrong line in {d:#}");
        assert!(range["start"]["column"].as_u64().unwrap_or(0) > 1, "{d:#}");
    }
}

fn providers_schema_json_describes_every_attribute(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let ws = Workspace::new(tf, emulator, &mesh_config(""));
    let out = ws.tf_ok(&["providers", "schema", "-json"]);
    let json: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("providers schema -json is not JSON ({e}):\n{out}"));
    let schemas = json["provider_schemas"]
        .as_object()
        .and_then(|all| all.iter().find(|(k, _)| k.ends_with("meshcraft/mesh")))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no meshcraft/mesh schema:\n{json:#}"));

    fn walk(path: &str, block: &Value, missing: &mut Vec<String>, seen: &mut usize) {
        for (name, attr) in block["attributes"].as_object().into_iter().flatten() {
            *seen += 1;
            let described = attr["description"].as_str().is_some_and(|d| !d.is_empty());
            if !described || attr["description_kind"] != "markdown" {
                missing.push(format!("{path}.{name}"));
            }
        }
        for (name, nested) in block["block_types"].as_object().into_iter().flatten() {
            let described = nested["block"]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty());
            if !described {
                missing.push(format!("{path}.{name}"));
            }
            walk(&format!("{path}.{name}"), &nested["block"], missing, seen);
        }
    }
    let mut missing = Vec::new();
    let mut seen = 0;
    walk(
        "provider",
        &schemas["provider"]["block"],
        &mut missing,
        &mut seen,
    );
    let resources = schemas["resource_schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(resources.len() >= 8, "{resources:#?}");
    for (name, schema) in &resources {
        if schema["block"]["description"]
            .as_str()
            .is_none_or(str::is_empty)
        {
            missing.push(name.clone());
        }
        walk(name, &schema["block"], &mut missing, &mut seen);
    }
    assert!(seen > 50, "only {seen} attributes in:\n{json:#}");
    assert!(missing.is_empty(), "undescribed: {missing:#?}");
}

/// `import` blocks for the fixture's tag, domain and product.
fn import_blocks(mesh: &Mesh) -> String {
    let block = |to: &str, id: &str| format!("import {{\n  to = {to}\n  id = \"{id}\"\n}}\n\n");
    [
        block(
            "mesh_lf_tag.sensitivity",
            &format!("{ACCOUNT_ID}:{}", mesh.sensitivity),
        ),
        block("mesh_domain.commerce", &mesh.domain),
        block("mesh_data_product.orders", &mesh.product_id()),
    ]
    .concat()
}

/// A product, its domain and a tag applied in one workspace; imported with `import` blocks in
/// another: the plan only imports, then apply converges to an empty plan.
async fn import_blocks_plan_only_imports(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    mesh.prepare(emulator).await;
    let opts = ProductOpts::default();
    let ws = Workspace::new(tf, emulator, &mesh.product_config(&opts));
    ws.apply();

    let imported = Workspace::new(tf, emulator, &mesh.product_config(&opts));
    imported.write_file("imports.tf", &import_blocks(&mesh));
    let plan = imported.tf_ok(&["plan", "-input=false"]);
    assert_eq!(
        plan.plan_summary(),
        "Plan: 3 to import, 0 to add, 0 to change, 0 to destroy.",
        "{plan}"
    );
    imported.apply();
    // Import blocks may stay in the configuration: they are no-ops once imported.
    imported.assert_plan_empty();
    ws.destroy();
}

/// Import blocks alone, the resource configuration generated by Terraform from what the provider
/// imported: the generated configuration plans only the imports, and nothing after apply.
async fn generated_config_plans_no_change(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    mesh.prepare(emulator).await;
    let ws = Workspace::new(tf, emulator, &mesh.product_config(&ProductOpts::default()));
    ws.apply();

    let generated = Workspace::new(tf, emulator, &mesh_config(&import_blocks(&mesh)));
    let plan = generated.tf_ok(&["plan", "-input=false", "-generate-config-out=generated.tf"]);
    let text = std::fs::read_to_string(generated.dir().join("generated.tf"))
        .unwrap_or_else(|e| panic!("no generated.tf ({e}):\n{plan}"));
    for resource in [
        "resource \"mesh_lf_tag\" \"sensitivity\"",
        "resource \"mesh_domain\" \"commerce\"",
        "resource \"mesh_data_product\" \"orders\"",
    ] {
        assert!(text.contains(resource), "{resource} not generated:\n{text}");
    }
    let plan = generated.tf_ok(&["plan", "-input=false"]);
    assert_eq!(
        plan.plan_summary(),
        "Plan: 3 to import, 0 to add, 0 to change, 0 to destroy.",
        "generated configuration:\n{text}\n{plan}"
    );
    generated.apply();
    generated.assert_plan_empty();
    ws.destroy();
}

async fn moved_block_renames_without_changes(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let key = unique_name("moved");
    let ws = Workspace::new(tf, emulator, &mesh_config(&lf_tag("old", &key)));
    ws.apply();

    let renamed = format!(
        "{}\nmoved {{\n  from = mesh_lf_tag.old\n  to   = mesh_lf_tag.new\n}}\n",
        lf_tag("new", &key)
    );
    ws.write_main(&mesh_config(&renamed));
    let plan = ws.tf_ok(&["plan", "-input=false"]);
    assert!(
        plan.stdout
            .contains("mesh_lf_tag.old has moved to mesh_lf_tag.new"),
        "{plan}"
    );
    assert_eq!(
        plan.plan_summary(),
        "Plan: 0 to add, 0 to change, 0 to destroy.",
        "{plan}"
    );
    ws.apply();
    ws.assert_plan_empty();
    assert!(ws.state_resource("mesh_lf_tag.new").is_some());
    assert_eq!(
        emulator.lf_tag_values(&key).await,
        Some(vec!["a".to_string(), "b".to_string()])
    );
    ws.destroy();
}

async fn removed_block_forgets_without_destroying(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let key = unique_name("removed");
    let ws = Workspace::new(tf, emulator, &mesh_config(&lf_tag("t", &key)));
    ws.apply();

    ws.write_main(&mesh_config(
        "removed {\n  from = mesh_lf_tag.t\n\n  lifecycle {\n    destroy = false\n  }\n}\n",
    ));
    let plan = ws.tf_ok(&["plan", "-input=false"]);
    assert!(
        plan.stdout
            .contains("will no longer be managed by Terraform"),
        "{plan}"
    );
    ws.apply();
    assert!(ws.state_resource("mesh_lf_tag.t").is_none());
    ws.assert_plan_empty();
    // Forgotten, not destroyed: the tag is still there.
    assert_eq!(
        emulator.lf_tag_values(&key).await,
        Some(vec!["a".to_string(), "b".to_string()])
    );
}
