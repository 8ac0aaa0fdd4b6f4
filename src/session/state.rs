//! The session's state: one [`State`] of the diagram (with the data only that state has), the
//! marked-item step beside it, and the accessors. The steps that move it are in `steps.rs`.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::protocol::values::CurrentDocument;

/// The shift as the register reports it (the four shift states of the diagram).
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

/// A multi-step document other than a shift report, by kind.
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

/// The marked-item step of Appendix 2 (0x91 → 0x92 → 0x94). It runs inside a receipt, before
/// its 0x97, and also outside any receipt (a code checked and dropped, `kkt mark check`).
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

impl MarkStep {
    /// The step from the code-check state byte of 0x90 (1 none; 2, 3 checked by the FN; 4
    /// checked by the OISM).
    pub fn from_device(check_state: u8) -> Self {
        match check_state {
            2 | 3 => MarkStep::Checked,
            4 => MarkStep::OnlineChecked,
            _ => MarkStep::Idle,
        }
    }

    /// The code-check state byte of 0x90 for this step (the register's side).
    pub fn device_state(self) -> u8 {
        match self {
            MarkStep::Idle => 1,
            MarkStep::Checked => 2,
            MarkStep::OnlineChecked => 4,
        }
    }
}

/// A receipt or a correction receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    /// A receipt (0x23 … 0x24).
    Receipt,
    /// A correction receipt (0x25 … 0x26).
    Correction,
}

impl ReceiptKind {
    /// The document kind.
    pub fn doc_kind(self) -> DocKind {
        match self {
            ReceiptKind::Receipt => DocKind::Receipt,
            ReceiptKind::Correction => DocKind::Correction,
        }
    }
}

/// A report with a begin / data / form order (0x27 … 0x28, 0xE1 … 0xE3, 0x14 … 0x15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// Settlement report.
    Settlement,
    /// Registration or re-registration report.
    Registration,
    /// FN close report (only with the shift closed).
    FnClose,
}

impl Report {
    /// The document kind.
    pub fn doc_kind(self) -> DocKind {
        match self {
            Report::Settlement => DocKind::Settlement,
            Report::Registration => DocKind::Registration,
            Report::FnClose => DocKind::FnClose,
        }
    }
}

/// The document open in an open shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftDocument {
    /// A receipt and how far it has come.
    Receipt {
        /// Receipt or correction receipt.
        kind: ReceiptKind,
        /// Its stage.
        stage: Stage,
    },
    /// A settlement report.
    Settlement,
    /// A registration (re-registration) report.
    Registration,
}

impl ShiftDocument {
    /// The document kind.
    pub fn doc_kind(self) -> DocKind {
        match self {
            ShiftDocument::Receipt { kind, .. } => kind.doc_kind(),
            ShiftDocument::Settlement => DocKind::Settlement,
            ShiftDocument::Registration => DocKind::Registration,
        }
    }

    /// The report, if this is one.
    pub fn report(self) -> Option<Report> {
        match self {
            ShiftDocument::Receipt { .. } => None,
            ShiftDocument::Settlement => Some(Report::Settlement),
            ShiftDocument::Registration => Some(Report::Registration),
        }
    }
}

/// Where the register is: one state of the diagram in the module doc, with the data only that
/// state has. The FN forms one document at a time, so a receipt exists only in an open shift,
/// a receipt's stage only with its receipt, the FN close report only with the shift closed,
/// and nothing else while a shift report is being formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The shift is closed; a report may be open.
    ShiftClosed {
        /// The open report.
        report: Option<Report>,
    },
    /// 0x21 done: the shift open report is being formed (0xE4, then 0x22).
    OpeningShift,
    /// The shift is open; a receipt or a report may be open.
    ShiftOpen {
        /// When the shift was opened, if known (a receipt more than 24 h later is refused).
        opened_at: Option<NaiveDateTime>,
        /// The open document.
        document: Option<ShiftDocument>,
    },
    /// 0x29 done: the shift close report is being formed (0xE5, then 0x2A).
    ClosingShift {
        /// When the shift was opened, if known (0x10 goes back to the open shift).
        opened_at: Option<NaiveDateTime>,
    },
}

