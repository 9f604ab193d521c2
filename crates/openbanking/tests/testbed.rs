//! The client against a real local open banking center (`moa-testbed`) over HTTP: every endpoint
//! the testbed serves, with its success and its main refusals.

mod common;

use std::collections::HashSet;
use std::fmt::Debug;

use chrono::{Duration, NaiveDate};
use futures_util::StreamExt;
use moa_openbanking::account::{
    AccountListRequest, BalanceRequest, CancelRequest, TransactionQuery, UpdateInfoRequest,
};
use moa_openbanking::fields::{AccountHolderInfoType, AccountState, BankStatus, SortOrder};
use moa_openbanking::inquiry::RealNameRequest;
use moa_openbanking::user::UserRequest;
use moa_openbanking::*;

use common::{Center, REDIRECT_URI, center_code};

/// The center's refusal of a call it must refuse.
async fn refusal<T: Debug>(call: impl Future<Output = Result<T, Error>>) -> Error {
    call.await.expect_err("the center should refuse this call")
}

/// A person of `institution` through consent: their token and their user number.
async fn person(c: &Center, institution: usize, user: usize) -> (Token, UserSeqNo) {
    let token = c.user_token(institution, user).await;
    let user = token
        .user_seq_no
        .clone()
        .expect("a user token names its user");
    (token, user)
}

/// What the center answers of a person (`user/me`).
async fn me(c: &Center, token: &Token, user: &UserSeqNo) -> moa_openbanking::user::UserInfo {
    c.client
        .user_me(&token.user_token(), user)
        .await
        .expect("user/me")
}

/// A balance inquiry of `account` under `id`.
fn balance_of(id: BankTranId, account: &moa_openbanking::user::Account) -> BalanceRequest {
    BalanceRequest {
        bank_tran_id: id,
        fintech_use_num: account.fintech_use_num.clone(),
    }
}

// ---- OAuth -------------------------------------------------------------------------------

#[tokio::test]
async fn consent_with_pkce_yields_user_tokens_that_live_ninety_days() {
    let c = Center::start().await;
    let token = c.user_token(0, 0).await;
    assert!(token.refresh_token.is_some());
    assert!(token.user_seq_no.is_some());
    for s in [Scope::Login, Scope::Inquiry, Scope::Transfer] {
        assert!(token.scope.contains(&s), "{s} missing from {}", token.scope);
    }
    assert_eq!(
        token.expires_at - token.issued_at,
        Duration::seconds(7_775_999)
    );
    assert!(!format!("{token:?}").contains(token.access_token.expose_secret()));
}

/// A code exchange broken in one way, and how the center refuses it (what is checked: the
/// code, the detail, or both).
struct ExchangeRow {
    name: &'static str,
    /// Exchange the code once first, so the row's exchange presents a used code.
    used_first: bool,
    /// Present a verifier other than the one the challenge came from.
    other_verifier: bool,
    redirect_uri: &'static str,
    code: Option<&'static str>,
    detail: Option<AuthDetail>,
}

const EXCHANGES: [ExchangeRow; 3] = [
    ExchangeRow {
        name: "a used code (3002110)",
        used_first: true,
        other_verifier: false,
        redirect_uri: REDIRECT_URI,
        code: Some("O0001"),
        detail: Some(AuthDetail::CodeExpiredOrUsed),
    },
    ExchangeRow {
        name: "a wrong PKCE verifier",
        used_first: false,
        other_verifier: true,
        redirect_uri: REDIRECT_URI,
        code: Some("O0001"),
        detail: None,
    },
    ExchangeRow {
        name: "another redirect_uri (3000114)",
        used_first: false,
        other_verifier: false,
        redirect_uri: "https://moa.example/callback",
        code: None,
        detail: Some(AuthDetail::RedirectUriMismatch),
    },
];

