//! What a receipt becomes on the wire: the typed requests of a receipt or a correction receipt
//! ([`Plan`]), each encoded once here (which checks every input, so nothing is sent when one
//! is wrong) and sent as encoded.
//!
//! A receipt is: open (0x23; 0x25 for a correction), its items in order (0x96 for an unmarked
//! item; 0x91, 0x92 (not in autonomous mode), 0x94 and 0x97 for a marked one), the
//! requisites (0x98, when there are any), the payment (0x2D) and the form (0x24; 0x26). The
//! 0x94 of a marked item (save or delete its check result) is decided during the sale from the
//! checks' answers, so it is not planned; nor is the tag 1260 a checker adds to a 0x97 (that
//! item is encoded again with it).

use super::core::in_field;
use crate::commands::marking::{CheckMarkLocal, CheckMarkOnline};
use crate::commands::receipt::{
    FormCorrectionReceipt, FormReceipt, ItemDetails, MarkedItem, OpenCorrectionReceipt, OpenReceipt, Payment,
    ReceiptRequisites, UnmarkedItem, NO_PRINT,
};
use crate::commands::{InputError, Request};
use crate::error::Error;
use crate::marking::MarkingCode;
use crate::protocol::Decimal;
use crate::receipt::{Item, Measure, Money, PlannedStatus, Receipt};

/// A typed request and its DATA, encoded (and so checked) once.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Encoded<R> {
    /// The request.
    pub(crate) req: R,
    /// Its DATA.
    pub(crate) data: Vec<u8>,
}

impl<R: Request> Encoded<R> {
    /// Encodes `req`; an input error names the field inside the request.
    pub(crate) fn new(req: R) -> Result<Self, InputError> {
        let mut data = Vec::new();
        req.encode(&mut data)?;
        Ok(Self { req, data })
    }

    /// The command code and DATA, for the request list.
    fn frame(&self) -> (u8, &[u8]) {
        (R::CODE, &self.data)
    }

    /// The command code.
    pub(crate) fn frame_code(&self) -> u8 {
        R::CODE
    }
}

/// 0x23 or 0x25.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Open {
    /// A receipt.
    Receipt(Encoded<OpenReceipt>),
    /// A correction receipt.
    Correction(Encoded<OpenCorrectionReceipt>),
}

/// 0x24 or 0x26.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Form {
    /// A receipt.
    Receipt(Encoded<FormReceipt>),
    /// A correction receipt.
    Correction(Encoded<FormCorrectionReceipt>),
}

/// One item of the receipt.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ItemStep {
    /// 0x96.
    Plain(Box<Encoded<UnmarkedItem>>),
    /// 0x91, 0x92, (0x94), 0x97.
    Marked {
        /// 0x91: the FN's check of the code.
        local: Encoded<CheckMarkLocal>,
        /// 0x92: the OISM's (skipped in autonomous mode).
        online: Encoded<CheckMarkOnline>,
        /// 0x97: the item.
        item: Box<Encoded<MarkedItem>>,
        /// The code, parsed once: its real bytes are what 0x91 and 0x97 (tag 2000) carry and
        /// what the checker checks.
        code: Box<MarkingCode>,
    },
}

/// The requests of one receipt (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    /// Opens it.
    pub(crate) open: Open,
    /// Its items, in order.
    pub(crate) items: Vec<ItemStep>,
    /// 0x98, when the receipt has a cashier, a customer or a correction basis.
    pub(crate) requisites: Option<Encoded<ReceiptRequisites>>,
    /// 0x2D.
    pub(crate) payment: Encoded<Payment>,
    /// Forms it.
    pub(crate) form: Form,
    /// The receipt total.
    pub(crate) total: Money,
    /// The change handed back from cash.
    pub(crate) change: Money,
    /// Per item, the cashier's confirmation of its check (`mark_confirmation`).
    pub(crate) confirmations: Vec<Option<String>>,
}

impl Plan {
    /// The requests of `receipt` (a correction receipt when `correction` is set), each encoded:
    /// an input that cannot be sent is refused here, naming its field.
    #[cfg(test)]
    pub(crate) fn new(receipt: &Receipt) -> Result<Plan, Error> {
        Self::with_limits(receipt, &crate::receipt::Limits::DEFAULT)
    }

