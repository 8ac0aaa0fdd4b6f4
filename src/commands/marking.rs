//! Marked goods (seed 004, Appendix 2): the device's check of a marking code.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::fields::{check_known, tlv_body, TlvBody, TlvBuilder, TlvFields, WireOrder};
use super::receipt::write_fraction;
use super::{DecodeError, DecodeErrorKind, InputError, Reader, Request, Response, TlvList};
use crate::protocol::tag;
use crate::protocol::types::{self, Decimal};
use crate::protocol::values::{CodeType, Measure, PlannedStatus};

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

/// The error 0x92 answers when the OISM did not answer (0xCC «Ошибка связи с хостом ОИСМ»,
/// protocol/errors.tsv). The code stays under check: 0x94 may still save the FN's result
/// (seed 004 on 0x94: a result may be saved after an unsuccessful OISM check), and tag 2106
/// then says that the OISM gave no answer.
pub const OISM_UNREACHABLE: u8 = 0xCC;

/// Errors by which 0x91/0x92 refuse the code itself rather than the register's state (the
/// code is not recognised, has no GTIN, is no marking code, wants another item command, or is
/// already in the receipt): another code may still be checked (protocol/errors.tsv).
pub const CODE_REFUSALS: &[u8] = &[0xC3, 0xCD, 0xCE, 0xD0, 0xD1, 0xD2, 0xDF];

/// Tags 1293/1294 of 0x92: a fraction when both are there (one alone is ignored, as the
/// register does).
fn read_fraction(f: &mut TlvFields) -> Result<Option<(u32, u32)>, DecodeError> {
    let n = f.u32(tag::FRACTION_NUMERATOR, "numerator")?;
    let d = f.u32(tag::FRACTION_DENOMINATOR, "denominator")?;
    Ok(n.zip(d))
}

tlv_body! {
    /// 0x92 «Выполнить проверку текущего КМ в ОИСМ». Tags the layout does not name are not
    /// kept.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
    pub group CheckMarkOnline {
        /// Planned status.
        planned_status: PlannedStatus = required byte(tag::PLANNED_ITEM_STATUS),
        /// Processing mode, always 0.
        mode: u8 = required byte(tag::MARKING_CODE_PROCESSING_MODE),
        /// Quantity.
        quantity: Decimal = required fvln(tag::QUANTITY),
        /// Measure (0 = piece).
        measure: Measure = required byte(tag::QUANTITY_MEASURE),
        /// Tags 1293/1294, fraction of a piece sold (numerator, denominator); 0/0 = no fraction.
        fraction: Option<(u32, u32)> = custom(read_fraction, write_fraction),
    }
}

impl Request for CheckMarkOnline {
    const CODE: u8 = 0x92;
    type Response = CheckMarkOnlineResult;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        check_known("planned_status", self.planned_status)?;
        if let Some((n, d)) = self.fraction {
            if (n, d) != (0, 0) && (d == 0 || n > d) {
                return Err(InputError::new(
                    "fraction",
                    format!("{n}/{d}: the numerator must not exceed a non-zero denominator"),
                ));
            }
        }
        let mut b = TlvBuilder::new();
        self.write_fields(&mut b, ())?;
        b.finish(&TlvList::default(), &WireOrder::default(), out);
        Ok(())
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        Self::read_fields(&mut TlvFields::parse(data, 0, "tlv")?, ())
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
        self.tlv.raw(tag::OISM_ITEM_STATUS_ANSWER).and_then(|b| b.first().copied())
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

super::no_data_request!(
    /// 0x90 «Запрос статуса ФН по работе с кодами маркировки».
    GetMarkingStatus = 0x90 => MarkingStatus
);

/// Answer to 0x90.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MarkingStatus {
    /// Check state: 0 check table full, 1 no code being checked, 2 code passed (B1h), 3 request
    /// formed, 4 answer received and passed to the FN.
    pub check_state: u8,
    /// Notification state: 0 not being formed, 1 being formed, 2 blocked (storage full).
    pub notification_state: u8,
    /// Flags of the FN marking commands allowed now (Таблица 2, diagnostics).
    pub allowed_commands: u8,
    /// Check results kept in the FN (B2h with code 1).
    pub kept_results: u8,
    /// Codes included in the sale notification.
    pub notification_codes: u8,
    /// Notification storage warning: 0 under 50 %, 1 50–80 %, 2 80–90 %, 3 over 90 %, 4 full.
    pub storage_warning: u8,
    /// Notifications not confirmed or not sent.
    pub notification_queue: u16,
}

impl Response for MarkingStatus {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = MarkingStatus {
            check_state: r.byte("check_state")?,
            notification_state: r.byte("notification_state")?,
            allowed_commands: r.byte("allowed_commands")?,
            kept_results: r.byte("kept_results")?,
            notification_codes: r.byte("notification_codes")?,
            storage_warning: r.byte("storage_warning")?,
            notification_queue: r.u16("notification_queue")?,
        };
        r.end("data")?;
        Ok(v)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend_from_slice(&[
            self.check_state,
            self.notification_state,
            self.allowed_commands,
            self.kept_results,
            self.notification_codes,
            self.storage_warning,
        ]);
        out.extend_from_slice(&self.notification_queue.to_le_bytes());
        Ok(())
    }
}

