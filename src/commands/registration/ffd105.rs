//! Registration with ФФД 1.05 (v01.05): begin (0x12; 0xE1 in ФФД 1.2), data (0x16; 0xE2) and
//! form (0x13; 0xE3) the registration report.
//!
//! They are typed so that `kkt decode` shows an older register's traffic; the driver does not
//! send them to a ФФД 1.2 register.

use serde::Serialize;

use super::super::fields::{self, check_enum, check_mask, max_chars, tlv_body};
use super::super::report::FiscalResult;
use super::super::{DecodeError, Empty, InputError, Reader, Request};
use super::{decode_form, encode_form};
use crate::protocol::tag;
use crate::protocol::values::{AgentTypes, OperatingModes, TaxationSystems};

/// 0x12 «Начать отчет о регистрации/перерегистрации ККТ» (ФФД 1.05; 0xE1 in ФФД 1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BeginRegistration105 {
    /// 0 first registration, 1 re-registration with FN replacement, 2 re-registration without.
    pub report_type: u8,
}

impl Request for BeginRegistration105 {
    const CODE: u8 = 0x12;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        check_enum("report_type", self.report_type, &[0, 1, 2])?;
        out.push(self.report_type);
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = Self { report_type: r.byte("report_type")? };
        r.end("data")?;
        Ok(v)
    }
}

tlv_body! {
    /// 0x16 «Передать данные отчета о регистрации(перерегистрации)» (ФФД 1.05; 0xE2 in ФФД 1.2).
    ///
    /// v01.05 marks none of the tags optional in its table, but its text leaves 1017, 1046 and
    /// 1117 out in autonomous mode, and 1009, 1187 and 1036 out for a register serving several
    /// vending machines (they then come with each receipt, 0x1F). Here only the user name (1048),
    /// the authorised person (1021) and the operating mode (9999) are required.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct RegistrationData105 {
        /// User name (at most 128).
        user_name: String = required string(tag::USER_NAME),
        /// Settlement address (v01.05: at most 164).
        #[serde(skip_serializing_if = "Option::is_none")]
        address: Option<String> = optional string(tag::SETTLEMENT_ADDRESS),
        /// Settlement place (v01.05: at most 64).
        #[serde(skip_serializing_if = "Option::is_none")]
        place: Option<String> = optional string(tag::SETTLEMENT_PLACE),
        /// Authorised person (at most 64).
        cashier: String = required string(tag::CASHIER_NAME),
        /// Authorised person's INN (exactly 12 digits).
        #[serde(skip_serializing_if = "Option::is_none")]
        cashier_inn: Option<String> = optional string(tag::CASHIER_INN) via fields::person_inn,
        /// OFD INN (padded with spaces to 12).
        #[serde(skip_serializing_if = "Option::is_none")]
        ofd_inn: Option<String> = optional string(tag::OFD_INN) via fields::inn,
        /// OFD name (at most 64).
        #[serde(skip_serializing_if = "Option::is_none")]
        ofd_name: Option<String> = optional string(tag::OFD_NAME),
        /// Receipt sender email (at most 64).
        #[serde(skip_serializing_if = "Option::is_none")]
        sender_email: Option<String> = optional string(tag::RECEIPT_SENDER_EMAIL),
        /// Vending machine number (at most 21; required for a Терминал-ФА).
        #[serde(skip_serializing_if = "Option::is_none")]
        automat_number: Option<String> = optional string(tag::VENDING_MACHINE_NUMBER),
        /// Agent types the user may act as.
        #[serde(skip_serializing_if = "Option::is_none")]
        agent_types: Option<AgentTypes> = optional byte(tag::PAYMENT_AGENT_FLAGS),
        /// Operating mode (every [`OperatingModes`] bit, the automatic mode included; the
        /// register works in automatic mode whatever is sent).
        modes: OperatingModes = required byte(tag::SERVICE_OPERATING_MODE),
    }
}

impl RegistrationData105 {
    /// Checks every field (what `encode` refuses).
    pub fn validate(&self) -> Result<(), InputError> {
        check_mask("modes", self.modes.bits(), OperatingModes::DEFINED.bits())?;
        if let Some(a) = self.agent_types {
            check_mask("agent_types", a.bits(), AgentTypes::DEFINED.bits())?;
        }
        max_chars("address", self.address.as_deref(), 164)?;
        max_chars("place", self.place.as_deref(), 64)
    }
}

impl Request for RegistrationData105 {
    const CODE: u8 = 0x16;
    type Response = Empty;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.validate()?;
        fields::encode_body(self, (), out)
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, ())
    }
}

/// 0x13 «Сформировать отчет о регистрации (перерегистрации)» (ФФД 1.05; 0xE3 in ФФД 1.2):
/// the same layout as 0xE3, but the last BYTE is one re-registration reason code (1 FN
/// replaced, 2 OFD changed, 3 requisites changed, 4 settings changed), not a bit mask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormRegistration105 {
    /// User's INN (10 or 12 digits; sent padded with spaces to 12).
    pub inn: String,
    /// Registration number (РН ККТ), 20 characters (padded with spaces).
    pub registration_number: String,
    /// Taxation systems (every [`TaxationSystems`] bit, ЕНВД included).
    pub taxation: TaxationSystems,
    /// Re-registration reason (1–4); none for the first registration.
    pub reason: Option<u8>,
}

