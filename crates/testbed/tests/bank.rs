//! A bank test in the manner of Jepsen's: concurrent clients move money between the demo
//! accounts while faults strike at random. During the run and after it, the ledger must hold:
//! the sum of all balances never changes, no balance goes below zero, every transfer is applied
//! at most once, and every transfer whose answer was lost is found by `transfer/result` with
//! what really happened.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::money::{Answer, classify};
use common::{Bed, User};
use moa_testbed::Config;
use moa_testbed::harness::{self, CenterTransfer, Ledger};
use moa_testbed::manifest::ContractAccount;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

/// One transfer leg as the client saw it, and what settlement made of it.
#[derive(Debug, Clone)]
struct Leg {
    id: String,
    withdraw: bool,
    amount: i64,
    answer: Answer,
    /// After `transfer/result` for unknown answers: was it applied?
    applied: bool,
}

/// An account a worker may move money from or to.
#[derive(Clone)]
struct Slot {
    user: usize,
    fintech_use_num: String,
    demand: bool,
}

const WORKERS: usize = 6;
const PAIRS_PER_WORKER: usize = 60;
const BANKS: &[&str] = &[
    "004", "088", "090", "081", "020", "092", "011", "003", "071", "089", "032", "045",
];

fn random_fault(rng: &mut StdRng) -> serde_json::Value {
    let api = if rng.gen_bool(0.5) {
        "withdraw"
    } else {
        "deposit"
    };
    let bank = if rng.gen_bool(0.5) {
        json!(BANKS[rng.gen_range(0..BANKS.len())])
    } else {
        json!(null)
    };
    let fault = match rng.gen_range(0..7) {
        0 => json!({"kind": "bank_error", "bank_rsp_code": "499"}),
        1 => json!({"kind": "timeout", "applied": true, "rsp_code": "A0007"}),
        2 => json!({"kind": "timeout", "applied": false, "rsp_code": "A0017"}),
        3 => json!({"kind": "drop", "after_commit": true}),
        4 => json!({"kind": "drop", "after_commit": false}),
        5 => json!({"kind": "timeout", "applied": true, "rsp_code": "A0017"}),
        _ => json!({"kind": "usage_limit"}),
    };
    json!({"api": api, "bank_code": bank, "remaining": rng.gen_range(1..=2), "fault": fault})
}

async fn settle(bed: &Bed, oob: &str, mut leg: Leg) -> Leg {
    leg.applied = match &leg.answer {
        Answer::Applied => true,
        Answer::Refused(_) => false,
        Answer::Unknown(_) => bed
            .settle(oob, leg.withdraw, &leg.id, leg.amount)
            .await
            .unwrap_or(false),
    };
    leg
}

