//! The testbed's shared state and the checks every service API runs first: the bearer token, its
//! scope, the daily uniqueness of `bank_tran_id`, the fintech number's owner, and the bank's link.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeDelta};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::clock::{self, Clock};
use crate::db::{CommitHold, Db, DbError, Pragmas, WriterStats};
use crate::faults::{Fault, Faults, LateAnswer};
use crate::ledger::{self, Movement, Outcome};
use crate::manifest::{self, Manifest};
use crate::session::Sessions;
use crate::wire::{ApiError, BankBlock, code};
use crate::{Config, Error, admin, api, oauth, pages, seed, token};

/// A running testbed's state; cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Testbed {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Testbed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Testbed").finish_non_exhaustive()
    }
}

struct Inner {
    db: Db,
    clock: Clock,
    jwt_key: Vec<u8>,
    admin_token: String,
    /// Whether `/testbed/admin` is served ([`Config::admin`]).
    admin: bool,
    sessions: Sessions,
    faults: Faults,
    institutions: RwLock<Vec<Institution>>,
    banks: RwLock<HashMap<String, Bank>>,
    /// Contract accounts, read on every transfer and changed only by the admin API.
    contract_accounts: RwLock<HashMap<i64, AccountView>>,
    default_latency: Duration,
    /// `bank_tran_id`s seen, by the center's business date. Inquiries need not survive a
    /// restart; transfers are unique in the ledger itself.
    used_ids: Mutex<HashMap<String, HashSet<(i64, String)>>>,
    /// Transfers that land late ([`Fault::Late`]), waiting for their time. Dropping the set
    /// (with the testbed) or [`Testbed::stop_background`] aborts them: nothing outlives the
    /// testbed.
    late: Mutex<tokio::task::JoinSet<()>>,
}

/// An institution (이용기관) as the center knows it. Its `Debug` hides the client secret.
#[derive(Clone)]
pub(crate) struct Institution {
    pub id: i64,
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    pub client_use_code: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub collection_account: i64,
    pub payout_account: i64,
    /// A public client cannot keep its secret (an app on a person's device): it must prove
    /// with PKCE (S256) that it is the one that asked for the code.
    pub public: bool,
}

impl std::fmt::Debug for Institution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Institution")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("client_use_code", &self.client_use_code)
            .field("redirect_uris", &self.redirect_uris)
            .field("scopes", &self.scopes)
            .field("collection_account", &self.collection_account)
            .field("payout_account", &self.payout_account)
            .field("public", &self.public)
            .finish()
    }
}

impl Institution {
    /// Whether `uri` is one of the registered callbacks. A registered loopback callback without a
    /// port (`http://127.0.0.1/callback`) accepts any port, as RFC 8252 asks for desktop apps;
    /// everything else must match exactly.
    pub fn accepts_redirect(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|registered| registered == uri || loopback_match(registered, uri))
    }

    /// Whether the institution may ask for `scope`.
    pub fn may_use(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

fn loopback_match(registered: &str, uri: &str) -> bool {
    for host in ["http://127.0.0.1", "http://localhost", "http://[::1]"] {
        if let (Some(reg_rest), Some(uri_rest)) =
            (registered.strip_prefix(host), uri.strip_prefix(host))
        {
            if !reg_rest.starts_with('/') {
                return false;
            }
            let Some(after_colon) = uri_rest.strip_prefix(':') else {
                return false;
            };
            let digits = after_colon.bytes().take_while(u8::is_ascii_digit).count();
            return (1..=5).contains(&digits) && &after_colon[digits..] == reg_rest;
        }
    }
    false
}

/// A participating bank and how it behaves now.
#[derive(Debug, Clone)]
pub(crate) struct Bank {
    pub name: String,
    pub status: String,
    pub latency: Option<Duration>,
}

/// Who is calling: an institution, and for 3-legged tokens the person it acts for.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub institution: Institution,
    pub user_seq_no: Option<String>,
}

