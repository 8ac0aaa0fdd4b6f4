//! Registration and re-registration with ФФД 1.2 (seed 004): begin (0xE1), data (0xE2), form
//! the report (0xE3).

use serde::Serialize;

use super::fields::{self, both_or_neither, check_enum, check_mask, required, TlvBuilder, TlvFields, WireOrder};
use super::receipt::is_empty_list;
use super::report::FiscalResult;
use super::shift::opt_hex;
use super::{put_fixed_string, DecodeError, Empty, InputError, Reader, Request, TlvList};

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

/// Tag 9998 bits «признаки условий применения ККТ».
pub mod usage {
    /// Excise goods.
    pub const EXCISE: u8 = 1 << 0;
    /// Gambling.
    pub const GAMBLING: u8 = 1 << 1;
    /// Lottery.
    pub const LOTTERY: u8 = 1 << 2;
    /// Printer installed in a vending machine.
    pub const PRINTER_IN_AUTOMAT: u8 = 1 << 3;
    /// Marked goods.
    pub const MARKING: u8 = 1 << 4;
    /// Pawnshop.
    pub const PAWNSHOP: u8 = 1 << 5;
    /// Insurance.
    pub const INSURANCE: u8 = 1 << 6;
    /// Every defined bit.
    pub const ALL: u8 = 0x7F;
}

/// Tag 9999 bits «режим работы».
pub mod modes {
    /// Encryption.
    pub const ENCRYPTION: u8 = 1 << 0;
    /// Autonomous (no data transfer to the OFD).
    pub const AUTONOMOUS: u8 = 1 << 1;
    /// Services.
    pub const SERVICES: u8 = 1 << 3;
    /// Strict reporting forms (БСО); only with services.
    pub const BSO: u8 = 1 << 4;
    /// Internet payments; not with autonomous mode.
    pub const INTERNET: u8 = 1 << 5;
    /// Every defined bit.
    pub const ALL: u8 = ENCRYPTION | AUTONOMOUS | SERVICES | BSO | INTERNET;
}

/// 0xE2 «Передать данные отчета о регистрации».
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RegistrationData {
    /// Tag 1048, user name (at most 128).
    pub user_name: String,
    /// Tag 1009, settlement address (at most 256).
    pub address: String,
    /// Tag 1187, settlement place (at most 256).
    pub place: String,
    /// Tag 1021, authorised person (at most 64).
    pub cashier: String,
    /// Tag 1203, authorised person's INN (exactly 12).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cashier_inn: Option<String>,
    /// Tag 1017, OFD INN (padded with spaces to 12; ignored in autonomous mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ofd_inn: Option<String>,
    /// Tag 1046, OFD name (at most 64).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ofd_name: Option<String>,
    /// Tag 1117, receipt sender email (at most 64).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_email: Option<String>,
    /// Tag 1036, vending machine number (at most 21).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automat_number: Option<String>,
    /// Tag 1274, additional requisite of the report (with 1275).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional: Option<String>,
    /// Tag 1275, additional data of the report (with 1274).
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_hex")]
    pub additional_data: Option<Vec<u8>>,
    /// Tag 9998, usage conditions ([`usage`] bits).
    pub usage: u8,
    /// Tag 9999, operating mode ([`modes`] bits).
    pub modes: u8,
    /// Tags the layout does not name, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    /// The tag order of a decoded body (re-encoding keeps it); `Default` for a new one.
    #[serde(skip)]
    pub order: WireOrder,
}

