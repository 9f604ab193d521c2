//! The core's one error type, and [`Code`]: the one vocabulary of outcomes the app's screens
//! switch on — every refusal and failure the core, the shell or the server reports, and every
//! reason a transfer failed. Each error has a stable [`Error::code`]; the words for each code
//! live in the UI only. None carries a secret.

use moa_server::api::{ErrorCode, FailureReason};
use serde::{Deserialize, Serialize};

use crate::store::StoreError;
use crate::vault::VaultError;

macro_rules! codes {
    ($($(#[doc = $doc:literal])* $name:ident = $text:literal,)*) => {
        /// Every outcome the app's screens have words for: the code of every error that
        /// reaches the UI, and of every reason a transfer failed or was refunded. Sent as its
        /// snake_case name; the UI's dictionaries are keyed by it, so a code without words
        /// fails the UI's type check.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[derive(ts_rs::TS)]
        #[serde(rename_all = "snake_case")]
        pub enum Code {
            $($(#[doc = $doc])* $name,)*
        }

        impl Code {
            /// Every code.
            pub const ALL: &'static [Code] = &[$(Code::$name,)*];

            /// The code as sent and stored.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$name => $text,)*
                }
            }
        }
    };
}

codes! {
    /// The local store failed.
    Store = "store",
    /// The system keychain failed.
    Vault = "vault",
    /// The sandbox could not start.
    Sandbox = "sandbox",
    /// Something failed on this side or on the server's.
    Internal = "internal",
    /// The Moa server could not be reached, or its answer could not be read.
    Network = "network",
    /// No server is set up.
    NotConfigured = "not_configured",
    /// The server's address cannot be read.
    ServerUrlInvalid = "server_url_invalid",
    /// The server's address is not https (and not this machine's).
    ServerUrlInsecure = "server_url_insecure",
    /// The server did not recognise this device.
    DeviceRefused = "device_refused",
    /// The server refused: too many requests.
    RateLimited = "rate_limited",
    /// Nobody has registered accounts on this device.
    NotRegistered = "not_registered",
    /// The person's consent ran out: register again.
    AuthExpired = "auth_expired",
    /// The person refused consent on the center's pages.
    ConsentRefused = "consent_refused",
    /// The consent window was closed before it ended.
    RegistrationCancelled = "registration_cancelled",
    /// The registration waited too long.
    RegistrationExpired = "registration_expired",
    /// A consent window is open already.
    RegistrationInProgress = "registration_in_progress",
    /// The center's pages are not https: the window was not opened.
    CenterInsecure = "center_insecure",
    /// The server's callback address cannot be used: the window was not opened.
    RedirectInvalid = "redirect_invalid",
    /// No such account.
    NoSuchAccount = "no_such_account",
    /// No such transfer.
    NoSuchTransfer = "no_such_transfer",
    /// History filters that cannot be read.
    BadFilter = "bad_filter",
    /// The amount is not whole won above zero.
    AmountNotPositive = "amount_not_positive",
    /// Source and target are the same account.
    SameAccount = "same_account",
    /// Not a bank code.
    BadBankCode = "bad_bank_code",
    /// Not an account number: 1 to 16 digits, nothing else.
    BadAccountNumber = "bad_account_number",
    /// The memo has control or direction characters, or is too long.
    BadMemo = "bad_memo",
    /// The recipient's bank has no such account.
    NoSuchRecipient = "no_such_recipient",
    /// Over the per-transfer or daily limit.
    OverLimit = "over_limit",
    /// More than the source account can pay.
    InsufficientFunds = "insufficient_funds",
    /// The source account has no transfer consent.
    NoTransferConsent = "no_transfer_consent",
    /// The idempotency key was used with another request.
    IdempotencyConflict = "idempotency_conflict",
    /// The confirmation came too long after the check.
    PreflightExpired = "preflight_expired",
    /// The center refused.
    CenterRefused = "center_refused",
    /// The bank refused.
    BankRefused = "bank_refused",
    /// The center did not answer in time.
    CenterUnavailable = "center_unavailable",
    /// A transfer whose request never reached the server: nothing moved.
    NotSent = "not_sent",
    /// A withdrawal that was never applied: nothing moved.
    WithdrawNotApplied = "withdraw_not_applied",
    /// A deposit that was never applied: the money goes back.
    DepositNotApplied = "deposit_not_applied",
    /// An export's file name has nothing usable, or names a device.
    BadFileName = "bad_file_name",
    /// An export larger than the app writes.
    ExportTooLarge = "export_too_large",
    /// The Downloads folder cannot be found or made.
    NoDownloadFolder = "no_download_folder",
    /// The export could not be written.
    WriteFailed = "write_failed",
}

impl Code {
    /// A code as stored, read back; `None` for a word this version does not know.
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
    }

    /// What a refusal of the server means here.
    pub fn of_server(code: ErrorCode) -> Self {
        use ErrorCode as E;
        match code {
            E::NotLinked => Code::NotRegistered,
            E::AuthExpired => Code::AuthExpired,
            E::UnknownDevice | E::BadProof | E::ProofReplayed => Code::DeviceRefused,
            E::NoSuchAccount => Code::NoSuchAccount,
            E::NoSuchTransfer => Code::NoSuchTransfer,
            E::RegistrationExpired => Code::RegistrationExpired,
            E::ConsentRefused => Code::ConsentRefused,
            E::IdempotencyConflict => Code::IdempotencyConflict,
            E::AmountNotPositive => Code::AmountNotPositive,
            E::OverLimit => Code::OverLimit,
            E::InsufficientFunds => Code::InsufficientFunds,
            E::NoTransferConsent => Code::NoTransferConsent,
            E::SameAccount => Code::SameAccount,
            E::BadBankCode => Code::BadBankCode,
            E::BadAccountNumber => Code::BadAccountNumber,
            E::BadMemo => Code::BadMemo,
            E::NoSuchRecipient => Code::NoSuchRecipient,
            E::CenterRefused => Code::CenterRefused,
            E::BankRefused => Code::BankRefused,
            E::CenterUnavailable => Code::CenterUnavailable,
            E::RateLimited => Code::RateLimited,
            // The app's own mistakes in speaking to the server: nothing the person can act on.
            E::BadRequest | E::AlreadyEnrolled | E::IdempotencyKeyMissing | E::Internal => {
                Code::Internal
            }
            _ => Code::Internal,
        }
    }

    /// A transfer's failure reason, as the server gives it.
    pub fn of_failure(reason: FailureReason) -> Self {
        match reason {
            FailureReason::BankRefused => Code::BankRefused,
            FailureReason::CenterRefused => Code::CenterRefused,
            FailureReason::CenterUnavailable => Code::CenterUnavailable,
            FailureReason::AuthExpired => Code::AuthExpired,
            FailureReason::WithdrawNotApplied => Code::WithdrawNotApplied,
            FailureReason::DepositNotApplied => Code::DepositNotApplied,
            FailureReason::Internal => Code::Internal,
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

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
    Invalid(Code),
}

impl Error {
    /// A stable code for the app's edge: it never changes with the wording.
    pub fn code(&self) -> Code {
        match self {
            Error::Store(_) => Code::Store,
            Error::Vault(_) => Code::Vault,
            Error::Sandbox(_) => Code::Sandbox,
            Error::Unreachable => Code::Network,
            Error::NotConfigured(_) => Code::NotConfigured,
            Error::NotRegistered => Code::NotRegistered,
            Error::NoSuchAccount(_) => Code::NoSuchAccount,
            Error::NoSuchTransfer(_) => Code::NoSuchTransfer,
            Error::Invalid(code) => *code,
            Error::Server(code) => Code::of_server(*code),
        }
    }

    /// What kind of error this is, for logs: a fixed word, never a value the error holds
    /// (its text can quote an id or a path).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Store(_) => "store",
            Error::Vault(_) => "vault",
            Error::Server(_) => "server",
            Error::Unreachable => "unreachable",
            Error::Sandbox(part) => part,
            Error::NotConfigured(_) => "not configured",
            Error::NotRegistered => "not registered",
            Error::NoSuchAccount(_) | Error::NoSuchTransfer(_) => "not found",
            Error::Invalid(_) => "invalid",
        }
    }
}

/// The core's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_sent_as_its_stored_word_and_reads_back() {
        for code in Code::ALL {
            let sent = serde_json::to_value(code).unwrap();
            assert_eq!(sent, serde_json::Value::String(code.as_str().to_owned()));
            assert_eq!(Code::parse(code.as_str()), Some(*code));
        }
        assert_eq!(Code::parse("something_new"), None);
    }

    #[test]
    fn every_failure_reason_of_the_server_is_a_code_of_the_same_word() {
        for reason in [
            FailureReason::BankRefused,
            FailureReason::CenterRefused,
            FailureReason::CenterUnavailable,
            FailureReason::AuthExpired,
            FailureReason::WithdrawNotApplied,
            FailureReason::DepositNotApplied,
            FailureReason::Internal,
        ] {
            assert_eq!(Code::of_failure(reason).as_str(), reason.as_str());
        }
    }
}
