//! The user: `user/me` (who they are and which accounts they registered), `user/unlink`
//! (withdraw this institution's consent) and `user/close` (leave the service). Scope `login`.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::envelope::ResponseHeader;
use crate::error::Error;
use crate::fields::{AccountHolderType, AccountState, AccountType};
use crate::ids::{BankCode, ClientUseCode, FintechUseNum, UserSeqNo};
use crate::token::UserToken;
use crate::wire;

/// `GET /v2.0/user/me`.
pub const USER_ME: &str = "/v2.0/user/me";
/// `POST /v2.0/user/unlink`.
pub const USER_UNLINK: &str = "/v2.0/user/unlink";
/// `POST /v2.0/user/close`.
pub const USER_CLOSE: &str = "/v2.0/user/close";

/// A registered account as `user/me` and `account/list` describe it.
#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    /// The account's fintech number: the handle every other API takes.
    pub fintech_use_num: FintechUseNum,
    /// The user's name for the account.
    #[serde(default, with = "wire::opt_string")]
    pub account_alias: Option<String>,
    /// The bank.
    pub bank_code_std: BankCode,
    /// The branch (7 digits).
    #[serde(default, with = "wire::opt_string")]
    pub bank_code_sub: Option<String>,
    /// The bank's name.
    #[serde(default, with = "wire::string")]
    pub bank_name: String,
    /// The savings bank's name, for accounts at one.
    #[serde(default, with = "wire::opt_string")]
    pub savings_bank_name: Option<String>,
    /// The masked account number, e.g. `000-1230000-***`.
    #[serde(default, with = "wire::string")]
    pub account_num_masked: String,
    /// The account's sequence number, for banks that number sub-accounts.
    #[serde(default, with = "wire::opt_string")]
    pub account_seq: Option<String>,
    /// The holder's name.
    #[serde(default, with = "wire::string")]
    pub account_holder_name: String,
    /// The holder's kind.
    #[serde(default, deserialize_with = "wire::opt")]
    pub account_holder_type: Option<AccountHolderType>,
    /// The account's kind.
    #[serde(default, deserialize_with = "wire::opt")]
    pub account_type: Option<AccountType>,
    /// Whether balance and history may be read.
    #[serde(default, with = "wire::opt_yn")]
    pub inquiry_agree_yn: Option<bool>,
    /// When inquiry was agreed.
    #[serde(default, with = "wire::opt_dtime")]
    pub inquiry_agree_dtime: Option<NaiveDateTime>,
    /// Whether withdrawals are allowed.
    #[serde(default, with = "wire::opt_yn")]
    pub transfer_agree_yn: Option<bool>,
    /// When withdrawals were agreed.
    #[serde(default, with = "wire::opt_dtime")]
    pub transfer_agree_dtime: Option<NaiveDateTime>,
    /// The payer number.
    #[serde(default, with = "wire::opt_string")]
    pub payer_num: Option<String>,
    /// The registration's state (`account/list` only).
    #[serde(default, deserialize_with = "wire::opt")]
    pub account_state: Option<AccountState>,
}

/// The answer of `user/me`.
#[derive(Debug, Clone, Deserialize)]
pub struct UserInfo {
    /// The common header.
    #[serde(flatten)]
    pub header: ResponseHeader,
    /// The user's number.
    pub user_seq_no: UserSeqNo,
    /// The user's CI (88-char base64), a personal identifier: keep it out of logs.
    #[serde(default, with = "wire::opt_string")]
    pub user_ci: Option<String>,
    /// The user's name.
    #[serde(default, with = "wire::string")]
    pub user_name: String,
    /// How many accounts follow.
    #[serde(default, deserialize_with = "wire::count")]
    pub res_cnt: u32,
    /// The registered accounts.
    #[serde(default)]
    pub res_list: Vec<Account>,
    /// Card consents (not typed by this crate).
    #[serde(default, deserialize_with = "wire::list")]
    pub inquiry_card_list: Vec<Value>,
    /// Pay consents (not typed by this crate).
    #[serde(default, deserialize_with = "wire::list")]
    pub inquiry_pay_list: Vec<Value>,
    /// Insurance consents (not typed by this crate).
    #[serde(default, deserialize_with = "wire::list")]
    pub inquiry_insurance_list: Vec<Value>,
    /// Loan consents (not typed by this crate).
    #[serde(default, deserialize_with = "wire::list")]
    pub inquiry_loan_list: Vec<Value>,
}

