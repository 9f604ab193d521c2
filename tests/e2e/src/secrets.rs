//! The secrets that must never reach the app's side — its files, its logs, the traffic between
//! its UI and its shell — and a scan for them. The center is the far side that issued them, so
//! its own database is where they are learnt: every authorization code it issued, the
//! institutions' client secrets and a person's full account numbers. Tokens are not stored
//! there (only their ids), so they are looked for by their shape: the testbed's tokens are
//! HS256 JWTs, and anything JWT-shaped counts. Files are scanned as raw bytes, so an SQLite
//! database, its write-ahead log and its freed pages are read as they lie on the disk.

use std::fmt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::webdriver::{Error, Result};

/// What is looked for: named literal values, named numbers, and anything shaped like a JWT.
#[derive(Debug)]
pub struct Secrets {
    literals: Vec<(String, String)>,
    /// Short numbers (a one-time code, a phone number), found only standing alone: not
    /// inside a longer run of digits, where six digits turn up by chance.
    numbers: Vec<(String, String)>,
}

/// One secret found somewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where: a file's path, or the name of what was scanned.
    pub place: String,
    /// What kind of secret (`a JWT-shaped string`, `client secret`, …).
    pub what: String,
    /// Its byte offset in the place.
    pub offset: usize,
    /// Its first characters, enough to recognise it in a failure message.
    pub start: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at byte {} of {}: {}…",
            self.what, self.offset, self.place, self.start
        )
    }
}

/// What a scan read and found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Every file read, with how many bytes it had.
    pub files: Vec<(PathBuf, u64)>,
    /// How many bytes were read in all.
    pub bytes: u64,
    /// Every secret found.
    pub findings: Vec<Finding>,
}

impl Scan {
    /// Adds what another scan read and found.
    pub fn add(&mut self, other: Scan) {
        self.files.extend(other.files);
        self.bytes += other.bytes;
        self.findings.extend(other.findings);
    }

    /// How many bytes were read from files whose name starts with `prefix`.
    pub fn bytes_of(&self, prefix: &str) -> u64 {
        self.files
            .iter()
            .filter(|(f, _)| {
                f.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
            })
            .map(|(_, bytes)| bytes)
            .sum()
    }
}

/// The least a JWT's segments are long, after `eyJ` for the first: the shape
/// `eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`.
const JWT_SEGMENT: usize = 10;

impl Secrets {
    /// What the center whose database is `center_db` (a `sandbox-center.db`) issued or holds:
    /// every authorization code, every institution's client secret, and the full numbers of
    /// the accounts of the person named `holder`. The database is opened read-only.
    pub fn of_center(center_db: &Path, holder: &str) -> Result<Secrets> {
        let conn = Connection::open_with_flags(center_db, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| Error::Setup(format!("cannot open {}: {e}", center_db.display())))?;
        let column = |sql: &str, param: Option<&str>| -> Result<Vec<String>> {
            let fail = |e: rusqlite::Error| Error::Setup(format!("{}: {e}", center_db.display()));
            let mut statement = conn.prepare(sql).map_err(fail)?;
            let rows = statement
                .query_map(rusqlite::params_from_iter(param), |r| r.get::<_, String>(0))
                .map_err(fail)?;
            rows.collect::<std::result::Result<_, _>>().map_err(fail)
        };
        let mut literals = Vec::new();
        for code in column("SELECT code FROM auth_codes", None)? {
            literals.push(("authorization code".to_owned(), code));
        }
        for secret in column("SELECT client_secret FROM institutions", None)? {
            literals.push(("client secret".to_owned(), secret));
        }
        for number in column(
            "SELECT a.account_num FROM accounts a JOIN people p ON a.person_id = p.id \
             WHERE p.user_name = ?1",
            Some(holder),
        )? {
            literals.push((format!("{holder}'s full account number"), number));
        }
        Ok(Secrets {
            literals,
            numbers: Vec::new(),
        })
    }

    /// Also looks for `number`, a run of digits of kind `what` (a one-time code, a phone
    /// number the person typed), wherever it stands alone.
    pub fn with_number(mut self, what: &str, number: &str) -> Self {
        self.numbers.push((what.to_owned(), number.to_owned()));
        self
    }

    /// How many values of kind `what` are looked for.
    pub fn count(&self, what: &str) -> usize {
        self.literals
            .iter()
            .chain(&self.numbers)
            .filter(|(w, _)| w == what)
            .count()
    }

    /// Every secret in `bytes`, named `place` in the findings.
    pub fn find(&self, place: &str, bytes: &[u8]) -> Vec<Finding> {
        let mut found: Vec<Finding> = jwt_shapes(bytes)
            .into_iter()
            .map(|(offset, len)| Finding {
                place: place.to_owned(),
                what: "a JWT-shaped string".to_owned(),
                offset,
                start: excerpt(&bytes[offset..offset + len]),
            })
            .collect();
        for (what, value) in &self.literals {
            let needle = value.as_bytes();
            if needle.is_empty() {
                continue;
            }
            for offset in occurrences(bytes, needle) {
                found.push(Finding {
                    place: place.to_owned(),
                    what: what.clone(),
                    offset,
                    start: excerpt(needle),
                });
            }
        }
        for (what, number) in &self.numbers {
            for offset in standalone_numbers(bytes, number.as_bytes()) {
                found.push(Finding {
                    place: place.to_owned(),
                    what: what.clone(),
                    offset,
                    start: excerpt(number.as_bytes()),
                });
            }
        }
        found
    }

