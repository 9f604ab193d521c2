//! The institution's inquiries (scope `oob`): `inquiry/real_name` (whose account is this?),
//! `inquiry/remit_list` (who sent money to an account) and `inquiry/receive` (check a recipient
//! before depositing).

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Deserializer, Serialize};

use crate::client::Client;
use crate::envelope::{AccountBank, BankResult, ResponseHeader};
use crate::error::Error;
use crate::fields::{AccountHolderInfoType, AccountType, CntrAccountType, SortOrder};
use crate::ids::{BankCode, BankTranId, FintechUseNum};
use crate::money::{SignedWon, Won};
use crate::token::OobToken;
use crate::transfer::{Requester, SubMerchant};
use crate::wire;

/// `POST /v2.0/inquiry/real_name`.
pub const REAL_NAME: &str = "/v2.0/inquiry/real_name";
/// `POST /v2.0/inquiry/remit_list`.
pub const REMIT_LIST: &str = "/v2.0/inquiry/remit_list";
/// `POST /v2.0/inquiry/receive`.
pub const RECEIVE: &str = "/v2.0/inquiry/receive";

/// The body of `inquiry/real_name` (the client adds `tran_dtime`).
#[derive(Debug, Clone, Serialize)]
pub struct RealNameRequest {
    /// A fresh id.
    pub bank_tran_id: BankTranId,
    /// The account's bank.
    pub bank_code_std: BankCode,
    /// The account number.
    pub account_num: String,
    /// The sub-account number, for banks that use one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_seq: Option<String>,
    /// What `account_holder_info` is.
    pub account_holder_info_type: AccountHolderInfoType,
    /// The holder's birth date or number, as the type says.
    pub account_holder_info: String,
}

/// `account_holder_info_type` in an answer: missing or empty means not echoed, while a single
/// space is a real code (birth date), so the generic "blank is absent" rule cannot be used.
fn holder_info_type<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<AccountHolderInfoType>, D::Error> {
    Ok(match Option::<String>::deserialize(d)? {
        None => None,
        Some(s) if s.is_empty() => None,
        Some(s) => Some(AccountHolderInfoType::from_code(&s)),
    })
}

/// The answer of `inquiry/real_name`.
#[derive(Debug, Clone, Deserialize)]
pub struct RealName {
    /// The common header.
    #[serde(flatten)]
    pub header: ResponseHeader,
    /// The bank's verdict.
    #[serde(flatten)]
    pub bank: BankResult,
    /// The account's bank.
    #[serde(flatten)]
    pub account_bank: AccountBank,
    /// The account number.
    #[serde(default, with = "wire::string")]
    pub account_num: String,
    /// The sub-account number.
    #[serde(default, with = "wire::opt_string")]
    pub account_seq: Option<String>,
    /// What was checked.
    #[serde(default, deserialize_with = "holder_info_type")]
    pub account_holder_info_type: Option<AccountHolderInfoType>,
    /// The value checked.
    #[serde(default, with = "wire::opt_string")]
    pub account_holder_info: Option<String>,
    /// The holder's name.
    #[serde(default, with = "wire::string")]
    pub account_holder_name: String,
    /// The account's kind.
    #[serde(default, deserialize_with = "wire::opt")]
    pub account_type: Option<AccountType>,
}

/// The body of `inquiry/remit_list` (the client adds `tran_dtime`).
#[derive(Debug, Clone, Serialize)]
pub struct RemitListRequest {
    /// A fresh id.
    pub bank_tran_id: BankTranId,
    /// The account's bank.
    pub bank_code_std: BankCode,
    /// The account number.
    pub account_num: String,
    /// First day.
    #[serde(with = "wire::date")]
    pub from_date: NaiveDate,
    /// First time.
    #[serde(with = "wire::time")]
    pub from_time: NaiveTime,
    /// Last day.
    #[serde(with = "wire::date")]
    pub to_date: NaiveDate,
    /// Last time.
    #[serde(with = "wire::time")]
    pub to_time: NaiveTime,
    /// Newest or oldest first.
    pub sort_order: SortOrder,
    /// The cursor from the previous page; empty for the first.
    pub befor_inquiry_trace_info: String,
}

