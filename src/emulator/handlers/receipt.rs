//! Receipts and correction receipts (0x23 … 0x24, 0x25 … 0x26, items 0x96/0x97, 0x98, 0x2D)
//! and 0x10, which cancels any open document.

use chrono::{Datelike, NaiveDateTime};

use super::{decode_error_code, Cx, Handled};
use crate::commands::document::CancelDocument;
use crate::commands::receipt::{self, *};
use crate::commands::Request;
use crate::commands::{DecodeError, Empty};
use crate::emulator::register::{item_sum, Register};
use crate::emulator::state::{doc_type, ItemRecord, Notification, PaymentRecord, ReceiptDraft};
use crate::protocol::values::{Operation, Vat};
use crate::protocol::{err, tag, TlvWriter};
use crate::session::{ReceiptKind, SessionState};

pub(super) fn cancel(r: &mut Register, _: CancelDocument, _: &mut Cx) -> Handled<Empty> {
    r.state.session = r.order(|s| {
        s.cancel();
        Ok(())
    })?;
    r.state.receipt = None;
    r.state.mark = None;
    r.state.check_table.clear();
    r.state.registration_draft = None;
    Ok(Empty)
}

fn open_kind(r: &mut Register, kind: ReceiptKind, cx: &Cx) -> Handled<Empty> {
    r.need_fiscal()?;
    let t = cx.t;
    r.state.session = r.order(|s| s.open_receipt(kind, Some(t)))?;
    r.state.receipt = Some(ReceiptDraft {
        kind,
        items: Vec::new(),
        payment: None,
        corrected_date: false,
        settlement_tags: Vec::new(),
        tlv: Vec::new(),
    });
    Ok(Empty)
}

pub(super) fn open(r: &mut Register, _: OpenReceipt, cx: &mut Cx) -> Handled<Empty> {
    open_kind(r, ReceiptKind::Receipt, cx)
}

pub(super) fn open_correction(r: &mut Register, _: OpenCorrectionReceipt, cx: &mut Cx) -> Handled<Empty> {
    open_kind(r, ReceiptKind::Correction, cx)
}

impl Register {
    /// The VAT rate (tag 1199) is known, and the rates of 2025 are not used before 2025.
    pub(in crate::emulator) fn check_vat(&self, vat: u8, t: NaiveDateTime) -> Result<(), u8> {
        if !Vat::from(vat).is_known() {
            return Err(err::TAX_NOT_APPLICABLE);
        }
        if vat >= 7 && t.date().year() < 2025 {
            return Err(err::VAT_FROM_2025);
        }
        Ok(())
    }

    /// Adds an item to the open receipt; `tlv` is the item's data as 0x96/0x97 sent it, kept as
    /// its STLV 1059 with the item's total (1043).
    fn add_item(&mut self, item: ItemRecord, tlv: &[u8]) -> Result<(), u8> {
        let max = self.options.max_items;
        let rc = self.state.receipt.as_mut().ok_or(err::WRONG_FN_STATE)?;
        if rc.items.len() >= max {
            return Err(err::TOO_MANY_ITEMS);
        }
        let mut body = tlv.to_vec();
        let mut w = TlvWriter::new();
        w.vln(tag::ITEM_TOTAL, item.sum).map_err(|_| err::BAD_PARAMETER)?;
        body.extend_from_slice(w.as_bytes());
        let mut s = TlvWriter::new();
        s.raw(tag::RECEIPT_ITEM, &body).map_err(|_| err::TLV_TOO_LARGE)?;
        rc.tlv.extend_from_slice(s.as_bytes());
        rc.items.push(item);
        Ok(())
    }
}

pub(super) fn item(r: &mut Register, item: UnmarkedItem, cx: &mut Cx) -> Handled<Empty> {
    let next = r.order(SessionState::add_item)?;
    r.check_vat(item.vat.code(), cx.t)?;
    item.validate().map_err(|_| err::BAD_PARAMETER)?;
    let mut tlv = Vec::new();
    item.encode(&mut tlv).map_err(|_| err::BAD_PARAMETER)?;
    r.add_item(
        ItemRecord { name: item.name, sum: item_sum(item.price, item.quantity), vat: item.vat.code(), code: None },
        &tlv,
    )?;
    r.state.session = next;
    Ok(Empty)
}

