//! Receipts and correction receipts (seed 004 «Формирование кассового чека (чека коррекции)»):
//! open (0x23, 0x25), items without (0x96) and with marking (0x97), receipt requisites (0x98),
//! payment (0x2D), form (0x24, 0x26).

use chrono::NaiveDateTime;
use serde::Serialize;

use super::fields::{self, both_or_neither, check_enum, required, TlvBuilder, TlvFields, WireOrder};
use super::{put_datetime5, DecodeError, DecodeErrorKind, InputError, Reader, Request, Response, TlvList};
use crate::protocol::types::{self, Decimal};

/// The value of 0x23/0x25's optional parameter that turns printing off.
pub const NO_PRINT: u16 = 41029;

fn print_option(data: &[u8]) -> Result<Option<u16>, DecodeError> {
    let mut r = Reader::new(data);
    let v = if data.is_empty() { None } else { Some(r.u16("print_option")?) };
    r.end("data")?;
    Ok(v)
}

/// 0x23 «Открыть кассовый чек».
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct OpenReceipt {
    /// Optional UINT16; [`NO_PRINT`] (41029) = no printed form.
    pub print_option: Option<u16>,
}

impl Request for OpenReceipt {
    const CODE: u8 = 0x23;
    type Response = super::Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        if let Some(v) = self.print_option {
            out.extend_from_slice(&v.to_le_bytes());
        }
        Ok(())
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        Ok(OpenReceipt { print_option: print_option(data)? })
    }
}

/// 0x25 «Открыть кассовый чек коррекции».
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct OpenCorrectionReceipt {
    /// Optional UINT16; [`NO_PRINT`] (41029) = no printed form.
    pub print_option: Option<u16>,
}

impl Request for OpenCorrectionReceipt {
    const CODE: u8 = 0x25;
    type Response = super::Empty;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        OpenReceipt { print_option: self.print_option }.encode(out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        Ok(OpenCorrectionReceipt { print_option: print_option(data)? })
    }
}

/// Tag 1199 «ставка НДС»: 1–6, and from 2025 (Appendix 5) 7 = 5%, 8 = 7%, 9 = 5/105, 10 = 7/107.
pub const VAT_RATES: &[u8] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
/// Tag 1214 «признак способа расчета» (Appendix 1).
pub const PAYMENT_METHODS: &[u8] = &[1, 2, 3, 4, 5, 6, 7];
/// Tag 1212 «признак предмета расчета» (Appendix 1): 1–27 and 30–33.
pub const ITEM_TYPES: &[u8] = &[
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 30, 31, 32, 33,
];
/// Tag 2108 «мера количества предмета расчета» (Таблица 3).
pub const MEASURES: &[u8] =
    &[0, 10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 70, 71, 72, 73, 80, 81, 82, 83, 255];
/// Tag 1222 «признак агента по предмету расчета».
pub const AGENT_TYPES: &[u8] = &[0, 1, 2, 4, 8, 16, 32, 64];
/// Tag 2003/2110 item status: 1 piece sold, 2 measured in sale, 3 piece returned, 4 part
/// returned, 255 unchanged.
pub const ITEM_STATUSES: &[u8] = &[1, 2, 3, 4, 255];
/// Tag 2100 «тип кода маркировки».
pub const CODE_TYPES: &[u8] = &[0, 1, 2, 3, 4, 5];
/// Tag 1245 «код вида документа, удостоверяющего личность» (Appendix 1).
pub const ID_DOCUMENT_TYPES: &[u8] = &[21, 22, 26, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38, 40];
/// Tag 1055 «режим налогообложения» (one system per receipt).
pub const TAXATION_SYSTEMS: &[u8] = &[1, 2, 4, 16, 32];
/// Tag 1054 «признак расчета»: 1 sale, 2 sale return, 3 purchase, 4 purchase return.
pub const OPERATIONS: &[u8] = &[1, 2, 3, 4];

/// STLV 1260 (item) / 1261 (receipt) «отраслевой реквизит».
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct IndustryRequisite {
    /// Tag 1262, ФОИВ id, one BYTE on this device (30 = Ministry of Industry and Trade).
    pub authority: u8,
    /// Tag 1263, basis document date, DD.MM.YYYY.
    pub document_date: String,
    /// Tag 1264, basis document number.
    pub document_number: String,
    /// Tag 1265, the value.
    pub value: String,
    /// Other tags inside the STLV.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    /// The tag order of a decoded body (re-encoding keeps it); `Default` for a new one.
    #[serde(skip)]
    pub order: WireOrder,
}

pub(crate) fn is_empty_list(l: &TlvList) -> bool {
    l.0.is_empty()
}

impl IndustryRequisite {
    /// A requisite.
    pub fn new(authority: u8, document_date: &str, document_number: &str, value: &str) -> Self {
        Self {
            authority,
            document_date: document_date.into(),
            document_number: document_number.into(),
            value: value.into(),
            ..Self::default()
        }
    }

    fn read(mut f: TlvFields) -> Result<Self, DecodeError> {
        let authority = required(f.byte(1262, "industry.authority")?, 1262, "industry.authority")?;
        let document_date = required(f.string(1263), 1263, "industry.document_date")?;
        let document_number = required(f.string(1264), 1264, "industry.document_number")?;
        let value = required(f.string(1265), 1265, "industry.value")?;
        let (extra, order) = f.finish();
        Ok(Self { authority, document_date, document_number, value, extra, order })
    }

