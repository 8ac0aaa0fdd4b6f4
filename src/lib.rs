//! # kkt
//!
//! An open, memory-safe driver for Russian fiscal cash registers (ККТ) of the Терминал-ФА /
//! КИТ Онлайн-Ф family, which speak the binary "B6 29" protocol, with ФФД 1.2 marked goods.
//!
//! * [`protocol`]: the sans-IO core: frame codec, data types, TLV/STLV, the tag, command and
//!   device-error tables.
//! * [`commands`]: every command as a typed request and response.
//! * [`session`]: the register's command order (shift, receipt, marked-item steps) as pure state.
//! * [`marking`]: marking codes as scanned (GS1 DataMatrix, tobacco packs), the MRP encoding.
//! * [`checker`]: ГИС МТ permissive-mode check, Local Module fallback, ban rules, tag 1260,
//!   sold-codes store.
//! * [`journal`]: the host's crash-safe journal of fiscal commands (idempotency keys, recovery).
//! * [`journaled`]: [`journaled::JournaledKkt`], the driver with the journal: idempotent receipts, recovery.
//! * [`marking`]: marking codes (GS1 parse, tag 2100 classification).
//! * [`emulator`]: the virtual register (device and fiscal storage) and its servers.
//! * [`transport`]: serial, TCP (sync and tokio) and in-process links, device URIs.
//! * [`driver`]: [`Kkt`] and [`AsyncKkt`], what a POS embeds: session checks, retries, reconciliation
//!   of lost fiscal answers, shifts, receipts, marked goods, reports.
//! * [`receipt`]: the receipt model (and its JSON), money in kopecks.
//! * [`error`]: [`Error`], told apart by what to do about it.
//! * [`device`]: opening a register by URI (`Kkt::connect`): every transport and the virtual register.
//! * [`describe`]: a frame explained field by field (what `kkt decode` prints).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "online")]
pub mod checker;
pub mod commands;
pub mod describe;
pub mod device;
pub mod driver;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod error;
pub mod fsutil;
#[cfg(feature = "journal")]
pub mod journal;
#[cfg(feature = "journal")]
pub mod journaled;
pub mod marking;
pub mod protocol;
pub mod receipt;
pub mod session;
pub mod transport;

#[cfg(feature = "tokio")]
pub use driver::AsyncKkt;
pub use driver::Kkt;
pub use error::{Error, ErrorKind, Result};
