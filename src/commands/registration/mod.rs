//! Registration and re-registration with ФФД 1.2 (seed 004): begin (0xE1), data (0xE2), form
//! the report (0xE3); and in [`ffd105`] the ФФД 1.05 commands these replaced (0x12, 0x16,
//! 0x13).

use serde::Serialize;

use super::fields::{self, both_or_neither, check_enum, check_mask, tlv_body};
use super::report::FiscalResult;
use super::shift::opt_hex;
use super::{put_fixed_string, DecodeError, Empty, InputError, Reader, Request};
use crate::protocol::tag;
use crate::protocol::values::{OperatingModes, ReregistrationReasons, TaxationSystems, UsageConditions};

pub mod ffd105;

pub use ffd105::{BeginRegistration105, FormRegistration105, RegistrationData105};

/// 0xE1 «Начать отчет о регистрации/перерегистрации ККТ».
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BeginRegistration {
    /// 0 first registration, 1 re-registration with FN replacement, 2 re-registration without.
    pub report_type: u8,
}

impl Request for BeginRegistration {
    const CODE: u8 = 0xE1;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        check_enum("report_type", self.report_type, &[0, 1, 2])?;
        out.push(self.report_type);
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = BeginRegistration { report_type: r.byte("report_type")? };
        r.end("data")?;
        Ok(v)
    }
}

tlv_body! {
    /// 0xE2 «Передать данные отчета о регистрации».
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct RegistrationData {
        /// User name.
        user_name: String = required string(tag::USER_NAME),
        /// Settlement address.
        address: String = required string(tag::SETTLEMENT_ADDRESS),
        /// Settlement place.
        place: String = required string(tag::SETTLEMENT_PLACE),
        /// Authorised person.
        cashier: String = required string(tag::CASHIER_NAME),
        /// Authorised person's INN (exactly 12).
        #[serde(skip_serializing_if = "Option::is_none")]
        cashier_inn: Option<String> = optional string(tag::CASHIER_INN) via fields::person_inn,
        /// OFD INN (padded with spaces to 12; ignored in autonomous mode).
        #[serde(skip_serializing_if = "Option::is_none")]
        ofd_inn: Option<String> = optional string(tag::OFD_INN) via fields::inn,
        /// OFD name.
        #[serde(skip_serializing_if = "Option::is_none")]
        ofd_name: Option<String> = optional string(tag::OFD_NAME),
        /// Receipt sender email.
        #[serde(skip_serializing_if = "Option::is_none")]
        sender_email: Option<String> = optional string(tag::RECEIPT_SENDER_EMAIL),
        /// Vending machine number.
        #[serde(skip_serializing_if = "Option::is_none")]
        automat_number: Option<String> = optional string(tag::VENDING_MACHINE_NUMBER),
        /// Additional requisite of the report (with its data).
        #[serde(skip_serializing_if = "Option::is_none")]
        additional: Option<String> = optional string(tag::REGISTRATION_REPORT_EXTRA_REQUISITE),
        /// Additional data of the report (with its requisite).
        #[serde(skip_serializing_if = "Option::is_none", with = "opt_hex")]
        additional_data: Option<Vec<u8>> = optional bytes(tag::REGISTRATION_REPORT_EXTRA_DATA),
        /// Usage conditions.
        usage: UsageConditions = required byte(tag::SERVICE_USAGE_CONDITIONS),
        /// Operating mode ([`OperatingModes::FFD12`] bits).
        modes: OperatingModes = required byte(tag::SERVICE_OPERATING_MODE),
    }
}

impl RegistrationData {
    /// Checks every field (what `encode` refuses).
    pub fn validate(&self) -> Result<(), InputError> {
        check_mask("usage", self.usage.bits(), UsageConditions::DEFINED.bits())?;
        check_mask("modes", self.modes.bits(), OperatingModes::FFD12.bits())?;
        let m = self.modes;
        if m.contains(OperatingModes::BSO) && !m.contains(OperatingModes::SERVICES) {
            return Err(InputError::new("modes", "the БСО bit (4) applies only with the services bit (3)"));
        }
        if m.contains(OperatingModes::AUTONOMOUS) && m.contains(OperatingModes::INTERNET) {
            return Err(InputError::new("modes", "autonomous mode (bit 1) cannot be combined with internet (bit 5)"));
        }
        if m.contains(OperatingModes::AUTONOMOUS) && m.contains(OperatingModes::ENCRYPTION) {
            return Err(InputError::new("modes", "autonomous mode (bit 1) uses no encryption (bit 0)"));
        }
        both_or_neither("additional", &self.additional, &self.additional_data)
    }
}

