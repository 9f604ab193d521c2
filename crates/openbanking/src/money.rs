//! Amounts of money on the wire: whole won, sent as digit strings, received as digit strings or
//! JSON numbers.
//!
//! [`Won`] is for fields that can never be negative (`tran_amt`, `available_amt`); [`SignedWon`]
//! is for balances, which an overdraft account reports below zero. Neither holds a fraction:
//! the won has no minor unit on this API, so a `.5` on the wire is a bug worth refusing loudly.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a value is not a valid amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid amount {value:?}: {reason}")]
pub struct AmountError {
    /// The refused input, as text.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

fn refuse(value: impl fmt::Display, reason: &'static str) -> AmountError {
    AmountError {
        value: value.to_string(),
        reason,
    }
}

/// Parses a whole amount from digit text, with an optional leading `-` when `signed`.
fn parse_whole(s: &str, signed: bool) -> Result<Decimal, AmountError> {
    // Some banks pad fixed-width fields with spaces; the digits are what matter.
    let t = s.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) if signed => (true, rest),
        Some(_) => return Err(refuse(s, "must not be negative")),
        None => (false, t),
    };
    if digits.is_empty() {
        return Err(refuse(s, "no digits"));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse(
            s,
            "must be whole won in digits (no sign, point or separator)",
        ));
    }
    if digits.len() > 20 {
        return Err(refuse(s, "too many digits"));
    }
    let n = Decimal::from_str(digits).map_err(|_| refuse(s, "not a number"))?;
    Ok(if negative { -n } else { n })
}

fn whole_from_f64(v: f64, signed: bool) -> Result<Decimal, AmountError> {
    if !v.is_finite() || v.fract() != 0.0 {
        return Err(refuse(v, "must be whole won"));
    }
    if !signed && v < 0.0 {
        return Err(refuse(v, "must not be negative"));
    }
    Decimal::from_str(&format!("{v:.0}")).map_err(|_| refuse(v, "out of range"))
}

macro_rules! amount_type {
    ($(#[$meta:meta])* $name:ident, signed = $signed:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(Decimal);

        impl $name {
            /// Zero won.
            pub const ZERO: Self = Self(Decimal::ZERO);

            /// Accepts a decimal that is whole (and, for unsigned amounts, not negative).
            pub fn from_decimal(d: Decimal) -> Result<Self, AmountError> {
                if !d.fract().is_zero() {
                    return Err(refuse(d, "must be whole won"));
                }
                if !$signed && d.is_sign_negative() && !d.is_zero() {
                    return Err(refuse(d, "must not be negative"));
                }
                Ok(Self(d.normalize()))
            }

            /// The amount as a decimal.
            pub fn as_decimal(&self) -> Decimal {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = AmountError;
            fn from_str(s: &str) -> Result<Self, AmountError> {
                parse_whole(s, $signed).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl From<$name> for Decimal {
            fn from(w: $name) -> Decimal {
                w.0
            }
        }

        impl Serialize for $name {
            /// Amounts go out as digit strings, as docs/protocol.md §3 says.
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("whole won as a digit string or a JSON integer")
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        v.parse().map_err(E::custom)
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$name, E> {
                        Ok($name(Decimal::from(v)))
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$name, E> {
                        $name::from_decimal(Decimal::from(v)).map_err(E::custom)
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$name, E> {
                        whole_from_f64(v, $signed).map($name).map_err(E::custom)
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

amount_type!(
    /// A non-negative whole amount of won (`tran_amt`, `available_amt`, limits).
    Won,
    signed = false
);

amount_type!(
    /// A whole amount of won that may be negative (`balance_amt`, `after_balance_amt`).
    SignedWon,
    signed = true
);

impl Won {
    /// An amount from a whole number of won.
    pub fn new(won: u64) -> Self {
        Self(Decimal::from(won))
    }
}

impl SignedWon {
    /// An amount from a whole number of won.
    pub fn new(won: i64) -> Self {
        Self(Decimal::from(won))
    }
}

impl From<Won> for SignedWon {
    fn from(w: Won) -> Self {
        SignedWon(w.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn won_accepts_digit_strings_and_integers() {
        assert_eq!(
            serde_json::from_str::<Won>("\"0001000\"").expect("str"),
            Won::new(1000)
        );
        assert_eq!(
            serde_json::from_str::<Won>("1000").expect("num"),
            Won::new(1000)
        );
        assert_eq!(
            serde_json::from_str::<Won>("1000.0").expect("whole f64"),
            Won::new(1000)
        );
    }

    #[test]
    fn won_refuses_fractions_signs_and_junk() {
        for bad in [
            "\"10.5\"",
            "\"-100\"",
            "\"+100\"",
            "\"1,000\"",
            "\"\"",
            "10.5",
            "-1",
            "\"abc\"",
        ] {
            assert!(
                serde_json::from_str::<Won>(bad).is_err(),
                "{bad} was accepted"
            );
        }
    }

    #[test]
    fn signed_won_takes_negative_balances() {
        assert_eq!(
            serde_json::from_str::<SignedWon>("\"-5000\"").expect("str"),
            SignedWon::new(-5000)
        );
        assert_eq!(
            serde_json::from_str::<SignedWon>("-5000").expect("num"),
            SignedWon::new(-5000)
        );
        assert!(serde_json::from_str::<SignedWon>("\"-50.5\"").is_err());
        assert!(serde_json::from_str::<SignedWon>("\"--5\"").is_err());
    }

    #[test]
    fn amounts_serialize_as_digit_strings() {
        assert_eq!(
            serde_json::to_string(&Won::new(15000)).expect("json"),
            "\"15000\""
        );
        assert_eq!(
            serde_json::to_string(&SignedWon::new(-3)).expect("json"),
            "\"-3\""
        );
    }

    #[test]
    fn from_decimal_refuses_fractions_and_normalises_scale() {
        assert!(Won::from_decimal(Decimal::new(105, 1)).is_err());
        assert!(Won::from_decimal(Decimal::new(-1, 0)).is_err());
        assert_eq!(
            Won::from_decimal(Decimal::new(1000, 1)).expect("whole"),
            Won::new(100)
        );
        assert_eq!(Won::new(100).to_string(), "100");
    }

    proptest! {
        #[test]
        fn won_round_trips_through_json(n in 0u64..=999_999_999_999) {
            let w = Won::new(n);
            let back: Won = serde_json::from_str(&serde_json::to_string(&w).expect("json"))
                .expect("decode");
            prop_assert_eq!(back, w);
        }

        #[test]
        fn won_parses_exactly_the_digit_strings(s in "\\PC{0,24}") {
            // Padding around the digits is forgiven; anything else is not.
            let t = s.trim();
            let digits = !t.is_empty() && t.len() <= 20 && t.bytes().all(|b| b.is_ascii_digit());
            prop_assert_eq!(s.parse::<Won>().is_ok(), digits);
        }

        #[test]
        fn signed_won_round_trips(n in -9_999_999_999_999i64..=9_999_999_999_999) {
            let w = SignedWon::new(n);
            let back: SignedWon = serde_json::from_str(&serde_json::to_string(&w).expect("json"))
                .expect("decode");
            prop_assert_eq!(back, w);
            let from_num: SignedWon = serde_json::from_str(&n.to_string()).expect("number");
            prop_assert_eq!(from_num, w);
        }
    }
}