    fn write(&self, tag: u16, b: &mut TlvBuilder) -> Result<(), InputError> {
        fields::dd_mm_yyyy("industry.document_date", &self.document_date)?;
        let mut w = TlvBuilder::new();
        w.byte(1262, "industry.authority", self.authority)?
            .string(1263, "industry.document_date", &self.document_date)?
            .string(1264, "industry.document_number", &self.document_number)?
            .string(1265, "industry.value", &self.value)?;
        b.stlv(tag, "industry", w, &self.extra, &self.order)?;
        Ok(())
    }
}

/// Agent and supplier data of an item (tags 1222, 1075, 1044, 1073, 1074, 1026, 1005, 1016,
/// 1171, 1225, 1226).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ItemAgent {
    /// Tag 1222, agent type: 0 none, 1 bank payment agent, 2 bank subagent, 4 payment agent,
    /// 8 payment subagent, 16 attorney, 32 commission agent, 64 other agent.
    pub agent_type: Option<u8>,
    /// Tag 1075 (repeatable), money transfer operator phones.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transfer_operator_phones: Vec<String>,
    /// Tag 1044, payment agent operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Tag 1073 (repeatable), payment agent phones.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agent_phones: Vec<String>,
    /// Tag 1074 (repeatable), payment acceptance operator phones.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub acceptance_operator_phones: Vec<String>,
    /// Tag 1026, money transfer operator name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_operator_name: Option<String>,
    /// Tag 1005, money transfer operator address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_operator_address: Option<String>,
    /// Tag 1016 (repeatable), money transfer operator INN.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transfer_operator_inns: Vec<String>,
    /// Tag 1171 (repeatable), supplier phones.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supplier_phones: Vec<String>,
    /// Tag 1225, supplier name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier_name: Option<String>,
    /// Tag 1226, supplier INN (padded with spaces to 12).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier_inn: Option<String>,
}

impl ItemAgent {
    pub(crate) fn read(f: &mut TlvFields) -> Result<Self, DecodeError> {
        Ok(Self {
            agent_type: f.byte(1222, "agent_type")?,
            transfer_operator_phones: f.strings(1075),
            operation: f.string(1044),
            agent_phones: f.strings(1073),
            acceptance_operator_phones: f.strings(1074),
            transfer_operator_name: f.string(1026),
            transfer_operator_address: f.string(1005),
            transfer_operator_inns: f.strings(1016),
            supplier_phones: f.strings(1171),
            supplier_name: f.string(1225),
            supplier_inn: f.string(1226),
        })
    }

    pub(crate) fn write(&self, b: &mut TlvBuilder) -> Result<(), InputError> {
        if let Some(a) = self.agent_type {
            check_enum("agent_type", a, AGENT_TYPES)?;
        }
        let inns = self
            .transfer_operator_inns
            .iter()
            .map(|s| fields::inn("transfer_operator_inns", s))
            .collect::<Result<Vec<_>, _>>()?;
        let supplier_inn = self.supplier_inn.as_deref().map(|s| fields::inn("supplier_inn", s)).transpose()?;
        b.opt_byte(1222, "agent_type", self.agent_type)?
            .strings(1075, "transfer_operator_phones", &self.transfer_operator_phones)?
            .opt_string(1044, "operation", &self.operation)?
            .strings(1073, "agent_phones", &self.agent_phones)?
            .strings(1074, "acceptance_operator_phones", &self.acceptance_operator_phones)?
            .opt_string(1026, "transfer_operator_name", &self.transfer_operator_name)?
            .opt_string(1005, "transfer_operator_address", &self.transfer_operator_address)?
            .strings(1016, "transfer_operator_inns", &inns)?
            .strings(1171, "supplier_phones", &self.supplier_phones)?
            .opt_string(1225, "supplier_name", &self.supplier_name)?
            .opt_string(1226, "supplier_inn", &supplier_inn)?;
        Ok(())
    }
}

/// Item tags after the core ones, shared by 0x96 and 0x97: excise, customs, country, extra
/// requisite, agent data, industry requisites.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ItemDetails {
    /// Tag 1229, excise in kopecks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excise: Option<u64>,
    /// Tag 1231, customs declaration number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customs_declaration: Option<String>,
    /// Tag 1230, country of origin code (padded with spaces to 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Tag 1191, additional item requisite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional: Option<String>,
    /// Agent and supplier data.
    #[serde(flatten)]
    pub agent: ItemAgent,
    /// STLV 1260 (repeatable), industry requisites.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub industry: Vec<IndustryRequisite>,
}

impl ItemDetails {
    fn read(f: &mut TlvFields) -> Result<Self, DecodeError> {
        Ok(Self {
            excise: f.vln(1229, "excise")?,
            customs_declaration: f.string(1231),
            country: f.string(1230),
            additional: f.string(1191),
            agent: ItemAgent::read(f)?,
            industry: f.stlvs(1260).into_iter().map(IndustryRequisite::read).collect::<Result<_, _>>()?,
        })
    }

    fn write(&self, b: &mut TlvBuilder) -> Result<(), InputError> {
        let country = self.country.as_deref().map(|c| fields::pad_right("country", c, 3)).transpose()?;
        b.opt_vln(1229, "excise", self.excise)?
            .opt_string(1231, "customs_declaration", &self.customs_declaration)?
            .opt_string(1230, "country", &country)?
            .opt_string(1191, "additional", &self.additional)?;
        self.agent.write(b)?;
        for r in &self.industry {
            r.write(1260, b)?;
        }
        Ok(())
    }
}

fn check_item_core(name: &str, quantity: Decimal, vat: u8, method: u8, item_type: u8) -> Result<(), InputError> {
    if name.is_empty() {
        return Err(InputError::new("name", "must not be empty"));
    }
    if quantity.mantissa == 0 {
        return Err(InputError::new("quantity", "must be greater than 0"));
    }
    check_enum("vat", vat, VAT_RATES)?;
    check_enum("payment_method", method, PAYMENT_METHODS)?;
    check_enum("item_type", item_type, ITEM_TYPES)
}

