//! Registration and re-registration (0xE1 begin, 0xE2 data, 0xE3 form).

use super::{Cx, Handled};
use crate::commands::registration::*;
use crate::commands::report::FiscalResult;
use crate::commands::{Empty, Request};
use crate::emulator::register::Register;
use crate::emulator::state::{doc_type, FnPhase, Registration, SettlementModes};
use crate::protocol::err;
use crate::protocol::values::OperatingModes;
use crate::session::{Report, ShiftState};

/// 0xE1's report type: 0 registration, 1 and 2 re-registration (with or without an FN change).
const REGISTRATION: u8 = 0;

pub(super) fn begin(r: &mut Register, req: BeginRegistration, _: &mut Cx) -> Handled<Empty> {
    let s = &r.state;
    let closed = s.session.shift() == ShiftState::Closed;
    let phase_ok = match req.report_type {
        REGISTRATION => s.phase == FnPhase::Setup,
        // With FN replacement: on the new FN (ready for registration); the virtual register
        // cannot swap its FN, so it also takes it on the registered one.
        1 => matches!(s.phase, FnPhase::Setup | FnPhase::Fiscal) && closed,
        2 => s.phase == FnPhase::Fiscal && closed,
        _ => return Err(err::BAD_PARAMETER),
    };
    if !phase_ok {
        return Err(if s.phase == FnPhase::PostFiscal { err::FN_CLOSED } else { err::WRONG_FN_STATE });
    }
    r.state.session = r.order(|s| s.begin_report(Report::Registration))?;
    r.state.registration_draft = Some((req.report_type, None));
    Ok(Empty)
}

pub(super) fn data(r: &mut Register, d: RegistrationData, _: &mut Cx) -> Handled<Empty> {
    let next = r.order(|s| s.report_data(Report::Registration))?;
    d.validate().map_err(|_| err::BAD_PARAMETER)?;
    let automat_number = d.automat_number.clone().unwrap_or_default();
    // Registered with a vending machine number: automatic mode; without the address: one
    // register for several automats (one-to-many); with the address but without the place:
    // delivery trade. Each of these receipts then gives 1009, 1187 and 1036.
    let settlement_modes = SettlementModes {
        automat: !automat_number.trim().is_empty(),
        one_to_many: d.address.trim().is_empty(),
        delivery: !d.address.trim().is_empty() && d.place.trim().is_empty(),
    };
    let mut modes = d.modes;
    if settlement_modes.automatic() {
        modes |= OperatingModes::AUTOMATIC;
    }
    let reg = Registration {
        inn: String::new(),
        registration_number: String::new(),
        taxation: 0,
        modes: modes.bits(),
        usage: d.usage.bits(),
        user_name: d.user_name,
        address: d.address,
        place: d.place,
        ofd_inn: d.ofd_inn.unwrap_or_default(),
        automat_number,
        settlement_modes,
    };
    if let Some((_, draft)) = r.state.registration_draft.as_mut() {
        *draft = Some(reg);
    }
    r.state.session = next;
    Ok(Empty)
}

pub(super) fn form(r: &mut Register, f: FormRegistration, cx: &mut Cx) -> Handled<FiscalResult> {
    let next = r.order(|s| s.form_report(Report::Registration))?;
    f.encode(&mut Vec::new()).map_err(|_| err::BAD_PARAMETER)?;
    let (report_type, draft) = r.state.registration_draft.clone().ok_or(err::WRONG_FN_STATE)?;
    let mut reg = draft.ok_or(err::REQUIRED_MISSING)?;
    let hosts_set = !r.state.oism_host.0.is_empty() && !r.state.key_host.0.is_empty();
    if reg.marking() && !reg.autonomous() && !hosts_set {
        return Err(err::REQUIRED_MISSING);
    }
    r.check_clock(cx.t)?;
    reg.inn = format!("{:<12}", f.inn.trim_end());
    reg.registration_number = format!("{:<20}", f.registration_number.trim_end());
    reg.taxation = f.taxation.bits();
    r.state.session = next;
    r.state.session.set_autonomous(reg.autonomous());
    r.state.registration = Some(reg);
    r.state.registration_draft = None;
    r.state.phase = FnPhase::Fiscal;
    r.state.ffd = 4;
    let kind = if report_type == REGISTRATION { doc_type::REGISTRATION } else { doc_type::REREGISTRATION };
    let doc = r.add_document(kind, cx.t, 0, 0);
    let tlv = r.registration_tlv();
    if let Some(last) = r.state.documents.last_mut() {
        last.reason = f.reasons.map_or(0, |r| r.bits());
        last.tlv = tlv;
    }
    Ok(FiscalResult { fd_number: doc.number, fiscal_sign: doc.fiscal_sign })
}
