//! Validated identifiers of the wire protocol: fintech numbers, bank transaction ids, institution
//! and bank codes, user numbers.
//!
//! Each type can only hold a value of the documented shape, so code past the wire boundary never
//! re-checks them. They parse from strings and, where the live hosts have been seen to send them
//! as JSON numbers, from integers too.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct IdError {
    /// Which identifier was being parsed, e.g. `fintech_use_num`.
    pub kind: &'static str,
    /// The refused input.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// Serde visitor shared by the identifier types: accepts a string, or a non-negative integer
/// (which is formatted back to decimal digits before validation).
struct IdVisitor<T>(std::marker::PhantomData<T>);

impl<T: FromStr<Err = IdError>> Visitor<'_> for IdVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an identifier as a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        v.to_string().parse().map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        v.to_string().parse().map_err(E::custom)
    }
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $kind:literal, $check:expr) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses and validates `s`.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                let check: fn(&str) -> Result<(), &'static str> = $check;
                match check(s) {
                    Ok(()) => Ok(Self(s.to_owned())),
                    Err(reason) => Err(IdError { kind: $kind, value: s.to_owned(), reason }),
                }
            }

            /// The identifier as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(IdVisitor::<$name>(std::marker::PhantomData))
            }
        }
    };
}

fn fixed_digits(s: &str, len: usize) -> Result<(), &'static str> {
    if s.len() != len {
        Err("wrong length")
    } else if !all_digits(s) {
        Err("not all digits")
    } else {
        Ok(())
    }
}

fn client_use_code_shape(s: &str) -> Result<(), &'static str> {
    let bytes = s.as_bytes();
    if bytes.len() != 10 {
        return Err("must be 10 characters");
    }
    if !bytes[0].is_ascii_alphabetic() {
        return Err("must start with a letter");
    }
    if !all_digits(&s[1..]) {
        return Err("must end with 9 digits");
    }
    Ok(())
}

id_type!(
    /// A fintech use number (핀테크이용번호): 24 digits that stand for one registered account,
    /// valid only for the institution that received it.
    FintechUseNum,
    "fintech_use_num",
    |s| fixed_digits(s, 24)
);

id_type!(
    /// An institution's code (이용기관코드): a letter and 9 digits, e.g. `T991589220`.
    ClientUseCode,
    "client_use_code",
    client_use_code_shape
);

id_type!(
    /// A bank's standard code (`bank_code_std`): 3 digits, e.g. `097`.
    BankCode,
    "bank_code_std",
    |s| fixed_digits(s, 3)
);

id_type!(
    /// A user's sequence number at the center (`user_seq_no`): 10 digits.
    UserSeqNo,
    "user_seq_no",
    |s| fixed_digits(s, 10)
);

id_type!(
    /// A bank transaction id (`bank_tran_id`): the institution's code (10), `U`, then 9 ASCII
    /// letters or digits; unique per institution per day. Issue them with
    /// [`BankTranIdIssuer`](crate::BankTranIdIssuer).
    BankTranId,
    "bank_tran_id",
    bank_tran_id_shape
);

fn bank_tran_id_shape(s: &str) -> Result<(), &'static str> {
    if s.len() != 20 || !s.is_ascii() {
        return Err("must be 20 ASCII characters");
    }
    client_use_code_shape(&s[..10]).map_err(|_| "must start with a client_use_code")?;
    if &s[10..11] != "U" {
        return Err("the 11th character must be 'U'");
    }
    if !s[11..].bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("must end with 9 letters or digits");
    }
    Ok(())
}

impl BankTranId {
    /// Builds an id from its institution's code and the 9-character serial after `U`.
    pub fn from_parts(code: &ClientUseCode, serial: &str) -> Result<Self, IdError> {
        Self::parse(&format!("{}U{serial}", code.as_str()))
    }

    /// The institution's code that prefixes the id.
    pub fn client_use_code(&self) -> ClientUseCode {
        ClientUseCode(self.0[..10].to_owned())
    }

