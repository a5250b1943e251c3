//! `mesh-modules release` through the built binary, against a directory store.

mod cli_support;

use cli_support::{write_v1, Workspace, VARIABLES_V1};

const DATE: &str = "2026-11-24";

#[test]
fn release_flow_first_release_then_major() {
    let ws = Workspace::new();
    write_v1(&ws, "data-product");

    // Nothing published yet: first release.
    let run = ws.run(&["release", "--from", "store", "--date", DATE]).ok();
    assert!(
        run.stdout
            .contains("data-product: unreleased -> 1.0.0 (first release)"),
        "{}",
        run.stdout
    );
    assert_eq!(
        ws.read("data-product", "CHANGELOG.md"),
        "# Changelog\n\n## 1.0.0 (2026-11-24)\n\nFirst release.\n\n- first release\n"
    );
    ws.run(&["publish", "--to", "store"]).ok();
    assert!(ws.path().join("store/data-product/1.0.0.zip").is_file());

    // Published and unchanged: nothing to release, nothing written.
    let run = ws.run(&["release", "--from", "store", "--date", DATE]).ok();
    assert!(
        run.stdout
            .contains("data-product: 1.0.0, unchanged: no release needed"),
        "{}",
        run.stdout
    );

    // A new required variable is a breaking change.
    ws.write(
        "data-product",
        &[(
            "variables.tf",
            &format!("{VARIABLES_V1}\nvariable \"owner\" {{\n  type = string\n}}\n"),
        )],
    );
    let run = ws
        .run(&["release", "--from", "store", "--date", "2026-11-25"])
        .ok();
    assert!(
        run.stdout.contains("data-product: 1.0.0 -> 2.0.0 (major)"),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("  - variable \"owner\" added without a default (required)"));
    assert_eq!(
        ws.read("data-product", "CHANGELOG.md"),
        "# Changelog\n\n\
         ## 2.0.0 (2026-11-25)\n\nMajor release.\n\n\
         - variable \"owner\" added without a default (required)\n\
         - files changed: variables.tf\n\n\
         ## 1.0.0 (2026-11-24)\n\nFirst release.\n\n- first release\n"
    );

    let run = ws.run(&["publish", "--to", "store"]).ok();
    assert!(
        run.stdout.contains("published data-product 2.0.0"),
        "{}",
        run.stdout
    );
    let zip = ws.path().join("store/data-product/2.0.0.zip");
    assert!(run.stdout.contains(&format!("  source: {}", zip.display())));
    let index = std::fs::read_to_string(ws.path().join("store/index.json")).unwrap();
    assert!(
        index.contains("\"1.0.0\"") && index.contains("\"2.0.0\""),
        "{index}"
    );

    // The published zip carries the CHANGELOG of its own version.
    let files = mesh_modules::publish::unzip_files(&std::fs::read(zip).unwrap()).unwrap();
    assert!(String::from_utf8_lossy(&files["CHANGELOG.md"]).contains("## 2.0.0 (2026-11-25)"));
}

