//! Commands of v01.05 that the ФФД 1.2 command set (seed 004) replaced or leaves out: the
//! ФФД 1.05 document steps — registration report begin/data/form (0x12, 0x16, 0x13), receipt
//! item (0x2B), payment agent data (0x2C), correction receipt data (0x2E), cashier data
//! (0x2F), vending machine data for a receipt (0x1F) or a correction (0x3F) — the FN
//! activation parameter by tag (0x34), and the reset of the FN mock-up (0x40, debug firmware
//! only).
//!
//! They are typed so that `kkt decode` shows an older register's traffic; the driver does not
//! send them to a ФФД 1.2 register (seed 004 has 0xE1–0xE3, 0x96–0x98 and 0xE4/0xE5 instead).

use chrono::{NaiveDateTime, NaiveTime};
use serde::Serialize;

use super::fields::{self, check_enum, check_mask, required, TlvBuilder, TlvFields, WireOrder};
use super::info::hex_bytes;
use super::receipt::{is_empty_list, ItemAgent, AGENT_TYPES, ITEM_TYPES, PAYMENT_METHODS};
use super::registration::{decode_form, encode_form};
use super::report::FiscalResult;
use super::{DecodeError, DecodeErrorKind, Empty, InputError, Reader, Request, Response, TlvList};
use crate::protocol::types::Decimal;

/// Number of characters of `s` (cp866 holds one byte a character).
fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Checks a text against a limit this command sets below the tag table's.
fn max_chars(field: &'static str, s: Option<&str>, max: usize) -> Result<(), InputError> {
    match s {
        Some(s) if chars(s) > max => {
            Err(InputError::new(field, format!("{} characters is longer than the limit of {max}", chars(s))))
        }
        _ => Ok(()),
    }
}

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

/// Tag 9999 bits of v01.05 Приложение 7 (bit 2 «автоматический режим» is v01.05's; seed 004
/// drops it): encryption, autonomous, automatic, services, БСО, internet.
pub const MODES_105: u8 = 0x3F;
/// Tag 1057 «признак платежного агента» bits 0–6 (Приложение 7).
pub const AGENT_MASK: u8 = 0x7F;
/// Taxation bits of v01.05 (Приложение 7): general, simplified income, simplified income
/// minus expense, ЕНВД (bit 3, gone from seed 004), agricultural, patent.
pub const TAXATION_105: u8 = 0x3F;
/// Tag 1055 values of v01.05 (one system, ЕНВД = 8 included).
pub const TAXATION_SYSTEMS_105: &[u8] = &[1, 2, 4, 8, 16, 32];

/// 0x16 «Передать данные отчета о регистрации(перерегистрации)» (ФФД 1.05; 0xE2 in ФФД 1.2).
///
/// v01.05 marks none of the tags optional in its table, but its text leaves 1017, 1046 and
/// 1117 out in autonomous mode, and 1009, 1187 and 1036 out for a register serving several
/// vending machines (they then come with each receipt, 0x1F). Here only the user name (1048),
/// the authorised person (1021) and the operating mode (9999) are required.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RegistrationData105 {
    /// Tag 1048, user name (at most 128).
    pub user_name: String,
    /// Tag 1009, settlement address (v01.05: at most 164).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Tag 1187, settlement place (v01.05: at most 64).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// Tag 1021, authorised person (at most 64).
    pub cashier: String,
    /// Tag 1203, authorised person's INN (exactly 12 digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cashier_inn: Option<String>,
    /// Tag 1017, OFD INN (padded with spaces to 12).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ofd_inn: Option<String>,
    /// Tag 1046, OFD name (at most 64).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ofd_name: Option<String>,
    /// Tag 1117, receipt sender email (at most 64).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_email: Option<String>,
    /// Tag 1036, vending machine number (at most 21; required for a Терминал-ФА).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automat_number: Option<String>,
    /// Tag 1057, agent types the user may act as ([`AGENT_MASK`] bits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_types: Option<u8>,
    /// Tag 9999, operating mode ([`MODES_105`] bits; the register works in automatic mode
    /// whatever is sent).
    pub modes: u8,
    /// Tags the layout does not name, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    /// The tag order of a decoded body (re-encoding keeps it); `Default` for a new one.
    #[serde(skip)]
    pub order: WireOrder,
}

