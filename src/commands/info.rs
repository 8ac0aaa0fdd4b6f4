//! Information commands of v01.05: status, identity and versions, FN status, validity and
//! errors, registration parameters, TCP/IP address, OFD exchange status, line width, date and
//! time.

use std::net::Ipv4Addr;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use super::{
    no_data_request, put_datetime5, put_fixed_string, read_write_response, DecodeError, Empty, InputError, Reader,
    Request, Response,
};
use crate::protocol::tlv::{TlvWriter, Value};
use crate::protocol::types;
use crate::protocol::values::{AgentTypes, CurrentDocument, LifePhase, OperatingModes, TaxationSystems};

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
    /// FN life phase (Приложение 7).
    pub fn_phase: LifePhase,
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
            fn_phase: r.byte("fn_phase")?.into(),
            extra: r.rest().to_vec(),
        })
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        put_fixed_string(out, "serial", &self.serial, 12)?;
        put_datetime5(out, "datetime", self.datetime)?;
        out.extend_from_slice(&[self.critical_errors, self.printer_status, self.fn_present, self.fn_phase.code()]);
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
    /// FN life phase.
    pub phase: LifePhase,
    /// The open document.
    pub current_document: CurrentDocument,
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

impl FnStatus {
    /// Whether the FN number is one a real FN has: 16 ASCII digits ([`is_fn_number`]).
    pub fn fn_number_valid(&self) -> bool {
        is_fn_number(&self.fn_number)
    }
}

/// Whether `s` is an FN serial number as every FN has one: 16 ASCII digits. A status answer
/// whose FN number is anything else is damaged (its frame was valid but its content is not).
pub fn is_fn_number(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| b.is_ascii_digit())
}

impl Response for FnStatus {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = FnStatus {
            phase: r.byte("phase")?.into(),
            current_document: r.byte("current_document")?.into(),
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
        out.extend_from_slice(&[
            self.phase.code(),
            self.current_document.code(),
            self.document_data,
            self.shift_open,
            self.warnings,
        ]);
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
    /// Operating modes (Приложение 7).
    pub modes: OperatingModes,
    /// Taxation systems (Приложение 7).
    pub taxation: TaxationSystems,
    /// Agent types (Приложение 7).
    pub agent: AgentTypes,
}

impl Response for Registration {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = Registration {
            registration_number: r.string("registration_number", 20)?,
            inn: r.string("inn", 12)?,
            modes: r.byte("modes")?.into(),
            taxation: r.byte("taxation")?.into(),
            agent: r.byte("agent")?.into(),
        };
        r.end("data")?;
        Ok(v)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        put_fixed_string(out, "registration_number", &self.registration_number, 20)?;
        put_fixed_string(out, "inn", &self.inn, 12)?;
        out.extend_from_slice(&[self.modes.bits(), self.taxation.bits(), self.agent.bits()]);
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
pub const TAG_DATETIME: u16 = crate::protocol::tag::CURRENT_DATE_AND_TIME;

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

read_write_response!(DateTime);

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

no_data_request!(
    /// 0x02 «Запрос заводского номера ККТ».
    GetSerial = 0x02 => Serial
);

/// Answer to 0x02: the register's serial number, ASCII(12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Serial {
    /// Serial number (trailing spaces trimmed).
    pub serial: String,
}

impl Response for Serial {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = Serial { serial: r.string("serial", 12)? };
        r.end("data")?;
        Ok(v)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        put_fixed_string(out, "serial", &self.serial, 12)
    }
}

no_data_request!(
    /// 0x03 «Запрос версии ПО ККТ»: the firmware version, ASCII(N).
    GetFirmwareVersion = 0x03 => Text
);

no_data_request!(
    /// 0x05 «Запрос заводского номера ФН»: the FN number, ASCII(N).
    GetFnSerial = 0x05 => Text
);

no_data_request!(
    /// 0x06 «Запрос версии ПО ФН»: the FN firmware version, ASCII(N).
    GetFnFirmwareVersion = 0x06 => Text
);

no_data_request!(
    /// 0x07 «Запрос срока действия ФН».
    GetFnValidity = 0x07 => FnValidity
);