#[test]
fn minor_and_patch_releases() {
    let ws = Workspace::new();
    write_v1(&ws, "domain");
    ws.run(&["release", "--from", "store", "--date", DATE]).ok();
    ws.run(&["publish", "--to", "store"]).ok();

    ws.write("domain", &[("README.md", "# Domain, better explained\n")]);
    let run = ws.run(&["release", "--from", "store", "--date", DATE]).ok();
    assert!(
        run.stdout.contains("domain: 1.0.0 -> 1.0.1 (patch)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("  - files changed: README.md"));
    ws.run(&["publish", "--to", "store"]).ok();

    ws.write(
        "domain",
        &[("extra.tf", "output \"tags\" {\n  value = var.tags\n}\n")],
    );
    let run = ws.run(&["release", "--from", "store", "--date", DATE]).ok();
    assert!(
        run.stdout.contains("domain: 1.0.1 -> 1.1.0 (minor)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("  - output \"tags\" added"));
}

#[test]
fn dry_run_writes_nothing() {
    let ws = Workspace::new();
    write_v1(&ws, "governance");
    let run = ws.run(&["release", "--from", "store", "--dry-run"]).ok();
    assert!(run.stdout.contains("governance: unreleased -> 1.0.0"));
    assert!(run.stdout.contains("dry run: no CHANGELOG.md written"));
    assert!(!ws.module_dir("governance").join("CHANGELOG.md").exists());
}

#[test]
fn an_unpublished_release_is_recomputed_not_refused() {
    let ws = Workspace::new();
    write_v1(&ws, "a");
    write_v1(&ws, "b");
    ws.run(&["release", "--from", "store", "--date", DATE]).ok();
    ws.run(&["publish", "--to", "store", "--module", "a"]).ok();

    // b's 1.0.0 is in its CHANGELOG but not in the store: recomputed, still a first release.
    ws.write("a", &[("README.md", "# changed\n")]);
    let b_before = ws.read("b", "CHANGELOG.md");
    let run = ws.run(&["release", "--from", "store", "--date", DATE]).ok();
    assert!(
        run.stdout.contains(
            "b: unreleased -> 1.0.0 (first release), replacing the unpublished 1.0.0 entry"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("a: 1.0.0 -> 1.0.1 (patch)"),
        "{}",
        run.stdout
    );
    assert_eq!(ws.read("b", "CHANGELOG.md"), b_before);
}

#[test]
fn release_is_idempotent_until_publish() {
    let ws = Workspace::new();
    write_v1(&ws, "a");
    ws.run(&["release", "--from", "store", "--date", DATE]).ok();
    ws.run(&["publish", "--to", "store"]).ok();
    let published = ws.read("a", "CHANGELOG.md");

    ws.write("a", &[("README.md", "# changed\n")]);
    let run = ws
        .run(&["release", "--from", "store", "--date", "2026-11-25"])
        .ok();
    assert!(
        run.stdout.contains("a: 1.0.0 -> 1.0.1 (patch)"),
        "{}",
        run.stdout
    );

    // More changes before publishing: the 1.0.1 entry is replaced, measured from 1.0.0.
    ws.write(
        "a",
        &[("extra.tf", "output \"tags\" {\n  value = var.tags\n}\n")],
    );
    let run = ws
        .run(&["release", "--from", "store", "--date", "2026-11-26"])
        .ok();
    assert!(
        run.stdout.contains(
            "a: 1.0.0 -> 1.1.0 (minor), replacing the unpublished 1.0.1 entry in CHANGELOG.md"
        ),
        "{}",
        run.stdout
    );
    let expected = format!(
        "# Changelog\n\n## 1.1.0 (2026-11-26)\n\nMinor release.\n\n\
         - output \"tags\" added\n- files changed: README.md, extra.tf\n\n{}",
        published.strip_prefix("# Changelog\n\n").unwrap()
    );
    assert_eq!(ws.read("a", "CHANGELOG.md"), expected);

    // Again with nothing new: the same CHANGELOG.
    ws.run(&["release", "--from", "store", "--date", "2026-11-26"])
        .ok();
    assert_eq!(ws.read("a", "CHANGELOG.md"), expected);

    // Back to the published files: nothing to release, the unpublished entry goes.
    ws.write("a", &[("README.md", "# Data product\n")]);
    std::fs::remove_file(ws.module_dir("a").join("extra.tf")).unwrap();
    let run = ws.run(&["release", "--from", "store"]).ok();
    assert!(
        run.stdout.contains(
            "a: 1.0.0, unchanged: no release needed (removing the unpublished 1.1.0 entry"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(ws.read("a", "CHANGELOG.md"), published);
}

#[test]
fn refuses_an_unpublished_release_measured_from_another_store() {
    let ws = Workspace::new();
    write_v1(&ws, "a");
    ws.run(&["release", "--from", "store", "--date", DATE]).ok();
    ws.run(&["publish", "--to", "store"]).ok();
    ws.write("a", &[("README.md", "# changed\n")]);
    ws.run(&["release", "--from", "store", "--date", DATE]).ok();
    let before = ws.read("a", "CHANGELOG.md");

    // 1.0.1 is unpublished and sits on 1.0.0, which the other store does not have.
    let err = ws
        .run(&["release", "--from", "other", "--date", DATE])
        .fails();
    assert!(
        err.contains(
            "module a: 1.0.1 in CHANGELOG.md is not published and the entry below it is 1.0.0"
        ) && err.contains("is none; point --from at the store the module is published to"),
        "{err}"
    );
    assert_eq!(ws.read("a", "CHANGELOG.md"), before);
}

#[test]
fn a_tampered_index_is_refused_not_followed() {
    let ws = Workspace::new();
    write_v1(&ws, "a");
    ws.run(&["release", "--from", "store", "--date", DATE]).ok();
    ws.run(&["publish", "--to", "store"]).ok();
    let path = ws.path().join("store/index.json");
    let index = std::fs::read_to_string(&path).unwrap();
    for file in ["../../secret.zip", "/etc/passwd", "b/1.0.0.zip"] {
        std::fs::write(&path, index.replace("a/1.0.0.zip", file)).unwrap();
        for command in [
            &["release", "--from", "store"][..],
            &["publish", "--to", "store"][..],
        ] {
            let err = ws.run(command).fails();
            assert!(
                err.contains(&format!(
                    "file {file:?} is not the expected \"a/1.0.0.zip\""
                )),
                "{err}"
            );
        }
    }
    std::fs::write(&path, index.replace("\"a\":", "\"../a\":")).unwrap();
    let err = ws.run(&["release", "--from", "store"]).fails();
    assert!(
        err.contains("module name \"../a\" is not a plain folder name"),
        "{err}"
    );
}

#[test]
fn refuses_a_stale_working_copy() {
    let ws = Workspace::new();
    write_v1(&ws, "a");
    ws.run(&["release", "--from", "store", "--date", DATE]).ok();
    ws.run(&["publish", "--to", "store"]).ok();
    let old_changelog = ws.read("a", "CHANGELOG.md");
    ws.write("a", &[("README.md", "# changed\n")]);
    ws.run(&["release", "--from", "store", "--date", DATE]).ok();
    ws.run(&["publish", "--to", "store"]).ok();

    // Someone else's checkout, still at 1.0.0.
    ws.write("a", &[("CHANGELOG.md", &old_changelog)]);
    let err = ws.run(&["release", "--from", "store"]).fails();
    assert!(err.contains("already has 1.0.1, newer than 1.0.0"), "{err}");
}

#[test]
fn clear_errors_for_bad_arguments() {
    let ws = Workspace::new();
    write_v1(&ws, "a");
    let err = ws
        .run(&["release", "--from", "store", "--date", "24/11/2026"])
        .fails();
    assert!(err.contains("expected YYYY-MM-DD"), "{err}");
    let err = ws
        .run(&["release", "--from", "store", "--module", "nope"])
        .fails();
    assert!(
        err.contains("no module \"nope\"") && err.contains("modules: a"),
        "{err}"
    );
    let err = ws.run(&["release", "--from", "ftp://x/y"]).fails();
    assert!(
        err.contains("only s3://BUCKET/PREFIX and directory paths"),
        "{err}"
    );

    ws.write("a", &[("broken.tf", "variable \"x\" {\n")]);
    let err = ws.run(&["release", "--from", "store"]).fails();
    assert!(err.contains("broken.tf"), "{err}");
}

#[test]
fn help_describes_every_flag() {
    let ws = Workspace::new();
    let run = ws.run(&["release", "--help"]).ok();
    for flag in [
        "--modules",
        "--from",
        "--endpoint",
        "--region",
        "--module",
        "--dry-run",
        "--date",
    ] {
        assert!(run.stdout.contains(flag), "{flag} missing:\n{}", run.stdout);
    }
}
