//! Registering accounts: the authorize URL with a single-use `state` and a PKCE verifier held
//! in memory for ten minutes, and the completion from the callback URL — check `state`,
//! exchange the code, fetch `user/me`, save the accounts. Registering again adds and updates;
//! it never duplicates.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeDelta, TimeZone, Utc};
use moa_openbanking::account::CancelRequest;
use moa_openbanking::user::UserRequest;
use moa_openbanking::{
    AuthorizeRequest, CallbackError, ClientUseCode, FintechUseNum, Lang, PkceVerifier, Scope,
    Scopes, State, parse_callback,
};
use serde::Serialize;

use crate::Moa;
use crate::error::{Error, Result};
use crate::store::{AccountUpsert, Upserted};

/// How long a registration may take from opening the pages to the callback.
pub const PENDING_LIFE: TimeDelta = TimeDelta::minutes(10);

/// Registrations in progress, by their `state`.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    open: Mutex<HashMap<String, (PkceVerifier, DateTime<Utc>)>>,
}

impl Pending {
    fn insert(&self, state: &State, verifier: PkceVerifier, now: DateTime<Utc>) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|_, (_, at)| now - *at < PENDING_LIFE);
        open.insert(state.as_str().to_owned(), (verifier, now));
    }

    /// Takes the registration waiting for `state` (single use), if it is still alive.
    fn take(&self, state: &str, now: DateTime<Utc>) -> Option<PkceVerifier> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let (verifier, at) = open.remove(state)?;
        (now - at < PENDING_LIFE).then_some(verifier)
    }
}

/// Where to send the person, and the callback to watch for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeStart {
    /// The center's consent pages.
    pub url: String,
    /// The navigation that ends the registration: intercept it and pass it to
    /// [`Moa::complete_registration`].
    pub redirect_uri: String,
}

/// What a registration did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Registered {
    /// Accounts new to Moa.
    pub added: usize,
    /// Accounts Moa knew, updated.
    pub updated: usize,
}

/// KFTC's `yyyyMMddHHmmss` times are Korean time.
fn kst(t: NaiveDateTime) -> DateTime<Utc> {
    let offset =
        FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"));
    offset
        .from_local_datetime(&t)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&t))
}

impl Moa {
    /// Starts a registration: the URL of the center's consent pages. With `reconfirm`, the
    /// pages re-confirm the accounts already registered (`authorize_account`) — the way to renew
    /// consent.
    pub async fn begin_registration(&self, reconfirm: bool, lang: Lang) -> Result<AuthorizeStart> {
        let center = self.center().await?;
        let env = center.environment();
        let state = State::generate();
        let verifier = PkceVerifier::generate();
        let mut request = AuthorizeRequest::new(
            env.client_id.clone(),
            env.redirect_uri.clone(),
            Scopes::new([Scope::Login, Scope::Inquiry, Scope::Transfer]),
            state.clone(),
        )
        .with_pkce(&verifier);
        request.lang = Some(lang);
        let base = center.client().base_url().clone();
        let url = if reconfirm {
            request.account_url(&base)
        } else {
            request.url(&base)
        };
        self.pending.insert(&state, verifier, center.clock().now());
        Ok(AuthorizeStart {
            url: url.to_string(),
            redirect_uri: env.redirect_uri.clone(),
        })
    }

    /// Finishes a registration from the URL the pages redirected to: checks `state`, exchanges
    /// the code, reads the person's accounts and saves them.
    pub async fn complete_registration(&self, callback_url: &str) -> Result<Registered> {
        let center = self.center().await?;
        let now = center.clock().now();
        let state = url::Url::parse(callback_url)
            .ok()
            .and_then(|u| {
                u.query_pairs()
                    .find(|(k, _)| k == "state")
                    .map(|(_, v)| v.into_owned())
            })
            .ok_or(Error::RegistrationExpired)?;
        let verifier = self
            .pending
            .take(&state, now)
            .ok_or(Error::RegistrationExpired)?;
        let callback = match parse_callback(callback_url, &State::from_string(state)) {
            Ok(callback) => callback,
            Err(CallbackError::Refused { error, .. }) => {
                self.store.audit(
                    "consent",
                    "",
                    &format!("refused on the center's pages ({error})"),
                    now,
                )?;
                return Err(Error::ConsentRefused(error));
            }
            Err(_) => return Err(Error::RegistrationExpired),
        };
        let env = center.environment().clone();
        let token = center
            .client()
            .exchange_code(
                center.credentials(),
                &callback.code,
                &env.redirect_uri,
                Some(&verifier),
            )
            .await?;
        let user_seq_no = token.user_seq_no.clone().ok_or(Error::NotRegistered)?;
        let access = token.access_token.clone();
        center.save_user_token(token).await?;
        let me = center.client().user_me(&access, &user_seq_no).await?;
        self.store
            .set_person(env.id, Some(user_seq_no.as_str()), Some(&me.user_name))?;
        let mut outcome = Registered::default();
        for account in &me.res_list {
            let upsert = AccountUpsert {
                fintech_use_num: account.fintech_use_num.as_str().to_owned(),
                bank_code: account.bank_code_std.as_str().to_owned(),
                bank_name: account.bank_name.clone(),
                alias: account.account_alias.clone().unwrap_or_default(),
                account_num_masked: account.account_num_masked.clone(),
                holder_name: account.account_holder_name.clone(),
                account_type: account
                    .account_type
                    .as_ref()
                    .map(|t| t.code().to_owned())
                    .unwrap_or_default(),
                inquiry_agreed_at: account
                    .inquiry_agree_dtime
                    .filter(|_| account.inquiry_agree_yn != Some(false))
                    .map(kst),
                transfer_agreed_at: account
                    .transfer_agree_dtime
                    .filter(|_| account.transfer_agree_yn != Some(false))
                    .map(kst),
            };
            match self.store.upsert_account(env.id, &upsert, now)? {
                (_, Upserted::Added) => outcome.added += 1,
                (_, Upserted::Updated) => outcome.updated += 1,
            }
        }
        self.store.audit(
            "consent",
            "",
            &format!(
                "registered: {} added, {} updated",
                outcome.added, outcome.updated
            ),
            now,
        )?;
        Ok(outcome)
    }
}

