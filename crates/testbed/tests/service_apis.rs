//! The `/v2.0` service APIs as a client uses them: user and account management, balance, every
//! page of history, real name, bank status, and the walls between institutions and people.

mod common;

use std::collections::HashSet;

use common::{Bed, User, amount};
use serde_json::{Value, json};

fn ok(answer: &Value) {
    assert_eq!(answer["rsp_code"], "A0000", "{answer}");
    assert_eq!(answer["rsp_message"], "");
    assert_eq!(answer["api_tran_dtm"].as_str().expect("a string").len(), 17);
    assert!(!answer["api_tran_id"].as_str().expect("a string").is_empty());
}

fn list(answer: &Value) -> &Vec<Value> {
    answer["res_list"].as_array().expect("res_list")
}

/// What makes a history row itself (rows carry no id).
fn row_key(row: &Value) -> String {
    format!(
        "{}{}|{}|{}|{}|{}|{}",
        row["tran_date"].as_str().expect("a string"),
        row["tran_time"].as_str().expect("a string"),
        row["inout_type"].as_str().expect("a string"),
        row["print_content"].as_str().expect("a string"),
        amount(&row["tran_amt"]),
        amount(&row["after_balance_amt"]),
        row["tran_type"].as_str().expect("a string"),
    )
}

/// Checks `rows` (oldest first) chain: each after-balance is the previous one plus a deposit or
/// less a withdrawal.
fn assert_chain(rows: &[Value]) {
    for pair in rows.windows(2) {
        let before = amount(&pair[0]["after_balance_amt"]);
        let row = &pair[1];
        let tran = amount(&row["tran_amt"]);
        let expected = match row["inout_type"].as_str().expect("a string") {
            "입금" => before + tran,
            "출금" => before - tran,
            other => panic!("inout_type {other}"),
        };
        assert_eq!(
            amount(&row["after_balance_amt"]),
            expected,
            "chain broken at {row}"
        );
        let at = |r: &Value| {
            format!(
                "{}{}",
                r["tran_date"].as_str().expect("a string"),
                r["tran_time"].as_str().expect("a string")
            )
        };
        assert!(at(&pair[0]) <= at(row), "oldest first");
    }
}

async fn user_with_everything(bed: &Bed, person: usize) -> User {
    let all: Vec<usize> = (0..bed.person(person).accounts.len()).collect();
    bed.user(0, person, &all).await
}

#[tokio::test]
async fn user_me_lists_the_person_and_their_registered_accounts() {
    let bed = common::spawn().await;
    let user = bed.user(0, 1, &[0, 1]).await;
    let me = bed.user_me(&user).await;
    ok(&me);
    assert_eq!(me["user_seq_no"], user.user_seq_no);
    assert_eq!(me["user_name"], bed.person(1).user_name);
    assert_eq!(me["user_ci"].as_str().unwrap().len(), 88);
    assert_eq!(me["res_cnt"], "2");
    for name in ["card", "pay", "insurance", "loan"] {
        assert_eq!(me[format!("inquiry_{name}_cnt")], "0");
        assert_eq!(me[format!("inquiry_{name}_list")], json!([]));
    }
    for (item, account) in list(&me).iter().zip(&bed.person(1).accounts) {
        assert_eq!(item["bank_code_std"], account.bank_code_std);
        assert_eq!(item["bank_name"], account.bank_name);
        assert_eq!(item["account_holder_name"], account.account_holder_name);
        assert_eq!(item["account_holder_type"], "P");
        let masked = item["account_num_masked"].as_str().unwrap();
        let keep = account.account_num.len() - 3;
        assert_eq!(masked, format!("{}***", &account.account_num[..keep]));
        assert_eq!(item["bank_code_sub"].as_str().unwrap().len(), 7);
        assert_eq!(item["inquiry_agree_dtime"].as_str().unwrap().len(), 14);
        assert!(item.get("account_state").is_none());
    }
    // Another person's user_seq_no is not this token's to ask about.
    let other = bed.user(0, 2, &[0]).await;
    let answer = bed
        .get(
            "/v2.0/user/me",
            &user.access_token,
            &[("user_seq_no", &other.user_seq_no)],
        )
        .await;
    assert_eq!(answer["rsp_code"], "A0313", "{answer}");
}

