//! What Terraform tells the plugin through the environment, and what the plugin answers on stdout.
//!
//! Everything here is a pure function of an environment lookup, so tests never touch the
//! process-global environment.

use std::fmt;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;

use base64::Engine;

use super::{Error, PROVIDER_ADDRESS};

/// Where the plugin listens, as the handshake names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    /// A unix socket path.
    Unix(PathBuf),
    /// A TCP address on 127.0.0.1.
    Tcp(SocketAddr),
}

impl ListenAddr {
    /// The handshake's NETWORK field.
    pub fn network(&self) -> &'static str {
        match self {
            ListenAddr::Unix(_) => "unix",
            ListenAddr::Tcp(_) => "tcp",
        }
    }
}

impl fmt::Display for ListenAddr {
    /// The handshake's ADDR field.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAddr::Unix(path) => write!(f, "{}", path.display()),
            ListenAddr::Tcp(addr) => write!(f, "{addr}"),
        }
    }
}

/// The variable holding go-plugin's magic cookie.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The cookie value Terraform sets for its provider plugins.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's core protocol version, the first handshake field.
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol major version we speak.
pub const APP_PROTOCOL_VERSION: u32 = 6;
/// The port range go-plugin uses when `PLUGIN_MIN_PORT` / `PLUGIN_MAX_PORT` are unset.
pub const DEFAULT_PORTS: RangeInclusive<u16> = 10000..=25000;
/// Hidden override of the listener network (`unix` or `tcp`), for tests only.
pub const NETWORK_OVERRIDE_ENV: &str = "MESH_PLUGIN_NETWORK";

/// Which kind of socket to listen on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// A unix domain socket in a fresh temp dir (the default where available).
    Unix,
    /// TCP on 127.0.0.1 within the port range.
    Tcp,
}

impl Network {
    /// The platform default, as go-plugin chooses it.
    pub fn platform_default() -> Network {
        if cfg!(unix) {
            Network::Unix
        } else {
            Network::Tcp
        }
    }
}

/// Everything the listener and TLS setup need, decided from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Socket kind.
    pub network: Network,
    /// Where to create the socket's temp dir (`PLUGIN_UNIX_SOCKET_DIR`); the system temp dir if None.
    pub socket_dir: Option<PathBuf>,
    /// TCP ports we may bind.
    pub ports: RangeInclusive<u16>,
    /// Terraform's client certificate (PEM) for AutoMTLS; None serves plaintext.
    pub client_cert_pem: Option<String>,
}

impl Settings {
    /// Settings for a normal start by Terraform: checks the magic cookie and the protocol version.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Settings, Error> {
        check_magic_cookie(env(MAGIC_COOKIE_KEY).as_deref())?;
        negotiate_protocol(env("PLUGIN_PROTOCOL_VERSIONS").as_deref())?;
        let tls_disabled = non_empty(env("TF_DISABLE_PLUGIN_TLS")).is_some();
        Ok(Settings {
            network: network(&env)?,
            socket_dir: non_empty(env("PLUGIN_UNIX_SOCKET_DIR")).map(PathBuf::from),
            ports: ports(&env)?,
            client_cert_pem: non_empty(env("PLUGIN_CLIENT_CERT")).filter(|_| !tls_disabled),
        })
    }

    /// Settings for `--debug`: no cookie, plaintext (a reattaching Terraform sends no certificate).
    pub fn debug(env: impl Fn(&str) -> Option<String>) -> Result<Settings, Error> {
        Ok(Settings {
            network: network(&env)?,
            socket_dir: non_empty(env("PLUGIN_UNIX_SOCKET_DIR")).map(PathBuf::from),
            ports: ports(&env)?,
            client_cert_pem: None,
        })
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// Fails unless `cookie` is Terraform's magic cookie.
pub fn check_magic_cookie(cookie: Option<&str>) -> Result<(), Error> {
    if cookie == Some(MAGIC_COOKIE_VALUE) {
        Ok(())
    } else {
        Err(Error::NotStartedByTerraform)
    }
}

/// Picks protocol 6 from `PLUGIN_PROTOCOL_VERSIONS` (a comma list in any order). Unset or empty means
/// an old client that only knows the version it launched us for: assume 6. Entries that are not
/// numbers are skipped, as go-plugin does.
pub fn negotiate_protocol(offered: Option<&str>) -> Result<u32, Error> {
    let Some(offered) = offered.filter(|v| !v.trim().is_empty()) else {
        return Ok(APP_PROTOCOL_VERSION);
    };
    let speaks_ours = offered
        .split(',')
        .filter_map(|v| v.trim().parse::<u32>().ok())
        .any(|v| v == APP_PROTOCOL_VERSION);
    if speaks_ours {
        Ok(APP_PROTOCOL_VERSION)
    } else {
        Err(Error::UnsupportedProtocol {
            offered: offered.to_string(),
        })
    }
}

fn network(env: &impl Fn(&str) -> Option<String>) -> Result<Network, Error> {
    match non_empty(env(NETWORK_OVERRIDE_ENV)) {
        None => Ok(Network::platform_default()),
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "unix" => Ok(Network::Unix),
            "tcp" => Ok(Network::Tcp),
            _ => Err(Error::InvalidEnv {
                name: NETWORK_OVERRIDE_ENV,
                value: v,
                reason: "expected unix or tcp".into(),
            }),
        },
    }
}