/// 0x96 «Передать данные предмета расчета за обычный (немаркированный) товар».
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmarkedItem {
    /// Tag 1030, item name (at most 128 characters).
    pub name: String,
    /// Tag 1079, unit price in kopecks (with discounts and markups).
    pub price: u64,
    /// Tag 1023, quantity.
    pub quantity: Decimal,
    /// Tag 2108, measure (Таблица 3); absent = 0, pieces.
    pub measure: Option<u8>,
    /// Tag 1199, VAT rate (1–10, Appendix 5).
    pub vat: u8,
    /// Tag 1214, payment method (1–7).
    pub payment_method: u8,
    /// Tag 1212, item type (Appendix 1).
    pub item_type: u8,
    /// Tag 2000, product barcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    /// The optional tags.
    #[serde(flatten)]
    pub details: ItemDetails,
    /// Tags the layout does not name (and zero-length values of number tags), kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    /// The tag order of a decoded body (re-encoding keeps it); `Default` for a new one.
    #[serde(skip)]
    pub order: WireOrder,
}

impl UnmarkedItem {
    /// An item with the required fields; the rest empty.
    pub fn new(name: &str, price: u64, quantity: Decimal, vat: u8, payment_method: u8, item_type: u8) -> Self {
        Self {
            name: name.into(),
            price,
            quantity,
            measure: None,
            vat,
            payment_method,
            item_type,
            barcode: None,
            details: ItemDetails::default(),
            extra: TlvList::default(),
            order: WireOrder::default(),
        }
    }

    /// Checks every field (what `encode` refuses).
    pub fn validate(&self) -> Result<(), InputError> {
        check_item_core(&self.name, self.quantity, self.vat, self.payment_method, self.item_type)?;
        if let Some(m) = self.measure {
            check_enum("measure", m, MEASURES)?;
        }
        Ok(())
    }
}

impl Request for UnmarkedItem {
    const CODE: u8 = 0x96;
    type Response = super::Empty;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.validate()?;
        let mut b = TlvBuilder::new();
        b.string(1030, "name", &self.name)?
            .vln(1079, "price", self.price)?
            .fvln(1023, "quantity", self.quantity)?
            .opt_byte(2108, "measure", self.measure)?
            .byte(1199, "vat", self.vat)?
            .byte(1214, "payment_method", self.payment_method)?
            .byte(1212, "item_type", self.item_type)?
            .opt_string(2000, "barcode", &self.barcode)?;
        self.details.write(&mut b)?;
        b.finish(&self.extra, &self.order, out);
        Ok(())
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut f = TlvFields::parse(data, 0, "tlv")?;
        let name = required(f.string(1030), 1030, "name")?;
        let price = required(f.vln(1079, "price")?, 1079, "price")?;
        let quantity = required(f.fvln(1023, "quantity")?, 1023, "quantity")?;
        let measure = f.byte(2108, "measure")?;
        let vat = required(f.byte(1199, "vat")?, 1199, "vat")?;
        let payment_method = required(f.byte(1214, "payment_method")?, 1214, "payment_method")?;
        let item_type = required(f.byte(1212, "item_type")?, 1212, "item_type")?;
        let barcode = f.string(2000);
        let details = ItemDetails::read(&mut f)?;
        let (extra, order) = f.finish();
        Ok(Self { name, price, quantity, measure, vat, payment_method, item_type, barcode, details, extra, order })
    }
}

/// Why a marked item's quantity is refused; each has its device error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MarkedQuantityError {
    /// Piece goods (measure 0) with a quantity other than 1: device error 0xC3.
    #[error("piece goods (measure 0) must have quantity 1, not {0}")]
    PieceNotOne(Decimal),
    /// A fraction for goods that are not pieces: device error 0xC4.
    #[error("a fraction (tags 1293/1294) applies only to piece goods (measure 0)")]
    FractionNotPiece,
    /// A fraction with a zero denominator or a numerator above it: device error 0xC5.
    #[error("fraction {0}/{1}: the numerator must not exceed a non-zero denominator")]
    BadFraction(u32, u32),
}

impl MarkedQuantityError {
    /// The device error code the register answers.
    pub fn device_code(self) -> u8 {
        match self {
            Self::PieceNotOne(_) => 0xC3,
            Self::FractionNotPiece => 0xC4,
            Self::BadFraction(..) => 0xC5,
        }
    }
}

/// Whether a fraction is given (0/0 is accepted as "no fraction", as the seed's 0x92 example
/// sends it).
pub fn has_fraction(fraction: Option<(u32, u32)>) -> bool {
    matches!(fraction, Some(f) if f != (0, 0))
}

/// The quantity rules of marked goods (seed 004, 0x92/0x97 notes).
pub fn check_marked_quantity(
    measure: u8,
    quantity: Decimal,
    fraction: Option<(u32, u32)>,
) -> Result<(), MarkedQuantityError> {
    if let Some((n, d)) = fraction.filter(|_| has_fraction(fraction)) {
        if measure != 0 {
            return Err(MarkedQuantityError::FractionNotPiece);
        }
        if d == 0 || n > d {
            return Err(MarkedQuantityError::BadFraction(n, d));
        }
    }
    if measure == 0 && quantity.to_scale(0) != Some(1) {
        return Err(MarkedQuantityError::PieceNotOne(quantity));
    }
    Ok(())
}

