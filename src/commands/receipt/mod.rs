//! Receipts and correction receipts (seed 004 «Формирование кассового чека (чека коррекции)»):
//! open (0x23, 0x25), items without (0x96) and with marking (0x97), receipt requisites (0x98),
//! payment (0x2D), form (0x24, 0x26); and in [`ffd105`] the ФФД 1.05 steps these replaced.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::fields::{self, both_or_neither, check_enum, check_known, required, tlv_body, TlvBuilder, TlvFields};
use super::{put_datetime5, DecodeError, DecodeErrorKind, InputError, Reader, Request, Response};
use crate::protocol::tag;
use crate::protocol::types::{self, Decimal};
use crate::protocol::values::{
    AgentType, CodeType, Measure, Operation, PaymentMethod, PaymentObject, PlannedStatus, Taxation, Vat,
};

pub mod ffd105;

pub use ffd105::{
    AgentData, AutomatData, CorrectionAutomatData, CorrectionBasis, CorrectionData105, Item105, ReceiptAutomatData,
};

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

/// Tag 1245 «код вида документа, удостоверяющего личность» (Appendix 1).
pub const ID_DOCUMENT_TYPES: &[u8] = &[21, 22, 26, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38, 40];

/// A date written DD.MM.YYYY (or empty), as it is sent.
fn date_text(field: &'static str, s: &str) -> Result<String, InputError> {
    fields::dd_mm_yyyy(field, s).map(|_| s.to_string())
}

/// A country code, padded with spaces to 3 (empty stays empty).
pub(crate) fn country(field: &'static str, s: &str) -> Result<String, InputError> {
    fields::pad_right(field, s, 3)
}

tlv_body! {
    /// STLV 1260 (item) / 1261 (receipt) «отраслевой реквизит».
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct IndustryRequisite {
        /// ФОИВ id, one BYTE on this device (30 = Ministry of Industry and Trade).
        authority: u8 = required byte(tag::FEDERAL_AUTHORITY_ID) as "industry.authority",
        /// Basis document date, DD.MM.YYYY.
        document_date: String = required string(tag::BASIS_DOCUMENT_DATE) as "industry.document_date" via date_text,
        /// Basis document number.
        document_number: String = required string(tag::BASIS_DOCUMENT_NUMBER) as "industry.document_number",
        /// The value.
        value: String = required string(tag::INDUSTRY_REQUISITE_VALUE) as "industry.value",
    }
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
}

tlv_body! {
    /// Agent and supplier data of an item (tags 1222, 1075, 1044, 1073, 1074, 1026, 1005, 1016,
    /// 1171, 1225, 1226).
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub group ItemAgent {
        /// Agent type.
        agent_type: Option<AgentType> = optional byte(tag::ITEM_AGENT_TYPE),
        /// Money transfer operator phones.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        transfer_operator_phones: Vec<String> = repeated string(tag::MONEY_TRANSFER_OPERATOR_PHONE),
        /// Payment agent operation.
        #[serde(skip_serializing_if = "Option::is_none")]
        operation: Option<String> = optional string(tag::PAYMENT_AGENT_OPERATION),
        /// Payment agent phones.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        agent_phones: Vec<String> = repeated string(tag::PAYMENT_AGENT_PHONE),
        /// Payment acceptance operator phones.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        acceptance_operator_phones: Vec<String> = repeated string(tag::PAYMENT_ACCEPTANCE_OPERATOR_PHONE),
        /// Money transfer operator name.
        #[serde(skip_serializing_if = "Option::is_none")]
        transfer_operator_name: Option<String> = optional string(tag::MONEY_TRANSFER_OPERATOR_NAME),
        /// Money transfer operator address.
        #[serde(skip_serializing_if = "Option::is_none")]
        transfer_operator_address: Option<String> = optional string(tag::MONEY_TRANSFER_OPERATOR_ADDRESS),
        /// Money transfer operator INNs (padded with spaces to 12).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        transfer_operator_inns: Vec<String> = repeated string(tag::MONEY_TRANSFER_OPERATOR_INN) via fields::inn,
        /// Supplier phones.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        supplier_phones: Vec<String> = repeated string(tag::SUPPLIER_PHONE),
        /// Supplier name.
        #[serde(skip_serializing_if = "Option::is_none")]
        supplier_name: Option<String> = optional string(tag::SUPPLIER_NAME),
        /// Supplier INN (padded with spaces to 12).
        #[serde(skip_serializing_if = "Option::is_none")]
        supplier_inn: Option<String> = optional string(tag::SUPPLIER_INN) via fields::inn,
    }
}

