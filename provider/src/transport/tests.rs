//! End-to-end tests of the transport: a real listener, real TLS and real gRPC clients, in-process.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use hyper_util::rt::TokioIo;
use mesh_proto::plugin::grpc_controller_client::GrpcControllerClient;
use mesh_proto::plugin::grpc_stdio_client::GrpcStdioClient;
use mesh_proto::tfplugin6::provider_client::ProviderClient;
use mesh_proto::tfplugin6::provider_server::Provider;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct};
use tokio::task::JoinHandle;
use tonic::transport::{Channel, Endpoint, Uri};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use super::handshake::{Network, Settings, DEFAULT_PORTS};
use super::listener::{self, Io, ListenAddr, PluginListener};
use super::tls;
use super::{serve, ShutdownHandle};

/// A provider whose every RPC answers UNIMPLEMENTED through the generated default stubs.
struct Unimplemented;

#[tonic::async_trait]
impl Provider for Unimplemented {}

/// A client identity like Terraform's: self-signed ECDSA P-521 / SHA-512, CN and SAN localhost,
/// CA:TRUE, EKU clientAuth + serverAuth.
struct ClientIdentity {
    pem: String,
    der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

fn terraform_like_client_cert() -> ClientIdentity {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "localhost");
    name.push(DnType::OrganizationName, "HashiCorp");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let cert = params.self_signed(&key).unwrap();
    ClientIdentity {
        pem: cert.pem(),
        der: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
    }
}

/// Trusts exactly one server certificate, as Go's client does with a one-certificate root pool
/// (a stock webpki verifier would reject the CA-as-end-entity certificate).
#[derive(Debug)]
struct PinnedServer {
    der: Vec<u8>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        assert_eq!(server_name.to_str(), "localhost");
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn client_tls(
    server_der: &[u8],
    identity: Option<&ClientIdentity>,
    tls12_only: bool,
) -> Arc<ClientConfig> {
    let provider = tls::crypto_provider();
    let algorithms = provider.signature_verification_algorithms;
    let builder = ClientConfig::builder_with_provider(provider);
    let builder = if tls12_only {
        builder.with_protocol_versions(&[&rustls::version::TLS12])
    } else {
        builder.with_safe_default_protocol_versions()
    }
    .unwrap()
    .dangerous()
    .with_custom_certificate_verifier(Arc::new(PinnedServer {
        der: server_der.to_vec(),
        algorithms,
    }));
    let mut config = match identity {
        Some(id) => builder
            .with_client_auth_cert(
                vec![id.der.clone()],
                PrivateKeyDer::Pkcs8(id.key.clone_key()),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

/// A gRPC channel to `addr`, through TLS when `tls` is given (server name `localhost`, as Go sets).
async fn channel(
    addr: ListenAddr,
    tls: Option<Arc<ClientConfig>>,
) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_static("http://localhost")
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5))
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let addr = addr.clone();
            let tls = tls.clone();
            async move {
                let io: Box<dyn Io> = match &addr {
                    ListenAddr::Unix(path) => {
                        Box::new(tokio::net::UnixStream::connect(path).await?)
                    }
                    ListenAddr::Tcp(sock) => Box::new(tokio::net::TcpStream::connect(sock).await?),
                };
                let io: Box<dyn Io> = match tls {
                    Some(config) => {
                        let name =
                            ServerName::try_from("localhost").map_err(std::io::Error::other)?;
                        Box::new(
                            tokio_rustls::TlsConnector::from(config)
                                .connect(name, io)
                                .await?,
                        )
                    }
                    None => io,
                };
                Ok::<_, std::io::Error>(TokioIo::new(io))
            }
        }))
        .await
}

/// Health of service "plugin", or why the call failed.
async fn plugin_health(addr: ListenAddr, tls: Option<Arc<ClientConfig>>) -> Result<i32, String> {
    let channel = channel(addr, tls)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .map_err(|e| format!("check: {e}"))?;
    Ok(response.into_inner().status)
}

struct Running {
    addr: ListenAddr,
    handshake: String,
    shutdown: ShutdownHandle,
    task: JoinHandle<Result<(), super::Error>>,
}

/// Binds with `settings` and serves the [`Unimplemented`] provider in a task.
fn start(settings: &Settings) -> Running {
    let bound = listener::bind(settings).unwrap();
    let addr = bound.listener.addr();
    let shutdown = ShutdownHandle::new();
    let task = tokio::spawn(serve(
        bound.listener,
        bound.tls,
        Unimplemented,
        shutdown.clone(),
    ));
    Running {
        addr,
        handshake: bound.handshake,
        shutdown,
        task,
    }
}

