//! Moving money: `transfer/withdraw/fin_num` (from a user's account into the institution's
//! collection account, scope `transfer`), `transfer/deposit/fin_num` and `/acnt_num` (from the
//! institution's payout account to an account, scope `oob`), and `transfer/result` (how did a
//! transfer end?).
//!
//! A transfer whose call fails with [`Error::is_outcome_unknown`] may have happened: settle it
//! with [`Client::transfer_result`] using the same `bank_tran_id`, never by sending it again.
//!
//! ```no_run
//! use moa_openbanking::fields::CheckType;
//! use moa_openbanking::transfer::{
//!     TransferOutcome, TransferQuery, TransferResultRequest, WithdrawRequest, outcome_of,
//! };
//! use moa_openbanking::{Client, Clock, Error, OobToken, SystemClock, UserToken};
//!
//! # async fn demo(client: Client, user: UserToken, oob: OobToken, request: WithdrawRequest)
//! # -> Result<(), Error> {
//! // The request's bank_tran_id is journaled before this call.
//! let outcome = match client.withdraw(&user, &request).await {
//!     Ok(_) => TransferOutcome::Succeeded,
//!     Err(e) if e.is_outcome_unknown() => {
//!         let asked = TransferResultRequest {
//!             check_type: CheckType::Withdraw,
//!             items: vec![TransferQuery {
//!                 org_bank_tran_id: request.bank_tran_id.clone(),
//!                 org_bank_tran_date: SystemClock.today_kst(),
//!                 org_tran_amt: request.tran_amt,
//!             }],
//!         };
//!         outcome_of(client.transfer_result(&oob, &asked).await)?
//!     }
//!     Err(e) => return Err(e),
//! };
//! println!("{outcome:?}");
//! # Ok(()) }
//! ```

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::codes::{BankRspCode, RspCode};
use crate::envelope::{AccountBank, BankResult, ResponseHeader};
use crate::error::Error;
use crate::fields::{CheckType, CntrAccountType, NameCheckOption, TransferPurpose};
use crate::ids::{BankCode, BankTranId, FintechUseNum};
use crate::money::Won;
use crate::token::{OobToken, UserToken, WdPassPhrase};
use crate::wire;

/// `POST /v2.0/transfer/withdraw/fin_num`.
pub const WITHDRAW: &str = "/v2.0/transfer/withdraw/fin_num";
/// `POST /v2.0/transfer/deposit/fin_num`.
pub const DEPOSIT_FIN_NUM: &str = "/v2.0/transfer/deposit/fin_num";
/// `POST /v2.0/transfer/deposit/acnt_num`.
pub const DEPOSIT_ACNT_NUM: &str = "/v2.0/transfer/deposit/acnt_num";
/// `POST /v2.0/transfer/result`.
pub const TRANSFER_RESULT: &str = "/v2.0/transfer/result";

/// The most transfers one `transfer/result` call may ask about.
pub const MAX_RESULT_ITEMS: usize = 25;

/// Who asks for a transfer: named by fintech number or by bank account, never both.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum RequestingClient {
    /// The customer's registered account.
    FintechUseNum {
        /// Its fintech number.
        req_client_fintech_use_num: FintechUseNum,
    },
    /// The customer's bank account.
    Account {
        /// The bank.
        req_client_bank_code: BankCode,
        /// The account number.
        req_client_account_num: String,
    },
}

/// The customer money moves for (요청고객), as withdraw, deposit and the receive check name
/// them.
#[derive(Debug, Clone, Serialize)]
pub struct Requester {
    /// The customer's name.
    pub req_client_name: String,
    /// The customer's account.
    #[serde(flatten)]
    pub req_client: RequestingClient,
    /// The institution's number for the customer.
    pub req_client_num: String,
    /// Why the money moves.
    pub transfer_purpose: TransferPurpose,
}

