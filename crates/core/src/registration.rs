//! Registering accounts, through the server: it gives the consent pages' URL (its `state` and
//! PKCE bound to this device), and takes the callback the app's window intercepted. The
//! accounts it then lists are cached in the store. Also the consent's health, cancelling an
//! account and signing out.

use chrono::{DateTime, Utc};
use moa_openbanking::Lang;
use moa_server::api;
use reqwest::Method;
use serde::Serialize;

use crate::Moa;
use crate::error::{Error, Result};
use crate::store::{AccountDetails, Upserted};

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
    /// Accounts new to the person.
    pub added: usize,
    /// Accounts already known, updated.
    pub updated: usize,
}

/// How long the person's consent lasts, and when to ask them to renew it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentHealth {
    /// When the consent runs out.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whole days left, never below zero.
    pub days_left: Option<i64>,
    /// Renew now: little is left, or none.
    pub renew_soon: bool,
}

impl Moa {
    /// Starts a registration: the URL of the center's consent pages. With `reconfirm`, the
    /// pages re-confirm the accounts already registered — the way to renew consent.
    pub async fn begin_registration(&self, reconfirm: bool, lang: Lang) -> Result<AuthorizeStart> {
        let started: api::RegistrationStarted = self
            .server()
            .await?
            .post(
                "/v1/registrations",
                &api::BeginRegistration {
                    reconfirm,
                    lang: match lang {
                        Lang::En => api::Lang::En,
                        _ => api::Lang::Ko,
                    },
                },
            )
            .await?;
        Ok(AuthorizeStart {
            url: started.authorize_url,
            redirect_uri: started.redirect_uri,
        })
    }

    /// Finishes a registration from the URL the pages redirected to; the server checks it and
    /// exchanges the code. The person's accounts are then cached here.
    pub async fn complete_registration(&self, callback_url: &str) -> Result<Registered> {
        let registered: api::Registered = self
            .server()
            .await?
            .post(
                "/v1/registrations/complete",
                &api::CompleteRegistration {
                    callback_url: callback_url.to_owned(),
                },
            )
            .await?;
        self.sync_accounts().await?;
        let now = self.clock().now();
        self.store.audit(
            "consent",
            "",
            &format!(
                "registered: {} added, {} updated",
                registered.added, registered.updated
            ),
            now,
        )?;
        Ok(Registered {
            added: registered.added,
            updated: registered.updated,
        })
    }

    /// Brings the cached accounts and the person's name in line with the server's.
    pub async fn sync_accounts(&self) -> Result<()> {
        let server = self.server().await?;
        let env = self.environment().await?;
        let me: api::Me = server.get("/v1/me").await?;
        let accounts: Vec<api::Account> = server.get("/v1/accounts").await?;
        let now = self.clock().now();
        self.store.set_person(env.id, Some(&me.name))?;
        for a in &accounts {
            let upsert = AccountDetails {
                fintech_use_num: a.fintech_use_num.clone(),
                bank_code: a.bank_code.clone(),
                bank_name: a.bank_name.clone(),
                alias: a.alias.clone(),
                account_num_masked: a.account_num_masked.clone(),
                holder_name: a.holder_name.clone(),
                account_type: a.account_type.clone(),
                inquiry_agreed_at: a.inquiry_agreed_at,
                transfer_agreed_at: a.transfer_agreed_at,
            };
            let (_, _added_or_updated): (i64, Upserted) =
                self.store.upsert_account(env.id, &upsert, now)?;
        }
        // What the server no longer lists leaves the dashboard; its history stays.
        for local in self.store.accounts(env.id)? {
            if !accounts
                .iter()
                .any(|a| a.fintech_use_num == local.details.fintech_use_num)
            {
                self.store.cancel_account(local.id, now)?;
            }
        }
        Ok(())
    }

    /// How the person's consent stands, so the app can warn ahead of its expiry and offer
    /// renewal. A device not linked to anyone yet has none.
    pub async fn consent_health(&self) -> Result<ConsentHealth> {
        let server = self.server().await?;
        match server.get::<api::Me>("/v1/me").await {
            Ok(me) => Ok(ConsentHealth {
                expires_at: me.consent.expires_at,
                days_left: me.consent.days_left,
                renew_soon: me.consent.renew_soon,
            }),
            Err(Error::Server(api::ErrorCode::NotLinked)) => Ok(ConsentHealth {
                expires_at: None,
                days_left: None,
                renew_soon: true,
            }),
            Err(e) => Err(e),
        }
    }

    /// Cancels an account's registration (at the center, through the server) and takes it off
    /// the dashboard; its history stays in the store.
    pub async fn cancel_account(&self, account_id: i64) -> Result<()> {
        let env = self.environment().await?;
        let account = self
            .store
            .account(account_id)?
            .filter(|a| a.environment_id == env.id && a.state == "active")
            .ok_or(Error::NoSuchAccount(account_id))?;
        self.server()
            .await?
            .call(
                Method::DELETE,
                &format!("/v1/accounts/{}", account.details.fintech_use_num),
            )
            .await?;
        let now = self.clock().now();
        self.store.cancel_account(account_id, now)?;
        self.store.audit(
            "consent",
            &account.details.account_num_masked,
            "account cancelled",
            now,
        )?;
        Ok(())
    }

    /// Signs the person out of this device: the server unlinks it (and, when it was their last
    /// device, ends their link with the institution), and their accounts leave the dashboard.
    pub async fn sign_out(&self) -> Result<()> {
        let env = self.environment().await?;
        let now = self.clock().now();
        match self
            .server()
            .await?
            .call(Method::POST, "/v1/sign-out")
            .await
        {
            // Not linked: signed out already.
            Ok(()) | Err(Error::Server(api::ErrorCode::NotLinked)) => {}
            Err(e) => return Err(e),
        }
        self.store.sign_out(env.id, now)?;
        self.store.audit("consent", "", "signed out", now)?;
        Ok(())
    }
}