    /// [`Plan::new`] with the limits of the driver's options.
    pub(crate) fn with_limits(receipt: &Receipt, limits: &crate::receipt::Limits) -> Result<Plan, Error> {
        receipt.validate_with(limits)?;
        let settled = receipt.settle()?;
        let total = receipt.total();
        let mut items = Vec::with_capacity(receipt.items.len());
        for (i, it) in receipt.items.iter().enumerate() {
            let p = format!("items[{i}]");
            items.push(item_step(receipt, it).map_err(|e| in_field(&p, e))?);
        }
        let requisites = requisites(receipt)
            .map(Encoded::new)
            .transpose()
            .map_err(|e| InputError::new(format!("requisites.{}", e.field), e.message))?;
        let nz = |m: Money| (m.kopecks() > 0).then_some(m.kopecks());
        let mut payment = Payment {
            taxation: Some(receipt.taxation),
            cash: nz(settled.cash),
            electronic: nz(settled.electronic),
            prepayment: nz(settled.prepayment),
            credit: nz(settled.credit),
            consideration: nz(settled.consideration),
            ..Payment::default()
        };
        if payment.total() == 0 {
            payment.cash = Some(0);
        }
        let payment = Encoded::new(payment)?;
        let print_option = (!receipt.print).then_some(NO_PRINT);
        let (operation, kopecks) = (receipt.operation, total.kopecks());
        let (open, form) = if receipt.correction.is_some() {
            (
                Open::Correction(Encoded::new(OpenCorrectionReceipt { print_option })?),
                Form::Correction(Encoded::new(FormCorrectionReceipt { operation, total: kopecks })?),
            )
        } else {
            (
                Open::Receipt(Encoded::new(OpenReceipt { print_option })?),
                Form::Receipt(Encoded::new(FormReceipt { operation, total: kopecks })?),
            )
        };
        let confirmations = receipt.items.iter().map(|it| it.mark_confirmation.clone()).collect();
        Ok(Plan { open, items, requisites, payment, form, total, change: settled.change, confirmations })
    }

    /// Per item, its parsed marking code (None for unmarked goods).
    pub(crate) fn codes(&self) -> Vec<Option<&MarkingCode>> {
        self.items
            .iter()
            .map(|s| match s {
                ItemStep::Marked { code, .. } => Some(code.as_ref()),
                ItemStep::Plain(_) => None,
            })
            .collect()
    }

    /// The command that opens the receipt.
    pub(crate) fn open_code(&self) -> u8 {
        self.open_frame().0
    }

    fn open_frame(&self) -> (u8, &[u8]) {
        match &self.open {
            Open::Receipt(r) => r.frame(),
            Open::Correction(r) => r.frame(),
        }
    }

    /// Every planned request in the order it is sent (code, DATA): what the register receives
    /// when every code is saved, 0x92 included, and no checker adds a tag 1260.
    #[cfg(test)]
    pub(crate) fn requests(&self) -> Vec<(u8, &[u8])> {
        let mut out = vec![self.open_frame()];
        for step in &self.items {
            match step {
                ItemStep::Plain(u) => out.push(u.frame()),
                ItemStep::Marked { local, online, item, .. } => {
                    out.extend([local.frame(), online.frame()]);
                    out.push(item.frame());
                }
            }
        }
        out.extend(self.requisites.as_ref().map(Encoded::frame));
        out.push(self.payment.frame());
        out.push(match &self.form {
            Form::Receipt(r) => r.frame(),
            Form::Correction(r) => r.frame(),
        });
        out
    }
}

fn item_step(receipt: &Receipt, it: &Item) -> Result<ItemStep, InputError> {
    Ok(match &it.marking_code {
        None => {
            let mut u = UnmarkedItem::new(
                &it.name,
                it.price.kopecks(),
                it.quantity,
                it.vat.code(),
                it.payment_method.code(),
                it.payment_object.code(),
            );
            u.measure = (it.measure != Measure::PIECE).then_some(it.measure);
            u.barcode = it.barcode.clone();
            fill_details(&mut u.details, it);
            ItemStep::Plain(Box::new(Encoded::new(u)?))
        }
        Some(scanned) => {
            // Parsed once, whatever the rendering (`<GS>`, `\u001d`, `]d2`): the register, the
            // checker and the journal get the code's real bytes (GS as 0x1D).
            let parsed = MarkingCode::parse(scanned).map_err(|e| InputError::new("marking_code", e.to_string()))?;
            let code = parsed.as_str();
            let status = it.planned_status_for(receipt.operation);
            let fraction = it.fraction.map(|f| (f.numerator, f.denominator));
            let mut m = MarkedItem::piece(
                &it.name,
                it.price.kopecks(),
                it.vat.code(),
                it.payment_method.code(),
                it.payment_object.code(),
                code,
            );
            m.quantity = it.quantity;
            m.status = status;
            m.measure = it.measure;
            m.fraction = fraction;
            fill_details(&mut m.details, it);
            let item = Box::new(Encoded::new(m)?);
            let local = Encoded::new(CheckMarkLocal::new(code))?;
            let online = Encoded::new(online_request(status, it.quantity, it.measure, fraction))?;
            ItemStep::Marked { local, online, item, code: Box::new(parsed) }
        }
    })
}

