//! Shift commands (seed 004 «Операции со сменой»): shift parameters (0x20), open (0x21, 0xE4,
//! 0x22) and close (0x29, 0xE5, 0x2A); the ФФД 1.05 cashier data (0x2F).

use serde::Serialize;

use super::fields::{self, both_or_neither, tlv_body};
use super::{no_data_request, DecodeError, Empty, InputError, Reader, Request, Response};
use crate::protocol::tag;

no_data_request!(
    /// 0x20 «Запрос параметров текущей смены».
    GetShiftParams = 0x20 => ShiftParams
);

/// Answer to 0x20.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ShiftParams {
    /// Whether the shift is open (BYTE 0/1).
    pub open: bool,
    /// The open shift's number, or the last closed one's.
    pub shift_number: u16,
    /// Last receipt number in the open shift (0 if none); with the shift closed, the number of
    /// documents in the last shift.
    pub receipt_number: u16,
}

impl Response for ShiftParams {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let at = r.offset();
        let open = match r.byte("open")? {
            0 => false,
            1 => true,
            v => return Err(DecodeError::new(super::DecodeErrorKind::Value, "open", at, format!("{v} is not 0 or 1"))),
        };
        let v = ShiftParams { open, shift_number: r.u16("shift_number")?, receipt_number: r.u16("receipt_number")? };
        r.end("data")?;
        Ok(v)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.push(u8::from(self.open));
        out.extend_from_slice(&self.shift_number.to_le_bytes());
        out.extend_from_slice(&self.receipt_number.to_le_bytes());
        Ok(())
    }
}

/// The optional «без вывода на печать» BYTE of 0x21 and 0x29: `Some(true)` = do not print.
fn decode_no_print(data: &[u8]) -> Result<Option<bool>, DecodeError> {
    let mut r = Reader::new(data);
    let v = match data.len() {
        0 => None,
        _ => match r.byte("no_print")? {
            0 => Some(false),
            1 => Some(true),
            v => {
                return Err(DecodeError::new(
                    super::DecodeErrorKind::Value,
                    "no_print",
                    0,
                    format!("{v} is not 0 or 1"),
                ))
            }
        },
    };
    r.end("data")?;
    Ok(v)
}

/// 0x21 «Начать открытие смены». May update the marking-code check keys (~15 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct BeginShiftOpen {
    /// `Some(true)`: the report is not printed; `None`: the byte is not sent (printed).
    pub no_print: Option<bool>,
}

impl Request for BeginShiftOpen {
    const CODE: u8 = 0x21;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend(self.no_print.map(u8::from));
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        Ok(BeginShiftOpen { no_print: decode_no_print(data)? })
    }
}

/// 0x29 «Начать закрытие смены».
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct BeginShiftClose {
    /// `Some(true)`: the report is not printed; `None`: the byte is not sent (printed).
    pub no_print: Option<bool>,
}

impl Request for BeginShiftClose {
    const CODE: u8 = 0x29;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend(self.no_print.map(u8::from));
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        Ok(BeginShiftClose { no_print: decode_no_print(data)? })
    }
}

tlv_body! {
    /// Data of a shift report (0xE4 open, 0xE5 close): cashier, INN, address, place and the
    /// report's additional requisite and data ([`OPEN_EXTRA`] for open, [`CLOSE_EXTRA`] for
    /// close).
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct ShiftReportData(extra_tags: (u16, u16)) {
        /// Cashier (at most 64 characters).
        cashier: String = required string(tag::CASHIER_NAME),
        /// Cashier INN (exactly 12 characters).
        #[serde(skip_serializing_if = "Option::is_none")]
        cashier_inn: Option<String> = optional string(tag::CASHIER_INN) via fields::person_inn,
        /// Address.
        #[serde(skip_serializing_if = "Option::is_none")]
        address: Option<String> = optional string(tag::SETTLEMENT_ADDRESS),
        /// Place.
        #[serde(skip_serializing_if = "Option::is_none")]
        place: Option<String> = optional string(tag::SETTLEMENT_PLACE),
        /// Additional requisite (with the data): tag 1276 / 1278.
        #[serde(skip_serializing_if = "Option::is_none")]
        additional: Option<String> = optional string(extra_tags.0),
        /// Additional data (with the requisite): tag 1277 / 1279.
        #[serde(skip_serializing_if = "Option::is_none", with = "opt_hex")]
        additional_data: Option<Vec<u8>> = optional bytes(extra_tags.1),
    }
}

/// The additional requisite and data of the shift open report.
pub const OPEN_EXTRA: (u16, u16) = (tag::SHIFT_OPEN_REPORT_EXTRA_REQUISITE, tag::SHIFT_OPEN_REPORT_EXTRA_DATA);
/// The additional requisite and data of the shift close report.
pub const CLOSE_EXTRA: (u16, u16) = (tag::SHIFT_CLOSE_REPORT_EXTRA_REQUISITE, tag::SHIFT_CLOSE_REPORT_EXTRA_DATA);

