//! Embeds the page and the configuration, as Moa's own build does.

fn main() {
    tauri_build::build();
}
