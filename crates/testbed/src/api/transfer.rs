//! Moving money: `transfer/withdraw/fin_num`, `transfer/deposit/fin_num` and `/acnt_num`,
//! `transfer/result`, and the return claims of `return/claim` and `return/result`.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::Response;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{NamedAccount, authorized_json, bank_code_sub, bank_tran_id};
use crate::clock;
use crate::db::DbError;
use crate::faults::Fault;
use crate::ledger::{self, Kind, Movement, Outcome, Party};
use crate::state::{
    AccountView, Registration, Testbed, after_commit, late_answer, mask, split_fault,
};
use crate::wire::{self, ApiError, BankBlock, Params, code};

/// `A0322` unless `cntr_account_num` is the institution's contract account `expected`.
fn check_contract_account(params: &Params, expected: &AccountView) -> Result<(), ApiError> {
    params.one_of("cntr_account_type", &["N", "C"])?;
    let number = params.account_num("cntr_account_num")?;
    if number != expected.account_num {
        return Err(ApiError::new("A0322", "등록되지 않은 약정계좌입니다"));
    }
    Ok(())
}

/// The requester's account: a fintech number, or a bank and account number — never both.
fn requester_account(params: &Params) -> Result<Party, ApiError> {
    let fintech = params.opt_text("req_client_fintech_use_num", 24)?;
    let bank = params.opt_text("req_client_bank_code", 3)?;
    let account = params.opt_text("req_client_account_num", 16)?;
    let name = params.text("req_client_name", 20)?;
    match (fintech, bank, account) {
        (Some(_), None, None) => {
            params.fintech_use_num("req_client_fintech_use_num")?;
            Ok(Party {
                name,
                ..Party::default()
            })
        }
        (None, Some(_), Some(_)) => Ok(Party {
            name,
            bank_code: params.bank_code("req_client_bank_code")?,
            account_num: params.account_num("req_client_account_num")?,
        }),
        _ => Err(ApiError::malformed(
            "req_client_fintech_use_num",
            "핀테크이용번호 또는 은행코드와 계좌번호 중 하나만 보내야 합니다",
        )),
    }
}

/// The person's account in a transfer, and how the answer names it: by fintech number and
/// alias, or (a deposit by account number) by neither.
struct PersonAccount {
    account: AccountView,
    fintech_use_num: String,
    alias: String,
}

impl PersonAccount {
    /// A registered account, named by its fintech number and alias.
    fn registered(r: Registration) -> Self {
        Self {
            account: AccountView {
                id: r.account_id,
                bank_code: r.bank_code,
                bank_name: r.bank_name,
                account_num: r.account_num,
                holder_name: r.holder_name,
                state: r.account_state,
            },
            fintech_use_num: r.fintech_use_num,
            alias: r.account_alias,
        }
    }
}

/// The person's side of a withdraw or deposit answer: the bank's verdict, the account, the text
/// printed on its statement and the amount.
#[derive(Serialize)]
struct PersonSide {
    #[serde(flatten)]
    bank: BankBlock,
    #[serde(flatten)]
    account: NamedAccount,
    print_content: String,
    account_holder_name: String,
    tran_amt: String,
}

impl PersonSide {
    fn new(bank: BankBlock, person: &PersonAccount, print_content: &str, amount: i64) -> Self {
        let account = &person.account;
        Self {
            bank,
            account: NamedAccount::new(
                &person.fintech_use_num,
                &person.alias,
                &account.bank_code,
                &account.bank_name,
                &account.account_num,
            ),
            print_content: print_content.to_owned(),
            account_holder_name: account.holder_name.clone(),
            tran_amt: amount.to_string(),
        }
    }

    /// The side of a deposit that failed before its account was known: only the bank the
    /// verdict came from, the text and the amount.
    fn unknown(bank: BankBlock, print_content: &str, amount: i64) -> Self {
        Self {
            account: NamedAccount::unknown(&bank.bank_code_tran),
            bank,
            print_content: print_content.to_owned(),
            account_holder_name: String::new(),
            tran_amt: amount.to_string(),
        }
    }
}

