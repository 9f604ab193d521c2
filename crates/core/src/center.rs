//! The connection to one open banking center: the client, the institution's credentials, the
//! `bank_tran_id` issuer, and the tokens — the person's (3-legged, kept in the vault and refreshed
//! before they expire) and the institution's own (`oob`, kept in memory).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use moa_openbanking::{
    AccessToken, BankTranId, BankTranIdIssuer, Client, ClientCredentials, ClientSecret,
    ClientUseCode, Clock, RefreshToken, Scopes, Token, UserSeqNo,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::error::{Error, Result};
use crate::store::{EnvironmentRecord, Store};
use crate::vault::{SecretKey, Vault};

/// Refresh the person's token when it has less than this left.
pub const REFRESH_MARGIN: TimeDelta = TimeDelta::days(7);
/// Warn the person this long before their consent (the token) runs out.
pub const CONSENT_WARNING: TimeDelta = TimeDelta::days(14);

const USER_TOKEN: &str = "user-token";
/// The vault entry of an environment's client secret.
pub const CLIENT_SECRET: &str = "client-secret";

/// The person's tokens as the vault keeps them (one entry, JSON).
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

/// One center, ready to call.
pub struct Center {
    env: EnvironmentRecord,
    client: Client,
    credentials: ClientCredentials,
    issuer: BankTranIdIssuer,
    vault: Arc<dyn Vault>,
    clock: Arc<dyn Clock>,
    user_token: Mutex<Option<Token>>,
    oob_token: Mutex<Option<Token>>,
}

impl std::fmt::Debug for Center {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Center")
            .field("kind", &self.env.kind)
            .field("base_url", &self.env.base_url)
            .finish_non_exhaustive()
    }
}

impl Center {
    /// Connects to `env` with the client secret kept in the vault.
    pub fn new(
        env: EnvironmentRecord,
        client: Client,
        store: &Store,
        vault: Arc<dyn Vault>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let secret = vault
            .get(SecretKey {
                environment: env.kind.as_str(),
                name: CLIENT_SECRET,
            })?
            .ok_or(Error::NotConfigured(env.kind.as_str()))?;
        let code = ClientUseCode::parse(&env.client_use_code)
            .map_err(|_| Error::NotConfigured(env.kind.as_str()))?;
        let issuer = BankTranIdIssuer::new(code, Arc::new(store.clone())).with_clock(clock.clone());
        let credentials = ClientCredentials::new(env.client_id.clone(), ClientSecret::new(secret));
        let client = client.with_clock(clock.clone());
        Ok(Self {
            env,
            client,
            credentials,
            issuer,
            vault,
            clock,
            user_token: Mutex::new(None),
            oob_token: Mutex::new(None),
        })
    }

    /// The environment's details.
    pub fn environment(&self) -> &EnvironmentRecord {
        &self.env
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The institution's credentials.
    pub fn credentials(&self) -> &ClientCredentials {
        &self.credentials
    }

    /// The clock everything here reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// A fresh `bank_tran_id`, never issued before today.
    pub fn next_bank_tran_id(&self) -> Result<BankTranId> {
        Ok(self.issuer.issue().map_err(moa_openbanking::Error::from)?)
    }

    /// The `bank_tran_id` issuer, for APIs that take one (the history pager issues an id per
    /// page).
    pub fn issuer(&self) -> &BankTranIdIssuer {
        &self.issuer
    }

    fn token_key(&self) -> SecretKey<'_> {
        SecretKey {
            environment: self.env.kind.as_str(),
            name: USER_TOKEN,
        }
    }

    /// Keeps the person's new tokens, in memory and in the vault.
    pub async fn save_user_token(&self, token: Token) -> Result<()> {
        let stored = serde_json::to_string(&StoredToken::from_token(&token))
            .map_err(|_| Error::Invalid("internal"))?;
        self.vault.set(self.token_key(), &stored)?;
        *self.user_token.lock().await = Some(token);
        Ok(())
    }

    /// Forgets the person's tokens, here and in the vault.
    pub async fn forget_user_token(&self) -> Result<()> {
        self.vault.delete(self.token_key())?;
        *self.user_token.lock().await = None;
        Ok(())
    }

    /// When the person's access token (and with it the consent to use it) runs out, if any.
    pub async fn user_token_expiry(&self) -> Result<Option<DateTime<Utc>>> {
        let mut slot = self.user_token.lock().await;
        self.load(&mut slot)?;
        Ok(slot.as_ref().map(|t| t.expires_at))
    }

    fn load(&self, slot: &mut Option<Token>) -> Result<()> {
        if slot.is_none()
            && let Some(json) = self.vault.get(self.token_key())?
        {
            *slot = serde_json::from_str::<StoredToken>(&json)
                .ok()
                .and_then(StoredToken::into_token);
        }
        Ok(())
    }

    /// The person's access token, refreshed first when it is about to expire.
    pub async fn user_token(&self) -> Result<AccessToken> {
        let mut slot = self.user_token.lock().await;
        self.load(&mut slot)?;
        let token = slot.as_ref().ok_or(Error::NotRegistered)?;
        let now = self.clock.now();
        if !moa_openbanking::token::should_refresh(now, token.expires_at, REFRESH_MARGIN) {
            return Ok(token.access_token.clone());
        }
        let refresh = token.refresh_token.clone().ok_or(Error::NotRegistered)?;
        if token.refresh_expires_at() <= now {
            // The refresh token died ten days after the access token: consent must be renewed.
            return Err(Error::NotRegistered);
        }
        let fresh = self
            .client
            .refresh_token(&self.credentials, &refresh, &token.scope)
            .await?;
        let access = fresh.access_token.clone();
        let stored = serde_json::to_string(&StoredToken::from_token(&fresh))
            .map_err(|_| Error::Invalid("internal"))?;
        self.vault.set(self.token_key(), &stored)?;
        *slot = Some(fresh);
        Ok(access)
    }

    /// A new access token after the center refused `rejected` as expired or revoked (`O0003`,
    /// `O0002`), whatever our clock thinks of it. Calls running side by side all get the same
    /// refusal; the first one refreshes and the others take its result, since a refresh token
    /// is single use and a second refresh with it would fail.
    pub async fn renew_user_token(&self, rejected: &AccessToken) -> Result<AccessToken> {
        let mut slot = self.user_token.lock().await;
        self.load(&mut slot)?;
        let token = slot.as_ref().ok_or(Error::NotRegistered)?;
        if token.access_token.expose_secret() != rejected.expose_secret() {
            return Ok(token.access_token.clone());
        }
        let refresh = token.refresh_token.clone().ok_or(Error::NotRegistered)?;
        let fresh = self
            .client
            .refresh_token(&self.credentials, &refresh, &token.scope)
            .await?;
        let access = fresh.access_token.clone();
        let stored = serde_json::to_string(&StoredToken::from_token(&fresh))
            .map_err(|_| Error::Invalid("internal"))?;
        self.vault.set(self.token_key(), &stored)?;
        *slot = Some(fresh);
        Ok(access)
    }

    /// The person's `user_seq_no`, from their token.
    pub async fn user_seq_no(&self) -> Result<UserSeqNo> {
        let mut slot = self.user_token.lock().await;
        self.load(&mut slot)?;
        slot.as_ref()
            .and_then(|t| t.user_seq_no.clone())
            .ok_or(Error::NotRegistered)
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
}
