//! The protocol's data types (Приложение 8 of v01.05): BYTE, UINT16/32/40 LE, VLN, FVLN,
//! UNIXTIME, DATETIME(3)/(5) and cp866 strings.
//!
//! Every decoder works on a borrowed slice and allocates nothing (cp866 text that is pure
//! ASCII is borrowed too). Every encoder appends to a caller's buffer.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use encoding_rs::{EncoderResult, IBM866};
use serde::{Deserialize, Serialize};

/// A value that does not fit its data type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TypeError {
    /// The value has the wrong number of bytes for its type.
    #[error("{ty}: expected {expected} bytes, got {got}")]
    Length {
        /// Data type.
        ty: &'static str,
        /// Expected length (or maximum), in bytes.
        expected: &'static str,
        /// Actual length.
        got: usize,
    },
    /// A number does not fit the type.
    #[error("{ty}: {value} is out of range (max {max})")]
    Range {
        /// Data type.
        ty: &'static str,
        /// The value.
        value: u64,
        /// The largest value the type holds.
        max: u64,
    },
    /// A date or time that does not exist.
    #[error("{ty}: {detail} is not a valid date/time")]
    Date {
        /// Data type.
        ty: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// A character that code page 866 cannot hold.
    #[error("character {ch:?} (U+{code:04X}) at position {position} cannot be written in code page 866")]
    Cp866 {
        /// The character.
        ch: char,
        /// Its Unicode scalar value.
        code: u32,
        /// Its position in the text, counted in characters from 0.
        position: usize,
    },
    /// A decimal string that is not a valid FVLN number.
    #[error("decimal {text:?}: {detail}")]
    Decimal {
        /// The text given.
        text: String,
        /// What was wrong.
        detail: &'static str,
    },
}

fn exact<const N: usize>(ty: &'static str, expected: &'static str, b: &[u8]) -> Result<[u8; N], TypeError> {
    b.try_into().map_err(|_| TypeError::Length { ty, expected, got: b.len() })
}

/// BYTE: exactly one byte.
pub fn decode_byte(b: &[u8]) -> Result<u8, TypeError> {
    Ok(exact::<1>("BYTE", "1", b)?[0])
}

/// UINT16 LE: exactly two bytes.
pub fn decode_u16(b: &[u8]) -> Result<u16, TypeError> {
    Ok(u16::from_le_bytes(exact("UINT16", "2", b)?))
}

/// UINT32 LE: exactly four bytes.
pub fn decode_u32(b: &[u8]) -> Result<u32, TypeError> {
    Ok(u32::from_le_bytes(exact("UINT32", "4", b)?))
}

/// Largest UINT40 value.
pub const U40_MAX: u64 = (1 << 40) - 1;

/// UINT40 LE: exactly five bytes.
pub fn decode_u40(b: &[u8]) -> Result<u64, TypeError> {
    let a: [u8; 5] = exact("UINT40", "5", b)?;
    Ok(a.iter().rev().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
}

/// Appends a UINT40 LE (five bytes).
pub fn encode_u40(v: u64, out: &mut Vec<u8>) -> Result<(), TypeError> {
    if v > U40_MAX {
        return Err(TypeError::Range { ty: "UINT40", value: v, max: U40_MAX });
    }
    out.extend_from_slice(&v.to_le_bytes()[..5]);
    Ok(())
}

/// VLN: unsigned little-endian integer of 1 to 8 bytes. An empty value reads as 0.
pub fn decode_vln(b: &[u8]) -> Result<u64, TypeError> {
    if b.len() > 8 {
        return Err(TypeError::Length { ty: "VLN", expected: "at most 8", got: b.len() });
    }
    Ok(b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
}

/// Number of bytes the minimal VLN encoding of `v` takes (at least 1).
pub fn vln_len(v: u64) -> usize {
    (8 - (v.leading_zeros() as usize) / 8).max(1)
}

/// Appends the minimal VLN encoding of `v` (0 is one byte 00).
pub fn encode_vln(v: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(&v.to_le_bytes()[..vln_len(v)]);
}

/// An exact decimal number: `mantissa / 10^scale`. FVLN on the wire; never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Decimal {
    /// The digits as an integer.
    pub mantissa: u64,
    /// How many of the digits are after the decimal point.
    pub scale: u8,
}

/// Largest number of decimal places a [`Decimal`] accepts.
pub const DECIMAL_MAX_SCALE: u8 = 19;

impl Decimal {
    /// `mantissa / 10^scale`.
    pub const fn new(mantissa: u64, scale: u8) -> Self {
        Self { mantissa, scale }
    }

    /// A whole number.
    pub const fn integer(v: u64) -> Self {
        Self { mantissa: v, scale: 0 }
    }

    /// The value scaled to `scale` decimal places, if that is exact and fits in u64
    /// (e.g. a price "45.50" at scale 2 is 4550 kopecks; "45.505" is not exact).
    pub fn to_scale(self, scale: u8) -> Option<u64> {
        if scale >= self.scale {
            10u64.checked_pow(u32::from(scale - self.scale))?.checked_mul(self.mantissa)
        } else {
            let d = 10u64.checked_pow(u32::from(self.scale - scale))?;
            (self.mantissa % d == 0).then_some(self.mantissa / d)
        }
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.mantissa);
        }
        let s = self.mantissa.to_string();
        let scale = usize::from(self.scale);
        if s.len() > scale {
            let (a, b) = s.split_at(s.len() - scale);
            write!(f, "{a}.{b}")
        } else {
            write!(f, "0.{}{s}", "0".repeat(scale - s.len()))
        }
    }
}

