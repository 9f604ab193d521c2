//! The windows against pages that try to lead the person away. In the consent window: links,
//! redirects, forms and new windows to another origin, to a look-alike of the center, and to
//! callbacks on another host, port or path — each stopped before a request leaves, the page
//! staying where it was and the window saying so in its bar — then the real callback taken
//! before it leaves, and nothing the pages stored outliving their window. In the main window:
//! the app's own pages only.
//!
//! Listeners on the redirect URI's host and port and on a port of their own record every
//! request that reaches them: none may.

use std::net::{SocketAddr, ToSocketAddrs as _};
use std::path::Path;

use moa_e2e::consent::agree_to_everything;
use moa_e2e::screens::{CENTER, UI};
use moa_e2e::{
    Error, HONG, Listener, MoaApp, Result, Window, check, native_window_titles, wait_for,
};
use reqwest::Url;
use serde_json::json;

/// What the app logs when the consent window stops something.
const STOPPED: &str = "consent window: stopped";

fn parse(url: &str) -> Result<Url> {
    Url::parse(url).map_err(|e| Error::Check(format!("{url}: {e}")))
}

/// Opens the consent window from the dashboard and makes it current; answers its handle and
/// the center's first page, once it shows.
fn open_consent_window(window: &Window<'_>) -> Result<(String, Url)> {
    window.testid("register-button", UI)?.click()?;
    let handle = window.switch_to_new_window(UI)?;
    window.wait("#user_name", CENTER)?;
    Ok((handle, parse(&window.url()?)?))
}

/// The redirect URI the center was asked to send the person back to.
fn redirect_uri(authorize: &Url) -> Result<Url> {
    let redirect = authorize
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .ok_or_else(|| Error::Check(format!("no redirect_uri in {authorize}")))?;
    parse(&redirect.1)
}

/// The loopback address the redirect URI's host and port resolve to.
fn socket_of(url: &Url) -> Result<SocketAddr> {
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(80);
    (host, port)
        .to_socket_addrs()
        .map_err(|e| Error::Setup(format!("{url}: {e}")))?
        .find(SocketAddr::is_ipv4)
        .ok_or_else(|| Error::Setup(format!("{url} has no IPv4 address")))
}

/// The host as a browser's address bar shows it: with the port unless it is the scheme's own.
fn shown_host(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    }
}

/// The cookies the trap page's request carried and what its script found stored.
fn found(window: &Window<'_>) -> Result<(String, String)> {
    let storage = wait_for("the trap page's script to run", UI, |last| {
        let text = window.find("#found-storage")?.text()?;
        *last = text.clone();
        Ok((text != "…").then_some(text))
    })?;
    Ok((window.find("#found-cookie")?.text()?, storage))
}

/// The native title of the consent window, once it starts with `host`.
fn consent_title(host: &str, containing: &str) -> Result<String> {
    wait_for(
        &format!("a window titled {host} … {containing}"),
        UI,
        |last| {
            let titles = native_window_titles()?;
            *last = format!("{titles:?}");
            Ok(titles
                .into_iter()
                .find(|t| t.starts_with(host) && t.contains(containing)))
        },
    )
}

