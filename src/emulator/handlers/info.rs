//! The register's and the FN's information (0x01–0x0E, 0x50, 0x72, 0x73, 0xBB).

use chrono::TimeDelta;

use super::{Cx, Handled};
use crate::commands::info::*;
use crate::emulator::register::Register;
use crate::emulator::state::doc_type;
use crate::protocol::err;

pub(super) fn status(r: &mut Register, _: GetStatus, cx: &mut Cx) -> Handled<Status> {
    let s = &r.state;
    Ok(Status {
        serial: s.serial.clone(),
        datetime: cx.t,
        critical_errors: 0,
        printer_status: 0,
        fn_present: 1,
        fn_phase: s.phase.bits(),
        // Real registers send one byte more than v01.05 documents (captures.md).
        extra: vec![0],
    })
}

pub(super) fn serial(r: &mut Register, _: GetSerial, _: &mut Cx) -> Handled<Serial> {
    Ok(Serial { serial: r.state.serial.clone() })
}

pub(super) fn firmware(_: &mut Register, _: GetFirmwareVersion, _: &mut Cx) -> Handled<Text> {
    Ok(Text { text: format!("kkt-emulator {}", env!("CARGO_PKG_VERSION")) })
}

pub(super) fn model(_: &mut Register, _: GetModel, _: &mut Cx) -> Handled<Text> {
    Ok(Text { text: "Terminal-FA".into() })
}

pub(super) fn fn_serial(r: &mut Register, _: GetFnSerial, _: &mut Cx) -> Handled<Text> {
    Ok(Text { text: r.state.fn_number.clone() })
}

pub(super) fn fn_firmware(_: &mut Register, _: GetFnFirmwareVersion, _: &mut Cx) -> Handled<Text> {
    Ok(Text { text: "FN-1.2 emulated".into() })
}

pub(super) fn fn_validity(r: &mut Register, _: GetFnValidity, cx: &mut Cx) -> Handled<FnValidity> {
    let registered =
        r.state.documents.iter().find(|d| d.doc_type == doc_type::REGISTRATION).map_or(cx.t, |d| d.datetime);
    Ok(FnValidity {
        valid_until: (registered + TimeDelta::days(410)).date(),
        registrations_left: 30u8.saturating_sub(r.registrations_done()),
        registrations_done: r.registrations_done(),
    })
}

pub(super) fn fn_status(r: &mut Register, _: GetFnStatus, _: &mut Cx) -> Handled<FnStatus> {
    let s = &r.state;
    Ok(FnStatus {
        phase: s.phase.bits(),
        current_document: s.session.current_document(),
        document_data: u8::from(s.receipt.as_ref().is_some_and(|r| !r.items.is_empty())),
        shift_open: u8::from(s.session.shift_open()),
        warnings: 0,
        last_document_datetime: s.last_document_at,
        fn_number: s.fn_number.clone(),
        last_fd_number: s.last_fd,
    })
}

pub(super) fn fn_errors(_: &mut Register, _: GetFnErrors, _: &mut Cx) -> Handled<FnErrors> {
    Ok(FnErrors { data: Vec::new() })
}

pub(super) fn registration(r: &mut Register, _: GetRegistration, _: &mut Cx) -> Handled<Registration> {
    let reg = r.state.registration.as_ref().ok_or(err::WRONG_FN_STATE)?;
    Ok(Registration {
        registration_number: reg.registration_number.trim_end().into(),
        inn: reg.inn.trim_end().into(),
        modes: reg.modes.into(),
        taxation: reg.taxation.into(),
        agent: Default::default(),
    })
}

pub(super) fn config_version(_: &mut Register, _: GetConfigVersion, _: &mut Cx) -> Handled<Text> {
    Ok(Text { text: "1.0.0".into() })
}

/// 0x0E: the address in use, from the Ethernet settings (0x74).
pub(super) fn tcp_ip(r: &mut Register, _: GetTcpIp, _: &mut Cx) -> Handled<TcpIp> {
    let n = &r.state.network;
    let a = |s: &str| s.parse().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED);
    Ok(TcpIp { ip: a(&n.ip), mask: a(&n.mask), gateway: a(&n.gateway) })
}

/// 0x50: the documents the OFD has not confirmed (with `hold_ofd`, every new one): how many,
/// and the first of them. Status bit 1 «есть сообщение для передачи в ОФД» is set while there
/// are any.
pub(super) fn ofd_status(r: &mut Register, _: GetOfdExchangeStatus, _: &mut Cx) -> Handled<OfdExchangeStatus> {
    let unsent: Vec<_> = r.state.documents.iter().filter(|d| !d.ofd_confirmed).collect();
    let first = unsent.first();
    Ok(OfdExchangeStatus {
        status: if unsent.is_empty() { 0 } else { 0b10 },
        read_state: 0,
        queue_len: u16::try_from(unsent.len()).unwrap_or(u16::MAX),
        first_document: first.map_or(0, |d| d.number),
        first_document_datetime: first.map_or(r.state.last_document_at, |d| d.datetime),
    })
}

pub(super) fn set_datetime(r: &mut Register, req: SetDateTime, cx: &mut Cx) -> Handled<crate::commands::Empty> {
    let host_now = cx.t - TimeDelta::seconds(r.state.clock_offset_s);
    r.state.clock_offset_s = (req.0.datetime - host_now).num_seconds();
    Ok(crate::commands::Empty)
}

pub(super) fn datetime(_: &mut Register, _: GetDateTime, cx: &mut Cx) -> Handled<DateTime> {
    Ok(DateTime { datetime: cx.t })
}

/// 0xBB: 48 characters in the normal font, 64 in the small one (0x78).
pub(super) fn line_width(r: &mut Register, _: GetLineWidth, _: &mut Cx) -> Handled<LineWidth> {
    Ok(LineWidth { chars: if r.state.print_settings.font_size == 1 { 64 } else { 48 } })
}