#[tokio::test]
async fn account_list_honours_sort_order_and_include_cancel_yn() {
    let bed = common::spawn().await;
    let user = user_with_everything(&bed, 2).await;
    let ascending = bed.account_list(&user, "N", "A").await;
    ok(&ascending);
    assert_eq!(ascending["user_name"], bed.person(2).user_name);
    let count = bed.person(2).accounts.len();
    assert_eq!(ascending["res_cnt"], count.to_string());
    let descending = bed.account_list(&user, "N", "D").await;
    let fintech = |answer: &Value| -> Vec<String> {
        list(answer)
            .iter()
            .map(|a| a["fintech_use_num"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut reversed = fintech(&descending);
    reversed.reverse();
    assert_eq!(fintech(&ascending), reversed);
    for item in list(&ascending) {
        assert_eq!(item["account_state"], "01");
    }
    let bad = bed.account_list(&user, "X", "A").await;
    assert_eq!(bad["rsp_code"], "A0004");
}

#[tokio::test]
async fn the_balance_is_the_last_after_balance_of_the_history() {
    let bed = common::spawn().await;
    let user = user_with_everything(&bed, 0).await;
    let me = bed.user_me(&user).await;
    for (item, account) in list(&me).iter().zip(&bed.person(0).accounts) {
        let fintech = item["fintech_use_num"].as_str().unwrap();
        let balance = bed.balance(&user, fintech).await;
        ok(&balance);
        assert_eq!(balance["fintech_use_num"], fintech);
        assert_eq!(balance["bank_code_tran"], account.bank_code_std);
        assert_eq!(balance["bank_rsp_code"], "000");
        assert_eq!(balance["bank_name"], account.bank_name);
        assert_eq!(balance["account_type"], account.account_type);
        assert_eq!(
            balance["bank_tran_date"],
            bed.today().format("%Y%m%d").to_string()
        );
        let newest = bed.history_page(&user, fintech, &[]).await;
        ok(&newest);
        let first = &list(&newest)[0];
        assert_eq!(
            amount(&balance["balance_amt"]),
            amount(&first["after_balance_amt"]),
            "{}",
            account.account_num
        );
        assert_eq!(
            amount(&newest["balance_amt"]),
            amount(&balance["balance_amt"])
        );
        assert_eq!(balance["last_tran_date"], first["tran_date"]);
        let available = amount(&balance["available_amt"]);
        if account.account_type == "1" {
            assert_eq!(available, amount(&balance["balance_amt"]));
        } else {
            assert_eq!(available, 0, "savings cannot be withdrawn before maturity");
            assert_eq!(balance["maturity_date"].as_str().unwrap().len(), 8);
        }
    }
}

#[tokio::test]
async fn every_page_of_a_years_history_chains_without_repeats() {
    let bed = common::spawn().await;
    let user = bed.user(0, 0, &[0]).await;
    let fintech = bed.fintech_nums(&user).await.remove(0);

    let newest_first = bed.history_all(&user, &fintech, &[]).await;
    assert!(newest_first.len() > 100, "a main account has a busy year");
    let keys: Vec<String> = newest_first.iter().map(row_key).collect();
    let unique: HashSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "no row repeated across pages");
    let mut oldest_first = newest_first.clone();
    oldest_first.reverse();
    assert_chain(&oldest_first);
    let first_date = oldest_first[0]["tran_date"].as_str().unwrap();
    let year_ago = (bed.today() - chrono::Days::new(360))
        .format("%Y%m%d")
        .to_string();
    assert!(
        first_date <= year_ago.as_str(),
        "history since {first_date}"
    );

    let ascending = bed
        .history_all(&user, &fintech, &[("sort_order", "A")])
        .await;
    assert_eq!(
        ascending.iter().map(row_key).collect::<Vec<_>>(),
        oldest_first.iter().map(row_key).collect::<Vec<_>>(),
        "A and D give the same rows, reversed"
    );

    let deposits = bed
        .history_all(&user, &fintech, &[("inquiry_type", "I")])
        .await;
    let withdrawals = bed
        .history_all(&user, &fintech, &[("inquiry_type", "O")])
        .await;
    assert!(deposits.iter().all(|r| r["inout_type"] == "입금"));
    assert!(withdrawals.iter().all(|r| r["inout_type"] == "출금"));
    assert!(!deposits.is_empty() && !withdrawals.is_empty());
    assert_eq!(deposits.len() + withdrawals.len(), newest_first.len());
    let expected: Vec<String> = newest_first
        .iter()
        .filter(|r| r["inout_type"] == "입금")
        .map(row_key)
        .collect();
    assert_eq!(deposits.iter().map(row_key).collect::<Vec<_>>(), expected);
}

#[tokio::test]
async fn inquiry_base_t_cuts_the_history_at_the_given_times() {
    let bed = common::spawn().await;
    let user = bed.user(0, 0, &[0]).await;
    let fintech = bed.fintech_nums(&user).await.remove(0);
    let all = bed
        .history_all(&user, &fintech, &[("sort_order", "A")])
        .await;
    let at = |r: &Value| {
        (
            r["tran_date"].as_str().unwrap().to_owned(),
            r["tran_time"].as_str().unwrap().to_owned(),
        )
    };
    let (from_date, from_time) = at(&all[all.len() / 3]);
    let (to_date, to_time) = at(&all[all.len() / 3 + 40]);
    let window = bed
        .history_all(
            &user,
            &fintech,
            &[
                ("sort_order", "A"),
                ("inquiry_base", "T"),
                ("from_date", &from_date),
                ("from_time", &from_time),
                ("to_date", &to_date),
                ("to_time", &to_time),
            ],
        )
        .await;
    let expected: Vec<String> = all
        .iter()
        .filter(|r| {
            let t = at(r);
            t >= (from_date.clone(), from_time.clone()) && t <= (to_date.clone(), to_time.clone())
        })
        .map(row_key)
        .collect();
    assert!(expected.len() >= 41);
    assert_eq!(window.iter().map(row_key).collect::<Vec<_>>(), expected);
    // By date the same dates give whole days, so at least as many rows.
    let by_day = bed
        .history_all(
            &user,
            &fintech,
            &[
                ("sort_order", "A"),
                ("from_date", &from_date),
                ("to_date", &to_date),
            ],
        )
        .await;
    assert!(by_day.len() >= window.len());
    // Inquiry by time needs the times.
    let missing = bed
        .history_page(
            &user,
            &fintech,
            &[
                ("inquiry_base", "T"),
                ("from_date", &from_date),
                ("to_date", &to_date),
            ],
        )
        .await;
    assert_eq!(missing["rsp_code"], "A0004");
}

#[tokio::test]
async fn real_name_names_the_holder_when_the_birth_date_matches() {
    let bed = common::spawn().await;
    let oob = bed.oob_token(0).await;
    let person = bed.person(1).clone();
    let account = &person.accounts[0];
    // Whose is account number `number` at the account's bank, if born on `birth_date`?
    let ask = |number: &str, birth_date: &str| {
        bed.real_name(
            0,
            &oob,
            json!({
                "bank_code_std": account.bank_code_std,
                "account_num": number,
                "account_holder_info_type": " ",
                "account_holder_info": birth_date,
            }),
        )
    };
    let answer = ask(&account.account_num, &person.birth_date[2..]).await;
    ok(&answer);
    assert_eq!(answer["account_holder_name"], person.user_name);
    assert_eq!(answer["bank_rsp_code"], "000");
    assert_eq!(answer["bank_code_std"], account.bank_code_std);
    assert_eq!(answer["account_num"], account.account_num);
    assert_eq!(answer["account_holder_info_type"], " ");
    assert_eq!(answer["account_type"], account.account_type);

    let mismatch = ask(&account.account_num, "000101").await;
    assert_eq!(mismatch["rsp_code"], "A0002", "{mismatch}");
    assert_eq!(mismatch["bank_rsp_code"], "463");
    assert!(mismatch.get("account_holder_name").is_none());

    let unknown = ask("999999999999", &person.birth_date[2..]).await;
    assert_eq!(unknown["rsp_code"], "A0002", "{unknown}");
    assert_eq!(unknown["bank_rsp_code"], "412");
    assert_eq!(unknown["bank_code_tran"], account.bank_code_std);
}

#[tokio::test]
async fn bank_status_lists_every_participating_bank_as_available() {
    let bed = common::spawn().await;
    let oob = bed.oob_token(1).await;
    let answer = bed.get("/v2.0/bank/status", &oob, &[]).await;
    ok(&answer);
    assert_eq!(answer["res_cnt"], "24");
    let banks = list(&answer);
    assert_eq!(banks.len(), 24);
    let codes: HashSet<&str> = banks
        .iter()
        .map(|b| b["bank_code_std"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 24);
    for code in ["004", "088", "090", "097"] {
        assert!(codes.contains(code), "{code}");
    }
    assert!(banks.iter().all(|b| b["bank_status"] == "Y"));
    assert!(
        banks
            .iter()
            .all(|b| !b["bank_name"].as_str().unwrap().is_empty())
    );
}

#[tokio::test]
async fn an_alias_set_with_update_info_shows_in_user_me() {
    let bed = common::spawn().await;
    let user = bed.user(0, 0, &[0, 1]).await;
    let fintech = bed.fintech_nums(&user).await;
    let answer = bed
        .post(
            "/v2.0/account/update_info",
            &user.access_token,
            &json!({ "fintech_use_num": fintech[1], "account_alias": "생활비 통장" }),
        )
        .await;
    ok(&answer);
    assert_eq!(answer["account_alias"], "생활비 통장");
    let me = bed.user_me(&user).await;
    let aliases: Vec<&str> = list(&me)
        .iter()
        .map(|a| a["account_alias"].as_str().unwrap())
        .collect();
    assert_eq!(aliases, ["", "생활비 통장"]);
}

#[tokio::test]
async fn cancelling_inquiry_stops_inquiry_and_cancelling_both_cancels_the_account() {
    let bed = common::spawn().await;
    let user = bed.user(0, 0, &[0, 1]).await;
    let fintech = bed.fintech_nums(&user).await;
    let target = fintech[0].clone();
    let cancel = |scope: &'static str| {
        let body = json!({
            "bank_tran_id": bed.next_id(0),
            "scope": scope,
            "fintech_use_num": target,
        });
        let bed = &bed;
        let token = user.access_token.clone();
        async move { bed.post("/v2.0/account/cancel", &token, &body).await }
    };
    let answer = cancel("inquiry").await;
    ok(&answer);
    assert_eq!(answer["bank_rsp_code"], "000");
    assert_eq!(bed.balance(&user, &target).await["rsp_code"], "A0305");
    let me = bed.user_me(&user).await;
    let item = list(&me)
        .iter()
        .find(|a| a["fintech_use_num"] == target.as_str())
        .expect("still registered for transfer");
    assert_eq!(item["inquiry_agree_yn"], "N");
    assert_eq!(item["transfer_agree_yn"], "Y");

    ok(&cancel("transfer").await);
    let with_cancelled = bed.account_list(&user, "Y", "A").await;
    let item = list(&with_cancelled)
        .iter()
        .find(|a| a["fintech_use_num"] == target.as_str())
        .expect("listed with include_cancel_yn=Y");
    assert_eq!(item["account_state"], "09");
    let without = bed.account_list(&user, "N", "A").await;
    assert_eq!(without["res_cnt"], "1");
    assert_eq!(bed.balance(&user, &target).await["rsp_code"], "A0323");
    assert_eq!(cancel("inquiry").await["rsp_code"], "A0323");
    // The other account is untouched.
    ok(&bed.balance(&user, &fintech[1]).await);
}

/// `POST /v2.0/user/{unlink,close}` for `user`, naming the institution `client_use_code` of
/// institution `named`.
async fn leave(bed: &Bed, how: &str, user: &User, named: usize) -> Value {
    let body = json!({ "client_use_code": bed.code_of(named), "user_seq_no": user.user_seq_no });
    bed.post(&format!("/v2.0/user/{how}"), &user.access_token, &body)
        .await
}

#[tokio::test]
async fn unlink_revokes_the_persons_tokens_and_cancels_their_accounts() {
    let bed = common::spawn().await;
    let user = bed.user(0, 0, &[0, 1]).await;
    let second = bed.user(0, 0, &[2]).await;
    let pending_code = bed.code(0, 0, &[3]).await;
    let answer = leave(&bed, "unlink", &user, 0).await;
    ok(&answer);
    assert_eq!(answer["user_seq_no"], user.user_seq_no);
    assert_eq!(bed.user_me(&user).await["rsp_code"], "O0002");
    assert_eq!(bed.user_me(&second).await["rsp_code"], "O0002");
    // A code issued before the unlink cannot bring the person back.
    let late = bed.exchange_raw(0, &pending_code).await;
    assert_eq!(late["rsp_code"], "O0001", "{late}");
    assert!(late["rsp_message"].as_str().unwrap().contains("[3002110]"));
    // Registering again brings the same person back with fresh consents.
    let back = bed.user(0, 0, &[0]).await;
    assert_eq!(back.user_seq_no, user.user_seq_no);
    assert_eq!(bed.fintech_nums(&back).await.len(), 1);
}

#[tokio::test]
async fn close_revokes_the_persons_tokens() {
    let bed = common::spawn().await;
    let user = bed.user(0, 3, &[0]).await;
    let other_institution = bed.user(1, 3, &[0]).await;
    let wrong_code = leave(&bed, "close", &user, 1).await;
    assert_eq!(wrong_code["rsp_code"], "A0004");
    ok(&bed.user_me(&user).await);
    let answer = leave(&bed, "close", &user, 0).await;
    ok(&answer);
    assert_eq!(bed.user_me(&user).await["rsp_code"], "O0002");
    // Closing with one institution leaves the other alone.
    ok(&bed.user_me(&other_institution).await);
    // A closed person who registers again is enrolled again under the same number.
    let back = bed.user(0, 3, &[0]).await;
    assert_eq!(back.user_seq_no, user.user_seq_no);
    ok(&bed.user_me(&back).await);
}

#[tokio::test]
async fn another_institutions_fintech_number_is_a0304_even_for_the_same_person() {
    let bed = common::spawn().await;
    let at_moa = bed.user(0, 0, &[0]).await;
    let at_other = bed.user(1, 0, &[0]).await;
    let moa_fintech = bed.fintech_nums(&at_moa).await.remove(0);
    let other_fintech = bed.fintech_nums(&at_other).await.remove(0);
    assert_ne!(
        moa_fintech, other_fintech,
        "each institution its own number"
    );
    assert_eq!(&moa_fintech[1..10], &bed.code_of(0)[1..]);
    assert_eq!(&other_fintech[1..10], &bed.code_of(1)[1..]);
    assert_ne!(at_moa.user_seq_no, at_other.user_seq_no);

    assert_eq!(
        bed.balance(&at_moa, &other_fintech).await["rsp_code"],
        "A0304"
    );
    assert_eq!(
        bed.balance(&at_other, &moa_fintech).await["rsp_code"],
        "A0304"
    );
    assert_eq!(
        bed.history_page(&at_moa, &other_fintech, &[]).await["rsp_code"],
        "A0304"
    );
    ok(&bed.balance(&at_moa, &moa_fintech).await);
}

#[tokio::test]
async fn another_persons_fintech_number_is_a0304() {
    let bed = common::spawn().await;
    let one = bed.user(0, 0, &[0]).await;
    let two = bed.user(0, 1, &[0]).await;
    let theirs = bed.fintech_nums(&two).await.remove(0);
    assert_eq!(bed.balance(&one, &theirs).await["rsp_code"], "A0304");
    let alias = bed
        .post(
            "/v2.0/account/update_info",
            &one.access_token,
            &json!({ "fintech_use_num": theirs, "account_alias": "mine" }),
        )
        .await;
    assert_eq!(alias["rsp_code"], "A0304");
    let me = bed.user_me(&two).await;
    assert_eq!(list(&me)[0]["account_alias"], "");
}

#[tokio::test]
async fn a_bank_tran_id_with_another_institutions_prefix_is_a0004() {
    let bed = common::spawn().await;
    let user = bed.user(0, 0, &[0]).await;
    let fintech = bed.fintech_nums(&user).await.remove(0);
    let foreign = common::bank_tran_id(&bed.code_of(1));
    let dtime = bed.tran_dtime();
    let answer = bed
        .get(
            "/v2.0/account/balance/fin_num",
            &user.access_token,
            &[
                ("bank_tran_id", &foreign),
                ("fintech_use_num", &fintech),
                ("tran_dtime", &dtime),
            ],
        )
        .await;
    assert_eq!(answer["rsp_code"], "A0004", "{answer}");
    assert!(
        answer["rsp_message"]
            .as_str()
            .unwrap()
            .contains("bank_tran_id")
    );
}

#[tokio::test]
async fn inquiry_consent_lapses_after_365_days_until_the_person_registers_again() {
    let bed = common::spawn().await;
    let mut user = bed.user(0, 0, &[0]).await;
    let fintech = bed.fintech_nums(&user).await.remove(0);
    let clock = bed.spawned.testbed.clock();
    // Keep the person signed in through the year, refreshing well inside each token's life.
    for day in [80, 160, 240, 320] {
        clock.set_offset(chrono::TimeDelta::days(day));
        let answer = bed
            .refresh_raw(0, &user.refresh_token, "login inquiry transfer")
            .await;
        user = bed.user_from(0, &answer);
    }
    clock.set_offset(chrono::TimeDelta::days(364));
    ok(&bed.balance(&user, &fintech).await);
    clock.set_offset(chrono::TimeDelta::days(366));
    let lapsed = bed.balance(&user, &fintech).await;
    assert_eq!(lapsed["rsp_code"], "A0316", "{lapsed}");
    // Registering the account again renews the consent under the same fintech number.
    let renewed = bed.user(0, 0, &[0]).await;
    assert_eq!(bed.fintech_nums(&renewed).await, vec![fintech.clone()]);
    ok(&bed.balance(&renewed, &fintech).await);
}

#[tokio::test]
async fn a_history_cursor_of_another_account_is_refused() {
    let bed = common::spawn().await;
    let user = bed.user(0, 0, &[0, 1]).await;
    let fintech = bed.fintech_nums(&user).await;
    let first = bed.history_page(&user, &fintech[0], &[]).await;
    assert_eq!(first["next_page_yn"], "Y");
    let cursor = first["befor_inquiry_trace_info"]
        .as_str()
        .unwrap()
        .to_owned();
    let foreign = bed
        .history_page(&user, &fintech[1], &[("befor_inquiry_trace_info", &cursor)])
        .await;
    assert_eq!(foreign["rsp_code"], "A0004", "{foreign}");
    let next = bed
        .history_page(&user, &fintech[0], &[("befor_inquiry_trace_info", &cursor)])
        .await;
    ok(&next);
    assert_ne!(list(&next)[0], list(&first)[0]);
}
