//! The small code-valued fields of requests and answers (docs/protocol.md §3): account types and
//! states, inquiry options, transfer purposes, contract account types and the like.
//!
//! Each keeps unknown codes as `Other`, so a code the center adds later does not break decoding.

use crate::wire::code_enum;

code_enum!(
    /// `account_type`.
    AccountType {
        /// `1` demand deposit (입출금).
        Demand = "1",
        /// `2` savings or installment (예적금).
        Savings = "2",
        /// `6` trust (수익증권).
        Trust = "6",
        /// `T` combined (종합계좌).
        Combined = "T",
    }
);

code_enum!(
    /// `account_state` in `account/list`.
    AccountState {
        /// `01` in use.
        InUse = "01",
        /// `03` registration requested.
        RegistrationRequested = "03",
        /// `05` cancellation requested.
        CancelRequested = "05",
        /// `09` cancelled.
        Cancelled = "09",
    }
);

code_enum!(
    /// `account_holder_type`.
    AccountHolderType {
        /// `P` a person.
        Person = "P",
    }
);

code_enum!(
    /// `inquiry_type` of a history request.
    InquiryType {
        /// `A` deposits and withdrawals.
        All = "A",
        /// `I` deposits only.
        In = "I",
        /// `O` withdrawals only.
        Out = "O",
    }
);

code_enum!(
    /// `inquiry_base` of a history request.
    InquiryBase {
        /// `D` by date.
        Date = "D",
        /// `T` by date and time (uses `from_time` and `to_time`).
        Time = "T",
    }
);

code_enum!(
    /// `sort_order`.
    SortOrder {
        /// `D` newest first.
        Descending = "D",
        /// `A` oldest first.
        Ascending = "A",
    }
);

code_enum!(
    /// `bank_status` in `bank/status`.
    BankStatus {
        /// `Y` available (거래가능).
        Available = "Y",
        /// `D` outage (장애).
        Outage = "D",
        /// `L` not yet opened (개시이전).
        NotOpened = "L",
        /// `E` terminated (종료처리).
        Terminated = "E",
    }
);

code_enum!(
    /// `transfer_purpose`.
    TransferPurpose {
        /// `TR` remittance.
        Remittance = "TR",
        /// `ST` payment.
        Payment = "ST",
        /// `RC` top-up (withdraw only).
        TopUp = "RC",
        /// `AU` (deposit only).
        Au = "AU",
    }
);

code_enum!(
    /// `cntr_account_type`: what kind of contract account (약정계좌) is named.
    CntrAccountType {
        /// `N` an account.
        Account = "N",
        /// `C` a ledger account.
        Ledger = "C",
    }
);

code_enum!(
    /// `check_type` of `transfer/result`.
    CheckType {
        /// `1` a withdrawal.
        Withdraw = "1",
        /// `2` a deposit.
        Deposit = "2",
    }
);

code_enum!(
    /// `account_holder_info_type` of `inquiry/real_name`.
    AccountHolderInfoType {
        /// `" "` birth date (6 digits).
        BirthDate = " ",
        /// `1` resident registration number.
        ResidentNumber = "1",
        /// `2` foreigner registration number.
        ForeignerNumber = "2",
        /// `6` business registration number.
        BusinessNumber = "6",
        /// `N` skip the holder check.
        Skip = "N",
    }
);

code_enum!(
    /// `name_check_option` of a deposit.
    NameCheckOption {
        /// `on`: check the recipient's name.
        On = "on",
        /// `off`: do not.
        Off = "off",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknowns_survive() {
        let t: AccountType = serde_json::from_str("\"T\"").expect("decode");
        assert_eq!(t, AccountType::Combined);
        let s: AccountState = serde_json::from_str("\"07\"").expect("decode");
        assert_eq!(s, AccountState::Other("07".into()));
        assert_eq!(
            serde_json::to_string(&TransferPurpose::Remittance).expect("json"),
            "\"TR\""
        );
        assert_eq!(CheckType::Deposit.code(), "2");
    }

    #[test]
    fn birth_date_holder_info_type_is_a_single_space() {
        // The code is a blank; decoding must not trim it into something else.
        assert_eq!(AccountHolderInfoType::BirthDate.code(), " ");
        assert_eq!(
            serde_json::to_string(&AccountHolderInfoType::BirthDate).expect("json"),
            "\" \""
        );
        let t: AccountHolderInfoType = serde_json::from_str("\" \"").expect("decode");
        assert_eq!(t, AccountHolderInfoType::BirthDate);
        let t: AccountHolderInfoType = serde_json::from_str("\" 1\"").expect("decode");
        assert_eq!(t, AccountHolderInfoType::ResidentNumber);
    }
}
