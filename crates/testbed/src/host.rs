//! The `Host` check against DNS rebinding: a page on any web site can make a browser send
//! requests to 127.0.0.1 by pointing its own name there, and those requests carry the site's
//! name as `Host`. The center answers only requests addressed to its own socket.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The `Host` values a server bound to one socket answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    hosts: Vec<String>,
}

impl Allowed {
    /// For a server listening on `addr`: the loopback names with its port (`127.0.0.1:PORT`,
    /// `localhost:PORT`, `[::1]:PORT`), and the address itself when it is a specific one. On
    /// port 80 a client may leave the port out.
    pub fn for_socket(addr: SocketAddr) -> Self {
        let port = addr.port();
        let mut ips = vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ];
        if !addr.ip().is_unspecified() && !ips.contains(&addr.ip()) {
            ips.push(addr.ip());
        }
        let mut names: Vec<String> = ips
            .iter()
            .map(|ip| match ip {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => format!("[{v6}]"),
            })
            .collect();
        names.push("localhost".into());
        let mut hosts: Vec<String> = names.iter().map(|n| format!("{n}:{port}")).collect();
        if port == 80 {
            hosts.extend(names);
        }
        Self { hosts }
    }

    /// Whether a request with this `Host` is addressed to the server.
    pub fn admits(&self, host: &str) -> bool {
        let host = host.trim();
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }
}

/// Refuses, with `421 Misdirected Request`, a request whose `Host` (or absolute URI's
/// authority) is not one the server answers; passes the others on.
pub(crate) async fn check(allowed: Arc<Allowed>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    match host {
        Some(host) if allowed.admits(&host) => next.run(request).await,
        _ => {
            tracing::warn!("refused a request addressed to another host");
            (
                StatusCode::MISDIRECTED_REQUEST,
                "this center answers only requests addressed to its loopback address\n",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_loopback_names_with_the_port_are_admitted() {
        let allowed = Allowed::for_socket("127.0.0.1:53127".parse().unwrap());
        for host in [
            "127.0.0.1:53127",
            "localhost:53127",
            "LOCALHOST:53127",
            "[::1]:53127",
        ] {
            assert!(allowed.admits(host), "{host}");
        }
        for host in [
            "evil.example:53127",
            "evil.example",
            "127.0.0.1",
            "127.0.0.1:80",
            "localhost:1",
            "127.0.0.1:53127.evil.example",
            "localhost.evil.example:53127",
            "",
        ] {
            assert!(!allowed.admits(host), "{host}");
        }
    }

    #[test]
    fn a_specific_address_is_admitted_and_port_80_may_be_left_out() {
        let allowed = Allowed::for_socket("10.0.0.5:80".parse().unwrap());
        assert!(allowed.admits("10.0.0.5"));
        assert!(allowed.admits("10.0.0.5:80"));
        assert!(allowed.admits("localhost"));
        assert!(!allowed.admits("10.0.0.6"));
        let any = Allowed::for_socket("0.0.0.0:8080".parse().unwrap());
        assert!(!any.admits("0.0.0.0:8080"));
        assert!(any.admits("127.0.0.1:8080"));
    }
}
