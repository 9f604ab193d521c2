//! After a whole journey in the sandbox — register, refresh, a transfer, an account's history
//! — nothing the center issued to the institution is on the app's side: no token, no
//! authorization code, no client secret, no one-time code or phone number typed in the consent
//! window, and no full account number in the app's data folder
//! (its store and the in-process server's database, write-ahead logs included), in its logs or
//! in anything its UI and shell said to each other. The center's own database is the far side
//! and is left out; it serves as the scan's positive control instead.

use std::path::Path;

use moa_e2e::screens::{
    CENTER, UI, card_at, confirm_transfer, fetch_history, open_account, register, review_transfer,
    wait_for_ledger_balances, wait_refreshed,
};
use moa_e2e::{HONG, MoaApp, Result, Scan, Secrets, check, ipc, testid, wait_for};

/// Demand-deposit accounts of 홍길동 in the seed: money may leave them (his `081` is savings).
const FROM_BANK: &str = "004";
const TO_BANK: &str = "088";

/// Whether `path` is the sandbox center's database or one of its companions (`-wal`, `-shm`,
/// `-journal`): the center's side, not the app's.
fn is_center_db(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("sandbox-center.db"))
}

/// Scans everything on the app's side on disk: its data folder but the center's database, its
/// webview's data folder (the page's local storage, and Tauri's log folder) and its logs.
fn scan_app(app: &MoaApp, secrets: &Secrets) -> Result<Scan> {
    let mut scan = secrets.scan_tree(app.data_dir(), is_center_db)?;
    let webview = app.webview_data_dir();
    scan.add(secrets.scan_tree(&webview, |_| false)?);
    for log in app.log_files() {
        if !log.starts_with(&webview) {
            scan.add(secrets.scan_file(&log)?);
        }
    }
    Ok(scan)
}

#[test]
fn no_token_code_secret_otp_or_full_account_number_reaches_the_apps_files_logs_or_ui() -> Result<()>
{
    let app = MoaApp::new("secrets_stay_on_the_far_side")?;
    let window = app.launch()?;
    let hooks = ipc::record(&window)?;
    eprintln!("IPC recorder: {hooks:?}");

    register(&window, HONG)?;
    let center = app.center()?;
    // Registering refreshes every balance: the refresh's traffic is recorded with the rest.
    wait_refreshed(&window)?;
    let (cards, _) = wait_for_ledger_balances(&window, &center, HONG.name, CENTER)?;
    let (from, to) = (card_at(&cards, FROM_BANK)?, card_at(&cards, TO_BANK)?);
    review_transfer(&window, &from, &to, 10_101, "e2e secrets")?;
    let state = confirm_transfer(&window)?;
    check(state == "completed", format!("the transfer ended {state}"))?;
    window.testid("nav-dashboard", UI)?.click()?;
    open_account(&window, &to)?;
    fetch_history(&window)?;
    wait_for("the account's history", CENTER, |last| {
        let rows = window.find_all(&testid("history-row"))?.len();
        *last = format!("{rows} rows");
        Ok((rows > 0).then_some(()))
    })?;

    // What crossed between the UI and the shell, and proof that the recorder saw it.
    let traffic = ipc::recorded(&window)?;
    for command in ["register_accounts", "refresh_balances", "confirm_transfer"] {
        check(
            traffic.iter().any(|m| m.contains(command)),
            format!(
                "the IPC record holds the command {command} ({} messages)",
                traffic.len()
            ),
        )?;
    }
    check(
        traffic
            .iter()
            .any(|m| m.contains("answer") || m.contains("data")),
        "the IPC record holds answers",
    )?;
    let traffic = traffic.join("\n");
    // Kept beside the screenshots, to read what crossed when this test fails.
    let _ = std::fs::write(app.out_dir().join("ipc.jsonl"), &traffic);

    // What must not be found, learnt from the center that issued it.
    let mut secrets = Secrets::of_center(center.db(), HONG.name)?
        .with_number("홍길동's phone number", HONG.cell_no);
    let codes = moa_e2e::consent::typed_one_time_codes();
    check(!codes.is_empty(), "a one-time code was typed")?;
    for code in &codes {
        secrets = secrets.with_number("a one-time code", code);
    }
    for (what, least) in [
        ("authorization code", 1),
        ("client secret", 1),
        ("홍길동's full account number", 2),
    ] {
        check(
            secrets.count(what) >= least,
            format!("the center holds at least {least} {what}"),
        )?;
    }
    // Positive controls: the scan finds the secrets where they do live, and knows a real
    // token of the center's when it sees one.
    let mut control = secrets.scan_tree(center.db().parent().unwrap_or(Path::new(".")), |p| {
        !is_center_db(p)
    })?;
    let token = center.issue_institution_token()?;
    control
        .findings
        .extend(secrets.find("a token the center issued", token.as_bytes()));
    for what in [
        "client secret",
        "authorization code",
        "홍길동's full account number",
        "a JWT-shaped string",
    ] {
        check(
            control.findings.iter().any(|f| f.what == what),
            format!(
                "the control scan of the center finds a {what}; it found {:?}",
                control.findings.iter().map(|f| &f.what).collect::<Vec<_>>()
            ),
        )?;
    }

    // The app's side, while it runs (write-ahead logs as they are) and once it has quit.
    let mut scan = scan_app(&app, &secrets)?;
    scan.findings
        .extend(secrets.find("the UI's IPC traffic", traffic.as_bytes()));
    window.quit()?;
    let live_files = scan.files.len();
    scan.add(scan_app(&app, &secrets)?);

    eprintln!(
        "scanned {} files ({live_files} while running), {} bytes, and {} bytes of IPC traffic",
        scan.files.len(),
        scan.bytes,
        traffic.len()
    );
    for (file, bytes) in &scan.files {
        eprintln!("  {} ({bytes} bytes)", file.display());
    }
    check(scan.bytes > 0, "the scan read something")?;
    for (prefix, what) in [
        ("moa.db", "the app's store"),
        ("moa-server.db", "the in-process server's database"),
        ("Moa.log", "the app's log"),
        ("tauri_localhost", "the page's local storage"),
    ] {
        check(
            scan.bytes_of(prefix) > 0,
            format!("the scan read {what} ({prefix}*)"),
        )?;
    }
    check(
        scan.findings.is_empty(),
        format!(
            "secrets on the app's side:\n{}",
            scan.findings
                .iter()
                .map(|f| format!("  {f}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    )?;
    Ok(())
}
