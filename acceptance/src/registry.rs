//! A private provider registry on a loopback HTTPS port, as Terraform Cloud's private registry
//! serves a provider: service discovery, `versions`, and `download/linux/amd64` with the
//! checksums, their signature and the public key that signed them.
//!
//! It serves one release directory written by `.ci/release` (read at each request, so a test
//! may tamper with a file after start). The certificate is issued by a private CA created here;
//! Terraform trusts it through `SSL_CERT_FILE` ([`Registry::ca_file`]). The host is
//! `localhost:PORT`, so providers are addressed `localhost:PORT/meshcraft/mesh`.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;
use tempfile::TempDir;

use crate::lock;

/// The provider's namespace and type in the registry.
const NAMESPACE: &str = "meshcraft";
const TYPE: &str = "mesh";

/// What the registry publishes: one version of the provider and the key that signed it.
#[derive(Debug, Clone)]
pub struct Published {
    /// The version, e.g. `0.1.0`.
    pub version: String,
    /// The release directory (`.ci/release --out`).
    pub dir: PathBuf,
    /// The signing key's id (16 hex digits).
    pub key_id: String,
    /// The signing key, ASCII-armored.
    pub public_key: String,
}

/// A running registry; stops on drop.
pub struct Registry {
    port: u16,
    scratch: TempDir,
    stop: Arc<AtomicBool>,
    served: Arc<Mutex<Vec<String>>>,
}

impl Registry {
    /// Starts serving `published` on a free loopback port. Panics if it cannot.
    pub fn start(published: Published) -> Registry {
        let scratch = tempfile::tempdir().expect("a temp dir for the registry's CA");
        let (ca_pem, tls) = certificates();
        fs::write(scratch.path().join("ca.pem"), ca_pem).expect("write the CA certificate");
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(Mutex::new(Vec::new()));
        let config = Arc::new(tls);
        let published = Arc::new(published);
        {
            let (stop, served) = (Arc::clone(&stop), Arc::clone(&served));
            thread::Builder::new()
                .name(format!("registry:{port}"))
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        match listener.accept() {
                            Ok((stream, _)) => {
                                let (config, published, served) = (
                                    Arc::clone(&config),
                                    Arc::clone(&published),
                                    Arc::clone(&served),
                                );
                                thread::spawn(move || {
                                    let _ = serve(stream, config, &published, port, &served);
                                });
                            }
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                thread::sleep(Duration::from_millis(20));
                            }
                            Err(_) => break,
                        }
                    }
                })
                .expect("start the registry thread");
        }
        Registry {
            port,
            scratch,
            stop,
            served,
        }
    }

    /// `localhost:PORT`: the host part of provider addresses.
    pub fn host(&self) -> String {
        format!("localhost:{}", self.port)
    }

    /// `localhost:PORT/meshcraft/mesh`.
    pub fn source(&self) -> String {
        format!("{}/{NAMESPACE}/{TYPE}", self.host())
    }

    /// The PEM file of the private CA that issued the registry's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.scratch.path().join("ca.pem")
    }

    /// The paths requested so far, in order, with the status sent (`200 /v1/providers/...`).
    pub fn served(&self) -> Vec<String> {
        lock(&self.served).clone()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A private CA, and a server configuration with a certificate for `localhost` it issued.
fn certificates() -> (String, rustls::ServerConfig) {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Meshcraft test registry CA");
    let ca_cert = ca.self_signed(&ca_key).expect("self-sign the CA");
    let issuer = Issuer::new(ca, ca_key);

    let leaf_key = KeyPair::generate().expect("server key");
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).expect("leaf params");
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).expect("issue the leaf");

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![
                CertificateDer::from(leaf_cert.der().to_vec()),
                CertificateDer::from(ca_cert.der().to_vec()),
            ],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .expect("server certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (ca_cert.pem(), config)
}

/// Answers one connection: one request, then close.
fn serve(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    published: &Published,
    port: u16,
    served: &Mutex<Vec<String>>,
) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let connection = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(connection, stream);
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if tls.read(&mut byte)? == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut request = httparse::Request::new(&mut headers);
    request.parse(&head).map_err(io::Error::other)?;
    let path = request.path.unwrap_or("/").to_string();
    let (status, content_type, body) = route(&path, published, port);
    lock(served).push(format!("{status} {path}"));
    let reason = if status == 200 { "OK" } else { "Not Found" };
    write!(
        tls,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    tls.write_all(&body)?;
    tls.flush()?;
    tls.conn.send_close_notify();
    let _ = tls.flush();
    Ok(())
}

/// What each registry path answers: (status, content type, body).
fn route(path: &str, published: &Published, port: u16) -> (u16, &'static str, Vec<u8>) {
    const JSON: &str = "application/json";
    let version = &published.version;
    let prefix = format!("terraform-provider-{TYPE}_{version}");
    let zip = format!("{prefix}_linux_amd64.zip");
    let sums = format!("{prefix}_SHA256SUMS");
    let base = format!("/v1/providers/{NAMESPACE}/{TYPE}");
    let not_found = (404, JSON, b"{\"errors\":[\"not found\"]}".to_vec());
    let json = |value: serde_json::Value| (200, JSON, value.to_string().into_bytes());
    if path == "/.well-known/terraform.json" {
        return json(json!({ "providers.v1": "/v1/providers/" }));
    }
    if path == format!("{base}/versions") {
        return json(json!({
            "versions": [{
                "version": version,
                "protocols": ["6.0"],
                "platforms": [{ "os": "linux", "arch": "amd64" }],
            }],
        }));
    }
    if path == format!("{base}/{version}/download/linux/amd64") {
        // The checksum the registry recorded at publication: the signed list's.
        let listed = fs::read_to_string(published.dir.join(&sums)).unwrap_or_default();
        let shasum = listed
            .lines()
            .find_map(|l| l.strip_suffix(&format!("  {zip}")))
            .unwrap_or_default()
            .to_string();
        let files = format!("https://localhost:{port}/files");
        return json(json!({
            "protocols": ["6.0"],
            "os": "linux",
            "arch": "amd64",
            "filename": zip,
            "download_url": format!("{files}/{zip}"),
            "shasums_url": format!("{files}/{sums}"),
            "shasums_signature_url": format!("{files}/{sums}.sig"),
            "shasum": shasum,
            "signing_keys": {
                "gpg_public_keys": [{
                    "key_id": published.key_id,
                    "ascii_armor": published.public_key,
                    "trust_signature": "",
                    "source": "Meshcraft",
                    "source_url": null,
                }],
            },
        }));
    }
    if let Some(name) = path.strip_prefix("/files/") {
        let file = published.dir.join(name);
        if !name.contains('/') && file.is_file() {
            if let Ok(bytes) = fs::read(&file) {
                return (200, "application/octet-stream", bytes);
            }
        }
    }
    not_found
}

/// The path of `name` in a release directory.
pub fn release_file(dir: &Path, version: &str, suffix: &str) -> PathBuf {
    dir.join(format!("terraform-provider-{TYPE}_{version}_{suffix}"))
}
