//! The one error type at the IPC edge: a stable code from the core, and a safe message in the
//! person's language. Messages never carry a token, a code or a secret — they are chosen from
//! this table, not passed through from lower layers.

use moa_core::{Code, Error};

use crate::ipc::{IpcError, Language};

/// The words for a stable code.
fn words(code: Code, language: Language) -> &'static str {
    let (ko, en) = match code.as_str() {
        "network" => (
            "모아 서버에 연결할 수 없습니다. 네트워크를 확인하세요.",
            "Cannot reach the Moa server. Check the network.",
        ),
        "center_unavailable" => (
            "오픈뱅킹 센터가 제때 응답하지 않았습니다. 잠시 후 다시 시도하세요.",
            "The open banking center did not answer in time. Try again shortly.",
        ),
        "center_refused" => (
            "오픈뱅킹 센터가 요청을 거절했습니다.",
            "The open banking center refused the request.",
        ),
        "device_refused" => (
            "이 기기를 서버가 알아보지 못했습니다. 앱을 다시 시작하세요.",
            "The server did not recognise this device. Restart the app.",
        ),
        "server_url_insecure" => (
            "서버 주소는 https여야 합니다(이 컴퓨터의 주소만 http 가능).",
            "The server's address must use https (http only on this computer).",
        ),
        "server_url_invalid" => (
            "서버 주소를 읽을 수 없습니다.",
            "The server's address cannot be read.",
        ),
        "no_such_recipient" => (
            "받는 분 은행에 그런 계좌가 없습니다. 계좌번호를 확인하세요.",
            "The recipient's bank has no such account. Check the number.",
        ),
        "bad_memo" => (
            "메모에 쓸 수 없는 문자가 있거나 너무 깁니다.",
            "The memo has characters it cannot hold, or is too long.",
        ),
        "idempotency_conflict" => (
            "같은 요청이 다른 내용으로 이미 보내졌습니다.",
            "The same request was already sent with other details.",
        ),
        "auth_expired" | "not_registered" => (
            "계좌 연결이 만료되었습니다. 계좌를 다시 연결하세요.",
            "The connection to your accounts has expired. Connect them again.",
        ),
        "consent_missing" | "no_transfer_consent" => (
            "이 계좌에 필요한 동의가 없습니다.",
            "This account lacks the consent this needs.",
        ),
        "consent_refused" => (
            "동의를 취소하여 아무것도 바뀌지 않았습니다.",
            "You cancelled the consent; nothing changed.",
        ),
        "registration_cancelled" => (
            "계좌 연결 창을 닫아 아무것도 바뀌지 않았습니다.",
            "The consent window was closed; nothing changed.",
        ),
        "registration_expired" => (
            "계좌 연결 시간이 지났습니다. 다시 시도하세요.",
            "The registration timed out. Please try again.",
        ),
        "registration_in_progress" => (
            "계좌 연결 창이 이미 열려 있습니다.",
            "The consent window is already open.",
        ),
        "center_insecure" => (
            "오픈뱅킹 센터 주소가 https가 아니어서 계좌 연결 창을 열지 않았습니다.",
            "The open banking center's address is not https, so the consent window was not opened.",
        ),
        "redirect_invalid" => (
            "모아 서버가 알려 준 돌아올 주소를 쓸 수 없어 계좌 연결 창을 열지 않았습니다.",
            "The Moa server gave a callback address Moa cannot use, so the consent window was not opened.",
        ),
        "bank_refused" => (
            "은행이 요청을 거절했습니다.",
            "The bank refused the request.",
        ),
        "limit" | "over_limit" => (
            "이체 한도를 넘었습니다.",
            "This is over the transfer limit.",
        ),
        "insufficient_funds" => (
            "출금 가능 금액이 부족합니다.",
            "Not enough money available in this account.",
        ),
        "amount_not_positive" => (
            "0원보다 큰 금액을 입력하세요.",
            "Enter an amount above zero.",
        ),
        "same_account" => (
            "보내는 계좌와 받는 계좌가 같습니다.",
            "The source and target accounts are the same.",
        ),
        "bad_bank_code" | "bad_account_number" => (
            "은행과 계좌번호를 확인하세요.",
            "Check the bank and account number.",
        ),
        "preflight_expired" => (
            "확인 후 시간이 지났습니다. 이체 내용을 다시 확인하세요.",
            "The check has expired. Please review the transfer again.",
        ),
        "outcome_unknown" => ("결과를 확인하는 중입니다.", "Confirming the outcome."),
        "no_such_account" => (
            "계좌를 찾을 수 없습니다.",
            "That account could not be found.",
        ),
        "not_configured" | "bad_client_use_code" => (
            "KFTC 연결 정보가 올바르지 않습니다.",
            "The KFTC settings are incomplete or invalid.",
        ),
        "vault" => (
            "운영체제 키체인에 접근할 수 없습니다.",
            "The system keychain is not available.",
        ),
        "sandbox" => (
            "샌드박스를 시작할 수 없습니다.",
            "The sandbox could not start.",
        ),
        "outside_hours" => (
            "지금은 이용할 수 없는 시간입니다.",
            "This is not available at this hour.",
        ),
        _ => (
            "요청을 처리하지 못했습니다.",
            "The request could not be completed.",
        ),
    };
    match language {
        Language::Ko => ko,
        Language::En => en,
    }
}

/// An error for the UI.
pub fn ipc_error(code: Code, language: Language) -> IpcError {
    IpcError {
        code,
        message: words(code, language).to_owned(),
    }
}

/// A core error for the UI; what it was is logged, without secrets (core errors carry none).
pub fn from_core(error: &Error, language: Language) -> IpcError {
    let code = error.code();
    log::warn!("{code}: {error}");
    IpcError {
        code,
        message: words(code, language).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_core_error_keeps_its_stable_code() {
        let error = from_core(&Error::Invalid(Code::SameAccount), Language::Ko);
        assert_eq!(error.code, Code::SameAccount);
    }
}
