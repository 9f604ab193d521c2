//! Every screen of the app as a person sees it, in Korean and English, light and dark, with
//! 홍길동 registered and some life in his accounts: a fetched history, transfers between his own
//! accounts (one caught while its deposit is under way) and one refunded because the target
//! bank went down. Each screen is saved as `{lang}-{theme}-{screen}.png` in the test's output
//! folder, after checks that the page really is in that language and theme, that nothing on it
//! scrolls sideways, and that in English no interface text is Korean (only data the banks and
//! the person wrote, marked `translate="no"`, may be). `scripts/screens` turns the pictures
//! into the contact sheets of `docs/screens/`.

use std::time::Instant;

use moa_e2e::screens::{
    CENTER, UI, card_at, choose, confirm_transfer, fetch_history, fill_transfer, open_account,
    register, transfer_end, transfer_state, wait_for_ledger_balances,
};
use moa_e2e::{HONG, MoaApp, Result, Window, check, testid, wait_for};
use serde_json::Value;

/// 홍길동's demand-deposit accounts: money leaves the first and arrives at the second.
const FROM_BANK: &str = "004";
const TO_BANK: &str = "088";

/// How long the target bank takes to answer while a transfer is watched under way: long enough
/// for a screenshot of the legs, short of the client's own timeout (10 s).
const SLOW_DEPOSIT_MS: u64 = 3_000;

/// The window's width as the app opens it; its height is fitted to each screen's content.
const WIDTH: u32 = 1180;
const MIN_HEIGHT: u32 = 800;
const MAX_HEIGHT: u32 = 2_400;

/// A language and a theme the app is shown in.
#[derive(Debug, Clone, Copy)]
struct Look {
    lang: &'static str,
    theme: &'static str,
}

const LOOKS: [Look; 4] = [
    Look {
        lang: "ko",
        theme: "light",
    },
    Look {
        lang: "ko",
        theme: "dark",
    },
    Look {
        lang: "en",
        theme: "light",
    },
    Look {
        lang: "en",
        theme: "dark",
    },
];

impl Look {
    fn name(self) -> String {
        format!("{}-{}", self.lang, self.theme)
    }

    /// Switches the app to this look with the header's selects, as a person does, and waits
    /// until the page has taken it: its language, its theme attribute, a background of the
    /// theme's brightness and the navigation in the language.
    fn apply(self, window: &Window<'_>) -> Result<()> {
        choose(window, "preferences-language", self.lang)?;
        choose(window, "preferences-theme", self.theme)?;
        wait_for(&format!("the page to be {}", self.name()), UI, |last| {
            let seen = window.execute(
                "const root = document.documentElement;\
                 const [r, g, b] = getComputedStyle(root).backgroundColor\
                   .match(/\\d+/g).map(Number);\
                 return { lang: root.lang, theme: root.getAttribute('data-theme'),\
                   brightness: (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255,\
                   nav: document.querySelector('[data-testid=\"nav-dashboard\"]').textContent };",
                Vec::new(),
            )?;
            *last = seen.to_string();
            let brightness = seen["brightness"].as_f64().unwrap_or(-1.0);
            let nav = seen["nav"].as_str().unwrap_or_default();
            let ok = seen["lang"] == self.lang
                && seen["theme"] == self.theme
                && if self.theme == "dark" {
                    brightness < 0.25
                } else {
                    brightness > 0.75
                }
                && has_hangul(nav) == (self.lang == "ko");
            Ok(ok.then_some(()))
        })
    }
}

fn has_hangul(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}' | '\u{AC00}'..='\u{D7AF}'))
}

