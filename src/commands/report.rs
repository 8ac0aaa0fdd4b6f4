//! Reports: the settlement status report (0x27, 0xE6, 0x28) and the FN close report (0x14,
//! 0x17, 0x15; seed 004 calls the last one 0x28, a typo — see PROTOCOL-NOTES).

use chrono::NaiveDate;
use serde::Serialize;

use super::fields::{self, both_or_neither, tlv_body};
use super::shift::opt_hex;
use super::{no_data_request, DecodeError, Empty, InputError, Reader, Request, Response};
use crate::protocol::{tag, types};

tlv_body! {
    /// Data of a report (0xE6, 0x17): address, place and the report's additional requisite and
    /// data ([`SETTLEMENT_EXTRA`] for the settlement report, [`FN_CLOSE_EXTRA`] for the FN close
    /// report). Real registers are also sent the cashier (1021, 1203) here.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct ReportData(extra_tags: (u16, u16)) {
        /// Cashier (not in seed 004's table; real hosts send it with 0x17).
        #[serde(skip_serializing_if = "Option::is_none")]
        cashier: Option<String> = optional string(tag::CASHIER_NAME),
        /// Cashier INN (12 characters; spaces = none).
        #[serde(skip_serializing_if = "Option::is_none")]
        cashier_inn: Option<String> = optional string(tag::CASHIER_INN) via fields::person_inn,
        /// Address.
        #[serde(skip_serializing_if = "Option::is_none")]
        address: Option<String> = optional string(tag::SETTLEMENT_ADDRESS),
        /// Place.
        #[serde(skip_serializing_if = "Option::is_none")]
        place: Option<String> = optional string(tag::SETTLEMENT_PLACE),
        /// Additional requisite (with the data): tag 1280 / 1282.
        #[serde(skip_serializing_if = "Option::is_none")]
        additional: Option<String> = optional string(extra_tags.0),
        /// Additional data (with the requisite): tag 1281 / 1283.
        #[serde(skip_serializing_if = "Option::is_none", with = "opt_hex")]
        additional_data: Option<Vec<u8>> = optional bytes(extra_tags.1),
    }
}

/// The additional requisite and data of the settlement report.
pub const SETTLEMENT_EXTRA: (u16, u16) =
    (tag::SETTLEMENT_STATUS_REPORT_EXTRA_REQUISITE, tag::SETTLEMENT_STATUS_REPORT_EXTRA_DATA);
/// The additional requisite and data of the FN close report.
pub const FN_CLOSE_EXTRA: (u16, u16) = (tag::FN_CLOSE_REPORT_EXTRA_REQUISITE, tag::FN_CLOSE_REPORT_EXTRA_DATA);

impl ReportData {
    fn write(&self, extra_tags: (u16, u16), out: &mut Vec<u8>) -> Result<(), InputError> {
        both_or_neither("additional", &self.additional, &self.additional_data)?;
        fields::encode_body(self, extra_tags, out)
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
        self.0.write(SETTLEMENT_EXTRA, out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, SETTLEMENT_EXTRA).map(SettlementReportData)
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
        self.0.write(FN_CLOSE_EXTRA, out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, FN_CLOSE_EXTRA).map(FnCloseData)
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

    proptest::proptest! {
        #[test]
        fn report_data_roundtrips(
            cashier in proptest::option::of(proptest::string::string_regex("[ -~А-яЁё№]{0,64}").unwrap()),
            inn in proptest::option::of("[0-9]{12}"),
            place in proptest::option::of(proptest::string::string_regex("[ -~А-яЁё№]{0,256}").unwrap()),
            extra in proptest::option::of(("[ -~]{0,32}", proptest::collection::vec(proptest::prelude::any::<u8>(), 0..32))),
        ) {
            let d = ReportData {
                cashier, cashier_inn: inn, place, additional: extra.clone().map(|e| e.0),
                additional_data: extra.map(|e| e.1), ..Default::default()
            };
            let mut out = Vec::new();
            SettlementReportData(d.clone()).encode(&mut out).unwrap();
            proptest::prop_assert_eq!(&SettlementReportData::decode(&out).unwrap().0, &d);
            let mut close = Vec::new();
            FnCloseData(d.clone()).encode(&mut close).unwrap();
            proptest::prop_assert_eq!(&FnCloseData::decode(&close).unwrap().0, &d);
            proptest::prop_assert_eq!(FnCloseData::decode(&out).unwrap().0.additional, None, "other tags");
        }
    }
}