#[derive(Serialize)]
struct Withdrawn {
    dps_bank_code_std: String,
    dps_bank_code_sub: String,
    dps_bank_name: String,
    dps_account_num_masked: String,
    dps_print_content: String,
    dps_account_holder_name: String,
    #[serde(flatten)]
    person: PersonSide,
    wd_limit_remain_amt: String,
}

/// `POST /v2.0/transfer/withdraw/fin_num`: from the person's account into the institution's
/// collection account, with the person's withdraw consent.
pub(crate) async fn withdraw(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (caller, params) = authorized_json(&testbed, &headers, "transfer", body).await?;
    let institution = &caller.institution;
    let bank_tran_id = bank_tran_id(&params, &caller)?;
    let dps_print_content = params.text("dps_print_content", 20)?;
    let fintech_use_num = params.fintech_use_num("fintech_use_num")?;
    let wd_print_content = params.opt_text("wd_print_content", 20)?;
    let amount = params.amount("tran_amt")?;
    params.dtime("tran_dtime")?;
    requester_account(&params)?;
    params.text("req_client_num", 20)?;
    params.one_of("transfer_purpose", &["TR", "ST", "RC"])?;
    for optional in ["recv_client_name", "sub_frnc_name", "sub_frnc_num"] {
        params.opt_text(optional, 20)?;
    }
    testbed.claim_bank_tran_id(&caller, &bank_tran_id)?;
    let collection = testbed
        .contract_account(institution.collection_account)
        .await?;
    check_contract_account(&params, &collection)?;
    let registration = testbed.registration(&caller, &fintech_use_num).await?;
    let now = testbed.now();
    registration.require_transfer_consent(&now)?;
    let block = BankBlock::ok(&bank_tran_id, &registration.bank_code, &now);
    let fault = testbed
        .reach_bank("withdraw", &registration.bank_code, &block)
        .await?;
    let (forced_refusal, after) = split_fault(fault);
    let wd_text = wd_print_content.unwrap_or_else(|| institution.name.clone());
    let movement = Movement {
        institution_id: institution.id,
        bank_tran_date: clock::date(&now),
        bank_tran_id,
        kind: Kind::Withdraw,
        from: registration.account_id,
        to: collection.id,
        amount,
        user_seq_no: Some(registration.user_seq_no.clone()),
        fintech_use_num: Some(fintech_use_num.clone()),
        wd_print_content: wd_text.clone(),
        dps_print_content: dps_print_content.clone(),
        debit_counterpart: Party {
            name: collection.holder_name.clone(),
            bank_code: collection.bank_code.clone(),
            account_num: collection.account_num.clone(),
        },
        credit_counterpart: Party {
            name: registration.holder_name.clone(),
            bank_code: registration.bank_code.clone(),
            account_num: registration.account_num.clone(),
        },
        forced_refusal,
    };
    if let Some(Fault::Late { after_ms, answer }) = after {
        testbed.land_later(movement, std::time::Duration::from_millis(after_ms));
        return Err(late_answer(answer, &block));
    }
    let (outcome, withdrawn_today) = testbed
        .db()
        .write_at(move |conn, at| -> Result<_, ApiError> {
            let outcome = ledger::apply(conn, &movement, at)?;
            Ok((outcome, ledger::withdrawn_today(conn, &movement)?))
        })
        .await?;
    after_commit(after, &block)?;
    match outcome {
        Outcome::Refused {
            bank_rsp_code,
            message,
        } => Err(ApiError::bank(block.refused(&bank_rsp_code, &message))),
        Outcome::Done { .. } => Ok(wire::ok(
            &now,
            Withdrawn {
                dps_bank_code_sub: bank_code_sub(&collection.bank_code),
                dps_bank_code_std: collection.bank_code,
                dps_bank_name: collection.bank_name,
                dps_account_num_masked: mask(&collection.account_num),
                dps_print_content,
                dps_account_holder_name: collection.holder_name,
                person: PersonSide::new(
                    block,
                    &PersonAccount::registered(registration),
                    &wd_text,
                    amount,
                ),
                wd_limit_remain_amt: (ledger::USER_DAILY_LIMIT - withdrawn_today)
                    .max(0)
                    .to_string(),
            },
        )),
    }
}

