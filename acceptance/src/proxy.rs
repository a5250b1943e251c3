//! A loopback HTTP/1.1 proxy in front of the emulator that records the AWS operation of every
//! request and can answer chosen operations with injected errors.
//!
//! One [`Proxy`] per test: a test points its Terraform configuration at the proxy
//! ([`crate::Workspace::with_proxy`]), so the counts are that test's own even though every test
//! shares one emulator.
//!
//! How an operation is named (`service:Operation`, the IAM action spelling):
//! - `X-Amz-Target: AWSGlue.CreateTable` (JSON protocols) -> `glue:CreateTable`;
//! - S3 (REST-XML): the `x-id` query parameter the SDK adds, else method + path shape + sub-resource
//!   (`PUT /bucket` -> `s3:CreateBucket`, `GET /bucket?list-type=2` -> `s3:ListObjectsV2`,
//!   `HEAD /bucket/key` -> `s3:HeadObject`, `POST /bucket?delete` -> `s3:DeleteObjects`, ...);
//! - query protocols (STS, IAM): the `Action` form or query parameter -> `sts:GetCallerIdentity`;
//! - REST-JSON (Lake Formation): the last path segment -> `lakeformation:CreateLFTag`.
//!
//! The service is the one in the SigV4 credential scope of the `Authorization` header
//! (`Credential=AKID/20250101/us-east-1/lakeformation/aws4_request`).
//!
//! The proxy runs on its own thread and tokio runtime, so it keeps serving while a test blocks
//! on a Terraform run (even inside `#[tokio::test]`). Bodies are buffered: requests are read in
//! full (by `Content-Length` or `Transfer-Encoding: chunked`, answering `Expect: 100-continue`)
//! and forwarded with a `Content-Length`; `aws-chunked` content is forwarded byte for byte.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::{lock, sdk_config_for, Emulator};

/// The largest request or response head the proxy accepts.
const MAX_HEAD: usize = 64 * 1024;
/// How long the proxy waits for the emulator to answer one request.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(120);