/// 0x97 «Передать данные предмета расчета за маркированный товар». Must follow the check of
/// the same code (0x91 → 0x92 → 0x94, Appendix 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MarkedItem {
    /// Tag 1030, item name.
    pub name: String,
    /// Tag 1079, unit price in kopecks.
    pub price: u64,
    /// Tag 1023, quantity (1 for piece goods).
    pub quantity: Decimal,
    /// Tag 1199, VAT rate (1–10).
    pub vat: u8,
    /// Tag 1214, payment method.
    pub payment_method: u8,
    /// Tag 1212, item type.
    pub item_type: u8,
    /// Tag 2000, the marking code as scanned (GS = byte 0x1D).
    pub code: String,
    /// Tag 2100, code type (0 = let the register decide, recommended).
    pub code_type: u8,
    /// Tag 2110, assigned status (1, 2, 3, 4, 255).
    pub status: u8,
    /// Tag 2102, processing mode, always 0.
    pub mode: u8,
    /// Tag 2108, measure (0 = pieces).
    pub measure: u8,
    /// Tags 1293/1294, the part of a piece sold (numerator, denominator); 0/0 = no fraction.
    pub fraction: Option<(u32, u32)>,
    /// The optional tags.
    #[serde(flatten)]
    pub details: ItemDetails,
    /// Tags the layout does not name, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    /// The tag order of a decoded body (re-encoding keeps it); `Default` for a new one.
    #[serde(skip)]
    pub order: WireOrder,
}

impl MarkedItem {
    /// A piece of marked goods sold (status 1, quantity 1, pieces); the rest empty.
    pub fn piece(name: &str, price: u64, vat: u8, payment_method: u8, item_type: u8, code: &str) -> Self {
        Self {
            name: name.into(),
            price,
            quantity: Decimal::integer(1),
            vat,
            payment_method,
            item_type,
            code: code.into(),
            code_type: 0,
            status: 1,
            mode: 0,
            measure: 0,
            fraction: None,
            details: ItemDetails::default(),
            extra: TlvList::default(),
            order: WireOrder::default(),
        }
    }

    /// Checks every field (what `encode` refuses).
    pub fn validate(&self) -> Result<(), InputError> {
        check_item_core(&self.name, self.quantity, self.vat, self.payment_method, self.item_type)?;
        if self.code.is_empty() {
            return Err(InputError::new("code", "the marking code must not be empty"));
        }
        check_enum("code_type", self.code_type, CODE_TYPES)?;
        check_enum("status", self.status, ITEM_STATUSES)?;
        check_enum("mode", self.mode, &[0])?;
        check_enum("measure", self.measure, MEASURES)?;
        check_marked_quantity(self.measure, self.quantity, self.fraction).map_err(|e| {
            InputError::new(
                if matches!(e, MarkedQuantityError::PieceNotOne(_)) { "quantity" } else { "fraction" },
                e.to_string(),
            )
        })
    }
}

impl Request for MarkedItem {
    const CODE: u8 = 0x97;
    type Response = super::Empty;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.validate()?;
        let mut b = TlvBuilder::new();
        b.string(1030, "name", &self.name)?
            .vln(1079, "price", self.price)?
            .fvln(1023, "quantity", self.quantity)?
            .byte(1199, "vat", self.vat)?
            .byte(1214, "payment_method", self.payment_method)?
            .byte(1212, "item_type", self.item_type)?
            .string(2000, "code", &self.code)?
            .byte(2100, "code_type", self.code_type)?
            .byte(2110, "status", self.status)?
            .byte(2102, "mode", self.mode)?
            .byte(2108, "measure", self.measure)?;
        if let Some((n, d)) = self.fraction {
            b.u32(1293, "fraction", n)?.u32(1294, "fraction", d)?;
        }
        self.details.write(&mut b)?;
        b.finish(&self.extra, &self.order, out);
        Ok(())
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut f = TlvFields::parse(data, 0, "tlv")?;
        let name = required(f.string(1030), 1030, "name")?;
        let price = required(f.vln(1079, "price")?, 1079, "price")?;
        let quantity = required(f.fvln(1023, "quantity")?, 1023, "quantity")?;
        let vat = required(f.byte(1199, "vat")?, 1199, "vat")?;
        let payment_method = required(f.byte(1214, "payment_method")?, 1214, "payment_method")?;
        let item_type = required(f.byte(1212, "item_type")?, 1212, "item_type")?;
        let code = required(f.string(2000).filter(|c| !c.is_empty()), 2000, "code")?;
        let code_type = required(f.byte(2100, "code_type")?, 2100, "code_type")?;
        let status = required(f.byte(2110, "status")?, 2110, "status")?;
        let mode = required(f.byte(2102, "mode")?, 2102, "mode")?;
        let measure = required(f.byte(2108, "measure")?, 2108, "measure")?;
        let fraction = match (f.u32(1293, "fraction")?, f.u32(1294, "fraction")?) {
            (Some(n), Some(d)) => Some((n, d)),
            (None, None) => None,
            _ => return Err(DecodeError::new(DecodeErrorKind::Value, "fraction", 0, "tags 1293 and 1294 go together")),
        };
        let details = ItemDetails::read(&mut f)?;
        let (extra, order) = f.finish();
        Ok(Self {
            name,
            price,
            quantity,
            vat,
            payment_method,
            item_type,
            code,
            code_type,
            status,
            mode,
            measure,
            fraction,
            details,
            extra,
            order,
        })
    }
}

