//! Saving an export the UI prepared (a CSV of history) into the Downloads folder. The UI has no
//! file system access of its own; this writes one new file there and says where.

use std::path::Path;

/// The Downloads folder, or `~/Downloads` where the desktop names none (a bare X session).
pub fn folder<R: tauri::Runtime>(
    paths: &tauri::path::PathResolver<R>,
) -> Option<std::path::PathBuf> {
    paths
        .download_dir()
        .or_else(|_| paths.home_dir().map(|home| home.join("Downloads")))
        .ok()
}

/// Writes `content` to a new file named after `file_name` in `folder`; returns its path. The
/// name is reduced to letters, digits, `-`, `_` and `.`; an existing file is never overwritten.
pub fn save(folder: &Path, file_name: &str, content: &str) -> Result<String, &'static str> {
    let stem: String = file_name
        .trim_end_matches(".csv")
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
        .take(80)
        .collect();
    if stem.is_empty() {
        return Err("bad_file_name");
    }
    std::fs::create_dir_all(folder).map_err(|_| "no_download_folder")?;
    for n in 0..100 {
        let name = if n == 0 {
            format!("{stem}.csv")
        } else {
            format!("{stem} ({n}).csv")
        };
        let path = folder.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                std::io::Write::write_all(&mut file, content.as_bytes())
                    .map_err(|_| "write_failed")?;
                return Ok(path.display().to_string());
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(_) => return Err("write_failed"),
        }
    }
    Err("write_failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_gets_a_safe_new_name_and_never_overwrites() {
        let dir = std::env::temp_dir().join(format!("moa-export-{}", std::process::id()));
        let first = save(&dir, "../../etc/passwd", "a").unwrap();
        assert!(first.ends_with("etcpasswd.csv"), "{first}");
        let second = save(&dir, "etcpasswd.csv", "b").unwrap();
        assert!(second.ends_with("etcpasswd (1).csv"), "{second}");
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "a");
        assert_eq!(save(&dir, "///", "c"), Err("bad_file_name"));
        let korean = save(&dir, "모아-거래내역", "d").unwrap();
        assert!(korean.ends_with("모아-거래내역.csv"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