/// One request the proxy saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// `service:Operation`, e.g. `glue:CreateTable`.
    pub op: String,
    /// The HTTP method.
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    /// The start of the request body (at most 1 KiB, lossy UTF-8), e.g. to tell which table a
    /// Glue call was about.
    pub body: String,
    /// The status code sent back, or `None` if the proxy got no answer from the emulator.
    pub status: Option<u16>,
    /// True when the answer was an injected fault.
    pub injected: bool,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.status.map_or("-".to_string(), |s| s.to_string());
        let injected = if self.injected { " (injected)" } else { "" };
        write!(
            f,
            "{} -> {status}{injected}  [{} {}]",
            self.op, self.method, self.target
        )?;
        if !self.body.is_empty() && !self.op.starts_with("s3:") {
            let body: String = self.body.chars().take(200).collect();
            write!(f, " {body}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct Fault {
    /// Requests let through before the failures start.
    pass_first: usize,
    remaining: usize,
    status: u16,
    code: String,
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    faults: HashMap<String, Fault>,
}

/// A counting, fault-injecting loopback proxy in front of an [`Emulator`]. Stopped on drop.
pub struct Proxy {
    endpoint: String,
    state: Arc<Mutex<State>>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Starts a proxy on a free loopback port that forwards every request to `emulator`.
    /// Panics if it cannot.
    pub fn start(emulator: &Emulator) -> Proxy {
        Proxy::start_to(emulator.addr())
    }

    /// Starts a proxy in front of any HTTP/1.1 server on `upstream`.
    pub fn start_to(upstream: SocketAddr) -> Proxy {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|e| panic!("proxy: cannot bind a loopback port: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("proxy: no local address: {e}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("proxy: cannot make the listener non-blocking: {e}"));
        let state: Arc<Mutex<State>> = Arc::default();
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let thread_state = Arc::clone(&state);
        let thread = thread::Builder::new()
            .name(format!("mesh-proxy:{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("proxy: cannot build a tokio runtime");
                runtime.block_on(accept_loop(listener, upstream, thread_state, shutdown_rx));
                // Open keep-alive connections are dropped with the runtime.
                runtime.shutdown_timeout(Duration::from_millis(100));
            })
            .unwrap_or_else(|e| panic!("proxy: cannot start its thread: {e}"));
        Proxy {
            endpoint: format!("http://{addr}"),
            state,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    /// The proxy's URL, e.g. `http://127.0.0.1:40123`: the `endpoint` for a provider block.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// The operations seen so far (`service:Operation`), in order.
    pub fn calls(&self) -> Vec<String> {
        lock(&self.state)
            .calls
            .iter()
            .map(|c| c.op.clone())
            .collect()
    }

    /// Every request seen so far, with details, in order.
    pub fn call_log(&self) -> Vec<Call> {
        lock(&self.state).calls.clone()
    }

    /// The calls as a numbered list, one per line: for failure messages.
    pub fn report(&self) -> String {
        let calls = self.call_log();
        if calls.is_empty() {
            return "(no AWS calls)".to_string();
        }
        calls
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{:3}. {c}", i + 1))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Forgets the calls seen so far (faults stay armed).
    pub fn reset_counts(&self) {
        lock(&self.state).calls.clear();
    }

    /// How many calls so far have an operation starting with `prefix`: `"glue:"` for every Glue
    /// call, `"glue:CreateTable"` for one operation, `""` for all.
    pub fn count(&self, prefix: &str) -> usize {
        lock(&self.state)
            .calls
            .iter()
            .filter(|c| c.op.starts_with(prefix))
            .count()
    }

    /// Makes the next `times` requests of `op` (e.g. `glue:CreateTable`) fail with HTTP `status`
    /// and AWS error code `aws_code`, without reaching the emulator. Replaces an earlier fault
    /// armed for `op`.
    pub fn fail(&self, op: &str, times: usize, status: u16, aws_code: &str) {
        self.fail_after(op, 0, times, status, aws_code);
    }

    /// Like [`Proxy::fail`], but lets the first `pass` requests of `op` through: a failure
    /// part-way through a change that makes several calls.
    pub fn fail_after(&self, op: &str, pass: usize, times: usize, status: u16, aws_code: &str) {
        lock(&self.state).faults.insert(
            op.to_string(),
            Fault {
                pass_first: pass,
                remaining: times,
                status,
                code: aws_code.to_string(),
            },
        );
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        lock(&self.state).faults.clear();
    }

    /// How many injected failures are still armed for `op`.
    pub fn faults_remaining(&self, op: &str) -> usize {
        lock(&self.state)
            .faults
            .get(op)
            .map_or(0, |fault| fault.remaining)
    }

    /// AWS SDK configuration whose endpoint is this proxy (test credentials, [`crate::REGION`]).
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config_for(&self.endpoint)
    }

    /// A Lake Formation client that goes through the proxy.
    pub fn lakeformation(&self) -> aws_sdk_lakeformation::Client {
        aws_sdk_lakeformation::Client::new(&self.sdk_config())
    }

    /// A Glue client that goes through the proxy.
    pub fn glue(&self) -> aws_sdk_glue::Client {
        aws_sdk_glue::Client::new(&self.sdk_config())
    }

    /// An S3 client (path-style) that goes through the proxy.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        crate::s3_client(&self.sdk_config())
    }

    /// An STS client that goes through the proxy.
    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.sdk_config())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(
    listener: std::net::TcpListener,
    upstream: SocketAddr,
    state: Arc<Mutex<State>>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("[proxy] cannot use the listener: {e}");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let state = Arc::clone(&state);
                    tokio::spawn(async move {
                        let _ = serve_connection(stream, upstream, state).await;
                    });
                }
                Err(e) => {
                    eprintln!("[proxy] accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 plumbing
// ---------------------------------------------------------------------------------------------

/// A TCP stream with a read buffer.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Reads more bytes into the buffer; `Ok(0)` at end of stream.
    async fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// The bytes up to and including the blank line ending a head; `None` on a clean end of
    /// stream before any byte.
    async fn read_head(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                return Ok(Some(self.buf.drain(..end + 4).collect()));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(io::Error::other("HTTP head too large"));
            }
            if self.fill().await? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                };
            }
        }
    }

    async fn read_exact_n(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// One CRLF-terminated line, without the CRLF.
    async fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n") {
                let line = self.buf.drain(..end + 2).take(end).collect();
                return Ok(line);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(io::Error::other("HTTP line too long"));
            }
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// A `Transfer-Encoding: chunked` body, decoded (trailers are read and dropped).
    async fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line().await?;
            let line = String::from_utf8_lossy(&line);
            let size = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| io::Error::other(format!("bad chunk size {line:?}")))?;
            if size == 0 {
                // Trailers, then a blank line.
                while !self.read_line().await?.is_empty() {}
                return Ok(body);
            }
            body.extend(self.read_exact_n(size).await?);
            if !self.read_line().await?.is_empty() {
                return Err(io::Error::other("chunk not followed by CRLF"));
            }
        }
    }

    async fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        while self.fill().await? > 0 {}
        Ok(std::mem::take(&mut self.buf))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

