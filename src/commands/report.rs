//! Reports: the settlement status report (0x27, 0xE6, 0x28) and the FN close report (0x14,
//! 0x17, 0x15; seed 004 calls the last one 0x28, a typo — see PROTOCOL-NOTES).

use chrono::NaiveDate;
use serde::Serialize;

use super::fields::{self, both_or_neither, TlvBuilder, TlvFields, WireOrder};
use super::receipt::is_empty_list;
use super::shift::opt_hex;
use super::{no_data_request, DecodeError, Empty, InputError, Reader, Request, Response, TlvList};
use crate::protocol::types;

/// Data of a report (0xE6, 0x17): address, place and the report's additional requisite and
/// data (1280/1281 for the settlement report, 1282/1283 for the FN close report). Real
/// registers are also sent the cashier (1021, 1203) here.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ReportData {
    /// Tag 1021, cashier (not in seed 004's table; real hosts send it with 0x17).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cashier: Option<String>,
    /// Tag 1203, cashier INN (12 characters; spaces = none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cashier_inn: Option<String>,
    /// Tag 1009, address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Tag 1187, place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// Tag 1280 / 1282, additional requisite (with the data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional: Option<String>,
    /// Tag 1281 / 1283, additional data (with the requisite).
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_hex")]
    pub additional_data: Option<Vec<u8>>,
    /// Tags the layout does not name, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    /// The tag order of a decoded body (re-encoding keeps it); `Default` for a new one.
    #[serde(skip)]
    pub order: WireOrder,
}

impl ReportData {
    fn write(&self, tags: (u16, u16), out: &mut Vec<u8>) -> Result<(), InputError> {
        both_or_neither("additional", &self.additional, &self.additional_data)?;
        let inn = self.cashier_inn.as_deref().map(|s| fields::person_inn("cashier_inn", s)).transpose()?;
        let mut b = TlvBuilder::new();
        b.opt_string(1021, "cashier", &self.cashier)?
            .opt_string(1203, "cashier_inn", &inn)?
            .opt_string(1009, "address", &self.address)?
            .opt_string(1187, "place", &self.place)?
            .opt_string(tags.0, "additional", &self.additional)?
            .opt_bytes(tags.1, "additional_data", &self.additional_data)?;
        b.finish(&self.extra, &self.order, out);
        Ok(())
    }

    fn read(data: &[u8], tags: (u16, u16)) -> Result<Self, DecodeError> {
        let mut f = TlvFields::parse(data, 0, "tlv")?;
        let mut v = Self {
            cashier: f.string(1021),
            cashier_inn: f.string(1203),
            address: f.string(1009),
            place: f.string(1187),
            additional: f.string(tags.0),
            additional_data: f.bytes(tags.1),
            ..Self::default()
        };
        (v.extra, v.order) = f.finish();
        Ok(v)
    }
}

no_data_request!(
    /// 0x27 «Начать формирование отчета о состоянии расчетов».
    BeginSettlementReport = 0x27 => Empty
);

/// 0xE6 «Передать данные отчета о состоянии расчетов» (optional, between 0x27 and 0x28).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SettlementReportData(pub ReportData);

impl Request for SettlementReportData {
    const CODE: u8 = 0xE6;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.0.write((1280, 1281), out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        ReportData::read(data, (1280, 1281)).map(SettlementReportData)
    }
}

no_data_request!(
    /// 0x28 «Сформировать отчет о состоянии расчетов».
    FormSettlementReport = 0x28 => SettlementReport
);

/// Answer to 0x28.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SettlementReport {
    /// Fiscal document number.
    pub fd_number: u32,
    /// Fiscal sign.
    pub fiscal_sign: u32,
    /// Documents not confirmed by the OFD.
    pub unconfirmed: u32,
    /// Date of the first unconfirmed document (`None` = 00 00 00, none unconfirmed).
    pub first_unconfirmed: Option<NaiveDate>,
}

