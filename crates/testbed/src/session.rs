//! The consent pages' sessions: where a person is in the authorize flow. They live in memory for
//! ten minutes; a restart simply asks the person to start again, as the real center would.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng as _;
use rand::distributions::Alphanumeric;

/// How long a person has to finish the pages.
pub const SESSION_LIFE: Duration = Duration::from_secs(600);
/// Wrong one-time codes before the session is closed.
pub const MAX_OTP_ATTEMPTS: u32 = 5;

/// What the authorize request asked for, checked before the first page was shown.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub institution_id: i64,
    pub client_info: String,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub state: String,
    pub code_challenge: Option<String>,
    pub english: bool,
    /// `authorize_account`: re-confirming registered accounts.
    pub reconfirm: bool,
}

/// The page a session is on. Its `Debug` hides the one-time code.
#[derive(Clone, PartialEq, Eq)]
pub enum Stage {
    Identity,
    Otp {
        person_id: i64,
        otp: String,
        attempts: u32,
    },
    Accounts {
        person_id: i64,
    },
}

impl std::fmt::Debug for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stage::Identity => f.write_str("Identity"),
            Stage::Otp {
                person_id,
                attempts,
                ..
            } => f
                .debug_struct("Otp")
                .field("person_id", person_id)
                .field("otp", &"***")
                .field("attempts", attempts)
                .finish(),
            Stage::Accounts { person_id } => f
                .debug_struct("Accounts")
                .field("person_id", person_id)
                .finish(),
        }
    }
}

/// One person's way through the pages.
#[derive(Debug, Clone)]
pub struct Session {
    pub request: AuthRequest,
    pub stage: Stage,
    started: Instant,
}

/// All open sessions, by their random id.
#[derive(Debug, Default)]
pub struct Sessions {
    open: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Opens a session for `request` and returns its id.
    pub fn start(&self, request: AuthRequest) -> String {
        let id = random_token(32);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|_, s| s.started.elapsed() < SESSION_LIFE);
        open.insert(
            id.clone(),
            Session {
                request,
                stage: Stage::Identity,
                started: Instant::now(),
            },
        );
        id
    }

    /// The live session `id`, if any.
    pub fn get(&self, id: &str) -> Option<Session> {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(id)
            .filter(|s| s.started.elapsed() < SESSION_LIFE)
            .cloned()
    }

    /// Moves session `id` to `stage`.
    pub fn advance(&self, id: &str, stage: Stage) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(session) = open.get_mut(id) {
            session.stage = stage;
        }
    }

    /// Ends session `id`: its pages cannot be submitted again.
    pub fn end(&self, id: &str) {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// `len` random letters and digits.
pub fn random_token(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A six-digit one-time code.
pub fn one_time_code() -> String {
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sessions_debug_output_hides_its_one_time_code() {
        let stage = Stage::Otp {
            person_id: 7,
            otp: "493817".into(),
            attempts: 1,
        };
        let shown = format!("{stage:?}");
        assert!(!shown.contains("493817"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }
}
