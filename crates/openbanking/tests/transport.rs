//! How the client behaves on the wire when the peer misbehaves: a center that never answers,
//! a port nobody listens on, a connection dropped mid-answer. These need a socket but not an open
//! banking center, so a bare TCP listener plays the peer.

use std::time::Duration;

use moa_openbanking::account::BalanceRequest;
use moa_openbanking::{
    AccessToken, BankTranId, Client, ClientCredentials, ClientSecret, Error, FintechUseNum,
    TransportKind, UserToken,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn balance_request() -> BalanceRequest {
    BalanceRequest {
        bank_tran_id: BankTranId::parse("T991589220U000000001").expect("id"),
        fintech_use_num: FintechUseNum::parse("199159919057870978715901").expect("fin"),
    }
}

/// Reads one HTTP request (head and body, by Content-Length) from the socket.
async fn read_request(sock: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = sock.read(&mut chunk).await.expect("read");
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(head_end) = text.find("\r\n\r\n") {
            let len = text[..head_end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= head_end + 4 + len {
                return text;
            }
        }
    }
    String::from_utf8_lossy(&buf).to_string()
}

async fn answer(sock: &mut tokio::net::TcpStream, body: &str) {
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        body
    );
    sock.write_all(reply.as_bytes()).await.expect("write");
}

#[tokio::test]
async fn a_center_that_never_answers_times_out_with_an_unknown_outcome() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        let _ = read_request(&mut sock).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let client = Client::with_base_url(&format!("http://{addr}"))
        .expect("client")
        .with_timeout(Duration::from_millis(300));
    let err = client
        .balance(&UserToken::new(AccessToken::new("t")), &balance_request())
        .await
        .expect_err("no answer");
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.is_outcome_unknown());
    server.abort();
}

#[tokio::test]
async fn a_port_nobody_listens_on_is_a_connect_failure_with_a_known_outcome() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let client = Client::with_base_url(&format!("http://{addr}")).expect("client");
    let err = client
        .balance(&UserToken::new(AccessToken::new("t")), &balance_request())
        .await
        .expect_err("refused");
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_outcome_unknown());
}

#[tokio::test]
async fn a_connection_dropped_after_the_request_leaves_the_outcome_unknown() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        let _ = read_request(&mut sock).await;
        // Close without answering.
    });
    let client = Client::with_base_url(&format!("http://{addr}")).expect("client");
    let err = client
        .balance(&UserToken::new(AccessToken::new("t")), &balance_request())
        .await
        .expect_err("dropped");
    assert!(err.is_outcome_unknown(), "{err:?}");
    assert!(!err.is_timeout());
    server.await.expect("server");
}

#[tokio::test]
async fn json_posts_and_token_posts_use_the_documented_content_types() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let mut seen = Vec::new();
        for body in [
            r#"{"rsp_code":"A0000","rsp_message":"","api_tran_id":"x"}"#,
            r#"{"access_token":"a.b.c","token_type":"Bearer","expires_in":7775999,"scope":"oob","client_use_code":"T991589220"}"#,
        ] {
            let (mut sock, _) = listener.accept().await.expect("accept");
            seen.push(read_request(&mut sock).await);
            answer(&mut sock, body).await;
        }
        seen
    });
    let client = Client::with_base_url(&format!("http://{addr}")).expect("client");
    let request = moa_openbanking::user::UserRequest {
        client_use_code: moa_openbanking::ClientUseCode::parse("T991589220").expect("code"),
        user_seq_no: moa_openbanking::UserSeqNo::parse("1100034736").expect("user"),
    };
    client
        .user_unlink(&UserToken::new(AccessToken::new("tok")), &request)
        .await
        .expect("unlink");
    let creds = ClientCredentials::new("cid", ClientSecret::new("sec"));
    let token = client.client_credentials(&creds).await.expect("token");
    assert_eq!(token.client_use_code.expect("code").as_str(), "T991589220");

    let seen = server.await.expect("server");
    let json = seen[0].to_ascii_lowercase();
    assert!(json.starts_with("post /v2.0/user/unlink "), "{json}");
    assert!(
        json.contains("content-type: application/json; charset=utf-8\r\n"),
        "{json}"
    );
    assert!(json.contains("authorization: bearer tok\r\n"), "{json}");
    let form = &seen[1];
    assert!(
        form.to_ascii_lowercase()
            .starts_with("post /oauth/2.0/token "),
        "{form}"
    );
    assert!(
        form.to_ascii_lowercase()
            .contains("content-type: application/x-www-form-urlencoded; charset=utf-8\r\n"),
        "{form}"
    );
    assert!(
        form.ends_with("client_id=cid&client_secret=sec&scope=oob&grant_type=client_credentials"),
        "{form}"
    );
}

