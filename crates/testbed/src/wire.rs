//! The center's envelope: response codes, the common header, the bank block, and the parsing of
//! request fields into validated values (every refusal an `A0004` that names the field).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock;
use crate::db::DbError;

/// The center's response codes (`rsp_code`) the testbed answers with.
pub mod code {
    #![allow(missing_docs)]
    pub const OK: &str = "A0000";
    pub const BANK_ERROR: &str = "A0002";
    pub const INTERNAL: &str = "A0003";
    pub const MALFORMED: &str = "A0004";
    pub const WITHDRAWN_MEMBER: &str = "A0014";
    pub const FINTECH_MISMATCH: &str = "A0304";
    pub const NO_INQUIRY_CONSENT: &str = "A0305";
    pub const NO_TRANSFER_CONSENT: &str = "A0306";
    pub const USER_MISMATCH: &str = "A0313";
    pub const INQUIRY_CONSENT_EXPIRED: &str = "A0316";
    pub const TRANSFER_CONSENT_EXPIRED: &str = "A0319";
    pub const NOT_REGISTERED: &str = "A0323";
    pub const DUPLICATE_BANK_TRAN_ID: &str = "A0326";
    pub const AUTH_PARAMETER: &str = "O0001";
    pub const TOKEN_REJECTED: &str = "O0002";
    pub const TOKEN_EXPIRED: &str = "O0003";
    pub const NOT_SUBSCRIBED: &str = "O0004";
    pub const METHOD_NOT_ALLOWED: &str = "O0010";
    pub const SCOPE_NOT_ALLOWED: &str = "O0011";
}

/// The bank's own result, sent with `A0002` and on every bank-routed answer.
#[derive(Debug, Clone, Serialize)]
pub struct BankBlock {
    /// The caller's id of this bank transaction.
    pub bank_tran_id: String,
    /// The bank's business date, `yyyyMMdd`.
    pub bank_tran_date: String,
    /// The bank that answered.
    pub bank_code_tran: String,
    /// `000` when the bank accepted.
    pub bank_rsp_code: String,
    /// Empty when the bank accepted.
    pub bank_rsp_message: String,
}

impl BankBlock {
    /// The block of a request the bank accepted.
    pub fn ok(bank_tran_id: &str, bank_code: &str, now: &DateTime<FixedOffset>) -> Self {
        Self {
            bank_tran_id: bank_tran_id.to_owned(),
            bank_tran_date: clock::date(now),
            bank_code_tran: bank_code.to_owned(),
            bank_rsp_code: "000".into(),
            bank_rsp_message: String::new(),
        }
    }

    /// The same block, refused by the bank with `code`.
    pub fn refused(mut self, code: &str, message: &str) -> Self {
        self.bank_rsp_code = code.to_owned();
        self.bank_rsp_message = message.to_owned();
        self
    }
}

/// A refusal, in the center's terms. Rendered as HTTP 200 with `rsp_code`, as the center does.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The center's code.
    pub rsp_code: &'static str,
    /// Its message.
    pub message: String,
    /// The bank's answer, for bank-routed refusals (boxed: errors travel often, banks rarely).
    pub bank: Option<Box<BankBlock>>,
    /// The HTTP status; 200 for everything the center itself answers.
    pub status: StatusCode,
    /// Instead of answering, break the connection (a scripted fault).
    pub drop_connection: bool,
}

impl ApiError {
    /// A refusal with `rsp_code` and a message.
    pub fn new(rsp_code: &'static str, message: impl Into<String>) -> Self {
        Self {
            rsp_code,
            message: message.into(),
            bank: None,
            status: StatusCode::OK,
            drop_connection: false,
        }
    }

    /// No answer at all: the connection breaks, as when a link fails mid-call.
    pub fn dropped() -> Self {
        let mut error = Self::new(code::INTERNAL, "connection dropped");
        error.drop_connection = true;
        error
    }

    /// `A0004`: the request's `field` is missing or not of its format.
    pub fn malformed(field: &str, why: &str) -> Self {
        Self::new(
            code::MALFORMED,
            format!("요청전문 포맷 오류 [{field}: {why}]"),
        )
    }

    /// `O0001` with KFTC's detail code in brackets, as the token endpoint answers.
    pub fn auth_parameter(detail: &str) -> Self {
        Self::new(
            code::AUTH_PARAMETER,
            format!("인증 파라미터 오류([{detail}])"),
        )
    }

    /// `A0002`: the bank refused; its code and message are in the bank block.
    pub fn bank(block: BankBlock) -> Self {
        let mut error = Self::new(code::BANK_ERROR, "참가기관 에러");
        error.bank = Some(Box::new(block));
        error
    }

    /// Adds the bank block of a bank-routed request to this refusal.
    pub fn with_bank(mut self, block: BankBlock) -> Self {
        self.bank = Some(Box::new(block));
        self
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        tracing::error!(%error, "database failure");
        Self::new(code::INTERNAL, "센터 내부 오류")
    }
}