/// 0x98 «Передать данные реквизиты кассового чека (чека коррекции)». Every tag is optional;
/// a correction receipt needs 1178.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ReceiptRequisites {
    /// Tag 1009, settlement address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Tag 1187, settlement place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// Tag 1036, vending machine number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automat_number: Option<String>,
    /// Tag 1021, cashier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cashier: Option<String>,
    /// Tag 1203, cashier INN (12 digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cashier_inn: Option<String>,
    /// Tag 1008, customer email or phone (personal data: never logged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_contact: Option<String>,
    /// Tag 1228, customer INN, padded with spaces to 12 (personal data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_inn: Option<String>,
    /// Tag 1227, customer name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// Tag 1243, customer birth date, DD.MM.YYYY.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_birth_date: Option<String>,
    /// Tag 1244, customer citizenship (country code, padded to 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_citizenship: Option<String>,
    /// Tag 1245, identity document type (Appendix 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_document_type: Option<u8>,
    /// Tag 1246, identity document data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_document: Option<String>,
    /// Tag 1254, customer address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_address: Option<String>,
    /// Tag 1192, additional receipt requisite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional: Option<String>,
    /// Tag 1085, additional user requisite name (with 1086).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_requisite_name: Option<String>,
    /// Tag 1086, additional user requisite value (with 1085).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_requisite_value: Option<String>,
    /// STLV 1261 (repeatable), industry requisites of the receipt.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub industry: Vec<IndustryRequisite>,
    /// Tag 1178, date of the corrected settlement (correction receipts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected_date: Option<NaiveDateTime>,
    /// Tag 1179, tax authority order number (correction by order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    /// Tags the layout does not name, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    /// The tag order of a decoded body (re-encoding keeps it); `Default` for a new one.
    #[serde(skip)]
    pub order: WireOrder,
}

impl ReceiptRequisites {
    /// Checks every field (what `encode` refuses).
    pub fn validate(&self) -> Result<(), InputError> {
        if let Some(t) = self.id_document_type {
            check_enum("id_document_type", t, ID_DOCUMENT_TYPES)?;
        }
        if let Some(d) = &self.customer_birth_date {
            fields::dd_mm_yyyy("customer_birth_date", d)?;
        }
        both_or_neither("user_requisite", &self.user_requisite_name, &self.user_requisite_value)
    }
}

impl Request for ReceiptRequisites {
    const CODE: u8 = 0x98;
    type Response = super::Empty;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.validate()?;
        let cashier_inn = self.cashier_inn.as_deref().map(|s| fields::person_inn("cashier_inn", s)).transpose()?;
        let customer_inn = self.customer_inn.as_deref().map(|s| fields::inn("customer_inn", s)).transpose()?;
        let citizenship = self
            .customer_citizenship
            .as_deref()
            .map(|s| fields::pad_right("customer_citizenship", s, 3))
            .transpose()?;
        let mut b = TlvBuilder::new();
        b.opt_string(1009, "address", &self.address)?
            .opt_string(1187, "place", &self.place)?
            .opt_string(1036, "automat_number", &self.automat_number)?
            .opt_string(1021, "cashier", &self.cashier)?
            .opt_string(1203, "cashier_inn", &cashier_inn)?
            .opt_string(1008, "customer_contact", &self.customer_contact)?
            .opt_string(1228, "customer_inn", &customer_inn)?
            .opt_string(1227, "customer", &self.customer)?
            .opt_string(1243, "customer_birth_date", &self.customer_birth_date)?
            .opt_string(1244, "customer_citizenship", &citizenship)?
            .opt_byte(1245, "id_document_type", self.id_document_type)?
            .opt_string(1246, "id_document", &self.id_document)?
            .opt_string(1254, "customer_address", &self.customer_address)?
            .opt_string(1192, "additional", &self.additional)?
            .opt_string(1085, "user_requisite_name", &self.user_requisite_name)?
            .opt_string(1086, "user_requisite_value", &self.user_requisite_value)?;
        for r in &self.industry {
            r.write(1261, &mut b)?;
        }
        if let Some(t) = self.corrected_date {
            b.unixtime(1178, "corrected_date", t)?;
        }
        b.opt_string(1179, "order_number", &self.order_number)?;
        b.finish(&self.extra, &self.order, out);
        Ok(())
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut f = TlvFields::parse(data, 0, "tlv")?;
        let mut v = Self {
            address: f.string(1009),
            place: f.string(1187),
            automat_number: f.string(1036),
            cashier: f.string(1021),
            cashier_inn: f.string(1203),
            customer_contact: f.string(1008),
            customer_inn: f.string(1228),
            customer: f.string(1227),
            customer_birth_date: f.string(1243),
            customer_citizenship: f.string(1244),
            id_document_type: f.byte(1245, "id_document_type")?,
            id_document: f.string(1246),
            customer_address: f.string(1254),
            additional: f.string(1192),
            user_requisite_name: f.string(1085),
            user_requisite_value: f.string(1086),
            industry: f.stlvs(1261).into_iter().map(IndustryRequisite::read).collect::<Result<_, _>>()?,
            corrected_date: f.unixtime(1178, "corrected_date")?,
            order_number: f.string(1179),
            ..Self::default()
        };
        (v.extra, v.order) = f.finish();
        Ok(v)
    }
}

/// 0x2D «Передать данные оплаты для кассового чека/чека коррекции». Amounts in kopecks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Payment {
    /// Tag 1055, taxation system: 1 general, 2 simplified income, 4 simplified income minus
    /// expense, 16 agricultural, 32 patent.
    pub taxation: Option<u8>,
    /// Tag 1031, cash.
    pub cash: Option<u64>,
    /// Tag 1081, electronic.
    pub electronic: Option<u64>,
    /// Tag 1215, prepayment (advance offset).
    pub prepayment: Option<u64>,
    /// Tag 1216, credit (postpayment).
    pub credit: Option<u64>,
    /// Tag 1217, consideration.
    pub consideration: Option<u64>,
    /// Tags the layout does not name, kept as sent.
    #[serde(skip_serializing_if = "is_empty_list")]
    pub extra: TlvList,
    /// The tag order of a decoded body (re-encoding keeps it); `Default` for a new one.
    #[serde(skip)]
    pub order: WireOrder,
}