impl Request for RegistrationData {
    const CODE: u8 = 0xE2;
    type Response = Empty;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.validate()?;
        fields::encode_body(self, (), out)
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, ())
    }
}

/// 0xE3 «Сформировать отчет о регистрации/перерегистрации».
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormRegistration {
    /// User's INN (10 or 12 digits; sent padded with spaces to 12).
    pub inn: String,
    /// Registration number (РН ККТ), 20 characters (padded with spaces).
    pub registration_number: String,
    /// Taxation systems ([`TaxationSystems::FFD12`] bits).
    pub taxation: TaxationSystems,
    /// Reasons for re-registration (tag 1205, a 32-bit mask: sent as UINT32 LE, see
    /// [`ReregistrationReasons`]); none for the first registration.
    pub reasons: Option<ReregistrationReasons>,
}

impl Request for FormRegistration {
    const CODE: u8 = 0xE3;
    type Response = FiscalResult;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        if let Some(r) = self.reasons {
            if r.undefined() != 0 {
                return Err(InputError::new(
                    "reasons",
                    format!("bits {:#x} are not reasons of tag 1205 (bits 0–14, 17–21 and 31 are)", r.undefined()),
                ));
            }
        }
        let reasons = self.reasons.map(|r| r.bits().to_le_bytes());
        encode_form(
            out,
            &self.inn,
            &self.registration_number,
            self.taxation,
            TaxationSystems::FFD12,
            reasons.as_ref().map_or(&[][..], |b| &b[..]),
        )
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let (inn, registration_number, taxation, rest) = decode_form(data)?;
        // Four bytes (tag 1205's UINT32, as kkt sends it) or the seed's one BYTE.
        let reasons = match rest.len() {
            0 => None,
            1 => Some(u32::from(rest[0])),
            4 => Some(u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]])),
            n => {
                return Err(DecodeError::new(
                    super::DecodeErrorKind::Length,
                    "reasons",
                    33,
                    format!("{n} bytes; the reasons are 4 bytes (UINT32) or 1 (BYTE)"),
                ))
            }
        };
        Ok(FormRegistration { inn, registration_number, taxation, reasons: reasons.map(Into::into) })
    }
}

/// The layout 0xE3 shares with ФФД 1.05's 0x13: the user's INN (12), the registration number
/// (20), the taxation systems (of `allowed`) and the optional last bytes `last` (0xE3: the
/// re-registration reasons, UINT32; 0x13: one reason code BYTE), checked and written.
pub(crate) fn encode_form(
    out: &mut Vec<u8>,
    inn: &str,
    registration_number: &str,
    taxation: TaxationSystems,
    allowed: TaxationSystems,
    last: &[u8],
) -> Result<(), InputError> {
    let inn = fields::inn("inn", inn)?;
    if inn.trim().is_empty() {
        return Err(InputError::new("inn", "the user's INN is required"));
    }
    if registration_number.trim().is_empty() {
        return Err(InputError::new("registration_number", "the registration number is required"));
    }
    if taxation.is_empty() {
        return Err(InputError::new("taxation", "at least one taxation system is required"));
    }
    check_mask("taxation", taxation.bits(), allowed.bits())?;
    put_fixed_string(out, "inn", &inn, 12)?;
    put_fixed_string(out, "registration_number", registration_number, 20)?;
    out.push(taxation.bits());
    out.extend_from_slice(last);
    Ok(())
}

