//! Settings: a few named values the app keeps between launches, and the one list of their
//! keys. The core and the shell name a setting only by a constant of this module.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};

/// The environment used last time (`sandbox` or `server`), opened again at the next launch.
pub const ACTIVE_ENVIRONMENT: &str = "environment";

/// The sandbox's center address, for the app's developer tools and the end-to-end tests, which
/// check its ledger. Written each time the sandbox starts and never read back by the app: the
/// store is a file anyone with the person's account can edit, so the center is always the one
/// the sandbox has just started, and a moa-server's address read from the store is checked
/// again like a typed one.
pub const SANDBOX_CENTER_URL: &str = "sandbox_center_url";

/// The person's language: `ko` (until they choose) or `en`.
pub const LANGUAGE: &str = "language";

/// The person's theme: `system` (until they choose), `light` or `dark`.
pub const THEME: &str = "theme";

impl Store {
    /// A setting, if set.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .lock()
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Sets a setting.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.lock().execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}
