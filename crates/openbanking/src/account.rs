//! Registered accounts: `account/list`, `account/update_info` (alias), `account/cancel`, and the
//! bank-routed reads `account/balance/fin_num` and `account/transaction_list/fin_num`.
//!
//! For reading every page of a history, see [`history`](crate::history).

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::client::Client;
#[cfg(test)]
use crate::client::Stamped;
use crate::envelope::{BankResult, ResponseHeader};
use crate::error::Error;
use crate::fields::{AccountType, InquiryBase, InquiryType, SortOrder};
use crate::ids::{BankTranId, FintechUseNum, UserSeqNo};
use crate::money::{SignedWon, Won};
use crate::token::{Scope, UserToken};
use crate::user::Account;
use crate::wire;

/// `GET /v2.0/account/list`.
pub const ACCOUNT_LIST: &str = "/v2.0/account/list";
/// `POST /v2.0/account/update_info`.
pub const ACCOUNT_UPDATE_INFO: &str = "/v2.0/account/update_info";
/// `POST /v2.0/account/cancel`.
pub const ACCOUNT_CANCEL: &str = "/v2.0/account/cancel";
/// `GET /v2.0/account/balance/fin_num`.
pub const BALANCE: &str = "/v2.0/account/balance/fin_num";
/// `GET /v2.0/account/transaction_list/fin_num`.
pub const TRANSACTION_LIST: &str = "/v2.0/account/transaction_list/fin_num";

/// The query of `account/list`.
#[derive(Debug, Clone, Serialize)]
pub struct AccountListRequest {
    /// The user's number.
    pub user_seq_no: UserSeqNo,
    /// Whether to include cancelled registrations.
    #[serde(with = "wire::yn")]
    pub include_cancel_yn: bool,
    /// The order of the list.
    pub sort_order: SortOrder,
}

/// The answer of `account/list`.
#[derive(Debug, Clone, Deserialize)]
pub struct AccountList {
    /// The common header.
    #[serde(flatten)]
    pub header: ResponseHeader,
    /// The user's name.
    #[serde(default, with = "wire::string")]
    pub user_name: String,
    /// How many accounts follow.
    #[serde(default, deserialize_with = "wire::count")]
    pub res_cnt: u32,
    /// The accounts, each with its `account_state`.
    #[serde(default)]
    pub res_list: Vec<Account>,
}

/// The body of `account/update_info`.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateInfoRequest {
    /// The account.
    pub fintech_use_num: FintechUseNum,
    /// Its new alias.
    pub account_alias: String,
}

/// The answer of `account/update_info`.
#[derive(Debug, Clone, Deserialize)]
pub struct UpdateInfo {
    /// The common header.
    #[serde(flatten)]
    pub header: ResponseHeader,
    /// The account, when echoed.
    #[serde(default, deserialize_with = "wire::opt")]
    pub fintech_use_num: Option<FintechUseNum>,
    /// The alias now recorded, when echoed.
    #[serde(default, with = "wire::opt_string")]
    pub account_alias: Option<String>,
}

/// The body of `account/cancel`.
#[derive(Debug, Clone, Serialize)]
pub struct CancelRequest {
    /// A fresh id.
    pub bank_tran_id: BankTranId,
    /// Which consent to cancel: [`Scope::Inquiry`] or [`Scope::Transfer`].
    pub scope: Scope,
    /// The account.
    pub fintech_use_num: FintechUseNum,
}

/// An answer that carries the header and the bank block only.
#[derive(Debug, Clone, Deserialize)]
pub struct BankAck {
    /// The common header.
    #[serde(flatten)]
    pub header: ResponseHeader,
    /// The bank's verdict.
    #[serde(flatten)]
    pub bank: BankResult,
}

/// The query of `account/balance/fin_num` (the client adds `tran_dtime`).
#[derive(Debug, Clone, Serialize)]
pub struct BalanceRequest {
    /// A fresh id.
    pub bank_tran_id: BankTranId,
    /// The account.
    pub fintech_use_num: FintechUseNum,
}