impl Request for RegistrationData105 {
    const CODE: u8 = 0x16;
    type Response = Empty;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        check_mask("modes", self.modes, MODES_105)?;
        if let Some(a) = self.agent_types {
            check_mask("agent_types", a, AGENT_MASK)?;
        }
        max_chars("address", self.address.as_deref(), 164)?;
        max_chars("place", self.place.as_deref(), 64)?;
        let inn = self.cashier_inn.as_deref().map(|s| fields::person_inn("cashier_inn", s)).transpose()?;
        let ofd_inn = self.ofd_inn.as_deref().map(|s| fields::inn("ofd_inn", s)).transpose()?;
        let mut b = TlvBuilder::new();
        b.string(1048, "user_name", &self.user_name)?
            .opt_string(1009, "address", &self.address)?
            .opt_string(1187, "place", &self.place)?
            .string(1021, "cashier", &self.cashier)?
            .opt_string(1203, "cashier_inn", &inn)?
            .opt_string(1017, "ofd_inn", &ofd_inn)?
            .opt_string(1046, "ofd_name", &self.ofd_name)?
            .opt_string(1117, "sender_email", &self.sender_email)?
            .opt_string(1036, "automat_number", &self.automat_number)?
            .opt_byte(1057, "agent_types", self.agent_types)?
            .byte(9999, "modes", self.modes)?;
        b.finish(&self.extra, &self.order, out);
        Ok(())
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut f = TlvFields::parse(data, 0, "tlv")?;
        let mut v = Self {
            user_name: required(f.string(1048), 1048, "user_name")?,
            address: f.string(1009),
            place: f.string(1187),
            cashier: required(f.string(1021), 1021, "cashier")?,
            cashier_inn: f.string(1203),
            ofd_inn: f.string(1017),
            ofd_name: f.string(1046),
            sender_email: f.string(1117),
            automat_number: f.string(1036),
            agent_types: f.byte(1057, "agent_types")?,
            modes: required(f.byte(9999, "modes")?, 9999, "modes")?,
            ..Self::default()
        };
        (v.extra, v.order) = f.finish();
        Ok(v)
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
    /// Taxation systems ([`TAXATION_105`] bits).
    pub taxation: u8,
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
        encode_form(out, &self.inn, &self.registration_number, self.taxation, TAXATION_105, self.reason)
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let (inn, registration_number, taxation, reason) = decode_form(data, "reason")?;
        Ok(Self { inn, registration_number, taxation, reason })
    }
}

/// Data of a vending machine for one receipt (0x1F) or correction (0x3F): for a register that
/// serves several machines and was registered without them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AutomatData {
    /// Tag 1009, settlement address.
    pub address: String,
    /// Tag 1187, settlement place.
    pub place: String,
    /// Tag 1036, vending machine number (at most 21); required in 0x1F.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automat_number: Option<String>,
    /// Tags the layout does not name, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    /// The tag order of a decoded body (re-encoding keeps it); `Default` for a new one.
    #[serde(skip)]
    pub order: WireOrder,
}

impl AutomatData {
    fn write(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        let mut b = TlvBuilder::new();
        b.string(1009, "address", &self.address)?.string(1187, "place", &self.place)?.opt_string(
            1036,
            "automat_number",
            &self.automat_number,
        )?;
        b.finish(&self.extra, &self.order, out);
        Ok(())
    }

    fn read(data: &[u8], number_required: bool) -> Result<Self, DecodeError> {
        let mut f = TlvFields::parse(data, 0, "tlv")?;
        let mut v = Self {
            address: required(f.string(1009), 1009, "address")?,
            place: required(f.string(1187), 1187, "place")?,
            automat_number: f.string(1036),
            ..Self::default()
        };
        if number_required {
            required(v.automat_number.as_ref(), 1036, "automat_number")?;
        }
        (v.extra, v.order) = f.finish();
        Ok(v)
    }
}

/// 0x1F «Передать данные автоматического устройства расчетов для кассового чека»: all three
/// tags required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptAutomatData(pub AutomatData);

impl Request for ReceiptAutomatData {
    const CODE: u8 = 0x1F;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        if self.0.automat_number.is_none() {
            return Err(InputError::new("automat_number", "required in 0x1F (tag 1036)"));
        }
        self.0.write(out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        AutomatData::read(data, true).map(Self)
    }
}

/// 0x3F «Передать данные автоматического устройства расчетов для кассового чека (БСО)
/// коррекции»: the machine number is optional (recommended). A register registered with
/// these data answers 0x5F.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CorrectionAutomatData(pub AutomatData);

impl Request for CorrectionAutomatData {
    const CODE: u8 = 0x3F;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.0.write(out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        AutomatData::read(data, false).map(Self)
    }
}

/// Tag 1199 of v01.05: 1–6 (Приложение 4).
pub const VAT_RATES_105: &[u8] = &[1, 2, 3, 4, 5, 6];

/// Checks the hex text of tag 1162 («05AB1208» for the bytes 05 AB 12 08).
fn check_hex_text(field: &'static str, s: &str) -> Result<(), InputError> {
    if s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(InputError::new(field, format!("{s:?} is not bytes written as hex digits (two a byte)")))
    }
}

/// 0x2B «Передать позицию товара (услуги)» (ФФД 1.05; 0x96 in ФФД 1.2): one STLV 1059 with
/// the item's tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item105 {
    /// Tag 1030, item name (at most 128).
    pub name: String,
    /// Tag 1079, unit price in kopecks (with discounts and markups).
    pub price: u64,
    /// Tag 1023, quantity.
    pub quantity: Decimal,
    /// Tag 1199, VAT rate ([`VAT_RATES_105`]).
    pub vat: u8,
    /// Tag 1214, payment method (1–7).
    pub payment_method: u8,
    /// Tag 1212, item type (optional; v01.05 lists 1–19 and says later versions added values,
    /// so the ФФД list is taken).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_type: Option<u8>,
    /// Agent and supplier data (tags 1222, 1075, 1044, 1073, 1074, 1026, 1005, 1016, 1171,
    /// 1225, 1226).
    #[serde(flatten)]
    pub agent: ItemAgent,
    /// Tag 1162, product nomenclature code as hex text («05AB1208»).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nomenclature_code: Option<String>,
    /// Tag 1197, unit of measure (at most 16).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Tag 1229, excise in kopecks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excise: Option<u64>,
    /// Tag 1231, customs declaration number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customs_declaration: Option<String>,
    /// Tag 1230, country of origin code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Tag 1191, additional item requisite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional: Option<String>,
    /// Tags inside the STLV the layout does not name, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    /// Tags next to the STLV, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub outer: TlvList,
    #[serde(skip)]
    order: (WireOrder, WireOrder),
}

