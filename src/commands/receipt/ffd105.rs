//! The receipt steps of ФФД 1.05 (v01.05) that seed 004 replaced: vending machine data for a
//! receipt (0x1F) or a correction (0x3F), the item (0x2B; 0x96 in ФФД 1.2), payment agent data
//! for the whole receipt (0x2C) and the correction receipt's data (0x2E).
//!
//! They are typed so that `kkt decode` shows an older register's traffic; the driver does not
//! send them to a ФФД 1.2 register.

use chrono::{NaiveDateTime, NaiveTime};
use serde::Serialize;

use super::super::fields::{self, check_known, max_chars, read_one_stlv, tlv_body, TlvBody, TlvBuilder, TlvFields};
use super::super::{DecodeError, Empty, InputError, Request, TlvList};
use super::{country, ItemAgent};
use crate::protocol::tag;
use crate::protocol::types::Decimal;
use crate::protocol::values::{AgentType, PaymentMethod, PaymentObject, Taxation, TaxationSystems, Vat};

tlv_body! {
    /// Data of a vending machine for one receipt (0x1F) or correction (0x3F): for a register
    /// that serves several machines and was registered without them.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct AutomatData {
        /// Settlement address.
        address: String = required string(tag::SETTLEMENT_ADDRESS),
        /// Settlement place.
        place: String = required string(tag::SETTLEMENT_PLACE),
        /// Vending machine number (at most 21); required in 0x1F.
        #[serde(skip_serializing_if = "Option::is_none")]
        automat_number: Option<String> = optional string(tag::VENDING_MACHINE_NUMBER),
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
        fields::encode_body(&self.0, (), out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let v: AutomatData = fields::decode_body(data, ())?;
        fields::required(v.automat_number.as_ref(), tag::VENDING_MACHINE_NUMBER, "automat_number")?;
        Ok(Self(v))
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
        fields::encode_body(&self.0, (), out)
    }
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, ()).map(Self)
    }
}

/// Checks the hex text of tag 1162 («05AB1208» for the bytes 05 AB 12 08).
fn hex_text(field: &'static str, s: &str) -> Result<String, InputError> {
    if s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s.to_string())
    } else {
        Err(InputError::new(field, format!("{s:?} is not bytes written as hex digits (two a byte)")))
    }
}

tlv_body! {
    /// 0x2B «Передать позицию товара (услуги)» (ФФД 1.05; 0x96 in ФФД 1.2): one STLV 1059 with
    /// the item's tags (`extra` and `order` are the STLV's; `outer` what comes beside it).
    #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
    pub struct Item105 {
        /// Item name (at most 128).
        name: String = required string(tag::ITEM_NAME),
        /// Unit price in kopecks (with discounts and markups).
        price: u64 = required vln(tag::UNIT_PRICE),
        /// Quantity.
        quantity: Decimal = required fvln(tag::QUANTITY),
        /// VAT rate ([`Vat::FFD105`]).
        vat: Vat = required byte(tag::VAT_RATE),
        /// Payment method.
        payment_method: PaymentMethod = required byte(tag::PAYMENT_METHOD),
        /// Item type (optional; v01.05 lists 1–19 and says later versions added values, so the
        /// ФФД list is taken).
        #[serde(skip_serializing_if = "Option::is_none")]
        item_type: Option<PaymentObject> = optional byte(tag::ITEM_TYPE),
        /// Agent and supplier data (tags 1222, 1075, 1044, 1073, 1074, 1026, 1005, 1016, 1171,
        /// 1225, 1226).
        #[serde(flatten)]
        agent: ItemAgent = flat(),
        /// Product nomenclature code as hex text («05AB1208»).
        #[serde(skip_serializing_if = "Option::is_none")]
        nomenclature_code: Option<String> = optional string(tag::PRODUCT_NOMENCLATURE_CODE) via hex_text,
        /// Unit of measure.
        #[serde(skip_serializing_if = "Option::is_none")]
        unit: Option<String> = optional string(tag::UNIT_OF_MEASURE),
        /// Excise in kopecks.
        #[serde(skip_serializing_if = "Option::is_none")]
        excise: Option<u64> = optional vln(tag::EXCISE_AMOUNT),
        /// Customs declaration number.
        #[serde(skip_serializing_if = "Option::is_none")]
        customs_declaration: Option<String> = optional string(tag::CUSTOMS_DECLARATION_NUMBER),
        /// Country of origin code.
        #[serde(skip_serializing_if = "Option::is_none")]
        country: Option<String> = optional string(tag::COUNTRY_OF_ORIGIN_CODE) via country,
        /// Additional item requisite.
        #[serde(skip_serializing_if = "Option::is_none")]
        additional: Option<String> = optional string(tag::ADDITIONAL_ITEM_REQUISITE),
        /// Tags next to the STLV, kept as sent.
        #[serde(skip_serializing_if = "fields::is_empty_list")]
        outer: TlvList = skip(),
        /// The order of the tags next to the STLV.
        #[serde(skip)]
        outer_order: fields::WireOrder = skip(),
    }
}