/// 0x92 for a code: the planned status, and the quantity for measured goods.
pub(crate) fn online_request(
    status: PlannedStatus,
    quantity: Decimal,
    measure: Measure,
    fraction: Option<(u32, u32)>,
) -> CheckMarkOnline {
    let measured = matches!(status, PlannedStatus::MEASURED_SOLD | PlannedStatus::MEASURED_RETURNED);
    CheckMarkOnline {
        planned_status: status,
        mode: 0,
        // Seed 004: for piece goods the quantity is exactly 1; it matters to the OISM for
        // statuses 2 and 4.
        quantity: if measured { quantity } else { Decimal::integer(1) },
        measure,
        fraction,
    }
}

/// Tags 1262–1265 of one STLV 1260 or 1261.
fn industry(r: &crate::receipt::IndustryRequisite) -> crate::commands::receipt::IndustryRequisite {
    crate::commands::receipt::IndustryRequisite::new(r.foiv_id, &r.document_date, &r.document_number, &r.value)
}

fn fill_details(d: &mut ItemDetails, it: &Item) {
    d.excise = it.excise.map(Money::kopecks);
    d.country = it.country_code.clone();
    d.customs_declaration = it.customs_declaration.clone();
    d.additional = it.additional_requisite.clone();
    if let Some(a) = &it.agent {
        let g = &mut d.agent;
        g.agent_type = Some(a.agent_type);
        g.operation = a.operation.clone();
        g.transfer_operator_phones = a.transfer_operator_phones.clone();
        g.transfer_operator_name = a.transfer_operator_name.clone();
        g.transfer_operator_address = a.transfer_operator_address.clone();
        g.transfer_operator_inns = a.transfer_operator_inn.iter().cloned().collect();
        g.agent_phones = a.payment_agent_phones.clone();
        g.acceptance_operator_phones = a.payment_operator_phones.clone();
    }
    if let Some(sup) = &it.supplier {
        d.agent.supplier_phones = sup.phones.clone();
        d.agent.supplier_name = sup.name.clone();
        d.agent.supplier_inn = sup.inn.clone();
    }
    d.industry = it.industry_requisites.iter().map(industry).collect();
}