type Headers = Vec<(String, Vec<u8>)>;

fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
        .map(str::trim)
}

fn header_has_token(headers: &Headers, name: &str, token: &str) -> bool {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .filter_map(|(_, v)| std::str::from_utf8(v).ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Hop-by-hop headers the proxy never forwards (it frames bodies itself).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "content-length",
];

struct Request {
    method: String,
    target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    version: u8,
    headers: Headers,
    body: Vec<u8>,
}

async fn read_request(client: &mut Conn) -> io::Result<Option<Request>> {
    let Some(head) = client.read_head().await? else {
        return Ok(None);
    };
    let mut parsed = [httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut parsed);
    match req.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(io::Error::other("partial request head")),
        Err(e) => return Err(io::Error::other(format!("bad request head: {e}"))),
    }
    let method = req.method.unwrap_or("GET").to_string();
    let target = req.path.unwrap_or("/").to_string();
    let version = req.version.unwrap_or(1);
    let headers: Headers = req
        .headers
        .iter()
        .map(|h| (h.name.to_string(), h.value.to_vec()))
        .collect();

    if header_has_token(&headers, "expect", "100-continue") {
        client
            .stream
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .await?;
    }
    let body = if header_has_token(&headers, "transfer-encoding", "chunked") {
        client.read_chunked().await?
    } else if let Some(len) = header(&headers, "content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| io::Error::other(format!("bad Content-Length {len:?}")))?;
        client.read_exact_n(len).await?
    } else {
        Vec::new()
    };
    Ok(Some(Request {
        method,
        target,
        version,
        headers,
        body,
    }))
}

struct Response {
    status: u16,
    reason: String,
    headers: Headers,
    body: Vec<u8>,
}

async fn serve_connection(
    stream: TcpStream,
    upstream: SocketAddr,
    state: Arc<Mutex<State>>,
) -> io::Result<()> {
    let _ = stream.set_nodelay(true);
    let mut client = Conn::new(stream);
    while let Some(request) = read_request(&mut client).await? {
        let wants_close = header_has_token(&request.headers, "connection", "close")
            || (request.version == 0
                && !header_has_token(&request.headers, "connection", "keep-alive"));
        let op = classify(&request);
        let fault = take_fault(&state, &op.name);
        let (response, injected) = match fault {
            Some(fault) => (fault_response(&op, &request, &fault), true),
            None => match forward(upstream, &request).await {
                Ok(response) => (response, false),
                Err(e) => {
                    let fault = Fault {
                        pass_first: 0,
                        remaining: 0,
                        status: 502,
                        code: "ProxyUpstreamError".to_string(),
                    };
                    let mut response = fault_response(&op, &request, &fault);
                    response.reason = format!("Bad Gateway ({e})").replace(['\r', '\n'], " ");
                    (response, false)
                }
            },
        };
        record(&state, &op.name, &request, Some(response.status), injected);
        write_response(&mut client.stream, &request, &response, wants_close).await?;
        if wants_close {
            break;
        }
    }
    let _ = client.stream.shutdown().await;
    Ok(())
}

fn take_fault(state: &Mutex<State>, op: &str) -> Option<Fault> {
    let mut state = lock(state);
    let fault = state.faults.get_mut(op)?;
    if fault.pass_first > 0 {
        fault.pass_first -= 1;
        return None;
    }
    if fault.remaining == 0 {
        return None;
    }
    fault.remaining -= 1;
    Some(fault.clone())
}

fn record(state: &Mutex<State>, op: &str, request: &Request, status: Option<u16>, injected: bool) {
    let body = &request.body[..request.body.len().min(1024)];
    lock(state).calls.push(Call {
        op: op.to_string(),
        method: request.method.clone(),
        target: request.target.clone(),
        body: String::from_utf8_lossy(body).into_owned(),
        status,
        injected,
    });
}

