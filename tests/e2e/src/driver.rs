//! The `tauri-driver` a test starts for itself: on free ports, in a process group of its own,
//! with the app's environment, its output (and the app's) in the test's folder. Dropping it
//! kills the whole group, so a failed test leaves no app, WebKitWebDriver or web process behind.

use std::ffi::OsString;
use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::procs;
use crate::webdriver::{Error, Result, wait_for};

/// How long `tauri-driver` and WebKitWebDriver get to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running `tauri-driver`.
#[derive(Debug)]
pub struct TauriDriver {
    child: Child,
    url: String,
    log: PathBuf,
}

impl TauriDriver {
    /// Starts `tauri-driver` with `env` added to its environment (the app inherits it through
    /// WebKitWebDriver), logging to `log`, and waits until it answers.
    pub fn start(env: &[(&str, OsString)], log: &Path) -> Result<TauriDriver> {
        let binary = find_tauri_driver()?;
        find_in_path("WebKitWebDriver").ok_or_else(|| {
            Error::Setup(
                "WebKitWebDriver not found in PATH: install Debian's webkit2gtk-driver \
                 (./dev test does)"
                    .into(),
            )
        })?;
        let port = free_port()?;
        let native_port = free_port()?;
        let out = File::create(log)
            .map_err(|e| Error::Setup(format!("cannot write {}: {e}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(|e| Error::Setup(format!("cannot write {}: {e}", log.display())))?;
        let mut command = Command::new(&binary);
        command
            .arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native_port.to_string())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own group, so dropping the driver can stop everything it started at once.
            .process_group(0);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .map_err(|e| Error::Setup(format!("cannot start {}: {e}", binary.display())))?;
        let mut driver = TauriDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log: log.to_owned(),
        };
        driver.wait_until_ready()?;
        Ok(driver)
    }

    fn wait_until_ready(&mut self) -> Result<()> {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| Error::Transport(e.to_string()))?;
        let status = format!("{}/status", self.url);
        wait_for("tauri-driver to answer /status", START_TIMEOUT, |last| {
            if let Ok(Some(code)) = self.child.try_wait() {
                return Err(Error::Setup(format!(
                    "tauri-driver exited with {code} before it answered; its log:\n{}",
                    self.log_tail()
                )));
            }
            match http.get(&status).send() {
                Ok(response) if response.status().is_success() => Ok(Some(())),
                Ok(response) => {
                    *last = format!("HTTP {}", response.status());
                    Ok(None)
                }
                Err(e) => {
                    *last = e.to_string();
                    Ok(None)
                }
            }
        })
    }

    /// The driver's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The ids of the processes named `name` (as in `/proc/PID/comm`) that this driver
    /// started, directly or not.
    pub fn processes(&self, name: &str) -> Vec<u32> {
        let group = self.child.id();
        procs::all()
            .into_iter()
            .filter(|p| p.comm == name && p.pgrp == group)
            .map(|p| p.pid)
            .collect()
    }

    /// The last lines of the driver's and the app's output, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        // The whole group: tauri-driver, WebKitWebDriver, the app and its web processes.
        procs::signal_group(self.child.id(), "KILL");
        let _ = self.child.wait();
    }
}

/// `tauri-driver`: `$TAURI_DRIVER`, else the one in `PATH`, else Cargo's bin folder.
fn find_tauri_driver() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("TAURI_DRIVER") {
        return Ok(PathBuf::from(path));
    }
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin").join("tauri-driver"));
    find_in_path("tauri-driver")
        .or(cargo_bin.filter(|p| p.is_file()))
        .ok_or_else(|| {
            Error::Setup(
                "tauri-driver not found: `cargo install tauri-driver --locked` (./dev test does)"
                    .into(),
            )
        })
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A port nobody listens on now. Another process could take it before the driver binds it;
/// on a test machine that race is rare enough, and it fails loudly when it happens.
fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::Setup(format!("no free port: {e}")))
}
