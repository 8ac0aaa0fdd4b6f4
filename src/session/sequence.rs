//! The command order of the register (seed 004: Appendix 2 and each command's conditions).
//!
//! [`SessionState::next`] takes a command (code and data) and gives the state after it would
//! succeed, or a [`Violation`] naming the expected step and the error code the register
//! answers. It does no I/O and reads no clock: the time is passed in.

use chrono::{NaiveDateTime, TimeDelta};
use serde::{Deserialize, Serialize};

use crate::protocol::values::CurrentDocument;

/// The shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ShiftState {
    /// Closed.
    #[default]
    Closed,
    /// 0x21 done, 0x22 not yet.
    Opening,
    /// Open.
    Open,
    /// 0x29 done, 0x2A not yet.
    Closing,
}

/// A multi-step document other than a shift report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// A receipt (0x23 … 0x24).
    Receipt,
    /// A correction receipt (0x25 … 0x26).
    Correction,
    /// Settlement report (0x27, 0xE6, 0x28).
    Settlement,
    /// Registration or re-registration report (0xE1, 0xE2, 0xE3).
    Registration,
    /// FN close report (0x14, 0x17, 0x15).
    FnClose,
}

/// How far a receipt has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Opened, nothing added.
    Open,
    /// Items added (0x96/0x97).
    Items,
    /// Receipt requisites given (0x98): no more items.
    Requisites,
    /// Payment data given (0x2D): only forming (or cancelling) is left.
    Payment,
    /// Opened before we connected: the stage is not known, the register judges.
    Unknown,
}

/// The marked-item step of Appendix 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MarkStep {
    /// No code under check.
    #[default]
    Idle,
    /// 0x91 done (the FN's check): 0x92 next (0x94 in autonomous mode).
    Checked,
    /// 0x92 done (the OISM's answer): 0x94 next.
    OnlineChecked,
}

/// Everything the order depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SessionState {
    /// The shift.
    pub shift: ShiftState,
    /// When the shift was opened, if known (a receipt more than 24 h later is refused).
    pub shift_opened_at: Option<NaiveDateTime>,
    /// The open multi-step document and its stage (stage only for receipts).
    pub document: Option<(DocKind, Stage)>,
    /// The marked-item step.
    pub mark: MarkStep,
    /// Check results saved by 0x94 and not yet used by 0x97.
    pub saved_marks: u8,
    /// The register works in autonomous mode (no OISM: 0x92 is skipped and refused).
    pub autonomous: bool,
}

/// A command the register would refuse in the current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("command {command:#04X} is out of order: {expected} (the register answers error {code:#04X})")]
pub struct Violation {
    /// The refused command.
    pub command: u8,
    /// What was expected instead, for people.
    pub expected: &'static str,
    /// The error code the register answers.
    pub code: u8,
}

/// Error codes of the order rules (texts in protocol/errors.tsv).
mod code {
    pub const WRONG_FN_STATE: u8 = 0x02;
    pub const SHIFT_OVER_24H: u8 = 0x16;
    pub const RECEIPT_ORDER: u8 = 0x29;
    pub const ALREADY_SENT: u8 = 0x34;
    pub const CASH_NEEDS_SHIFT: u8 = 0x43;
    pub const ITEM_AFTER_PAYMENT: u8 = 0x5A;
    pub const RECEIPT_NOT_OPEN: u8 = 0x5B;
    pub const MARK_ORDER: u8 = 0xA3;
    pub const MARK_NOT_CHECKED: u8 = 0xAE;
    pub const NOT_IN_AUTONOMOUS: u8 = 0xC8;
}

/// Longest a shift may stay open.
pub const MAX_SHIFT: TimeDelta = TimeDelta::hours(24);

impl SessionState {
    /// A register with a closed shift, no document, no code under check.
    pub fn new() -> Self {
        Self::default()
    }

    fn violation(command: u8, expected: &'static str, code: u8) -> Violation {
        Violation { command, expected, code }
    }