impl Item105 {
    /// An item with the required fields; the rest empty.
    pub fn new(
        name: &str,
        price: u64,
        quantity: Decimal,
        vat: impl Into<Vat>,
        payment_method: impl Into<PaymentMethod>,
    ) -> Self {
        Self {
            name: name.into(),
            price,
            quantity,
            vat: vat.into(),
            payment_method: payment_method.into(),
            item_type: None,
            agent: ItemAgent::default(),
            nomenclature_code: None,
            unit: None,
            excise: None,
            customs_declaration: None,
            country: None,
            additional: None,
            outer: TlvList::default(),
            outer_order: Default::default(),
            extra: TlvList::default(),
            order: Default::default(),
        }
    }

    /// Checks every field (what `encode` refuses).
    pub fn validate(&self) -> Result<(), InputError> {
        if self.name.is_empty() {
            return Err(InputError::new("name", "must not be empty"));
        }
        if self.quantity.mantissa == 0 {
            return Err(InputError::new("quantity", "must be greater than 0"));
        }
        if !Vat::FFD105.contains(&self.vat) {
            let codes: Vec<u8> = Vat::FFD105.iter().map(|v| v.code()).collect();
            return Err(InputError::new("vat", format!("{} is not one of {codes:?}", self.vat.code())));
        }
        check_known("payment_method", self.payment_method)?;
        if let Some(t) = self.item_type {
            check_known("item_type", t)?;
        }
        self.agent.validate()
    }
}

impl Request for Item105 {
    const CODE: u8 = 0x2B;
    type Response = Empty;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.validate()?;
        let mut item = TlvBuilder::new();
        self.write_fields(&mut item, ())?;
        let mut b = TlvBuilder::new();
        b.stlv(tag::RECEIPT_ITEM, "item", item, &self.extra, &self.order)?;
        b.finish(&self.outer, &self.outer_order, out);
        Ok(())
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut top = TlvFields::parse(data, 0, "tlv")?;
        let mut v: Self = read_one_stlv(&mut top, tag::RECEIPT_ITEM, "item")?;
        (v.outer, v.outer_order) = top.finish();
        Ok(v)
    }
}

tlv_body! {
    /// 0x2C «Передать данные «платежного агента»» for the whole receipt (when the items do not
    /// carry their own agent data). Its length limits are v01.05's for this command (1044: 32,
    /// 1026: 47, 1005: 95), below the tag table's.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct AgentData {
        /// One of the agent types given at registration (0 = not an agent in this receipt; then
        /// nothing else is sent).
        agent_type: AgentType = required byte(tag::PAYMENT_AGENT_FLAGS),
        /// Payment agent phones.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        agent_phones: Vec<String> = repeated string(tag::PAYMENT_AGENT_PHONE),
        /// Payment agent operation (at most 32).
        #[serde(skip_serializing_if = "Option::is_none")]
        operation: Option<String> = optional string(tag::PAYMENT_AGENT_OPERATION),
        /// Payment acceptance operator phones.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        acceptance_operator_phones: Vec<String> = repeated string(tag::PAYMENT_ACCEPTANCE_OPERATOR_PHONE),
        /// Money transfer operator name (at most 47).
        #[serde(skip_serializing_if = "Option::is_none")]
        transfer_operator_name: Option<String> = optional string(tag::MONEY_TRANSFER_OPERATOR_NAME),
        /// Money transfer operator INN (padded with spaces to 12).
        #[serde(skip_serializing_if = "Option::is_none")]
        transfer_operator_inn: Option<String> = optional string(tag::MONEY_TRANSFER_OPERATOR_INN) via fields::inn,
        /// Money transfer operator address (at most 95).
        #[serde(skip_serializing_if = "Option::is_none")]
        transfer_operator_address: Option<String> = optional string(tag::MONEY_TRANSFER_OPERATOR_ADDRESS),
        /// Money transfer operator phones.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        transfer_operator_phones: Vec<String> = repeated string(tag::MONEY_TRANSFER_OPERATOR_PHONE),
        /// Supplier phones.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        supplier_phones: Vec<String> = repeated string(tag::SUPPLIER_PHONE),
    }
}

