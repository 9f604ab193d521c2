//! What the consent pages accept: the authorize request's query and each posted form, read into
//! typed values or the refusal the page shows. Pure: no database, no session, no HTML.

use super::store::Choice;
use super::words::Words;
use crate::oauth;
use crate::session::{AuthRequest, MAX_OTP_ATTEMPTS};
use crate::state::Institution;
use crate::wire::ApiError;

/// The name/value pairs of a query string; a malformed one reads as empty.
pub(super) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    serde_urlencoded::from_str(raw.unwrap_or("")).unwrap_or_default()
}

/// The name/value pairs of a posted form; a malformed one reads as empty.
pub(super) fn form(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// The first non-empty value of `name`.
pub(super) fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Whether the pages are to speak English (`lang=eng`); Korean otherwise.
pub(super) fn english(pairs: &[(String, String)]) -> bool {
    first(pairs, "lang") == Some("eng")
}

/// Checks an authorize request as the center does before showing anything. `institution` finds
/// the institution of a `client_id`.
pub(super) fn authorize_request(
    pairs: &[(String, String)],
    reconfirm: bool,
    institution: impl FnOnce(&str) -> Option<Institution>,
) -> Result<(Institution, AuthRequest), ApiError> {
    let required =
        |name: &str| first(pairs, name).ok_or_else(|| ApiError::auth_parameter("3000103"));
    let client_id = required("client_id")?;
    let institution = institution(client_id).ok_or_else(|| ApiError::auth_parameter("3000201"))?;
    let redirect_uri = required("redirect_uri")?;
    if !institution.accepts_redirect(redirect_uri) {
        return Err(ApiError::auth_parameter("3000114"));
    }
    if required("response_type")? != "code" {
        return Err(ApiError::auth_parameter("3000116"));
    }
    let scope = oauth::parse_scope(&institution, required("scope")?)?;
    let state = required("state")?.to_owned();
    if !matches!(required("auth_type")?, "0" | "1" | "2") {
        return Err(ApiError::auth_parameter("3000103"));
    }
    let code_challenge = match (
        first(pairs, "code_challenge"),
        first(pairs, "code_challenge_method"),
    ) {
        (None, _) => None,
        (Some(challenge), Some("S256")) if (43..=128).contains(&challenge.len()) => {
            Some(challenge.to_owned())
        }
        _ => return Err(ApiError::auth_parameter("3000103")),
    };
    if institution.public && code_challenge.is_none() {
        return Err(oauth::pkce_required());
    }
    let request = AuthRequest {
        institution_id: institution.id,
        client_info: first(pairs, "client_info").unwrap_or("").to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state,
        code_challenge,
        english: english(pairs),
        reconfirm,
    };
    Ok((institution, request))
}

/// The identity form: who the person says they are.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Identity {
    /// The name, trimmed.
    pub user_name: String,
    /// The birth date (`YYYYMMDD`), trimmed.
    pub birth_date: String,
    /// The mobile number's digits alone, so `010-1234-5678` and `01012345678` are one number.
    pub cell_no: String,
}

impl Identity {
    /// Reads the identity form. Any value is accepted: whether it names a person is the
    /// database's to say.
    pub fn parse(fields: &[(String, String)]) -> Self {
        let text = |name: &str| first(fields, name).unwrap_or("").trim().to_owned();
        Self {
            user_name: text("user_name"),
            birth_date: text("birth_date"),
            cell_no: first(fields, "cell_no")
                .unwrap_or("")
                .chars()
                .filter(char::is_ascii_digit)
                .collect(),
        }
    }
}

/// What a posted one-time code leads to.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum OtpVerdict {
    /// The code is right: on to the accounts.
    Accepted,
    /// The code is wrong; the person may try again, having now made `attempts` wrong tries.
    Retry { attempts: u32 },
    /// The code is wrong and that was the last try: the session ends.
    TooManyAttempts,
}

/// Judges the one-time code posted in `fields` against the session's `expected` code, after
/// `attempts` wrong tries.
pub(super) fn otp_verdict(
    fields: &[(String, String)],
    expected: &str,
    attempts: u32,
) -> OtpVerdict {
    if first(fields, "otp") == Some(expected) {
        OtpVerdict::Accepted
    } else if attempts + 1 >= MAX_OTP_ATTEMPTS {
        OtpVerdict::TooManyAttempts
    } else {
        OtpVerdict::Retry {
            attempts: attempts + 1,
        }
    }
}

