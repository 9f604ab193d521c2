//! A standalone moa-server for the "Moa server" journeys: the built `moa-server sandbox`, its
//! center an in-process testbed, started by the test on a free loopback port with its files in
//! the test's output folder, and killed when dropped so a failed test leaves nothing running.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::app::target_dir;
use crate::center::SandboxCenter;
use crate::webdriver::{Error, Result};

/// How long the server gets to seed its center's database and say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `moa-server sandbox`.
#[derive(Debug)]
pub struct MoaServer {
    child: Child,
    url: String,
    center_url: String,
    dir: PathBuf,
    log: PathBuf,
}

impl MoaServer {
    /// Starts `moa-server sandbox --center-admin --addr 127.0.0.1:0 --db DIR/moa-server.db` (a fresh `dir`,
    /// which also gets the center's database and the server's log) and waits until it says
    /// where it and its center listen. Fails when the server is not built.
    pub fn start(dir: &Path) -> Result<MoaServer> {
        let binary = server_binary()?;
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .map_err(|e| Error::Setup(format!("cannot empty {}: {e}", dir.display())))?;
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Setup(format!("cannot create {}: {e}", dir.display())))?;
        let log = dir.join("moa-server.log");
        let err = std::fs::File::create(&log)
            .map_err(|e| Error::Setup(format!("cannot write {}: {e}", log.display())))?;
        let mut child = Command::new(&binary)
            .arg("sandbox")
            // The tests read the center's ledger and set banks down through its admin API.
            .arg("--center-admin")
            .arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--db")
            .arg(dir.join("moa-server.db"))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .map_err(|e| Error::Setup(format!("cannot start {}: {e}", binary.display())))?;
        let stdout = child.stdout.take();
        let mut server = MoaServer {
            child,
            url: String::new(),
            center_url: String::new(),
            dir: dir.to_owned(),
            log,
        };
        let stdout =
            stdout.ok_or_else(|| Error::Setup("moa-server's stdout is not piped".into()))?;
        let (url, center_url) = server.addresses(stdout)?;
        server.url = url;
        server.center_url = center_url;
        Ok(server)
    }

    /// Reads the two lines the server prints once it listens: `listening on URL` and
    /// `center on URL`. The reading thread keeps the pipe open (and drained) for as long as
    /// the server runs, so a later write to its stdout never fails.
    fn addresses(&mut self, stdout: ChildStdout) -> Result<(String, String)> {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // Once nobody listens, the lines are drained and dropped.
                let _ = tx.send(line);
            }
        });
        let (mut url, mut center) = (None, None);
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        while url.is_none() || center.is_none() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = rx.recv_timeout(left).map_err(|_| {
                Error::Setup(format!(
                    "moa-server did not say where it listens within {START_TIMEOUT:?}; \
                     exit {:?}; its log:\n{}",
                    self.child.try_wait().ok().flatten(),
                    self.log_tail()
                ))
            })?;
            if let Some(rest) = line.strip_prefix("listening on ") {
                url = Some(rest.trim().to_owned());
            } else if let Some(rest) = line.strip_prefix("center on ") {
                center = Some(rest.trim().to_owned());
            }
        }
        Ok((url.unwrap_or_default(), center.unwrap_or_default()))
    }

    /// The server's address, as a person types it into Settings.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's center, with the admin token from its database (`sandbox-center.db`
    /// beside the server's).
    pub fn center(&self) -> Result<SandboxCenter> {
        SandboxCenter::at(&self.center_url, &self.dir.join("sandbox-center.db"))
    }

    /// The folder of the server's files: its database, its center's and its log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The last lines of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for MoaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `moa-server`: `$MOA_SERVER`, else the one in the target folder these tests were built into
/// (`cargo build -p moa-server` puts it there).
fn server_binary() -> Result<PathBuf> {
    let binary = match std::env::var_os("MOA_SERVER") {
        Some(path) => PathBuf::from(path),
        None => target_dir()?.join("debug").join("moa-server"),
    };
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(Error::Setup(format!(
            "moa-server is not built: {} is missing. Build it with \
             `cargo build --locked -p moa-server` (./dev e2e does) or point MOA_SERVER at it.",
            binary.display()
        )))
    }
}