/// Largest marking code 0x91 takes, in bytes.
pub const MAX_CODE_LEN: usize = 255;

/// 0x91 «Выполнить локальную проверку КМ в ФН».
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckMarkLocal {
    /// Code type; the register decides itself, 0 is recommended.
    pub code_type: CodeType,
    /// Code length; the register measures it itself, 0 is recommended.
    pub code_len: u8,
    /// The code as scanned (cp866; the GS separator is the single byte 0x1D).
    pub code: String,
}

impl CheckMarkLocal {
    /// The recommended form: type and length 0.
    pub fn new(code: &str) -> Self {
        Self { code_type: CodeType::UNRECOGNIZED, code_len: 0, code: code.into() }
    }
}

impl Request for CheckMarkLocal {
    const CODE: u8 = 0x91;
    type Response = CheckMarkLocalResult;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        let b = types::cp866(&self.code).map_err(|e| InputError::new("code", e.to_string()))?;
        if b.is_empty() || b.len() > MAX_CODE_LEN {
            return Err(InputError::new("code", format!("{} bytes; 1 to {MAX_CODE_LEN} expected", b.len())));
        }
        check_known("code_type", self.code_type)?;
        out.extend_from_slice(&[self.code_type.code(), self.code_len]);
        out.extend_from_slice(&b);
        Ok(())
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let code_type = r.byte("code_type")?.into();
        let code_len = r.byte("code_len")?;
        let at = r.offset();
        let code = r.rest();
        if code.is_empty() {
            return Err(DecodeError::new(DecodeErrorKind::Length, "code", at, "no marking code"));
        }
        Ok(CheckMarkLocal { code_type, code_len, code: types::decode_cp866(code).into_owned() })
    }
}

/// Answer to 0x91.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckMarkLocalResult {
    /// Tag 2004 value: 0 not checked by the FN, 1 checked and negative, 3 checked and positive.
    pub result: u8,
    /// Why not checked: 0 checked, 1 this type is not checked in the FN, 2 no key for it, 3 AIs
    /// 91/92 missing or malformed, 4 other reason.
    pub reason: u8,
}

impl Response for CheckMarkLocalResult {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = CheckMarkLocalResult { result: r.byte("result")?, reason: r.byte("reason")? };
        r.end("data")?;
        Ok(v)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend_from_slice(&[self.result, self.reason]);
        Ok(())
    }
}

/// 0x94 «Сохранить (удалить) результаты проверки текущего КМ в ФН».
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KeepMarkCheck {
    /// `true` (1): keep the result of the current code; `false` (0): drop it.
    pub keep: bool,
}

impl Request for KeepMarkCheck {
    const CODE: u8 = 0x94;
    type Response = KeepMarkCheckResult;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.push(u8::from(self.keep));
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let keep = match r.byte("keep")? {
            0 => false,
            1 => true,
            v => return Err(DecodeError::new(DecodeErrorKind::Value, "keep", 0, format!("{v} is not 0 or 1"))),
        };
        r.end("data")?;
        Ok(KeepMarkCheck { keep })
    }
}

/// Answer to 0x94: the tag 2106 value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KeepMarkCheckResult {
    /// Tag 2106.
    pub result: MarkCheckResult,
}

impl Response for KeepMarkCheckResult {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = KeepMarkCheckResult { result: MarkCheckResult(r.byte("result")?) };
        r.end("data")?;
        Ok(v)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.push(self.result.0);
        Ok(())
    }
}

super::no_data_request!(
    /// 0x95 «Очистить все результаты проверки КМ в ФН».
    ClearMarkChecks = 0x95 => super::Empty
);

super::no_data_request!(
    /// 0x9D «Запрос ресурса свободной памяти в ФН».
    GetFnMemory = 0x9D => FnMemory
);

/// Answer to 0x9D.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FnMemory {
    /// About how many documents the 5-year storage still holds.
    pub documents_5y: u32,
    /// Free 30-day storage, in kilobytes.
    pub kilobytes_30d: u32,
    /// Percentage of the marked-goods notification storage used; absent when the FN is
    /// registered without marked goods.
    pub notifications_percent: Option<u8>,
}

impl Response for FnMemory {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = FnMemory {
            documents_5y: r.u32("documents_5y")?,
            kilobytes_30d: r.u32("kilobytes_30d")?,
            notifications_percent: if r.remaining() > 0 { Some(r.byte("notifications_percent")?) } else { None },
        };
        r.end("data")?;
        Ok(v)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend_from_slice(&self.documents_5y.to_le_bytes());
        out.extend_from_slice(&self.kilobytes_30d.to_le_bytes());
        out.extend(self.notifications_percent);
        Ok(())
    }
}

super::no_data_request!(
    /// 0x9E «Запрос состояния передачи уведомлений ОИСМ».
    GetNotificationState = 0x9E => NotificationState
);

