//! What the register is doing: shift, open document and marked-item step, as pure state.
//!
//! [`SessionState`] is the order the register enforces (seed 004: Appendix 2 and each
//! command's conditions). The driver asks it before sending a command, so that an
//! out-of-order call is refused before a byte goes out; the virtual register asks it to answer
//! with the documented error code. One set of rules serves both. It does no I/O and reads no
//! clock: the time is passed in.
//!
//! # The states
//!
//! The FN forms one document at a time. [`State`] is where the register is, with the data only
//! that state has: the time the shift was opened only while it is open, a receipt (and its
//! [`Stage`]) only in an open shift, the FN close report only with the shift closed.
//!
//! ```text
//!                    begin_shift_open 0x21                 open_shift 0x22
//!   +-------------+ ----------------------> +--------------+ ----------------> +-------------+
//!   | ShiftClosed |                         | OpeningShift |                   |  ShiftOpen  |
//!   |   report    | <---------------------- +--------------+                   |  opened_at  |
//!   +-------------+       cancel 0x10         shift_open_data 0xE4 (stays)      |  document   |
//!         ^                                                                    +-------------+
//!         |             close_shift 0x2A    +--------------+  begin_shift_close 0x29 |   ^
//!         +-------------------------------- | ClosingShift | <-----------------------+   |
//!                                           |  opened_at   | ----------------------------+
//!                                           +--------------+         cancel 0x10
//!                                             shift_close_data 0xE5 (stays)
//! ```
//!
//! The documents inside a shift state (`report` of [`State::ShiftClosed`], `document` of
//! [`State::ShiftOpen`]); a shift report can begin only with no document open:
//!
//! ```text
//!   report:   None --begin_report--> Settlement | Registration | FnClose
//!                  (0x27, 0xE1, 0x14)    report_data 0xE6, 0xE2, 0x17 (stays)
//!                  <--form_report (0x28, 0xE3, 0x15) or cancel 0x10--
//!
//!   document: None --begin_report (0x27, 0xE1)--> Settlement | Registration  (as above)
//!                  --open_receipt (0x23, 0x25)--> Receipt { kind, stage }
//!                  <--close_receipt (0x24, 0x26) or cancel 0x10--
//!
//!   stage:    Open --add_item 0x96, add_marked_item 0x97--> Items (more items: stays)
//!             Open | Items --add_requisites 0x98--> Requisites
//!             Open | Items | Requisites --pay 0x2D--> Payment --close_receipt--> (no document)
//!             Unknown (opened before we connected): every step is allowed, the register judges.
//! ```
//!
//! # The marked-item step
//!
//! Beside the state runs the check of a marking code, [`MarkStep`] (Appendix 2: 0x91, 0x92,
//! 0x94, then 0x97). It belongs to no document: inside a receipt it comes before the code's
//! 0x97 (and no longer after 0x98 or 0x2D), outside any receipt a code may be checked and its
//! result dropped (`kkt mark check`).
//!
//! ```text
//!        check_mark 0x91           check_mark_online 0x92
//!   Idle ---------------> Checked ------------------------> OnlineChecked
//!    ^                       |  (autonomous: 0x92 refused)         |
//!    +------ keep_mark 0x94 -+-------------------------------------+
//!            (from Checked only in autonomous mode)
//!   keep_mark with `keep` saves a result (saved_marks + 1); add_marked_item 0x97 uses one;
//!   clear_marks 0x95, close_receipt and cancel 0x10 clear them.
//! ```
//!
//! # Steps
//!
//! One method per step ([`SessionState::open_shift`], [`SessionState::open_receipt`],
//! [`SessionState::add_item`], [`SessionState::check_mark`], [`SessionState::keep_mark`],
//! [`SessionState::pay`], [`SessionState::close_receipt`], [`SessionState::cancel`], …): each
//! moves the state on, or leaves it as it was and returns the [`Violation`] naming the
//! expected step and the error code the register answers. [`SessionState::apply`] (and
//! [`SessionState::next`], which returns the new state) is the generic entry by command code
//! that dispatches to them.

mod state;
mod steps;

pub use state::{DocKind, MarkStep, ReceiptKind, Report, SessionState, ShiftDocument, ShiftState, Stage, State};
pub use steps::{Violation, MAX_SHIFT};