    /// The state after command `command` with DATA `data` succeeds at time `now`, or the
    /// violation the register answers. Commands without an order rule (queries, settings)
    /// leave the state as it is.
    pub fn next(&self, command: u8, data: &[u8], now: Option<NaiveDateTime>) -> Result<SessionState, Violation> {
        let v = |expected, code| Err(Self::violation(command, expected, code));
        let mut s = self.clone();
        let receipt_stage = match self.document {
            Some((DocKind::Receipt | DocKind::Correction, st)) => Some(st),
            _ => None,
        };
        match command {
            // Shift open: 0x21, 0xE4, 0x22.
            0x21 => {
                if self.document.is_some() {
                    return v("finish or cancel (0x10) the open document first", code::WRONG_FN_STATE);
                }
                if self.shift != ShiftState::Closed {
                    return v("the shift is already open: close it (0x29, 0x2A) first", code::WRONG_FN_STATE);
                }
                s.shift = ShiftState::Opening;
            }
            0xE4 | 0x22 => {
                if self.shift != ShiftState::Opening {
                    return v("begin the shift open with 0x21 first", code::WRONG_FN_STATE);
                }
                if command == 0x22 {
                    s.shift = ShiftState::Open;
                    s.shift_opened_at = now;
                }
            }
            // Shift close: 0x29, 0xE5, 0x2A.
            0x29 => {
                if self.document.is_some() {
                    return v("finish or cancel (0x10) the open document first", code::WRONG_FN_STATE);
                }
                if self.shift != ShiftState::Open {
                    return v("open a shift (0x21, 0x22) first", code::WRONG_FN_STATE);
                }
                s.shift = ShiftState::Closing;
            }
            0xE5 | 0x2A => {
                if self.shift != ShiftState::Closing {
                    return v("begin the shift close with 0x29 first", code::WRONG_FN_STATE);
                }
                if command == 0x2A {
                    s.shift = ShiftState::Closed;
                    s.shift_opened_at = None;
                }
            }
            // Receipts: 0x23/0x25 open.
            0x23 | 0x25 => {
                if self.shift != ShiftState::Open {
                    return v("open a shift (0x21, 0x22) before a receipt", code::WRONG_FN_STATE);
                }
                if self.document.is_some() {
                    return v("finish or cancel (0x10) the open document first", code::RECEIPT_ORDER);
                }
                if let (Some(opened), Some(now)) = (self.shift_opened_at, now) {
                    if now - opened > MAX_SHIFT {
                        return v("the shift is over 24 hours old: close it and open a new one", code::SHIFT_OVER_24H);
                    }
                }
                let kind = if command == 0x23 { DocKind::Receipt } else { DocKind::Correction };
                s.document = Some((kind, Stage::Open));
            }
            // The marked-item steps.
            0x91 => {
                if self.mark != MarkStep::Idle {
                    return v("finish the code under check with 0x94 (save or delete) before 0x91", code::MARK_ORDER);
                }
                if receipt_stage.is_some_and(|st| matches!(st, Stage::Requisites | Stage::Payment)) {
                    return v("no items after payment or receipt data", code::ITEM_AFTER_PAYMENT);
                }
                s.mark = MarkStep::Checked;
            }
            0x92 => {
                if self.autonomous {
                    return v("in autonomous mode skip 0x92: save the FN's result with 0x94", code::NOT_IN_AUTONOMOUS);
                }
                if self.mark != MarkStep::Checked {
                    return v("check the code in the FN with 0x91 before 0x92", code::MARK_ORDER);
                }
                s.mark = MarkStep::OnlineChecked;
            }
            0x94 => {
                let ready = match self.mark {
                    MarkStep::OnlineChecked => true,
                    MarkStep::Checked => self.autonomous,
                    MarkStep::Idle => false,
                };
                if !ready {
                    return v(
                        if self.mark == MarkStep::Checked {
                            "ask the OISM with 0x92 before saving the result with 0x94"
                        } else {
                            "check a code with 0x91 (and 0x92) before 0x94"
                        },
                        code::MARK_ORDER,
                    );
                }
                s.mark = MarkStep::Idle;
                if data.first() == Some(&1) {
                    s.saved_marks = self.saved_marks.saturating_add(1);
                }
            }
            0x95 => {
                s.mark = MarkStep::Idle;
                s.saved_marks = 0;
            }
            // Items.
            0x96 | 0x97 => {
                match receipt_stage {
                    None => return v("open a receipt (0x23 or 0x25) before items", code::RECEIPT_NOT_OPEN),
                    Some(Stage::Requisites | Stage::Payment) => {
                        return v("no items after payment or receipt data", code::ITEM_AFTER_PAYMENT)
                    }
                    Some(_) => {}
                }
                if command == 0x97 {
                    if self.mark != MarkStep::Idle {
                        return v("finish the code under check with 0x94 before 0x97", code::MARK_ORDER);
                    }
                    if self.saved_marks == 0 {
                        return v(
                            "check the code (0x91, 0x92) and save the result (0x94) before 0x97",
                            code::MARK_NOT_CHECKED,
                        );
                    }
                    s.saved_marks -= 1;
                }
                s.document = self.document.map(|(k, _)| (k, Stage::Items));
            }
            0x98 => match receipt_stage {
                None => return v("open a receipt (0x23 or 0x25) first", code::RECEIPT_NOT_OPEN),
                Some(Stage::Requisites) => return v("receipt requisites were already sent", code::ALREADY_SENT),
                Some(Stage::Payment) => {
                    return v("send receipt requisites (0x98) before payment data (0x2D)", code::RECEIPT_ORDER)
                }
                Some(_) => s.document = self.document.map(|(k, _)| (k, Stage::Requisites)),
            },
            0x2D => match receipt_stage {
                None => return v("open a receipt (0x23 or 0x25) first", code::RECEIPT_NOT_OPEN),
                Some(Stage::Payment) => return v("payment data were already sent", code::ALREADY_SENT),
                Some(_) => s.document = self.document.map(|(k, _)| (k, Stage::Payment)),
            },
            0x24 | 0x26 => {
                let kind = if command == 0x24 { DocKind::Receipt } else { DocKind::Correction };
                match self.document {
                    Some((k, Stage::Payment | Stage::Unknown)) if k == kind => {}
                    Some((k, _)) if k == kind => {
                        return v("send payment data (0x2D) before forming the receipt", code::RECEIPT_ORDER)
                    }
                    _ => {
                        return v(
                            if command == 0x24 {
                                "open a receipt with 0x23 first"
                            } else {
                                "open a correction receipt with 0x25 first"
                            },
                            code::RECEIPT_NOT_OPEN,
                        )
                    }
                }
                if self.mark != MarkStep::Idle {
                    return v("finish the code under check with 0x94 before forming the receipt", code::MARK_ORDER);
                }
                s.document = None;
                s.saved_marks = 0;
            }
            // Reports with a begin/data/form order.
            0x27 | 0xE1 | 0x14 => {
                if self.document.is_some() {
                    return v("finish or cancel (0x10) the open document first", code::WRONG_FN_STATE);
                }
                let kind = match command {
                    0x27 => DocKind::Settlement,
                    0xE1 => DocKind::Registration,
                    _ => {
                        if self.shift != ShiftState::Closed {
                            return v("close the shift (0x29, 0x2A) before closing the FN", code::WRONG_FN_STATE);
                        }
                        DocKind::FnClose
                    }
                };
                s.document = Some((kind, Stage::Open));
            }
            0xE6 | 0x28 | 0xE2 | 0xE3 | 0x17 | 0x15 => {
                let (kind, expected) = match command {
                    0xE6 | 0x28 => (DocKind::Settlement, "begin the settlement report with 0x27 first"),
                    0xE2 | 0xE3 => (DocKind::Registration, "begin the registration report with 0xE1 first"),
                    _ => (DocKind::FnClose, "begin the FN close report with 0x14 first"),
                };
                if !matches!(self.document, Some((k, _)) if k == kind) {
                    return v(expected, code::WRONG_FN_STATE);
                }
                if matches!(command, 0x28 | 0xE3 | 0x15) {
                    s.document = None;
                }
            }
            0x10 => {
                s.document = None;
                s.mark = MarkStep::Idle;
                s.saved_marks = 0;
                if matches!(self.shift, ShiftState::Opening) {
                    s.shift = ShiftState::Closed;
                } else if matches!(self.shift, ShiftState::Closing) {
                    s.shift = ShiftState::Open;
                }
            }
            0xB3 | 0xB4 => {
                if self.shift != ShiftState::Open {
                    return v("cash in and out need an open shift", code::CASH_NEEDS_SHIFT);
                }
                if self.document.is_some() {
                    return v("finish or cancel (0x10) the open document first", code::WRONG_FN_STATE);
                }
            }
            _ => {}
        }
        Ok(s)
    }

