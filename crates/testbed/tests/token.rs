//! `POST /oauth/2.0/token`: the three grants, their answers and their refusals.

mod common;

use chrono::TimeDelta;
use common::{CALLBACK, jwt_claims, pkce, refused_in_case, refused_with};
use serde_json::{Value, json};

#[tokio::test]
async fn an_authorization_code_exchange_answers_like_kftc() {
    let bed = common::spawn().await;
    let code = bed.code(0, 0, &[0]).await;
    let answer = bed.exchange_raw(0, &code).await;
    assert!(
        answer.get("rsp_code").is_none(),
        "a successful token answer has no rsp_code: {answer}"
    );
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["expires_in"], 7_775_999);
    assert_eq!(answer["scope"], "inquiry login transfer");
    let user_seq_no = answer["user_seq_no"].as_str().unwrap();
    assert_eq!(user_seq_no.len(), 10);
    assert!(user_seq_no.bytes().all(|b| b.is_ascii_digit()));

    let now = bed.spawned.testbed.clock().now().timestamp();
    let access = jwt_claims(answer["access_token"].as_str().unwrap());
    assert_eq!(access["iss"], "https://www.openbanking.or.kr");
    assert_eq!(access["aud"], user_seq_no);
    assert_eq!(access["scope"], json!(["inquiry", "login", "transfer"]));
    assert!(uuid::Uuid::parse_str(access["jti"].as_str().unwrap()).is_ok());
    let exp = access["exp"].as_i64().unwrap();
    assert!(
        (exp - (now + 7_775_999)).abs() <= 5,
        "exp {exp} is now + 7775999"
    );
    let refresh = jwt_claims(answer["refresh_token"].as_str().unwrap());
    assert_eq!(refresh["exp"].as_i64().unwrap() - exp, 10 * 24 * 3600);
    assert_ne!(refresh["jti"], access["jti"]);
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            answer["access_token"]
                .as_str()
                .unwrap()
                .split('.')
                .next()
                .unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "HS256");
}

#[tokio::test]
async fn a_code_is_single_use() {
    let bed = common::spawn().await;
    let code = bed.code(0, 0, &[0]).await;
    bed.assert_exchanges(0, &code).await;
    refused_with(&bed.exchange_raw(0, &code).await, "3002110");
}

#[tokio::test]
async fn a_code_is_dead_after_ten_minutes() {
    let bed = common::spawn().await;
    let code = bed.code(0, 0, &[0]).await;
    bed.spawned
        .testbed
        .clock()
        .set_offset(TimeDelta::minutes(11));
    refused_with(&bed.exchange_raw(0, &code).await, "3002110");
}

#[tokio::test]
async fn a_code_belongs_to_the_institution_it_was_issued_to() {
    let bed = common::spawn().await;
    let code = bed.code(0, 0, &[0]).await;
    refused_with(&bed.exchange_raw(1, &code).await, "3002110");
    // The attempt did not spend it.
    bed.assert_exchanges(0, &code).await;
}

#[tokio::test]
async fn a_redirect_uri_other_than_the_authorized_one_is_refused() {
    let bed = common::spawn().await;
    let code = bed.code(0, 0, &[0]).await;
    let answer = bed
        .exchange_as(0, &code, "http://127.0.0.1:9/callback", None)
        .await;
    refused_with(&answer, "3000114");
}

#[tokio::test]
async fn pkce_verifier_must_match_the_challenge_and_must_be_sent() {
    let bed = common::spawn().await;
    let (verifier, challenge) = pkce();
    let mut body = bed.sandbox_body(0, 0, &[0], "login inquiry");
    body["code_challenge"] = json!(challenge);
    let code = bed.sandbox_code(body).await;
    refused_with(
        &bed.exchange_as(0, &code, CALLBACK, Some(&format!("{verifier}x")))
            .await,
        "3002110",
    );
    refused_with(&bed.exchange_as(0, &code, CALLBACK, None).await, "3000103");
    let answer = bed.exchange_as(0, &code, CALLBACK, Some(&verifier)).await;
    assert!(answer.get("access_token").is_some(), "{answer}");
    assert_eq!(answer["scope"], "inquiry login");
}

#[tokio::test]
async fn bad_client_credentials_are_refused_with_3000201() {
    let bed = common::spawn().await;
    let code = bed.code(0, 0, &[0]).await;
    let i = bed.institution(0).clone();
    let other = bed.institution(1).clone();
    for (id, secret) in [
        (i.client_id.as_str(), "wrong"),
        (i.client_id.as_str(), other.client_secret.as_str()),
        ("nobody", i.client_secret.as_str()),
    ] {
        let answer = bed
            .token_form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", id),
                ("client_secret", secret),
                ("redirect_uri", CALLBACK),
            ])
            .await;
        refused_with(&answer, "3000201");
    }
    bed.assert_exchanges(0, &code).await;
}

#[tokio::test]
async fn a_missing_or_doubled_field_is_refused_with_3000103() {
    let bed = common::spawn().await;
    let code = bed.code(0, 0, &[0]).await;
    let i = bed.institution(0).clone();
    let full = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", i.client_id.as_str()),
        ("client_secret", i.client_secret.as_str()),
        ("redirect_uri", CALLBACK),
    ];
    for missing in [
        "grant_type",
        "code",
        "client_id",
        "client_secret",
        "redirect_uri",
    ] {
        let fields: Vec<(&str, &str)> = full
            .iter()
            .copied()
            .filter(|(k, _)| *k != missing)
            .collect();
        refused_with(&bed.token_form(&fields).await, "3000103");
    }
    let mut doubled = full.to_vec();
    doubled.push(("code", "again"));
    refused_with(&bed.token_form(&doubled).await, "3000103");
    let mut unknown_grant = full.to_vec();
    unknown_grant[0] = ("grant_type", "password");
    refused_with(&bed.token_form(&unknown_grant).await, "3000103");
    bed.assert_exchanges(0, &code).await;
}