/// A registered account as one institution sees it.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    pub fintech_use_num: String,
    pub user_seq_no: String,
    pub account_alias: String,
    pub account_seq: String,
    pub inquiry_agree_dtime: Option<String>,
    pub transfer_agree_dtime: Option<String>,
    pub payer_num: String,
    pub state: String,
    pub account_id: i64,
    pub bank_code: String,
    pub bank_name: String,
    pub account_num: String,
    pub holder_name: String,
    pub account_type: String,
    pub product_name: String,
    pub issue_date: String,
    pub maturity_date: Option<String>,
    pub account_state: String,
}

/// How long a consent lasts before the person must give it again.
pub(crate) const CONSENT_VALIDITY: TimeDelta = TimeDelta::days(365);

impl Registration {
    pub(crate) const SELECT: &'static str = "SELECT r.fintech_use_num, r.user_seq_no,
        r.account_alias, r.account_seq, r.inquiry_agree_dtime, r.transfer_agree_dtime,
        r.payer_num, r.state, a.id, a.bank_code, b.name, a.account_num, a.holder_name,
        a.account_type, a.product_name, a.issue_date, a.maturity_date, a.balance, a.state
        FROM registrations r JOIN accounts a ON a.id = r.account_id
        JOIN banks b ON b.code = a.bank_code";

    pub(crate) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            fintech_use_num: row.get(0)?,
            user_seq_no: row.get(1)?,
            account_alias: row.get(2)?,
            account_seq: row.get(3)?,
            inquiry_agree_dtime: row.get(4)?,
            transfer_agree_dtime: row.get(5)?,
            payer_num: row.get(6)?,
            state: row.get(7)?,
            account_id: row.get(8)?,
            bank_code: row.get(9)?,
            bank_name: row.get(10)?,
            account_num: row.get(11)?,
            holder_name: row.get(12)?,
            account_type: row.get(13)?,
            product_name: row.get(14)?,
            issue_date: row.get(15)?,
            maturity_date: row.get(16)?,
            account_state: row.get(18)?,
        })
    }

    /// `A0305`/`A0316` unless the person's inquiry consent holds at `now`.
    pub(crate) fn require_inquiry_consent(
        &self,
        now: &DateTime<FixedOffset>,
    ) -> Result<(), ApiError> {
        consent_holds(
            self.inquiry_agree_dtime.as_deref(),
            now,
            (
                code::NO_INQUIRY_CONSENT,
                "제3자정보제공동의 정보가 없습니다",
            ),
            (
                code::INQUIRY_CONSENT_EXPIRED,
                "제3자정보제공동의 기간이 만료되었습니다",
            ),
        )
    }

    /// `A0306`/`A0319` unless the person's withdraw consent holds at `now`.
    pub(crate) fn require_transfer_consent(
        &self,
        now: &DateTime<FixedOffset>,
    ) -> Result<(), ApiError> {
        consent_holds(
            self.transfer_agree_dtime.as_deref(),
            now,
            (code::NO_TRANSFER_CONSENT, "출금동의 정보가 없습니다"),
            (
                code::TRANSFER_CONSENT_EXPIRED,
                "출금동의 기간이 만료되었습니다",
            ),
        )
    }

    /// The account number as the center shows it: all but the last three digits.
    pub(crate) fn masked(&self) -> String {
        mask(&self.account_num)
    }
}

/// `0123456789012` → `0123456789***`.
pub(crate) fn mask(account_num: &str) -> String {
    let keep = account_num.len().saturating_sub(3);
    format!("{}***", &account_num[..keep])
}

