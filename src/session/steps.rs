//! The steps: one method per command of the order (seed 004: Appendix 2 and each command's
//! conditions). A step either moves the state on and returns `Ok`, or leaves it as it was and
//! returns the [`Violation`] the register would answer.

use chrono::{NaiveDateTime, TimeDelta};
use serde::Serialize;

use super::state::{MarkStep, ReceiptKind, Report, SessionState, ShiftDocument, Stage, State};
use crate::commands::marking::KeepMarkCheck;
use crate::commands::Request;
use crate::protocol::{cmd, err};

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
    /// What to do, naming kkt's commands (what the CLI and the HTTP service print as the hint).
    pub hint: &'static str,
}

impl Violation {
    /// A stable name of the hint, for a translation of it (`document-open`, `open-shift`, …).
    pub fn hint_key(&self) -> &'static str {
        match self.hint {
            HINT_DOCUMENT_OPEN => "document-open",
            HINT_OPEN_SHIFT => "open-shift",
            HINT_CLOSE_SHIFT => "close-shift",
            HINT_SHIFT_STEPS => "shift-steps",
            HINT_MARK_STEPS => "mark-steps",
            HINT_REPORT_STEPS => "report-steps",
            HINT_SENT_ONCE => "sent-once",
            HINT_OPEN_RECEIPT => "open-receipt",
            _ => "receipt-steps",
        }
    }
}

/// Longest a shift may stay open.
pub const MAX_SHIFT: TimeDelta = TimeDelta::hours(24);

const FINISH_DOCUMENT: &str = "finish or cancel (0x10) the open document first";
const NO_ITEMS_NOW: &str = "no items after payment or receipt data";

/// What to run when a document is open that this step cannot go on with: it may be another
/// program's, so cancelling is offered only with that warning.
const HINT_DOCUMENT_OPEN: &str = "a document is open on the register (`kkt status` shows which): finish it, or, \
     if no other program is working with the register, cancel it with `kkt cancel`";
const HINT_OPEN_SHIFT: &str = "open a shift first: `kkt shift open`";
const HINT_CLOSE_SHIFT: &str = "close the shift first: `kkt shift close`";
const HINT_SHIFT_STEPS: &str = "`kkt shift open` and `kkt shift close` send a shift report's steps in order";
const HINT_OPEN_RECEIPT: &str =
    "open a receipt first: `kkt receipt FILE` (the driver's `sell`) opens, fills and closes one";
const HINT_RECEIPT_STEPS: &str = "`kkt receipt FILE` (the driver's `sell`) sends a receipt's steps in order";
const HINT_MARK_STEPS: &str =
    "`kkt receipt FILE` (the driver's `sell`) checks and saves each marking code in order; `kkt status` shows the marking state";
const HINT_REPORT_STEPS: &str =
    "`kkt report settlement`, `kkt register FILE` and `kkt fn close --yes` send a report's steps in order";
const HINT_SENT_ONCE: &str = "the data went once already: to start the receipt over, cancel it with `kkt cancel`";

fn refuse(command: u8, expected: &'static str, code: u8) -> Result<(), Violation> {
    Err(Violation { command, expected, code, hint: hint_for(command, expected) })
}

/// The hint of a refusal: by what was expected, else by the command's family.
fn hint_for(command: u8, expected: &'static str) -> &'static str {
    if expected == FINISH_DOCUMENT {
        return HINT_DOCUMENT_OPEN;
    }
    if expected.contains("already sent") {
        return HINT_SENT_ONCE;
    }
    if expected.starts_with("open a receipt") {
        return HINT_OPEN_RECEIPT;
    }
    if expected.starts_with("open a shift") || expected.contains("an open shift") {
        return HINT_OPEN_SHIFT;
    }
    if expected.contains("close the shift") || expected.contains("already open") || expected.contains("24 hours") {
        return HINT_CLOSE_SHIFT;
    }
    match command {
        cmd::BEGIN_SHIFT_OPEN
        | cmd::SHIFT_OPEN_DATA
        | cmd::OPEN_SHIFT
        | cmd::BEGIN_SHIFT_CLOSE
        | cmd::SHIFT_CLOSE_DATA
        | cmd::CLOSE_SHIFT => HINT_SHIFT_STEPS,
        cmd::CHECK_MARK | cmd::CHECK_MARK_ONLINE | cmd::KEEP_MARK_CHECK | cmd::CLEAR_MARK_CHECKS => HINT_MARK_STEPS,
        cmd::MARKED_ITEM if expected.contains("0x94") => HINT_MARK_STEPS,
        cmd::BEGIN_SETTLEMENT_REPORT
        | cmd::SETTLEMENT_REPORT_DATA
        | cmd::FORM_SETTLEMENT_REPORT
        | cmd::BEGIN_REGISTRATION
        | cmd::REGISTRATION_DATA
        | cmd::FORM_REGISTRATION
        | cmd::BEGIN_FN_CLOSE
        | cmd::FN_CLOSE_DATA
        | cmd::FORM_FN_CLOSE => HINT_REPORT_STEPS,
        _ => HINT_RECEIPT_STEPS,
    }
}

impl ReceiptKind {
    fn open_code(self) -> u8 {
        match self {
            ReceiptKind::Receipt => cmd::BEGIN_RECEIPT,
            ReceiptKind::Correction => cmd::BEGIN_CORRECTION,
        }
    }

    fn form_code(self) -> u8 {
        match self {
            ReceiptKind::Receipt => cmd::FORM_RECEIPT,
            ReceiptKind::Correction => cmd::FORM_CORRECTION,
        }
    }
}

impl Report {
    fn begin_code(self) -> u8 {
        match self {
            Report::Settlement => cmd::BEGIN_SETTLEMENT_REPORT,
            Report::Registration => cmd::BEGIN_REGISTRATION,
            Report::FnClose => cmd::BEGIN_FN_CLOSE,
        }
    }

    fn data_code(self) -> u8 {
        match self {
            Report::Settlement => cmd::SETTLEMENT_REPORT_DATA,
            Report::Registration => cmd::REGISTRATION_DATA,
            Report::FnClose => cmd::FN_CLOSE_DATA,
        }
    }

    fn form_code(self) -> u8 {
        match self {
            Report::Settlement => cmd::FORM_SETTLEMENT_REPORT,
            Report::Registration => cmd::FORM_REGISTRATION,
            Report::FnClose => cmd::FORM_FN_CLOSE,
        }
    }

    fn begin_first(self) -> &'static str {
        match self {
            Report::Settlement => "begin the settlement report with 0x27 first",
            Report::Registration => "begin the registration report with 0xE1 first",
            Report::FnClose => "begin the FN close report with 0x14 first",
        }
    }
}

