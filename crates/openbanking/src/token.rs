//! OAuth tokens and the other secrets of the protocol, scopes, and the arithmetic of token
//! expiry.
//!
//! Secret types print `***` in both `Debug` and `Display` and do not implement `Serialize`, so a
//! token cannot end up in a log line or a JSON file by accident; [`expose_secret`] is the one
//! deliberate way out.
//!
//! [`expose_secret`]: AccessToken::expose_secret

use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::{ClientUseCode, UserSeqNo};
use crate::wire::{self, code_enum};

macro_rules! secret {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret itself. Call this only where the value must go on the wire or into
            /// the keyring.
            pub fn expose_secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(***)"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("***")
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self)
            }
        }
    };
}

secret!(
    /// An access token (a JWT), sent as `Authorization: Bearer …`.
    AccessToken
);
secret!(
    /// A refresh token, valid 10 days longer than its access token.
    RefreshToken
);
secret!(
    /// An institution's client secret.
    ClientSecret
);
secret!(
    /// A one-time authorization code from the consent callback.
    AuthorizationCode
);
secret!(
    /// The pass phrase of the institution's payout account (`wd_pass_phrase`).
    WdPassPhrase
);

/// Whose an access token is: a person's ([`Person`]) or the institution's ([`Institution`]).
/// Sealed: the protocol has these two grants and no other.
pub trait TokenKind: sealed::Sealed {
    /// The name `Debug` prints.
    const NAME: &'static str;
}

mod sealed {
    pub trait Sealed {}
}

/// A person's grant (3-legged: `authorization_code` or `refresh_token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Person {}

/// The institution's own grant (2-legged `client_credentials`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Institution {}

impl sealed::Sealed for Person {}
impl sealed::Sealed for Institution {}
impl TokenKind for Person {
    const NAME: &'static str = "UserToken";
}
impl TokenKind for Institution {
    const NAME: &'static str = "OobToken";
}

/// An access token of one kind `K`. Use it as [`UserToken`] or [`OobToken`].
pub struct Bearer<K: TokenKind> {
    token: AccessToken,
    kind: PhantomData<K>,
}

impl<K: TokenKind> Bearer<K> {
    /// Marks `token` as this kind. Call it only where the token's grant is known: on a token the
    /// center issued for that grant, or one read back from where it was kept.
    pub fn new(token: AccessToken) -> Self {
        Self {
            token,
            kind: PhantomData,
        }
    }

    /// The access token itself.
    pub fn access_token(&self) -> &AccessToken {
        &self.token
    }

    /// The secret itself. See [`AccessToken::expose_secret`].
    pub fn expose_secret(&self) -> &str {
        self.token.expose_secret()
    }
}

// By hand: a derive would ask `K` for the traits too.
impl<K: TokenKind> Clone for Bearer<K> {
    fn clone(&self) -> Self {
        Self::new(self.token.clone())
    }
}

impl<K: TokenKind> PartialEq for Bearer<K> {
    fn eq(&self, other: &Self) -> bool {
        self.token == other.token
    }
}

impl<K: TokenKind> Eq for Bearer<K> {}

impl<K: TokenKind> fmt::Debug for Bearer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(***)", K::NAME)
    }
}

