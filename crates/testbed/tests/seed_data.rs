//! The demo seed as a client meets it: the banks, the people and their accounts, and a year of
//! history whose balances add up.

mod common;

use std::collections::{BTreeSet, HashSet};

use chrono::{Datelike, Months};
use common::amount;

#[tokio::test]
async fn the_seed_has_twenty_four_banks() {
    let bed = common::spawn().await;
    let oob = bed.oob_token(0).await;
    let status = bed.get("/v2.0/bank/status", &oob, &[]).await;
    assert_eq!(status["res_list"].as_array().unwrap().len(), 24);
    assert_eq!(moa_testbed::seed::BANKS.len(), 24);
}

#[tokio::test]
async fn the_seed_has_people_with_two_to_six_accounts_at_different_banks() {
    let bed = common::spawn().await;
    let users = &bed.spawned.manifest.users;
    assert!(users.len() >= 3, "{} people", users.len());
    let mut cells = HashSet::new();
    let mut numbers = HashSet::new();
    for user in users {
        assert!(
            cells.insert(user.cell_no.clone()),
            "cell numbers are unique"
        );
        assert_eq!(user.birth_date.len(), 8);
        assert!(
            (2..=6).contains(&user.accounts.len()),
            "{} has {}",
            user.user_name,
            user.accounts.len()
        );
        let banks: HashSet<&str> = user
            .accounts
            .iter()
            .map(|a| a.bank_code_std.as_str())
            .collect();
        assert_eq!(banks.len(), user.accounts.len(), "one account a bank");
        for account in &user.accounts {
            assert_eq!(account.account_holder_name, user.user_name);
            assert!(account.account_num.bytes().all(|b| b.is_ascii_digit()));
            assert!(moa_testbed::seed::bank_name(&account.bank_code_std).is_some());
            assert!(numbers.insert((account.bank_code_std.clone(), account.account_num.clone())));
        }
    }
}

#[tokio::test]
async fn every_persons_account_has_a_year_of_chained_history() {
    let bed = common::spawn().await;
    let today = bed.today();
    let this_month = today.with_day(1).unwrap();
    for person in 0..bed.spawned.manifest.users.len() {
        let all: Vec<usize> = (0..bed.person(person).accounts.len()).collect();
        let user = bed.user(0, person, &all).await;
        for fintech in bed.fintech_nums(&user).await {
            let mut rows = bed
                .history_all(&user, &fintech, &[("sort_order", "A")])
                .await;
            assert!(!rows.is_empty());
            let months: BTreeSet<String> = rows
                .iter()
                .map(|r| r["tran_date"].as_str().unwrap()[..6].to_owned())
                .collect();
            for back in 1..=11 {
                let month = (this_month - Months::new(back)).format("%Y%m").to_string();
                assert!(months.contains(&month), "{fintech}: nothing in {month}");
            }
            let oldest = rows[0]["tran_date"].as_str().unwrap().to_owned();
            let year_ago = (today - chrono::Days::new(330))
                .format("%Y%m%d")
                .to_string();
            assert!(oldest <= year_ago, "{fintech}: history starts {oldest}");
            for pair in rows.windows(2) {
                let delta = amount(&pair[1]["tran_amt"]);
                let signed = if pair[1]["inout_type"] == "입금" {
                    delta
                } else {
                    -delta
                };
                assert!(delta > 0);
                assert_eq!(
                    amount(&pair[0]["after_balance_amt"]) + signed,
                    amount(&pair[1]["after_balance_amt"]),
                    "{fintech}: {}",
                    pair[1]
                );
            }
            assert!(
                rows.iter().all(|r| amount(&r["after_balance_amt"]) >= 0),
                "no seeded balance goes below zero"
            );
            let last = rows.pop().unwrap();
            let balance = bed.balance(&user, &fintech).await;
            assert_eq!(
                amount(&balance["balance_amt"]),
                amount(&last["after_balance_amt"])
            );
        }
    }
}

#[tokio::test]
async fn the_seed_is_the_same_for_the_same_day() {
    let one = common::spawn().await;
    let two = common::spawn().await;
    assert_eq!(one.spawned.manifest.users, two.spawned.manifest.users);
    let names = |bed: &common::Bed| -> Vec<String> {
        bed.spawned
            .manifest
            .institutions
            .iter()
            .map(|i| format!("{} {}", i.name, i.client_use_code))
            .collect()
    };
    assert_eq!(names(&one), names(&two));
    // Secrets, however, are the database's own.
    assert_ne!(
        one.spawned.manifest.institutions[0].client_secret,
        two.spawned.manifest.institutions[0].client_secret
    );
}

#[tokio::test]
async fn a_testbed_started_with_a_moved_clock_seeds_history_up_to_the_centers_today() {
    for days in [-40, 40] {
        let mut config = moa_testbed::Config::in_memory();
        config.clock_offset = chrono::TimeDelta::days(days);
        let bed = common::spawn_with(config).await;
        let today = bed.today();
        let user = bed.user(0, 0, &[0]).await;
        let fintech = bed.fintech_nums(&user).await.remove(0);
        // Ask well past the center's today: nothing may be dated after it.
        let far = (today + chrono::Days::new(100))
            .format("%Y%m%d")
            .to_string();
        let newest = bed
            .history_page(&user, &fintech, &[("to_date", &far)])
            .await;
        let last = newest["res_list"][0]["tran_date"]
            .as_str()
            .expect("a newest row")
            .to_owned();
        let center_today = today.format("%Y%m%d").to_string();
        let week_ago = (today - chrono::Days::new(7)).format("%Y%m%d").to_string();
        assert!(
            last < center_today && last >= week_ago,
            "offset {days} days: the newest row is {last}, the center's today {center_today}"
        );
    }
}
