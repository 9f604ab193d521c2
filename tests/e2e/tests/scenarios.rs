//! The person's journeys through the built app, each checked against the sandbox center's
//! ledger: register, read history, move money, come back later, and a bank going down
//! mid-transfer.

use moa_e2e::screens::{
    CENTER, UI, card_at, cards, confirm_transfer, fetch_history, open_account, register,
    review_transfer, total, wait_for_ledger_balances, wait_refreshed, won,
};
use moa_e2e::{AccountOf, HONG, MoaApp, Result, TransferKind, check, testid, wait_for};

/// Demand-deposit accounts of 홍길동 in the seed: money may leave them (his `081` is savings).
const FROM_BANK: &str = "004";
const TO_BANK: &str = "088";

#[test]
fn first_launch_registers_through_the_consent_pages_and_shows_the_ledgers_balances() -> Result<()> {
    let app = MoaApp::new("first_launch_registers")?;
    let window = app.launch()?;
    register(&window, HONG)?;
    let center = app.center()?;
    let (cards, ledger) = wait_for_ledger_balances(&window, &center, HONG.name, CENTER)?;
    check(
        cards.len() >= 2,
        format!("홍길동 has several accounts: {cards:?}"),
    )?;
    let sum: i64 = cards.iter().filter_map(|c| c.balance).sum();
    wait_for("the total to be the sum of the cards", UI, |last| {
        let shown = total(&window)?;
        *last = format!("{shown:?}, sum {sum}");
        Ok((shown == Some(sum)).then_some(()))
    })?;
    check(
        ledger.min_balance >= 0,
        "no balance in the ledger is negative",
    )?;
    let shot = window.screenshot("dashboard")?;
    eprintln!("dashboard screenshot: {}", shot.display());
    window.quit()?;
    Ok(())
}

#[test]
fn an_accounts_history_pages_through_with_load_more() -> Result<()> {
    let app = MoaApp::new("history_pages")?;
    let window = app.launch()?;
    register(&window, HONG)?;
    let center = app.center()?;
    let (cards, _) = wait_for_ledger_balances(&window, &center, HONG.name, CENTER)?;
    open_account(&window, &card_at(&cards, TO_BANK)?)?;
    // The history is fetched from the center on the person's demand.
    fetch_history(&window)?;
    let first = wait_for("the first page of history", CENTER, |last| {
        let rows = window.find_all(&testid("history-row"))?.len();
        *last = format!("{rows} rows");
        Ok((rows > 0 && window.find(&testid("load-more")).is_ok()).then_some(rows))
    })?;
    window.testid("load-more", UI)?.click()?;
    let second = wait_for("more rows after load more", UI, |last| {
        let rows = window.find_all(&testid("history-row"))?.len();
        *last = format!("{rows} rows (first page {first})");
        Ok((rows > first).then_some(rows))
    })?;
    // Rows are newest first, and each row's after-balance is the older row's plus its signed
    // amount: so no row of the first page came back on the second and none was skipped.
    let shown = window.execute(
        "return Array.from(document.querySelectorAll('[data-testid=\"history-row\"]'))\
           .map(r => [r.cells[3].textContent, r.cells[4].textContent]);",
        Vec::new(),
    )?;
    let rows: Vec<(i64, i64)> = shown
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| Some((won(r.get(0)?.as_str()?)?, won(r.get(1)?.as_str()?)?)))
        .collect();
    check(
        rows.len() == second,
        format!("{} rows read of {second} shown", rows.len()),
    )?;
    for (i, pair) in rows.windows(2).enumerate() {
        let ((amount, after), (_, older_after)) = (pair[0], pair[1]);
        check(
            after == older_after + amount,
            format!("row {i}: {older_after} {amount:+} is not {after}"),
        )?;
    }
    // The newest row's after-balance is the account's balance in the ledger.
    let balance = center.ledger()?.account_of(HONG.name, TO_BANK)?.balance;
    check(
        rows.first().map(|r| r.1) == Some(balance),
        format!(
            "the newest row {:?} ends at the ledger's {balance}",
            rows.first()
        ),
    )?;
    eprintln!("history: {first} rows, then {second} after load more");
    window.quit()?;
    Ok(())
}

#[test]
fn a_transfer_between_own_accounts_moves_the_amount_and_completes() -> Result<()> {
    let app = MoaApp::new("transfer_completes")?;
    let window = app.launch()?;
    register(&window, HONG)?;
    let center = app.center()?;
    let (cards, before) = wait_for_ledger_balances(&window, &center, HONG.name, CENTER)?;
    let (from, to) = (card_at(&cards, FROM_BANK)?, card_at(&cards, TO_BANK)?);
    let amount = 12_345;
    review_transfer(&window, &from, &to, amount, "e2e")?;
    let state = confirm_transfer(&window)?;
    check(state == "completed", format!("the transfer ended {state}"))?;
    window.testid("transfer-receipt", UI)?;

    let after = center.ledger()?;
    let balance = |l: &moa_e2e::Ledger, bank| l.account_of(HONG.name, bank).map(|a| a.balance);
    check(
        balance(&after, FROM_BANK)? == balance(&before, FROM_BANK)? - amount,
        "the source account lost the amount",
    )?;
    check(
        balance(&after, TO_BANK)? == balance(&before, TO_BANK)? + amount,
        "the target account gained the amount",
    )?;
    center.check_invariants(&before)?;

    window.testid("nav-dashboard", UI)?.click()?;
    window.testid("refresh-button", UI)?.click()?;
    wait_for_ledger_balances(&window, &center, HONG.name, CENTER)?;
    window.testid("nav-transfers", UI)?.click()?;
    wait_for("the transfer listed as completed", UI, |last| {
        let states: Vec<String> = window
            .find_all(&testid("transfer-row"))?
            .iter()
            .map(|r| r.attribute("data-state").map(Option::unwrap_or_default))
            .collect::<Result<_>>()?;
        *last = format!("{states:?}");
        Ok((states == ["completed"]).then_some(()))
    })?;
    window.quit()?;
    Ok(())
}