    /// Whether a receipt or other multi-step document is open.
    pub fn document_open(&self) -> bool {
        self.document.is_some() || matches!(self.shift, ShiftState::Opening | ShiftState::Closing)
    }

    /// The state as the register reports it: the shift flag and open document of FN status
    /// (0x08) and the code-check state and saved-results count of 0x90. A receipt opened
    /// before we connected has an unknown stage, and the register judges its next steps.
    pub fn from_device(
        shift_open: bool,
        current_document: CurrentDocument,
        mark_state: u8,
        saved_marks: u8,
        autonomous: bool,
    ) -> Self {
        let document = match current_document {
            CurrentDocument::RECEIPT => Some((DocKind::Receipt, Stage::Unknown)),
            CurrentDocument::CORRECTION => Some((DocKind::Correction, Stage::Unknown)),
            CurrentDocument::SETTLEMENT => Some((DocKind::Settlement, Stage::Open)),
            CurrentDocument::REGISTRATION | CurrentDocument::REREGISTRATION_FN | CurrentDocument::REREGISTRATION => {
                Some((DocKind::Registration, Stage::Open))
            }
            CurrentDocument::FN_CLOSE => Some((DocKind::FnClose, Stage::Open)),
            _ => None,
        };
        let shift = match (current_document, shift_open) {
            (CurrentDocument::SHIFT_OPEN, _) => ShiftState::Opening,
            (CurrentDocument::SHIFT_CLOSE, _) => ShiftState::Closing,
            (_, true) => ShiftState::Open,
            (_, false) => ShiftState::Closed,
        };
        let mark = match mark_state {
            2 | 3 => MarkStep::Checked,
            4 => MarkStep::OnlineChecked,
            _ => MarkStep::Idle,
        };
        SessionState { shift, shift_opened_at: None, document, mark, saved_marks, autonomous }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &SessionState, steps: &[(u8, &[u8])]) -> Result<SessionState, Violation> {
        steps.iter().try_fold(s.clone(), |st, (c, d)| st.next(*c, d, None))
    }