fn consent_holds(
    agreed: Option<&str>,
    now: &DateTime<FixedOffset>,
    missing: (&'static str, &str),
    expired: (&'static str, &str),
) -> Result<(), ApiError> {
    let Some(agreed) = agreed else {
        return Err(ApiError::new(missing.0, missing.1));
    };
    let agreed = NaiveDateTime::parse_from_str(agreed, "%Y%m%d%H%M%S")
        .map_err(|_| ApiError::new(missing.0, missing.1))?;
    if agreed + CONSENT_VALIDITY < now.naive_local() {
        return Err(ApiError::new(expired.0, expired.1));
    }
    Ok(())
}

impl Testbed {
    /// Opens the database (seeding an empty one) and loads what every request needs.
    pub async fn open(config: Config) -> Result<Self, Error> {
        let clock = Clock::default();
        // Before seeding: the seed's history ends on the center's yesterday, not the real one.
        clock.set_offset(config.clock_offset);
        let db = Db::open(&config.db, clock.clone())?;
        let today = clock.now().date_naive();
        db.write(move |conn| -> Result<(), DbError> {
            let seeded: Option<String> = conn
                .query_row("SELECT value FROM meta WHERE key = 'seeded_on'", [], |r| {
                    r.get(0)
                })
                .optional()?;
            if seeded.is_none() {
                seed::seed(conn, today)?;
            }
            Ok(())
        })
        .await?;

        let (meta, institutions, mut banks) = db
            .read(|conn| -> Result<_, DbError> {
                Ok((
                    load_meta(conn)?,
                    load_institutions(conn)?,
                    load_banks(conn)?,
                ))
            })
            .await?;
        for (bank_code, latency) in &config.bank_latency {
            if let Some(bank) = banks.get_mut(bank_code) {
                bank.latency = Some(*latency);
            }
        }
        for (bank_code, status) in &config.bank_status {
            if let Some(bank) = banks.get_mut(bank_code) {
                bank.status = status.clone();
            }
        }
        let faults = Faults::default();
        for rule in &config.faults {
            faults.add(rule.clone());
        }
        let institutions = institutions
            .into_iter()
            .collect::<Result<Vec<_>, String>>()
            .map_err(Error::Corrupt)?;
        let jwt_key = meta
            .get("jwt_key")
            .ok_or_else(|| Error::Corrupt("no signing key".into()))?
            .as_bytes()
            .to_vec();
        let admin_token = meta
            .get("admin_token")
            .cloned()
            .ok_or_else(|| Error::Corrupt("no admin token".into()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                clock,
                jwt_key,
                admin_token,
                admin: config.admin,
                sessions: Sessions::default(),
                faults,
                institutions: RwLock::new(institutions),
                banks: RwLock::new(banks),
                contract_accounts: RwLock::new(HashMap::new()),
                default_latency: config.latency,
                used_ids: Mutex::new(HashMap::new()),
                late: Mutex::new(tokio::task::JoinSet::new()),
            }),
        })
    }

    /// Every route of the center: OAuth pages and token, the `/v2.0` APIs, and the testbed's own
    /// endpoints under `/testbed` — the admin API only when [`Config::admin`] turned it on.
    pub fn router(&self) -> Router {
        let mut router = Router::new()
            .merge(pages::routes())
            .merge(oauth::routes())
            .merge(api::routes());
        if self.inner.admin {
            router = router.merge(admin::routes());
        }
        router
            .merge(crate::fixtures::routes())
            .fallback(api::not_found)
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                with_center_clock,
            ))
            .with_state(self.clone())
    }

    /// The sandbox manifest: base URL, admin token, institutions and demo people.
    pub async fn manifest(&self, base_url: &str) -> Result<Manifest, Error> {
        let base_url = base_url.to_owned();
        let admin_token = self.inner.admin_token.clone();
        let institutions = self.institutions();
        Ok(self
            .inner
            .db
            .read(move |conn| manifest::build(conn, base_url, admin_token, &institutions))
            .await?)
    }

    /// The center's clock, which tests may move.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    pub(crate) fn now(&self) -> DateTime<FixedOffset> {
        self.inner.clock.now()
    }

    pub(crate) fn institutions(&self) -> Vec<Institution> {
        self.inner
            .institutions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn institution_by_client_id(&self, client_id: &str) -> Option<Institution> {
        self.institutions()
            .into_iter()
            .find(|i| i.client_id == client_id)
    }

    fn institution(&self, id: i64) -> Option<Institution> {
        self.institutions().into_iter().find(|i| i.id == id)
    }

    pub(crate) fn banks(&self) -> Vec<(String, Bank)> {
        let banks = self.inner.banks.read().unwrap_or_else(|e| e.into_inner());
        let mut list: Vec<_> = banks.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        list
    }

    pub(crate) fn bank(&self, code: &str) -> Option<Bank> {
        self.inner
            .banks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(code)
            .cloned()
    }

    /// Checks the bearer token of a service API call and that it carries `scope`
    /// (`O0001 [992]`, `O0002`, `O0003`, `O0011`, in the center's order).
    pub(crate) async fn authorize(
        &self,
        headers: &HeaderMap,
        scope: &str,
    ) -> Result<Caller, ApiError> {
        let bearer = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::auth_parameter("992"))?;
        let rejected = || ApiError::new(code::TOKEN_REJECTED, "Access Token 거부");
        let claims = token::verify(&self.inner.jwt_key, bearer).map_err(|_| rejected())?;
        if claims.exp <= self.now().timestamp() {
            return Err(ApiError::new(code::TOKEN_EXPIRED, "Access Token 만료"));
        }
        let jti = claims.jti.clone();
        let row = self
            .inner
            .db
            .read(move |conn| -> Result<_, DbError> {
                Ok(conn
                    .query_row(
                        "SELECT institution_id, user_seq_no, scope FROM tokens
                         WHERE jti = ?1 AND kind = 'access' AND revoked = 0",
                        [&jti],
                        |r| {
                            Ok((
                                r.get::<_, i64>(0)?,
                                r.get::<_, Option<String>>(1)?,
                                r.get::<_, String>(2)?,
                            ))
                        },
                    )
                    .optional()?)
            })
            .await?;
        let (institution_id, user_seq_no, scopes) = row.ok_or_else(rejected)?;
        if !scopes.split(' ').any(|s| s == scope) {
            return Err(ApiError::new(
                code::SCOPE_NOT_ALLOWED,
                format!("허용되지 않은 scope 입니다 ({scope} 필요)"),
            ));
        }
        let institution = self.institution(institution_id).ok_or_else(rejected)?;
        Ok(Caller {
            institution,
            user_seq_no,
        })
    }

    /// Records `bank_tran_id` as used today by the caller's institution; `A0326` when it was.
    pub(crate) fn claim_bank_tran_id(
        &self,
        caller: &Caller,
        bank_tran_id: &str,
    ) -> Result<(), ApiError> {
        let today = clock::date(&self.now());
        let mut used = self
            .inner
            .used_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Yesterday's ids stay for requests that straddle midnight; older ones are dropped.
        if used.len() > 2 {
            let mut dates: Vec<String> = used.keys().cloned().collect();
            dates.sort();
            for date in &dates[..dates.len() - 2] {
                used.remove(date);
            }
        }
        let fresh = used
            .entry(today)
            .or_default()
            .insert((caller.institution.id, bank_tran_id.to_owned()));
        if fresh {
            Ok(())
        } else {
            Err(ApiError::new(
                code::DUPLICATE_BANK_TRAN_ID,
                "은행거래고유번호(bank_tran_id)가 중복되었습니다",
            ))
        }
    }

    /// The caller's registration under `fintech_use_num`: `A0304` when the number is not the
    /// caller's (another institution's, another person's, or unknown), `A0323` when cancelled.
    pub(crate) async fn registration(
        &self,
        caller: &Caller,
        fintech_use_num: &str,
    ) -> Result<Registration, ApiError> {
        let fintech = fintech_use_num.to_owned();
        let institution_id = caller.institution.id;
        let found = self
            .inner
            .db
            .read(move |conn| -> Result<_, DbError> {
                let sql = format!(
                    "{} WHERE r.fintech_use_num = ?1 AND r.institution_id = ?2",
                    Registration::SELECT
                );
                Ok(conn
                    .query_row(
                        &sql,
                        params![fintech, institution_id],
                        Registration::from_row,
                    )
                    .optional()?)
            })
            .await?;
        let mismatch =
            || ApiError::new(code::FINTECH_MISMATCH, "핀테크이용번호가 일치하지 않습니다");
        let registration = found.ok_or_else(mismatch)?;
        if let Some(user) = &caller.user_seq_no
            && *user != registration.user_seq_no
        {
            return Err(mismatch());
        }
        if registration.state != "01" {
            return Err(ApiError::new(
                code::NOT_REGISTERED,
                "이용기관에 등록되지 않은 계좌입니다",
            ));
        }
        Ok(registration)
    }

    /// Routes a request of `api` to bank `code`: waits for its link latency, answers `A0002`
    /// with the bank's refusal when it is in outage (`D`), not yet open (`L`) or terminated
    /// (`E`), and plays a scripted fault if one matches. Faults that strike before the bank acts
    /// come back as errors; those that strike after it (a refusal, a timeout after applying, a
    /// connection dropped after commit) are returned for the caller to play at the right moment.
    pub(crate) async fn reach_bank(
        &self,
        api: &str,
        code: &str,
        block: &BankBlock,
    ) -> Result<Option<Fault>, ApiError> {
        let Some(bank) = self.bank(code) else {
            return Err(ApiError::bank(
                block.clone().refused("499", "참가은행이 아닙니다"),
            ));
        };
        let refusal = match bank.status.as_str() {
            "Y" => None,
            "D" => Some("은행 장애로 거래할 수 없습니다"),
            "L" => Some("은행 개시 이전입니다"),
            _ => Some("은행 업무가 종료되었습니다"),
        };
        if let Some(message) = refusal {
            return Err(ApiError::bank(block.clone().refused("499", message)));
        }
        let latency = bank.latency.unwrap_or(self.inner.default_latency);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        match self.inner.faults.take(api, code) {
            Some(Fault::UsageLimit) => Err(ApiError::new("O0009", "사용량 한도를 초과했습니다")),
            Some(Fault::Drop {
                after_commit: false,
            }) => Err(ApiError::dropped()),
            Some(Fault::Timeout {
                applied: false,
                rsp_code,
            }) => Err(timeout(&rsp_code, block)),
            other => Ok(other),
        }
    }

    /// Replaces what a bank is and does: its status and its latency (`None`: the default).
    pub async fn set_bank(
        &self,
        code: &str,
        status: Option<String>,
        latency: Option<Option<Duration>>,
    ) -> Result<bool, DbError> {
        let Some(mut bank) = self.bank(code) else {
            return Ok(false);
        };
        if let Some(status) = status {
            bank.status = status;
        }
        if let Some(latency) = latency {
            bank.latency = latency;
        }
        let (code_owned, stored) = (code.to_owned(), bank.clone());
        self.inner
            .db
            .write(move |conn| -> Result<(), DbError> {
                conn.execute(
                    "UPDATE banks SET status = ?2, latency_ms = ?3 WHERE code = ?1",
                    params![
                        code_owned,
                        stored.status,
                        stored.latency.map(|d| d.as_millis() as i64)
                    ],
                )?;
                Ok(())
            })
            .await?;
        self.inner
            .banks
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(code.to_owned(), bank);
        Ok(true)
    }

    /// Marks the institution with `client_use_code` public (it must use PKCE) or confidential.
    /// `false` when there is no such institution.
    pub async fn set_institution_public(
        &self,
        client_use_code: &str,
        public: bool,
    ) -> Result<bool, DbError> {
        let code = client_use_code.to_owned();
        let changed = self
            .inner
            .db
            .write(move |conn| -> Result<usize, DbError> {
                Ok(conn.execute(
                    "UPDATE institutions SET public = ?2 WHERE client_use_code = ?1",
                    params![code, public],
                )?)
            })
            .await?;
        let mut institutions = self
            .inner
            .institutions
            .write()
            .unwrap_or_else(|e| e.into_inner());
        for institution in institutions.iter_mut() {
            if institution.client_use_code == client_use_code {
                institution.public = public;
            }
        }
        Ok(changed == 1)
    }

    /// The scripted faults.
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// Lands `movement` in the ledger `delay` from now, in the background, exactly as its call
    /// would have: [`ledger::apply`] runs its usual checks then, so a `bank_tran_id` used
    /// meanwhile is not applied twice, and a bank refusal is recorded as refused. The work
    /// holds the database but not the testbed, and is aborted when the testbed stops.
    pub(crate) fn land_later(&self, movement: Movement, delay: Duration) {
        let db = self.inner.db.clone();
        let mut late = self.inner.late.lock().unwrap_or_else(|e| e.into_inner());
        // Forget the ones that landed, so the set holds only what is still waiting.
        while late.try_join_next().is_some() {}
        late.spawn(async move {
            tokio::time::sleep(delay).await;
            let id = movement.bank_tran_id.clone();
            match db.write_at(move |conn, at| ledger::apply(conn, &movement, at)).await {
                Ok(Outcome::Done { .. }) => tracing::info!(bank_tran_id = %id, "late transfer applied"),
                Ok(Outcome::Refused { bank_rsp_code, .. }) => {
                    tracing::info!(bank_tran_id = %id, %bank_rsp_code, "late transfer refused by the bank")
                }
                // Refused before the bank (a reused id, a limit): like such a call, no record.
                Err(error) => {
                    tracing::info!(bank_tran_id = %id, rsp_code = error.rsp_code, "late transfer refused")
                }
            }
        });
    }

    /// How many late transfers are still waiting to land.
    pub fn late_pending(&self) -> usize {
        let mut late = self.inner.late.lock().unwrap_or_else(|e| e.into_inner());
        while late.try_join_next().is_some() {}
        late.len()
    }

    /// Aborts the testbed's background work: late transfers that have not landed never will.
    /// [`crate::run`] calls it when it stops serving.
    pub fn stop_background(&self) {
        self.inner
            .late
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .abort_all();
    }
}

