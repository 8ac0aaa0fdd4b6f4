//! # kkt
//!
//! An open, memory-safe driver for Russian fiscal cash registers (ККТ) of the Терминал-ФА /
//! КИТ Онлайн-Ф family, which speak the binary "B6 29" protocol, with ФФД 1.2 marked goods.
//!
//! ## What a POS uses
//!
//! * [`Kkt`] (blocking) and [`AsyncKkt`] (tokio): connect by URI ([`Kkt::connect`]:
//!   `tcp://HOST:PORT`, `serial:///dev/ttyUSB0`, `COM3`, `emulator`), open and close shifts,
//!   sell, refund and correct, check marked goods, read the register's state. Every call is
//!   checked against the register's command order before a byte is sent.
//! * [`Receipt`] and [`Cashier`]: the receipt (its JSON is the same as `kkt receipt`'s and the
//!   HTTP service's) with every requisite of seed 004's 0x96/0x97/0x98 (agents, suppliers,
//!   industry requisites, the settlement address, place and vending machine number, taken from
//!   the registration when a register needs them), money as exact kopecks ([`Money`]). The
//!   answer is a [`FiscalDocument`].
//! * The rest of a till's day on [`Kkt`]: [`Kkt::correction`], [`Kkt::cash_in`] and
//!   [`Kkt::cash_out`] (a lost answer settled from the money counters), [`Kkt::document`] (a
//!   document from the FN archive as it was printed), [`Kkt::ofd_status`], [`Kkt::print`],
//!   [`Kkt::register`] and [`Kkt::reregister`].
//! * [`JournaledKkt`] (feature `journal`): the driver with the host's crash-safe journal — a
//!   receipt with an idempotency `id` is formed at most once, a lost answer is settled with the
//!   register.
//! * [`Error`] and [`ErrorKind`]: what went wrong, told apart by what to do about it.
//! * [`VirtualRegister`] (feature `emulator`): a register in memory for tests and demos.
//! * [`Checker`] (feature `online`): the marked-goods check through the store's ТС ПИОТ or
//!   ГИС МТ, with the Local Module as fallback.
//!
//! ```
//! # fn main() -> Result<(), kkt::Error> {
//! use kkt::{Cashier, Kkt, Receipt};
//! let mut kkt = Kkt::connect("emulator")?;
//! kkt.open_shift(&Cashier::new("Иванова А.А."))?;
//! let receipt = Receipt::from_json(include_str!("../fixtures/receipts/sale.json"))?;
//! let doc = kkt.sell(&receipt)?;
//! assert!(doc.fd_number > 0);
//! kkt.close_shift()?;
//! # Ok(()) }
//! ```
//!
//! ## Cargo features
//!
//! `default` is everything the `kkt` binary needs. A POS that embeds only the driver takes
//! `default-features = false, features = ["tcp"]` (and `serial`, `tokio`, `journal` as it
//! needs): protocol, commands, session, transports, driver and receipt, nothing else.
//!
//! | feature | adds |
//! |---|---|
//! | `tcp` | TCP (`tcp://HOST:PORT`) |
//! | `serial` | serial lines (`serial:///dev/ttyUSB0`, `COM3`) |
//! | `tokio` | [`AsyncKkt`] and the tokio transports |
//! | `journal` | [`journal`], [`JournaledKkt`] |
//! | `emulator` | [`emulator`]: the virtual register and its TCP / pseudo-terminal servers |
//! | `online` | [`checker`]: ТС ПИОТ, ГИС МТ, the Local Module, the sold-codes store |
//! | `postgres` | the sold-codes store on PostgreSQL |
//! | `cli` | the `kkt` binary (command line and `kkt serve`) |
//!
//! ## The layers, bottom up
//!
//! * [`protocol`]: the sans-IO core: frame codec, data types, TLV/STLV, the named wire values,
//!   the tag, command and device-error tables (`protocol::{tag, cmd, err}` name every row).
//! * [`commands`]: every command as a typed request and response.
//! * [`marking`]: marking codes as scanned (GS1 DataMatrix, tobacco packs), the MRP encoding,
//!   the verdict of a check.
//! * [`session`]: the register's command order (shift, receipt, marked-item steps) as pure state.
//! * [`receipt`]: the receipt model (and its JSON), money in kopecks.
//! * [`transport`]: serial, TCP (sync and tokio) and in-process links, device URIs.
//! * [`driver`]: the client procedures over a link: session checks, retries, reconciliation of
//!   lost fiscal answers.
//! * [`journal`], [`journaled`]: the host's journal and the driver with it.
//! * [`emulator`], [`checker`]: beside the driver (the virtual register; the marked-goods check).
//! * [`device`]: opening a register by URI, on top.
//! * [`describe`]: a frame explained field by field (what `kkt decode` prints).
//! * [`error`]: [`Error`], told apart by what to do about it.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

#[cfg(feature = "online")]
pub mod checker;
pub mod commands;
pub mod describe;
pub mod device;
pub mod driver;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod error;
// Private files and atomic replacement: for kkt's own state and the `kkt` binary's log file,
// not part of the API a POS uses.
#[doc(hidden)]
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

#[cfg(feature = "online")]
pub use checker::Checker;
#[cfg(feature = "tokio")]
pub use driver::AsyncKkt;
pub use driver::{DeviceStatus, Event, FiscalDocument, Kkt, Options};
#[cfg(feature = "emulator")]
pub use emulator::VirtualRegister;
pub use error::{Error, ErrorKind, Result};
#[cfg(feature = "journal")]
pub use journaled::JournaledKkt;
pub use receipt::{Cashier, Money, Receipt};
pub use transport::DeviceUri;