impl ItemAgent {
    /// Checks what the tag table cannot say.
    pub fn validate(&self) -> Result<(), InputError> {
        if let Some(a) = self.agent_type {
            check_known("agent_type", a)?;
        }
        Ok(())
    }
}

tlv_body! {
    /// Item tags after the core ones, shared by 0x96 and 0x97: excise, customs, country, extra
    /// requisite, agent data, industry requisites.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub group ItemDetails {
        /// Excise in kopecks.
        #[serde(skip_serializing_if = "Option::is_none")]
        excise: Option<u64> = optional vln(tag::EXCISE_AMOUNT),
        /// Customs declaration number.
        #[serde(skip_serializing_if = "Option::is_none")]
        customs_declaration: Option<String> = optional string(tag::CUSTOMS_DECLARATION_NUMBER),
        /// Country of origin code (padded with spaces to 3).
        #[serde(skip_serializing_if = "Option::is_none")]
        country: Option<String> = optional string(tag::COUNTRY_OF_ORIGIN_CODE) via country,
        /// Additional item requisite.
        #[serde(skip_serializing_if = "Option::is_none")]
        additional: Option<String> = optional string(tag::ADDITIONAL_ITEM_REQUISITE),
        /// Agent and supplier data.
        #[serde(flatten)]
        agent: ItemAgent = flat(),
        /// Industry requisites.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        industry: Vec<IndustryRequisite> = repeated stlv(tag::INDUSTRY_ITEM_REQUISITE),
    }
}

fn check_item_core(
    name: &str,
    quantity: Decimal,
    vat: Vat,
    method: PaymentMethod,
    item_type: PaymentObject,
) -> Result<(), InputError> {
    if name.is_empty() {
        return Err(InputError::new("name", "must not be empty"));
    }
    if quantity.mantissa == 0 {
        return Err(InputError::new("quantity", "must be greater than 0"));
    }
    check_known("vat", vat)?;
    check_known("payment_method", method)?;
    check_known("item_type", item_type)
}

tlv_body! {
    /// 0x96 «Передать данные предмета расчета за обычный (немаркированный) товар».
    #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
    pub struct UnmarkedItem {
        /// Item name.
        name: String = required string(tag::ITEM_NAME),
        /// Unit price in kopecks (with discounts and markups).
        price: u64 = required vln(tag::UNIT_PRICE),
        /// Quantity.
        quantity: Decimal = required fvln(tag::QUANTITY),
        /// Measure (Таблица 3); absent = pieces.
        measure: Option<Measure> = optional byte(tag::QUANTITY_MEASURE),
        /// VAT rate.
        vat: Vat = required byte(tag::VAT_RATE),
        /// Payment method.
        payment_method: PaymentMethod = required byte(tag::PAYMENT_METHOD),
        /// Item type.
        item_type: PaymentObject = required byte(tag::ITEM_TYPE),
        /// Product barcode.
        #[serde(skip_serializing_if = "Option::is_none")]
        barcode: Option<String> = optional string(tag::MARKING_CODE),
        /// The optional tags.
        #[serde(flatten)]
        details: ItemDetails = flat(),
    }
}

impl UnmarkedItem {
    /// An item with the required fields; the rest empty.
    pub fn new(
        name: &str,
        price: u64,
        quantity: Decimal,
        vat: impl Into<Vat>,
        payment_method: impl Into<PaymentMethod>,
        item_type: impl Into<PaymentObject>,
    ) -> Self {
        Self {
            name: name.into(),
            price,
            quantity,
            measure: None,
            vat: vat.into(),
            payment_method: payment_method.into(),
            item_type: item_type.into(),
            barcode: None,
            details: ItemDetails::default(),
            extra: Default::default(),
            order: Default::default(),
        }
    }

    /// Checks every field (what `encode` refuses).
    pub fn validate(&self) -> Result<(), InputError> {
        check_item_core(&self.name, self.quantity, self.vat, self.payment_method, self.item_type)?;
        if let Some(m) = self.measure {
            check_known("measure", m)?;
        }
        self.details.agent.validate()
    }
}