/// Reads the layout of [`encode_form`]: (INN, registration number, taxation, the bytes after).
pub(crate) fn decode_form(data: &[u8]) -> Result<(String, String, TaxationSystems, &[u8]), DecodeError> {
    let mut r = Reader::new(data);
    let v = (r.string("inn", 12)?, r.string("registration_number", 20)?, r.byte("taxation")?.into(), r.rest());
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> RegistrationData {
        RegistrationData {
            user_name: "ООО Ромашка".into(),
            address: "Москва, ул. Тверская, 1".into(),
            place: "Магазин".into(),
            cashier: "Иванов И.И.".into(),
            ofd_inn: Some("7704358518".into()),
            usage: UsageConditions::MARKING,
            modes: OperatingModes::ENCRYPTION,
            ..Default::default()
        }
    }

    #[test]
    fn registration_data_roundtrip_and_rules() {
        let d = data();
        let mut out = Vec::new();
        d.encode(&mut out).unwrap();
        let back = RegistrationData::decode(&out).unwrap();
        assert_eq!(back.ofd_inn.as_deref(), Some("7704358518  "));
        let mut again = Vec::new();
        back.encode(&mut again).unwrap();
        assert_eq!(again, out);
        let bad = RegistrationData { modes: OperatingModes::BSO, ..data() };
        assert_eq!(bad.encode(&mut Vec::new()).unwrap_err().field, "modes");
        let bad = RegistrationData { modes: OperatingModes::AUTONOMOUS | OperatingModes::INTERNET, ..data() };
        assert_eq!(bad.encode(&mut Vec::new()).unwrap_err().field, "modes");
        let bad = RegistrationData { usage: UsageConditions::from(0x80), ..data() };
        assert_eq!(bad.encode(&mut Vec::new()).unwrap_err().field, "usage");
        let bad = RegistrationData { cashier_inn: Some("12".into()), ..data() };
        assert_eq!(bad.encode(&mut Vec::new()).unwrap_err().field, "cashier_inn");
        let bad = RegistrationData { user_name: "ы".repeat(129), ..data() };
        assert_eq!(bad.encode(&mut Vec::new()).unwrap_err().field, "user_name");
    }

    #[test]
    fn form_registration_layout() {
        let f = FormRegistration {
            inn: "7806197274".into(),
            registration_number: "0000000000038045".into(),
            taxation: TaxationSystems::GENERAL,
            reasons: None,
        };
        let mut out = Vec::new();
        f.encode(&mut out).unwrap();
        assert_eq!(out.len(), 33);
        assert_eq!(&out[..12], b"7806197274  ");
        assert_eq!(&out[12..32], b"0000000000038045    ");
        let back = FormRegistration::decode(&out).unwrap();
        assert_eq!(back, f);
        let f2 = FormRegistration {
            reasons: Some(ReregistrationReasons::FN_REPLACEMENT | ReregistrationReasons::FFD_VERSION_CHANGE),
            ..f.clone()
        };
        let mut out = Vec::new();
        f2.encode(&mut out).unwrap();
        // Tag 1205 bits 0 and 21 as UINT32 LE.
        assert_eq!(out.len(), 37);
        assert_eq!(&out[33..], [0x01, 0x00, 0x20, 0x00]);
        assert_eq!(FormRegistration::decode(&out).unwrap(), f2);
        // The seed's one BYTE is read too.
        let mut one = out[..33].to_vec();
        one.push(0b101);
        assert_eq!(FormRegistration::decode(&one).unwrap().reasons.map(|r| r.bits()), Some(0b101));
        let mut two = out[..33].to_vec();
        two.extend_from_slice(&[1, 2]);
        assert_eq!(FormRegistration::decode(&two).unwrap_err().field, "reasons");
        let bad = FormRegistration { reasons: Some(ReregistrationReasons::from(1 << 15)), ..f.clone() };
        assert_eq!(bad.encode(&mut Vec::new()).unwrap_err().field, "reasons");
        let bad = FormRegistration { taxation: TaxationSystems::ENVD, ..f.clone() };
        assert_eq!(bad.encode(&mut Vec::new()).unwrap_err().field, "taxation");
        let bad = FormRegistration { inn: "".into(), ..f };
        assert_eq!(bad.encode(&mut Vec::new()).unwrap_err().field, "inn");
        assert!(BeginRegistration { report_type: 3 }.encode(&mut Vec::new()).is_err());
    }

    proptest::proptest! {
        #[test]
        fn registration_data_roundtrips(
            user_name in proptest::string::string_regex("[ -~А-яЁё№]{1,128}").unwrap(),
            address in proptest::string::string_regex("[ -~А-яЁё№]{0,256}").unwrap(),
            automat in proptest::option::of("[0-9]{1,21}"),
            extra in proptest::option::of(("[ -~]{0,32}", proptest::collection::vec(proptest::prelude::any::<u8>(), 0..32))),
            usage in 0u8..0x80,
            modes in proptest::sample::select(vec![0u8, 1, 0b1000, 0b1_1001, 0b10_0001, 0b10]),
        ) {
            let d = RegistrationData {
                user_name, address, automat_number: automat,
                additional: extra.clone().map(|e| e.0), additional_data: extra.map(|e| e.1),
                usage: usage.into(), modes: modes.into(),
                ..data()
            };
            let mut out = Vec::new();
            d.encode(&mut out).unwrap();
            let back = RegistrationData::decode(&out).unwrap();
            proptest::prop_assert_eq!(&back, &RegistrationData { ofd_inn: Some("7704358518  ".into()), ..d });
            let mut again = Vec::new();
            back.encode(&mut again).unwrap();
            proptest::prop_assert_eq!(again, out);
        }
    }
}
