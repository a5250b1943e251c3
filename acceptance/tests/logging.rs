//! Logs: provider lines reach Terraform's log, and credentials never appear anywhere in it.

use mesh_acceptance::{mesh_config, random_token, unique_name, Emulator, Workspace};

use mesh_acceptance::{terraform_tests, Terraform};

terraform_tests!(
    sync logs_never_contain_secret,
);

fn logs_never_contain_secret(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let key = unique_name("logging");
    let secret = random_token(40);
    let hcl = mesh_config(&format!(
        "resource \"mesh_lf_tag\" \"t\" {{\n  key    = {key:?}\n  values = [\"v\"]\n}}\n"
    ));
    let mut ws = Workspace::new(tf, emulator, &hcl);
    ws.set_env("AWS_SECRET_ACCESS_KEY", &secret)
        .set_env("TF_LOG", "TRACE");

    let apply = ws.apply();
    let destroy = ws.destroy();
    apply.assert_no_secret(&secret, "the secret access key");
    destroy.assert_no_secret(&secret, "the secret access key");

    // Terraform re-logs the provider's JSON lines under the provider's name.
    let provider_lines: Vec<&str> = apply
        .stderr
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-mesh"))
        .collect();
    assert!(
        !provider_lines.is_empty(),
        "no provider log lines forwarded in the TRACE log of `{}` (stderr has {} lines)",
        apply.command,
        apply.stderr.lines().count()
    );
    assert!(
        provider_lines.iter().any(|l| l.contains("CreateLFTag")),
        "no provider log line names the AWS operation CreateLFTag; provider lines:\n{}",
        provider_lines.join("\n")
    );
}
