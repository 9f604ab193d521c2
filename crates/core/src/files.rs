//! The app's files on disk: its data folder private to the person's account, and the names of
//! the files a person asks it to write.
//!
//! The data folder holds the store (`moa.db` and SQLite's `-wal` and `-shm` beside it), the
//! sandbox's server and center databases and their sealing key, and on Linux the shell's
//! `logs/`. On Unix the folder is made 0700 and every file in it 0600, so no other account on
//! the machine reads a balance, a history or the sandbox's secrets — also in a copy of the
//! folder that keeps its modes. On Windows nothing is changed: the folder is under the
//! profile's `AppData`, whose inherited ACL grants only the user, SYSTEM and Administrators.

use std::io;
use std::path::Path;

/// Sub-folders of the data folder whose files are tightened with it: the shell's log (on Linux
/// the log folder is inside the data folder).
const PRIVATE_SUBFOLDERS: &[&str] = &["logs"];

/// Creates `folder` (and its parents) and makes it private to this account.
pub fn private_dir(folder: &Path) -> io::Result<()> {
    std::fs::create_dir_all(folder)?;
    set_mode(folder, 0o700)
}

/// Makes an existing file private to this account.
pub fn private_file(path: &Path) -> io::Result<()> {
    set_mode(path, 0o600)
}

/// Creates `path` empty and private when it does not exist yet, so that whatever opens it
/// next (SQLite) finds it private from its first byte; SQLite gives the `-wal` and `-shm`
/// files it makes the database file's mode.
pub fn create_private_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => private_file(path),
        Err(e) => Err(e),
    }
}

/// Makes the data folder private: the folder and its `logs/` 0700, every file directly in them
/// 0600. Files left by an older version, or made by a library with the process's default mode,
/// are brought in line. Links are left alone: the mode of whatever a
/// link points at is not the data folder's to change.
pub fn private_data_dir(folder: &Path) -> io::Result<()> {
    private_dir(folder)?;
    tighten_files(folder)?;
    for sub in PRIVATE_SUBFOLDERS {
        let sub = folder.join(sub);
        if std::fs::symlink_metadata(&sub).is_ok_and(|m| m.is_dir()) {
            set_mode(&sub, 0o700)?;
            tighten_files(&sub)?;
        }
    }
    Ok(())
}