impl Payment {
    /// The sum of every payment type, in kopecks.
    pub fn total(&self) -> u64 {
        [self.cash, self.electronic, self.prepayment, self.credit, self.consideration].iter().flatten().sum()
    }
}

impl Request for Payment {
    const CODE: u8 = 0x2D;
    type Response = super::Empty;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        if let Some(t) = self.taxation {
            check_enum("taxation", t, TAXATION_SYSTEMS)?;
        }
        let mut b = TlvBuilder::new();
        b.opt_byte(1055, "taxation", self.taxation)?
            .opt_vln(1031, "cash", self.cash)?
            .opt_vln(1081, "electronic", self.electronic)?
            .opt_vln(1215, "prepayment", self.prepayment)?
            .opt_vln(1216, "credit", self.credit)?
            .opt_vln(1217, "consideration", self.consideration)?;
        b.finish(&self.extra, &self.order, out);
        Ok(())
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut f = TlvFields::parse(data, 0, "tlv")?;
        let mut v = Self {
            taxation: f.byte(1055, "taxation")?,
            cash: f.vln(1031, "cash")?,
            electronic: f.vln(1081, "electronic")?,
            prepayment: f.vln(1215, "prepayment")?,
            credit: f.vln(1216, "credit")?,
            consideration: f.vln(1217, "consideration")?,
            ..Self::default()
        };
        (v.extra, v.order) = f.finish();
        Ok(v)
    }
}

/// 0x24 «Сформировать чек».
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FormReceipt {
    /// Operation type (tag 1054): 1 sale, 2 sale return, 3 purchase, 4 purchase return.
    pub operation: u8,
    /// Receipt total in kopecks (UINT40).
    pub total: u64,
}

fn encode_form(operation: u8, total: u64, out: &mut Vec<u8>) -> Result<(), InputError> {
    check_enum("operation", operation, OPERATIONS)?;
    out.push(operation);
    types::encode_u40(total, out).map_err(|e| InputError::new("total", e.to_string()))
}

fn decode_form(data: &[u8]) -> Result<(u8, u64), DecodeError> {
    let mut r = Reader::new(data);
    let v = (r.byte("operation")?, r.u40("total")?);
    r.end("data")?;
    Ok(v)
}

impl Request for FormReceipt {
    const CODE: u8 = 0x24;
    type Response = ReceiptResult;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        encode_form(self.operation, self.total, out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        decode_form(data).map(|(operation, total)| FormReceipt { operation, total })
    }
}

/// 0x26 «Сформировать чек коррекции».
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FormCorrectionReceipt {
    /// Operation type (tag 1054): 1 sale, 2 sale return, 3 purchase, 4 purchase return.
    pub operation: u8,
    /// Receipt total in kopecks (UINT40).
    pub total: u64,
}

impl Request for FormCorrectionReceipt {
    const CODE: u8 = 0x26;
    type Response = ReceiptResult;
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        encode_form(self.operation, self.total, out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        decode_form(data).map(|(operation, total)| FormCorrectionReceipt { operation, total })
    }
}

/// Answer to 0x24 and 0x26.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReceiptResult {
    /// Receipt number in the shift.
    pub receipt_number: u16,
    /// Fiscal document number.
    pub fd_number: u32,
    /// Fiscal sign.
    pub fiscal_sign: u32,
    /// Date and time of the receipt (minutes).
    pub datetime: NaiveDateTime,
    /// Shift number.
    pub shift_number: u16,
}