fn settings(network: Network, client_cert_pem: Option<String>) -> Settings {
    Settings {
        network,
        socket_dir: None,
        ports: DEFAULT_PORTS,
        client_cert_pem,
    }
}

/// Splits a handshake line and returns (network, address, cert DER).
fn parse_handshake(line: &str) -> (String, String, Vec<u8>) {
    assert!(line.ends_with('\n'), "{line:?}");
    let fields: Vec<&str> = line.trim_end_matches('\n').split('|').collect();
    assert_eq!(fields.len(), 6, "{line:?}");
    assert_eq!(fields[0], "1");
    assert_eq!(fields[1], "6");
    assert_eq!(fields[4], "grpc");
    assert!(!fields[5].contains('='), "cert must be unpadded: {line:?}");
    let der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(fields[5])
        .unwrap();
    (fields[2].to_string(), fields[3].to_string(), der)
}

#[tokio::test]
async fn handshake_announces_unix_socket_and_a_localhost_ca_certificate() {
    let client = terraform_like_client_cert();
    let running = start(&settings(Network::Unix, Some(client.pem.clone())));
    let (network, address, der) = parse_handshake(&running.handshake);
    assert_eq!(network, "unix");
    assert_eq!(ListenAddr::Unix(address.clone().into()), running.addr);
    assert!(std::path::Path::new(&address).exists());

    let (rest, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    assert!(rest.is_empty());
    let san = cert.subject_alternative_name().unwrap().unwrap();
    assert!(san.value.general_names.iter().any(|n| matches!(
        n,
        x509_parser::extensions::GeneralName::DNSName("localhost")
    )));
    assert_eq!(
        cert.subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        "localhost"
    );
    assert!(cert.is_ca());
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.server_auth && eku.client_auth);
    let ku = cert.key_usage().unwrap().unwrap().value;
    assert!(ku.digital_signature() && ku.key_cert_sign());
    // Self-signed, and valid now (not_before backdated against clock skew).
    assert_eq!(cert.subject(), cert.issuer());
    assert!(cert.validity().is_valid());

    running.shutdown.shutdown();
    running.task.await.unwrap().unwrap();
    // The socket's temp dir is cleaned up.
    assert!(!std::path::Path::new(&address).exists());
}

#[tokio::test]
async fn terraform_like_client_gets_serving_health_over_tls13_and_tls12() {
    let client = terraform_like_client_cert();
    let running = start(&settings(Network::Unix, Some(client.pem.clone())));
    let (_, _, server_der) = parse_handshake(&running.handshake);
    for tls12_only in [false, true] {
        let tls = client_tls(&server_der, Some(&client), tls12_only);
        let status = plugin_health(running.addr.clone(), Some(tls)).await;
        assert_eq!(
            status,
            Ok(ServingStatus::Serving as i32),
            "tls12_only={tls12_only}"
        );
    }
    running.shutdown.shutdown();
    running.task.await.unwrap().unwrap();
}

#[tokio::test]
async fn clients_without_the_exact_certificate_are_refused_and_the_server_keeps_serving() {
    let client = terraform_like_client_cert();
    let stranger = terraform_like_client_cert();
    let running = start(&settings(Network::Unix, Some(client.pem.clone())));
    let (_, _, server_der) = parse_handshake(&running.handshake);

    for tls12_only in [false, true] {
        let none = plugin_health(
            running.addr.clone(),
            Some(client_tls(&server_der, None, tls12_only)),
        )
        .await;
        assert!(none.is_err(), "no client cert accepted: {none:?}");
        let other = plugin_health(
            running.addr.clone(),
            Some(client_tls(&server_der, Some(&stranger), tls12_only)),
        )
        .await;
        assert!(other.is_err(), "another cert accepted: {other:?}");
    }
    // Plaintext against a TLS server fails too.
    assert!(plugin_health(running.addr.clone(), None).await.is_err());

    // The failures dropped only those connections.
    let ok = plugin_health(
        running.addr.clone(),
        Some(client_tls(&server_der, Some(&client), false)),
    )
    .await;
    assert_eq!(ok, Ok(ServingStatus::Serving as i32));
    running.shutdown.shutdown();
    running.task.await.unwrap().unwrap();
}

