//! `bank/status`: which participating banks can be reached now.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;

use crate::state::Testbed;
use crate::wire::{self, ApiError};

#[derive(Serialize)]
struct BankStatus {
    bank_code_std: String,
    bank_name: String,
    bank_status: String,
}

#[derive(Serialize)]
struct Statuses {
    res_cnt: String,
    res_list: Vec<BankStatus>,
}

/// `GET /v2.0/bank/status`: every participating bank with `Y`, `D`, `L` or `E`.
pub(crate) async fn status(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    testbed.authorize(&headers, "oob").await?;
    let res_list: Vec<BankStatus> = testbed
        .banks()
        .into_iter()
        .map(|(code, bank)| BankStatus {
            bank_code_std: code,
            bank_name: bank.name,
            bank_status: bank.status,
        })
        .collect();
    Ok(wire::ok(
        &testbed.now(),
        Statuses {
            res_cnt: res_list.len().to_string(),
            res_list,
        },
    ))
}
