//! Marking codes as a scanner delivers them: GS1 DataMatrix element strings (AIs 01, 21, 91, 92,
//! 93, 8005, 3103, … separated by the GS byte 0x1D) and the 29-character tobacco pack code
//! without AIs (GTIN 14 + serial 7 + MRP 4 + crypto tail 4, seed 003 Appendix 1).
//!
//! Scanners and people render the GS separator in several ways; [`MarkingCode::parse`] accepts the
//! GS byte itself, the six characters `\u001d`, `\x1d`, `<GS>`, `{GS}`, `[GS]`, the Unicode
//! symbol `␝`, and a leading AIM symbology identifier (`]d2`, `]C1`, `]Q3`, `]e0` for GS1, `]d1`
//! for a plain DataMatrix such as a pack). [`MarkingCode::to_wire_bytes`] gives what the register
//! and ГИС МТ need: the code with GS as the single byte 0x1D.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::mrp;

/// The GS (group separator, FNC1 in GS1 element strings) byte.
pub const GS: u8 = 0x1D;
const GS_CHAR: char = '\u{1d}';

/// Length of a tobacco pack code (GTIN 14 + serial 7 + MRP 4 + crypto tail 4).
pub const PACK_LEN: usize = 29;

/// How the code is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A GS1 element string (AI 01 + GTIN, AI 21 + serial, …).
    Gs1,
    /// A 29-character tobacco pack code without AIs.
    TobaccoPack,
}

pub use crate::protocol::values::CodeType;

/// The key ids a register's FN is assumed to hold when nothing better is known: every id but
/// `FFD0`, for which a real register answers 2100 = 3 (seed 004, the 0x92 example).
pub fn default_fn_has_key(key_id: &str) -> bool {
    !key_id.eq_ignore_ascii_case("FFD0")
}

/// One GS1 element: an application identifier and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Element {
    /// The AI, e.g. "01", "8005", "3103".
    pub ai: String,
    /// What the AI means (English).
    pub name: &'static str,
    /// The value as scanned.
    pub value: String,
}

/// A parsed marking code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkingCode {
    format: Format,
    /// The code with GS as U+001D, without symbology prefix, leading or trailing GS.
    text: String,
    elements: Vec<Element>,
    gtin: String,
    serial: String,
    key_id: Option<String>,
    crypto: Option<String>,
    mrp: Option<u64>,
    warnings: Vec<String>,
}

/// Why a scanned string is not a marking code. Each variant names what is missing or wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodeError {
    /// Nothing was scanned.
    #[error("the marking code is empty")]
    Empty,
    /// A character outside ASCII: usually a keyboard-wedge scanner typing in a Russian layout.
    #[error(
        "character {ch:?} at position {pos} is not ASCII: a marking code is Latin letters, digits and \
         punctuation (is the scanner typing in a Russian keyboard layout?)"
    )]
    NonAscii {
        /// Position in the normalised input (0-based, characters).
        pos: usize,
        /// The character.
        ch: char,
    },
    /// A space or control character (other than GS) inside the code.
    #[error("byte 0x{byte:02X} at position {pos} is not allowed in a marking code (only printable ASCII and GS 0x1D)")]
    BadByte {
        /// Position (0-based).
        pos: usize,
        /// The byte.
        byte: u8,
    },
    /// The data at `pos` does not start with a known GS1 application identifier.
    #[error("no known GS1 application identifier at position {pos} (found {found:?})")]
    UnknownAi {
        /// Position (0-based).
        pos: usize,
        /// Up to 4 characters found there.
        found: String,
    },
    /// A fixed-length AI's value is shorter than its length.
    #[error("AI {ai} ({name}) needs {expected} characters, only {got} present")]
    Truncated {
        /// The AI.
        ai: String,
        /// Its meaning.
        name: &'static str,
        /// Required length.
        expected: usize,
        /// Length found.
        got: usize,
    },
    /// A variable-length AI's value runs past its maximum: a GS separator is missing.
    #[error(
        "AI {ai} ({name}) is {got} characters long, at most {max} allowed: the GS separator (0x1D) after it \
         is missing (set the scanner to send GS)"
    )]
    TooLong {
        /// The AI.
        ai: String,
        /// Its meaning.
        name: &'static str,
        /// Maximum length.
        max: usize,
        /// Length found.
        got: usize,
    },
    /// A numeric AI holds something else.
    #[error("AI {ai} ({name}) must be digits, got {value:?}")]
    NotNumeric {
        /// The AI.
        ai: String,
        /// Its meaning.
        name: &'static str,
        /// The value.
        value: String,
    },
    /// An AI with no value (two separators in a row, or the code ends after the AI).
    #[error("AI {ai} ({name}) has no value")]
    EmptyValue {
        /// The AI.
        ai: String,
        /// Its meaning.
        name: &'static str,
    },
    /// The same AI twice.
    #[error("AI {ai} appears twice")]
    DuplicateAi {
        /// The AI.
        ai: String,
    },
    /// A required element is absent.
    #[error("AI {ai} ({what}) is missing")]
    Missing {
        /// The AI.
        ai: &'static str,
        /// What it carries.
        what: &'static str,
    },
    /// The GTIN's check digit does not match: the code was mistyped or misread.
    #[error("GTIN {gtin}: the check digit is wrong ({expected} expected): the code was mistyped or misread")]
    CheckDigit {
        /// The GTIN as given.
        gtin: String,
        /// The check digit its other digits give.
        expected: u8,
    },
    /// The crypto tail runs into the serial number: the GS separator before AI 91 or 93 is missing.
    #[error(
        "the GS separator (0x1D) before AI {ai} is missing: the serial number {serial:?} runs into the crypto \
         tail (set the scanner to send GS)"
    )]
    MissingGs {
        /// The AI whose separator is missing (`91` or `93`).
        ai: &'static str,
        /// The serial number as it was read, tail included.
        serial: String,
    },
    /// Bytes that reached the register carry a textual rendering of GS (`<GS>`, `\u001d`, …) or a
    /// symbology prefix (`]d2`): the FN takes them as characters, so the code is malformed there.
    #[error(
        "{found:?} at position {pos} is text, not the GS byte 0x1D: the register takes the code's bytes as they \
         are (parse the scanned code first)"
    )]
    Rendering {
        /// Position (0-based, bytes).
        pos: usize,
        /// The rendering found.
        found: String,
    },
    /// Neither a GS1 element string nor a 29-character pack code.
    #[error(
        "not a marking code: a GS1 code starts with AI 01 and a 14-digit GTIN; a tobacco pack code is 29 \
         characters starting with 14 digits ({len} characters given)"
    )]
    Unrecognized {
        /// Length of the normalised input.
        len: usize,
    },
}