impl Item105 {
    /// An item with the required fields; the rest empty.
    pub fn new(name: &str, price: u64, quantity: Decimal, vat: u8, payment_method: u8) -> Self {
        Self {
            name: name.into(),
            price,
            quantity,
            vat,
            payment_method,
            item_type: None,
            agent: ItemAgent::default(),
            nomenclature_code: None,
            unit: None,
            excise: None,
            customs_declaration: None,
            country: None,
            additional: None,
            extra: TlvList::default(),
            outer: TlvList::default(),
            order: Default::default(),
        }
    }
}

impl Request for Item105 {
    const CODE: u8 = 0x2B;
    type Response = Empty;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        if self.name.is_empty() {
            return Err(InputError::new("name", "must not be empty"));
        }
        if self.quantity.mantissa == 0 {
            return Err(InputError::new("quantity", "must be greater than 0"));
        }
        check_enum("vat", self.vat, VAT_RATES_105)?;
        check_enum("payment_method", self.payment_method, PAYMENT_METHODS)?;
        if let Some(t) = self.item_type {
            check_enum("item_type", t, ITEM_TYPES)?;
        }
        if let Some(c) = &self.nomenclature_code {
            check_hex_text("nomenclature_code", c)?;
        }
        let country = self.country.as_deref().map(|c| fields::pad_right("country", c, 3)).transpose()?;
        let mut w = TlvBuilder::new();
        w.string(1030, "name", &self.name)?
            .vln(1079, "price", self.price)?
            .fvln(1023, "quantity", self.quantity)?
            .byte(1199, "vat", self.vat)?
            .byte(1214, "payment_method", self.payment_method)?
            .opt_byte(1212, "item_type", self.item_type)?;
        self.agent.write(&mut w)?;
        w.opt_string(1162, "nomenclature_code", &self.nomenclature_code)?
            .opt_string(1197, "unit", &self.unit)?
            .opt_vln(1229, "excise", self.excise)?
            .opt_string(1231, "customs_declaration", &self.customs_declaration)?
            .opt_string(1230, "country", &country)?
            .opt_string(1191, "additional", &self.additional)?;
        let mut b = TlvBuilder::new();
        b.stlv(1059, "item", w, &self.extra, &self.order.1)?;
        b.finish(&self.outer, &self.order.0, out);
        Ok(())
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut top = TlvFields::parse(data, 0, "tlv")?;
        let mut items = top.stlvs(1059).into_iter();
        let (Some(mut f), None) = (items.next(), items.next()) else {
            return Err(DecodeError::new(DecodeErrorKind::Value, "item", 0, "exactly one STLV 1059 expected"));
        };
        let name = required(f.string(1030), 1030, "name")?;
        let price = required(f.vln(1079, "price")?, 1079, "price")?;
        let quantity = required(f.fvln(1023, "quantity")?, 1023, "quantity")?;
        let vat = required(f.byte(1199, "vat")?, 1199, "vat")?;
        let payment_method = required(f.byte(1214, "payment_method")?, 1214, "payment_method")?;
        let mut v =
            Self { item_type: f.byte(1212, "item_type")?, ..Self::new(&name, price, quantity, vat, payment_method) };
        v.agent = ItemAgent::read(&mut f)?;
        v.nomenclature_code = f.string(1162);
        v.unit = f.string(1197);
        v.excise = f.vln(1229, "excise")?;
        v.customs_declaration = f.string(1231);
        v.country = f.string(1230);
        v.additional = f.string(1191);
        let (extra, inner_order) = f.finish();
        let (outer, outer_order) = top.finish();
        v.extra = extra;
        v.outer = outer;
        v.order = (outer_order, inner_order);
        Ok(v)
    }
}

/// 0x2C «Передать данные «платежного агента»» for the whole receipt (when the items do not
/// carry their own agent data). Its length limits are v01.05's for this command (1044: 32,
/// 1026: 47, 1005: 95), below the tag table's.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AgentData {
    /// Tag 1057: one of the agent types given at registration (0 = not an agent in this
    /// receipt; then nothing else is sent).
    pub agent_type: u8,
    /// Tag 1073, payment agent phones.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agent_phones: Vec<String>,
    /// Tag 1044, payment agent operation (at most 32).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Tag 1074, payment acceptance operator phones.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub acceptance_operator_phones: Vec<String>,
    /// Tag 1026, money transfer operator name (at most 47).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_operator_name: Option<String>,
    /// Tag 1016, money transfer operator INN (padded with spaces to 12).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_operator_inn: Option<String>,
    /// Tag 1005, money transfer operator address (at most 95).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_operator_address: Option<String>,
    /// Tag 1075, money transfer operator phones.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transfer_operator_phones: Vec<String>,
    /// Tag 1171, supplier phones.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supplier_phones: Vec<String>,
    /// Tags the layout does not name, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    /// The tag order of a decoded body (re-encoding keeps it); `Default` for a new one.
    #[serde(skip)]
    pub order: WireOrder,
}

