//! Files the server writes: its folders are 0700 and its files 0600, so that no other account
//! on the machine reads the database, and the lock that keeps a second server off a database.
//! On Windows the defaults of the user's profile apply (the folder inherits an ACL that grants
//! only the user, SYSTEM and administrators).

use std::fs::File;
use std::io;
use std::path::Path;

/// Creates `folder` (and its parents) and makes it private to this account.
pub fn private_dir(folder: &Path) -> io::Result<()> {
    std::fs::create_dir_all(folder)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Makes an existing file private to this account.
pub fn private_file(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Opens `path` and takes an exclusive lock on it without waiting. The lock lasts as long as
/// the returned file is open — for the process's life when it is kept — and the operating
/// system drops it when the process dies, even by `kill -9`.
pub fn lock_exclusive(path: &Path) -> io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    private_file(path)?;
    file.try_lock().map_err(|e| match e {
        std::fs::TryLockError::WouldBlock => io::Error::new(
            io::ErrorKind::WouldBlock,
            "the file is locked by another process",
        ),
        std::fs::TryLockError::Error(e) => e,
    })?;
    Ok(file)
}
