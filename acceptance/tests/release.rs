//! Releases as Terraform Cloud's private registry and `terraform init` take them: `.ci/release`
//! (what `make release` runs) writes the registry's layout from the optimised binary and signs
//! it; the binary runs on an Ubuntu 22.04 runner's glibc; a local HTTPS registry serves the
//! release and `terraform init` installs it, verifying checksums and signature, and refuses a
//! tampered package.

use mesh_acceptance::gpg::Keyring;
use mesh_acceptance::registry::{release_file, Published, Registry};
use mesh_acceptance::{
    mesh_config, provider_version, release_bin, repo_root, run_with_timeout, terraform_tests,
    unique_name, Emulator, Terraform, TfOutput, Workspace, PROVIDER_HCL,
};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use tempfile::TempDir;

// Packaging and the binary do not involve Terraform: plain tests. Installing does: both versions.
terraform_tests!(
    init_installs_the_signed_release_from_a_private_registry,
    sync init_refuses_a_tampered_package_or_signature,
);

/// Ubuntu 22.04's glibc: the oldest a GitHub or Terraform Cloud x86_64 runner has.
const MAX_GLIBC: (u32, u32) = (2, 35);

/// Runs `.ci/release` with a keyring.
fn release(keyring: &Keyring, args: &[&str]) -> TfOutput {
    run_with_timeout(
        Command::new(repo_root().join(".ci").join("release"))
            .args(args)
            .env("GNUPGHOME", keyring.home()),
        Duration::from_secs(300),
    )
}

/// One signed release of the optimised binary, made once per test process.
struct Release {
    dir: TempDir,
    keyring: Keyring,
}

fn signed_release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let keyring = Keyring::generate("Meshcraft Release Test <release@meshcraft.invalid>");
        let dir = tempfile::tempdir().expect("a temp dir for the release");
        let binary = release_bin();
        let out = dir.path().to_string_lossy().to_string();
        release(
            &keyring,
            &[
                "--version",
                provider_version(),
                "--binary",
                &binary.to_string_lossy(),
                "--key",
                keyring.fingerprint(),
                "--out",
                &out,
            ],
        )
        .assert_success();
        Release { dir, keyring }
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn release_writes_the_registry_layout_signed() {
    let release = signed_release();
    let version = provider_version();
    let dir = release.dir.path();
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list the release")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let prefix = format!("terraform-provider-mesh_{version}");
    assert_eq!(
        names,
        [
            format!("{prefix}_SHA256SUMS"),
            format!("{prefix}_SHA256SUMS.sig"),
            format!("{prefix}_linux_amd64.zip"),
            format!("{prefix}_manifest.json"),
        ]
    );

    // The zip holds exactly the binary, executable, named with a leading v.
    let zip_path = release_file(dir, version, "linux_amd64.zip");
    let zip_bytes = fs::read(&zip_path).expect("read the zip");
    let mut archive =
        zip::ZipArchive::new(fs::File::open(&zip_path).expect("open the zip")).expect("a zip");
    assert_eq!(archive.len(), 1);
    let mut member = archive.by_index(0).expect("the member");
    assert_eq!(member.name(), format!("terraform-provider-mesh_v{version}"));
    assert_eq!(member.unix_mode().map(|m| m & 0o777), Some(0o755));
    let mut content = Vec::new();
    member.read_to_end(&mut content).expect("unzip");
    assert!(
        content == fs::read(release_bin()).expect("read the binary"),
        "the zip does not hold the release binary"
    );

    let manifest: serde_json::Value = serde_json::from_slice(
        &fs::read(release_file(dir, version, "manifest.json")).expect("read the manifest"),
    )
    .expect("the manifest is JSON");
    assert_eq!(
        manifest,
        serde_json::json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}})
    );

    let sums = fs::read_to_string(release_file(dir, version, "SHA256SUMS")).expect("sums");
    let manifest_bytes = fs::read(release_file(dir, version, "manifest.json")).expect("read");
    assert_eq!(
        sums,
        format!(
            "{}  {prefix}_linux_amd64.zip\n{}  {prefix}_manifest.json\n",
            sha256_hex(&zip_bytes),
            sha256_hex(&manifest_bytes)
        )
    );
    let sums_path = release_file(dir, version, "SHA256SUMS");
    let sig_path = release_file(dir, version, "SHA256SUMS.sig");
    let sig = fs::read(&sig_path).expect("read the signature");
    assert!(
        !sig.starts_with(b"-----BEGIN"),
        "the signature must be binary, not armored"
    );
    let verify = |data: &Path| {
        release.keyring.gpg(&[
            "--verify",
            &sig_path.to_string_lossy(),
            &data.to_string_lossy(),
        ])
    };
    verify(&sums_path).assert_success();
    // A positive control: the signature does not verify other bytes.
    let other = release.dir.path().join("..").join(unique_name("sums"));
    fs::write(
        &other,
        sums.replace(&sha256_hex(&zip_bytes), &"0".repeat(64)),
    )
    .expect("write");
    let refused = verify(&other);
    let _ = fs::remove_file(&other);
    assert!(!refused.success(), "a changed list verified:\n{refused}");
}