impl AgentData {
    /// Checks every field (what `encode` refuses).
    pub fn validate(&self) -> Result<(), InputError> {
        check_known("agent_type", self.agent_type)?;
        let others = !(self.agent_phones.is_empty()
            && self.operation.is_none()
            && self.acceptance_operator_phones.is_empty()
            && self.transfer_operator_name.is_none()
            && self.transfer_operator_inn.is_none()
            && self.transfer_operator_address.is_none()
            && self.transfer_operator_phones.is_empty()
            && self.supplier_phones.is_empty());
        if self.agent_type == AgentType::NONE && others {
            return Err(InputError::new("agent_type", "0 (not an agent in this receipt) is sent without agent data"));
        }
        max_chars("operation", self.operation.as_deref(), 32)?;
        max_chars("transfer_operator_name", self.transfer_operator_name.as_deref(), 47)?;
        max_chars("transfer_operator_address", self.transfer_operator_address.as_deref(), 95)
    }
}

impl Request for AgentData {
    const CODE: u8 = 0x2C;
    type Response = Empty;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.validate()?;
        fields::encode_body(self, (), out)
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, ())
    }
}

tlv_body! {
    /// STLV 1174 «основание для коррекции» of 0x2E.
    ///
    /// v01.05 puts the basis document number under tag 1023 (the item quantity, FVLN); the ФФД
    /// tag is 1179 (see protocol/tags.tsv). The number is read from and written to 1179; a 1023
    /// sent by older software stays in `extra` as it came.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct CorrectionBasis {
        /// Basis document name (at most 255).
        document_name: String = required string(tag::CORRECTION_BASIS_DOCUMENT_NAME) as "basis.document_name",
        /// Basis document date (UNIXTIME; only the date: 00:00:00).
        document_date: NaiveDateTime = required unixtime(tag::CORRECTED_SETTLEMENT_DATE) as "basis.document_date",
        /// Basis document number (at most 32).
        #[serde(skip_serializing_if = "Option::is_none")]
        document_number: Option<String> = optional string(tag::TAX_AUTHORITY_ORDER_NUMBER) as "basis.document_number",
    }
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

/// Tag 1055 value 8, ЕНВД: a system of v01.05 that seed 004 dropped (so [`Taxation`] does not
/// name it); its code is its bit of [`TaxationSystems`].
pub const ENVD: Taxation = Taxation::new(TaxationSystems::ENVD.bits());

/// Tag 1055 values of v01.05 (one system, ЕНВД included).
pub const TAXATION_SYSTEMS_105: &[Taxation] =
    &[Taxation::OSN, Taxation::USN_INCOME, Taxation::USN_INCOME_OUTCOME, ENVD, Taxation::ESN, Taxation::PATENT];

/// Tags of [`CorrectionData105::vat_amounts`].
pub const VAT_AMOUNT_TAGS: [u16; 6] = [
    tag::RECEIPT_AMOUNT_FOR_VAT_20,
    tag::RECEIPT_AMOUNT_FOR_VAT_10,
    tag::RECEIPT_AMOUNT_WITH_VAT_0,
    tag::RECEIPT_AMOUNT_WITHOUT_VAT,
    tag::RECEIPT_AMOUNT_FOR_VAT_20_120,
    tag::RECEIPT_AMOUNT_FOR_VAT_10_110,
];

fn read_vat_amounts(f: &mut TlvFields) -> Result<[Option<u64>; 6], DecodeError> {
    let mut v = [None; 6];
    for (a, t) in v.iter_mut().zip(VAT_AMOUNT_TAGS) {
        *a = f.vln(t, "vat_amounts")?;
    }
    Ok(v)
}

fn write_vat_amounts(b: &mut TlvBuilder, v: &[Option<u64>; 6]) -> Result<(), InputError> {
    for (t, a) in VAT_AMOUNT_TAGS.iter().zip(v) {
        b.opt_vln(*t, "vat_amounts", *a)?;
    }
    Ok(())
}