impl Default for State {
    fn default() -> Self {
        State::ShiftClosed { report: None }
    }
}

/// Everything the command order depends on: the [`State`], the marked-item step, the saved
/// check results and the mode. Moved on only by the step methods (see the module doc).
///
/// Serialized as the flat record of earlier versions (`shift`, `shift_opened_at`, `document`,
/// `mark`, `saved_marks`, `autonomous`), so the emulator's state files and the JSON of `kkt
/// status` keep their form.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "Flat", into = "Flat")]
pub struct SessionState {
    pub(super) state: State,
    pub(super) mark: MarkStep,
    pub(super) saved_marks: u8,
    pub(super) autonomous: bool,
}

impl SessionState {
    /// A register with a closed shift, no document, no code under check.
    pub fn new() -> Self {
        Self::default()
    }

    /// The state of the diagram.
    pub fn state(&self) -> State {
        self.state
    }

    /// The shift.
    pub fn shift(&self) -> ShiftState {
        match self.state {
            State::ShiftClosed { .. } => ShiftState::Closed,
            State::OpeningShift => ShiftState::Opening,
            State::ShiftOpen { .. } => ShiftState::Open,
            State::ClosingShift { .. } => ShiftState::Closing,
        }
    }

    /// When the shift was opened, if known.
    pub fn shift_opened_at(&self) -> Option<NaiveDateTime> {
        match self.state {
            State::ShiftOpen { opened_at, .. } | State::ClosingShift { opened_at } => opened_at,
            State::ShiftClosed { .. } | State::OpeningShift => None,
        }
    }

    /// The open multi-step document other than a shift report.
    pub fn document(&self) -> Option<DocKind> {
        match self.state {
            State::ShiftClosed { report } => report.map(Report::doc_kind),
            State::ShiftOpen { document, .. } => document.map(ShiftDocument::doc_kind),
            State::OpeningShift | State::ClosingShift { .. } => None,
        }
    }

    /// The open receipt (or correction receipt) and its stage.
    pub fn receipt(&self) -> Option<(ReceiptKind, Stage)> {
        match self.state {
            State::ShiftOpen { document: Some(ShiftDocument::Receipt { kind, stage }), .. } => Some((kind, stage)),
            _ => None,
        }
    }

    /// The open report.
    pub fn report(&self) -> Option<Report> {
        match self.state {
            State::ShiftClosed { report } => report,
            State::ShiftOpen { document, .. } => document.and_then(ShiftDocument::report),
            State::OpeningShift | State::ClosingShift { .. } => None,
        }
    }

    /// The marked-item step.
    pub fn mark(&self) -> MarkStep {
        self.mark
    }

    /// Check results saved by 0x94 and not yet used by 0x97.
    pub fn saved_marks(&self) -> u8 {
        self.saved_marks
    }

    /// The register works in autonomous mode (no OISM: 0x92 is skipped and refused).
    pub fn autonomous(&self) -> bool {
        self.autonomous
    }

    /// Sets the mode (the register's registration says it).
    pub fn set_autonomous(&mut self, autonomous: bool) {
        self.autonomous = autonomous;
    }