impl Request for UnmarkedItem {
    const CODE: u8 = 0x96;
    type Response = super::Empty;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.validate()?;
        fields::encode_body(self, (), out)
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, ())
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
    measure: Measure,
    quantity: Decimal,
    fraction: Option<(u32, u32)>,
) -> Result<(), MarkedQuantityError> {
    if let Some((n, d)) = fraction.filter(|_| has_fraction(fraction)) {
        if measure != Measure::PIECE {
            return Err(MarkedQuantityError::FractionNotPiece);
        }
        if d == 0 || n > d {
            return Err(MarkedQuantityError::BadFraction(n, d));
        }
    }
    if measure == Measure::PIECE && quantity.to_scale(0) != Some(1) {
        return Err(MarkedQuantityError::PieceNotOne(quantity));
    }
    Ok(())
}

/// Tag 2000 of 0x97: the marking code, which must not be empty.
fn read_code(f: &mut TlvFields) -> Result<String, DecodeError> {
    required(f.string(tag::MARKING_CODE).filter(|c| !c.is_empty()), tag::MARKING_CODE, "code")
}

fn write_code(b: &mut TlvBuilder, code: &str) -> Result<(), InputError> {
    b.string(tag::MARKING_CODE, "code", code).map(|_| ())
}

/// Tags 1293/1294, the part of a piece sold: both or neither.
pub(crate) fn read_fraction(f: &mut TlvFields) -> Result<Option<(u32, u32)>, DecodeError> {
    match (f.u32(tag::FRACTION_NUMERATOR, "fraction")?, f.u32(tag::FRACTION_DENOMINATOR, "fraction")?) {
        (Some(n), Some(d)) => Ok(Some((n, d))),
        (None, None) => Ok(None),
        _ => Err(DecodeError::new(DecodeErrorKind::Value, "fraction", 0, "tags 1293 and 1294 go together")),
    }
}

pub(crate) fn write_fraction(b: &mut TlvBuilder, fraction: &Option<(u32, u32)>) -> Result<(), InputError> {
    if let Some((n, d)) = *fraction {
        b.u32(tag::FRACTION_NUMERATOR, "fraction", n)?.u32(tag::FRACTION_DENOMINATOR, "fraction", d)?;
    }
    Ok(())
}

tlv_body! {
    /// 0x97 «Передать данные предмета расчета за маркированный товар». Must follow the check of
    /// the same code (0x91 → 0x92 → 0x94, Appendix 2).
    #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
    pub struct MarkedItem {
        /// Item name.
        name: String = required string(tag::ITEM_NAME),
        /// Unit price in kopecks.
        price: u64 = required vln(tag::UNIT_PRICE),
        /// Quantity (1 for piece goods).
        quantity: Decimal = required fvln(tag::QUANTITY),
        /// VAT rate.
        vat: Vat = required byte(tag::VAT_RATE),
        /// Payment method.
        payment_method: PaymentMethod = required byte(tag::PAYMENT_METHOD),
        /// Item type.
        item_type: PaymentObject = required byte(tag::ITEM_TYPE),
        /// The marking code as scanned (GS = byte 0x1D), tag 2000.
        code: String = custom(read_code, write_code),
        /// Code type (0 = let the register decide, recommended).
        code_type: CodeType = required byte(tag::MARKING_CODE_TYPE),
        /// Assigned status (tag 2110, the values of 2003).
        status: PlannedStatus = required byte(tag::ASSIGNED_ITEM_STATUS),
        /// Processing mode, always 0.
        mode: u8 = required byte(tag::MARKING_CODE_PROCESSING_MODE),
        /// Measure (0 = pieces).
        measure: Measure = required byte(tag::QUANTITY_MEASURE),
        /// Tags 1293/1294, the part of a piece sold (numerator, denominator); 0/0 = no fraction.
        fraction: Option<(u32, u32)> = custom(read_fraction, write_fraction),
        /// The optional tags.
        #[serde(flatten)]
        details: ItemDetails = flat(),
    }
}

impl MarkedItem {
    /// A piece of marked goods sold (status 1, quantity 1, pieces); the rest empty.
    pub fn piece(
        name: &str,
        price: u64,
        vat: impl Into<Vat>,
        payment_method: impl Into<PaymentMethod>,
        item_type: impl Into<PaymentObject>,
        code: &str,
    ) -> Self {
        Self {
            name: name.into(),
            price,
            quantity: Decimal::integer(1),
            vat: vat.into(),
            payment_method: payment_method.into(),
            item_type: item_type.into(),
            code: code.into(),
            code_type: CodeType::UNRECOGNIZED,
            status: PlannedStatus::PIECE_SOLD,
            mode: 0,
            measure: Measure::PIECE,
            fraction: None,
            details: ItemDetails::default(),
            extra: Default::default(),
            order: Default::default(),
        }
    }

