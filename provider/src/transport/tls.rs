//! go-plugin AutoMTLS, server side.
//!
//! Terraform generates a self-signed ECDSA P-521 / SHA-512 client certificate per plugin start and
//! passes its PEM in `PLUGIN_CLIENT_CERT`; it trusts exactly the server certificate we print in the
//! handshake. We make a fresh self-signed server certificate per start and accept only a client
//! presenting exactly Terraform's certificate.
//!
//! Terraform's client certificate is a CA certificate used as an end entity, which webpki's stock
//! verifier rejects (`CaUsedAsEndEntity`); and ring cannot verify P-521. So the client verifier is
//! our own: byte-equal DER against the PEM's certificates (what go-plugin's one-certificate pool
//! amounts to), and handshake signatures checked with the aws-lc-rs provider's algorithms, which
//! include P-521 / SHA-512.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName as TlsName, ServerConfig};

use super::Error;

/// The server's certificate and key, made fresh for each start.
pub struct ServerIdentity {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for ServerIdentity {
    // Never print the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdentity")
            .field("cert_len", &self.cert.len())
            .finish_non_exhaustive()
    }
}

impl ServerIdentity {
    /// A self-signed ECDSA P-256 certificate the way Terraform checks it: CN and SAN DNS `localhost`,
    /// CA (Terraform trusts it as its own root), key usages digital signature + certificate signing,
    /// EKU serverAuth + clientAuth, valid from 30 s ago (clock skew) for a year.
    pub fn generate() -> Result<ServerIdentity, Error> {
        let tls_err = |what: &str| {
            let what = what.to_string();
            move |e: rcgen::Error| Error::Tls(format!("{what}: {e}"))
        };
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(tls_err("cannot generate the server key"))?;
        let mut params = CertificateParams::new(vec!["localhost".to_string()])
            .map_err(tls_err("bad certificate name"))?;
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "localhost");
        name.push(DnType::OrganizationName, "terraform-provider-mesh");
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::seconds(30);
        params.not_after = now + time::Duration::days(365);
        let cert = params
            .self_signed(&key)
            .map_err(tls_err("cannot sign the server certificate"))?;
        Ok(ServerIdentity {
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }

    /// The certificate's DER, as printed (base64) in the handshake.
    pub fn cert_der(&self) -> &[u8] {
        self.cert.as_ref()
    }
}

/// The crypto provider for both halves of the connection: aws-lc-rs, chosen explicitly so that no
/// process-wide default (or ring, which cannot verify P-521) is ever picked up.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Parses every certificate in a PEM string (Terraform sends one). Fails when there is none.
pub fn parse_certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Tls(format!("PLUGIN_CLIENT_CERT is not a PEM certificate: {e}")))?;
    if certs.is_empty() {
        return Err(Error::Tls(
            "PLUGIN_CLIENT_CERT holds no PEM certificate".to_string(),
        ));
    }
    Ok(certs)
}

/// The server TLS config: TLS 1.2 and 1.3, ALPN `h2`, our certificate, and a client certificate
/// required and accepted only when it is one of those in `client_cert_pem`.
pub fn server_config(
    identity: &ServerIdentity,
    client_cert_pem: &str,
) -> Result<Arc<ServerConfig>, Error> {
    let provider = crypto_provider();
    let verifier = ExactClientCertVerifier::new(
        parse_certificates(client_cert_pem)?,
        provider.signature_verification_algorithms,
    );
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![identity.cert.clone()],
            PrivateKeyDer::Pkcs8(identity.key.clone_key()),
        )
        .map_err(|e| Error::Tls(format!("server certificate rejected: {e}")))?;
    // gRPC is HTTP/2; Go's client offers only h2.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts a client certificate only when its DER equals one of the allowed certificates.
///
/// No chain, name or validity check: the certificate was generated by Terraform for this one start
/// and handed to us out of band, so equality is the whole trust decision. The handshake signature
/// proves the client holds the matching key.
#[derive(Debug)]
pub struct ExactClientCertVerifier {
    allowed: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ExactClientCertVerifier {
    /// A verifier accepting exactly `allowed`, checking signatures with `algorithms`.
    pub fn new(
        allowed: Vec<CertificateDer<'static>>,
        algorithms: WebPkiSupportedAlgorithms,
    ) -> Self {
        ExactClientCertVerifier {
            allowed,
            algorithms,
        }
    }
}

impl ClientCertVerifier for ExactClientCertVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[TlsName] {
        // Go's client sends its only certificate whatever the hints say.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if self
            .allowed
            .iter()
            .any(|allowed| allowed.as_ref() == end_entity.as_ref())
        {
            Ok(ClientCertVerified::assertion())
        } else {
            crate::debug!("refused a TLS client: certificate is not PLUGIN_CLIENT_CERT");
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
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
