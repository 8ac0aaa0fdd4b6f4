//! Marked goods on the host side: marking codes as scanned ([`code`]) and the tobacco MRP
//! encoding ([`mrp`]).

pub mod code;
pub mod mrp;

pub use code::{local_check, CodeError, CodeType, LocalCheck, MarkingCode};