    /// Whether a receipt or other multi-step document (a shift report too) is open.
    pub fn document_open(&self) -> bool {
        self.document().is_some() || matches!(self.state, State::OpeningShift | State::ClosingShift { .. })
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
        use CurrentDocument as d;
        let receipt = |kind| State::ShiftOpen {
            opened_at: None,
            document: Some(ShiftDocument::Receipt { kind, stage: Stage::Unknown }),
        };
        let report = |r: Report| match (shift_open, r) {
            (true, Report::Settlement) => {
                State::ShiftOpen { opened_at: None, document: Some(ShiftDocument::Settlement) }
            }
            (true, Report::Registration) => {
                State::ShiftOpen { opened_at: None, document: Some(ShiftDocument::Registration) }
            }
            _ => State::ShiftClosed { report: Some(r) },
        };
        let state = match current_document {
            d::RECEIPT => receipt(ReceiptKind::Receipt),
            d::CORRECTION => receipt(ReceiptKind::Correction),
            d::SETTLEMENT => report(Report::Settlement),
            d::REGISTRATION | d::REREGISTRATION_FN | d::REREGISTRATION => report(Report::Registration),
            d::FN_CLOSE => report(Report::FnClose),
            d::SHIFT_OPEN => State::OpeningShift,
            d::SHIFT_CLOSE => State::ClosingShift { opened_at: None },
            _ if shift_open => State::ShiftOpen { opened_at: None, document: None },
            _ => State::ShiftClosed { report: None },
        };
        SessionState { state, mark: MarkStep::from_device(mark_state), saved_marks, autonomous }
    }

    /// The FN status's «current document» byte for this state (the register's side of
    /// [`SessionState::from_device`]).
    pub fn current_document(&self) -> CurrentDocument {
        use CurrentDocument as d;
        match (self.document(), self.state) {
            (Some(DocKind::Receipt), _) => d::RECEIPT,
            (Some(DocKind::Correction), _) => d::CORRECTION,
            (Some(DocKind::Settlement), _) => d::SETTLEMENT,
            (Some(DocKind::Registration), _) => d::REGISTRATION,
            (Some(DocKind::FnClose), _) => d::FN_CLOSE,
            (None, State::OpeningShift) => d::SHIFT_OPEN,
            (None, State::ClosingShift { .. }) => d::SHIFT_CLOSE,
            (None, _) => d::NONE,
        }
    }

    /// The FN status's shift flag: the shift is open (also while its close report is formed).
    pub fn shift_open(&self) -> bool {
        matches!(self.state, State::ShiftOpen { .. } | State::ClosingShift { .. })
    }
}

/// The serialized form (the record of earlier versions: state files written by them load).
#[derive(Serialize, Deserialize)]
struct Flat {
    shift: ShiftState,
    shift_opened_at: Option<NaiveDateTime>,
    document: Option<(DocKind, Stage)>,
    mark: MarkStep,
    saved_marks: u8,
    autonomous: bool,
}

impl From<SessionState> for Flat {
    fn from(s: SessionState) -> Self {
        Flat {
            shift: s.shift(),
            shift_opened_at: s.shift_opened_at(),
            document: s.document().map(|k| (k, s.receipt().map_or(Stage::Open, |(_, st)| st))),
            mark: s.mark,
            saved_marks: s.saved_marks,
            autonomous: s.autonomous,
        }
    }
}

