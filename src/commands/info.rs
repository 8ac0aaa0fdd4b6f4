//! Information commands of v01.05: status, identity, FN status, registration parameters, OFD
//! exchange status, date and time.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::{
    no_data_request, put_datetime5, put_fixed_string, DecodeError, Empty, InputError, Reader, Request, Response,
};
use crate::protocol::tlv::{TlvWriter, Value};
use crate::protocol::types;

no_data_request!(
    /// 0x01 «Запрос статуса ККТ».
    GetStatus = 0x01 => Status
);

/// Answer to 0x01.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Register serial number, ASCII(12).
    pub serial: String,
    /// The register's clock.
    pub datetime: NaiveDateTime,
    /// 1 when the register has critical errors.
    pub critical_errors: u8,
    /// Printer status: 0 ok, 1 not connected, 2 no paper, 3 jam, 5 cover open, 6 cutter, 7 hardware.
    pub printer_status: u8,
    /// 1 when an FN is connected.
    pub fn_present: u8,
    /// FN life phase bits (Приложение 7).
    pub fn_phase: u8,
    /// Bytes after the documented fields (real registers send one more byte).
    #[serde(with = "hex_bytes")]
    pub extra: Vec<u8>,
}

impl Response for Status {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        Ok(Status {
            serial: r.string("serial", 12)?,
            datetime: r.datetime5("datetime")?,
            critical_errors: r.byte("critical_errors")?,
            printer_status: r.byte("printer_status")?,
            fn_present: r.byte("fn_present")?,
            fn_phase: r.byte("fn_phase")?,
            extra: r.rest().to_vec(),
        })
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        put_fixed_string(out, "serial", &self.serial, 12)?;
        put_datetime5(out, "datetime", self.datetime)?;
        out.extend_from_slice(&[self.critical_errors, self.printer_status, self.fn_present, self.fn_phase]);
        out.extend_from_slice(&self.extra);
        Ok(())
    }
}

no_data_request!(
    /// 0x04 «Запрос модели ККТ».
    GetModel = 0x04 => Text
);

/// An answer that is one cp866 text, ASCII(N).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Text {
    /// The text.
    pub text: String,
}

impl Response for Text {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        Ok(Text { text: Reader::new(data).string_rest() })
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        types::encode_cp866(&self.text, out).map_err(|e| InputError::new("text", e.to_string()))
    }
}

no_data_request!(
    /// 0x08 «Запрос статуса ФН».
    GetFnStatus = 0x08 => FnStatus
);

/// Answer to 0x08.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FnStatus {
    /// FN life phase bits: 0 set up, 1 fiscal mode open, 2 post-fiscal, 3 transfer to OFD finished.
    pub phase: u8,
    /// Open document: 0 none, 1 registration, 2 shift open, 4 receipt, 8 shift close, 0x10 FN close, ...
    pub current_document: u8,
    /// 1 when document data has been received.
    pub document_data: u8,
    /// 1 when the shift is open.
    pub shift_open: u8,
    /// FN warning flags (Приложение 3).
    pub warnings: u8,
    /// Date and time of the last document.
    pub last_document_datetime: NaiveDateTime,
    /// FN number, ASCII(16).
    pub fn_number: String,
    /// Number of the last fiscal document.
    pub last_fd_number: u32,
}

impl Response for FnStatus {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = FnStatus {
            phase: r.byte("phase")?,
            current_document: r.byte("current_document")?,
            document_data: r.byte("document_data")?,
            shift_open: r.byte("shift_open")?,
            warnings: r.byte("warnings")?,
            last_document_datetime: r.datetime5("last_document_datetime")?,
            fn_number: r.string("fn_number", 16)?,
            last_fd_number: r.u32("last_fd_number")?,
        };
        r.end("data")?;
        Ok(v)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend_from_slice(&[self.phase, self.current_document, self.document_data, self.shift_open, self.warnings]);
        put_datetime5(out, "last_document_datetime", self.last_document_datetime)?;
        put_fixed_string(out, "fn_number", &self.fn_number, 16)?;
        out.extend_from_slice(&self.last_fd_number.to_le_bytes());
        Ok(())
    }
}