/// Answer to 0x07.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FnValidity {
    /// Last day the FN may be used, DATETIME(3).
    pub valid_until: NaiveDate,
    /// Re-registrations still possible with this FN.
    pub registrations_left: u8,
    /// Re-registrations done with this FN.
    pub registrations_done: u8,
}

impl Response for FnValidity {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = FnValidity {
            valid_until: r.datetime3("valid_until")?,
            registrations_left: r.byte("registrations_left")?,
            registrations_done: r.byte("registrations_done")?,
        };
        r.end("data")?;
        Ok(v)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        types::encode_datetime3(self.valid_until, out).map_err(|e| InputError::new("valid_until", e.to_string()))?;
        out.extend_from_slice(&[self.registrations_left, self.registrations_done]);
        Ok(())
    }
}

no_data_request!(
    /// 0x09 «Запрос последних ошибок ФН».
    GetFnErrors = 0x09 => FnErrors
);

/// Answer to 0x09: the FN's error buffer, BYTE(N). v01.05 does not describe its contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FnErrors {
    /// The buffer as the FN gives it.
    #[serde(with = "hex_bytes")]
    pub data: Vec<u8>,
}

impl Response for FnErrors {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        Ok(FnErrors { data: data.to_vec() })
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend_from_slice(&self.data);
        Ok(())
    }
}

no_data_request!(
    /// 0x0B «Запрос текущей версии конфигурации ККТ»: ASCII(N) in the form X.X.X.
    GetConfigVersion = 0x0B => Text
);

no_data_request!(
    /// 0x0E «Запрос параметров TCP/IP»: the Ethernet interface's current address.
    GetTcpIp = 0x0E => TcpIp
);

/// Answer to 0x0E. Each address is a UINT32 LE whose most significant byte is the first
/// octet: v01.05's example 0xC0A80A3A = 192.168.10.58 is sent as `3A 0A A8 C0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TcpIp {
    /// IP address.
    pub ip: Ipv4Addr,
    /// Subnet mask.
    pub mask: Ipv4Addr,
    /// Default gateway.
    pub gateway: Ipv4Addr,
}

impl Response for TcpIp {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = TcpIp {
            ip: Ipv4Addr::from(r.u32("ip")?),
            mask: Ipv4Addr::from(r.u32("mask")?),
            gateway: Ipv4Addr::from(r.u32("gateway")?),
        };
        r.end("data")?;
        Ok(v)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        for a in [self.ip, self.mask, self.gateway] {
            out.extend_from_slice(&u32::from(a).to_le_bytes());
        }
        Ok(())
    }
}

no_data_request!(
    /// 0xBB «Запрос количества символов в печатаемой строке»: for the configured printer and font.
    GetLineWidth = 0xBB => LineWidth
);

/// Answer to 0xBB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LineWidth {
    /// Characters in a printed line.
    pub chars: u8,
}

impl Response for LineWidth {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = LineWidth { chars: r.byte("chars")? };
        r.end("data")?;
        Ok(v)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.push(self.chars);
        Ok(())
    }
}

/// Serializes bytes as a hex string.
pub(crate) mod hex_bytes {
    /// Hex of `b`.
    pub(crate) fn serialize<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::DecodeErrorKind;