/// What the caller of a transfer hit by a late fault hears at once: a timeout or a dropped
/// connection, never a verdict.
pub(crate) fn late_answer(answer: LateAnswer, block: &BankBlock) -> ApiError {
    match answer {
        LateAnswer::Timeout => timeout("A0007", block),
        LateAnswer::BankTimeout => timeout("A0017", block),
        LateAnswer::Drop => ApiError::dropped(),
    }
}

/// The center's timeout answer, `A0007` or `A0017`, carrying the bank block without a verdict.
pub(crate) fn timeout(rsp_code: &str, block: &BankBlock) -> ApiError {
    let (code, message) = if rsp_code == "A0017" {
        ("A0017", "참가기관 응답시간 초과")
    } else {
        ("A0007", "처리시간 초과")
    };
    let mut pending = block.clone();
    pending.bank_rsp_code = String::new();
    ApiError::new(code, message).with_bank(pending)
}

/// What a scripted fault leaves for a transfer to do: the bank's forced refusal, and what
/// happens to the answer after the commit.
pub(crate) fn split_fault(fault: Option<Fault>) -> (Option<String>, Option<Fault>) {
    match fault {
        Some(Fault::BankError { bank_rsp_code }) => (Some(bank_rsp_code), None),
        other => (None, other),
    }
}

