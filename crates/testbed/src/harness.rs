//! What every harness that drives the testbed shares: a typed client of its admin API
//! ([`Admin`]), the read-outs it answers ([`Ledger`], [`CenterTransfer`]), and the one money
//! auditor ([`check`], [`assert_invariants`]) that runs after every scenario, whichever crate's
//! tests ran it.
//!
//! The invariants, against the ledger as it stood before the scenario:
//!
//! - the sum of all balances is what it was, and is what the center reports as its total;
//! - no balance is below zero;
//! - every applied transfer wrote exactly two postings that sum to zero, every refused one none;
//! - no `bank_tran_id` was applied twice by one institution on one day.
//!
//! The admin client is for tests: a call that fails panics with what the center said.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Spawned;
use crate::faults::FaultRule;

/// An account's place in the ledger: its bank code and account number.
pub type AccountKey = (String, String);

/// One account as `GET /testbed/admin/ledger` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerAccount {
    /// The bank's code, e.g. `004`.
    pub bank_code_std: String,
    /// The full account number.
    pub account_num: String,
    /// Whose it is.
    pub account_holder_name: String,
    /// Whole won.
    pub balance: i64,
}

/// Every balance at the center at one moment, read in one transaction
/// (`GET /testbed/admin/ledger`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "LedgerWire", into = "LedgerWire")]
pub struct Ledger {
    /// The sum of all balances, as the center reports it.
    pub total: i64,
    /// The smallest balance, as the center reports it.
    pub min_balance: i64,
    /// Each account's balance, by (bank code, account number).
    pub balances: BTreeMap<AccountKey, i64>,
    /// Each account's holder, by (bank code, account number).
    pub holders: BTreeMap<AccountKey, String>,
}

/// The ledger as it travels: the totals and the list of accounts.
#[derive(Serialize, Deserialize)]
struct LedgerWire {
    total: i64,
    min_balance: i64,
    accounts: Vec<LedgerAccount>,
}

impl From<LedgerWire> for Ledger {
    fn from(wire: LedgerWire) -> Self {
        let mut ledger = Ledger::from_accounts(wire.accounts);
        ledger.total = wire.total;
        ledger.min_balance = wire.min_balance;
        ledger
    }
}

impl From<Ledger> for LedgerWire {
    fn from(ledger: Ledger) -> Self {
        LedgerWire {
            total: ledger.total,
            min_balance: ledger.min_balance,
            accounts: ledger.accounts(),
        }
    }
}

fn key(bank_code: &str, account_num: &str) -> AccountKey {
    (bank_code.to_owned(), account_num.to_owned())
}

impl Ledger {
    /// The ledger of `accounts`, its total and smallest balance computed from them.
    pub fn from_accounts(accounts: impl IntoIterator<Item = LedgerAccount>) -> Self {
        let mut balances = BTreeMap::new();
        let mut holders = BTreeMap::new();
        for a in accounts {
            let k = key(&a.bank_code_std, &a.account_num);
            balances.insert(k.clone(), a.balance);
            holders.insert(k, a.account_holder_name);
        }
        Ledger {
            total: balances.values().sum(),
            min_balance: balances.values().copied().min().unwrap_or(0),
            balances,
            holders,
        }
    }

    /// One account's balance; panics when the ledger has no such account.
    pub fn balance(&self, bank_code: &str, account_num: &str) -> i64 {
        self.get(bank_code, account_num)
            .unwrap_or_else(|| panic!("no account {bank_code}-{account_num} in the ledger"))
    }

    /// One account's balance, if the ledger has the account.
    pub fn get(&self, bank_code: &str, account_num: &str) -> Option<i64> {
        self.balances.get(&key(bank_code, account_num)).copied()
    }