#[tokio::test]
async fn a_broken_code_exchange_is_refused() {
    for row in &EXCHANGES {
        let name = row.name;
        let c = Center::start().await;
        let verifier = PkceVerifier::generate();
        let (callback, state) = c.consent(0, 0, Some(&verifier)).await;
        let grant = parse_callback(&callback, &state).expect(name);
        let creds = c.credentials(0);
        if row.used_first {
            c.client
                .exchange_code(&creds, &grant.code, REDIRECT_URI, Some(&verifier))
                .await
                .expect(name);
        }
        let presented = if row.other_verifier {
            PkceVerifier::generate()
        } else {
            verifier
        };
        let err = c
            .client
            .exchange_code(&creds, &grant.code, row.redirect_uri, Some(&presented))
            .await
            .expect_err(name);
        if let Some(code) = row.code {
            assert_eq!(center_code(&err), code, "{name}");
        }
        if let Some(detail) = &row.detail {
            assert_eq!(
                err.center().and_then(|e| e.detail.clone()).as_ref(),
                Some(detail),
                "{name}"
            );
        }
    }
}

#[tokio::test]
async fn a_callback_with_a_forged_state_is_refused_before_any_exchange() {
    let c = Center::start().await;
    let (callback, _) = c.consent(0, 0, None).await;
    let other = State::generate();
    assert_eq!(
        parse_callback(&callback, &other).expect_err("forged"),
        CallbackError::StateMismatch
    );
}

#[tokio::test]
async fn refreshing_into_a_scope_never_granted_is_refused_with_3000115() {
    let c = Center::start().await;
    let token = c.user_token(0, 0).await;
    let err = refusal(c.client.refresh_token(
        &c.credentials(0),
        token.refresh_token.as_ref().expect("refresh"),
        &Scopes::new([Scope::Login, Scope::Oob]),
    ))
    .await;
    assert_eq!(center_code(&err), "O0001");
    assert_eq!(
        err.center().and_then(|e| e.detail.clone()),
        Some(AuthDetail::ScopeNotRegistered)
    );
}

#[tokio::test]
async fn a_bad_client_secret_is_o0001_with_detail_3000201() {
    let c = Center::start().await;
    let creds = ClientCredentials::new(
        &c.institution(0).client_id,
        ClientSecret::new("not-the-secret"),
    );
    let err = refusal(c.client.client_credentials(&creds)).await;
    assert_eq!(center_code(&err), "O0001");
    let refusal = err.center().expect("center refusal");
    assert_eq!(refusal.detail, Some(AuthDetail::BadClientCredentials));
    assert!(!err.to_string().contains("not-the-secret"));
    assert_eq!(err.message(Lang::En), "The client id or secret is wrong");
}

#[tokio::test]
async fn client_credentials_give_an_oob_token_with_the_institution_code() {
    let c = Center::start().await;
    let token = c.oob_token(0).await;
    assert!(token.scope.contains(&Scope::Oob));
    assert!(token.refresh_token.is_none());
    assert_eq!(
        token.client_use_code.as_ref().map(ClientUseCode::as_str),
        Some(c.institution(0).client_use_code.as_str())
    );
}

#[tokio::test]
async fn refreshing_renews_the_pair_and_retires_the_old_access_token() {
    let c = Center::start().await;
    let (old, user) = person(&c, 0, 0).await;
    let fresh = c
        .client
        .refresh_token(
            &c.credentials(0),
            old.refresh_token.as_ref().expect("refresh"),
            &old.scope,
        )
        .await
        .expect("refreshed");
    c.client
        .user_me(&fresh.user_token(), &user)
        .await
        .expect("new token works");
    let err = refusal(c.client.user_me(&old.user_token(), &user)).await;
    assert_eq!(center_code(&err), "O0002");
    assert!(err.should_refresh_token());
}

// ---- token and scope refusals ---------------------------------------------------------------

#[tokio::test]
async fn a_token_the_center_never_issued_is_rejected_with_o0002() {
    let c = Center::start().await;
    let user = UserSeqNo::parse("1000000000").expect("user");
    let err = refusal(
        c.client
            .user_me(&UserToken::new(AccessToken::new("not.a.token")), &user),
    )
    .await;
    assert_eq!(center_code(&err), "O0002");
    assert_eq!(err.center().map(|e| e.kind()), Some(RspKind::TokenRejected));
}

