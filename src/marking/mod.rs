//! Marked goods on the host side: marking codes as scanned ([`code`]), the tobacco MRP
//! encoding ([`mrp`]), and what a check of them comes to ([`verdict`]: the item, the verdict,
//! the 0x94 decision; [`model`]: what ГИС МТ and the Local Module answer; [`tag1260`]: the
//! requisite 0x97 carries). The driver's sale and the online checker share these; the
//! checking itself (HTTP, the rules, the store) is `crate::checker`.

pub mod code;
pub mod model;
pub mod mrp;
pub mod tag1260;
pub mod texts;
pub mod verdict;

pub use code::{local_check, CodeError, CodeType, LocalCheck, MarkingCode};
pub use verdict::{Action, CheckItem, CodeState, Decision, Reason, Rule, Source, Strictness, Verdict};
