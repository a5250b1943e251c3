//! The plugin transport: go-plugin's handshake, AutoMTLS and the gRPC server.
//!
//! This module knows gRPC and hashicorp/go-plugin, nothing of AWS or of resources: it serves whatever
//! [`Provider`] it is given. [`run`] is the whole life of the process:
//!
//! 1. outside `--debug`, check the magic cookie Terraform sets (`TF_PLUGIN_MAGIC_COOKIE`) and
//!    negotiate protocol 6 from `PLUGIN_PROTOCOL_VERSIONS` ([`handshake::Settings::from_env`]);
//! 2. listen on a unix socket in a fresh private temp dir (`PLUGIN_UNIX_SOCKET_DIR` or the system
//!    temp dir), or on TCP `127.0.0.1` within `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT` where unix sockets
//!    are unavailable ([`listener::PluginListener`]);
//! 3. with `PLUGIN_CLIENT_CERT` set (AutoMTLS), make a fresh self-signed server certificate and
//!    accept only the client certificate Terraform gave ([`tls`]);
//! 4. print the handshake line `1|6|NETWORK|ADDR|grpc|CERT` on stdout ([`handshake::handshake_line`]);
//! 5. serve the provider plus go-plugin's health, controller, stdio and broker services until
//!    `plugin.GRPCController/Shutdown`, SIGTERM, or [`ShutdownHandle::shutdown`] ([`server::serve`]).
//!
//! SIGINT is ignored outside `--debug`, as Go plugins do: Terraform forwards Ctrl-C to the whole
//! process group and then asks the provider to stop through `StopProvider` and `Shutdown`.
//!
//! Environment read here: `TF_PLUGIN_MAGIC_COOKIE`, `PLUGIN_PROTOCOL_VERSIONS`, `PLUGIN_MIN_PORT`,
//! `PLUGIN_MAX_PORT`, `PLUGIN_CLIENT_CERT`, `TF_DISABLE_PLUGIN_TLS`, `PLUGIN_UNIX_SOCKET_DIR`, and the
//! project's own hidden override `MESH_PLUGIN_NETWORK` (`unix` or `tcp`), meant for tests of the TCP
//! listener only; Terraform never sets it.

pub mod handshake;
pub mod listener;
pub mod server;
pub mod tfplugin6;
pub mod tls;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use mesh_proto::tfplugin6::provider_server::Provider;
use tokio::sync::watch;

pub use handshake::Settings;
pub use listener::{ListenAddr, PluginListener};
pub use server::serve;

/// The provider's full source address, the key of `TF_REATTACH_PROVIDERS` in `--debug` mode.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/meshcraft/mesh";

/// Why the plugin could not start or serve. Each message is one line for stderr.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The magic cookie is missing or wrong: a person ran the binary.
    #[error(
        "this binary is a Terraform provider plugin; Terraform starts it when a configuration \
         needs it, it is not meant to be run by hand"
    )]
    NotStartedByTerraform,
    /// `PLUGIN_PROTOCOL_VERSIONS` does not offer protocol 6.
    #[error(
        "Terraform offered plugin protocol versions {offered:?}, but this provider speaks only \
         protocol 6: use Terraform 1.0 or later"
    )]
    UnsupportedProtocol {
        /// The value of `PLUGIN_PROTOCOL_VERSIONS`.
        offered: String,
    },
    /// An environment variable has a value we cannot use.
    #[error("invalid {name}={value:?}: {reason}")]
    InvalidEnv {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A command-line argument we do not know.
    #[error("unknown argument {0:?} (the only flag is --debug)")]
    Usage(String),
    /// No listener could be opened.
    #[error("cannot listen for Terraform: {0}")]
    Listen(String),
    /// The TLS identity or configuration could not be built.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// Any other I/O failure while starting (runtime, stdout, signals).
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: &'static str,
        /// The failure.
        source: std::io::Error,
    },
    /// The gRPC server failed.
    #[error("gRPC server failed: {0}")]
    Serve(#[from] tonic::transport::Error),
}

impl Error {
    fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> Error {
        move |source| Error::Io { context, source }
    }
}

/// Asks the server to stop, from anywhere, any number of times; and lets code wait for that.
///
/// [`run_with_shutdown`] hands the same handle to the server, so the provider service may keep a
/// clone: `wait()` is a future that completes when the process is shutting down (useful to cancel
/// long AWS calls), and `shutdown()` stops the server. Terraform's `StopProvider` means "cancel
/// in-flight operations", not "exit": Terraform keeps using the process and ends it later with
/// `GRPCController/Shutdown`, which this transport already handles. So a StopProvider handler
/// should normally cancel work rather than call `shutdown()`.
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    // A watch channel is level-triggered: a waiter that arrives late still sees the request.
    tx: Arc<watch::Sender<bool>>,
}

