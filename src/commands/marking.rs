//! Marked goods (seed 004, Appendix 2): the device's check of a marking code.

use serde::Serialize;

use super::{DecodeError, DecodeErrorKind, InputError, Reader, Request, Response, TlvList};
use crate::protocol::tlv::TlvWriter;
use crate::protocol::types::{self, Decimal};

/// Tag 2106 «результат проверки сведений о товаре» (seed 004, Таблица 4), bit by bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MarkCheckResult(pub u8);

impl MarkCheckResult {
    /// Bit 0: the code was checked (by the FN and/or the OISM).
    pub fn checked(self) -> bool {
        self.0 & 1 != 0
    }
    /// Bit 1: the crypto-tail (КП КМ) check is positive.
    pub fn crypto_ok(self) -> bool {
        self.0 & 2 != 0
    }
    /// Bit 2: the OISM status check was done.
    pub fn status_checked(self) -> bool {
        self.0 & 4 != 0
    }
    /// Bit 3: the OISM says the planned status is correct.
    pub fn status_correct(self) -> bool {
        self.0 & 8 != 0
    }
    /// Bit 4: the result was formed by a register in autonomous mode.
    pub fn autonomous(self) -> bool {
        self.0 & 16 != 0
    }
    /// Bits 5–7 must be zero.
    pub fn reserved_bits(self) -> u8 {
        self.0 & 0xE0
    }

    /// Each bit's meaning, in English, for people.
    pub fn explain(self) -> Vec<&'static str> {
        vec![
            if self.checked() { "code checked" } else { "code not checked by FN/OISM" },
            if self.crypto_ok() { "crypto tail check positive" } else { "crypto tail check negative or not done" },
            if self.status_checked() { "OISM status check done" } else { "no status from OISM" },
            if self.status_correct() {
                "OISM: planned status correct"
            } else {
                "OISM: planned status incorrect or unknown"
            },
            if self.autonomous() { "formed in autonomous mode" } else { "formed in data transfer mode" },
        ]
    }
}

impl Serialize for MarkCheckResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("MarkCheckResult", 7)?;
        st.serialize_field("raw", &self.0)?;
        st.serialize_field("checked", &self.checked())?;
        st.serialize_field("crypto_ok", &self.crypto_ok())?;
        st.serialize_field("status_checked", &self.status_checked())?;
        st.serialize_field("status_correct", &self.status_correct())?;
        st.serialize_field("autonomous", &self.autonomous())?;
        st.serialize_field("reserved_bits", &self.reserved_bits())?;
        st.end()
    }
}

/// Tags of the 0x92 request.
const TAG_PLANNED_STATUS: u16 = 2003;
const TAG_MODE: u16 = 2102;
const TAG_QUANTITY: u16 = 1023;
const TAG_MEASURE: u16 = 2108;
const TAG_NUMERATOR: u16 = 1293;
const TAG_DENOMINATOR: u16 = 1294;

/// 0x92 «Выполнить проверку текущего КМ в ОИСМ».
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckMarkOnline {
    /// Tag 2003, planned status: 1 piece sold, 2 measured in sale, 3 piece returned,
    /// 4 part returned, 255 unchanged.
    pub planned_status: u8,
    /// Tag 2102, always 0.
    pub mode: u8,
    /// Tag 1023, quantity.
    pub quantity: Decimal,
    /// Tag 2108, measure (0 = piece).
    pub measure: u8,
    /// Tags 1293/1294, fraction of a piece sold (numerator, denominator); 0/0 = no fraction.
    pub fraction: Option<(u32, u32)>,
}

impl Request for CheckMarkOnline {
    const CODE: u8 = 0x92;
    type Response = CheckMarkOnlineResult;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        if !matches!(self.planned_status, 1..=4 | 255) {
            return Err(InputError::new(
                "planned_status",
                format!("{} is not one of 1, 2, 3, 4, 255", self.planned_status),
            ));
        }
        if let Some((n, d)) = self.fraction {
            if (n, d) != (0, 0) && (d == 0 || n > d) {
                return Err(InputError::new(
                    "fraction",
                    format!("{n}/{d}: the numerator must not exceed a non-zero denominator"),
                ));
            }
        }
        let mut w = TlvWriter::new();
        w.byte(TAG_PLANNED_STATUS, self.planned_status)?
            .byte(TAG_MODE, self.mode)?
            .fvln(TAG_QUANTITY, self.quantity)?
            .byte(TAG_MEASURE, self.measure)?;
        if let Some((n, d)) = self.fraction {
            w.u32(TAG_NUMERATOR, n)?.u32(TAG_DENOMINATOR, d)?;
        }
        out.extend_from_slice(w.as_bytes());
        Ok(())
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let list = Reader::new(data).tlv_rest("tlv")?;
        let need = |tag: u16, field: &'static str| {
            list.raw(tag)
                .ok_or_else(|| DecodeError::new(DecodeErrorKind::Value, field, 0, format!("tag {tag} missing")))
        };
        let byte = |tag, field| need(tag, field).and_then(|b| Reader::new(b).byte(field));
        let quantity = types::decode_fvln(need(TAG_QUANTITY, "quantity")?)
            .map_err(|e| DecodeError::new(DecodeErrorKind::Value, "quantity", 0, e))?;
        let fraction = match (list.raw(TAG_NUMERATOR), list.raw(TAG_DENOMINATOR)) {
            (Some(n), Some(d)) => Some((Reader::new(n).u32("numerator")?, Reader::new(d).u32("denominator")?)),
            _ => None,
        };
        Ok(CheckMarkOnline {
            planned_status: byte(TAG_PLANNED_STATUS, "planned_status")?,
            mode: byte(TAG_MODE, "mode")?,
            quantity,
            measure: byte(TAG_MEASURE, "measure")?,
            fraction,
        })
    }
}

/// Answer to 0x92: the 2106 byte, then the OISM's answer as TLVs (2114, 2105, 2005, 2109,
/// 2101, 2100).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckMarkOnlineResult {
    /// Tag 2106, sent raw (not as a TLV).
    pub result: MarkCheckResult,
    /// The OISM's answer.
    #[serde(skip)]
    pub tlv: TlvList,
}

impl CheckMarkOnlineResult {
    /// Tag 2109, the OISM's answer about the item status, if present.
    pub fn oism_status(&self) -> Option<u8> {
        self.tlv.raw(2109).and_then(|b| b.first().copied())
    }
}

impl Response for CheckMarkOnlineResult {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let result = MarkCheckResult(r.byte("2106")?);
        Ok(CheckMarkOnlineResult { result, tlv: r.tlv_rest("tlv")? })
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.push(self.result.0);
        out.extend_from_slice(&self.tlv.to_bytes());
        Ok(())
    }

    fn tlv(&self) -> Option<&TlvList> {
        Some(&self.tlv)
    }
}
