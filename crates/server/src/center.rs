//! The connection to the center: the client, the institution's credentials, the
//! `bank_tran_id` issuer, the institution's `oob` token (in memory), and each person's tokens —
//! sealed in the database, renewed before they expire, and renewed once when the center
//! refuses one, however many calls saw the refusal.
//!
//! Scopes: a person's consent asks for [`user_scopes`] and nothing more, the institution's
//! token for `oob` alone, and a token the center grants without what was asked is refused (or,
//! for a renewal whose old refresh token is spent already, kept and reported).
//!
//! A renewal spends the old refresh token: the center rotates it. So a renewed token is kept in
//! memory before anything else, then saved, with a retry; while the database will not take
//! it, the copy in memory is the one used, and every read tries to save it again. One renewal
//! runs at a time per person across every replica (the store's renewal lock), and each reads
//! the stored token again first, so the refresh token is never presented twice.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use moa_openbanking::{
    AccessToken, AuthorizationCode, BankTranId, Client, ClientCredentials, Clock, OobToken,
    PkceVerifier, RefreshToken, Scope, Scopes, Token, UserSeqNo, UserToken,
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

/// How long to wait before each further attempt to save a renewed token the database refused.
const SAVE_RETRY_PAUSES: [std::time::Duration; 2] = [
    std::time::Duration::from_millis(50),
    std::time::Duration::from_millis(250),
];

/// The scopes a person's consent is asked for, and that their token must hold: `login` (who
/// they are, their accounts, cancelling one, unlinking), `inquiry` (balances and history) and
/// `transfer` (the withdrawal leg). Nothing more: `oob` is the institution's own.
pub fn user_scopes() -> Scopes {
    Scopes::new([Scope::Login, Scope::Inquiry, Scope::Transfer])
}

