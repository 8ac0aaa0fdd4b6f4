//! Marked goods (ЧЗ): the marking code itself, pure and reusable.

pub mod code;

pub use code::{local_check, CodeType, LocalCheck, MarkingCode};
