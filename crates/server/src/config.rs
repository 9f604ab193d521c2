//! The `moa-server.toml` config: what an operator writes, every problem with it reported in one
//! pass, and the [`Settings`] a running server is built from.
//!
//! The file holds no secret, only where to find them (a file, or an environment variable), so it
//! can be kept in version control and quoted in error messages. [`Config`] is the file as
//! written; [`Config::settings`] checks it, reads the secrets and gives the validated
//! [`Settings`] that everything else trusts.
//!
//! [`EXAMPLE`] is a complete, commented config.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use moa_openbanking::client::is_secure_base_url;
use moa_openbanking::{ClientSecret, ClientUseCode, Environment};
use serde::Deserialize;
use url::Url;

use crate::seal::{self, SealingKey};
use crate::{Options, Settings};

/// A complete config, with a comment on every field. `moa-server` can print it as a starting
/// point; its paths are where a packaged install would keep things.
pub const EXAMPLE: &str = r#"# moa-server.toml — the config of the institution's Moa server.
# This file holds no secret, only where to find them.

# The open banking center: "kftc-test", "kftc-production", or the base URL of a testbed
# (https, or http on loopback only).
center = "kftc-test"

# The OAuth client registered with the center.
client_id = "4987e938-f84b-4e2c-a3b8-7c2b5a8f2d11"

# Where the client secret is: a file readable only by the server's user (chmod 600)...
client_secret_file = "/etc/moa-server/client-secret"
# ...or an environment variable. Set exactly one of the two.
# client_secret_env = "MOA_CLIENT_SECRET"

# The institution's code (이용기관코드): a letter and 9 digits.
client_use_code = "T991589220"

# The callback registered with the center. The app's consent window stops at it and hands the
# URL to this server, so it is never actually served.
redirect_uri = "http://127.0.0.1/moa-consent/callback"

# The contract accounts (약정계좌): collection (수납) receives withdrawals, payout (지급) funds
# deposits. Digits only.
collection_account = "1234567890123"
payout_account = "9876543210987"

# The database: a SQLite file (its folder must exist), or a postgres:// URL for replicas.
database = "/var/lib/moa-server/moa-server.db"

# The address to listen on. Put a reverse proxy with TLS in front of anything but loopback.
listen = "127.0.0.1:8420"

# The key that seals people's tokens in the database: 32 bytes as 64 hex digits or 44 characters
# of base64, in a file readable only by the server's user (chmod 600). Losing it loses every
# stored token; people then register their accounts again.
sealing_key_file = "/etc/moa-server/sealing.key"

# The address the app reaches this server at, when a reverse proxy stands in between. https,
# unless on loopback. Leave it out when the app connects to `listen` directly.
public_url = "https://moa.example.com"

[log]
# "text" for people, "json" for a log collector.
format = "text"

# Optional; the defaults suit most institutions.
[limits]
# Requests one device may make per second, sustained (twice that in a burst); shared by every
# replica on one PostgreSQL. 1 to 10000.
device_requests_per_second = 200
# How long a replica's claim on a transfer lasts unless renewed (it is renewed a third of the
# way through while the transfer runs); another replica takes over a dead one's transfers after
# this. Longer than the slowest center call. 5 to 600.
transfer_lease_seconds = 30
"#;

/// The config file as written, before it is checked.
///
/// `Debug` is derived: the config names where the secrets are, never what they are.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    center: String,
    client_id: String,
    #[serde(default)]
    client_secret_file: Option<PathBuf>,
    #[serde(default)]
    client_secret_env: Option<String>,
    client_use_code: String,
    redirect_uri: String,
    collection_account: String,
    payout_account: String,
    database: PathBuf,
    listen: SocketAddr,
    sealing_key_file: PathBuf,
    #[serde(default)]
    public_url: Option<String>,
    #[serde(default)]
    log: LogConfig,
    #[serde(default)]
    limits: LimitsConfig,
}

/// The `[log]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogConfig {
    #[serde(default)]
    format: LogFormat,
}

/// The `[limits]` table: what [`Options`] a running server takes from the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsConfig {
    #[serde(default = "default_rate")]
    device_requests_per_second: u32,
    #[serde(default = "default_lease")]
    transfer_lease_seconds: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            device_requests_per_second: default_rate(),
            transfer_lease_seconds: default_lease(),
        }
    }
}