    fn roundtrip<T: Response + PartialEq + std::fmt::Debug>(data: &[u8]) -> T {
        let v = T::decode(data).unwrap();
        let mut out = Vec::new();
        v.encode(&mut out).unwrap();
        assert_eq!(out, data, "re-encoding differs");
        assert_eq!(T::decode(&out).unwrap(), v);
        v
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn requests_have_no_data() {
        fn check<R: Request + std::fmt::Debug>(r: R) {
            let mut out = Vec::new();
            r.encode(&mut out).unwrap();
            assert!(out.is_empty(), "{:#04x}", R::CODE);
            assert!(R::decode(&[]).is_ok());
            assert_eq!(R::decode(&[0]).unwrap_err().kind, DecodeErrorKind::Length, "{:#04x}", R::CODE);
        }
        check(GetSerial);
        check(GetFirmwareVersion);
        check(GetFnSerial);
        check(GetFnFirmwareVersion);
        check(GetFnValidity);
        check(GetFnErrors);
        check(GetConfigVersion);
        check(GetTcpIp);
        check(GetLineWidth);
    }

    #[test]
    fn serial_0x02_is_ascii12() {
        let s: Serial = roundtrip(b"550101006105");
        assert_eq!(s.serial, "550101006105");
        // A shorter number is padded with spaces on the right and trimmed back.
        let mut out = Vec::new();
        Serial { serial: "12345".into() }.encode(&mut out).unwrap();
        assert_eq!(out, b"12345       ");
        assert_eq!(Serial::decode(&out).unwrap().serial, "12345");
        let e = Serial { serial: "1234567890123".into() }.encode(&mut Vec::new()).unwrap_err();
        assert_eq!(e.field, "serial");
        assert!(e.message.contains("12"), "{e}");
        assert_eq!(Serial::decode(b"55010100610").unwrap_err().kind, DecodeErrorKind::Length);
        assert_eq!(Serial::decode(b"5501010061050").unwrap_err().kind, DecodeErrorKind::Length);
    }

    #[test]
    fn text_answers_0x03_0x05_0x06_0x0b() {
        let v: Text = roundtrip(b"2.0.5");
        assert_eq!(v.text, "2.0.5");
        let v: Text = roundtrip(b"9999078902003867");
        assert_eq!(v.text, "9999078902003867");
        // cp866 «ФН-1.1» (Ф = 0x94, Н = 0x8D).
        let v: Text = roundtrip(&[0x94, 0x8D, b'-', b'1', b'.', b'1']);
        assert_eq!(v.text, "ФН-1.1");
    }

    #[test]
    fn fn_validity_0x07() {
        // DATETIME(3) 2025-03-28, 11 re-registrations left, 1 done.
        let v: FnValidity = roundtrip(&[0x19, 0x03, 0x1C, 0x0B, 0x01]);
        assert_eq!(v, FnValidity { valid_until: date(2025, 3, 28), registrations_left: 11, registrations_done: 1 });
        let e = FnValidity::decode(&[0x19, 0x03, 0x1C, 0x0B]).unwrap_err();
        assert_eq!((e.kind, e.field, e.offset), (DecodeErrorKind::Length, "registrations_done", 4));
        let e = FnValidity::decode(&[0x19, 0x0D, 0x1C, 0x0B, 0x01]).unwrap_err();
        assert_eq!((e.kind, e.field), (DecodeErrorKind::Value, "valid_until"));
        let e = FnValidity { valid_until: date(1999, 1, 1), registrations_left: 0, registrations_done: 0 }
            .encode(&mut Vec::new())
            .unwrap_err();
        assert_eq!(e.field, "valid_until");
    }

    #[test]
    fn fn_errors_0x09_keeps_the_buffer() {
        let v: FnErrors = roundtrip(&[0x01, 0x00, 0x0F, 0xAB]);
        assert_eq!(serde_json::to_value(&v).unwrap(), serde_json::json!({"data": "01000FAB"}));
        let v: FnErrors = roundtrip(&[]);
        assert!(v.data.is_empty());
    }

    #[test]
    fn tcp_ip_0x0e_documented_example() {
        // v01.05: IP 0xC0A80A3A = 192.168.10.58, mask 0xFFFFFF00, gateway 0xC0A80A01; UINT32 LE.
        let data = [0x3A, 0x0A, 0xA8, 0xC0, 0x00, 0xFF, 0xFF, 0xFF, 0x01, 0x0A, 0xA8, 0xC0];
        let v: TcpIp = roundtrip(&data);
        assert_eq!(v.ip, Ipv4Addr::new(192, 168, 10, 58));
        assert_eq!(v.mask, Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(v.gateway, Ipv4Addr::new(192, 168, 10, 1));
        assert_eq!(
            serde_json::to_value(v).unwrap(),
            serde_json::json!({"ip": "192.168.10.58", "mask": "255.255.255.0", "gateway": "192.168.10.1"})
        );
        assert_eq!(TcpIp::decode(&data[..11]).unwrap_err().field, "gateway");
    }

    #[test]
    fn line_width_0xbb() {
        let v: LineWidth = roundtrip(&[48]);
        assert_eq!(v.chars, 48);
        assert_eq!(LineWidth::decode(&[]).unwrap_err().kind, DecodeErrorKind::Length);
        assert_eq!(LineWidth::decode(&[48, 0]).unwrap_err().kind, DecodeErrorKind::Length);
    }
}