/// For inquiries, which change nothing: every fault that is left becomes the answer.
pub(crate) fn inquiry_fault(fault: Option<Fault>, block: &BankBlock) -> Result<(), ApiError> {
    match fault {
        None => Ok(()),
        Some(Fault::BankError { bank_rsp_code }) => Err(ApiError::bank(
            block.clone().refused(&bank_rsp_code, "참가은행 거절"),
        )),
        Some(Fault::Timeout { rsp_code, .. }) => Err(timeout(&rsp_code, block)),
        Some(Fault::Drop { .. }) => Err(ApiError::dropped()),
        Some(Fault::UsageLimit) => Err(ApiError::new("O0009", "사용량 한도를 초과했습니다")),
        // Rules only script it for transfers; should one reach an inquiry, it is its answer.
        Some(Fault::Late { answer, .. }) => Err(late_answer(answer, block)),
    }
}

/// Plays what a fault does to the answer of a transfer that has been committed.
pub(crate) fn after_commit(fault: Option<Fault>, block: &BankBlock) -> Result<(), ApiError> {
    match fault {
        Some(Fault::Timeout { rsp_code, .. }) => Err(timeout(&rsp_code, block)),
        Some(Fault::Drop { .. }) => Err(ApiError::dropped()),
        _ => Ok(()),
    }
}

