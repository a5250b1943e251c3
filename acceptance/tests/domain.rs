//! `mesh_domain`: bucket (created or existing) registered with Lake Formation, the Glue database
//! `<name>_products` tagged `domain=<name>`, Lake Formation-only access; drift, import, destroy
//! guards, validation.

use mesh_acceptance::fixtures::{
    line_of, Mesh, DOMAIN_ADDRESS, DOMAIN_DESCRIPTION, DOMAIN_TAG, OWNER_EMAIL, OWNER_TEAM,
    SENSITIVITY_ADDRESS,
};
use mesh_acceptance::{lf_tags, mesh_config, Emulator, Workspace, ACCOUNT_ID};
use serde_json::Value;

use mesh_acceptance::{terraform_tests, Terraform};

terraform_tests!(
    domain_create_import_destroy,
    domain_disappears,
    domain_lf_tag_drift_is_planned_and_restored,
    domain_destroy_refused_while_a_product_table_exists,
    domain_uses_an_existing_bucket_and_keeps_it,
    sync domain_validate_refuses_a_bad_name,
    domain_data_source_reads_what_the_domain_made,
);

fn domain_state(ws: &Workspace) -> Value {
    ws.state_resource(DOMAIN_ADDRESS).unwrap_or_else(|| {
        panic!(
            "{DOMAIN_ADDRESS} missing from state:\n{:#}",
            ws.state_json()
        )
    })
}

/// Everything `mesh_domain` promises about AWS state, checked through the SDK.
async fn assert_domain_in_aws(emulator: &Emulator, mesh: &Mesh) {
    // The bucket: versioned, encrypted by default, no public access.
    assert!(
        emulator.bucket_exists(&mesh.bucket).await,
        "bucket {} missing",
        mesh.bucket
    );
    assert_eq!(
        emulator.bucket_versioning(&mesh.bucket).await.as_deref(),
        Some("Enabled"),
        "bucket versioning"
    );
    assert!(
        !emulator.bucket_encryption(&mesh.bucket).await.is_empty(),
        "bucket {} has no default encryption",
        mesh.bucket
    );
    let block = emulator
        .public_access_block(&mesh.bucket)
        .await
        .unwrap_or_else(|| panic!("bucket {} has no public access block", mesh.bucket));
    assert_eq!(
        (
            block.block_public_acls(),
            block.ignore_public_acls(),
            block.block_public_policy(),
            block.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true)),
        "public access block: {block:?}"
    );

    // Registered with Lake Formation.
    let registered = emulator.registered_resource(&mesh.bucket_arn()).await;
    assert!(
        registered.is_some(),
        "{} is not registered with Lake Formation",
        mesh.bucket_arn()
    );

    // The database: Lake Formation-only (no IAM_ALLOWED_PRINCIPALS default grant), owner and
    // description recorded.
    let db = emulator
        .get_database(&mesh.database())
        .await
        .unwrap_or_else(|| panic!("Glue database {} missing", mesh.database()));
    assert_eq!(
        db.create_table_default_permissions,
        Some(Vec::new()),
        "CreateTableDefaultPermissions must be set to an empty list (else new tables get \
         IAM_ALLOWED_PRINCIPALS): {db:#?}"
    );
    let params = db.parameters().cloned().unwrap_or_default();
    for expected in [OWNER_TEAM, OWNER_EMAIL] {
        assert!(
            params.values().any(|v| v == expected),
            "database parameters should record {expected:?}: {params:#?}"
        );
    }
    assert!(
        db.description() == Some(DOMAIN_DESCRIPTION)
            || params.values().any(|v| v == DOMAIN_DESCRIPTION),
        "database should carry the description: {db:#?}"
    );

    // LF-tags: domain=<name> always, plus the configured ones.
    assert_eq!(
        emulator.database_lf_tags(&mesh.database()).await,
        lf_tags(&[
            (DOMAIN_TAG, mesh.domain.as_str()),
            (mesh.sensitivity.as_str(), "internal")
        ]),
        "LF-tags on database {}",
        mesh.database()
    );
}

/// The domain's database deleted outside Terraform: the domain is gone from the plan's view, so
/// it is planned for creation and apply rebuilds it around the bucket that is still there.
async fn domain_disappears(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    mesh.prepare(emulator).await;
    let ws = Workspace::new(tf, emulator, &mesh.domain_config());
    ws.apply();
    emulator
        .glue()
        .delete_database()
        .name(mesh.database())
        .send()
        .await
        .expect("DeleteDatabase out of band");
    assert_eq!(ws.resource_change_actions(DOMAIN_ADDRESS), ["create"]);
    ws.apply();
    assert_domain_in_aws(emulator, &mesh).await;
    ws.assert_plan_empty();
    ws.destroy();
}

