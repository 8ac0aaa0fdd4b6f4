//! Documents from the FN archive as a person reads them, and the OFD exchange.
//!
//! [`StoredDocument`] is one fiscal document: its summary from 0x30 (type, number, fiscal sign,
//! whether the OFD confirmed it) and its TLVs from 0x3A (or, for a document that does not fit
//! one answer, 0x35 and 0x36 TLV by TLV): a receipt's items (STLV 1059) read back into the
//! receipt model, its payments, requisites and customer. The fiscal sign is the number printed
//! on the document: tag 1077's six bytes end with it, big-endian ([`printed_fiscal_sign`]),
//! and 0x24 and 0x30 give the same number as UINT32 LE.
//!
//! [`OfdStatus`] is the exchange with the OFD (0x50, 0x32) with warnings when the first unsent
//! document is older than 24 hours, or the FN's 30-day limit nears.

use chrono::{NaiveDateTime, TimeDelta};
use serde::Serialize;

use crate::commands::archive::{doc_type, ArchiveDocument, FoundDocument};
use crate::commands::info::OfdExchangeStatus;
use crate::commands::TlvList;
use crate::protocol::tlv::{TlvNode, TlvValue};
use crate::protocol::types::{self, Decimal};
use crate::protocol::values::{
    AgentType, Measure, Operation, PaymentMethod, PaymentObject, ReregistrationReasons, Taxation, Vat,
};
use crate::protocol::{tag, tlv};
use crate::receipt::{Agent, Customer, IndustryRequisite, Item, Money, Supplier, UserRequisite};

/// The number printed as «ФП» from tag 1077's value: its last four bytes, big-endian (the first
/// two are the FN's own check). `None` for a value that is not six bytes.
pub fn printed_fiscal_sign(value: &[u8]) -> Option<u32> {
    match value {
        [_, _, a, b, c, d] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// The machine name of a document type (Приложение 6).
pub fn kind_name(document_type: u8) -> &'static str {
    match document_type {
        doc_type::REGISTRATION => "registration",
        doc_type::REGISTRATION_CHANGE => "registration_change",
        doc_type::SHIFT_OPEN => "shift_open",
        doc_type::SETTLEMENT_REPORT => "settlement_report",
        doc_type::RECEIPT => "receipt",
        doc_type::CORRECTION_RECEIPT => "correction",
        doc_type::BSO => "bso",
        doc_type::BSO_CORRECTION => "bso_correction",
        doc_type::SHIFT_CLOSE => "shift_close",
        doc_type::FN_CLOSE => "fn_close",
        doc_type::OPERATOR_CONFIRMATION => "operator_confirmation",
        _ => "other",
    }
}

/// The printed title of a document type.
pub fn title_ru(document_type: u8) -> &'static str {
    match document_type {
        doc_type::REGISTRATION => "ОТЧЕТ О РЕГИСТРАЦИИ",
        doc_type::REGISTRATION_CHANGE => "ОТЧЕТ ОБ ИЗМЕНЕНИИ ПАРАМЕТРОВ РЕГИСТРАЦИИ",
        doc_type::SHIFT_OPEN => "ОТЧЕТ ОБ ОТКРЫТИИ СМЕНЫ",
        doc_type::SETTLEMENT_REPORT => "ОТЧЕТ О ТЕКУЩЕМ СОСТОЯНИИ РАСЧЕТОВ",
        doc_type::RECEIPT => "КАССОВЫЙ ЧЕК",
        doc_type::CORRECTION_RECEIPT => "ЧЕК КОРРЕКЦИИ",
        doc_type::BSO => "БЛАНК СТРОГОЙ ОТЧЕТНОСТИ",
        doc_type::BSO_CORRECTION => "БСО КОРРЕКЦИИ",
        doc_type::SHIFT_CLOSE => "ОТЧЕТ О ЗАКРЫТИИ СМЕНЫ",
        doc_type::FN_CLOSE => "ОТЧЕТ О ЗАКРЫТИИ ФН",
        doc_type::OPERATOR_CONFIRMATION => "ПОДТВЕРЖДЕНИЕ ОПЕРАТОРА",
        _ => "ФИСКАЛЬНЫЙ ДОКУМЕНТ",
    }
}

/// An item of a receipt read back from the archive: the receipt model's item and its total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredItem {
    /// The item as the receipt JSON writes it.
    #[serde(flatten)]
    pub item: Item,
    /// The item's total (1043), as the FN computed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
}