/// An account as a transfer's answer describes it.
#[derive(Debug, Clone)]
pub(crate) struct AccountView {
    pub id: i64,
    pub bank_code: String,
    pub bank_name: String,
    pub account_num: String,
    pub holder_name: String,
    pub state: String,
}

impl AccountView {
    const SELECT: &'static str = "SELECT a.id, a.bank_code, b.name, a.account_num, a.holder_name,
        a.state FROM accounts a JOIN banks b ON b.code = a.bank_code";

    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            bank_code: r.get(1)?,
            bank_name: r.get(2)?,
            account_num: r.get(3)?,
            holder_name: r.get(4)?,
            state: r.get(5)?,
        })
    }
}

impl Testbed {
    /// An institution's contract account, from memory after the first read.
    pub(crate) async fn contract_account(&self, id: i64) -> Result<AccountView, ApiError> {
        let cached = self
            .inner
            .contract_accounts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned();
        if let Some(account) = cached {
            return Ok(account);
        }
        let account = self.account_by_id(id).await?;
        self.inner
            .contract_accounts
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, account.clone());
        Ok(account)
    }

    /// Forgets cached account details after an account's state changed.
    pub(crate) fn forget_accounts(&self) {
        self.inner
            .contract_accounts
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The account with row id `id`.
    pub(crate) async fn account_by_id(&self, id: i64) -> Result<AccountView, ApiError> {
        Ok(self
            .inner
            .db
            .read(move |conn| -> Result<_, DbError> {
                let sql = format!("{} WHERE a.id = ?1", AccountView::SELECT);
                Ok(conn.query_row(&sql, [id], AccountView::from_row)?)
            })
            .await?)
    }

    /// The account `account_num` at bank `bank_code`, if the bank has it.
    pub(crate) async fn account_by_number(
        &self,
        bank_code: &str,
        account_num: &str,
    ) -> Result<Option<AccountView>, ApiError> {
        let (bank, number) = (bank_code.to_owned(), account_num.to_owned());
        Ok(self
            .inner
            .db
            .read(move |conn| -> Result<_, DbError> {
                let sql = format!(
                    "{} WHERE a.bank_code = ?1 AND a.account_num = ?2",
                    AccountView::SELECT
                );
                Ok(conn
                    .query_row(&sql, params![bank, number], AccountView::from_row)
                    .optional()?)
            })
            .await?)
    }
}