/// An answer that carries only the header.
#[derive(Debug, Clone, Deserialize)]
pub struct Ack {
    /// The common header.
    #[serde(flatten)]
    pub header: ResponseHeader,
}

/// The body of `user/unlink` and `user/close`.
#[derive(Debug, Clone, Serialize)]
pub struct UserRequest {
    /// The institution's code.
    pub client_use_code: ClientUseCode,
    /// The user's number.
    pub user_seq_no: UserSeqNo,
}

#[derive(Serialize)]
struct UserMeQuery<'a> {
    user_seq_no: &'a UserSeqNo,
}

impl Client {
    /// `GET /v2.0/user/me`: the user and their registered accounts.
    pub async fn user_me(
        &self,
        token: &UserToken,
        user_seq_no: &UserSeqNo,
    ) -> Result<UserInfo, Error> {
        self.get(USER_ME, token.access_token(), &UserMeQuery { user_seq_no })
            .await
    }

    /// `POST /v2.0/user/unlink`: withdraw this institution's consents for the user.
    pub async fn user_unlink(
        &self,
        token: &UserToken,
        request: &UserRequest,
    ) -> Result<Ack, Error> {
        self.post(USER_UNLINK, token.access_token(), request).await
    }

    /// `POST /v2.0/user/close`: the user leaves the open banking service.
    pub async fn user_close(&self, token: &UserToken, request: &UserRequest) -> Result<Ack, Error> {
        self.post(USER_CLOSE, token.access_token(), request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::decode_answer;

    #[test]
    fn user_me_decodes_a_live_shaped_answer() {
        let body = r#"{
            "api_tran_id":"2ffd133a-d17a-431d-a6a5-e5fbb9bfd25e","api_tran_dtm":"20190910101921567",
            "rsp_code":"A0000","rsp_message":"","user_seq_no":"1100034736",
            "user_ci":"UJ9rF6rh0wNOg2AfCUH4J1m6pYdtULWxnS9oXL61gy2oBNAhlPsjE5n1y0+J3bR1NwTuZbzjH0ICX0aw+yMIcA==",
            "user_name":"홍길동","res_cnt":"1",
            "res_list":[{"fintech_use_num":"199159919057870978715901","account_alias":"",
                "bank_code_std":"097","bank_code_sub":"0970001","bank_name":"오픈은행",
                "savings_bank_name":"","account_num_masked":"000-1230000-***","account_seq":"",
                "account_holder_name":"홍길동","account_holder_type":"P","account_type":"1",
                "inquiry_agree_yn":"Y","inquiry_agree_dtime":"20190910101921",
                "transfer_agree_yn":"N","transfer_agree_dtime":"","payer_num":"","new_field":1}],
            "inquiry_card_cnt":"0","inquiry_card_list":[],"inquiry_pay_cnt":"0","inquiry_pay_list":"",
            "inquiry_insurance_cnt":0,"inquiry_insurance_list":[],"inquiry_loan_cnt":"0"
        }"#;
        let me: UserInfo = decode_answer(USER_ME, 200, body.as_bytes()).expect("decode");
        assert_eq!(me.res_cnt, 1);
        let a = &me.res_list[0];
        assert_eq!(a.account_alias, None);
        assert_eq!(a.savings_bank_name, None);
        assert_eq!(a.account_type, Some(AccountType::Demand));
        assert_eq!(a.inquiry_agree_yn, Some(true));
        assert_eq!(a.transfer_agree_yn, Some(false));
        assert_eq!(a.transfer_agree_dtime, None);
        assert!(me.inquiry_pay_list.is_empty());
    }

    #[test]
    fn a_bad_fintech_number_inside_the_list_is_reported_with_its_path() {
        let body = r#"{"rsp_code":"A0000","user_seq_no":"1100034736",
            "res_list":[{"fintech_use_num":"12","bank_code_std":"097"}]}"#;
        match decode_answer::<UserInfo>(USER_ME, 200, body.as_bytes()) {
            Err(Error::Decode { path, .. }) => assert_eq!(path, "res_list[0].fintech_use_num"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
