//! A receipt as a POS describes it: items, payments, taxation, cashier, customer. Money is
//! integer kopecks ([`Money`]), quantities are exact [`Decimal`]s: never floats.
//!
//! The same model is the JSON of `kkt receipt FILE` and of the HTTP service:
//!
//! ```json
//! {"operation": "sell", "taxation": "osn", "cashier": {"name": "Иванова А.А.", "inn": "500100732259"},
//!  "customer": {"contact": "+79990000000"},
//!  "items": [
//!    {"name": "Хлеб", "price": "45.50", "quantity": "2", "vat": "vat20",
//!     "payment_method": "full_payment", "payment_object": "commodity"},
//!    {"name": "Молоко 3,2%", "price": "89.90", "quantity": "1", "vat": "vat10",
//!     "payment_method": "full_payment", "payment_object": "marked_commodity",
//!     "marking_code": "0104607028393034215'Wt4q\u001d93dGVz", "planned_status": "piece_sold"}],
//!  "payments": {"cash": "200.00", "electronic": "0"}, "print": true}
//! ```
//!
//! * Amounts and quantities are decimal strings or JSON numbers, read from their text exactly
//!   (`45.5`, `"45.50"`, `2`); more than 2 decimal places of a ruble amount is an error. The
//!   text is taken with serde_json's `RawValue`, so a `Receipt` is read from JSON text
//!   (`from_str`, `from_slice`, `from_reader`, [`Receipt::from_json`]), not from an already
//!   parsed `serde_json::Value`, whose numbers are floats.
//! * Unknown fields are an error. `measure` defaults to `piece`, `print` to `true`.
//! * Enumerations are named after the seed's tables: [`Operation`] (1054), [`Taxation`] (1055),
//!   [`Vat`] (1199), [`PaymentObject`] (1212), [`PaymentMethod`] (1214), [`PlannedStatus`]
//!   (2003), [`Measure`] (2108).
//!
//! [`Receipt::from_json`] names the field of a parse error (`items[1].price`);
//! [`Receipt::validate`] checks everything the register would refuse, before a byte is sent.
//!
//! ```
//! use kkt::receipt::Receipt;
//! let r = Receipt::from_json(r#"{"operation": "sell", "taxation": "usn_income",
//!     "items": [{"name": "Хлеб", "price": 45.5, "quantity": "2", "vat": "none",
//!                "payment_method": "full_payment", "payment_object": "commodity"}],
//!     "payments": {"cash": "100"}}"#).unwrap();
//! assert_eq!(r.total().kopecks(), 9100);
//! let p = r.settle().unwrap();
//! assert_eq!((p.cash.kopecks(), p.change.kopecks()), (9100, 900));
//!
//! let e = Receipt::from_json(r#"{"operation": "sell", "taxation": "osn", "items": [
//!     {"name": "x", "price": "1.005", "quantity": 1, "vat": "vat20",
//!      "payment_method": "full_payment", "payment_object": "commodity"}], "payments": {}}"#).unwrap_err();
//! assert_eq!(e.field, "items[0].price");
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::commands::receipt::{check_marked_quantity, MarkedQuantityError};
use crate::commands::InputError;
use crate::protocol::types::{self, Decimal};
use crate::protocol::values::{by_name, WireEnum};
pub use crate::protocol::values::{Measure, Operation, PaymentMethod, PaymentObject, PlannedStatus, Taxation, Vat};
use crate::protocol::{tag, tag_info};

/// An amount of money in kopecks. In JSON: rubles as a decimal string or number (`"45.50"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(pub u64);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// An amount of `k` kopecks.
    pub const fn from_kopecks(k: u64) -> Self {
        Money(k)
    }

    /// The amount in kopecks.
    pub const fn kopecks(self) -> u64 {
        self.0
    }

    /// Sum, `None` on overflow.
    pub fn checked_add(self, o: Money) -> Option<Money> {
        self.0.checked_add(o.0).map(Money)
    }
}

/// Why a text is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// A minus sign.
    #[error("{0:?} is negative: amounts are never negative")]
    Negative(String),
    /// More than two decimal places.
    #[error("{0:?} has more than 2 decimal places (kopecks are the smallest unit)")]
    TooPrecise(String),
    /// Not a decimal number.
    #[error("{0:?} is not a decimal number like 45.50")]
    Syntax(String),
    /// Too large.
    #[error("{0:?} is too large")]
    TooLarge(String),
}

impl FromStr for Money {
    type Err = MoneyError;