/// One remittance in `inquiry/remit_list`.
#[derive(Debug, Clone, Deserialize)]
pub struct Remittance {
    /// The day.
    #[serde(with = "wire::date")]
    pub tran_date: NaiveDate,
    /// The time.
    #[serde(with = "wire::time")]
    pub tran_time: NaiveTime,
    /// Kind, as text.
    #[serde(default, with = "wire::string")]
    pub tran_type: String,
    /// The text printed in the passbook.
    #[serde(default, with = "wire::string")]
    pub printed_content: String,
    /// The amount.
    pub tran_amt: Won,
    /// The balance after it.
    #[serde(default, deserialize_with = "wire::opt")]
    pub after_balance_amt: Option<SignedWon>,
    /// The branch.
    #[serde(default, with = "wire::opt_string")]
    pub branch_name: Option<String>,
    /// Who sent it.
    #[serde(default, with = "wire::string")]
    pub remitter_name: String,
    /// The sender's bank.
    #[serde(default, deserialize_with = "wire::opt")]
    pub remitter_bank_code: Option<BankCode>,
    /// The sender's account number.
    #[serde(default, with = "wire::opt_string")]
    pub remitter_account_num: Option<String>,
}

/// The answer of `inquiry/remit_list`.
#[derive(Debug, Clone, Deserialize)]
pub struct RemitList {
    /// The common header.
    #[serde(flatten)]
    pub header: ResponseHeader,
    /// The bank's verdict.
    #[serde(flatten)]
    pub bank: BankResult,
    /// The account's bank.
    #[serde(default, deserialize_with = "wire::opt")]
    pub bank_code_std: Option<BankCode>,
    /// The account number.
    #[serde(default, with = "wire::string")]
    pub account_num: String,
    /// The bank's name.
    #[serde(default, with = "wire::string")]
    pub bank_name: String,
    /// The account's balance.
    #[serde(default, deserialize_with = "wire::opt")]
    pub balance_amt: Option<SignedWon>,
    /// Rows in the whole answer.
    #[serde(default, deserialize_with = "wire::count")]
    pub total_record_cnt: u32,
    /// Rows on this page.
    #[serde(default, deserialize_with = "wire::count")]
    pub page_record_cnt: u32,
    /// Whether another page follows.
    #[serde(with = "wire::yn")]
    pub next_page_yn: bool,
    /// The cursor for the next page.
    #[serde(default, with = "wire::string")]
    pub befor_inquiry_trace_info: String,
    /// The remittances.
    #[serde(default)]
    pub res_list: Vec<Remittance>,
}

/// Where the money would go in `inquiry/receive` and deposits: a fintech number or a bank account.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Recipient {
    /// A registered account.
    FintechUseNum {
        /// Its fintech number.
        fintech_use_num: FintechUseNum,
    },
    /// Any account.
    Account {
        /// The bank.
        bank_code_std: BankCode,
        /// The account number.
        account_num: String,
        /// The sub-account number.
        #[serde(skip_serializing_if = "Option::is_none")]
        account_seq: Option<String>,
    },
}

/// The body of `inquiry/receive` (the client adds `tran_dtime`).
#[derive(Debug, Clone, Serialize)]
pub struct ReceiveRequest {
    /// A fresh id.
    pub bank_tran_id: BankTranId,
    /// The kind of contract account.
    pub cntr_account_type: CntrAccountType,
    /// The institution's payout account.
    pub cntr_account_num: String,
    /// The account to check.
    #[serde(flatten)]
    pub recipient: Recipient,
    /// The text to print in the recipient's passbook.
    pub print_content: String,
    /// The amount that would be sent.
    pub tran_amt: Won,
    /// Whom the money would move for.
    #[serde(flatten)]
    pub requester: Requester,
    /// The sub-merchant, if any.
    #[serde(flatten)]
    pub sub_merchant: SubMerchant,
    /// CMS number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cms_num: Option<String>,
}

/// The answer of `inquiry/receive`.
#[derive(Debug, Clone, Deserialize)]
pub struct Receive {
    /// The common header.
    #[serde(flatten)]
    pub header: ResponseHeader,
    /// The bank's verdict.
    #[serde(flatten)]
    pub bank: BankResult,
    /// The account's bank.
    #[serde(flatten)]
    pub account_bank: AccountBank,
    /// The account number.
    #[serde(default, with = "wire::opt_string")]
    pub account_num: Option<String>,
    /// The sub-account number.
    #[serde(default, with = "wire::opt_string")]
    pub account_seq: Option<String>,
    /// The masked account number.
    #[serde(default, with = "wire::opt_string")]
    pub account_num_masked: Option<String>,
    /// The text to print.
    #[serde(default, with = "wire::string")]
    pub print_content: String,
    /// The recipient's name: what the person should confirm.
    #[serde(default, with = "wire::string")]
    pub account_holder_name: String,
    /// The paying bank.
    #[serde(default, deserialize_with = "wire::opt")]
    pub wd_bank_code_std: Option<BankCode>,
    /// The paying bank's name.
    #[serde(default, with = "wire::opt_string")]
    pub wd_bank_name: Option<String>,
    /// The paying account.
    #[serde(default, with = "wire::opt_string")]
    pub wd_account_num: Option<String>,
    /// The amount.
    #[serde(default, deserialize_with = "wire::opt")]
    pub tran_amt: Option<Won>,
    /// CMS number.
    #[serde(default, with = "wire::opt_string")]
    pub cms_num: Option<String>,
}

