//! The acceptance harness: the real Terraform CLI drives the freshly built
//! `terraform-provider-mesh` against a local AWS emulator (moto), on two Terraform versions.
//!
//! Nothing here is mocked. `make tools` installs Terraform 1.0.3 and `moto_server` into
//! `<repo>/.tools` (override with `MESH_TOOLS_DIR`); the newest Terraform is the `terraform` on
//! `PATH` (override with `MESH_TERRAFORM_NEWEST`); `make build` builds
//! `<repo>/target/debug/terraform-provider-mesh` (override with `MESH_PROVIDER_BIN`). A missing
//! piece fails the test with a message saying so; no test skips itself.
//!
//! - [`Terraform`]: the two CLIs; [`terraform_tests!`] registers a test once per version.
//! - [`Emulator`]: one moto server per test process on a free loopback port
//!   ([`Emulator::shared`]), plus AWS SDK clients pointed at it for checking AWS state. It is
//!   started through `acceptance/emulator/moto_server.py`, which fixes known moto bugs (never
//!   AWS behaviour) before serving.
//! - [`Workspace`]: a temp dir with `main.tf`, a CLI config whose `dev_overrides` point Terraform
//!   at the built provider, an isolated `HOME`, and helpers that run Terraform in it.
//! - [`Proxy`]: a loopback proxy in front of the emulator, one per test, that records the AWS
//!   operation of every request (`glue:CreateTable`, `s3:PutObject`...) and can answer chosen
//!   operations with injected errors; [`Workspace::with_proxy`] points Terraform at it.
//! - SDK helpers on [`Emulator`] for checking state (Glue catalog and schema registry, Lake
//!   Formation tags and registrations, S3), and [`fixtures`] for domain and product configs.
//!
//! Tests run in parallel threads against the shared emulator and isolate themselves by unique
//! names ([`unique_name`]).
//!
//! ```no_run
//! # async fn example() {
//! use mesh_acceptance::{mesh_config, unique_name, Emulator, Terraform, Workspace};
//! let emulator = Emulator::shared();
//! let key = unique_name("domain");
//! let ws = Workspace::new(
//!     Terraform::newest(),
//!     emulator,
//!     &mesh_config(&format!(
//!         "resource \"mesh_lf_tag\" \"t\" {{\n  key = \"{key}\"\n  values = [\"a\"]\n}}\n"
//!     )),
//! );
//! ws.apply();
//! assert_eq!(emulator.lf_tag_values(&key).await, Some(vec!["a".to_string()]));
//! ws.assert_plan_empty();
//! # }
//! ```

use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::FileExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod aws_state;
pub mod fixtures;
pub mod gpg;
mod proxy;
pub mod registry;
pub mod steps;
mod terraform;

pub use aws_state::{lf_tags, unless_not_found, LfTags};
pub use proxy::{Call, Proxy};
pub use terraform::{Terraform, Version, NEWEST_AT_LEAST, NEWEST_ENV, OLDEST};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use serde_json::Value;
use tempfile::TempDir;

/// The region every test and every client uses.
pub const REGION: &str = "us-east-1";
/// The account moto attributes requests to (the default catalog id).
pub const ACCOUNT_ID: &str = "123456789012";
/// Test access key id given to Terraform and to the SDK clients.
pub const ACCESS_KEY_ID: &str = "AKIAMESHACCEPTANCE00";
/// Default test secret access key (a [`Workspace`] can use another: [`Workspace::set_env`]).
pub const SECRET_ACCESS_KEY: &str = "mesh/acceptance/test/secret/key/00000000";
/// The provider's source address, as `dev_overrides` and `required_providers` name it.
pub const PROVIDER_SOURCE: &str = "meshcraft/mesh";
/// The longest any single Terraform command may run before the test fails.
pub const TERRAFORM_TIMEOUT: Duration = Duration::from_secs(300);
/// How long the emulator may take to answer after it is started.
pub const EMULATOR_START_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) const TOOLS_HINT: &str = "run `make tools build` at the repository root first";

// ---------------------------------------------------------------------------------------------
// Paths and names
// ---------------------------------------------------------------------------------------------