impl std::str::FromStr for Decimal {
    type Err = TypeError;

    /// Parses "123", "45.50", "0.001" exactly (trailing zeros keep their scale).
    fn from_str(text: &str) -> Result<Self, TypeError> {
        let bad = |detail| TypeError::Decimal { text: text.to_string(), detail };
        let (int, frac) = match text.split_once('.') {
            Some((i, f)) => (i, f),
            None => (text, ""),
        };
        if int.is_empty() || !int.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad("expected digits before the point (no sign, no exponent)"));
        }
        if text.contains('.') && frac.is_empty() {
            return Err(bad("expected digits after the point"));
        }
        if !frac.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad("expected only digits after the point"));
        }
        if frac.len() > usize::from(DECIMAL_MAX_SCALE) {
            return Err(bad("too many decimal places"));
        }
        let mut mantissa: u64 = 0;
        for c in int.bytes().chain(frac.bytes()) {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(c - b'0')))
                .ok_or_else(|| bad("number too large"))?;
        }
        Ok(Decimal { mantissa, scale: frac.len() as u8 })
    }
}

impl Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// FVLN: one byte with the number of decimal places, then the mantissa as VLN (1–7 bytes).
pub fn decode_fvln(b: &[u8]) -> Result<Decimal, TypeError> {
    let (&scale, rest) = b.split_first().ok_or(TypeError::Length { ty: "FVLN", expected: "2 to 8", got: 0 })?;
    if rest.is_empty() || rest.len() > 7 {
        return Err(TypeError::Length { ty: "FVLN", expected: "2 to 8", got: b.len() });
    }
    if scale > DECIMAL_MAX_SCALE {
        return Err(TypeError::Range { ty: "FVLN scale", value: scale.into(), max: DECIMAL_MAX_SCALE.into() });
    }
    Ok(Decimal { mantissa: decode_vln(rest)?, scale })
}

/// Appends a FVLN (scale byte + minimal VLN mantissa).
pub fn encode_fvln(d: Decimal, out: &mut Vec<u8>) -> Result<(), TypeError> {
    const MAX: u64 = (1 << 56) - 1;
    if d.mantissa > MAX {
        return Err(TypeError::Range { ty: "FVLN", value: d.mantissa, max: MAX });
    }
    out.push(d.scale);
    encode_vln(d.mantissa, out);
    Ok(())
}

/// UNIXTIME as the device writes it: local wall-clock time stored as if it were UTC.
pub fn decode_unixtime(b: &[u8]) -> Result<NaiveDateTime, TypeError> {
    let secs = decode_u32(b).map_err(|_| TypeError::Length { ty: "UNIXTIME", expected: "4", got: b.len() })?;
    Ok(unixtime_to_naive(secs))
}

/// The wall-clock time of a UNIXTIME value.
pub fn unixtime_to_naive(secs: u32) -> NaiveDateTime {
    // Every u32 of seconds is within chrono's range.
    DateTime::from_timestamp(i64::from(secs), 0).map(|d| d.naive_utc()).unwrap_or_default()
}

/// The UNIXTIME of a wall-clock time (1970-01-01 to 2106-02-07).
pub fn naive_to_unixtime(t: NaiveDateTime) -> Result<u32, TypeError> {
    let s = t.and_utc().timestamp();
    u32::try_from(s).map_err(|_| TypeError::Date { ty: "UNIXTIME", detail: t.to_string() })
}

