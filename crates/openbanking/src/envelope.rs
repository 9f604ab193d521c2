//! The envelope every answer shares: the center's header (`api_tran_id`, `api_tran_dtm`,
//! `rsp_code`, `rsp_message`), the bank block of bank-routed APIs, and turning a body into
//! either a typed answer or an [`Error`].
//!
//! Bodies are read in two steps. First the result code is looked at in the raw JSON, so a
//! refusal is reported as such even when its body lacks the success fields; only then is the
//! body decoded into its type, with the JSON path of any field that does not fit.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::codes::{AuthDetail, BankRspCode, RspCode};
use crate::error::{BankReply, CenterError, Error};
use crate::ids::BankCode;
use crate::wire;

/// The header every service answer carries.
#[derive(Debug, Clone, Deserialize)]
pub struct ResponseHeader {
    /// The center's id of this call (a UUID on the live hosts).
    #[serde(default, with = "wire::string")]
    pub api_tran_id: String,
    /// When the center answered (17 digits, `yyyyMMddHHmmssSSS`).
    #[serde(default, with = "wire::opt_dtime")]
    pub api_tran_dtm: Option<NaiveDateTime>,
    /// The center's result code: `A0000` on every answer this crate returns as `Ok`.
    pub rsp_code: RspCode,
    /// Empty on success.
    #[serde(default, with = "wire::string")]
    pub rsp_message: String,
}

/// Which bank holds an account, as bank-routed answers name it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccountBank {
    /// The bank.
    #[serde(default, deserialize_with = "wire::opt")]
    pub bank_code_std: Option<BankCode>,
    /// The branch.
    #[serde(default, with = "wire::opt_string")]
    pub bank_code_sub: Option<String>,
    /// The bank's name.
    #[serde(default, with = "wire::string")]
    pub bank_name: String,
    /// The savings bank's name, for an account at one.
    #[serde(default, with = "wire::opt_string")]
    pub savings_bank_name: Option<String>,
}