impl ShiftReportData {
    /// Data with a cashier only.
    pub fn cashier(name: &str) -> Self {
        Self { cashier: name.into(), ..Self::default() }
    }

    fn write(&self, extra_tags: (u16, u16), out: &mut Vec<u8>) -> Result<(), InputError> {
        both_or_neither("additional", &self.additional, &self.additional_data)?;
        fields::encode_body(self, extra_tags, out)
    }
}

/// 0xE4 «Передать данные открытия смены» (optional, between 0x21 and 0x22).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ShiftOpenData(pub ShiftReportData);

impl Request for ShiftOpenData {
    const CODE: u8 = 0xE4;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.0.write(OPEN_EXTRA, out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, OPEN_EXTRA).map(ShiftOpenData)
    }
}

/// 0xE5 «Передать данные закрытия смены» (optional, between 0x29 and 0x2A).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ShiftCloseData(pub ShiftReportData);

impl Request for ShiftCloseData {
    const CODE: u8 = 0xE5;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.0.write(CLOSE_EXTRA, out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, CLOSE_EXTRA).map(ShiftCloseData)
    }
}

tlv_body! {
    /// 0x2F «Передать данные кассира» (ФФД 1.05: for shift open/close and the documents that
    /// need one; seed 004 puts the cashier in 0xE4/0xE5 instead).
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct CashierData {
        /// Cashier's name (at most 64).
        cashier: String = required string(tag::CASHIER_NAME),
        /// Cashier's INN (optional; exactly 12 digits).
        #[serde(skip_serializing_if = "Option::is_none")]
        cashier_inn: Option<String> = optional string(tag::CASHIER_INN) via fields::person_inn,
    }
}

impl CashierData {
    /// A cashier.
    pub fn new(cashier: &str, cashier_inn: Option<&str>) -> Self {
        Self { cashier: cashier.into(), cashier_inn: cashier_inn.map(Into::into), ..Self::default() }
    }
}

impl Request for CashierData {
    const CODE: u8 = 0x2F;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        fields::encode_body(self, (), out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, ())
    }
}

no_data_request!(
    /// 0x22 «Открыть смену»: forms the shift open report.
    OpenShift = 0x22 => ShiftReport
);

no_data_request!(
    /// 0x2A «Закрыть смену»: forms the shift close report.
    CloseShift = 0x2A => ShiftReport
);

/// FN warning flags (seed 004 Таблица 1; PROTOCOL-NOTES: the FN warnings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Warnings(pub u8);

impl Warnings {
    /// The names of the bits that are set (seed 004 Таблица 1, declared once as
    /// [`FnWarnings`](crate::protocol::values::FnWarnings)).
    pub fn explain(self) -> Vec<&'static str> {
        crate::protocol::values::FnWarnings::from(self.0).texts_en()
    }
}

impl Serialize for Warnings {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Warnings", 2)?;
        st.serialize_field("raw", &self.0)?;
        st.serialize_field("set", &self.explain())?;
        st.end()
    }
}

/// Answer to 0x22 and 0x2A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ShiftReport {
    /// Number of the shift opened (0x22) or closed (0x2A).
    pub shift_number: u16,
    /// Fiscal document number of the report.
    pub fd_number: u32,
    /// Fiscal sign.
    pub fiscal_sign: u32,
    /// FN warning flags.
    pub warnings: Warnings,
}

impl Response for ShiftReport {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = ShiftReport {
            shift_number: r.u16("shift_number")?,
            fd_number: r.u32("fd_number")?,
            fiscal_sign: r.u32("fiscal_sign")?,
            warnings: Warnings(r.byte("warnings")?),
        };
        r.end("data")?;
        Ok(v)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend_from_slice(&self.shift_number.to_le_bytes());
        out.extend_from_slice(&self.fd_number.to_le_bytes());
        out.extend_from_slice(&self.fiscal_sign.to_le_bytes());
        out.push(self.warnings.0);
        Ok(())
    }
}