/// The sub-merchant (하위가맹점) an institution moves money for, when it acts for one; each
/// field is optional on the wire, and the default names none.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SubMerchant {
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_frnc_name: Option<String>,
    /// Its number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_frnc_num: Option<String>,
    /// Its business registration number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_frnc_business_num: Option<String>,
}

/// The body of `transfer/withdraw/fin_num` (the client adds `tran_dtime`).
#[derive(Debug, Clone, Serialize)]
pub struct WithdrawRequest {
    /// The id this transfer is known by, journaled before the call.
    pub bank_tran_id: BankTranId,
    /// The kind of contract account.
    pub cntr_account_type: CntrAccountType,
    /// The institution's collection account.
    pub cntr_account_num: String,
    /// The text printed in the collection account's passbook.
    pub dps_print_content: String,
    /// The account to debit.
    pub fintech_use_num: FintechUseNum,
    /// The text printed in the debited account's passbook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wd_print_content: Option<String>,
    /// The amount.
    pub tran_amt: Won,
    /// Whom the money moves for.
    #[serde(flatten)]
    pub requester: Requester,
    /// The sub-merchant, if any.
    #[serde(flatten)]
    pub sub_merchant: SubMerchant,
    /// The final recipient's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recv_client_name: Option<String>,
    /// The final recipient's bank.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recv_client_bank_code: Option<BankCode>,
    /// The final recipient's account number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recv_client_account_num: Option<String>,
}

/// The account a transfer debited or credited, as the center describes it in its answer.
#[derive(Debug, Clone, Deserialize)]
pub struct MovedAccount {
    /// The account, when it was named by fintech number.
    #[serde(default, deserialize_with = "wire::opt")]
    pub fintech_use_num: Option<FintechUseNum>,
    /// Its alias.
    #[serde(default, with = "wire::opt_string")]
    pub account_alias: Option<String>,
    /// Its bank.
    #[serde(flatten)]
    pub account_bank: AccountBank,
    /// Its masked number.
    #[serde(default, with = "wire::opt_string")]
    pub account_num_masked: Option<String>,
    /// The text printed in it.
    #[serde(default, with = "wire::opt_string")]
    pub print_content: Option<String>,
    /// Its holder.
    #[serde(default, with = "wire::opt_string")]
    pub account_holder_name: Option<String>,
}

/// The answer of `transfer/withdraw/fin_num`.
#[derive(Debug, Clone, Deserialize)]
pub struct Withdraw {
    /// The common header.
    #[serde(flatten)]
    pub header: ResponseHeader,
    /// The bank's verdict.
    #[serde(flatten)]
    pub bank: BankResult,
    /// The collection account's bank.
    #[serde(default, deserialize_with = "wire::opt")]
    pub dps_bank_code_std: Option<BankCode>,
    /// Its branch.
    #[serde(default, with = "wire::opt_string")]
    pub dps_bank_code_sub: Option<String>,
    /// Its bank's name.
    #[serde(default, with = "wire::opt_string")]
    pub dps_bank_name: Option<String>,
    /// Its masked number.
    #[serde(default, with = "wire::opt_string")]
    pub dps_account_num_masked: Option<String>,
    /// The text printed there.
    #[serde(default, with = "wire::opt_string")]
    pub dps_print_content: Option<String>,
    /// Its holder.
    #[serde(default, with = "wire::opt_string")]
    pub dps_account_holder_name: Option<String>,
    /// The account debited.
    #[serde(flatten)]
    pub account: MovedAccount,
    /// The amount withdrawn.
    pub tran_amt: Won,
    /// What the user may still withdraw today.
    #[serde(default, deserialize_with = "wire::opt")]
    pub wd_limit_remain_amt: Option<Won>,
}