    /// Every account, ordered by bank code and account number.
    pub fn accounts(&self) -> Vec<LedgerAccount> {
        self.balances
            .iter()
            .map(|((bank, number), balance)| LedgerAccount {
                bank_code_std: bank.clone(),
                account_num: number.clone(),
                account_holder_name: self
                    .holders
                    .get(&key(bank, number))
                    .cloned()
                    .unwrap_or_default(),
                balance: *balance,
            })
            .collect()
    }

    /// The accounts of `holder`, ordered by bank code and account number.
    pub fn accounts_of(&self, holder: &str) -> Vec<LedgerAccount> {
        self.accounts()
            .into_iter()
            .filter(|a| a.account_holder_name == holder)
            .collect()
    }

    /// The accounts whose balance differs from `earlier`'s, with their change (an account
    /// `earlier` did not have counts from zero).
    pub fn changes_since(&self, earlier: &Ledger) -> BTreeMap<AccountKey, i64> {
        self.balances
            .iter()
            .filter_map(|(k, now)| {
                let before = earlier.balances.get(k).copied().unwrap_or(0);
                (*now != before).then(|| (k.clone(), now - before))
            })
            .collect()
    }
}

/// Which way a transfer moved money, relative to the institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    /// From a person's account into the institution's collection account.
    Withdraw,
    /// From the institution's payout account into an account.
    Deposit,
}

/// How a transfer that reached a bank ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    /// Applied: two postings moved the money.
    Done,
    /// Refused by the bank: nothing moved.
    Refused,
}

/// A transfer that reached a bank, as `GET /testbed/admin/transfers` lists it (oldest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CenterTransfer {
    /// The institution's `client_use_code`.
    pub client_use_code: String,
    /// The business date it is filed under, `yyyyMMdd`.
    pub bank_tran_date: String,
    /// The institution's id for it.
    pub bank_tran_id: String,
    /// Withdraw or deposit.
    pub kind: TransferKind,
    /// Whole won.
    pub amount: i64,
    /// Applied or refused.
    pub status: TransferStatus,
    /// The bank's answer: `000` when applied.
    pub bank_rsp_code: String,
    /// History rows it wrote: 2 when applied, 0 when refused.
    pub postings: i64,
    /// Their signed sum: 0 for every transfer.
    pub postings_sum: i64,
}

impl CenterTransfer {
    /// Whether it was applied.
    pub fn applied(&self) -> bool {
        self.status == TransferStatus::Done
    }
}

/// An invariant the center's money broke.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// The total the center reports is not the sum of its balances.
    TotalIsNotTheSum {
        /// What the center reports.
        total: i64,
        /// What the balances add up to.
        sum: i64,
    },
    /// Money appeared or vanished since the opening ledger.
    NotConserved {
        /// The opening total.
        opening: i64,
        /// The total now.
        now: i64,
        /// Every account that moved, with its change.
        changes: BTreeMap<AccountKey, i64>,
    },
    /// An account's balance is below zero.
    NegativeBalance {
        /// Which account.
        account: AccountKey,
        /// Its balance.
        balance: i64,
    },
    /// The center reports a smallest balance below zero.
    NegativeMinimum {
        /// What it reports.
        min_balance: i64,
    },
    /// An applied transfer did not write two postings summing to zero.
    UnbalancedPostings(CenterTransfer),
    /// A refused transfer wrote postings.
    RefusedButPosted(CenterTransfer),
    /// One institution applied one `bank_tran_id` more than once on one day.
    AppliedTwice {
        /// The institution's `client_use_code`.
        client_use_code: String,
        /// The business date.
        bank_tran_date: String,
        /// The id.
        bank_tran_id: String,
        /// How many times it was applied.
        times: usize,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::TotalIsNotTheSum { total, sum } => {
                write!(
                    f,
                    "the ledger's total {total} is not its balances' sum {sum}"
                )
            }
            Violation::NotConserved {
                opening,
                now,
                changes,
            } => write!(
                f,
                "money is not conserved: {opening} then, {now} now ({:+}); changes: {changes:?}",
                now - opening
            ),
            Violation::NegativeBalance { account, balance } => {
                write!(
                    f,
                    "account {}-{} is below zero: {balance}",
                    account.0, account.1
                )
            }
            Violation::NegativeMinimum { min_balance } => {
                write!(f, "the center reports a balance below zero: {min_balance}")
            }
            Violation::UnbalancedPostings(t) => write!(
                f,
                "applied transfer {} posted {} rows summing to {}, not 2 summing to 0",
                t.bank_tran_id, t.postings, t.postings_sum
            ),
            Violation::RefusedButPosted(t) => write!(
                f,
                "refused transfer {} posted {} rows",
                t.bank_tran_id, t.postings
            ),
            Violation::AppliedTwice {
                client_use_code,
                bank_tran_date,
                bank_tran_id,
                times,
            } => write!(
                f,
                "{client_use_code} applied {bank_tran_id} {times} times on {bank_tran_date}"
            ),
        }
    }
}