/// Sends `request` to the emulator on a fresh connection and reads the whole answer.
async fn forward(upstream: SocketAddr, request: &Request) -> io::Result<Response> {
    tokio::time::timeout(UPSTREAM_TIMEOUT, forward_inner(upstream, request))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the emulator did not answer"))?
}

async fn forward_inner(upstream: SocketAddr, request: &Request) -> io::Result<Response> {
    let stream = TcpStream::connect(upstream).await?;
    let _ = stream.set_nodelay(true);
    let mut conn = Conn::new(stream);

    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.target).into_bytes();
    for (name, value) in &request.headers {
        if HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            continue;
        }
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    let has_body = !request.body.is_empty()
        || header(&request.headers, "content-length").is_some()
        || header_has_token(&request.headers, "transfer-encoding", "chunked");
    if has_body {
        head.extend_from_slice(format!("Content-Length: {}\r\n", request.body.len()).as_bytes());
    }
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    head.extend_from_slice(&request.body);
    conn.stream.write_all(&head).await?;

    loop {
        let head = conn
            .read_head()
            .await?
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        let mut parsed = [httparse::EMPTY_HEADER; 128];
        let mut resp = httparse::Response::new(&mut parsed);
        match resp.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => return Err(io::Error::other("partial response head")),
            Err(e) => return Err(io::Error::other(format!("bad response head: {e}"))),
        }
        let status = resp.code.unwrap_or(502);
        if (100..200).contains(&status) {
            continue; // An interim answer: the final one follows.
        }
        let reason = resp.reason.unwrap_or("").to_string();
        let headers: Headers = resp
            .headers
            .iter()
            .map(|h| (h.name.to_string(), h.value.to_vec()))
            .collect();
        let body = if request.method.eq_ignore_ascii_case("HEAD") || status == 204 || status == 304
        {
            Vec::new()
        } else if header_has_token(&headers, "transfer-encoding", "chunked") {
            conn.read_chunked().await?
        } else if let Some(len) = header(&headers, "content-length") {
            let len: usize = len
                .parse()
                .map_err(|_| io::Error::other(format!("bad Content-Length {len:?}")))?;
            conn.read_exact_n(len).await?
        } else {
            conn.read_to_end().await?
        };
        return Ok(Response {
            status,
            reason,
            headers,
            body,
        });
    }
}

async fn write_response(
    client: &mut TcpStream,
    request: &Request,
    response: &Response,
    close: bool,
) -> io::Result<()> {
    let is_head = request.method.eq_ignore_ascii_case("HEAD");
    let reason = if response.reason.is_empty() {
        "Status"
    } else {
        &response.reason
    };
    let mut out = format!("HTTP/1.1 {} {reason}\r\n", response.status).into_bytes();
    for (name, value) in &response.headers {
        // A HEAD answer keeps the emulator's Content-Length: it describes the object.
        let keep_length = is_head && name.eq_ignore_ascii_case("content-length");
        if !keep_length && HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    let no_body = response.status == 204 || response.status == 304;
    if !is_head && !no_body {
        out.extend_from_slice(format!("Content-Length: {}\r\n", response.body.len()).as_bytes());
    }
    out.extend_from_slice(if close {
        b"Connection: close\r\n\r\n".as_slice()
    } else {
        b"Connection: keep-alive\r\n\r\n".as_slice()
    });
    if !is_head && !no_body {
        out.extend_from_slice(&response.body);
    }
    client.write_all(&out).await?;
    client.flush().await
}

// ---------------------------------------------------------------------------------------------
// Naming operations and faking errors
// ---------------------------------------------------------------------------------------------

/// How a service encodes its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// awsJson1.0/1.1 (`X-Amz-Target`).
    Json,
    /// restJson1 (Lake Formation).
    RestJson,
    /// S3's REST-XML.
    S3,
    /// awsQuery (STS, IAM).
    Query,
}

#[derive(Debug, Clone)]
struct Operation {
    name: String,
    protocol: Protocol,
}

/// The SigV4 credential scope's service: `Credential=AKID/DATE/REGION/SERVICE/aws4_request`.
fn signing_service(headers: &Headers) -> Option<String> {
    let auth = header(headers, "authorization")?;
    let scope = auth.split("Credential=").nth(1)?;
    let scope = scope.split([',', ' ']).next()?;
    let parts: Vec<&str> = scope.split('/').collect();
    (parts.len() >= 5).then(|| parts[parts.len() - 2].to_string())
}