    /// Reads every file under `root` (following no symbolic link) except those `skip` names,
    /// and looks for the secrets in each.
    pub fn scan_tree(&self, root: &Path, skip: impl Fn(&Path) -> bool) -> Result<Scan> {
        let mut scan = Scan::default();
        let mut folders = vec![root.to_owned()];
        while let Some(folder) = folders.pop() {
            let entries = std::fs::read_dir(&folder)
                .map_err(|e| Error::Setup(format!("cannot list {}: {e}", folder.display())))?;
            for entry in entries {
                let entry = entry
                    .map_err(|e| Error::Setup(format!("cannot list {}: {e}", folder.display())))?;
                let path = entry.path();
                let kind = entry
                    .file_type()
                    .map_err(|e| Error::Setup(format!("{}: {e}", path.display())))?;
                if kind.is_dir() {
                    folders.push(path);
                } else if kind.is_file() && !skip(&path) {
                    scan.add(self.scan_file(&path)?);
                }
            }
        }
        Ok(scan)
    }

    /// Reads one file and looks for the secrets in it. A file that vanished since it was
    /// listed (SQLite removes its write-ahead log when the last connection closes) is no
    /// file: it counts as read and empty.
    pub fn scan_file(&self, path: &Path) -> Result<Scan> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::Setup(format!("cannot read {}: {e}", path.display()))),
        };
        Ok(Scan {
            files: vec![(path.to_owned(), bytes.len() as u64)],
            bytes: bytes.len() as u64,
            findings: self.find(&path.display().to_string(), &bytes),
        })
    }
}

/// Every offset at which `needle` starts in `bytes`.
fn occurrences(bytes: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.len() > bytes.len() {
        return Vec::new();
    }
    (0..=bytes.len() - needle.len())
        .filter(|&i| bytes[i..].starts_with(needle))
        .collect()
}

/// Every offset at which the digits `number` stand alone in `bytes`: no digit just before or
/// just after.
fn standalone_numbers(bytes: &[u8], number: &[u8]) -> Vec<usize> {
    if number.is_empty() {
        return Vec::new();
    }
    occurrences(bytes, number)
        .into_iter()
        .filter(|&at| {
            let before = at.checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(at + number.len()).copied();
            !before.is_some_and(|b| b.is_ascii_digit())
                && !after.is_some_and(|b| b.is_ascii_digit())
        })
        .collect()
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The offsets and lengths of JWT-shaped strings in `bytes`: `eyJ`, then three base64url
/// segments of at least [`JWT_SEGMENT`] characters (the first counted after `eyJ`) joined by
/// dots. Matches may start anywhere, as the regular expression's would.
fn jwt_shapes(bytes: &[u8]) -> Vec<(usize, usize)> {
    let segment = |from: usize| {
        bytes[from.min(bytes.len())..]
            .iter()
            .take_while(|b| is_base64url(**b))
            .count()
    };
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(at) = bytes[i..]
        .windows(3)
        .position(|w| w == b"eyJ")
        .map(|o| i + o)
    {
        let first = segment(at + 3);
        let mut end = at + 3 + first;
        let mut ok = first >= JWT_SEGMENT;
        for _ in 0..2 {
            if !ok || bytes.get(end) != Some(&b'.') {
                ok = false;
                break;
            }
            let len = segment(end + 1);
            ok = len >= JWT_SEGMENT;
            end += 1 + len;
        }
        if ok {
            found.push((at, end - at));
            i = end;
        } else {
            i = at + 1;
        }
    }
    found
}

/// The first characters of a found value, as text.
fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(16)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_found_standing_alone_and_not_inside_longer_digits() {
        let secrets = Secrets {
            literals: Vec::new(),
            numbers: vec![("a one-time code".to_owned(), "493817".to_owned())],
        };
        for (text, found) in [
            ("otp=493817&x", 1),
            ("493817", 1),
            ("code 493817.", 1),
            ("1493817", 0),
            ("4938170", 0),
            ("49381", 0),
            ("493817 and 493817", 2),
        ] {
            assert_eq!(secrets.find("text", text.as_bytes()).len(), found, "{text}");
        }
    }

    #[test]
    fn a_jwt_is_found_wherever_it_sits_and_a_near_miss_is_not() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        let text = format!("Authorization: Bearer {jwt}\" and eyJshort.abcdefghijk.abcdefghijk");
        let found = jwt_shapes(text.as_bytes());
        assert_eq!(found, vec![(22, jwt.len())]);
        assert!(jwt_shapes(b"eyJabcdefghijkl.abcdefghijk").is_empty());
        assert!(jwt_shapes(b"eyJabcdefghijkl.abcdefghijk.abc").is_empty());
        assert_eq!(
            jwt_shapes(b"xeyJabcdefghijkl.abcdefghijk.abcdefghijk."),
            vec![(1, 39)]
        );
    }

    #[test]
    fn every_occurrence_of_a_literal_is_found() {
        let secrets = Secrets {
            literals: vec![("client secret".into(), "s3cret".into())],
            numbers: Vec::new(),
        };
        let found = secrets.find("here", b"s3cret and again s3cret, not s3cre");
        let offsets: Vec<usize> = found.iter().map(|f| f.offset).collect();
        assert_eq!(offsets, vec![0, 17]);
        assert!(found.iter().all(|f| f.what == "client secret"));
    }
}
