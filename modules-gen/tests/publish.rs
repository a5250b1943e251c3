//! `mesh-modules publish` through the built binary: a directory store, and S3 on the moto
//! emulator (which must be installed: `make tools`; this test fails rather than skip without it).

mod cli_support;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cli_support::{printed_source, terraform_consume, write_v1, Workspace};
use mesh_modules::publish::{sha256_hex, unzip_files, Index};

const DATE: &str = "2026-11-24";

fn released(ws: &Workspace, module: &str) {
    write_v1(ws, module);
    ws.write(
        module,
        &[
            (".terraform/modules/modules.json", "{}"),
            ("terraform.tfstate", "{}"),
            ("examples/basic/terraform.tfstate.backup", "{}"),
            (".terraform.lock.hcl", "# lock\n"),
        ],
    );
    ws.run(&[
        "release", "--from", "store", "--module", module, "--date", DATE,
    ])
    .ok();
}

#[test]
fn publishing_a_version_twice_fails_and_keeps_the_first_zip() {
    let ws = Workspace::new();
    released(&ws, "data-product");
    ws.run(&["publish", "--to", "store"]).ok();
    let zip_path = ws.path().join("store/data-product/1.0.0.zip");
    let first = std::fs::read(&zip_path).unwrap();

    // Same content again: every module is skipped, which is an error.
    let err = ws.run(&["publish", "--to", "store"]).fails();
    assert!(
        err.contains("nothing to publish: every module's version is already published"),
        "{err}"
    );
    // Named explicitly: refused as already published.
    let err = ws
        .run(&["publish", "--to", "store", "--module", "data-product"])
        .fails();
    assert!(
        err.contains("module data-product version 1.0.0 is already published")
            && err.contains("never overwritten")
            && err.contains("it has the same content, so there is nothing to publish"),
        "{err}"
    );
    // Changed content under the same version, with or without --module.
    ws.write(
        "data-product",
        &[("README.md", "# edited without a release\n")],
    );
    for args in [
        &["publish", "--to", "store"][..],
        &["publish", "--to", "store", "--module", "data-product"][..],
    ] {
        let err = ws.run(args).fails();
        assert!(
            err.contains("module data-product version 1.0.0 is already published")
                && err.contains("would be overwritten")
                && err.contains("run `mesh-modules release`"),
            "{err}"
        );
    }

    assert_eq!(std::fs::read(&zip_path).unwrap(), first);
    let index = Index::parse(&std::fs::read(ws.path().join("store/index.json")).unwrap()).unwrap();
    assert_eq!(index.modules["data-product"].len(), 1);
}

