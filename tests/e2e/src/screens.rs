//! What the scenarios do and read on the app's screens, by `data-testid` only: registering,
//! the dashboard's cards and balances, an account's history, and the transfer form.

use std::time::Duration;

use crate::app::Window;
use crate::center::{AccountOf, Ledger, SandboxCenter};
use crate::consent::{Person, agree_to_everything};
use crate::webdriver::{Element, Error, Result, testid, wait_for};

/// How long the UI gets to show what the core already has (a store read, a screen change).
pub const UI: Duration = Duration::from_secs(10);

/// How long a round of calls to the center may take (registration, a refresh, a transfer).
pub const CENTER: Duration = Duration::from_secs(30);

/// An account card on the dashboard, as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// The store's id of the account (`data-account-id`).
    pub id: String,
    /// The bank's code (`data-bank-code`).
    pub bank: String,
    /// The balance shown, in whole won; `None` when the card says it is unknown.
    pub balance: Option<i64>,
    /// Whether the card is marked stale.
    pub stale: bool,
}

/// Reads whole won from what the UI shows: `1,234,567원`, `-₩1,234`, `+50,000원`.
pub fn won(text: &str) -> Option<i64> {
    let negative = text.trim_start().starts_with('-');
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let value: i64 = digits.parse().ok()?;
    Some(if negative { -value } else { value })
}

/// Registers `person`'s accounts from the dashboard: the register button, the consent pages in
/// the registration window, and back to the main window once the shell has closed it.
pub fn register(window: &Window<'_>, person: Person) -> Result<()> {
    window.testid("register-button", UI)?.click()?;
    let auth = window.switch_to_new_window(UI)?;
    agree_to_everything(window, person)?;
    window.wait_closed(&auth, CENTER)?;
    window.back_to_main()?;
    window.testid("account-card", CENTER)?;
    Ok(())
}

/// The store id of the card at `bank` (the first, when several are).
pub fn card_at(cards: &[Card], bank: &str) -> Result<String> {
    cards
        .iter()
        .find(|c| c.bank == bank)
        .map(|c| c.id.clone())
        .ok_or_else(|| Error::Check(format!("no account card at bank {bank}: {cards:?}")))
}

/// The dashboard's account cards, now.
pub fn cards(window: &Window<'_>) -> Result<Vec<Card>> {
    window
        .find_all(&testid("account-card"))?
        .iter()
        .map(card)
        .collect()
}

fn card(element: &Element<'_>) -> Result<Card> {
    let balance = element.find(&testid("account-balance"))?.text()?;
    Ok(Card {
        id: element.attribute("data-account-id")?.unwrap_or_default(),
        bank: element.attribute("data-bank-code")?.unwrap_or_default(),
        balance: won(&balance),
        stale: element
            .attribute("class")?
            .is_some_and(|c| c.split_whitespace().any(|c| c == "stale")),
    })
}

/// Waits until the dashboard shows exactly `holder`'s accounts with the balances the center's
/// ledger holds, none of them stale; answers the cards and the ledger it matched.
pub fn wait_for_ledger_balances(
    window: &Window<'_>,
    center: &SandboxCenter,
    holder: &str,
    timeout: Duration,
) -> Result<(Vec<Card>, Ledger)> {
    wait_for(
        &format!("the dashboard to show {holder}'s balances as the ledger holds them"),
        timeout,
        |last| {
            let ledger = center.ledger()?;
            let shown = cards(window)?;
            let theirs = ledger.accounts_of(holder);
            let matches = shown.len() == theirs.len()
                && shown.iter().all(|card| {
                    !card.stale
                        && ledger
                            .account_of(holder, &card.bank)
                            .is_ok_and(|a| Some(a.balance) == card.balance)
                });
            *last = format!(
                "cards {shown:?}; ledger {:?}",
                theirs
                    .iter()
                    .map(|a| (&a.bank_code_std, a.balance))
                    .collect::<Vec<_>>()
            );
            Ok(matches.then_some((shown, ledger)))
        },
    )
}

/// The total the dashboard shows.
pub fn total(window: &Window<'_>) -> Result<Option<i64>> {
    Ok(won(&window.testid("total-balance", UI)?.text()?))
}

/// Picks the `<option>` of a `<select>` (by `data-testid`) whose value is `value`, by clicking
/// it as a person picks from the list.
pub fn choose(window: &Window<'_>, select: &str, value: &str) -> Result<()> {
    let list = window.testid(select, UI)?;
    let options = list.find_all("option")?;
    let mut seen = Vec::new();
    for option in &options {
        let v = option.property("value")?;
        let v = v
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string());
        if v == value {
            option.click()?;
            return wait_for(&format!("{select} to hold {value}"), UI, |last| {
                let now = window.testid(select, UI)?.property("value")?;
                *last = now.to_string();
                Ok((now.as_str() == Some(value)).then_some(()))
            });
        }
        seen.push(v);
    }
    Err(Error::Check(format!(
        "{select} has no option {value}; it has {seen:?}"
    )))
}