fn ports(env: &impl Fn(&str) -> Option<String>) -> Result<RangeInclusive<u16>, Error> {
    let port = |name: &'static str, default: u16| -> Result<u16, Error> {
        match non_empty(env(name)) {
            None => Ok(default),
            Some(v) => v.trim().parse::<u16>().map_err(|e| Error::InvalidEnv {
                name,
                value: v,
                reason: format!("not a port number ({e})"),
            }),
        }
    };
    let min = port("PLUGIN_MIN_PORT", *DEFAULT_PORTS.start())?;
    let max = port("PLUGIN_MAX_PORT", *DEFAULT_PORTS.end())?;
    if min > max {
        return Err(Error::InvalidEnv {
            name: "PLUGIN_MIN_PORT",
            value: min.to_string(),
            reason: format!("greater than PLUGIN_MAX_PORT ({max})"),
        });
    }
    Ok(min..=max)
}

/// go-plugin's handshake line, newline included: `1|6|unix|/path/plugin.sock|grpc|CERT`. CERT is the
/// server certificate's DER in standard base64 without padding, empty when serving plaintext.
pub fn handshake_line(addr: &ListenAddr, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!(
        "{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|{}|{addr}|grpc|{cert}\n",
        addr.network()
    )
}

/// The `TF_REATTACH_PROVIDERS` JSON for a plugin served in `--debug` mode. `"Test": true` is required
/// for protocol 6, and keeps Terraform from killing the process it reattached to.
pub fn reattach_json(addr: &ListenAddr, pid: u32) -> String {
    serde_json::json!({
        PROVIDER_ADDRESS: {
            "Protocol": "grpc",
            "ProtocolVersion": APP_PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": addr.network(), "String": addr.to_string() },
        }
    })
    .to_string()
}

