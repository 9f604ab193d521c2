//! The crate's one error type, and the pure policy questions asked of it: "is this transfer's
//! outcome unknown?" and "should the token be refreshed?".
//!
//! The center answers HTTP 200 for almost every failure, so most errors are [`Error::Center`]
//! built from the body's `rsp_code`; the bank's own verdict (`bank_rsp_code`) rides along.

use std::fmt;

use crate::codes::{AuthDetail, BankRspCode, Lang, RspCode, RspKind};
use crate::tran_id::CounterError;

/// How a request failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection was made, so the request never reached the center: safe to retry.
    Connect,
    /// No answer within the timeout. The request may have been processed.
    Timeout,
    /// The connection broke after the request left, or the answer could not be read.
    /// The request may have been processed.
    Dropped,
}

impl TransportKind {
    /// Classifies a failure from what the HTTP stack knows: whether it happened while
    /// connecting and whether a timer fired. A connect timeout is still [`Connect`](Self::Connect):
    /// nothing was sent.
    pub fn classify(during_connect: bool, timed_out: bool) -> Self {
        match (during_connect, timed_out) {
            (true, _) => TransportKind::Connect,
            (false, true) => TransportKind::Timeout,
            (false, false) => TransportKind::Dropped,
        }
    }

    /// Whether the request may have reached the center.
    pub fn maybe_sent(self) -> bool {
        !matches!(self, TransportKind::Connect)
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "could not connect",
            TransportKind::Timeout => "timed out",
            TransportKind::Dropped => "connection dropped",
        })
    }
}

/// The bank's verdict carried by a center answer (`bank_rsp_code`, `bank_rsp_message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankReply {
    /// The bank's result code.
    pub code: BankRspCode,
    /// The bank's message, as sent.
    pub message: String,
}

/// A refusal by the center: a response whose `rsp_code` is not `A0000`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CenterError {
    /// The API that answered, e.g. `/v2.0/account/balance/fin_num`.
    pub endpoint: &'static str,
    /// The center's code.
    pub code: RspCode,
    /// The center's message, as sent.
    pub message: String,
    /// For `O0001`, the detail code parsed from the message's brackets.
    pub detail: Option<AuthDetail>,
    /// The bank's verdict, when the answer carries one that is not `000` (for `A0009`, the first
    /// failed item's).
    pub bank: Option<BankReply>,
    /// The center's id of the call, for support requests.
    pub api_tran_id: Option<String>,
}

impl CenterError {
    /// What the code means for the caller.
    pub fn kind(&self) -> RspKind {
        self.code.kind()
    }
}

