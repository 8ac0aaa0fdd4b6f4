//! A marking code (КМ) as scanned: GS1 DataMatrix element strings (AIs 01, 21, 91, 92, 93 and
//! a few others, GS = byte 0x1D) and the 29-character tobacco pack code, classified as tag 2100
//! «тип кода маркировки» (seed 004, Appendix 1).
//!
//! Pure: bytes in, a parsed code out. The register's FN check (0x91) and the OISM model of the
//! virtual register use it; a later issue extends it (MRP decoding and more).

use serde::Serialize;

/// The GS separator (FNC1) as the scanner sends it.
pub const GS: u8 = 0x1D;

/// Tag 2100 values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeType {
    /// 0: not identified (missing, unreadable or not recognised).
    Unrecognized = 0,
    /// 1: short code (GTIN and serial, no crypto tail).
    Short = 1,
    /// 2: crypto tail of 88 characters, checked in the FN.
    Crypto88 = 2,
    /// 3: crypto tail of 44 characters, not checked in the FN.
    Crypto44Unchecked = 3,
    /// 4: crypto tail of 44 characters, checked in the FN.
    Crypto44Checked = 4,
    /// 5: crypto tail of 4 characters, not checked in the FN.
    Crypto4 = 5,
}

impl CodeType {
    /// The tag 2100 byte.
    pub fn value(self) -> u8 {
        self as u8
    }
}

/// A marking code split into its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MarkingCode {
    /// AI 01, the GTIN (14 digits).
    pub gtin: Option<String>,
    /// AI 21, the serial number.
    pub serial: Option<String>,
    /// AI 91, the verification key id.
    pub key_id: Option<String>,
    /// AI 92 (44 or 88 characters) or AI 93 / the pack code's last 4 characters: the crypto tail.
    pub crypto: Option<String>,
    /// The tobacco pack's 4-character maximum retail price field (undecoded).
    pub mrp: Option<String>,
    /// Other AIs, in order, as (AI, value).
    pub other: Vec<(String, String)>,
    /// Whether the code is the 29-character tobacco pack form (no AIs).
    pub tobacco_pack: bool,
}

/// Variable-length AIs this parser knows, ended by GS or the end of the code.
const VARIABLE: &[&str] = &["21", "91", "92", "93", "10", "240", "241", "8005", "7003"];
/// Fixed-length AIs and their value lengths.
const FIXED: &[(&str, usize)] = &[("01", 14), ("02", 14), ("11", 6), ("17", 6), ("3103", 6), ("3353", 6)];

fn is_printable(b: &[u8]) -> bool {
    b.iter().all(|c| (0x21..=0x7E).contains(c))
}

