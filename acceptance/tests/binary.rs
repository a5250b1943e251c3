//! The provider binary on its own: refuses to run by hand, and speaks the go-plugin handshake.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use base64::Engine;
use mesh_acceptance::{provider_bin, run_with_timeout};

const MAGIC_COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// Kills the child when the test ends, passed or failed.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A self-signed P-521 certificate in PEM, like the one Terraform sends.
fn client_cert_pem() -> String {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("P-521 key");
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    params.self_signed(&key).expect("self-signed cert").pem()
}

#[test]
fn binary_by_hand() {
    let mut cmd = Command::new(provider_bin());
    cmd.env_remove("TF_PLUGIN_MAGIC_COOKIE");
    let out = run_with_timeout(&mut cmd, Duration::from_secs(20));
    assert_eq!(out.code, 1, "expected exit code 1:\n{out}");
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one explanatory line on stderr:\n{out}"
    );
    assert!(
        lines[0].len() > 20,
        "the line should explain itself:\n{out}"
    );
}

#[test]
fn binary_handshake() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let child = Command::new(provider_bin())
        .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_CLIENT_CERT", client_cert_pem())
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the provider");
    let mut child = KillOnDrop(child);

    let stdout = child.0.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("no handshake line on stdout within 10 s");
    let line = line.trim_end_matches('\n');

    let parts: Vec<&str> = line.split('|').collect();
    assert_eq!(parts.len(), 6, "handshake {line:?}");
    assert_eq!(parts[..3], ["1", "6", "unix"], "handshake {line:?}");
    assert_eq!(parts[4], "grpc", "handshake {line:?}");
    let socket = Path::new(parts[3]);
    assert!(socket.is_absolute(), "socket path {socket:?}");
    let is_socket = std::fs::metadata(socket).map(|m| m.file_type().is_socket());
    assert!(matches!(is_socket, Ok(true)), "{socket:?} is not a socket");
    let cert = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(parts[5])
        .unwrap_or_else(|e| panic!("server cert is not unpadded standard base64 ({e}): {line:?}"));
    assert_eq!(cert.first(), Some(&0x30), "server cert is not DER");
    assert!(
        child.0.try_wait().expect("poll the provider").is_none(),
        "the provider exited after the handshake"
    );
}