impl Request for AgentData {
    const CODE: u8 = 0x2C;
    type Response = Empty;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        check_enum("agent_type", self.agent_type, AGENT_TYPES)?;
        let others = !(self.agent_phones.is_empty()
            && self.operation.is_none()
            && self.acceptance_operator_phones.is_empty()
            && self.transfer_operator_name.is_none()
            && self.transfer_operator_inn.is_none()
            && self.transfer_operator_address.is_none()
            && self.transfer_operator_phones.is_empty()
            && self.supplier_phones.is_empty());
        if self.agent_type == 0 && others {
            return Err(InputError::new("agent_type", "0 (not an agent in this receipt) is sent without agent data"));
        }
        max_chars("operation", self.operation.as_deref(), 32)?;
        max_chars("transfer_operator_name", self.transfer_operator_name.as_deref(), 47)?;
        max_chars("transfer_operator_address", self.transfer_operator_address.as_deref(), 95)?;
        let inn = self.transfer_operator_inn.as_deref().map(|s| fields::inn("transfer_operator_inn", s)).transpose()?;
        let mut b = TlvBuilder::new();
        b.byte(1057, "agent_type", self.agent_type)?
            .strings(1073, "agent_phones", &self.agent_phones)?
            .opt_string(1044, "operation", &self.operation)?
            .strings(1074, "acceptance_operator_phones", &self.acceptance_operator_phones)?
            .opt_string(1026, "transfer_operator_name", &self.transfer_operator_name)?
            .opt_string(1016, "transfer_operator_inn", &inn)?
            .opt_string(1005, "transfer_operator_address", &self.transfer_operator_address)?
            .strings(1075, "transfer_operator_phones", &self.transfer_operator_phones)?
            .strings(1171, "supplier_phones", &self.supplier_phones)?;
        b.finish(&self.extra, &self.order, out);
        Ok(())
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut f = TlvFields::parse(data, 0, "tlv")?;
        let mut v = Self {
            agent_type: required(f.byte(1057, "agent_type")?, 1057, "agent_type")?,
            agent_phones: f.strings(1073),
            operation: f.string(1044),
            acceptance_operator_phones: f.strings(1074),
            transfer_operator_name: f.string(1026),
            transfer_operator_inn: f.string(1016),
            transfer_operator_address: f.string(1005),
            transfer_operator_phones: f.strings(1075),
            supplier_phones: f.strings(1171),
            ..Self::default()
        };
        (v.extra, v.order) = f.finish();
        Ok(v)
    }
}

/// STLV 1174 «основание для коррекции» of 0x2E.
///
/// v01.05 puts the basis document number under tag 1023 (the item quantity, FVLN); the ФФД
/// tag is 1179 (see protocol/tags.tsv). The number is read from and written to 1179; a 1023
/// sent by older software stays in `extra` as it came.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CorrectionBasis {
    /// Tag 1177, basis document name (at most 255).
    pub document_name: String,
    /// Tag 1178, basis document date (UNIXTIME; only the date: 00:00:00).
    pub document_date: NaiveDateTime,
    /// Tag 1179, basis document number (at most 32).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_number: Option<String>,
    /// Other tags inside the STLV, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    #[serde(skip)]
    order: WireOrder,
}

impl CorrectionBasis {
    /// A basis.
    pub fn new(document_name: &str, document_date: chrono::NaiveDate, document_number: Option<&str>) -> Self {
        Self {
            document_name: document_name.into(),
            document_date: document_date.and_time(NaiveTime::MIN),
            document_number: document_number.map(Into::into),
            ..Self::default()
        }
    }
}

/// 0x2E «Передать данные чека коррекции» (ФФД 1.05).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CorrectionData105 {
    /// Tag 1021, authorised person (at most 63).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cashier: Option<String>,
    /// Tag 1203, authorised person's INN (12 digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cashier_inn: Option<String>,
    /// Tag 1173: 0 on one's own initiative, 1 by order of the tax authority.
    pub correction_type: u8,
    /// Tag 1055, taxation system ([`TAXATION_SYSTEMS_105`]).
    pub taxation: u8,
    /// Tag 1031, cash, kopecks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cash: Option<u64>,
    /// Tag 1081, electronic, kopecks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub electronic: Option<u64>,
    /// Tag 1215, prepayment, kopecks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prepayment: Option<u64>,
    /// Tag 1216, credit, kopecks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit: Option<u64>,
    /// Tag 1217, consideration, kopecks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consideration: Option<u64>,
    /// Tags 1102, 1103, 1104, 1105, 1106, 1107: the amounts VAT is computed from (18 % (20 %),
    /// 10 %, 0 %, no VAT, 18/118, 10/110), kopecks, in that order.
    pub vat_amounts: [Option<u64>; 6],
    /// STLV 1174, the basis of the correction.
    pub basis: CorrectionBasis,
    /// Tags the layout does not name, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    #[serde(skip)]
    order: WireOrder,
}

/// Tags of [`CorrectionData105::vat_amounts`].
pub const VAT_AMOUNT_TAGS: [u16; 6] = [1102, 1103, 1104, 1105, 1106, 1107];
const PAYMENT_TAGS: [(u16, &str); 5] =
    [(1031, "cash"), (1081, "electronic"), (1215, "prepayment"), (1216, "credit"), (1217, "consideration")];

impl CorrectionData105 {
    fn payments(&self) -> [Option<u64>; 5] {
        [self.cash, self.electronic, self.prepayment, self.credit, self.consideration]
    }
}

