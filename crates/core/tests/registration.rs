//! Registering accounts through the center's real consent pages, by way of the sandbox's
//! moa-server: the app caches what the server lists and keeps one secret, its device key.

#![allow(clippy::unwrap_used)] // Helpers here fail the test that calls them.

mod common;

use std::sync::Arc;

use common::{Choice, DataDir};
use moa_core::{Error, MemoryVault, Moa, SecretKey, Vault};
use moa_openbanking::Lang;
use moa_server::api::{self, ErrorCode};

/// The vault entry of the sandbox's device key.
const DEVICE_KEY: SecretKey<'static> = SecretKey {
    environment: "sandbox",
    name: "device-key",
};

/// Every file of the app's own store (the database and its write-ahead log).
/// Whom moa-server knows the app's device as.
async fn server_me(moa: &Moa) -> Result<api::Me, Error> {
    let server = moa.server().await.expect("the app's server");
    server.get("/v1/me").await
}

/// The accounts moa-server holds for the app's person.
async fn server_accounts(moa: &Moa) -> Vec<api::Account> {
    let server = moa.server().await.expect("the app's server");
    server
        .get("/v1/accounts")
        .await
        .expect("the server's accounts")
}

fn store_files(dir: &DataDir) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&dir.0).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_string_lossy().starts_with("moa.db") {
            bytes.extend(std::fs::read(entry.path()).unwrap());
        }
    }
    bytes
}

#[tokio::test]
async fn registering_through_the_pages_caches_the_accounts_and_the_app_holds_no_kftc_token() {
    let dir = DataDir::new("register");
    let (moa, vault) = common::open(&dir).await;
    let env = moa.environment().await.unwrap();
    assert!(moa.store().accounts(env.id).unwrap().is_empty());
    let registered = common::register(&moa, 0, &[0, 1, 2]).await;
    assert_eq!((registered.added, registered.updated), (3, 0));
    let accounts = moa.store().accounts(env.id).unwrap();
    assert_eq!(accounts.len(), 3);
    assert!(
        accounts.iter().all(
            |a| a.details.fintech_use_num.len() == 24 && a.details.transfer_agreed_at.is_some()
        )
    );
    let env = moa.environment().await.unwrap();
    assert_eq!(env.user_name.as_deref(), Some("홍길동"));

    // The vault holds the device's key and the token bound to it, and nothing else.
    assert_eq!(vault.len(), 1, "one entry: the device key");
    let stored = vault.get(DEVICE_KEY).unwrap().expect("the device key");
    let device: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&stored).expect("the device entry is a JSON object");
    let mut fields: Vec<&str> = device.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["key", "token"]);
    let device_token = device["token"].as_str().expect("a device token");
    assert!(
        !device_token.is_empty() && !device_token.contains('.'),
        "the device's token is the server's, not a center's JWT"
    );
    // The center's tokens stay with the server: none of them reached the vault.
    let kftc = common::kftc_tokens(&dir);
    assert!(
        kftc.len() >= 2 && kftc.iter().all(|t| t.contains('.')),
        "the server holds the person's access and refresh tokens (JWTs)"
    );
    for token in &kftc {
        assert!(
            !stored.contains(token.as_str()),
            "a KFTC token reached the vault"
        );
    }

    moa.close().await;
    drop(moa);
    let file = store_files(&dir);
    assert!(!file.is_empty());
    for token in kftc.iter().map(String::as_str).chain([device_token]) {
        assert!(
            !common::contains(&file, token.as_bytes()),
            "a token reached the store"
        );
    }
}

#[tokio::test]
async fn registering_again_adds_and_updates_but_never_duplicates() {
    let dir = DataDir::new("again");
    let (moa, _) = common::open(&dir).await;
    common::register(&moa, 0, &[0, 1]).await;
    let again = common::register(&moa, 0, &[1, 2]).await;
    assert_eq!(
        (again.added, again.updated),
        (1, 2),
        "user/me lists every registered account"
    );
    let env = moa.environment().await.unwrap();
    let accounts = moa.store().accounts(env.id).unwrap();
    assert_eq!(accounts.len(), 3);
    let mut fintech: Vec<_> = accounts
        .iter()
        .map(|a| &a.details.fintech_use_num)
        .collect();
    fintech.sort();
    fintech.dedup();
    assert_eq!(fintech.len(), 3, "each account once");
    let listed = server_accounts(&moa).await;
    assert_eq!(listed.len(), 3, "the server agrees");
}

#[tokio::test]
async fn a_refusal_or_a_forged_callback_leaves_everything_as_it_was() {
    let dir = DataDir::new("refuse");
    let (moa, vault) = common::open(&dir).await;
    let start = moa.begin_registration(false, Lang::En).await.unwrap();
    assert!(start.url.contains("lang=eng"), "{}", start.url);
    assert!(start.url.contains("code_challenge="), "PKCE is sent");
    let callback = common::consent(&moa, &start.url, 0, Choice::Refuse).await;
    let refused = moa.complete_registration(&callback).await.unwrap_err();
    assert!(
        matches!(refused, Error::Server(ErrorCode::ConsentRefused)),
        "{refused:?}"
    );
    assert_eq!(refused.code(), "consent_refused");
    // The same state again, or a state nobody issued, is refused.
    let again = moa.complete_registration(&callback).await.unwrap_err();
    assert!(
        matches!(again, Error::Server(ErrorCode::RegistrationExpired)),
        "{again:?}"
    );
    let forged = "http://127.0.0.1/callback?code=abc&scope=login&state=forged";
    assert_eq!(
        moa.complete_registration(forged).await.unwrap_err().code(),
        "registration_expired"
    );
    let env = moa.environment().await.unwrap();
    assert!(moa.store().accounts(env.id).unwrap().is_empty());
    assert_eq!(env.user_name, None);
    assert_eq!(vault.len(), 1, "only the device key");
    assert!(common::kftc_tokens(&dir).is_empty(), "no token was issued");
    let me = server_me(&moa)
        .await
        .expect_err("moa-server knows no person");
    assert_eq!(
        me.code(),
        "not_registered",
        "the device is linked to nobody"
    );
}

