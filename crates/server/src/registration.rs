//! Registering accounts: the center's authorize URL with a single-use `state` and a PKCE
//! verifier bound to the device that asked, and the completion from the callback the app's
//! window intercepted — `state` checked against that device, the code exchanged with the
//! client secret, `user/me` read, the person made or found, the device linked to them.
//! Also the person's consent, cancelling an account, and signing out.

use chrono::TimeDelta;
use moa_openbanking::account::CancelRequest;
// KFTC's `yyyyMMddHHmmss` times are Korean time.
use moa_openbanking::clock::from_kst;
use moa_openbanking::user::UserRequest;
use moa_openbanking::{
    AuthorizeRequest, CallbackError, PkceVerifier, Scope, State, parse_callback,
};

use crate::api::{self, ErrorCode};
use crate::app::App;
use crate::auth::Device;
use crate::center::{CONSENT_WARNING, user_scopes};
use crate::error::{Error, Result};
use crate::store::AccountDetails;

/// How long a consent flow may take from opening the pages to the callback.
pub const PENDING_LIFE: TimeDelta = TimeDelta::minutes(10);

fn verifier_context(state: &str) -> String {
    format!("registrations.verifier:{state}")
}

/// The consent pages' URL for `device`.
pub async fn begin(
    app: &App,
    device: &Device,
    request: &api::BeginRegistration,
) -> Result<api::RegistrationStarted> {
    let settings = app.settings();
    let state = State::generate();
    let verifier = PkceVerifier::generate();
    let mut authorize = AuthorizeRequest::new(
        settings.client_id.clone(),
        settings.redirect_uri.clone(),
        user_scopes(),
        state.clone(),
    )
    .with_pkce(&verifier);
    authorize.lang = Some(match request.lang {
        api::Lang::Ko => moa_openbanking::Lang::Ko,
        api::Lang::En => moa_openbanking::Lang::En,
    });
    let base = app.center().client().base_url().clone();
    let url = if request.reconfirm {
        authorize.account_url(&base)
    } else {
        authorize.url(&base)
    };
    let sealed = settings
        .sealing_key
        .seal(
            verifier.expose_secret().as_bytes(),
            &verifier_context(state.as_str()),
        )
        .map_err(|_| Error::Seal)?;
    app.store()
        .begin_registration(
            state.as_str(),
            &device.record.id,
            &sealed,
            app.clock().now(),
        )
        .await?;
    Ok(api::RegistrationStarted {
        authorize_url: url.to_string(),
        redirect_uri: settings.redirect_uri.clone(),
    })
}

/// Finishes the device's consent flow from the callback URL.
pub async fn complete(
    app: &App,
    device: &Device,
    request: &api::CompleteRegistration,
) -> Result<api::Registered> {
    let now = app.clock().now();
    let settings = app.settings();
    let callback_url = url::Url::parse(&request.callback_url)
        .map_err(|_| Error::Refused(ErrorCode::RegistrationExpired))?;
    let expected =
        url::Url::parse(&settings.redirect_uri).map_err(|_| Error::Refused(ErrorCode::Internal))?;
    // Only the registered callback, exactly: scheme, host, port and path.
    if callback_url.origin() != expected.origin() || callback_url.path() != expected.path() {
        return Err(ErrorCode::RegistrationExpired.into());
    }
    let state = callback_url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .ok_or(ErrorCode::RegistrationExpired)?;
    let pending = app
        .store()
        .take_registration(&state)
        .await?
        .filter(|p| p.device_id == device.record.id && now - p.created_at < PENDING_LIFE)
        .ok_or(ErrorCode::RegistrationExpired)?;
    let verifier = settings
        .sealing_key
        .open(&pending.sealed_verifier, &verifier_context(&state))
        .map_err(|_| Error::Seal)?;
    let verifier = PkceVerifier::new(String::from_utf8(verifier).map_err(|_| Error::Seal)?);
    let callback = match parse_callback(request.callback_url.as_str(), &State::from_string(state)) {
        Ok(callback) => callback,
        Err(CallbackError::Refused { .. }) => {
            app.store()
                .audit(
                    "consent",
                    &device.record.id,
                    "refused on the center's pages",
                    now,
                )
                .await?;
            return Err(ErrorCode::ConsentRefused.into());
        }
        Err(_) => return Err(ErrorCode::RegistrationExpired.into()),
    };
    let center = app.center();
    let token = match center
        .exchange_code(&callback.code, &settings.redirect_uri, &verifier)
        .await
    {
        Err(Error::Refused(ErrorCode::ConsentRefused)) => {
            app.store()
                .audit(
                    "consent",
                    &device.record.id,
                    "the center's token lacks a scope asked for",
                    now,
                )
                .await?;
            return Err(ErrorCode::ConsentRefused.into());
        }
        other => other?,
    };
    let user_seq_no = token.user_seq_no.clone().ok_or(ErrorCode::CenterRefused)?;
    let me = center
        .client()
        .user_me(&token.user_token(), &user_seq_no)
        .await?;
    let person_id = app
        .store()
        .upsert_person(user_seq_no.as_str(), &me.user_name, now)
        .await?;
    center.keep_token(person_id, &token).await;
    app.store()
        .link_device(&device.record.id, person_id)
        .await?;
    let mut outcome = api::Registered {
        added: 0,
        updated: 0,
    };
    for account in &me.res_list {
        let upsert = AccountDetails {
            fintech_use_num: account.fintech_use_num.clone(),
            bank_code: account.bank_code_std.clone(),
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
                .map(from_kst),
            transfer_agreed_at: account
                .transfer_agree_dtime
                .filter(|_| account.transfer_agree_yn != Some(false))
                .map(from_kst),
        };
        if app.store().upsert_account(person_id, &upsert, now).await? {
            outcome.added += 1;
        } else {
            outcome.updated += 1;
        }
    }
    app.store()
        .audit(
            "consent",
            &device.record.id,
            &format!(
                "registered person {person_id}: {} added, {} updated",
                outcome.added, outcome.updated
            ),
            now,
        )
        .await?;
    Ok(outcome)
}

