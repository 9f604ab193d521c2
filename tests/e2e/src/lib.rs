//! Moa's end-to-end harness: the built app, started by `tauri-driver` and WebKitWebDriver in a
//! real window, driven through its `data-testid`s like a person would, and checked against the
//! truth of the sandbox center's ledger.
//!
//! - [`webdriver`]: a thin W3C WebDriver client and the wait-for-condition every check uses.
//! - [`driver`]: the `tauri-driver` process each test starts and stops for itself.
//! - [`app`]: the app under test: its data folder, launches, quitting, screenshots.
//! - [`consent`]: the center's consent pages in the registration window.
//! - [`center`]: the sandbox center's admin API (ledger, bank status and latency).
//! - [`server`]: a standalone `moa-server sandbox` for the "Moa server" journeys.
//! - [`ipc`]: the UI's traffic with the shell, recorded inside the page.
//! - [`listener`]: a loopback listener that records whatever reaches it.
//! - [`secrets`]: what must never reach the app's side, and the scan for it.
//! - [`procs`]: the machine's processes and signals to a process group.
//! - [`screens`]: what the scenarios do and read on the app's screens.
//!
//! The scenarios are in `tests/`. They run inside `scripts/headless` (a display, a D-Bus
//! session and an unlocked keyring) and one at a time: every app of one session shares the
//! keyring's entries.
#![deny(missing_docs)]

pub mod app;
pub mod center;
pub mod consent;
pub mod driver;
pub mod ipc;
pub mod listener;
pub mod procs;
pub mod screens;
pub mod secrets;
pub mod server;
pub mod webdriver;

pub use app::{MoaApp, Window, native_window_titles};
pub use center::{AccountOf, CenterTransfer, Ledger, LedgerAccount, SandboxCenter, TransferKind};
pub use consent::{HONG, Person};
pub use listener::Listener;
pub use secrets::{Scan, Secrets};
pub use server::MoaServer;
pub use webdriver::{Element, Error, Result, Session, check, testid, wait_for};