/// Where a deposit goes. The variant picks the endpoint: `/fin_num` or `/acnt_num`.
#[derive(Debug, Clone)]
pub enum DepositTo {
    /// A registered account, by fintech number (`transfer/deposit/fin_num`).
    FintechUseNum(FintechUseNum),
    /// Any account, with the holder's name (`transfer/deposit/acnt_num`).
    Account {
        /// The bank.
        bank_code_std: BankCode,
        /// The account number.
        account_num: String,
        /// The holder's name.
        account_holder_name: String,
    },
}

/// The one deposit of a deposit request.
#[derive(Debug, Clone)]
pub struct DepositItem {
    /// The id this deposit is known by, journaled before the call.
    pub bank_tran_id: BankTranId,
    /// Where the money goes.
    pub to: DepositTo,
    /// The text printed in the recipient's passbook.
    pub print_content: String,
    /// The amount.
    pub tran_amt: Won,
    /// Whom the money moves for.
    pub requester: Requester,
    /// CMS number.
    pub cms_num: Option<String>,
}

/// A deposit from the institution's payout account (the client adds `tran_dtime`, `req_cnt`
/// and `tran_no`; the center takes exactly one item).
#[derive(Debug, Clone)]
pub struct DepositRequest {
    /// The kind of contract account.
    pub cntr_account_type: CntrAccountType,
    /// The institution's payout account.
    pub cntr_account_num: String,
    /// The payout account's pass phrase (`NONE` on the KFTC test host).
    pub wd_pass_phrase: WdPassPhrase,
    /// The text printed in the payout account's passbook.
    pub wd_print_content: String,
    /// Whether the center checks the recipient's name.
    pub name_check_option: NameCheckOption,
    /// The sub-merchant, if any.
    pub sub_merchant: SubMerchant,
    /// The deposit.
    pub item: DepositItem,
}

#[derive(Serialize)]
struct DepositWire<'a> {
    cntr_account_type: &'a CntrAccountType,
    cntr_account_num: &'a str,
    wd_pass_phrase: &'a str,
    wd_print_content: &'a str,
    name_check_option: &'a NameCheckOption,
    #[serde(flatten)]
    sub_merchant: &'a SubMerchant,
    tran_dtime: String,
    req_cnt: &'static str,
    req_list: [DepositItemWire<'a>; 1],
}

#[derive(Serialize)]
struct DepositItemWire<'a> {
    tran_no: &'static str,
    bank_tran_id: &'a BankTranId,
    #[serde(skip_serializing_if = "Option::is_none")]
    fintech_use_num: Option<&'a FintechUseNum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bank_code_std: Option<&'a BankCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_num: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_holder_name: Option<&'a str>,
    print_content: &'a str,
    tran_amt: &'a Won,
    #[serde(flatten)]
    requester: &'a Requester,
    #[serde(skip_serializing_if = "Option::is_none")]
    cms_num: Option<&'a str>,
}

impl DepositRequest {
    /// The endpoint this deposit goes to.
    pub fn endpoint(&self) -> &'static str {
        match self.item.to {
            DepositTo::FintechUseNum(_) => DEPOSIT_FIN_NUM,
            DepositTo::Account { .. } => DEPOSIT_ACNT_NUM,
        }
    }

    fn wire(&self, tran_dtime: String) -> DepositWire<'_> {
        let item = &self.item;
        let (fintech_use_num, bank_code_std, account_num, account_holder_name) = match &item.to {
            DepositTo::FintechUseNum(f) => (Some(f), None, None, None),
            DepositTo::Account {
                bank_code_std,
                account_num,
                account_holder_name,
            } => (
                None,
                Some(bank_code_std),
                Some(account_num.as_str()),
                Some(account_holder_name.as_str()),
            ),
        };
        DepositWire {
            cntr_account_type: &self.cntr_account_type,
            cntr_account_num: &self.cntr_account_num,
            wd_pass_phrase: self.wd_pass_phrase.expose_secret(),
            wd_print_content: &self.wd_print_content,
            name_check_option: &self.name_check_option,
            sub_merchant: &self.sub_merchant,
            tran_dtime,
            req_cnt: "1",
            req_list: [DepositItemWire {
                tran_no: "1",
                bank_tran_id: &item.bank_tran_id,
                fintech_use_num,
                bank_code_std,
                account_num,
                account_holder_name,
                print_content: &item.print_content,
                tran_amt: &item.tran_amt,
                requester: &item.requester,
                cms_num: item.cms_num.as_deref(),
            }],
        }
    }
}