    /// Rubles: `"45.50"`, `"45.5"`, `"45"`, `"0.01"`.
    fn from_str(s: &str) -> Result<Self, MoneyError> {
        let t = s.trim();
        if t.starts_with('-') {
            return Err(MoneyError::Negative(s.into()));
        }
        let d: Decimal = t.parse().map_err(|_| MoneyError::Syntax(s.into()))?;
        match d.to_scale(2) {
            Some(k) => Ok(Money(k)),
            None if d.scale > 2 => Err(MoneyError::TooPrecise(s.into())),
            None => Err(MoneyError::TooLarge(s.into())),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The exact text of a JSON string or number (numbers are never turned into floats).
fn exact_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let raw: Box<serde_json::value::RawValue> = Deserialize::deserialize(d).map_err(|e: D::Error| {
        D::Error::custom(format!("{e} (amounts and quantities are read from JSON text: a string or a number)"))
    })?;
    let t = raw.get().trim();
    if t.starts_with('"') {
        serde_json::from_str::<String>(t).map_err(D::Error::custom)
    } else if t.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        Ok(t.to_string())
    } else {
        Err(D::Error::custom(format!("expected a decimal string or number, got {t}")))
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = exact_text(d)?;
        if t.contains(['e', 'E']) {
            return Err(D::Error::custom(format!("{t}: write the amount without an exponent")));
        }
        t.parse().map_err(D::Error::custom)
    }
}

/// Reads a quantity from a JSON string or number exactly (a serde `deserialize_with` helper: the
/// receipt JSON and the HTTP service read quantities with it).
pub fn decimal_exact<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let t = exact_text(d)?;
    if t.contains(['e', 'E']) {
        return Err(D::Error::custom(format!("{t}: write the quantity without an exponent (e.g. \"1500\", \"0.25\")")));
    }
    if t.starts_with('-') {
        return Err(D::Error::custom(format!("{t:?} is negative")));
    }
    t.parse::<Decimal>().map_err(D::Error::custom)
}

/// The cashier (tags 1021, 1203).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cashier {
    /// Name, at most 64 characters.
    pub name: String,
    /// INN, 12 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inn: Option<String>,
}

impl Cashier {
    /// A cashier without an INN.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), inn: None }
    }
}

/// The customer (tags 1008, 1227, 1228, 1243–1246, 1254). Personal data: never logged.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// Phone or e-mail for the electronic receipt (1008), at most 64 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// Name or company (1227), at most 256 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// INN (1228): 12 digits, or 10 for a company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inn: Option<String>,
    /// Birth date (1243), DD.MM.YYYY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    /// Citizenship (1244), a country code of at most 3 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citizenship: Option<String>,
    /// Identity document type (1245), a code of the seed's table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_type: Option<u8>,
    /// Identity document data (1246), at most 64 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// Address (1254), at most 256 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl Customer {
    /// Whether no field is given.
    pub fn is_empty(&self) -> bool {
        *self == Customer::default()
    }
}

/// A fraction of a piece sold (tags 1293/1294), for marked piece goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fraction {
    /// Numerator.
    pub numerator: u32,
    /// Denominator (not 0).
    pub denominator: u32,
}

/// One item (предмет расчета).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Name (1030), at most 128 characters.
    pub name: String,
    /// Price of one unit with discounts (1079), in kopecks.
    pub price: Money,
    /// Quantity (1023).
    #[serde(deserialize_with = "decimal_exact")]
    pub quantity: Decimal,
    /// Measure (2108), `piece` when not given.
    #[serde(default, with = "by_name")]
    pub measure: Measure,
    /// VAT rate (1199).
    #[serde(with = "by_name")]
    pub vat: Vat,
    /// Payment method (1214).
    #[serde(with = "by_name")]
    pub payment_method: PaymentMethod,
    /// Payment object (1212).
    #[serde(with = "by_name")]
    pub payment_object: PaymentObject,
    /// The marking code as scanned (GS as the single byte 0x1D), for marked goods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marking_code: Option<String>,
    /// Planned status (2003) for marked goods; by default from the operation and the measure.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "by_name::option")]
    pub planned_status: Option<PlannedStatus>,
    /// A fraction of a marked piece (1293/1294).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<Fraction>,
    /// Product barcode (2000) of unmarked goods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    /// Excise (1229), in kopecks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excise: Option<Money>,
    /// Country of origin code (1230), at most 3 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Customs declaration number (1231), at most 32 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customs_declaration: Option<String>,
    /// Additional item requisite (1191), at most 64 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional: Option<String>,
}

impl Item {
    /// An item of unmarked goods sold in full: `quantity` × `price` kopecks.
    pub fn new(name: impl Into<String>, price: Money, quantity: Decimal, vat: Vat) -> Self {
        Self {
            name: name.into(),
            price,
            quantity,
            measure: Measure::PIECE,
            vat,
            payment_method: PaymentMethod::FULL_PAYMENT,
            payment_object: PaymentObject::COMMODITY,
            marking_code: None,
            planned_status: None,
            fraction: None,
            barcode: None,
            excise: None,
            country: None,
            customs_declaration: None,
            additional: None,
        }
    }