/// One row of the GS1 AI table: the AI's leading digits, how many digits the AI has, the value's
/// length (fixed or maximum), whether the value is numeric, and its meaning.
struct AiSpec {
    prefix: &'static str,
    ai_len: usize,
    fixed: bool,
    len: usize,
    numeric: bool,
    name: &'static str,
}

const fn ai(prefix: &'static str, ai_len: usize, fixed: bool, len: usize, numeric: bool, name: &'static str) -> AiSpec {
    AiSpec { prefix, ai_len, fixed, len, numeric, name }
}

/// The GS1 General Specifications' AI table (the part marking codes and labels use). Longer
/// prefixes come first where they overlap.
static AI_TABLE: &[AiSpec] = &[
    ai("00", 2, true, 18, true, "SSCC"),
    ai("01", 2, true, 14, true, "GTIN"),
    ai("02", 2, true, 14, true, "GTIN of contained items"),
    ai("10", 2, false, 20, false, "batch or lot"),
    ai("11", 2, true, 6, true, "production date YYMMDD"),
    ai("12", 2, true, 6, true, "due date YYMMDD"),
    ai("13", 2, true, 6, true, "packaging date YYMMDD"),
    ai("15", 2, true, 6, true, "best before YYMMDD"),
    ai("16", 2, true, 6, true, "sell by YYMMDD"),
    ai("17", 2, true, 6, true, "expiration date YYMMDD"),
    ai("20", 2, true, 2, true, "internal product variant"),
    ai("21", 2, false, 20, false, "serial number"),
    ai("22", 2, false, 20, false, "consumer product variant"),
    ai("235", 3, false, 28, false, "third-party controlled serial extension"),
    ai("240", 3, false, 30, false, "additional product identification"),
    ai("241", 3, false, 30, false, "customer part number"),
    ai("242", 3, false, 6, true, "made-to-order variation"),
    ai("243", 3, false, 20, false, "packaging component number"),
    ai("250", 3, false, 30, false, "secondary serial number"),
    ai("251", 3, false, 30, false, "reference to source entity"),
    ai("253", 3, false, 30, false, "global document type identifier"),
    ai("254", 3, false, 20, false, "GLN extension component"),
    ai("255", 3, false, 25, true, "global coupon number"),
    ai("30", 2, false, 8, true, "variable count"),
    ai("31", 4, true, 6, true, "trade measure (31nn)"),
    ai("32", 4, true, 6, true, "trade measure (32nn)"),
    ai("33", 4, true, 6, true, "logistic measure (33nn)"),
    ai("34", 4, true, 6, true, "logistic measure (34nn)"),
    ai("35", 4, true, 6, true, "trade measure (35nn)"),
    ai("36", 4, true, 6, true, "trade measure (36nn)"),
    ai("37", 2, false, 8, true, "count of trade items"),
    ai("39", 4, false, 18, true, "amount payable (39nn)"),
    ai("400", 3, false, 30, false, "customer's purchase order number"),
    ai("401", 3, false, 30, false, "global identification number for consignment"),
    ai("402", 3, true, 17, true, "global shipment identification number"),
    ai("403", 3, false, 30, false, "routing code"),
    ai("41", 3, true, 13, true, "global location number (41n)"),
    ai("420", 3, false, 20, false, "ship-to postal code"),
    ai("421", 3, false, 12, false, "ship-to postal code with country"),
    ai("422", 3, true, 3, true, "country of origin"),
    ai("423", 3, false, 15, true, "country of initial processing"),
    ai("424", 3, true, 3, true, "country of processing"),
    ai("425", 3, false, 15, true, "country of disassembly"),
    ai("426", 3, true, 3, true, "country of full process chain"),
    ai("427", 3, false, 3, false, "country subdivision of origin"),
    ai("7001", 4, true, 13, true, "NATO stock number"),
    ai("7002", 4, false, 30, false, "UN/ECE meat carcasses classification"),
    ai("7003", 4, true, 10, true, "expiration date and time YYMMDDHHMM"),
    ai("7004", 4, false, 4, true, "active potency"),
    ai("7005", 4, false, 12, false, "catch area"),
    ai("7006", 4, true, 6, true, "first freeze date"),
    ai("7007", 4, false, 12, true, "harvest date"),
    ai("7008", 4, false, 3, false, "species for fishery purposes"),
    ai("7009", 4, false, 10, false, "fishing gear type"),
    ai("7010", 4, false, 2, false, "production method"),
    ai("7020", 4, false, 20, false, "refurbishment lot"),
    ai("7021", 4, false, 20, false, "functional status"),
    ai("7022", 4, false, 20, false, "revision status"),
    ai("7023", 4, false, 30, false, "global individual asset identifier of an assembly"),
    ai("703", 4, false, 30, false, "approval number of processor (703s)"),
    ai("71", 3, false, 20, false, "national healthcare reimbursement number (71n)"),
    ai("8001", 4, true, 14, true, "roll products"),
    ai("8002", 4, false, 20, false, "cellular mobile telephone identifier"),
    ai("8003", 4, false, 30, false, "global returnable asset identifier"),
    ai("8004", 4, false, 30, false, "global individual asset identifier"),
    ai("8005", 4, true, 6, true, "price per unit (tobacco block MRP, kopecks)"),
    ai("8006", 4, true, 18, true, "component of an individual trade item"),
    ai("8007", 4, false, 34, false, "IBAN"),
    ai("8008", 4, false, 12, true, "date and time of production"),
    ai("8009", 4, false, 50, false, "optically readable sensor indicator"),
    ai("8010", 4, false, 30, false, "component/part identifier"),
    ai("8011", 4, false, 12, true, "component/part identifier serial number"),
    ai("8012", 4, false, 20, false, "software version"),
    ai("8013", 4, false, 25, false, "global model number"),
    ai("8017", 4, true, 18, true, "global service relation number (provider)"),
    ai("8018", 4, true, 18, true, "global service relation number (recipient)"),
    ai("8019", 4, false, 10, true, "service relation instance number"),
    ai("8020", 4, false, 25, false, "payment slip reference number"),
    ai("8026", 4, true, 18, true, "identification of pieces of a trade item"),
    ai("8110", 4, false, 70, false, "coupon code identification"),
    ai("8111", 4, true, 4, true, "loyalty points of a coupon"),
    ai("8112", 4, false, 70, false, "paperless coupon code identification"),
    ai("8200", 4, false, 70, false, "extended packaging URL"),
    ai("90", 2, false, 30, false, "mutually agreed information"),
    ai("91", 2, false, 90, false, "crypto key id (ЧЗ)"),
    ai("92", 2, false, 90, false, "crypto code (ЧЗ, 44 or 88 characters)"),
    ai("93", 2, false, 90, false, "crypto code (ЧЗ, 4 characters)"),
    ai("94", 2, false, 90, false, "company internal information"),
    ai("95", 2, false, 90, false, "company internal information"),
    ai("96", 2, false, 90, false, "company internal information"),
    ai("97", 2, false, 90, false, "company internal information"),
    ai("98", 2, false, 90, false, "company internal information"),
    ai("99", 2, false, 90, false, "company internal information"),
];

