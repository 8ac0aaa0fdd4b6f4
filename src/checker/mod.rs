//! The companion checker of marked goods: the store's ТС ПИОТ (seeds 000, 001) or ГИС МТ's
//! permissive mode (seed 003), with the Local Module ЛМ ЧЗ as fallback, the ban rules and the
//! sold-codes store. It is the driver's [`MarkChecker`](crate::driver::MarkChecker) for sales;
//! what it produces (the verdict, the decision, tag 1260, the answer model) is shared
//! vocabulary in [`crate::marking`].
//!
//! The decisions are pure ([`rules`], [`decide`](mod@decide), the failover of [`cdn`], the failure table
//! and version probe of [`tspiot`], the answers of [`lm`]); HTTP ([`gismt`], [`tspiot`],
//! [`lm`]) and storage ([`store`]) are thin shells; [`service`] ties them together.

pub mod cdn;
pub mod confirm;
pub mod decide;
pub mod emergency;
pub mod gismt;
pub mod lm;
pub mod rules;
pub mod secret;
pub mod service;
pub mod store;
pub mod token;
pub mod tspiot;

pub use crate::marking::model::{CheckAnswer, CodeInfo};
pub use crate::marking::texts;
pub use crate::marking::verdict::{Action, CheckItem, Decision, Reason, Rule, Source, Strictness, Verdict};
pub use decide::decide;
pub use gismt::{GisMt, GisMtConfig, Online};
pub use lm::{Lm, LmConfig};
pub use rules::{judge, Evidence, Local, Settings};
pub use secret::{Secret, SecretFileError};
pub use service::{CheckError, Checker, Entity, ReceiptCheck, RegisterFacts, RegisterRefusal, SaleRecord};
pub use tspiot::{TsPiot, TsPiotConfig};
