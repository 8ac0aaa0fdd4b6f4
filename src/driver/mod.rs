//! The driver: what a POS embeds.
//!
//! [`Kkt`] (blocking) and [`AsyncKkt`] (tokio) have the same methods; both run the same
//! procedures (written once, see `core.rs`) over a transport:
//!
//! * every call is checked against the register's command order
//!   ([`crate::session::SessionState`]) before a byte is sent, and refused with the step that
//!   was expected ([`Error::Sequence`](crate::Error::Sequence));
//! * the session state is read from the register on connect and after any doubt (FN status
//!   0x08, marking status 0x90, registration modes 0x0A);
//! * each command waits its own timeout (the command table: 20 s, 60 s for 0x21 and the
//!   long documents), overridable in [`Options`];
//! * only queries are repeated after a timeout or a corrupted answer; any command is repeated
//!   when it certainly did not reach the register (connection refused, error 0x25);
//! * a command that forms a fiscal document (0x22, 0x24, 0x26, 0x28, 0x2A, 0x15, 0xE3) is never
//!   sent twice: when its answer is lost the driver asks the register (FN status, the FN
//!   archive, the shift parameters) and returns the document it formed, or
//!   [`Error::NotFormed`](crate::Error::NotFormed), or [`Error::UnknownOutcome`](crate::Error::UnknownOutcome) with what to check.
//!
//! ```
//! # fn main() -> Result<(), kkt::Error> {
//! use kkt::receipt::{Cashier, Item, Money, Receipt, Taxation, Vat};
//! use kkt::protocol::Decimal;
//!
//! // "tcp://192.168.1.50:7778", "serial:///dev/ttyUSB0", "COM3", or the virtual register:
//! let mut kkt = kkt::Kkt::connect("emulator")?;
//! kkt.open_shift(&Cashier::new("Иванова А.А."))?;
//! let mut r = Receipt::sell(Taxation::OSN);
//! r.items.push(Item::new("Хлеб", Money::from_kopecks(4550), Decimal::integer(2), Vat::VAT10));
//! r.payments.cash = Money::from_kopecks(10000);
//! let doc = kkt.sell(&r)?;
//! println!("receipt {} FD {} FP {} change {}", doc.receipt_number, doc.fd_number, doc.fiscal_sign, doc.change);
//! kkt.close_shift()?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::commands::info::{FnStatus, Status};
use crate::commands::marking::{CheckMarkLocalResult, CheckMarkOnlineResult, MarkCheckResult};
use crate::commands::shift::ShiftParams;
use crate::protocol::command_info;
use crate::receipt::Money;
use crate::session::SessionState;

pub mod archive;
mod client;
mod core;
mod link;
mod mark;
mod plan;
pub mod profile;
pub mod reconcile;
mod retry;
mod sale;
mod till;

pub use archive::{OfdStatus, StoredDocument, StoredItem};
#[cfg(feature = "tokio")]
pub use client::AsyncKkt;
pub use client::Kkt;
pub use mark::{MarkChecker, ReceiptRecord, SaleContext};
pub use profile::RequisiteDefault;
pub use sale::MarkRefusal;
pub use till::{CashDirection, CashOperation, MoneyTotals, PrintJob, Printed, ShiftCounters};

/// Settings of a client.
#[derive(Debug, Clone)]
pub struct Options {
    /// Timeouts per command code, overriding the command table's.
    pub timeouts: BTreeMap<u8, Duration>,
    /// How often a query (or a command that certainly did not reach the register) is repeated.
    pub retries: u32,
    /// Pause before the first repetition (doubled, tripled … after).
    pub retry_delay: Duration,
    /// How often the FN status is asked for after a fiscal command's answer was lost.
    pub reconcile_attempts: u32,
    /// Pause between those attempts (time for a link to come back).
    pub reconcile_delay: Duration,
    /// What marking code check results allow a sale.
    pub mark_policy: MarkPolicy,
    /// Print shift reports (0x21/0x29 without the no-print flag).
    pub print_reports: bool,
    /// Read the register's state when connecting.
    pub resync_on_connect: bool,
    /// The whole wait for one command, every sending and pause included (`kkt --timeout`):
    /// each sending waits at most what is left of it, and no sending starts once it is spent.
    /// `None`: each sending waits its own timeout, up to [`Options::retries`] times.
    pub budget: Option<Duration>,
    /// Limits a receipt is checked against before anything is sent (items, change).
    pub limits: crate::receipt::Limits,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            timeouts: BTreeMap::new(),
            retries: 2,
            retry_delay: Duration::from_millis(200),
            reconcile_attempts: 5,
            reconcile_delay: Duration::from_secs(1),
            mark_policy: MarkPolicy::Strict,
            print_reports: true,
            resync_on_connect: true,
            budget: None,
            limits: crate::receipt::Limits::DEFAULT,
        }
    }
}

impl Options {
    /// The timeout of command `code`: the override, else the command table's (20 s for
    /// unknown commands).
    pub fn timeout(&self, code: u8) -> Duration {
        self.timeouts
            .get(&code)
            .copied()
            .unwrap_or_else(|| Duration::from_millis(command_info(code).map_or(20_000, |i| u64::from(i.timeout_ms))))
    }

    /// Short pauses and few attempts: for tests and in-process registers.
    pub fn fast() -> Self {
        Self {
            retry_delay: Duration::from_millis(1),
            reconcile_delay: Duration::from_millis(1),
            reconcile_attempts: 3,
            ..Self::default()
        }
    }
}