/// Payments of a receipt read back (1031, 1081, 1215, 1216, 1217).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StoredPayments {
    /// Cash.
    pub cash: Money,
    /// Electronic.
    pub electronic: Money,
    /// Prepayment.
    pub prepayment: Money,
    /// Credit.
    pub credit: Money,
    /// Counter-provision.
    pub consideration: Money,
}

/// A fiscal document from the FN archive (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredDocument {
    /// Fiscal document number.
    pub fd_number: u32,
    /// The form code (Приложение 6).
    pub document_type: u8,
    /// Its machine name: `receipt`, `correction`, `shift_open`, `shift_close`,
    /// `settlement_report`, `registration`, `registration_change`, `fn_close`, …
    pub document: &'static str,
    /// The printed title (`КАССОВЫЙ ЧЕК`, `ЧЕК КОРРЕКЦИИ`, …).
    pub title: &'static str,
    /// When it was formed.
    pub datetime: NaiveDateTime,
    /// The fiscal sign as printed (ФП): from tag 1077, else 0x30's.
    pub fiscal_sign: u32,
    /// Whether the OFD confirmed the document (0x30).
    pub ofd_confirmed: bool,
    /// The FN number (1041).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fn_number: Option<String>,
    /// Shift number (1038).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shift_number: Option<u32>,
    /// Receipt number in the shift (1042).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_number: Option<u32>,
    /// A receipt's operation (1054).
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::protocol::values::by_name::option")]
    pub operation: Option<Operation>,
    /// A receipt's total (1020, else 0x30's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
    /// A receipt's taxation system (1055).
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::protocol::values::by_name::option")]
    pub taxation: Option<Taxation>,
    /// The items (1059).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<StoredItem>,
    /// The payments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payments: Option<StoredPayments>,
    /// The cashier (1021).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cashier: Option<String>,
    /// The cashier's INN (1203).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cashier_inn: Option<String>,
    /// Settlement address (1009).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settlement_address: Option<String>,
    /// Settlement place (1187).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settlement_place: Option<String>,
    /// Vending machine number (1036).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automat_number: Option<String>,
    /// Additional receipt requisite (1192).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_requisite: Option<String>,
    /// Additional user requisite (1085, 1086).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_requisite: Option<UserRequisite>,
    /// Industry requisites of the receipt (1261).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub industry_requisites: Vec<IndustryRequisite>,
    /// The customer (1008, 1227, 1228, 1243–1246, 1254): personal data, never logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// A correction receipt's corrected settlement date (1178).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected_date: Option<NaiveDateTime>,
    /// A correction receipt's tax authority order number (1179).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    /// A registration report's user (1048).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// A re-registration's reasons (1205), by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reregistration_reasons: Vec<&'static str>,
    /// Every TLV of the document, as `kkt decode` shows them.
    pub tlv: serde_json::Value,
}

/// Text as the document holds it.
fn text(v: &[u8]) -> String {
    types::decode_cp866(v).into_owned()
}

fn opt_text(v: &[u8]) -> Option<String> {
    Some(text(v)).filter(|t| !t.is_empty())
}

/// Text the protocol pads with spaces (INNs to 12, country codes to 3), without the padding.
fn unpadded(v: &[u8]) -> Option<String> {
    Some(types::decode_cp866(v).trim_end().to_string()).filter(|t| !t.is_empty())
}

fn money(v: &[u8]) -> Option<Money> {
    types::decode_vln(v).ok().map(Money::from_kopecks)
}

fn raw_of(n: &TlvNode) -> Option<&[u8]> {
    match &n.value {
        TlvValue::Raw(v) => Some(v),
        TlvValue::Nested(_) => None,
    }
}

fn children(n: &TlvNode) -> &[TlvNode] {
    match &n.value {
        TlvValue::Nested(c) => c,
        TlvValue::Raw(_) => &[],
    }
}

fn industry(nodes: &[TlvNode]) -> Option<IndustryRequisite> {
    let mut r = IndustryRequisite::new(0, "", "", "");
    for n in nodes {
        let v = raw_of(n)?;
        match n.tag {
            tag::FEDERAL_AUTHORITY_ID => r.foiv_id = types::decode_byte(v).ok()?,
            tag::BASIS_DOCUMENT_DATE => r.document_date = text(v),
            tag::BASIS_DOCUMENT_NUMBER => r.document_number = text(v),
            tag::INDUSTRY_REQUISITE_VALUE => r.value = text(v),
            _ => {}
        }
    }
    Some(r)
}

