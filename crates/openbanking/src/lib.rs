//! A typed client of the Korean Open Banking API v2.0 run by KFTC (금융결제원).
//!
//! This crate is the one place in Moa that knows the center's wire format: hosts and paths,
//! request encodings, field formats, result codes. Everything it returns is parsed into validated
//! types ([`FintechUseNum`], [`BankTranId`], [`Won`], chrono dates), and every failure is one
//! [`Error`] that keeps the center's `rsp_code` and the bank's `bank_rsp_code`.
//!
//! It does not store anything, keep tokens, retry, or decide what to do about a failure beyond
//! answering two questions as pure functions: [`outcome_unknown`] (ask `transfer/result`, never
//! resend) and [`should_refresh_token`].
//!
//! # Registering accounts
//!
//! ```
//! use moa_openbanking::{AuthorizeRequest, Environment, PkceVerifier, Scope, Scopes, State};
//!
//! let state = State::generate();
//! let verifier = PkceVerifier::generate();
//! let url = AuthorizeRequest::new(
//!     "my-client-id",
//!     "http://localhost:8080/callback",
//!     Scopes::new([Scope::Login, Scope::Inquiry, Scope::Transfer]),
//!     state.clone(),
//! )
//! .with_pkce(&verifier)
//! .url(&Environment::KftcTest.base_url());
//! assert!(url.as_str().contains("code_challenge_method=S256"));
//!
//! // The page redirects to the callback; check it before trusting the code.
//! let callback = format!("http://localhost:8080/callback?code=abc&scope=login&state={}", state.as_str());
//! let grant = moa_openbanking::parse_callback(&callback, &state).expect("our own state");
//! assert_eq!(format!("{:?}", grant.code), "AuthorizationCode(***)");
//! ```
//!
//! # Reading a balance
//!
//! ```no_run
//! use std::sync::Arc;
//! use moa_openbanking::account::BalanceRequest;
//! use moa_openbanking::*;
//!
//! # async fn demo(code: AuthorizationCode, verifier: PkceVerifier) -> Result<(), Error> {
//! let client = Client::new(Environment::KftcTest)?;
//! let credentials = ClientCredentials::new("my-client-id", ClientSecret::new("my-secret"));
//! let token = client
//!     .exchange_code(&credentials, &code, "http://localhost:8080/callback", Some(&verifier))
//!     .await?;
//!
//! let issuer = BankTranIdIssuer::new(
//!     ClientUseCode::parse("T991589220").expect("valid code"),
//!     Arc::new(MemoryCounterStore::new()),
//! );
//! let user = token.user_seq_no.clone().expect("3-legged tokens carry the user");
//! let person = token.user_token();
//! let me = client.user_me(&person, &user).await?;
//! for account in &me.res_list {
//!     let request = BalanceRequest {
//!         bank_tran_id: issuer.issue()?,
//!         fintech_use_num: account.fintech_use_num.clone(),
//!     };
//!     match client.balance(&person, &request).await {
//!         Ok(b) => println!("{} {}", account.bank_name, b.balance_amt),
//!         Err(e) if e.should_refresh_token() => { /* refresh, then retry */ }
//!         Err(e) => println!("{}: {}", account.bank_name, e.message(Lang::Ko)),
//!     }
//! }
//! # Ok(()) }
//! ```
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
pub use token::{
    AccessToken, AuthorizationCode, Bearer, ClientSecret, Institution, OobToken, Person,
    RefreshToken, Scope, Scopes, Token, TokenKind, UserToken, WdPassPhrase,
};
pub use tran_id::{BankTranIdIssuer, CounterError, CounterStore, MemoryCounterStore};

/// The README's example, compiled as a doc test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