/// The bank block of bank-routed answers.
#[derive(Debug, Clone, Deserialize)]
pub struct BankResult {
    /// The `bank_tran_id` the request carried.
    #[serde(default, with = "wire::string")]
    pub bank_tran_id: String,
    /// The bank's business date (the real test host always says `20190101`).
    #[serde(default, with = "wire::opt_date")]
    pub bank_tran_date: Option<NaiveDate>,
    /// The bank that handled the call.
    #[serde(default, deserialize_with = "wire::opt")]
    pub bank_code_tran: Option<BankCode>,
    /// The bank's result code (`000` = OK).
    #[serde(default, deserialize_with = "wire::opt")]
    pub bank_rsp_code: Option<BankRspCode>,
    /// The bank's message.
    #[serde(default, with = "wire::string")]
    pub bank_rsp_message: String,
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A failing bank verdict in `v` (its `bank_rsp_code` present and not `000`).
fn bank_reply(v: &Value) -> Option<BankReply> {
    let code = text(v, "bank_rsp_code")?;
    if code == "000" {
        return None;
    }
    Some(BankReply {
        code: BankRspCode::from_code(code),
        message: text(v, "bank_rsp_message").unwrap_or_default().to_owned(),
    })
}

/// The center's refusal carried by `body`, if any. A body without `rsp_code` is not a refusal
/// (that is how a successful token answer looks).
pub(crate) fn center_error(endpoint: &'static str, body: &Value) -> Option<CenterError> {
    let code = text(body, "rsp_code")?;
    if code == RspCode::A0000.code() {
        return None;
    }
    let code = RspCode::from_code(code);
    let message = text(body, "rsp_message").unwrap_or_default().to_owned();
    let detail = if code == RspCode::O0001 {
        AuthDetail::from_message(&message)
    } else {
        None
    };
    // A0009 reports per-item failures inside res_list; surface the first failing item's reason.
    let bank = bank_reply(body).or_else(|| {
        body.get("res_list")?
            .as_array()?
            .iter()
            .find_map(bank_reply)
    });
    Some(CenterError {
        endpoint,
        code,
        message,
        detail,
        bank,
        api_tran_id: text(body, "api_tran_id").map(str::to_owned),
    })
}

fn snippet(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(200).collect()
}

/// Turns an HTTP answer into `T` or an [`Error`] (the client always goes through
/// [`decode_answer_accepting`]; tests of the answer types use this shorter form).
#[cfg(test)]
pub(crate) fn decode_answer<T: DeserializeOwned>(
    endpoint: &'static str,
    status: u16,
    bytes: &[u8],
) -> Result<T, Error> {
    decode_answer_accepting(endpoint, status, bytes, &[])
}

/// As [`decode_answer`], but a result code in `accept` is decoded as an answer rather than
/// refused: `transfer/result` says `A0009` when some of the transfers asked about were not found,
/// and the ones that were found are exactly what the caller needs.
pub(crate) fn decode_answer_accepting<T: DeserializeOwned>(
    endpoint: &'static str,
    status: u16,
    bytes: &[u8],
    accept: &[RspCode],
) -> Result<T, Error> {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(_) if status != 200 => {
            return Err(Error::Http {
                endpoint,
                status,
                body: snippet(bytes),
            });
        }
        Err(source) => {
            return Err(Error::Decode {
                endpoint,
                path: ".".into(),
                source,
            });
        }
    };
    if let Some(refusal) = center_error(endpoint, &value)
        && !accept.contains(&refusal.code)
    {
        return Err(Error::Center(Box::new(refusal)));
    }
    if status != 200 {
        return Err(Error::Http {
            endpoint,
            status,
            body: snippet(bytes),
        });
    }
    serde_path_to_error::deserialize(&value).map_err(|e| Error::Decode {
        endpoint,
        path: e.path().to_string(),
        source: e.into_inner(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::RspKind;

    #[derive(Debug, Deserialize)]
    struct Answer {
        #[serde(flatten)]
        header: ResponseHeader,
        #[serde(flatten)]
        bank: BankResult,
        value: u32,
    }

    #[test]
    fn success_decodes_with_header_and_bank_block() {
        let a: Answer = decode_answer(
            "/x",
            200,
            br#"{"api_tran_id":"2ffd133a-d17a-431d-a6a5","api_tran_dtm":"20190910101921567",
                "rsp_code":"A0000","rsp_message":"","bank_tran_id":"T991589220U4BC34239Z",
                "bank_tran_date":"20190910","bank_code_tran":"097","bank_rsp_code":"000",
                "bank_rsp_message":"","value":7,"unknown":{"nested":true}}"#,
        )
        .expect("decode");
        assert_eq!(a.value, 7);
        assert!(a.header.rsp_code.is_success());
        assert_eq!(a.bank.bank_rsp_code, Some(BankRspCode::Ok));
        assert_eq!(a.bank.bank_code_tran.expect("bank").as_str(), "097");
    }

    #[test]
    fn refusal_is_an_error_even_without_success_fields() {
        let e = decode_answer::<Answer>(
            "/x",
            200,
            r#"{"rsp_code":"A0002","rsp_message":"참가은행 오류","bank_rsp_code":"453",
                "bank_rsp_message":"잔액부족"}"#
                .as_bytes(),
        )
        .expect_err("refused");
        let c = e.center().expect("center");
        assert_eq!(c.code, RspCode::A0002);
        assert_eq!(c.kind(), RspKind::BankError);
        let bank = c.bank.as_ref().expect("bank");
        assert_eq!(bank.code, BankRspCode::InsufficientBalance);
        assert_eq!(bank.message, "잔액부족");
    }

    #[test]
    fn per_item_failure_surfaces_the_item_bank_code() {
        let e = decode_answer::<Answer>(
            "/v2.0/transfer/deposit/fin_num",
            200,
            br#"{"rsp_code":"A0009","rsp_message":"","res_cnt":"1","res_list":[
                {"tran_no":"1","bank_rsp_code":"412","bank_rsp_message":"no account"}]}"#,
        )
        .expect_err("refused");
        assert_eq!(e.bank_rsp_code(), Some(&BankRspCode::NoSuchAccount));
        assert_eq!(e.rsp_code(), Some(&RspCode::A0009));
    }

    #[test]
    fn token_error_carries_its_detail() {
        let e = decode_answer::<Answer>(
            "/oauth/2.0/token",
            200,
            r#"{"rsp_code":"O0001","rsp_message":"인증 파라미터 오류([3000201])"}"#.as_bytes(),
        )
        .expect_err("refused");
        assert_eq!(
            e.center().and_then(|c| c.detail.clone()),
            Some(AuthDetail::BadClientCredentials)
        );
    }

    #[test]
    fn a_field_that_does_not_fit_is_reported_with_its_path() {
        let e = decode_answer::<Answer>("/x", 200, br#"{"rsp_code":"A0000","value":"seven"}"#)
            .expect_err("bad");
        match e {
            Error::Decode { path, .. } => assert_eq!(path, "value"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_decode_failure_names_the_field_but_never_quotes_its_value() {
        let e = decode_answer::<Answer>(
            "/x",
            200,
            br#"{"rsp_code":"A0000","value":"110123456789 \ud64d\uae38\ub3d9"}"#,
        )
        .expect_err("bad");
        let shown = e.to_string();
        assert!(shown.contains("`value`"), "{shown}");
        assert!(!shown.contains("110123456789"), "{shown}");
        assert!(!shown.contains("홍길동"), "{shown}");
    }

    #[test]
    fn non_json_bodies_are_http_or_decode_errors() {
        match decode_answer::<Answer>("/x", 502, b"<html>bad gateway</html>") {
            Err(Error::Http {
                status: 502, body, ..
            }) => assert!(body.contains("bad gateway")),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            decode_answer::<Answer>("/x", 200, b"<html>"),
            Err(Error::Decode { .. })
        ));
    }
}
