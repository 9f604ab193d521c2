//! Registering accounts through the center's real consent pages.

mod common;

use common::{Choice, DataDir};
use moa_core::{Error, SecretKey, Vault};
use moa_openbanking::Lang;

#[tokio::test]
async fn registering_through_the_pages_saves_the_accounts_and_keeps_tokens_in_the_vault() {
    let dir = DataDir::new("register");
    let (moa, vault) = common::open(&dir).await;
    let env = moa.environment().await.unwrap();
    assert!(moa.store().accounts(env.id).unwrap().is_empty());
    let registered = common::register(&moa, 0, &[0, 1, 2]).await;
    assert_eq!((registered.added, registered.updated), (3, 0));
    let accounts = moa.store().accounts(env.id).unwrap();
    assert_eq!(accounts.len(), 3);
    assert!(
        accounts
            .iter()
            .all(|a| a.fintech_use_num.len() == 24 && a.transfer_agreed_at.is_some())
    );
    let env = moa.environment().await.unwrap();
    assert_eq!(env.user_name.as_deref(), Some("홍길동"));
    // Tokens are in the vault, not in the store's file.
    assert!(
        vault
            .get(SecretKey {
                environment: "sandbox",
                name: "user-token"
            })
            .unwrap()
            .is_some()
    );
    let center = moa.center().await.unwrap();
    let token = center.user_token().await.unwrap();
    drop(moa);
    let file = std::fs::read(dir.0.join("moa.db")).unwrap();
    let needle = token.expose_secret().as_bytes();
    assert!(
        !file.windows(needle.len()).any(|w| w == needle),
        "a token reached the store"
    );
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
    assert_eq!(moa.store().accounts(env.id).unwrap().len(), 3);
}

#[tokio::test]
async fn a_refusal_or_a_forged_callback_leaves_everything_as_it_was() {
    let dir = DataDir::new("refuse");
    let (moa, vault) = common::open(&dir).await;
    let start = moa.begin_registration(false, Lang::En).await.unwrap();
    assert!(start.url.contains("lang=eng"), "{}", start.url);
    assert!(start.url.contains("code_challenge="), "PKCE is sent");
    let callback = common::consent(&moa, &start.url, 0, Choice::Refuse).await;
    assert!(matches!(
        moa.complete_registration(&callback).await,
        Err(Error::ConsentRefused(_))
    ));
    // The same state again, or a state nobody issued, is refused.
    assert!(matches!(
        moa.complete_registration(&callback).await,
        Err(Error::RegistrationExpired)
    ));
    let forged = "http://127.0.0.1/callback?code=abc&scope=login&state=forged";
    assert!(matches!(
        moa.complete_registration(forged).await,
        Err(Error::RegistrationExpired)
    ));
    let env = moa.environment().await.unwrap();
    assert!(moa.store().accounts(env.id).unwrap().is_empty());
    assert!(
        vault
            .get(SecretKey {
                environment: "sandbox",
                name: "user-token"
            })
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn the_sandbox_and_registrations_survive_a_restart() {
    let dir = DataDir::new("restart");
    let vault = std::sync::Arc::new(moa_core::MemoryVault::new());
    let moa = moa_core::Moa::open(common::options(&dir, vault.clone()))
        .await
        .unwrap();
    common::register(&moa, 1, &[0, 1]).await;
    moa.close().await;
    drop(moa);
    let moa = moa_core::Moa::open(common::options(&dir, vault))
        .await
        .unwrap();
    let env = moa.environment().await.unwrap();
    assert_eq!(moa.store().accounts(env.id).unwrap().len(), 2);
    // The tokens still work against the restarted center (on a new port).
    let center = moa.center().await.unwrap();
    let token = center.user_token().await.unwrap();
    let me = center
        .client()
        .user_me(&token, &center.user_seq_no().await.unwrap())
        .await
        .unwrap();
    assert_eq!(me.res_list.len(), 2);
}

#[tokio::test]
async fn cancelling_an_account_ends_it_at_the_center_and_on_the_dashboard() {
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
    // The center agrees: user/me lists one account.
    let center = moa.center().await.unwrap();
    let token = center.user_token().await.unwrap();
    let me = center
        .client()
        .user_me(&token, &center.user_seq_no().await.unwrap())
        .await
        .unwrap();
    assert_eq!(me.res_list.len(), 1);
    assert!(matches!(
        moa.cancel_account(accounts[0].id).await,
        Err(Error::NoSuchAccount(_))
    ));
}

#[tokio::test]
async fn signing_out_removes_the_tokens_and_the_accounts() {
    let dir = DataDir::new("signout");
    let (moa, vault) = common::open(&dir).await;
    common::register(&moa, 0, &[0]).await;
    let health = moa.consent_health().await.unwrap();
    assert_eq!(
        health.days_left,
        Some(89),
        "90 days less a second, counted in whole days"
    );
    assert!(!health.renew_soon);
    moa.sign_out().await.unwrap();
    assert!(
        vault
            .get(SecretKey {
                environment: "sandbox",
                name: "user-token"
            })
            .unwrap()
            .is_none()
    );
    let env = moa.environment().await.unwrap();
    assert!(moa.store().accounts(env.id).unwrap().is_empty());
    assert_eq!(env.user_seq_no, None);
    assert!(matches!(
        moa.center().await.unwrap().user_token().await,
        Err(Error::NotRegistered)
    ));
    let health = moa.consent_health().await.unwrap();
    assert!(health.renew_soon && health.expires_at.is_none());
    // Registering again brings the person back.
    assert_eq!(
        common::register(&moa, 0, &[0]).await.updated + common::register(&moa, 0, &[0]).await.added,
        1
    );
}