fn default_rate() -> u32 {
    Options::default().rate_per_second
}

fn default_lease() -> u64 {
    Options::default().lease.as_secs()
}

/// The bounds of `[limits]`: a device may not be starved or unlimited, and a lease must outlast
/// a slow center call yet hand a dead replica's transfers over within minutes.
const RATE_RANGE: std::ops::RangeInclusive<u32> = 1..=10_000;
const LEASE_RANGE: std::ops::RangeInclusive<u64> = 5..=600;

/// How the server writes its log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

/// One thing wrong with a config: which field, and what is wrong with it.
///
/// The message may quote what the operator wrote, but never the value of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The config key the problem is about (`toml` for a file that does not parse, `config` for
    /// one that cannot be read).
    pub field: &'static str,
    /// What is wrong, and where it helps, what to do about it.
    pub message: String,
}

impl Problem {
    fn new(field: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem found with a config; shown one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

impl From<Problem> for Problems {
    fn from(problem: Problem) -> Problems {
        Problems(vec![problem])
    }
}

/// What checking a config found: the problems, and every value that checked out, so that
/// [`Config::settings`] reads each secret once — the same read that was checked.
struct Examined {
    problems: Vec<Problem>,
    center: Option<Url>,
    client_secret: Option<ClientSecret>,
    client_use_code: Option<ClientUseCode>,
    sealing_key: Option<SealingKey>,
    public_url: Option<Url>,
}

impl Config {
    /// Parses a config from TOML text. A parse error is one [`Problem`] with field `toml`.
    pub fn from_toml_str(text: &str) -> Result<Config, Problems> {
        toml::from_str(text).map_err(|e| Problems::from(toml_problem(text, &e, None)))
    }

    /// Reads and parses the config file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, Problems> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Problem::new("config", format!("cannot read {}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| Problems::from(toml_problem(&text, &e, Some(path))))
    }

    /// Every problem with this config, in the order of the file's fields; empty if it is good.
    ///
    /// This reads the files the config names (secret, sealing key) and the secret's environment
    /// variable, because a config whose secret cannot be read is not a good config.
    pub fn check(&self) -> Vec<Problem> {
        self.examine().problems
    }

    /// Checks the config and, if it is good, the settings a server runs with, secrets read.
    pub fn settings(&self) -> Result<Settings, Problems> {
        let examined = self.examine();
        if !examined.problems.is_empty() {
            return Err(Problems(examined.problems));
        }
        match examined {
            Examined {
                center: Some(center),
                client_secret: Some(client_secret),
                client_use_code: Some(client_use_code),
                sealing_key: Some(sealing_key),
                public_url,
                ..
            } => Ok(Settings {
                center,
                client_id: self.client_id.clone(),
                client_secret,
                client_use_code,
                redirect_uri: self.redirect_uri.clone(),
                collection_account: self.collection_account.clone(),
                payout_account: self.payout_account.clone(),
                database: crate::store::Database::parse(&self.database.to_string_lossy()),
                sealing_key,
                public_url,
            }),
            // `examine` reports a problem whenever it leaves a value out, so this is reached
            // only if the two fall out of step; say so rather than panic.
            _ => Err(Problems::from(Problem::new(
                "config",
                "a value was refused without a reason (a bug in moa-server's config checks)",
            ))),
        }
    }

    /// The address to listen on.
    pub fn listen(&self) -> SocketAddr {
        self.listen
    }

    /// How to write the log.
    pub fn log_format(&self) -> LogFormat {
        self.log.format
    }

    /// `options` with what the `[limits]` table sets. Meant for a config [`Config::check`]
    /// found good; a value out of bounds is clamped into them.
    pub fn options(&self, mut options: Options) -> Options {
        let limits = &self.limits;
        options.rate_per_second = limits
            .device_requests_per_second
            .clamp(*RATE_RANGE.start(), *RATE_RANGE.end());
        options.lease = std::time::Duration::from_secs(
            limits
                .transfer_lease_seconds
                .clamp(*LEASE_RANGE.start(), *LEASE_RANGE.end()),
        );
        options
    }

    fn examine(&self) -> Examined {
        let mut problems = Vec::new();
        let mut report = |field, message: String| problems.push(Problem::new(field, message));

        let center = center_url(&self.center)
            .map_err(|m| report("center", m))
            .ok();

        if self.client_id.trim().is_empty() {
            report("client_id", "must not be empty".to_owned());
        }

        let client_secret = match (&self.client_secret_file, &self.client_secret_env) {
            (Some(path), None) => read_secret_file(path)
                .map_err(|m| report("client_secret_file", m))
                .ok(),
            (None, Some(name)) => read_secret_env(name)
                .map_err(|m| report("client_secret_env", m))
                .ok(),
            (Some(_), Some(_)) => {
                report(
                    "client_secret",
                    "set only one of client_secret_file and client_secret_env, not both".to_owned(),
                );
                None
            }
            (None, None) => {
                report(
                    "client_secret",
                    "set one of client_secret_file (a file holding the secret) and \
                     client_secret_env (an environment variable holding it)"
                        .to_owned(),
                );
                None
            }
        };

        // The id type's own error quotes the value, which is fine here: a code is not a secret.
        let client_use_code = ClientUseCode::parse(&self.client_use_code)
            .map_err(|e| {
                report(
                    "client_use_code",
                    format!(
                        "{} (a letter and 9 digits, e.g. T991589220; got {:?})",
                        e.reason, self.client_use_code
                    ),
                )
            })
            .ok();

        if let Err(m) = check_redirect_uri(&self.redirect_uri) {
            report("redirect_uri", m);
        }
        if let Err(m) = check_account(&self.collection_account) {
            report("collection_account", m);
        }
        if let Err(m) = check_account(&self.payout_account) {
            report("payout_account", m);
        }
        if let crate::store::Database::Sqlite(path) =
            crate::store::Database::parse(&self.database.to_string_lossy())
            && let Err(m) = check_database(&path)
        {
            report("database", m);
        }

        let sealing_key = SealingKey::from_file(&self.sealing_key_file)
            .map_err(|e| report("sealing_key_file", e.to_string()))
            .ok();

        let public_url = match &self.public_url {
            None => None,
            Some(text) => public_url(text).map_err(|m| report("public_url", m)).ok(),
        };

        let limits = &self.limits;
        if !RATE_RANGE.contains(&limits.device_requests_per_second) {
            report(
                "limits.device_requests_per_second",
                format!(
                    "must be from {} to {} (got {})",
                    RATE_RANGE.start(),
                    RATE_RANGE.end(),
                    limits.device_requests_per_second
                ),
            );
        }
        if !LEASE_RANGE.contains(&limits.transfer_lease_seconds) {
            report(
                "limits.transfer_lease_seconds",
                format!(
                    "must be from {} to {} seconds (got {})",
                    LEASE_RANGE.start(),
                    LEASE_RANGE.end(),
                    limits.transfer_lease_seconds
                ),
            );
        }

        Examined {
            problems,
            center,
            client_secret,
            client_use_code,
            sealing_key,
            public_url,
        }
    }
}

/// A TOML error as a problem: the toml crate's message and where, without its excerpt of the
/// file (which spans several lines and would break "one problem per line").
fn toml_problem(text: &str, error: &toml::de::Error, path: Option<&Path>) -> Problem {
    // `get` rather than slicing: a span that is not on a character boundary loses its place
    // instead of panicking.
    let place = match error.span().and_then(|span| text.get(..span.start)) {
        Some(before) => {
            let line = before.matches('\n').count() + 1;
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            // Columns in characters, as an editor counts them, not bytes (Korean comments).
            let column = before[line_start..].chars().count() + 1;
            format!("line {line}, column {column}: ")
        }
        None => String::new(),
    };
    let file = path.map_or(String::new(), |p| format!("{}: ", p.display()));
    // Some of toml's messages span lines ("invalid string\nexpected `\"`, `'`").
    let message = error
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    Problem::new("toml", format!("{file}{place}{message}"))
}

fn center_url(center: &str) -> Result<Url, String> {
    match center {
        "kftc-test" => Ok(Environment::KftcTest.base_url()),
        "kftc-production" => Ok(Environment::KftcProduction.base_url()),
        other => {
            let url = Url::parse(other).map_err(|e| {
                format!(
                    "must be \"kftc-test\", \"kftc-production\" or the http(s) URL of a \
                     testbed; {other:?} is not a URL ({e})"
                )
            })?;
            secure_url(&url).map(|()| url)
        }
    }
}

fn public_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL ({e})"))?;
    secure_url(&url)?;
    Ok(url)
}