/// `(path, [(name, value)])` of a request target, percent-decoding only what names need.
fn split_target(target: &str) -> (&str, Vec<(String, String)>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let params = parse_form(query);
    (path, params)
}

fn parse_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn classify(request: &Request) -> Operation {
    let service = signing_service(&request.headers);
    if let Some(target) = header(&request.headers, "x-amz-target") {
        let (prefix, action) = target.rsplit_once('.').unwrap_or(("", target));
        let service = service.unwrap_or_else(|| service_from_target_prefix(prefix));
        return Operation {
            name: format!("{service}:{action}"),
            protocol: Protocol::Json,
        };
    }
    let (path, params) = split_target(&request.target);
    let service = service.unwrap_or_default();
    if service == "s3" {
        return Operation {
            name: format!(
                "s3:{}",
                s3_operation(&request.method, path, &params, request)
            ),
            protocol: Protocol::S3,
        };
    }
    let form = header(&request.headers, "content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let form_params = if form {
        parse_form(&String::from_utf8_lossy(&request.body))
    } else {
        Vec::new()
    };
    let action = params
        .iter()
        .chain(form_params.iter())
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.clone());
    let service = if service.is_empty() {
        "unknown".to_string()
    } else {
        service
    };
    if let Some(action) = action {
        return Operation {
            name: format!("{service}:{action}"),
            protocol: Protocol::Query,
        };
    }
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let name = if last.is_empty() {
        format!("{service}:{} {path}", request.method)
    } else {
        format!("{service}:{}", percent_decode(last))
    };
    Operation {
        name,
        protocol: Protocol::RestJson,
    }
}

/// `AWSGlue` -> `glue`, `AWSLakeFormation` -> `lakeformation`, `AmazonSSM` -> `ssm`.
fn service_from_target_prefix(prefix: &str) -> String {
    let name = prefix
        .strip_prefix("AWS")
        .or_else(|| prefix.strip_prefix("Amazon"))
        .unwrap_or(prefix);
    let name: String = name.chars().take_while(|c| !c.is_ascii_digit()).collect();
    let name = name.trim_end_matches(['_', 'V', 'v']);
    if name.is_empty() {
        "unknown".to_string()
    } else {
        name.to_ascii_lowercase()
    }
}

