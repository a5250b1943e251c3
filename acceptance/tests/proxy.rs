//! Self-tests of the counting, fault-injecting proxy: through the AWS SDK (keep-alive
//! connections, every protocol the provider speaks), raw HTTP/1.1 framing, and Terraform.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use aws_sdk_glue::types::DatabaseInput;
use aws_sdk_lakeformation::error::ProvideErrorMetadata;
use mesh_acceptance::{mesh_config, unique_name, Emulator, Proxy, Workspace, ACCOUNT_ID};

use mesh_acceptance::{terraform_tests, Terraform};

terraform_tests!(
    sync proxy_counts_terraform_calls,
);

#[tokio::test]
async fn proxy_counts_lake_formation_calls_and_injects_faults() {
    let emulator = Emulator::shared();
    let proxy = Proxy::start(emulator);
    let lf = proxy.lakeformation();
    let key = unique_name("proxy");

    lf.create_lf_tag()
        .tag_key(&key)
        .tag_values("a")
        .send()
        .await
        .expect("CreateLFTag through the proxy");
    let values = lf
        .get_lf_tag()
        .tag_key(&key)
        .send()
        .await
        .expect("GetLFTag through the proxy");
    assert_eq!(values.tag_values(), ["a"]);
    assert_eq!(
        proxy.calls(),
        ["lakeformation:CreateLFTag", "lakeformation:GetLFTag"],
        "{}",
        proxy.report()
    );
    assert_eq!(proxy.count("lakeformation:CreateLFTag"), 1);
    assert_eq!(proxy.count("lakeformation:GetLFTag"), 1);
    assert_eq!(proxy.count("lakeformation:"), 2);
    assert_eq!(proxy.count(""), 2);

    // One injected failure: the next GetLFTag fails with that code and never reaches moto.
    proxy.reset_counts();
    assert_eq!(proxy.count(""), 0);
    proxy.fail("lakeformation:GetLFTag", 1, 400, "AccessDeniedException");
    assert_eq!(proxy.faults_remaining("lakeformation:GetLFTag"), 1);
    let err = lf
        .get_lf_tag()
        .tag_key(&key)
        .send()
        .await
        .expect_err("the injected fault");
    assert_eq!(err.code(), Some("AccessDeniedException"), "{err:?}");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_access_denied_exception()),
        "{err:?}"
    );
    assert!(
        err.message().unwrap_or_default().contains("injected"),
        "{err:?}"
    );
    assert_eq!(proxy.faults_remaining("lakeformation:GetLFTag"), 0);
    // Used up: the next one goes through.
    lf.get_lf_tag()
        .tag_key(&key)
        .send()
        .await
        .expect("GetLFTag after the fault");
    let log = proxy.call_log();
    assert_eq!(log.len(), 2, "{}", proxy.report());
    assert!(log[0].injected && log[0].status == Some(400), "{log:?}");
    assert!(!log[1].injected && log[1].status == Some(200), "{log:?}");
    // The emulator saw only the real calls: the tag is untouched.
    assert_eq!(
        emulator.lf_tag_values(&key).await,
        Some(vec!["a".to_string()])
    );
}