async fn domain_create_import_destroy(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    mesh.prepare(emulator).await;
    let config = mesh.domain_config();
    let ws = Workspace::new(tf, emulator, &config);
    ws.apply();

    assert_domain_in_aws(emulator, &mesh).await;
    let state = domain_state(&ws);
    assert_eq!(state["id"], mesh.domain.as_str(), "{state:#}");
    assert_eq!(state["database_name"], mesh.database(), "{state:#}");
    assert_eq!(state["location"], mesh.domain_location(), "{state:#}");
    assert_eq!(state["bucket_arn"], mesh.bucket_arn(), "{state:#}");
    assert_eq!(state["catalog_id"], ACCOUNT_ID, "{state:#}");
    ws.assert_plan_empty();

    // Import by name into an empty state.
    let imported = Workspace::new(tf, emulator, &config);
    imported.import(SENSITIVITY_ADDRESS, &mesh.sensitivity);
    imported.import(DOMAIN_ADDRESS, &mesh.domain);
    let state = domain_state(&imported);
    assert_eq!(state["id"], mesh.domain.as_str(), "{state:#}");
    assert_eq!(state["database_name"], mesh.database(), "{state:#}");
    imported.assert_plan_empty();

    // Destroy: database gone, bucket deregistered and (created here, empty) deleted.
    ws.destroy();
    assert!(
        emulator.get_database(&mesh.database()).await.is_none(),
        "database {} survived destroy",
        mesh.database()
    );
    assert!(
        emulator
            .registered_resource(&mesh.bucket_arn())
            .await
            .is_none(),
        "{} still registered after destroy",
        mesh.bucket_arn()
    );
    assert!(
        !emulator.bucket_exists(&mesh.bucket).await,
        "bucket {} (created by the domain, empty) survived destroy",
        mesh.bucket
    );
    assert_eq!(ws.state_resource(DOMAIN_ADDRESS), None);
}

async fn domain_lf_tag_drift_is_planned_and_restored(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    mesh.prepare(emulator).await;
    let ws = Workspace::new(tf, emulator, &mesh.domain_config());
    ws.apply();

    emulator
        .remove_database_lf_tag(&mesh.database(), &mesh.sensitivity)
        .await;
    assert_eq!(
        emulator.database_lf_tags(&mesh.database()).await,
        lf_tags(&[(DOMAIN_TAG, mesh.domain.as_str())]),
        "the out-of-band removal did not take"
    );

    assert_eq!(ws.resource_change_actions(DOMAIN_ADDRESS), ["update"]);
    ws.apply();
    assert_eq!(
        emulator.database_lf_tags(&mesh.database()).await,
        lf_tags(&[
            (DOMAIN_TAG, mesh.domain.as_str()),
            (mesh.sensitivity.as_str(), "internal")
        ]),
        "apply should restore the removed LF-tag"
    );
    ws.assert_plan_empty();
    ws.destroy();
}

async fn domain_destroy_refused_while_a_product_table_exists(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    mesh.prepare(emulator).await;
    let ws = Workspace::new(tf, emulator, &mesh.domain_config());
    ws.apply();

    emulator
        .create_table(&mesh.database(), "leftover_table")
        .await;
    let out = ws
        .tf(&["destroy", "-auto-approve", "-input=false"])
        .assert_failure();
    assert!(
        out.combined().contains("leftover_table"),
        "the error should name the table that blocks the destroy:\n{out}"
    );
    assert!(
        emulator.get_database(&mesh.database()).await.is_some(),
        "the database was deleted despite holding a table"
    );
    assert!(
        ws.state_resource(DOMAIN_ADDRESS).is_some(),
        "the domain left the state although its destroy failed"
    );

    emulator
        .delete_table(&mesh.database(), "leftover_table")
        .await;
    ws.destroy();
    assert!(emulator.get_database(&mesh.database()).await.is_none());
}