    fn open_shift() -> SessionState {
        run(&SessionState::new(), &[(0x21, &[0]), (0x22, &[])]).unwrap()
    }

    #[test]
    fn a_whole_day_in_order() {
        let s = open_shift();
        assert_eq!(s.shift, ShiftState::Open);
        let s = run(
            &s,
            &[
                (0x23, &[]),
                (0x96, &[]),
                (0x91, &[]),
                (0x92, &[]),
                (0x94, &[1]),
                (0x97, &[]),
                (0x98, &[]),
                (0x2D, &[]),
                (0x24, &[]),
                (0x25, &[]),
                (0x96, &[]),
                (0x2D, &[]),
                (0x26, &[]),
                (0x27, &[]),
                (0xE6, &[]),
                (0x28, &[]),
                (0xB3, &[]),
                (0x29, &[0]),
                (0xE5, &[]),
                (0x2A, &[]),
            ],
        )
        .unwrap();
        assert_eq!(s, SessionState::new());
    }

    #[test]
    fn refusals_carry_the_documented_codes() {
        let closed = SessionState::new();
        let open = open_shift();
        let receipt = run(&open, &[(0x23, &[])]).unwrap();
        let paid = run(&receipt, &[(0x96, &[]), (0x2D, &[])]).unwrap();
        let checked = run(&receipt, &[(0x91, &[])]).unwrap();
        let cases: &[(&SessionState, u8, &[u8], u8)] = &[
            (&closed, 0x23, &[], 0x02),  // no receipt without an open shift
            (&open, 0x21, &[], 0x02),    // shift already open
            (&closed, 0x22, &[], 0x02),  // open without begin
            (&receipt, 0x23, &[], 0x29), // a second receipt
            (&paid, 0x96, &[], 0x5A),    // items after payment data
            (&receipt, 0x24, &[], 0x29), // form before payment data
            (&open, 0x24, &[], 0x5B),    // form without a receipt
            (&open, 0x96, &[], 0x5B),    // item without a receipt
            (&receipt, 0x92, &[], 0xA3), // 0x92 before 0x91
            (&receipt, 0x94, &[1], 0xA3),
            (&checked, 0x91, &[], 0xA3), // a second 0x91 before 0x94
            (&checked, 0x94, &[1], 0xA3),
            (&checked, 0x97, &[], 0xA3),
            (&receipt, 0x97, &[], 0xAE), // 0x97 with no saved check
            (&paid, 0x2D, &[], 0x34),
            (&closed, 0xB3, &[], 0x43),
            (&receipt, 0x29, &[], 0x02),
            (&open, 0x14, &[], 0x02),
        ];
        for (st, cmd, data, code) in cases {
            let e = st.next(*cmd, data, None).unwrap_err();
            assert_eq!(e.code, *code, "{cmd:#04x}: {e}");
            assert!(!e.expected.is_empty());
        }
    }