    /// One marked piece with its code.
    pub fn marked(name: impl Into<String>, price: Money, vat: Vat, code: impl Into<String>) -> Self {
        Self {
            payment_object: PaymentObject::MARKED_COMMODITY,
            marking_code: Some(code.into()),
            ..Self::new(name, price, Decimal::integer(1), vat)
        }
    }

    /// Whether the item goes through the marked-goods check (0x91 → 0x92 → 0x94 → 0x97).
    pub fn is_marked(&self) -> bool {
        self.marking_code.is_some()
    }

    /// The planned status sent with 0x92 and 0x97: the one given, or sold/returned by the
    /// operation (piece or measured by the measure).
    pub fn planned_status_for(&self, operation: Operation) -> PlannedStatus {
        if let Some(s) = self.planned_status {
            return s;
        }
        let piece = self.measure == Measure::PIECE;
        match (operation, piece) {
            (Operation::SELL_RETURN | Operation::BUY, true) => PlannedStatus::PIECE_RETURNED,
            (Operation::SELL_RETURN | Operation::BUY, false) => PlannedStatus::MEASURED_RETURNED,
            // A sale or a purchase return (an operation the table does not know is refused by
            // `Receipt::validate`).
            (_, true) => PlannedStatus::PIECE_SOLD,
            (_, false) => PlannedStatus::MEASURED_SOLD,
        }
    }

    /// Price × quantity (× fraction) in kopecks, rounded half up; `None` on overflow.
    pub fn amount(&self) -> Option<Money> {
        let mut num = u128::from(self.price.0) * u128::from(self.quantity.mantissa);
        let mut den = 10u128.checked_pow(u32::from(self.quantity.scale))?;
        if let Some(f) = self.fraction.filter(|f| f.denominator != 0 && (f.numerator, f.denominator) != (0, 0)) {
            num *= u128::from(f.numerator);
            den *= u128::from(f.denominator);
        }
        let v = (num * 2 + den) / (den * 2);
        u64::try_from(v).ok().map(Money)
    }

    fn fraction_pair(&self) -> Option<(u32, u32)> {
        self.fraction.map(|f| (f.numerator, f.denominator))
    }
}

/// Payments by kind (tags 1031, 1081, 1215, 1216, 1217), in kopecks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payments {
    /// Cash handed over (change is given back from it).
    #[serde(default)]
    pub cash: Money,
    /// Card or other electronic means.
    #[serde(default)]
    pub electronic: Money,
    /// Prepayment (offset of an advance).
    #[serde(default)]
    pub prepayment: Money,
    /// Postpayment (credit).
    #[serde(default)]
    pub credit: Money,
    /// Counter-provision.
    #[serde(default)]
    pub consideration: Money,
}

/// Payments as the receipt records them: cash less the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Settled {
    /// Cash in the receipt (1031).
    pub cash: Money,
    /// Electronic (1081).
    pub electronic: Money,
    /// Prepayment (1215).
    pub prepayment: Money,
    /// Credit (1216).
    pub credit: Money,
    /// Counter-provision (1217).
    pub consideration: Money,
    /// Change handed back.
    pub change: Money,
}

/// The basis of a correction receipt (tags 1178, 1179).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectionBasis {
    /// Date of the settlement being corrected (1178), `YYYY-MM-DD`.
    pub date: NaiveDate,
    /// Number of the tax authority's order (1179), when the correction is by order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A receipt (or, with [`Receipt::correction`], a correction receipt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Idempotency key: the same key is never formed twice (see the journal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Sell, return, buy, buy return (1054).
    #[serde(with = "by_name")]
    pub operation: Operation,
    /// Taxation system (1055).
    #[serde(with = "by_name")]
    pub taxation: Taxation,
    /// The cashier (sent with 0x98).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cashier: Option<Cashier>,
    /// The customer (sent with 0x98).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// The items, in order.
    pub items: Vec<Item>,
    /// The payments.
    pub payments: Payments,
    /// Print the receipt (`false`: electronic only).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub print: bool,
    /// Present for a correction receipt (0x25 … 0x26).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<CorrectionBasis>,
}

fn at(i: usize, f: &str) -> String {
    format!("items[{i}].{f}")
}

/// The longest value of `t` the tag table allows, in bytes (cp866: one a character).
fn max_len(t: u16) -> usize {
    usize::from(tag_info(t).map_or(u16::MAX, |i| i.max_len))
}