impl RegistrationData {
    /// Checks every field (what `encode` refuses).
    pub fn validate(&self) -> Result<(), InputError> {
        check_mask("usage", self.usage, usage::ALL)?;
        check_mask("modes", self.modes, modes::ALL)?;
        if self.modes & modes::BSO != 0 && self.modes & modes::SERVICES == 0 {
            return Err(InputError::new("modes", "the БСО bit (4) applies only with the services bit (3)"));
        }
        if self.modes & modes::AUTONOMOUS != 0 && self.modes & modes::INTERNET != 0 {
            return Err(InputError::new("modes", "autonomous mode (bit 1) cannot be combined with internet (bit 5)"));
        }
        if self.modes & modes::AUTONOMOUS != 0 && self.modes & modes::ENCRYPTION != 0 {
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
        let inn = self.cashier_inn.as_deref().map(|s| fields::person_inn("cashier_inn", s)).transpose()?;
        let ofd_inn = self.ofd_inn.as_deref().map(|s| fields::inn("ofd_inn", s)).transpose()?;
        let mut b = TlvBuilder::new();
        b.string(1048, "user_name", &self.user_name)?
            .string(1009, "address", &self.address)?
            .string(1187, "place", &self.place)?
            .string(1021, "cashier", &self.cashier)?
            .opt_string(1203, "cashier_inn", &inn)?
            .opt_string(1017, "ofd_inn", &ofd_inn)?
            .opt_string(1046, "ofd_name", &self.ofd_name)?
            .opt_string(1117, "sender_email", &self.sender_email)?
            .opt_string(1036, "automat_number", &self.automat_number)?
            .opt_string(1274, "additional", &self.additional)?
            .opt_bytes(1275, "additional_data", &self.additional_data)?
            .byte(9998, "usage", self.usage)?
            .byte(9999, "modes", self.modes)?;
        b.finish(&self.extra, &self.order, out);
        Ok(())
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut f = TlvFields::parse(data, 0, "tlv")?;
        let mut v = Self {
            user_name: required(f.string(1048), 1048, "user_name")?,
            address: required(f.string(1009), 1009, "address")?,
            place: required(f.string(1187), 1187, "place")?,
            cashier: required(f.string(1021), 1021, "cashier")?,
            cashier_inn: f.string(1203),
            ofd_inn: f.string(1017),
            ofd_name: f.string(1046),
            sender_email: f.string(1117),
            automat_number: f.string(1036),
            additional: f.string(1274),
            additional_data: f.bytes(1275),
            usage: required(f.byte(9998, "usage")?, 9998, "usage")?,
            modes: required(f.byte(9999, "modes")?, 9999, "modes")?,
            ..Self::default()
        };
        (v.extra, v.order) = f.finish();
        Ok(v)
    }
}

/// Taxation system bits of 0xE3: 0 general, 1 simplified income, 2 simplified income minus
/// expense, 4 agricultural, 5 patent (bit 3 is not used).
pub const TAXATION_MASK: u8 = 0b0011_0111;

/// 0xE3 «Сформировать отчет о регистрации/перерегистрации».
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormRegistration {
    /// User's INN (10 or 12 digits; sent padded with spaces to 12).
    pub inn: String,
    /// Registration number (РН ККТ), 20 characters (padded with spaces).
    pub registration_number: String,
    /// Taxation systems ([`TAXATION_MASK`] bits).
    pub taxation: u8,
    /// Reasons for re-registration (tag 1205 bits 0–7; seed 004 sends one BYTE); none for the
    /// first registration.
    pub reasons: Option<u8>,
}

impl Request for FormRegistration {
    const CODE: u8 = 0xE3;
    type Response = FiscalResult;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        encode_form(out, &self.inn, &self.registration_number, self.taxation, TAXATION_MASK, self.reasons)
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let (inn, registration_number, taxation, reasons) = decode_form(data, "reasons")?;
        Ok(FormRegistration { inn, registration_number, taxation, reasons })
    }
}

/// The layout 0xE3 shares with ФФД 1.05's 0x13: the user's INN (12), the registration number
/// (20), the taxation systems (bits of `taxation_mask`) and an optional last BYTE (0xE3: the
/// re-registration reasons; 0x13: one reason code), checked and written.
pub(crate) fn encode_form(
    out: &mut Vec<u8>,
    inn: &str,
    registration_number: &str,
    taxation: u8,
    taxation_mask: u8,
    last: Option<u8>,
) -> Result<(), InputError> {
    let inn = fields::inn("inn", inn)?;
    if inn.trim().is_empty() {
        return Err(InputError::new("inn", "the user's INN is required"));
    }
    if registration_number.trim().is_empty() {
        return Err(InputError::new("registration_number", "the registration number is required"));
    }
    if taxation == 0 {
        return Err(InputError::new("taxation", "at least one taxation system is required"));
    }
    check_mask("taxation", taxation, taxation_mask)?;
    put_fixed_string(out, "inn", &inn, 12)?;
    put_fixed_string(out, "registration_number", registration_number, 20)?;
    out.push(taxation);
    out.extend(last);
    Ok(())
}

/// Reads the layout of [`encode_form`]: (INN, registration number, taxation, the last BYTE
/// named `last`).
pub(crate) fn decode_form(data: &[u8], last: &'static str) -> Result<(String, String, u8, Option<u8>), DecodeError> {
    let mut r = Reader::new(data);
    let v = (
        r.string("inn", 12)?,
        r.string("registration_number", 20)?,
        r.byte("taxation")?,
        if r.remaining() > 0 { Some(r.byte(last)?) } else { None },
    );
    r.end("data")?;
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
            usage: usage::MARKING,
            modes: modes::ENCRYPTION,
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
        let bad = RegistrationData { modes: modes::BSO, ..data() };
        assert_eq!(bad.encode(&mut Vec::new()).unwrap_err().field, "modes");
        let bad = RegistrationData { modes: modes::AUTONOMOUS | modes::INTERNET, ..data() };
        assert_eq!(bad.encode(&mut Vec::new()).unwrap_err().field, "modes");
        let bad = RegistrationData { usage: 0x80, ..data() };
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
            taxation: 0b1,
            reasons: None,
        };
        let mut out = Vec::new();
        f.encode(&mut out).unwrap();
        assert_eq!(out.len(), 33);
        assert_eq!(&out[..12], b"7806197274  ");
        assert_eq!(&out[12..32], b"0000000000038045    ");
        let back = FormRegistration::decode(&out).unwrap();
        assert_eq!(back, f);
        let f2 = FormRegistration { reasons: Some(0b101), ..f.clone() };
        let mut out = Vec::new();
        f2.encode(&mut out).unwrap();
        assert_eq!(out.len(), 34);
        assert_eq!(FormRegistration::decode(&out).unwrap(), f2);
        let bad = FormRegistration { taxation: 0b1000, ..f.clone() };
        assert_eq!(bad.encode(&mut Vec::new()).unwrap_err().field, "taxation");
        let bad = FormRegistration { inn: "".into(), ..f };
        assert_eq!(bad.encode(&mut Vec::new()).unwrap_err().field, "inn");
        assert!(BeginRegistration { report_type: 3 }.encode(&mut Vec::new()).is_err());
    }
}
