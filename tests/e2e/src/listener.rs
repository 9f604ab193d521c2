//! A loopback listener that records whatever reaches it: put on the redirect URI's host and
//! port, it proves the app took the callback before a request left; put on a port of its own, it
//! is "another origin" a page might try to reach. It answers every connection with a small page
//! and keeps, for each connection, the first line of its request (`GET /path HTTP/1.1`) — or
//! that it sent none: WebKit opens a connection to a clicked link's host while it asks whether
//! to follow the link (its "link preconnect"), and such a connection carries no request.

use std::io::{BufRead as _, BufReader, ErrorKind, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::webdriver::{Error, Result};

/// A listening socket and what reached it; dropping it stops listening.
#[derive(Debug)]
pub struct Listener {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Connection>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// One connection that reached a listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Where it came from.
    pub from: SocketAddr,
    /// The first line of its request; `None` while nothing came, and for good once it closed
    /// without a request.
    pub request: Option<String>,
}

impl Listener {
    /// Listens on `addr` (port 0 for a free one). A low port such as the redirect URI's 80
    /// needs root, or `sysctl net.ipv4.ip_unprivileged_port_start=80`.
    pub fn bind(addr: SocketAddr) -> Result<Listener> {
        let socket = TcpListener::bind(addr).map_err(|e| {
            Error::Setup(format!(
                "cannot listen on {addr} ({e}): a port below 1024 needs root or \
                 `sysctl net.ipv4.ip_unprivileged_port_start={}`, and nothing else may hold it",
                addr.port()
            ))
        })?;
        socket
            .set_nonblocking(true)
            .map_err(|e| Error::Setup(format!("{addr}: {e}")))?;
        let addr = socket
            .local_addr()
            .map_err(|e| Error::Setup(format!("{addr}: {e}")))?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match socket.accept() {
                        Ok((stream, from)) => {
                            // Recorded at once; its request, if any, once it has come.
                            let index = {
                                let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                                seen.push(Connection {
                                    from,
                                    request: None,
                                });
                                seen.len() - 1
                            };
                            let seen = seen.clone();
                            std::thread::spawn(move || {
                                let request = answer(stream);
                                seen.lock().unwrap_or_else(|e| e.into_inner())[index].request =
                                    request;
                            });
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            })
        };
        Ok(Listener {
            addr,
            seen,
            stop,
            thread: Some(thread),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every connection that reached it so far.
    pub fn connections(&self) -> Vec<Connection> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The first line of every request that reached it so far.
    pub fn requests(&self) -> Vec<String> {
        self.connections()
            .into_iter()
            .filter_map(|c| c.request)
            .collect()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads the request's first line, if one comes, and answers with a page saying where it
/// landed.
fn answer(stream: TcpStream) -> Option<String> {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let mut line = String::new();
    let mut reader = BufReader::new(&stream);
    let _ = reader.read_line(&mut line);
    let line = line.trim_end();
    if line.is_empty() {
        return None;
    }
    let body = "<!doctype html><title>outside</title><p id=\"outside\">This request left the app.";
    let _ = (&stream).write_all(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    Some(line.to_owned())
}