    #[test]
    fn autonomous_mode_skips_0x92() {
        let mut s = open_shift();
        s.autonomous = true;
        let r = run(&s, &[(0x23, &[]), (0x91, &[])]).unwrap();
        assert_eq!(r.next(0x92, &[], None).unwrap_err().code, 0xC8);
        let r = run(&r, &[(0x94, &[1]), (0x97, &[])]).unwrap();
        assert_eq!(r.saved_marks, 0);
    }

    #[test]
    fn deleted_check_does_not_allow_0x97() {
        let r = run(&open_shift(), &[(0x23, &[]), (0x91, &[]), (0x92, &[]), (0x94, &[0])]).unwrap();
        assert_eq!(r.next(0x97, &[], None).unwrap_err().code, 0xAE);
    }

    #[test]
    fn shift_over_24_hours() {
        let t0 = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(9, 0, 0).unwrap();
        let s = SessionState::new().next(0x21, &[], Some(t0)).unwrap().next(0x22, &[], Some(t0)).unwrap();
        assert!(s.next(0x23, &[], Some(t0 + TimeDelta::hours(23))).is_ok());
        assert_eq!(s.next(0x23, &[], Some(t0 + TimeDelta::hours(25))).unwrap_err().code, 0x16);
    }

    #[test]
    fn cancel_returns_to_a_clean_state() {
        let r = run(&open_shift(), &[(0x23, &[]), (0x91, &[]), (0x92, &[]), (0x94, &[1]), (0x10, &[])]).unwrap();
        assert_eq!(r, open_shift());
        let r = run(&SessionState::new(), &[(0x21, &[]), (0x10, &[])]).unwrap();
        assert_eq!(r.shift, ShiftState::Closed);
    }

    #[test]
    fn from_device_unknown_stage_lets_the_register_judge() {
        let s = SessionState::from_device(true, CurrentDocument::RECEIPT, 1, 0, false);
        assert_eq!(s.document, Some((DocKind::Receipt, Stage::Unknown)));
        assert!(s.next(0x24, &[], None).is_ok());
        assert!(s.next(0x96, &[], None).is_ok());
        let s = SessionState::from_device(false, CurrentDocument::SHIFT_OPEN, 1, 0, false);
        assert_eq!(s.shift, ShiftState::Opening);
        assert!(s.next(0x22, &[], None).is_ok());
    }

    #[test]
    fn every_rule_code_is_in_the_error_table() {
        for c in [0x02, 0x16, 0x29, 0x34, 0x43, 0x5A, 0x5B, 0xA3, 0xAE, 0xC8] {
            assert!(crate::protocol::error_info(c).is_some(), "{c:#04x}");
        }
    }
}