/// The common header of every response.
#[derive(Serialize)]
struct Header<'a> {
    api_tran_id: String,
    api_tran_dtm: String,
    rsp_code: &'a str,
    rsp_message: &'a str,
}

impl<'a> Header<'a> {
    fn new(now: &DateTime<FixedOffset>, rsp_code: &'a str, rsp_message: &'a str) -> Self {
        Self {
            api_tran_id: uuid::Uuid::new_v4().to_string(),
            api_tran_dtm: clock::dtm(now),
            rsp_code,
            rsp_message,
        }
    }
}

/// Merges the header in front of `body`'s fields.
fn envelope(header: Header<'_>, body: Value) -> Value {
    let mut object = match serde_json::to_value(header) {
        Ok(Value::Object(object)) => object,
        _ => Map::new(),
    };
    if let Value::Object(fields) = body {
        object.extend(fields);
    }
    Value::Object(object)
}

/// A successful (`A0000`) answer carrying `body`'s fields after the header.
pub fn ok(now: &DateTime<FixedOffset>, body: impl Serialize) -> Response {
    let body = serde_json::to_value(body).unwrap_or(Value::Null);
    Json(envelope(Header::new(now, code::OK, ""), body)).into_response()
}

/// An answer with a code other than success but a full body (`A0009` with its item list).
pub fn with_code(
    now: &DateTime<FixedOffset>,
    rsp_code: &str,
    rsp_message: &str,
    body: impl Serialize,
) -> Response {
    let body = serde_json::to_value(body).unwrap_or(Value::Null);
    Json(envelope(Header::new(now, rsp_code, rsp_message), body)).into_response()
}

tokio::task_local! {
    /// The clock of the center answering the current request. A refusal is built without the
    /// testbed at hand, yet its `api_tran_dtm` must read the center's (possibly moved) clock like
    /// every other answer.
    pub(crate) static CENTER_CLOCK: clock::Clock;
}

/// The center's time for an answer: its clock when serving a request, real time otherwise.
fn answer_time() -> DateTime<FixedOffset> {
    CENTER_CLOCK
        .try_with(clock::Clock::now)
        .unwrap_or_else(|_| chrono::Utc::now().with_timezone(&clock::kst()))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.drop_connection {
            // The body fails before its first byte, so the server aborts the connection and the
            // client never reads an answer.
            let broken = futures_util::stream::once(async {
                Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other("dropped"))
            });
            return Response::new(axum::body::Body::from_stream(broken));
        }
        // The token endpoint's failures carry only the two fields, as KFTC's do.
        if self.rsp_code == code::AUTH_PARAMETER && self.bank.is_none() {
            let body =
                serde_json::json!({ "rsp_code": self.rsp_code, "rsp_message": self.message });
            return (self.status, Json(body)).into_response();
        }
        let now = answer_time();
        let body = match &self.bank {
            Some(block) => serde_json::to_value(block).unwrap_or(Value::Null),
            None => Value::Null,
        };
        let value = envelope(Header::new(&now, self.rsp_code, &self.message), body);
        (self.status, Json(value)).into_response()
    }
}

/// A request's fields, from a query string or a JSON object, read into validated values.
#[derive(Debug, Default)]
pub struct Params(Map<String, Value>);

/// Largest JSON body the center reads; larger ones are refused before parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