/// Serializes optional bytes as hex.
pub(crate) mod opt_hex {
    /// Hex of `b`, if any.
    pub(crate) fn serialize<S: serde::Serializer>(b: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match b {
            Some(b) => s.serialize_some(&hex::encode_upper(b)),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kitpos_requests() {
        assert_eq!(BeginShiftOpen::decode(&[1]).unwrap().no_print, Some(true));
        assert_eq!(BeginShiftClose::decode(&[]).unwrap().no_print, None);
        assert!(BeginShiftOpen::decode(&[2]).is_err());
        assert!(BeginShiftOpen::decode(&[1, 1]).is_err());
        let mut out = Vec::new();
        BeginShiftClose { no_print: Some(true) }.encode(&mut out).unwrap();
        assert_eq!(out, [1]);
    }

    #[test]
    fn shift_report_layout() {
        let r = ShiftReport { shift_number: 7, fd_number: 42, fiscal_sign: 0x01020304, warnings: Warnings(0x0A) };
        let mut out = Vec::new();
        r.encode(&mut out).unwrap();
        assert_eq!(out, [7, 0, 42, 0, 0, 0, 4, 3, 2, 1, 0x0A]);
        assert_eq!(ShiftReport::decode(&out).unwrap(), r);
        assert_eq!(r.warnings.explain(), ["FN resource under 30 days", "OFD not answering"]);
        let p = ShiftParams { open: true, shift_number: 3, receipt_number: 9 };
        let mut out = Vec::new();
        p.encode(&mut out).unwrap();
        assert_eq!(out, [1, 3, 0, 9, 0]);
        assert_eq!(ShiftParams::decode(&out).unwrap(), p);
    }

    #[test]
    fn shift_data_rules_and_roundtrip() {
        let mut d = ShiftReportData::cashier("Иванов");
        d.cashier_inn = Some("774000007612".into());
        d.additional = Some("доп".into());
        d.additional_data = Some(vec![1, 2, 3]);
        let mut out = Vec::new();
        ShiftOpenData(d.clone()).encode(&mut out).unwrap();
        assert_eq!(ShiftOpenData::decode(&out).unwrap().0, d);
        assert!(out.windows(2).any(|w| w == 1276u16.to_le_bytes()));
        let mut out = Vec::new();
        ShiftCloseData(d.clone()).encode(&mut out).unwrap();
        assert!(out.windows(2).any(|w| w == 1279u16.to_le_bytes()));
        d.additional_data = None;
        assert_eq!(ShiftOpenData(d.clone()).encode(&mut Vec::new()).unwrap_err().field, "additional");
        d.additional = None;
        d.cashier_inn = Some("7740000076".into());
        assert_eq!(ShiftOpenData(d.clone()).encode(&mut Vec::new()).unwrap_err().field, "cashier_inn");
        d.cashier_inn = None;
        d.cashier = "x".repeat(65);
        assert_eq!(ShiftOpenData(d).encode(&mut Vec::new()).unwrap_err().field, "cashier");
    }

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
    }

    fn bytes<R: Request>(r: &R) -> Result<Vec<u8>, InputError> {
        let mut out = Vec::new();
        r.encode(&mut out).map(|_| out)
    }

    #[test]
    fn cashier_0x2f() {
        let c = CashierData::new("Ivanov", Some("774000007612"));
        let data = bytes(&c).unwrap();
        assert_eq!(data, hex("FD03 0600 4976616E6F76  B304 0C00 373734303030303037363132"));
        assert_eq!(CashierData::decode(&data).unwrap(), c);
        assert_eq!(bytes(&CashierData::new("I", Some("1"))).unwrap_err().field, "cashier_inn");
        assert_eq!(bytes(&CashierData::new(&"я".repeat(65), None)).unwrap_err().field, "cashier");
        assert_eq!(CashierData::decode(&[]).unwrap_err().field, "cashier");
    }

    proptest::proptest! {
        #[test]
        fn cashier_roundtrip(
            cashier in proptest::string::string_regex("[ -~А-яЁё№]{1,64}").unwrap(),
            inn in proptest::option::of("[0-9]{12}"),
        ) {
            let c = CashierData { cashier, cashier_inn: inn, ..Default::default() };
            proptest::prop_assert_eq!(CashierData::decode(&bytes(&c).unwrap()).unwrap(), c);
        }

        #[test]
        fn shift_data_roundtrip(
            cashier in proptest::string::string_regex("[ -~А-яЁё№]{1,64}").unwrap(),
            place in proptest::option::of(proptest::string::string_regex("[ -~А-яЁё№]{0,64}").unwrap()),
            extra in proptest::option::of((
                proptest::string::string_regex("[ -~А-яЁё№]{0,32}").unwrap(),
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..32),
            )),
        ) {
            let d = ShiftReportData {
                cashier, place, additional: extra.clone().map(|e| e.0), additional_data: extra.map(|e| e.1),
                ..Default::default()
            };
            let open = bytes(&ShiftOpenData(d.clone())).unwrap();
            let close = bytes(&ShiftCloseData(d.clone())).unwrap();
            proptest::prop_assert_eq!(&ShiftOpenData::decode(&open).unwrap().0, &d);
            proptest::prop_assert_eq!(&ShiftCloseData::decode(&close).unwrap().0, &d);
            proptest::prop_assert_eq!(bytes(&ShiftOpenData::decode(&open).unwrap()).unwrap(), open);
        }
    }
}
