//! The companion checker of marked goods: ГИС МТ's permissive mode (seed 003) with the Local
//! Module as fallback (seeds 000, 001), the ban rules and the sold-codes store. It is the
//! driver's [`MarkChecker`](crate::driver::MarkChecker) for sales; what it produces (the
//! verdict, the decision, tag 1260, the answer model) is shared vocabulary in
//! [`crate::marking`].
//!
//! The decisions are pure ([`rules`], [`decide`], the failover of [`cdn`]); HTTP ([`gismt`],
//! [`lm`]) and storage ([`store`]) are thin shells; [`service`] ties them together.

pub mod cdn;
pub mod decide;
pub mod gismt;
pub mod lm;
pub mod rules;
pub mod secret;
pub mod service;
pub mod store;

pub use crate::marking::model::{CheckAnswer, CodeInfo};
pub use crate::marking::verdict::{Action, CheckItem, Decision, Reason, Rule, Source, Strictness, Verdict};
pub use decide::decide;
pub use gismt::{GisMt, GisMtConfig, Online};
pub use lm::{Lm, LmConfig};
pub use rules::{judge, Evidence, Local, Settings};
pub use secret::{Secret, SecretFileError};
pub use service::{Checker, ReceiptCheck};