/// 0x98 from the receipt's cashier, customer, settlement address, place and vending machine
/// number, additional and user requisites, industry requisites and correction basis (None when
/// it has none).
fn requisites(receipt: &Receipt) -> Option<ReceiptRequisites> {
    let mut req = ReceiptRequisites::default();
    if let Some(c) = &receipt.cashier {
        req.cashier = Some(c.name.clone());
        req.cashier_inn = c.inn.clone();
    }
    if let Some(c) = &receipt.customer {
        req.customer_contact = c.contact.clone();
        req.customer = c.name.clone();
        req.customer_inn = c.inn.clone();
        req.customer_birth_date = c.birth_date.clone();
        req.customer_citizenship = c.citizenship.clone();
        req.id_document_type = c.document_type;
        req.id_document = c.document.clone();
        req.customer_address = c.address.clone();
    }
    req.address = receipt.settlement_address.clone();
    req.place = receipt.settlement_place.clone();
    req.automat_number = receipt.automat_number.clone();
    req.additional = receipt.additional_requisite.clone();
    if let Some(u) = &receipt.user_requisite {
        req.user_requisite_name = Some(u.name.clone());
        req.user_requisite_value = Some(u.value.clone());
    }
    req.industry = receipt.industry_requisites.iter().map(industry).collect();
    if let Some(c) = &receipt.correction {
        req.corrected_date = Some(c.date.and_time(chrono::NaiveTime::MIN));
        req.order_number = c.order_number.clone();
    }
    (req != ReceiptRequisites::default()).then_some(req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::Request;
    use crate::protocol::cmd;
    use crate::receipt::{Cashier, CorrectionBasis, Operation, Taxation, Vat};

    const CODE: &str = "0104607028393037215'Wt4q\u{1d}93dGVz";

    fn sale() -> Receipt {
        let mut r = Receipt::sell(Taxation::OSN);
        r.items.push(Item::new("Хлеб", Money::from_kopecks(4550), Decimal::integer(2), Vat::VAT10));
        r.items.push(Item::marked("Сигареты", Money::from_kopecks(17500), Vat::VAT20, CODE));
        r.payments.cash = Money::from_kopecks(30000);
        r
    }

    fn codes(p: &Plan) -> Vec<u8> {
        p.requests().iter().map(|(c, _)| *c).collect()
    }

    #[test]
    fn a_sale_with_a_marked_item() {
        let p = Plan::new(&sale()).unwrap();
        assert_eq!(
            codes(&p),
            vec![
                cmd::BEGIN_RECEIPT,
                UnmarkedItem::CODE,
                CheckMarkLocal::CODE,
                CheckMarkOnline::CODE,
                MarkedItem::CODE,
                Payment::CODE,
                cmd::FORM_RECEIPT
            ]
        );
        assert_eq!(p.open_code(), cmd::BEGIN_RECEIPT);
        assert_eq!((p.total, p.change), (Money::from_kopecks(26600), Money::from_kopecks(3400)));
        // Each request's DATA is its own encoding, made once here.
        for (step, i) in p.items.iter().zip(0..) {
            match step {
                ItemStep::Plain(u) => assert_eq!(u.data, encoded(&u.req), "item {i}"),
                ItemStep::Marked { local, online, item, .. } => {
                    assert_eq!(local.req.code, CODE);
                    assert_eq!(online.req.planned_status, PlannedStatus::PIECE_SOLD);
                    assert_eq!(online.req.quantity, Decimal::integer(1));
                    assert_eq!(item.data, encoded(&item.req));
                }
            }
        }
        // 0x24: operation 1 (sale), total 266.00 as UINT40.
        assert_eq!(p.requests().last().unwrap().1, &[1, 0xE8, 0x67, 0, 0, 0]);
        // 0x2D carries the cash that stays: the change is handed back.
        assert_eq!(p.payment.req.cash, Some(26600));
        assert!(p.requisites.is_none());
    }

    #[test]
    fn a_correction_receipt() {
        let mut r = sale();
        r.items.remove(1);
        r.payments.cash = Money::from_kopecks(9100);
        r.operation = Operation::SELL_RETURN;
        r.print = false;
        r.cashier = Some(Cashier::new("Иванова А.А."));
        r.correction = Some(CorrectionBasis {
            date: chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
            order_number: Some("12".into()),
        });
        let p = Plan::new(&r).unwrap();
        assert_eq!(
            codes(&p),
            vec![
                cmd::BEGIN_CORRECTION,
                UnmarkedItem::CODE,
                ReceiptRequisites::CODE,
                Payment::CODE,
                cmd::FORM_CORRECTION
            ]
        );
        let Open::Correction(open) = &p.open else { panic!("{:?}", p.open) };
        assert_eq!(open.req.print_option, Some(NO_PRINT));
        let Form::Correction(form) = &p.form else { panic!("{:?}", p.form) };
        assert_eq!((form.req.operation, form.req.total), (Operation::SELL_RETURN, 9100));
        let req = &p.requisites.as_ref().unwrap().req;
        assert_eq!(req.cashier.as_deref(), Some("Иванова А.А."));
        assert_eq!(req.order_number.as_deref(), Some("12"));
        assert!(req.corrected_date.is_some());
    }

    #[test]
    fn bad_input_is_refused_naming_the_field() {
        let mut r = sale();
        r.items[1].name = "x".repeat(200);
        let e = Plan::new(&r).unwrap_err();
        assert!(matches!(&e, Error::Input(i) if i.field.starts_with("items[1].")), "{e}");
    }

    fn encoded<R: Request>(r: &R) -> Vec<u8> {
        let mut d = Vec::new();
        r.encode(&mut d).unwrap();
        d
    }
}