#[derive(Serialize)]
struct DepositItem {
    tran_no: String,
    #[serde(flatten)]
    person: PersonSide,
    cms_num: String,
}

#[derive(Serialize)]
struct Deposited {
    wd_bank_code_std: String,
    wd_bank_code_sub: String,
    wd_bank_name: String,
    wd_account_num_masked: String,
    wd_print_content: String,
    wd_account_holder_name: String,
    res_cnt: String,
    res_list: Vec<DepositItem>,
}

/// How a deposit names its target.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum DepositTarget {
    FintechUseNum,
    AccountNum,
}

/// `POST /v2.0/transfer/deposit/fin_num`.
pub(crate) async fn deposit_fin_num(
    state: State<Testbed>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    deposit(state, headers, body, DepositTarget::FintechUseNum).await
}

/// `POST /v2.0/transfer/deposit/acnt_num`.
pub(crate) async fn deposit_acnt_num(
    state: State<Testbed>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    deposit(state, headers, body, DepositTarget::AccountNum).await
}

/// From the institution's payout account into an account; one item per request.
async fn deposit(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    target_kind: DepositTarget,
) -> Result<Response, ApiError> {
    let (caller, params) = authorized_json(&testbed, &headers, "oob", body).await?;
    let institution = caller.institution.clone();
    let pass_phrase = params.text("wd_pass_phrase", 20)?;
    let wd_print_content = params.text("wd_print_content", 20)?;
    let name_check = params.one_of("name_check_option", &["on", "off"])? == "on";
    params.dtime("tran_dtime")?;
    if params.text("req_cnt", 5)? != "1" {
        return Err(ApiError::malformed("req_cnt", "1 이어야 합니다"));
    }
    let items = params.list("req_list")?;
    if items.len() != 1 {
        return Err(ApiError::malformed("req_list", "한 건이어야 합니다"));
    }
    let item = Params::from_value("req_list", &items[0])?;
    let tran_no = item.text("tran_no", 2)?;
    let bank_tran_id = bank_tran_id(&item, &caller)?;
    let named = match target_kind {
        DepositTarget::FintechUseNum => (Some(item.fintech_use_num("fintech_use_num")?), None),
        DepositTarget::AccountNum => (
            None,
            Some((
                item.bank_code("bank_code_std")?,
                item.account_num("account_num")?,
                item.text("account_holder_name", 20)?,
            )),
        ),
    };
    let print_content = item.text("print_content", 20)?;
    let amount = item.amount("tran_amt")?;
    let requester = requester_account(&item)?;
    item.text("req_client_num", 20)?;
    item.one_of("transfer_purpose", &["TR", "ST", "AU"])?;
    let cms_num = item.opt_text("cms_num", 20)?.unwrap_or_default();
    testbed.claim_bank_tran_id(&caller, &bank_tran_id)?;
    let payout = testbed.contract_account(institution.payout_account).await?;
    check_contract_account(&params, &payout)?;
    if pass_phrase != "NONE" {
        return Err(ApiError::new("A0307", "출금 비밀번호가 일치하지 않습니다"));
    }
    let now = testbed.now();
    let mut block = BankBlock::ok(&bank_tran_id, "", &now);
    let item_failure = |block: BankBlock, bank_rsp_code: &str, message: &str| {
        let refused = block.refused(bank_rsp_code, message);
        deposit_answer(
            &now,
            &payout,
            &wd_print_content,
            DepositItem {
                tran_no: tran_no.clone(),
                person: PersonSide::unknown(refused, &print_content, amount),
                cms_num: cms_num.clone(),
            },
            false,
        )
    };
    let (target, holder_claimed) = match named {
        (Some(fintech_use_num), _) => {
            let registration = testbed.registration(&caller, &fintech_use_num).await?;
            let account = testbed.account_by_id(registration.account_id).await?;
            let alias = registration.account_alias;
            (
                PersonAccount {
                    account,
                    fintech_use_num,
                    alias,
                },
                None,
            )
        }
        (None, Some((bank, number, holder))) => {
            block.bank_code_tran = bank.clone();
            match testbed.account_by_number(&bank, &number).await? {
                Some(account) => (
                    PersonAccount {
                        account,
                        fintech_use_num: String::new(),
                        alias: String::new(),
                    },
                    Some(holder),
                ),
                None => return Ok(item_failure(block, "412", "계좌번호 오류 (해당 계좌 없음)")),
            }
        }
        (None, None) => unreachable!("a deposit names its target one way or the other"),
    };
    block.bank_code_tran = target.account.bank_code.clone();
    let fault = match testbed
        .reach_bank("deposit", &target.account.bank_code, &block)
        .await
    {
        Ok(fault) => fault,
        // A bank that refuses (out of service) fails the item, as the center reports deposits;
        // a timeout or a dropped connection stays what it is: an unknown outcome.
        Err(error) => match error.bank {
            Some(refused) if error.rsp_code == code::BANK_ERROR => {
                let message = refused.bank_rsp_message.clone();
                return Ok(item_failure(*refused, "499", &message));
            }
            _ => return Err(error),
        },
    };
    let (mut forced_refusal, after) = split_fault(fault);
    if name_check
        && holder_claimed
            .as_deref()
            .is_some_and(|h| h != target.account.holder_name)
    {
        forced_refusal.get_or_insert_with(|| "815".to_owned());
    }
    let movement = Movement {
        institution_id: institution.id,
        bank_tran_date: clock::date(&now),
        bank_tran_id,
        kind: Kind::Deposit,
        from: payout.id,
        to: target.account.id,
        amount,
        user_seq_no: None,
        fintech_use_num: (!target.fintech_use_num.is_empty())
            .then(|| target.fintech_use_num.clone()),
        wd_print_content: wd_print_content.clone(),
        dps_print_content: print_content.clone(),
        debit_counterpart: Party {
            name: target.account.holder_name.clone(),
            bank_code: target.account.bank_code.clone(),
            account_num: target.account.account_num.clone(),
        },
        credit_counterpart: requester,
        forced_refusal,
    };
    if let Some(Fault::Late { after_ms, answer }) = after {
        testbed.land_later(movement, std::time::Duration::from_millis(after_ms));
        return Err(late_answer(answer, &block));
    }
    let outcome = testbed
        .db()
        .write_at(move |conn, at| ledger::apply(conn, &movement, at))
        .await?;
    after_commit(after, &block)?;
    let answered = |bank: BankBlock| DepositItem {
        tran_no: tran_no.clone(),
        person: PersonSide::new(bank, &target, &print_content, amount),
        cms_num: cms_num.clone(),
    };
    Ok(match outcome {
        Outcome::Done { .. } => {
            deposit_answer(&now, &payout, &wd_print_content, answered(block), true)
        }
        Outcome::Refused {
            bank_rsp_code,
            message,
        } => {
            let message = if bank_rsp_code == "815" {
                "수취인 성명 불일치".to_owned()
            } else {
                message
            };
            deposit_answer(
                &now,
                &payout,
                &wd_print_content,
                answered(block.refused(&bank_rsp_code, &message)),
                false,
            )
        }
    })
}