impl fmt::Display for CenterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} answered {}", self.endpoint, self.code)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(bank) = &self.bank {
            write!(f, " (bank {}", bank.code)?;
            if !bank.message.is_empty() {
                write!(f, ": {}", bank.message)?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong talking to the center.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The HTTP exchange failed.
    #[error("{endpoint}: {kind}")]
    Transport {
        /// The API called.
        endpoint: &'static str,
        /// Whether the request may have been sent.
        kind: TransportKind,
        /// The underlying failure (its URL removed, as it can carry query parameters).
        #[source]
        source: reqwest::Error,
    },
    /// The center answered with an HTTP status other than 200 and no readable result code.
    #[error("{endpoint}: HTTP status {status}")]
    Http {
        /// The API called.
        endpoint: &'static str,
        /// The HTTP status.
        status: u16,
        /// The start of the body, for diagnosis.
        body: String,
    },
    /// The answer could not be decoded.
    ///
    /// Its text names the field, never what serde said about it: serde's words quote the value
    /// it could not take, which may be an account number or a name. The source keeps them, for
    /// a debugger's eyes only.
    #[error("{endpoint}: cannot decode the answer at `{path}`")]
    Decode {
        /// The API called.
        endpoint: &'static str,
        /// The JSON path of the offending field (`.` for the whole body).
        path: String,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// The center (or the bank behind it) refused.
    #[error("{0}")]
    Center(Box<CenterError>),
    /// The answer decoded but broke the protocol (e.g. a paging cursor that does not advance).
    #[error("{endpoint}: unexpected answer: {reason}")]
    Protocol {
        /// The API called.
        endpoint: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A request could not be built (e.g. a base URL that cannot take a path).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A bank_tran_id could not be issued.
    #[error(transparent)]
    Counter(#[from] CounterError),
}

impl Error {
    pub(crate) fn transport(endpoint: &'static str, e: reqwest::Error) -> Self {
        let kind = TransportKind::classify(e.is_connect(), e.is_timeout());
        Error::Transport {
            endpoint,
            kind,
            source: e.without_url(),
        }
    }

    /// The center's refusal, if this is one.
    pub fn center(&self) -> Option<&CenterError> {
        match self {
            Error::Center(c) => Some(c),
            _ => None,
        }
    }

    /// The center's `rsp_code`, if the center answered with one.
    pub fn rsp_code(&self) -> Option<&RspCode> {
        self.center().map(|c| &c.code)
    }

    /// The bank's `bank_rsp_code`, if the answer carried a failing one.
    pub fn bank_rsp_code(&self) -> Option<&BankRspCode> {
        self.center().and_then(|c| c.bank.as_ref()).map(|b| &b.code)
    }

    /// Whether the call ran out of time (the client's timer, not the center's `A0007`).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Error::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        )
    }

    /// Whether a transfer that failed this way may nonetheless have been carried out, so that
    /// it must be settled with `transfer/result` and never resent. See [`outcome_unknown`].
    pub fn is_outcome_unknown(&self) -> bool {
        outcome_unknown(self)
    }

    /// Whether the access token should be refreshed before trying again. See
    /// [`should_refresh_token`].
    pub fn should_refresh_token(&self) -> bool {
        should_refresh_token(self)
    }

    /// A message safe to show a person: no URL, token or request data.
    pub fn message(&self, lang: Lang) -> String {
        let ko = lang == Lang::Ko;
        match self {
            Error::Center(c) => match (&c.bank, &c.detail) {
                (Some(bank), _) => bank.code.message(lang).to_owned(),
                (None, Some(detail)) => detail.message(lang).to_owned(),
                // A0021 carries text the center wants shown as is.
                (None, None) if c.code == RspCode::A0021 && !c.message.is_empty() => {
                    c.message.clone()
                }
                (None, None) => c.code.message(lang).to_owned(),
            },
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            } => if ko {
                "오픈뱅킹센터에 연결할 수 없습니다"
            } else {
                "Cannot reach the open banking center"
            }
            .to_owned(),
            Error::Transport {
                kind: TransportKind::Timeout,
                ..
            } => if ko {
                "응답 시간이 초과되었습니다"
            } else {
                "The open banking center did not answer in time"
            }
            .to_owned(),
            Error::Transport { .. } => if ko {
                "연결이 끊어졌습니다"
            } else {
                "The connection was lost"
            }
            .to_owned(),
            Error::Http { .. } | Error::Decode { .. } | Error::Protocol { .. } => if ko {
                "오픈뱅킹센터의 응답을 이해할 수 없습니다"
            } else {
                "The open banking center's answer could not be understood"
            }
            .to_owned(),
            Error::InvalidRequest(_) | Error::Counter(_) => if ko {
                "요청을 만들 수 없습니다"
            } else {
                "The request could not be prepared"
            }
            .to_owned(),
        }
    }
}

/// Whether a transfer that failed with `err` may have been carried out anyway.
///
/// True for the center's "in progress" and timeout codes (`A0001`, `A0007`, `A0017`), for a
/// timeout or broken connection after the request may have left, for a gateway's 5xx status,
/// and for an answer that could not be read (the center may well have said `A0000`). False for
/// every definite refusal and for a failure to connect at all. When true, ask
/// `transfer/result`; never resend with a new `bank_tran_id`.
pub fn outcome_unknown(err: &Error) -> bool {
    match err {
        Error::Center(c) => c.code.kind() == RspKind::OutcomeUnknown,
        Error::Transport { kind, .. } => kind.maybe_sent(),
        Error::Http { status, .. } => *status >= 500,
        Error::Decode { .. } | Error::Protocol { .. } => true,
        Error::InvalidRequest(_) | Error::Counter(_) => false,
    }
}

/// Whether the access token should be refreshed (or, for an `oob` token, issued again) before
/// retrying: the center said it expired (`O0003`) or no longer accepts it (`O0002`, e.g. after a
/// re-issue elsewhere). If the refresh itself fails, the user must authorize again.
pub fn should_refresh_token(err: &Error) -> bool {
    matches!(
        err.rsp_code().map(RspCode::kind),
        Some(RspKind::TokenExpired | RspKind::TokenRejected)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn center(code: &str, bank: Option<&str>) -> Error {
        Error::Center(Box::new(CenterError {
            endpoint: "/v2.0/transfer/withdraw/fin_num",
            code: RspCode::from_code(code),
            message: String::new(),
            detail: None,
            bank: bank.map(|b| BankReply {
                code: BankRspCode::from_code(b),
                message: String::new(),
            }),
            api_tran_id: None,
        }))
    }

    #[test]
    fn in_progress_and_timeout_codes_leave_the_outcome_unknown() {
        for code in ["A0001", "A0007", "A0017"] {
            assert!(center(code, None).is_outcome_unknown(), "{code}");
        }
    }

    #[test]
    fn definite_refusals_are_known_outcomes() {
        for code in [
            "A0002", "A0003", "A0004", "A0326", "A0306", "O0003", "A0112",
        ] {
            assert!(!center(code, None).is_outcome_unknown(), "{code}");
        }
        assert!(!center("A0002", Some("453")).is_outcome_unknown());
    }

    #[test]
    fn transport_failures_are_unknown_only_once_the_request_may_have_left() {
        assert_eq!(TransportKind::classify(true, true), TransportKind::Connect);
        assert_eq!(TransportKind::classify(true, false), TransportKind::Connect);
        assert_eq!(TransportKind::classify(false, true), TransportKind::Timeout);
        assert_eq!(
            TransportKind::classify(false, false),
            TransportKind::Dropped
        );
        assert!(!TransportKind::Connect.maybe_sent());
        assert!(TransportKind::Timeout.maybe_sent());
        assert!(TransportKind::Dropped.maybe_sent());
    }

    #[test]
    fn unreadable_answers_and_gateway_errors_are_unknown() {
        let decode = Error::Decode {
            endpoint: "x",
            path: ".".into(),
            source: serde_json::from_str::<u8>("x").expect_err("not json"),
        };
        assert!(outcome_unknown(&decode));
        assert!(outcome_unknown(&Error::Http {
            endpoint: "x",
            status: 504,
            body: String::new()
        }));
        assert!(!outcome_unknown(&Error::Http {
            endpoint: "x",
            status: 404,
            body: String::new()
        }));
        assert!(!outcome_unknown(&Error::InvalidRequest("bad".into())));
    }

    #[test]
    fn expired_or_rejected_tokens_call_for_a_refresh() {
        assert!(center("O0003", None).should_refresh_token());
        assert!(center("O0002", None).should_refresh_token());
        assert!(!center("O0011", None).should_refresh_token());
        assert!(!center("O0001", None).should_refresh_token());
        assert!(!center("A0000", None).should_refresh_token());
    }

    #[test]
    fn human_messages_prefer_the_bank_reason() {
        let e = center("A0002", Some("453"));
        assert_eq!(e.message(Lang::Ko), "잔액이 부족합니다");
        assert_eq!(e.message(Lang::En), "Insufficient balance");
        assert_eq!(e.bank_rsp_code(), Some(&BankRspCode::InsufficientBalance));
        assert_eq!(
            center("O0003", None).message(Lang::En),
            "The access token expired"
        );
    }

    #[test]
    fn display_names_endpoint_code_and_bank() {
        let e = center("A0002", Some("453"));
        assert_eq!(
            e.to_string(),
            "/v2.0/transfer/withdraw/fin_num answered A0002 (bank 453)"
        );
        let mut c = e.center().cloned().expect("center");
        c.message = "참가은행 오류".into();
        c.bank = Some(BankReply {
            code: BankRspCode::InsufficientBalance,
            message: "잔액부족".into(),
        });
        assert_eq!(
            Error::Center(Box::new(c)).to_string(),
            "/v2.0/transfer/withdraw/fin_num answered A0002: 참가은행 오류 (bank 453: 잔액부족)"
        );
    }
}
