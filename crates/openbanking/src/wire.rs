//! Serde helpers for the center's field formats: `yyyyMMdd` dates, `HHmmss` times, 14- and
//! 17-digit timestamps, `Y`/`N` flags, counts sent as digit strings, code enums, and the rule
//! that an empty string in an optional field means "absent".
//!
//! The live hosts are inconsistent (a field may be `""`, missing, `null`, a string or a number),
//! so every optional field goes through [`opt`], which turns all the "nothing" shapes into
//! `None` before the field's own type sees the value.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serializer};
use serde_json::Value;

/// Decodes an optional field: missing, `null`, `""` and whitespace-only strings are `None`;
/// anything else must decode as `T`.
pub fn opt<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(v) => T::deserialize(v).map(Some).map_err(D::Error::custom),
    }
}

/// Decodes a list that may be missing, `null` or `""` (all empty). Use it for lists this crate
/// does not type; typed lists keep `#[serde(default)]` so errors inside them keep their path.
pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Vec::new()),
        Some(v) => Vec::<T>::deserialize(v).map_err(D::Error::custom),
    }
}

/// Decodes a count (`res_cnt`, `page_record_cnt`) sent as a digit string or a number; empty is 0.
pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(0),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(0),
        Some(Value::String(s)) => s.trim().parse().map_err(D::Error::custom),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| D::Error::custom(format!("count out of range: {n}"))),
        Some(other) => Err(D::Error::custom(format!("expected a count, got {other}"))),
    }
}

/// Serializes a count as the digit string the center expects.
pub fn ser_count<S: Serializer>(n: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(n)
}

fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(D::Error::custom(format!("expected text, got {other}"))),
    }
}

fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(D::Error::custom(format!("expected text, got {other}"))),
    }
}

/// `yyyyMMdd` → [`NaiveDate`].
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    if s.len() != 8 {
        return Err(format!("expected yyyyMMdd, got {s:?}"));
    }
    NaiveDate::parse_from_str(s, "%Y%m%d").map_err(|e| format!("bad date {s:?}: {e}"))
}

/// `HHmmss` → [`NaiveTime`].
pub fn parse_time(s: &str) -> Result<NaiveTime, String> {
    if s.len() != 6 {
        return Err(format!("expected HHmmss, got {s:?}"));
    }
    NaiveTime::parse_from_str(s, "%H%M%S").map_err(|e| format!("bad time {s:?}: {e}"))
}

/// `yyyyMMddHHmmss`, or the 17-digit `yyyyMMddHHmmssSSS` of `api_tran_dtm` → [`NaiveDateTime`].
pub fn parse_dtime(s: &str) -> Result<NaiveDateTime, String> {
    match s.len() {
        14 => NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S"),
        17 => {
            NaiveDateTime::parse_from_str(&format!("{}.{}", &s[..14], &s[14..]), "%Y%m%d%H%M%S%.3f")
        }
        _ => return Err(format!("expected 14 or 17 digits, got {s:?}")),
    }
    .map_err(|e| format!("bad timestamp {s:?}: {e}"))
}

/// [`NaiveDate`] → `yyyyMMdd`.
pub fn format_date(d: &NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// [`NaiveTime`] → `HHmmss`.
pub fn format_time(t: &NaiveTime) -> String {
    t.format("%H%M%S").to_string()
}

/// [`NaiveDateTime`] → `yyyyMMddHHmmss`.
pub fn format_dtime(t: &NaiveDateTime) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

macro_rules! chrono_field {
    ($name:ident, $opt:ident, $ty:ty, $parse:path, $format:path) => {
        /// Serde adapter for a required field of this format.
        pub mod $name {
            use super::*;
            /// Serializes in the wire format.
            pub fn serialize<S: Serializer>(v: &$ty, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&$format(v))
            }
            /// Deserializes from the wire format.
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                let s = text(d)?;
                $parse(s.trim()).map_err(D::Error::custom)
            }
        }

        /// Serde adapter for an optional field of this format (empty string = `None`).
        pub mod $opt {
            use super::*;
            /// Serializes `None` as an empty string, as the center does.
            pub fn serialize<S: Serializer>(v: &Option<$ty>, s: S) -> Result<S::Ok, S::Error> {
                match v {
                    Some(v) => s.serialize_str(&$format(v)),
                    None => s.serialize_str(""),
                }
            }
            /// Deserializes; missing, null and empty are `None`.
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<$ty>, D::Error> {
                match opt_text(d)? {
                    None => Ok(None),
                    Some(s) => $parse(s.trim()).map(Some).map_err(D::Error::custom),
                }
            }
        }
    };
}