/// A text within the tag table's limit for tag `t`, without NUL or other control characters
/// (a real FN refuses them; a marking code's GS is checked apart).
fn text(field: impl Into<String>, s: &str, t: u16) -> Result<(), InputError> {
    let field = field.into();
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(InputError::new(
            field,
            format!("control character U+{:04X} in the text: only printable characters are allowed", u32::from(c)),
        ));
    }
    length(field, s, t)
}

/// A text within the tag table's limit for tag `t` (any characters cp866 has).
fn length(field: impl Into<String>, s: &str, t: u16) -> Result<(), InputError> {
    let field = field.into();
    let max = max_len(t);
    let b = types::cp866(s).map_err(|e| InputError::new(field.clone(), e.to_string()))?;
    if b.len() > max {
        return Err(InputError::new(field, format!("{} characters is longer than the limit of {max}", b.len())));
    }
    Ok(())
}

/// A value the tables name (a receipt built in code may hold any number).
fn known<T: WireEnum>(field: &str, v: T) -> Result<(), InputError> {
    if v.known() {
        Ok(())
    } else {
        Err(InputError::new(field.to_string(), format!("{v} is not one of {}", T::NAMES.join(", "))))
    }
}

/// A country code: digits, at most as many as the tag table allows for tag `t`.
fn country(field: &str, s: &str, t: u16) -> Result<(), InputError> {
    let max = max_len(t);
    let lens: Vec<usize> = (1..=max).collect();
    digits(field, s, &lens, &format!("a country code of 1 to {max} digits"))
}

fn digits(field: &str, s: &str, lens: &[usize], what: &str) -> Result<(), InputError> {
    if lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(InputError::new(field.to_string(), format!("{s:?} is not {what}")))
    }
}

/// Limits a receipt is checked against besides the register's own: what a real FN or OFD
/// would refuse later, and typos (`kkt --max-items`, `--max-change`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most items (the virtual register takes 100; refused before 0x23).
    pub max_items: usize,
    /// The most change cash may give (cash tendered above the rest of the total).
    pub max_change: Money,
}