impl Testbed {
    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    pub(crate) fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    pub(crate) fn jwt_key(&self) -> &[u8] {
        &self.inner.jwt_key
    }

    /// The token that guards `/testbed/admin`.
    pub fn admin_token(&self) -> &str {
        &self.inner.admin_token
    }

    /// What the database writer has committed so far (also `GET /testbed/admin/writer`).
    pub fn writer_stats(&self) -> WriterStats {
        self.inner.db.stats()
    }

    /// The writer connection's durability settings, read from the connection.
    pub async fn writer_pragmas(&self) -> Result<Pragmas, DbError> {
        self.inner.db.pragmas().await
    }

    /// Holds every commit back until the hold is dropped: no write, and so no answer that
    /// waits for one, completes meanwhile. For tests that prove nothing is acknowledged before
    /// it is durable.
    pub fn hold_commits(&self) -> CommitHold {
        self.inner.db.hold_commits()
    }
}

/// Runs a request with the center's clock in reach of its refusals (see [`crate::wire::CENTER_CLOCK`]).
async fn with_center_clock(
    axum::extract::State(testbed): axum::extract::State<Testbed>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    crate::wire::CENTER_CLOCK
        .scope(testbed.clock().clone(), next.run(request))
        .await
}

fn load_meta(conn: &Connection) -> Result<HashMap<String, String>, DbError> {
    let mut stmt = conn.prepare("SELECT key, value FROM meta")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

type InstitutionRow = Result<Institution, String>;

fn load_institutions(conn: &Connection) -> Result<Vec<InstitutionRow>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT id, name, client_id, client_secret, client_use_code, redirect_uris, scopes,
            collection_account, payout_account, public FROM institutions ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        let uris: String = r.get(5)?;
        let scopes: String = r.get(6)?;
        Ok((
            Institution {
                id: r.get(0)?,
                name: r.get(1)?,
                client_id: r.get(2)?,
                client_secret: r.get(3)?,
                client_use_code: r.get(4)?,
                redirect_uris: Vec::new(),
                scopes: scopes.split(' ').map(str::to_owned).collect(),
                collection_account: r.get(7)?,
                payout_account: r.get(8)?,
                public: r.get(9)?,
            },
            uris,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut institution, uris) = row?;
        out.push(match serde_json::from_str::<Vec<String>>(&uris) {
            Ok(list) => {
                institution.redirect_uris = list;
                Ok(institution)
            }
            Err(e) => Err(format!("redirect_uris of {}: {e}", institution.name)),
        });
    }
    Ok(out)
}