/// Answer to 0x9E.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NotificationState {
    /// 0 no exchange, 1 reading a notification started, 2 waiting for the receipt of one.
    pub state: u8,
    /// Notifications in the queue (0 when every one has its receipt).
    pub queue: u16,
    /// Number of the notification being sent or awaiting its receipt.
    pub current: u32,
    /// Its date and time (`None` = zeros, every notification has its receipt).
    pub current_datetime: Option<NaiveDateTime>,
    /// Percentage of the notification storage used.
    pub storage_percent: u8,
}

impl Response for NotificationState {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let state = r.byte("state")?;
        let queue = r.u16("queue")?;
        let current = r.u32("current")?;
        let current_datetime = if data.get(7..12) == Some(&[0; 5][..]) {
            r.take("current_datetime", 5)?;
            None
        } else {
            Some(r.datetime5("current_datetime")?)
        };
        let v =
            NotificationState { state, queue, current, current_datetime, storage_percent: r.byte("storage_percent")? };
        r.end("data")?;
        Ok(v)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.push(self.state);
        out.extend_from_slice(&self.queue.to_le_bytes());
        out.extend_from_slice(&self.current.to_le_bytes());
        match self.current_datetime {
            Some(t) => super::put_datetime5(out, "current_datetime", t)?,
            None => out.extend_from_slice(&[0; 5]),
        }
        out.push(self.storage_percent);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code of seed 004's 0x91 note, with its GS bytes.
    pub(crate) const SEED_CODE: &str =
        "010464007801637221gDDJ2VMOqvdNG\u{1d}91FFD0\u{1d}92dGVzdIjNx7Hb93pmLsV+niIDiJWV8ZFAjQdF9b2BO/o=";

    #[test]
    fn check_local_carries_the_seed_bytes() {
        let mut out = Vec::new();
        CheckMarkLocal::new(SEED_CODE).encode(&mut out).unwrap();
        // Seed 004's byte listing of this code.
        let expected =
            "30 31 30 34 36 34 30 30 37 38 30 31 36 33 37 32 32 31 67 44 44 4A 32 56 4D 4F 71 76 64 4E 47 1D \
                        39 31 46 46 44 30 1D 39 32 64 47 56 7A 64 49 6A 4E 78 37 48 62 39 33 70 6D 4C 73 56 2B 6E 69 \
                        49 44 69 4A 57 56 38 5A 46 41 6A 51 64 46 39 62 32 42 4F 2F 6F 3D";
        assert_eq!(&out[..2], [0, 0]);
        assert_eq!(hex::encode_upper(&out[2..]), expected.replace(' ', ""));
        assert_eq!(CheckMarkLocal::decode(&out).unwrap(), CheckMarkLocal::new(SEED_CODE));
        assert!(CheckMarkLocal::new("").encode(&mut Vec::new()).is_err());
        assert!(CheckMarkLocal::new(&"0".repeat(256)).encode(&mut Vec::new()).is_err());
        assert!(CheckMarkLocal::decode(&[0, 0]).is_err());
    }

    #[test]
    fn small_answers() {
        let s = MarkingStatus {
            check_state: 1,
            notification_state: 0,
            allowed_commands: 1,
            kept_results: 2,
            notification_codes: 2,
            storage_warning: 0,
            notification_queue: 260,
        };
        let mut out = Vec::new();
        s.encode(&mut out).unwrap();
        assert_eq!(out, [1, 0, 1, 2, 2, 0, 4, 1]);
        assert_eq!(MarkingStatus::decode(&out).unwrap(), s);
        let m = FnMemory { documents_5y: 100, kilobytes_30d: 200, notifications_percent: None };
        let mut out = Vec::new();
        m.encode(&mut out).unwrap();
        assert_eq!(out.len(), 8);
        assert_eq!(FnMemory::decode(&out).unwrap(), m);
        assert_eq!(FnMemory::decode(&[1, 0, 0, 0, 2, 0, 0, 0, 7]).unwrap().notifications_percent, Some(7));
        let n = NotificationState { state: 0, queue: 0, current: 0, current_datetime: None, storage_percent: 0 };
        let mut out = Vec::new();
        n.encode(&mut out).unwrap();
        assert_eq!(out, [0; 13]);
        assert_eq!(NotificationState::decode(&out).unwrap(), n);
        let t = chrono::NaiveDate::from_ymd_opt(2024, 2, 3).unwrap().and_hms_opt(4, 5, 0).unwrap();
        let n = NotificationState { state: 2, queue: 3, current: 17, current_datetime: Some(t), storage_percent: 1 };
        let mut out = Vec::new();
        n.encode(&mut out).unwrap();
        assert_eq!(NotificationState::decode(&out).unwrap(), n);
        assert_eq!(KeepMarkCheck::decode(&[1]).unwrap(), KeepMarkCheck { keep: true });
        assert!(KeepMarkCheck::decode(&[2]).is_err());
        assert_eq!(KeepMarkCheckResult::decode(&[0x0F]).unwrap().result.0, 0x0F);
    }
}