/// https anywhere; http only to this machine, where there is no network to listen in: the
/// same rule the center's client applies ([`is_secure_base_url`]).
fn secure_url(url: &Url) -> Result<(), String> {
    if is_secure_base_url(url) {
        return Ok(());
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Not quoted: the URL holds a credential.
        return Err("must not hold a user name or password".to_owned());
    }
    match url.scheme() {
        "http" => Err(format!(
            "{url} must use https (plain http is allowed only to loopback: 127.0.0.1, [::1], \
             localhost)"
        )),
        _ => Err(format!("{url} must be an https URL")),
    }
}

fn check_redirect_uri(text: &str) -> Result<(), String> {
    let url = Url::parse(text)
        .map_err(|e| format!("must be an absolute http(s) URL; {text:?} is not ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("must be an absolute http(s) URL; {text:?} is not"));
    }
    // RFC 6749 §3.1.2: a redirection endpoint must not include a fragment.
    if url.fragment().is_some() {
        return Err(format!("must not have a fragment (#…); {text:?} has one"));
    }
    Ok(())
}

fn check_account(text: &str) -> Result<(), String> {
    if text.is_empty() || text.len() > 16 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "must be the account number as 1 to 16 digits, without dashes; got {text:?}"
        ));
    }
    Ok(())
}