fn lookup_ai(rest: &[u8]) -> Option<(&'static AiSpec, String)> {
    AI_TABLE
        .iter()
        .filter(|s| rest.len() >= s.ai_len && rest.starts_with(s.prefix.as_bytes()))
        .filter(|s| rest[..s.ai_len].iter().all(u8::is_ascii_digit))
        .max_by_key(|s| s.prefix.len())
        .map(|s| (s, String::from_utf8_lossy(&rest[..s.ai_len]).into_owned()))
}

/// The GS1 check digit of a GTIN (mod 10, weights 3 and 1 from the right).
pub fn gtin_check_digit_ok(gtin: &str) -> bool {
    gtin_check_digit(gtin).is_some_and(|c| gtin.as_bytes().last() == Some(&(b'0' + c)))
}

/// The check digit a GTIN's other digits give (None when it is not at least 2 digits).
pub fn gtin_check_digit(gtin: &str) -> Option<u8> {
    let d: Vec<u32> = gtin.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != gtin.len() || d.len() < 2 {
        return None;
    }
    let body = &d[..d.len() - 1];
    let sum: u32 = body.iter().rev().enumerate().map(|(i, &x)| if i % 2 == 0 { 3 * x } else { x }).sum();
    Some(((10 - sum % 10) % 10) as u8)
}

/// Serial lengths after which a fused `93` + 4-character tail is taken as a missing GS (seed 003's
/// dairy, water and beer codes have 6; 7 and 13 are left out: a 13-character serial of a short
/// code may hold `93` anywhere).
const FUSED_93_SERIAL_LENS: &[usize] = &[6, 8];

/// How strictly a code is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// What a scanner or a person delivered: GS renderings and symbology prefixes are read, and a
    /// wrong GTIN check digit or a crypto tail fused into the serial is refused.
    Scanned,
    /// The bytes a register received: taken as they are (what a real FN does).
    Wire,
}

/// Textual renderings of GS that scanners or people produce, replaced by the GS character.
const GS_RENDERINGS: &[&str] = &["\\u001d", "\\x1d", "<gs>", "{gs}", "[gs]", "\u{241d}"];

/// GS1 symbology identifiers (AIM): GS1 DataMatrix, GS1-128, GS1 QR, GS1 DataBar.
const GS1_PREFIXES: &[&str] = &["]d2", "]C1", "]Q3", "]e0"];
/// Plain (non-GS1) DataMatrix, as a tobacco pack is printed.
const PLAIN_PREFIXES: &[&str] = &["]d1"];

fn replace_renderings(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    'outer: while i < s.len() {
        for r in GS_RENDERINGS {
            if s.len() - i >= r.len() && s.is_char_boundary(i + r.len()) && s[i..i + r.len()].eq_ignore_ascii_case(r) {
                out.push(GS_CHAR);
                i += r.len();
                continue 'outer;
            }
        }
        let c = s[i..].chars().next().expect("in bounds");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// The AI whose GS is missing when a serial number ends in a crypto tail that belongs after a GS:
/// `93` + 4 characters after a serial of a known length, or `91` + a 4-character key id.
fn fused_tail(serial: &str) -> Option<&'static str> {
    let b = serial.as_bytes();
    let n = b.len();
    if n >= 6 && b[n - 6..n - 4] == *b"93" && FUSED_93_SERIAL_LENS.contains(&(n - 6)) {
        return Some("93");
    }
    if n >= 6 && b[n - 6..n - 4] == *b"91" && FUSED_93_SERIAL_LENS.contains(&(n - 6)) {
        return Some("91");
    }
    None
}

impl MarkingCode {
    /// Parses what a scanner delivered (see the module docs for the accepted renderings). A GTIN
    /// whose check digit is wrong, or a crypto tail run into the serial number (no GS before AI
    /// 93), is refused: such a code was misread.
    pub fn parse(input: &str) -> Result<MarkingCode, CodeError> {
        Self::parse_with(input, Mode::Scanned)
    }

    /// Reads the bytes a register received, as a real FN does: GS is the byte 0x1D and nothing
    /// else, no prefix is stripped. A textual rendering of GS (`<GS>`, `\u001d`, `{GS}`, …) or a
    /// symbology prefix makes the code malformed ([`CodeError::Rendering`]), so the virtual
    /// register cannot hide a driver that forgot to parse a scanned code. A wrong GTIN check digit
    /// is only a warning here (the FN does not check it).
    pub fn from_wire(bytes: &[u8]) -> Result<MarkingCode, CodeError> {
        if let Some(pos) = bytes.iter().position(|b| !b.is_ascii()) {
            let ch = String::from_utf8_lossy(&bytes[pos..]).chars().next().unwrap_or('\u{fffd}');
            return Err(CodeError::NonAscii { pos, ch });
        }
        let text = std::str::from_utf8(bytes).expect("ASCII is UTF-8");
        let lower = text.to_ascii_lowercase();
        let prefix = GS1_PREFIXES.iter().chain(PLAIN_PREFIXES).find(|p| text.starts_with(**p)).map(|p| (0, p.len()));
        let found = prefix.or_else(|| {
            GS_RENDERINGS
                .iter()
                .filter(|r| r.is_ascii())
                .filter_map(|r| lower.find(&r.to_ascii_lowercase()).map(|pos| (pos, r.len())))
                .min()
        });
        if let Some((pos, len)) = found {
            return Err(CodeError::Rendering { pos, found: text[pos..pos + len].to_string() });
        }
        Self::parse_with(text, Mode::Wire)
    }

