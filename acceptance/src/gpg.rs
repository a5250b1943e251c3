//! A throwaway GnuPG keyring with one RSA signing key, for signing test releases.
//!
//! RSA because Terraform before 1.6 (x/crypto openpgp) cannot read EdDSA keys, and one key it
//! cannot read fails the whole install.

use crate::{run_with_timeout, TfOutput};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use tempfile::TempDir;

/// A keyring in a temp dir (`GNUPGHOME`) holding one fresh key; its agent is stopped on drop.
pub struct Keyring {
    home: TempDir,
    fingerprint: String,
}

impl Keyring {
    /// A keyring with a new passphrase-less RSA key named `uid`. Panics if gpg fails.
    pub fn generate(uid: &str) -> Keyring {
        // gpg-agent's socket path must stay short: a temp dir directly under /tmp.
        let home = tempfile::Builder::new()
            .prefix("gpg-")
            .tempdir_in("/tmp")
            .expect("a temp dir for GNUPGHOME");
        let mut keyring = Keyring {
            home,
            fingerprint: String::new(),
        };
        keyring
            .gpg(&[
                "--passphrase",
                "",
                "--quick-gen-key",
                uid,
                "rsa2048",
                "sign",
                "never",
            ])
            .assert_success();
        let listed = keyring
            .gpg(&["--with-colons", "--list-secret-keys", uid])
            .assert_success();
        keyring.fingerprint = listed
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|rest| rest.split(':').find(|f| !f.is_empty()))
            .unwrap_or_else(|| panic!("no fingerprint listed:\n{listed}"))
            .to_string();
        keyring
    }

    /// The `GNUPGHOME` directory.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The key's fingerprint (40 hex digits).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The key id: the last 16 hex digits of the fingerprint, as registries publish it.
    pub fn key_id(&self) -> &str {
        &self.fingerprint[self.fingerprint.len().saturating_sub(16)..]
    }

    /// The public key, ASCII-armored.
    pub fn public_key(&self) -> String {
        self.gpg(&["--armor", "--export", &self.fingerprint])
            .assert_success()
            .stdout
    }

    /// Writes a binary detached signature of `file` to `signature`.
    pub fn sign(&self, file: &Path, signature: &Path) {
        let (file, signature) = (path_arg(file), path_arg(signature));
        self.gpg(&[
            "--yes",
            "--local-user",
            &self.fingerprint,
            "--output",
            &signature,
            "--detach-sign",
            &file,
        ])
        .assert_success();
    }

    /// Runs `gpg --batch ARGS` with this keyring.
    pub fn gpg(&self, args: &[&str]) -> TfOutput {
        run_with_timeout(
            Command::new("gpg")
                .arg("--batch")
                .args(args)
                .env("GNUPGHOME", self.home.path()),
            Duration::from_secs(120),
        )
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", self.home.path())
            .output();
    }
}

fn path_arg(path: &Path) -> String {
    PathBuf::from(path).to_string_lossy().into_owned()
}