/// A person's access token (3-legged; scopes `login`, `inquiry`, `transfer`): user info,
/// accounts, balance, history, withdrawals.
///
/// The center tells a person's token from the institution's ([`OobToken`]) and refuses the
/// wrong one with `O0011` (docs/protocol.md §2.2, §4). The client's calls take the matching
/// kind, so passing the wrong one does not compile: a person's token cannot pay out of the
/// institution's account,
/// ```compile_fail
/// # async fn demo(client: moa_openbanking::Client, person: moa_openbanking::UserToken,
/// #     request: moa_openbanking::transfer::DepositRequest) {
/// let _ = client.deposit(&person, &request).await;
/// # }
/// ```
/// nor can the institution's token debit a person's account:
/// ```compile_fail
/// # async fn demo(client: moa_openbanking::Client, oob: moa_openbanking::OobToken,
/// #     request: moa_openbanking::transfer::WithdrawRequest) {
/// let _ = client.withdraw(&oob, &request).await;
/// # }
/// ```
/// while the right kinds do:
/// ```no_run
/// # async fn demo(client: moa_openbanking::Client, person: moa_openbanking::UserToken,
/// #     oob: moa_openbanking::OobToken, withdraw: moa_openbanking::transfer::WithdrawRequest,
/// #     deposit: moa_openbanking::transfer::DepositRequest) {
/// let _ = client.withdraw(&person, &withdraw).await;
/// let _ = client.deposit(&oob, &deposit).await;
/// # }
/// ```
pub type UserToken = Bearer<Person>;

/// The institution's own access token (2-legged `client_credentials`; scope `oob`): real name,
/// remitters, recipient checks, deposits, transfer results, return claims, bank status.
pub type OobToken = Bearer<Institution>;

code_enum!(
    /// An OAuth scope.
    Scope {
        /// User info and account management.
        Login = "login",
        /// Balance and history.
        Inquiry = "inquiry",
        /// Withdrawals.
        Transfer = "transfer",
        /// Institution calls (real name, deposit, transfer result, bank status…).
        Oob = "oob",
        /// Self-authenticating institutions.
        Sa = "sa",
    }
);

/// A set of scopes, written space separated on the wire (the center sorts them alphabetically).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// The given scopes, in the given order, without repeats.
    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Self {
        let mut out: Vec<Scope> = Vec::new();
        for s in scopes {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        Self(out)
    }

    /// Reads a space-separated list.
    pub fn parse(s: &str) -> Self {
        Self::new(s.split_whitespace().map(Scope::from_code))
    }

    /// Whether `scope` is in the set.
    pub fn contains(&self, scope: &Scope) -> bool {
        self.0.contains(scope)
    }

    /// The scopes.
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes of `needed` this set does not hold, in `needed`'s order: what a token granted
    /// with this set lacks. Empty when it holds them all.
    pub fn missing(&self, needed: &Scopes) -> Scopes {
        Scopes(
            needed
                .iter()
                .filter(|s| !self.contains(s))
                .cloned()
                .collect(),
        )
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(s.code())?;
        }
        Ok(())
    }
}

impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The JWT carries scopes as an array; the token response as one string.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape {
            One(String),
            Many(Vec<String>),
        }
        Ok(match Shape::deserialize(d)? {
            Shape::One(s) => Scopes::parse(&s),
            Shape::Many(v) => Scopes::new(v.iter().map(|s| Scope::from_code(s))),
        })
    }
}

/// A successful answer of `/oauth/2.0/token`, as sent. It has no `rsp_code`.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: AccessToken,
    /// `Bearer`.
    #[serde(default, with = "wire::string")]
    pub token_type: String,
    /// Seconds until the access token expires (7775999 on the real hosts).
    #[serde(deserialize_with = "seconds")]
    pub expires_in: u64,
    /// The granted scopes.
    #[serde(default)]
    pub scope: Scopes,
    /// The refresh token (3-legged grants only).
    #[serde(default, deserialize_with = "wire::opt")]
    pub refresh_token: Option<RefreshToken>,
    /// The user's number (3-legged grants only).
    #[serde(default, deserialize_with = "wire::opt")]
    pub user_seq_no: Option<UserSeqNo>,
    /// The institution's code (client credentials only).
    #[serde(default, deserialize_with = "wire::opt")]
    pub client_use_code: Option<ClientUseCode>,
}

fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    use serde::de::Error as _;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| D::Error::custom("negative expires_in")),
        serde_json::Value::String(s) => s.trim().parse().map_err(D::Error::custom),
        other => Err(D::Error::custom(format!("expected seconds, got {other}"))),
    }
}

