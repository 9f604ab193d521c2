//! The three lists of the app's commands agree — `build.rs` (which declares them to Tauri's
//! access control), the handler in `lib.rs` (which runs them) and the main window's capability
//! (which grants them) — and the capability grants nothing else: the UI calls no plugin, event
//! or window API, so it holds no permission for one.

use std::collections::BTreeSet;
use std::path::Path;

fn source(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?}")) + start.len();
    let to = text[from..]
        .find(end)
        .unwrap_or_else(|| panic!("no {end:?}"));
    &text[from..from + to]
}

/// The names in `build.rs`'s `moa_commands()`.
fn declared() -> BTreeSet<String> {
    let build = source("build.rs");
    let after = between(&build, "fn moa_commands()", "\n}");
    between(after, "{", "]")
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The commands in `lib.rs`'s `tauri::generate_handler![…]`.
fn handled() -> BTreeSet<String> {
    let lib = source("src/lib.rs");
    between(&lib, "tauri::generate_handler![", "]")
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .strip_prefix("commands::")
                .unwrap_or_else(|| panic!("{entry} is not in commands.rs"))
                .to_owned()
        })
        .collect()
}

/// The permissions of `capabilities/main.json`.
fn granted() -> Vec<String> {
    let capability: serde_json::Value =
        serde_json::from_str(&source("capabilities/main.json")).expect("JSON");
    assert_eq!(capability["windows"], serde_json::json!(["main"]));
    capability["permissions"]
        .as_array()
        .expect("a list of permissions")
        .iter()
        .map(|p| p.as_str().expect("a permission by name").to_owned())
        .collect()
}

#[test]
fn build_rs_the_handler_and_the_capability_list_the_same_commands() {
    let declared = declared();
    assert!(declared.len() >= 19, "build.rs declares {declared:?}");
    assert_eq!(handled(), declared, "lib.rs's handler against build.rs");
    let granted: BTreeSet<String> = granted()
        .iter()
        .filter_map(|p| p.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect();
    assert_eq!(granted, declared, "capabilities/main.json against build.rs");
}

#[test]
fn the_main_window_is_granted_its_commands_and_nothing_else() {
    let extra: Vec<String> = granted()
        .into_iter()
        .filter(|p| !p.starts_with("allow-") || p.contains(':'))
        .collect();
    assert!(
        extra.is_empty(),
        "permissions the UI never uses: {extra:?} (it calls only Moa's own commands)"
    );
    // Every capability file there is names the main window only: the consent window has none.
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("capabilities");
    let files: Vec<_> = std::fs::read_dir(&folder)
        .expect("capabilities/")
        .map(|e| e.expect("an entry").file_name())
        .collect();
    assert_eq!(files, ["main.json"]);
}