    fn parse_with(input: &str, mode: Mode) -> Result<MarkingCode, CodeError> {
        let mut s;
        let mut forced = None;
        if mode == Mode::Scanned {
            let trimmed = input.trim_matches(|c: char| c == ' ' || c == '\r' || c == '\n' || c == '\t');
            s = replace_renderings(trimmed);
            for p in GS1_PREFIXES {
                if let Some(rest) = s.strip_prefix(p) {
                    s = rest.to_string();
                    forced = Some(Format::Gs1);
                    break;
                }
            }
            for p in PLAIN_PREFIXES {
                if let Some(rest) = s.strip_prefix(p) {
                    s = rest.to_string();
                    forced = Some(Format::TobaccoPack);
                    break;
                }
            }
        } else {
            s = input.to_string();
        }
        let s = s.trim_matches(GS_CHAR);
        if s.is_empty() {
            return Err(CodeError::Empty);
        }
        for (pos, ch) in s.chars().enumerate() {
            if !ch.is_ascii() {
                return Err(CodeError::NonAscii { pos, ch });
            }
            if ch != GS_CHAR && !ch.is_ascii_graphic() {
                return Err(CodeError::BadByte { pos, byte: ch as u8 });
            }
        }
        let bytes = s.as_bytes();
        let pack_shape = bytes.len() == PACK_LEN
            && !bytes.contains(&GS)
            && bytes[..14].iter().all(u8::is_ascii_digit)
            && bytes[21..25].iter().all(|&c| mrp::index_of(c).is_some());
        let looks_gs1 = bytes.len() >= 16 && bytes.starts_with(b"01") && bytes[2..16].iter().all(u8::is_ascii_digit);
        let code = match forced {
            Some(Format::Gs1) => Self::parse_gs1(s, mode)?,
            Some(Format::TobaccoPack) if pack_shape => Self::parse_pack(s),
            _ if pack_shape && (!looks_gs1 || gtin_check_digit_ok(&s[..14])) => Self::parse_pack(s),
            _ if looks_gs1 || bytes.contains(&GS) => Self::parse_gs1(s, mode)?,
            _ => return Err(CodeError::Unrecognized { len: s.chars().count() }),
        };
        if mode == Mode::Scanned && !gtin_check_digit_ok(&code.gtin) {
            let expected = gtin_check_digit(&code.gtin).unwrap_or(0);
            return Err(CodeError::CheckDigit { gtin: code.gtin, expected });
        }
        Ok(code)
    }

    /// Parses raw scanner bytes (GS as 0x1D). Bytes above 0x7F are refused: a marking code is ASCII.
    pub fn parse_bytes(input: &[u8]) -> Result<MarkingCode, CodeError> {
        if let Some(pos) = input.iter().position(|b| !b.is_ascii()) {
            let ch = String::from_utf8_lossy(&input[pos..]).chars().next().unwrap_or('\u{fffd}');
            return Err(CodeError::NonAscii { pos, ch });
        }
        Self::parse(std::str::from_utf8(input).expect("ASCII is UTF-8"))
    }

    fn parse_pack(s: &str) -> MarkingCode {
        let gtin = s[..14].to_string();
        let serial = s[14..21].to_string();
        let mrp_text = &s[21..25];
        let crypto = s[25..29].to_string();
        let mut warnings = Vec::new();
        if !gtin_check_digit_ok(&gtin) {
            warnings.push(format!("GTIN {gtin}: the check digit is wrong"));
        }
        let elements = vec![
            Element { ai: "pack".into(), name: "GTIN", value: gtin.clone() },
            Element { ai: "pack".into(), name: "serial number", value: serial.clone() },
            Element { ai: "pack".into(), name: "MRP, base-80", value: mrp_text.to_string() },
            Element { ai: "pack".into(), name: "crypto tail", value: crypto.clone() },
        ];
        MarkingCode {
            format: Format::TobaccoPack,
            text: s.to_string(),
            elements,
            gtin,
            serial,
            key_id: None,
            crypto: Some(crypto),
            mrp: mrp::decode(mrp_text).ok(),
            warnings,
        }
    }