/// Which marking code check results allow a sale inside [`Kkt::sell`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MarkPolicy {
    /// Refuse the item when the OISM says the planned status is wrong or the goods are
    /// suspended, or a crypto-tail check is negative (the result is deleted, 0x94 with 0, and
    /// the receipt cancelled). Unchecked codes (no OISM answer, autonomous mode) pass.
    #[default]
    Strict,
    /// Keep every result and sell (seed 004 allows saving a negative result).
    AcceptAll,
}

/// What the driver is doing, for progress displays.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The OISM did not answer a code's check (0x92 error 0xCC): the item is sold on the FN's
    /// check (and the checker's verdict) without the OISM's answer.
    OismUnreachable,
    /// Shift open (0x21) started (`None`) or finished: the register may be updating the
    /// marking code check keys, which takes ~15 s or more.
    KeyUpdate {
        /// How long it took, once finished.
        finished: Option<Duration>,
    },
    /// A command is sent again.
    Retrying {
        /// The command.
        command: u8,
        /// The attempt that failed (1 = the first sending).
        attempt: u32,
        /// Why.
        reason: String,
    },
    /// A fiscal command's answer was lost; the register is being asked what happened.
    Reconciling {
        /// The command.
        command: u8,
        /// How the answer was lost.
        cause: String,
    },
    /// The register said what happened.
    Reconciled {
        /// The command.
        command: u8,
        /// Whether the document was formed.
        formed: bool,
        /// Its number, when formed.
        fd_number: Option<u32>,
    },
    /// A command goes to the register (each attempt); what a progress line shows while the
    /// answer is awaited.
    Sending {
        /// The command.
        command: u8,
        /// 1 for the first sending.
        attempt: u32,
        /// How long this attempt waits for the answer.
        timeout: Duration,
    },
    /// The exchange of [`Event::Sending`] ended (an answer, or a failure).
    Received {
        /// The command.
        command: u8,
        /// How long it took.
        elapsed: Duration,
    },
    /// The session state was read from the register.
    Resynced {
        /// The state.
        state: SessionState,
    },
}

/// The register at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceStatus {
    /// 0x01: serial number, clock, printer, FN presence.
    pub status: Status,
    /// 0x08: FN phase, open document, shift flag, warnings, last FD number.
    pub fn_status: FnStatus,
    /// 0x20: shift state and numbers.
    pub shift: ShiftParams,
    /// The command-order state the driver works with.
    pub session: SessionState,
}

/// The two checks of a marking code (0x91, 0x92).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MarkCheck {
    /// 0x91: the FN's own check.
    pub local: CheckMarkLocalResult,
    /// 0x92: the OISM's answer (none in autonomous mode, or when the OISM did not answer:
    /// error 0xCC, [`Event::OismUnreachable`]).
    pub online: Option<CheckMarkOnlineResult>,
}

impl MarkCheck {
    /// Tag 2106 as named flags (from the OISM's answer), when there is one.
    pub fn flags(&self) -> Option<MarkCheckResult> {
        self.online.as_ref().map(|o| o.result)
    }

    /// Tag 2106 as the register's checks give it: from 0x92, else built from the FN's 0x91
    /// result (autonomous mode: 1 = checked and negative, 3 = checked and positive).
    pub fn device_result(&self) -> Option<MarkCheckResult> {
        self.flags().or(match self.local.result {
            1 => Some(MarkCheckResult(0b01)),
            3 => Some(MarkCheckResult(0b11)),
            _ => None,
        })
    }
}

/// A marked item's check inside a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemMark {
    /// Index of the item in the receipt.
    pub item: usize,
    /// The checks.
    pub check: MarkCheck,
    /// Tag 2106 as 0x94 returned it (saved into the receipt).
    pub result: MarkCheckResult,
    /// With a marked-goods checker ([`Kkt::set_mark_checker`]): where its verdict came from.
    pub source: Option<crate::marking::Source>,
    /// Tag 1265 sent in the item's 1260 (none when no check answered, or without a checker).
    pub tag1265: Option<String>,
    /// The checker's notes (no answer in time, emergency, accepted by the cashier, …).
    pub notes: Vec<String>,
    /// The verdict's row in the checker's evidence trail, when it keeps one.
    pub check_id: Option<i64>,
}

/// The cashier's answer to a verdict that asks (`Strictness::Ask`): `true` sells the item.
pub type MarkAsk = Box<dyn FnMut(&crate::marking::Verdict) -> bool + Send>;

/// A formed receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FiscalDocument {
    /// Fiscal document number (ФД).
    pub fd_number: u32,
    /// Fiscal sign (ФП).
    pub fiscal_sign: u32,
    /// When it was formed (the register's clock).
    pub datetime: NaiveDateTime,
    /// Shift number.
    pub shift_number: u16,
    /// Receipt number in the shift.
    pub receipt_number: u16,
    /// The receipt total.
    pub total: Money,
    /// Change handed back from cash.
    pub change: Money,
    /// The answer was lost, and the document was confirmed from the FN archive.
    pub recovered: bool,
    /// The marked items' checks.
    pub marks: Vec<ItemMark>,
    /// A correction receipt (0x25 … 0x26) rather than a receipt.
    pub correction: bool,
    /// The settlement requisites the receipt left out and the driver took from the
    /// registration (a vending, delivery or one-to-many register needs them in every receipt).
    pub defaults: Vec<RequisiteDefault>,
}

/// A fiscal command whose lost answer was rebuilt from the register's archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    /// The command.
    pub command: u8,
    /// The document it formed.
    pub fd_number: u32,
    /// How the answer was lost.
    pub cause: String,
}