impl ShutdownHandle {
    /// A handle that has not been triggered.
    pub fn new() -> Self {
        ShutdownHandle {
            tx: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Requests shutdown. Idempotent.
    pub fn shutdown(&self) {
        self.tx.send_replace(true);
    }

    /// True once shutdown was requested.
    pub fn is_shutdown(&self) -> bool {
        *self.tx.borrow()
    }

    /// Completes when shutdown is requested (at once if it already was).
    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`, so this cannot fail while we wait.
        let _ = rx.wait_for(|requested| *requested).await;
    }
}

impl Default for ShutdownHandle {
    fn default() -> Self {
        ShutdownHandle::new()
    }
}

/// Runs the plugin: checks the magic cookie (unless `--debug`), negotiates protocol 6, listens,
/// prints the handshake, serves until Shutdown/SIGTERM (or Ctrl-C in `--debug`). Returns the process
/// exit code: 0 after a clean shutdown, 1 with one line on stderr on any failure.
///
/// `args` is the command line with or without the program name (words not starting with `-` are
/// ignored); the only flag is `--debug`.
pub fn run<P: Provider>(provider: P, args: impl IntoIterator<Item = String>) -> ExitCode {
    run_with_shutdown(provider, args, ShutdownHandle::new())
}

/// [`run`], with a [`ShutdownHandle`] the caller keeps a clone of (see there).
pub fn run_with_shutdown<P: Provider>(
    provider: P,
    args: impl IntoIterator<Item = String>,
    shutdown: ShutdownHandle,
) -> ExitCode {
    match try_run(provider, args, shutdown) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One plain line: a person running the binary by hand reads it; Terraform shows it.
            eprintln!("terraform-provider-mesh: {err}");
            ExitCode::from(1)
        }
    }
}

/// The command line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Args {
    /// `--debug`: serve for a debugger and print `TF_REATTACH_PROVIDERS`.
    pub debug: bool,
}

impl Args {
    /// Parses the command line; words without a leading `-` (such as the program name) are ignored.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, Error> {
        let mut parsed = Args::default();
        for arg in args {
            match arg.as_str() {
                // Go's flag package (terraform-plugin-go providers) accepts both spellings.
                "--debug" | "-debug" | "--debug=true" | "-debug=true" => parsed.debug = true,
                "--debug=false" | "-debug=false" => parsed.debug = false,
                a if a.starts_with('-') => return Err(Error::Usage(arg)),
                _ => {}
            }
        }
        Ok(parsed)
    }
}

/// How long in-flight RPCs may run after shutdown was requested. Terraform kills the process 2 s
/// after its Shutdown call; we must have exited by then.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

fn try_run<P: Provider>(
    provider: P,
    args: impl IntoIterator<Item = String>,
    shutdown: ShutdownHandle,
) -> Result<(), Error> {
    let args = Args::parse(args)?;
    let env = |name: &str| std::env::var(name).ok();
    // Check the environment before anything else so a person running the binary gets the message.
    let settings = if args.debug {
        Settings::debug(env)?
    } else {
        Settings::from_env(env)?
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::io("cannot start the async runtime"))?;
    let result = runtime.block_on(async {
        // Signals first: until tokio installs its handler, SIGINT would kill the process.
        install_signal_handlers(&shutdown, args.debug)?;
        let bound = listener::bind(&settings)?;
        let addr = bound.listener.addr();
        let announcement = if args.debug {
            handshake::debug_announcement(&addr, std::process::id())
        } else {
            bound.handshake.clone()
        };
        crate::info!(
            "plugin listening",
            network = addr.network(),
            address = addr.to_string(),
            tls = bound.tls.is_some(),
            debug = args.debug
        );
        print_stdout(&announcement)?;
        serve(bound.listener, bound.tls, provider, shutdown).await
    });
    // Blocking tasks (if any) must not hold the exit past Terraform's 2 s deadline.
    runtime.shutdown_timeout(Duration::from_millis(100));
    crate::debug!("plugin exiting", ok = result.is_ok());
    result
}

fn print_stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::io("cannot write the handshake to stdout"))
}

#[cfg(unix)]
fn install_signal_handlers(shutdown: &ShutdownHandle, debug: bool) -> Result<(), Error> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(Error::io("cannot handle SIGINT"))?;
    let mut terminate =
        signal(SignalKind::terminate()).map_err(Error::io("cannot handle SIGTERM"))?;
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        let mut interrupts: u64 = 0;
        loop {
            tokio::select! {
                Some(()) = interrupt.recv() => {
                    if debug {
                        crate::info!("interrupted; shutting down");
                        shutdown.shutdown();
                    } else {
                        interrupts += 1;
                        crate::trace!("plugin received interrupt signal, ignoring", count = interrupts);
                    }
                }
                Some(()) = terminate.recv() => {
                    crate::debug!("received SIGTERM; shutting down");
                    shutdown.shutdown();
                }
                else => break,
            }
        }
    });
    Ok(())
}

#[cfg(not(unix))]
fn install_signal_handlers(shutdown: &ShutdownHandle, debug: bool) -> Result<(), Error> {
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if debug {
                shutdown.shutdown();
                break;
            }
            crate::trace!("plugin received interrupt signal, ignoring");
        }
    });
    Ok(())
}
