//! The socket Terraform connects to, and the pieces decided before serving.

use std::net::{Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
#[cfg(unix)]
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};

pub use super::handshake::ListenAddr;
use super::handshake::{self, Network, Settings};
use super::tls::{self, ServerIdentity};
use super::Error;

/// A byte stream of any kind, so unix, TCP and TLS connections share one type.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// A bound listener. A unix listener owns its private temp dir, removed (socket included) on drop.
#[derive(Debug)]
pub enum PluginListener {
    /// A unix socket.
    #[cfg(unix)]
    Unix {
        /// The listener.
        listener: tokio::net::UnixListener,
        /// The socket path.
        path: PathBuf,
        /// Held for its Drop, which removes the directory.
        dir: tempfile::TempDir,
    },
    /// TCP on 127.0.0.1.
    Tcp {
        /// The listener.
        listener: tokio::net::TcpListener,
        /// The bound address.
        addr: SocketAddr,
    },
}

impl PluginListener {
    /// Binds a unix socket `plugin.sock` in a new private (0700) temp dir under `parent` (the system
    /// temp dir if None). Must be called within a tokio runtime.
    #[cfg(unix)]
    pub fn bind_unix(parent: Option<&Path>) -> Result<PluginListener, Error> {
        let builder = {
            let mut b = tempfile::Builder::new();
            b.prefix("plugin");
            b
        };
        let dir = match parent {
            Some(parent) => builder.tempdir_in(parent),
            None => builder.tempdir(),
        }
        .map_err(|e| Error::Listen(format!("cannot create a temp dir for the socket: {e}")))?;
        let path = dir.path().join("plugin.sock");
        let listener = tokio::net::UnixListener::bind(&path)
            .map_err(|e| Error::Listen(format!("cannot bind {}: {e}", path.display())))?;
        Ok(PluginListener::Unix {
            listener,
            path,
            dir,
        })
    }

    /// Binds 127.0.0.1 on the first free port of `ports`, starting at a random one so plugins
    /// started together do not all race for the same port. Must be called within a tokio runtime.
    pub fn bind_tcp(ports: RangeInclusive<u16>) -> Result<PluginListener, Error> {
        let (min, max) = (*ports.start(), *ports.end());
        if min > max {
            return Err(Error::Listen(format!("empty port range {min}..={max}")));
        }
        let span = u32::from(max - min) + 1;
        let offset = rand::random_range(0..span);
        let mut last_error = None;
        for i in 0..span {
            // Stays within u16: the sum is reduced modulo the span, then added to min.
            let port = min + ((offset + i) % span) as u16;
            match std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
                Ok(std_listener) => {
                    let listener = std_listener
                        .set_nonblocking(true)
                        .and_then(|()| tokio::net::TcpListener::from_std(std_listener))
                        .map_err(|e| Error::Listen(format!("cannot use port {port}: {e}")))?;
                    let addr = listener
                        .local_addr()
                        .map_err(|e| Error::Listen(format!("cannot use port {port}: {e}")))?;
                    return Ok(PluginListener::Tcp { listener, addr });
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(Error::Listen(format!(
            "no free TCP port on 127.0.0.1 in {min}..={max} (PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT){}",
            last_error.map(|e| format!(": {e}")).unwrap_or_default()
        )))
    }

    /// The address for the handshake.
    pub fn addr(&self) -> ListenAddr {
        match self {
            #[cfg(unix)]
            PluginListener::Unix { path, .. } => ListenAddr::Unix(path.clone()),
            PluginListener::Tcp { addr, .. } => ListenAddr::Tcp(*addr),
        }
    }

    /// Accepts one connection.
    pub async fn accept(&self) -> std::io::Result<Box<dyn Io>> {
        match self {
            #[cfg(unix)]
            PluginListener::Unix { listener, .. } => {
                let (stream, _) = listener.accept().await?;
                Ok(Box::new(stream))
            }
            PluginListener::Tcp { listener, .. } => {
                let (stream, _) = listener.accept().await?;
                // gRPC messages are small request/response pairs: do not wait to coalesce them.
                let _ = stream.set_nodelay(true);
                Ok(Box::new(stream))
            }
        }
    }
}

/// A listener with its TLS config and the handshake line announcing both.
#[derive(Debug)]
pub struct Bound {
    /// The listener.
    pub listener: PluginListener,
    /// The server TLS config; None serves plaintext.
    pub tls: Option<Arc<ServerConfig>>,
    /// The handshake line for stdout, newline included.
    pub handshake: String,
}

/// Binds the listener `settings` ask for (falling back to TCP when a unix socket cannot be made) and
/// builds the TLS config when Terraform sent a client certificate. Must be called within a tokio
/// runtime.
pub fn bind(settings: &Settings) -> Result<Bound, Error> {
    let listener = match settings.network {
        #[cfg(unix)]
        Network::Unix => match PluginListener::bind_unix(settings.socket_dir.as_deref()) {
            Ok(listener) => listener,
            Err(err) => {
                crate::debug!(
                    "unix socket unavailable; falling back to TCP",
                    error = err.to_string()
                );
                PluginListener::bind_tcp(settings.ports.clone())?
            }
        },
        #[cfg(not(unix))]
        Network::Unix => PluginListener::bind_tcp(settings.ports.clone())?,
        Network::Tcp => PluginListener::bind_tcp(settings.ports.clone())?,
    };
    let (tls, cert_der) = match &settings.client_cert_pem {
        Some(pem) => {
            let identity = ServerIdentity::generate()?;
            let config = tls::server_config(&identity, pem)?;
            (Some(config), Some(identity.cert_der().to_vec()))
        }
        None => (None, None),
    };
    let handshake = handshake::handshake_line(&listener.addr(), cert_der.as_deref());
    Ok(Bound {
        listener,
        tls,
        handshake,
    })
}