impl Request for FormRegistration105 {
    const CODE: u8 = 0x13;
    type Response = FiscalResult;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        if let Some(r) = self.reason {
            check_enum("reason", r, &[1, 2, 3, 4])?;
        }
        let last = self.reason.map(|r| [r]);
        encode_form(
            out,
            &self.inn,
            &self.registration_number,
            self.taxation,
            TaxationSystems::DEFINED,
            last.as_ref().map_or(&[][..], |b| &b[..]),
        )
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let (inn, registration_number, taxation, rest) = decode_form(data)?;
        let mut r = Reader::new(rest);
        let reason = if rest.is_empty() { None } else { Some(r.byte("reason")?) };
        r.end("data")?;
        Ok(Self { inn, registration_number, taxation, reason })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{DecodeErrorKind, Response};
    use proptest::prelude::*;

    fn bytes<R: Request>(r: &R) -> Result<Vec<u8>, InputError> {
        let mut out = Vec::new();
        r.encode(&mut out).map(|_| out)
    }

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
    }

    #[test]
    fn registration_0x12_0x16_0x13() {
        assert_eq!(bytes(&BeginRegistration105 { report_type: 2 }).unwrap(), [2]);
        assert_eq!(bytes(&BeginRegistration105 { report_type: 3 }).unwrap_err().field, "report_type");
        assert_eq!(BeginRegistration105::decode(&[1]).unwrap(), BeginRegistration105 { report_type: 1 });
        assert_eq!(BeginRegistration105::decode(&[]).unwrap_err().kind, DecodeErrorKind::Length);

        // 1048 "ООО", 1021 "Иванов" would be longer; short ASCII keeps the fixture readable.
        let d = RegistrationData105 {
            user_name: "OOO".into(),
            cashier: "Ivanov".into(),
            automat_number: Some("7".into()),
            modes: OperatingModes::AUTOMATIC,
            ..Default::default()
        };
        let data = bytes(&d).unwrap();
        assert_eq!(data, hex("1804 0300 4F4F4F  FD03 0600 4976616E6F76  0C04 0100 37  0F27 0100 04"));
        assert_eq!(RegistrationData105::decode(&data).unwrap(), d);
        for (bad, field) in [
            (RegistrationData105 { modes: OperatingModes::from(0x40), ..d.clone() }, "modes"),
            (RegistrationData105 { agent_types: Some(AgentTypes::from(0x80)), ..d.clone() }, "agent_types"),
            (RegistrationData105 { place: Some("x".repeat(65)), ..d.clone() }, "place"),
            (RegistrationData105 { address: Some("x".repeat(165)), ..d.clone() }, "address"),
            (RegistrationData105 { cashier_inn: Some("7740000076".into()), ..d.clone() }, "cashier_inn"),
            (RegistrationData105 { automat_number: Some("x".repeat(22)), ..d.clone() }, "automat_number"),
        ] {
            assert_eq!(bytes(&bad).unwrap_err().field, field);
        }
        let e = RegistrationData105::decode(&hex("1804 0300 4F4F4F")).unwrap_err();
        assert_eq!(e.field, "cashier");

        let f = FormRegistration105 {
            inn: "7806197274".into(),
            registration_number: "0000000000038045".into(),
            taxation: TaxationSystems::ENVD,
            reason: Some(4),
        };
        let data = bytes(&f).unwrap();
        assert_eq!(data.len(), 34);
        assert_eq!(&data[..12], b"7806197274  ");
        assert_eq!(data[32..], [0b1000, 4], "ЕНВД (bit 3) is a v01.05 system");
        assert_eq!(FormRegistration105::decode(&data).unwrap(), f);
        assert_eq!(FormRegistration105::decode(&data[..33]).unwrap().reason, None);
        for (bad, field) in [
            (FormRegistration105 { reason: Some(5), ..f.clone() }, "reason"),
            (FormRegistration105 { taxation: TaxationSystems::from(0x40), ..f.clone() }, "taxation"),
            (FormRegistration105 { taxation: TaxationSystems::EMPTY, ..f.clone() }, "taxation"),
            (FormRegistration105 { inn: "12".into(), ..f.clone() }, "inn"),
            (FormRegistration105 { registration_number: " ".into(), ..f.clone() }, "registration_number"),
        ] {
            assert_eq!(bytes(&bad).unwrap_err().field, field);
        }
        let r = FiscalResult::decode(&hex("0A000000 78563412")).unwrap();
        assert_eq!((r.fd_number, r.fiscal_sign), (10, 0x1234_5678));
    }

    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[ -~А-яЁё№]{{1,{max}}}")).unwrap()
    }

    proptest! {
        #[test]
        fn registration_105_roundtrip(
            user_name in text(128), cashier in text(64), address in prop::option::of(text(164)),
            inn in prop::option::of("[0-9]{12}"), modes in 0u8..0x40, agents in prop::option::of(0u8..0x80),
            taxation in 1u8..0x40, reason in prop::option::of(1u8..=4), report_type in 0u8..3,
        ) {
            let d = RegistrationData105 {
                user_name, cashier, address, cashier_inn: inn, modes: modes.into(), agent_types: agents.map(Into::into),
                ..Default::default()
            };
            prop_assert_eq!(RegistrationData105::decode(&bytes(&d).unwrap()).unwrap(), d);
            let f = FormRegistration105 {
                inn: "7806197274".into(), registration_number: "0000000000038045".into(), taxation: taxation.into(), reason,
            };
            prop_assert_eq!(FormRegistration105::decode(&bytes(&f).unwrap()).unwrap(), f);
            let b = BeginRegistration105 { report_type };
            prop_assert_eq!(BeginRegistration105::decode(&bytes(&b).unwrap()).unwrap(), b);
        }

    }
}
