//! The app's start. The window gets the store's dashboard with its page
//! ([`stored_dashboard_script`]), so the dashboard paints without a command. The core (the
//! sandbox or the server's client, the keyring) opens only after that first paint, or as soon as
//! a command needs it, whichever comes first: nothing of it competes with the first frame for
//! the machine. Every command waits for the core through [`Startup::core_ready`].
//!
//! Also how long the start took: the time from the process's start to the dashboard's first
//! paint from the store, logged once, the moment `BENCHMARKS.md` measures from outside the
//! process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use moa_core::Store;
use tokio::sync::watch;

use crate::ipc::{Dashboard, IpcError};

/// The name under which the page finds the dashboard the store held when the window opened.
pub const STORED_DASHBOARD: &str = "__MOA_STORED_DASHBOARD__";

/// The dashboard as `store` holds it for the environment used last, read before the core
/// starts (no sandbox, no keyring); `None` before the first registration of any environment.
pub fn stored_dashboard(store: &Store) -> Option<Dashboard> {
    let kind = moa_core::last_environment(store).ok()?;
    let environment = store.environment(kind).ok()??;
    crate::views::dashboard(store, environment.id).ok()
}

/// A script that hands `dashboard` to the page before any of its own scripts run. It holds
/// what the `dashboard` command answers: balances and masked numbers, never a secret.
pub fn stored_dashboard_script(dashboard: &Dashboard) -> Option<String> {
    let json = serde_json::to_string(dashboard).ok()?;
    Some(format!(
        "Object.defineProperty(window, '{STORED_DASHBOARD}', \
         {{ value: {json}, configurable: true }});"
    ))
}

/// The name under which the page learns that this build has no sandbox (the `sandbox` feature
/// is off): Settings then offers only an institution's server.
pub const NO_SANDBOX: &str = "__MOA_NO_SANDBOX__";

/// A script that tells the page, before any of its own scripts run, that this build has no
/// sandbox; `None` in a build that has one.
pub fn no_sandbox_script() -> Option<String> {
    (!moa_core::SANDBOX_AVAILABLE).then(|| {
        format!(
            "Object.defineProperty(window, '{NO_SANDBOX}', {{ value: true, configurable: true }});"
        )
    })
}

/// Managed by Tauri; made first thing in [`crate::run`].
#[derive(Debug)]
pub struct Startup {
    at: Instant,
    painted: AtomicBool,
    /// Whether the core may open now: the dashboard was painted, or a command needs the core.
    wanted: watch::Sender<bool>,
    /// How opening the core ended; `None` while it is under way.
    core: watch::Sender<Option<Result<(), IpcError>>>,
}

impl Startup {
    /// The process's start, as near as the shell can tell: now.
    pub fn now() -> Self {
        Self {
            at: Instant::now(),
            painted: AtomicBool::new(false),
            wanted: watch::Sender::new(false),
            core: watch::Sender::new(None),
        }
    }

    /// Milliseconds since the start.
    pub fn elapsed_ms(&self) -> u128 {
        self.at.elapsed().as_millis()
    }

    /// Waits until the core should open: after the first paint, or once a command needs it.
    pub async fn core_wanted(&self) {
        let mut wanted = self.wanted.subscribe();
        // The sender is `self`'s, so the channel cannot close while this waits.
        let _ = wanted.wait_for(|w| *w).await;
    }

    fn want_core(&self) {
        self.wanted
            .send_if_modified(|w| !std::mem::replace(w, true));
    }

    /// The core is open and managed: commands may use it.
    pub fn core_opened(&self) {
        self.core.send_replace(Some(Ok(())));
    }

    /// The core could not open: every wait for it answers `error`.
    pub fn core_failed(&self, error: IpcError) {
        self.core.send_replace(Some(Err(error)));
    }

    /// Waits until the core is open, or answers why it could not open.
    pub async fn core_ready(&self) -> Result<(), IpcError> {
        self.want_core();
        let mut opening = self.core.subscribe();
        // The sender is `self`'s, so the channel cannot close while this waits.
        let ended = opening.wait_for(Option::is_some).await.ok();
        ended.and_then(|o| o.clone()).unwrap_or(Ok(()))
    }

    /// The UI painted the dashboard: answers the milliseconds since the start the first time,
    /// and `None` after (coming back to the dashboard is not a start).
    pub fn painted(&self) -> Option<u128> {
        self.want_core();
        (!self.painted.swap(true, Ordering::Relaxed)).then(|| self.elapsed_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_build_without_the_sandbox_tells_the_page_so() {
        let script = no_sandbox_script();
        assert_eq!(script.is_some(), !moa_core::SANDBOX_AVAILABLE);
        if let Some(script) = script {
            assert!(script.contains("'__MOA_NO_SANDBOX__'"), "{script}");
        }
    }

    #[test]
    fn the_page_gets_the_stored_dashboard_as_a_script_value() {
        let dashboard = Dashboard {
            accounts: Vec::new(),
            total: "1234".into(),
        };
        let script = stored_dashboard_script(&dashboard).expect("a script");
        assert!(script.starts_with("Object.defineProperty(window, '__MOA_STORED_DASHBOARD__'"));
        assert!(
            script.contains(r#"{"accounts":[],"total":"1234"}"#),
            "{script}"
        );
    }

    #[test]
    fn a_store_without_an_environment_has_no_stored_dashboard() {
        let store = Store::in_memory().expect("a store");
        assert!(stored_dashboard(&store).is_none());
    }

    #[test]
    fn only_the_first_paint_is_the_start() {
        let startup = Startup::now();
        assert!(startup.painted().is_some());
        assert_eq!(startup.painted(), None);
    }

    #[tokio::test]
    async fn the_core_opens_after_the_first_paint_or_when_a_command_needs_it() {
        for trigger in ["paint", "command"] {
            let startup = std::sync::Arc::new(Startup::now());
            let opening = tokio::spawn({
                let startup = startup.clone();
                async move { startup.core_wanted().await }
            });
            tokio::task::yield_now().await;
            assert!(!opening.is_finished(), "{trigger}: the core waits");
            let command = match trigger {
                "paint" => {
                    startup.painted();
                    None
                }
                _ => Some(tokio::spawn({
                    let startup = startup.clone();
                    async move { startup.core_ready().await }
                })),
            };
            tokio::time::timeout(std::time::Duration::from_secs(5), opening)
                .await
                .expect("the core may open")
                .expect("the wait ends");
            if let Some(command) = command {
                startup.core_opened();
                assert!(command.await.expect("the command's wait ends").is_ok());
            }
        }
    }

    #[tokio::test]
    async fn waiting_for_the_core_ends_when_it_opens_or_fails() {
        let startup = std::sync::Arc::new(Startup::now());
        let waiting = tokio::spawn({
            let startup = startup.clone();
            async move { startup.core_ready().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        startup.core_opened();
        assert!(waiting.await.expect("the wait ends").is_ok());

        let failed = Startup::now();
        failed.core_failed(IpcError {
            code: moa_core::Code::Sandbox,
        });
        assert_eq!(
            failed.core_ready().await.map_err(|e| e.code),
            Err(moa_core::Code::Sandbox)
        );
    }
}
