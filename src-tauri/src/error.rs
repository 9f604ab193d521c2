//! The one error type at the IPC edge: a stable code, nothing else. The words for each code live
//! in the UI's dictionaries; the shell never sends text a person reads, so it cannot send a
//! token, a value or a secret by mistake either.

use moa_core::{Code, Error};

use crate::ipc::IpcError;

/// An error for the UI.
pub fn ipc_error(code: Code) -> IpcError {
    IpcError { code }
}

/// A core error for the UI; what it was is logged by its code and kind only.
pub fn from_core(error: &Error) -> IpcError {
    log::warn!("{}", logged(error));
    ipc_error(error.code())
}

/// The log line for a core error: its code and a fixed word for its kind, never its text,
/// which can quote a value (an id, a path, what a lower layer said).
fn logged(error: &Error) -> String {
    format!("{} ({})", error.code(), error.kind())
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

    #[test]
    fn a_core_error_is_logged_by_its_code_and_kind_never_the_values_it_holds() {
        let error = Error::NoSuchTransfer("3f9c1e-idempotency-key".into());
        assert!(error.to_string().contains("3f9c1e"), "the text quotes it");
        let line = logged(&error);
        assert_eq!(line, "no_such_transfer (not found)");
        assert!(!line.contains("3f9c1e"), "{line}");
        let store = Error::Store(moa_core::store::StoreError::Corrupt("transfer state"));
        assert_eq!(logged(&store), "store (store)");
    }
}