/// The S3 operation of a path-style request.
fn s3_operation(
    method: &str,
    path: &str,
    params: &[(String, String)],
    request: &Request,
) -> String {
    if let Some((_, id)) = params.iter().find(|(k, _)| k == "x-id") {
        return id.clone();
    }
    let has = |name: &str| params.iter().any(|(k, _)| k == name);
    let value = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let trimmed = path.trim_start_matches('/');
    let (bucket, key) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    let method = method.to_ascii_uppercase();
    let copy = header(&request.headers, "x-amz-copy-source").is_some();

    if bucket.is_empty() {
        return match method.as_str() {
            "GET" => "ListBuckets".to_string(),
            other => format!("{other} /"),
        };
    }

    // Bucket sub-resources, as (query parameter, operation suffix).
    const SUBRESOURCES: &[(&str, &str)] = &[
        ("versioning", "BucketVersioning"),
        ("encryption", "BucketEncryption"),
        ("publicAccessBlock", "PublicAccessBlock"),
        ("policy", "BucketPolicy"),
        ("policyStatus", "BucketPolicyStatus"),
        ("tagging", "BucketTagging"),
        ("acl", "BucketAcl"),
        ("cors", "BucketCors"),
        ("lifecycle", "BucketLifecycleConfiguration"),
        ("ownershipControls", "BucketOwnershipControls"),
        ("notification", "BucketNotificationConfiguration"),
        ("logging", "BucketLogging"),
        ("website", "BucketWebsite"),
        ("replication", "BucketReplication"),
        ("object-lock", "ObjectLockConfiguration"),
        ("accelerate", "BucketAccelerateConfiguration"),
        ("requestPayment", "BucketRequestPayment"),
        ("location", "BucketLocation"),
        ("analytics", "BucketAnalyticsConfiguration"),
        ("metrics", "BucketMetricsConfiguration"),
        ("inventory", "BucketInventoryConfiguration"),
        (
            "intelligent-tiering",
            "BucketIntelligentTieringConfiguration",
        ),
    ];

    if key.is_empty() {
        if method == "POST" && has("delete") {
            return "DeleteObjects".to_string();
        }
        if method == "HEAD" {
            return "HeadBucket".to_string();
        }
        if method == "GET" {
            if value("list-type") == Some("2") {
                return "ListObjectsV2".to_string();
            }
            if has("versions") {
                return "ListObjectVersions".to_string();
            }
            if has("uploads") {
                return "ListMultipartUploads".to_string();
            }
        }
        if let Some((_, suffix)) = SUBRESOURCES.iter().find(|(q, _)| has(q)) {
            let verb = match method.as_str() {
                "GET" => "Get",
                "PUT" => "Put",
                "DELETE" => "Delete",
                other => return format!("{other} /{bucket}?{suffix}"),
            };
            return match (verb, *suffix) {
                ("Delete", "BucketLifecycleConfiguration") => "DeleteBucketLifecycle".to_string(),
                ("Delete", "BucketCors") => "DeleteBucketCors".to_string(),
                _ => format!("{verb}{suffix}"),
            };
        }
        return match method.as_str() {
            "PUT" => "CreateBucket",
            "GET" => "ListObjects",
            "DELETE" => "DeleteBucket",
            "POST" => "PostObject",
            _ => "Unknown",
        }
        .to_string();
    }

    let upload = has("uploadId");
    match method.as_str() {
        "PUT" if has("tagging") => "PutObjectTagging",
        "PUT" if has("acl") => "PutObjectAcl",
        "PUT" if has("retention") => "PutObjectRetention",
        "PUT" if has("legal-hold") => "PutObjectLegalHold",
        "PUT" if has("partNumber") && copy => "UploadPartCopy",
        "PUT" if has("partNumber") => "UploadPart",
        "PUT" if copy => "CopyObject",
        "PUT" => "PutObject",
        "GET" if has("tagging") => "GetObjectTagging",
        "GET" if has("acl") => "GetObjectAcl",
        "GET" if has("attributes") => "GetObjectAttributes",
        "GET" if has("retention") => "GetObjectRetention",
        "GET" if has("legal-hold") => "GetObjectLegalHold",
        "GET" if upload => "ListParts",
        "GET" => "GetObject",
        "HEAD" => "HeadObject",
        "DELETE" if has("tagging") => "DeleteObjectTagging",
        "DELETE" if upload => "AbortMultipartUpload",
        "DELETE" => "DeleteObject",
        "POST" if has("uploads") => "CreateMultipartUpload",
        "POST" if upload => "CompleteMultipartUpload",
        "POST" if has("restore") => "RestoreObject",
        "POST" if has("select") => "SelectObjectContent",
        _ => "Unknown",
    }
    .to_string()
}

