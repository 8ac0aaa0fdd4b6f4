//! Marked goods (seed 004, Appendix 2): 0x90, the code's checks 0x91, 0x92, 0x94, 0x95, and
//! the FN's memory and notification queue (0x9D, 0x9E).

use std::time::Duration;

use super::{Cx, Handled};
use crate::commands::marking::*;
use crate::commands::{Empty, TlvList};
use crate::emulator::register::Register;
use crate::emulator::scenario::OismStatus;
use crate::emulator::state::{CurrentMark, SavedMark};
use crate::marking::{local_check, MarkingCode};
use crate::protocol::tlv::TagValueError;
use crate::protocol::{err, tag, TlvWriter, Value};
use crate::session::{MarkStep, SessionState};

pub(super) fn status(r: &mut Register, _: GetMarkingStatus, _: &mut Cx) -> Handled<MarkingStatus> {
    let s = &r.state;
    let full = s.check_table.len() >= r.options.check_table_size;
    // Bit 0 of «allowed commands»: 0x91 may be sent; bit 1: 0x92 (or 0x94).
    let (check_state, allowed) = match s.session.mark() {
        _ if full => (0, 0),
        m @ MarkStep::Idle => (m.device_state(), 0x01),
        m @ (MarkStep::Checked | MarkStep::OnlineChecked) => (m.device_state(), 0x02),
    };
    let codes = s.receipt.as_ref().map_or(0, |r| r.items.iter().filter(|i| i.code.is_some()).count());
    Ok(MarkingStatus {
        check_state,
        notification_state: u8::from(codes > 0),
        allowed_commands: allowed,
        kept_results: s.check_table.len() as u8,
        notification_codes: codes as u8,
        storage_warning: 0,
        notification_queue: s.notifications.len() as u16,
    })
}

pub(super) fn check_local(r: &mut Register, req: CheckMarkLocal, _: &mut Cx) -> Handled<CheckMarkLocalResult> {
    r.need_marking()?;
    let next = r.order(SessionState::check_mark)?;
    if r.state.check_table.len() >= r.options.check_table_size {
        return Err(err::MARK_TABLE_FULL);
    }
    let raw = crate::protocol::types::cp866(&req.code).map_err(|_| err::BAD_PARAMETER)?;
    let parsed = MarkingCode::from_wire(&raw).ok();
    let scenario = &r.options.scenario;
    let rule = scenario.rule(&req.code, parsed.as_ref().map(MarkingCode::product_id).as_deref());
    if let Some(e) = rule.and_then(|r| r.fn_error) {
        return Err(e);
    }
    let crypto_valid = rule.is_none_or(|r| r.crypto_valid);
    let check = local_check(&raw, |k| scenario.fn_has_key(k), crypto_valid);
    // Tag 2106 so far: bit 0 checked, bit 1 crypto tail positive (FN result 3), bit 4
    // autonomous mode.
    let mut result_2106 = 0u8;
    if check.result != 0 {
        result_2106 |= 1;
        if check.result == 3 {
            result_2106 |= 2;
        }
    }
    if r.autonomous() {
        result_2106 |= 0x10;
    }
    r.state.mark =
        Some(CurrentMark { code: req.code, code_type: check.code_type.code(), fn_result: check.result, result_2106 });
    r.state.session = next;
    Ok(CheckMarkLocalResult { result: check.result, reason: check.reason })
}

