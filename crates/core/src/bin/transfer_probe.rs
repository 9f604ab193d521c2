//! `moa-transfer-probe`: registers demo person 0 in the sandbox of a data folder and runs one
//! transfer between their first two accounts, stopping dead at a chosen saga step. The crash
//! tests run it, kill it with SIGKILL there, and resume the transfer in a new process.
//!
//! `moa-transfer-probe DATA_DIR STEP AMOUNT [refund]` — with `refund`, the deposit is refused
//! first so the saga goes the refund way.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use moa_core::transfer::{Hooks, Recipient, SettlePolicy, Step, TransferRequest};
use moa_core::{MemoryVault, Moa, Options};
use moa_openbanking::Lang;

/// Stops the process at one step: says so on stdout, then waits to be killed.
struct StopAt(Step);

impl Hooks for StopAt {
    fn at(&self, step: Step) {
        if step == self.0 {
            let mut out = std::io::stdout();
            let _ = writeln!(out, "stopped at {}", step.as_str());
            let _ = out.flush();
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: moa-transfer-probe DATA_DIR STEP AMOUNT [refund]";
    let (dir, step, amount) = match args.as_slice() {
        [_, dir, step, amount, ..] => (dir, step, amount),
        _ => return Err(usage.into()),
    };
    let step = Step::parse(step).ok_or(usage)?;
    let amount: i64 = amount.parse()?;
    let refund = args.get(4).map(String::as_str) == Some("refund");

    let mut options = Options::new(dir);
    options.vault = Arc::new(MemoryVault::new());
    options.sandbox_latency = Duration::ZERO;
    options.settle = SettlePolicy {
        attempts: 3,
        first_delay: Duration::from_millis(20),
    };
    options.hooks = Arc::new(StopAt(step));
    let moa = Moa::open(options).await?;
    let (base, manifest) = moa.sandbox().await.ok_or("no sandbox")?;
    let http = reqwest::Client::new();

    // Register through the sandbox's shortcut, with this registration's state and PKCE.
    let start = moa.begin_registration(false, Lang::Ko).await?;
    let url = url::Url::parse(&start.url)?;
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let person = &manifest.users[0];
    let moa_institution = &manifest.institutions[0];
    let code: serde_json::Value = http
        .post(format!("{base}/testbed/sandbox/authorize"))
        .json(&serde_json::json!({
            "client_id": moa_institution.client_id, "client_secret": moa_institution.client_secret,
            "redirect_uri": start.redirect_uri, "scope": "login inquiry transfer",
            "state": param("state"), "code_challenge": param("code_challenge"),
            "cell_no": person.cell_no, "inquiry_agree": "Y", "transfer_agree": "Y",
            "accounts": person.accounts[..2].iter().map(|a| serde_json::json!({"bank_code_std": a.bank_code_std, "account_num": a.account_num})).collect::<Vec<_>>(),
        }))
        .send()
        .await?
        .json()
        .await?;
    let callback = format!(
        "{}?code={}&scope=login+inquiry+transfer&state={}",
        start.redirect_uri,
        code["code"].as_str().ok_or("no code")?,
        param("state")
    );
    moa.complete_registration(&callback).await?;

    let env = moa.environment().await?;
    let accounts = moa.store().accounts(env.id)?;
    let pick = |bank: &str| {
        accounts
            .iter()
            .find(|a| a.bank_code == bank)
            .map(|a| a.id)
            .ok_or("account missing")
    };
    let from = pick(&person.accounts[0].bank_code_std)?;
    let to = pick(&person.accounts[1].bank_code_std)?;
    let preflight = moa
        .preflight_transfer(&TransferRequest {
            from_account: from,
            to: Recipient::Own { account_id: to },
            amount,
            memo: "probe".into(),
        })
        .await?;
    if refund {
        http.post(format!("{base}/testbed/admin/faults"))
            .bearer_auth(&manifest.admin_token)
            .json(&serde_json::json!({"api": "deposit", "remaining": 1, "fault": {"kind": "bank_error", "bank_rsp_code": "499"}}))
            .send()
            .await?
            .error_for_status()?;
    }
    let done = moa.transfer(&preflight, None).await?;
    // Reaching here means the step was never hit.
    println!("finished {}", done.state.as_str());
    Ok(())
}