/// One deposit's result in a deposit answer.
#[derive(Debug, Clone, Deserialize)]
pub struct DepositResult {
    /// The item's number (`1`).
    #[serde(default, with = "wire::string")]
    pub tran_no: String,
    /// The bank's verdict on this deposit.
    #[serde(flatten)]
    pub bank: BankResult,
    /// The account credited.
    #[serde(flatten)]
    pub account: MovedAccount,
    /// The amount deposited.
    pub tran_amt: Won,
    /// CMS number.
    #[serde(default, with = "wire::opt_string")]
    pub cms_num: Option<String>,
}

/// The answer of a deposit.
#[derive(Debug, Clone, Deserialize)]
pub struct Deposit {
    /// The common header.
    #[serde(flatten)]
    pub header: ResponseHeader,
    /// The payout account's bank.
    #[serde(default, deserialize_with = "wire::opt")]
    pub wd_bank_code_std: Option<BankCode>,
    /// Its branch.
    #[serde(default, with = "wire::opt_string")]
    pub wd_bank_code_sub: Option<String>,
    /// Its bank's name.
    #[serde(default, with = "wire::opt_string")]
    pub wd_bank_name: Option<String>,
    /// Its masked number.
    #[serde(default, with = "wire::opt_string")]
    pub wd_account_num_masked: Option<String>,
    /// The text printed there.
    #[serde(default, with = "wire::opt_string")]
    pub wd_print_content: Option<String>,
    /// Its holder.
    #[serde(default, with = "wire::opt_string")]
    pub wd_account_holder_name: Option<String>,
    /// How many results follow.
    #[serde(default, deserialize_with = "wire::count")]
    pub res_cnt: u32,
    /// The results (one).
    #[serde(default)]
    pub res_list: Vec<DepositResult>,
}

/// One transfer to ask about in `transfer/result`.
#[derive(Debug, Clone, Serialize)]
pub struct TransferQuery {
    /// The transfer's `bank_tran_id`.
    pub org_bank_tran_id: BankTranId,
    /// The day it was sent (in Korea).
    #[serde(with = "wire::date")]
    pub org_bank_tran_date: NaiveDate,
    /// Its amount.
    pub org_tran_amt: Won,
}

/// The body of `transfer/result` (the client adds `tran_dtime`, `req_cnt` and `tran_no`).
#[derive(Debug, Clone)]
pub struct TransferResultRequest {
    /// Withdrawals or deposits.
    pub check_type: CheckType,
    /// The transfers, at most [`MAX_RESULT_ITEMS`].
    pub items: Vec<TransferQuery>,
}

#[derive(Serialize)]
struct TransferResultWire<'a> {
    check_type: &'a CheckType,
    tran_dtime: String,
    #[serde(serialize_with = "wire::ser_count")]
    req_cnt: u32,
    req_list: Vec<TransferQueryWire<'a>>,
}

#[derive(Serialize)]
struct TransferQueryWire<'a> {
    tran_no: String,
    #[serde(flatten)]
    query: &'a TransferQuery,
}

/// How a transfer ended according to `transfer/result`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferOutcome {
    /// The bank carried it out (`bank_rsp_code` `000`).
    Succeeded,
    /// The bank refused it; it did not happen.
    Failed(BankRspCode),
    /// The answer carries no bank verdict: not settled yet, or (in an `A0009` answer about
    /// several transfers) not found.
    Pending,
    /// The center has no record of it (`A0310`): it did not happen — or, shortly after an
    /// `A0001` "in progress", not yet. Deciding when to stop asking is the caller's policy.
    NotFound,
}

