//! The traffic between the app's UI and its shell, recorded inside the page: every command's
//! name and arguments and every answer, stream message and event the shell sends back, each
//! written as JSON text into an array the test reads at the end. Only for looking: the record
//! changes nothing that crosses.
//!
//! Tauri defines `window.__TAURI_INTERNALS__.invoke` read-only, so the recorder tries to wrap
//! it and, whether or not that took, also wraps what `invoke` goes through, which the page may
//! replace: `fetch` to the `ipc:` scheme (a command's name, its JSON body and the raw answer)
//! and the callbacks registry (`__TAURI_INTERNALS__.callbacks`, a `Map`), whose every callback
//! is how answers, `Channel` messages and events reach the page.

use serde_json::Value;

use crate::webdriver::{Error, Result, Session};

/// The recorder. Idempotent; answers which hooks are in place.
const RECORD: &str = r#"
if (window.__moaIpcRecord) return window.__moaIpcRecord.hooks;
const log = [];
const hooks = { invoke: false, fetch: false, callbacks: false, postMessage: false };
window.__moaIpcRecord = { log, hooks };
const text = (value) => {
  if (typeof value === 'string') return value;
  if (value instanceof ArrayBuffer) return new TextDecoder().decode(value);
  if (ArrayBuffer.isView(value)) return new TextDecoder().decode(value);
  try { return JSON.stringify(value); } catch (e) { return String(value); }
};
const note = (entry) => { try { log.push(JSON.stringify(entry)); } catch (e) { log.push(String(entry)); } };
const internals = window.__TAURI_INTERNALS__;

try {
  const original = internals.invoke;
  const hooked = function (cmd, args, options) {
    note({ via: 'invoke', cmd, args: text(args) });
    return original.call(this, cmd, args, options).then(
      (answer) => { note({ via: 'invoke', cmd, answer: text(answer) }); return answer; },
      (error) => { note({ via: 'invoke', cmd, error: text(error) }); throw error; });
  };
  internals.invoke = hooked;
  hooks.invoke = internals.invoke === hooked;
} catch (e) { hooks.invoke = false; }

const originalFetch = window.fetch;
window.fetch = function (input, init) {
  const url = typeof input === 'string' ? input : (input && input.url) || String(input);
  if (!url.startsWith('ipc:') && !url.includes('//ipc.localhost/')) return originalFetch.call(this, input, init);
  // The request only: the answer reaches the page through the callbacks below, and the
  // response is left untouched (a clone of a custom-scheme response could hold up its reading).
  note({ via: 'fetch', url, body: text(init && init.body) });
  return originalFetch.call(this, input, init);
};
hooks.fetch = window.fetch !== originalFetch;

const callbacks = internals.callbacks;
if (callbacks && typeof callbacks.set === 'function') {
  const set = callbacks.set;
  callbacks.set = function (id, callback) {
    return set.call(this, id, (data) => {
      note({ via: 'callback', data: text(data) });
      return callback(data);
    });
  };
  hooks.callbacks = true;
}

if (window.ipc && typeof window.ipc.postMessage === 'function') {
  try {
    const post = window.ipc.postMessage;
    window.ipc.postMessage = function (message) {
      note({ via: 'postMessage', message: text(message) });
      return post.call(this, message);
    };
    hooks.postMessage = true;
  } catch (e) {}
}
return hooks;
"#;

/// Which of the recorder's hooks took.
#[derive(Debug, Clone, Copy)]
pub struct Hooks {
    /// `__TAURI_INTERNALS__.invoke` itself (Tauri defines it read-only, so usually not).
    pub invoke: bool,
    /// `fetch` to the `ipc:` scheme: commands, their arguments and the raw answers.
    pub fetch: bool,
    /// The callbacks registry: answers, stream messages and events as delivered.
    pub callbacks: bool,
}

/// Starts recording the current window's traffic with the shell. Call before the actions
/// whose traffic matters; calling again keeps the same record.
pub fn record(window: &Session) -> Result<Hooks> {
    let hooks = window.execute(RECORD, Vec::new())?;
    let flag = |name: &str| hooks.get(name).and_then(Value::as_bool).unwrap_or(false);
    let hooks = Hooks {
        invoke: flag("invoke"),
        fetch: flag("fetch"),
        callbacks: flag("callbacks"),
    };
    // Commands and answers are both seen through `invoke` itself, or through `fetch` and
    // the callbacks together.
    let sees_all = hooks.invoke || (hooks.fetch && hooks.callbacks);
    if !sees_all {
        return Err(Error::Setup(format!(
            "the IPC recorder could not hook the page's commands and answers: {hooks:?}"
        )));
    }
    Ok(hooks)
}

/// Everything recorded so far, one JSON text per message, oldest first.
pub fn recorded(window: &Session) -> Result<Vec<String>> {
    let log = window.execute(
        "return window.__moaIpcRecord ? window.__moaIpcRecord.log.slice() : null;",
        Vec::new(),
    )?;
    let log = log
        .as_array()
        .ok_or_else(|| Error::Setup(format!("the page has no IPC record: {log}")))?;
    Ok(log
        .iter()
        .map(|m| {
            m.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| m.to_string())
        })
        .collect())
}