fn check_database(path: &Path) -> Result<(), String> {
    // A bare file name has an empty parent: the current folder.
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if folder.is_dir() {
        Ok(())
    } else {
        Err(format!(
            "the folder {} does not exist; create it for the database {}",
            folder.display(),
            path.display()
        ))
    }
}

/// Reads the secret from a file, refusing one others may read. Messages name the file, never
/// its content.
fn read_secret_file(path: &Path) -> Result<ClientSecret, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let metadata = file
        .metadata()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if let Some(mode) = seal::too_open(&metadata) {
        return Err(format!(
            "{} is readable by group or others (mode {mode:03o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        ));
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut &file, &mut text).map_err(|e| {
        // An io error about invalid UTF-8 says only that, not what the bytes were.
        format!("cannot read {}: {e}", path.display())
    })?;
    non_empty_secret(&text).ok_or_else(|| format!("{} is empty", path.display()))
}

/// Reads the secret from an environment variable. Messages name the variable, never its value.
fn read_secret_env(name: &str) -> Result<ClientSecret, String> {
    if name.is_empty() || name.contains(['=', '\0']) {
        return Err(format!("{name:?} is not an environment variable name"));
    }
    match std::env::var(name) {
        Ok(value) => non_empty_secret(&value)
            .ok_or_else(|| format!("the environment variable {name} is empty")),
        Err(std::env::VarError::NotPresent) => {
            Err(format!("the environment variable {name} is not set"))
        }
        Err(std::env::VarError::NotUnicode(_)) => Err(format!(
            "the environment variable {name} is not valid UTF-8"
        )),
    }
}

/// The secret without the line ending an editor or `echo` leaves after it; `None` if nothing is
/// left.
fn non_empty_secret(text: &str) -> Option<ClientSecret> {
    let secret = text.trim_end_matches(['\n', '\r']);
    (!secret.is_empty()).then(|| ClientSecret::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scratch::Scratch;

    impl Scratch {
        /// A folder holding a secret file, a sealing key, and room for a database.
        fn installed() -> Scratch {
            let dir = Scratch::new("installed");
            dir.private_file("client-secret", "s3cr3t-value\n");
            SealingKey::generate()
                .expect("generate a key")
                .to_file(dir.path("sealing.key"))
                .expect("write the key");
            dir
        }

        /// A good config for this folder, with the secret in a file, plus `extra` lines.
        fn config(&self, extra: &str) -> String {
            format!(
                r#"
center = "kftc-test"
client_id = "my-client"
client_use_code = "T991589220"
redirect_uri = "http://127.0.0.1/moa-consent/callback"
collection_account = "1234567890123"
payout_account = "9876543210"
database = {database:?}
listen = "127.0.0.1:8420"
sealing_key_file = {key:?}
{extra}
"#,
                database = self.path("moa-server.db"),
                key = self.path("sealing.key"),
            )
        }

        fn secret_file_line(&self) -> String {
            format!("client_secret_file = {:?}", self.path("client-secret"))
        }
    }

    fn fields(problems: &[Problem]) -> Vec<&'static str> {
        problems.iter().map(|p| p.field).collect()
    }

    #[test]
    fn the_example_parses_and_is_faulted_only_for_missing_files() {
        let config = Config::from_toml_str(EXAMPLE).expect("the example parses");
        assert_eq!(
            config.listen(),
            "127.0.0.1:8420".parse().expect("an address")
        );
        assert_eq!(config.log_format(), LogFormat::Text);
        for problem in config.check() {
            assert!(
                matches!(
                    problem.field,
                    "client_secret_file" | "database" | "sealing_key_file"
                ),
                "{problem}"
            );
        }
    }

    #[test]
    fn a_good_config_with_a_secret_file_yields_settings() {
        let dir = Scratch::installed();
        let text = dir.config(&format!(
            "{}\npublic_url = \"https://moa.example.com\"\n[log]\nformat = \"json\"",
            dir.secret_file_line()
        ));
        let config = Config::from_toml_str(&text).expect("parses");
        assert_eq!(config.check(), []);
        assert_eq!(config.log_format(), LogFormat::Json);
        let settings = config.settings().expect("a good config");
        assert_eq!(
            settings.center.as_str(),
            "https://testapi.openbanking.or.kr/"
        );
        assert_eq!(settings.client_id, "my-client");
        // The trailing newline in the file is not part of the secret.
        assert_eq!(settings.client_secret.expose_secret(), "s3cr3t-value");
        assert_eq!(settings.client_use_code.as_str(), "T991589220");
        assert_eq!(settings.collection_account, "1234567890123");
        assert_eq!(settings.payout_account, "9876543210");
        assert_eq!(
            settings.database,
            crate::store::Database::Sqlite(dir.path("moa-server.db"))
        );
        assert_eq!(
            settings.public_url.as_ref().map(Url::as_str),
            Some("https://moa.example.com/")
        );
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        let key = std::fs::read_to_string(dir.path("sealing.key")).expect("the key file");
        assert!(!shown.contains(key.trim()), "{shown}");
        assert!(shown.contains("ClientSecret(***)"), "{shown}");
        assert!(shown.contains("SealingKey(***)"), "{shown}");
    }

    #[test]
    fn limits_default_to_the_servers_own_and_are_taken_from_the_file() {
        let dir = Scratch::installed();
        let plain = Config::from_toml_str(&dir.config(&dir.secret_file_line())).expect("parses");
        let options = plain.options(Options::default());
        assert_eq!(options.rate_per_second, Options::default().rate_per_second);
        assert_eq!(options.lease, Options::default().lease);

        let text = format!(
            "{}\n[limits]\ndevice_requests_per_second = 50\ntransfer_lease_seconds = 90\n",
            dir.config(&dir.secret_file_line())
        );
        let config = Config::from_toml_str(&text).expect("parses");
        assert_eq!(config.check(), []);
        let options = config.options(Options::default());
        assert_eq!(options.rate_per_second, 50);
        assert_eq!(options.lease, std::time::Duration::from_secs(90));
    }

    #[test]
    fn limits_out_of_bounds_are_problems_that_give_the_bounds() {
        let dir = Scratch::installed();
        let text = format!(
            "{}\n[limits]\ndevice_requests_per_second = 0\ntransfer_lease_seconds = 1\n",
            dir.config(&dir.secret_file_line())
        );
        let problems = Config::from_toml_str(&text).expect("parses").check();
        assert_eq!(
            fields(&problems),
            [
                "limits.device_requests_per_second",
                "limits.transfer_lease_seconds"
            ]
        );
        assert!(
            problems[0].message.contains("from 1 to 10000 (got 0)"),
            "{}",
            problems[0]
        );
        assert!(
            problems[1]
                .message
                .contains("from 5 to 600 seconds (got 1)"),
            "{}",
            problems[1]
        );
    }

    #[test]
    fn a_good_config_loads_from_a_file() {
        let dir = Scratch::installed();
        let path = dir.private_file("moa-server.toml", &dir.config(&dir.secret_file_line()));
        let config = Config::load(&path).expect("loads");
        assert!(config.settings().is_ok());
    }

    /// `std::env::set_var` is `unsafe` in edition 2024 and this workspace forbids unsafe code,
    /// so the test reads `PATH`, which every test process has, merely to prove that reading from
    /// the environment works.
    #[test]
    fn a_secret_can_come_from_an_environment_variable() {
        let Ok(path) = std::env::var("PATH") else {
            return;
        };
        let dir = Scratch::installed();
        let config =
            Config::from_toml_str(&dir.config("client_secret_env = \"PATH\"")).expect("parses");
        let settings = config.settings().expect("a good config");
        assert_eq!(
            settings.client_secret.expose_secret(),
            path.trim_end_matches(['\n', '\r'])
        );
    }

    #[test]
    fn an_unset_environment_variable_is_a_problem_that_names_it() {
        let dir = Scratch::installed();
        let name = "MOA_SERVER_TEST_VARIABLE_THAT_IS_NEVER_SET_5C1E";
        let config = Config::from_toml_str(&dir.config(&format!("client_secret_env = {name:?}")))
            .expect("parses");
        let problems = config.check();
        assert_eq!(fields(&problems), ["client_secret_env"]);
        assert!(problems[0].message.contains(name), "{}", problems[0]);
        assert!(problems[0].message.contains("not set"), "{}", problems[0]);
    }

    #[test]
    fn a_config_with_five_mistakes_reports_all_five() {
        let dir = Scratch::installed();
        let text = dir
            .config(&dir.secret_file_line())
            .replace("\"kftc-test\"", "\"http://center.example.com\"")
            .replace("\"my-client\"", "\"  \"")
            .replace("\"T991589220\"", "\"T99158922\"")
            .replace(
                "\"http://127.0.0.1/moa-consent/callback\"",
                "\"/moa-consent/callback\"",
            )
            .replace("\"1234567890123\"", "\"123-456-7890\"");
        let config = Config::from_toml_str(&text).expect("parses");
        let problems = config.check();
        assert_eq!(
            fields(&problems),
            [
                "center",
                "client_id",
                "client_use_code",
                "redirect_uri",
                "collection_account"
            ]
        );
        let all = Problems(problems).to_string();
        assert_eq!(all.lines().count(), 5, "{all}");
        assert!(
            all.contains("client_use_code: must be 10 characters"),
            "{all}"
        );
        assert!(all.contains("must use https"), "{all}");
        assert!(matches!(config.settings(), Err(Problems(p)) if p.len() == 5));
    }

    #[test]
    fn both_or_neither_secret_source_is_a_problem() {
        let dir = Scratch::installed();
        let neither = Config::from_toml_str(&dir.config("")).expect("parses");
        assert_eq!(fields(&neither.check()), ["client_secret"]);

        let both = Config::from_toml_str(&dir.config(&format!(
            "{}\nclient_secret_env = \"PATH\"",
            dir.secret_file_line()
        )))
        .expect("parses");
        let problems = both.check();
        assert_eq!(fields(&problems), ["client_secret"]);
        assert!(problems[0].message.contains("not both"), "{}", problems[0]);
    }

    #[test]
    fn a_missing_or_empty_secret_file_is_a_problem_that_never_shows_a_secret() {
        let dir = Scratch::installed();
        let missing = Config::from_toml_str(
            &dir.config(&format!("client_secret_file = {:?}", dir.path("nope"))),
        )
        .expect("parses");
        assert_eq!(fields(&missing.check()), ["client_secret_file"]);

        let empty_path = dir.private_file("empty-secret", "\n");
        let empty =
            Config::from_toml_str(&dir.config(&format!("client_secret_file = {empty_path:?}")))
                .expect("parses");
        let problems = empty.check();
        assert_eq!(fields(&problems), ["client_secret_file"]);
        assert!(problems[0].message.contains("is empty"), "{}", problems[0]);
    }

    #[cfg(unix)]
    #[test]
    fn a_group_readable_secret_file_is_refused_with_a_chmod_hint() {
        use std::os::unix::fs::PermissionsExt;
        let dir = Scratch::installed();
        let path = dir.path("client-secret");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let config = Config::from_toml_str(&dir.config(&dir.secret_file_line())).expect("parses");
        let problems = config.check();
        assert_eq!(fields(&problems), ["client_secret_file"]);
        assert!(problems[0].message.contains("chmod 600"), "{}", problems[0]);
        assert!(!problems[0].message.contains("s3cr3t"), "{}", problems[0]);
    }

    #[test]
    fn a_missing_sealing_key_and_database_folder_are_problems() {
        let dir = Scratch::installed();
        let text = dir
            .config(&dir.secret_file_line())
            .replace("sealing.key", "no-such.key")
            .replace("moa-server.db", "no-such-folder/moa-server.db");
        let config = Config::from_toml_str(&text).expect("parses");
        assert_eq!(fields(&config.check()), ["database", "sealing_key_file"]);
    }

    #[test]
    fn an_invalid_sealing_key_is_a_problem_that_does_not_quote_it() {
        let dir = Scratch::new("badkey");
        dir.private_file("client-secret", "s3cr3t-value\n");
        dir.private_file("sealing.key", "hunter2hunter2");
        let config = Config::from_toml_str(&dir.config(&dir.secret_file_line())).expect("parses");
        let problems = config.check();
        assert_eq!(fields(&problems), ["sealing_key_file"]);
        assert!(!problems[0].message.contains("hunter2"), "{}", problems[0]);
    }

    #[test]
    fn centers_are_kftc_names_https_urls_or_loopback_http() {
        assert_eq!(
            center_url("kftc-production").expect("a name").as_str(),
            "https://openapi.openbanking.or.kr/"
        );
        assert!(center_url("https://testbed.example.com").is_ok());
        assert!(center_url("http://127.0.0.1:9000").is_ok());
        assert!(center_url("http://[::1]:9000").is_ok());
        assert!(center_url("http://localhost:9000").is_ok());
        assert!(center_url("http://testbed.example.com").is_err());
        assert!(center_url("ftp://127.0.0.1").is_err());
        let with_credential = center_url("https://moa:hunter2@testbed.example.com")
            .expect_err("a credential in the URL");
        assert!(!with_credential.contains("hunter2"), "{with_credential}");
        assert!(center_url("kftc").is_err());
    }

    #[test]
    fn public_url_must_be_https_unless_on_loopback() {
        assert!(public_url("https://moa.example.com").is_ok());
        assert!(public_url("http://127.0.0.1:8420").is_ok());
        assert!(public_url("http://moa.example.com").is_err());
        assert!(public_url("moa.example.com").is_err());
    }

    #[test]
    fn accounts_are_one_to_sixteen_digits() {
        assert!(check_account("1").is_ok());
        assert!(check_account("1234567890123456").is_ok());
        assert!(check_account("").is_err());
        assert!(check_account("12345678901234567").is_err());
        assert!(check_account("123-456").is_err());
    }

    #[test]
    fn a_redirect_uri_must_be_absolute_and_without_a_fragment() {
        assert!(check_redirect_uri("http://127.0.0.1/cb").is_ok());
        assert!(check_redirect_uri("https://moa.example.com/cb?x=1").is_ok());
        assert!(check_redirect_uri("/cb").is_err());
        assert!(check_redirect_uri("mailto:a@example.com").is_err());
        assert!(check_redirect_uri("http://127.0.0.1/cb#x").is_err());
    }

    #[test]
    fn a_toml_syntax_error_is_one_problem_with_its_place() {
        let err =
            Config::from_toml_str("center = \"kftc-test\"\nclient_id = \n").expect_err("not TOML");
        assert_eq!(err.0.len(), 1);
        assert_eq!(err.0[0].field, "toml");
        assert!(err.0[0].message.starts_with("line 2, column "), "{err}");
        assert_eq!(err.to_string().lines().count(), 1, "{err}");
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let text = format!("{EXAMPLE}\n[extra]\nclient_secret = \"x\"\n");
        let err = Config::from_toml_str(&text).expect_err("unknown field");
        assert_eq!(err.0[0].field, "toml");
        assert!(err.to_string().contains("unknown field"), "{err}");

        let text = EXAMPLE.replace("center =", "centre =");
        let err = Config::from_toml_str(&text).expect_err("misspelt field");
        assert!(err.to_string().contains("centre"), "{err}");
    }

    #[test]
    fn a_bad_log_format_or_listen_address_is_refused_when_parsing() {
        let text = EXAMPLE.replace("format = \"text\"", "format = \"xml\"");
        assert!(Config::from_toml_str(&text).is_err());
        let text = EXAMPLE.replace("127.0.0.1:8420", "localhost");
        assert!(Config::from_toml_str(&text).is_err());
    }

    #[test]
    fn an_unreadable_config_file_is_a_problem() {
        let dir = Scratch::new("noconfig");
        let err = Config::load(dir.path("missing.toml")).expect_err("missing");
        assert_eq!(err.0[0].field, "config");
    }
}
