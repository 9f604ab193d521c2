//! The core's one error type. Each has a stable [`Error::code`] that the app's edge maps to a
//! localized message; none carries a secret.

use moa_server::api::ErrorCode;

use crate::store::StoreError;
use crate::vault::VaultError;

/// What went wrong in the core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The secret store failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The server refused, with its stable code.
    #[error("the server refused: {}", .0.as_str())]
    Server(ErrorCode),
    /// The server could not be reached, or its answer could not be read.
    #[error("the server could not be reached")]
    Unreachable,
    /// The sandbox could not start: fixed words for which part failed, never the inner
    /// error's text.
    #[error("the sandbox could not start: {0}")]
    Sandbox(&'static str),
    /// No server is set up.
    #[error("the {0} environment is not set up")]
    NotConfigured(&'static str),
    /// Nobody has registered accounts on this device yet.
    #[error("no person is registered")]
    NotRegistered,
    /// No such account.
    #[error("no account {0}")]
    NoSuchAccount(i64),
    /// No such transfer.
    #[error("no transfer {0}")]
    NoSuchTransfer(String),
    /// A request that cannot be made, with a stable reason.
    #[error("refused before it started: {0}")]
    Invalid(&'static str),
}

impl Error {
    /// A stable code for the app's edge: it never changes with the wording.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Store(_) => "store",
            Error::Vault(_) => "vault",
            Error::Sandbox(_) => "sandbox",
            Error::Unreachable => "network",
            Error::NotConfigured(_) => "not_configured",
            Error::NotRegistered => "not_registered",
            Error::NoSuchAccount(_) => "no_such_account",
            Error::NoSuchTransfer(_) => "no_such_transfer",
            Error::Invalid(reason) => reason,
            Error::Server(code) => match code {
                ErrorCode::NotLinked => "not_registered",
                ErrorCode::AuthExpired => "auth_expired",

                ErrorCode::UnknownDevice | ErrorCode::BadProof | ErrorCode::ProofReplayed => {
                    "device_refused"
                }
                other => other.as_str(),
            },
        }
    }
}

/// The core's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
