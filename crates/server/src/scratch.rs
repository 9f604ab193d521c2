//! A folder of its own for a unit test, under the system's temp folder, removed when dropped.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A test's own folder; dropping it removes the folder and everything in it.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    /// A new, empty folder named after `name`, this process and a counter.
    pub(crate) fn new(name: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "moa-server-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        // A leftover from an earlier run with the same pid would make `create_new` fail.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a scratch folder");
        Scratch(path)
    }

    /// Where `name` is (or would be) in the folder.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `content` to a new file readable only by its owner.
    pub(crate) fn private_file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.path(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).expect("create a scratch file");
        file.write_all(content.as_bytes())
            .expect("write a scratch file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