/// The refresh token outlives its access token by this much (docs/protocol.md §2.2).
pub const REFRESH_TOKEN_EXTRA_LIFE: Duration = Duration::days(10);

/// An issued token with the times needed to decide when to renew it.
#[derive(Debug, Clone)]
pub struct Token {
    /// The access token.
    pub access_token: AccessToken,
    /// The refresh token (3-legged grants only).
    pub refresh_token: Option<RefreshToken>,
    /// `Bearer`.
    pub token_type: String,
    /// The granted scopes.
    pub scope: Scopes,
    /// The user's number (3-legged grants only).
    pub user_seq_no: Option<UserSeqNo>,
    /// The institution's code (client credentials only).
    pub client_use_code: Option<ClientUseCode>,
    /// When the request for this token was sent: a conservative issue time.
    pub issued_at: DateTime<Utc>,
    /// When the access token stops working.
    pub expires_at: DateTime<Utc>,
}

impl Token {
    /// Combines a token answer with the time its request was sent.
    pub fn from_response(r: TokenResponse, issued_at: DateTime<Utc>) -> Self {
        Self {
            expires_at: expires_at(issued_at, r.expires_in),
            access_token: r.access_token,
            refresh_token: r.refresh_token,
            token_type: r.token_type,
            scope: r.scope,
            user_seq_no: r.user_seq_no,
            client_use_code: r.client_use_code,
            issued_at,
        }
    }

    /// Whether to refresh now, `margin` ahead of expiry. See [`should_refresh`].
    pub fn should_refresh(&self, now: DateTime<Utc>, margin: Duration) -> bool {
        should_refresh(now, self.expires_at, margin)
    }

    /// When the refresh token stops working.
    pub fn refresh_expires_at(&self) -> DateTime<Utc> {
        self.expires_at + REFRESH_TOKEN_EXTRA_LIFE
    }

    /// The access token as a person's, for a token from [`Client::exchange_code`] or
    /// [`Client::refresh_token`].
    ///
    /// [`Client::exchange_code`]: crate::Client::exchange_code
    /// [`Client::refresh_token`]: crate::Client::refresh_token
    pub fn user_token(&self) -> UserToken {
        UserToken::new(self.access_token.clone())
    }

    /// The access token as the institution's, for a token from
    /// [`Client::client_credentials`](crate::Client::client_credentials).
    pub fn oob_token(&self) -> OobToken {
        OobToken::new(self.access_token.clone())
    }
}