fn agent_of(a: &mut Option<Agent>) -> &mut Agent {
    a.get_or_insert_with(|| Agent::new(AgentType::NONE))
}

fn pay(p: &mut Option<StoredPayments>) -> &mut StoredPayments {
    p.get_or_insert_with(Default::default)
}

/// An item (STLV 1059) back in the receipt model; `None` when it has no name, price or quantity.
fn item(nodes: &[TlvNode]) -> Option<StoredItem> {
    let mut name = None;
    let mut price = None;
    let mut quantity = None;
    let mut it = Item::new("", Money::ZERO, Decimal::integer(1), Vat::default());
    let mut total = None;
    let mut agent: Option<Agent> = None;
    let mut supplier = Supplier::default();
    for n in nodes {
        if n.tag == tag::INDUSTRY_ITEM_REQUISITE {
            it.industry_requisites.extend(industry(children(n)));
            continue;
        }
        let Some(v) = raw_of(n) else { continue };
        if v.is_empty() {
            continue;
        }
        let byte = || types::decode_byte(v).ok();
        match n.tag {
            tag::ITEM_NAME => name = Some(text(v)),
            tag::UNIT_PRICE => price = money(v),
            tag::QUANTITY => quantity = types::decode_fvln(v).ok(),
            tag::QUANTITY_MEASURE => it.measure = byte().map_or(Measure::PIECE, Measure::from),
            tag::VAT_RATE => it.vat = byte().map_or(Vat::default(), Vat::from),
            tag::PAYMENT_METHOD => it.payment_method = byte().map_or(PaymentMethod::default(), PaymentMethod::from),
            tag::ITEM_TYPE => it.payment_object = byte().map_or(PaymentObject::default(), PaymentObject::from),
            tag::MARKING_CODE => {
                let c = types::decode_cp866(v).into_owned();
                if it.payment_object.needs_marking_code() || nodes.iter().any(|n| n.tag == tag::MARKING_CODE_TYPE) {
                    it.marking_code = Some(c);
                } else {
                    it.barcode = Some(c);
                }
            }
            tag::EXCISE_AMOUNT => it.excise = money(v),
            tag::COUNTRY_OF_ORIGIN_CODE => it.country_code = unpadded(v),
            tag::CUSTOMS_DECLARATION_NUMBER => it.customs_declaration = opt_text(v),
            tag::ADDITIONAL_ITEM_REQUISITE => it.additional_requisite = opt_text(v),
            tag::ITEM_TOTAL => total = money(v),
            tag::ITEM_AGENT_TYPE => {
                if let Some(b) = byte().filter(|b| *b != 0) {
                    agent_of(&mut agent).agent_type = AgentType::from(b);
                }
            }
            tag::PAYMENT_AGENT_OPERATION => agent_of(&mut agent).operation = opt_text(v),
            tag::MONEY_TRANSFER_OPERATOR_PHONE => agent_of(&mut agent).transfer_operator_phones.push(text(v)),
            tag::MONEY_TRANSFER_OPERATOR_NAME => agent_of(&mut agent).transfer_operator_name = opt_text(v),
            tag::MONEY_TRANSFER_OPERATOR_ADDRESS => agent_of(&mut agent).transfer_operator_address = opt_text(v),
            tag::MONEY_TRANSFER_OPERATOR_INN => agent_of(&mut agent).transfer_operator_inn = unpadded(v),
            tag::PAYMENT_AGENT_PHONE => agent_of(&mut agent).payment_agent_phones.push(text(v)),
            tag::PAYMENT_ACCEPTANCE_OPERATOR_PHONE => agent_of(&mut agent).payment_operator_phones.push(text(v)),
            tag::SUPPLIER_PHONE => supplier.phones.push(text(v)),
            tag::SUPPLIER_NAME => supplier.name = opt_text(v),
            tag::SUPPLIER_INN => supplier.inn = unpadded(v),
            tag::FRACTION_NUMERATOR | tag::FRACTION_DENOMINATOR => {}
            _ => {}
        }
    }
    it.name = name?;
    it.price = price?;
    it.quantity = quantity?;
    it.agent = agent.filter(|a| a.agent_type != AgentType::NONE);
    if supplier != Supplier::default() {
        it.supplier = Some(supplier);
    }
    Some(StoredItem { item: it, total })
}