/// What the page shows that a person would call wrong, whatever the screen: anything that
/// scrolls sideways, and, in English, visible text in Korean that is not data.
const PAGE_PROBLEMS: &str = r#"
const english = document.documentElement.lang === 'en';
const hangul = /[\u1100-\u11FF\u3130-\u318F\uAC00-\uD7AF]/;
const problems = [];
const root = document.documentElement;
if (root.scrollWidth > root.clientWidth) {
  problems.push(`the page scrolls sideways: ${root.scrollWidth} > ${root.clientWidth}`);
}
for (const el of document.body.querySelectorAll('*')) {
  if (['INPUT', 'SELECT', 'TEXTAREA', 'OPTION'].includes(el.tagName)) continue;
  const style = getComputedStyle(el);
  if (el.clientWidth > 1 && ['auto', 'scroll', 'hidden'].includes(style.overflowX)
      && el.scrollWidth > el.clientWidth + 1) {
    problems.push(`${el.tagName.toLowerCase()}.${el.className} overflows sideways: `
      + `${el.scrollWidth} > ${el.clientWidth}`);
  }
}
if (english) {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
    const text = node.nodeValue.trim();
    const el = node.parentElement;
    if (!hangul.test(text) || el.closest('[translate="no"], [lang="ko"], option')) continue;
    if (el.getClientRects().length === 0) continue;
    problems.push(`Korean in English: "${text}" in <${el.tagName.toLowerCase()} class="${el.className}">`);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], [title]')) {
    for (const name of ['placeholder', 'aria-label', 'title']) {
      const value = el.getAttribute(name) ?? '';
      if (hangul.test(value) && !el.closest('[translate="no"], [lang="ko"]')) {
        problems.push(`Korean in English: ${name}="${value}"`);
      }
    }
  }
}
return problems;
"#;

/// The gallery being made: the window and where it is up to.
struct Gallery<'w, 'a> {
    window: &'w Window<'a>,
    shots: usize,
}

impl Gallery<'_, '_> {
    /// Checks the page as it is now, fits the window to its content and saves it as
    /// `{look}-{screen}.png`.
    fn shot(&mut self, look: Look, screen: &str) -> Result<()> {
        let window = self.window;
        let problems = window.execute(PAGE_PROBLEMS, Vec::new())?;
        let problems: Vec<&str> = problems
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        check(
            problems.is_empty(),
            format!("{}-{screen}: {problems:#?}", look.name()),
        )?;
        let content = window
            .execute(
                "const main = document.querySelector('main');\
                 const bottom = Math.max(...Array.from(main.children)\
                   .map((e) => e.getBoundingClientRect().bottom));\
                 return Math.ceil(bottom + window.scrollY\
                   + parseFloat(getComputedStyle(main).paddingBottom));",
                Vec::new(),
            )?
            .as_u64()
            .unwrap_or(u64::from(MIN_HEIGHT));
        let height = u32::try_from(content)
            .unwrap_or(MAX_HEIGHT)
            .clamp(MIN_HEIGHT, MAX_HEIGHT);
        window.set_window_size(WIDTH, height)?;
        wait_for("the window to take its new height", UI, |last| {
            let inner = window.execute("return innerHeight;", Vec::new())?;
            *last = format!("innerHeight {inner}, wanted {height}");
            Ok((inner.as_u64() == Some(u64::from(height))).then_some(()))
        })?;
        // Two frames later the page has been painted at that size (one is not always enough
        // after a resize: the shot showed the new area still black).
        window.execute_async(
            "const done = arguments[arguments.length - 1];\
             requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            Vec::new(),
        )?;
        window.screenshot(&format!("{}-{screen}", look.name()))?;
        self.shots += 1;
        Ok(())
    }
}

/// The transfers list's rows' states, once it has loaded.
fn listed_states(window: &Window<'_>, count: usize) -> Result<Vec<String>> {
    wait_for(&format!("{count} transfers listed"), UI, |last| {
        let states: Vec<String> = window
            .find_all(&testid("transfer-row"))?
            .iter()
            .map(|r| r.attribute("data-state").map(Option::unwrap_or_default))
            .collect::<Result<_>>()?;
        *last = format!("{states:?}");
        Ok((states.len() == count).then_some(states))
    })
}