/// Checks the center's money `now` against the `opening` ledger and every transfer it lists:
/// what is broken, in that order (empty when all holds).
pub fn check(opening: &Ledger, now: &Ledger, transfers: &[CenterTransfer]) -> Vec<Violation> {
    let mut broken = Vec::new();
    let sum: i64 = now.balances.values().sum();
    if sum != now.total {
        broken.push(Violation::TotalIsNotTheSum {
            total: now.total,
            sum,
        });
    }
    // The balances are the money; the reported total is checked against them above.
    if sum != opening.total {
        broken.push(Violation::NotConserved {
            opening: opening.total,
            now: sum,
            changes: now.changes_since(opening),
        });
    }
    for (account, balance) in &now.balances {
        if *balance < 0 {
            broken.push(Violation::NegativeBalance {
                account: account.clone(),
                balance: *balance,
            });
        }
    }
    if now.min_balance < 0 {
        broken.push(Violation::NegativeMinimum {
            min_balance: now.min_balance,
        });
    }
    let mut applied: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for t in transfers {
        match t.status {
            TransferStatus::Done => {
                if (t.postings, t.postings_sum) != (2, 0) {
                    broken.push(Violation::UnbalancedPostings(t.clone()));
                }
                *applied
                    .entry((&t.client_use_code, &t.bank_tran_date, &t.bank_tran_id))
                    .or_default() += 1;
            }
            TransferStatus::Refused => {
                if t.postings != 0 {
                    broken.push(Violation::RefusedButPosted(t.clone()));
                }
            }
        }
    }
    let mut twice: Vec<_> = applied.into_iter().filter(|(_, n)| *n > 1).collect();
    twice.sort();
    for ((client_use_code, bank_tran_date, bank_tran_id), times) in twice {
        broken.push(Violation::AppliedTwice {
            client_use_code: client_use_code.to_owned(),
            bank_tran_date: bank_tran_date.to_owned(),
            bank_tran_id: bank_tran_id.to_owned(),
            times,
        });
    }
    broken
}

/// The auditor: reads the center's ledger and transfers through `admin` and panics with a
/// readable list of every broken invariant (see [`check`]) against `opening`.
pub async fn assert_invariants(admin: &Admin, opening: &Ledger) {
    let now = admin.ledger().await;
    let transfers = admin.transfers().await;
    let broken = check(opening, &now, &transfers);
    if !broken.is_empty() {
        let list: Vec<String> = broken.iter().map(|v| format!("  - {v}")).collect();
        panic!(
            "the center's money broke {} invariant(s):\n{}",
            broken.len(),
            list.join("\n")
        );
    }
}

/// The center's clock as `GET /testbed/admin/clock` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CenterClock {
    /// How far it runs ahead of real time (behind when negative).
    pub offset_seconds: i64,
    /// Its time now, `yyyyMMddHHmmss` in Korea Standard Time.
    pub now: String,
}