fn deposit_answer(
    now: &chrono::DateTime<chrono::FixedOffset>,
    payout: &AccountView,
    wd_print_content: &str,
    item: DepositItem,
    ok: bool,
) -> Response {
    let body = Deposited {
        wd_bank_code_std: payout.bank_code.clone(),
        wd_bank_code_sub: bank_code_sub(&payout.bank_code),
        wd_bank_name: payout.bank_name.clone(),
        wd_account_num_masked: mask(&payout.account_num),
        wd_print_content: wd_print_content.to_owned(),
        wd_account_holder_name: payout.holder_name.clone(),
        res_cnt: "1".into(),
        res_list: vec![item],
    };
    if ok {
        wire::ok(now, body)
    } else {
        wire::with_code(now, "A0009", "처리 중 실패한 건이 있습니다", body)
    }
}

#[derive(Serialize, Default)]
struct ResultItem {
    tran_no: String,
    #[serde(flatten)]
    bank: Option<BankBlock>,
    wd_bank_code_std: String,
    wd_bank_code_sub: String,
    wd_bank_name: String,
    wd_savings_bank_name: String,
    wd_fintech_use_num: String,
    wd_account_num_masked: String,
    wd_print_content: String,
    wd_account_holder_name: String,
    dps_bank_code_std: String,
    dps_bank_code_sub: String,
    dps_bank_name: String,
    dps_savings_bank_name: String,
    dps_fintech_use_num: String,
    dps_account_num_masked: String,
    dps_print_content: String,
    dps_account_holder_name: String,
    tran_amt: String,
}

