//! Moving money in tests: withdraw and deposit calls whose answers may be lost, and their
//! settlement through `transfer/result`. The read-outs that prove money is conserved are
//! `moa_testbed::harness`'s.

use serde_json::{Value, json};

use super::{Bed, User};

/// What a client knows after a transfer call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `A0000`: applied.
    Applied,
    /// A definite refusal with the center's code (and the bank's, if any): nothing moved.
    Refused(String),
    /// A timeout code or no readable answer: only `transfer/result` can tell.
    Unknown(String),
}

/// Codes after which the transfer may or may not have been applied.
pub const UNKNOWN_CODES: &[&str] = &["A0001", "A0007", "A0017", "A0003"];

/// Reads a transfer call's answer, keeping a lost answer as `Unknown`.
pub fn classify(answer: Result<Value, String>) -> Answer {
    match answer {
        Err(error) => Answer::Unknown(error),
        Ok(body) => {
            let code = body["rsp_code"].as_str().unwrap_or("").to_owned();
            if code == "A0000" {
                Answer::Applied
            } else if UNKNOWN_CODES.contains(&code.as_str()) {
                Answer::Unknown(code)
            } else if code == "A0009" || code == "A0002" {
                let bank = body["res_list"][0]["bank_rsp_code"]
                    .as_str()
                    .or(body["bank_rsp_code"].as_str())
                    .unwrap_or("");
                Answer::Refused(format!("{code}/{bank}"))
            } else {
                Answer::Refused(code)
            }
        }
    }
}

impl Bed {
    /// `POST path` whose answer may be lost: a transport or body error comes back as `Err`.
    pub async fn post_lossy(&self, path: &str, token: &str, body: &Value) -> Result<Value, String> {
        let response = self
            .post_request(path, token, body)
            .send()
            .await
            .map_err(|e| format!("send: {e}"))?;
        assert!(
            !response.status().is_server_error(),
            "{path}: {}",
            response.status()
        );
        response.json().await.map_err(|e| format!("read: {e}"))
    }

    /// The withdraw request body: `amount` from `fintech_use_num` into the collection account.
    pub fn withdraw_body(
        &self,
        institution: usize,
        id: &str,
        fintech_use_num: &str,
        amount: i64,
    ) -> Value {
        let collection = &self.institution(institution).collection_account;
        json!({
            "bank_tran_id": id,
            "cntr_account_type": "N",
            "cntr_account_num": collection.account_num,
            "dps_print_content": "모아 이체",
            "fintech_use_num": fintech_use_num,
            "wd_print_content": "모아",
            "tran_amt": amount.to_string(),
            "tran_dtime": self.tran_dtime(),
            "req_client_name": "홍길동",
            "req_client_fintech_use_num": fintech_use_num,
            "req_client_num": "MOA0001",
            "transfer_purpose": "TR",
        })
    }

    /// The deposit request body: `amount` from the payout account into `fintech_use_num`.
    pub fn deposit_body(
        &self,
        institution: usize,
        id: &str,
        fintech_use_num: &str,
        amount: i64,
    ) -> Value {
        let payout = &self.institution(institution).payout_account;
        json!({
            "cntr_account_type": "N",
            "cntr_account_num": payout.account_num,
            "wd_pass_phrase": "NONE",
            "wd_print_content": "모아",
            "name_check_option": "off",
            "tran_dtime": self.tran_dtime(),
            "req_cnt": "1",
            "req_list": [{
                "tran_no": "1",
                "bank_tran_id": id,
                "fintech_use_num": fintech_use_num,
                "print_content": "모아 이체",
                "tran_amt": amount.to_string(),
                "req_client_name": "홍길동",
                "req_client_bank_code": "004",
                "req_client_account_num": "1234567890",
                "req_client_num": "MOA0001",
                "transfer_purpose": "TR",
            }],
        })
    }

    pub async fn withdraw(
        &self,
        user: &User,
        id: &str,
        fintech_use_num: &str,
        amount: i64,
    ) -> Result<Value, String> {
        let body = self.withdraw_body(user.institution, id, fintech_use_num, amount);
        self.post_lossy("/v2.0/transfer/withdraw/fin_num", &user.access_token, &body)
            .await
    }

    pub async fn deposit(
        &self,
        institution: usize,
        oob: &str,
        id: &str,
        fintech_use_num: &str,
        amount: i64,
    ) -> Result<Value, String> {
        let body = self.deposit_body(institution, id, fintech_use_num, amount);
        self.post_lossy("/v2.0/transfer/deposit/fin_num", oob, &body)
            .await
    }

    /// `transfer/result` for one transfer: `Some(true)` applied, `Some(false)` refused by the
    /// bank, `None` never reached a bank (`A0310`).
    pub async fn settle(&self, oob: &str, withdraw: bool, id: &str, amount: i64) -> Option<bool> {
        let today = self.today().format("%Y%m%d").to_string();
        self.settle_on(oob, withdraw, id, amount, &today).await
    }

    /// [`Bed::settle`] for a transfer filed under `date` (`yyyyMMdd`).
    pub async fn settle_on(
        &self,
        oob: &str,
        withdraw: bool,
        id: &str,
        amount: i64,
        date: &str,
    ) -> Option<bool> {
        let body = json!({
            "check_type": if withdraw { "1" } else { "2" },
            "tran_dtime": self.tran_dtime(),
            "req_cnt": "1",
            "req_list": [{
                "tran_no": "1",
                "org_bank_tran_id": id,
                "org_bank_tran_date": date,
                "org_tran_amt": amount.to_string(),
            }],
        });
        let answer = self.post("/v2.0/transfer/result", oob, &body).await;
        match answer["rsp_code"].as_str() {
            Some("A0000") => Some(answer["res_list"][0]["bank_rsp_code"] == "000"),
            Some("A0310") => None,
            _ => panic!("transfer/result answered {answer}"),
        }
    }
}