/// The person and their consent.
pub async fn me(app: &App, person_id: i64) -> Result<api::Me> {
    let person = app
        .store()
        .person(person_id)
        .await?
        .ok_or(ErrorCode::NotLinked)?;
    let now = app.clock().now();
    let expires_at = person.token_expires_at;
    Ok(api::Me {
        name: person.name,
        consent: api::Consent {
            expires_at,
            days_left: expires_at.map(|t| (t - now).num_days().max(0)),
            renew_soon: expires_at.is_none_or(|t| t - now < CONSENT_WARNING),
        },
    })
}

/// Cancels one of the person's accounts at the center (its inquiry and transfer consent) and
/// takes it off their list.
pub async fn cancel_account(app: &App, person_id: i64, fintech_use_num: &str) -> Result<()> {
    let account = app.active_account(person_id, fintech_use_num).await?;
    let fintech = account.details.fintech_use_num.clone();
    let center = app.center();
    let token = center.user_token(person_id).await?;
    let mut scopes = vec![Scope::Inquiry];
    if account.details.transfer_agreed_at.is_some() {
        scopes.push(Scope::Transfer);
    }
    for scope in scopes {
        let request = CancelRequest {
            bank_tran_id: center.next_bank_tran_id().await?,
            scope,
            fintech_use_num: fintech.clone(),
        };
        center.client().account_cancel(&token, &request).await?;
    }
    let now = app.clock().now();
    app.store().cancel_account(account.id, now).await?;
    app.store()
        .audit(
            "consent",
            &account.details.account_num_masked,
            "account cancelled",
            now,
        )
        .await?;
    Ok(())
}

/// Signs the device out: it is unlinked from the person. When no device of the person is left,
/// their link with the institution is ended at the center (when it can be reached), their
/// tokens are forgotten and their accounts leave the list.
pub async fn sign_out(app: &App, device: &Device) -> Result<()> {
    let person_id = device.person()?;
    let now = app.clock().now();
    let left = app
        .store()
        .unlink_device(&device.record.id, person_id)
        .await?;
    app.store()
        .audit("device", &device.record.id, "signed out", now)
        .await?;
    if left > 0 {
        return Ok(());
    }
    let center = app.center();
    if let (Ok(token), Some(person)) = (
        center.user_token(person_id).await,
        app.store().person(person_id).await?,
    ) && let Ok(user_seq_no) = moa_openbanking::UserSeqNo::parse(&person.user_seq_no)
    {
        let request = UserRequest {
            client_use_code: app.settings().client_use_code.clone(),
            user_seq_no,
        };
        // A center out of reach must not keep the person signed in here.
        if let Err(error) = center.client().user_unlink(&token, &request).await {
            app.store()
                .audit(
                    "consent",
                    "",
                    &format!(
                        "unlink at the center failed: {}",
                        crate::error::center_code(&error).as_str()
                    ),
                    now,
                )
                .await?;
        }
    }
    center.forget_token(person_id).await?;
    app.store().cancel_accounts_of(person_id, now).await?;
    app.store()
        .audit(
            "consent",
            "",
            &format!("person {person_id} signed out"),
            now,
        )
        .await?;
    Ok(())
}