no_data_request!(
    /// 0x0A «Запрос текущих параметров регистрации ККТ».
    GetRegistration = 0x0A => Registration
);

/// Answer to 0x0A.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registration {
    /// Registration number (РН ККТ), ASCII(20) space-padded.
    pub registration_number: String,
    /// User's INN, ASCII(12) space-padded.
    pub inn: String,
    /// Operating mode bits (Приложение 7).
    pub modes: u8,
    /// Taxation system bits (Приложение 7).
    pub taxation: u8,
    /// Agent type bits (Приложение 7).
    pub agent: u8,
}

impl Response for Registration {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = Registration {
            registration_number: r.string("registration_number", 20)?,
            inn: r.string("inn", 12)?,
            modes: r.byte("modes")?,
            taxation: r.byte("taxation")?,
            agent: r.byte("agent")?,
        };
        r.end("data")?;
        Ok(v)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        put_fixed_string(out, "registration_number", &self.registration_number, 20)?;
        put_fixed_string(out, "inn", &self.inn, 12)?;
        out.extend_from_slice(&[self.modes, self.taxation, self.agent]);
        Ok(())
    }
}

no_data_request!(
    /// 0x50 «Запрос статуса информационного обмена с ОФД».
    GetOfdExchangeStatus = 0x50 => OfdExchangeStatus
);

/// Answer to 0x50.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfdExchangeStatus {
    /// Exchange status (service value).
    pub status: u8,
    /// Message reading state (service value).
    pub read_state: u8,
    /// Documents waiting for the OFD.
    pub queue_len: u16,
    /// Number of the first document in the queue.
    pub first_document: u32,
    /// Date and time of the first document in the queue.
    pub first_document_datetime: NaiveDateTime,
}

impl Response for OfdExchangeStatus {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = OfdExchangeStatus {
            status: r.byte("status")?,
            read_state: r.byte("read_state")?,
            queue_len: r.u16("queue_len")?,
            first_document: r.u32("first_document")?,
            first_document_datetime: r.datetime5("first_document_datetime")?,
        };
        r.end("data")?;
        Ok(v)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend_from_slice(&[self.status, self.read_state]);
        out.extend_from_slice(&self.queue_len.to_le_bytes());
        out.extend_from_slice(&self.first_document.to_le_bytes());
        put_datetime5(out, "first_document_datetime", self.first_document_datetime)
    }
}

/// Tag of the date/time TLV in 0x72/0x73.
pub const TAG_DATETIME: u16 = 30000;

no_data_request!(
    /// 0x73 «Запрос текущего даты/времени из ККТ».
    GetDateTime = 0x73 => DateTime
);

/// The register's date and time (TLV 30000, DATETIME(5)); answer to 0x73, data of 0x72.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DateTime {
    /// Date and time (minutes).
    pub datetime: NaiveDateTime,
}

impl DateTime {
    fn read(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let list = r.tlv_rest("tlv")?;
        let raw = list
            .raw(TAG_DATETIME)
            .ok_or_else(|| DecodeError::new(super::DecodeErrorKind::Value, "tag 30000", 0, "missing"))?;
        Ok(DateTime { datetime: Reader::new(raw).datetime5("tag 30000")? })
    }

    fn write(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        let mut w = TlvWriter::new();
        w.value(TAG_DATETIME, &Value::DateTime5(self.datetime))?;
        out.extend_from_slice(w.as_bytes());
        Ok(())
    }
}

impl Response for DateTime {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        Self::read(data)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.write(out)
    }
}

/// 0x72 «Установить дату/время в ККТ».
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetDateTime(pub DateTime);

impl Request for SetDateTime {
    const CODE: u8 = 0x72;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.0.write(out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        DateTime::read(data).map(SetDateTime)
    }
}

/// Serializes bytes as a hex string.
pub(crate) mod hex_bytes {
    /// Hex of `b`.
    pub fn serialize<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(b))
    }
}