impl From<Flat> for SessionState {
    /// A flat record holding a pair the FN cannot be in (an earlier version allowed a report
    /// to begin while a shift report was formed) keeps the document: the register reports
    /// only that one.
    fn from(f: Flat) -> Self {
        let opened_at = f.shift_opened_at;
        let open = matches!(f.shift, ShiftState::Open | ShiftState::Closing);
        let state = match f.document {
            Some((DocKind::Receipt, stage)) => State::ShiftOpen {
                opened_at,
                document: Some(ShiftDocument::Receipt { kind: ReceiptKind::Receipt, stage }),
            },
            Some((DocKind::Correction, stage)) => State::ShiftOpen {
                opened_at,
                document: Some(ShiftDocument::Receipt { kind: ReceiptKind::Correction, stage }),
            },
            Some((DocKind::Settlement, _)) if open => {
                State::ShiftOpen { opened_at, document: Some(ShiftDocument::Settlement) }
            }
            Some((DocKind::Registration, _)) if open => {
                State::ShiftOpen { opened_at, document: Some(ShiftDocument::Registration) }
            }
            Some((DocKind::Settlement, _)) => State::ShiftClosed { report: Some(Report::Settlement) },
            Some((DocKind::Registration, _)) => State::ShiftClosed { report: Some(Report::Registration) },
            Some((DocKind::FnClose, _)) => State::ShiftClosed { report: Some(Report::FnClose) },
            None => match f.shift {
                ShiftState::Closed => State::ShiftClosed { report: None },
                ShiftState::Opening => State::OpeningShift,
                ShiftState::Open => State::ShiftOpen { opened_at, document: None },
                ShiftState::Closing => State::ClosingShift { opened_at },
            },
        };
        SessionState { state, mark: f.mark, saved_marks: f.saved_marks, autonomous: f.autonomous }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_device_and_back() {
        use CurrentDocument as d;
        for (open, doc) in [
            (false, d::NONE),
            (true, d::NONE),
            (true, d::RECEIPT),
            (true, d::CORRECTION),
            (true, d::SETTLEMENT),
            (false, d::SETTLEMENT),
            (false, d::REGISTRATION),
            (false, d::FN_CLOSE),
            (false, d::SHIFT_OPEN),
            (true, d::SHIFT_CLOSE),
        ] {
            let s = SessionState::from_device(open, doc, 1, 0, false);
            assert_eq!((s.shift_open(), s.current_document()), (open, doc), "{open} {doc:?}");
        }
        let s = SessionState::from_device(true, d::REREGISTRATION, 4, 2, true);
        assert_eq!(s.document(), Some(DocKind::Registration));
        assert_eq!((s.mark(), s.saved_marks(), s.autonomous()), (MarkStep::OnlineChecked, 2, true));
        for m in [MarkStep::Idle, MarkStep::Checked, MarkStep::OnlineChecked] {
            assert_eq!(MarkStep::from_device(m.device_state()), m);
        }
    }

    /// A state file of the earlier flat form loads, and is written in the same form.
    #[test]
    fn the_flat_form_of_earlier_versions() {
        let old = r#"{"shift":"open","shift_opened_at":"2026-03-02T09:30:00","document":["receipt","items"],"mark":"checked","saved_marks":1,"autonomous":false}"#;
        let s: SessionState = serde_json::from_str(old).unwrap();
        let t = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap().and_hms_opt(9, 30, 0).unwrap();
        assert_eq!(
            s.state(),
            State::ShiftOpen {
                opened_at: Some(t),
                document: Some(ShiftDocument::Receipt { kind: ReceiptKind::Receipt, stage: Stage::Items })
            }
        );
        assert_eq!((s.mark(), s.saved_marks()), (MarkStep::Checked, 1));
        assert_eq!(serde_json::to_string(&s).unwrap(), old);
        let closing = r#"{"shift":"closing","shift_opened_at":null,"document":null,"mark":"idle","saved_marks":0,"autonomous":true}"#;
        let s: SessionState = serde_json::from_str(closing).unwrap();
        assert_eq!(s.state(), State::ClosingShift { opened_at: None });
        assert_eq!(serde_json::to_string(&s).unwrap(), closing);
        let report = r#"{"shift":"closed","shift_opened_at":null,"document":["fn_close","open"],"mark":"idle","saved_marks":0,"autonomous":false}"#;
        let s: SessionState = serde_json::from_str(report).unwrap();
        assert_eq!(s.state(), State::ShiftClosed { report: Some(Report::FnClose) });
        assert_eq!(serde_json::to_string(&s).unwrap(), report);
        // A pair the FN cannot be in: the report wins, as the register reports it.
        let odd = r#"{"shift":"opening","shift_opened_at":null,"document":["settlement","open"],"mark":"idle","saved_marks":0,"autonomous":false}"#;
        let s: SessionState = serde_json::from_str(odd).unwrap();
        assert_eq!(s.state(), State::ShiftClosed { report: Some(Report::Settlement) });
    }
}