#[tokio::test]
async fn a_restart_with_the_same_vault_is_the_same_device_and_a_new_vault_is_not() {
    let dir = DataDir::new("restart");
    let vault = Arc::new(MemoryVault::new());
    let moa = Moa::open(common::options(&dir, vault.clone()))
        .await
        .unwrap();
    common::register(&moa, 1, &[0, 1]).await;
    let device = vault.get(DEVICE_KEY).unwrap().expect("the device key");
    let (_, manifest) = moa.sandbox().await.unwrap();
    let name = manifest.users[1].user_name.clone();
    moa.close().await;
    drop(moa);

    let moa = Moa::open(common::options(&dir, vault.clone()))
        .await
        .unwrap();
    assert_eq!(
        vault.get(DEVICE_KEY).unwrap().as_deref(),
        Some(device.as_str()),
        "the device was not enrolled again"
    );
    let env = moa.environment().await.unwrap();
    assert_eq!(moa.store().accounts(env.id).unwrap().len(), 2);
    // The restarted server (on a new port) knows the device and its person, without a new
    // registration, and their tokens still work at the center.
    let server = moa.server().await.unwrap();
    let me: api::Me = server.get("/v1/me").await.unwrap();
    assert_eq!(me.name, name);
    let listed = server_accounts(&moa).await;
    assert_eq!(listed.len(), 2);
    let refreshed = moa.refresh_balances(None).await.unwrap();
    assert_eq!((refreshed.total, refreshed.fresh), (2, 2), "{refreshed:?}");
    moa.close().await;
    drop(moa);

    // Another vault is another device: enrolled anew, linked to nobody.
    let other = Arc::new(MemoryVault::new());
    let moa = Moa::open(common::options(&dir, other.clone()))
        .await
        .unwrap();
    assert_ne!(
        other.get(DEVICE_KEY).unwrap().as_deref(),
        Some(device.as_str())
    );
    let me = server_me(&moa)
        .await
        .expect_err("moa-server knows no person");
    assert!(matches!(me, Error::Server(ErrorCode::NotLinked)), "{me:?}");
    moa.close().await;
}

#[tokio::test]
async fn cancelling_an_account_ends_it_at_the_server_and_the_center_and_on_the_dashboard() {
    let dir = DataDir::new("cancel");
    let (moa, _) = common::open(&dir).await;
    common::register(&moa, 0, &[0, 1]).await;
    let env = moa.environment().await.unwrap();
    let accounts = moa.store().accounts(env.id).unwrap();
    moa.cancel_account(accounts[0].id).await.unwrap();
    let left = moa.store().accounts(env.id).unwrap();
    assert_eq!(
        left.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![accounts[1].id]
    );
    // The server agrees, and so does the center.
    let listed = server_accounts(&moa).await;
    assert_eq!(
        listed
            .iter()
            .map(|a| a.fintech_use_num.as_str())
            .collect::<Vec<_>>(),
        vec![accounts[1].details.fintech_use_num.as_str()]
    );
    let center = rusqlite::Connection::open_with_flags(
        dir.0.join("sandbox-center.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let state = |fintech: &str| -> String {
        center
            .query_row(
                "SELECT state FROM registrations WHERE fintech_use_num = ?1",
                [fintech],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(
        state(&accounts[0].details.fintech_use_num),
        "09",
        "cancelled"
    );
    assert_eq!(state(&accounts[1].details.fintech_use_num), "01", "in use");
    assert!(matches!(
        moa.cancel_account(accounts[0].id).await,
        Err(Error::NoSuchAccount(_))
    ));
    // Syncing the accounts does not bring it back.
    moa.sync_accounts().await.unwrap();
    assert_eq!(moa.store().accounts(env.id).unwrap().len(), 1);
}

#[tokio::test]
async fn signing_out_clears_the_dashboard_and_the_servers_tokens_but_keeps_the_device() {
    let dir = DataDir::new("signout");
    let (moa, vault) = common::open(&dir).await;
    common::register(&moa, 0, &[0]).await;
    let health = moa.consent_health().await.unwrap();
    assert_eq!(
        health.days_left,
        Some(89),
        "90 days less a second, counted in whole days"
    );
    assert!(health.expires_at.is_some() && !health.renew_soon);
    let device = vault.get(DEVICE_KEY).unwrap();

    moa.sign_out().await.unwrap();
    let env = moa.environment().await.unwrap();
    assert!(moa.store().accounts(env.id).unwrap().is_empty());
    assert_eq!(env.user_name, None);
    assert!(
        common::kftc_tokens(&dir).is_empty(),
        "the server forgot them"
    );
    let me = server_me(&moa)
        .await
        .expect_err("moa-server knows no person");
    assert_eq!(me.code(), "not_registered");
    let health = moa.consent_health().await.unwrap();
    assert!(health.renew_soon && health.expires_at.is_none() && health.days_left.is_none());
    assert_eq!(vault.get(DEVICE_KEY).unwrap(), device, "the device stays");
    // Signing out twice is fine.
    moa.sign_out().await.unwrap();

    // Registering again brings the person back.
    let back = common::register(&moa, 0, &[0]).await;
    assert_eq!(back.added + back.updated, 1);
    assert_eq!(moa.store().accounts(env.id).unwrap().len(), 1);
    assert_eq!(
        moa.environment().await.unwrap().user_name.as_deref(),
        Some("홍길동")
    );
}