#[tokio::test]
async fn an_expired_token_is_o0003_and_calls_for_a_refresh() {
    let c = Center::start().await;
    let (token, user) = person(&c, 0, 0).await;
    c.testbed
        .testbed
        .clock()
        .set_offset(chrono::TimeDelta::days(91));
    let err = refusal(c.client.user_me(&token.user_token(), &user)).await;
    assert_eq!(center_code(&err), "O0003");
    assert!(err.should_refresh_token());
    assert!(!err.is_outcome_unknown());
}

#[tokio::test]
async fn an_oob_token_cannot_read_user_info_o0011() {
    let c = Center::start().await;
    let user = c.user_token(0, 0).await.user_seq_no.expect("user");
    let oob = c.oob_token(0).await;
    // Mislabelled on purpose: the types keep this from happening by accident.
    let err = refusal(c.client.user_me(&UserToken::new(oob.access_token), &user)).await;
    assert_eq!(center_code(&err), "O0011");
    assert_eq!(err.center().map(|e| e.kind()), Some(RspKind::Scope));
}

#[tokio::test]
async fn a_user_token_cannot_read_bank_status_o0011() {
    let c = Center::start().await;
    let token = c.user_token(0, 0).await;
    // Mislabelled on purpose: the types keep this from happening by accident.
    let err = refusal(c.client.bank_status(&OobToken::new(token.access_token))).await;
    assert_eq!(center_code(&err), "O0011");
}

// ---- user ------------------------------------------------------------------------------------

#[tokio::test]
async fn user_me_lists_every_account_the_person_registered() {
    let c = Center::start().await;
    let (token, user) = person(&c, 0, 0).await;
    let me = me(&c, &token, &user).await;
    assert!(me.header.rsp_code.is_success());
    assert_eq!(me.user_seq_no, user);
    assert_eq!(me.user_name, c.user(0).user_name);
    assert_eq!(me.res_cnt as usize, c.user(0).accounts.len());
    assert_eq!(me.res_list.len(), c.user(0).accounts.len());
    for a in &me.res_list {
        assert_eq!(a.inquiry_agree_yn, Some(true));
        assert_eq!(a.transfer_agree_yn, Some(true));
        assert!(a.inquiry_agree_dtime.is_some());
    }
    assert!(me.header.api_tran_dtm.is_some());
}

#[tokio::test]
async fn user_me_for_another_user_is_refused_with_a0313() {
    let c = Center::start().await;
    let ours = c.user_token(0, 0).await;
    let (_, other) = person(&c, 0, 1).await;
    let err = refusal(c.client.user_me(&ours.user_token(), &other)).await;
    assert_eq!(center_code(&err), "A0313");
}

/// How a person's service with an institution ends: unlinking them, or closing their service.
#[derive(Debug, Clone, Copy)]
enum Ending {
    Unlink,
    Close,
}

#[tokio::test]
async fn unlinking_or_closing_revokes_the_users_tokens() {
    for ending in [Ending::Unlink, Ending::Close] {
        let c = Center::start().await;
        let (token, user) = person(&c, 0, 0).await;
        let request = UserRequest {
            client_use_code: ClientUseCode::parse(&c.institution(0).client_use_code).expect("code"),
            user_seq_no: user.clone(),
        };
        let person = token.user_token();
        let ack = match ending {
            Ending::Unlink => c.client.user_unlink(&person, &request).await,
            Ending::Close => c.client.user_close(&person, &request).await,
        }
        .expect("ended");
        assert!(ack.header.rsp_code.is_success(), "{ending:?}");
        let err = refusal(c.client.user_me(&person, &user)).await;
        assert_eq!(center_code(&err), "O0002", "{ending:?}");
    }
}

