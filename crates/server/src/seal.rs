//! Sealing of secrets at rest: people's KFTC tokens are stored in the database only as AES-256-GCM
//! ciphertexts under the server's [`SealingKey`].
//!
//! A sealed value is `version (1) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`. The caller names a
//! *context* — typically the table, column and row the value belongs to — which is bound to the
//! ciphertext as associated data: a sealed token copied into another person's row does not open
//! there, so a database-level mix-up (or an attacker who can write rows but not read the key)
//! cannot move one person's token to another.
//!
//! The key lives in its own file, outside the database, readable only by the server's user.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// The length of a sealing key in bytes (AES-256).
pub const KEY_LEN: usize = 32;

/// The first byte of every value sealed by this version of the format. A later format (another
/// cipher, a key id) gets another number, so old rows stay readable during a migration.
const VERSION: u8 = 1;

/// The length of the GCM tag appended to the ciphertext.
const TAG_LEN: usize = 16;

/// The largest key file worth reading: a key is at most 64 characters plus a newline, so
/// anything much bigger is the wrong file, and reading it whole would be pointless.
const MAX_KEY_FILE_LEN: u64 = 1024;

/// Why a key could not be loaded or saved, or a value could not be sealed or opened.
///
/// No variant ever carries the content of a key file or a plaintext, so these errors are safe
/// to log and to show an operator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The key file could not be read (missing, no permission, …).
    #[error("cannot read sealing key file {}: {source}", path.display())]
    Read {
        /// The key file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The key file exists but does not hold a key in either accepted form.
    #[error(
        "sealing key file {} does not hold a key: {reason}; it must hold 32 bytes as 64 hex \
         digits or as 44 characters of standard base64",
        path.display()
    )]
    BadKeyFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it, in words that never quote the file.
        reason: String,
    },
    /// The key file can be read by users other than its owner.
    #[error(
        "sealing key file {} is readable by group or others (mode {mode:03o}); run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    TooOpen {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A new key file could not be written (it already exists, no permission, …).
    #[error("cannot write sealing key file {}: {source}", path.display())]
    Write {
        /// The key file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// Encryption failed (the plaintext is too long for one GCM message).
    #[error("sealing failed")]
    Seal,
    /// The value is not something this module sealed: too short, or an unknown format version.
    #[error("not a sealed value: {0}")]
    Malformed(&'static str),
    /// The value does not open: another key, another context, or it has been altered.
    #[error("sealed value does not open: wrong key, wrong context, or altered")]
    Open,
}

/// The key that seals secrets at rest: 32 random bytes for AES-256-GCM.
///
/// `Debug` prints `SealingKey(***)`, so the key never reaches a log through a struct that holds
/// it.
#[derive(Clone)]
pub struct SealingKey {
    bytes: [u8; KEY_LEN],
    key: LessSafeKey,
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey(***)")
    }
}

impl SealingKey {
    /// A key from its raw bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> SealingKey {
        // AES-256-GCM accepts any 32 bytes, so this cannot fail; the length is in the type.
        let key = match UnboundKey::new(&AES_256_GCM, &bytes) {
            Ok(unbound) => LessSafeKey::new(unbound),
            Err(_) => unreachable!("AES-256-GCM takes any {KEY_LEN}-byte key"),
        };
        SealingKey { bytes, key }
    }

    /// A fresh random key from the system's secure random number generator.
    pub fn generate() -> Result<SealingKey, SealError> {
        let mut bytes = [0u8; KEY_LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SealError::Random)?;
        Ok(SealingKey::from_bytes(bytes))
    }

    /// Reads a key file: 64 hex digits or 44 characters of standard base64, with any
    /// surrounding whitespace.
    ///
    /// On unix a file that its group or others may read is refused: a key that every local
    /// user can read protects nothing.
    pub fn from_file(path: impl AsRef<Path>) -> Result<SealingKey, SealError> {
        let path = path.as_ref();
        let read_error = |source| SealError::Read {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(read_error)?;
        // The mode is checked on the open file, not on the path, so the file read is the file
        // checked.
        let metadata = file.metadata().map_err(read_error)?;
        if let Some(mode) = too_open(&metadata) {
            return Err(SealError::TooOpen {
                path: path.to_owned(),
                mode,
            });
        }
        if !metadata.is_file() {
            return Err(bad_key_file(path, "it is not a regular file"));
        }
        let mut raw = Vec::new();
        file.take(MAX_KEY_FILE_LEN + 1)
            .read_to_end(&mut raw)
            .map_err(read_error)?;
        if raw.len() as u64 > MAX_KEY_FILE_LEN {
            return Err(bad_key_file(path, "it is far too long"));
        }
        let text = std::str::from_utf8(&raw).map_err(|_| bad_key_file(path, "it is not text"))?;
        let bytes = parse_key(text.trim()).map_err(|reason| bad_key_file(path, &reason))?;
        Ok(SealingKey::from_bytes(bytes))
    }

    /// Writes the key to a new file as standard base64, readable only by its owner (mode 0600 on
    /// unix). Refuses to overwrite an existing file, which may be the key to existing data.
    pub fn to_file(&self, path: impl AsRef<Path>) -> Result<(), SealError> {
        let path = path.as_ref();
        let write_error = |source| SealError::Write {
            path: path.to_owned(),
            source,
        };
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Set at creation, so the key is never readable by others, not even for a moment.
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(write_error)?;
        let text = format!("{}\n", STANDARD.encode(self.bytes));
        file.write_all(text.as_bytes()).map_err(write_error)?;
        file.sync_all().map_err(write_error)?;
        Ok(())
    }

    /// Encrypts `plaintext` under a fresh random nonce, bound to `context`: the result opens
    /// only with this key and the same context.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        // A random 96-bit nonce is safe for far more values than a server will ever seal with
        // one key (NIST SP 800-38D allows 2^32), and needs no counter kept across restarts.
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError::Random)?;
        let mut in_out = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| SealError::Seal)?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&in_out);
        Ok(sealed)
    }

    /// Decrypts a value made by [`seal`](SealingKey::seal) with this key and the same
    /// `context`.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, SealError> {
        let Some((&version, rest)) = sealed.split_first() else {
            return Err(SealError::Malformed("empty"));
        };
        if version != VERSION {
            return Err(SealError::Malformed("unknown format version"));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(SealError::Malformed("too short"));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
        let mut in_out = ciphertext.to_vec();
        let plaintext_len = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut in_out)
            .map_err(|_| SealError::Open)?
            .len();
        in_out.truncate(plaintext_len);
        Ok(in_out)
    }
}