/// DATETIME(5): Y-2000, M, D, h, m.
pub fn decode_datetime5(b: &[u8]) -> Result<NaiveDateTime, TypeError> {
    let a: [u8; 5] = exact("DATETIME(5)", "5", b)?;
    NaiveDate::from_ymd_opt(2000 + i32::from(a[0]), a[1].into(), a[2].into())
        .and_then(|d| d.and_hms_opt(a[3].into(), a[4].into(), 0))
        .ok_or_else(|| TypeError::Date { ty: "DATETIME(5)", detail: format!("{a:02X?}") })
}

/// Appends a DATETIME(5) (seconds are dropped; years 2000–2255).
pub fn encode_datetime5(t: NaiveDateTime, out: &mut Vec<u8>) -> Result<(), TypeError> {
    use chrono::{Datelike, Timelike};
    let y = u8::try_from(t.year() - 2000).map_err(|_| TypeError::Date { ty: "DATETIME(5)", detail: t.to_string() })?;
    out.extend_from_slice(&[y, t.month() as u8, t.day() as u8, t.hour() as u8, t.minute() as u8]);
    Ok(())
}

/// DATETIME(3): Y-2000, M, D.
pub fn decode_datetime3(b: &[u8]) -> Result<NaiveDate, TypeError> {
    let a: [u8; 3] = exact("DATETIME(3)", "3", b)?;
    NaiveDate::from_ymd_opt(2000 + i32::from(a[0]), a[1].into(), a[2].into())
        .ok_or_else(|| TypeError::Date { ty: "DATETIME(3)", detail: format!("{a:02X?}") })
}

/// Appends a DATETIME(3) (years 2000–2255).
pub fn encode_datetime3(d: NaiveDate, out: &mut Vec<u8>) -> Result<(), TypeError> {
    use chrono::Datelike;
    let y = u8::try_from(d.year() - 2000).map_err(|_| TypeError::Date { ty: "DATETIME(3)", detail: d.to_string() })?;
    out.extend_from_slice(&[y, d.month() as u8, d.day() as u8]);
    Ok(())
}

/// Decodes cp866 text. Every byte has a character, so this cannot fail; pure ASCII is borrowed.
pub fn decode_cp866(b: &[u8]) -> Cow<'_, str> {
    IBM866.decode_without_bom_handling(b).0
}

/// Appends `s` in code page 866, or names the first character that cp866 cannot hold.
pub fn encode_cp866(s: &str, out: &mut Vec<u8>) -> Result<(), TypeError> {
    if s.is_ascii() {
        out.extend_from_slice(s.as_bytes());
        return Ok(());
    }
    let mut enc = IBM866.new_encoder();
    let start = out.len();
    // cp866 is one byte per character: the output is never longer than the character count.
    let cap = s.chars().count();
    out.resize(start + cap, 0);
    let (res, read, written) = enc.encode_from_utf8_without_replacement(s, &mut out[start..], true);
    match res {
        EncoderResult::InputEmpty => {
            out.truncate(start + written);
            Ok(())
        }
        EncoderResult::Unmappable(ch) => {
            out.truncate(start);
            let position = s[..read].chars().count() - 1;
            Err(TypeError::Cp866 { ch, code: ch as u32, position })
        }
        EncoderResult::OutputFull => unreachable!("cp866 output sized to the character count"),
    }
}