#[tokio::test]
async fn unlinking_with_another_institutions_code_is_malformed() {
    let c = Center::start().await;
    let token = c.user_token(0, 0).await;
    let request = UserRequest {
        client_use_code: ClientUseCode::parse(&c.institution(1).client_use_code).expect("code"),
        user_seq_no: token.user_seq_no.clone().expect("user"),
    };
    let err = refusal(c.client.user_unlink(&token.user_token(), &request)).await;
    assert_eq!(center_code(&err), "A0004");
}

// ---- accounts --------------------------------------------------------------------------------

#[tokio::test]
async fn account_list_shows_cancelled_registrations_only_when_asked() {
    let c = Center::start().await;
    let issuer = c.issuer(0);
    let (token, user) = person(&c, 0, 0).await;
    let account = c.first_account(&token).await;
    for scope in [Scope::Inquiry, Scope::Transfer] {
        let ack = c
            .client
            .account_cancel(
                &token.user_token(),
                &CancelRequest {
                    bank_tran_id: issuer.issue().expect("id"),
                    scope,
                    fintech_use_num: account.fintech_use_num.clone(),
                },
            )
            .await
            .expect("cancelled");
        assert_eq!(ack.bank.bank_rsp_code, Some(BankRspCode::Ok));
    }
    let list = |include| AccountListRequest {
        user_seq_no: user.clone(),
        include_cancel_yn: include,
        sort_order: SortOrder::Ascending,
    };
    let all = c
        .client
        .account_list(&token.user_token(), &list(true))
        .await
        .expect("list");
    let cancelled = all
        .res_list
        .iter()
        .find(|a| a.fintech_use_num == account.fintech_use_num)
        .expect("listed with cancelled");
    assert_eq!(cancelled.account_state, Some(AccountState::Cancelled));
    let active = c
        .client
        .account_list(&token.user_token(), &list(false))
        .await
        .expect("list");
    assert!(
        active
            .res_list
            .iter()
            .all(|a| a.fintech_use_num != account.fintech_use_num)
    );
    assert!(
        active
            .res_list
            .iter()
            .all(|a| a.account_state == Some(AccountState::InUse))
    );
}

#[tokio::test]
async fn update_info_sets_the_alias_user_me_reports() {
    let c = Center::start().await;
    let (token, user) = person(&c, 0, 0).await;
    let account = c.first_account(&token).await;
    c.client
        .account_update_info(
            &token.user_token(),
            &UpdateInfoRequest {
                fintech_use_num: account.fintech_use_num.clone(),
                account_alias: "생활비".into(),
            },
        )
        .await
        .expect("updated");
    let me = me(&c, &token, &user).await;
    let a = me
        .res_list
        .iter()
        .find(|a| a.fintech_use_num == account.fintech_use_num)
        .expect("account");
    assert_eq!(a.account_alias.as_deref(), Some("생활비"));
}

#[tokio::test]
async fn balance_of_a_registered_account_echoes_the_bank_tran_id() {
    let c = Center::start().await;
    let issuer = c.issuer(0);
    let token = c.user_token(0, 0).await;
    let account = c.first_account(&token).await;
    let id = issuer.issue().expect("id");
    let b = c
        .client
        .balance(&token.user_token(), &balance_of(id.clone(), &account))
        .await
        .expect("balance");
    assert_eq!(b.bank.bank_tran_id, id.as_str());
    assert_eq!(b.bank.bank_rsp_code, Some(BankRspCode::Ok));
    assert_eq!(b.fintech_use_num.as_ref(), Some(&account.fintech_use_num));
    assert_eq!(b.bank.bank_code_tran.as_ref(), Some(&account.bank_code_std));
}

#[tokio::test]
async fn a_reused_bank_tran_id_is_refused_with_a0326() {
    let c = Center::start().await;
    let issuer = c.issuer(0);
    let token = c.user_token(0, 0).await;
    let account = c.first_account(&token).await;
    let request = balance_of(issuer.issue().expect("id"), &account);
    c.client
        .balance(&token.user_token(), &request)
        .await
        .expect("first use");
    let err = refusal(c.client.balance(&token.user_token(), &request)).await;
    assert_eq!(center_code(&err), "A0326");
    assert_eq!(err.center().map(|e| e.kind()), Some(RspKind::Duplicate));
}