    /// Checks every field (what `encode` refuses).
    pub fn validate(&self) -> Result<(), InputError> {
        check_item_core(&self.name, self.quantity, self.vat, self.payment_method, self.item_type)?;
        if self.code.is_empty() {
            return Err(InputError::new("code", "the marking code must not be empty"));
        }
        check_known("code_type", self.code_type)?;
        check_known("status", self.status)?;
        check_enum("mode", self.mode, &[0])?;
        check_known("measure", self.measure)?;
        check_marked_quantity(self.measure, self.quantity, self.fraction).map_err(|e| {
            InputError::new(
                if matches!(e, MarkedQuantityError::PieceNotOne(_)) { "quantity" } else { "fraction" },
                e.to_string(),
            )
        })?;
        self.details.agent.validate()
    }
}

impl Request for MarkedItem {
    const CODE: u8 = 0x97;
    type Response = super::Empty;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.validate()?;
        fields::encode_body(self, (), out)
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, ())
    }
}

tlv_body! {
    /// 0x98 «Передать данные реквизиты кассового чека (чека коррекции)». Every tag is optional;
    /// a correction receipt needs 1178.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct ReceiptRequisites {
        /// Settlement address.
        #[serde(skip_serializing_if = "Option::is_none")]
        address: Option<String> = optional string(tag::SETTLEMENT_ADDRESS),
        /// Settlement place.
        #[serde(skip_serializing_if = "Option::is_none")]
        place: Option<String> = optional string(tag::SETTLEMENT_PLACE),
        /// Vending machine number.
        #[serde(skip_serializing_if = "Option::is_none")]
        automat_number: Option<String> = optional string(tag::VENDING_MACHINE_NUMBER),
        /// Cashier.
        #[serde(skip_serializing_if = "Option::is_none")]
        cashier: Option<String> = optional string(tag::CASHIER_NAME),
        /// Cashier INN (12 digits).
        #[serde(skip_serializing_if = "Option::is_none")]
        cashier_inn: Option<String> = optional string(tag::CASHIER_INN) via fields::person_inn,
        /// Customer email or phone (personal data: never logged).
        #[serde(skip_serializing_if = "Option::is_none")]
        customer_contact: Option<String> = optional string(tag::CUSTOMER_EMAIL_OR_PHONE),
        /// Customer INN, padded with spaces to 12 (personal data).
        #[serde(skip_serializing_if = "Option::is_none")]
        customer_inn: Option<String> = optional string(tag::CUSTOMER_INN) via fields::inn,
        /// Customer name.
        #[serde(skip_serializing_if = "Option::is_none")]
        customer: Option<String> = optional string(tag::CUSTOMER_NAME),
        /// Customer birth date, DD.MM.YYYY.
        #[serde(skip_serializing_if = "Option::is_none")]
        customer_birth_date: Option<String> = optional string(tag::CUSTOMER_BIRTH_DATE) via date_text,
        /// Customer citizenship (country code, padded to 3).
        #[serde(skip_serializing_if = "Option::is_none")]
        customer_citizenship: Option<String> = optional string(tag::CUSTOMER_CITIZENSHIP) via country,
        /// Identity document type (Appendix 1, [`ID_DOCUMENT_TYPES`]).
        #[serde(skip_serializing_if = "Option::is_none")]
        id_document_type: Option<u8> = optional byte(tag::IDENTITY_DOCUMENT_TYPE_CODE),
        /// Identity document data.
        #[serde(skip_serializing_if = "Option::is_none")]
        id_document: Option<String> = optional string(tag::IDENTITY_DOCUMENT_DATA),
        /// Customer address.
        #[serde(skip_serializing_if = "Option::is_none")]
        customer_address: Option<String> = optional string(tag::CUSTOMER_ADDRESS),
        /// Additional receipt requisite.
        #[serde(skip_serializing_if = "Option::is_none")]
        additional: Option<String> = optional string(tag::ADDITIONAL_RECEIPT_REQUISITE),
        /// Additional user requisite name (with its value).
        #[serde(skip_serializing_if = "Option::is_none")]
        user_requisite_name: Option<String> = optional string(tag::ADDITIONAL_USER_REQUISITE_NAME),
        /// Additional user requisite value (with its name).
        #[serde(skip_serializing_if = "Option::is_none")]
        user_requisite_value: Option<String> = optional string(tag::ADDITIONAL_USER_REQUISITE_VALUE),
        /// Industry requisites of the receipt.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        industry: Vec<IndustryRequisite> = repeated stlv(tag::INDUSTRY_RECEIPT_REQUISITE),
        /// Date of the corrected settlement (correction receipts).
        #[serde(skip_serializing_if = "Option::is_none")]
        corrected_date: Option<NaiveDateTime> = optional unixtime(tag::CORRECTED_SETTLEMENT_DATE),
        /// Tax authority order number (correction by order).
        #[serde(skip_serializing_if = "Option::is_none")]
        order_number: Option<String> = optional string(tag::TAX_AUTHORITY_ORDER_NUMBER),
    }
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
        fields::encode_body(self, (), out)
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, ())
    }
}

