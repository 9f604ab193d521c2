//! The rules a transfer is checked by before any server is asked: pure functions of what the
//! person typed, each with its tests. The server checks the rest (consent, limits, balance,
//! the recipient's name).

use std::time::Duration;

use super::{Recipient, TransferRequest};
use crate::error::{Code, Error, Result};

/// The longest memo a bank prints on a statement, in characters.
pub const MEMO_MAX: usize = 20;

/// Refuses what no server needs to be asked about: an amount not above zero, money sent to
/// the account it leaves, a recipient whose bank code or account number is not digits, and a
/// memo the statements cannot show as written.
pub fn check(request: &TransferRequest) -> Result<()> {
    if request.amount <= 0 {
        return Err(Error::Invalid(Code::AmountNotPositive));
    }
    match &request.to {
        Recipient::Own { account_id } if *account_id == request.from_account => {
            return Err(Error::Invalid(Code::SameAccount));
        }
        Recipient::Own { .. } => {}
        Recipient::External {
            bank_code,
            account_num,
        } => {
            if !is_digits(bank_code, 3..=3) {
                return Err(Error::Invalid(Code::BadBankCode));
            }
            check_account_number(account_num)?;
        }
    }
    check_memo(&request.memo)
}

fn is_digits(text: &str, len: std::ops::RangeInclusive<usize>) -> bool {
    len.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// An account number is 1 to 16 digits, as typed. Anything else — a letter, a space, a dash —
/// is refused rather than dropped: `12O4` with a letter O is not account `124`, and the person
/// must see what is sent.
pub fn check_account_number(account_num: &str) -> Result<()> {
    if is_digits(account_num, 1..=16) {
        Ok(())
    } else {
        Err(Error::Invalid(Code::BadAccountNumber))
    }
}

/// A memo is at most [`MEMO_MAX`] characters (spaces around it are not sent) and holds no
/// control character and no character that reorders text (U+061C, U+200E, U+200F,
/// U+202A–U+202E, U+2066–U+2069): it is printed on two people's statements, and a memo that
/// reads differently from what was typed is a way to mislead the recipient.
pub fn check_memo(memo: &str) -> Result<()> {
    let reorders = |c: char| matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if memo.chars().any(|c| c.is_control() || reorders(c)) || memo.trim().chars().count() > MEMO_MAX
    {
        return Err(Error::Invalid(Code::BadMemo));
    }
    Ok(())
}

/// The memo as it is sent and printed: without the spaces around it.
pub fn memo_as_sent(memo: &str) -> &str {
    memo.trim()
}

/// An amount as typed: whole won above zero, spaces around it ignored. Anything else — zero, a
/// sign, a fraction, a separator — is refused as [`Code::AmountNotPositive`].
pub fn parse_amount(typed: &str) -> Result<i64> {
    typed
        .trim()
        .parse()
        .ok()
        .filter(|a: &i64| *a > 0)
        .ok_or(Error::Invalid(Code::AmountNotPositive))
}

/// How long a checked transfer may wait for the person's confirmation: after this the limits,
/// the balance and the recipient's name it showed may no longer hold, and it is checked again.
pub const CONFIRM_WITHIN: Duration = Duration::from_secs(600);

/// Whether a checked transfer that has waited `waited` may still be confirmed.
pub fn still_confirmable(waited: Duration) -> bool {
    waited < CONFIRM_WITHIN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn external(bank_code: &str, account_num: &str, memo: &str) -> TransferRequest {
        TransferRequest {
            from_account: 1,
            to: Recipient::External {
                bank_code: bank_code.into(),
                account_num: account_num.into(),
            },
            amount: 1_000,
            memo: memo.into(),
        }
    }

    fn refused(request: &TransferRequest) -> Option<&'static str> {
        check(request).err().map(|e| e.code().as_str())
    }

    #[test]
    fn an_account_number_with_anything_but_digits_is_refused_not_stripped() {
        assert_eq!(refused(&external("004", "110123456789", "")), None);
        assert_eq!(refused(&external("004", "1", "")), None);
        assert_eq!(refused(&external("004", "1234567890123456", "")), None);
        for number in [
            "",
            "110-123-456789",
            "110 123",
            " 110123",
            "12O4",
            "１２３",
            "12345678901234567",
            "123\u{200b}456",
        ] {
            assert_eq!(
                refused(&external("004", number, "")),
                Some("bad_account_number"),
                "{number:?}"
            );
        }
        for code in ["", "04", "0004", "O04"] {
            assert_eq!(
                refused(&external(code, "123", "")),
                Some("bad_bank_code"),
                "{code:?}"
            );
        }
    }

    #[test]
    fn a_memo_with_control_or_reordering_characters_or_too_long_is_refused() {
        for memo in [
            "",
            "생활비",
            "  저녁값  ",
            "12345678901234567890",
            "a b-c_d!",
        ] {
            assert_eq!(refused(&external("004", "123", memo)), None, "{memo:?}");
        }
        for memo in [
            "\u{202e}생활비",
            "생활비\u{2066}",
            "a\u{200f}b",
            "a\u{061c}b",
            "a\tb",
            "a\nb",
            "생활비\n",
            "\u{7f}",
            "123456789012345678901",
        ] {
            assert_eq!(
                refused(&external("004", "123", memo)),
                Some("bad_memo"),
                "{memo:?}"
            );
        }
        let own = TransferRequest {
            from_account: 1,
            to: Recipient::Own { account_id: 2 },
            amount: 1_000,
            memo: "\u{202d}x".into(),
        };
        assert_eq!(refused(&own), Some("bad_memo"));
    }

    #[test]
    fn an_amount_not_above_zero_or_money_sent_back_to_its_own_account_is_refused() {
        for amount in [0, -1, i64::MIN] {
            let request = TransferRequest {
                amount,
                ..external("004", "123", "")
            };
            assert_eq!(refused(&request), Some("amount_not_positive"), "{amount}");
        }
        let own = |account_id| TransferRequest {
            from_account: 1,
            to: Recipient::Own { account_id },
            amount: 1,
            memo: String::new(),
        };
        assert_eq!(refused(&own(1)), Some("same_account"));
        assert_eq!(refused(&own(2)), None);
    }

    #[test]
    fn an_amount_is_whole_won_above_zero_as_typed() {
        assert_eq!(parse_amount("1000").ok(), Some(1_000));
        assert_eq!(parse_amount("  42 ").ok(), Some(42));
        for typed in [
            "",
            "0",
            "-5",
            "+",
            "1,000",
            "10.5",
            "1e3",
            "abc",
            "99999999999999999999",
        ] {
            assert_eq!(
                parse_amount(typed).err().map(|e| e.code()),
                Some(Code::AmountNotPositive),
                "{typed:?}"
            );
        }
    }

    #[test]
    fn the_memo_sent_is_the_one_typed_without_the_spaces_around_it() {
        assert_eq!(memo_as_sent("  저녁 값 "), "저녁 값");
        assert_eq!(memo_as_sent(""), "");
    }

    #[test]
    fn a_checked_transfer_may_be_confirmed_for_ten_minutes() {
        assert!(still_confirmable(Duration::ZERO));
        assert!(still_confirmable(CONFIRM_WITHIN - Duration::from_millis(1)));
        assert!(!still_confirmable(CONFIRM_WITHIN));
        assert!(!still_confirmable(Duration::from_secs(3600)));
    }
}