#[tokio::test]
async fn the_request_time_is_the_injected_clock_read_in_korea() {
    use chrono::TimeZone;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        let seen = read_request(&mut sock).await;
        answer(
            &mut sock,
            r#"{"rsp_code":"A0004","rsp_message":"stop here"}"#,
        )
        .await;
        seen
    });
    // 15:30 UTC on the 31st is 00:30 KST on the 1st of the next month.
    let clock = moa_openbanking::ManualClock::new(
        chrono::Utc
            .with_ymd_and_hms(2024, 1, 31, 15, 30, 0)
            .single()
            .expect("time"),
    );
    let client = Client::with_base_url(&format!("http://{addr}"))
        .expect("client")
        .with_clock(std::sync::Arc::new(clock));
    let err = client
        .balance(&UserToken::new(AccessToken::new("t")), &balance_request())
        .await
        .expect_err("refused");
    assert_eq!(err.rsp_code().map(|c| c.code()), Some("A0004"));
    let seen = server.await.expect("server");
    let request_line = seen.lines().next().expect("request line");
    assert!(
        request_line.starts_with("GET /v2.0/account/balance/fin_num?bank_tran_id=T991589220U000000001&fintech_use_num=199159919057870978715901&tran_dtime=20240201003000 "),
        "{request_line}"
    );
}

/// A listener on this machine that records every request that reaches it and answers each
/// with an empty success.
async fn recorder() -> (
    std::net::SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let _ = tx.send(read_request(&mut sock).await);
            answer(&mut sock, r#"{"rsp_code":"A0000"}"#).await;
        }
    });
    (addr, rx)
}

/// A center that answers its one call with `status` pointing at `location`.
async fn redirecting_center(status: &'static str, location: String) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        let _ = read_request(&mut sock).await;
        let reply = format!(
            "HTTP/1.1 {status}\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        sock.write_all(reply.as_bytes()).await.expect("write");
    });
    addr
}

/// On a 307 or 308 an HTTP client that follows redirects sends the same body again, and a
/// token request's body holds the client secret: the client must stop at the redirect.
#[tokio::test]
async fn a_token_endpoint_redirect_is_not_followed_and_the_secret_goes_nowhere_else() {
    let (elsewhere, mut arrived) = recorder().await;
    for status in ["307 Temporary Redirect", "308 Permanent Redirect"] {
        let center =
            redirecting_center(status, format!("http://{elsewhere}/oauth/2.0/token")).await;
        let client = Client::with_base_url(&format!("http://{center}"))
            .expect("client")
            .with_timeout(Duration::from_secs(2));
        let err = client
            .client_credentials(&ClientCredentials::new(
                "cid",
                ClientSecret::new("the-client-secret"),
            ))
            .await
            .expect_err("a redirect is not a token");
        assert!(
            matches!(
                err,
                Error::Http {
                    status: 307 | 308,
                    ..
                }
            ),
            "{status}: {err:?}"
        );
        assert!(!format!("{err:?}").contains("the-client-secret"), "{err:?}");
    }
    assert!(
        arrived.try_recv().is_err(),
        "a request followed the redirect to the other listener"
    );
}

/// The same for a call with a person's token: a redirect does not carry it (nor the request)
/// anywhere.
#[tokio::test]
async fn a_service_api_redirect_is_not_followed() {
    let (elsewhere, mut arrived) = recorder().await;
    let center = redirecting_center(
        "307 Temporary Redirect",
        format!("http://{elsewhere}/v2.0/user/unlink"),
    )
    .await;
    let client = Client::with_base_url(&format!("http://{center}"))
        .expect("client")
        .with_timeout(Duration::from_secs(2));
    let request = moa_openbanking::user::UserRequest {
        client_use_code: moa_openbanking::ClientUseCode::parse("T991589220").expect("code"),
        user_seq_no: moa_openbanking::UserSeqNo::parse("1100034736").expect("user"),
    };
    let err = client
        .user_unlink(
            &UserToken::new(AccessToken::new("a-persons-token")),
            &request,
        )
        .await
        .expect_err("a redirect is not an answer");
    assert!(matches!(err, Error::Http { status: 307, .. }), "{err:?}");
    assert!(
        arrived.try_recv().is_err(),
        "the call followed the redirect"
    );
}