/// Whether the person pressed "refuse" on the accounts page.
pub(super) fn refused(fields: &[(String, String)]) -> bool {
    first(fields, "action") == Some("refuse")
}

/// An agreed accounts form.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Consent {
    /// The chosen accounts as (bank code, account number), in sorted order, each once.
    pub accounts: Vec<(String, String)>,
    pub inquiry_agree: bool,
    pub transfer_agree: bool,
}

/// Why the accounts form is shown again.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// No account was chosen.
    PickAccount,
    /// A chosen account (`bank-number`) is not among the person's.
    NotYours(String),
    /// A required term is not agreed to.
    NeedTerms,
    /// The inquiry scope was asked for but not agreed to.
    NeedInquiry,
}

impl Refusal {
    /// The line the page shows for it.
    pub fn message(&self, w: &Words) -> String {
        match self {
            Self::PickAccount => w.pick_account.into(),
            Self::NotYours(value) => format!("{} {value}", w.not_yours),
            Self::NeedTerms => w.need_terms.into(),
            Self::NeedInquiry => w.need_inquiry.into(),
        }
    }
}

impl Consent {
    /// Reads the accounts form against the person's accounts (`list`) and the requested `scope`.
    /// Accounts come from the checkboxes and from the "other account" bank and number (digits
    /// alone); the rules are checked in the order a person reads the page.
    pub fn parse(
        fields: &[(String, String)],
        scope: &[String],
        list: &[Choice],
    ) -> Result<Self, Refusal> {
        let mut picked: Vec<String> = fields
            .iter()
            .filter(|(k, _)| k == "account")
            .map(|(_, v)| v.clone())
            .collect();
        if let (Some(bank), Some(number)) =
            (first(fields, "bank_code_std"), first(fields, "account_num"))
        {
            let number: String = number.chars().filter(char::is_ascii_digit).collect();
            picked.push(format!("{bank}-{number}"));
        }
        picked.sort();
        picked.dedup();
        if picked.is_empty() {
            return Err(Refusal::PickAccount);
        }
        let mut accounts = Vec::new();
        for value in picked {
            let found = list.iter().find(|c| c.value() == value);
            match found {
                Some(c) => accounts.push((c.bank_code.clone(), c.account_num.clone())),
                None => return Err(Refusal::NotYours(value)),
            }
        }
        let checked = |name: &str| first(fields, name) == Some("Y");
        if !checked("terms_service") || !checked("terms_privacy") {
            return Err(Refusal::NeedTerms);
        }
        if scope.iter().any(|s| s == "inquiry") && !checked("inquiry_agree") {
            return Err(Refusal::NeedInquiry);
        }
        Ok(Self {
            accounts,
            inquiry_agree: checked("inquiry_agree"),
            transfer_agree: checked("transfer_agree"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::words::words;
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        query_pairs(Some(query))
    }

    fn institution(public: bool) -> Institution {
        Institution {
            id: 7,
            name: "Moa".into(),
            client_id: "client".into(),
            client_secret: "secret".into(),
            client_use_code: "M202300001".into(),
            redirect_uris: vec!["http://127.0.0.1/callback".into()],
            scopes: vec!["login".into(), "inquiry".into(), "transfer".into()],
            collection_account: 1,
            payout_account: 2,
            public,
        }
    }

    const GOOD: &str = "client_id=client&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback\
                        &response_type=code&scope=inquiry%20login&state=s1&auth_type=0";
    const CHALLENGE: &str = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq";

    #[test]
    fn an_authorize_request_is_refused_for_each_missing_or_wrong_parameter() {
        struct Case {
            name: &'static str,
            query: String,
            public: bool,
            /// The detail code of the refusal; `None` when the request is accepted.
            refused: Option<&'static str>,
        }
        let without = |name: &str| {
            GOOD.split('&')
                .filter(|p| !p.starts_with(&format!("{name}=")))
                .collect::<Vec<_>>()
                .join("&")
        };
        let with = |extra: &str| format!("{GOOD}&{extra}");
        let cases = [
            Case {
                name: "complete",
                query: GOOD.into(),
                public: false,
                refused: None,
            },
            Case {
                name: "no client_id",
                query: without("client_id"),
                public: false,
                refused: Some("3000103"),
            },
            Case {
                name: "unknown client_id",
                query: GOOD.replace("client_id=client", "client_id=other"),
                public: false,
                refused: Some("3000201"),
            },
            Case {
                name: "no redirect_uri",
                query: without("redirect_uri"),
                public: false,
                refused: Some("3000103"),
            },
            Case {
                name: "unregistered redirect_uri",
                query: GOOD.replace("callback", "elsewhere"),
                public: false,
                refused: Some("3000114"),
            },
            Case {
                name: "response_type token",
                query: GOOD.replace("response_type=code", "response_type=token"),
                public: false,
                refused: Some("3000116"),
            },
            Case {
                name: "unknown scope",
                query: GOOD.replace("scope=inquiry", "scope=admin"),
                public: false,
                refused: Some("3000115"),
            },
            Case {
                name: "no state",
                query: without("state"),
                public: false,
                refused: Some("3000103"),
            },
            Case {
                name: "auth_type 3",
                query: GOOD.replace("auth_type=0", "auth_type=3"),
                public: false,
                refused: Some("3000103"),
            },
            Case {
                name: "challenge without method",
                query: with(&format!("code_challenge={CHALLENGE}")),
                public: false,
                refused: Some("3000103"),
            },
            Case {
                name: "plain challenge",
                query: with(&format!(
                    "code_challenge={CHALLENGE}&code_challenge_method=plain"
                )),
                public: false,
                refused: Some("3000103"),
            },
            Case {
                name: "short challenge",
                query: with("code_challenge=abc&code_challenge_method=S256"),
                public: false,
                refused: Some("3000103"),
            },
            Case {
                name: "S256 challenge",
                query: with(&format!(
                    "code_challenge={CHALLENGE}&code_challenge_method=S256"
                )),
                public: true,
                refused: None,
            },
            Case {
                name: "public client without PKCE",
                query: GOOD.into(),
                public: true,
                refused: Some("3000103"),
            },
        ];
        for case in &cases {
            let result = authorize_request(&pairs(&case.query), false, |id| {
                (id == "client").then(|| institution(case.public))
            });
            match (result, case.refused) {
                (Ok((institution, request)), None) => {
                    assert_eq!(institution.id, 7, "{}", case.name);
                    assert_eq!(request.scope, ["inquiry", "login"], "{}", case.name);
                    assert_eq!(request.state, "s1", "{}", case.name);
                }
                (Err(error), Some(detail)) => assert!(
                    error.message.contains(detail),
                    "{}: {} should name {detail}",
                    case.name,
                    error.message
                ),
                (Ok(_), Some(detail)) => panic!("{}: accepted, expected {detail}", case.name),
                (Err(error), None) => panic!("{}: refused with {}", case.name, error.message),
            }
        }
    }

    #[test]
    fn the_identity_form_trims_the_name_and_birth_date_and_keeps_the_mobile_numbers_digits() {
        let cases = [
            (
                "plain",
                "user_name=Kim&birth_date=19900101&cell_no=01012345678",
                ("Kim", "19900101", "01012345678"),
            ),
            (
                "padded",
                "user_name=+Kim+&birth_date=+19900101+&cell_no=010-1234-5678",
                ("Kim", "19900101", "01012345678"),
            ),
            (
                "spaced number",
                "user_name=Kim&birth_date=19900101&cell_no=010+1234+5678",
                ("Kim", "19900101", "01012345678"),
            ),
            ("empty", "", ("", "", "")),
        ];
        for (name, query, (user_name, birth_date, cell_no)) in cases {
            assert_eq!(
                Identity::parse(&pairs(query)),
                Identity {
                    user_name: user_name.into(),
                    birth_date: birth_date.into(),
                    cell_no: cell_no.into(),
                },
                "{name}"
            );
        }
    }

    #[test]
    fn a_one_time_code_is_accepted_retried_or_ends_the_session() {
        let last = MAX_OTP_ATTEMPTS - 1;
        let cases = [
            ("right code", "otp=123456", 0, OtpVerdict::Accepted),
            (
                "right code on the last try",
                "otp=123456",
                last,
                OtpVerdict::Accepted,
            ),
            (
                "wrong code",
                "otp=654321",
                0,
                OtpVerdict::Retry { attempts: 1 },
            ),
            ("no code", "", 1, OtpVerdict::Retry { attempts: 2 }),
            (
                "wrong code on the last try",
                "otp=654321",
                last,
                OtpVerdict::TooManyAttempts,
            ),
        ];
        for (name, query, attempts, verdict) in cases {
            assert_eq!(
                otp_verdict(&pairs(query), "123456", attempts),
                verdict,
                "{name}"
            );
        }
    }

    fn choice(bank_code: &str, account_num: &str) -> Choice {
        Choice {
            bank_code: bank_code.into(),
            bank_name: "Bank".into(),
            account_num: account_num.into(),
            product: "Savings".into(),
            registered: false,
        }
    }

    #[test]
    fn the_accounts_form_needs_own_accounts_and_the_required_consents() {
        let list = [choice("097", "1001"), choice("088", "2002")];
        let terms = "terms_service=Y&terms_privacy=Y";
        let both = |accounts: &[(&str, &str)]| -> Vec<(String, String)> {
            accounts
                .iter()
                .map(|(b, n)| ((*b).to_owned(), (*n).to_owned()))
                .collect()
        };
        /// A posted form, the requested scope, and what the form is read as.
        type Case = (
            &'static str,
            String,
            &'static [&'static str],
            Result<Consent, Refusal>,
        );
        let cases: [Case; 9] = [
            (
                "nothing picked",
                terms.into(),
                &["login"],
                Err(Refusal::PickAccount),
            ),
            (
                "a checkbox",
                format!("account=097-1001&{terms}"),
                &["login"],
                Ok(Consent {
                    accounts: both(&[("097", "1001")]),
                    inquiry_agree: false,
                    transfer_agree: false,
                }),
            ),
            (
                "another account, number with dashes",
                format!("bank_code_std=088&account_num=2-002&{terms}"),
                &["login"],
                Ok(Consent {
                    accounts: both(&[("088", "2002")]),
                    inquiry_agree: false,
                    transfer_agree: false,
                }),
            ),
            (
                "the same account twice, sorted",
                format!(
                    "account=097-1001&account=088-2002&bank_code_std=097&account_num=1001&{terms}"
                ),
                &["login"],
                Ok(Consent {
                    accounts: both(&[("088", "2002"), ("097", "1001")]),
                    inquiry_agree: false,
                    transfer_agree: false,
                }),
            ),
            (
                "a bank without a number",
                format!("bank_code_std=088&{terms}"),
                &["login"],
                Err(Refusal::PickAccount),
            ),
            (
                "someone else's account",
                format!("account=097-1001&account=097-9999&{terms}"),
                &["login"],
                Err(Refusal::NotYours("097-9999".into())),
            ),
            (
                "no privacy terms",
                "account=097-1001&terms_service=Y".into(),
                &["login"],
                Err(Refusal::NeedTerms),
            ),
            (
                "inquiry asked, not agreed",
                format!("account=097-1001&{terms}&transfer_agree=Y"),
                &["inquiry", "transfer"],
                Err(Refusal::NeedInquiry),
            ),
            (
                "inquiry and transfer agreed",
                format!("account=097-1001&{terms}&inquiry_agree=Y&transfer_agree=Y"),
                &["inquiry", "transfer"],
                Ok(Consent {
                    accounts: both(&[("097", "1001")]),
                    inquiry_agree: true,
                    transfer_agree: true,
                }),
            ),
        ];
        for (name, query, scope, expected) in cases {
            let scope: Vec<String> = scope.iter().map(|s| (*s).to_owned()).collect();
            assert_eq!(
                Consent::parse(&pairs(&query), &scope, &list),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn refusing_is_read_from_the_pressed_button() {
        assert!(refused(&pairs("action=refuse")));
        assert!(!refused(&pairs("action=agree")));
        assert!(!refused(&pairs("")));
    }

    #[test]
    fn a_refusal_says_which_account_is_not_the_persons() {
        let w = words(true);
        let message = Refusal::NotYours("097-9999".into()).message(w);
        assert!(message.starts_with(w.not_yours), "{message}");
        assert!(message.ends_with(" 097-9999"), "{message}");
        assert_eq!(Refusal::NeedTerms.message(w), w.need_terms);
    }
}
