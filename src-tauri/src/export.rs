//! Saving an export the UI prepared (a CSV of history) into the Downloads folder. The UI has no
//! file system access of its own; the core's writer ([`moa_core::files::save_export`]) writes one
//! new file there — never over another, at most 16 MiB, never under a name Windows reserves —
//! and this says where, or why not as a code.

use std::path::Path;

use moa_core::Code;

/// The Downloads folder, or `~/Downloads` where the desktop names none (a bare X session).
pub fn folder<R: tauri::Runtime>(
    paths: &tauri::path::PathResolver<R>,
) -> Option<std::path::PathBuf> {
    paths
        .download_dir()
        .or_else(|_| paths.home_dir().map(|home| home.join("Downloads")))
        .ok()
}

/// Writes `content` to a new file named after `file_name` in `folder`; returns its path.
pub fn save(folder: &Path, file_name: &str, content: &str) -> Result<String, Code> {
    moa_core::files::save_export(folder, file_name, content)
        .map(|path| path.display().to_string())
        .map_err(|e| e.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("moa-export-{name}-{}", std::process::id()))
    }

    #[test]
    fn an_export_gets_a_safe_new_name_and_never_overwrites() {
        let dir = folder("names");
        let first = save(&dir, "../../etc/passwd", "a").unwrap();
        assert!(first.ends_with("etcpasswd.csv"), "{first}");
        let second = save(&dir, "etcpasswd.csv", "b").unwrap();
        assert!(second.ends_with("etcpasswd (1).csv"), "{second}");
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "a");
        assert_eq!(save(&dir, "///", "c"), Err(Code::BadFileName));
        let korean = save(&dir, "모아-거래내역", "d").unwrap();
        assert!(korean.ends_with("모아-거래내역.csv"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_export_too_large_or_named_for_a_windows_device_is_refused_with_its_code() {
        let dir = folder("refused");
        let huge = "x".repeat(moa_core::files::MAX_EXPORT_BYTES + 1);
        assert_eq!(save(&dir, "history", &huge), Err(Code::ExportTooLarge));
        for device in ["CON", "nul", "COM1", "lpt9.csv"] {
            assert_eq!(save(&dir, device, "a"), Err(Code::BadFileName), "{device}");
        }
        assert!(
            !dir.exists() || std::fs::read_dir(&dir).unwrap().next().is_none(),
            "nothing was written"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
