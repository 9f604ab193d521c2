//! The checks every service API runs first: the bearer token and its scope, the daily
//! uniqueness of `bank_tran_id`, the fintech number's owner, and the person's consents.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeDelta};
use rusqlite::{OptionalExtension, Row, params};

use crate::clock;
use crate::db::DbError;
use crate::token;
use crate::wire::{ApiError, code};

use super::{Institution, Testbed};

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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_all_but_the_last_three_digits() {
        assert_eq!(mask("1002123456789"), "1002123456***");
        assert_eq!(mask("12"), "***");
    }
}
