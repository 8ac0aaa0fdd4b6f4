//! Reports with a begin / data / form order: the settlement report (0x27, 0xE6, 0x28) and the
//! FN close report (0x14, 0x17, 0x15).

use super::{Cx, Handled};
use crate::commands::report::*;
use crate::commands::{Empty, Request};
use crate::emulator::register::Register;
use crate::emulator::state::{doc_type, FnPhase};
use crate::protocol::err;
use crate::session::Report;

/// The report data: every field is checked by encoding it again.
fn check_data(req: &impl Request) -> Handled<()> {
    req.encode(&mut Vec::new()).map_err(|_| err::BAD_PARAMETER)
}

pub(super) fn begin_settlement(r: &mut Register, _: BeginSettlementReport, _: &mut Cx) -> Handled<Empty> {
    if r.state.phase == FnPhase::Setup {
        return Err(err::WRONG_FN_STATE);
    }
    r.state.session = r.order(|s| s.begin_report(Report::Settlement))?;
    Ok(Empty)
}

pub(super) fn settlement_data(r: &mut Register, req: SettlementReportData, _: &mut Cx) -> Handled<Empty> {
    check_data(&req)?;
    r.state.session = r.order(|s| s.report_data(Report::Settlement))?;
    Ok(Empty)
}

pub(super) fn form_settlement(r: &mut Register, _: FormSettlementReport, cx: &mut Cx) -> Handled<SettlementReport> {
    let next = r.order(|s| s.form_report(Report::Settlement))?;
    r.check_clock(cx.t)?;
    r.state.session = next;
    let doc = r.add_document(doc_type::SETTLEMENT, cx.t, 0, 0);
    Ok(SettlementReport {
        fd_number: doc.number,
        fiscal_sign: doc.fiscal_sign,
        unconfirmed: 0,
        first_unconfirmed: None,
    })
}

pub(super) fn begin_fn_close(r: &mut Register, _: BeginFnClose, _: &mut Cx) -> Handled<Empty> {
    r.need_fiscal()?;
    r.state.session = r.order(|s| s.begin_report(Report::FnClose))?;
    Ok(Empty)
}

pub(super) fn fn_close_data(r: &mut Register, req: FnCloseData, _: &mut Cx) -> Handled<Empty> {
    check_data(&req)?;
    r.state.session = r.order(|s| s.report_data(Report::FnClose))?;
    Ok(Empty)
}

pub(super) fn form_fn_close(r: &mut Register, _: FormFnClose, cx: &mut Cx) -> Handled<FiscalResult> {
    let next = r.order(|s| s.form_report(Report::FnClose))?;
    r.check_clock(cx.t)?;
    r.state.session = next;
    let doc = r.add_document(doc_type::FN_CLOSE, cx.t, 0, 0);
    r.state.phase = FnPhase::PostFiscal;
    Ok(FiscalResult { fd_number: doc.number, fiscal_sign: doc.fiscal_sign })
}
