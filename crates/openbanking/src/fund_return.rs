//! Claiming money back from a mistaken transfer (자금반환청구, scope `oob`): `return/claim` and
//! `return/result`.
//!
//! docs/protocol.md §4.13 lists the request fields but not the answers' own fields, so the
//! answers keep their header and bank block typed and everything else as raw JSON in `extra`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::envelope::{BankResult, ResponseHeader};
use crate::error::Error;
use crate::ids::{BankCode, BankTranId, FintechUseNum};
use crate::money::Won;
use crate::token::OobToken;
use crate::wire;

/// `POST /v2.0/return/claim`.
pub const RETURN_CLAIM: &str = "/v2.0/return/claim";
/// `POST /v2.0/return/result`.
pub const RETURN_RESULT: &str = "/v2.0/return/result";

/// The account the mistaken transfer went to.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ClaimedAccount {
    /// By bank and account number.
    Account {
        /// The bank.
        org_dps_bank_code_std: BankCode,
        /// The account number.
        org_dps_account_num: String,
    },
    /// By fintech number.
    FintechUseNum {
        /// The fintech number.
        org_dps_fintech_use_num: FintechUseNum,
    },
}

/// The body of `return/claim` (the client adds `tran_dtime`).
#[derive(Debug, Clone, Serialize)]
pub struct ReturnClaimRequest {
    /// A fresh id for the claim.
    pub bank_tran_id: BankTranId,
    /// The day of the mistaken transfer.
    #[serde(with = "wire::date")]
    pub org_bank_tran_date: NaiveDate,
    /// The mistaken transfer's id.
    pub org_bank_tran_id: BankTranId,
    /// Where it went.
    #[serde(flatten)]
    pub org_dps: ClaimedAccount,
    /// Its amount.
    pub org_tran_amt: Won,
    /// The bank it came from.
    pub org_wd_bank_code_std: BankCode,
    /// Why the money is claimed (code).
    pub claim_code: String,
    /// Why the money is claimed (text).
    pub claim_message: String,
    /// Whether the whole amount is claimed.
    #[serde(with = "wire::yn")]
    pub total_return_yn: bool,
    /// Where to return the money.
    pub return_account_num: String,
    /// The institution's contact number.
    pub use_org_contact: String,
    /// The institution's e-mail.
    pub use_org_email: String,
}

/// The answer of `return/claim` or `return/result`.
#[derive(Debug, Clone, Deserialize)]
pub struct ReturnAnswer {
    /// The common header.
    #[serde(flatten)]
    pub header: ResponseHeader,
    /// The bank's verdict.
    #[serde(flatten)]
    pub bank: BankResult,
    /// The claim's day, the key of `return/result` together with its id.
    #[serde(default, with = "wire::opt_date")]
    pub claim_bank_tran_date: Option<NaiveDate>,
    /// The claim's id.
    #[serde(default, deserialize_with = "wire::opt")]
    pub claim_bank_tran_id: Option<BankTranId>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The body of `return/result` (the client adds `tran_dtime`).
#[derive(Debug, Clone, Serialize)]
pub struct ReturnResultRequest {
    /// The claim's day.
    #[serde(with = "wire::date")]
    pub claim_bank_tran_date: NaiveDate,
    /// The claim's id.
    pub claim_bank_tran_id: BankTranId,
}

impl Client {
    /// `POST /v2.0/return/claim`: asks the receiving bank to return a mistaken transfer.
    pub async fn return_claim(
        &self,
        token: &OobToken,
        request: &ReturnClaimRequest,
    ) -> Result<ReturnAnswer, Error> {
        self.post(RETURN_CLAIM, token.access_token(), &self.stamp(request))
            .await
    }

    /// `POST /v2.0/return/result`: how a return claim stands.
    pub async fn return_result(
        &self,
        token: &OobToken,
        request: &ReturnResultRequest,
    ) -> Result<ReturnAnswer, Error> {
        self.post(RETURN_RESULT, token.access_token(), &self.stamp(request))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::decode_answer;

    #[test]
    fn claim_body_names_the_account_one_way() {
        let req = ReturnClaimRequest {
            bank_tran_id: BankTranId::parse("T991589220U000000009").expect("id"),
            org_bank_tran_date: NaiveDate::from_ymd_opt(2024, 1, 1).expect("date"),
            org_bank_tran_id: BankTranId::parse("T991589220U000000007").expect("id"),
            org_dps: ClaimedAccount::Account {
                org_dps_bank_code_std: BankCode::parse("088").expect("bank"),
                org_dps_account_num: "110123456789".into(),
            },
            org_tran_amt: Won::new(10000),
            org_wd_bank_code_std: BankCode::parse("097").expect("bank"),
            claim_code: "01".into(),
            claim_message: "착오송금".into(),
            total_return_yn: true,
            return_account_num: "100000000001".into(),
            use_org_contact: "0212345678".into(),
            use_org_email: "help@example.com".into(),
        };
        let v = serde_json::to_value(&req).expect("json");
        assert_eq!(v["org_dps_bank_code_std"], "088");
        assert!(v.get("org_dps_fintech_use_num").is_none());
        assert_eq!(v["total_return_yn"], "Y");
        assert_eq!(v["org_bank_tran_date"], "20240101");
    }

    #[test]
    fn answers_keep_untyped_fields() {
        let body = r#"{"rsp_code":"A0000","bank_rsp_code":"000","claim_state":"1",
            "claim_bank_tran_date":"20240102","claim_bank_tran_id":"T991589220U000000009"}"#;
        let a: ReturnAnswer = decode_answer(RETURN_RESULT, 200, body.as_bytes()).expect("decode");
        assert_eq!(a.extra.get("claim_state"), Some(&Value::from("1")));
        assert!(!a.extra.contains_key("claim_bank_tran_id"));
        assert_eq!(
            a.claim_bank_tran_id
                .map(|i| i.serial().to_owned())
                .as_deref(),
            Some("000000009")
        );
    }
}
