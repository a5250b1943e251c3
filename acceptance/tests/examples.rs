//! The shipped examples apply against the emulator and converge.

use mesh_acceptance::{repo_root, Emulator, Workspace};

use mesh_acceptance::{terraform_tests, Terraform};

terraform_tests!(example_quickstart,);

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
}