impl StoredDocument {
    /// The document from 0x30's answer and its TLVs (0x3A, or 0x35/0x36).
    pub fn new(found: &FoundDocument, tlv: &TlvList) -> Self {
        let d = &found.document;
        let header = d.header();
        let ty = d.document_type();
        let mut doc = StoredDocument {
            fd_number: header.map_or(0, |h| h.fd_number),
            document_type: ty,
            document: kind_name(ty),
            title: title_ru(ty),
            datetime: header.map_or_else(NaiveDateTime::default, |h| h.datetime),
            fiscal_sign: header.map_or(0, |h| h.fiscal_sign),
            ofd_confirmed: found.ofd_confirmed != 0,
            fn_number: None,
            shift_number: None,
            receipt_number: None,
            operation: None,
            total: None,
            taxation: None,
            items: Vec::new(),
            payments: None,
            cashier: None,
            cashier_inn: None,
            settlement_address: None,
            settlement_place: None,
            automat_number: None,
            additional_requisite: None,
            user_requisite: None,
            industry_requisites: Vec::new(),
            customer: None,
            corrected_date: None,
            order_number: None,
            user_name: None,
            reregistration_reasons: Vec::new(),
            tlv: tlv::tlv_json(&tlv.0),
        };
        match d {
            ArchiveDocument::Receipt(r)
            | ArchiveDocument::CorrectionReceipt(r)
            | ArchiveDocument::Bso(r)
            | ArchiveDocument::BsoCorrection(r) => {
                doc.operation = Some(r.operation);
                doc.total = Some(Money::from_kopecks(r.total));
            }
            ArchiveDocument::ShiftOpen(s) | ArchiveDocument::ShiftClose(s) => {
                doc.shift_number = Some(u32::from(s.shift_number));
            }
            _ => {}
        }
        let mut customer = Customer::default();
        let mut payments: Option<StoredPayments> = None;
        let mut user = (None, None);
        for n in &tlv.0 {
            match n.tag {
                tag::RECEIPT_ITEM => doc.items.extend(item(children(n))),
                tag::INDUSTRY_RECEIPT_REQUISITE => doc.industry_requisites.extend(industry(children(n))),
                _ => {}
            }
            let Some(v) = raw_of(n) else { continue };
            let m = || money(v).unwrap_or(Money::ZERO);
            match n.tag {
                tag::DOCUMENT_FISCAL_SIGN => {
                    if let Some(fp) = printed_fiscal_sign(v) {
                        doc.fiscal_sign = fp;
                    }
                }
                tag::FN_NUMBER => doc.fn_number = unpadded(v),
                tag::SHIFT_NUMBER => doc.shift_number = types::decode_u32(v).ok(),
                tag::RECEIPT_NUMBER_IN_SHIFT => doc.receipt_number = types::decode_u32(v).ok(),
                tag::OPERATION_TYPE => doc.operation = types::decode_byte(v).ok().map(Operation::from),
                tag::RECEIPT_TOTAL => doc.total = money(v),
                tag::TAXATION_SYSTEM => doc.taxation = types::decode_byte(v).ok().map(Taxation::from),
                tag::CASH_PAYMENT_AMOUNT => pay(&mut payments).cash = m(),
                tag::ELECTRONIC_PAYMENT_AMOUNT => pay(&mut payments).electronic = m(),
                tag::PREPAYMENT_AMOUNT => pay(&mut payments).prepayment = m(),
                tag::CREDIT_AMOUNT => pay(&mut payments).credit = m(),
                tag::CONSIDERATION_AMOUNT => pay(&mut payments).consideration = m(),
                tag::CASHIER_NAME => doc.cashier = opt_text(v),
                tag::CASHIER_INN => doc.cashier_inn = unpadded(v),
                tag::SETTLEMENT_ADDRESS => doc.settlement_address = opt_text(v),
                tag::SETTLEMENT_PLACE => doc.settlement_place = opt_text(v),
                tag::VENDING_MACHINE_NUMBER => doc.automat_number = opt_text(v),
                tag::ADDITIONAL_RECEIPT_REQUISITE => doc.additional_requisite = opt_text(v),
                tag::ADDITIONAL_USER_REQUISITE_NAME => user.0 = opt_text(v),
                tag::ADDITIONAL_USER_REQUISITE_VALUE => user.1 = Some(text(v)),
                tag::CUSTOMER_EMAIL_OR_PHONE => customer.contact = opt_text(v),
                tag::CUSTOMER_NAME => customer.name = opt_text(v),
                tag::CUSTOMER_INN => customer.inn = unpadded(v),
                tag::CUSTOMER_BIRTH_DATE => customer.birth_date = opt_text(v),
                tag::CUSTOMER_CITIZENSHIP => customer.citizenship = unpadded(v),
                tag::IDENTITY_DOCUMENT_TYPE_CODE => customer.document_type = types::decode_byte(v).ok(),
                tag::IDENTITY_DOCUMENT_DATA => customer.document = opt_text(v),
                tag::CUSTOMER_ADDRESS => customer.address = opt_text(v),
                tag::CORRECTED_SETTLEMENT_DATE => doc.corrected_date = types::decode_unixtime(v).ok(),
                tag::TAX_AUTHORITY_ORDER_NUMBER => doc.order_number = opt_text(v),
                tag::USER_NAME => doc.user_name = opt_text(v),
                tag::REREGISTRATION_REASONS => {
                    if let Ok(bits) = types::decode_u32(v) {
                        doc.reregistration_reasons =
                            crate::protocol::values::WireFlags::names(ReregistrationReasons::from(bits));
                    }
                }
                _ => {}
            }
        }
        if let (Some(name), value) = user {
            doc.user_requisite = Some(UserRequisite { name, value: value.unwrap_or_default() });
        }
        if customer != Customer::default() {
            doc.customer = Some(customer);
        }
        doc.payments = payments;
        doc
    }