async fn worker(
    bed: Arc<Bed>,
    users: Arc<Vec<User>>,
    slots: Arc<Vec<Slot>>,
    oob: Arc<String>,
    seed: u64,
) -> Vec<Leg> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut legs = Vec::new();
    for _ in 0..PAIRS_PER_WORKER {
        let sources: Vec<&Slot> = slots.iter().filter(|s| s.demand).collect();
        let source = sources[rng.gen_range(0..sources.len())].clone();
        let target = slots[rng.gen_range(0..slots.len())].clone();
        // Now and then more than the account holds, so the bank says 453.
        let amount = if rng.gen_bool(0.05) {
            900_000_000
        } else {
            rng.gen_range(1..=300) * 1_000
        };
        let id = bed.next_id(0);
        let user = &users[source.user];
        let answer = classify(
            bed.withdraw(user, &id, &source.fintech_use_num, amount)
                .await,
        );
        let out = settle(
            &bed,
            &oob,
            Leg {
                id,
                withdraw: true,
                amount,
                answer,
                applied: false,
            },
        )
        .await;
        let withdrawn = out.applied;
        legs.push(out);
        if !withdrawn {
            continue;
        }
        let id = bed.next_id(0);
        let answer = classify(
            bed.deposit(0, &oob, &id, &target.fintech_use_num, amount)
                .await,
        );
        legs.push(
            settle(
                &bed,
                &oob,
                Leg {
                    id,
                    withdraw: false,
                    amount,
                    answer,
                    applied: false,
                },
            )
            .await,
        );
    }
    legs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn money_is_conserved_and_never_doubled_while_faults_strike() {
    let dir = std::env::temp_dir().join(format!("moa-bank-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let bed = Arc::new(common::spawn_with(Config::file(dir.join("bank.db"))).await);

    // Every demo person registers every account with institution 0.
    let mut users = Vec::new();
    let mut slots = Vec::new();
    for (p, person) in bed.spawned.manifest.users.clone().iter().enumerate() {
        let indexes: Vec<usize> = (0..person.accounts.len()).collect();
        let user = bed.user(0, p, &indexes).await;
        let fintech = bed.fintech_nums(&user).await;
        for (i, account) in person.accounts.iter().enumerate() {
            slots.push(Slot {
                user: users.len(),
                fintech_use_num: fintech[i].clone(),
                demand: account.account_type == "1",
            });
        }
        users.push(user);
    }
    let oob = Arc::new(bed.oob_token(0).await);
    let initial = bed.admin.ledger().await;
    let collection = bed.institution(0).collection_account.clone();
    let payout = bed.institution(0).payout_account.clone();

    // Faults arrive at random while the workers run; a reader watches the ledger meanwhile.
    let running = Arc::new(AtomicBool::new(true));
    let injector = {
        let (bed, running) = (bed.clone(), running.clone());
        tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(7);
            let mut injected = 0;
            while running.load(Ordering::Relaxed) && injected < 400 {
                bed.admin.add_fault(random_fault(&mut rng)).await;
                injected += 1;
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
            injected
        })
    };
    let reader = {
        let (bed, running) = (bed.clone(), running.clone());
        tokio::spawn(async move {
            let mut reads = 0;
            while running.load(Ordering::Relaxed) && reads < 2_000 {
                // Mid-run only the ledger's own invariants hold still: transfers are in flight.
                let now = bed.admin.ledger().await;
                let broken = harness::check(&bed.opening, &now, &[]);
                assert!(broken.is_empty(), "during the run: {broken:?}");
                reads += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            reads
        })
    };
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        workers.push(tokio::spawn(worker(
            bed.clone(),
            Arc::new(users.clone()),
            Arc::new(slots.clone()),
            oob.clone(),
            w as u64,
        )));
    }
    let mut legs = Vec::new();
    for w in workers {
        legs.extend(w.await.unwrap());
    }
    running.store(false, Ordering::Relaxed);
    let injected = injector.await.unwrap();
    let reads = reader.await.unwrap();
    bed.admin.clear_faults().await;

    // The ledger at the end: money conserved, nothing below zero, each transfer applied at
    // most once as balanced postings.
    bed.assert_invariants().await;
    let accounts = bed.admin.ledger().await;
    let records = bed.admin.transfers().await;

    // What every client believes, after settlement, is what the ledger did.
    let mut unknown = 0;
    let (mut withdrawn, mut deposited) = (0, 0);
    for leg in &legs {
        let record = records.iter().find(|r| r.bank_tran_id == leg.id);
        let done = record.is_some_and(CenterTransfer::applied);
        assert_eq!(
            leg.applied, done,
            "the client and the ledger disagree on {leg:?}: {record:?}"
        );
        if matches!(leg.answer, Answer::Unknown(_)) {
            unknown += 1;
        }
        if leg.applied {
            if leg.withdraw {
                withdrawn += leg.amount;
            } else {
                deposited += leg.amount;
            }
        }
    }
    // The institution's contract accounts moved by exactly what the clients know was applied.
    let contract = |ledger: &Ledger, account: &ContractAccount| {
        ledger.balance(&account.bank_code_std, &account.account_num)
    };
    assert_eq!(
        contract(&accounts, &collection) - contract(&initial, &collection),
        withdrawn
    );
    assert_eq!(
        contract(&initial, &payout) - contract(&accounts, &payout),
        deposited
    );

    let refused = legs
        .iter()
        .filter(|l| matches!(l.answer, Answer::Refused(_)))
        .count();
    eprintln!(
        "{} legs: {unknown} answers lost, {refused} refused; {injected} faults; {reads} reads",
        legs.len()
    );
    // The run really exercised what it claims to.
    assert!(
        legs.len() >= WORKERS * PAIRS_PER_WORKER,
        "{} legs",
        legs.len()
    );
    assert!(
        unknown >= 5,
        "only {unknown} answers were lost; the faults did not strike"
    );
    assert!(injected >= 10, "only {injected} faults injected");
    assert!(reads >= 5, "only {reads} reads during the run");
    assert!(withdrawn > 0 && deposited > 0);
    drop(bed);
    let _ = std::fs::remove_dir_all(&dir);
}