#[derive(Serialize)]
struct Results {
    res_cnt: String,
    res_list: Vec<ResultItem>,
}

/// One item asked of `transfer/result`.
struct Asked {
    tran_no: String,
    bank_tran_id: String,
    date: String,
    amount: i64,
}

/// `POST /v2.0/transfer/result`: the true outcome of up to 25 transfers, including those whose
/// answer was lost. A transfer that never reached a bank is not found: `A0310` for a single
/// item, otherwise an item without a bank verdict under `A0009`.
pub(crate) async fn result(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (caller, params) = authorized_json(&testbed, &headers, "oob", body).await?;
    let kind = if params.one_of("check_type", &["1", "2"])? == "1" {
        Kind::Withdraw
    } else {
        Kind::Deposit
    };
    params.dtime("tran_dtime")?;
    let req_cnt = params.text("req_cnt", 2)?;
    let items = params.list("req_list")?;
    if items.is_empty() || items.len() > 25 || req_cnt != items.len().to_string() {
        return Err(ApiError::malformed(
            "req_cnt",
            "1~25건, req_list의 건수와 같아야 합니다",
        ));
    }
    let mut asked = Vec::with_capacity(items.len());
    for item in items {
        let item = Params::from_value("req_list", item)?;
        asked.push(Asked {
            tran_no: item.text("tran_no", 2)?,
            bank_tran_id: item
                .bank_tran_id("org_bank_tran_id", &caller.institution.client_use_code)?,
            date: item
                .date("org_bank_tran_date")?
                .format("%Y%m%d")
                .to_string(),
            amount: item.amount("org_tran_amt")?,
        });
    }
    let institution_id = caller.institution.id;
    let found = testbed
        .db()
        .read(move |conn| -> Result<_, DbError> {
            let mut out = Vec::with_capacity(asked.len());
            for a in asked {
                let record = ledger::find(conn, institution_id, &a.date, &a.bank_tran_id)?
                    .filter(|r| r.kind == kind.as_str() && r.amount == a.amount);
                out.push((a, record));
            }
            Ok(out)
        })
        .await?;
    let single = found.len() == 1;
    let mut all_found = true;
    let mut res_list = Vec::with_capacity(found.len());
    for (asked, record) in found {
        let Some(record) = record else {
            all_found = false;
            if single {
                return Err(ApiError::new("A0310", "해당 거래가 없습니다"));
            }
            res_list.push(ResultItem {
                tran_no: asked.tran_no,
                bank: Some(BankBlock {
                    bank_tran_id: asked.bank_tran_id,
                    bank_tran_date: asked.date,
                    bank_code_tran: String::new(),
                    bank_rsp_code: String::new(),
                    bank_rsp_message: "해당 거래가 없습니다".into(),
                }),
                ..ResultItem::default()
            });
            continue;
        };
        let from = testbed.account_by_id(record.from).await?;
        let to = testbed.account_by_id(record.to).await?;
        let person_bank = if kind == Kind::Withdraw {
            &from.bank_code
        } else {
            &to.bank_code
        };
        let fintech = record.fintech_use_num.clone().unwrap_or_default();
        let (wd_fintech, dps_fintech) = if kind == Kind::Withdraw {
            (fintech, String::new())
        } else {
            (String::new(), fintech)
        };
        res_list.push(ResultItem {
            tran_no: asked.tran_no,
            bank: Some(BankBlock {
                bank_tran_id: asked.bank_tran_id,
                bank_tran_date: asked.date,
                bank_code_tran: person_bank.clone(),
                bank_rsp_code: record.bank_rsp_code,
                bank_rsp_message: record.bank_rsp_message,
            }),
            wd_bank_code_sub: bank_code_sub(&from.bank_code),
            wd_bank_code_std: from.bank_code,
            wd_bank_name: from.bank_name,
            wd_savings_bank_name: String::new(),
            wd_fintech_use_num: wd_fintech,
            wd_account_num_masked: mask(&from.account_num),
            wd_print_content: record.wd_print_content,
            wd_account_holder_name: from.holder_name,
            dps_bank_code_sub: bank_code_sub(&to.bank_code),
            dps_bank_code_std: to.bank_code,
            dps_bank_name: to.bank_name,
            dps_savings_bank_name: String::new(),
            dps_fintech_use_num: dps_fintech,
            dps_account_num_masked: mask(&to.account_num),
            dps_print_content: record.dps_print_content,
            dps_account_holder_name: to.holder_name,
            tran_amt: record.amount.to_string(),
        });
    }
    let body = Results {
        res_cnt: res_list.len().to_string(),
        res_list,
    };
    let now = testbed.now();
    Ok(if all_found {
        wire::ok(&now, body)
    } else {
        wire::with_code(&now, "A0009", "조회되지 않은 거래가 있습니다", body)
    })
}

