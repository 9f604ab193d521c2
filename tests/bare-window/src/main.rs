//! The start-up benchmark's baseline: one Tauri window with a page, built with the same Tauri,
//! features and profile as Moa, and nothing else (no core, no store, no sandbox center, no
//! plugins). It prints one line when its page has been drawn, as Moa logs its dashboard's.
//!
//! Its page is one line of Latin text; with `MOA_BARE_PAGE=hangul` the line is Hangul, which
//! shows what drawing Korean at all costs a first paint.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

struct Started(Instant, AtomicBool);

/// The page has been drawn: says so on standard output, once.
#[tauri::command]
fn painted(started: tauri::State<'_, Started>) {
    if !started.1.swap(true, Ordering::Relaxed) {
        let ms = started.0.elapsed().as_millis();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "page painted {ms} ms after start");
        let _ = out.flush();
    }
}

/// Picks the page named by [`PAGE`]: `index.html` unless it says `hangul`.
const PAGE: &str = "MOA_BARE_PAGE";

fn main() {
    let started = Started(Instant::now(), AtomicBool::new(false));
    tauri::Builder::default()
        .manage(started)
        .invoke_handler(tauri::generate_handler![painted])
        .setup(|app| {
            // The window of tauri.conf.json, opened here (as Tauri would) with the chosen page.
            let mut config = app
                .config()
                .app
                .windows
                .first()
                .ok_or("tauri.conf.json has no window")?
                .clone();
            if std::env::var(PAGE).is_ok_and(|page| page == "hangul") {
                config.url = tauri::WebviewUrl::App("hangul.html".into());
            }
            tauri::WebviewWindowBuilder::from_config(app.handle(), &config)?.build()?;
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("the bare window could not run");
}
