//! A typed client of the Korean Open Banking API v2.0 run by KFTC (금융결제원).
#![deny(missing_docs)]

pub mod account;
pub mod bank;
pub mod client;
pub mod clock;
pub mod codes;
pub mod consent;
pub mod envelope;
pub mod error;
pub mod fields;
pub mod fund_return;
pub mod history;
pub mod ids;
pub mod inquiry;
pub mod money;
pub mod token;
pub mod tran_id;
pub mod transfer;
pub mod user;
pub mod wire;

pub use client::{Client, ClientCredentials, Environment};
pub use clock::{Clock, ManualClock, SystemClock};
pub use codes::{AuthDetail, BankRspCode, Lang, RspCode, RspKind};
pub use consent::{
    AuthType, AuthorizeRequest, Callback, CallbackError, PkceVerifier, State, parse_callback,
};
pub use error::{
    BankReply, CenterError, Error, TransportKind, outcome_unknown, should_refresh_token,
};
pub use ids::{BankCode, BankTranId, ClientUseCode, FintechUseNum, IdError, UserSeqNo};
pub use money::{AmountError, SignedWon, Won};
pub use token::{AccessToken, AuthorizationCode, ClientSecret, RefreshToken, Scope, Scopes, Token};
pub use tran_id::{BankTranIdIssuer, CounterError, CounterStore, MemoryCounterStore};
