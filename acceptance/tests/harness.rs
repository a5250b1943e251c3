//! Self-tests of the harness pieces that need no provider: the tools and the emulator.

use mesh_acceptance::{run_with_timeout, Emulator, Terraform, ACCOUNT_ID, NEWEST_AT_LEAST};
use std::process::Command;
use std::time::Duration;

/// `terraform version` of `tf`: its first line and the whole output.
fn version_of(tf: &Terraform) -> (String, String) {
    let out = run_with_timeout(
        Command::new(tf.path())
            .arg("version")
            .env("CHECKPOINT_DISABLE", "1"),
        Duration::from_secs(60),
    )
    .assert_success();
    let first = out.stdout.lines().next().unwrap_or_default().to_string();
    (first, out.to_string())
}

#[test]
fn harness_oldest_terraform_is_1_0_3_from_the_tools() {
    let tf = Terraform::oldest();
    let (first, out) = version_of(tf);
    assert_eq!(first, "Terraform v1.0.3", "unexpected version:\n{out}");
    assert!(out.contains("linux_amd64"), "{out}");
}

#[test]
fn harness_newest_terraform_is_current() {
    let tf = Terraform::newest();
    let (first, out) = version_of(tf);
    assert_eq!(
        first,
        format!("Terraform v{}", tf.version()),
        "unexpected version:\n{out}"
    );
    assert!(tf.version() >= NEWEST_AT_LEAST, "{tf}");
    assert_ne!(
        tf.path(),
        Terraform::oldest().path(),
        "both passes would run the same binary"
    );
}

#[tokio::test]
async fn harness_emulator_answers_sts() {
    let emulator = Emulator::shared();
    let identity = emulator
        .sts()
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity against the emulator");
    assert_eq!(identity.account(), Some(ACCOUNT_ID));
}

#[tokio::test]
async fn harness_emulator_start_stop_reset() {
    // A private emulator, so resetting it cannot disturb tests using the shared one.
    let emulator = Emulator::start().expect("start a second emulator");
    assert_ne!(emulator.endpoint(), Emulator::shared().endpoint());
    let lf = emulator.lakeformation();
    lf.create_lf_tag()
        .tag_key("harness")
        .tag_values("v")
        .send()
        .await
        .expect("CreateLFTag");
    assert_eq!(
        emulator.lf_tag_values("harness").await,
        Some(vec!["v".to_string()])
    );
    emulator.reset();
    assert_eq!(emulator.lf_tag_values("harness").await, None);

    let pid = emulator.pid();
    emulator.stop();
    // The child is reaped: no process with that pid is left (or it is another, unrelated one).
    let alive = std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
        .map(|c| c.contains("moto_server"))
        .unwrap_or(false);
    assert!(!alive, "moto_server {pid} still running after stop()");
}
