//! The participating banks' state: `bank/status` (scope `oob`). One call answers for every bank.

use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::envelope::ResponseHeader;
use crate::error::Error;
use crate::fields::BankStatus;
use crate::ids::BankCode;
use crate::token::OobToken;
use crate::wire;

/// `GET /v2.0/bank/status`.
pub const BANK_STATUS: &str = "/v2.0/bank/status";

/// One bank's state.
#[derive(Debug, Clone, Deserialize)]
pub struct BankState {
    /// The bank.
    pub bank_code_std: BankCode,
    /// Its name.
    #[serde(default, with = "wire::string")]
    pub bank_name: String,
    /// Whether it takes calls now.
    pub bank_status: BankStatus,
}

/// The answer of `bank/status`.
#[derive(Debug, Clone, Deserialize)]
pub struct BankStatusList {
    /// The common header.
    #[serde(flatten)]
    pub header: ResponseHeader,
    /// How many banks follow.
    #[serde(default, deserialize_with = "wire::count")]
    pub res_cnt: u32,
    /// Every participating bank.
    #[serde(default)]
    pub res_list: Vec<BankState>,
}

#[derive(Serialize)]
struct NoQuery {}

impl Client {
    /// `GET /v2.0/bank/status`: which banks are available, down, not yet open or gone.
    pub async fn bank_status(&self, token: &OobToken) -> Result<BankStatusList, Error> {
        self.get(BANK_STATUS, token.access_token(), &NoQuery {})
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::decode_answer;

    #[test]
    fn bank_status_decodes_every_state() {
        let body = r#"{"api_tran_id":"x","api_tran_dtm":"20240101120000123","rsp_code":"A0000",
            "rsp_message":"","res_cnt":"4","res_list":[
            {"bank_code_std":"097","bank_name":"오픈은행","bank_status":"Y"},
            {"bank_code_std":"088","bank_name":"신한은행","bank_status":"D"},
            {"bank_code_std":"092","bank_name":"토스뱅크","bank_status":"L"},
            {"bank_code_std":"027","bank_name":"한국씨티은행","bank_status":"E"}]}"#;
        let s: BankStatusList = decode_answer(BANK_STATUS, 200, body.as_bytes()).expect("decode");
        let states: Vec<BankStatus> = s.res_list.iter().map(|b| b.bank_status.clone()).collect();
        assert_eq!(
            states,
            [
                BankStatus::Available,
                BankStatus::Outage,
                BankStatus::NotOpened,
                BankStatus::Terminated
            ]
        );
    }
}
