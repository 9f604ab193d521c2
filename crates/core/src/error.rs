//! The core's one error type. Each has a stable [`Error::code`] that the app's edge maps to a
//! localized message; none carries a secret.

use moa_openbanking::RspKind;

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
    /// The open banking center refused, or could not be reached.
    #[error(transparent)]
    Center(#[from] moa_openbanking::Error),
    /// The sandbox's center could not start.
    #[error("the sandbox could not start: {0}")]
    Sandbox(String),
    /// The environment's settings are incomplete (KFTC credentials not entered).
    #[error("the {0} environment is not set up")]
    NotConfigured(&'static str),
    /// Nobody has registered accounts in this environment yet, or the tokens are gone.
    #[error("no person is registered")]
    NotRegistered,
    /// The person refused consent on the center's pages.
    #[error("consent was refused: {0}")]
    ConsentRefused(String),
    /// A callback that no registration in progress is waiting for (unknown, used or expired
    /// `state`), or that is not a callback at all.
    #[error("this registration is no longer in progress")]
    RegistrationExpired,
    /// No such account.
    #[error("no account {0}")]
    NoSuchAccount(i64),
    /// No such transfer.
    #[error("no transfer {0}")]
    NoSuchTransfer(String),
    /// A transfer request that cannot be made, with a stable reason.
    #[error("transfer refused before it started: {0}")]
    Invalid(&'static str),
}

impl Error {
    /// A stable code for the app's edge: it never changes with the wording.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Store(_) => "store",
            Error::Vault(_) => "vault",
            Error::Sandbox(_) => "sandbox",
            Error::NotConfigured(_) => "not_configured",
            Error::NotRegistered => "not_registered",
            Error::ConsentRefused(_) => "consent_refused",
            Error::RegistrationExpired => "registration_expired",
            Error::NoSuchAccount(_) => "no_such_account",
            Error::NoSuchTransfer(_) => "no_such_transfer",
            Error::Invalid(reason) => reason,
            Error::Center(e) => center_code(e),
        }
    }
}

/// The stable code of a center failure.
pub fn center_code(error: &moa_openbanking::Error) -> &'static str {
    use moa_openbanking::Error as E;
    match error {
        E::Transport { .. } => "network",
        E::Http { .. } | E::Decode { .. } | E::Protocol { .. } => "center_unreadable",
        E::InvalidRequest(_) | E::Counter(_) => "internal",
        E::Center(c) => match c.kind() {
            RspKind::TokenExpired | RspKind::TokenRejected | RspKind::Auth => "auth_expired",
            RspKind::Consent => "consent_missing",
            RspKind::Limit => "limit",
            RspKind::BankError => "bank_refused",
            RspKind::OutcomeUnknown => "outcome_unknown",
            RspKind::OutsideHours => "outside_hours",
            RspKind::Scope | RspKind::Permission => "not_permitted",
            RspKind::Mismatch => "mismatch",
            _ => "center_refused",
        },
        _ => "internal",
    }
}

/// The core's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