impl Response for ReceiptResult {
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let v = ReceiptResult {
            receipt_number: r.u16("receipt_number")?,
            fd_number: r.u32("fd_number")?,
            fiscal_sign: r.u32("fiscal_sign")?,
            datetime: r.datetime5("datetime")?,
            shift_number: r.u16("shift_number")?,
        };
        r.end("data")?;
        Ok(v)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        out.extend_from_slice(&self.receipt_number.to_le_bytes());
        out.extend_from_slice(&self.fd_number.to_le_bytes());
        out.extend_from_slice(&self.fiscal_sign.to_le_bytes());
        put_datetime5(out, "datetime", self.datetime)?;
        out.extend_from_slice(&self.shift_number.to_le_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const REGISTRATOR_0X96: &str = "0604100091AEAA20A0AFA5ABECE1A8ADAEA2EBA937040200983ABE04010004BC04010001FF0302000001AF04010001D0070000CD04010000CF040000CE040000A7040000C60401000033040A003932303939393939393914041800AFA5E0A5A2AEA420A4A5ADA5A6ADEBE520E1E0A5A4E1E2A231040A003838383838383838383832040A003939393939393939393902040000ED030000F803000093040000C9040000CA040C00373734303030303037362020EC041100EE04010000EF040000F0040000F1040000";

    #[test]
    fn registrator_item_roundtrips() {
        let data = hex::decode(REGISTRATOR_0X96).unwrap();
        let item = UnmarkedItem::decode(&data).unwrap();
        assert_eq!(item.name, "Сок апельсиновый");
        assert_eq!(
            (item.price, item.quantity, item.vat, item.payment_method, item.item_type),
            (15000, Decimal::integer(1), 1, 4, 1)
        );
        assert_eq!(item.barcode.as_deref(), Some(""));
        assert_eq!(item.details.excise, Some(0));
        assert_eq!(item.details.agent.agent_type, Some(0));
        assert_eq!(item.details.agent.supplier_inn.as_deref(), Some("7740000076  "));
        assert_eq!(item.details.industry, vec![IndustryRequisite::new(0, "", "", "")]);
        assert!(item.extra.0.is_empty());
        let mut out = Vec::new();
        item.encode(&mut out).unwrap();
        assert_eq!(hex::encode_upper(out), REGISTRATOR_0X96);
    }

    #[test]
    fn item_validation_names_the_field() {
        let mut item = UnmarkedItem::new("Хлеб", 4550, Decimal::integer(1), 11, 4, 1);
        assert_eq!(item.encode(&mut Vec::new()).unwrap_err().field, "vat");
        item.vat = 10;
        item.encode(&mut Vec::new()).unwrap();
        item.name = "я".repeat(129);
        let e = item.encode(&mut Vec::new()).unwrap_err();
        assert_eq!(e.field, "name");
        assert!(e.message.contains("128"), "{e}");
        item.name = "Хлеб".into();
        item.details.agent.supplier_inn = Some("123".into());
        assert_eq!(item.encode(&mut Vec::new()).unwrap_err().field, "supplier_inn");
        item.details.agent.supplier_inn = Some("7740000076".into());
        item.details.country = Some("4".into());
        let mut out = Vec::new();
        item.encode(&mut out).unwrap();
        let back = UnmarkedItem::decode(&out).unwrap();
        assert_eq!(back.details.agent.supplier_inn.as_deref(), Some("7740000076  "));
        assert_eq!(back.details.country.as_deref(), Some("4  "));
        item.measure = Some(13);
        assert_eq!(item.encode(&mut Vec::new()).unwrap_err().field, "measure");
    }

    #[test]
    fn marked_quantity_rules() {
        let one = Decimal::integer(1);
        assert_eq!(check_marked_quantity(0, one, None), Ok(()));
        assert_eq!(check_marked_quantity(0, Decimal::new(100, 2), Some((0, 0))), Ok(()));
        assert_eq!(check_marked_quantity(0, one, Some((1, 4))), Ok(()));
        assert_eq!(check_marked_quantity(0, Decimal::integer(2), None).unwrap_err().device_code(), 0xC3);
        assert_eq!(check_marked_quantity(11, Decimal::new(5, 1), Some((1, 2))).unwrap_err().device_code(), 0xC4);
        assert_eq!(check_marked_quantity(0, one, Some((3, 2))).unwrap_err().device_code(), 0xC5);
        assert_eq!(check_marked_quantity(0, one, Some((1, 0))).unwrap_err().device_code(), 0xC5);
        assert_eq!(check_marked_quantity(11, Decimal::new(1500, 3), None), Ok(()));
        let mut m = MarkedItem::piece("Сигареты", 18900, 1, 4, 33, "0104600439931256215Bd;cj,\u{1d}93dGVz");
        m.encode(&mut Vec::new()).unwrap();
        m.quantity = Decimal::integer(2);
        assert_eq!(m.encode(&mut Vec::new()).unwrap_err().field, "quantity");
        m.quantity = Decimal::integer(1);
        m.status = 5;
        assert_eq!(m.encode(&mut Vec::new()).unwrap_err().field, "status");
    }

    #[test]
    fn form_receipt_layout() {
        let mut out = Vec::new();
        FormReceipt { operation: 1, total: 15000 }.encode(&mut out).unwrap();
        assert_eq!(out, [1, 0x98, 0x3A, 0, 0, 0]);
        assert_eq!(FormReceipt::decode(&out).unwrap(), FormReceipt { operation: 1, total: 15000 });
        assert_eq!(FormReceipt { operation: 5, total: 1 }.encode(&mut Vec::new()).unwrap_err().field, "operation");
        assert!(FormReceipt::decode(&out[..5]).is_err());
        let r = ReceiptResult {
            receipt_number: 3,
            fd_number: 12,
            fiscal_sign: 0xDEADBEEF,
            datetime: chrono::NaiveDate::from_ymd_opt(2024, 5, 6).unwrap().and_hms_opt(7, 8, 0).unwrap(),
            shift_number: 2,
        };
        let mut out = Vec::new();
        r.encode(&mut out).unwrap();
        assert_eq!(hex::encode_upper(&out), "03000C000000EFBEADDE180506070802 00".replace(' ', ""));
        assert_eq!(ReceiptResult::decode(&out).unwrap(), r);
        assert_eq!(OpenReceipt::decode(&[0x45, 0xA0]).unwrap().print_option, Some(NO_PRINT));
        assert_eq!(OpenReceipt::decode(&[]).unwrap().print_option, None);
        assert!(OpenReceipt::decode(&[1]).is_err());
    }

    #[test]
    fn requisites_and_payment_roundtrip() {
        let req = ReceiptRequisites {
            cashier: Some("Кассир".into()),
            cashier_inn: Some("774000007612".into()),
            customer_inn: Some("7740000076".into()),
            industry: vec![IndustryRequisite::new(30, "26.03.2022", "477", "mode=2")],
            corrected_date: Some(chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap().and_hms_opt(0, 0, 0).unwrap()),
            ..Default::default()
        };
        let mut out = Vec::new();
        req.encode(&mut out).unwrap();
        let back = ReceiptRequisites::decode(&out).unwrap();
        assert_eq!(back.customer_inn.as_deref(), Some("7740000076  "));
        assert_eq!(back.industry, req.industry);
        let mut again = Vec::new();
        back.encode(&mut again).unwrap();
        assert_eq!(again, out);
        let bad = ReceiptRequisites { user_requisite_name: Some("x".into()), ..Default::default() };
        assert_eq!(bad.encode(&mut Vec::new()).unwrap_err().field, "user_requisite");
        let p = Payment { taxation: Some(1), cash: Some(10000), electronic: Some(5000), ..Default::default() };
        let mut out = Vec::new();
        p.encode(&mut out).unwrap();
        assert_eq!(hex::encode_upper(&out), "1F04010001 0704020010 27 39040200 8813".replace(' ', ""));
        assert_eq!(Payment::decode(&out).unwrap(), p);
        assert_eq!(p.total(), 15000);
        let bad = Payment { taxation: Some(3), ..Default::default() };
        assert_eq!(bad.encode(&mut Vec::new()).unwrap_err().field, "taxation");
    }

    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[ -~А-яЁё№]{{0,{max}}}")).unwrap()
    }