#[tokio::test]
async fn proxy_faults_repeat_and_retryable_ones_are_retried_by_the_sdk() {
    let emulator = Emulator::shared();
    let proxy = Proxy::start(emulator);
    let glue = proxy.glue();
    let name = unique_name("proxy_db");
    // Twice a throttle: the SDK's standard retry (3 attempts) gets through on the third.
    proxy.fail("glue:CreateDatabase", 2, 400, "ThrottlingException");
    glue.create_database()
        .database_input(DatabaseInput::builder().name(&name).build().unwrap())
        .send()
        .await
        .expect("CreateDatabase after two throttles");
    assert_eq!(proxy.count("glue:CreateDatabase"), 3, "{}", proxy.report());
    assert!(emulator.get_database(&name).await.is_some());

    // Three non-retryable failures in a row.
    proxy.fail("glue:GetDatabase", 3, 400, "AccessDeniedException");
    for _ in 0..3 {
        let err = glue
            .get_database()
            .name(&name)
            .send()
            .await
            .expect_err("fault");
        assert_eq!(
            aws_sdk_glue::error::ProvideErrorMetadata::code(&err),
            Some("AccessDeniedException")
        );
    }
    glue.get_database().name(&name).send().await.expect("clear");
    proxy.fail("glue:GetDatabase", 5, 400, "AccessDeniedException");
    proxy.clear_faults();
    glue.get_database()
        .name(&name)
        .send()
        .await
        .expect("cleared");
    assert_eq!(proxy.count("glue:GetDatabase"), 5, "{}", proxy.report());

    // Part-way: two calls pass, the third fails, the fourth passes again.
    proxy.fail_after("glue:GetDatabase", 2, 1, 400, "AccessDeniedException");
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        outcomes.push(glue.get_database().name(&name).send().await.is_ok());
    }
    assert_eq!(outcomes, [true, true, false, true], "{}", proxy.report());
}

#[tokio::test]
async fn proxy_names_s3_and_sts_operations() {
    let emulator = Emulator::shared();
    let proxy = Proxy::start(emulator);
    let s3 = proxy.s3();
    let bucket = unique_name("proxy-bucket").replace('_', "-");
    let body = vec![b'x'; 200_000];

    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_bucket_versioning()
        .bucket(&bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(&bucket)
        .key("products/p/part-0.bin")
        .body(body.clone().into())
        .send()
        .await
        .expect("PutObject (a body large enough for streaming) through the proxy");
    let head = s3
        .head_object()
        .bucket(&bucket)
        .key("products/p/part-0.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(body.len() as i64));
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("products/p/part-0.bin")
        .send()
        .await
        .unwrap();
    let got = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(got.len(), body.len());
    assert!(
        got.iter().all(|b| *b == b'x'),
        "the object came back changed"
    );
    let listed = s3
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("products/")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.contents().len(), 1);
    s3.head_bucket().bucket(&bucket).send().await.unwrap();
    let missing = s3
        .head_object()
        .bucket(&bucket)
        .key("nope")
        .send()
        .await
        .expect_err("HeadObject of a missing key");
    assert_eq!(
        missing.raw_response().map(|r| r.status().as_u16()),
        Some(404)
    );
    s3.delete_object()
        .bucket(&bucket)
        .key("products/p/part-0.bin")
        .send()
        .await
        .unwrap();
    let identity = proxy.sts().get_caller_identity().send().await.unwrap();
    assert_eq!(identity.account(), Some(ACCOUNT_ID));

    assert_eq!(
        proxy.calls(),
        [
            "s3:CreateBucket",
            "s3:PutBucketVersioning",
            "s3:PutObject",
            "s3:HeadObject",
            "s3:GetObject",
            "s3:ListObjectsV2",
            "s3:HeadBucket",
            "s3:HeadObject",
            "s3:DeleteObject",
            "sts:GetCallerIdentity",
        ],
        "{}",
        proxy.report()
    );

    // Faults in the XML protocols.
    proxy.fail("s3:PutObject", 1, 403, "AccessDenied");
    let err = s3
        .put_object()
        .bucket(&bucket)
        .key("denied")
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect_err("injected PutObject fault");
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&err),
        Some("AccessDenied"),
        "{err:?}"
    );
    assert_eq!(emulator.get_object(&bucket, "denied").await, None);
    proxy.fail("sts:GetCallerIdentity", 1, 403, "InvalidClientTokenId");
    let err = proxy
        .sts()
        .get_caller_identity()
        .send()
        .await
        .expect_err("injected STS fault");
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&err),
        Some("InvalidClientTokenId"),
        "{err:?}"
    );
}