#[tokio::test]
async fn a_bank_tran_id_with_another_institutions_prefix_is_malformed() {
    let c = Center::start().await;
    let foreign = c.issuer(1);
    let token = c.user_token(0, 0).await;
    let account = c.first_account(&token).await;
    let request = balance_of(foreign.issue().expect("id"), &account);
    let err = refusal(c.client.balance(&token.user_token(), &request)).await;
    assert_eq!(center_code(&err), "A0004");
}

#[tokio::test]
async fn another_institutions_fintech_number_is_refused_with_a0304() {
    let c = Center::start().await;
    let theirs = c.user_token(1, 0).await;
    let their_account = c.first_account(&theirs).await;
    let ours = c.user_token(0, 0).await;
    let request = balance_of(c.issuer(0).issue().expect("id"), &their_account);
    let err = refusal(c.client.balance(&ours.user_token(), &request)).await;
    assert_eq!(center_code(&err), "A0304");
    assert_eq!(err.message(Lang::Ko), "핀테크이용번호가 일치하지 않습니다");
}

// ---- history ---------------------------------------------------------------------------------

fn year_query(fintech_use_num: FintechUseNum) -> TransactionQuery {
    let today = SystemClock.today_kst();
    TransactionQuery::by_date(fintech_use_num, today - Duration::days(365), today)
}

#[tokio::test]
async fn history_pages_chain_their_balances_and_use_a_new_id_each() {
    let c = Center::start().await;
    let issuer = c.issuer(0);
    let token = c.user_token(0, 0).await;
    let account = c.first_account(&token).await;
    let person = token.user_token();
    let mut pages = c.client.transaction_pages(
        &person,
        issuer,
        year_query(account.fintech_use_num.clone()),
        100,
    );
    let mut ids = HashSet::new();
    let mut rows = Vec::new();
    let mut current_balance = None;
    while let Some(page) = pages.next_page().await {
        let page = page.expect("page");
        assert!(
            ids.insert(page.bank.bank_tran_id.clone()),
            "bank_tran_id reused across pages"
        );
        assert_eq!(page.page_record_cnt as usize, page.res_list.len());
        current_balance = current_balance.or(page.balance_amt);
        rows.extend(page.res_list);
    }
    assert!(!pages.truncated());
    assert!(
        pages.pages_fetched() > 1,
        "a year of history spans several pages"
    );
    // Newest first: each row's after-balance, undone, is the next (older) row's after-balance.
    for pair in rows.windows(2) {
        let (newer, older) = (&pair[0], &pair[1]);
        assert!((newer.tran_date, newer.tran_time) >= (older.tran_date, older.tran_time));
        let amount = newer.tran_amt.as_decimal();
        let before = match newer.inout_type.as_str() {
            "입금" => newer.after_balance_amt.as_decimal() - amount,
            "출금" => newer.after_balance_amt.as_decimal() + amount,
            other => panic!("unexpected inout_type {other}"),
        };
        assert_eq!(
            before,
            older.after_balance_amt.as_decimal(),
            "gap before {newer:?}"
        );
    }
    assert_eq!(rows.first().map(|r| r.after_balance_amt), current_balance);
}

#[tokio::test]
async fn history_paging_stops_at_the_page_limit() {
    let c = Center::start().await;
    let issuer = c.issuer(0);
    let token = c.user_token(0, 0).await;
    let account = c.first_account(&token).await;
    let person = token.user_token();
    let pages = c.client.transaction_pages(
        &person,
        issuer,
        year_query(account.fintech_use_num.clone()),
        2,
    );
    let got: Vec<_> = pages.into_stream().collect().await;
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(Result::is_ok));
    assert!(
        got.iter()
            .all(|p| p.as_ref().map(|p| p.next_page_yn).unwrap_or(false))
    );
}

