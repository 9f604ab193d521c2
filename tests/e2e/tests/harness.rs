//! The harness itself against the app as it is: it launches, shows its frame, and quits.

use std::time::Duration;

use moa_e2e::app::MAIN_WINDOW_TITLE;
use moa_e2e::{MoaApp, Result, native_window_titles};

#[test]
fn the_app_opens_its_korean_window_and_quits_when_it_is_closed() -> Result<()> {
    let app = MoaApp::new("opens_and_quits")?;
    let window = app.launch()?;
    let header = window.wait("header h1", Duration::from_secs(10))?.text()?;
    assert_eq!(header, "모아", "the frame's header names the app");
    let title = window.title()?;
    assert!(title.contains("모아"), "the page's title is {title:?}");
    let titles = moa_e2e::wait_for(
        "the native window's title",
        Duration::from_secs(10),
        |last| {
            let titles = native_window_titles()?;
            *last = format!("{titles:?}");
            Ok(titles.iter().any(|t| t == MAIN_WINDOW_TITLE).then_some(()))
        },
    );
    titles?;
    window.screenshot("frame")?;
    window.quit()?;
    Ok(())
}