pub(super) fn check_online(r: &mut Register, req: CheckMarkOnline, cx: &mut Cx) -> Handled<CheckMarkOnlineResult> {
    r.need_marking()?;
    let next = r.order(SessionState::check_mark_online)?;
    if !req.planned_status.is_known() || req.mode != 0 || !req.measure.is_known() {
        return Err(err::BAD_PARAMETER);
    }
    let mark = r.state.mark.clone().ok_or(err::WRONG_FN_STATE)?;
    let parsed = MarkingCode::from_wire(mark.code.as_bytes()).ok();
    let product_id = parsed.as_ref().map(MarkingCode::product_id);
    let rule = r.options.scenario.rule(&mark.code, product_id.as_deref()).cloned();
    let status = rule.as_ref().map_or(r.options.scenario.default_status, |r| r.status);
    let crypto_valid = rule.as_ref().is_none_or(|r| r.crypto_valid) && parsed.is_some();
    if let Some(tm) = r.timing() {
        cx.extra += Duration::from_millis(tm.oism_ms);
    }
    cx.extra += Duration::from_millis(rule.as_ref().map_or(0, |r| r.latency_ms));
    if status == OismStatus::Unreachable {
        // The FN formed the request but no answer came: the result stays as the FN's
        // check left it, and the code may still be saved or dropped with 0x94.
        r.state.session = next;
        return Err(err::OISM_UNREACHABLE);
    }
    // Tag 2109: 1 planned status correct, 2 incorrect, 3 circulation suspended.
    let status_2109: u8 = match status {
        OismStatus::Correct => 1,
        OismStatus::Incorrect => 2,
        _ => 3,
    };
    let status_ok = status_2109 == 1;
    let result_2106 = 0x01 | (u8::from(crypto_valid) << 1) | 0x04 | (u8::from(status_ok) << 3);
    let processing_2005 = 0x05 | (u8::from(crypto_valid) << 1) | (u8::from(status_ok) << 3);
    let mut w = TlvWriter::new();
    let tlv = (|| {
        w.value(tag::REQUEST_DATE_AND_TIME, &Value::UnixTime(cx.t))?
            .byte(tag::REQUEST_PROCESSING_CODES, if parsed.is_some() { 0 } else { 2 })?
            .byte(tag::REQUEST_PROCESSING_RESULTS, processing_2005)?
            .byte(tag::OISM_ITEM_STATUS_ANSWER, status_2109)?;
        if let Some(id) = &product_id {
            w.string(tag::PRODUCT_IDENTIFIER, id)?;
        }
        w.byte(tag::MARKING_CODE_TYPE, mark.code_type)?;
        Ok::<_, TagValueError>(())
    })();
    tlv.map_err(|_| err::BAD_PARAMETER)?;
    let list = TlvList::parse(w.as_bytes()).map_err(|_| err::BAD_PARAMETER)?;
    if let Some(m) = r.state.mark.as_mut() {
        m.result_2106 = result_2106;
    }
    r.state.session = next;
    Ok(CheckMarkOnlineResult { result: MarkCheckResult(result_2106), tlv: list })
}

pub(super) fn keep(r: &mut Register, req: KeepMarkCheck, _: &mut Cx) -> Handled<KeepMarkCheckResult> {
    r.need_marking()?;
    let next = r.order(|s| s.keep_mark(&req))?;
    let mark = r.state.mark.take().ok_or(err::WRONG_FN_STATE)?;
    if req.keep {
        if r.state.check_table.len() >= r.options.check_table_size {
            r.state.mark = Some(mark);
            return Err(err::MARK_TABLE_FULL);
        }
        r.state.check_table.push(SavedMark { code: mark.code.clone(), result_2106: mark.result_2106 });
    }
    r.state.session = next;
    Ok(KeepMarkCheckResult { result: MarkCheckResult(mark.result_2106) })
}

pub(super) fn clear(r: &mut Register, _: ClearMarkChecks, _: &mut Cx) -> Handled<Empty> {
    r.need_marking()?;
    r.state.session = r.order(|s| {
        s.clear_marks();
        Ok(())
    })?;
    r.state.mark = None;
    r.state.check_table.clear();
    Ok(Empty)
}

pub(super) fn fn_memory(r: &mut Register, _: GetFnMemory, _: &mut Cx) -> Handled<FnMemory> {
    let s = &r.state;
    Ok(FnMemory {
        documents_5y: 250_000u32.saturating_sub(s.last_fd),
        kilobytes_30d: 512,
        notifications_percent: s.registration.as_ref().filter(|r| r.marking()).map(|_| r.notification_percent()),
    })
}

pub(super) fn notifications(r: &mut Register, _: GetNotificationState, _: &mut Cx) -> Handled<NotificationState> {
    let s = &r.state;
    let first = s.notifications.first();
    Ok(NotificationState {
        state: if first.is_some() { 2 } else { 0 },
        queue: s.notifications.len() as u16,
        current: first.map_or(0, |n| n.number),
        current_datetime: first.map(|n| n.datetime),
        storage_percent: r.notification_percent(),
    })
}