impl SessionState {
    // ------------------------------------------------------------------ the generic entry

    /// The state after command `command` with DATA `data` succeeds at time `now`, or the
    /// violation the register answers (see [`SessionState::apply`]).
    pub fn next(&self, command: u8, data: &[u8], now: Option<NaiveDateTime>) -> Result<SessionState, Violation> {
        let mut s = self.clone();
        s.apply(command, data, now)?;
        Ok(s)
    }

    /// The step of command `command` (the driver's `Kkt::call` path, which has any typed
    /// request as its code and DATA): dispatches to the step method. Only 0x94's data matters
    /// to the order, read with its typed layout ([`KeepMarkCheck`]). Commands without an order
    /// rule (queries, settings) leave the state as it is.
    pub fn apply(&mut self, command: u8, data: &[u8], now: Option<NaiveDateTime>) -> Result<(), Violation> {
        match command {
            cmd::BEGIN_SHIFT_OPEN => self.begin_shift_open(),
            cmd::SHIFT_OPEN_DATA => self.shift_open_data(),
            cmd::OPEN_SHIFT => self.open_shift(now),
            cmd::BEGIN_SHIFT_CLOSE => self.begin_shift_close(),
            cmd::SHIFT_CLOSE_DATA => self.shift_close_data(),
            cmd::CLOSE_SHIFT => self.close_shift(),
            cmd::BEGIN_RECEIPT => self.open_receipt(ReceiptKind::Receipt, now),
            cmd::BEGIN_CORRECTION => self.open_receipt(ReceiptKind::Correction, now),
            cmd::CHECK_MARK => self.check_mark(),
            cmd::CHECK_MARK_ONLINE => self.check_mark_online(),
            cmd::KEEP_MARK_CHECK => {
                // Data that does not decode is refused by the register: nothing is kept.
                self.keep_mark(&KeepMarkCheck::decode(data).unwrap_or(KeepMarkCheck { keep: false }))
            }
            cmd::CLEAR_MARK_CHECKS => {
                self.clear_marks();
                Ok(())
            }
            cmd::ITEM => self.add_item(),
            cmd::MARKED_ITEM => self.add_marked_item(),
            cmd::RECEIPT_REQUISITES => self.add_requisites(),
            cmd::PAYMENT_DATA => self.pay(),
            cmd::FORM_RECEIPT => self.close_receipt(ReceiptKind::Receipt),
            cmd::FORM_CORRECTION => self.close_receipt(ReceiptKind::Correction),
            cmd::BEGIN_SETTLEMENT_REPORT => self.begin_report(Report::Settlement),
            cmd::BEGIN_REGISTRATION => self.begin_report(Report::Registration),
            cmd::BEGIN_FN_CLOSE => self.begin_report(Report::FnClose),
            cmd::SETTLEMENT_REPORT_DATA => self.report_data(Report::Settlement),
            cmd::REGISTRATION_DATA => self.report_data(Report::Registration),
            cmd::FN_CLOSE_DATA => self.report_data(Report::FnClose),
            cmd::FORM_SETTLEMENT_REPORT => self.form_report(Report::Settlement),
            cmd::FORM_REGISTRATION => self.form_report(Report::Registration),
            cmd::FORM_FN_CLOSE => self.form_report(Report::FnClose),
            cmd::CANCEL_DOCUMENT => {
                self.cancel();
                Ok(())
            }
            cmd::CASH_IN => self.cash_in(),
            cmd::CASH_OUT => self.cash_out(),
            _ => Ok(()),
        }
    }