/// What `--debug` prints: how to point Terraform at this process.
pub fn debug_announcement(addr: &ListenAddr, pid: u32) -> String {
    format!(
        "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment \
         variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{}'\n",
        reattach_json(addr, pid)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const COOKIE: (&str, &str) = (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE);

    #[test]
    fn magic_cookie_must_match_exactly() {
        assert!(check_magic_cookie(Some(MAGIC_COOKIE_VALUE)).is_ok());
        assert!(matches!(
            check_magic_cookie(None),
            Err(Error::NotStartedByTerraform)
        ));
        assert!(check_magic_cookie(Some("")).is_err());
        assert!(check_magic_cookie(Some(&MAGIC_COOKIE_VALUE[1..])).is_err());
        assert!(check_magic_cookie(Some(&format!("{MAGIC_COOKIE_VALUE} "))).is_err());
        // The message is one line, for a person.
        let msg = Error::NotStartedByTerraform.to_string();
        assert!(!msg.contains('\n') && msg.contains("Terraform"), "{msg}");
    }

    #[test]
    fn from_env_refuses_a_missing_cookie() {
        assert!(matches!(
            Settings::from_env(env(&[])),
            Err(Error::NotStartedByTerraform)
        ));
        // --debug does not need it.
        assert!(Settings::debug(env(&[])).is_ok());
    }

    #[test]
    fn protocol_6_is_found_in_any_order() {
        assert_eq!(negotiate_protocol(None).unwrap(), 6);
        assert_eq!(negotiate_protocol(Some("")).unwrap(), 6);
        assert_eq!(negotiate_protocol(Some("5,6")).unwrap(), 6);
        assert_eq!(negotiate_protocol(Some("6,5")).unwrap(), 6);
        assert_eq!(negotiate_protocol(Some(" 6 ")).unwrap(), 6);
        assert_eq!(negotiate_protocol(Some("x,6")).unwrap(), 6);
        let err = negotiate_protocol(Some("4,5")).unwrap_err();
        assert!(matches!(err, Error::UnsupportedProtocol { .. }));
        assert!(err.to_string().contains("4,5"));
        assert!(negotiate_protocol(Some("60")).is_err());
        assert!(Settings::from_env(env(&[COOKIE, ("PLUGIN_PROTOCOL_VERSIONS", "5")])).is_err());
    }

    #[test]
    fn defaults() {
        let s = Settings::from_env(env(&[COOKIE])).unwrap();
        assert_eq!(s.ports, 10000..=25000);
        assert_eq!(s.network, Network::platform_default());
        assert_eq!(s.client_cert_pem, None);
        assert_eq!(s.socket_dir, None);
    }

    #[test]
    fn ports_and_overrides() {
        let s = Settings::from_env(env(&[
            COOKIE,
            ("PLUGIN_MIN_PORT", "20000"),
            ("PLUGIN_MAX_PORT", "20010"),
            (NETWORK_OVERRIDE_ENV, "tcp"),
            ("PLUGIN_UNIX_SOCKET_DIR", "/run/x"),
        ]))
        .unwrap();
        assert_eq!(s.ports, 20000..=20010);
        assert_eq!(s.network, Network::Tcp);
        assert_eq!(s.socket_dir, Some(PathBuf::from("/run/x")));
        for bad in [
            vec![("PLUGIN_MIN_PORT", "abc")],
            vec![("PLUGIN_MAX_PORT", "70000")],
            vec![("PLUGIN_MIN_PORT", "20"), ("PLUGIN_MAX_PORT", "10")],
            vec![(NETWORK_OVERRIDE_ENV, "udp")],
        ] {
            let mut pairs = vec![COOKIE];
            pairs.extend(bad.iter().copied());
            let err = Settings::from_env(env(&pairs)).unwrap_err();
            assert!(matches!(err, Error::InvalidEnv { .. }), "{bad:?}: {err}");
        }
    }

    #[test]
    fn tls_follows_client_cert_unless_disabled() {
        let pem = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";
        let s = Settings::from_env(env(&[COOKIE, ("PLUGIN_CLIENT_CERT", pem)])).unwrap();
        assert_eq!(s.client_cert_pem.as_deref(), Some(pem));
        let s = Settings::from_env(env(&[
            COOKIE,
            ("PLUGIN_CLIENT_CERT", pem),
            ("TF_DISABLE_PLUGIN_TLS", "1"),
        ]))
        .unwrap();
        assert_eq!(s.client_cert_pem, None);
        let s = Settings::debug(env(&[("PLUGIN_CLIENT_CERT", pem)])).unwrap();
        assert_eq!(s.client_cert_pem, None);
    }

    #[test]
    fn handshake_line_format() {
        let unix = ListenAddr::Unix(PathBuf::from("/tmp/plugin123/plugin.sock"));
        // 0xfb 0xff encodes to "+/8=" with padding: checks the standard alphabet and no padding.
        assert_eq!(
            handshake_line(&unix, Some(&[0xfb, 0xff])),
            "1|6|unix|/tmp/plugin123/plugin.sock|grpc|+/8\n"
        );
        assert_eq!(
            handshake_line(&unix, None),
            "1|6|unix|/tmp/plugin123/plugin.sock|grpc|\n"
        );
        let tcp = ListenAddr::Tcp("127.0.0.1:10001".parse().unwrap());
        assert_eq!(
            handshake_line(&tcp, None),
            "1|6|tcp|127.0.0.1:10001|grpc|\n"
        );
    }

    #[test]
    fn reattach_json_is_what_terraform_reads() {
        let unix = ListenAddr::Unix(PathBuf::from("/tmp/p\"q/plugin.sock"));
        let v: serde_json::Value = serde_json::from_str(&reattach_json(&unix, 4242)).unwrap();
        let p = &v["registry.terraform.io/meshcraft/mesh"];
        assert_eq!(p["Protocol"], "grpc");
        assert_eq!(p["ProtocolVersion"], 6);
        assert_eq!(p["Pid"], 4242);
        assert_eq!(p["Test"], true);
        assert_eq!(p["Addr"]["Network"], "unix");
        assert_eq!(p["Addr"]["String"], "/tmp/p\"q/plugin.sock");
        let text = debug_announcement(&unix, 4242);
        assert!(text.contains("TF_REATTACH_PROVIDERS='{"), "{text}");
        assert!(text.ends_with("}'\n"), "{text}");
    }
}