#[test]
fn release_refuses_a_bad_version_or_a_missing_key() {
    let release = signed_release();
    let out = tempfile::tempdir().expect("temp dir");
    let binary = release_bin().to_string_lossy().to_string();
    let out_dir = out.path().to_string_lossy().to_string();
    let bad_version = self::release(
        &release.keyring,
        &[
            "--version",
            "v1.2",
            "--binary",
            &binary,
            "--key",
            release.keyring.fingerprint(),
            "--out",
            &out_dir,
        ],
    );
    assert!(!bad_version.success(), "{bad_version}");
    assert!(
        bad_version.stderr.contains("VERSION must be semver"),
        "{bad_version}"
    );
    let no_key = self::release(
        &release.keyring,
        &[
            "--version",
            "1.2.3",
            "--binary",
            &binary,
            "--key",
            "NOSUCHKEY",
            "--out",
            &out_dir,
        ],
    );
    assert!(!no_key.success(), "{no_key}");
    assert!(no_key.stderr.contains("no secret key"), "{no_key}");
    assert_eq!(
        fs::read_dir(out.path()).expect("list").count(),
        0,
        "files left"
    );
}

/// The highest `GLIBC_x.y` version the binary's dynamic symbols require.
fn highest_glibc(binary: &Path) -> Option<(u32, u32)> {
    use object::{Object, ObjectSection};
    let data = fs::read(binary).expect("read the binary");
    let file = object::File::parse(&*data).expect("an ELF file");
    // .dynstr holds the names of the versions the binary needs (and symbol names).
    let dynstr = file.section_by_name(".dynstr")?.data().ok()?;
    dynstr
        .split(|b| *b == 0)
        .filter_map(|s| std::str::from_utf8(s).ok()?.strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
            Some((parts.next()??, parts.next()??))
        })
        .max()
}

#[test]
fn release_binary_runs_on_the_glibc_of_ubuntu_22_04() {
    let binary = release_bin();
    let needed = highest_glibc(&binary).unwrap_or_else(|| {
        panic!(
            "{} requires no GLIBC version: not a dynamically linked glibc binary?",
            binary.display()
        )
    });
    eprintln!(
        "[release] {} needs GLIBC_{}.{} at most",
        binary.display(),
        needed.0,
        needed.1
    );
    // Every glibc binary needs at least GLIBC_2.2.5 on x86_64: the reading is not vacuous.
    assert!(needed >= (2, 2), "implausible reading {needed:?}");
    assert!(
        needed <= MAX_GLIBC,
        "the release needs GLIBC_{}.{}, newer than Ubuntu 22.04's {}.{}",
        needed.0,
        needed.1,
        MAX_GLIBC.0,
        MAX_GLIBC.1
    );
}

/// A workspace that takes the provider from `registry` (no overrides), trusting its CA.
fn registry_workspace(tf: &'static Terraform, registry: &Registry, resources: &str) -> Workspace {
    let emulator = Emulator::shared();
    let version = provider_version();
    let hcl = mesh_config(resources).replacen(
        "source = \"meshcraft/mesh\"",
        &format!(
            "source  = \"{}\"\n      version = \"{version}\"",
            registry.source()
        ),
        1,
    );
    assert!(hcl.contains(&registry.source()), "{PROVIDER_HCL}");
    let mut ws = Workspace::new(tf, emulator, &hcl);
    ws.set_cli_config("");
    ws.set_env("SSL_CERT_FILE", &registry.ca_file().to_string_lossy());
    ws
}

fn published(dir: &Path, keyring: &Keyring) -> Published {
    Published {
        version: provider_version().to_string(),
        dir: dir.to_path_buf(),
        key_id: keyring.key_id().to_string(),
        public_key: keyring.public_key(),
    }
}