/// The answer of `account/balance/fin_num`.
#[derive(Debug, Clone, Deserialize)]
pub struct Balance {
    /// The common header.
    #[serde(flatten)]
    pub header: ResponseHeader,
    /// The bank's verdict.
    #[serde(flatten)]
    pub bank: BankResult,
    /// The bank's name.
    #[serde(default, with = "wire::string")]
    pub bank_name: String,
    /// The savings bank's name, for accounts at one.
    #[serde(default, with = "wire::opt_string")]
    pub savings_bank_name: Option<String>,
    /// The account.
    #[serde(default, deserialize_with = "wire::opt")]
    pub fintech_use_num: Option<FintechUseNum>,
    /// The balance (negative for an overdrawn account).
    pub balance_amt: SignedWon,
    /// What can be withdrawn now.
    #[serde(default, deserialize_with = "wire::opt")]
    pub available_amt: Option<Won>,
    /// The account's kind.
    #[serde(default, deserialize_with = "wire::opt")]
    pub account_type: Option<AccountType>,
    /// The product's name.
    #[serde(default, with = "wire::opt_string")]
    pub product_name: Option<String>,
    /// When the account was opened.
    #[serde(default, with = "wire::opt_date")]
    pub account_issue_date: Option<NaiveDate>,
    /// When it matures (savings).
    #[serde(default, with = "wire::opt_date")]
    pub maturity_date: Option<NaiveDate>,
    /// The date of its last transaction.
    #[serde(default, with = "wire::opt_date")]
    pub last_tran_date: Option<NaiveDate>,
}

/// What history to ask for; every page of one history repeats it unchanged.
#[derive(Debug, Clone, Serialize)]
pub struct TransactionQuery {
    /// The account.
    pub fintech_use_num: FintechUseNum,
    /// Deposits, withdrawals or both.
    pub inquiry_type: InquiryType,
    /// By date, or by date and time.
    pub inquiry_base: InquiryBase,
    /// First day.
    #[serde(with = "wire::date")]
    pub from_date: NaiveDate,
    /// First time (with [`InquiryBase::Time`]).
    #[serde(with = "wire::opt_time", skip_serializing_if = "Option::is_none")]
    pub from_time: Option<NaiveTime>,
    /// Last day.
    #[serde(with = "wire::date")]
    pub to_date: NaiveDate,
    /// Last time (with [`InquiryBase::Time`]).
    #[serde(with = "wire::opt_time", skip_serializing_if = "Option::is_none")]
    pub to_time: Option<NaiveTime>,
    /// Newest or oldest first.
    pub sort_order: SortOrder,
}

impl TransactionQuery {
    /// Every transaction of `fintech_use_num` between two days, newest first.
    pub fn by_date(
        fintech_use_num: FintechUseNum,
        from_date: NaiveDate,
        to_date: NaiveDate,
    ) -> Self {
        Self {
            fintech_use_num,
            inquiry_type: InquiryType::All,
            inquiry_base: InquiryBase::Date,
            from_date,
            from_time: None,
            to_date,
            to_time: None,
            sort_order: SortOrder::Descending,
        }
    }
}

/// One page's request of `account/transaction_list/fin_num` (the client adds `tran_dtime`).
#[derive(Debug, Clone, Serialize)]
pub struct TransactionListRequest {
    /// A fresh id; each page needs a new one.
    pub bank_tran_id: BankTranId,
    /// What to ask for.
    #[serde(flatten)]
    pub query: TransactionQuery,
    /// The cursor from the previous page; empty for the first.
    pub befor_inquiry_trace_info: String,
}