/// How the one transfer a `transfer/result` call asked about ended: its item's verdict, or
/// [`TransferOutcome::NotFound`] when the center answered `A0310`. Other refusals stay errors.
pub fn outcome_of(answer: Result<TransferResult, Error>) -> Result<TransferOutcome, Error> {
    match answer {
        Ok(a) => Ok(a
            .res_list
            .first()
            .map(TransferResultItem::outcome)
            .unwrap_or(TransferOutcome::Pending)),
        Err(e) if e.rsp_code() == Some(&RspCode::A0310) => Ok(TransferOutcome::NotFound),
        Err(e) => Err(e),
    }
}

/// One transfer's state in a `transfer/result` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct TransferResultItem {
    /// The item's number, as asked.
    #[serde(default, with = "wire::string")]
    pub tran_no: String,
    /// The bank's verdict on the original transfer.
    #[serde(flatten)]
    pub bank: BankResult,
    /// The debited bank.
    #[serde(default, deserialize_with = "wire::opt")]
    pub wd_bank_code_std: Option<BankCode>,
    /// Its branch.
    #[serde(default, with = "wire::opt_string")]
    pub wd_bank_code_sub: Option<String>,
    /// Its name.
    #[serde(default, with = "wire::opt_string")]
    pub wd_bank_name: Option<String>,
    /// The savings bank's name.
    #[serde(default, with = "wire::opt_string")]
    pub wd_savings_bank_name: Option<String>,
    /// The debited account.
    #[serde(default, deserialize_with = "wire::opt")]
    pub wd_fintech_use_num: Option<FintechUseNum>,
    /// Its masked number.
    #[serde(default, with = "wire::opt_string")]
    pub wd_account_num_masked: Option<String>,
    /// The text printed there.
    #[serde(default, with = "wire::opt_string")]
    pub wd_print_content: Option<String>,
    /// Its holder.
    #[serde(default, with = "wire::opt_string")]
    pub wd_account_holder_name: Option<String>,
    /// The credited bank.
    #[serde(default, deserialize_with = "wire::opt")]
    pub dps_bank_code_std: Option<BankCode>,
    /// Its branch.
    #[serde(default, with = "wire::opt_string")]
    pub dps_bank_code_sub: Option<String>,
    /// Its name.
    #[serde(default, with = "wire::opt_string")]
    pub dps_bank_name: Option<String>,
    /// The savings bank's name.
    #[serde(default, with = "wire::opt_string")]
    pub dps_savings_bank_name: Option<String>,
    /// The credited account.
    #[serde(default, deserialize_with = "wire::opt")]
    pub dps_fintech_use_num: Option<FintechUseNum>,
    /// Its masked number.
    #[serde(default, with = "wire::opt_string")]
    pub dps_account_num_masked: Option<String>,
    /// The text printed there.
    #[serde(default, with = "wire::opt_string")]
    pub dps_print_content: Option<String>,
    /// Its holder.
    #[serde(default, with = "wire::opt_string")]
    pub dps_account_holder_name: Option<String>,
    /// The amount.
    #[serde(default, deserialize_with = "wire::opt")]
    pub tran_amt: Option<Won>,
}

impl TransferResultItem {
    /// How the transfer ended, from the bank's verdict.
    pub fn outcome(&self) -> TransferOutcome {
        transfer_outcome(self.bank.bank_rsp_code.as_ref())
    }
}

/// How a transfer ended given the bank code `transfer/result` reported for it: `000` succeeded,
/// any other code failed, no code yet is pending.
pub fn transfer_outcome(bank_rsp_code: Option<&BankRspCode>) -> TransferOutcome {
    match bank_rsp_code {
        None => TransferOutcome::Pending,
        Some(code) if code.is_ok() => TransferOutcome::Succeeded,
        Some(code) => TransferOutcome::Failed(code.clone()),
    }
}