/// `s` in code page 866 as a new vector.
pub fn cp866(s: &str) -> Result<Vec<u8>, TypeError> {
    let mut v = Vec::with_capacity(s.len());
    encode_cp866(s, &mut v)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn documented_examples() {
        assert_eq!(decode_vln(&[0x98, 0x3A]).unwrap(), 15000);
        assert_eq!(decode_vln(&[0xE9, 0x2D, 0x06]).unwrap(), 404969);
        let d = decode_fvln(&[0x02, 0x15, 0xCD, 0x5B, 0x07]).unwrap();
        assert_eq!(d.to_string(), "1234567.89");
        assert_eq!(decode_fvln(&[0x00, 0x01]).unwrap(), Decimal::integer(1));
        assert_eq!(decode_fvln(&[0x00, 0x00]).unwrap(), Decimal::integer(0));
        assert_eq!(decode_unixtime(&[0xC6, 0x8A, 0x33, 0x58]).unwrap().to_string(), "2016-11-22 00:01:10");
        assert_eq!(decode_datetime5(&[0x11, 0x03, 0x01, 0x11, 0x10]).unwrap().to_string(), "2017-03-01 17:16:00");
        assert_eq!(decode_datetime3(&[0x11, 0x03, 0x01]).unwrap().to_string(), "2017-03-01");
        assert_eq!(decode_cp866(&[0x92, 0xA5, 0xE1, 0xE2]), "Тест");
        assert_eq!(cp866("Тест").unwrap(), vec![0x92, 0xA5, 0xE1, 0xE2]);
        assert_eq!(decode_u32(&[0x00, 0x00, 0x01, 0x02]).unwrap(), 0x0201_0000);
        assert_eq!(decode_u16(&[0x05, 0x00]).unwrap(), 5);
    }

    #[test]
    fn cp866_names_the_character_it_cannot_hold() {
        let e = cp866("Чай €5").unwrap_err();
        assert_eq!(e, TypeError::Cp866 { ch: '€', code: 0x20AC, position: 4 });
        assert!(e.to_string().contains("U+20AC"));
        // ё and № are in cp866.
        assert!(cp866("ёлка №1").is_ok());
    }

    #[test]
    fn decimal_text() {
        for s in ["0", "1", "45.50", "0.001", "1234567.89", "10.0"] {
            assert_eq!(s.parse::<Decimal>().unwrap().to_string(), s);
        }
        for s in ["", "-1", "1e3", "1.", ".5", "1,5", "1.2.3", "99999999999999999999"] {
            assert!(s.parse::<Decimal>().is_err(), "{s}");
        }
        let p: Decimal = "45.5".parse().unwrap();
        assert_eq!(p.to_scale(2), Some(4550));
        assert_eq!("45.505".parse::<Decimal>().unwrap().to_scale(2), None);
        assert_eq!("45.500".parse::<Decimal>().unwrap().to_scale(2), Some(4550));
    }

    #[test]
    fn bad_lengths_and_dates() {
        assert!(decode_u32(&[1, 2, 3]).is_err());
        assert!(decode_vln(&[0; 9]).is_err());
        assert!(decode_fvln(&[2]).is_err());
        assert!(decode_datetime5(&[23, 13, 1, 0, 0]).is_err());
        assert!(decode_datetime5(&[23, 2, 30, 0, 0]).is_err());
        assert!(decode_datetime3(&[23, 1, 1, 0]).is_err());
        let mut v = Vec::new();
        assert!(encode_u40(U40_MAX + 1, &mut v).is_err());
    }

    proptest! {
        #[test]
        fn vln_roundtrip(v: u64) {
            let mut b = Vec::new();
            encode_vln(v, &mut b);
            prop_assert_eq!(b.len(), vln_len(v));
            prop_assert_eq!(decode_vln(&b).unwrap(), v);
        }

        #[test]
        fn u40_roundtrip(v in 0..=U40_MAX) {
            let mut b = Vec::new();
            encode_u40(v, &mut b).unwrap();
            prop_assert_eq!(decode_u40(&b).unwrap(), v);
        }

        #[test]
        fn fvln_roundtrip(m in 0u64..(1 << 56), scale in 0u8..=DECIMAL_MAX_SCALE) {
            let d = Decimal::new(m, scale);
            let mut b = Vec::new();
            encode_fvln(d, &mut b).unwrap();
            prop_assert_eq!(decode_fvln(&b).unwrap(), d);
            prop_assert_eq!(d.to_string().parse::<Decimal>().unwrap(), d);
        }

        #[test]
        fn unixtime_roundtrip(s: u32) {
            let t = unixtime_to_naive(s);
            prop_assert_eq!(naive_to_unixtime(t).unwrap(), s);
            let b = s.to_le_bytes();
            prop_assert_eq!(decode_unixtime(&b).unwrap(), t);
        }

        #[test]
        fn datetime_roundtrip(y in 0u8..=255, m in 1u8..=12, d in 1u8..=28, h in 0u8..24, mi in 0u8..60) {
            let raw = [y, m, d, h, mi];
            let t = decode_datetime5(&raw).unwrap();
            let mut b = Vec::new();
            encode_datetime5(t, &mut b).unwrap();
            prop_assert_eq!(&b[..], &raw[..]);
            let d3 = decode_datetime3(&raw[..3]).unwrap();
            let mut b = Vec::new();
            encode_datetime3(d3, &mut b).unwrap();
            prop_assert_eq!(&b[..], &raw[..3]);
        }

        #[test]
        fn cp866_roundtrip(bytes: Vec<u8>) {
            // Every byte decodes, and the text encodes back to the same bytes.
            let s = decode_cp866(&bytes).into_owned();
            prop_assert_eq!(cp866(&s).unwrap(), bytes);
        }

        #[test]
        fn cp866_never_silently_replaces(s in "\\PC{0,40}") {
            match cp866(&s) {
                Ok(b) => prop_assert_eq!(decode_cp866(&b), s.as_str()),
                Err(TypeError::Cp866 { ch, .. }) => prop_assert!(s.contains(ch)),
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
        }
    }
}
