//! A testbed on a database file keeps what it promised across a restart, a clean one through the
//! library and a `kill -9` of the real binary.

mod common;

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Bed, CALLBACK};
use moa_testbed::Config;
use serde_json::{Value, json};

/// A private folder under the system's temp dir, removed when the test ends, pass or fail.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "moa-testbed-{what}-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&path).expect("a temp dir");
        Self(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn registrations_and_tokens_survive_a_restart_of_the_library() {
    let dir = TempDir::new("restart");
    let db = dir.join("testbed.db");

    let bed = common::spawn_with(Config::file(&db)).await;
    let user = bed.user(0, 1, &[0, 2]).await;
    let fintech = bed.fintech_nums(&user).await;
    let balance = bed.balance(&user, &fintech[0]).await["balance_amt"].clone();
    let manifest = bed.spawned.manifest.clone();
    let Bed { spawned, http, .. } = bed;
    spawned.shutdown().await;
    drop(http);

    let bed = common::spawn_with(Config::file(&db)).await;
    let again = bed.spawned.manifest.clone();
    assert_eq!(
        again.institutions, manifest.institutions,
        "same credentials"
    );
    assert_eq!(again.users, manifest.users, "same people, same accounts");
    assert_eq!(again.admin_token, manifest.admin_token);
    assert_eq!(
        bed.fintech_nums(&user).await,
        fintech,
        "the old token works"
    );
    assert_eq!(
        bed.balance(&user, &fintech[0]).await["balance_amt"],
        balance,
        "the seed was not run again"
    );
    let refreshed = bed
        .refresh_raw(0, &user.refresh_token, "login inquiry")
        .await;
    assert!(refreshed.get("access_token").is_some(), "{refreshed}");
    bed.spawned.shutdown().await;
}

/// The real binary, killed with SIGKILL when dropped.
struct Server {
    child: Child,
    base_url: String,
}

impl Server {
    fn start(db: &Path, manifest: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_moa-testbed"))
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .arg("--db")
            .arg(db)
            .arg("--manifest-out")
            .arg(manifest)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("stdout");
        // Guard before waiting, so a server that never speaks is still killed.
        let mut server = Server {
            child,
            base_url: String::new(),
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server says where it listens");
        let base_url = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
        server.base_url = base_url;
        server
    }

    /// `kill -9`: no shutdown, no flush, nothing but what was committed.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        let status = self.child.wait().expect("reaped");
        assert!(!status.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_manifest(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("the manifest was written"))
        .expect("manifest JSON")
}

fn assert_manifest_shape(manifest: &Value, base_url: &str) {
    assert_eq!(manifest["base_url"], base_url);
    assert!(
        !manifest["admin_token"]
            .as_str()
            .expect("a string")
            .is_empty()
    );
    let institutions = manifest["institutions"].as_array().expect("an array");
    assert!(institutions.len() >= 2);
    for i in institutions {
        for field in ["name", "client_id", "client_secret", "client_use_code"] {
            assert!(!i[field].as_str().expect("a string").is_empty(), "{field}");
        }
        let code = i["client_use_code"].as_str().expect("a string");
        assert_eq!(code.len(), 10);
        assert!(code.as_bytes()[0].is_ascii_uppercase());
        assert!(code[1..].bytes().all(|b| b.is_ascii_digit()));
        assert!(!i["redirect_uris"].as_array().expect("an array").is_empty());
        for contract in ["collection_account", "payout_account"] {
            assert_eq!(
                i[contract]["bank_code_std"]
                    .as_str()
                    .expect("a string")
                    .len(),
                3
            );
            assert!(
                !i[contract]["account_num"]
                    .as_str()
                    .expect("a string")
                    .is_empty()
            );
        }
    }
    let users = manifest["users"].as_array().expect("an array");
    assert!(users.len() >= 3);
    for u in users {
        for field in ["user_name", "birth_date", "cell_no"] {
            assert!(!u[field].as_str().expect("a string").is_empty(), "{field}");
        }
        for a in u["accounts"].as_array().expect("an array") {
            for field in [
                "bank_code_std",
                "bank_name",
                "account_num",
                "account_holder_name",
                "account_type",
            ] {
                assert!(!a[field].as_str().expect("a string").is_empty(), "{field}");
            }
        }
    }
}

/// Sends `request` and reads its JSON answer.
async fn answer(request: reqwest::RequestBuilder) -> Value {
    request
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn the_binary_keeps_registrations_and_tokens_through_kill_9() {
    let dir = TempDir::new("kill9");
    let db = dir.join("testbed.db");
    let manifest_path = dir.join("manifest.json");
    let http = common::http_client();

    let server = Server::start(&db, &manifest_path);
    let manifest = read_manifest(&manifest_path);
    assert_manifest_shape(&manifest, &server.base_url);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&manifest_path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the manifest holds secrets: owner only");
    }
    let i = &manifest["institutions"][0];
    let p = &manifest["users"][0];
    let code = http
        .post(format!("{}/testbed/sandbox/authorize", server.base_url))
        .json(&json!({
            "client_id": i["client_id"],
            "client_secret": i["client_secret"],
            "redirect_uri": CALLBACK,
            "scope": "login inquiry",
            "state": "state",
            "cell_no": p["cell_no"],
            "accounts": [{
                "bank_code_std": p["accounts"][1]["bank_code_std"],
                "account_num": p["accounts"][1]["account_num"],
            }],
            "inquiry_agree": "Y",
        }));
    let code = answer(code).await["code"]
        .as_str()
        .expect("a code")
        .to_owned();
    // The same exchange before and after the kill, against the binary's server.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", i["client_id"].as_str().unwrap()),
        ("client_secret", i["client_secret"].as_str().unwrap()),
        ("redirect_uri", CALLBACK),
    ];
    let exchange = |base_url: &str| http.post(format!("{base_url}/oauth/2.0/token")).form(&form);
    let token = answer(exchange(&server.base_url)).await;
    let access = token["access_token"].as_str().expect("a token").to_owned();
    let user_seq_no = token["user_seq_no"].as_str().unwrap().to_owned();
    let me = |base_url: &str| {
        http.get(format!("{base_url}/v2.0/user/me"))
            .bearer_auth(&access)
            .query(&[("user_seq_no", &user_seq_no)])
    };
    let before = answer(me(&server.base_url)).await;
    assert_eq!(before["res_cnt"], "1", "{before}");
    server.kill();

    let server = Server::start(&db, &manifest_path);
    let restarted = read_manifest(&manifest_path);
    assert_eq!(restarted["institutions"], manifest["institutions"]);
    assert_eq!(restarted["users"], manifest["users"]);
    let after = answer(me(&server.base_url)).await;
    assert_eq!(after["rsp_code"], "A0000", "{after}");
    assert_eq!(after["res_list"], before["res_list"]);
    // The code was spent before the kill and stays spent.
    let reused = answer(exchange(&server.base_url)).await;
    assert_eq!(reused["rsp_code"], "O0001");
    server.kill();
}
