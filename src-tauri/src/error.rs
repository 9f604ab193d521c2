//! The one error type at the IPC edge: a stable code, nothing else. The words for each code live
//! in the UI's dictionaries; the shell never sends text a person reads, so it cannot send a
//! token, a value or a secret by mistake either.

use moa_core::{Code, Error};

use crate::ipc::IpcError;

/// An error for the UI.
pub fn ipc_error(code: Code) -> IpcError {
    IpcError { code }
}

/// A core error for the UI; what it was is logged, without secrets (core errors carry none).
pub fn from_core(error: &Error) -> IpcError {
    let code = error.code();
    log::warn!("{code}: {error}");
    ipc_error(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_core_error_keeps_its_stable_code_and_carries_no_words() {
        let error = from_core(&Error::Invalid(Code::SameAccount));
        assert_eq!(error.code, Code::SameAccount);
        let sent = serde_json::to_value(&error).unwrap();
        assert_eq!(sent, serde_json::json!({"code": "same_account"}));
    }
}
