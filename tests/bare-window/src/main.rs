//! The start-up benchmark's baseline: one Tauri window with a page, built with the same Tauri,
//! features and profile as Moa, and nothing else (no core, no store, no sandbox center, no
//! plugins). It prints one line when its page has been drawn, as Moa logs its dashboard's.
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

fn main() {
    let started = Started(Instant::now(), AtomicBool::new(false));
    tauri::Builder::default()
        .manage(started)
        .invoke_handler(tauri::generate_handler![painted])
        .run(tauri::generate_context!())
        .expect("the bare window could not run");
}