    fn digits(n: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[0-9]{{{n}}}")).unwrap()
    }

    fn industry() -> impl Strategy<Value = IndustryRequisite> {
        (any::<u8>(), prop::option::of((1u32..=28, 1u32..=12, 2000i32..2100)), text(32), text(60)).prop_map(
            |(a, d, n, v)| {
                let date = d.map(|(d, m, y)| format!("{d:02}.{m:02}.{y}")).unwrap_or_default();
                IndustryRequisite::new(a, &date, &n, &v)
            },
        )
    }

    fn details() -> impl Strategy<Value = ItemDetails> {
        (
            prop::option::of(0u64..(1 << 48)),
            prop::option::of(text(32)),
            prop::option::of("[0-9]{0,3}"),
            prop::option::of(text(64)),
            prop::option::of(prop::sample::select(AGENT_TYPES)),
            prop::collection::vec("[0-9+]{0,20}", 0..3),
            prop::option::of(text(63)),
            prop::option::of(digits(10)),
            prop::collection::vec(industry(), 0..3),
        )
            .prop_map(
                |(excise, customs, country, additional, agent_type, phones, op, supplier_inn, industry)| ItemDetails {
                    excise,
                    customs_declaration: customs,
                    country: country.map(|c| if c.is_empty() { c } else { format!("{c:<3}") }),
                    additional,
                    agent: ItemAgent {
                        agent_type,
                        agent_phones: phones.clone(),
                        supplier_phones: phones,
                        operation: op,
                        supplier_inn: supplier_inn.map(|s| format!("{s:<12}")),
                        ..Default::default()
                    },
                    industry,
                },
            )
    }

    fn decimal() -> impl Strategy<Value = Decimal> {
        (1u64..(1 << 40), 0u8..6).prop_map(|(m, s)| Decimal::new(m, s))
    }

    proptest! {
        #[test]
        fn unmarked_item_roundtrip(
            name in "[A-Za-zА-я0-9 ]{1,128}",
            price in 0u64..(1 << 48),
            quantity in decimal(),
            measure in prop::option::of(prop::sample::select(MEASURES)),
            vat in prop::sample::select(VAT_RATES),
            method in prop::sample::select(PAYMENT_METHODS),
            item_type in prop::sample::select(ITEM_TYPES),
            barcode in prop::option::of("[0-9]{8,13}"),
            details in details(),
        ) {
            let mut item = UnmarkedItem::new(&name, price, quantity, vat, method, item_type);
            item.measure = measure;
            item.barcode = barcode;
            item.details = details;
            let mut out = Vec::new();
            item.encode(&mut out).unwrap();
            let back = UnmarkedItem::decode(&out).unwrap();
            prop_assert_eq!(&back, &item);
            let mut again = Vec::new();
            back.encode(&mut again).unwrap();
            prop_assert_eq!(again, out);
        }

        #[test]
        fn marked_item_roundtrip(
            name in "[A-Za-zА-я0-9 ]{1,128}",
            price in 0u64..(1 << 48),
            vat in prop::sample::select(VAT_RATES),
            method in prop::sample::select(PAYMENT_METHODS),
            code in "[!-~]{1,100}(\u{1d}[!-~]{1,50})?",
            status in prop::sample::select(ITEM_STATUSES),
            weighed in any::<bool>(),
            fraction in prop::option::of((0u32..100, 1u32..100)),
            details in details(),
        ) {
            let mut item = MarkedItem::piece(&name, price, vat, method, 33, &code);
            item.status = status;
            if weighed {
                item.measure = 11;
                item.quantity = Decimal::new(1234, 3);
            } else {
                item.fraction = fraction.map(|(n, d)| (n.min(d), d));
            }
            item.details = details;
            let mut out = Vec::new();
            item.encode(&mut out).unwrap();
            let back = MarkedItem::decode(&out).unwrap();
            prop_assert_eq!(&back, &item);
            let mut again = Vec::new();
            back.encode(&mut again).unwrap();
            prop_assert_eq!(again, out);
        }

        #[test]
        fn item_decode_never_panics_and_reencodes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            // Whatever decodes and passes validation encodes to bytes that decode to the same item.
            if let Ok(item) = UnmarkedItem::decode(&bytes) {
                let mut out = Vec::new();
                if item.encode(&mut out).is_ok() {
                    let back = UnmarkedItem::decode(&out).unwrap();
                    let mut again = Vec::new();
                    back.encode(&mut again).unwrap();
                    prop_assert_eq!(again, out);
                }
            }
            let _ = MarkedItem::decode(&bytes);
            let _ = ReceiptRequisites::decode(&bytes);
            let _ = Payment::decode(&bytes);
        }
    }
}