    // ------------------------------------------------------------------ the shift

    /// 0x21: begins the shift open report.
    pub fn begin_shift_open(&mut self) -> Result<(), Violation> {
        let c = cmd::BEGIN_SHIFT_OPEN;
        match self.state {
            State::ShiftClosed { report: None } => {
                self.state = State::OpeningShift;
                Ok(())
            }
            State::ShiftClosed { report: Some(_) } | State::ShiftOpen { document: Some(_), .. } => {
                refuse(c, FINISH_DOCUMENT, err::WRONG_FN_STATE)
            }
            _ => refuse(c, "the shift is already open: close it (0x29, 0x2A) first", err::WRONG_FN_STATE),
        }
    }

    fn in_shift_open(&self, command: u8) -> Result<(), Violation> {
        match self.state {
            State::OpeningShift => Ok(()),
            _ => refuse(command, "begin the shift open with 0x21 first", err::WRONG_FN_STATE),
        }
    }

    /// 0xE4: data of the shift open report.
    pub fn shift_open_data(&mut self) -> Result<(), Violation> {
        self.in_shift_open(cmd::SHIFT_OPEN_DATA)
    }

    /// 0x22: forms the shift open report at `now` (a receipt more than 24 h later is refused).
    pub fn open_shift(&mut self, now: Option<NaiveDateTime>) -> Result<(), Violation> {
        self.in_shift_open(cmd::OPEN_SHIFT)?;
        self.state = State::ShiftOpen { opened_at: now, document: None };
        Ok(())
    }

    /// 0x29: begins the shift close report.
    pub fn begin_shift_close(&mut self) -> Result<(), Violation> {
        let c = cmd::BEGIN_SHIFT_CLOSE;
        match self.state {
            State::ShiftOpen { opened_at, document: None } => {
                self.state = State::ClosingShift { opened_at };
                Ok(())
            }
            State::ShiftOpen { document: Some(_), .. } | State::ShiftClosed { report: Some(_) } => {
                refuse(c, FINISH_DOCUMENT, err::WRONG_FN_STATE)
            }
            _ => refuse(c, "open a shift (0x21, 0x22) first", err::WRONG_FN_STATE),
        }
    }

    fn in_shift_close(&self, command: u8) -> Result<(), Violation> {
        match self.state {
            State::ClosingShift { .. } => Ok(()),
            _ => refuse(command, "begin the shift close with 0x29 first", err::WRONG_FN_STATE),
        }
    }

    /// 0xE5: data of the shift close report.
    pub fn shift_close_data(&mut self) -> Result<(), Violation> {
        self.in_shift_close(cmd::SHIFT_CLOSE_DATA)
    }

    /// 0x2A: forms the shift close report.
    pub fn close_shift(&mut self) -> Result<(), Violation> {
        self.in_shift_close(cmd::CLOSE_SHIFT)?;
        self.state = State::ShiftClosed { report: None };
        Ok(())
    }

    // ------------------------------------------------------------------ receipts

    /// 0x23 (receipt) or 0x25 (correction receipt) at `now`: opens a receipt.
    pub fn open_receipt(&mut self, kind: ReceiptKind, now: Option<NaiveDateTime>) -> Result<(), Violation> {
        let c = kind.open_code();
        let State::ShiftOpen { opened_at, document } = self.state else {
            return refuse(c, "open a shift (0x21, 0x22) before a receipt", err::WRONG_FN_STATE);
        };
        if document.is_some() {
            return refuse(c, FINISH_DOCUMENT, err::RECEIPT_ORDER);
        }
        if let (Some(opened), Some(now)) = (opened_at, now) {
            if now - opened > MAX_SHIFT {
                return refuse(c, "the shift is over 24 hours old: close it and open a new one", err::SHIFT_OVER_24H);
            }
        }
        self.state =
            State::ShiftOpen { opened_at, document: Some(ShiftDocument::Receipt { kind, stage: Stage::Open }) };
        Ok(())
    }

    fn set_stage(&mut self, stage: Stage) {
        if let State::ShiftOpen { document: Some(ShiftDocument::Receipt { stage: s, .. }), .. } = &mut self.state {
            *s = stage;
        }
    }

    fn stage(&self) -> Option<Stage> {
        self.receipt().map(|(_, st)| st)
    }

    /// 0x91: the FN's check of a marking code (in a receipt before its items are closed by
    /// 0x98/0x2D, or outside any receipt).
    pub fn check_mark(&mut self) -> Result<(), Violation> {
        let c = cmd::CHECK_MARK;
        if self.mark != MarkStep::Idle {
            return refuse(c, "finish the code under check with 0x94 (save or delete) before 0x91", err::MARK_ORDER);
        }
        if matches!(self.stage(), Some(Stage::Requisites | Stage::Payment)) {
            return refuse(c, NO_ITEMS_NOW, err::ITEM_AFTER_PAYMENT);
        }
        self.mark = MarkStep::Checked;
        Ok(())
    }