tlv_body! {
    /// 0x2E «Передать данные чека коррекции» (ФФД 1.05).
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
    pub struct CorrectionData105 {
        /// Authorised person (at most 63).
        #[serde(skip_serializing_if = "Option::is_none")]
        cashier: Option<String> = optional string(tag::CASHIER_NAME),
        /// Authorised person's INN (12 digits).
        #[serde(skip_serializing_if = "Option::is_none")]
        cashier_inn: Option<String> = optional string(tag::CASHIER_INN) via fields::person_inn,
        /// 0 on one's own initiative, 1 by order of the tax authority.
        correction_type: u8 = required byte(tag::CORRECTION_TYPE),
        /// Taxation system ([`TAXATION_SYSTEMS_105`]).
        taxation: Taxation = required byte(tag::TAXATION_SYSTEM),
        /// Cash, kopecks.
        #[serde(skip_serializing_if = "Option::is_none")]
        cash: Option<u64> = optional vln(tag::CASH_PAYMENT_AMOUNT),
        /// Electronic, kopecks.
        #[serde(skip_serializing_if = "Option::is_none")]
        electronic: Option<u64> = optional vln(tag::ELECTRONIC_PAYMENT_AMOUNT),
        /// Prepayment, kopecks.
        #[serde(skip_serializing_if = "Option::is_none")]
        prepayment: Option<u64> = optional vln(tag::PREPAYMENT_AMOUNT),
        /// Credit, kopecks.
        #[serde(skip_serializing_if = "Option::is_none")]
        credit: Option<u64> = optional vln(tag::CREDIT_AMOUNT),
        /// Consideration, kopecks.
        #[serde(skip_serializing_if = "Option::is_none")]
        consideration: Option<u64> = optional vln(tag::CONSIDERATION_AMOUNT),
        /// Tags 1102, 1103, 1104, 1105, 1106, 1107 ([`VAT_AMOUNT_TAGS`]): the amounts VAT is
        /// computed from (18 % (20 %), 10 %, 0 %, no VAT, 18/118, 10/110), kopecks, in that order.
        vat_amounts: [Option<u64>; 6] = custom(read_vat_amounts, write_vat_amounts),
        /// The basis of the correction.
        basis: CorrectionBasis = required stlv(tag::CORRECTION_BASIS),
    }
}

impl CorrectionData105 {
    fn payments(&self) -> [Option<u64>; 5] {
        [self.cash, self.electronic, self.prepayment, self.credit, self.consideration]
    }

    /// Checks every field (what `encode` refuses).
    pub fn validate(&self) -> Result<(), InputError> {
        max_chars("cashier", self.cashier.as_deref(), 63)?;
        if let Some(inn) = &self.cashier_inn {
            fields::person_inn("cashier_inn", inn)?;
        }
        fields::check_enum("correction_type", self.correction_type, &[0, 1])?;
        if !TAXATION_SYSTEMS_105.contains(&self.taxation) {
            let codes: Vec<u8> = TAXATION_SYSTEMS_105.iter().map(|t| t.code()).collect();
            return Err(InputError::new("taxation", format!("{} is not one of {codes:?}", self.taxation.code())));
        }
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
        Ok(())
    }
}

impl Request for CorrectionData105 {
    const CODE: u8 = 0x2E;
    type Response = Empty;

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), InputError> {
        self.validate()?;
        fields::encode_body(self, (), out)
    }

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        fields::decode_body(data, ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::DecodeErrorKind;
    use proptest::prelude::*;

    fn bytes<R: Request>(r: &R) -> Result<Vec<u8>, InputError> {
        let mut out = Vec::new();
        r.encode(&mut out).map(|_| out)
    }

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
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
            (Item105 { vat: Vat::from(7), ..item.clone() }, "vat"),
            (Item105 { payment_method: PaymentMethod::from(8), ..item.clone() }, "payment_method"),
            (Item105 { item_type: Some(PaymentObject::from(28)), ..item.clone() }, "item_type"),
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
            agent_type: AgentType::PAYING_AGENT,
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
            (AgentData { agent_type: AgentType::from(3), ..a.clone() }, "agent_type"),
            (AgentData { agent_type: AgentType::NONE, ..a.clone() }, "agent_type"),
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
            taxation: Taxation::OSN,
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
            (CorrectionData105 { taxation: Taxation::from(3), ..c.clone() }, "taxation"),
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

    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[ -~А-яЁё№]{{1,{max}}}")).unwrap()
    }

    proptest! {
        #[test]
        fn item_105_roundtrip(
            name in text(128), price in 0u64..(1 << 48), m in 1u64..(1 << 40), scale in 0u8..6,
            vat in 1u8..=6, method in 1u8..=7, item_type in prop::option::of(prop::sample::select(PaymentObject::ALL)),
            code in prop::option::of(prop::collection::vec(any::<u8>(), 0..32)), unit in prop::option::of(text(16)),
            excise in prop::option::of(0u64..(1 << 48)), agent_type in prop::option::of(prop::sample::select(AgentType::ALL)),
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
        fn agent_automat_roundtrip(
            agent_type in prop::sample::select(&AgentType::ALL[1..]), phones in prop::collection::vec("[0-9+]{1,20}", 0..3),
            op in prop::option::of(text(32)), name in prop::option::of(text(47)),
            address in text(164), place in text(64), number in prop::option::of("[0-9]{1,21}"),
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
        }

        #[test]
        fn correction_105_roundtrip(
            cash in 0u64..(1 << 40), electronic in prop::option::of(0u64..(1 << 40)), split in 0usize..6,
            taxation in prop::sample::select(TAXATION_SYSTEMS_105), days in 0i64..20_000,
            name in text(255), number in prop::option::of(text(32)),
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
        }
    }
}