#[test]
fn after_a_restart_the_person_is_still_registered_and_sees_stored_balances_first() -> Result<()> {
    let app = MoaApp::new("restart_keeps_registration")?;
    let window = app.launch()?;
    register(&window, HONG)?;
    let center = app.center()?;
    let (before, _) = wait_for_ledger_balances(&window, &center, HONG.name, CENTER)?;
    // Slow every bank down, so the next launch's refresh is visibly still running while the
    // stored balances are already on screen. The center keeps this in its database.
    for card in &before {
        center.set_bank_latency(&card.bank, Some(2_500))?;
    }
    window.quit()?;

    let window = app.launch()?;
    let painted = wait_for("the stored balances while the refresh runs", UI, |last| {
        let shown = cards(&window)?;
        let progress = window.find(&testid("sync-progress"))?;
        let done = progress.attribute("data-done")?.unwrap_or_default();
        let total = progress.attribute("data-total")?.unwrap_or_default();
        *last = format!("cards {shown:?}; progress {done}/{total}");
        let refreshing = !total.is_empty() && done != total;
        Ok((refreshing && shown.len() == before.len()).then_some(shown))
    })?;
    for card in &before {
        let shown = painted.iter().find(|c| c.id == card.id);
        check(
            shown.map(|c| c.balance) == Some(card.balance),
            format!(
                "{} painted from the store: {shown:?}, was {card:?}",
                card.id
            ),
        )?;
    }
    // Nothing the page asks for opens the core before the stored balances are drawn: the core
    // (the sandbox, the keyring) opens after the first paint, so it never delays it.
    let (painted_ms, core_ms) = (
        start_ms(&app, "dashboard painted from the store", 2)?,
        start_ms(&app, "core open", 2)?,
    );
    check(
        painted_ms <= core_ms,
        format!(
            "the core opened {core_ms} ms after start, before the first paint at {painted_ms} ms"
        ),
    )?;
    // The page names the Korean family Linux installs first and nothing it lacks (tokens.css):
    // no font search for a missing family delays the paint.
    let family = window.execute(
        "return getComputedStyle(document.body).fontFamily;",
        Vec::new(),
    )?;
    check(
        family.as_str().map(|f| f.replace('"', "")).as_deref()
            == Some("Noto Sans CJK KR, sans-serif"),
        format!("the page's font: {family}"),
    )?;
    // The refresh succeeds only with the tokens the keyring gave back: without them every
    // balance would end stale.
    let outcome = wait_refreshed(&window)?;
    let center = app.center()?;
    wait_for_ledger_balances(&window, &center, HONG.name, UI)?;
    eprintln!("after the restart: {outcome}");
    window.quit()?;
    Ok(())
}

#[test]
fn a_transfer_to_a_bank_that_went_down_is_refunded_and_says_so() -> Result<()> {
    let app = MoaApp::new("transfer_refunded")?;
    let window = app.launch()?;
    register(&window, HONG)?;
    let center = app.center()?;
    let (cards, before) = wait_for_ledger_balances(&window, &center, HONG.name, CENTER)?;
    let (from, to) = (card_at(&cards, FROM_BANK)?, card_at(&cards, TO_BANK)?);
    let amount = 23_456;
    review_transfer(&window, &from, &to, amount, "e2e")?;
    // The center checked the recipient at review; the bank goes down before the money moves.
    center.set_bank_status(TO_BANK, "D")?;
    let state = confirm_transfer(&window)?;
    check(state == "refunded", format!("the transfer ended {state}"))?;
    let message = window.testid("transfer-message", UI)?.text()?;
    check(
        message.contains("돌려보냈어요"),
        format!("the message says the money went back: {message:?}"),
    )?;
    let after = center.ledger()?;
    for bank in [FROM_BANK, TO_BANK] {
        check(
            after.account_of(HONG.name, bank)?.balance
                == before.account_of(HONG.name, bank)?.balance,
            format!("the account at {bank} is as it was"),
        )?;
    }
    center.check_invariants(&before)?;
    // The money did leave and come back: a withdrawal and a refund deposit of the amount, both
    // applied, and no deposit at the bank that was down.
    let moved: Vec<_> = center
        .transfers()?
        .into_iter()
        .filter(|t| t.amount == amount)
        .collect();
    eprintln!("the center's transfers of {amount}: {moved:?}");
    let applied = |kind: TransferKind| {
        moved
            .iter()
            .filter(|t| t.kind == kind && t.applied())
            .count()
    };
    check(
        applied(TransferKind::Withdraw) == 1 && applied(TransferKind::Deposit) == 1,
        format!("one withdrawal and one refund deposit applied: {moved:?}"),
    )?;
    window.screenshot("refunded")?;
    window.quit()?;
    Ok(())
}

/// The milliseconds after start that the app's log gives for `what` in its `launch`th run (the
/// app logs each once a run), waiting for the line: the core opens a moment after the paint.
fn start_ms(app: &MoaApp, what: &str, launch: usize) -> Result<u64> {
    wait_for(
        &format!("run {launch} to log: {what} … ms after start"),
        UI,
        |last| {
            let lines = app.log_lines(&format!("{what} "));
            *last = format!("{lines:?}");
            Ok(lines.get(launch - 1).and_then(|line| {
                let (before, _) = line.rsplit_once(" ms after start")?;
                before.rsplit_once(' ')?.1.parse().ok()
            }))
        },
    )
}