#[tokio::test]
async fn a_token_request_that_is_not_a_form_is_refused_with_3000103() {
    let bed = common::spawn().await;
    let code = bed.code(0, 0, &[0]).await;
    let i = bed.institution(0).clone();
    let as_json = json!({
        "grant_type": "authorization_code",
        "code": code,
        "client_id": i.client_id,
        "client_secret": i.client_secret,
        "redirect_uri": CALLBACK,
    });
    for (case, body) in [("a JSON body", Some(&as_json)), ("no body", None)] {
        let mut request = bed.http.post(bed.url("/oauth/2.0/token"));
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        refused_in_case(case, &answer, "3000103");
    }
    bed.assert_exchanges(0, &code).await;
}

#[tokio::test]
async fn a_refresh_issues_a_new_pair_and_retires_the_old_one() {
    let bed = common::spawn().await;
    let old = bed.user(0, 0, &[0]).await;
    let answer = bed
        .refresh_raw(0, &old.refresh_token, "login inquiry transfer")
        .await;
    assert!(answer.get("rsp_code").is_none(), "{answer}");
    let new = bed.user_from(0, &answer);
    assert_eq!(new.user_seq_no, old.user_seq_no);
    assert_eq!(new.scope, "inquiry login transfer");
    assert_ne!(new.access_token, old.access_token);
    assert_ne!(new.refresh_token, old.refresh_token);

    assert_eq!(bed.user_me(&new).await["rsp_code"], "A0000");
    assert_eq!(bed.user_me(&old).await["rsp_code"], "O0002");
    let again = bed
        .refresh_raw(0, &old.refresh_token, "login inquiry transfer")
        .await;
    refused_with(&again, "3002110");
}

#[tokio::test]
async fn a_refresh_may_narrow_the_scope_but_not_widen_it() {
    let bed = common::spawn().await;
    let mut body = bed.sandbox_body(0, 0, &[0], "login inquiry");
    body["transfer_agree"] = json!("N");
    let code = bed.sandbox_code(body).await;
    let user = bed.user_from(0, &bed.exchange_raw(0, &code).await);
    let widened = bed
        .refresh_raw(0, &user.refresh_token, "login inquiry transfer")
        .await;
    refused_with(&widened, "3000115");
    let narrowed = bed.refresh_raw(0, &user.refresh_token, "inquiry").await;
    assert_eq!(narrowed["scope"], "inquiry", "{narrowed}");
    // A refresh token of another institution is not this institution's to use.
    let other = bed.user(1, 0, &[0]).await;
    let foreign = bed.refresh_raw(0, &other.refresh_token, "login").await;
    refused_with(&foreign, "3002110");
}

#[tokio::test]
async fn client_credentials_with_oob_issue_an_institution_token() {
    let bed = common::spawn().await;
    let i = bed.institution(1).clone();
    let answer = bed.client_credentials_raw(1, "oob").await;
    assert!(answer.get("rsp_code").is_none(), "{answer}");
    assert_eq!(answer["client_use_code"], i.client_use_code);
    assert_eq!(answer["scope"], "oob");
    assert_eq!(answer["expires_in"], 7_775_999);
    assert!(answer.get("refresh_token").is_none());
    assert!(answer.get("user_seq_no").is_none());
    let claims = jwt_claims(answer["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], i.client_use_code);
    assert_eq!(claims["scope"], json!(["oob"]));
    assert_eq!(claims["iss"], "https://www.openbanking.or.kr");
}

#[tokio::test]
async fn client_credentials_with_a_user_scope_are_refused_with_3000103() {
    let bed = common::spawn().await;
    for scope in ["inquiry", "transfer", "login", "oob inquiry"] {
        let answer = bed.client_credentials_raw(0, scope).await;
        refused_in_case(scope, &answer, "3000103");
    }
}

#[tokio::test]
async fn an_access_token_expires_after_ninety_days_and_its_refresh_token_ten_days_later() {
    let bed = common::spawn().await;
    let user = bed.user(0, 0, &[0]).await;
    let idle = bed.user(0, 1, &[0]).await;
    let oob = bed.oob_token(0).await;
    let clock = bed.spawned.testbed.clock();
    clock.set_offset(TimeDelta::days(89));
    assert_eq!(bed.user_me(&user).await["rsp_code"], "A0000");
    clock.set_offset(TimeDelta::days(91));
    assert_eq!(bed.user_me(&user).await["rsp_code"], "O0003");
    assert_eq!(
        bed.get("/v2.0/bank/status", &oob, &[]).await["rsp_code"],
        "O0003"
    );
    // The refresh token lives ten days longer, and brings the person back.
    let all = "login inquiry transfer";
    let renewed = bed.user_from(0, &bed.refresh_raw(0, &user.refresh_token, all).await);
    assert_eq!(bed.user_me(&renewed).await["rsp_code"], "A0000");
    clock.set_offset(TimeDelta::days(101));
    refused_with(
        &bed.refresh_raw(0, &idle.refresh_token, all).await,
        "3002110",
    );
}