/// One row of a history. Rows have no id: `after_balance_amt` chains them.
#[derive(Debug, Clone, Deserialize)]
pub struct Transaction {
    /// The day.
    #[serde(with = "wire::date")]
    pub tran_date: NaiveDate,
    /// The time.
    #[serde(with = "wire::time")]
    pub tran_time: NaiveTime,
    /// Direction, as Korean text (`입금`, `출금`, …).
    #[serde(default, with = "wire::string")]
    pub inout_type: String,
    /// Kind, as Korean text (`현금`, `이체`, …).
    #[serde(default, with = "wire::string")]
    pub tran_type: String,
    /// The text printed in the passbook.
    #[serde(default, with = "wire::string")]
    pub print_content: String,
    /// The amount moved.
    pub tran_amt: Won,
    /// The balance after this row.
    pub after_balance_amt: SignedWon,
    /// The branch.
    #[serde(default, with = "wire::opt_string")]
    pub branch_name: Option<String>,
}

/// One page of `account/transaction_list/fin_num`.
#[derive(Debug, Clone, Deserialize)]
pub struct TransactionList {
    /// The common header.
    #[serde(flatten)]
    pub header: ResponseHeader,
    /// The bank's verdict.
    #[serde(flatten)]
    pub bank: BankResult,
    /// The bank's name.
    #[serde(default, with = "wire::string")]
    pub bank_name: String,
    /// The savings bank's name, for accounts at one.
    #[serde(default, with = "wire::opt_string")]
    pub savings_bank_name: Option<String>,
    /// The account.
    #[serde(default, deserialize_with = "wire::opt")]
    pub fintech_use_num: Option<FintechUseNum>,
    /// The current balance.
    #[serde(default, deserialize_with = "wire::opt")]
    pub balance_amt: Option<SignedWon>,
    /// Rows on this page.
    #[serde(default, deserialize_with = "wire::count")]
    pub page_record_cnt: u32,
    /// Whether another page follows.
    #[serde(with = "wire::yn")]
    pub next_page_yn: bool,
    /// The cursor for the next page.
    #[serde(default, with = "wire::string")]
    pub befor_inquiry_trace_info: String,
    /// The rows.
    #[serde(default)]
    pub res_list: Vec<Transaction>,
}

impl Client {
    /// `GET /v2.0/account/list`: the user's registered accounts with their states.
    pub async fn account_list(
        &self,
        token: &UserToken,
        request: &AccountListRequest,
    ) -> Result<AccountList, Error> {
        self.get(ACCOUNT_LIST, token.access_token(), request).await
    }

    /// `POST /v2.0/account/update_info`: sets an account's alias.
    pub async fn account_update_info(
        &self,
        token: &UserToken,
        request: &UpdateInfoRequest,
    ) -> Result<UpdateInfo, Error> {
        self.post(ACCOUNT_UPDATE_INFO, token.access_token(), request)
            .await
    }

    /// `POST /v2.0/account/cancel`: cancels the inquiry or transfer registration of an account.
    pub async fn account_cancel(
        &self,
        token: &UserToken,
        request: &CancelRequest,
    ) -> Result<BankAck, Error> {
        self.post(ACCOUNT_CANCEL, token.access_token(), request)
            .await
    }

    /// `GET /v2.0/account/balance/fin_num`: an account's balance.
    pub async fn balance(
        &self,
        token: &UserToken,
        request: &BalanceRequest,
    ) -> Result<Balance, Error> {
        let query = self.stamp(request);
        self.get(BALANCE, token.access_token(), &query).await
    }