impl Response for SettlementReport {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let fd_number = r.u32("fd_number")?;
        let fiscal_sign = r.u32("fiscal_sign")?;
        let unconfirmed = r.u32("unconfirmed")?;
        let first_unconfirmed = if data.get(12..) == Some(&[0, 0, 0]) {
            r.take("first_unconfirmed", 3).map(|_| None)?
        } else {
            Some(r.datetime3("first_unconfirmed")?)
        };
        r.end("data")?;
        Ok(SettlementReport { fd_number, fiscal_sign, unconfirmed, first_unconfirmed })
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend_from_slice(&self.fd_number.to_le_bytes());
        out.extend_from_slice(&self.fiscal_sign.to_le_bytes());
        out.extend_from_slice(&self.unconfirmed.to_le_bytes());
        match self.first_unconfirmed {
            Some(d) => types::encode_datetime3(d, out).map_err(|e| InputError::new("first_unconfirmed", e.to_string())),
            None => {
                out.extend_from_slice(&[0, 0, 0]);
                Ok(())
            }
        }
    }
}

no_data_request!(
    /// 0x14 «Начать формирование отчета о закрытии ФН».
    BeginFnClose = 0x14 => Empty
);

/// 0x17 «Передать данные отчета о закрытии ФН» (optional, between 0x14 and 0x15).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct FnCloseData(pub ReportData);

impl Request for FnCloseData {
    const CODE: u8 = 0x17;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.0.write((1282, 1283), out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        ReportData::read(data, (1282, 1283)).map(FnCloseData)
    }
}

no_data_request!(
    /// 0x15 «Сформировать отчет о закрытии ФН» (seed 004 says 0x28; the real code is 0x15).
    FormFnClose = 0x15 => FiscalResult
);

/// A fiscal document's number and fiscal sign (answer to 0x15 and 0xE3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FiscalResult {
    /// Fiscal document number.
    pub fd_number: u32,
    /// Fiscal sign.
    pub fiscal_sign: u32,
}

impl Response for FiscalResult {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = FiscalResult { fd_number: r.u32("fd_number")?, fiscal_sign: r.u32("fiscal_sign")? };
        r.end("data")?;
        Ok(v)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend_from_slice(&self.fd_number.to_le_bytes());
        out.extend_from_slice(&self.fiscal_sign.to_le_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settlement_report_layout() {
        let r = SettlementReport { fd_number: 5, fiscal_sign: 6, unconfirmed: 0, first_unconfirmed: None };
        let mut out = Vec::new();
        r.encode(&mut out).unwrap();
        assert_eq!(out.len(), 15);
        assert_eq!(&out[12..], [0, 0, 0]);
        assert_eq!(SettlementReport::decode(&out).unwrap(), r);
        let r = SettlementReport { unconfirmed: 2, first_unconfirmed: NaiveDate::from_ymd_opt(2024, 3, 1), ..r };
        let mut out = Vec::new();
        r.encode(&mut out).unwrap();
        assert_eq!(&out[12..], [24, 3, 1]);
        assert_eq!(SettlementReport::decode(&out).unwrap(), r);
        assert!(SettlementReport::decode(&out[..14]).is_err());
    }

    #[test]
    fn report_data_rules() {
        let d = ReportData { address: Some("Москва".into()), additional: Some("x".into()), ..Default::default() };
        assert_eq!(SettlementReportData(d.clone()).encode(&mut Vec::new()).unwrap_err().field, "additional");
        let d = ReportData { additional_data: Some(vec![0; 32]), ..d };
        let mut out = Vec::new();
        SettlementReportData(d.clone()).encode(&mut out).unwrap();
        assert_eq!(SettlementReportData::decode(&out).unwrap().0, d);
        let d = ReportData { additional_data: Some(vec![0; 33]), ..d };
        assert_eq!(FnCloseData(d).encode(&mut Vec::new()).unwrap_err().field, "additional_data");
    }
}
