//! The companion checker of marked goods: the store's ТС ПИОТ (seeds 000, 001) or ГИС МТ's
//! permissive mode (seed 003), with the Local Module ЛМ ЧЗ as fallback, the ban rules, tag
//! 1260, and the sold-codes store.
//!
//! The decisions are pure ([`rules`], [`decide`], [`tag1260`], the failover of [`cdn`], the
//! failure table and version probe of [`tspiot`], the answers of [`lm`]); HTTP ([`gismt`],
//! [`tspiot`], [`lm`]) and storage ([`store`]) are thin shells; [`service`] ties them together.

pub mod cdn;
pub mod confirm;
pub mod decide;
pub mod emergency;
pub mod gismt;
pub mod lm;
pub mod model;
pub mod rules;
pub mod secret;
pub mod service;
pub mod store;
pub mod tag1260;
pub mod texts;
pub mod token;
pub mod tspiot;

pub use decide::{decide, Decision};
pub use gismt::{GisMt, GisMtConfig, Online};
pub use lm::{Lm, LmConfig};
pub use model::{CheckAnswer, CodeInfo};
pub use rules::{judge, Action, Evidence, Local, Reason, Rule, Settings, Source, Strictness, Verdict};
pub use secret::Secret;
pub use service::{CheckError, Checker, Entity, Item, ReceiptCheck, RegisterFacts, RegisterRefusal, SaleRecord};
pub use tspiot::{TsPiot, TsPiotConfig};