    /// 0x92: the OISM's check of the code under check (refused in autonomous mode).
    pub fn check_mark_online(&mut self) -> Result<(), Violation> {
        let c = cmd::CHECK_MARK_ONLINE;
        if self.autonomous {
            return refuse(c, "in autonomous mode skip 0x92: save the FN's result with 0x94", err::NOT_IN_AUTONOMOUS);
        }
        if self.mark != MarkStep::Checked {
            return refuse(c, "check the code in the FN with 0x91 before 0x92", err::MARK_ORDER);
        }
        self.mark = MarkStep::OnlineChecked;
        Ok(())
    }

    /// 0x94: saves (`keep`) or drops the result of the code under check; a saved result
    /// allows one 0x97.
    pub fn keep_mark(&mut self, request: &KeepMarkCheck) -> Result<(), Violation> {
        let ready = match self.mark {
            MarkStep::OnlineChecked => true,
            MarkStep::Checked => self.autonomous,
            MarkStep::Idle => false,
        };
        if !ready {
            let expected = if self.mark == MarkStep::Checked {
                "ask the OISM with 0x92 before saving the result with 0x94"
            } else {
                "check a code with 0x91 (and 0x92) before 0x94"
            };
            return refuse(cmd::KEEP_MARK_CHECK, expected, err::MARK_ORDER);
        }
        self.mark = MarkStep::Idle;
        if request.keep {
            self.saved_marks = self.saved_marks.saturating_add(1);
        }
        Ok(())
    }

    /// 0x95: clears every saved result and the code under check.
    pub fn clear_marks(&mut self) {
        self.mark = MarkStep::Idle;
        self.saved_marks = 0;
    }

    fn item_allowed(&self, command: u8) -> Result<(), Violation> {
        match self.stage() {
            None => refuse(command, "open a receipt (0x23 or 0x25) before items", err::RECEIPT_NOT_OPEN),
            Some(Stage::Requisites | Stage::Payment) => refuse(command, NO_ITEMS_NOW, err::ITEM_AFTER_PAYMENT),
            Some(_) => Ok(()),
        }
    }

    /// 0x96: an item without a marking code.
    pub fn add_item(&mut self) -> Result<(), Violation> {
        self.item_allowed(cmd::ITEM)?;
        self.set_stage(Stage::Items);
        Ok(())
    }

    /// 0x97: a marked item; uses one result saved by 0x94.
    pub fn add_marked_item(&mut self) -> Result<(), Violation> {
        let c = cmd::MARKED_ITEM;
        self.item_allowed(c)?;
        if self.mark != MarkStep::Idle {
            return refuse(c, "finish the code under check with 0x94 before 0x97", err::MARK_ORDER);
        }
        if self.saved_marks == 0 {
            return refuse(
                c,
                "check the code (0x91, 0x92) and save the result (0x94) before 0x97",
                err::MARK_NOT_CHECKED,
            );
        }
        self.saved_marks -= 1;
        self.set_stage(Stage::Items);
        Ok(())
    }

    /// 0x98: the receipt's requisites (no more items after them).
    pub fn add_requisites(&mut self) -> Result<(), Violation> {
        let c = cmd::RECEIPT_REQUISITES;
        match self.stage() {
            None => refuse(c, "open a receipt (0x23 or 0x25) first", err::RECEIPT_NOT_OPEN),
            Some(Stage::Requisites) => refuse(c, "receipt requisites were already sent", err::ALREADY_SENT),
            Some(Stage::Payment) => {
                refuse(c, "send receipt requisites (0x98) before payment data (0x2D)", err::RECEIPT_ORDER)
            }
            Some(_) => {
                self.set_stage(Stage::Requisites);
                Ok(())
            }
        }
    }

    /// 0x2D: the payment data (only forming or cancelling after it).
    pub fn pay(&mut self) -> Result<(), Violation> {
        let c = cmd::PAYMENT_DATA;
        match self.stage() {
            None => refuse(c, "open a receipt (0x23 or 0x25) first", err::RECEIPT_NOT_OPEN),
            Some(Stage::Payment) => refuse(c, "payment data were already sent", err::ALREADY_SENT),
            Some(_) => {
                self.set_stage(Stage::Payment);
                Ok(())
            }
        }
    }

    /// 0x24 (receipt) or 0x26 (correction receipt): forms the receipt of that kind.
    pub fn close_receipt(&mut self, kind: ReceiptKind) -> Result<(), Violation> {
        let c = kind.form_code();
        match self.receipt() {
            Some((k, Stage::Payment | Stage::Unknown)) if k == kind => {}
            Some((k, _)) if k == kind => {
                return refuse(c, "send payment data (0x2D) before forming the receipt", err::RECEIPT_ORDER)
            }
            _ => {
                let expected = match kind {
                    ReceiptKind::Receipt => "open a receipt with 0x23 first",
                    ReceiptKind::Correction => "open a correction receipt with 0x25 first",
                };
                return refuse(c, expected, err::RECEIPT_NOT_OPEN);
            }
        }
        if self.mark != MarkStep::Idle {
            return refuse(c, "finish the code under check with 0x94 before forming the receipt", err::MARK_ORDER);
        }
        self.state = State::ShiftOpen { opened_at: self.shift_opened_at(), document: None };
        self.saved_marks = 0;
        Ok(())
    }