/// The error answer for an injected (or upstream) failure, in the operation's protocol.
fn fault_response(op: &Operation, request: &Request, fault: &Fault) -> Response {
    let message = format!(
        "injected by the acceptance proxy: {} answered {} {}",
        op.name, fault.status, fault.code
    );
    let request_id = format!("mesh-proxy-{:016x}", request.body.len() ^ op.name.len());
    let mut headers: Headers = vec![
        (
            "x-amzn-requestid".to_string(),
            request_id.clone().into_bytes(),
        ),
        (
            "x-amz-request-id".to_string(),
            request_id.clone().into_bytes(),
        ),
    ];
    let body = match op.protocol {
        Protocol::Json | Protocol::RestJson => {
            let content_type = if op.protocol == Protocol::Json {
                "application/x-amz-json-1.1"
            } else {
                "application/json"
            };
            headers.push(("content-type".to_string(), content_type.into()));
            headers.push((
                "x-amzn-errortype".to_string(),
                fault.code.clone().into_bytes(),
            ));
            serde_json::json!({ "__type": fault.code, "message": message, "Message": message })
                .to_string()
        }
        Protocol::S3 => {
            headers.push(("content-type".to_string(), "application/xml".into()));
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>{request_id}</RequestId></Error>",
                xml_escape(&fault.code),
                xml_escape(&message)
            )
        }
        Protocol::Query => {
            headers.push(("content-type".to_string(), "text/xml".into()));
            let kind = if fault.status >= 500 {
                "Receiver"
            } else {
                "Sender"
            };
            format!(
                "<ErrorResponse><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                xml_escape(&fault.code),
                xml_escape(&message)
            )
        }
    };
    Response {
        status: fault.status,
        reason: reason_phrase(fault.status).to_string(),
        headers,
        body: body.into_bytes(),
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Request {
        Request {
            method: method.to_string(),
            target: target.to_string(),
            version: 1,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn auth(service: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=abc")
    }

    fn s3(method: &str, target: &str) -> String {
        let a = auth("s3");
        classify(&request(method, target, &[("Authorization", &a)], "")).name
    }

    #[test]
    fn names_json_rest_json_and_query_operations() {
        let glue = auth("glue");
        let target = request(
            "POST",
            "/",
            &[
                ("Authorization", &glue),
                ("X-Amz-Target", "AWSGlue.CreateTable"),
            ],
            "{}",
        );
        assert_eq!(classify(&target).name, "glue:CreateTable");
        let lf = auth("lakeformation");
        let rest = request("POST", "/CreateLFTag", &[("Authorization", &lf)], "{}");
        assert_eq!(classify(&rest).name, "lakeformation:CreateLFTag");
        let sts = auth("sts");
        let query = request(
            "POST",
            "/",
            &[
                ("Authorization", &sts),
                (
                    "Content-Type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                ),
            ],
            "Action=GetCallerIdentity&Version=2011-06-15",
        );
        assert_eq!(classify(&query).name, "sts:GetCallerIdentity");
        let unsigned = request(
            "POST",
            "/",
            &[("X-Amz-Target", "AWSLakeFormation.GetLFTag")],
            "",
        );
        assert_eq!(classify(&unsigned).name, "lakeformation:GetLFTag");
    }

    #[test]
    fn names_s3_operations_by_shape() {
        assert_eq!(s3("PUT", "/b"), "s3:CreateBucket");
        assert_eq!(s3("PUT", "/b/"), "s3:CreateBucket");
        assert_eq!(s3("PUT", "/b/k/x.json"), "s3:PutObject");
        assert_eq!(s3("PUT", "/b/k?x-id=PutObject"), "s3:PutObject");
        assert_eq!(s3("GET", "/b/k"), "s3:GetObject");
        assert_eq!(s3("HEAD", "/b/k"), "s3:HeadObject");
        assert_eq!(s3("HEAD", "/b"), "s3:HeadBucket");
        assert_eq!(s3("DELETE", "/b/k"), "s3:DeleteObject");
        assert_eq!(s3("DELETE", "/b"), "s3:DeleteBucket");
        assert_eq!(s3("GET", "/b?list-type=2&prefix=p"), "s3:ListObjectsV2");
        assert_eq!(s3("GET", "/b?versions"), "s3:ListObjectVersions");
        assert_eq!(s3("PUT", "/b?versioning"), "s3:PutBucketVersioning");
        assert_eq!(s3("GET", "/b?versioning"), "s3:GetBucketVersioning");
        assert_eq!(s3("PUT", "/b?encryption"), "s3:PutBucketEncryption");
        assert_eq!(s3("GET", "/b?encryption="), "s3:GetBucketEncryption");
        assert_eq!(s3("PUT", "/b?publicAccessBlock"), "s3:PutPublicAccessBlock");
        assert_eq!(s3("GET", "/b?publicAccessBlock"), "s3:GetPublicAccessBlock");
        assert_eq!(
            s3("DELETE", "/b?publicAccessBlock"),
            "s3:DeletePublicAccessBlock"
        );
        assert_eq!(s3("POST", "/b?delete"), "s3:DeleteObjects");
        assert_eq!(s3("GET", "/"), "s3:ListBuckets");
        assert_eq!(s3("PUT", "/b/k?tagging"), "s3:PutObjectTagging");
        assert_eq!(s3("POST", "/b/k?uploads"), "s3:CreateMultipartUpload");
        assert_eq!(s3("PUT", "/b/k?partNumber=1&uploadId=u"), "s3:UploadPart");
    }

    #[test]
    fn target_prefixes_name_services() {
        assert_eq!(service_from_target_prefix("AWSGlue"), "glue");
        assert_eq!(
            service_from_target_prefix("AWSLakeFormation"),
            "lakeformation"
        );
        assert_eq!(
            service_from_target_prefix("AWSOrganizationsV20161128"),
            "organizations"
        );
        assert_eq!(percent_decode("a%2Fb+c%"), "a/b c%");
    }
}
