//! What the register is doing: shift, open document and marked-item step, as pure state.
//!
//! [`sequence`] is the order the register enforces (seed 004, Appendix 2 and the commands'
//! conditions). The driver asks it before sending a command, so that an out-of-order call is
//! refused before a byte goes out; the virtual register asks it to answer with the
//! documented error code. One table of rules serves both.

pub mod sequence;

pub use sequence::{DocKind, MarkStep, SessionState, ShiftState, Stage, Violation};