    /// The 9 characters after `U`.
    pub fn serial(&self) -> &str {
        &self.0[11..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fintech_use_num_takes_exactly_24_digits() {
        assert!(FintechUseNum::parse("120220000012345678901234").is_ok());
        assert!(FintechUseNum::parse("12022000001234567890123").is_err());
        assert!(FintechUseNum::parse("1202200000123456789012345").is_err());
        assert!(FintechUseNum::parse("12022000001234567890123a").is_err());
        assert!(FintechUseNum::parse("").is_err());
    }

    #[test]
    fn client_use_code_is_a_letter_and_nine_digits() {
        assert!(ClientUseCode::parse("T991589220").is_ok());
        assert!(ClientUseCode::parse("M202300139").is_ok());
        assert!(ClientUseCode::parse("1991589220").is_err());
        assert!(ClientUseCode::parse("T99158922").is_err());
        assert!(ClientUseCode::parse("T99158922X").is_err());
    }

    #[test]
    fn bank_tran_id_checks_prefix_marker_and_serial() {
        let id = BankTranId::parse("T991589220U4BC34239Z").expect("valid");
        assert_eq!(id.client_use_code().as_str(), "T991589220");
        assert_eq!(id.serial(), "4BC34239Z");
        assert!(BankTranId::parse("T991589220X4BC34239Z").is_err());
        assert!(BankTranId::parse("T991589220U4BC34239").is_err());
        assert!(BankTranId::parse("T991589220U4BC3423-Z").is_err());
        assert!(BankTranId::parse("9991589220U4BC34239Z").is_err());
        assert!(BankTranId::parse("T991589220U4BC3423가").is_err());
    }

    #[test]
    fn bank_code_and_user_seq_no_are_fixed_digit_strings() {
        assert!(BankCode::parse("097").is_ok());
        assert!(BankCode::parse("97").is_err());
        assert!(BankCode::parse("0970").is_err());
        assert!(BankCode::parse("09a").is_err());
        assert!(BankCode::parse("").is_err());
        assert!(UserSeqNo::parse("1100034736").is_ok());
        assert!(UserSeqNo::parse("110003473").is_err());
    }

    #[test]
    fn ids_decode_from_strings_and_numbers() {
        let n: UserSeqNo = serde_json::from_str("1100034736").expect("number");
        assert_eq!(n.as_str(), "1100034736");
        let n: UserSeqNo = serde_json::from_str("\"1100034736\"").expect("string");
        assert_eq!(n.as_str(), "1100034736");
        assert!(serde_json::from_str::<BankCode>("97").is_err());
        assert_eq!(
            serde_json::to_string(&BankCode::parse("097").expect("valid")).expect("json"),
            "\"097\""
        );
    }

    proptest! {
        #[test]
        fn any_24_digit_string_is_a_fintech_use_num(s in "[0-9]{24}") {
            let n = FintechUseNum::parse(&s).expect("valid");
            prop_assert_eq!(n.as_str(), s.as_str());
        }

        #[test]
        fn digit_strings_of_other_lengths_are_refused(s in "[0-9]{0,40}") {
            prop_assume!(s.len() != 24);
            prop_assert!(FintechUseNum::parse(&s).is_err());
        }

        #[test]
        fn well_formed_bank_tran_ids_parse_and_split(
            code in "[A-Z][0-9]{9}",
            serial in "[A-Za-z0-9]{9}",
        ) {
            let id = BankTranId::parse(&format!("{code}U{serial}")).expect("valid");
            let prefix = id.client_use_code();
            prop_assert_eq!(prefix.as_str(), code.as_str());
            prop_assert_eq!(id.serial(), serial.as_str());
        }

        #[test]
        fn arbitrary_strings_parse_only_when_well_formed(s in "\\PC{0,24}") {
            let ok = BankTranId::parse(&s).is_ok();
            let shaped = s.len() == 20
                && s.is_ascii()
                && s.as_bytes()[0].is_ascii_alphabetic()
                && s[1..10].bytes().all(|b| b.is_ascii_digit())
                && &s[10..11] == "U"
                && s[11..].bytes().all(|b| b.is_ascii_alphanumeric());
            prop_assert_eq!(ok, shaped);
        }
    }
}
