//! Moa as the client of a moa-server started apart from it: the person chooses "Moa server" in
//! Settings and types its loopback address, then registers, sees the balances and moves money
//! — all checked against that server's center, not the sandbox inside the app.

use std::path::Path;

use moa_e2e::screens::{
    CENTER, UI, card_at, confirm_transfer, register, review_transfer, use_server,
    wait_for_ledger_balances,
};
use moa_e2e::{AccountOf, HONG, Ledger, MoaApp, MoaServer, Result, check, testid};
use rusqlite::{Connection, OpenFlags};

/// Demand-deposit accounts of 홍길동 in the seed: money may leave them (his `081` is savings).
const FROM_BANK: &str = "004";
const TO_BANK: &str = "088";

/// How many rows a center's table has, read from its database without writing to it.
fn rows(center_db: &Path, table: &str) -> Result<i64> {
    let fail = |e: rusqlite::Error| moa_e2e::Error::Setup(format!("{}: {e}", center_db.display()));
    Connection::open_with_flags(center_db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(fail)?
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .map_err(fail)
}

#[test]
fn a_moa_server_chosen_in_settings_over_loopback_serves_registration_balances_and_a_transfer()
-> Result<()> {
    let app = MoaApp::new("moa_server_over_loopback")?;
    let server = MoaServer::start(&app.out_dir().join("server"))?;
    let center = server.center()?;
    let window = app.launch()?;

    use_server(&window, server.url())?;
    window.testid("nav-dashboard", UI)?.click()?;
    register(&window, HONG)?;
    let (cards, before) = wait_for_ledger_balances(&window, &center, HONG.name, CENTER)?;
    check(
        cards.len() >= 2,
        format!("홍길동 has several accounts: {cards:?}"),
    )?;
    // The consent went to the server's center; the sandbox the app started first saw none.
    let own_center = app.data_dir().join("sandbox-center.db");
    check(
        rows(center.db(), "auth_codes")? >= 1 && rows(&own_center, "auth_codes")? == 0,
        "the authorization code came from the server's center, not the app's sandbox",
    )?;

    let (from, to) = (card_at(&cards, FROM_BANK)?, card_at(&cards, TO_BANK)?);
    let amount = 31_415;
    review_transfer(&window, &from, &to, amount, "e2e server")?;
    let state = confirm_transfer(&window)?;
    check(state == "completed", format!("the transfer ended {state}"))?;
    let after = center.ledger()?;
    let balance = |l: &Ledger, bank| l.account_of(HONG.name, bank).map(|a| a.balance);
    check(
        balance(&after, FROM_BANK)? == balance(&before, FROM_BANK)? - amount,
        format!(
            "the source account lost {amount}: {} → {}",
            balance(&before, FROM_BANK)?,
            balance(&after, FROM_BANK)?
        ),
    )?;
    check(
        balance(&after, TO_BANK)? == balance(&before, TO_BANK)? + amount,
        format!(
            "the target account gained {amount}: {} → {}",
            balance(&before, TO_BANK)?,
            balance(&after, TO_BANK)?
        ),
    )?;
    center.check_invariants(&before)?;
    check(
        rows(&own_center, "transfers")? == 0,
        "no money moved in the app's own sandbox",
    )?;

    window.testid("nav-settings", UI)?.click()?;
    let current = window.testid("settings-current-server", UI)?.text()?;
    check(
        current.contains(server.url().trim_end_matches('/')),
        format!("Settings names the server: {current:?}"),
    )?;
    window.wait(&format!(".settings {}", testid("settings-server-url")), UI)?;
    let shot = window.screenshot("settings-server")?;
    eprintln!("settings in server mode: {}", shot.display());
    window.quit()?;
    Ok(())
}
