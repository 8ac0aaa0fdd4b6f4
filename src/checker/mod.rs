//! The companion checker of marked goods: ГИС МТ's permissive mode (seed 003) with the Local
//! Module as fallback (seeds 000, 001), the ban rules, tag 1260, and the sold-codes store.
//!
//! The decisions are pure ([`rules`], [`decide`], [`tag1260`]); HTTP and storage are thin shells.

pub mod decide;
pub mod model;
pub mod rules;
pub mod tag1260;

pub use decide::{decide, Decision};
pub use model::{CheckAnswer, CodeInfo};
pub use rules::{judge, Action, Evidence, Local, Reason, Rule, Settings, Source, Strictness, Verdict};
