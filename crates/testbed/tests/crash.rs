//! The testbed process is killed with SIGKILL under a load of transfers, restarted on the same
//! database, and the ledger still holds: every acknowledged transfer is there, applied once, and
//! the sum of all balances is what it was.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moa_testbed::Manifest;
use moa_testbed::harness::{self, Admin, CenterTransfer, Ledger};
use serde_json::{Value, json};

/// The real binary, killed when the test is done with it, however the test ends.
struct Server {
    child: Child,
    base_url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: &Path, manifest: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_moa-testbed"))
        .args([
            "serve",
            "--admin",
            "--addr",
            "127.0.0.1:0",
            "--latency-ms",
            "0",
            "--db",
        ])
        .arg(db)
        .arg("--manifest-out")
        .arg(manifest)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the testbed binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("a first line");
    let base_url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Server { child, base_url }
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn post(&self, path: &str, token: &str, body: &Value) -> Result<Value, reqwest::Error> {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .timeout(Duration::from_secs(5))
            .send()
            .await?
            .json()
            .await
    }

    async fn form(&self, fields: &[(&str, &str)]) -> Value {
        self.http
            .post(format!("{}/oauth/2.0/token", self.base))
            .form(fields)
            .send()
            .await
            .expect("token answers")
            .json()
            .await
            .expect("JSON")
    }
}

fn now_dtime() -> String {
    moa_testbed::clock::dtime(&chrono::Utc::now().with_timezone(&moa_testbed::clock::kst()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_transfers_survive_a_kill_9_under_load() {
    let dir = std::env::temp_dir().join(format!("moa-crash-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (db, manifest_path) = (dir.join("crash.db"), dir.join("manifest.json"));

    let server = start(&db, &manifest_path);
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let client = Client {
        http: reqwest::Client::new(),
        base: server.base_url.clone(),
    };
    let moa = manifest.institutions[0].clone();
    let person = &manifest.users[0];

    // The person registers their demand accounts; the institution gets its oob token.
    let demand: Vec<_> = person
        .accounts
        .iter()
        .filter(|a| a.account_type == "1")
        .collect();
    let registered = client
        .post("/testbed/sandbox/authorize", "", &json!({
            "client_id": moa.client_id, "client_secret": moa.client_secret,
            "redirect_uri": "http://127.0.0.1:40000/callback", "scope": "login inquiry transfer",
            "state": "crash", "cell_no": person.cell_no, "inquiry_agree": "Y", "transfer_agree": "Y",
            "accounts": demand.iter().map(|a| json!({"bank_code_std": a.bank_code_std, "account_num": a.account_num})).collect::<Vec<_>>(),
        }))
        .await
        .unwrap();
    let code = registered["code"].as_str().unwrap();
    let tokens = client
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", &moa.client_id),
            ("client_secret", &moa.client_secret),
            ("redirect_uri", "http://127.0.0.1:40000/callback"),
        ])
        .await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let user_seq_no = tokens["user_seq_no"].as_str().unwrap().to_owned();
    let oob = client
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &moa.client_id),
            ("client_secret", &moa.client_secret),
            ("scope", "oob"),
        ])
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = client
        .http
        .get(format!("{}/v2.0/user/me", client.base))
        .bearer_auth(&access)
        .query(&[("user_seq_no", &user_seq_no)])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let fintech: Vec<String> = me["res_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["fintech_use_num"].as_str().unwrap().to_owned())
        .collect();
    let initial = Admin::new(&server.base_url, &manifest.admin_token)
        .ledger()
        .await;

    // Load: workers withdraw small amounts as fast as they can, noting every acknowledgement.
    let client = Arc::new(client);
    let counter = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for w in 0..8 {
        let (client, access, fintech, counter, moa) = (
            client.clone(),
            access.clone(),
            fintech.clone(),
            counter.clone(),
            moa.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for _ in 0..100_000 {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let id = format!("{}U{:09}", moa.client_use_code, n);
                let body = json!({
                    "bank_tran_id": id, "cntr_account_type": "N",
                    "cntr_account_num": moa.collection_account.account_num, "dps_print_content": "crash",
                    "fintech_use_num": fintech[(n as usize + w) % fintech.len()], "tran_amt": "1000",
                    "tran_dtime": now_dtime(), "req_client_name": "홍길동",
                    "req_client_fintech_use_num": fintech[0], "req_client_num": "C1", "transfer_purpose": "TR",
                });
                match client.post("/v2.0/transfer/withdraw/fin_num", &access, &body).await {
                    Ok(answer) if answer["rsp_code"] == "A0000" => acknowledged.push(id),
                    Ok(_) => {}
                    Err(_) => break, // the server is gone
                }
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    drop(server); // SIGKILL, mid-load
    let mut acknowledged = Vec::new();
    for w in workers {
        acknowledged.extend(w.await.unwrap());
    }
    assert!(
        acknowledged.len() >= 20,
        "only {} transfers acknowledged before the kill",
        acknowledged.len()
    );

    // Restarted on the same database, the center still knows every acknowledged transfer.
    let server = start(&db, &manifest_path);
    let client = Client {
        http: reqwest::Client::new(),
        base: server.base_url.clone(),
    };
    let admin = Admin::new(&server.base_url, &manifest.admin_token);
    // Money conserved, nothing below zero, every applied transfer balanced and applied once.
    harness::assert_invariants(&admin, &initial).await;
    let after = admin.ledger().await;
    let done: std::collections::HashSet<String> = admin
        .transfers()
        .await
        .into_iter()
        .filter(CenterTransfer::applied)
        .map(|t| t.bank_tran_id)
        .collect();
    for id in &acknowledged {
        assert!(
            done.contains(id),
            "acknowledged {id} is missing after the crash"
        );
    }
    // Applied ones that were never acknowledged (answer lost in the kill) are there once, too:
    // the collection account holds exactly the applied withdrawals.
    let collection = |ledger: &Ledger| {
        ledger.balance(
            &moa.collection_account.bank_code_std,
            &moa.collection_account.account_num,
        )
    };
    assert_eq!(
        collection(&after) - collection(&initial),
        done.len() as i64 * 1_000
    );
    // transfer/result tells the same to a client that asks.
    for id in acknowledged.iter().take(25) {
        let answer = client
            .post(
                "/v2.0/transfer/result",
                &oob,
                &json!({
                    "check_type": "1", "tran_dtime": now_dtime(), "req_cnt": "1",
                    "req_list": [{"tran_no": "1", "org_bank_tran_id": id,
                        "org_bank_tran_date": &now_dtime()[..8], "org_tran_amt": "1000"}],
                }),
            )
            .await
            .unwrap();
        assert_eq!(answer["rsp_code"], "A0000", "{answer}");
        assert_eq!(answer["res_list"][0]["bank_rsp_code"], "000");
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