/// Fills the transfer form from `from` to the person's own account `to` (store ids), opening
/// it from the navigation, without sending it on.
pub fn fill_transfer(
    window: &Window<'_>,
    from: &str,
    to: &str,
    amount: i64,
    memo: &str,
) -> Result<()> {
    window.testid("nav-transfer", UI)?.click()?;
    choose(window, "transfer-from", from)?;
    choose(window, "transfer-to-own", to)?;
    window
        .testid("transfer-amount", UI)?
        .type_text(&amount.to_string())?;
    window.testid("transfer-memo", UI)?.type_text(memo)
}

/// The transfer form from `from` to the person's own account `to` (store ids), up to the
/// review the center answered.
pub fn review_transfer(
    window: &Window<'_>,
    from: &str,
    to: &str,
    amount: i64,
    memo: &str,
) -> Result<()> {
    fill_transfer(window, from, to, amount, memo)?;
    window.testid("transfer-review", UI)?.click()?;
    window.testid("transfer-confirm", CENTER)?;
    Ok(())
}

/// The transfer's state code as the progress shows it now (`data-state`).
pub fn transfer_state(window: &Window<'_>) -> Result<String> {
    Ok(window
        .find(&testid("transfer-state"))?
        .attribute("data-state")?
        .unwrap_or_default())
}

/// Confirms the reviewed transfer and waits until it ends; answers its final state code.
pub fn confirm_transfer(window: &Window<'_>) -> Result<String> {
    window.testid("transfer-confirm", UI)?.click()?;
    transfer_end(window)
}

/// Waits until the transfer being sent ends; answers its final state code.
pub fn transfer_end(window: &Window<'_>) -> Result<String> {
    wait_for("the transfer to end", CENTER, |last| {
        let state = transfer_state(window)?;
        *last = format!("state {state}");
        let ended = matches!(state.as_str(), "completed" | "refunded" | "failed");
        Ok(ended.then_some(state))
    })
}

/// Opens the account `id` (store id) from the dashboard's card, and waits for its history.
pub fn open_account(window: &Window<'_>, id: &str) -> Result<()> {
    window
        .wait(
            &format!(
                "{}[data-account-id=\"{id}\"] button",
                testid("account-card")
            ),
            UI,
        )?
        .click()?;
    window.testid("account-history", UI)?;
    Ok(())
}

/// On an account's screen, asks the center for the account's history, as the person does with
/// the button "새 내역 가져오기".
pub fn fetch_history(window: &Window<'_>) -> Result<()> {
    window.testid("account-sync", UI)?.click()
}

/// Waits until the dashboard's refresh has ended; answers what its progress line says then.
pub fn wait_refreshed(window: &Window<'_>) -> Result<String> {
    wait_for("the balance refresh to end", CENTER, |last| {
        let progress = window.find(&testid("sync-progress"))?;
        let total = progress.attribute("data-total")?.unwrap_or_default();
        let text = progress.text()?;
        *last = format!("progress {total:?}: {text:?}");
        Ok((total.is_empty() && !text.trim().is_empty()).then_some(text))
    })
}

/// Switches the app to the moa-server at `url` from Settings, as a person does: "Moa server",
/// the address, the button; then waits until Settings names that server as the active one.
pub fn use_server(window: &Window<'_>, url: &str) -> Result<()> {
    window.testid("nav-settings", UI)?.click()?;
    window
        .wait("input[name=\"environment\"][value=\"server\"]", UI)?
        .click()?;
    let field = window.testid("settings-server-url", UI)?;
    field.clear()?;
    field.type_text(url)?;
    window
        .find(".settings form button[type=\"submit\"]")?
        .click()?;
    let address = url.trim_end_matches('/');
    wait_for(
        &format!("Settings to name {address} as the active server"),
        CENTER,
        |last| {
            if let Ok(error) = window.find(".settings [role=\"alert\"]") {
                let code = error.attribute("data-code")?.unwrap_or_default();
                return Err(Error::Check(format!(
                    "switching to {address} failed ({code}): {}",
                    error.text()?
                )));
            }
            let shown = window.find(&testid("settings-current-server"))?.text()?;
            *last = format!("{shown:?}");
            Ok(shown.contains(address).then_some(()))
        },
    )
}
