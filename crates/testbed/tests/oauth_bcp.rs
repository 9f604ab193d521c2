//! The token endpoint held to the OAuth 2.0 Security Best Current Practice (RFC 9700): a code
//! replayed revokes what it issued, a rotated refresh token reused revokes its whole family, and
//! a public client must use PKCE.

mod common;

use common::{Bed, CALLBACK, User, pkce, refused_with};

/// The scope every refresh here asks for.
const ALL: &str = "login inquiry transfer";
use reqwest::StatusCode;
use serde_json::json;

/// The center's answer to an API call with the user's access token: `A0000` while it holds,
/// `O0002` once it is revoked.
async fn me(bed: &Bed, user: &User) -> String {
    bed.user_me(user).await["rsp_code"]
        .as_str()
        .expect("rsp_code")
        .to_owned()
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_the_tokens_it_issued() {
    let bed = common::spawn().await;
    let code = bed.code(0, 0, &[0]).await;
    let user = bed.user_from(0, &bed.exchange_raw(0, &code).await);
    // Another grant of the same person, which the replay must not touch.
    let other = bed.user(0, 0, &[0]).await;
    assert_eq!(me(&bed, &user).await, "A0000");

    refused_with(&bed.exchange_raw(0, &code).await, "3002110");

    assert_eq!(
        me(&bed, &user).await,
        "O0002",
        "the access token is revoked"
    );
    refused_with(
        &bed.refresh_raw(0, &user.refresh_token, ALL).await,
        "3002110",
    );
    assert_eq!(me(&bed, &other).await, "A0000", "another grant still holds");
    let renewed = bed.refresh_raw(0, &other.refresh_token, ALL).await;
    assert!(renewed.get("access_token").is_some(), "{renewed}");
}

#[tokio::test]
async fn a_replayed_code_also_revokes_the_tokens_renewed_from_it() {
    let bed = common::spawn().await;
    let code = bed.code(0, 1, &[0]).await;
    let first = bed.user_from(0, &bed.exchange_raw(0, &code).await);
    let renewed = bed.user_from(0, &bed.refresh_raw(0, &first.refresh_token, ALL).await);
    assert_eq!(me(&bed, &renewed).await, "A0000");

    refused_with(&bed.exchange_raw(0, &code).await, "3002110");

    assert_eq!(me(&bed, &renewed).await, "O0002");
    refused_with(
        &bed.refresh_raw(0, &renewed.refresh_token, ALL).await,
        "3002110",
    );
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let bed = common::spawn().await;
    let first = bed.user(0, 0, &[0]).await;
    let other = bed.user(0, 0, &[0]).await;
    let second = bed.user_from(0, &bed.refresh_raw(0, &first.refresh_token, ALL).await);
    let third = bed.user_from(0, &bed.refresh_raw(0, &second.refresh_token, ALL).await);
    assert_ne!(
        third.refresh_token, second.refresh_token,
        "refresh tokens rotate"
    );
    assert_eq!(me(&bed, &third).await, "A0000");

    // The first refresh token, spent two rotations ago, comes back.
    refused_with(
        &bed.refresh_raw(0, &first.refresh_token, ALL).await,
        "3002110",
    );

    assert_eq!(me(&bed, &third).await, "O0002", "the current access token");
    refused_with(
        &bed.refresh_raw(0, &third.refresh_token, ALL).await,
        "3002110",
    );
    assert_eq!(me(&bed, &other).await, "A0000", "another grant still holds");
}

#[tokio::test]
async fn a_refresh_token_presented_by_another_institution_revokes_nothing() {
    let bed = common::spawn().await;
    let first = bed.user(0, 0, &[0]).await;
    let second = bed.user_from(0, &bed.refresh_raw(0, &first.refresh_token, ALL).await);
    // Not this institution's token: refused, and its owner's family is left alone.
    refused_with(
        &bed.refresh_raw(1, &first.refresh_token, ALL).await,
        "3002110",
    );
    assert_eq!(me(&bed, &second).await, "A0000");
}

async fn authorize_page(bed: &Bed, challenge: Option<&str>) -> (StatusCode, String) {
    let i = bed.institution(1);
    let mut query = vec![
        ("response_type", "code".to_owned()),
        ("client_id", i.client_id.clone()),
        ("redirect_uri", CALLBACK.to_owned()),
        ("scope", "login inquiry".to_owned()),
        ("state", "0123456789abcdef0123456789abcdef".to_owned()),
        ("auth_type", "0".to_owned()),
    ];
    if let Some(challenge) = challenge {
        query.push(("code_challenge", challenge.to_owned()));
        query.push(("code_challenge_method", "S256".to_owned()));
    }
    let response = bed.authorize_page(&query).await;
    let status = response.status();
    (status, response.text().await.expect("text"))
}

#[tokio::test]
async fn a_public_institution_must_send_a_code_challenge_to_authorize() {
    let bed = common::spawn().await;
    let (_, challenge) = pkce();
    // Confidential, as seeded: a challenge is optional.
    assert_eq!(authorize_page(&bed, None).await.0, StatusCode::OK);

    bed.admin
        .set_institution_public(&bed.code_of(1), true)
        .await;
    let (status, html) = authorize_page(&bed, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("O0001"), "{html}");
    assert!(html.contains("[3000103]"), "{html}");
    assert!(
        html.contains("code_challenge"),
        "the page says what is missing: {html}"
    );
    assert!(!html.contains("name=\"session\""), "no session is opened");
    assert_eq!(
        authorize_page(&bed, Some(&challenge)).await.0,
        StatusCode::OK
    );

    // The sandbox shortcut holds the same line.
    let answer = bed
        .sandbox_authorize_raw(bed.sandbox_body(1, 0, &[0], "login inquiry"))
        .await;
    refused_with(&answer, "3000103");
    assert!(answer.get("code").is_none(), "{answer}");
}

#[tokio::test]
async fn a_public_institution_must_prove_the_code_is_its_own_with_the_verifier() {
    let bed = common::spawn().await;
    bed.admin
        .set_institution_public(&bed.code_of(1), true)
        .await;
    let (verifier, challenge) = pkce();
    let mut body = bed.sandbox_body(1, 0, &[0], "login inquiry");
    body["code_challenge"] = json!(challenge);
    let answer = bed.sandbox_authorize_raw(body).await;
    let code = answer["code"]
        .as_str()
        .unwrap_or_else(|| panic!("a code: {answer}"))
        .to_owned();
    refused_with(&bed.exchange_as(1, &code, CALLBACK, None).await, "3000103");
    let (other_verifier, _) = pkce();
    refused_with(
        &bed.exchange_as(1, &code, CALLBACK, Some(&other_verifier))
            .await,
        "3002110",
    );
    let answer = bed.exchange_as(1, &code, CALLBACK, Some(&verifier)).await;
    assert!(answer.get("access_token").is_some(), "{answer}");
}

#[tokio::test]
async fn a_code_issued_without_a_challenge_is_not_a_public_institutions_to_exchange() {
    let bed = common::spawn().await;
    // Issued while the institution was confidential, so without a challenge.
    let code = bed.code(1, 0, &[0]).await;
    bed.admin
        .set_institution_public(&bed.code_of(1), true)
        .await;
    refused_with(&bed.exchange_raw(1, &code).await, "3002110");
    bed.admin
        .set_institution_public(&bed.code_of(1), false)
        .await;
    let answer = bed.exchange_raw(1, &code).await;
    assert!(
        answer.get("access_token").is_some(),
        "the refusal did not spend the code: {answer}"
    );
}
