//! A thin W3C WebDriver client over HTTP: the dozen commands the scenarios use, each a request
//! whose JSON is written out here, so what goes to `tauri-driver` is plain to read and nothing
//! sits between a scenario and the protocol.

use std::fmt;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::blocking::Client;
use serde_json::{Value, json};

/// The key under which W3C WebDriver names an element in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How often a wait looks again. Short against the app's own pace (a bank answers in a few ms).
const POLL: Duration = Duration::from_millis(100);

/// A WebDriver failure, a wait that ran out, or a scenario's own check that failed.
#[derive(Debug)]
pub enum Error {
    /// The driver could not be reached or answered something that is not WebDriver JSON.
    Transport(String),
    /// The driver answered with a WebDriver error (`no such element`, `stale element
    /// reference`, …) and its message.
    WebDriver {
        /// The W3C error code.
        error: String,
        /// The driver's message.
        message: String,
    },
    /// A condition did not hold within its time: what was awaited, and what was last seen.
    Timeout {
        /// What the scenario waited for.
        what: String,
        /// The last observation, to tell "never appeared" from "appeared with the wrong value".
        last: String,
        /// How long it waited.
        after: Duration,
    },
    /// Something the harness needs is missing or wrong (a binary, a file, a value).
    Setup(String),
    /// The app did not behave as the scenario expects: what was expected and what was seen.
    Check(String),
}

impl Error {
    /// Whether the element asked for is not (or no longer) in the page: the state a wait
    /// keeps polling through.
    pub fn is_absent(&self) -> bool {
        matches!(self, Error::WebDriver { error, .. }
            if error == "no such element" || error == "stale element reference")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Transport(m) => write!(f, "WebDriver transport: {m}"),
            Error::WebDriver { error, message } => write!(f, "WebDriver {error}: {message}"),
            Error::Timeout { what, last, after } => {
                write!(
                    f,
                    "timed out after {after:?} waiting for {what}; last seen: {last}"
                )
            }
            Error::Setup(m) => write!(f, "{m}"),
            Error::Check(m) => write!(f, "check failed: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// A result of the harness.
pub type Result<T> = std::result::Result<T, Error>;

/// Polls `probe` until it yields a value or `timeout` passes. `probe` answers `Ok(None)` with
/// nothing yet, or `Err` for a failure that ends the wait at once; an element that is absent
/// or was re-rendered away counts as "nothing yet". `describe` names the condition for the
/// failure message, and `last` keeps the newest observation for it.
pub fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut(&mut String) -> Result<Option<T>>,
) -> Result<T> {
    let start = Instant::now();
    let mut last = String::from("nothing");
    loop {
        match probe(&mut last) {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(e) if e.is_absent() => last = e.to_string(),
            Err(e) => return Err(e),
        }
        if start.elapsed() >= timeout {
            return Err(Error::Timeout {
                what: what.to_owned(),
                last,
                after: timeout,
            });
        }
        std::thread::sleep(POLL);
    }
}

/// One WebDriver session: one launch of the app.
#[derive(Debug)]
pub struct Session {
    http: Client,
    url: String,
    id: String,
    open: bool,
}

/// An element of the current window's page.
#[derive(Debug, Clone)]
pub struct Element<'s> {
    session: &'s Session,
    id: String,
}

impl Session {
    /// Opens a session on the driver at `driver_url` with these capabilities (`alwaysMatch`).
    /// Starting the app is part of this, so the request may take a while.
    pub fn start(driver_url: &str, capabilities: Value, timeout: Duration) -> Result<Session> {
        let http = Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| Error::Transport(e.to_string()))?;
        let body = json!({ "capabilities": { "alwaysMatch": capabilities } });
        let value = send(
            &http,
            Method::POST,
            &format!("{driver_url}/session"),
            Some(body),
        )?;
        let id = value
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Transport(format!("new session without an id: {value}")))?
            .to_owned();
        Ok(Session {
            http,
            url: format!("{driver_url}/session/{id}"),
            id,
            open: true,
        })
    }

    fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        send(&self.http, method, &format!("{}{path}", self.url), body)
    }

    /// The current window's title.
    pub fn title(&self) -> Result<String> {
        string(self.call(Method::GET, "/title", None)?)
    }

    /// The address of the current window's page.
    pub fn url(&self) -> Result<String> {
        string(self.call(Method::GET, "/url", None)?)
    }

    /// Loads `url` in the current window, as typing it into an address bar would.
    pub fn navigate(&self, url: &str) -> Result<()> {
        self.call(Method::POST, "/url", Some(json!({ "url": url })))
            .map(drop)
    }

    /// The handle of the current window.
    pub fn window(&self) -> Result<String> {
        string(self.call(Method::GET, "/window", None)?)
    }

    /// The handles of every window the app has open.
    pub fn windows(&self) -> Result<Vec<String>> {
        let value = self.call(Method::GET, "/window/handles", None)?;
        value
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .ok_or_else(|| Error::Transport(format!("window handles: {value}")))
    }

    /// Makes `handle` the window later commands act on.
    pub fn switch_to(&self, handle: &str) -> Result<()> {
        self.call(Method::POST, "/window", Some(json!({ "handle": handle })))
            .map(drop)
    }

    /// Moves the current window to the display's top left and resizes it to `width` × `height`
    /// CSS pixels of its outer frame: a tall window stays on the screen its shot is taken of.
    pub fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.call(
            Method::POST,
            "/window/rect",
            Some(json!({ "x": 0, "y": 0, "width": width, "height": height })),
        )
        .map(drop)
    }

    /// Closes the current window, as the person closing it would.
    pub fn close_window(&self) -> Result<()> {
        self.call(Method::DELETE, "/window", None).map(drop)
    }

    /// The first element matching a CSS selector, now.
    pub fn find(&self, css: &str) -> Result<Element<'_>> {
        let value = self.call(
            Method::POST,
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        )?;
        self.element(value)
    }

    /// Every element matching a CSS selector, now (possibly none).
    pub fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>> {
        let value = self.call(
            Method::POST,
            "/elements",
            Some(json!({ "using": "css selector", "value": css })),
        )?;
        self.elements(&value)
    }

    /// The elements of a find-elements answer.
    fn elements(&self, value: &Value) -> Result<Vec<Element<'_>>> {
        value
            .as_array()
            .ok_or_else(|| Error::Transport(format!("elements: {value}")))?
            .iter()
            .map(|v| self.element(v.clone()))
            .collect()
    }

    /// The first element matching `css`, waiting up to `timeout` for it to appear.
    pub fn wait(&self, css: &str, timeout: Duration) -> Result<Element<'_>> {
        wait_for(&format!("an element {css}"), timeout, |_| {
            self.find(css).map(Some)
        })
    }

    /// The element whose `data-testid` is `id`, waiting up to `timeout` for it to appear.
    pub fn testid(&self, id: &str, timeout: Duration) -> Result<Element<'_>> {
        self.wait(&testid(id), timeout)
    }

    fn element(&self, value: Value) -> Result<Element<'_>> {
        let id = value
            .get(ELEMENT_KEY)
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Transport(format!("not an element: {value}")))?
            .to_owned();
        Ok(Element { session: self, id })
    }

    /// Runs a script in the current window's page and returns its value. Used only to read
    /// what the page shows (never to act for the person).
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.call(
            Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Runs an asynchronous script in the current window's page: it ends by calling the
    /// function passed as its last argument, whose argument is the answer. Used only to wait for
    /// the page (its next frame), never to act for the person.
    pub fn execute_async(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.call(
            Method::POST,
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// The current window's page source, for failure reports.
    pub fn source(&self) -> Result<String> {
        string(self.call(Method::GET, "/source", None)?)
    }

    /// Ends the session. The driver closes whatever the app still has open.
    pub fn end(mut self) -> Result<()> {
        self.open = false;
        self.call(Method::DELETE, "", None).map(drop)
    }

    /// The session's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.open {
            // Best effort: the driver's own guard kills what a failed session leaves behind.
            let _ = self.call(Method::DELETE, "", None);
        }
    }
}

