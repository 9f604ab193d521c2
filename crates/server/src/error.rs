//! The server's one error type, and how each is answered: a stable [`ErrorCode`] with its HTTP
//! status and fixed English words — never the text of an inner error, which could quote a
//! field's value or a secret.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use moa_openbanking::RspKind;

use crate::api::{ApiError, ErrorCode};
use crate::store::JournalError;
use crate::store::StoreError;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A journal write was refused.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The center refused, or could not be reached.
    #[error(transparent)]
    Center(#[from] moa_openbanking::Error),
    /// A refusal of the API with a stable code.
    #[error("refused: {}", .0.as_str())]
    Refused(ErrorCode),
    /// Sealing or opening a secret failed.
    #[error("sealing failed")]
    Seal,
}

impl From<ErrorCode> for Error {
    fn from(code: ErrorCode) -> Self {
        Self::Refused(code)
    }
}

/// The server's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The stable code this error is answered with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Refused(code) => *code,
            Error::Center(e) => center_code(e),
            Error::Store(_) | Error::Journal(_) | Error::Seal => ErrorCode::Internal,
        }
    }
}

/// What a center failure means for the app.
pub fn center_code(error: &moa_openbanking::Error) -> ErrorCode {
    use moa_openbanking::Error as E;
    match error {
        E::Transport { .. } => ErrorCode::CenterUnavailable,
        E::Http { .. } | E::Decode { .. } | E::Protocol { .. } => ErrorCode::CenterRefused,
        E::Center(c) => match c.kind() {
            RspKind::TokenExpired | RspKind::TokenRejected | RspKind::Auth => {
                ErrorCode::AuthExpired
            }
            RspKind::BankError => ErrorCode::BankRefused,
            RspKind::OutcomeUnknown => ErrorCode::CenterUnavailable,
            _ => ErrorCode::CenterRefused,
        },
        _ => ErrorCode::Internal,
    }
}

/// Fixed English words for each code: what operators read; the app shows its own.
pub fn words(code: ErrorCode) -> &'static str {
    use ErrorCode::*;
    match code {
        BadRequest => "the request is not what this route takes",
        BadProof => "a valid DPoP proof of the device's key is required",
        ProofReplayed => "this DPoP proof was used before",
        UnknownDevice => "the device is unknown or revoked",
        AlreadyEnrolled => "this key is enrolled already",
        NotLinked => "the device is not linked to a person: register accounts first",
        NoSuchAccount => "no such account",
        NoSuchTransfer => "no such transfer",
        RegistrationExpired => "no registration of this device waits for this callback",
        ConsentRefused => "consent was refused on the center's pages",
        IdempotencyConflict => "this idempotency key was used with another request",
        IdempotencyKeyMissing => "an Idempotency-Key header (8 to 64 characters) is required",
        AmountNotPositive => "the amount must be whole won above zero",
        OverLimit => "over the per-transfer or daily limit",
        InsufficientFunds => "more than the account can pay",
        NoTransferConsent => "the account has no transfer consent",
        SameAccount => "source and target are the same account",
        BadBankCode => "not a bank code",
        BadAccountNumber => "an account number is 1 to 16 digits",
        BadMemo => "the memo has control characters or is too long",
        NoSuchRecipient => "the recipient's bank has no such account",
        AuthExpired => "the person's consent ran out: register again",
        CenterRefused => "the center refused",
        BankRefused => "the bank refused",
        CenterUnavailable => "the center did not answer in time",
        RateLimited => "too many requests",
        Internal => "the server failed",
    }
}

/// An API refusal as a response.
pub fn refusal(code: ErrorCode) -> Response {
    let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        axum::Json(ApiError {
            code,
            message: words(code).to_owned(),
        }),
    )
        .into_response()
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let code = self.code();
        if code == ErrorCode::Internal {
            // The inner error's kind only: its text may quote values.
            tracing::error!(kind = internal_kind(&self), "request failed");
        }
        refusal(code)
    }
}

fn internal_kind(e: &Error) -> &'static str {
    match e {
        Error::Store(_) => "store",
        Error::Journal(_) => "journal",
        Error::Seal => "seal",
        Error::Center(_) => "center",
        Error::Refused(_) => "refused",
    }
}