impl MarkingCode {
    /// Parses a code as scanned. A leading symbology id (`]d2`, `]C1`, `]Q3`) or GS is skipped.
    /// `None` when it is neither a GS1 element string starting with AI 01 nor a pack code.
    pub fn parse(raw: &[u8]) -> Option<MarkingCode> {
        let mut s = raw;
        for prefix in [&b"]d2"[..], b"]C1", b"]Q3"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest;
            }
        }
        while let Some(rest) = s.strip_prefix(&[GS]) {
            s = rest;
        }
        if s.is_empty() {
            return None;
        }
        if s.len() == 29 && is_printable(s) && s[..14].iter().all(u8::is_ascii_digit) && !s.contains(&GS) {
            let text = |r: std::ops::Range<usize>| String::from_utf8_lossy(&s[r]).into_owned();
            return Some(MarkingCode {
                gtin: Some(text(0..14)),
                serial: Some(text(14..21)),
                key_id: None,
                crypto: Some(text(25..29)),
                mrp: Some(text(21..25)),
                other: Vec::new(),
                tobacco_pack: true,
            });
        }
        if !s.starts_with(b"01") {
            return None;
        }
        let mut code = MarkingCode {
            gtin: None,
            serial: None,
            key_id: None,
            crypto: None,
            mrp: None,
            other: Vec::new(),
            tobacco_pack: false,
        };
        let mut pos = 0;
        while pos < s.len() {
            if s[pos] == GS {
                pos += 1;
                continue;
            }
            let rest = &s[pos..];
            let (ai, value, next) = if let Some((ai, n)) = FIXED.iter().find(|(ai, _)| rest.starts_with(ai.as_bytes()))
            {
                let start = ai.len();
                if rest.len() < start + n {
                    return None;
                }
                (*ai, &rest[start..start + n], pos + start + n)
            } else if let Some(ai) = VARIABLE.iter().find(|ai| rest.starts_with(ai.as_bytes())) {
                let start = ai.len();
                let end = rest[start..].iter().position(|&c| c == GS).map_or(rest.len(), |p| start + p);
                (*ai, &rest[start..end], pos + end)
            } else {
                return None;
            };
            if value.is_empty() || !is_printable(value) {
                return None;
            }
            let v = String::from_utf8_lossy(value).into_owned();
            match ai {
                "01" if v.bytes().all(|c| c.is_ascii_digit()) => code.gtin = Some(v),
                "01" => return None,
                "21" => code.serial = Some(v),
                "91" => code.key_id = Some(v),
                "92" | "93" => code.crypto = Some(v),
                _ => code.other.push((ai.to_string(), v)),
            }
            pos = next;
        }
        code.gtin.as_ref()?;
        Some(code)
    }

    /// The tag 2100 type. `fn_has_key` says whether the FN holds the verification key with
    /// this AI 91 id (a 44-character tail is checked in the FN only then).
    pub fn code_type(&self, fn_has_key: impl Fn(&str) -> bool) -> CodeType {
        match self.crypto.as_deref().map(str::len) {
            None if self.serial.is_some() => CodeType::Short,
            None => CodeType::Unrecognized,
            Some(88) => CodeType::Crypto88,
            Some(44) => match &self.key_id {
                Some(k) if fn_has_key(k) => CodeType::Crypto44Checked,
                _ => CodeType::Crypto44Unchecked,
            },
            Some(4) => CodeType::Crypto4,
            Some(_) => CodeType::Unrecognized,
        }
    }

    /// Tag 2101 «идентификатор товара»: GTIN and serial.
    pub fn product_id(&self) -> Option<String> {
        Some(format!("{}{}", self.gtin.as_ref()?, self.serial.as_deref().unwrap_or("")))
    }
}

/// The FN's local check (0x91) of a code: type, result (tag 2004: 0 not checked, 1 negative,
/// 3 positive) and the reason it was not checked (0–4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LocalCheck {
    /// Tag 2100.
    pub code_type: CodeType,
    /// Tag 2004.
    pub result: u8,
    /// Reason the FN did not check it.
    pub reason: u8,
}