    fn parse_gs1(s: &str, mode: Mode) -> Result<MarkingCode, CodeError> {
        let b = s.as_bytes();
        let mut pos = 0;
        let mut elements: Vec<Element> = Vec::new();
        while pos < b.len() {
            if b[pos] == GS {
                pos += 1;
                continue;
            }
            let (spec, ai) = lookup_ai(&b[pos..]).ok_or_else(|| CodeError::UnknownAi {
                pos,
                found: String::from_utf8_lossy(&b[pos..(pos + 4).min(b.len())]).into_owned(),
            })?;
            if elements.iter().any(|e| e.ai == ai) {
                return Err(CodeError::DuplicateAi { ai });
            }
            let start = pos + ai.len();
            let value = if spec.fixed {
                let end = start + spec.len;
                let avail = b[start..].iter().take_while(|&&c| c != GS).count();
                if avail < spec.len {
                    if avail == 0 {
                        return Err(CodeError::EmptyValue { ai, name: spec.name });
                    }
                    return Err(CodeError::Truncated { ai, name: spec.name, expected: spec.len, got: avail });
                }
                pos = end;
                &s[start..end]
            } else {
                let len = b[start..].iter().take_while(|&&c| c != GS).count();
                if len == 0 {
                    return Err(CodeError::EmptyValue { ai, name: spec.name });
                }
                if len > spec.len {
                    return Err(CodeError::TooLong { ai, name: spec.name, max: spec.len, got: len });
                }
                pos = start + len;
                &s[start..start + len]
            };
            if spec.numeric && !value.bytes().all(|c| c.is_ascii_digit()) {
                return Err(CodeError::NotNumeric { ai, name: spec.name, value: value.to_string() });
            }
            elements.push(Element { ai, name: spec.name, value: value.to_string() });
        }
        let get = |ai: &str| elements.iter().find(|e| e.ai == ai).map(|e| e.value.clone());
        let gtin = get("01").ok_or(CodeError::Missing { ai: "01", what: "GTIN" })?;
        let serial = get("21").ok_or(CodeError::Missing { ai: "21", what: "serial number" })?;
        let key_id = get("91");
        let crypto = get("92").or_else(|| get("93"));
        let mrp = get("8005").and_then(|v| v.parse::<u64>().ok());
        let mut warnings = Vec::new();
        if !gtin_check_digit_ok(&gtin) {
            warnings.push(format!("GTIN {gtin}: the check digit is wrong"));
        }
        if mode == Mode::Scanned && crypto.is_none() && !b.contains(&GS) {
            if let Some(ai) = fused_tail(&serial) {
                return Err(CodeError::MissingGs { ai, serial });
            }
        }
        if crypto.is_none() && !b.contains(&GS) && (serial.len() > 13 || serial.contains("93") || serial.contains("91"))
        {
            warnings.push(
                "no crypto tail (AI 91/92/93) and no GS separator: if the label carries a crypto tail, the scanner \
                 drops the GS (0x1D) characters"
                    .to_string(),
            );
        }
        if key_id.is_some() && get("92").is_none() {
            warnings.push("AI 91 (key id) without AI 92 (crypto code)".to_string());
        }
        Ok(MarkingCode {
            format: Format::Gs1,
            text: s.to_string(),
            elements,
            gtin,
            serial,
            key_id,
            crypto,
            mrp,
            warnings,
        })
    }

    /// GS1 element string or tobacco pack.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The elements in scan order (for a pack: GTIN, serial, MRP, crypto tail).
    pub fn elements(&self) -> &[Element] {
        &self.elements
    }

    /// The value of a GS1 AI, if present.
    pub fn element(&self, ai: &str) -> Option<&str> {
        self.elements.iter().find(|e| e.ai == ai).map(|e| e.value.as_str())
    }

    /// The 14-digit GTIN.
    pub fn gtin(&self) -> &str {
        &self.gtin
    }

    /// The serial number (AI 21; characters 15–21 of a pack).
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The crypto key id (AI 91), when present.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// The crypto tail: AI 92 (44/88 characters), AI 93 (4 characters), or a pack's last 4.
    pub fn crypto_tail(&self) -> Option<&str> {
        self.crypto.as_deref()
    }

    /// The code without its crypto part, as ГИС МТ's `printView` gives it: `01` GTIN `21` serial
    /// for a GS1 code; GTIN + serial (21 characters, the code of identification) for a pack.
    /// This is the key under which a code is remembered (sold-codes store, duplicates).
    pub fn print_view(&self) -> String {
        match self.format {
            Format::Gs1 => format!("01{}21{}", self.gtin, self.serial),
            Format::TobaccoPack => format!("{}{}", self.gtin, self.serial),
        }
    }

    /// The tag 2100 type, given which verification keys (AI 91 ids) the FN holds: a 44-character
    /// tail is checked in the FN only when it names a key the FN has.
    pub fn code_type(&self, fn_has_key: impl Fn(&str) -> bool) -> CodeType {
        if self.format == Format::TobaccoPack {
            return CodeType::CRYPTO4;
        }
        if let Some(c92) = self.element("92") {
            return match c92.len() {
                88 => CodeType::CRYPTO88,
                44 => match self.key_id() {
                    Some(k) if fn_has_key(k) => CodeType::CRYPTO44_CHECKED,
                    _ => CodeType::CRYPTO44_UNCHECKED,
                },
                _ => CodeType::UNRECOGNIZED,
            };
        }
        match self.element("93") {
            Some(c93) if c93.len() == 4 => CodeType::CRYPTO4,
            Some(_) => CodeType::UNRECOGNIZED,
            None => CodeType::SHORT,
        }
    }

    /// The tag 2100 «тип кода маркировки» value (seed 004): 1 short code (no crypto tail);
    /// 2 crypto code of 88 characters; 3 crypto code of 44 characters not checked in the FN;
    /// 4 crypto code of 44 characters checked in the FN; 5 crypto code of 4 characters
    /// (AI 93, a tobacco pack); 0 not identified.
    ///
    /// Advisory: the register identifies the type itself (seed 004 recommends sending 0). Without
    /// knowing the FN's keys, [`default_fn_has_key`] is assumed; [`Self::code_type`] takes them.
    pub fn code_type_2100(&self) -> u8 {
        self.code_type(default_fn_has_key).code()
    }

    /// Tag 2101 «идентификатор товара»: GTIN and serial, without AIs.
    pub fn product_id(&self) -> String {
        format!("{}{}", self.gtin, self.serial)
    }

    /// English text for [`Self::code_type_2100`].
    pub fn code_type_text(&self) -> &'static str {
        self.code_type(default_fn_has_key).text_en().unwrap_or("not identified")
    }

    /// The MRP in kopecks: base-80 characters 22–25 of a pack, or AI 8005 of a block.
    pub fn mrp_kopecks(&self) -> Option<u64> {
        self.mrp
    }

    /// True for a tobacco pack, or a code carrying AI 8005 (a tobacco block).
    pub fn is_tobacco_code(&self) -> bool {
        self.format == Format::TobaccoPack || self.element("8005").is_some()
    }

    /// The code as bytes to send to the register or ГИС МТ: ASCII, GS as the one byte 0x1D.
    pub fn to_wire_bytes(&self) -> Vec<u8> {
        self.text.as_bytes().to_vec()
    }

    /// The code with GS as the character U+001D (what JSON escapes as `\u001d`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The code for people: GS shown as `<GS>`.
    pub fn display_gs(&self) -> String {
        self.text.replace(GS_CHAR, "<GS>")
    }

    /// Things that parsed but look wrong (a bad GTIN check digit, a scanner that drops GS).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

impl FromStr for MarkingCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MarkingCode::parse(s)
    }
}