/// 0x97 that does not decode: no code is 0xC1, a wrong marking field 0xC2.
pub(super) fn marked_item_decode_error(e: &DecodeError) -> u8 {
    match e.field {
        "code" => err::NO_MARKING_CODE,
        "code_type" | "status" | "mode" | "measure" | "fraction" => err::MARK_DATA_MISSING,
        _ => decode_error_code(e),
    }
}

pub(super) fn marked_item(r: &mut Register, item: MarkedItem, cx: &mut Cx) -> Handled<Empty> {
    r.need_marking()?;
    let next = r.order(SessionState::add_marked_item)?;
    let saved = r.state.check_table.iter().position(|m| m.code == item.code).ok_or(err::MARK_NOT_CHECKED)?;
    let rc = r.state.receipt.as_ref().ok_or(err::WRONG_FN_STATE)?;
    if rc.items.iter().any(|i| i.code.as_deref() == Some(item.code.as_str())) {
        return Err(err::MARK_REPEATED);
    }
    r.check_vat(item.vat.code(), cx.t)?;
    receipt::check_marked_quantity(item.measure, item.quantity, item.fraction).map_err(|e| e.device_code())?;
    item.validate().map_err(|_| err::MARK_DATA_MISSING)?;
    let sum = match item.fraction.filter(|_| receipt::has_fraction(item.fraction)) {
        Some((n, d)) => item_sum(item.price, item.quantity) * u64::from(n) / u64::from(d),
        None => item_sum(item.price, item.quantity),
    };
    let mut tlv = Vec::new();
    item.encode(&mut tlv).map_err(|_| err::MARK_DATA_MISSING)?;
    r.add_item(ItemRecord { name: item.name, sum, vat: item.vat.code(), code: Some(item.code) }, &tlv)?;
    r.state.check_table.remove(saved);
    r.state.session = next;
    Ok(Empty)
}

pub(super) fn requisites(r: &mut Register, req: ReceiptRequisites, cx: &mut Cx) -> Handled<Empty> {
    let next = r.order(SessionState::add_requisites)?;
    req.validate().map_err(|_| err::BAD_PARAMETER)?;
    if let Some(d) = req.corrected_date {
        if d > cx.t {
            return Err(err::BAD_PARAMETER);
        }
    }
    let mut tlv = Vec::new();
    req.encode(&mut tlv).map_err(|_| err::BAD_PARAMETER)?;
    if let Some(rc) = r.state.receipt.as_mut() {
        rc.corrected_date |= req.corrected_date.is_some();
        for (t, v) in [
            (tag::SETTLEMENT_ADDRESS, &req.address),
            (tag::SETTLEMENT_PLACE, &req.place),
            (tag::VENDING_MACHINE_NUMBER, &req.automat_number),
        ] {
            if v.as_deref().is_some_and(|v| !v.trim().is_empty()) && !rc.settlement_tags.contains(&t) {
                rc.settlement_tags.push(t);
            }
        }
        rc.tlv.extend_from_slice(&tlv);
    }
    r.state.session = next;
    Ok(Empty)
}

pub(super) fn payment(r: &mut Register, p: Payment, _: &mut Cx) -> Handled<Empty> {
    let next = r.order(SessionState::pay)?;
    let reg_tax = r.state.registration.as_ref().map_or(0, |r| r.taxation);
    let tax_ok = match p.taxation {
        // 1055 values 1, 2, 4, 16, 32 are the 0xE3 bits 0, 1, 2, 4, 5.
        Some(v) => v.is_known() && reg_tax & v.code() != 0,
        None => reg_tax.count_ones() == 1,
    };
    if !tax_ok {
        return Err(err::BAD_TAXATION);
    }
    let non_cash = [p.electronic, p.prepayment, p.credit, p.consideration].iter().flatten().sum();
    let mut tlv = Vec::new();
    p.encode(&mut tlv).map_err(|_| err::BAD_PARAMETER)?;
    if let Some(rc) = r.state.receipt.as_mut() {
        rc.tlv.extend_from_slice(&tlv);
        rc.payment =
            Some(PaymentRecord { cash: p.cash.unwrap_or(0), non_cash, taxation: p.taxation.map(|t| t.code()) });
    }
    r.state.session = next;
    Ok(Empty)
}