/// Classifies `raw` as the FN does: a code with a tail the FN checks is checked (positive
/// when `crypto_valid`); other codes are not checked, with the documented reason.
pub fn local_check(raw: &[u8], fn_has_key: impl Fn(&str) -> bool, crypto_valid: bool) -> LocalCheck {
    let Some(code) = MarkingCode::parse(raw) else {
        return LocalCheck { code_type: CodeType::Unrecognized, result: 0, reason: 4 };
    };
    let t = code.code_type(fn_has_key);
    let (result, reason) = match t {
        CodeType::Crypto88 | CodeType::Crypto44Checked => (if crypto_valid { 3 } else { 1 }, 0),
        CodeType::Crypto44Unchecked if code.key_id.is_some() => (0, 2),
        CodeType::Crypto44Unchecked | CodeType::Crypto4 => (0, 1),
        CodeType::Short => (0, 3),
        CodeType::Unrecognized => (0, 4),
    };
    LocalCheck { code_type: t, result, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seed 004's example code (0x91, 0x97 notes).
    const SEED: &[u8] = b"010464007801637221gDDJ2VMOqvdNG\x1d91FFD0\x1d92dGVzdIjNx7Hb93pmLsV+niIDiJWV8ZFAjQdF9b2BO/o=";

    #[test]
    fn seed_code_parts_and_type() {
        let c = MarkingCode::parse(SEED).unwrap();
        assert_eq!(c.gtin.as_deref(), Some("04640078016372"));
        assert_eq!(c.serial.as_deref(), Some("gDDJ2VMOqvdNG"));
        assert_eq!(c.key_id.as_deref(), Some("FFD0"));
        assert_eq!(c.crypto.as_ref().map(String::len), Some(44));
        // The seed's 0x92 answer: 2101 = GTIN + serial, 2100 = 3 (key not in the FN).
        assert_eq!(c.product_id().as_deref(), Some("04640078016372gDDJ2VMOqvdNG"));
        assert_eq!(c.code_type(|_| false), CodeType::Crypto44Unchecked);
        assert_eq!(c.code_type(|k| k == "FFD0"), CodeType::Crypto44Checked);
        assert_eq!(
            local_check(SEED, |_| false, true),
            LocalCheck { code_type: CodeType::Crypto44Unchecked, result: 0, reason: 2 }
        );
        assert_eq!(local_check(SEED, |_| true, true).result, 3);
        assert_eq!(local_check(SEED, |_| true, false).result, 1);
    }

    #[test]
    fn prefixes_and_tails() {
        let mut with_prefix = b"]d2\x1d".to_vec();
        with_prefix.extend_from_slice(SEED);
        assert_eq!(MarkingCode::parse(&with_prefix), MarkingCode::parse(SEED));
        let c88 = format!("0104600439931256215Bd;cj,\x1d91EE06\x1d92{}", "A".repeat(88));
        assert_eq!(MarkingCode::parse(c88.as_bytes()).unwrap().code_type(|_| false), CodeType::Crypto88);
        let c4 = b"0104600439931256215Bd;cj,\x1d93dGVz";
        let c = MarkingCode::parse(c4).unwrap();
        assert_eq!(c.code_type(|_| true), CodeType::Crypto4);
        assert_eq!(local_check(c4, |_| true, true), LocalCheck { code_type: CodeType::Crypto4, result: 0, reason: 1 });
        let short = b"0104600439931256215Bd;cj,";
        assert_eq!(local_check(short, |_| true, true), LocalCheck { code_type: CodeType::Short, result: 0, reason: 3 });
        // Milk with expiry and weight AIs.
        let milk = b"0104650093740025215abc12\x1d93ab1C\x1d17250101\x1d3103000500";
        let c = MarkingCode::parse(milk).unwrap();
        assert_eq!(c.crypto.as_deref(), Some("ab1C"));
        assert_eq!(c.other, vec![("17".into(), "250101".into()), ("3103".into(), "000500".into())]);
    }

    #[test]
    fn tobacco_pack_and_rubbish() {
        let pack = b"00000046208442QVvZ5Mq-Aq3FQXO";
        assert_eq!(pack.len(), 29);
        let c = MarkingCode::parse(pack).unwrap();
        assert!(c.tobacco_pack);
        assert_eq!(c.gtin.as_deref(), Some("00000046208442"));
        assert_eq!(c.serial.as_deref(), Some("QVvZ5Mq"));
        assert_eq!(c.mrp.as_deref(), Some("-Aq3"));
        assert_eq!(c.crypto.as_deref(), Some("FQXO"));
        assert_eq!(c.code_type(|_| true), CodeType::Crypto4);
        for bad in [&b""[..], b"\x1d", b"hello", b"0112", b"01ABCDEFGHIJKLMN21x", b"0104600439931256xx"] {
            assert_eq!(MarkingCode::parse(bad), None, "{bad:?}");
            assert_eq!(local_check(bad, |_| true, true).code_type, CodeType::Unrecognized);
        }
    }
}