/// The answer of `transfer/result`.
#[derive(Debug, Clone, Deserialize)]
pub struct TransferResult {
    /// The common header.
    #[serde(flatten)]
    pub header: ResponseHeader,
    /// How many results follow.
    #[serde(default, deserialize_with = "wire::count")]
    pub res_cnt: u32,
    /// One result per transfer asked about.
    #[serde(default)]
    pub res_list: Vec<TransferResultItem>,
}

impl Client {
    /// `POST /v2.0/transfer/withdraw/fin_num`: debits a user's account into the institution's
    /// collection account.
    pub async fn withdraw(
        &self,
        token: &UserToken,
        request: &WithdrawRequest,
    ) -> Result<Withdraw, Error> {
        self.post(WITHDRAW, token.access_token(), &self.stamp(request))
            .await
    }

    /// `POST /v2.0/transfer/deposit/fin_num` or `/acnt_num` (by [`DepositTo`]): credits an
    /// account from the institution's payout account. A refused item comes back as
    /// [`Error::Center`] with `A0009` and the item's `bank_rsp_code`.
    pub async fn deposit(
        &self,
        token: &OobToken,
        request: &DepositRequest,
    ) -> Result<Deposit, Error> {
        self.post(
            request.endpoint(),
            token.access_token(),
            &request.wire(self.tran_dtime()),
        )
        .await
    }

