//! Secrets — tokens and the institution's client secret — behind one small trait: the OS
//! keyring in the app (macOS Keychain, Windows Credential Manager, Linux Secret Service), and
//! memory in tests. Each secret is its own entry, so reading a token never exposes the client
//! secret. Values are opaque strings to the vault; callers decide their shape.

use std::collections::HashMap;
use std::sync::Mutex;

/// A vault failure. Its text never contains a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The platform's secret store refused or is not running.
    #[error("secret store unavailable: {0}")]
    Unavailable(String),
}

/// Names a secret: which environment, and which secret of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretKey<'a> {
    /// The environment, e.g. `sandbox`.
    pub environment: &'a str,
    /// The secret, e.g. `user-token` or `client-secret`.
    pub name: &'a str,
}

impl SecretKey<'_> {
    fn entry(&self) -> String {
        format!("{}/{}", self.environment, self.name)
    }
}

/// Where secrets are kept.
pub trait Vault: Send + Sync + std::fmt::Debug {
    /// The secret, if one is stored.
    fn get(&self, key: SecretKey<'_>) -> Result<Option<String>, VaultError>;
    /// Stores (or replaces) the secret.
    fn set(&self, key: SecretKey<'_>, value: &str) -> Result<(), VaultError>;
    /// Removes the secret; removing one that is not there is not an error.
    fn delete(&self, key: SecretKey<'_>) -> Result<(), VaultError>;
}

/// Secrets in memory: for tests, and gone with the process.
#[derive(Debug, Default)]
pub struct MemoryVault {
    entries: Mutex<HashMap<String, String>>,
}

impl MemoryVault {
    /// An empty vault.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many secrets it holds.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Vault for MemoryVault {
    fn get(&self, key: SecretKey<'_>) -> Result<Option<String>, VaultError> {
        Ok(self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key.entry())
            .cloned())
    }

    fn set(&self, key: SecretKey<'_>, value: &str) -> Result<(), VaultError> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.entry(), value.to_owned());
        Ok(())
    }

    fn delete(&self, key: SecretKey<'_>) -> Result<(), VaultError> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key.entry());
        Ok(())
    }
}

/// The OS keyring, one entry per secret under the service name (e.g. `kr.moa.app`).
#[derive(Debug, Clone)]
pub struct KeyringVault {
    service: String,
}

impl KeyringVault {
    /// Secrets under `service`.
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    /// Runs `f` on an entry on a thread of its own: the Secret Service client drives its own
    /// async runtime and refuses to start inside the caller's.
    fn with_entry<T: Send>(
        &self,
        key: SecretKey<'_>,
        f: impl FnOnce(&keyring::Entry) -> Result<T, VaultError> + Send,
    ) -> Result<T, VaultError> {
        let (service, name) = (self.service.as_str(), key.entry());
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    let entry = keyring::Entry::new(service, &name).map_err(unavailable)?;
                    f(&entry)
                })
                .join()
                .unwrap_or_else(|_| {
                    Err(VaultError::Unavailable("secret store thread failed".into()))
                })
        })
    }
}

/// Keyring errors carry no secret, but may carry platform detail; keep only their kind.
fn unavailable(error: keyring::Error) -> VaultError {
    let kind = match error {
        keyring::Error::PlatformFailure(_) => "platform failure",
        keyring::Error::NoStorageAccess(_) => "no access to the secret store",
        keyring::Error::BadEncoding(_) => "a stored secret is not text",
        keyring::Error::TooLong(_, _) => "a name or secret is too long",
        keyring::Error::Invalid(_, _) => "invalid entry",
        keyring::Error::Ambiguous(_) => "more than one entry matches",
        _ => "unknown failure",
    };
    VaultError::Unavailable(kind.into())
}

impl Vault for KeyringVault {
    fn get(&self, key: SecretKey<'_>) -> Result<Option<String>, VaultError> {
        self.with_entry(key, |entry| match entry.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        })
    }

    fn set(&self, key: SecretKey<'_>, value: &str) -> Result<(), VaultError> {
        self.with_entry(key, |entry| entry.set_password(value).map_err(unavailable))
    }

    fn delete(&self, key: SecretKey<'_>) -> Result<(), VaultError> {
        self.with_entry(key, |entry| match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: SecretKey<'static> = SecretKey {
        environment: "sandbox",
        name: "user-token",
    };
    const SECRET: SecretKey<'static> = SecretKey {
        environment: "sandbox",
        name: "client-secret",
    };

    #[test]
    fn secrets_are_separate_entries_and_deleting_twice_is_fine() {
        let vault = MemoryVault::new();
        vault.set(TOKEN, "t").unwrap();
        vault.set(SECRET, "s").unwrap();
        assert_eq!(vault.get(TOKEN).unwrap().as_deref(), Some("t"));
        vault.delete(TOKEN).unwrap();
        vault.delete(TOKEN).unwrap();
        assert_eq!(vault.get(TOKEN).unwrap(), None);
        assert_eq!(vault.get(SECRET).unwrap().as_deref(), Some("s"));
    }
}