    // ------------------------------------------------------------------ reports

    /// 0x27, 0xE1 or 0x14: begins a report (the FN close report only with the shift closed).
    pub fn begin_report(&mut self, report: Report) -> Result<(), Violation> {
        let c = report.begin_code();
        self.state = match (self.state, report) {
            (State::ShiftClosed { report: None }, _) => State::ShiftClosed { report: Some(report) },
            (State::ShiftOpen { opened_at, document: None }, Report::Settlement) => {
                State::ShiftOpen { opened_at, document: Some(ShiftDocument::Settlement) }
            }
            (State::ShiftOpen { opened_at, document: None }, Report::Registration) => {
                State::ShiftOpen { opened_at, document: Some(ShiftDocument::Registration) }
            }
            (
                State::ShiftOpen { document: None, .. } | State::OpeningShift | State::ClosingShift { .. },
                Report::FnClose,
            ) => return refuse(c, "close the shift (0x29, 0x2A) before closing the FN", err::WRONG_FN_STATE),
            // Another document is open: a receipt, a report, or a shift report being formed.
            _ => return refuse(c, FINISH_DOCUMENT, err::WRONG_FN_STATE),
        };
        Ok(())
    }

    fn in_report(&self, report: Report, command: u8) -> Result<(), Violation> {
        if self.report() == Some(report) {
            Ok(())
        } else {
            refuse(command, report.begin_first(), err::WRONG_FN_STATE)
        }
    }

    /// 0xE6, 0xE2 or 0x17: data of the open report.
    pub fn report_data(&mut self, report: Report) -> Result<(), Violation> {
        self.in_report(report, report.data_code())
    }

    /// 0x28, 0xE3 or 0x15: forms the open report.
    pub fn form_report(&mut self, report: Report) -> Result<(), Violation> {
        self.in_report(report, report.form_code())?;
        self.close_document();
        Ok(())
    }

    fn close_document(&mut self) {
        self.state = match self.state {
            State::ShiftOpen { opened_at, .. } => State::ShiftOpen { opened_at, document: None },
            State::ShiftClosed { .. } => State::ShiftClosed { report: None },
            other => other,
        };
    }

    // ------------------------------------------------------------------ the rest

    /// 0x10: cancels whatever document is open (a shift report too: back to the shift as it
    /// was) and every code check.
    pub fn cancel(&mut self) {
        self.state = match self.state {
            State::OpeningShift => State::ShiftClosed { report: None },
            State::ClosingShift { opened_at } => State::ShiftOpen { opened_at, document: None },
            other => other,
        };
        self.close_document();
        self.clear_marks();
    }

    fn move_cash(&self, command: u8) -> Result<(), Violation> {
        match self.state {
            State::ShiftOpen { document: None, .. } => Ok(()),
            State::ShiftOpen { document: Some(_), .. } => refuse(command, FINISH_DOCUMENT, err::WRONG_FN_STATE),
            _ => refuse(command, "cash in and out need an open shift", err::CASH_NEEDS_SHIFT),
        }
    }

    /// 0xB3: cash in (an open shift, no document).
    pub fn cash_in(&mut self) -> Result<(), Violation> {
        self.move_cash(cmd::CASH_IN)
    }

