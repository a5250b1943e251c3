//! The AWS layer against a scripted HTTP endpoint: throttling, concurrent modification and 5xx
//! are retried with backoff; other errors surface at once with the operation and AWS error code;
//! retries stop at `max_retries`.

use mesh_provider::aws::{Clients, ErrorKind, Service, Settings};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One scripted answer: HTTP status, `x-amzn-errortype` (None for success) and JSON body.
#[derive(Clone)]
struct Answer(u16, Option<&'static str>, &'static str);

const OK: Answer = Answer(
    200,
    None,
    r#"{"CatalogId":"123456789012","TagKey":"k","TagValues":["a"]}"#,
);

/// Serves `script` in order (the last answer repeats) and counts requests.
async fn scripted(script: Vec<Answer>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let Answer(status, error, body) = script[n.min(script.len() - 1)].clone();
            tokio::spawn(async move {
                // Read the request head and body (small; one read of the headers is enough here,
                // then drain by content-length).
                let mut buf = vec![0u8; 65536];
                let mut got = 0;
                loop {
                    let Ok(r) = sock.read(&mut buf[got..]).await else {
                        return;
                    };
                    if r == 0 {
                        return;
                    }
                    got += r;
                    let text = String::from_utf8_lossy(&buf[..got]).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if got >= end + 4 + len {
                            break;
                        }
                    }
                }
                let error_header = error
                    .map(|e| format!("x-amzn-errortype: {e}\r\n"))
                    .unwrap_or_default();
                let body = match error {
                    Some(e) => format!(r#"{{"__type":"{e}","message":"scripted {e}"}}"#),
                    None => body.to_string(),
                };
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{error_header}content-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}"), count)
}

async fn clients(endpoint: &str, max_retries: u32) -> Clients {
    // Static test credentials for the SDK's default chain; same values in every test.
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDTEST");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret-for-tests");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    Clients::new(&Settings {
        region: Some("us-east-1".into()),
        endpoint: Some(endpoint.into()),
        max_retries,
        ..Settings::default()
    })
    .await
    .expect("clients")
}

async fn get_tag(c: &Clients) -> Result<Vec<String>, mesh_provider::aws::AwsError> {
    c.call(Service::LakeFormation, "GetLFTag", || {
        c.lakeformation().get_lf_tag().tag_key("k").send()
    })
    .await
    .map(|o| o.tag_values.unwrap_or_default())
}

#[tokio::test]
async fn throttling_concurrent_modification_and_5xx_are_retried() {
    let (url, count) = scripted(vec![
        Answer(400, Some("ThrottlingException"), ""),
        Answer(400, Some("ConcurrentModificationException"), ""),
        Answer(503, Some("InternalServiceException"), ""),
        OK,
    ])
    .await;
    let c = clients(&url, 5).await;
    assert_eq!(
        get_tag(&c).await.expect("succeeds after retries"),
        vec!["a".to_string()]
    );
    assert_eq!(count.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn other_errors_surface_at_once_with_operation_and_code() {
    let (url, count) = scripted(vec![Answer(403, Some("AccessDeniedException"), "")]).await;
    let c = clients(&url, 5).await;
    let err = get_tag(&c).await.expect_err("access denied");
    assert_eq!(count.load(Ordering::SeqCst), 1, "not retried");
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    let text = err.to_string();
    assert!(text.contains("lakeformation GetLFTag"), "{text}");
    assert!(text.contains("AccessDeniedException"), "{text}");
}

#[tokio::test]
async fn retries_are_bounded() {
    let (url, count) = scripted(vec![Answer(400, Some("ThrottlingException"), "")]).await;
    let c = clients(&url, 2).await;
    let err = get_tag(&c).await.expect_err("gives up");
    assert_eq!(err.kind, ErrorKind::Throttled);
    assert_eq!(
        count.load(Ordering::SeqCst),
        3,
        "one attempt plus max_retries"
    );
}

#[tokio::test]
async fn not_found_is_typed() {
    let (url, _) = scripted(vec![Answer(400, Some("EntityNotFoundException"), "")]).await;
    let c = clients(&url, 2).await;
    assert!(get_tag(&c).await.expect_err("missing").is_not_found());
}