    /// `GET /v2.0/account/transaction_list/fin_num`: one page of an account's history.
    pub async fn transaction_list(
        &self,
        token: &UserToken,
        request: &TransactionListRequest,
    ) -> Result<TransactionList, Error> {
        let query = self.stamp(request);
        self.get(TRANSACTION_LIST, token.access_token(), &query)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::BankRspCode;
    use crate::envelope::decode_answer;

    #[test]
    fn balance_decodes_numbers_strings_negatives_and_blanks() {
        let body = r#"{"api_tran_id":"x","api_tran_dtm":"20190910101921567","rsp_code":"A0000",
            "rsp_message":"","bank_tran_id":"T991589220U4BC34239Z","bank_tran_date":"20190910",
            "bank_code_tran":"097","bank_rsp_code":"000","bank_rsp_message":"","bank_name":"오픈은행",
            "savings_bank_name":"","fintech_use_num":"199159919057870978715901",
            "balance_amt":-1000,"available_amt":"0","account_type":"1","product_name":"",
            "account_issue_date":"20190101","maturity_date":"","last_tran_date":"20190910",
            "something_new":"x"}"#;
        let b: Balance = decode_answer(BALANCE, 200, body.as_bytes()).expect("decode");
        assert_eq!(b.balance_amt, SignedWon::new(-1000));
        assert_eq!(b.available_amt, Some(Won::ZERO));
        assert_eq!(b.product_name, None);
        assert_eq!(b.maturity_date, None);
        assert_eq!(b.bank.bank_rsp_code, Some(BankRspCode::Ok));
    }

    #[test]
    fn balance_refuses_a_fractional_amount_and_names_the_field() {
        let body = r#"{"rsp_code":"A0000","balance_amt":"100.5"}"#;
        match decode_answer::<Balance>(BALANCE, 200, body.as_bytes()) {
            Err(Error::Decode { path, .. }) => assert_eq!(path, "balance_amt"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_history_page_decodes_rows_and_cursor() {
        let body = r#"{"api_tran_id":"x","api_tran_dtm":"20190910101921567","rsp_code":"A0000",
            "rsp_message":"","bank_tran_id":"T991589220U4BC34239Z","bank_tran_date":"20190910",
            "bank_code_tran":"097","bank_rsp_code":"000","bank_rsp_message":"",
            "bank_name":"오픈은행","fintech_use_num":"199159919057870978715901",
            "balance_amt":"1000000","page_record_cnt":"2","next_page_yn":"Y",
            "befor_inquiry_trace_info":"123Z","res_list":[
              {"tran_date":"20190910","tran_time":"113000","inout_type":"입금","tran_type":"현금",
               "print_content":"통장인자내용","tran_amt":"450000","after_balance_amt":"1000000",
               "branch_name":"분당점"},
              {"tran_date":"20190909","tran_time":"090000","inout_type":"출금","tran_type":"이체",
               "print_content":"","tran_amt":50000,"after_balance_amt":550000,"branch_name":""}]}"#;
        let page: TransactionList =
            decode_answer(TRANSACTION_LIST, 200, body.as_bytes()).expect("decode");
        assert!(page.next_page_yn);
        assert_eq!(page.befor_inquiry_trace_info, "123Z");
        assert_eq!(page.res_list.len(), 2);
        assert_eq!(page.res_list[1].tran_amt, Won::new(50000));
        assert_eq!(page.res_list[1].branch_name, None);
    }

    #[test]
    fn history_query_serializes_with_wire_formats() {
        let req = TransactionListRequest {
            bank_tran_id: BankTranId::parse("T991589220U000000001").expect("id"),
            query: TransactionQuery::by_date(
                FintechUseNum::parse("199159919057870978715901").expect("fin"),
                NaiveDate::from_ymd_opt(2024, 1, 1).expect("date"),
                NaiveDate::from_ymd_opt(2024, 1, 31).expect("date"),
            ),
            befor_inquiry_trace_info: String::new(),
        };
        let q = serde_urlencoded::to_string(Stamped {
            body: &req,
            tran_dtime: "20240131120000".into(),
        })
        .expect("query");
        assert_eq!(
            q,
            "bank_tran_id=T991589220U000000001&fintech_use_num=199159919057870978715901\
             &inquiry_type=A&inquiry_base=D&from_date=20240101&to_date=20240131&sort_order=D\
             &befor_inquiry_trace_info=&tran_dtime=20240131120000"
        );
    }
}