#[test]
fn after_a_partial_release_publish_uploads_only_the_new_versions() {
    let ws = Workspace::new();
    for module in ["a", "b", "c"] {
        released(&ws, module);
    }
    ws.run(&["publish", "--to", "store"]).ok();

    ws.write("a", &[("README.md", "# a, patched\n")]);
    ws.write("c", &[("README.md", "# c, patched\n")]);
    ws.run(&[
        "release", "--from", "store", "--module", "a", "--date", DATE,
    ])
    .ok();
    // c changed but was not released: its 1.0.0 content differs from the store's.
    let err = ws.run(&["publish", "--to", "store"]).fails();
    assert!(
        err.contains("module c version 1.0.0 is already published") && !err.contains("module a"),
        "{err}"
    );
    assert!(!ws.path().join("store/a/1.0.1.zip").exists());
    ws.write("c", &[("README.md", "# Data product\n")]);

    let run = ws.run(&["publish", "--to", "store"]).ok();
    assert!(run.stdout.contains("published a 1.0.1"), "{}", run.stdout);
    assert!(
        run.stdout.contains("b 1.0.0: already published"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("c 1.0.0: already published"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("published b") && !run.stdout.contains("published c"));
    let index = Index::parse(&std::fs::read(ws.path().join("store/index.json")).unwrap()).unwrap();
    let versions =
        |m: &str| -> Vec<String> { index.modules[m].iter().map(|e| e.version.clone()).collect() };
    assert_eq!(versions("a"), ["1.0.0", "1.0.1"]);
    assert_eq!(versions("b"), ["1.0.0"]);
    assert_eq!(versions("c"), ["1.0.0"]);

    // Nothing left.
    let err = ws.run(&["publish", "--to", "store"]).fails();
    assert!(err.contains("nothing to publish"), "{err}");
}

#[test]
fn refuses_a_version_step_smaller_than_the_changes_need() {
    let ws = Workspace::new();
    released(&ws, "data-product");
    ws.run(&["publish", "--to", "store"]).ok();

    // Released as a minor (an output added), then an output removed without releasing again.
    ws.write(
        "data-product",
        &[("extra.tf", "output \"tags\" {\n  value = var.tags\n}\n")],
    );
    let run = ws.run(&["release", "--from", "store", "--date", DATE]).ok();
    assert!(
        run.stdout.contains("1.0.0 -> 1.1.0 (minor)"),
        "{}",
        run.stdout
    );
    ws.write("data-product", &[("outputs.tf", "")]);
    let err = ws.run(&["publish", "--to", "store"]).fails();
    assert!(
        err.contains(
            "data-product: changes since 1.0.0 need a MAJOR release (output \"name\" removed); \
             run `mesh-modules release` again"
        ),
        "{err}"
    );
    assert!(!ws.path().join("store/data-product/1.1.0.zip").exists());

    // Released again: the unpublished 1.1.0 becomes 2.0.0, which publishes.
    let run = ws.run(&["release", "--from", "store", "--date", DATE]).ok();
    assert!(
        run.stdout
            .contains("1.0.0 -> 2.0.0 (major), replacing the unpublished 1.1.0 entry"),
        "{}",
        run.stdout
    );
    let run = ws.run(&["publish", "--to", "store"]).ok();
    assert!(
        run.stdout.contains("published data-product 2.0.0"),
        "{}",
        run.stdout
    );

    // A bigger step than needed is the releaser's choice.
    ws.write("data-product", &[("README.md", "# patched\n")]);
    let changelog = ws.read("data-product", "CHANGELOG.md");
    ws.write(
        "data-product",
        &[(
            "CHANGELOG.md",
            &changelog.replacen(
                "## 2.0.0",
                "## 3.0.0 (2026-11-24)\n\nMajor release.\n\n## 2.0.0",
                1,
            ),
        )],
    );
    let run = ws.run(&["publish", "--to", "store"]).ok();
    assert!(
        run.stdout.contains("published data-product 3.0.0"),
        "{}",
        run.stdout
    );
}

#[test]
fn index_lists_every_version_with_its_sha256() {
    let ws = Workspace::new();
    released(&ws, "a");
    released(&ws, "b");
    ws.run(&["publish", "--to", "store"]).ok();
    ws.write("a", &[("README.md", "# a, patched\n")]);
    ws.run(&["release", "--from", "store", "--date", DATE]).ok();
    ws.run(&["publish", "--to", "store", "--module", "a"]).ok();

    let text = std::fs::read_to_string(ws.path().join("store/index.json")).unwrap();
    let index = Index::parse(text.as_bytes()).unwrap();
    let versions =
        |m: &str| -> Vec<String> { index.modules[m].iter().map(|e| e.version.clone()).collect() };
    assert_eq!(versions("a"), ["1.0.0", "1.0.1"]);
    assert_eq!(versions("b"), ["1.0.0"]);
    for (module, entries) in &index.modules {
        for entry in entries {
            assert_eq!(entry.file, format!("{module}/{}.zip", entry.version));
            let zip = std::fs::read(ws.path().join("store").join(&entry.file)).unwrap();
            assert_eq!(sha256_hex(&zip), entry.sha256);
        }
    }
    // Deterministic text: what the library would write for the same index.
    assert_eq!(text, index.to_json());
}

#[test]
fn zips_are_deterministic_and_leave_out_terraform_working_data() {
    let ws = Workspace::new();
    released(&ws, "m");
    ws.run(&["publish", "--to", "one"]).ok();
    // Same content, newer timestamps, another store.
    std::thread::sleep(Duration::from_millis(1100));
    for file in ["main.tf", "README.md"] {
        let path = ws.module_dir("m").join(file);
        let text = std::fs::read(&path).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    ws.run(&["publish", "--to", "two"]).ok();
    let one = std::fs::read(ws.path().join("one/m/1.0.0.zip")).unwrap();
    let two = std::fs::read(ws.path().join("two/m/1.0.0.zip")).unwrap();
    assert_eq!(one, two);

    let names: Vec<String> = unzip_files(&one).unwrap().into_keys().collect();
    assert_eq!(
        names,
        [
            "CHANGELOG.md",
            "README.md",
            "examples/basic/main.tf",
            "main.tf",
            "outputs.tf",
            "variables.tf"
        ]
    );
}

#[test]
fn terraform_consumes_a_directory_store_by_absolute_path() {
    let ws = Workspace::new();
    released(&ws, "data-product");
    let run = ws.run(&["publish", "--to", "store"]).ok();
    let source = printed_source(&run.stdout, "data-product", "1.0.0");
    assert_eq!(
        source,
        ws.path()
            .join("store/data-product/1.0.0.zip")
            .display()
            .to_string()
    );
    let name = terraform_consume(&ws.path().join("consumer"), &source, "orders", &[]);
    assert_eq!(name, "orders");
}

#[test]
fn never_released_modules_are_refused() {
    let ws = Workspace::new();
    write_v1(&ws, "m");
    let err = ws.run(&["publish", "--to", "store"]).fails();
    assert!(err.contains("module m: never released"), "{err}");
    assert!(err.contains("run `mesh-modules release` first"), "{err}");
    assert!(!ws.path().join("store").exists());
}

#[test]
fn help_describes_every_flag() {
    let ws = Workspace::new();
    let run = ws.run(&["publish", "--help"]).ok();
    for flag in ["--to", "--modules", "--module", "--endpoint", "--region"] {
        assert!(run.stdout.contains(flag), "{flag} missing:\n{}", run.stdout);
    }
}

// ----- S3 on moto --------------------------------------------------------------------------

/// A moto_server on a free loopback port, stopped on drop.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Moto {
        let binary = cli_support::tool("moto_server");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer within 60s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        moto
    }

    fn client(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn with_aws_env(ws: &Workspace, args: &[&str]) -> cli_support::Run {
    let output = ws
        .command(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("run mesh-modules");
    cli_support::Run {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn publishes_to_s3_on_the_emulator() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = moto.client();
    // moto may still be warming up after the port opens.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match runtime.block_on(client.create_bucket().bucket("modules").send()) {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(300));
            }
            Err(e) => panic!(
                "create_bucket on moto: {}",
                aws_sdk_s3::error::DisplayErrorContext(e)
            ),
        }
    }

    let ws = Workspace::new();
    released(&ws, "data-product");
    let endpoint = moto.endpoint.as_str();

    // The bucket must exist: publish creates nothing.
    let err = with_aws_env(
        &ws,
        &["publish", "--to", "s3://missing/p", "--endpoint", endpoint],
    )
    .fails();
    assert!(err.contains("the bucket does not exist"), "{err}");

    let run = with_aws_env(
        &ws,
        &[
            "publish",
            "--to",
            "s3://modules/mesh",
            "--endpoint",
            endpoint,
        ],
    )
    .ok();
    assert!(
        run.stdout.contains(&format!(
            "  source: s3::{endpoint}/modules/mesh/data-product/1.0.0.zip?\
             aws_access_key_id=<AWS_ACCESS_KEY_ID>&aws_access_key_secret=<AWS_SECRET_ACCESS_KEY>"
        )),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("object: s3://modules/mesh/data-product/1.0.0.zip"));

    // Terraform 1.0.3 fetches exactly the printed source once the placeholders are filled in.
    let source = printed_source(&run.stdout, "data-product", "1.0.0")
        .replace("<AWS_ACCESS_KEY_ID>", "testing")
        .replace("<AWS_SECRET_ACCESS_KEY>", "testing");
    let name = terraform_consume(
        &ws.path().join("consumer"),
        &source,
        "orders",
        &[
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
        ],
    );
    assert_eq!(name, "orders");

    let get = |key: &str| -> Vec<u8> {
        runtime
            .block_on(async {
                client
                    .get_object()
                    .bucket("modules")
                    .key(key)
                    .send()
                    .await
                    .unwrap_or_else(|e| {
                        panic!("get {key}: {}", aws_sdk_s3::error::DisplayErrorContext(e))
                    })
                    .body
                    .collect()
                    .await
                    .unwrap()
            })
            .into_bytes()
            .to_vec()
    };
    let zip = get("mesh/data-product/1.0.0.zip");
    let index = Index::parse(&get("mesh/index.json")).unwrap();
    assert_eq!(index.modules["data-product"][0].version, "1.0.0");
    assert_eq!(index.modules["data-product"][0].sha256, sha256_hex(&zip));
    assert!(unzip_files(&zip).unwrap().contains_key("variables.tf"));

    // Twice: refused, object unchanged. The endpoint comes from the environment this time.
    ws.write("data-product", &[("README.md", "# edited\n")]);
    let output = ws
        .command(&["publish", "--to", "s3://modules/mesh"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        err.contains("module data-product version 1.0.0 is already published"),
        "{err}"
    );
    assert_eq!(get("mesh/data-product/1.0.0.zip"), zip);

    // release reads the store back: the README edit is a patch.
    let run = with_aws_env(
        &ws,
        &[
            "release",
            "--from",
            "s3://modules/mesh",
            "--endpoint",
            endpoint,
            "--dry-run",
        ],
    )
    .ok();
    assert!(
        run.stdout.contains("data-product: 1.0.0 -> 1.0.1 (patch)"),
        "{}",
        run.stdout
    );
}