/// Shows the code with GS as the six characters `\u001d` (which [`MarkingCode::parse`] reads back).
impl fmt::Display for MarkingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text.replace(GS_CHAR, "\\u001d"))
    }
}

impl Serialize for MarkingCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("MarkingCode", 13)?;
        st.serialize_field("code", &self.text)?;
        st.serialize_field("format", &self.format)?;
        st.serialize_field("gtin", &self.gtin)?;
        st.serialize_field("serial", &self.serial)?;
        st.serialize_field("key_id", &self.key_id)?;
        st.serialize_field("crypto_tail", &self.crypto)?;
        st.serialize_field("print_view", &self.print_view())?;
        st.serialize_field("code_type_2100", &self.code_type_2100())?;
        st.serialize_field("code_type", self.code_type_text())?;
        st.serialize_field("mrp_kopecks", &self.mrp)?;
        st.serialize_field("elements", &self.elements)?;
        st.serialize_field("wire_hex", &hex::encode_upper(self.to_wire_bytes()))?;
        st.serialize_field("warnings", &self.warnings)?;
        st.end()
    }
}

/// The FN's local check (0x91) of a code: type (tag 2100), result (tag 2004: 0 not checked,
/// 1 negative, 3 positive) and the reason it was not checked (0 checked, 1 type not checked in
/// the FN, 2 the FN lacks the key, 3 no AI 91/92, 4 other).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LocalCheck {
    /// Tag 2100.
    #[serde(with = "crate::protocol::values::by_name")]
    pub code_type: CodeType,
    /// Tag 2004.
    pub result: u8,
    /// Why the FN did not check it.
    pub reason: u8,
}