#[test]
fn every_screen_in_korean_and_english_light_and_dark() -> Result<()> {
    let started = Instant::now();
    let app = MoaApp::new("gallery")?;
    let window = app.launch()?;
    register(&window, HONG)?;
    let center = app.center()?;
    let (cards, _) = wait_for_ledger_balances(&window, &center, HONG.name, CENTER)?;
    let (from, to) = (card_at(&cards, FROM_BANK)?, card_at(&cards, TO_BANK)?);
    let mut gallery = Gallery {
        window: &window,
        shots: 0,
    };

    // A transfer refunded because the target bank went down after the review; its outcome is
    // shown in every look by switching in place, as a person might while reading it.
    fill_transfer(&window, &from, &to, 23_456, "적금 이체")?;
    window.testid("transfer-review", UI)?.click()?;
    window.testid("transfer-confirm", CENTER)?;
    center.set_bank_status(TO_BANK, "D")?;
    let state = confirm_transfer(&window)?;
    check(state == "refunded", format!("the transfer ended {state}"))?;
    center.set_bank_status(TO_BANK, "Y")?;
    for look in LOOKS {
        look.apply(&window)?;
        window.testid("transfer-message", UI)?;
        gallery.shot(look, "transfer-refunded")?;
    }

    // In each look, one transfer of its own: the filled form, the center's review, the legs
    // while the deposit is under way at a slowed bank, and the receipt.
    for look in LOOKS {
        window.testid("nav-dashboard", UI)?.click()?;
        window.testid("account-card", UI)?;
        look.apply(&window)?;
        fill_transfer(&window, &from, &to, 50_000, "관리비")?;
        gallery.shot(look, "transfer-form")?;
        window.testid("transfer-review", UI)?.click()?;
        let recipient = window.testid("transfer-recipient", CENTER)?.text()?;
        check(
            recipient == HONG.name,
            format!("the review names the recipient: {recipient:?}"),
        )?;
        gallery.shot(look, "transfer-review")?;

        center.set_bank_latency(TO_BANK, Some(SLOW_DEPOSIT_MS))?;
        window.testid("transfer-confirm", UI)?.click()?;
        wait_for("the deposit leg under way", CENTER, |last| {
            let state = transfer_state(&window)?;
            *last = format!("state {state}");
            Ok((state == "depositing").then_some(()))
        })?;
        gallery.shot(look, "transfer-progress")?;
        let state = transfer_state(&window)?;
        check(
            state == "depositing",
            format!("the progress was shot while depositing, but it is {state} now"),
        )?;
        let state = transfer_end(&window)?;
        center.set_bank_latency(TO_BANK, None)?;
        check(state == "completed", format!("the transfer ended {state}"))?;
        window.testid("transfer-receipt", UI)?;
        gallery.shot(look, "transfer-receipt")?;
    }

    // The history of the account the money went to, fetched once; then balances asked anew,
    // so every look shows the same ledger. Every look then comes to each screen afresh, without
    // the notices those two leave on theirs.
    window.testid("nav-dashboard", UI)?.click()?;
    open_account(&window, &to)?;
    fetch_history(&window)?;
    window.testid("history-row", CENTER)?;
    window.testid("nav-dashboard", UI)?.click()?;
    window.testid("refresh-button", UI)?.click()?;
    wait_for_ledger_balances(&window, &center, HONG.name, CENTER)?;
    window.testid("nav-settings", UI)?.click()?;

    for look in LOOKS {
        window.testid("nav-dashboard", UI)?.click()?;
        look.apply(&window)?;
        wait_for_ledger_balances(&window, &center, HONG.name, UI)?;
        window.testid("total-balance", UI)?;
        gallery.shot(look, "dashboard")?;

        open_account(&window, &to)?;
        window.testid("history-row", UI)?;
        window.wait("figure.chart svg", UI)?;
        gallery.shot(look, "account")?;

        window.testid("nav-transfers", UI)?.click()?;
        let states = listed_states(&window, 5)?;
        check(
            states.iter().filter(|s| *s == "completed").count() == 4
                && states.iter().filter(|s| *s == "refunded").count() == 1,
            format!("four completed transfers and one refunded: {states:?}"),
        )?;
        gallery.shot(look, "transfers")?;

        window.testid("nav-settings", UI)?.click()?;
        let lang = window.testid("settings-language", UI)?.property("value")?;
        let theme = window.testid("settings-theme", UI)?.property("value")?;
        check(
            lang == look.lang && theme == look.theme,
            format!("settings show the header's choice: {lang} {theme}"),
        )?;
        gallery.shot(look, "settings")?;
    }

    let shots = gallery.shots;
    window.quit()?;
    eprintln!(
        "gallery: {shots} screenshots in {} after {:.1?}",
        app.out_dir().display(),
        started.elapsed()
    );
    Ok(())
}