    /// `POST /v2.0/transfer/result`: how earlier transfers ended.
    ///
    /// Asking about one transfer the center never recorded is refused with `A0310`: the transfer
    /// did not happen. Asking about several answers `A0009` when some were not found; that answer
    /// is returned as is, with the missing ones carrying no bank code
    /// ([`TransferOutcome::Pending`]) — check `header.rsp_code` to tell.
    pub async fn transfer_result(
        &self,
        token: &OobToken,
        request: &TransferResultRequest,
    ) -> Result<TransferResult, Error> {
        let n = request.items.len();
        if n == 0 || n > MAX_RESULT_ITEMS {
            return Err(Error::InvalidRequest(format!(
                "transfer/result takes 1 to {MAX_RESULT_ITEMS} transfers, not {n}"
            )));
        }
        let body = TransferResultWire {
            check_type: &request.check_type,
            tran_dtime: self.tran_dtime(),
            req_cnt: n as u32,
            req_list: request
                .items
                .iter()
                .enumerate()
                .map(|(i, query)| TransferQueryWire {
                    tran_no: (i + 1).to_string(),
                    query,
                })
                .collect(),
        };
        self.post_accepting(
            TRANSFER_RESULT,
            token.access_token(),
            &body,
            &[RspCode::A0009],
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::decode_answer;

    fn fin() -> FintechUseNum {
        FintechUseNum::parse("199159919057870978715901").expect("fin")
    }

    fn id() -> BankTranId {
        BankTranId::parse("T991589220U000000007").expect("id")
    }

    #[test]
    fn withdraw_body_names_the_requester_by_fintech_number_only() {
        let req = WithdrawRequest {
            bank_tran_id: id(),
            cntr_account_type: CntrAccountType::Account,
            cntr_account_num: "100000000001".into(),
            dps_print_content: "모아".into(),
            fintech_use_num: fin(),
            wd_print_content: None,
            tran_amt: Won::new(10000),
            requester: requester(),
            sub_merchant: SubMerchant::default(),
            recv_client_name: None,
            recv_client_bank_code: None,
            recv_client_account_num: None,
        };
        let v = serde_json::to_value(&req).expect("json");
        assert_eq!(v["req_client_fintech_use_num"], "199159919057870978715901");
        assert!(v.get("req_client_bank_code").is_none());
        assert!(v.get("req_client_account_num").is_none());
        assert_eq!(v["req_client_name"], "홍길동");
        assert_eq!(v["req_client_num"], "HONG0001");
        assert_eq!(v["transfer_purpose"], "TR");
        assert_eq!(v["tran_amt"], "10000");
        assert_eq!(v["cntr_account_type"], "N");
        assert!(v.get("sub_frnc_name").is_none());
    }

    #[test]
    fn a_sub_merchant_is_sent_field_by_field_as_given() {
        let sub_merchant = SubMerchant {
            sub_frnc_name: Some("모아상점".into()),
            sub_frnc_num: None,
            sub_frnc_business_num: Some("1234567890".into()),
        };
        let v = serde_json::to_value(&sub_merchant).expect("json");
        assert_eq!(
            v,
            serde_json::json!({"sub_frnc_name": "모아상점", "sub_frnc_business_num": "1234567890"})
        );
        let mut req = deposit(DepositTo::FintechUseNum(fin()));
        req.sub_merchant = sub_merchant;
        let v = serde_json::to_value(req.wire(String::new())).expect("json");
        assert_eq!(v["sub_frnc_name"], "모아상점");
        assert!(v.get("sub_frnc_num").is_none());
        assert_eq!(v["req_list"][0]["req_client_name"], "홍길동");
    }

    fn requester() -> Requester {
        Requester {
            req_client_name: "홍길동".into(),
            req_client: RequestingClient::FintechUseNum {
                req_client_fintech_use_num: fin(),
            },
            req_client_num: "HONG0001".into(),
            transfer_purpose: TransferPurpose::Remittance,
        }
    }

    fn deposit(to: DepositTo) -> DepositRequest {
        DepositRequest {
            cntr_account_type: CntrAccountType::Account,
            cntr_account_num: "200000000001".into(),
            wd_pass_phrase: WdPassPhrase::new("NONE"),
            wd_print_content: "모아".into(),
            name_check_option: NameCheckOption::On,
            sub_merchant: SubMerchant::default(),
            item: DepositItem {
                bank_tran_id: id(),
                to,
                print_content: "모아".into(),
                tran_amt: Won::new(5000),
                requester: requester(),
                cms_num: None,
            },
        }
    }

    #[test]
    fn deposit_by_fintech_number_sends_one_item() {
        let req = deposit(DepositTo::FintechUseNum(fin()));
        assert_eq!(req.endpoint(), DEPOSIT_FIN_NUM);
        let v = serde_json::to_value(req.wire("20240101120000".into())).expect("json");
        assert_eq!(v["req_cnt"], "1");
        assert_eq!(v["tran_dtime"], "20240101120000");
        assert_eq!(v["wd_pass_phrase"], "NONE");
        let item = &v["req_list"][0];
        assert_eq!(item["tran_no"], "1");
        assert_eq!(item["fintech_use_num"], "199159919057870978715901");
        assert!(item.get("account_num").is_none());
        assert!(format!("{req:?}").contains("WdPassPhrase(***)"));
    }

    #[test]
    fn deposit_by_account_goes_to_acnt_num_with_the_holder_name() {
        let req = deposit(DepositTo::Account {
            bank_code_std: BankCode::parse("088").expect("bank"),
            account_num: "110123456789".into(),
            account_holder_name: "홍길동".into(),
        });
        assert_eq!(req.endpoint(), DEPOSIT_ACNT_NUM);
        let v = serde_json::to_value(req.wire(String::new())).expect("json");
        let item = &v["req_list"][0];
        assert_eq!(item["bank_code_std"], "088");
        assert_eq!(item["account_holder_name"], "홍길동");
        assert!(item.get("fintech_use_num").is_none());
    }

    #[test]
    fn withdraw_answer_decodes() {
        let body = r#"{"api_tran_id":"x","api_tran_dtm":"20190910101921567","rsp_code":"A0000",
            "rsp_message":"","dps_bank_code_std":"097","dps_bank_code_sub":"0970001",
            "dps_bank_name":"오픈은행","dps_account_num_masked":"100000000***","dps_print_content":"모아",
            "dps_account_holder_name":"모아","bank_tran_id":"T991589220U000000007",
            "bank_tran_date":"20190910","bank_code_tran":"097","bank_rsp_code":"000",
            "bank_rsp_message":"","fintech_use_num":"199159919057870978715901","account_alias":"",
            "bank_code_std":"097","bank_code_sub":"","bank_name":"오픈은행","savings_bank_name":"",
            "account_num_masked":"000-1230000-***","print_content":"모아","account_holder_name":"홍길동",
            "tran_amt":"10000","wd_limit_remain_amt":4990000}"#;
        let w: Withdraw = decode_answer(WITHDRAW, 200, body.as_bytes()).expect("decode");
        assert_eq!(w.tran_amt, Won::new(10000));
        assert_eq!(w.wd_limit_remain_amt, Some(Won::new(4_990_000)));
    }

    #[test]
    fn transfer_result_items_tell_the_outcome() {
        let body = r#"{"rsp_code":"A0000","res_cnt":"2","res_list":[
            {"tran_no":"1","bank_tran_id":"T991589220U000000007","bank_tran_date":"20240101",
             "bank_code_tran":"097","bank_rsp_code":"000","bank_rsp_message":"","tran_amt":"10000"},
            {"tran_no":"2","bank_tran_id":"T991589220U000000008","bank_rsp_code":"453",
             "bank_rsp_message":"잔액부족","tran_amt":10000}]}"#;
        let r: TransferResult =
            decode_answer(TRANSFER_RESULT, 200, body.as_bytes()).expect("decode");
        assert_eq!(r.res_list[0].outcome(), TransferOutcome::Succeeded);
        assert_eq!(
            r.res_list[1].outcome(),
            TransferOutcome::Failed(BankRspCode::InsufficientBalance)
        );
        assert_eq!(transfer_outcome(None), TransferOutcome::Pending);
    }

    #[test]
    fn a0310_means_not_found_and_other_refusals_stay_errors() {
        let not_found = decode_answer::<TransferResult>(
            TRANSFER_RESULT,
            200,
            r#"{"rsp_code":"A0310","rsp_message":"해당 거래가 없습니다"}"#.as_bytes(),
        );
        assert_eq!(
            outcome_of(not_found).expect("settled"),
            TransferOutcome::NotFound
        );
        let expired = decode_answer::<TransferResult>(
            TRANSFER_RESULT,
            200,
            br#"{"rsp_code":"O0003","rsp_message":""}"#,
        );
        assert!(
            outcome_of(expired)
                .expect_err("still an error")
                .should_refresh_token()
        );
        let empty =
            decode_answer::<TransferResult>(TRANSFER_RESULT, 200, br#"{"rsp_code":"A0000"}"#);
        assert_eq!(outcome_of(empty).expect("answer"), TransferOutcome::Pending);
    }

    #[test]
    fn transfer_result_body_numbers_its_items() {
        let items = [TransferQuery {
            org_bank_tran_id: id(),
            org_bank_tran_date: NaiveDate::from_ymd_opt(2024, 1, 1).expect("date"),
            org_tran_amt: Won::new(10000),
        }];
        let body = TransferResultWire {
            check_type: &CheckType::Withdraw,
            tran_dtime: "20240101120000".into(),
            req_cnt: 1,
            req_list: items
                .iter()
                .map(|query| TransferQueryWire {
                    tran_no: "1".into(),
                    query,
                })
                .collect(),
        };
        let v = serde_json::to_value(&body).expect("json");
        assert_eq!(v["check_type"], "1");
        assert_eq!(v["req_cnt"], "1");
        assert_eq!(v["req_list"][0]["org_bank_tran_date"], "20240101");
        assert_eq!(v["req_list"][0]["org_tran_amt"], "10000");
    }
}
