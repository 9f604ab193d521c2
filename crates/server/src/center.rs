//! The connection to the center: the client, the institution's credentials, the
//! `bank_tran_id` issuer, the institution's `oob` token (in memory), and each person's tokens —
//! sealed in the database, renewed before they expire, and renewed once when the center
//! refuses one, however many calls saw the refusal.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use moa_openbanking::{
    AccessToken, BankTranId, Client, ClientCredentials, Clock, RefreshToken, Scopes, Token,
    UserSeqNo,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::Settings;
use crate::api::ErrorCode;
use crate::error::{Error, Result};
use crate::seal::SealingKey;
use crate::store::Store;

/// Refresh a token when it has less than this left.
pub const REFRESH_MARGIN: TimeDelta = TimeDelta::days(7);
/// Tell the person to renew their consent this long before it runs out.
pub const CONSENT_WARNING: TimeDelta = TimeDelta::days(14);

/// A person's tokens as sealed in the database (JSON inside the seal).
#[derive(Serialize, Deserialize)]
struct StoredToken {
    access_token: String,
    refresh_token: Option<String>,
    scope: String,
    user_seq_no: Option<String>,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl StoredToken {
    fn from_token(token: &Token) -> Self {
        Self {
            access_token: token.access_token.expose_secret().to_owned(),
            refresh_token: token
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            scope: token.scope.to_string(),
            user_seq_no: token.user_seq_no.as_ref().map(|u| u.as_str().to_owned()),
            issued_at: token.issued_at,
            expires_at: token.expires_at,
        }
    }

    fn into_token(self) -> Option<Token> {
        Some(Token {
            access_token: AccessToken::new(self.access_token),
            refresh_token: self.refresh_token.map(RefreshToken::new),
            token_type: "Bearer".into(),
            scope: Scopes::parse(&self.scope),
            user_seq_no: match self.user_seq_no {
                Some(u) => Some(UserSeqNo::parse(&u).ok()?),
                None => None,
            },
            client_use_code: None,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
        })
    }
}

/// `bank_tran_id` serials reserved per store write.
const TRAN_ID_BLOCK: u64 = 100;

/// Serials reserved for one day: `next` up to `end`.
#[derive(Debug)]
struct IssuedBlock {
    day: chrono::NaiveDate,
    next: u64,
    end: u64,
}

/// The center, ready to call.
pub struct Center {
    settings: Settings,
    client: Client,
    credentials: ClientCredentials,
    /// The block of `bank_tran_id` serials being handed out.
    issued: Mutex<Option<IssuedBlock>>,
    store: Store,
    clock: Arc<dyn Clock>,
    oob_token: Mutex<Option<Token>>,
    /// One lock per person, so that one renewal runs at a time for each.
    renewals: std::sync::Mutex<HashMap<i64, Arc<Mutex<()>>>>,
}

impl std::fmt::Debug for Center {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Center")
            .field("base_url", &self.settings.center.as_str())
            .finish_non_exhaustive()
    }
}

fn token_context(person_id: i64) -> String {
    format!("people.token:{person_id}")
}