/// Every file under `root` that holds `needle`.
fn files_holding(root: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[test]
fn the_consent_window_stays_on_the_center_and_takes_the_callback_before_it_leaves() -> Result<()> {
    let app = MoaApp::new("consent_window_guard")?;
    let elsewhere = Listener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let window = app.launch()?;

    // A first window, whose pages store what they can.
    let (first, authorize) = open_consent_window(&window)?;
    let redirect = redirect_uri(&authorize)?;
    let callback = Listener::bind(socket_of(&redirect)?)?;
    let center = authorize.origin().ascii_serialization();
    let center_port = authorize.port_or_known_default().unwrap_or(80);
    let lookalike_host = match redirect.host_str() {
        Some("localhost") => "127.0.0.1",
        _ => "localhost",
    };
    let callback_port = redirect.port_or_known_default().unwrap_or(80);
    let (scheme, path) = (redirect.scheme(), redirect.path());
    let redirect_host = redirect.host_str().unwrap_or_default();
    let targets = [
        // Another origin of this very machine.
        format!("http://127.0.0.1:{}/elsewhere", elsewhere.addr().port()),
        // A look-alike of the center: the same server under another name is another origin.
        format!("http://localhost:{center_port}/oauth/2.0/authorize"),
        // The callback on another port, on another path, and on another host.
        format!(
            "{scheme}://{redirect_host}:{}{path}?code=fixture&state=fixture",
            elsewhere.addr().port()
        ),
        format!(
            "{scheme}://{redirect_host}:{callback_port}{path}/elsewhere?code=fixture&state=fixture"
        ),
        format!("{scheme}://{lookalike_host}:{callback_port}{path}?code=fixture&state=fixture"),
    ];
    let mut trap = parse(&format!("{center}/testbed/fixtures/consent/trap"))?;
    for target in &targets {
        trap.query_pairs_mut().append_pair("to", target);
    }
    let trap = trap.to_string();

    window.navigate(&trap)?;
    let fresh = found(&window)?;
    check(
        fresh == ("none".into(), "none".into()),
        format!("a new window starts empty: {fresh:?}"),
    )?;
    window.navigate(&trap)?;
    let (cookie, storage) = found(&window)?;
    check(
        cookie.contains("moa-fixture-http=stored") && storage.contains("localStorage=stored"),
        format!("while the window is open it keeps what its pages stored: {cookie}; {storage}"),
    )?;
    window.close_window()?;
    window.wait_closed(&first, UI)?;
    window.back_to_main()?;

    // A second window: nothing of the first one's is left.
    let (second, _) = open_consent_window(&window)?;
    window.navigate(&trap)?;
    let left = found(&window)?;
    check(
        left == ("none".into(), "none".into()),
        format!("nothing the first window's pages stored outlived it: {left:?}"),
    )?;

    // The window names the center's host; the page's own title (a lock and the real center's
    // name) does not reach it.
    let spoofed = window.title()?;
    check(
        spoofed.contains("openapi.openbanking.or.kr"),
        format!("the trap page set its title: {spoofed:?}"),
    )?;
    let host = shown_host(&authorize);
    let title = consent_title(&host, "계좌 연결")?;
    window.screenshot_titled(&host, "consent-trap")?;
    check(
        !title.contains("openapi"),
        format!("the window's title is the app's, not the page's: {title:?}"),
    )?;

    // Every way out is stopped before a request leaves, and the page stays where it was. A
    // `window.open` from a script may already be refused by WebKit's pop-up blocker, before the
    // shell hears of it: that one must open nothing, and the stopped link after it shows that
    // its turn has passed.
    for (i, target) in targets.iter().enumerate() {
        for way in ["open", "link", "redirect", "post", "blank"] {
            let before = app.log_lines(STOPPED).len();
            window.find(&format!("#{way}-{i}"))?.click()?;
            if way != "open" {
                wait_for(
                    &format!("the {way} to {target} to be stopped"),
                    UI,
                    |last| {
                        let stops = app.log_lines(STOPPED).len();
                        *last = format!("{stops} stops logged, {before} before the click");
                        Ok((stops > before).then_some(()))
                    },
                )?;
            }
            let now = window.url()?;
            check(
                now == trap,
                format!("the {way} to {target} left the page for {now}"),
            )?;
            let windows = window.windows()?.len();
            check(
                windows == 2,
                format!("the {way} to {target} left {windows} windows"),
            )?;
        }
    }
    let title = consent_title(&host, "막았어요")?;
    eprintln!("the consent window after the last stop: {title}");
    window.screenshot_titled(&host, "consent-stopped")?;
    check(
        elsewhere.requests().is_empty(),
        format!(
            "requests reached another origin: {:?}",
            elsewhere.requests()
        ),
    )?;
    check(
        callback.requests().is_empty(),
        format!(
            "requests reached the callback's port: {:?}",
            callback.requests()
        ),
    )?;
    // WebKit opens a connection to a clicked link's host while it asks where the link may go
    // (its link preconnect); no request is sent on it.
    eprintln!(
        "connections without a request from the clicks: {} to another origin, {} to the callback's port",
        elsewhere.connections().len(),
        callback.connections().len()
    );
    let stops = app.log_lines(STOPPED);
    for line in &stops {
        check(
            !line.contains("code=") && !line.contains(path),
            format!("a stop is logged by its origin only: {line}"),
        )?;
    }
    eprintln!("{} ways out stopped", stops.len());

    // The real flow: the center's pages to the end, and the callback taken before it leaves —
    // not a request, not even a connection, reaches its port.
    let connected = callback.connections().len();
    window.navigate(authorize.as_str())?;
    agree_to_everything(&window, HONG)?;
    window.wait_closed(&second, CENTER)?;
    window.back_to_main()?;
    window.testid("account-card", CENTER)?;
    check(
        callback.requests().is_empty() && callback.connections().len() == connected,
        format!("the callback left the app: {:?}", callback.connections()),
    )?;
    window.quit()?;

    // Nor is anything the pages stored left on disk.
    let kept = files_holding(&app.out_dir().join("xdg"), b"moa-fixture");
    check(
        kept.is_empty(),
        format!("the pages' storage on disk: {kept:?}"),
    )?;
    Ok(())
}

#[test]
fn the_main_window_stays_on_the_apps_own_pages() -> Result<()> {
    let app = MoaApp::new("main_window_guard")?;
    let elsewhere = Listener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let window = app.launch()?;
    let page = window.url()?;
    let target = format!("http://{}/main-window", elsewhere.addr());
    window.execute(
        "document.body.insertAdjacentHTML('beforeend', \
           `<a id=\"e2e-link\" href=\"${arguments[0]}\">out</a> \
            <a id=\"e2e-blank\" href=\"${arguments[0]}\" target=\"_blank\">out</a>`); \
         window.open(arguments[0]);",
        vec![json!(target)],
    )?;
    for (way, logged) in [
        ("#e2e-blank", "main window: stopped a new window"),
        ("#e2e-link", "main window: stopped a navigation"),
        ("location", "main window: stopped a navigation"),
    ] {
        let before = app.log_lines(logged).len();
        match way {
            "location" => {
                drop(window.execute("location.href = arguments[0];", vec![json!(target)])?)
            }
            link => window.find(link)?.click()?,
        }
        wait_for(&format!("{way} to be stopped"), UI, |last| {
            let stops = app.log_lines(logged).len();
            *last = format!("{stops} logged, {before} before");
            Ok((stops > before).then_some(()))
        })?;
        check(window.url()? == page, format!("{way} left the app"))?;
        check(
            window.windows()?.len() == 1,
            format!("{way} opened a window"),
        )?;
    }
    window.wait("header h1", UI)?;
    check(
        elsewhere.requests().is_empty(),
        format!("requests left the main window: {:?}", elsewhere.requests()),
    )?;
    window.quit()?;
    Ok(())
}