/// The expiry of a token issued at `issued_at` that lives `expires_in` seconds.
pub fn expires_at(issued_at: DateTime<Utc>, expires_in: u64) -> DateTime<Utc> {
    let secs = i64::try_from(expires_in).unwrap_or(i64::MAX);
    issued_at
        .checked_add_signed(Duration::try_seconds(secs).unwrap_or(Duration::MAX))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whether a token expiring at `expires_at` should be refreshed at `now`: once fewer than
/// `margin` remain (or it has already expired).
pub fn should_refresh(now: DateTime<Utc>, expires_at: DateTime<Utc>, margin: Duration) -> bool {
    match expires_at.checked_sub_signed(margin) {
        Some(deadline) => now >= deadline,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn secrets_never_print() {
        let t = AccessToken::new("eyJhbGciOiJIUzI1NiJ9.secret");
        assert_eq!(format!("{t}"), "***");
        assert_eq!(format!("{t:?}"), "AccessToken(***)");
        assert_eq!(format!("{}", ClientSecret::new("s3cr3t")), "***");
        assert_eq!(
            format!("{:?}", AuthorizationCode::new("c0de")),
            "AuthorizationCode(***)"
        );
        assert_eq!(t.expose_secret(), "eyJhbGciOiJIUzI1NiJ9.secret");
        assert_eq!(format!("{:?}", UserToken::new(t.clone())), "UserToken(***)");
        assert_eq!(format!("{:?}", OobToken::new(t.clone())), "OobToken(***)");
        assert_eq!(OobToken::new(t.clone()).expose_secret(), t.expose_secret());
    }

    #[test]
    fn a_token_response_decodes_and_its_debug_hides_both_tokens() {
        let r: TokenResponse = serde_json::from_str(
            r#"{"access_token":"AAA.BBB.CCC","token_type":"Bearer","refresh_token":"RRR.SSS",
                "expires_in":7775999,"scope":"inquiry login transfer","user_seq_no":"1101018970"}"#,
        )
        .expect("decode");
        let issued = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let t = Token::from_response(r, issued);
        let debug = format!("{t:?}");
        assert!(!debug.contains("AAA") && !debug.contains("RRR"), "{debug}");
        assert!(t.scope.contains(&Scope::Transfer));
        assert_eq!(
            t.user_seq_no.as_ref().map(UserSeqNo::as_str),
            Some("1101018970")
        );
        assert_eq!(
            t.expires_at,
            Utc.with_ymd_and_hms(2024, 3, 30, 23, 59, 59).unwrap()
        );
        assert_eq!(
            t.refresh_expires_at(),
            Utc.with_ymd_and_hms(2024, 4, 9, 23, 59, 59).unwrap()
        );
    }

    #[test]
    fn client_credentials_answer_has_a_client_use_code_and_string_expiry() {
        let r: TokenResponse = serde_json::from_str(
            r#"{"access_token":"a","token_type":"Bearer","expires_in":"7775999","scope":"oob",
                "client_use_code":"T991589220","refresh_token":""}"#,
        )
        .expect("decode");
        assert_eq!(r.expires_in, 7_775_999);
        assert!(r.refresh_token.is_none());
        assert_eq!(r.client_use_code.expect("code").as_str(), "T991589220");
    }

    #[test]
    fn refresh_is_due_inside_the_margin() {
        let exp = Utc.with_ymd_and_hms(2024, 1, 10, 0, 0, 0).unwrap();
        let day = Duration::days(1);
        assert!(!should_refresh(exp - Duration::days(2), exp, day));
        assert!(should_refresh(exp - day, exp, day));
        assert!(should_refresh(exp - Duration::hours(1), exp, day));
        assert!(should_refresh(
            exp + Duration::hours(1),
            exp,
            Duration::zero()
        ));
        assert!(!should_refresh(
            exp - Duration::seconds(1),
            exp,
            Duration::zero()
        ));
    }

    #[test]
    fn scopes_read_strings_and_arrays_and_write_space_separated() {
        let s: Scopes = serde_json::from_str(r#""inquiry login  transfer""#).expect("string");
        assert_eq!(s.to_string(), "inquiry login transfer");
        let a: Scopes = serde_json::from_str(r#"["oob"]"#).expect("array");
        assert!(a.contains(&Scope::Oob));
        assert_eq!(
            Scopes::new([Scope::Login, Scope::Login]).to_string(),
            "login"
        );
    }

    #[test]
    fn missing_scopes_are_those_needed_and_not_granted() {
        let needed = Scopes::new([Scope::Login, Scope::Inquiry, Scope::Transfer]);
        let granted = Scopes::parse("inquiry login transfer");
        assert!(granted.missing(&needed).is_empty());
        assert_eq!(
            Scopes::parse("inquiry login").missing(&needed).to_string(),
            "transfer"
        );
        assert_eq!(Scopes::default().missing(&needed), needed);
        // More than needed lacks nothing.
        assert!(
            Scopes::parse("inquiry login oob transfer")
                .missing(&needed)
                .is_empty()
        );
    }

    #[test]
    fn expiry_saturates_instead_of_overflowing() {
        let now = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(expires_at(now, u64::MAX), DateTime::<Utc>::MAX_UTC);
    }
}