tlv_body! {
    /// 0x2D «Передать данные оплаты для кассового чека/чека коррекции». Amounts in kopecks.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct Payment {
        /// Taxation system.
        taxation: Option<Taxation> = optional byte(tag::TAXATION_SYSTEM),
        /// Cash.
        cash: Option<u64> = optional vln(tag::CASH_PAYMENT_AMOUNT),
        /// Electronic.
        electronic: Option<u64> = optional vln(tag::ELECTRONIC_PAYMENT_AMOUNT),
        /// Prepayment (advance offset).
        prepayment: Option<u64> = optional vln(tag::PREPAYMENT_AMOUNT),
        /// Credit (postpayment).
        credit: Option<u64> = optional vln(tag::CREDIT_AMOUNT),
        /// Consideration.
        consideration: Option<u64> = optional vln(tag::CONSIDERATION_AMOUNT),
    }
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
            check_known("taxation", t)?;
        }
        fields::encode_body(self, (), out)
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, ())
    }
}

/// 0x24 «Сформировать чек».
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FormReceipt {
    /// Operation type (tag 1054).
    pub operation: Operation,
    /// Receipt total in kopecks (UINT40).
    pub total: u64,
}

fn encode_form(operation: Operation, total: u64, out: &mut Vec<u8>) -> Result<(), InputError> {
    check_known("operation", operation)?;
    out.push(operation.code());
    types::encode_u40(total, out).map_err(|e| InputError::new("total", e.to_string()))
}