    /// 0xB4: cash out (an open shift, no document).
    pub fn cash_out(&mut self) -> Result<(), Violation> {
        self.move_cash(cmd::CASH_OUT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::values::CurrentDocument;
    use crate::session::{DocKind, ShiftState};

    const KEEP: KeepMarkCheck = KeepMarkCheck { keep: true };
    const DROP: KeepMarkCheck = KeepMarkCheck { keep: false };

    fn run(s: &SessionState, steps: &[(u8, &[u8])]) -> Result<SessionState, Violation> {
        steps.iter().try_fold(s.clone(), |st, (c, d)| st.next(*c, d, None))
    }

    fn open_shift() -> SessionState {
        run(&SessionState::new(), &[(cmd::BEGIN_SHIFT_OPEN, &[0]), (cmd::OPEN_SHIFT, &[])]).unwrap()
    }

    fn receipt() -> SessionState {
        let mut s = open_shift();
        s.open_receipt(ReceiptKind::Receipt, None).unwrap();
        s
    }

    /// `step` is refused with `code`, and leaves the state as it was.
    #[track_caller]
    fn refused(s: &SessionState, code: u8, step: impl FnOnce(&mut SessionState) -> Result<(), Violation>) -> Violation {
        let mut after = s.clone();
        let v = step(&mut after).unwrap_err();
        assert_eq!(v.code, code, "{v}");
        assert!(!v.expected.is_empty());
        assert!(v.hint.contains("`kkt ") && !v.hint.contains("0x"), "a hint names kkt's commands: {v:?}");
        assert_eq!(&after, s, "a refused step changes nothing");
        v
    }

    #[test]
    fn a_whole_day_in_order() {
        let s = open_shift();
        assert_eq!(s.shift(), ShiftState::Open);
        let s = run(
            &s,
            &[
                (cmd::BEGIN_RECEIPT, &[]),
                (cmd::ITEM, &[]),
                (cmd::CHECK_MARK, &[]),
                (cmd::CHECK_MARK_ONLINE, &[]),
                (cmd::KEEP_MARK_CHECK, &[1]),
                (cmd::MARKED_ITEM, &[]),
                (cmd::RECEIPT_REQUISITES, &[]),
                (cmd::PAYMENT_DATA, &[]),
                (cmd::FORM_RECEIPT, &[]),
                (cmd::BEGIN_CORRECTION, &[]),
                (cmd::ITEM, &[]),
                (cmd::PAYMENT_DATA, &[]),
                (cmd::FORM_CORRECTION, &[]),
                (cmd::BEGIN_SETTLEMENT_REPORT, &[]),
                (cmd::SETTLEMENT_REPORT_DATA, &[]),
                (cmd::FORM_SETTLEMENT_REPORT, &[]),
                (cmd::CASH_IN, &[]),
                (cmd::BEGIN_SHIFT_CLOSE, &[0]),
                (cmd::SHIFT_CLOSE_DATA, &[]),
                (cmd::CLOSE_SHIFT, &[]),
            ],
        )
        .unwrap();
        assert_eq!(s, SessionState::new());
    }

    #[test]
    fn refusals_carry_the_documented_codes() {
        let closed = SessionState::new();
        let open = open_shift();
        let receipt = run(&open, &[(cmd::BEGIN_RECEIPT, &[])]).unwrap();
        let paid = run(&receipt, &[(cmd::ITEM, &[]), (cmd::PAYMENT_DATA, &[])]).unwrap();
        let checked = run(&receipt, &[(cmd::CHECK_MARK, &[])]).unwrap();
        let cases: &[(&SessionState, u8, &[u8], u8)] = &[
            (&closed, cmd::BEGIN_RECEIPT, &[], 0x02),  // no receipt without an open shift
            (&open, cmd::BEGIN_SHIFT_OPEN, &[], 0x02), // shift already open
            (&closed, cmd::OPEN_SHIFT, &[], 0x02),     // open without begin
            (&receipt, cmd::BEGIN_RECEIPT, &[], 0x29), // a second receipt
            (&paid, cmd::ITEM, &[], 0x5A),             // items after payment data
            (&receipt, cmd::FORM_RECEIPT, &[], 0x29),  // form before payment data
            (&open, cmd::FORM_RECEIPT, &[], 0x5B),     // form without a receipt
            (&open, cmd::ITEM, &[], 0x5B),             // item without a receipt
            (&receipt, cmd::CHECK_MARK_ONLINE, &[], 0xA3), // 0x92 before 0x91
            (&receipt, cmd::KEEP_MARK_CHECK, &[1], 0xA3),
            (&checked, cmd::CHECK_MARK, &[], 0xA3), // a second 0x91 before 0x94
            (&checked, cmd::KEEP_MARK_CHECK, &[1], 0xA3),
            (&checked, cmd::MARKED_ITEM, &[], 0xA3),
            (&receipt, cmd::MARKED_ITEM, &[], 0xAE), // 0x97 with no saved check
            (&paid, cmd::PAYMENT_DATA, &[], 0x34),
            (&closed, cmd::CASH_IN, &[], 0x43),
            (&receipt, cmd::BEGIN_SHIFT_CLOSE, &[], 0x02),
            (&open, cmd::BEGIN_FN_CLOSE, &[], 0x02),
        ];
        for (st, command, data, code) in cases {
            let e = st.next(*command, data, None).unwrap_err();
            assert_eq!(e.code, *code, "{command:#04x}: {e}");
            assert_eq!(e.command, *command);
            assert!(!e.expected.is_empty());
        }
    }

    #[test]
    fn autonomous_mode_skips_0x92() {
        let mut s = open_shift();
        s.set_autonomous(true);
        let r = run(&s, &[(cmd::BEGIN_RECEIPT, &[]), (cmd::CHECK_MARK, &[])]).unwrap();
        assert_eq!(r.next(cmd::CHECK_MARK_ONLINE, &[], None).unwrap_err().code, 0xC8);
        let r = run(&r, &[(cmd::KEEP_MARK_CHECK, &[1]), (cmd::MARKED_ITEM, &[])]).unwrap();
        assert_eq!(r.saved_marks(), 0);
    }

    #[test]
    fn deleted_check_does_not_allow_0x97() {
        let r = run(
            &open_shift(),
            &[
                (cmd::BEGIN_RECEIPT, &[]),
                (cmd::CHECK_MARK, &[]),
                (cmd::CHECK_MARK_ONLINE, &[]),
                (cmd::KEEP_MARK_CHECK, &[0]),
            ],
        )
        .unwrap();
        assert_eq!(r.next(cmd::MARKED_ITEM, &[], None).unwrap_err().code, 0xAE);
    }

    #[test]
    fn shift_over_24_hours() {
        let t0 = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(9, 0, 0).unwrap();
        let s = SessionState::new()
            .next(cmd::BEGIN_SHIFT_OPEN, &[], Some(t0))
            .unwrap()
            .next(cmd::OPEN_SHIFT, &[], Some(t0))
            .unwrap();
        assert!(s.next(cmd::BEGIN_RECEIPT, &[], Some(t0 + TimeDelta::hours(23))).is_ok());
        assert_eq!(s.next(cmd::BEGIN_RECEIPT, &[], Some(t0 + TimeDelta::hours(25))).unwrap_err().code, 0x16);
    }

    #[test]
    fn cancel_returns_to_a_clean_state() {
        let r = run(
            &open_shift(),
            &[
                (cmd::BEGIN_RECEIPT, &[]),
                (cmd::CHECK_MARK, &[]),
                (cmd::CHECK_MARK_ONLINE, &[]),
                (cmd::KEEP_MARK_CHECK, &[1]),
                (cmd::CANCEL_DOCUMENT, &[]),
            ],
        )
        .unwrap();
        assert_eq!(r, open_shift());
        let r = run(&SessionState::new(), &[(cmd::BEGIN_SHIFT_OPEN, &[]), (cmd::CANCEL_DOCUMENT, &[])]).unwrap();
        assert_eq!(r.shift(), ShiftState::Closed);
    }

    #[test]
    fn from_device_unknown_stage_lets_the_register_judge() {
        let s = SessionState::from_device(true, CurrentDocument::RECEIPT, 1, 0, false);
        assert_eq!(s.receipt(), Some((ReceiptKind::Receipt, Stage::Unknown)));
        assert!(s.next(cmd::FORM_RECEIPT, &[], None).is_ok());
        assert!(s.next(cmd::ITEM, &[], None).is_ok());
        let s = SessionState::from_device(false, CurrentDocument::SHIFT_OPEN, 1, 0, false);
        assert_eq!(s.shift(), ShiftState::Opening);
        assert!(s.next(cmd::OPEN_SHIFT, &[], None).is_ok());
    }

    #[test]
    fn every_rule_code_is_in_the_error_table() {
        for c in [0x02, 0x16, 0x29, 0x34, 0x43, 0x5A, 0x5B, 0xA3, 0xAE, 0xC8] {
            assert!(crate::protocol::error_info(c).is_some(), "{c:#04x}");
        }
    }

    // ------------------------------------------------------------------ each step

    #[test]
    fn shift_steps() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(9, 0, 0).unwrap();
        let mut s = SessionState::new();
        refused(&s, err::WRONG_FN_STATE, SessionState::shift_open_data);
        refused(&s, err::WRONG_FN_STATE, |s| s.open_shift(Some(t)));
        refused(&s, err::WRONG_FN_STATE, SessionState::begin_shift_close);
        s.begin_shift_open().unwrap();
        assert_eq!(s.state(), State::OpeningShift);
        assert!(s.document_open(), "the shift open report is a document");
        refused(&s, err::WRONG_FN_STATE, SessionState::begin_shift_open);
        refused(&s, err::WRONG_FN_STATE, |s| s.begin_report(Report::Settlement));
        s.shift_open_data().unwrap();
        s.shift_open_data().unwrap();
        s.open_shift(Some(t)).unwrap();
        assert_eq!(s.state(), State::ShiftOpen { opened_at: Some(t), document: None });
        assert_eq!(s.shift_opened_at(), Some(t));
        refused(&s, err::WRONG_FN_STATE, SessionState::close_shift);
        s.begin_shift_close().unwrap();
        assert_eq!(s.state(), State::ClosingShift { opened_at: Some(t) });
        assert!(s.shift_open(), "the FN's shift flag stays up while the close report is formed");
        s.shift_close_data().unwrap();
        let mut back = s.clone();
        back.cancel();
        assert_eq!(back.state(), State::ShiftOpen { opened_at: Some(t), document: None });
        s.close_shift().unwrap();
        assert_eq!(s, SessionState::new());
    }

    #[test]
    fn receipt_steps() {
        let mut s = open_shift();
        refused(&s, err::RECEIPT_NOT_OPEN, SessionState::add_item);
        refused(&s, err::RECEIPT_NOT_OPEN, SessionState::add_requisites);
        refused(&s, err::RECEIPT_NOT_OPEN, SessionState::pay);
        refused(&s, err::RECEIPT_NOT_OPEN, |s| s.close_receipt(ReceiptKind::Correction));
        s.open_receipt(ReceiptKind::Correction, None).unwrap();
        assert_eq!(s.document(), Some(DocKind::Correction));
        assert_eq!(s.receipt(), Some((ReceiptKind::Correction, Stage::Open)));
        let v = refused(&s, err::RECEIPT_NOT_OPEN, |s| s.close_receipt(ReceiptKind::Receipt));
        assert_eq!(v.command, cmd::FORM_RECEIPT);
        refused(&s, err::RECEIPT_ORDER, |s| s.close_receipt(ReceiptKind::Correction));
        refused(&s, err::WRONG_FN_STATE, SessionState::cash_out);
        s.add_item().unwrap();
        assert_eq!(s.receipt(), Some((ReceiptKind::Correction, Stage::Items)));
        s.add_requisites().unwrap();
        refused(&s, err::ALREADY_SENT, SessionState::add_requisites);
        refused(&s, err::ITEM_AFTER_PAYMENT, SessionState::add_item);
        refused(&s, err::ITEM_AFTER_PAYMENT, SessionState::check_mark);
        s.pay().unwrap();
        refused(&s, err::RECEIPT_ORDER, SessionState::add_requisites);
        s.close_receipt(ReceiptKind::Correction).unwrap();
        assert_eq!(s, open_shift());
    }

    #[test]
    fn mark_steps() {
        let mut s = receipt();
        refused(&s, err::MARK_ORDER, SessionState::check_mark_online);
        refused(&s, err::MARK_ORDER, |s| s.keep_mark(&KEEP));
        s.check_mark().unwrap();
        assert_eq!(s.mark(), MarkStep::Checked);
        refused(&s, err::MARK_ORDER, |s| s.keep_mark(&KEEP));
        refused(&s, err::MARK_ORDER, SessionState::add_marked_item);
        s.check_mark_online().unwrap();
        s.keep_mark(&KEEP).unwrap();
        assert_eq!((s.mark(), s.saved_marks()), (MarkStep::Idle, 1));
        s.check_mark().unwrap();
        s.check_mark_online().unwrap();
        s.keep_mark(&DROP).unwrap();
        assert_eq!(s.saved_marks(), 1, "a dropped result is not saved");
        s.add_marked_item().unwrap();
        refused(&s, err::MARK_NOT_CHECKED, SessionState::add_marked_item);
        s.check_mark().unwrap();
        s.pay().unwrap();
        refused(&s, err::MARK_ORDER, |s| s.close_receipt(ReceiptKind::Receipt));
        s.clear_marks();
        s.close_receipt(ReceiptKind::Receipt).unwrap();
        // Outside a receipt a code may be checked and dropped.
        let mut out = open_shift();
        out.check_mark().unwrap();
        out.check_mark_online().unwrap();
        out.keep_mark(&DROP).unwrap();
        assert_eq!(out, open_shift());
    }

    #[test]
    fn report_steps() {
        let mut s = SessionState::new();
        refused(&s, err::WRONG_FN_STATE, |s| s.report_data(Report::Settlement));
        refused(&s, err::WRONG_FN_STATE, |s| s.form_report(Report::FnClose));
        s.begin_report(Report::FnClose).unwrap();
        assert_eq!(s.state(), State::ShiftClosed { report: Some(Report::FnClose) });
        refused(&s, err::WRONG_FN_STATE, |s| s.report_data(Report::Registration));
        refused(&s, err::WRONG_FN_STATE, SessionState::begin_shift_open);
        s.report_data(Report::FnClose).unwrap();
        s.form_report(Report::FnClose).unwrap();
        assert_eq!(s, SessionState::new());
        let mut open = open_shift();
        let v = refused(&open, err::WRONG_FN_STATE, |s| s.begin_report(Report::FnClose));
        assert_eq!(v.expected, "close the shift (0x29, 0x2A) before closing the FN");
        open.begin_report(Report::Registration).unwrap();
        assert_eq!(open.report(), Some(Report::Registration));
        assert_eq!(open.current_document(), CurrentDocument::REGISTRATION);
        refused(&open, err::RECEIPT_ORDER, |s| s.open_receipt(ReceiptKind::Receipt, None));
        open.cancel();
        assert_eq!(open, open_shift());
    }

    #[test]
    fn the_generic_entry_reads_0x94_through_its_layout() {
        let mut s = receipt();
        s.check_mark().unwrap();
        s.check_mark_online().unwrap();
        let kept = s.next(cmd::KEEP_MARK_CHECK, &[1], None).unwrap();
        assert_eq!(kept.saved_marks(), 1);
        let dropped = s.next(cmd::KEEP_MARK_CHECK, &[0], None).unwrap();
        assert_eq!((dropped.mark(), dropped.saved_marks()), (MarkStep::Idle, 0));
        let bad = s.next(cmd::KEEP_MARK_CHECK, &[1, 0], None).unwrap();
        assert_eq!(bad.saved_marks(), 0, "data that does not decode keeps nothing");
        // Queries and settings have no order rule.
        assert_eq!(s.next(cmd::FN_STATUS, &[], None).unwrap(), s);
    }
}