fn load_banks(conn: &Connection) -> Result<HashMap<String, Bank>, DbError> {
    let mut stmt = conn.prepare("SELECT code, name, status, latency_ms FROM banks")?;
    let rows = stmt.query_map([], |r| {
        let latency: Option<i64> = r.get(3)?;
        Ok((
            r.get::<_, String>(0)?,
            Bank {
                name: r.get(1)?,
                status: r.get(2)?,
                latency: latency.map(|ms| Duration::from_millis(ms.max(0) as u64)),
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn institution(uris: &[&str]) -> Institution {
        Institution {
            id: 1,
            name: "t".into(),
            client_id: "c".into(),
            client_secret: "s".into(),
            client_use_code: "M202600001".into(),
            redirect_uris: uris.iter().map(|s| s.to_string()).collect(),
            scopes: vec![],
            collection_account: 1,
            payout_account: 2,
            public: false,
        }
    }

    #[test]
    fn an_institutions_debug_output_hides_its_client_secret() {
        let mut i = institution(&[]);
        i.client_secret = "a-client-secret-3f9c".into();
        let shown = format!("{i:?}");
        assert!(!shown.contains("a-client-secret-3f9c"), "{shown}");
        assert!(shown.contains("client_secret: \"***\""), "{shown}");
        let grant = crate::oauth::Grant {
            institution: i,
            person_id: 1,
            scope: vec![],
            redirect_uri: String::new(),
            code_challenge: None,
            client_info: String::new(),
            accounts: vec![],
            inquiry_agree: false,
            transfer_agree: false,
        };
        assert!(!format!("{grant:?}").contains("a-client-secret-3f9c"));
    }

    #[test]
    fn loopback_callback_accepts_any_port_but_the_same_path() {
        let i = institution(&["http://127.0.0.1/callback"]);
        assert!(i.accepts_redirect("http://127.0.0.1:53127/callback"));
        assert!(i.accepts_redirect("http://127.0.0.1/callback"));
        assert!(!i.accepts_redirect("http://127.0.0.1:53127/callback/evil"));
        assert!(!i.accepts_redirect("http://127.0.0.1:53127/other"));
        assert!(!i.accepts_redirect("http://127.0.0.1:abc/callback"));
        assert!(!i.accepts_redirect("http://127.0.0.1.evil.com/callback"));
        assert!(!i.accepts_redirect("http://127.0.0.1@evil.com/callback"));
    }

    #[test]
    fn other_callbacks_must_match_exactly() {
        let i = institution(&["https://moa.example/callback"]);
        assert!(i.accepts_redirect("https://moa.example/callback"));
        assert!(!i.accepts_redirect("https://moa.example/callback?x=1"));
        assert!(!i.accepts_redirect("https://moa.example:444/callback"));
        assert!(!i.accepts_redirect("http://moa.example/callback"));
    }

    #[test]
    fn masking_keeps_all_but_the_last_three_digits() {
        assert_eq!(mask("1002123456789"), "1002123456***");
        assert_eq!(mask("12"), "***");
    }
}
