//! What the center shows to anything on this computer besides its clients: a web page that
//! rebinds its name to 127.0.0.1 is refused by the `Host` check, and the admin API does not
//! exist unless it was turned on.

mod common;

use moa_testbed::Config;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Sends a raw HTTP/1.1 `GET path` with `host` as its `Host` header; the status code and the
/// whole answer.
async fn get_with_host(addr: std::net::SocketAddr, path: &str, host: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("the center accepts");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("the request is sent");
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .expect("the answer is read");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line in {answer:?}"));
    (status, answer)
}

#[tokio::test]
async fn a_request_addressed_to_another_host_is_refused_as_misdirected() {
    let bed = common::spawn().await;
    let addr = bed.spawned.addr;
    let port = addr.port();
    let path = "/oauth/2.0/authorize?client_id=x";
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let (status, answer) = get_with_host(addr, path, &host).await;
        assert_eq!(status, 400, "{host} reaches the pages: {answer}");
    }
    for host in [
        format!("rebind.evil.example:{port}"),
        "rebind.evil.example".to_owned(),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        format!("localhost.evil.example:{port}"),
    ] {
        for path in [path, "/testbed/admin/ledger", "/v2.0/user/me", "/nowhere"] {
            let (status, answer) = get_with_host(addr, path, &host).await;
            assert_eq!(status, 421, "{host}{path}: {answer}");
            assert!(!answer.contains("rsp_code"), "no handler ran: {answer}");
        }
    }
}

#[tokio::test]
async fn the_admin_api_answers_404_unless_turned_on() {
    let spawned = moa_testbed::spawn(Config::in_memory())
        .await
        .expect("the testbed starts");
    let http = common::http_client();
    for path in [
        "/testbed/admin/ledger",
        "/testbed/admin/faults",
        "/testbed/admin/clock",
        "/testbed/admin/banks",
    ] {
        let response = http
            .get(format!("{}{path}", spawned.base_url))
            .bearer_auth(&spawned.manifest.admin_token)
            .send()
            .await
            .expect("the center answers");
        assert_eq!(response.status(), reqwest::StatusCode::NOT_FOUND, "{path}");
    }
    let response = http
        .put(format!("{}/testbed/admin/clock", spawned.base_url))
        .bearer_auth(&spawned.manifest.admin_token)
        .json(&serde_json::json!({ "offset_seconds": 86_400 }))
        .send()
        .await
        .expect("the center answers");
    assert_eq!(response.status(), reqwest::StatusCode::NOT_FOUND);
    spawned.shutdown().await;

    let on = moa_testbed::spawn(Config::in_memory().with_admin())
        .await
        .expect("the testbed starts");
    let response = http
        .get(format!("{}/testbed/admin/ledger", on.base_url))
        .bearer_auth(&on.manifest.admin_token)
        .send()
        .await
        .expect("the center answers");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    on.shutdown().await;
}