/// How long the person's consent lasts, and when to ask them to renew it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentHealth {
    /// When the access token — and with it Moa's right to act for the person — runs out.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whole days left, never below zero.
    pub days_left: Option<i64>,
    /// Renew now: less than [`crate::center::CONSENT_WARNING`] is left, or it has run out.
    pub renew_soon: bool,
}

impl Moa {
    /// How the person's consent stands, so the app can warn ahead of its expiry (90 days after
    /// it was given) and offer renewal through `authorize_account`.
    pub async fn consent_health(&self) -> Result<ConsentHealth> {
        let center = self.center().await?;
        let now = center.clock().now();
        let expires_at = center.user_token_expiry().await?;
        let days_left = expires_at.map(|t| (t - now).num_days().max(0));
        Ok(ConsentHealth {
            expires_at,
            days_left,
            renew_soon: expires_at.is_none_or(|t| t - now < crate::center::CONSENT_WARNING),
        })
    }

    /// Cancels an account's registration at the center (both its inquiry and its transfer
    /// consent) and takes it off the dashboard; its history stays in the store.
    pub async fn cancel_account(&self, account_id: i64) -> Result<()> {
        let center = self.center().await?;
        let env = self.environment().await?;
        let account = self
            .store
            .account(account_id)?
            .filter(|a| a.environment_id == env.id && a.state == "active")
            .ok_or(Error::NoSuchAccount(account_id))?;
        let fintech_use_num = FintechUseNum::parse(&account.fintech_use_num)
            .map_err(|_| Error::Invalid("internal"))?;
        let token = center.user_token().await?;
        let mut scopes = vec![Scope::Inquiry];
        if account.transfer_agreed_at.is_some() {
            scopes.push(Scope::Transfer);
        }
        for scope in scopes {
            let request = CancelRequest {
                bank_tran_id: center.next_bank_tran_id()?,
                scope,
                fintech_use_num: fintech_use_num.clone(),
            };
            center.client().account_cancel(&token, &request).await?;
        }
        let now = center.clock().now();
        self.store.cancel_account(account_id, now)?;
        self.store.audit(
            "consent",
            &account.account_num_masked,
            "account cancelled",
            now,
        )?;
        Ok(())
    }

    /// Signs the person out: their link with the institution is ended at the center when it can
    /// be reached, their tokens are removed from the vault, and their accounts leave the
    /// dashboard. Registering again starts afresh.
    pub async fn sign_out(&self) -> Result<()> {
        let center = self.center().await?;
        let env = self.environment().await?;
        let now = center.clock().now();
        if let (Ok(token), Ok(user_seq_no)) =
            (center.user_token().await, center.user_seq_no().await)
            && let Ok(client_use_code) = ClientUseCode::parse(&env.client_use_code)
        {
            let request = UserRequest {
                client_use_code,
                user_seq_no,
            };
            // A center out of reach must not keep the person signed in here.
            if let Err(error) = center.client().user_unlink(&token, &request).await {
                self.store.audit(
                    "consent",
                    "",
                    &format!(
                        "unlink at the center failed: {}",
                        crate::error::center_code(&error)
                    ),
                    now,
                )?;
            }
        }
        center.forget_user_token().await?;
        self.store.sign_out(env.id, now)?;
        self.store.audit("consent", "", "signed out", now)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_registration_is_single_use_and_dies_after_ten_minutes() {
        let pending = Pending::default();
        let now = Utc::now();
        let state = State::generate();
        pending.insert(&state, PkceVerifier::generate(), now);
        assert!(pending.take(state.as_str(), now).is_some());
        assert!(pending.take(state.as_str(), now).is_none(), "single use");
        let late = State::generate();
        pending.insert(&late, PkceVerifier::generate(), now);
        assert!(
            pending
                .take(late.as_str(), now + TimeDelta::minutes(11))
                .is_none()
        );
    }

    #[test]
    fn center_times_are_korean() {
        let t = NaiveDateTime::parse_from_str("20261127090000", "%Y%m%d%H%M%S").unwrap();
        assert_eq!(kst(t).to_rfc3339(), "2026-11-27T00:00:00+00:00");
    }
}
