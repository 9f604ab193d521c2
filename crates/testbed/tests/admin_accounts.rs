//! The admin endpoints that give a person more accounts and an account more history than the
//! demo seed has, for benchmarks: what they open can be registered and read like any account.

mod common;

use common::{Bed, CALLBACK, User, amount};
use serde_json::{Value, json};

/// An admin call; the status and the JSON answer (null when there is none).
async fn admin(bed: &Bed, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let response = bed
        .http
        .request(method, bed.url(path))
        .bearer_auth(&bed.spawned.manifest.admin_token)
        .json(&body)
        .send()
        .await
        .expect("the admin API answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn open_account(bed: &Bed, person: usize, bank: &str, balance: i64) -> String {
    let cell_no = bed.person(person).cell_no.clone();
    let (status, opened) = admin(
        bed,
        reqwest::Method::POST,
        &format!("/testbed/admin/people/{cell_no}/accounts"),
        json!({ "bank_code_std": bank, "balance": balance, "account_type": "1" }),
    )
    .await;
    assert_eq!(status, 201, "{opened}");
    assert_eq!(opened["bank_code_std"], bank);
    assert_eq!(opened["account_holder_name"], bed.person(person).user_name);
    opened["account_num"]
        .as_str()
        .expect("an account number")
        .to_owned()
}

/// Registers `accounts` (bank, number) of `person` through the sandbox shortcut.
async fn register(bed: &Bed, person: usize, accounts: &[(&str, &str)]) -> User {
    let i = bed.institution(0);
    let listed: Vec<Value> = accounts
        .iter()
        .map(|(bank, number)| json!({ "bank_code_std": bank, "account_num": number }))
        .collect();
    let answer = bed
        .sandbox_authorize_raw(json!({
            "client_id": i.client_id,
            "client_secret": i.client_secret,
            "redirect_uri": CALLBACK,
            "scope": "login inquiry transfer",
            "state": "s".repeat(32),
            "cell_no": bed.person(person).cell_no,
            "accounts": listed,
            "inquiry_agree": "Y",
            "transfer_agree": "Y",
        }))
        .await;
    let code = answer["code"].as_str().expect("a code").to_owned();
    let token = bed.exchange_raw(0, &code).await;
    bed.user_from(0, &token)
}

#[tokio::test]
async fn an_opened_account_can_be_registered_and_answers_its_balance() {
    let bed = common::spawn().await;
    let first = open_account(&bed, 0, "004", 250_000).await;
    let second = open_account(&bed, 0, "004", 0).await;
    assert_ne!(first, second, "each account has its own number");
    let user = register(&bed, 0, &[("004", &first), ("004", &second)]).await;
    let fintech = bed.fintech_nums(&user).await;
    assert_eq!(fintech.len(), 2);
    let balances: Vec<i64> = {
        let mut all = Vec::new();
        for f in &fintech {
            let answer = bed.balance(&user, f).await;
            assert_eq!(answer["rsp_code"], "A0000", "{answer}");
            all.push(amount(&answer["balance_amt"]));
        }
        all.sort();
        all
    };
    assert_eq!(balances, vec![0, 250_000]);
    assert_eq!(bed.ledger_balance("004", &first).await, 250_000);
}

#[tokio::test]
async fn appended_history_chains_from_the_balance_and_ends_at_the_new_one() {
    let bed = common::spawn().await;
    let number = open_account(&bed, 1, "088", 10_000).await;
    let from = bed.today() - chrono::Days::new(30);
    let (status, appended) = admin(
        &bed,
        reqwest::Method::POST,
        &format!("/testbed/admin/accounts/088/{number}/history"),
        json!({ "rows": 1_000, "from_date": from.format("%Y%m%d").to_string() }),
    )
    .await;
    assert_eq!(status, 200, "{appended}");
    assert_eq!(appended["rows"], 1_000);
    let balance = appended["balance"].as_i64().expect("the new balance");
    assert_eq!(bed.ledger_balance("088", &number).await, balance);

    let user = register(&bed, 1, &[("088", &number)]).await;
    let fintech = bed.fintech_nums(&user).await.remove(0);
    let rows = bed
        .history_all(&user, &fintech, &[("sort_order", "A")])
        .await;
    assert_eq!(rows.len(), 1_000);
    let mut before = 10_000;
    for row in &rows {
        let delta = amount(&row["tran_amt"]);
        before += if row["inout_type"] == "입금" {
            delta
        } else {
            -delta
        };
        assert_eq!(amount(&row["after_balance_amt"]), before, "{row}");
        assert!(before >= 0);
    }
    assert_eq!(before, balance);
    assert_eq!(
        rows[0]["tran_date"],
        from.format("%Y%m%d").to_string(),
        "the first row is on from_date"
    );
    // Spread up to now: the last row is minutes ago (yesterday, just after midnight).
    let last = rows[999]["tran_date"].as_str().expect("a date");
    assert!(
        last == bed.today().format("%Y%m%d").to_string()
            || last
                == (bed.today() - chrono::Days::new(1))
                    .format("%Y%m%d")
                    .to_string(),
        "{last}"
    );
    let answer = bed.balance(&user, &fintech).await;
    assert_eq!(amount(&answer["balance_amt"]), balance);

    // More rows must come after these: an earlier day would break the chain.
    let (status, _) = admin(
        &bed,
        reqwest::Method::POST,
        &format!("/testbed/admin/accounts/088/{number}/history"),
        json!({ "rows": 10, "from_date": from.format("%Y%m%d").to_string() }),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_new_endpoints_refuse_strangers_and_nonsense() {
    let bed = common::spawn().await;
    let cell_no = bed.person(0).cell_no.clone();
    let path = format!("/testbed/admin/people/{cell_no}/accounts");
    let anonymous = bed
        .http
        .post(bed.url(&path))
        .json(&json!({ "bank_code_std": "004" }))
        .send()
        .await
        .expect("an answer");
    assert_eq!(anonymous.status().as_u16(), 401);
    let post = reqwest::Method::POST;
    for (path, body, status) in [
        (
            path.clone(),
            json!({ "bank_code_std": "999", "balance": 1 }),
            400,
        ),
        (
            path.clone(),
            json!({ "bank_code_std": "004", "balance": -1 }),
            400,
        ),
        (
            "/testbed/admin/people/01000000000/accounts".to_owned(),
            json!({ "bank_code_std": "004" }),
            404,
        ),
        (
            "/testbed/admin/accounts/004/123/history".to_owned(),
            json!({ "rows": 10, "from_date": "20200101" }),
            404,
        ),
    ] {
        let (got, answer) = admin(&bed, post.clone(), &path, body).await;
        assert_eq!(got, status, "{path}: {answer}");
    }
    let number = open_account(&bed, 0, "004", 0).await;
    let history = format!("/testbed/admin/accounts/004/{number}/history");
    let tomorrow = (bed.today() + chrono::Days::new(1))
        .format("%Y%m%d")
        .to_string();
    for body in [
        json!({ "rows": 0, "from_date": "20200101" }),
        json!({ "rows": 10, "from_date": "2020-01-01" }),
        json!({ "rows": 10, "from_date": tomorrow }),
    ] {
        let (got, answer) = admin(&bed, post.clone(), &history, body).await;
        assert_eq!(got, 400, "{answer}");
    }
}