async fn domain_uses_an_existing_bucket_and_keeps_it(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    mesh.prepare(emulator).await;
    emulator.create_bucket(&mesh.bucket).await;
    emulator
        .put_object(&mesh.bucket, "raw/existing.csv", b"a,b\n1,2\n")
        .await;
    let config = mesh_config(&format!(
        "{}\n{}",
        mesh.sensitivity_hcl(),
        mesh.domain_hcl(false)
    ));
    let ws = Workspace::new(tf, emulator, &config);
    ws.apply();

    assert!(
        emulator
            .registered_resource(&mesh.bucket_arn())
            .await
            .is_some(),
        "the existing bucket is not registered with Lake Formation"
    );
    assert!(emulator.get_database(&mesh.database()).await.is_some());
    let state = domain_state(&ws);
    assert_eq!(state["location"], mesh.domain_location(), "{state:#}");
    ws.assert_plan_empty();

    ws.destroy();
    assert!(
        emulator.bucket_exists(&mesh.bucket).await,
        "destroy deleted a bucket the domain did not create"
    );
    assert_eq!(
        emulator.get_object(&mesh.bucket, "raw/existing.csv").await,
        Some(b"a,b\n1,2\n".to_vec()),
        "destroy touched data in a bucket the domain did not create"
    );
    // Whether the registration of a bucket the domain did not create is undone is the
    // provider's call (it treats it as someone else's); the database is the domain's.
    assert!(emulator.get_database(&mesh.database()).await.is_none());
}

fn domain_validate_refuses_a_bad_name(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    let good = mesh.domain_config();
    let ws = Workspace::new(tf, emulator, &good);
    // Control: the same configuration with a good name validates.
    ws.validate().assert_success();

    let bad = good.replace(
        &format!("name        = \"{}\"", mesh.domain),
        "name        = \"Commerce-1\"",
    );
    assert_ne!(bad, good, "the test failed to change the name");
    ws.write_main(&bad);
    let out = ws.validate().assert_failure();
    let text = out.combined();
    assert!(
        text.contains("name"),
        "the diagnostic should name `name`:\n{out}"
    );
    let line = line_of(&bad, "\"Commerce-1\"");
    assert!(
        text.contains(&format!("line {line}")),
        "the diagnostic should point at `name` (main.tf line {line}):\n{out}"
    );
}

/// `data "mesh_domain"` in another configuration reads what `mesh_domain` made; a missing
/// domain and a bad name are errors at `name`.
async fn domain_data_source_reads_what_the_domain_made(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let mesh = Mesh::new();
    mesh.prepare(emulator).await;
    let owner = Workspace::new(tf, emulator, &mesh.domain_config());
    owner.apply();

    let reader_config = |name: &str| {
        mesh_config(&format!(
            r#"data "mesh_domain" "d" {{
  name = "{name}"
}}

output "domain" {{
  value = data.mesh_domain.d
}}
"#
        ))
    };
    let reader = Workspace::new(tf, emulator, &reader_config(&mesh.domain));
    reader.apply();
    let domain = &reader.outputs()["domain"]["value"];
    assert_eq!(domain["id"], mesh.domain.as_str(), "{domain:#}");
    assert_eq!(domain["database_name"], mesh.database(), "{domain:#}");
    assert_eq!(domain["location"], mesh.domain_location(), "{domain:#}");
    assert_eq!(domain["bucket_arn"], mesh.bucket_arn(), "{domain:#}");
    assert_eq!(domain["bucket_name"], mesh.bucket.as_str(), "{domain:#}");
    assert_eq!(domain["catalog_id"], ACCOUNT_ID, "{domain:#}");
    assert_eq!(domain["owner_team"], OWNER_TEAM, "{domain:#}");
    assert_eq!(domain["owner_email"], OWNER_EMAIL, "{domain:#}");
    assert_eq!(domain["lake_formation_only"], true, "{domain:#}");
    // The state agrees with what mesh_domain holds for the same attributes.
    let managed = domain_state(&owner);
    for attr in [
        "database_name",
        "location",
        "bucket_arn",
        "catalog_id",
        "lf_tags",
    ] {
        let theirs = if managed[attr].is_null() {
            serde_json::json!({})
        } else {
            managed[attr].clone()
        };
        assert_eq!(domain[attr], theirs, "{attr}: {domain:#} vs {managed:#}");
    }
    reader.assert_plan_empty();

    // A domain that does not exist: an error at the argument that names it.
    reader.write_main(&reader_config("nowhere_to_be_found"));
    let out = reader.tf(&["plan", "-input=false"]);
    assert!(!out.success(), "a missing domain must fail:\n{out}");
    let text = out.combined();
    assert!(text.contains("Domain not found"), "{text}");
    assert!(text.contains("nowhere_to_be_found"), "{text}");

    // A bad name fails validate, pointing at the attribute.
    let bad = reader_config("Not A Domain");
    reader.write_main(&bad);
    let out = reader.validate().assert_failure();
    let text = out.combined();
    assert!(text.contains("Invalid domain name"), "{out}");
    let line = line_of(&bad, "\"Not A Domain\"");
    assert!(
        text.contains(&format!("line {line}")),
        "the diagnostic should point at `name` (main.tf line {line}):\n{out}"
    );
    owner.destroy();
}