async fn init_installs_the_signed_release_from_a_private_registry(tf: &'static Terraform) {
    let release = signed_release();
    let registry = Registry::start(published(release.dir.path(), &release.keyring));
    let key = unique_name("registry");
    let ws = registry_workspace(
        tf,
        &registry,
        &format!(
            "resource \"mesh_lf_tag\" \"t\" {{\n  key    = \"{key}\"\n  values = [\"r\"]\n}}\n"
        ),
    );
    let init = ws.init();
    let version = provider_version();
    assert!(
        init.stdout
            .contains(&format!("Installed {} v{version}", registry.source())),
        "{init}"
    );
    assert!(
        init.stdout.contains(&format!(
            "key ID {}",
            release.keyring.key_id().to_uppercase()
        )),
        "the signature was not checked against the key:\n{init}"
    );
    assert!(
        registry
            .served()
            .iter()
            .any(|s| s.starts_with("200 ") && s.ends_with("_SHA256SUMS.sig")),
        "the signature was never fetched: {:?}",
        registry.served()
    );

    let lock = fs::read_to_string(ws.dir().join(".terraform.lock.hcl"))
        .unwrap_or_else(|e| panic!("no lock file ({e}):\n{init}"));
    let zip = fs::read(release_file(release.dir.path(), version, "linux_amd64.zip")).expect("zip");
    assert!(
        lock.contains(&format!("provider \"{}\"", registry.source())),
        "{lock}"
    );
    assert!(
        lock.contains(&format!("version     = \"{version}\"")),
        "{lock}"
    );
    assert!(
        lock.contains(&format!("\"zh:{}\"", sha256_hex(&zip))),
        "the lock file does not pin the zip's checksum:\n{lock}"
    );

    // The installed release binary works end to end.
    ws.apply();
    assert_eq!(
        Emulator::shared().lf_tag_values(&key).await,
        Some(vec!["r".to_string()])
    );
    ws.assert_plan_empty();
    ws.destroy();
}

/// A copy of the signed release in a new directory.
fn copy_release(release: &Release) -> TempDir {
    let copy = tempfile::tempdir().expect("temp dir");
    for entry in fs::read_dir(release.dir.path()).expect("list") {
        let entry = entry.expect("entry");
        fs::copy(entry.path(), copy.path().join(entry.file_name())).expect("copy");
    }
    copy
}

fn init_refuses_a_tampered_package_or_signature(tf: &'static Terraform) {
    let release = signed_release();
    let version = provider_version();

    // 1. A zip changed after signing: its checksum is not the signed one.
    let tampered_zip = copy_release(release);
    let zip_path = release_file(tampered_zip.path(), version, "linux_amd64.zip");
    let mut bytes = fs::read(&zip_path).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs::write(&zip_path, bytes).expect("write");

    // 2. The checksums signed by a key the registry does not publish.
    let tampered_sig = copy_release(release);
    let stranger = Keyring::generate("Somebody Else <else@example.invalid>");
    stranger.sign(
        &release_file(tampered_sig.path(), version, "SHA256SUMS"),
        &release_file(tampered_sig.path(), version, "SHA256SUMS.sig"),
    );

    // 3. The checksum list changed after signing.
    let tampered_sums = copy_release(release);
    let sums_path = release_file(tampered_sums.path(), version, "SHA256SUMS");
    let sums = fs::read_to_string(&sums_path).expect("read");
    fs::write(&sums_path, format!("{sums}{}  extra.zip\n", "0".repeat(64))).expect("write");

    for (dir, what, expected) in [
        (&tampered_zip, "a tampered zip", "checksum"),
        (
            &tampered_sig,
            "a signature by another key",
            "unknown issuer",
        ),
        (&tampered_sums, "a tampered checksum list", "signature"),
    ] {
        let registry = Registry::start(published(dir.path(), &release.keyring));
        let ws = registry_workspace(tf, &registry, "");
        let init = ws.tf(&["init", "-input=false"]);
        assert!(!init.success(), "init accepted {what}:\n{init}");
        let text = init.combined();
        assert!(
            text.contains("Failed to install provider") && text.contains(expected),
            "init refused {what} without saying why ({expected:?}):\n{init}"
        );
        assert!(
            !ws.dir().join(".terraform.lock.hcl").exists(),
            "a lock file was written for {what}"
        );
    }
}