impl Params {
    /// Fields of a query string. A field given twice is malformed.
    pub fn from_query(query: Option<&str>) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|_| ApiError::malformed("query", "해석할 수 없는 질의 문자열"))?;
        let mut map = Map::new();
        for (key, value) in pairs {
            if map.insert(key.clone(), Value::String(value)).is_some() {
                return Err(ApiError::malformed(&key, "중복된 항목"));
            }
        }
        Ok(Self(map))
    }

    /// Fields of a JSON object body.
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::malformed("body", "요청 전문이 너무 큽니다"));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(ApiError::malformed("body", "JSON 객체가 아닙니다")),
            Err(_) => Err(ApiError::malformed("body", "JSON 형식 오류")),
        }
    }

    /// Fields of a JSON object value (one element of a request list).
    pub fn from_value(field: &str, value: &Value) -> Result<Self, ApiError> {
        match value {
            Value::Object(map) => Ok(Self(map.clone())),
            _ => Err(ApiError::malformed(field, "객체가 아닙니다")),
        }
    }

    /// The raw text of a field: strings as they are, numbers in their decimal form.
    fn raw(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(ApiError::malformed(name, "문자열이 아닙니다")),
        }
    }

    /// A JSON array field.
    pub fn list(&self, name: &str) -> Result<&Vec<Value>, ApiError> {
        match self.0.get(name) {
            Some(Value::Array(items)) => Ok(items),
            None | Some(Value::Null) => Err(ApiError::malformed(name, "필수 항목 누락")),
            Some(_) => Err(ApiError::malformed(name, "배열이 아닙니다")),
        }
    }

    /// A required text of at most `max` characters.
    pub fn text(&self, name: &str, max: usize) -> Result<String, ApiError> {
        self.opt_text(name, max)?
            .ok_or_else(|| ApiError::malformed(name, "필수 항목 누락"))
    }

    /// An optional text of at most `max` characters; empty counts as absent.
    pub fn opt_text(&self, name: &str, max: usize) -> Result<Option<String>, ApiError> {
        let value = self.raw(name)?;
        if let Some(v) = &value {
            if v.chars().count() > max {
                return Err(ApiError::malformed(name, &format!("최대 {max}자")));
            }
            if v.chars().any(char::is_control) {
                return Err(ApiError::malformed(name, "제어 문자"));
            }
        }
        Ok(value)
    }

    /// A required string of exactly `len` ASCII digits.
    pub fn digits(&self, name: &str, len: usize) -> Result<String, ApiError> {
        let value = self.text(name, len)?;
        if value.len() != len || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::malformed(name, &format!("숫자 {len}자리")));
        }
        Ok(value)
    }

    /// A required value from a closed set of codes.
    pub fn one_of(&self, name: &str, allowed: &[&str]) -> Result<String, ApiError> {
        self.opt_one_of(name, allowed)?
            .ok_or_else(|| ApiError::malformed(name, "필수 항목 누락"))
    }

    /// An optional value from a closed set of codes.
    pub fn opt_one_of(&self, name: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        match self.raw(name)? {
            None => Ok(None),
            Some(v) if allowed.contains(&v.as_str()) => Ok(Some(v)),
            Some(_) => Err(ApiError::malformed(
                name,
                &format!("허용 값: {}", allowed.join(", ")),
            )),
        }
    }

    /// A whole-won amount above zero of at most 12 digits: a digit string or a JSON integer.
    pub fn amount(&self, name: &str) -> Result<i64, ApiError> {
        let value = self
            .raw(name)?
            .ok_or_else(|| ApiError::malformed(name, "필수 항목 누락"))?;
        if value.is_empty() || value.len() > 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::malformed(name, "12자리 이하의 숫자"));
        }
        match value.parse::<i64>() {
            Ok(amount) if amount > 0 => Ok(amount),
            _ => Err(ApiError::malformed(name, "0보다 큰 금액")),
        }
    }

    /// A `yyyyMMdd` date.
    pub fn date(&self, name: &str) -> Result<NaiveDate, ApiError> {
        let value = self.digits(name, 8)?;
        NaiveDate::parse_from_str(&value, "%Y%m%d")
            .map_err(|_| ApiError::malformed(name, "yyyyMMdd 날짜"))
    }

    /// A `HHmmss` time.
    pub fn time(&self, name: &str) -> Result<NaiveTime, ApiError> {
        let value = self.digits(name, 6)?;
        NaiveTime::parse_from_str(&value, "%H%M%S")
            .map_err(|_| ApiError::malformed(name, "HHmmss 시각"))
    }

    /// A `yyyyMMddHHmmss` request time.
    pub fn dtime(&self, name: &str) -> Result<NaiveDateTime, ApiError> {
        let value = self.digits(name, 14)?;
        NaiveDateTime::parse_from_str(&value, "%Y%m%d%H%M%S")
            .map_err(|_| ApiError::malformed(name, "yyyyMMddHHmmss 일시"))
    }

    /// A `bank_tran_id`: the caller's 10-character client use code, `U`, then 9 letters or
    /// digits. Another institution's prefix is malformed, as at the center.
    pub fn bank_tran_id(&self, name: &str, client_use_code: &str) -> Result<String, ApiError> {
        let value = self.text(name, 20)?;
        if value.len() != 20 {
            return Err(ApiError::malformed(name, "20자리"));
        }
        if !value.starts_with(client_use_code) {
            return Err(ApiError::malformed(
                name,
                "이용기관코드가 일치하지 않습니다",
            ));
        }
        let rest = &value.as_bytes()[10..];
        if rest[0] != b'U' || !rest[1..].iter().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ApiError::malformed(
                name,
                "이용기관코드 + 'U' + 영숫자 9자리",
            ));
        }
        Ok(value)
    }

    /// A 24-digit fintech use number.
    pub fn fintech_use_num(&self, name: &str) -> Result<String, ApiError> {
        self.digits(name, 24)
    }

    /// A 3-digit bank code.
    pub fn bank_code(&self, name: &str) -> Result<String, ApiError> {
        self.digits(name, 3)
    }

    /// A bank account number: up to 16 digits (hyphens are not part of the wire form).
    pub fn account_num(&self, name: &str) -> Result<String, ApiError> {
        let value = self.text(name, 16)?;
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::malformed(name, "숫자만"));
        }
        Ok(value)
    }
}
