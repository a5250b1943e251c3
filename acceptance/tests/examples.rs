//! The shipped examples apply against the emulator, converge, and destroy cleanly.

use mesh_acceptance::{repo_root, s3_client, terraform_tests, Emulator, Terraform, Workspace};

terraform_tests!(example_quickstart, sync every_provider_and_resource_example_validates);

async fn example_quickstart(tf: &'static Terraform) {
    // A fresh emulator: the example's names are fixed, and the test runs once per Terraform
    // version, concurrently.
    let emulator = Emulator::start().unwrap_or_else(|e| panic!("cannot start an emulator: {e}"));
    let emulator = &emulator;
    let ws = Workspace::from_dir(
        tf,
        emulator,
        &repo_root().join("examples").join("quickstart"),
    );
    let endpoint = format!("-var=endpoint={}", emulator.endpoint());

    ws.tf_ok(&["apply", "-auto-approve", "-input=false", &endpoint]);
    let outputs = ws.outputs();
    let ontology = &outputs["ontology"]["value"];
    assert!(
        ontology.as_object().is_some_and(|o| !o.is_empty()),
        "quickstart output `ontology` is empty: {outputs:#}"
    );
    // Every key the example declares exists in the emulator with the values it outputs.
    for (key, values) in ontology.as_object().into_iter().flatten() {
        let mut expected: Vec<String> = values
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
        expected.sort();
        assert_eq!(
            emulator.lf_tag_values(key).await,
            Some(expected),
            "tag {key}"
        );
    }

    let plan = ws.tf(&["plan", "-input=false", "-detailed-exitcode", &endpoint]);
    assert_eq!(plan.code, 0, "expected an empty plan:\n{plan}");

    // Destroy leaves nothing behind: the emulator is this test's own, so whatever is left was
    // the example's. The schema registry stays, empty: products share it, possibly across
    // configurations, and it holds nothing of this one.
    for schema in ["commerce.orders", "commerce.order_items"] {
        assert!(
            emulator
                .get_schema("commerce-contracts", schema)
                .await
                .is_some(),
            "schema {schema} missing after apply"
        );
    }
    ws.tf_ok(&["destroy", "-auto-approve", "-input=false", &endpoint]);
    let lf = emulator.lakeformation();
    let tags = lf.list_lf_tags().send().await.expect("ListLFTags");
    assert!(tags.lf_tags().is_empty(), "LF-tags left: {tags:?}");
    let registered = lf.list_resources().send().await.expect("ListResources");
    assert!(
        registered.resource_info_list().is_empty(),
        "Lake Formation registrations left: {registered:?}"
    );
    let permissions = lf.list_permissions().send().await.expect("ListPermissions");
    assert!(
        permissions.principal_resource_permissions().is_empty(),
        "grants left: {permissions:?}"
    );
    let glue = emulator.glue();
    let databases = glue.get_databases().send().await.expect("GetDatabases");
    assert!(
        databases.database_list().is_empty(),
        "databases left: {databases:?}"
    );
    let buckets = s3_client(&emulator.sdk_config())
        .list_buckets()
        .send()
        .await
        .expect("ListBuckets");
    assert!(buckets.buckets().is_empty(), "buckets left: {buckets:?}");
    // moto has no ListSchemas: the example's two contracts, by name.
    for schema in ["commerce.orders", "commerce.order_items"] {
        assert!(
            emulator
                .get_schema("commerce-contracts", schema)
                .await
                .is_none(),
            "schema {schema} left"
        );
    }
}

/// The examples that become the registry docs (`examples/provider`, `examples/resources/<type>`,
/// `examples/data-sources/<type>`) are valid configuration: each validates on its own (with the provider's source declared).
fn every_provider_and_resource_example_validates(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let examples = repo_root().join("examples");
    let mut dirs = vec![examples.join("provider")];
    for kind in ["resources", "data-sources"] {
        let entries = std::fs::read_dir(examples.join(kind)).expect("examples/<kind>");
        for entry in entries {
            dirs.push(entry.expect("an entry").path());
        }
    }
    dirs.sort();
    assert!(dirs.len() >= 10, "{dirs:?}");
    for dir in dirs {
        let ws = Workspace::from_dir(tf, emulator, &dir);
        // Examples may use an alias (`provider = mesh.commerce`) declared elsewhere in a real
        // configuration: declare each one they use.
        let file = if dir.ends_with("provider") {
            "provider.tf"
        } else if dir.parent().is_some_and(|p| p.ends_with("data-sources")) {
            "data-source.tf"
        } else {
            "resource.tf"
        };
        let text = std::fs::read_to_string(dir.join(file)).expect("read the example");
        let mut aliases: Vec<&str> = text
            .split("provider = mesh.")
            .skip(1)
            .filter_map(|rest| {
                rest.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .next()
            })
            .collect();
        aliases.sort();
        aliases.dedup();
        let compact = text.replace([' ', '\t'], "");
        aliases.retain(|a| !compact.contains(&format!("alias=\"{a}\"")));
        let declared: String = aliases
            .iter()
            .map(|a| format!("provider \"mesh\" {{\n  alias = \"{a}\"\n}}\n"))
            .collect();
        ws.write_file(
            "versions.tf",
            &format!("terraform {{\n  required_providers {{\n    mesh = {{ source = \"meshcraft/mesh\" }}\n  }}\n}}\n{declared}"),
        );
        let out = ws.validate();
        assert!(out.success(), "{} does not validate:\n{out}", dir.display());
    }
}