/// The repository root (the workspace holding `acceptance/`).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The tools folder: `MESH_TOOLS_DIR`, else `<repo>/.tools`.
pub fn tools_dir() -> PathBuf {
    env_path("MESH_TOOLS_DIR").unwrap_or_else(|| repo_root().join(".tools"))
}

/// The Python of the tools virtualenv, where `make tools` installed moto (never the machine's
/// own). Panics with a hint when it is missing.
pub fn tools_python() -> PathBuf {
    require_file(
        tools_dir().join("venv").join("bin").join("python"),
        "moto's Python",
    )
}

/// The launcher that starts moto's server with fixes for the emulator's known bugs (see the
/// script: each is a moto defect, not AWS behaviour).
pub fn moto_launcher() -> PathBuf {
    require_file(
        repo_root()
            .join("acceptance")
            .join("emulator")
            .join("moto_server.py"),
        "the moto launcher",
    )
}

/// The provider binary under test: `MESH_PROVIDER_BIN`, else
/// `$CARGO_TARGET_DIR/debug/terraform-provider-mesh`, else `<repo>/target/debug/...`.
/// Panics with a hint when it is missing.
pub fn provider_bin() -> PathBuf {
    let path = env_path("MESH_PROVIDER_BIN").unwrap_or_else(|| {
        let target = env_path("CARGO_TARGET_DIR").unwrap_or_else(|| repo_root().join("target"));
        target.join("debug").join("terraform-provider-mesh")
    });
    require_file(path, "the provider binary")
}

/// The optimised provider binary a release packages: `MESH_RELEASE_BIN`, else
/// `$CARGO_TARGET_DIR/release/terraform-provider-mesh`, else `<repo>/target/release/...`.
/// Panics with a hint when it is missing.
pub fn release_bin() -> PathBuf {
    let path = env_path("MESH_RELEASE_BIN").unwrap_or_else(|| {
        let target = env_path("CARGO_TARGET_DIR").unwrap_or_else(|| repo_root().join("target"));
        target.join("release").join("terraform-provider-mesh")
    });
    if !path.is_file() {
        panic!(
            "the release binary not found at {}: run `make release-bin` at the repository root first",
            path.display()
        );
    }
    path
}

/// The module generator under test: `MESH_MODULES_BIN`, else
/// `$CARGO_TARGET_DIR/debug/mesh-modules`, else `<repo>/target/debug/mesh-modules`.
/// Panics with a hint when it is missing.
pub fn modules_bin() -> PathBuf {
    let path = env_path("MESH_MODULES_BIN").unwrap_or_else(|| {
        let target = env_path("CARGO_TARGET_DIR").unwrap_or_else(|| repo_root().join("target"));
        target.join("debug").join("mesh-modules")
    });
    require_file(path, "the mesh-modules binary")
}

/// Copies a Terraform configuration folder recursively, without `.terraform`, lock or state
/// files.
pub fn copy_config_dir(src: &Path, dst: &Path) -> io::Result<()> {
    copy_config_dir_inner(src, dst)
}

/// The provider's version (the workspace version, shared by every crate), e.g. `0.1.0`.
pub fn provider_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn require_file(path: PathBuf, what: &str) -> PathBuf {
    if !path.is_file() {
        panic!("{what} not found at {}: {TOOLS_HINT}", path.display());
    }
    path
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name unique within this test process and unlikely to repeat across runs, e.g.
/// `create_1a2b_3`. Valid as an LF-tag key (letters, digits and `_`).
pub fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{:x}{:x}_{n}", std::process::id(), nanos)
}

/// A random 12-digit account id no other test uses: `9` then 11 random digits, clear of the
/// well-known ids tests use (the default account and the full mesh's `1111...`, `4444...`,
/// `7777...`).
pub fn random_account() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write(unique_name("acct").as_bytes());
    format!("9{:011}", hasher.finish() % 100_000_000_000)
}

/// `len` random letters and digits (e.g. a secret that must never show up in logs).
pub fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        // RandomState is seeded randomly per process; hashing a counter gives fresh bits.
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let mut bits = hasher.finish();
        for _ in 0..10 {
            out.push(char::from(ALPHABET[(bits % 62) as usize]));
            bits /= 62;
        }
    }
    out.truncate(len);
    out
}