#[tokio::test]
async fn controller_shutdown_stops_the_server_promptly_even_with_a_stdio_stream_open() {
    let client = terraform_like_client_cert();
    let running = start(&settings(Network::Unix, Some(client.pem.clone())));
    let (_, _, server_der) = parse_handshake(&running.handshake);
    let tls = client_tls(&server_der, Some(&client), false);

    // Terraform keeps StreamStdio open for the plugin's whole life.
    let stdio_channel = channel(running.addr.clone(), Some(tls.clone()))
        .await
        .unwrap();
    let mut stdio = GrpcStdioClient::new(stdio_channel)
        .stream_stdio(())
        .await
        .unwrap()
        .into_inner();

    let channel = channel(running.addr.clone(), Some(tls)).await.unwrap();
    let started = std::time::Instant::now();
    GrpcControllerClient::new(channel)
        .shutdown(mesh_proto::plugin::Empty {})
        .await
        .unwrap();
    let finished = tokio::time::timeout(Duration::from_secs(2), running.task).await;
    assert!(finished.is_ok(), "server still running 2 s after Shutdown");
    finished.unwrap().unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    // The stdio stream ended without sending anything.
    let next = tokio::time::timeout(Duration::from_secs(1), stdio.message()).await;
    assert!(matches!(next, Ok(Ok(None)) | Ok(Err(_))), "{next:?}");
}

#[tokio::test]
async fn unimplemented_rpcs_answer_unimplemented() {
    // Checks the generated default stubs the provider relies on (build.rs generate_default_stubs).
    let running = start(&settings(Network::Unix, None));
    let (network, _, der) = parse_handshake(&running.handshake);
    assert_eq!(network, "unix");
    assert!(der.is_empty(), "plaintext announces an empty certificate");
    let channel = channel(running.addr.clone(), None).await.unwrap();
    let status = ProviderClient::new(channel)
        .get_resource_identity_schemas(
            mesh_proto::tfplugin6::get_resource_identity_schemas::Request {},
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unimplemented);
    running.shutdown.shutdown();
    running.task.await.unwrap().unwrap();
}

#[tokio::test]
async fn tcp_listener_stays_in_the_port_range_and_serves_tls() {
    let client = terraform_like_client_cert();
    let mut s = settings(Network::Tcp, Some(client.pem.clone()));
    s.ports = 20000..=20100;
    let running = start(&s);
    let (network, address, server_der) = parse_handshake(&running.handshake);
    assert_eq!(network, "tcp");
    let sock: std::net::SocketAddr = address.parse().unwrap();
    assert_eq!(sock.ip(), std::net::Ipv4Addr::LOCALHOST);
    assert!((20000..=20100).contains(&sock.port()), "{sock}");
    let status = plugin_health(
        running.addr.clone(),
        Some(client_tls(&server_der, Some(&client), false)),
    )
    .await;
    assert_eq!(status, Ok(ServingStatus::Serving as i32));
    running.shutdown.shutdown();
    running.task.await.unwrap().unwrap();
}

#[tokio::test]
async fn tcp_listener_skips_busy_ports_and_fails_when_all_are_busy() {
    // Hold one port, then ask for a range of just that port and its neighbour.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let err = PluginListener::bind_tcp(port..=port).unwrap_err();
    assert!(matches!(err, super::Error::Listen(_)), "{err}");
    if let Some(next) = port.checked_add(1) {
        // The neighbour may be taken by someone else; then this is no evidence either way.
        if let Ok(listener) = PluginListener::bind_tcp(port..=next) {
            assert_eq!(
                listener.addr(),
                ListenAddr::Tcp(std::net::SocketAddr::from(([127, 0, 0, 1], next)))
            );
        }
    }
}

#[test]
fn client_cert_pem_must_hold_a_certificate() {
    assert!(tls::parse_certificates("").is_err());
    assert!(tls::parse_certificates("not pem").is_err());
    let client = terraform_like_client_cert();
    let certs = tls::parse_certificates(&client.pem).unwrap();
    assert_eq!(certs, vec![client.der.clone()]);
}

#[test]
fn args_accept_debug_and_ignore_the_program_name() {
    use super::Args;
    let parse = |v: &[&str]| Args::parse(v.iter().map(|s| s.to_string()));
    assert_eq!(parse(&[]).unwrap(), Args { debug: false });
    assert_eq!(
        parse(&["/bin/terraform-provider-mesh"]).unwrap(),
        Args { debug: false }
    );
    assert_eq!(
        parse(&["terraform-provider-mesh", "--debug"]).unwrap(),
        Args { debug: true }
    );
    assert_eq!(parse(&["-debug"]).unwrap(), Args { debug: true });
    assert!(parse(&["--bogus"]).is_err());
}

#[tokio::test]
async fn shutdown_handle_is_level_triggered() {
    let handle = ShutdownHandle::new();
    assert!(!handle.is_shutdown());
    handle.shutdown();
    handle.shutdown();
    assert!(handle.is_shutdown());
    // A waiter arriving after the request still completes.
    tokio::time::timeout(Duration::from_millis(100), handle.clone().wait())
        .await
        .unwrap();
}