impl Element<'_> {
    fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        self.session
            .call(method, &format!("/element/{}{path}", self.id), body)
    }

    /// Clicks it, as a person would (the driver scrolls it into view and checks it is not
    /// covered).
    pub fn click(&self) -> Result<()> {
        self.call(Method::POST, "/click", Some(json!({}))).map(drop)
    }

    /// Types `text` into it.
    pub fn type_text(&self, text: &str) -> Result<()> {
        self.call(Method::POST, "/value", Some(json!({ "text": text })))
            .map(drop)
    }

    /// Empties an input.
    pub fn clear(&self) -> Result<()> {
        self.call(Method::POST, "/clear", Some(json!({}))).map(drop)
    }

    /// Its rendered text.
    pub fn text(&self) -> Result<String> {
        string(self.call(Method::GET, "/text", None)?)
    }

    /// An attribute's value, if it has the attribute.
    pub fn attribute(&self, name: &str) -> Result<Option<String>> {
        let value = self.call(Method::GET, &format!("/attribute/{name}"), None)?;
        Ok(value.as_str().map(str::to_owned))
    }

    /// A DOM property's value (`value` of an input, `selected` of an option).
    pub fn property(&self, name: &str) -> Result<Value> {
        self.call(Method::GET, &format!("/property/{name}"), None)
    }

    /// Whether it can be interacted with.
    pub fn is_enabled(&self) -> Result<bool> {
        let value = self.call(Method::GET, "/enabled", None)?;
        value
            .as_bool()
            .ok_or_else(|| Error::Transport(format!("enabled: {value}")))
    }

    /// The first descendant matching a CSS selector.
    pub fn find(&self, css: &str) -> Result<Element<'_>> {
        let value = self.call(
            Method::POST,
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        )?;
        self.session.element(value)
    }

    /// Every descendant matching a CSS selector.
    pub fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>> {
        let value = self.call(
            Method::POST,
            "/elements",
            Some(json!({ "using": "css selector", "value": css })),
        )?;
        self.session.elements(&value)
    }
}

/// The CSS selector of a `data-testid`.
pub fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

fn string(value: Value) -> Result<String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::Transport(format!("expected a string, got {value}")))
}

/// Sends one command and unwraps W3C's `{"value": …}`, turning an error answer into
/// [`Error::WebDriver`].
fn send(http: &Client, method: Method, url: &str, body: Option<Value>) -> Result<Value> {
    let request = http.request(method, url);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request
        .send()
        .map_err(|e| Error::Transport(format!("{url}: {e}")))?;
    let status = response.status();
    let text = response
        .text()
        .map_err(|e| Error::Transport(format!("{url}: {e}")))?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|_| Error::Transport(format!("{url}: HTTP {status}: {text}")))?;
    let value = json.get("value").cloned().unwrap_or(Value::Null);
    if let Some(error) = value.get("error").and_then(Value::as_str) {
        return Err(Error::WebDriver {
            error: error.to_owned(),
            message: value
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        });
    }
    if !status.is_success() {
        return Err(Error::Transport(format!("{url}: HTTP {status}: {text}")));
    }
    Ok(value)
}

/// `Ok` when `ok`, else a failed check saying `what`.
pub fn check(ok: bool, what: impl Into<String>) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::Check(what.into()))
    }
}