#[tokio::test]
async fn history_of_an_inverted_date_range_is_malformed() {
    let c = Center::start().await;
    let token = c.user_token(0, 0).await;
    let account = c.first_account(&token).await;
    let mut query = year_query(account.fintech_use_num.clone());
    std::mem::swap(&mut query.from_date, &mut query.to_date);
    let issuer = c.issuer(0);
    let person = token.user_token();
    let mut pages = c.client.transaction_pages(&person, issuer, query, 5);
    let err = pages
        .next_page()
        .await
        .expect("one answer")
        .expect_err("refused");
    assert_eq!(center_code(&err), "A0004");
    assert!(pages.next_page().await.is_none(), "an error ends the pages");
}

// ---- institution APIs --------------------------------------------------------------------------

#[tokio::test]
async fn real_name_confirms_the_holder_by_birth_date() {
    let c = Center::start().await;
    let oob = c.oob_token(0).await;
    let person = c.user(0);
    let account = &person.accounts[0];
    let r = c
        .client
        .real_name(
            &oob.oob_token(),
            &RealNameRequest {
                bank_tran_id: c.issuer(0).issue().expect("id"),
                bank_code_std: BankCode::parse(&account.bank_code_std).expect("bank"),
                account_num: account.account_num.clone(),
                account_seq: None,
                account_holder_info_type: AccountHolderInfoType::BirthDate,
                account_holder_info: person.birth_date[2..].to_owned(),
            },
        )
        .await
        .expect("real name");
    assert_eq!(r.account_holder_name, account.account_holder_name);
    assert_eq!(
        r.account_holder_info_type,
        Some(AccountHolderInfoType::BirthDate)
    );
    assert_eq!(r.bank.bank_rsp_code, Some(BankRspCode::Ok));
}

#[tokio::test]
async fn real_name_of_an_unknown_account_carries_the_banks_412() {
    let c = Center::start().await;
    let oob = c.oob_token(0).await;
    let err = c
        .client
        .real_name(
            &oob.oob_token(),
            &RealNameRequest {
                bank_tran_id: c.issuer(0).issue().expect("id"),
                bank_code_std: BankCode::parse(&c.user(0).accounts[0].bank_code_std).expect("bank"),
                account_num: "99999999999999".into(),
                account_seq: None,
                account_holder_info_type: AccountHolderInfoType::Skip,
                account_holder_info: String::new(),
            },
        )
        .await
        .expect_err("no such account");
    assert_eq!(center_code(&err), "A0002");
    assert_eq!(err.bank_rsp_code(), Some(&BankRspCode::NoSuchAccount));
    assert_eq!(err.message(Lang::En), "No such account");
}

#[tokio::test]
async fn bank_status_lists_every_participating_bank() {
    let c = Center::start().await;
    let oob = c.oob_token(0).await;
    let status = c
        .client
        .bank_status(&oob.oob_token())
        .await
        .expect("bank status");
    assert_eq!(status.res_cnt as usize, status.res_list.len());
    assert!(!status.res_list.is_empty());
    let codes: HashSet<&str> = status
        .res_list
        .iter()
        .map(|b| b.bank_code_std.as_str())
        .collect();
    for account in &c.user(0).accounts {
        assert!(
            codes.contains(account.bank_code_std.as_str()),
            "{} missing",
            account.bank_code_std
        );
    }
    assert!(
        status
            .res_list
            .iter()
            .any(|b| b.bank_status == BankStatus::Available)
    );
}

#[tokio::test]
async fn the_center_date_matches_the_clients_korean_date() {
    let c = Center::start().await;
    let (token, user) = person(&c, 0, 0).await;
    let me = me(&c, &token, &user).await;
    let answered: NaiveDate = me.header.api_tran_dtm.expect("api_tran_dtm").date();
    let today = SystemClock.today_kst();
    assert!((answered - today).num_days().abs() <= 1);
}