// ---------------------------------------------------------------------------------------------
// Running commands
// ---------------------------------------------------------------------------------------------

/// What a command did. Its `Display` shows everything a failure message needs.
#[derive(Debug, Clone)]
pub struct TfOutput {
    /// The command line, for messages.
    pub command: String,
    /// The exit code (-1 when killed by a signal or the timeout).
    pub code: i32,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
}

impl TfOutput {
    /// True when the command exited 0.
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// stdout followed by stderr, for searching diagnostics wherever Terraform put them.
    pub fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The summary line of a plan's output: `Plan: 1 to import, 0 to add, 0 to change, 0 to
    /// destroy.` or the line saying `No changes.` Panics (showing everything) without one.
    pub fn plan_summary(&self) -> String {
        self.stdout
            .lines()
            .find(|l| l.trim_start().starts_with("Plan:") || l.contains("No changes."))
            .unwrap_or_else(|| panic!("no plan summary in:\n{self}"))
            .trim()
            .to_string()
    }

    /// Panics, naming the offending lines (never the whole log), if `secret` (a credential, a
    /// token) shows up in stdout or stderr.
    pub fn assert_no_secret(&self, secret: &str, what: &str) {
        let leaks: Vec<&str> = self
            .stdout
            .lines()
            .chain(self.stderr.lines())
            .filter(|l| l.contains(secret))
            .collect();
        assert!(
            leaks.is_empty(),
            "{what} appears in the output of `{}`:\n{}",
            self.command,
            leaks.join("\n")
        );
    }

    /// Panics (showing everything) unless the command exited 0.
    pub fn assert_success(self) -> Self {
        assert!(self.success(), "command failed:\n{self}");
        self
    }

    /// Panics (showing everything) unless the command exited non-zero.
    pub fn assert_failure(self) -> Self {
        assert!(!self.success(), "command unexpectedly succeeded:\n{self}");
        self
    }
}

impl fmt::Display for TfOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "$ {}", self.command)?;
        writeln!(f, "exit code: {}", self.code)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout.trim_end())?;
        write!(f, "--- stderr ---\n{}", self.stderr.trim_end())
    }
}

/// Runs `cmd` to completion with captured output, killing it after `timeout`.
/// Used for every Terraform run; tests may use it for other commands.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> TfOutput {
    let mut command = format!("{}", cmd.get_program().to_string_lossy());
    for arg in cmd.get_args() {
        command.push(' ');
        command.push_str(&arg.to_string_lossy());
    }
    if let Some(dir) = cmd.get_current_dir() {
        command = format!("(cd {} && {command})", dir.display());
    }
    let mut child = match cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!("cannot start `{command}`: {e}"),
    };
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for `{command}`: {e}"),
        }
    };
    let mut stderr = stderr.join().unwrap_or_default();
    if timed_out {
        stderr.push_str(&format!("\n[harness] killed after {} s", timeout.as_secs()));
    }
    TfOutput {
        command,
        code: status.and_then(|s| s.code()).unwrap_or(-1),
        stdout: stdout.join().unwrap_or_default(),
        stderr,
    }
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

// ---------------------------------------------------------------------------------------------
// Emulator
// ---------------------------------------------------------------------------------------------

/// A `moto_server` on a free loopback port.
///
/// Tests use [`Emulator::shared`]: one per test process, started on first use. The child is
/// spawned by a dedicated thread that lives as long as the emulator, with
/// `PR_SET_PDEATHSIG = SIGKILL`, so it dies with the test process even though statics are never
/// dropped. An emulator from [`Emulator::start`] is stopped by [`Emulator::stop`] or on drop.
pub struct Emulator {
    endpoint: String,
    addr: SocketAddr,
    pid: u32,
    stop: Mutex<Option<mpsc::Sender<()>>>,
    supervisor: Mutex<Option<JoinHandle<()>>>,
    log: fs::File,
}

static SHARED: OnceLock<Result<Emulator, String>> = OnceLock::new();