chrono_field!(date, opt_date, NaiveDate, parse_date, format_date);
chrono_field!(time, opt_time, NaiveTime, parse_time, format_time);
chrono_field!(dtime, opt_dtime, NaiveDateTime, parse_dtime, format_dtime);

/// Serde adapter for required `Y`/`N` flags.
pub mod yn {
    use super::*;
    /// `true` → `Y`, `false` → `N`.
    pub fn serialize<S: Serializer>(v: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if *v { "Y" } else { "N" })
    }
    /// `Y` → `true`, `N` → `false`; anything else is refused.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        let s = text(d)?;
        super::parse_yn(&s).map_err(D::Error::custom)
    }
}

/// Serde adapter for optional `Y`/`N` flags (empty = `None`).
pub mod opt_yn {
    use super::*;
    /// `None` is sent as an empty string.
    pub fn serialize<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match v {
            Some(true) => "Y",
            Some(false) => "N",
            None => "",
        })
    }
    /// Missing, null and empty are `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        match opt_text(d)? {
            None => Ok(None),
            Some(s) => super::parse_yn(&s).map(Some).map_err(D::Error::custom),
        }
    }
}

fn parse_yn(s: &str) -> Result<bool, String> {
    match s.trim() {
        "Y" | "y" => Ok(true),
        "N" | "n" => Ok(false),
        other => Err(format!("expected Y or N, got {other:?}")),
    }
}

/// Serde adapter for optional free text (empty = `None`; numbers are kept as their digits).
pub mod opt_string {
    use super::*;
    /// `None` is sent as an empty string.
    pub fn serialize<S: Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.as_deref().unwrap_or(""))
    }
    /// Missing, null and empty are `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        opt_text(d)
    }
}

/// Serde adapter for required free text that the live hosts sometimes send as a number.
pub mod string {
    use super::*;
    /// Serializes the text unchanged.
    pub fn serialize<S: Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v)
    }
    /// Accepts a string, or a number kept as its digits; missing decodes via `#[serde(default)]`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(String::new()),
            Some(v) => text(v).map_err(D::Error::custom),
        }
    }
}

/// Declares an enum of wire codes with a catch-all `Other` variant, so a code the center adds
/// later still decodes instead of failing the whole response.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $code:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A code this crate does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The code as sent on the wire.
            pub fn code(&self) -> &str {
                match self {
                    $( Self::$variant => $code, )*
                    Self::Other(s) => s,
                }
            }

            /// Reads a wire code; unknown codes become `Other`.
            pub fn from_code(s: &str) -> Self {
                match s {
                    $( $code => Self::$variant, )*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // Exact first: some codes are blanks (`" "` = birth date); then forgive padding.
                let s = $crate::wire::string::deserialize(d)?;
                let exact = Self::from_code(&s);
                Ok(if matches!(exact, Self::Other(_)) { Self::from_code(s.trim()) } else { exact })
            }
        }
    };
}
pub(crate) use code_enum;

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct Sample {
        #[serde(with = "date")]
        d: NaiveDate,
        #[serde(default, with = "opt_time")]
        t: Option<NaiveTime>,
        #[serde(with = "dtime")]
        dtm: NaiveDateTime,
        #[serde(default, with = "opt_yn")]
        flag: Option<bool>,
        #[serde(default, deserialize_with = "count")]
        n: u32,
        #[serde(default, with = "opt_string")]
        alias: Option<String>,
    }

    #[test]
    fn formats_decode_and_empty_means_none() {
        let s: Sample = serde_json::from_str(
            r#"{"d":"20240131","t":"","dtm":"20240131235959123","flag":"","n":"25","alias":"",
                "extra":"ignored"}"#,
        )
        .expect("decode");
        assert_eq!(s.d, NaiveDate::from_ymd_opt(2024, 1, 31).expect("date"));
        assert_eq!(s.t, None);
        assert_eq!(s.dtm.format("%H:%M:%S%.3f").to_string(), "23:59:59.123");
        assert_eq!(s.flag, None);
        assert_eq!(s.n, 25);
        assert_eq!(s.alias, None);
    }

    #[test]
    fn missing_optional_fields_and_numeric_counts_decode() {
        let s: Sample =
            serde_json::from_str(r#"{"d":20240131,"dtm":"20240131120000","n":3,"flag":"Y"}"#)
                .expect("decode");
        assert_eq!(s.n, 3);
        assert_eq!(s.flag, Some(true));
        assert_eq!(s.t, None);
    }

    #[test]
    fn malformed_dates_are_refused() {
        assert!(parse_date("2024131").is_err());
        assert!(parse_date("20241301").is_err());
        assert!(parse_time("246000").is_err());
        assert!(parse_dtime("2024013112000").is_err());
    }
}