    /// Whether it is a receipt or a correction receipt (or a BSO).
    pub fn is_receipt(&self) -> bool {
        self.operation.is_some()
    }
}

/// The exchange with the OFD, with what a person should know about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfdStatus {
    /// 0x50 as the register gives it.
    pub exchange: OfdExchangeStatus,
    /// Documents waiting for the OFD (0x50).
    pub queue: u16,
    /// The first document waiting, and when it was formed (None when nothing waits).
    pub first_unsent: Option<u32>,
    /// When the first document waiting was formed.
    pub first_unsent_at: Option<NaiveDateTime>,
    /// Documents the OFD has not confirmed (0x32; None when the register does not answer it).
    pub unconfirmed: Option<u16>,
    /// The register's clock (0x73), the warnings are counted from it.
    pub register_time: NaiveDateTime,
    /// How long the first document has waited, in hours.
    pub waiting_hours: Option<i64>,
    /// What to see to: waiting more than 24 hours, the FN's 30-day limit near.
    pub warnings: Vec<String>,
}

/// After this long without the OFD a warning is given.
pub const WARN_AFTER: TimeDelta = TimeDelta::hours(24);
/// The FN stops forming documents when its first unsent one is this old.
pub const FN_LIMIT: TimeDelta = TimeDelta::days(30);
/// The 30-day limit "nears" this long before it.
pub const FN_LIMIT_WARNING: TimeDelta = TimeDelta::days(5);