fn tighten_files(folder: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        // `file_type` does not follow links.
        if entry.file_type()?.is_file() {
            private_file(&entry.path())?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::symlink_metadata(path)?.permissions().mode() & 0o777;
    if current == mode {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// Names Windows keeps for devices, with or without an extension (`CON`, `con.csv`): a file
/// of that name cannot be made there, and a path naming one opens the device.
const WINDOWS_RESERVED: &[&str] = &["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"];

/// Whether `name` (a file name, not a path) is one Windows reserves for a device: `CON`,
/// `PRN`, `AUX`, `NUL`, `COM0`–`COM9` and `LPT0`–`LPT9` (also with superscript ¹ ² ³), in any
/// case, with any extension, and with trailing dots or spaces, which Windows drops.
pub fn is_windows_reserved(name: &str) -> bool {
    let trimmed = name.trim_end_matches(['.', ' ']);
    let stem = trimmed
        .split('.')
        .next()
        .unwrap_or(trimmed)
        .trim_end_matches(' ');
    let upper = stem.to_uppercase();
    if WINDOWS_RESERVED.contains(&upper.as_str()) {
        return true;
    }
    let mut chars = upper.chars();
    let prefix: String = chars.by_ref().take(3).collect();
    let rest: Vec<char> = chars.collect();
    matches!(prefix.as_str(), "COM" | "LPT")
        && matches!(rest.as_slice(), [d] if d.is_ascii_digit() || matches!(d, '¹' | '²' | '³'))
}

/// The largest export Moa writes: 16 MiB, about 100,000 rows of history — more than the
/// years the app keeps of a busy account. Anything larger is not an export of this app's data.
pub const MAX_EXPORT_BYTES: usize = 16 * 1024 * 1024;

/// Why an export was not written: a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The name has nothing usable left, or names a Windows device.
    #[error("bad_file_name")]
    BadFileName,
    /// More than [`MAX_EXPORT_BYTES`].
    #[error("export_too_large")]
    TooLarge,
    /// The folder could not be made.
    #[error("no_download_folder")]
    NoFolder,
    /// The file could not be written.
    #[error("write_failed")]
    WriteFailed,
}

impl ExportError {
    /// The stable code.
    pub fn code(self) -> crate::Code {
        match self {
            ExportError::BadFileName => crate::Code::BadFileName,
            ExportError::TooLarge => crate::Code::ExportTooLarge,
            ExportError::NoFolder => crate::Code::NoDownloadFolder,
            ExportError::WriteFailed => crate::Code::WriteFailed,
        }
    }
}

/// The stem of a CSV export's file name chosen as `chosen`: letters, digits, `-` and `_` only
/// (so no path, no separator, no dot), at most 80 of them, and not a name Windows reserves.
pub fn export_stem(chosen: &str) -> Result<String, ExportError> {
    let stem: String = chosen
        .trim_end_matches(".csv")
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
        .take(80)
        .collect();
    if stem.is_empty() || is_windows_reserved(&stem) {
        return Err(ExportError::BadFileName);
    }
    Ok(stem)
}

/// Writes `content` to a new CSV file in `folder` named after `chosen` ([`export_stem`]),
/// readable by this account only, and returns its path. An existing file is never
/// overwritten: `name (1).csv`, `name (2).csv`… are tried instead. Content over
/// [`MAX_EXPORT_BYTES`] is refused before anything is written.
pub fn save_export(
    folder: &Path,
    chosen: &str,
    content: &str,
) -> Result<std::path::PathBuf, ExportError> {
    if content.len() > MAX_EXPORT_BYTES {
        return Err(ExportError::TooLarge);
    }
    let stem = export_stem(chosen)?;
    std::fs::create_dir_all(folder).map_err(|_| ExportError::NoFolder)?;
    for n in 0..100 {
        let name = if n == 0 {
            format!("{stem}.csv")
        } else {
            format!("{stem} ({n}).csv")
        };
        let path = folder.join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&path) {
            Ok(mut file) => {
                std::io::Write::write_all(&mut file, content.as_bytes())
                    .map_err(|_| ExportError::WriteFailed)?;
                return Ok(path);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(_) => return Err(ExportError::WriteFailed),
        }
    }
    Err(ExportError::WriteFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let path = std::env::temp_dir()
                .join(format!("moa-core-files-{name}-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&path).unwrap();
            Scratch(path)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn windows_device_names_are_reserved_in_any_case_and_with_any_extension() {
        for name in [
            "CON",
            "con",
            "Con.csv",
            "PRN",
            "aux.txt",
            "NUL",
            "nul.tar.gz",
            "COM1",
            "com9.csv",
            "COM0",
            "LPT1",
            "lpt9",
            "COM¹",
            "LPT³.csv",
            "CON.",
            "NUL ",
            "CON .csv",
            "conin$",
        ] {
            assert!(is_windows_reserved(name), "{name}");
        }
        for name in [
            "CONTACTS",
            "console.csv",
            "COM10",
            "LPT",
            "COMX",
            "NULL",
            "모아-거래내역",
            "AUXI",
            "com1a",
            "x.CON",
        ] {
            assert!(!is_windows_reserved(name), "{name}");
        }
    }

    #[test]
    fn an_export_named_after_a_device_is_refused() {
        let dir = Scratch::new("reserved");
        for chosen in ["CON", "nul.csv", "COM1", "lpt2.csv", "../aux", "P/R/N"] {
            assert_eq!(
                save_export(&dir.0, chosen, "a"),
                Err(ExportError::BadFileName),
                "{chosen}"
            );
        }
        assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 0);
    }

    #[test]
    fn an_export_over_the_cap_is_refused_before_anything_is_written() {
        let dir = Scratch::new("cap");
        let huge = "a".repeat(MAX_EXPORT_BYTES + 1);
        assert_eq!(
            save_export(&dir.0, "history", &huge),
            Err(ExportError::TooLarge)
        );
        assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 0);
        let exact = "a".repeat(MAX_EXPORT_BYTES);
        assert!(save_export(&dir.0, "history", &exact).is_ok());
    }

    #[test]
    fn an_export_gets_a_safe_new_private_name_and_never_overwrites() {
        let dir = Scratch::new("names");
        let first = save_export(&dir.0, "../../etc/passwd", "a").unwrap();
        assert_eq!(first, dir.0.join("etcpasswd.csv"));
        let second = save_export(&dir.0, "etcpasswd.csv", "b").unwrap();
        assert_eq!(second, dir.0.join("etcpasswd (1).csv"));
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "a");
        assert_eq!(
            save_export(&dir.0, "///", "c"),
            Err(ExportError::BadFileName)
        );
        let korean = save_export(&dir.0, "모아-거래내역", "d").unwrap();
        assert_eq!(korean, dir.0.join("모아-거래내역.csv"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&korean).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_data_folder_and_its_files_become_private_but_links_are_left_alone() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = Scratch::new("private");
        let outside = Scratch::new("outside");
        let data = dir.0.join("data");
        std::fs::create_dir_all(data.join("logs")).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        for file in ["moa.db", "moa.db-wal", "logs/Moa.log"] {
            std::fs::write(data.join(file), "x").unwrap();
            std::fs::set_permissions(data.join(file), std::fs::Permissions::from_mode(0o644))
                .unwrap();
        }
        let target = outside.0.join("elsewhere");
        std::fs::write(&target, "x").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink(&target, data.join("link")).unwrap();

        private_data_dir(&data).unwrap();
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("logs")), 0o700);
        for file in ["moa.db", "moa.db-wal", "logs/Moa.log"] {
            assert_eq!(mode(&data.join(file)), 0o600, "{file}");
        }
        assert_eq!(mode(&target), 0o644, "a link's target is not the app's");
    }
}