fn decode_form(data: &[u8]) -> Result<(Operation, u64), DecodeError> {
    let mut r = Reader::new(data);
    let v = (r.byte("operation")?.into(), r.u40("total")?);
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
    /// Operation type (tag 1054).
    pub operation: Operation,
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
            (item.price, item.quantity, item.vat.code(), item.payment_method.code(), item.item_type.code()),
            (15000, Decimal::integer(1), 1, 4, 1)
        );
        assert_eq!(item.barcode.as_deref(), Some(""));
        assert_eq!(item.details.excise, Some(0));
        assert_eq!(item.details.agent.agent_type, Some(AgentType::NONE));
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
        item.vat = Vat::VAT107;
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
        item.measure = Some(Measure::from(13));
        assert_eq!(item.encode(&mut Vec::new()).unwrap_err().field, "measure");
    }

    #[test]
    fn marked_quantity_rules() {
        let one = Decimal::integer(1);
        assert_eq!(check_marked_quantity(Measure::PIECE, one, None), Ok(()));
        assert_eq!(check_marked_quantity(Measure::PIECE, Decimal::new(100, 2), Some((0, 0))), Ok(()));
        assert_eq!(check_marked_quantity(Measure::PIECE, one, Some((1, 4))), Ok(()));
        assert_eq!(check_marked_quantity(Measure::PIECE, Decimal::integer(2), None).unwrap_err().device_code(), 0xC3);
        assert_eq!(
            check_marked_quantity(Measure::KILOGRAM, Decimal::new(5, 1), Some((1, 2))).unwrap_err().device_code(),
            0xC4
        );
        assert_eq!(check_marked_quantity(Measure::PIECE, one, Some((3, 2))).unwrap_err().device_code(), 0xC5);
        assert_eq!(check_marked_quantity(Measure::PIECE, one, Some((1, 0))).unwrap_err().device_code(), 0xC5);
        assert_eq!(check_marked_quantity(Measure::KILOGRAM, Decimal::new(1500, 3), None), Ok(()));
        let mut m = MarkedItem::piece("Сигареты", 18900, 1, 4, 33, "0104600439931256215Bd;cj,\u{1d}93dGVz");
        m.encode(&mut Vec::new()).unwrap();
        m.quantity = Decimal::integer(2);
        assert_eq!(m.encode(&mut Vec::new()).unwrap_err().field, "quantity");
        m.quantity = Decimal::integer(1);
        m.status = PlannedStatus::from(5);
        assert_eq!(m.encode(&mut Vec::new()).unwrap_err().field, "status");
    }

    #[test]
    fn form_receipt_layout() {
        let mut out = Vec::new();
        FormReceipt { operation: Operation::SELL, total: 15000 }.encode(&mut out).unwrap();
        assert_eq!(out, [1, 0x98, 0x3A, 0, 0, 0]);
        assert_eq!(FormReceipt::decode(&out).unwrap(), FormReceipt { operation: Operation::SELL, total: 15000 });
        assert_eq!(
            FormReceipt { operation: Operation::from(5), total: 1 }.encode(&mut Vec::new()).unwrap_err().field,
            "operation"
        );
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
        let p =
            Payment { taxation: Some(Taxation::OSN), cash: Some(10000), electronic: Some(5000), ..Default::default() };
        let mut out = Vec::new();
        p.encode(&mut out).unwrap();
        assert_eq!(hex::encode_upper(&out), "1F04010001 0704020010 27 39040200 8813".replace(' ', ""));
        assert_eq!(Payment::decode(&out).unwrap(), p);
        assert_eq!(p.total(), 15000);
        let bad = Payment { taxation: Some(Taxation::from(3)), ..Default::default() };
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
            prop::option::of(prop::sample::select(AgentType::ALL)),
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
        fn requisites_and_payment_roundtrip_any(
            cashier in prop::option::of(text(64)), inn in prop::option::of(digits(12)),
            contact in prop::option::of(text(64)), customer_inn in prop::option::of(digits(10)),
            document_type in prop::option::of(prop::sample::select(ID_DOCUMENT_TYPES)),
            industry in prop::collection::vec(industry(), 0..3), when in prop::option::of(0i64..4_000_000_000),
            order_number in prop::option::of(text(32)),
            taxation in prop::option::of(prop::sample::select(Taxation::ALL)),
            amounts in prop::collection::vec(prop::option::of(0u64..(1 << 48)), 5),
        ) {
            let r = ReceiptRequisites {
                cashier, cashier_inn: inn, customer_contact: contact,
                customer_inn: customer_inn.map(|s| format!("{s:<12}")), id_document_type: document_type, industry,
                corrected_date: when.and_then(|s| chrono::DateTime::from_timestamp(s, 0)).map(|t| t.naive_utc()),
                order_number,
                ..Default::default()
            };
            let mut out = Vec::new();
            r.encode(&mut out).unwrap();
            let back = ReceiptRequisites::decode(&out).unwrap();
            prop_assert_eq!(&back, &r);
            let mut again = Vec::new();
            back.encode(&mut again).unwrap();
            prop_assert_eq!(again, out);
            let p = Payment {
                taxation, cash: amounts[0], electronic: amounts[1], prepayment: amounts[2], credit: amounts[3],
                consideration: amounts[4], ..Default::default()
            };
            let mut out = Vec::new();
            p.encode(&mut out).unwrap();
            prop_assert_eq!(Payment::decode(&out).unwrap(), p);
        }

        #[test]
        fn unmarked_item_roundtrip(
            name in "[A-Za-zА-я0-9 ]{1,128}",
            price in 0u64..(1 << 48),
            quantity in decimal(),
            measure in prop::option::of(prop::sample::select(Measure::ALL)),
            vat in prop::sample::select(Vat::ALL),
            method in prop::sample::select(PaymentMethod::ALL),
            item_type in prop::sample::select(PaymentObject::ALL),
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
            vat in prop::sample::select(Vat::ALL),
            method in prop::sample::select(PaymentMethod::ALL),
            code in "[!-~]{1,100}(\u{1d}[!-~]{1,50})?",
            status in prop::sample::select(PlannedStatus::ALL),
            weighed in any::<bool>(),
            fraction in prop::option::of((0u32..100, 1u32..100)),
            details in details(),
        ) {
            let mut item = MarkedItem::piece(&name, price, vat, method, 33, &code);
            item.status = status;
            if weighed {
                item.measure = Measure::KILOGRAM;
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