impl OfdStatus {
    /// The status from 0x50, 0x32 and the register's clock.
    pub fn new(exchange: OfdExchangeStatus, unconfirmed: Option<u16>, register_time: NaiveDateTime) -> Self {
        let queue = exchange.queue_len;
        let (first_unsent, first_unsent_at) = if queue > 0 {
            (Some(exchange.first_document), Some(exchange.first_document_datetime))
        } else {
            (None, None)
        };
        let age = first_unsent_at.map(|t| register_time - t);
        let mut warnings = Vec::new();
        if let (Some(age), Some(fd), Some(at)) = (age, first_unsent, first_unsent_at) {
            if age >= FN_LIMIT - FN_LIMIT_WARNING {
                let left = (FN_LIMIT - age).num_hours().max(0);
                warnings.push(format!(
                    "the OFD has not received document {fd} of {} for {} days: the FN stops forming documents after 30 days without the OFD ({} hours left); restore the connection to the OFD now",
                    at.format("%Y-%m-%d %H:%M"),
                    age.num_days(),
                    left
                ));
            } else if age > WARN_AFTER {
                warnings.push(format!(
                    "the OFD has not received document {fd} of {} for {} hours: check the register's network and OFD settings (`kkt settings ofd get`)",
                    at.format("%Y-%m-%d %H:%M"),
                    age.num_hours()
                ));
            }
        }
        OfdStatus {
            exchange,
            queue,
            first_unsent,
            first_unsent_at,
            unconfirmed,
            register_time,
            waiting_hours: age.map(|a| a.num_hours()),
            warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::archive::{DocumentHeader, ReceiptRecord};
    use crate::protocol::TlvWriter;

    fn t(d: u32, h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap().and_hms_opt(h, 0, 0).unwrap()
    }

    #[test]
    fn fiscal_sign_as_printed() {
        // 1077 = 2 bytes of the FN's own, then 0xC4DE5E2E = 3302907438 big-endian.
        assert_eq!(printed_fiscal_sign(&[0x12, 0x34, 0xC4, 0xDE, 0x5E, 0x2E]), Some(3_302_907_438));
        assert_eq!(printed_fiscal_sign(&[1, 2, 3, 4]), None);
    }

    #[test]
    fn a_receipt_read_back() {
        let found = FoundDocument {
            ofd_confirmed: 1,
            document: ArchiveDocument::Receipt(ReceiptRecord {
                header: DocumentHeader { datetime: t(4, 10), fd_number: 12, fiscal_sign: 3_302_907_438 },
                operation: Operation::SELL,
                total: 9100,
            }),
        };
        let mut w = TlvWriter::new();
        w.u32(tag::SHIFT_NUMBER, 2).unwrap().u32(tag::RECEIPT_NUMBER_IN_SHIFT, 5).unwrap();
        w.stlv(tag::RECEIPT_ITEM, |w| {
            w.string(tag::ITEM_NAME, "Хлеб")?.vln(tag::UNIT_PRICE, 4550)?.fvln(tag::QUANTITY, Decimal::integer(2))?;
            w.byte(tag::VAT_RATE, 2)?.byte(tag::PAYMENT_METHOD, 4)?.byte(tag::ITEM_TYPE, 1)?;
            w.byte(tag::ITEM_AGENT_TYPE, 32)?.string(tag::SUPPLIER_INN, "7740000076  ")?;
            w.vln(tag::ITEM_TOTAL, 9100).map(|_| ())
        })
        .unwrap();
        w.string(tag::CASHIER_NAME, "Иванова").unwrap().vln(tag::CASH_PAYMENT_AMOUNT, 9100).unwrap();
        w.raw(tag::DOCUMENT_FISCAL_SIGN, &[9, 9, 0xC4, 0xDE, 0x5E, 0x2E]).unwrap();
        let d = StoredDocument::new(&found, &TlvList::parse(w.as_bytes()).unwrap());
        assert_eq!((d.document, d.title, d.fiscal_sign), ("receipt", "КАССОВЫЙ ЧЕК", 3_302_907_438));
        assert_eq!((d.shift_number, d.receipt_number), (Some(2), Some(5)));
        let it = &d.items[0];
        assert_eq!(
            (it.item.name.as_str(), it.item.price, it.total),
            ("Хлеб", Money::from_kopecks(4550), Some(Money(9100)))
        );
        assert_eq!(it.item.agent.as_ref().unwrap().agent_type, AgentType::COMMISSION_AGENT);
        assert_eq!(it.item.supplier.as_ref().unwrap().inn.as_deref(), Some("7740000076"));
        assert_eq!(d.payments.unwrap().cash, Money(9100));
        assert_eq!(d.cashier.as_deref(), Some("Иванова"));
    }

    #[test]
    fn ofd_warnings() {
        let ex = |queue: u16, first: NaiveDateTime| OfdExchangeStatus {
            status: 2,
            read_state: 0,
            queue_len: queue,
            first_document: 7,
            first_document_datetime: first,
        };
        let s = OfdStatus::new(ex(0, t(1, 0)), Some(0), t(3, 0));
        assert!(s.warnings.is_empty() && s.first_unsent.is_none());
        let s = OfdStatus::new(ex(3, t(2, 10)), Some(3), t(3, 9));
        assert!(s.warnings.is_empty(), "23 hours: {:?}", s.warnings);
        let s = OfdStatus::new(ex(3, t(2, 10)), Some(3), t(3, 11));
        assert_eq!(s.waiting_hours, Some(25));
        assert!(s.warnings[0].contains("25 hours") && s.warnings[0].contains("kkt settings ofd"), "{:?}", s.warnings);
        let s = OfdStatus::new(ex(3, t(1, 0)), Some(3), t(27, 0));
        assert!(s.warnings[0].contains("30 days") && s.warnings[0].contains("96 hours left"), "{:?}", s.warnings);
    }
}