impl Request for CorrectionData105 {
    const CODE: u8 = 0x2E;
    type Response = Empty;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        max_chars("cashier", self.cashier.as_deref(), 63)?;
        let inn = self.cashier_inn.as_deref().map(|s| fields::person_inn("cashier_inn", s)).transpose()?;
        check_enum("correction_type", self.correction_type, &[0, 1])?;
        check_enum("taxation", self.taxation, TAXATION_SYSTEMS_105)?;
        if self.vat_amounts.iter().all(Option::is_none) {
            return Err(InputError::new("vat_amounts", "at least one amount VAT is computed from (device error 0x47)"));
        }
        let paid: u128 = self.payments().iter().flatten().map(|&v| u128::from(v)).sum();
        let vat: u128 = self.vat_amounts.iter().flatten().map(|&v| u128::from(v)).sum();
        if paid != vat {
            return Err(InputError::new(
                "vat_amounts",
                format!("sum to {vat} kopecks, the payments to {paid}; they must be equal (device error 0x45)"),
            ));
        }
        if self.basis.document_date.time() != NaiveTime::MIN {
            return Err(InputError::new("basis.document_date", "only a date: the time must be 00:00:00"));
        }
        let mut b = TlvBuilder::new();
        b.opt_string(1021, "cashier", &self.cashier)?
            .opt_string(1203, "cashier_inn", &inn)?
            .byte(1173, "correction_type", self.correction_type)?
            .byte(1055, "taxation", self.taxation)?;
        for ((tag, field), v) in PAYMENT_TAGS.iter().zip(self.payments()) {
            b.opt_vln(*tag, field, v)?;
        }
        for (tag, v) in VAT_AMOUNT_TAGS.iter().zip(self.vat_amounts) {
            b.opt_vln(*tag, "vat_amounts", v)?;
        }
        let mut w = TlvBuilder::new();
        w.string(1177, "basis.document_name", &self.basis.document_name)?
            .unixtime(1178, "basis.document_date", self.basis.document_date)?
            .opt_string(1179, "basis.document_number", &self.basis.document_number)?;
        b.stlv(1174, "basis", w, &self.basis.extra, &self.basis.order)?;
        b.finish(&self.extra, &self.order, out);
        Ok(())
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut f = TlvFields::parse(data, 0, "tlv")?;
        let mut v = Self {
            cashier: f.string(1021),
            cashier_inn: f.string(1203),
            correction_type: required(f.byte(1173, "correction_type")?, 1173, "correction_type")?,
            taxation: required(f.byte(1055, "taxation")?, 1055, "taxation")?,
            ..Self::default()
        };
        let mut pay = [None; 5];
        for (p, (tag, field)) in pay.iter_mut().zip(PAYMENT_TAGS) {
            *p = f.vln(tag, field)?;
        }
        [v.cash, v.electronic, v.prepayment, v.credit, v.consideration] = pay;
        for (a, tag) in v.vat_amounts.iter_mut().zip(VAT_AMOUNT_TAGS) {
            *a = f.vln(tag, "vat_amounts")?;
        }
        let mut bases = f.stlvs(1174).into_iter();
        let (Some(mut b), None) = (bases.next(), bases.next()) else {
            return Err(DecodeError::new(DecodeErrorKind::Value, "basis", 0, "exactly one STLV 1174 expected"));
        };
        v.basis.document_name = required(b.string(1177), 1177, "basis.document_name")?;
        v.basis.document_date = required(b.unixtime(1178, "basis.document_date")?, 1178, "basis.document_date")?;
        v.basis.document_number = b.string(1179);
        (v.basis.extra, v.basis.order) = b.finish();
        (v.extra, v.order) = f.finish();
        Ok(v)
    }
}

/// 0x2F «Передать данные кассира» (for shift open/close and the documents that need one;
/// seed 004 puts the cashier in 0xE4/0xE5 instead).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CashierData {
    /// Tag 1021, cashier's name (at most 64).
    pub cashier: String,
    /// Tag 1203, cashier's INN (optional; exactly 12 digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cashier_inn: Option<String>,
    /// Tags the layout does not name, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    #[serde(skip)]
    order: WireOrder,
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
        let inn = self.cashier_inn.as_deref().map(|s| fields::person_inn("cashier_inn", s)).transpose()?;
        let mut b = TlvBuilder::new();
        b.string(1021, "cashier", &self.cashier)?.opt_string(1203, "cashier_inn", &inn)?;
        b.finish(&self.extra, &self.order, out);
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut f = TlvFields::parse(data, 0, "tlv")?;
        let mut v = Self {
            cashier: required(f.string(1021), 1021, "cashier")?,
            cashier_inn: f.string(1203),
            ..Self::default()
        };
        (v.extra, v.order) = f.finish();
        Ok(v)
    }
}

/// 0x34 «Запрос параметра активации ФН по номеру тэга».
///
/// v01.05 lists this command in its table but gives no layout. Read here, from its name, as
/// the tag number, UINT16 LE like every tag of the protocol; the answer is kept as raw bytes
/// ([`ActivationParameter`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GetActivationParameter {
    /// The tag whose value is asked for.
    pub tag: u16,
}

impl Request for GetActivationParameter {
    const CODE: u8 = 0x34;
    type Response = ActivationParameter;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend_from_slice(&self.tag.to_le_bytes());
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = Self { tag: r.u16("tag")? };
        r.end("data")?;
        Ok(v)
    }
}

/// Answer to 0x34: undocumented, kept as the register sends it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ActivationParameter {
    /// The answer's bytes.
    #[serde(with = "hex_bytes")]
    pub data: Vec<u8>,
}