fn bad_key_file(path: &Path, reason: &str) -> SealError {
    SealError::BadKeyFile {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The file's permission bits if its group or others may do anything with it; `None` when only
/// the owner may (or on systems without unix permissions).
pub(crate) fn too_open(metadata: &std::fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        None
    }
}

/// The key in `text` (already trimmed). The error says what is wrong without quoting `text`.
fn parse_key(text: &str) -> Result<[u8; KEY_LEN], String> {
    let mut bytes = [0u8; KEY_LEN];
    match text.len() {
        0 => Err("it is empty".to_owned()),
        64 => {
            for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
                let high = hex_digit(pair[0]);
                let low = hex_digit(pair[1]);
                match (high, low) {
                    (Some(high), Some(low)) => *byte = (high << 4) | low,
                    _ => return Err("it has 64 characters but they are not all hex digits".into()),
                }
            }
            Ok(bytes)
        }
        44 => {
            // The decode error names the offending byte, so it is dropped rather than shown.
            let decoded = STANDARD
                .decode(text)
                .map_err(|_| "it has 44 characters but they are not standard base64".to_owned())?;
            if decoded.len() != KEY_LEN {
                return Err(format!(
                    "it decodes from base64 to {} bytes, not {KEY_LEN}",
                    decoded.len()
                ));
            }
            bytes.copy_from_slice(&decoded);
            Ok(bytes)
        }
        n => Err(format!("it has {n} characters")),
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scratch::Scratch;

    fn key(byte: u8) -> SealingKey {
        SealingKey::from_bytes([byte; KEY_LEN])
    }

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn counting_bytes() -> [u8; KEY_LEN] {
        let mut bytes = [0u8; KEY_LEN];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        bytes
    }

    #[test]
    fn a_sealed_value_opens_with_the_same_key_and_context() {
        let k = key(7);
        let sealed = k
            .seal(b"access-token", "kftc_tokens.access:42")
            .expect("seal");
        assert_eq!(sealed[0], VERSION);
        assert_eq!(
            sealed.len(),
            1 + NONCE_LEN + b"access-token".len() + TAG_LEN
        );
        let opened = k.open(&sealed, "kftc_tokens.access:42").expect("open");
        assert_eq!(opened, b"access-token");
    }

    #[test]
    fn an_empty_plaintext_round_trips() {
        let k = key(7);
        let sealed = k.seal(b"", "ctx").expect("seal");
        assert_eq!(k.open(&sealed, "ctx").expect("open"), b"");
    }

    #[test]
    fn a_sealed_value_does_not_open_in_another_context() {
        let k = key(7);
        let sealed = k
            .seal(b"access-token", "kftc_tokens.access:42")
            .expect("seal");
        assert!(matches!(
            k.open(&sealed, "kftc_tokens.access:43"),
            Err(SealError::Open)
        ));
    }

    #[test]
    fn a_sealed_value_does_not_open_with_another_key() {
        let sealed = key(7).seal(b"access-token", "ctx").expect("seal");
        assert!(matches!(key(8).open(&sealed, "ctx"), Err(SealError::Open)));
    }

    #[test]
    fn a_sealed_value_with_any_byte_changed_does_not_open() {
        let k = key(7);
        let sealed = k.seal(b"access-token", "ctx").expect("seal");
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            assert!(k.open(&tampered, "ctx").is_err(), "byte {i} changed");
        }
    }

    #[test]
    fn a_truncated_or_empty_value_is_refused_as_malformed() {
        let k = key(7);
        let sealed = k.seal(b"x", "ctx").expect("seal");
        assert!(matches!(k.open(&[], "ctx"), Err(SealError::Malformed(_))));
        assert!(matches!(
            k.open(&sealed[..NONCE_LEN + TAG_LEN], "ctx"),
            Err(SealError::Malformed(_))
        ));
    }

    #[test]
    fn two_seals_of_the_same_text_differ() {
        let k = key(7);
        let a = k.seal(b"same", "ctx").expect("seal");
        let b = k.seal(b"same", "ctx").expect("seal");
        assert_ne!(a, b);
    }

    #[test]
    fn generated_keys_differ_and_work() {
        let a = SealingKey::generate().expect("generate");
        let b = SealingKey::generate().expect("generate");
        assert_ne!(a.bytes, b.bytes);
        let sealed = a.seal(b"t", "c").expect("seal");
        assert_eq!(a.open(&sealed, "c").expect("open"), b"t");
    }

    #[test]
    fn a_key_file_of_64_hex_digits_is_read() {
        let dir = Scratch::new("hex");
        let path = dir.private_file("key", &format!("  {}\n", HEX_KEY.to_uppercase()));
        let k = SealingKey::from_file(&path).expect("a hex key");
        assert_eq!(k.bytes, counting_bytes());
    }

    #[test]
    fn a_key_file_of_standard_base64_is_read() {
        let dir = Scratch::new("base64");
        let text = STANDARD.encode(counting_bytes());
        assert_eq!(text.len(), 44);
        let path = dir.private_file("key", &format!("{text}\n"));
        let k = SealingKey::from_file(&path).expect("a base64 key");
        assert_eq!(k.bytes, counting_bytes());
    }

    #[test]
    fn a_written_key_file_reads_back_as_the_same_key() {
        let dir = Scratch::new("roundtrip");
        let path = dir.path("sealing.key");
        let k = SealingKey::generate().expect("generate");
        k.to_file(&path).expect("write");
        let back = SealingKey::from_file(&path).expect("read back");
        assert_eq!(back.bytes, k.bytes);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn writing_a_key_never_overwrites_an_existing_file() {
        let dir = Scratch::new("exists");
        let path = dir.private_file("sealing.key", HEX_KEY);
        let err = key(1).to_file(&path).expect_err("the file exists");
        assert!(matches!(err, SealError::Write { .. }), "{err}");
        let still = SealingKey::from_file(&path).expect("the old key is intact");
        assert_eq!(still.bytes, counting_bytes());
    }

    #[test]
    fn a_key_file_of_garbage_is_refused_without_quoting_it() {
        let dir = Scratch::new("garbage");
        let garbage = "correct horse battery staple";
        let path = dir.private_file("key", garbage);
        let err = SealingKey::from_file(&path).expect_err("garbage");
        assert!(matches!(err, SealError::BadKeyFile { .. }), "{err}");
        let message = err.to_string();
        assert!(!message.contains("horse"), "{message}");
        assert!(message.contains("64 hex digits"), "{message}");
    }

    #[test]
    fn a_key_file_of_64_non_hex_characters_is_refused_without_quoting_it() {
        let dir = Scratch::new("nonhex");
        let text = "zz".repeat(32);
        let path = dir.private_file("key", &text);
        let err = SealingKey::from_file(&path).expect_err("not hex");
        let message = err.to_string();
        assert!(message.contains("not all hex digits"), "{message}");
        assert!(!message.contains("zzzz"), "{message}");
    }

    #[test]
    fn a_key_file_of_the_wrong_length_is_refused() {
        let dir = Scratch::new("length");
        // 31 bytes in hex, and 33 bytes in base64 without padding (44 characters).
        let short_hex = dir.private_file("short-hex", &HEX_KEY[..62]);
        let err = SealingKey::from_file(&short_hex).expect_err("62 hex digits");
        assert!(err.to_string().contains("62 characters"), "{err}");

        let long_base64 = dir.private_file("long-b64", &STANDARD.encode([9u8; 33]));
        let err = SealingKey::from_file(&long_base64).expect_err("33 bytes");
        assert!(err.to_string().contains("33 bytes"), "{err}");

        let empty = dir.private_file("empty", " \n");
        let err = SealingKey::from_file(&empty).expect_err("empty");
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn a_missing_key_file_is_reported_as_unreadable() {
        let dir = Scratch::new("missing");
        let err = SealingKey::from_file(dir.path("nope")).expect_err("missing");
        assert!(matches!(err, SealError::Read { .. }), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_readable_by_group_is_refused_with_a_chmod_hint() {
        use std::os::unix::fs::PermissionsExt;
        let dir = Scratch::new("open");
        let path = dir.private_file("key", HEX_KEY);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let err = SealingKey::from_file(&path).expect_err("group-readable");
        assert!(
            matches!(err, SealError::TooOpen { mode: 0o640, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn debug_hides_the_key() {
        let k = SealingKey::from_bytes(counting_bytes());
        let shown = format!("{k:?}");
        assert_eq!(shown, "SealingKey(***)");
    }
}