/// The scope of the institution's own token: real names, deposits, transfer results, bank
/// status.
pub fn oob_scopes() -> Scopes {
    Scopes::new([Scope::Oob])
}

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
    /// One lock per person, so that one renewal runs at a time for each in this process (the
    /// store's renewal lock keeps replicas to one at a time).
    renewals: std::sync::Mutex<HashMap<i64, Arc<Mutex<()>>>>,
    /// People's tokens the database has not taken yet: read before the database's.
    unsaved: std::sync::Mutex<HashMap<i64, Token>>,
    /// Saves that fail before they reach the database, as a full disk would make them.
    #[cfg(test)]
    failing_saves: std::sync::atomic::AtomicU32,
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
            unsaved: std::sync::Mutex::new(HashMap::new()),
            #[cfg(test)]
            failing_saves: std::sync::atomic::AtomicU32::new(0),
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
    /// block of 100 at a time (a restart abandons the rest of its block).
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

    /// Seals and saves a person's tokens now, once. Prefer [`keep_token`](Self::keep_token),
    /// which does not lose a token the database refuses.
    pub async fn save_token(&self, person_id: i64, token: &Token) -> Result<()> {
        #[cfg(test)]
        if self
            .failing_saves
            .fetch_update(
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
                |n| n.checked_sub(1),
            )
            .is_ok()
        {
            return Err(
                crate::store::StoreError::Sqlite(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
                    None,
                ))
                .into(),
            );
        }
        let json = serde_json::to_vec(&StoredToken::from_token(token)).map_err(|_| Error::Seal)?;
        let sealed = self
            .key()
            .seal(&json, &token_context(person_id))
            .map_err(|_| Error::Seal)?;
        self.store
            .save_sealed_token(person_id, &sealed, token.expires_at, self.clock.now())
            .await?;
        self.saved(person_id, token);
        Ok(())
    }

    /// Keeps a person's new tokens: in memory first, then in the database, trying again a
    /// little later when it refuses. A token the database would not take stays in memory and
    /// is used from there; each later read tries to save it again. Only a restart before one
    /// of those succeeds loses it, and then the person registers again.
    pub async fn keep_token(&self, person_id: i64, token: &Token) {
        self.unsaved_tokens().insert(person_id, token.clone());
        let mut pauses = SAVE_RETRY_PAUSES.iter();
        loop {
            match self.save_token(person_id, token).await {
                Ok(()) => return,
                Err(e) => match pauses.next() {
                    Some(pause) => tokio::time::sleep(*pause).await,
                    None => {
                        tracing::warn!(
                            code = e.code().as_str(),
                            person = person_id,
                            "a person's new token could not be saved; it is kept in memory and \
                             saved at its next use"
                        );
                        return;
                    }
                },
            }
        }
    }

    /// Forgets a person's tokens, in memory and in the database (signing out).
    pub async fn forget_token(&self, person_id: i64) -> Result<()> {
        self.unsaved_tokens().remove(&person_id);
        self.store.forget_token(person_id, self.clock.now()).await?;
        Ok(())
    }

    fn unsaved_tokens(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Token>> {
        self.unsaved.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `token` is in the database: the copy in memory, if it is that one, is no longer needed.
    fn saved(&self, person_id: i64, token: &Token) {
        let mut unsaved = self.unsaved_tokens();
        if unsaved.get(&person_id).is_some_and(|kept| {
            kept.access_token.expose_secret() == token.access_token.expose_secret()
        }) {
            unsaved.remove(&person_id);
        }
    }

    /// A person's tokens: the one in memory that the database has not taken yet (trying once
    /// more to save it), else the database's, opened.
    pub async fn token(&self, person_id: i64) -> Result<Option<Token>> {
        let kept = self.unsaved_tokens().get(&person_id).cloned();
        if let Some(kept) = kept {
            // Still refused: the copy in memory serves, and the next read tries again.
            let _ = self.save_token(person_id, &kept).await;
            return Ok(Some(kept));
        }
        self.stored_token(person_id).await
    }

    /// A person's tokens as the database holds them, opened.
    async fn stored_token(&self, person_id: i64) -> Result<Option<Token>> {
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

    /// Exchanges a consent's code for the person's tokens, refusing a token that lacks any of
    /// [`user_scopes`]: a consent that does not cover what Moa does is not one to keep.
    pub async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        redirect_uri: &str,
        verifier: &PkceVerifier,
    ) -> Result<Token> {
        let token = self
            .client
            .exchange_code(&self.credentials, code, redirect_uri, Some(verifier))
            .await?;
        let missing = token.scope.missing(&user_scopes());
        if !missing.is_empty() {
            tracing::warn!(
                missing = %missing,
                "the center granted a person's token without scopes asked for; refused"
            );
            return Err(ErrorCode::ConsentRefused.into());
        }
        Ok(token)
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
    pub async fn user_token(&self, person_id: i64) -> Result<UserToken> {
        let token = self.token(person_id).await?.ok_or(ErrorCode::AuthExpired)?;
        if !moa_openbanking::token::should_refresh(
            self.clock.now(),
            token.expires_at,
            REFRESH_MARGIN,
        ) {
            return Ok(token.user_token());
        }
        self.renew(person_id, None).await
    }

    /// A new access token after the center refused `rejected`. Calls side by side all see the
    /// same refusal; the first renews and the others take its result, since a refresh token is
    /// single use.
    pub async fn renew_user_token(
        &self,
        person_id: i64,
        rejected: &UserToken,
    ) -> Result<UserToken> {
        self.renew(person_id, Some(rejected)).await
    }

    /// Renews the person's token unless it is good already. One renewal runs at a time per
    /// person: in this process (so its tasks queue here, not on database connections) and then
    /// across replicas (the store's renewal lock). Whoever gets the lock reads the stored token
    /// again — another replica may have renewed it meanwhile, and then that token serves and
    /// the spent refresh token is never presented twice.
    async fn renew(&self, person_id: i64, rejected: Option<&UserToken>) -> Result<UserToken> {
        let lock = self.renewal_lock(person_id);
        let _one_at_a_time = lock.lock().await;
        let across = self.store.lock_renewal(person_id).await?;
        let renewed = self.renew_locked(person_id, rejected).await;
        across.release().await;
        renewed
    }

    async fn renew_locked(
        &self,
        person_id: i64,
        rejected: Option<&UserToken>,
    ) -> Result<UserToken> {
        let token = self.token(person_id).await?.ok_or(ErrorCode::AuthExpired)?;
        let now = self.clock.now();
        let still_good = match rejected {
            Some(rejected) => token.access_token.expose_secret() != rejected.expose_secret(),
            None => !moa_openbanking::token::should_refresh(now, token.expires_at, REFRESH_MARGIN),
        };
        if still_good {
            return Ok(token.user_token());
        }
        let refresh = token.refresh_token.clone().ok_or(ErrorCode::AuthExpired)?;
        if token.refresh_expires_at() <= now {
            return Err(ErrorCode::AuthExpired.into());
        }
        let fresh = self
            .client
            .refresh_token(&self.credentials, &refresh, &user_scopes())
            .await?;
        // The old refresh token is spent now: the new one goes to memory before anything else.
        self.keep_token(person_id, &fresh).await;
        let missing = fresh.scope.missing(&user_scopes());
        if !missing.is_empty() {
            // Kept all the same — the old one no longer renews — and what it still covers works;
            // what it lacks the center refuses until the person registers again.
            tracing::warn!(
                missing = %missing,
                person = person_id,
                "the center renewed a person's token without scopes asked for"
            );
            let _ = self
                .store
                .audit(
                    "consent",
                    "",
                    &format!("person {person_id}: renewed token lacks {missing}"),
                    now,
                )
                .await;
        }
        Ok(fresh.user_token())
    }

    /// The institution's own (`oob`) token, fetched when missing or about to expire.
    pub async fn oob_token(&self) -> Result<OobToken> {
        let mut slot = self.oob_token.lock().await;
        let now = self.clock.now();
        if let Some(token) = slot.as_ref()
            && !moa_openbanking::token::should_refresh(now, token.expires_at, REFRESH_MARGIN)
        {
            return Ok(token.oob_token());
        }
        let token = self.client.client_credentials(&self.credentials).await?;
        if !token.scope.missing(&oob_scopes()).is_empty() {
            tracing::warn!(granted = %token.scope, "the center's oob token lacks the oob scope");
            return Err(ErrorCode::CenterRefused.into());
        }
        let access = token.oob_token();
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

#[cfg(test)]
mod tests {
    use super::*;

    use axum::extract::State as Shared;
    use axum::routing::post;
    use axum::{Form, Json, Router};
    use chrono::TimeZone;
    use moa_openbanking::{ClientSecret, ClientUseCode, ManualClock};
    use serde_json::{Value, json};

    use crate::seal::SealingKey;

    type Seen = Arc<std::sync::Mutex<Vec<HashMap<String, String>>>>;

    /// A center's token endpoint on loopback that answers every request with `answer` and
    /// keeps the forms it was sent.
    async fn token_endpoint(answer: Value) -> (String, Seen) {
        let seen: Seen = Arc::default();
        let router = Router::new()
            .route(
                "/oauth/2.0/token",
                post(
                    |Shared((seen, answer)): Shared<(Seen, Value)>,
                     Form(form): Form<HashMap<String, String>>| async move {
                        seen.lock().unwrap().push(form);
                        Json(answer)
                    },
                ),
            )
            .with_state((seen.clone(), answer));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (base, seen)
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
    }

    /// A center at `base` on an in-memory database, its clock stopped at [`now`].
    fn center(base: &str) -> Center {
        let settings = Settings {
            center: url::Url::parse(base).unwrap(),
            client_id: "moa".into(),
            client_secret: ClientSecret::new("the-client-secret"),
            client_use_code: ClientUseCode::parse("T991589220").unwrap(),
            redirect_uri: "http://127.0.0.1/callback".into(),
            collection_account: "1234567890".into(),
            payout_account: "9876543210".into(),
            database: crate::store::Database::Sqlite("unused.db".into()),
            sealing_key: SealingKey::generate().unwrap(),
            public_url: None,
        };
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(now()));
        Center::new(
            settings,
            Client::with_base_url(base).unwrap(),
            Store::in_memory().unwrap(),
            clock,
        )
    }

    /// A person's token issued long ago, due for renewal: two days left of ninety.
    fn aging_token(access: &str, refresh: &str) -> Token {
        Token {
            access_token: AccessToken::new(access),
            refresh_token: Some(RefreshToken::new(refresh)),
            token_type: "Bearer".into(),
            scope: Scopes::parse("inquiry login transfer"),
            user_seq_no: Some(UserSeqNo::parse("1100000001").unwrap()),
            client_use_code: None,
            issued_at: now() - TimeDelta::days(88),
            expires_at: now() + TimeDelta::days(2),
        }
    }

    fn renewed(scope: &str) -> Value {
        json!({
            "access_token": "access-2", "refresh_token": "refresh-2", "token_type": "Bearer",
            "expires_in": 7_775_999, "scope": scope, "user_seq_no": "1100000001"
        })
    }

    async fn person(center: &Center) -> i64 {
        center
            .store
            .upsert_person("1100000001", "홍길동", now())
            .await
            .unwrap()
    }

    /// A center whose token endpoint renews into `scope`, the forms it was sent, and a person
    /// whose stored token is due for renewal (`access-1`, `refresh-1`).
    async fn aging_person(scope: &str) -> (Center, i64, Seen) {
        let (base, seen) = token_endpoint(renewed(scope)).await;
        let center = center(&base);
        let person = person(&center).await;
        center
            .save_token(person, &aging_token("access-1", "refresh-1"))
            .await
            .unwrap();
        (center, person, seen)
    }

    /// Makes the next `n` token saves fail, as a database refusing writes would.
    fn fail_saves(center: &Center, n: u32) {
        center
            .failing_saves
            .store(n, std::sync::atomic::Ordering::SeqCst);
    }

    #[tokio::test]
    async fn a_renewed_token_the_database_refuses_is_kept_in_memory_and_saved_once_it_can_be() {
        let (center, person, seen) = aging_person("inquiry login transfer").await;
        // The database refuses every save of the renewal and its retries.
        fail_saves(&center, u32::MAX);
        let access = center.user_token(person).await.expect("renewed");
        assert_eq!(access.expose_secret(), "access-2");
        // The database still has the spent pair; the new one lives in memory and is used.
        let stored = center.stored_token(person).await.unwrap().unwrap();
        assert_eq!(stored.access_token.expose_secret(), "access-1");
        let again = center.user_token(person).await.expect("from memory");
        assert_eq!(again.expose_secret(), "access-2");
        assert_eq!(seen.lock().unwrap().len(), 1, "renewed once, not twice");
        let form = seen.lock().unwrap()[0].clone();
        assert_eq!(form["grant_type"], "refresh_token");
        assert_eq!(form["refresh_token"], "refresh-1");

        // The database takes writes again: the next read saves the new pair.
        fail_saves(&center, 0);
        let read = center.token(person).await.unwrap().unwrap();
        assert_eq!(
            read.refresh_token.as_ref().map(RefreshToken::expose_secret),
            Some("refresh-2")
        );
        let stored = center.stored_token(person).await.unwrap().unwrap();
        assert_eq!(stored.access_token.expose_secret(), "access-2");
        assert_eq!(
            stored
                .refresh_token
                .as_ref()
                .map(RefreshToken::expose_secret),
            Some("refresh-2")
        );
        assert!(center.unsaved_tokens().is_empty());
    }

    #[tokio::test]
    async fn a_save_that_fails_once_is_retried_at_once() {
        let (center, person, _) = aging_person("inquiry login transfer").await;
        fail_saves(&center, 1);
        center.user_token(person).await.expect("renewed");
        let stored = center.stored_token(person).await.unwrap().unwrap();
        assert_eq!(stored.access_token.expose_secret(), "access-2");
        assert!(center.unsaved_tokens().is_empty());
    }

    #[tokio::test]
    async fn signing_out_forgets_a_token_kept_in_memory_too() {
        let (center, person, _) = aging_person("inquiry login transfer").await;
        fail_saves(&center, 3);
        center.user_token(person).await.expect("renewed");
        center.forget_token(person).await.unwrap();
        assert!(center.token(person).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_renewal_asks_for_the_minimum_scopes_and_keeps_but_reports_a_token_lacking_one() {
        let (center, person, seen) = aging_person("inquiry login").await;
        let access = center.user_token(person).await.expect("renewed");
        // The old refresh token is spent: the new one is kept whatever it covers.
        assert_eq!(access.expose_secret(), "access-2");
        assert_eq!(seen.lock().unwrap()[0]["scope"], "login inquiry transfer");
        let audit = center.store.audit_log(10).await.unwrap();
        assert!(
            audit
                .iter()
                .any(|e| e.detail.contains("renewed token lacks transfer")),
            "{audit:?}"
        );
    }

    #[tokio::test]
    async fn a_consent_whose_token_lacks_a_scope_is_refused() {
        let (base, seen) = token_endpoint(renewed("inquiry login")).await;
        let center = center(&base);
        let refused = center
            .exchange_code(
                &AuthorizationCode::new("code"),
                "http://127.0.0.1/callback",
                &PkceVerifier::generate(),
            )
            .await
            .expect_err("lacks transfer");
        assert_eq!(refused.code(), ErrorCode::ConsentRefused);
        assert_eq!(seen.lock().unwrap()[0]["grant_type"], "authorization_code");

        let (base, _) = token_endpoint(renewed("inquiry login transfer")).await;
        let token = self::center(&base)
            .exchange_code(
                &AuthorizationCode::new("code"),
                "http://127.0.0.1/callback",
                &PkceVerifier::generate(),
            )
            .await
            .expect("every scope");
        assert_eq!(token.access_token.expose_secret(), "access-2");
    }

    #[tokio::test]
    async fn an_institution_token_without_the_oob_scope_is_refused_and_not_kept() {
        let (base, seen) = token_endpoint(json!({
            "access_token": "oob-1", "token_type": "Bearer", "expires_in": 7_775_999,
            "scope": "login", "client_use_code": "T991589220"
        }))
        .await;
        let center = center(&base);
        let refused = center.oob_token().await.expect_err("not oob");
        assert_eq!(refused.code(), ErrorCode::CenterRefused);
        assert!(center.oob_token.lock().await.is_none());
        assert_eq!(seen.lock().unwrap()[0]["scope"], "oob");
    }
}