impl Emulator {
    /// The emulator shared by every test in this process; started on first call.
    /// Panics (every caller, with the same message) if it cannot start.
    pub fn shared() -> &'static Emulator {
        match SHARED.get_or_init(Emulator::start) {
            Ok(emulator) => emulator,
            Err(message) => panic!("{message}"),
        }
    }

    /// Starts a new emulator and waits until it answers (a few retries on a port race).
    pub fn start() -> Result<Emulator, String> {
        let moto = moto_launcher();
        let mut last_error = String::new();
        for _ in 0..3 {
            match Emulator::start_once(&moto) {
                Ok(emulator) => return Ok(emulator),
                Err((message, retry)) => {
                    last_error = message;
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(last_error)
    }

    /// One attempt; on failure, the message and whether another port is worth trying.
    fn start_once(moto: &Path) -> Result<Emulator, (String, bool)> {
        let fail = |message: String| (message, false);
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .map_err(|e| fail(format!("cannot find a free loopback port: {e}")))?
            .port();
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        // Unnamed (already unlinked) file: nothing to clean up, even for the never-dropped
        // shared emulator.
        let log = tempfile::tempfile()
            .map_err(|e| fail(format!("cannot create a temp file for moto's output: {e}")))?;
        let (out, err) = log
            .try_clone()
            .and_then(|out| Ok((out, log.try_clone()?)))
            .map_err(|e| fail(format!("cannot duplicate a file handle: {e}")))?;

        let mut cmd = Command::new(tools_python());
        cmd.arg(moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let parent = std::process::id();
        // SAFETY: only async-signal-safe calls (prctl, getppid) run between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(io::Error::last_os_error());
                }
                // The parent may have died before prctl: then nobody would kill us.
                if libc::getppid() as u32 != parent {
                    return Err(io::Error::other("test process exited"));
                }
                Ok(())
            });
        }

        let exited: Arc<Mutex<Option<ExitStatus>>> = Arc::default();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let (ready_tx, ready_rx) = mpsc::channel::<io::Result<u32>>();
        let exited_in_thread = Arc::clone(&exited);
        let supervisor = thread::Builder::new()
            .name(format!("moto_server:{port}"))
            .spawn(move || supervise(cmd, &ready_tx, &stop_rx, &exited_in_thread))
            .map_err(|e| fail(format!("cannot start the emulator thread: {e}")))?;
        let pid = match ready_rx.recv() {
            Ok(Ok(pid)) => pid,
            Ok(Err(e)) => return Err(fail(format!("cannot run {}: {e}", moto.display()))),
            Err(_) => return Err(fail("the emulator thread died".to_string())),
        };
        let emulator = Emulator {
            endpoint: format!("http://{addr}"),
            addr,
            pid,
            stop: Mutex::new(Some(stop_tx)),
            supervisor: Mutex::new(Some(supervisor)),
            log,
        };

        let deadline = Instant::now() + EMULATOR_START_TIMEOUT;
        loop {
            if let Some(status) = *lock(&exited) {
                let message = format!(
                    "moto_server ({}) exited early ({status}) on port {port}; its output:\n{}",
                    moto.display(),
                    emulator.server_log()
                );
                return Err((message, true));
            }
            if http(addr, "GET", "/moto-api/").is_ok() {
                return Ok(emulator);
            }
            if Instant::now() >= deadline {
                let message = format!(
                    "moto_server ({}) did not answer on {} within {} s; its output:\n{}",
                    moto.display(),
                    emulator.endpoint,
                    EMULATOR_START_TIMEOUT.as_secs(),
                    emulator.server_log()
                );
                return Err(fail(message));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// The URL for every AWS service, e.g. `http://127.0.0.1:41234`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The emulator's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// What `moto_server` has written so far (stdout and stderr).
    pub fn server_log(&self) -> String {
        // Positional reads leave the offset moto writes at alone.
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            match self.log.read_at(&mut chunk, bytes.len() as u64) {
                Ok(0) => break,
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
                Err(e) => return format!("(cannot read moto's output: {e})"),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Forgets every resource in the emulator (`POST /moto-api/reset`). Tests sharing the
    /// emulator normally isolate themselves by unique names instead.
    pub fn reset(&self) {
        match http(self.addr, "POST", "/moto-api/reset") {
            Ok((200, _)) => {}
            Ok((code, body)) => panic!("moto reset answered {code}: {body}"),
            Err(e) => panic!("moto reset failed: {e}"),
        }
    }

    /// Stops the emulator and waits for it to exit. Also done on drop.
    pub fn stop(&self) {
        drop(lock(&self.stop).take());
        if let Some(supervisor) = lock(&self.supervisor).take() {
            let _ = supervisor.join();
        }
    }

    /// AWS SDK configuration for this emulator: region [`REGION`], static test credentials,
    /// `endpoint_url` = the emulator.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config_for(&self.endpoint)
    }

    /// The emulator's socket address (for a [`Proxy`] in front of it).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// SDK configuration whose requests the emulator attributes to `account`: credentials of a
    /// role there, from STS AssumeRole (the emulator needs no such role to exist).
    pub async fn account_sdk_config(&self, account: &str) -> aws_config::SdkConfig {
        let out = self
            .sts()
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/MeshAcceptance"))
            .role_session_name("mesh-acceptance")
            .send()
            .await
            .unwrap_or_else(|e| panic!("AssumeRole into {account}: {e:?}"));
        let c = out.credentials.expect("AssumeRole answered no credentials");
        let credentials = Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            None,
            "mesh-acceptance-assumed",
        );
        self.sdk_config()
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .build()
    }

    /// A Lake Formation client for checking AWS state.
    pub fn lakeformation(&self) -> aws_sdk_lakeformation::Client {
        aws_sdk_lakeformation::Client::new(&self.sdk_config())
    }

    /// A CloudWatch client for checking AWS state.
    pub fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.sdk_config())
    }

    /// The metric alarms among `names` that exist, by name.
    pub async fn alarms(
        &self,
        names: &[String],
    ) -> std::collections::BTreeMap<String, aws_sdk_cloudwatch::types::MetricAlarm> {
        let out = self
            .cloudwatch()
            .describe_alarms()
            .set_alarm_names(Some(names.to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("cloudwatch:DescribeAlarms failed: {e:?}"));
        out.metric_alarms()
            .iter()
            .map(|a| (a.alarm_name().unwrap_or_default().to_string(), a.clone()))
            .collect()
    }

    /// An STS client.
    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.sdk_config())
    }

    /// The values of LF-tag `key` in the default catalog, sorted; `None` if the tag does not
    /// exist. moto answers GetLFTag of a missing key with an empty list (a real tag always has
    /// a value), so empty counts as absent. Panics on any other error.
    pub async fn lf_tag_values(&self, key: &str) -> Option<Vec<String>> {
        let mut values = unless_not_found(
            self.lakeformation().get_lf_tag().tag_key(key).send().await,
            &format!("lakeformation:GetLFTag({key})"),
        )
        .and_then(|out| out.tag_values)
        .unwrap_or_default();
        values.sort();
        (!values.is_empty()).then_some(values)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The emulator thread: spawns moto, reports its pid, then lives until told to stop (or
/// forever, for the shared emulator), so that PDEATHSIG fires only when the process ends.
fn supervise(
    mut cmd: Command,
    ready: &mpsc::Sender<io::Result<u32>>,
    stop: &mpsc::Receiver<()>,
    exited: &Mutex<Option<ExitStatus>>,
) {
    let mut child: Child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(child.id()));
    // Until a stop message, or the Emulator is dropped (disconnected).
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(Duration::from_millis(250)) {
        let mut exited = lock(exited);
        if exited.is_none() {
            *exited = child.try_wait().ok().flatten();
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// AWS SDK configuration for `endpoint`: region [`REGION`], static test credentials.
pub fn sdk_config_for(endpoint: &str) -> aws_config::SdkConfig {
    let credentials = Credentials::new(
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        None,
        None,
        "mesh-acceptance",
    );
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .endpoint_url(endpoint)
        .build()
}

/// An S3 client for `config` with path-style addressing (the emulator has no bucket host names).
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A minimal HTTP/1.0 request with an empty body: (status code, body).
fn http(addr: SocketAddr, method: &str, path: &str) -> io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| io::Error::other(format!("not an HTTP answer: {text:.200}")))?;
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok((code, body.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Workspace
// ---------------------------------------------------------------------------------------------

/// The `terraform` and `provider "mesh"` blocks every test configuration starts with.
/// `{{endpoint}}` is filled in by [`Workspace`].
pub const PROVIDER_HCL: &str = r#"terraform {
  required_providers {
    mesh = {
      source = "meshcraft/mesh"
    }
  }
}

provider "mesh" {
  region   = "us-east-1"
  endpoint = "{{endpoint}}"
}
"#;

/// [`PROVIDER_HCL`] followed by `resources`.
pub fn mesh_config(resources: &str) -> String {
    format!("{PROVIDER_HCL}\n{resources}")
}

/// Subcommands that accept `-no-color` (added automatically).
const TAKES_NO_COLOR: &[&str] = &[
    "init", "validate", "plan", "apply", "destroy", "import", "show", "output", "refresh",
];

/// A Terraform working directory in a temp dir, run with one real Terraform CLI.
///
/// Layout: `<root>/work` (the configuration, `main.tf`), `<root>/home` (`HOME`, so no
/// `~/.terraformrc` leaks in), `<root>/cli.tfrc` (`TF_CLI_CONFIG_FILE`, by default
/// `dev_overrides` for the built provider). Terraform runs with a clean environment: test
/// credentials, `AWS_REGION`, `TF_IN_AUTOMATION`, `CHECKPOINT_DISABLE`, `TF_INPUT=0`, plus
/// anything set with [`Workspace::set_env`]. Removed on drop unless `MESH_KEEP_WORKSPACES` is set.
pub struct Workspace {
    root: Option<TempDir>,
    work: PathBuf,
    endpoint: String,
    env: BTreeMap<String, String>,
    terraform: &'static Terraform,
}

impl Workspace {
    /// A workspace run by `tf` whose `main.tf` is `hcl` (with `{{endpoint}}` replaced by the
    /// emulator's URL).
    pub fn new(tf: &'static Terraform, emulator: &Emulator, hcl: &str) -> Workspace {
        Workspace::with_endpoint(tf, emulator.endpoint(), hcl)
    }

    /// A workspace whose `{{endpoint}}` is `proxy`'s URL, so every AWS call Terraform makes goes
    /// through (and is counted by) that proxy.
    pub fn with_proxy(tf: &'static Terraform, proxy: &Proxy, hcl: &str) -> Workspace {
        Workspace::with_endpoint(tf, &proxy.endpoint(), hcl)
    }

    /// A workspace whose `{{endpoint}}` is `endpoint`.
    pub fn with_endpoint(tf: &'static Terraform, endpoint: &str, hcl: &str) -> Workspace {
        let ws = Workspace::empty(tf, endpoint, "work");
        ws.write_main(hcl);
        ws
    }

    /// A workspace holding a copy of `src` (without `.terraform`, state or lock files), e.g. an
    /// example. The copy sits at the same path relative to the root as `src` is to the repo, and
    /// the repo's `modules/` is linked beside it, so relative module sources still resolve.
    pub fn from_dir(tf: &'static Terraform, emulator: &Emulator, src: &Path) -> Workspace {
        let root = repo_root();
        let relative = src.strip_prefix(&root).unwrap_or(Path::new("work"));
        let ws = Workspace::empty(tf, emulator.endpoint(), relative);
        copy_config_dir(src, &ws.work)
            .unwrap_or_else(|e| panic!("cannot copy {}: {e}", src.display()));
        let modules = root.join("modules");
        if modules.is_dir() && !ws.root().join("modules").exists() {
            let link = ws.root().join("modules");
            std::os::unix::fs::symlink(&modules, &link)
                .unwrap_or_else(|e| panic!("cannot link {}: {e}", link.display()));
        }
        ws
    }

    fn empty(tf: &'static Terraform, endpoint: &str, work: impl AsRef<Path>) -> Workspace {
        let root = tempfile::Builder::new()
            .prefix("mesh-tf-")
            .tempdir()
            .expect("cannot create a temp dir for a workspace");
        let work = root.path().join(work);
        for dir in [work.as_path(), &root.path().join("home")] {
            fs::create_dir_all(dir)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        }
        let env = [
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
            ("AWS_REGION", REGION),
        ];
        let ws = Workspace {
            root: Some(root),
            work,
            endpoint: endpoint.to_string(),
            terraform: tf,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        ws.set_cli_config(&dev_overrides_config());
        ws
    }

    /// The Terraform CLI this workspace runs.
    pub fn terraform(&self) -> &'static Terraform {
        self.terraform
    }

    /// The temp root: scratch space for a test (e.g. a provider mirror).
    pub fn root(&self) -> &Path {
        self.root.as_ref().map_or(self.work.as_path(), |r| r.path())
    }

    /// The Terraform working directory (holds `main.tf`).
    pub fn dir(&self) -> &Path {
        &self.work
    }

    /// Replaces `main.tf` with `hcl`, `{{endpoint}}` replaced by the emulator's URL.
    pub fn write_main(&self, hcl: &str) {
        self.write_file("main.tf", hcl);
    }

    /// Writes a file in the working directory, `{{endpoint}}` replaced by the emulator's URL.
    pub fn write_file(&self, name: &str, text: &str) {
        let path = self.work.join(name);
        fs::write(&path, text.replace("{{endpoint}}", &self.endpoint))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// Replaces the CLI configuration file (`TF_CLI_CONFIG_FILE`), e.g. with a
    /// `filesystem_mirror` instead of the default `dev_overrides`.
    pub fn set_cli_config(&self, text: &str) {
        let path = self.cli_config();
        fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    fn cli_config(&self) -> PathBuf {
        self.root().join("cli.tfrc")
    }

    /// Sets an environment variable for every later Terraform run (e.g. `TF_LOG`, or a unique
    /// `AWS_SECRET_ACCESS_KEY`).
    pub fn set_env(&mut self, name: &str, value: &str) -> &mut Self {
        self.env.insert(name.to_string(), value.to_string());
        self
    }

    /// Removes an environment variable from later Terraform runs (e.g. the test credentials, to
    /// prove another credential source is used).
    pub fn unset_env(&mut self, name: &str) -> &mut Self {
        self.env.remove(name);
        self
    }

    /// Runs `terraform ARGS` in the working directory (adding `-no-color` where accepted) and
    /// returns what it did, whatever the exit code.
    pub fn tf(&self, args: &[&str]) -> TfOutput {
        let mut cmd = Command::new(self.terraform.path());
        if let Some((sub, rest)) = args.split_first() {
            cmd.arg(sub);
            if TAKES_NO_COLOR.contains(sub) {
                cmd.arg("-no-color");
            }
            cmd.args(rest);
        }
        cmd.current_dir(&self.work).env_clear();
        for name in ["PATH", "TMPDIR"] {
            if let Some(value) = std::env::var_os(name) {
                cmd.env(name, value);
            }
        }
        cmd.env("HOME", self.root().join("home"))
            .env("TF_CLI_CONFIG_FILE", self.cli_config())
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_INPUT", "0")
            // Never let the AWS credential chain probe instance metadata.
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("RUST_BACKTRACE", "1")
            .envs(&self.env);
        let mut out = run_with_timeout(&mut cmd, TERRAFORM_TIMEOUT);
        out.command = format!("[terraform {}] {}", self.terraform.version(), out.command);
        out
    }

    /// Like [`Workspace::tf`], but panics (showing everything) unless it exits 0.
    pub fn tf_ok(&self, args: &[&str]) -> TfOutput {
        self.tf(args).assert_success()
    }

    /// `terraform init -input=false`; must succeed.
    pub fn init(&self) -> TfOutput {
        self.tf_ok(&["init", "-input=false"])
    }

    /// `terraform validate`, whatever the outcome.
    pub fn validate(&self) -> TfOutput {
        self.tf(&["validate"])
    }

    /// `terraform apply -auto-approve -input=false`; must succeed.
    pub fn apply(&self) -> TfOutput {
        self.tf_ok(&["apply", "-auto-approve", "-input=false"])
    }

    /// `terraform destroy -auto-approve -input=false`; must succeed.
    pub fn destroy(&self) -> TfOutput {
        self.tf_ok(&["destroy", "-auto-approve", "-input=false"])
    }

    /// `terraform import ADDRESS ID`; must succeed.
    pub fn import(&self, address: &str, id: &str) -> TfOutput {
        self.tf_ok(&["import", "-input=false", address, id])
    }

    /// Panics, showing the plan, unless `terraform plan -detailed-exitcode` exits 0 (no changes).
    pub fn assert_plan_empty(&self) {
        let out = self.tf(&["plan", "-input=false", "-detailed-exitcode"]);
        assert!(out.code == 0, "expected an empty plan:\n{out}");
    }

    /// `terraform plan -out` then `terraform show -json` of that plan.
    pub fn plan_json(&self) -> Value {
        let plan = self.work.join(format!("plan-{}.tfplan", unique_name("p")));
        let plan = plan.to_string_lossy();
        self.tf_ok(&["plan", "-input=false", &format!("-out={plan}")]);
        parse_json(&self.tf_ok(&["show", "-json", &plan]))
    }

    /// The actions (`["create"]`, `["update"]`, `["delete", "create"]`, `["no-op"]`...) a fresh
    /// plan has for `address`. Panics if the plan does not mention it.
    pub fn resource_change_actions(&self, address: &str) -> Vec<String> {
        let plan = self.plan_json();
        let change = plan["resource_changes"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["address"] == address));
        let Some(change) = change else {
            panic!("the plan has no change for {address}:\n{plan:#}");
        };
        let actions = change["change"]["actions"].as_array();
        actions
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The state as `terraform show -json` prints it.
    pub fn state_json(&self) -> Value {
        parse_json(&self.tf_ok(&["show", "-json"]))
    }

    /// The attribute values of `address` (in any module) in the state, if it is there.
    pub fn state_resource(&self, address: &str) -> Option<Value> {
        fn find(module: &Value, address: &str) -> Option<Value> {
            let resources = module["resources"].as_array().into_iter().flatten();
            if let Some(r) = resources.into_iter().find(|r| r["address"] == address) {
                return Some(r["values"].clone());
            }
            let children = module["child_modules"].as_array().into_iter().flatten();
            children.into_iter().find_map(|c| find(c, address))
        }
        find(&self.state_json()["values"]["root_module"], address)
    }

    /// `terraform output -json`: output name to `{ "value": ..., "type": ..., "sensitive": ... }`.
    pub fn outputs(&self) -> Value {
        parse_json(&self.tf_ok(&["output", "-json"]))
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if std::env::var_os("MESH_KEEP_WORKSPACES").is_some() {
            if let Some(root) = self.root.take() {
                eprintln!("[harness] kept workspace {}", root.keep().display());
            }
        }
    }
}

/// The default CLI configuration: Terraform takes `meshcraft/mesh` from the directory of the
/// built provider binary, and everything else the usual way.
pub fn dev_overrides_config() -> String {
    let bin = provider_bin();
    let dir = bin.parent().unwrap_or(Path::new("."));
    format!(
        "provider_installation {{\n  dev_overrides {{\n    \"{PROVIDER_SOURCE}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
        dir.display()
    )
}

fn parse_json(out: &TfOutput) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}) from command:\n{out}"))
}

fn copy_config_dir_inner(src: &Path, dst: &Path) -> io::Result<()> {
    fs::create_dir_all(dst)?;
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        if name_str == ".terraform"
            || name_str == ".terraform.lock.hcl"
            || name_str.starts_with("terraform.tfstate")
        {
            continue;
        }
        let (from, to) = (entry.path(), dst.join(&name));
        if entry.file_type()?.is_dir() {
            copy_config_dir_inner(&from, &to)?;
        } else {
            fs::copy(&from, &to)?;
        }
    }
    Ok(())
}