pub(super) fn form(r: &mut Register, req: FormReceipt, cx: &mut Cx) -> Handled<ReceiptResult> {
    form_kind(r, ReceiptKind::Receipt, req.operation.code(), req.total, cx)
}

pub(super) fn form_correction(r: &mut Register, req: FormCorrectionReceipt, cx: &mut Cx) -> Handled<ReceiptResult> {
    form_kind(r, ReceiptKind::Correction, req.operation.code(), req.total, cx)
}

fn form_kind(r: &mut Register, kind: ReceiptKind, operation: u8, total: u64, cx: &Cx) -> Handled<ReceiptResult> {
    let t = cx.t;
    let correction = kind == ReceiptKind::Correction;
    let next = r.order(|s| s.close_receipt(kind))?;
    if !Operation::from(operation).is_known() {
        return Err(if correction { err::BAD_CORRECTION_OPERATION } else { err::BAD_OPERATION });
    }
    let rc = r.state.receipt.clone().ok_or(err::WRONG_FN_STATE)?;
    if rc.items.is_empty() || (correction && !rc.corrected_date) {
        return Err(err::REQUIRED_MISSING);
    }
    // Registered for vending, delivery or one-to-many settlements: every receipt gives the
    // settlement address, place and vending machine number (seed 004, 0x98 and error 0xC9).
    let modes = r.state.registration.as_ref().map(|g| g.settlement_modes).unwrap_or_default();
    if !modes.is_empty()
        && ![tag::SETTLEMENT_ADDRESS, tag::SETTLEMENT_PLACE, tag::VENDING_MACHINE_NUMBER]
            .iter()
            .all(|t| rc.settlement_tags.contains(t))
    {
        return Err(err::ADDRESS_PLACE_MISSING);
    }
    if total / 100 != rc.total() / 100 {
        return Err(err::ITEMS_TOTAL_MISMATCH);
    }
    let pay = rc.payment.unwrap_or_default();
    if pay.non_cash > total {
        return Err(err::NON_CASH_OVER_TOTAL);
    }
    if pay.cash + pay.non_cash != total {
        return Err(if correction { err::CORRECTION_TOTAL_MISMATCH } else { err::PAYMENTS_MISMATCH });
    }
    r.check_clock(t)?;
    r.state.session = next;
    r.state.receipt = None;
    r.state.check_table.clear();
    r.state.receipts_in_shift = r.state.receipts_in_shift.wrapping_add(1);
    r.state.cash = match operation {
        // Tag 1054: 1 income and 4 return of expense bring cash in.
        1 | 4 => r.state.cash.saturating_add(pay.cash),
        _ => r.state.cash.saturating_sub(pay.cash),
    };
    r.state.electronic = r.state.electronic.saturating_add(pay.non_cash);
    let doc = r.add_document(if correction { doc_type::CORRECTION } else { doc_type::RECEIPT }, t, operation, total);
    // The FN keeps the receipt's data: items, requisites, payments (0x3A reads them back).
    if let Some(kept) = r.state.documents.last_mut() {
        kept.tlv = rc.tlv.clone();
    }
    let paper = crate::emulator::paper::receipt(&r.state, &rc, &doc, correction);
    r.paper.push(paper);
    if !correction {
        // v01.05 0x64/0x65: lines left in the print buffer go into the receipt, then the
        // buffer is empty. (The ФФД 1.2 0x24 has no «дополнительный текст» that would
        // replace them.)
        r.state.printer.print_buffer();
    }
    if rc.items.iter().any(|i| i.code.is_some()) {
        r.state.last_notification += 1;
        if r.options.hold_notifications || r.autonomous() {
            r.state.notifications.push(Notification { number: r.state.last_notification, datetime: t });
        }
    }
    Ok(ReceiptResult {
        receipt_number: r.state.receipts_in_shift,
        fd_number: doc.number,
        fiscal_sign: doc.fiscal_sign,
        datetime: t,
        shift_number: r.state.shift_number,
    })
}