impl Limits {
    /// 100 items, 100 000.00 of change.
    pub const DEFAULT: Limits = Limits { max_items: 100, max_change: Money(10_000_000) };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Whether `s` is a customer's phone number (`+` and 10 to 15 digits, or 10 to 15 digits) or
/// e-mail address, as tag 1008 takes them.
pub fn is_contact(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if (10..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let Some((local, domain)) = s.split_once('@') else { return false };
    let atom = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    atom(local)
        && !local.starts_with('.')
        && !local.ends_with('.')
        && domain.split('.').count() >= 2
        && domain.split('.').all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
}

impl Receipt {
    /// A sale with no items yet.
    pub fn sell(taxation: Taxation) -> Self {
        Self {
            id: None,
            operation: Operation::SELL,
            taxation,
            cashier: None,
            customer: None,
            items: Vec::new(),
            payments: Payments::default(),
            print: true,
            correction: None,
        }
    }

    /// Reads the JSON form; an error names the field (`items[1].price`).
    pub fn from_json(json: &str) -> Result<Receipt, InputError> {
        if !json.trim_start().starts_with('{') {
            return Err(InputError::new("receipt", "a JSON object is expected"));
        }
        let mut de = serde_json::Deserializer::from_str(json);
        let r: Receipt = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let field = if matches!(path.as_str(), "." | "?" | "") { "receipt".to_string() } else { path };
            InputError::new(field, e.into_inner().to_string())
        })?;
        de.end().map_err(|e| InputError::new("receipt", e.to_string()))?;
        Ok(r)
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Sum of the items' amounts (price × quantity, each rounded half up to a kopeck).
    pub fn total(&self) -> Money {
        self.items.iter().filter_map(Item::amount).fold(Money::ZERO, |a, b| a.checked_add(b).unwrap_or(Money(u64::MAX)))
    }

    /// The payments as recorded: non-cash payments may not exceed the total, everything
    /// together must cover it, and cash above the rest is change.
    pub fn settle(&self) -> Result<Settled, InputError> {
        let total = self.total();
        let p = &self.payments;
        let noncash = [p.electronic, p.prepayment, p.credit, p.consideration]
            .iter()
            .try_fold(Money::ZERO, |a, b| a.checked_add(*b))
            .ok_or_else(|| InputError::new("payments", "the sum overflows"))?;
        if noncash > total {
            return Err(InputError::new(
                "payments",
                format!("non-cash payments {noncash} exceed the receipt total {total} (only cash can give change)"),
            ));
        }
        let all = noncash.checked_add(p.cash).ok_or_else(|| InputError::new("payments", "the sum overflows"))?;
        if all < total {
            return Err(InputError::new("payments", format!("payments {all} do not cover the receipt total {total}")));
        }
        let change = Money(all.0 - total.0);
        Ok(Settled {
            cash: Money(p.cash.0 - change.0),
            electronic: p.electronic,
            prepayment: p.prepayment,
            credit: p.credit,
            consideration: p.consideration,
            change,
        })
    }

    /// Checks everything the register would refuse, naming the field and the limit, with the
    /// default [`Limits`]. Nothing is sent when this fails.
    pub fn validate(&self) -> Result<(), InputError> {
        self.validate_with(&Limits::DEFAULT)
    }

    /// [`Receipt::validate`] with `limits`: besides the register's own limits, what a real FN
    /// or OFD refuses (control characters in texts, a contact that is neither a phone number
    /// nor an e-mail, an electronic receipt without a contact, a total of 0.00) and more items
    /// or change than `limits` allow.
    pub fn validate_with(&self, limits: &Limits) -> Result<(), InputError> {
        if let Some(id) = &self.id {
            if id.is_empty() || id.len() > 128 {
                return Err(InputError::new("id", "an idempotency key of 1 to 128 characters"));
            }
        }
        if let Some(c) = &self.cashier {
            if c.name.trim().is_empty() {
                return Err(InputError::new("cashier.name", "must not be empty"));
            }
            text("cashier.name", &c.name, tag::CASHIER_NAME)?;
            if let Some(inn) = &c.inn {
                digits("cashier.inn", inn, &[12], "a cashier's INN of 12 digits")?;
            }
        }
        if let Some(c) = &self.customer {
            if let Some(v) = &c.contact {
                text("customer.contact", v, tag::CUSTOMER_EMAIL_OR_PHONE)?;
                if !is_contact(v) {
                    return Err(InputError::new(
                        "customer.contact",
                        "neither a phone number (+79990000000) nor an e-mail address (name@example.ru)",
                    ));
                }
            }
            if let Some(v) = &c.name {
                text("customer.name", v, tag::CUSTOMER_NAME)?;
            }
            if let Some(v) = &c.inn {
                digits("customer.inn", v, &[10, 12], "an INN of 12 digits (10 for a company)")?;
            }
            if let Some(v) = &c.birth_date {
                crate::commands::fields::dd_mm_yyyy("customer.birth_date", v)?;
            }
            if let Some(v) = &c.citizenship {
                country("customer.citizenship", v, tag::CUSTOMER_CITIZENSHIP)?;
            }
            if let Some(t) = c.document_type {
                crate::commands::fields::check_enum(
                    "customer.document_type",
                    t,
                    crate::commands::receipt::ID_DOCUMENT_TYPES,
                )?;
            }
            if let Some(v) = &c.document {
                text("customer.document", v, tag::IDENTITY_DOCUMENT_DATA)?;
            }
            if let Some(v) = &c.address {
                text("customer.address", v, tag::CUSTOMER_ADDRESS)?;
            }
        }
        known("operation", self.operation)?;
        known("taxation", self.taxation)?;
        if self.items.is_empty() {
            return Err(InputError::new("items", "a receipt needs at least one item"));
        }
        if self.items.len() > limits.max_items {
            return Err(InputError::new(
                "items",
                format!("{} items are more than the limit of {} (--max-items)", self.items.len(), limits.max_items),
            ));
        }
        if !self.print && self.correction.is_none() && self.customer.as_ref().and_then(|c| c.contact.as_ref()).is_none()
        {
            return Err(InputError::new(
                "customer.contact",
                "an electronic receipt (print: false) is sent to the customer: give their phone number or e-mail",
            ));
        }
        for (i, it) in self.items.iter().enumerate() {
            known(&at(i, "measure"), it.measure)?;
            known(&at(i, "vat"), it.vat)?;
            known(&at(i, "payment_method"), it.payment_method)?;
            known(&at(i, "payment_object"), it.payment_object)?;
            if let Some(s) = it.planned_status {
                known(&at(i, "planned_status"), s)?;
            }
            if it.name.trim().is_empty() {
                return Err(InputError::new(at(i, "name"), "must not be empty"));
            }
            text(at(i, "name"), &it.name, tag::ITEM_NAME)?;
            if it.quantity.mantissa == 0 {
                return Err(InputError::new(at(i, "quantity"), "must be greater than 0"));
            }
            if it.quantity.scale > 6 {
                return Err(InputError::new(at(i, "quantity"), "at most 6 decimal places"));
            }
            if it.amount().is_none_or(|a| a.0 > types::U40_MAX) {
                return Err(InputError::new(at(i, "price"), "price × quantity is too large"));
            }
            if let Some(b) = &it.barcode {
                if it.is_marked() {
                    return Err(InputError::new(at(i, "barcode"), "a marked item carries its marking code instead"));
                }
                text(at(i, "barcode"), b, tag::MARKING_CODE)?;
            }
            if let Some(c) = &it.country {
                country(&at(i, "country"), c, tag::COUNTRY_OF_ORIGIN_CODE)?;
            }
            if let Some(v) = &it.customs_declaration {
                text(at(i, "customs_declaration"), v, tag::CUSTOMS_DECLARATION_NUMBER)?;
            }
            if let Some(v) = &it.additional {
                text(at(i, "additional"), v, tag::ADDITIONAL_ITEM_REQUISITE)?;
            }
            match (&it.marking_code, it.payment_object.needs_marking_code()) {
                (Some(code), true) => {
                    if code.is_empty() {
                        return Err(InputError::new(at(i, "marking_code"), "must not be empty"));
                    }
                    length(at(i, "marking_code"), code, tag::MARKING_CODE)?;
                    if let Some(c) = code.chars().find(|c| c.is_control() && *c != '\u{1d}') {
                        return Err(InputError::new(
                            at(i, "marking_code"),
                            format!(
                                "control character U+{:04X}: only GS (U+001D) separates a code's fields",
                                u32::from(c)
                            ),
                        ));
                    }
                    if !code.is_ascii() {
                        return Err(InputError::new(
                            at(i, "marking_code"),
                            "a marking code is ASCII (GS as the single character U+001D)",
                        ));
                    }
                    check_marked_quantity(it.measure, it.quantity, it.fraction_pair()).map_err(|e| {
                        let f = if matches!(e, MarkedQuantityError::PieceNotOne(_)) { "quantity" } else { "fraction" };
                        InputError::new(at(i, f), e.to_string())
                    })?;
                }
                (Some(_), false) => {
                    return Err(InputError::new(
                        at(i, "marking_code"),
                        format!(
                            "payment_object {} does not carry a marking code (use marked_commodity or marked_excise)",
                            it.payment_object
                        ),
                    ))
                }
                (None, true) => {
                    return Err(InputError::new(
                        at(i, "marking_code"),
                        format!("payment_object {} needs the scanned marking code", it.payment_object),
                    ))
                }
                (None, false) => {
                    if it.planned_status.is_some() {
                        return Err(InputError::new(
                            at(i, "planned_status"),
                            "only marked goods have a planned status",
                        ));
                    }
                    if it.fraction.is_some() {
                        return Err(InputError::new(
                            at(i, "fraction"),
                            "only marked piece goods are sold in fractions",
                        ));
                    }
                }
            }
        }
        if let Some(c) = &self.correction {
            if let Some(n) = &c.order_number {
                text("correction.order_number", n, tag::TAX_AUTHORITY_ORDER_NUMBER)?;
            }
        }
        if self.total() == Money::ZERO {
            return Err(InputError::new("items", "the receipt total is 0.00: a real FN refuses it"));
        }
        let settled = self.settle()?;
        if settled.change > limits.max_change {
            return Err(InputError::new(
                "payments.cash",
                format!(
                    "the change {} is more than the limit of {} (--max-change): is the cash tendered a typo?",
                    settled.change, limits.max_change
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{"operation": "sell", "taxation": "osn", "cashier": {"name": "Иванова А.А.", "inn": "500100732259"},
 "customer": {"contact": "+79990000000"},
 "items": [
   {"name": "Хлеб", "price": "45.50", "quantity": "2", "vat": "vat20", "payment_method": "full_payment", "payment_object": "commodity"},
   {"name": "Молоко 3,2%", "price": "89.90", "quantity": "1", "vat": "vat10", "payment_method": "full_payment", "payment_object": "marked_commodity",
    "marking_code": "0104607028393034215'Wt4q\u001d93dGVz", "planned_status": "piece_sold"}],
 "payments": {"cash": "200.00", "electronic": "0"}, "print": true}"#;

    fn example() -> Receipt {
        Receipt::from_json(EXAMPLE).unwrap()
    }

    #[test]
    fn reads_the_cli_example() {
        let r = example();
        assert_eq!(r.operation, Operation::SELL);
        assert_eq!(r.taxation.code(), 1);
        assert_eq!(r.items[0].price, Money(4550));
        assert_eq!(r.items[0].quantity, Decimal::integer(2));
        assert_eq!(r.items[0].measure, Measure::PIECE);
        assert_eq!(r.items[1].marking_code.as_deref(), Some("0104607028393034215'Wt4q\u{1d}93dGVz"));
        assert_eq!(r.items[1].planned_status, Some(PlannedStatus::PIECE_SOLD));
        assert_eq!(r.total(), Money(18090));
        let s = r.settle().unwrap();
        assert_eq!((s.cash, s.change, s.electronic), (Money(18090), Money(1910), Money(0)));
        r.validate().unwrap();
        // JSON round trip.
        assert_eq!(Receipt::from_json(&r.to_json()).unwrap(), r);
    }

    #[test]
    fn numbers_are_read_exactly() {
        let j = |price: &str, qty: &str| {
            format!(
                r#"{{"operation":"sell","taxation":"osn","items":[{{"name":"x","price":{price},"quantity":{qty},
                "vat":"vat20","payment_method":"full_payment","payment_object":"commodity","measure":"kilogram"}}],"payments":{{"cash":1000000}}}}"#
            )
        };
        let r = Receipt::from_json(&j("0.29", "0.1")).unwrap();
        assert_eq!(r.items[0].price, Money(29));
        assert_eq!(r.items[0].quantity, Decimal::new(1, 1));
        // 0.1 × 0.29 rub = 2.9 kopecks → 3.
        assert_eq!(r.total(), Money(3));
        let r = Receipt::from_json(&j("\"1234567.89\"", "\"1.500\"")).unwrap();
        assert_eq!(r.items[0].price, Money(123456789));
        assert_eq!(r.items[0].quantity, Decimal::new(1500, 3));
        for (price, qty, field, needle) in [
            ("\"45.505\"", "1", "items[0].price", "more than 2 decimal places"),
            ("45.505", "1", "items[0].price", "more than 2 decimal places"),
            ("-1", "1", "items[0].price", "negative"),
            ("\"-1.00\"", "1", "items[0].price", "negative"),
            ("1e2", "1", "items[0].price", "exponent"),
            ("\"abc\"", "1", "items[0].price", "not a decimal"),
            ("true", "1", "items[0].price", "expected a decimal"),
            ("1", "-2", "items[0].quantity", "negative"),
            ("1", "\"x\"", "items[0].quantity", "digits"),
        ] {
            let e = Receipt::from_json(&j(price, qty)).unwrap_err();
            assert_eq!(e.field, field, "{price} {qty}: {e}");
            assert!(e.message.contains(needle), "{price} {qty}: {e}");
        }
    }

    #[test]
    fn unknown_fields_and_enums_are_errors() {
        let e = Receipt::from_json(&EXAMPLE.replace("\"print\"", "\"printer\"")).unwrap_err();
        assert_eq!(e.field, "printer");
        let e = Receipt::from_json(&EXAMPLE.replace("\"vat10\"", "\"vat18\"")).unwrap_err();
        assert_eq!(e.field, "items[1].vat");
        assert!(e.message.contains("vat18"), "{e}");
        let e = Receipt::from_json(&EXAMPLE.replace("\"contact\"", "\"phone\"")).unwrap_err();
        assert_eq!(e.field, "customer.phone");
        let e =
            Receipt::from_json(&EXAMPLE.replace("\"operation\": \"sell\"", "\"operation\": \"refund\"")).unwrap_err();
        assert_eq!(e.field, "operation");
        let e = Receipt::from_json(&format!("{EXAMPLE} x")).unwrap_err();
        assert_eq!(e.field, "receipt");
    }

    #[test]
    fn validate_names_the_field() {
        type Edit = Box<dyn Fn(&mut Receipt)>;
        let cases: Vec<(Edit, &str, &str)> = vec![
            (Box::new(|r| r.items[0].name = "я".repeat(129)), "items[0].name", "128"),
            (Box::new(|r| r.items[0].name = "★".into()), "items[0].name", "866"),
            (Box::new(|r| r.items[0].name = " ".into()), "items[0].name", "empty"),
            (Box::new(|r| r.cashier.as_mut().unwrap().inn = Some("7740000076".into())), "cashier.inn", "12 digits"),
            (Box::new(|r| r.cashier.as_mut().unwrap().name = "a".repeat(65)), "cashier.name", "64"),
            (Box::new(|r| r.customer.as_mut().unwrap().inn = Some("123".into())), "customer.inn", "INN"),
            (Box::new(|r| r.items[1].quantity = Decimal::integer(2)), "items[1].quantity", "quantity 1"),
            (Box::new(|r| r.items[1].marking_code = None), "items[1].marking_code", "needs"),
            (Box::new(|r| r.items[0].marking_code = Some("010".into())), "items[0].marking_code", "does not carry"),
            (Box::new(|r| r.items[1].marking_code = Some("01Ж".into())), "items[1].marking_code", "ASCII"),
            (Box::new(|r| r.items[0].quantity = Decimal::integer(0)), "items[0].quantity", "greater than 0"),
            (Box::new(|r| r.payments.cash = Money(18089)), "payments", "do not cover"),
            (
                Box::new(|r| {
                    r.payments.cash = Money(0);
                    r.payments.electronic = Money(18091)
                }),
                "payments",
                "exceed",
            ),
            (Box::new(|r| r.items.clear()), "items", "at least one"),
            (
                Box::new(|r| r.items[1].fraction = Some(Fraction { numerator: 3, denominator: 2 })),
                "items[1].fraction",
                "numerator",
            ),
            (Box::new(|r| r.items[0].planned_status = Some(PlannedStatus::PIECE_SOLD)), "items[0].planned_status", ""),
        ];
        for (f, field, needle) in cases {
            let mut r = example();
            f(&mut r);
            let e = r.validate().unwrap_err();
            assert_eq!(e.field, field, "{e}");
            assert!(e.message.contains(needle), "{e}");
        }
        // A company's INN is fine for a customer.
        let mut r = example();
        r.customer.as_mut().unwrap().inn = Some("7740000076".into());
        r.validate().unwrap();
    }

    #[test]
    fn planned_status_defaults_follow_the_operation() {
        let mut it = Item::marked("x", Money(100), Vat::VAT20, "010");
        assert_eq!(it.planned_status_for(Operation::SELL), PlannedStatus::PIECE_SOLD);
        assert_eq!(it.planned_status_for(Operation::SELL_RETURN), PlannedStatus::PIECE_RETURNED);
        it.measure = Measure::KILOGRAM;
        assert_eq!(it.planned_status_for(Operation::SELL), PlannedStatus::MEASURED_SOLD);
        assert_eq!(it.planned_status_for(Operation::SELL_RETURN), PlannedStatus::MEASURED_RETURNED);
        it.planned_status = Some(PlannedStatus::UNCHANGED);
        assert_eq!(it.planned_status_for(Operation::SELL), PlannedStatus::UNCHANGED);
    }

    #[test]
    fn enum_codes_are_the_documented_ones() {
        // The values the commands took as allow-lists before the enumerations were declared
        // once (protocol::values): the receipt model and the commands now share them.
        let codes = |v: &[u8]| v.to_vec();
        let item_types: Vec<u8> = (1..=27).chain(30..=33).collect();
        let measures = [0, 10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 70, 71, 72, 73, 80, 81, 82, 83, 255];
        assert_eq!(Vat::ALL.iter().map(|v| v.code()).collect::<Vec<_>>(), codes(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
        assert_eq!(PaymentMethod::ALL.iter().map(|v| v.code()).collect::<Vec<_>>(), codes(&[1, 2, 3, 4, 5, 6, 7]));
        assert_eq!(PaymentObject::ALL.iter().map(|v| v.code()).collect::<Vec<_>>(), item_types);
        assert_eq!(Measure::ALL.iter().map(|v| v.code()).collect::<Vec<_>>(), codes(&measures));
        assert_eq!(PlannedStatus::ALL.iter().map(|v| v.code()).collect::<Vec<_>>(), codes(&[1, 2, 3, 4, 255]));
        assert_eq!(Taxation::ALL.iter().map(|v| v.code()).collect::<Vec<_>>(), codes(&[1, 2, 4, 16, 32]));
        assert_eq!(Operation::ALL.iter().map(|v| v.code()).collect::<Vec<_>>(), codes(&[1, 2, 3, 4]));
        for v in Vat::ALL {
            assert_eq!(Vat::known(v.code()), Some(*v));
            assert_eq!(v.name().unwrap().parse::<Vat>(), Ok(*v));
        }
    }

    #[test]
    fn limits_come_from_the_tag_table() {
        // Tag 2000 takes 256 bytes: a marking code of 256 characters passes, 257 do not.
        let mut r = example();
        r.items[1].marking_code = Some(format!("01046070283930342{}", "x".repeat(256 - 17)));
        r.validate().unwrap();
        r.items[1].marking_code = Some(format!("01046070283930342{}", "x".repeat(257 - 17)));
        let e = r.validate().unwrap_err();
        assert_eq!(e.field, "items[1].marking_code");
        assert!(e.message.contains("256"), "{e}");
        // A value no table names, set in code, is refused before anything is sent.
        let mut r = example();
        r.items[0].vat = Vat::from(42);
        let e = r.validate().unwrap_err();
        assert_eq!(e.field, "items[0].vat");
        assert!(e.message.starts_with("0x2a is not one of vat20"), "{e}");
        let mut r = example();
        r.operation = Operation::from(9);
        assert_eq!(r.validate().unwrap_err().field, "operation");
    }

    #[test]
    fn money_text() {
        assert_eq!("45.5".parse::<Money>(), Ok(Money(4550)));
        assert_eq!("0.01".parse::<Money>(), Ok(Money(1)));
        assert_eq!("7".parse::<Money>(), Ok(Money(700)));
        assert_eq!("1.230".parse::<Money>(), Ok(Money(123)));
        assert!(matches!("1.235".parse::<Money>(), Err(MoneyError::TooPrecise(_))));
        assert_eq!(Money(5).to_string(), "0.05");
        assert_eq!(Money(123456).to_string(), "1234.56");
    }
}
