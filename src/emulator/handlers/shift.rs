//! The shift (0x20, 0x21/0xE4/0x22 open, 0x29/0xE5/0x2A close).

use std::time::Duration;

use super::{Cx, Handled};
use crate::commands::shift::*;
use crate::commands::{Empty, Request};
use crate::emulator::register::Register;
use crate::emulator::state::doc_type;
use crate::protocol::err;
use crate::session::SessionState;

pub(super) fn params(r: &mut Register, _: GetShiftParams, _: &mut Cx) -> Handled<ShiftParams> {
    let s = &r.state;
    Ok(ShiftParams { open: s.session.shift_open(), shift_number: s.shift_number, receipt_number: s.receipts_in_shift })
}

pub(super) fn begin_open(r: &mut Register, req: BeginShiftOpen, cx: &mut Cx) -> Handled<Empty> {
    r.need_fiscal()?;
    let next = r.order(SessionState::begin_shift_open)?;
    r.state.printer.no_print = req.no_print == Some(true);
    if !r.autonomous() {
        cx.extra += r.timing().map_or(Duration::ZERO, |tm| Duration::from_millis(tm.key_update_ms));
    }
    r.state.session = next;
    Ok(Empty)
}

pub(super) fn begin_close(r: &mut Register, req: BeginShiftClose, _: &mut Cx) -> Handled<Empty> {
    r.need_fiscal()?;
    r.state.session = r.order(SessionState::begin_shift_close)?;
    r.state.printer.no_print = req.no_print == Some(true);
    Ok(Empty)
}

/// The report data of 0xE4/0xE5: every field is checked by encoding it again.
fn check_data(req: &impl Request) -> Handled<()> {
    req.encode(&mut Vec::new()).map_err(|_| err::BAD_PARAMETER)
}

pub(super) fn open_data(r: &mut Register, req: ShiftOpenData, _: &mut Cx) -> Handled<Empty> {
    check_data(&req)?;
    r.state.session = r.order(SessionState::shift_open_data)?;
    Ok(Empty)
}

pub(super) fn close_data(r: &mut Register, req: ShiftCloseData, _: &mut Cx) -> Handled<Empty> {
    check_data(&req)?;
    r.state.session = r.order(SessionState::shift_close_data)?;
    Ok(Empty)
}

pub(super) fn open(r: &mut Register, _: OpenShift, cx: &mut Cx) -> Handled<ShiftReport> {
    r.need_fiscal()?;
    let t = cx.t;
    let next = r.order(|s| s.open_shift(Some(t)))?;
    r.check_clock(t)?;
    r.state.session = next;
    r.state.shift_number = r.state.shift_number.wrapping_add(1);
    r.state.receipts_in_shift = 0;
    r.state.electronic = 0;
    Ok(report(r, doc_type::SHIFT_OPEN, cx))
}

pub(super) fn close(r: &mut Register, _: CloseShift, cx: &mut Cx) -> Handled<ShiftReport> {
    r.need_fiscal()?;
    let next = r.order(SessionState::close_shift)?;
    r.check_clock(cx.t)?;
    r.state.session = next;
    r.state.check_table.clear();
    Ok(report(r, doc_type::SHIFT_CLOSE, cx))
}

fn report(r: &mut Register, doc_type: u8, cx: &Cx) -> ShiftReport {
    let doc = r.add_document(doc_type, cx.t, 0, 0);
    if !std::mem::take(&mut r.state.printer.no_print) {
        let text = crate::emulator::paper::shift_report(&r.state, &doc);
        r.paper.push(text);
    }
    ShiftReport {
        shift_number: r.state.shift_number,
        fd_number: doc.number,
        fiscal_sign: doc.fiscal_sign,
        warnings: Warnings(0),
    }
}