/// Classifies the bytes a register received as the FN does (the virtual register's 0x91), read
/// with [`MarkingCode::from_wire`]: a code with a tail the FN checks is checked (positive when
/// `crypto_valid`); other codes are not, with the documented reason; a malformed code (a
/// textual `<GS>` among them) is not identified.
pub fn local_check(raw: &[u8], fn_has_key: impl Fn(&str) -> bool, crypto_valid: bool) -> LocalCheck {
    let Ok(code) = MarkingCode::from_wire(raw) else {
        return LocalCheck { code_type: CodeType::UNRECOGNIZED, result: 0, reason: 4 };
    };
    let t = code.code_type(fn_has_key);
    let (result, reason) = match t {
        CodeType::CRYPTO88 | CodeType::CRYPTO44_CHECKED => (if crypto_valid { 3 } else { 1 }, 0),
        CodeType::CRYPTO44_UNCHECKED if code.key_id().is_some() => (0, 2),
        CodeType::CRYPTO44_UNCHECKED | CodeType::CRYPTO4 => (0, 1),
        CodeType::SHORT => (0, 3),
        _ => (0, 4),
    };
    LocalCheck { code_type: t, result, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DAIRY: &str = "0104670540176099215'W9Um\u{1d}93dGVz";
    const BLOCK: &str = "010461013628057121/798DM%\u{1d}8005106000\u{1d}93dGVz";
    const SHOES: &str =
        "010464007801637221gDDJ2VMOqvdNG\u{1d}91FFD0\u{1d}92dGVzdIjNx7Hb93pmLsV+niIDiJWV8ZFAjQdF9b2BO/o=";

    #[test]
    fn dairy_code_with_93() {
        let c = MarkingCode::parse(DAIRY).unwrap();
        assert_eq!(c.format(), Format::Gs1);
        assert_eq!(c.gtin(), "04670540176099");
        assert_eq!(c.serial(), "5'W9Um");
        assert_eq!(c.crypto_tail(), Some("dGVz"));
        assert_eq!(c.print_view(), "0104670540176099215'W9Um");
        assert_eq!(c.code_type_2100(), 5);
        assert_eq!(c.mrp_kopecks(), None);
        assert!(!c.is_tobacco_code());
        assert!(c.warnings().is_empty());
        let wire = c.to_wire_bytes();
        assert_eq!(wire.iter().filter(|&&b| b == 0x1D).count(), 1);
        assert_eq!(wire.len(), DAIRY.len());
    }

    #[test]
    fn print_view_matches_gismt_example() {
        // Seed 003 §1.5: request 01048657365749062155esJWe\u001d93dGVz, printView 01048657365749062155esJWe.
        let c = MarkingCode::parse("01048657365749062155esJWe\\u001d93dGVz").unwrap();
        assert_eq!(c.print_view(), "01048657365749062155esJWe");
        assert_eq!(c.serial(), "55esJWe");
    }

    #[test]
    fn every_gs_rendering_gives_the_same_bytes() {
        let want = MarkingCode::parse(DAIRY).unwrap().to_wire_bytes();
        for input in [
            "0104670540176099215'W9Um\\u001d93dGVz",
            "0104670540176099215'W9Um\\u001D93dGVz",
            "0104670540176099215'W9Um<GS>93dGVz",
            "0104670540176099215'W9Um<gs>93dGVz",
            "0104670540176099215'W9Um{GS}93dGVz",
            "0104670540176099215'W9Um\\x1d93dGVz",
            "0104670540176099215'W9Um\u{241d}93dGVz",
            "]d20104670540176099215'W9Um\u{1d}93dGVz",
            "]d2\u{1d}0104670540176099215'W9Um\u{1d}93dGVz\r\n",
            "\u{1d}0104670540176099215'W9Um\u{1d}93dGVz\u{1d}",
        ] {
            let c = MarkingCode::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(c.to_wire_bytes(), want, "{input:?}");
        }
        assert_eq!(MarkingCode::parse_bytes(DAIRY.as_bytes()).unwrap().to_wire_bytes(), want);
    }

    #[test]
    fn tobacco_block_with_8005() {
        let c = MarkingCode::parse(BLOCK).unwrap();
        assert_eq!(c.gtin(), "04610136280571");
        assert_eq!(c.serial(), "/798DM%");
        assert_eq!(c.element("8005"), Some("106000"));
        assert_eq!(c.mrp_kopecks(), Some(106000));
        assert_eq!(c.crypto_tail(), Some("dGVz"));
        assert_eq!(c.code_type_2100(), 5);
        assert!(c.is_tobacco_code());
        assert_eq!(c.print_view(), "010461013628057121/798DM%");
    }

    #[test]
    fn tobacco_packs_of_appendix_1() {
        for (code, serial, tail) in [
            ("00000046185372KY4mjNZAB=U/FkO", "KY4mjNZ", "/FkO"),
            ("00000046185372Zq48THYAB=UIeNn", "Zq48THY", "IeNn"),
            ("00000046185372H6Bg3TAAB=UoU6V", "H6Bg3TA", "oU6V"),
        ] {
            let c = MarkingCode::parse(code).unwrap();
            assert_eq!(c.format(), Format::TobaccoPack);
            assert_eq!(c.gtin(), "00000046185372");
            assert_eq!(c.serial(), serial);
            assert_eq!(c.crypto_tail(), Some(tail));
            assert_eq!(c.mrp_kopecks(), Some(12500), "{code}");
            assert_eq!(c.code_type_2100(), 5);
            assert_eq!(c.print_view(), format!("00000046185372{serial}"));
            assert_eq!(c.to_wire_bytes(), code.as_bytes());
            assert!(c.is_tobacco_code());
        }
        // Scenario 8/9 of Appendix 2: MRP 145 р 00 к.
        let c = MarkingCode::parse("04601653035829H;dV)bFACVUdGVz").unwrap();
        assert_eq!(c.mrp_kopecks(), Some(14500));
        // A pack code read as plain DataMatrix with its symbology prefix.
        let c = MarkingCode::parse("]d100000046185372KY4mjNZAB=U/FkO").unwrap();
        assert_eq!(c.format(), Format::TobaccoPack);
    }

    #[test]
    fn code_types_2100() {
        let c = MarkingCode::parse(SHOES).unwrap();
        assert_eq!(c.key_id(), Some("FFD0"));
        assert_eq!(c.crypto_tail().map(str::len), Some(44));
        assert_eq!(c.code_type_2100(), 3, "seed 004's register answer for this code");
        let c = MarkingCode::parse(&SHOES.replace("FFD0", "EE10")).unwrap();
        assert_eq!(c.code_type_2100(), 4);
        let long = format!("0104600000000008215abcdefghijkl\u{1d}91EE06\u{1d}92{}", "A".repeat(88));
        assert_eq!(MarkingCode::parse(&long).unwrap().code_type_2100(), 2);
        let short = MarkingCode::parse("010460000000000821ABCDEFGHIJKLM").unwrap();
        assert_eq!(short.code_type_2100(), 1);
        assert_eq!(short.crypto_tail(), None);
    }

    #[test]
    fn other_gs1_ais() {
        // Dairy by weight: 3103 net weight (kg, 3 decimals), fixed length, no GS needed after it.
        let c = MarkingCode::parse("0104600000000008215abcdef\u{1d}93dGVz\u{1d}3103001234").unwrap();
        assert_eq!(c.element("3103"), Some("001234"));
        let c = MarkingCode::parse("010460000000000817250101215abcdef\u{1d}93dGVz").unwrap();
        assert_eq!(c.element("17"), Some("250101"));
        assert_eq!(c.serial(), "5abcdef");
        let c = MarkingCode::parse("0104600000000008215abcdef\u{1d}10LOT42\u{1d}93dGVz").unwrap();
        assert_eq!(c.element("10"), Some("LOT42"));
    }

    #[test]
    fn errors_name_what_is_wrong() {
        assert_eq!(MarkingCode::parse("  "), Err(CodeError::Empty));
        assert_eq!(MarkingCode::parse("<GS>"), Err(CodeError::Empty));
        assert!(matches!(
            MarkingCode::parse("0104670540176099215'W9Um\u{1d}93dGVz".replace('W', "Ц").as_str()),
            Err(CodeError::NonAscii { pos: 20, ch: 'Ц' })
        ));
        assert!(matches!(
            MarkingCode::parse("0104670540176099215 W9Um\u{1d}93dGVz"),
            Err(CodeError::BadByte { pos: 19, byte: b' ' })
        ));
        assert_eq!(
            MarkingCode::parse("0104670540176099\u{1d}93dGVz"),
            Err(CodeError::Missing { ai: "21", what: "serial number" })
        );
        assert_eq!(MarkingCode::parse("21abc\u{1d}93dGVz\u{1d}"), Err(CodeError::Missing { ai: "01", what: "GTIN" }));
        let e = MarkingCode::parse("01046705401760").unwrap_err();
        assert!(matches!(e, CodeError::Unrecognized { .. }), "{e:?}");
        let e = MarkingCode::parse("0104670540176\u{1d}215abc").unwrap_err();
        assert!(matches!(e, CodeError::Truncated { ref ai, expected: 14, got: 11, .. } if ai == "01"), "{e:?}");
        let e = MarkingCode::parse("0104670540176099215abcdefghijklmnopqrstuvwxyz").unwrap_err();
        assert!(matches!(e, CodeError::TooLong { ref ai, max: 20, got: 27, .. } if ai == "21"), "{e:?}");
        assert!(e.to_string().contains("GS separator"));
        let e = MarkingCode::parse("0104670540176099215abc\u{1d}8005ABCDEF\u{1d}93dGVz").unwrap_err();
        assert!(matches!(e, CodeError::NotNumeric { ref ai, .. } if ai == "8005"), "{e:?}");
        let e = MarkingCode::parse("0104670540176099215abc\u{1d}x3dGVz").unwrap_err();
        assert_eq!(e, CodeError::UnknownAi { pos: 23, found: "x3dG".into() });
        let e = MarkingCode::parse("0104670540176099215abc\u{1d}215def").unwrap_err();
        assert_eq!(e, CodeError::DuplicateAi { ai: "21".into() });
        let e = MarkingCode::parse_bytes(b"0104670540176099215ab\xC3\xA9").unwrap_err();
        assert!(matches!(e, CodeError::NonAscii { pos: 21, .. }), "{e:?}");
    }

    #[test]
    fn misread_codes_are_refused() {
        // A scanner that drops GS fuses the crypto tail into the serial number (seed 003's dairy
        // code): refused, naming the missing separator.
        let e = MarkingCode::parse("0104670540176099215'W9Um93dGVz").unwrap_err();
        assert_eq!(e, CodeError::MissingGs { ai: "93", serial: "5'W9Um93dGVz".into() });
        assert!(e.to_string().contains("GS separator"), "{e}");
        // A 13-character serial may hold 93 anywhere: a short code, not refused.
        let c = MarkingCode::parse("010464007801637221gDDJ2VM93vdNG").unwrap();
        assert_eq!(c.crypto_tail(), None);
        assert!(c.warnings().iter().any(|w| w.contains("drops the GS")), "{:?}", c.warnings());
        // A wrong GTIN check digit: a mistyped code.
        let e = MarkingCode::parse("0104670540176098215'W9Um\u{1d}93dGVz").unwrap_err();
        assert_eq!(e, CodeError::CheckDigit { gtin: "04670540176098".into(), expected: 9 });
        assert!(e.to_string().contains("check digit"), "{e}");
        let e = MarkingCode::parse("00000046185373KY4mjNZAB=U/FkO").unwrap_err();
        assert!(matches!(e, CodeError::CheckDigit { .. }), "{e:?}");
        assert!(matches!(MarkingCode::parse("hello world"), Err(CodeError::BadByte { .. })));
    }

    #[test]
    fn wire_bytes_are_taken_as_they_are() {
        let good = MarkingCode::from_wire(DAIRY.as_bytes()).unwrap();
        assert_eq!(good, MarkingCode::parse(DAIRY).unwrap());
        for (bytes, found) in [
            ("0104670540176099215'W9Um<GS>93dGVz", "<GS>"),
            ("0104670540176099215'W9Um\\u001d93dGVz", "\\u001d"),
            ("0104670540176099215'W9Um{gs}93dGVz", "{gs}"),
            ("]d20104670540176099215'W9Um\u{1d}93dGVz", "]d2"),
        ] {
            let e = MarkingCode::from_wire(bytes.as_bytes()).unwrap_err();
            assert!(matches!(&e, CodeError::Rendering { found: f, .. } if f == found), "{bytes:?}: {e:?}");
            // The scanner's reading of the same text is the good code.
            assert_eq!(MarkingCode::parse(bytes).unwrap(), good, "{bytes:?}");
        }
        // The FN does not check the GTIN's check digit: a warning there.
        let c = MarkingCode::from_wire(b"0104670540176098215'W9Um\x1d93dGVz").unwrap();
        assert!(c.warnings().iter().any(|w| w.contains("check digit")));
        // Nor does it know a scanner dropped GS: a short code with a long serial.
        let c = MarkingCode::from_wire(b"0104670540176099215'W9Um93dGVz").unwrap();
        assert_eq!(c.code_type_2100(), 1);
    }

    #[test]
    fn display_round_trips() {
        for code in [DAIRY, BLOCK, SHOES, "00000046185372KY4mjNZAB=U/FkO"] {
            let c = MarkingCode::parse(code).unwrap();
            assert_eq!(MarkingCode::parse(&c.to_string()).unwrap(), c);
            assert_eq!(MarkingCode::parse(&c.display_gs()).unwrap(), c);
        }
        let v = serde_json::to_value(MarkingCode::parse(BLOCK).unwrap()).unwrap();
        assert_eq!(v["mrp_kopecks"], 106000);
        assert_eq!(v["code"], BLOCK);
        assert_eq!(v["code_type_2100"], 5);
    }

    #[test]
    fn fn_local_check() {
        let seed = SHOES.as_bytes();
        let c = MarkingCode::parse_bytes(seed).unwrap();
        assert_eq!(c.product_id(), "04640078016372gDDJ2VMOqvdNG", "seed 004's tag 2101");
        assert_eq!(c.code_type(|_| false), CodeType::CRYPTO44_UNCHECKED);
        assert_eq!(c.code_type(|k| k == "FFD0"), CodeType::CRYPTO44_CHECKED);
        assert_eq!(
            local_check(seed, |_| false, true),
            LocalCheck { code_type: CodeType::CRYPTO44_UNCHECKED, result: 0, reason: 2 }
        );
        assert_eq!(local_check(seed, |_| true, true).result, 3);
        assert_eq!(local_check(seed, |_| true, false).result, 1);
        assert_eq!(
            local_check(DAIRY.as_bytes(), |_| true, true),
            LocalCheck { code_type: CodeType::CRYPTO4, result: 0, reason: 1 }
        );
        let short = b"0104600439931256215Bd;cj,";
        assert_eq!(local_check(short, |_| true, true), LocalCheck { code_type: CodeType::SHORT, result: 0, reason: 3 });
        for bad in [&b""[..], b"\x1d", b"hello", b"0112", b"01ABCDEFGHIJKLMN21x", b"0104600439931256xx"] {
            assert_eq!(local_check(bad, |_| true, true).code_type, CodeType::UNRECOGNIZED, "{bad:?}");
        }
    }

    #[test]
    fn check_digit() {
        assert!(gtin_check_digit_ok("04670540176099"));
        assert!(gtin_check_digit_ok("00000046185372"));
        assert!(!gtin_check_digit_ok("04670540176098"));
        assert!(!gtin_check_digit_ok("0467054017609a"));
    }

    proptest! {
        #[test]
        fn gs1_round_trip(body in "[0-9]{13}", serial in "[!-~&&[^\\[\\]{}<>\\\\]]{1,20}", tail in "[A-Za-z0-9+/=]{4}", mrp in proptest::option::of(0u32..1_000_000)) {
            let gtin = format!("{body}{}", gtin_check_digit(&format!("{body}0")).unwrap());
            let mut s = format!("01{gtin}21{serial}\u{1d}");
            if let Some(m) = mrp { s.push_str(&format!("8005{m:06}\u{1d}")); }
            s.push_str(&format!("93{tail}"));
            let c = MarkingCode::parse(&s).unwrap();
            prop_assert_eq!(c.gtin(), gtin.as_str());
            prop_assert_eq!(c.serial(), serial.as_str());
            prop_assert_eq!(c.crypto_tail(), Some(tail.as_str()));
            prop_assert_eq!(c.mrp_kopecks(), mrp.map(u64::from));
            prop_assert_eq!(c.to_wire_bytes(), s.as_bytes().to_vec());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,60}") {
            let _ = MarkingCode::parse(&s);
            let _ = MarkingCode::from_wire(s.as_bytes());
        }
    }
}
