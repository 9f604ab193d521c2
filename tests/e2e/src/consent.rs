//! The open banking center's consent pages, driven in the app's registration window the way a
//! person fills them in: identity, the one-time code the sandbox prints on the page, then every
//! account and consent ticked and "agree".

use std::sync::Mutex;
use std::time::Duration;

use crate::app::Window;
use crate::webdriver::{Element, Result};

/// How long a consent page may take to load (the center answers locally, in milliseconds).
const PAGE_TIMEOUT: Duration = Duration::from_secs(15);

/// A person of the center's demo seed.
#[derive(Debug, Clone, Copy)]
pub struct Person {
    /// Name, as the identity page asks for it.
    pub name: &'static str,
    /// Birth date, `yyyyMMdd`.
    pub birth_date: &'static str,
    /// Mobile number, digits only.
    pub cell_no: &'static str,
}

/// 홍길동, the seed's first person.
pub const HONG: Person = Person {
    name: "홍길동",
    birth_date: "19880101",
    cell_no: "01012345678",
};

/// Every one-time code typed into a consent page by this process, so that a test can look for
/// them where they must not be.
static TYPED_CODES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The one-time codes this process has typed into consent pages so far.
pub fn typed_one_time_codes() -> Vec<String> {
    TYPED_CODES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// Fills in the consent pages in the registration window, which must be current, choosing
/// every account the person has. The window closes itself when the center redirects.
pub fn agree_to_everything(window: &Window<'_>, person: Person) -> Result<()> {
    window
        .wait("#user_name", PAGE_TIMEOUT)?
        .type_text(person.name)?;
    window.find("#birth_date")?.type_text(person.birth_date)?;
    window.find("#cell_no")?.type_text(person.cell_no)?;
    window.find("#send-code")?.click()?;

    let code = window.wait("#testbed-otp", PAGE_TIMEOUT)?.text()?;
    let code = code.trim();
    TYPED_CODES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(code.to_owned());
    window.find("#otp")?.type_text(code)?;
    window.find("#confirm-otp")?.click()?;

    window.wait("#agree", PAGE_TIMEOUT)?;
    for account in window.find_all("input[name=account]")? {
        tick(&account)?;
    }
    for consent in [
        "inquiry_agree",
        "transfer_agree",
        "terms_service",
        "terms_privacy",
    ] {
        tick(&window.find(&format!("input[name={consent}]"))?)?;
    }
    window.find("#agree")?.click()
}

/// Ticks a checkbox unless it already is (re-registration pre-ticks registered accounts).
fn tick(checkbox: &Element<'_>) -> Result<()> {
    if checkbox.property("checked")?.as_bool() != Some(true) {
        checkbox.click()?;
    }
    Ok(())
}
