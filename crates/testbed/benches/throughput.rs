//! Throughput of the testbed on this machine, in one run: balance inquiries per second and
//! durable transfers per second at concurrency 16 with no injected latency, against the raw
//! durable-commit rate of SQLite on the same disk — the limit a ledger that fsyncs every
//! acknowledged transfer works against.
//!
//! `cargo bench -p moa-testbed --bench throughput` (or `./dev bench`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use moa_testbed::{Config, DbLocation};
use serde_json::{Value, json};

const CONCURRENCY: usize = 16;
const RUN: Duration = Duration::from_secs(5);
const RAW_COMMITS: u32 = 2_000;

/// Single-row transactions committed one at a time, WAL with `synchronous=FULL`: what the
/// disk allows when every commit waits for its own fsync.
fn raw_commit_rate(dir: &std::path::Path) -> f64 {
    let path = dir.join("raw.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("full");
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
        .expect("table");
    let started = Instant::now();
    for i in 0..RAW_COMMITS {
        conn.execute("INSERT INTO t (v) VALUES (?1)", [i])
            .expect("insert");
    }
    f64::from(RAW_COMMITS) / started.elapsed().as_secs_f64()
}

struct Setup {
    base: String,
    http: reqwest::Client,
    access_token: String,
    fintech: Vec<String>,
    client_use_code: String,
    collection: String,
}

async fn setup(base: &str, manifest: &moa_testbed::Manifest) -> Setup {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .expect("client");
    let moa = &manifest.institutions[0];
    let person = &manifest.users[2];
    let demand: Vec<Value> = person
        .accounts
        .iter()
        .filter(|a| a.account_type == "1")
        .map(|a| json!({"bank_code_std": a.bank_code_std, "account_num": a.account_num}))
        .collect();
    let callback = "http://127.0.0.1:40000/callback";
    let code: Value = http
        .post(format!("{base}/testbed/sandbox/authorize"))
        .json(&json!({
            "client_id": moa.client_id, "client_secret": moa.client_secret, "redirect_uri": callback,
            "scope": "login inquiry transfer", "state": "bench", "cell_no": person.cell_no,
            "accounts": demand, "inquiry_agree": "Y", "transfer_agree": "Y",
        }))
        .send()
        .await
        .expect("authorize")
        .json()
        .await
        .expect("json");
    let tokens: Value = http
        .post(format!("{base}/oauth/2.0/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code["code"].as_str().expect("code")),
            ("client_id", &moa.client_id),
            ("client_secret", &moa.client_secret),
            ("redirect_uri", callback),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let access_token = tokens["access_token"].as_str().expect("token").to_owned();
    let me: Value = http
        .get(format!("{base}/v2.0/user/me"))
        .bearer_auth(&access_token)
        .query(&[("user_seq_no", tokens["user_seq_no"].as_str().expect("seq"))])
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let fintech = me["res_list"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["fintech_use_num"].as_str().expect("fintech").to_owned())
        .collect();
    Setup {
        base: base.to_owned(),
        http,
        access_token,
        fintech,
        client_use_code: moa.client_use_code.clone(),
        collection: moa.collection_account.account_num.clone(),
    }
}

fn dtime() -> String {
    moa_testbed::clock::dtime(&chrono::Utc::now().with_timezone(&moa_testbed::clock::kst()))
}

/// Runs `CONCURRENCY` workers for `RUN`, each calling `one` in a loop; answers per second.
async fn measure<F, Fut>(setup: Arc<Setup>, one: F) -> (f64, u64)
where
    F: Fn(Arc<Setup>, u64) -> Fut + Send + Sync + Copy + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (setup, next, failures) = (setup.clone(), next.clone(), failures.clone());
        workers.push(tokio::spawn(async move {
            let mut done = 0u64;
            while started.elapsed() < RUN {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if one(setup.clone(), n).await {
                    done += 1;
                } else {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
            done
        }));
    }
    let mut total = 0;
    for w in workers {
        total += w.await.expect("worker");
    }
    (
        total as f64 / started.elapsed().as_secs_f64(),
        failures.load(Ordering::Relaxed),
    )
}

async fn balance(setup: Arc<Setup>, n: u64) -> bool {
    let id = format!("{}U{:09}", setup.client_use_code, n);
    let fintech = &setup.fintech[n as usize % setup.fintech.len()];
    let answer: Value = match setup
        .http
        .get(format!("{}/v2.0/account/balance/fin_num", setup.base))
        .bearer_auth(&setup.access_token)
        .query(&[
            ("bank_tran_id", id.as_str()),
            ("fintech_use_num", fintech),
            ("tran_dtime", &dtime()),
        ])
        .send()
        .await
    {
        Ok(response) => response.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    answer["rsp_code"] == "A0000"
}

async fn transfer(setup: Arc<Setup>, n: u64) -> bool {
    // Ids continue past the inquiries' so that none is reused today.
    let id = format!("{}U{:09}", setup.client_use_code, 500_000_000 + n);
    let fintech = &setup.fintech[n as usize % setup.fintech.len()];
    let body = json!({
        "bank_tran_id": id, "cntr_account_type": "N", "cntr_account_num": setup.collection,
        "dps_print_content": "bench", "fintech_use_num": fintech, "tran_amt": "1",
        "tran_dtime": dtime(), "req_client_name": "bench", "req_client_fintech_use_num": fintech,
        "req_client_num": "B1", "transfer_purpose": "TR",
    });
    let answer: Value = match setup
        .http
        .post(format!("{}/v2.0/transfer/withdraw/fin_num", setup.base))
        .bearer_auth(&setup.access_token)
        .json(&body)
        .send()
        .await
    {
        Ok(response) => response.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    answer["rsp_code"] == "A0000"
}

#[allow(clippy::print_stdout)]
fn main() {
    let dir = std::env::temp_dir().join(format!("moa-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // The disk's fsync rate wanders; measure it before and after and hold the transfers
    // against the better of the two.
    let raw_before = raw_commit_rate(&dir);
    let (inquiries, transfers) = runtime.block_on(async {
        let mut config = Config::in_memory();
        config.db = DbLocation::File(dir.join("testbed.db"));
        let spawned = moa_testbed::spawn(config).await.expect("testbed");
        let setup = Arc::new(setup(&spawned.base_url, &spawned.manifest).await);
        let inquiries = measure(setup.clone(), balance).await;
        let transfers = measure(setup.clone(), transfer).await;
        spawned.shutdown().await;
        (inquiries, transfers)
    });
    let raw_after = raw_commit_rate(&dir);
    let raw = raw_before.max(raw_after);
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "testbed throughput, concurrency {CONCURRENCY}, {}s each, no injected latency",
        RUN.as_secs()
    );
    println!(
        "  balance inquiries      {:>9.0} /s   ({} failed)",
        inquiries.0, inquiries.1
    );
    println!(
        "  durable transfers      {:>9.0} /s   ({} failed)",
        transfers.0, transfers.1
    );
    println!(
        "  raw SQLite commits     {:>9.0} /s   (WAL, synchronous=FULL, one row each)",
        raw
    );
    println!("  transfers / raw commit {:>9.2}x", transfers.0 / raw);
}