/// The center's admin API (`/testbed/admin`), with the manifest's admin token. Every call must
/// succeed; one that does not panics with the center's answer. Its `Debug` hides the token.
#[derive(Clone)]
pub struct Admin {
    base_url: String,
    token: String,
    http: reqwest::Client,
}

impl fmt::Debug for Admin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admin")
            .field("base_url", &self.base_url)
            .field("token", &"***")
            .finish_non_exhaustive()
    }
}

impl Admin {
    /// The admin API of a testbed spawned in this process.
    pub fn of(spawned: &Spawned) -> Self {
        Self::new(&spawned.base_url, &spawned.manifest.admin_token)
    }

    /// The admin API at `base_url` with `admin_token`: for a center in another process.
    pub fn new(base_url: &str, admin_token: &str) -> Self {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|e| panic!("the admin HTTP client: {e}"));
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: admin_token.to_owned(),
            http,
        }
    }

    /// The center's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// An admin call that must succeed; its JSON answer (`Null` when empty or not JSON).
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base_url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: the admin API did not answer: {e}"));
        let status = response.status();
        let text = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: the answer was not read: {e}"));
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// An admin `GET` read as `T`.
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let value = self.call(Method::GET, path, None).await;
        serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("GET {path}: {e} in {value}"))
    }

    /// Every balance (`GET /testbed/admin/ledger`).
    pub async fn ledger(&self) -> Ledger {
        self.get("/testbed/admin/ledger").await
    }

    /// Every transfer that reached a bank, oldest first (`GET /testbed/admin/transfers`).
    pub async fn transfers(&self) -> Vec<CenterTransfer> {
        self.get("/testbed/admin/transfers").await
    }

    /// Scripts a fault after those already waiting (`POST /testbed/admin/faults`): a
    /// [`FaultRule`], or its JSON form.
    pub async fn add_fault(&self, rule: impl Serialize) {
        let rule =
            serde_json::to_value(rule).unwrap_or_else(|e| panic!("a fault rule as JSON: {e}"));
        self.call(Method::POST, "/testbed/admin/faults", Some(rule))
            .await;
    }

    /// The fault rules still waiting, each with the calls it has left: a rule that is gone hit
    /// all of its calls.
    pub async fn faults(&self) -> Vec<FaultRule> {
        self.get("/testbed/admin/faults").await
    }

    /// Removes every scripted fault.
    pub async fn clear_faults(&self) {
        self.call(Method::DELETE, "/testbed/admin/faults", None)
            .await;
    }

    /// The center's clock.
    pub async fn clock(&self) -> CenterClock {
        self.get("/testbed/admin/clock").await
    }

    /// Runs the center's clock `seconds` ahead of real time (behind when negative).
    pub async fn set_clock_offset(&self, seconds: i64) {
        self.call(
            Method::PUT,
            "/testbed/admin/clock",
            Some(serde_json::json!({ "offset_seconds": seconds })),
        )
        .await;
    }

    /// Sets a bank's status: `Y` open, `D` in outage, `L` not open yet, `E` terminated.
    pub async fn set_bank_status(&self, bank_code: &str, status: &str) {
        self.call(
            Method::PUT,
            &format!("/testbed/admin/banks/{bank_code}"),
            Some(serde_json::json!({ "status": status })),
        )
        .await;
    }

    /// Sets how long a bank takes to answer; `None` is the center's default.
    pub async fn set_bank_latency(&self, bank_code: &str, millis: Option<u64>) {
        self.call(
            Method::PUT,
            &format!("/testbed/admin/banks/{bank_code}"),
            Some(serde_json::json!({ "latency_ms": millis })),
        )
        .await;
    }

    /// Registers the institution with `client_use_code` as a public client (it must use PKCE)
    /// or a confidential one.
    pub async fn set_institution_public(&self, client_use_code: &str, public: bool) {
        self.call(
            Method::PUT,
            &format!("/testbed/admin/institutions/{client_use_code}"),
            Some(serde_json::json!({ "public": public })),
        )
        .await;
    }

    /// Sets an account's state at its bank: `active`, `closed`, `suspended` or `dormant`.
    pub async fn set_account_state(&self, bank_code: &str, account_num: &str, state: &str) {
        self.call(
            Method::PUT,
            &format!("/testbed/admin/accounts/{bank_code}/{account_num}"),
            Some(serde_json::json!({ "state": state })),
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_clients_debug_output_hides_its_token() {
        let admin = Admin::new("http://127.0.0.1:9", "an-admin-token-81c2");
        let shown = format!("{admin:?}");
        assert!(!shown.contains("an-admin-token-81c2"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }

    fn account(bank: &str, number: &str, balance: i64) -> LedgerAccount {
        LedgerAccount {
            bank_code_std: bank.into(),
            account_num: number.into(),
            account_holder_name: "홍길동".into(),
            balance,
        }
    }

    fn opening() -> Ledger {
        Ledger::from_accounts([
            account("004", "1", 10_000),
            account("088", "2", 5_000),
            account("097", "3", 0),
        ])
    }

    fn transfer(id: &str, status: TransferStatus, postings: i64, sum: i64) -> CenterTransfer {
        CenterTransfer {
            client_use_code: "M202600001".into(),
            bank_tran_date: "20260101".into(),
            bank_tran_id: id.into(),
            kind: TransferKind::Withdraw,
            amount: 1_000,
            status,
            bank_rsp_code: if status == TransferStatus::Done {
                "000".into()
            } else {
                "453".into()
            },
            postings,
            postings_sum: sum,
        }
    }

    /// `opening` after 1,000 went from `004-1` to `097-3` through transfer `A`.
    fn moved() -> (Ledger, Vec<CenterTransfer>) {
        let now = Ledger::from_accounts([
            account("004", "1", 9_000),
            account("088", "2", 5_000),
            account("097", "3", 1_000),
        ]);
        (
            now,
            vec![
                transfer("M202600001U000000001", TransferStatus::Done, 2, 0),
                transfer("M202600001U000000002", TransferStatus::Refused, 0, 0),
            ],
        )
    }

    #[test]
    fn a_ledger_that_moved_money_honestly_breaks_nothing() {
        let (now, transfers) = moved();
        assert_eq!(check(&opening(), &now, &transfers), vec![]);
        assert_eq!(
            now.changes_since(&opening()),
            BTreeMap::from([(key("004", "1"), -1_000), (key("097", "3"), 1_000)])
        );
    }

    #[test]
    fn a_total_that_is_not_the_sum_of_the_balances_is_caught() {
        let (mut now, transfers) = moved();
        now.total += 1;
        assert_eq!(
            check(&opening(), &now, &transfers),
            vec![Violation::TotalIsNotTheSum {
                total: 15_001,
                sum: 15_000
            }]
        );
    }

    #[test]
    fn money_that_appeared_is_caught_with_the_accounts_that_moved() {
        let (mut now, transfers) = moved();
        *now.balances.get_mut(&key("088", "2")).unwrap() += 500;
        now.total += 500;
        let broken = check(&opening(), &now, &transfers);
        assert_eq!(
            broken,
            vec![Violation::NotConserved {
                opening: 15_000,
                now: 15_500,
                changes: BTreeMap::from([
                    (key("004", "1"), -1_000),
                    (key("088", "2"), 500),
                    (key("097", "3"), 1_000)
                ]),
            }]
        );
    }

    #[test]
    fn a_balance_below_zero_is_caught_even_when_the_total_holds() {
        let (mut now, transfers) = moved();
        *now.balances.get_mut(&key("004", "1")).unwrap() = -1_000;
        *now.balances.get_mut(&key("088", "2")).unwrap() = 15_000;
        assert_eq!(
            check(&opening(), &now, &transfers),
            vec![Violation::NegativeBalance {
                account: key("004", "1"),
                balance: -1_000
            }]
        );
    }

    #[test]
    fn a_reported_minimum_below_zero_is_caught() {
        let (mut now, transfers) = moved();
        now.min_balance = -1;
        assert_eq!(
            check(&opening(), &now, &transfers),
            vec![Violation::NegativeMinimum { min_balance: -1 }]
        );
    }

    #[test]
    fn an_applied_transfer_must_post_twice_summing_to_zero() {
        let (now, mut transfers) = moved();
        transfers[0].postings = 1;
        transfers[0].postings_sum = -1_000;
        let one_sided = transfers[0].clone();
        let mut lopsided = transfer("M202600001U000000003", TransferStatus::Done, 2, 10);
        lopsided.kind = TransferKind::Deposit;
        transfers.push(lopsided.clone());
        assert_eq!(
            check(&opening(), &now, &transfers),
            vec![
                Violation::UnbalancedPostings(one_sided),
                Violation::UnbalancedPostings(lopsided)
            ]
        );
    }

    #[test]
    fn a_refused_transfer_must_post_nothing() {
        let (now, mut transfers) = moved();
        transfers[1].postings = 2;
        assert_eq!(
            check(&opening(), &now, &transfers),
            vec![Violation::RefusedButPosted(transfers[1].clone())]
        );
    }

    #[test]
    fn a_bank_tran_id_applied_twice_by_one_institution_on_one_day_is_caught() {
        let (now, mut transfers) = moved();
        let again = transfers[0].clone();
        transfers.push(again.clone());
        // The same id on another day, or by another institution, is another transfer; refused
        // ones never count.
        let mut next_day = again.clone();
        next_day.bank_tran_date = "20260102".into();
        let mut other = again.clone();
        other.client_use_code = "T991599190".into();
        let mut refused = again.clone();
        refused.status = TransferStatus::Refused;
        refused.postings = 0;
        transfers.extend([next_day, other, refused]);
        assert_eq!(
            check(&opening(), &now, &transfers),
            vec![Violation::AppliedTwice {
                client_use_code: again.client_use_code,
                bank_tran_date: again.bank_tran_date,
                bank_tran_id: again.bank_tran_id,
                times: 2
            }]
        );
    }

    #[test]
    fn the_ledger_reads_and_writes_the_admin_apis_json() {
        let json = serde_json::json!({
            "total": 15_000,
            "min_balance": 0,
            "accounts": [
                {"bank_code_std": "004", "account_num": "1", "account_holder_name": "홍길동", "balance": 10_000},
                {"bank_code_std": "088", "account_num": "2", "account_holder_name": "홍길동", "balance": 5_000},
                {"bank_code_std": "097", "account_num": "3", "account_holder_name": "홍길동", "balance": 0},
            ],
        });
        let ledger: Ledger = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(ledger, opening());
        assert_eq!(ledger.balance("088", "2"), 5_000);
        assert_eq!(ledger.get("088", "9"), None);
        assert_eq!(ledger.accounts_of("홍길동").len(), 3);
        assert_eq!(serde_json::to_value(&ledger).unwrap(), json);
        let row: CenterTransfer = serde_json::from_value(serde_json::json!({
            "client_use_code": "M202600001", "bank_tran_date": "20260101",
            "bank_tran_id": "M202600001U000000001", "kind": "withdraw", "amount": 1000,
            "status": "done", "bank_rsp_code": "000", "postings": 2, "postings_sum": 0,
        }))
        .unwrap();
        assert_eq!(row, moved().1[0]);
    }

    #[test]
    fn violations_read_as_sentences() {
        let (now, mut transfers) = moved();
        transfers[1].postings = 2;
        let text = check(&opening(), &now, &transfers)[0].to_string();
        assert_eq!(text, "refused transfer M202600001U000000002 posted 2 rows");
    }
}