impl Center {
    /// Connects to the center of `settings`.
    pub fn new(settings: Settings, client: Client, store: Store, clock: Arc<dyn Clock>) -> Self {
        let credentials =
            ClientCredentials::new(settings.client_id.clone(), settings.client_secret.clone());
        let client = client.with_clock(clock.clone());
        Self {
            settings,
            client,
            credentials,
            issued: Mutex::new(None),
            store,
            clock,
            oob_token: Mutex::new(None),
            renewals: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The settings the server runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The institution's credentials.
    pub fn credentials(&self) -> &ClientCredentials {
        &self.credentials
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// A fresh `bank_tran_id`, never issued before: serials come from the store's counters, a
    /// block of [`TRAN_ID_BLOCK`] at a time (a restart abandons the rest of its block).
    pub async fn next_bank_tran_id(&self) -> Result<BankTranId> {
        let day = self.clock.today_kst();
        let code = &self.settings.client_use_code;
        let mut issued = self.issued.lock().await;
        let block = match issued.as_mut() {
            Some(block) if block.day == day && block.next < block.end => block,
            _ => {
                let first = self
                    .store
                    .reserve_tran_ids(code.as_str(), day, TRAN_ID_BLOCK)
                    .await?;
                issued.insert(IssuedBlock {
                    day,
                    next: first,
                    end: first.saturating_add(TRAN_ID_BLOCK),
                })
            }
        };
        let serial = moa_openbanking::tran_id::serial(block.next)
            .ok_or(Error::Refused(ErrorCode::Internal))?;
        block.next += 1;
        BankTranId::from_parts(code, &serial).map_err(|_| Error::Refused(ErrorCode::Internal))
    }

    fn key(&self) -> &SealingKey {
        &self.settings.sealing_key
    }

    /// Seals and keeps a person's tokens.
    pub async fn save_token(&self, person_id: i64, token: &Token) -> Result<()> {
        let json = serde_json::to_vec(&StoredToken::from_token(token)).map_err(|_| Error::Seal)?;
        let sealed = self
            .key()
            .seal(&json, &token_context(person_id))
            .map_err(|_| Error::Seal)?;
        self.store
            .save_sealed_token(person_id, &sealed, token.expires_at, self.clock.now())
            .await?;
        Ok(())
    }

    /// A person's tokens, opened.
    pub async fn token(&self, person_id: i64) -> Result<Option<Token>> {
        let Some(sealed) = self.store.sealed_token(person_id).await? else {
            return Ok(None);
        };
        let json = self
            .key()
            .open(&sealed, &token_context(person_id))
            .map_err(|_| Error::Seal)?;
        Ok(serde_json::from_slice::<StoredToken>(&json)
            .ok()
            .and_then(StoredToken::into_token))
    }

    fn renewal_lock(&self, person_id: i64) -> Arc<Mutex<()>> {
        self.renewals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(person_id)
            .or_default()
            .clone()
    }

    /// The person's access token, renewed first when it is about to expire.
    pub async fn user_token(&self, person_id: i64) -> Result<AccessToken> {
        let token = self.token(person_id).await?.ok_or(ErrorCode::AuthExpired)?;
        if !moa_openbanking::token::should_refresh(
            self.clock.now(),
            token.expires_at,
            REFRESH_MARGIN,
        ) {
            return Ok(token.access_token);
        }
        self.renew(person_id, None).await
    }

    /// A new access token after the center refused `rejected`. Calls side by side all see the
    /// same refusal; the first renews and the others take its result, since a refresh token is
    /// single use.
    pub async fn renew_user_token(
        &self,
        person_id: i64,
        rejected: &AccessToken,
    ) -> Result<AccessToken> {
        self.renew(person_id, Some(rejected)).await
    }

    async fn renew(&self, person_id: i64, rejected: Option<&AccessToken>) -> Result<AccessToken> {
        let lock = self.renewal_lock(person_id);
        let _one_at_a_time = lock.lock().await;
        let token = self.token(person_id).await?.ok_or(ErrorCode::AuthExpired)?;
        let now = self.clock.now();
        let still_good = match rejected {
            Some(rejected) => token.access_token.expose_secret() != rejected.expose_secret(),
            None => !moa_openbanking::token::should_refresh(now, token.expires_at, REFRESH_MARGIN),
        };
        if still_good {
            return Ok(token.access_token);
        }
        let refresh = token.refresh_token.clone().ok_or(ErrorCode::AuthExpired)?;
        if token.refresh_expires_at() <= now {
            return Err(ErrorCode::AuthExpired.into());
        }
        let fresh = self
            .client
            .refresh_token(&self.credentials, &refresh, &token.scope)
            .await?;
        self.save_token(person_id, &fresh).await?;
        Ok(fresh.access_token)
    }

    /// The institution's own (`oob`) token, fetched when missing or about to expire.
    pub async fn oob_token(&self) -> Result<AccessToken> {
        let mut slot = self.oob_token.lock().await;
        let now = self.clock.now();
        if let Some(token) = slot.as_ref()
            && !moa_openbanking::token::should_refresh(now, token.expires_at, REFRESH_MARGIN)
        {
            return Ok(token.access_token.clone());
        }
        let token = self.client.client_credentials(&self.credentials).await?;
        let access = token.access_token.clone();
        *slot = Some(token);
        Ok(access)
    }

    /// Drops the cached `oob` token, after the center rejected it.
    pub async fn forget_oob_token(&self) {
        *self.oob_token.lock().await = None;
    }

    /// Renews every person's token that is about to expire: run now and then, so a person
    /// who does not open the app for weeks keeps their consent working until it really ends.
    pub async fn renew_expiring(&self) -> Result<usize> {
        let mut renewed = 0;
        for person_id in self.store.people_with_tokens().await? {
            let Some(token) = self.token(person_id).await? else {
                continue;
            };
            if moa_openbanking::token::should_refresh(
                self.clock.now(),
                token.expires_at,
                REFRESH_MARGIN,
            ) && self.renew(person_id, None).await.is_ok()
            {
                renewed += 1;
            }
        }
        Ok(renewed)
    }
}