#[derive(Serialize)]
struct Claimed {
    #[serde(flatten)]
    bank: BankBlock,
    org_bank_tran_date: String,
    org_bank_tran_id: String,
    org_tran_amt: String,
    claim_bank_tran_date: String,
    claim_bank_tran_id: String,
    claim_state: String,
}

/// `POST /v2.0/return/claim`: a claim to return a deposit made by mistake. The claim is
/// recorded as received; returning the money is the receiving bank's business and not modelled.
pub(crate) async fn return_claim(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (caller, params) = authorized_json(&testbed, &headers, "oob", body).await?;
    let code_of = &caller.institution.client_use_code;
    let bank_tran_id = bank_tran_id(&params, &caller)?;
    let org_date = params
        .date("org_bank_tran_date")?
        .format("%Y%m%d")
        .to_string();
    let org_id = params.bank_tran_id("org_bank_tran_id", code_of)?;
    let org_amount = params.amount("org_tran_amt")?;
    params.bank_code("org_wd_bank_code_std")?;
    let claim_code = params.text("claim_code", 2)?;
    let claim_message = params.opt_text("claim_message", 100)?.unwrap_or_default();
    let total_return = params.one_of("total_return_yn", &["Y", "N"])?;
    for optional in [
        "return_account_num",
        "use_org_contact",
        "use_org_email",
        "org_dps_account_num",
        "org_dps_fintech_use_num",
    ] {
        params.opt_text(optional, 100)?;
    }
    testbed.claim_bank_tran_id(&caller, &bank_tran_id)?;
    let now = testbed.now();
    let claim_date = clock::date(&now);
    let created = clock::dtime(&now);
    let institution_id = caller.institution.id;
    let (claim_id, claim_day, org) = (
        bank_tran_id.clone(),
        claim_date.clone(),
        (org_date.clone(), org_id.clone()),
    );
    let bank_code = testbed
        .db()
        .write(move |conn| -> Result<String, ApiError> {
            let transfer: Option<(i64, String, i64)> = conn
                .query_row(
                    "SELECT t.id, a.bank_code, t.amount FROM transfers t JOIN accounts a ON a.id = t.to_account
                     WHERE t.institution_id = ?1 AND t.bank_tran_date = ?2 AND t.bank_tran_id = ?3
                       AND t.kind = 'deposit' AND t.status = 'done'",
                    params![institution_id, org.0, org.1],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(DbError::from)?;
            let Some((transfer_id, bank, _)) = transfer.filter(|t| t.2 == org_amount) else {
                return Err(ApiError::new("A0310", "해당 거래가 없습니다"));
            };
            let inserted = conn
                .execute(
                    "INSERT OR IGNORE INTO return_claims (institution_id, claim_bank_tran_date,
                        claim_bank_tran_id, transfer_id, claim_code, claim_message, total_return_yn, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![institution_id, claim_day, claim_id, transfer_id, claim_code, claim_message, total_return, created],
                )
                .map_err(DbError::from)?;
            if inserted == 0 {
                return Err(ApiError::new(code::DUPLICATE_BANK_TRAN_ID, "은행거래고유번호(bank_tran_id)가 중복되었습니다"));
            }
            Ok(bank)
        })
        .await?;
    Ok(wire::ok(
        &now,
        Claimed {
            bank: BankBlock::ok(&bank_tran_id, &bank_code, &now),
            org_bank_tran_date: org_date,
            org_bank_tran_id: org_id,
            org_tran_amt: org_amount.to_string(),
            claim_bank_tran_date: claim_date,
            claim_bank_tran_id: bank_tran_id,
            claim_state: "received".into(),
        },
    ))
}

#[derive(Serialize)]
struct ClaimResult {
    claim_bank_tran_date: String,
    claim_bank_tran_id: String,
    org_bank_tran_date: String,
    org_bank_tran_id: String,
    org_tran_amt: String,
    claim_code: String,
    claim_state: String,
}

/// `POST /v2.0/return/result`: where a return claim stands.
pub(crate) async fn return_result(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (caller, params) = authorized_json(&testbed, &headers, "oob", body).await?;
    let date = params
        .date("claim_bank_tran_date")?
        .format("%Y%m%d")
        .to_string();
    let id = params.bank_tran_id("claim_bank_tran_id", &caller.institution.client_use_code)?;
    let institution_id = caller.institution.id;
    let (d, i) = (date.clone(), id.clone());
    let found = testbed
        .db()
        .read(move |conn| -> Result<_, DbError> {
            Ok(conn
                .query_row(
                    "SELECT t.bank_tran_date, t.bank_tran_id, t.amount, c.claim_code, c.state
                     FROM return_claims c JOIN transfers t ON t.id = c.transfer_id
                     WHERE c.institution_id = ?1 AND c.claim_bank_tran_date = ?2 AND c.claim_bank_tran_id = ?3",
                    params![institution_id, d, i],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                        ))
                    },
                )
                .optional()?)
        })
        .await?;
    let (org_date, org_id, amount, claim_code, state) =
        found.ok_or_else(|| ApiError::new("A0310", "해당 거래가 없습니다"))?;
    Ok(wire::ok(
        &testbed.now(),
        ClaimResult {
            claim_bank_tran_date: date,
            claim_bank_tran_id: id,
            org_bank_tran_date: org_date,
            org_bank_tran_id: org_id,
            org_tran_amt: amount.to_string(),
            claim_code,
            claim_state: state,
        },
    ))
}