impl Client {
    /// `POST /v2.0/inquiry/real_name`: the holder of an account.
    pub async fn real_name(
        &self,
        token: &OobToken,
        request: &RealNameRequest,
    ) -> Result<RealName, Error> {
        self.post(REAL_NAME, token.access_token(), &self.stamp(request))
            .await
    }

    /// `POST /v2.0/inquiry/remit_list`: one page of remittances into an account.
    pub async fn remit_list(
        &self,
        token: &OobToken,
        request: &RemitListRequest,
    ) -> Result<RemitList, Error> {
        self.post(REMIT_LIST, token.access_token(), &self.stamp(request))
            .await
    }

    /// `POST /v2.0/inquiry/receive`: checks a recipient (and shows their name) before a deposit.
    pub async fn receive(
        &self,
        token: &OobToken,
        request: &ReceiveRequest,
    ) -> Result<Receive, Error> {
        self.post(RECEIVE, token.access_token(), &self.stamp(request))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::decode_answer;
    use crate::fields::TransferPurpose;
    use crate::transfer::RequestingClient;

    #[test]
    fn real_name_keeps_the_blank_birth_date_code() {
        let body = r#"{"rsp_code":"A0000","bank_tran_id":"T991589220U4BC34239Z","bank_rsp_code":"000",
            "bank_code_std":"097","bank_code_sub":"","bank_name":"오픈은행","account_num":"1234567890123",
            "account_seq":"","account_holder_info_type":" ","account_holder_info":"880101",
            "account_holder_name":"홍길동","account_type":"1"}"#;
        let r: RealName = decode_answer(REAL_NAME, 200, body.as_bytes()).expect("decode");
        assert_eq!(
            r.account_holder_info_type,
            Some(AccountHolderInfoType::BirthDate)
        );
        assert_eq!(r.account_holder_name, "홍길동");
        assert_eq!(r.account_bank.bank_code_sub, None);
    }

    #[test]
    fn receive_body_names_the_recipient_one_way_only() {
        let req = ReceiveRequest {
            bank_tran_id: BankTranId::parse("T991589220U000000001").expect("id"),
            cntr_account_type: CntrAccountType::Account,
            cntr_account_num: "100000000001".into(),
            recipient: Recipient::Account {
                bank_code_std: BankCode::parse("097").expect("bank"),
                account_num: "1234567890".into(),
                account_seq: None,
            },
            print_content: "모아".into(),
            tran_amt: Won::new(10000),
            requester: Requester {
                req_client_name: "홍길동".into(),
                req_client: RequestingClient::FintechUseNum {
                    req_client_fintech_use_num: FintechUseNum::parse("199159919057870978715901")
                        .expect("fin"),
                },
                req_client_num: "HONG0001".into(),
                transfer_purpose: TransferPurpose::Remittance,
            },
            sub_merchant: SubMerchant::default(),
            cms_num: None,
        };
        let v = serde_json::to_value(&req).expect("json");
        assert_eq!(v["account_num"], "1234567890");
        assert_eq!(v["tran_amt"], "10000");
        assert!(v.get("fintech_use_num").is_none());
        assert!(v.get("account_seq").is_none());
        assert!(v.get("req_client_bank_code").is_none());
    }

    #[test]
    fn remit_list_decodes_a_page() {
        let body = r#"{"rsp_code":"A0000","bank_rsp_code":"000","bank_code_std":"097",
            "account_num":"100000000001","bank_name":"오픈은행","balance_amt":"5000",
            "total_record_cnt":"1","page_record_cnt":"1","next_page_yn":"N",
            "befor_inquiry_trace_info":"","res_list":[{"tran_date":"20240105","tran_time":"101010",
            "tran_type":"이체","printed_content":"홍길동","tran_amt":"5000","after_balance_amt":"5000",
            "branch_name":"","remitter_name":"홍길동","remitter_bank_code":"088",
            "remitter_account_num":"110123456789"}]}"#;
        let r: RemitList = decode_answer(REMIT_LIST, 200, body.as_bytes()).expect("decode");
        assert!(!r.next_page_yn);
        assert_eq!(
            r.res_list[0]
                .remitter_bank_code
                .as_ref()
                .map(BankCode::as_str),
            Some("088")
        );
    }
}