/// Sends raw bytes to the proxy on one connection and reads `answers` complete responses.
fn raw_exchange(proxy: &Proxy, request: &[u8], answers: usize) -> String {
    let addr = proxy.endpoint().trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&addr).expect("connect to the proxy");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut text = String::new();
    let mut buf = [0u8; 8192];
    while text.matches("HTTP/1.1 ").count() < answers
        || !complete_responses(&text, answers.saturating_sub(1))
    {
        let n = stream.read(&mut buf).expect("read from the proxy");
        if n == 0 {
            break;
        }
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    text
}

/// True once the response after the `index`-th final one has its whole body.
fn complete_responses(text: &str, index: usize) -> bool {
    let Some(start) = text
        .match_indices("HTTP/1.1 ")
        .filter(|(i, _)| !text[*i..].starts_with("HTTP/1.1 100"))
        .nth(index)
        .map(|(i, _)| i)
    else {
        return false;
    };
    let rest = &text[start..];
    let Some((head, body)) = rest.split_once("\r\n\r\n") else {
        return false;
    };
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    body.len() >= len
}

#[test]
fn proxy_handles_chunked_bodies_expect_continue_and_keep_alive() {
    let emulator = Emulator::shared();
    let proxy = Proxy::start(emulator);
    let bucket = unique_name("proxy-raw").replace('_', "-");
    let auth = "AWS4-HMAC-SHA256 Credential=AKIAMESHACCEPTANCE00/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00";
    let host = proxy.endpoint().trim_start_matches("http://").to_string();
    // Three requests on one connection: create the bucket, a chunked PUT with
    // Expect: 100-continue, then a GET of the object.
    let request = format!(
        "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\nContent-Length: 0\r\n\r\n\
         PUT /{bucket}/obj.txt HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n\
         5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n\
         GET /{bucket}/obj.txt HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\n\r\n"
    );
    let text = raw_exchange(&proxy, request.as_bytes(), 3);
    assert!(
        text.contains("HTTP/1.1 100 Continue"),
        "no interim answer:\n{text}"
    );
    assert!(
        text.ends_with("hello, world"),
        "the chunked body did not arrive whole:\n{text}"
    );
    assert_eq!(
        proxy.calls(),
        ["s3:CreateBucket", "s3:PutObject", "s3:GetObject"],
        "{}",
        proxy.report()
    );
}

fn proxy_counts_terraform_calls(tf: &'static Terraform) {
    let emulator = Emulator::shared();
    let proxy = Proxy::start(emulator);
    let key = unique_name("proxied");
    let ws = Workspace::with_proxy(
        tf,
        &proxy,
        &mesh_config(&format!(
            "resource \"mesh_lf_tag\" \"t\" {{\n  key    = {key:?}\n  values = [\"v\"]\n}}\n"
        )),
    );
    ws.apply();
    assert_eq!(
        proxy.count("lakeformation:CreateLFTag"),
        1,
        "{}",
        proxy.report()
    );
    proxy.reset_counts();
    ws.assert_plan_empty();
    assert_eq!(
        proxy.count("lakeformation:CreateLFTag"),
        0,
        "{}",
        proxy.report()
    );
    assert!(
        proxy.count("lakeformation:GetLFTag") >= 1,
        "{}",
        proxy.report()
    );

    // A fault during apply surfaces with the operation and the code.
    ws.write_main(&mesh_config(&format!(
        "resource \"mesh_lf_tag\" \"t\" {{\n  key    = {key:?}\n  values = [\"v\", \"w\"]\n}}\n"
    )));
    proxy.fail(
        "lakeformation:UpdateLFTag",
        100,
        400,
        "AccessDeniedException",
    );
    let out = ws.tf(&["apply", "-auto-approve", "-input=false"]);
    assert!(!out.success(), "apply passed despite the fault:\n{out}");
    assert!(
        out.combined().contains("AccessDeniedException"),
        "the error should carry the AWS code:\n{out}\n{}",
        proxy.report()
    );
}
