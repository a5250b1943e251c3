//! The gRPC server: the provider plus the services every go-plugin server registers.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt;
use mesh_proto::plugin::grpc_broker_server::{GrpcBroker, GrpcBrokerServer};
use mesh_proto::plugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use mesh_proto::plugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use mesh_proto::plugin::{ConnInfo, Empty, StdioData};
use mesh_proto::tfplugin6::provider_server::{Provider, ProviderServer};
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tonic::codegen::BoxStream;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status, Streaming};

use super::listener::{Io, PluginListener};
use super::{Error, ShutdownHandle, SHUTDOWN_GRACE};

/// Largest gRPC message either way. Go servers allow 256 MiB; tonic's 4 MiB default is too small
/// for big schemas and states.
pub const MAX_MESSAGE_SIZE: usize = 256 << 20;

/// A client gets this long to finish the TLS handshake; a stuck one must not hold a task forever.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `provider` and go-plugin's health, controller, stdio and broker services on `listener`,
/// over TLS when `tls` is given, until `shutdown` is triggered (by `GRPCController/Shutdown`, a
/// signal, or the caller). In-flight RPCs then get a short grace period before the future completes
/// regardless. The listener (and a unix socket's temp dir) is dropped on return.
pub async fn serve<P: Provider>(
    listener: PluginListener,
    tls: Option<Arc<ServerConfig>>,
    provider: P,
    shutdown: ShutdownHandle,
) -> Result<(), Error> {
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let (conn_tx, conn_rx) = mpsc::channel::<Conn>(16);
    let accept_loop = tokio::spawn(accept_loop(
        listener,
        tls.map(TlsAcceptor::from),
        conn_tx,
        shutdown.clone(),
    ));
    let incoming = ReceiverStream::new(conn_rx).map(Ok::<Conn, Infallible>);

    let server = tonic::transport::Server::builder()
        .add_service(
            ProviderServer::new(provider)
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
        )
        .add_service(health)
        .add_service(GrpcControllerServer::new(Controller {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcStdioServer::new(Stdio {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcBrokerServer::new(Broker {
            shutdown: shutdown.clone(),
        }))
        .serve_with_incoming_shutdown(incoming, shutdown.clone().wait_owned());

    let deadline = async {
        shutdown.wait().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    let result = tokio::select! {
        result = server => result.map_err(Error::from),
        () = deadline => {
            crate::debug!("connections still open after the shutdown grace period; exiting anyway");
            Ok(())
        }
    };
    // The accept loop ends on shutdown; a server error ends it here. Either way the listener (and
    // the socket's temp dir) is gone when we return.
    shutdown.shutdown();
    accept_loop.abort();
    let _ = accept_loop.await;
    result
}

impl ShutdownHandle {
    // An owned future for APIs that need `'static`.
    async fn wait_owned(self) {
        self.wait().await;
    }
}

async fn accept_loop(
    listener: PluginListener,
    tls: Option<TlsAcceptor>,
    conns: mpsc::Sender<Conn>,
    shutdown: ShutdownHandle,
) {
    loop {
        let io = tokio::select! {
            () = shutdown.wait() => break,
            accepted = listener.accept() => match accepted {
                Ok(io) => io,
                Err(err) => {
                    // Out of file descriptors and the like: transient; do not spin.
                    crate::debug!("accept failed", error = err.to_string());
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        match &tls {
            None => {
                if conns.send(Conn(io)).await.is_err() {
                    break;
                }
            }
            Some(acceptor) => {
                // Handshake off the accept loop so a slow client does not block the next one; a
                // failed handshake drops that connection only.
                let acceptor = acceptor.clone();
                let conns = conns.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(io)).await {
                        Ok(Ok(stream)) => {
                            let _ = conns.send(Conn(Box::new(stream))).await;
                        }
                        Ok(Err(err)) => {
                            crate::debug!("TLS handshake failed", error = err.to_string());
                        }
                        Err(_) => crate::debug!("TLS handshake timed out"),
                    }
                });
            }
        }
    }
    crate::trace!("stopped accepting connections");
}

/// One accepted connection, plaintext or TLS, unix or TCP.
struct Conn(Box<dyn Io>);

impl Connected for Conn {
    // Peer addresses mean nothing on a private socket.
    type ConnectInfo = ();

    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

/// A response stream that sends nothing and ends when `shutdown` is triggered or `until` completes.
fn silent_stream<T: Send + 'static>(
    shutdown: ShutdownHandle,
    until: impl std::future::Future<Output = ()> + Send + 'static,
) -> BoxStream<T> {
    let end = async move {
        tokio::select! {
            () = shutdown.wait() => {}
            () = until => {}
        }
    };
    Box::pin(futures::stream::once(end).filter_map(|()| futures::future::ready(None)))
}

/// `plugin.GRPCController`: Terraform's way to end the process.
struct Controller {
    shutdown: ShutdownHandle,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        crate::debug!("GRPCController/Shutdown called; shutting down");
        // Triggering before answering is fine: graceful shutdown lets this response through.
        self.shutdown.shutdown();
        Ok(Response::new(Empty {}))
    }
}

/// `plugin.GRPCStdio`: go-plugin mirrors a plugin's stdout/stderr through it. We write logs to the
/// real stderr, which Terraform reads, so the stream stays silent until shutdown.
struct Stdio {
    shutdown: ShutdownHandle,
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<BoxStream<StdioData>>, Status> {
        Ok(Response::new(silent_stream(
            self.shutdown.clone(),
            futures::future::pending(),
        )))
    }
}

/// `plugin.GRPCBroker`: brokers extra connections for sub-plugins, which we never start. Terraform
/// opens the stream anyway; accept it, drain what arrives, send nothing.
struct Broker {
    shutdown: ShutdownHandle,
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    async fn start_stream(
        &self,
        request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<BoxStream<ConnInfo>>, Status> {
        let mut incoming = request.into_inner();
        let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = shutdown.wait() => break,
                    message = incoming.message() => match message {
                        Ok(Some(info)) => crate::trace!(
                            "ignoring broker message",
                            service_id = info.service_id
                        ),
                        // The client closed its side, or the connection failed.
                        Ok(None) | Err(_) => break,
                    },
                }
            }
            let _ = closed_tx.send(());
        });
        Ok(Response::new(silent_stream(self.shutdown.clone(), async {
            let _ = closed_rx.await;
        })))
    }
}