impl Response for ActivationParameter {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self { data: data.to_vec() })
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend_from_slice(&self.data);
        Ok(())
    }
}

/// The request code 0x40 takes (v01.05: «задается жестко и должно быть равно 0x16»).
pub const RESET_MOCK_CODE: u8 = 0x16;

/// 0x40 «Сброс состояния МГМ ФН (массогабаритный макет ФН)»: a debug firmware with an FN
/// mock-up returns it to «настройка»; a real FN does not take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ResetMockFn {
    /// Must be [`RESET_MOCK_CODE`].
    pub request_code: u8,
}

impl Default for ResetMockFn {
    fn default() -> Self {
        Self { request_code: RESET_MOCK_CODE }
    }
}

impl Request for ResetMockFn {
    const CODE: u8 = 0x40;
    type Response = Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        check_enum("request_code", self.request_code, &[RESET_MOCK_CODE])?;
        out.push(self.request_code);
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let request_code = r.byte("request_code")?;
        r.end("data")?;
        if request_code != RESET_MOCK_CODE {
            return Err(DecodeError::new(
                DecodeErrorKind::Value,
                "request_code",
                0,
                format!("{request_code:#04x}; must be {RESET_MOCK_CODE:#04x}"),
            ));
        }
        Ok(Self { request_code })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
            modes: 0b100,
            ..Default::default()
        };
        let data = bytes(&d).unwrap();
        assert_eq!(data, hex("1804 0300 4F4F4F  FD03 0600 4976616E6F76  0C04 0100 37  0F27 0100 04"));
        assert_eq!(RegistrationData105::decode(&data).unwrap(), d);
        for (bad, field) in [
            (RegistrationData105 { modes: 0x40, ..d.clone() }, "modes"),
            (RegistrationData105 { agent_types: Some(0x80), ..d.clone() }, "agent_types"),
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
            taxation: 0b1000,
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
            (FormRegistration105 { taxation: 0x40, ..f.clone() }, "taxation"),
            (FormRegistration105 { taxation: 0, ..f.clone() }, "taxation"),
            (FormRegistration105 { inn: "12".into(), ..f.clone() }, "inn"),
            (FormRegistration105 { registration_number: " ".into(), ..f.clone() }, "registration_number"),
        ] {
            assert_eq!(bytes(&bad).unwrap_err().field, field);
        }
        let r = FiscalResult::decode(&hex("0A000000 78563412")).unwrap();
        assert_eq!((r.fd_number, r.fiscal_sign), (10, 0x1234_5678));
    }

    #[test]
    fn automat_data_0x1f_0x3f() {
        let a = AutomatData {
            address: "A".into(),
            place: "B".into(),
            automat_number: Some("42".into()),
            ..Default::default()
        };
        let data = bytes(&ReceiptAutomatData(a.clone())).unwrap();
        assert_eq!(data, hex("F103 0100 41  A304 0100 42  0C04 0200 3432"));
        assert_eq!(ReceiptAutomatData::decode(&data).unwrap().0, a);
        let no_number = AutomatData { automat_number: None, ..a.clone() };
        assert_eq!(bytes(&ReceiptAutomatData(no_number.clone())).unwrap_err().field, "automat_number");
        let short = bytes(&CorrectionAutomatData(no_number.clone())).unwrap();
        assert_eq!(CorrectionAutomatData::decode(&short).unwrap().0, no_number);
        assert_eq!(ReceiptAutomatData::decode(&short).unwrap_err().field, "automat_number");
        assert_eq!(CorrectionAutomatData::decode(&hex("F103 0100 41")).unwrap_err().field, "place");
    }

    #[test]
    fn item_0x2b_is_one_stlv_1059() {
        let mut item = Item105::new("Tea", 15_000, Decimal::integer(1), 1, 4);
        item.nomenclature_code = Some("05AB1208".into());
        let data = bytes(&item).unwrap();
        // STLV 1059 { 1030 "Tea", 1079 98 3A, 1023 00 01, 1199 1, 1214 4, 1162 "05AB1208" }.
        assert_eq!(
            data,
            hex("2304 2900  0604 0300 546561  3704 0200 983A  FF03 0200 0001  AF04 0100 01  BE04 0100 04
                 8A04 0800 3035414231323038")
        );
        let back = Item105::decode(&data).unwrap();
        assert_eq!(back, item);
        assert_eq!(bytes(&back).unwrap(), data);
        let j = serde_json::to_value(&back).unwrap();
        assert_eq!((j["price"].clone(), j["nomenclature_code"].clone()), (15_000.into(), "05AB1208".into()));
        for (bad, field) in [
            (Item105 { vat: 7, ..item.clone() }, "vat"),
            (Item105 { payment_method: 8, ..item.clone() }, "payment_method"),
            (Item105 { item_type: Some(28), ..item.clone() }, "item_type"),
            (Item105 { nomenclature_code: Some("5AB".into()), ..item.clone() }, "nomenclature_code"),
            (Item105 { nomenclature_code: Some("0G".into()), ..item.clone() }, "nomenclature_code"),
            (Item105 { name: String::new(), ..item.clone() }, "name"),
            (Item105 { quantity: Decimal::new(0, 3), ..item.clone() }, "quantity"),
            (Item105 { unit: Some("x".repeat(17)), ..item.clone() }, "unit"),
        ] {
            assert_eq!(bytes(&bad).unwrap_err().field, field);
        }
        // The item's tags outside an STLV, or two items, are refused.
        assert_eq!(Item105::decode(&data[4..]).unwrap_err().field, "item");
        assert_eq!(Item105::decode(&[data.clone(), data.clone()].concat()).unwrap_err().field, "item");
        let e = Item105::decode(&hex("2304 0500 0604 0100 41")).unwrap_err();
        assert_eq!((e.field, e.kind), ("price", DecodeErrorKind::Value));
    }

    #[test]
    fn agent_data_0x2c() {
        let a = AgentData {
            agent_type: 4,
            agent_phones: vec!["+79990000000".into()],
            operation: Some("x".repeat(32)),
            transfer_operator_inn: Some("7740000076".into()),
            ..Default::default()
        };
        let data = bytes(&a).unwrap();
        assert_eq!(&data[..5], hex("2104 0100 04"));
        let back = AgentData::decode(&data).unwrap();
        assert_eq!(back.transfer_operator_inn.as_deref(), Some("7740000076  "));
        assert_eq!(bytes(&back).unwrap(), data);
        assert_eq!(bytes(&AgentData::default()).unwrap(), hex("2104 0100 00"));
        for (bad, field) in [
            (AgentData { agent_type: 3, ..a.clone() }, "agent_type"),
            (AgentData { agent_type: 0, ..a.clone() }, "agent_type"),
            (AgentData { operation: Some("x".repeat(33)), ..a.clone() }, "operation"),
            (AgentData { transfer_operator_name: Some("x".repeat(48)), ..a.clone() }, "transfer_operator_name"),
            (AgentData { transfer_operator_address: Some("x".repeat(96)), ..a.clone() }, "transfer_operator_address"),
            (AgentData { transfer_operator_inn: Some("1".into()), ..a.clone() }, "transfer_operator_inn"),
            (AgentData { supplier_phones: vec!["x".repeat(21)], ..a.clone() }, "supplier_phones"),
        ] {
            assert_eq!(bytes(&bad).unwrap_err().field, field, "{bad:?}");
        }
        assert_eq!(AgentData::decode(&hex("AF04 0100 01")).unwrap_err().field, "agent_type");
    }

    fn correction() -> CorrectionData105 {
        CorrectionData105 {
            cashier: Some("Ivanov".into()),
            correction_type: 1,
            taxation: 1,
            cash: Some(10_000),
            electronic: Some(5_000),
            vat_amounts: [Some(15_000), None, None, None, None, None],
            basis: CorrectionBasis::new("Order", chrono::NaiveDate::from_ymd_opt(2016, 11, 22).unwrap(), Some("12")),
            ..Default::default()
        }
    }

    #[test]
    fn correction_data_0x2e() {
        let c = correction();
        let data = bytes(&c).unwrap();
        // 1178: 22.11.2016 00:00 = 0x58338A80 (Приложение 8: 0x58338AC6 = 0:01:10).
        assert!(hex::encode_upper(&data).contains("9A040400808A3358"), "{}", hex::encode_upper(&data));
        assert!(hex::encode_upper(&data).ends_with("9B0402003132"), "1179 \"12\"");
        let back = CorrectionData105::decode(&data).unwrap();
        assert_eq!(back, c);
        assert_eq!(bytes(&back).unwrap(), data);
        let mut noon = correction();
        noon.basis.document_date += chrono::TimeDelta::hours(12);
        for (bad, field) in [
            (CorrectionData105 { correction_type: 2, ..c.clone() }, "correction_type"),
            (CorrectionData105 { taxation: 3, ..c.clone() }, "taxation"),
            (CorrectionData105 { vat_amounts: [None; 6], ..c.clone() }, "vat_amounts"),
            (CorrectionData105 { cash: Some(1), ..c.clone() }, "vat_amounts"),
            (CorrectionData105 { cashier: Some("x".repeat(64)), ..c.clone() }, "cashier"),
            (CorrectionData105 { cashier_inn: Some("7740000076".into()), ..c.clone() }, "cashier_inn"),
            (noon, "basis.document_date"),
        ] {
            assert_eq!(bytes(&bad).unwrap_err().field, field);
        }
        // As v01.05 writes it, the number under 1023 (as text): kept raw in the basis.
        let mut old = data.clone();
        let n = old.len();
        old[n - 6..n - 4].copy_from_slice(&1023u16.to_le_bytes());
        let back = CorrectionData105::decode(&old).unwrap();
        assert_eq!(back.basis.document_number, None);
        assert_eq!(back.basis.extra.raw(1023), Some(&b"12"[..]));
        assert_eq!(bytes(&back).unwrap(), old);
        let two = [data.clone(), data[data.len() - 38..].to_vec()].concat();
        assert!(CorrectionData105::decode(&two).is_err());
    }

    #[test]
    fn cashier_activation_parameter_and_mock_reset() {
        let c = CashierData::new("Ivanov", Some("774000007612"));
        let data = bytes(&c).unwrap();
        assert_eq!(data, hex("FD03 0600 4976616E6F76  B304 0C00 373734303030303037363132"));
        assert_eq!(CashierData::decode(&data).unwrap(), c);
        assert_eq!(bytes(&CashierData::new("I", Some("1"))).unwrap_err().field, "cashier_inn");
        assert_eq!(bytes(&CashierData::new(&"я".repeat(65), None)).unwrap_err().field, "cashier");
        assert_eq!(CashierData::decode(&[]).unwrap_err().field, "cashier");

        assert_eq!(bytes(&GetActivationParameter { tag: 1018 }).unwrap(), [0xFA, 0x03]);
        assert_eq!(GetActivationParameter::decode(&[0xFA, 0x03]).unwrap().tag, 1018);
        assert_eq!(GetActivationParameter::decode(&[0xFA]).unwrap_err().kind, DecodeErrorKind::Length);
        let p = ActivationParameter::decode(&[1, 2, 0xAB]).unwrap();
        assert_eq!(serde_json::to_value(&p).unwrap(), serde_json::json!({"data": "0102AB"}));

        assert_eq!(bytes(&ResetMockFn::default()).unwrap(), [0x16]);
        assert_eq!(bytes(&ResetMockFn { request_code: 0 }).unwrap_err().field, "request_code");
        assert_eq!(ResetMockFn::decode(&[0x16]).unwrap(), ResetMockFn::default());
        let e = ResetMockFn::decode(&[0x15]).unwrap_err();
        assert_eq!((e.kind, e.field), (DecodeErrorKind::Value, "request_code"));
        assert_eq!(ResetMockFn::decode(&[0x16, 0]).unwrap_err().kind, DecodeErrorKind::Length);
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
                user_name, cashier, address, cashier_inn: inn, modes, agent_types: agents, ..Default::default()
            };
            prop_assert_eq!(RegistrationData105::decode(&bytes(&d).unwrap()).unwrap(), d);
            let f = FormRegistration105 {
                inn: "7806197274".into(), registration_number: "0000000000038045".into(), taxation, reason,
            };
            prop_assert_eq!(FormRegistration105::decode(&bytes(&f).unwrap()).unwrap(), f);
            let b = BeginRegistration105 { report_type };
            prop_assert_eq!(BeginRegistration105::decode(&bytes(&b).unwrap()).unwrap(), b);
        }

        #[test]
        fn item_105_roundtrip(
            name in text(128), price in 0u64..(1 << 48), m in 1u64..(1 << 40), scale in 0u8..6,
            vat in 1u8..=6, method in 1u8..=7, item_type in prop::option::of(prop::sample::select(ITEM_TYPES)),
            code in prop::option::of(prop::collection::vec(any::<u8>(), 0..32)), unit in prop::option::of(text(16)),
            excise in prop::option::of(0u64..(1 << 48)), agent_type in prop::option::of(prop::sample::select(AGENT_TYPES)),
        ) {
            let mut i = Item105::new(&name, price, Decimal::new(m, scale), vat, method);
            i.item_type = item_type;
            i.nomenclature_code = code.map(hex::encode_upper);
            i.unit = unit;
            i.excise = excise;
            i.agent.agent_type = agent_type;
            let b = bytes(&i).unwrap();
            let back = Item105::decode(&b).unwrap();
            prop_assert_eq!(&back, &i);
            prop_assert_eq!(bytes(&back).unwrap(), b);
        }

        #[test]
        fn agent_automat_cashier_roundtrip(
            agent_type in prop::sample::select(&AGENT_TYPES[1..]), phones in prop::collection::vec("[0-9+]{1,20}", 0..3),
            op in prop::option::of(text(32)), name in prop::option::of(text(47)),
            address in text(164), place in text(64), number in prop::option::of("[0-9]{1,21}"),
            cashier in text(64), inn in prop::option::of("[0-9]{12}"),
        ) {
            let a = AgentData {
                agent_type, agent_phones: phones.clone(), supplier_phones: phones, operation: op,
                transfer_operator_name: name, ..Default::default()
            };
            prop_assert_eq!(AgentData::decode(&bytes(&a).unwrap()).unwrap(), a);
            let d = AutomatData { address, place, automat_number: number, ..Default::default() };
            let c = CorrectionAutomatData(d.clone());
            prop_assert_eq!(CorrectionAutomatData::decode(&bytes(&c).unwrap()).unwrap(), c);
            if d.automat_number.is_some() {
                let r = ReceiptAutomatData(d);
                prop_assert_eq!(ReceiptAutomatData::decode(&bytes(&r).unwrap()).unwrap(), r);
            }
            let c = CashierData { cashier, cashier_inn: inn, ..Default::default() };
            prop_assert_eq!(CashierData::decode(&bytes(&c).unwrap()).unwrap(), c);
        }

        #[test]
        fn correction_105_roundtrip(
            cash in 0u64..(1 << 40), electronic in prop::option::of(0u64..(1 << 40)), split in 0usize..6,
            taxation in prop::sample::select(TAXATION_SYSTEMS_105), days in 0i64..20_000,
            name in text(255), number in prop::option::of(text(32)), tag in any::<u16>(),
        ) {
            let total = cash + electronic.unwrap_or(0);
            let mut vat_amounts = [None; 6];
            vat_amounts[split] = Some(total);
            let date = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::TimeDelta::days(days);
            let c = CorrectionData105 {
                correction_type: (days % 2) as u8, taxation, cash: Some(cash), electronic, vat_amounts,
                basis: CorrectionBasis::new(&name, date, number.as_deref()),
                ..Default::default()
            };
            let b = bytes(&c).unwrap();
            prop_assert_eq!(CorrectionData105::decode(&b).unwrap(), c);
            let g = GetActivationParameter { tag };
            prop_assert_eq!(GetActivationParameter::decode(&bytes(&g).unwrap()).unwrap(), g);
        }
    }
}
