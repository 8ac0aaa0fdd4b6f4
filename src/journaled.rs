//! [`JournaledKkt`]: the driver with the host's journal. Nothing lost, nothing twice.
//!
//! Every command that forms a fiscal document (receipt, correction, shift open and close,
//! settlement report) goes like this:
//!
//! 1. the register's FN status is read: its FN number and last fiscal document `N`;
//! 2. a journal entry (operation, content hash, expected FD `N + 1`, the receipt's total, the
//!    POS's idempotency key `id`) is written and synced to disk ([`Journal::begin_entry`]);
//! 3. the driver runs the command sequence;
//! 4. the outcome (FD number, fiscal sign) or "not formed" is written.
//!
//! An entry left pending (a crash of the host or the register, a lost answer that the driver
//! could not settle) is *reconciled* with the register on [`JournaledKkt::connect`], by
//! [`JournaledKkt::recover`] and before a receipt with the same `id` is run again: the FN
//! status says whether document `N + 1` exists; if it does, it is read from the FN archive
//! (0x30) and compared with the entry (document type; for a receipt the operation and total,
//! then its content read back with 0x3A: the payments by type, the number of items and each
//! item's name, price and quantity, [`ReceiptContent`]), its receipt and shift numbers read
//! with 0x3A too. The entry becomes `formed` (with the document) or `not_formed`. A document
//! another journal entry already owns is never taken for this one, and a receipt whose content
//! differs is another program's: the entry stays "not formed" (safe to form again), its note
//! naming the document seen.
//!
//! Only a document this journal opened is cancelled (0x10): the one a pending entry left open,
//! while no document was formed after that entry began ([`OpenDocumentPolicy`]). A document
//! open on the register that no entry of this journal accounts for belongs to another program
//! (another POS, a vendor utility, kkt with another journal): the command is refused with
//! [`Error::RegisterBusy`], nothing is sent, nothing is cancelled.
//!
//! The FN status before each document must name a valid FN (16 digits), the one read at
//! connect, and a last document number not behind one seen before: a damaged answer is read
//! again, never journaled.
//!
//! With an `id`, a receipt is never formed twice: running it again returns the first
//! document ([`Fiscalized::replayed`]). Without an `id` a repeated receipt is a new sale.
//!
//! One journal is used by one process at a time for each fiscal operation: an exclusive lock
//! on `JOURNAL.lock` (taken per operation, waited for up to [`JournaledKkt::set_lock_wait`]),
//! so that a second process never judges an entry that is still in flight.
//!
//! ```
//! # fn main() -> Result<(), kkt::Error> {
//! use kkt::journal::Journal;
//! use kkt::journaled::JournaledKkt;
//! use kkt::receipt::{Cashier, Receipt};
//!
//! let journal = Journal::in_memory()?; // Journal::open(path) on disk
//! let mut kkt = JournaledKkt::connect("emulator", kkt::driver::Options::fast(), journal)?;
//! kkt.open_shift(&Cashier::new("Иванова А.А."))?;
//! let r = Receipt::from_json(r#"{"id": "pos1-000042", "operation": "sell", "taxation": "osn",
//!   "items": [{"name": "Хлеб", "price": "45.50", "quantity": "2", "vat": "vat10",
//!              "payment_method": "full_payment", "payment_object": "commodity"}],
//!   "payments": {"cash": "100"}}"#)?;
//! let first = kkt.receipt(&r)?;
//! let again = kkt.receipt(&r)?; // the same id: the same document, nothing printed
//! assert!(again.replayed);
//! assert_eq!(first.document.fd_number, again.document.fd_number);
//! # Ok(()) }
//! ```

use std::time::Duration;

use crate::commands::archive::{
    ArchiveDocument, FindDocument, FoundDocument, ReadDocumentAsTlv, ReadDocumentTlv, RequestDocumentTlv,
};
use crate::commands::info::{is_fn_number, FnStatus, GetFnStatus};
use crate::commands::receipt::{FormCorrectionReceipt, FormReceipt};
use crate::commands::report::SettlementReport;
use crate::commands::shift::ShiftReport;
use crate::commands::TlvList;
use crate::commands::{InputError, Request};
use crate::driver::reconcile::{self, ReceiptContent, ReceiptKey};
use crate::driver::{CashDirection, FiscalDocument, Options};
use crate::error::Error;
use crate::journal::{self, Begun, Document, Entry, Journal, JournalError, NewEntry, State};
use crate::protocol::values::CurrentDocument;
use crate::protocol::{cmd, tag};
use crate::receipt::{Cashier, Money, Operation, Receipt};
use crate::Kkt;

/// How many documents after the expected one that no journal entry owns are read when
/// looking for an entry's document (another program formed documents in between).
const SCAN: u32 = 16;

/// How many of the last documents `kkt recover --settle-foreign` reads for an entry whose
/// recorded FN (and so its expected document number) was damaged.
const FOREIGN_SCAN: u32 = 64;

/// How often a damaged FN status answer is read again before the command is refused.
const FN_STATUS_READS: usize = 3;

/// How often more a document's TLVs (0x3A) are asked for after a damaged answer.
const TLV_READS: usize = 3;

/// What to do with a document a pending entry of this journal left open on the register (its
/// attempt was not formed, and no document was formed since). A document open that no entry
/// accounts for is never cancelled ([`Error::RegisterBusy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OpenDocumentPolicy {
    /// Cancel it (0x10): nothing fiscal is lost, the register is ready again.
    #[default]
    Cancel,
    /// Leave it open and say so in the entry's note (a person decides).
    Report,
}

/// A document formed (or found formed) through the journal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fiscalized {
    /// The document. For a replayed one the receipt and shift numbers are those the journal
    /// kept (0 if they could not be read), and `marks` is empty.
    pub document: FiscalDocument,
    /// True when an earlier attempt with the same `id` was returned instead of forming a new
    /// document.
    pub replayed: bool,
    /// The journal entry.
    pub journal_seq: i64,
}

/// What the register says about an entry.
enum Found {
    /// The entry's document, read from the archive.
    Formed { doc: Box<FoundDocument>, numbers: (Option<u32>, Option<u32>) },
    /// No document of the entry: the FN's last document, the open document type (0 none),
    /// and the receipts of other programs seen where the entry's could have been.
    Absent { last_fd: u32, open_document: CurrentDocument, expected: u32, foreign: Vec<String> },
    /// Cash in or out done: the cash in the drawer now.
    CashDone(u64),
    /// The register cannot tell (another FN, too many documents since, no expected number).
    Unknown(String),
}

/// The driver with the host's journal (see the module documentation).
pub struct JournaledKkt {
    kkt: Kkt,
    journal: Journal,
    policy: OpenDocumentPolicy,
    lock_wait: Duration,
    /// The FN serial read at connect (validated), or first read valid since.
    fn_serial: Option<String>,
    /// The highest last-document number an FN status gave (a damaged answer gives less).
    max_fd: u32,
}

impl std::fmt::Debug for JournaledKkt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournaledKkt").field("kkt", &self.kkt).field("journal", &self.journal.path()).finish()
    }
}

/// The journal's name of a receipt's operation: `sell`, `sell_return`, `buy`, `buy_return`,
/// with `correction_` before it for a correction receipt.
pub fn operation_name(r: &Receipt) -> String {
    if r.correction.is_some() {
        format!("correction_{}", r.operation)
    } else {
        r.operation.to_string()
    }
}

/// The content hash of a receipt: its JSON without the `id`.
pub fn receipt_hash(r: &Receipt) -> String {
    let mut c = r.clone();
    c.id = None;
    journal::content_hash(c.to_json().as_bytes())
}

/// The command that forms the document of a journal operation, and, for a receipt, what its
/// archive record is compared with (the operation and total).
fn command_of(entry: &Entry) -> Option<(u8, Option<ReceiptKey>)> {
    let op = entry.operation.as_str();
    let key = |op: &str| -> Option<ReceiptKey> {
        Some(ReceiptKey { operation: op.parse::<Operation>().ok()?, total: entry.total? })
    };
    if let Some(code) = op.strip_prefix("raw_0x").and_then(|h| u8::from_str_radix(h, 16).ok()) {
        return Some((code, None));
    }
    match op {
        "open_shift" => Some((cmd::OPEN_SHIFT, None)),
        "close_shift" => Some((cmd::CLOSE_SHIFT, None)),
        "settlement_report" => Some((cmd::FORM_SETTLEMENT_REPORT, None)),
        _ => match op.strip_prefix("correction_") {
            Some(o) => Some((FormCorrectionReceipt::CODE, Some(key(o)?))),
            None => Some((FormReceipt::CODE, Some(key(op)?))),
        },
    }
}

fn le_uint(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 4 {
        return None;
    }
    Some(b.iter().rev().fold(0u32, |a, x| (a << 8) | u32::from(*x)))
}

fn datetime_text(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

impl JournaledKkt {
    /// Connects to the register at `uri` and reconciles every pending entry of the journal
    /// that belongs to this register.
    pub fn connect(uri: &str, opts: Options, journal: Journal) -> Result<Self, Error> {
        Self::with_kkt(Kkt::connect_with(uri, opts)?, journal)
    }

    /// A connected [`Kkt`] with a journal; pending entries are reconciled now.
    pub fn with_kkt(kkt: Kkt, journal: Journal) -> Result<Self, Error> {
        let mut k = Self::without_recovery(kkt, journal);
        let settled = k.recover()?;
        for e in settled.iter().filter(|e| e.state == State::Pending) {
            tracing::warn!(seq = e.seq, operation = %e.operation, note = ?e.note, "journal entry still unresolved");
        }
        Ok(k)
    }

    /// A connected [`Kkt`] with a journal, without reconciling anything yet (call
    /// [`JournaledKkt::recover`]).
    pub fn without_recovery(kkt: Kkt, journal: Journal) -> Self {
        let fn_serial = kkt.fn_number().filter(|n| is_fn_number(n)).map(str::to_string);
        Self {
            kkt,
            journal,
            policy: OpenDocumentPolicy::default(),
            lock_wait: Duration::from_secs(60),
            fn_serial,
            max_fd: 0,
        }
    }

    /// The FN serial this journal serves now (read at connect, validated).
    pub fn fn_serial(&self) -> Option<&str> {
        self.fn_serial.as_deref()
    }

    /// What to do with a document left open by an attempt that was not formed.
    pub fn set_open_document_policy(&mut self, p: OpenDocumentPolicy) {
        self.policy = p;
    }

    /// How long to wait for another process to finish with the journal (default 60 s).
    pub fn set_lock_wait(&mut self, d: Duration) {
        self.lock_wait = d;
    }

    /// The journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The driver. Documents formed directly through it are not journaled.
    pub fn kkt(&mut self) -> &mut Kkt {
        &mut self.kkt
    }

    /// The entry of idempotency key `id`.
    pub fn outcome(&self, id: &str) -> Result<Option<Entry>, JournalError> {
        self.journal.by_id(id)
    }

    /// Forms a receipt, honouring `r.id`: with an id used before for the same content, the
    /// first attempt is reconciled if need be and its document returned (`replayed`), or, if it
    /// was not formed, the receipt is formed now. An id used for different content is
    /// [`Error::IdReused`]; an earlier attempt that cannot be settled now is [`Error::Pending`].
    /// A receipt with `correction` is refused: [`JournaledKkt::correction`] forms it.
    pub fn receipt(&mut self, r: &Receipt) -> Result<Fiscalized, Error> {
        if r.correction.is_some() {
            return Err(InputError::new(
                "correction",
                "a receipt with `correction` is a correction receipt: form it with `kkt correction` \
                 (JournaledKkt::correction, POST /v1/corrections)",
            )
            .into());
        }
        self.fiscal_receipt(r)
    }

    /// A receipt or a correction receipt (by `r.correction`), journaled.
    fn fiscal_receipt(&mut self, r: &Receipt) -> Result<Fiscalized, Error> {
        r.validate_with(&self.kkt.options().limits)?;
        let correction = r.correction.is_some();
        let settled = r.settle()?;
        let op = operation_name(r);
        let hash = receipt_hash(r);
        let total = r.total();
        let content = ReceiptContent::of(r).map(|c| c.to_json());
        let _lock = self.journal.lock(self.lock_wait)?;
        let replay = |e: &Entry, recovered: bool| -> Result<Fiscalized, Error> {
            let d = e.document.clone().ok_or_else(|| Error::Pending {
                id: e.id.clone().unwrap_or_default(),
                seq: e.seq,
                detail: "the entry is formed but the journal holds no document numbers".into(),
            })?;
            Ok(Fiscalized {
                document: FiscalDocument {
                    fd_number: d.fd_number,
                    fiscal_sign: d.fiscal_sign,
                    datetime: d
                        .datetime
                        .as_deref()
                        .and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").ok())
                        .unwrap_or_default(),
                    shift_number: d.shift_number.and_then(|n| u16::try_from(n).ok()).unwrap_or(0),
                    receipt_number: d.receipt_number.and_then(|n| u16::try_from(n).ok()).unwrap_or(0),
                    total,
                    change: settled.change,
                    recovered,
                    marks: Vec::new(),
                    correction,
                    defaults: Vec::new(),
                },
                replayed: true,
                journal_seq: e.seq,
            })
        };
        // An id seen before: settle the first attempt first.
        let mut retry_of = None;
        if let Some(id) = r.id.as_deref() {
            if let Some(e) = self.journal.by_id(id)? {
                if e.content_hash != hash || e.operation != op {
                    return Err(Error::IdReused { id: id.to_string(), operation: e.operation });
                }
                let e = match e.state {
                    State::Formed => return replay(&e, false),
                    State::Pending | State::NotFormed => match self.settle(&e) {
                        Ok((e, _)) => e,
                        Err(err) => {
                            let detail = format!("the register could not be asked: {err}");
                            if e.state == State::Pending {
                                return Err(Error::Pending { id: id.to_string(), seq: e.seq, detail });
                            }
                            return Err(err);
                        }
                    },
                };
                match e.state {
                    State::Formed => return replay(&e, true),
                    State::Pending => {
                        return Err(Error::Pending {
                            id: id.to_string(),
                            seq: e.seq,
                            detail: e.note.clone().unwrap_or_else(|| "its outcome is unknown".into()),
                        })
                    }
                    State::NotFormed => retry_of = Some(e.seq),
                }
            }
        }
        self.settle_others(retry_of);
        let fs = self.ready()?;
        let expected = fs.last_fd_number.checked_add(1);
        let seq = match retry_of {
            Some(seq) => {
                self.journal.retry(seq, Some(&fs.fn_number), expected)?;
                seq
            }
            None => {
                let new = NewEntry {
                    id: r.id.as_deref(),
                    operation: &op,
                    content_hash: &hash,
                    device: Some(&fs.fn_number),
                    expected_fd: expected,
                    total: Some(total.kopecks()),
                    content: content.as_deref(),
                    cash_before: None,
                };
                match self.journal.begin_entry(&new)? {
                    Begun::New(seq) => seq,
                    // Cannot happen under the lock (the id was looked up above).
                    Begun::Existing(e) => return replay(&e, false),
                }
            }
        };
        tracing::info!(seq, operation = %op, expected_fd = ?expected, "journal: begun");
        let result = if correction { self.kkt.correction(r) } else { self.kkt.receipt(r) };
        match result {
            Ok(doc) => {
                self.record_formed(
                    seq,
                    &Document {
                        fd_number: doc.fd_number,
                        fiscal_sign: doc.fiscal_sign,
                        datetime: Some(datetime_text(doc.datetime)),
                        shift_number: Some(u32::from(doc.shift_number)),
                        receipt_number: Some(u32::from(doc.receipt_number)),
                    },
                );
                Ok(Fiscalized { document: doc, replayed: false, journal_seq: seq })
            }
            Err(e) => {
                let (entry, _) = self.after_failure(seq, e).map_err(|e| self.busy_instead(e))?;
                let mut f = replay(&entry, true)?;
                f.replayed = false;
                Ok(f)
            }
        }
    }

    /// Forms a correction receipt (`r.correction` must be set), journaled like
    /// [`JournaledKkt::receipt`].
    pub fn correction(&mut self, r: &Receipt) -> Result<Fiscalized, Error> {
        if r.correction.is_none() {
            return Err(
                InputError::new("correction", "a correction receipt needs the corrected settlement's date").into()
            );
        }
        self.fiscal_receipt(r)
    }

    /// Puts `amount` into the drawer (0xB3), journaled: with `id`, done at most once (a second
    /// call with the same id and amount returns the first outcome, `replayed`); a lost answer
    /// is settled from the money counters (0xB0), never sent again blindly.
    pub fn cash_in(&mut self, amount: Money, id: Option<&str>) -> Result<CashDone, Error> {
        self.cash(CashDirection::CashIn, amount, id)
    }

    /// Takes `amount` out of the drawer (0xB4), journaled as [`JournaledKkt::cash_in`]; more
    /// than the drawer holds is refused by the register (error 0x42).
    pub fn cash_out(&mut self, amount: Money, id: Option<&str>) -> Result<CashDone, Error> {
        self.cash(CashDirection::CashOut, amount, id)
    }

    fn cash(&mut self, dir: CashDirection, amount: Money, id: Option<&str>) -> Result<CashDone, Error> {
        if let Some(id) = id {
            if id.is_empty() || id.len() > 128 {
                return Err(InputError::new("id", "an idempotency key of 1 to 128 characters").into());
            }
        }
        let k = amount.kopecks();
        // The amount is checked as the command takes it before anything is sent.
        crate::commands::Request::encode(&crate::commands::cash::CashIn { amount: k }, &mut Vec::new())?;
        let op = dir.name();
        let hash = journal::content_hash(format!("{op}:{k}").as_bytes());
        let _lock = self.journal.lock(self.lock_wait)?;
        let mut retry_of = None;
        if let Some(id) = id {
            if let Some(e) = self.journal.by_id(id)? {
                if e.content_hash != hash || e.operation != op {
                    return Err(Error::IdReused { id: id.to_string(), operation: e.operation });
                }
                // A cash entry found not done stays so: the counters, unlike document
                // numbers, could come to match by chance later.
                let e = match e.state {
                    State::Formed => return cash_replay(&e, dir, false),
                    State::NotFormed => e,
                    State::Pending => match self.settle(&e) {
                        Ok((e, _)) => e,
                        Err(err) => {
                            let detail = format!("the register could not be asked: {err}");
                            return Err(Error::Pending { id: id.to_string(), seq: e.seq, detail });
                        }
                    },
                };
                match e.state {
                    State::Formed => return cash_replay(&e, dir, true),
                    State::Pending => {
                        return Err(Error::Pending {
                            id: id.to_string(),
                            seq: e.seq,
                            detail: e.note.clone().unwrap_or_else(|| "its outcome is unknown".into()),
                        })
                    }
                    State::NotFormed => retry_of = Some(e.seq),
                }
            }
        }
        self.settle_others(retry_of);
        let fs = self.ready()?;
        let before = self.kkt.cash_totals()?.cash.kopecks();
        let seq = match retry_of {
            Some(seq) => {
                self.journal.retry_cash(seq, Some(&fs.fn_number), before)?;
                seq
            }
            None => {
                let new = NewEntry {
                    id,
                    operation: op,
                    content_hash: &hash,
                    device: Some(&fs.fn_number),
                    expected_fd: None,
                    total: Some(k),
                    content: None,
                    cash_before: Some(before),
                };
                match self.journal.begin_entry(&new)? {
                    Begun::New(seq) => seq,
                    Begun::Existing(e) => return cash_replay(&e, dir, false),
                }
            }
        };
        tracing::info!(seq, operation = op, amount = k, "journal: begun");
        let result = match dir {
            CashDirection::CashIn => self.kkt.cash_in(amount),
            CashDirection::CashOut => self.kkt.cash_out(amount),
        };
        match result {
            Ok(c) => {
                let after = c.after.cash.kopecks();
                match self.journal.cash_done(seq, after) {
                    Ok(()) => tracing::info!(seq, after, "journal: cash done"),
                    Err(e) => {
                        tracing::error!(seq, error = %e, "journal: the outcome could not be written; the entry stays pending until reconciled")
                    }
                }
                Ok(CashDone {
                    operation: dir,
                    amount,
                    cash_before: c.before.cash,
                    cash_after: c.after.cash,
                    recovered: c.recovered,
                    replayed: false,
                    journal_seq: seq,
                })
            }
            Err(e) => {
                let certain =
                    matches!(e, Error::Input(_) | Error::Sequence(_) | Error::Device { .. } | Error::NotFormed { .. });
                if certain {
                    let why = outcome_text(&e);
                    self.journal.not_formed(seq, &why)?;
                    tracing::info!(seq, %why, "journal: cash not done");
                    return Err(e);
                }
                let Some(entry) = self.journal.get(seq)? else { return Err(e) };
                match self.settle(&entry) {
                    Ok((entry, _)) if entry.state == State::Formed => cash_replay(&entry, dir, true).map(|mut d| {
                        d.replayed = false;
                        d
                    }),
                    Ok(_) => Err(e),
                    Err(ask) => {
                        let why = format!(
                            "{}; the register could not be asked afterwards: {}",
                            outcome_text(&e),
                            outcome_text(&ask)
                        );
                        let _ = self.journal.note(seq, &why);
                        Err(e)
                    }
                }
            }
        }
    }

    /// Opens the shift, journaled.
    pub fn open_shift(&mut self, c: &Cashier) -> Result<ShiftReport, Error> {
        let content = serde_json::to_vec(c).unwrap_or_default();
        self.journaled("open_shift", &content, |k| k.open_shift(c), shift_document, rebuild)
    }

    /// Closes the shift, journaled.
    pub fn close_shift(&mut self, c: Option<&Cashier>) -> Result<ShiftReport, Error> {
        let content = serde_json::to_vec(&c).unwrap_or_default();
        self.journaled(
            "close_shift",
            &content,
            |k| match c {
                Some(c) => k.close_shift_as(c),
                None => k.close_shift(),
            },
            shift_document,
            rebuild,
        )
    }

    /// Forms the settlement status report, journaled.
    pub fn settlement_report(&mut self) -> Result<SettlementReport, Error> {
        self.journaled(
            "settlement_report",
            b"",
            Kkt::settlement_report,
            |r: &SettlementReport, _| Document {
                fd_number: r.fd_number,
                fiscal_sign: r.fiscal_sign,
                datetime: None,
                shift_number: None,
                receipt_number: None,
            },
            rebuild,
        )
    }

    /// Reconciles every pending entry of this register with it (oldest first); returns them
    /// as they now stand. Entries of another register (FN) are left as they are.
    pub fn recover(&mut self) -> Result<Vec<Entry>, Error> {
        let _lock = self.journal.lock(self.lock_wait)?;
        self.settle_pending(None)
    }

    /// `kkt recover --settle-foreign`: settles the pending entries whose recorded FN number is
    /// not a valid one (a damaged FN status answer was journaled by an earlier kkt), against
    /// this register: their expected document number came from the same damaged answer, so
    /// the last documents are read instead and a receipt is taken for formed only when one of
    /// them has its content; otherwise it is not formed. An entry of another kind (a shift
    /// report: no id, never replayed) is written not formed. Returns those entries as they
    /// now stand.
    pub fn settle_foreign(&mut self) -> Result<Vec<Entry>, Error> {
        let _lock = self.journal.lock(self.lock_wait)?;
        let foreign: Vec<Entry> =
            self.journal.pending()?.into_iter().filter(|e| !e.device.as_deref().is_some_and(is_fn_number)).collect();
        if foreign.is_empty() {
            return Ok(Vec::new());
        }
        let status = self.fn_status(false)?;
        let device = status.fn_number.clone();
        let last = status.last_fd_number;
        let first = last.saturating_sub(FOREIGN_SCAN - 1).max(1);
        let mut out = Vec::with_capacity(foreign.len());
        for e in foreign {
            let recorded = e.device.clone().unwrap_or_default();
            self.journal.set_device(e.seq, &device, None)?;
            let found = if let Some(dir) = cash_direction(&e.operation) {
                // Cash in or out: judged by the drawer's counter, as on this register.
                self.find_cash(&e, dir, &status)?
            } else if command_of(&e).is_some_and(|(_, k)| k.is_some()) && last > 0 {
                self.look(&e, &device, first..=last, FOREIGN_SCAN, |foreign| Found::Absent {
                    last_fd: last,
                    open_document: CurrentDocument::NONE,
                    expected: 0,
                    foreign,
                })?
            } else {
                Found::Absent { last_fd: last, open_document: CurrentDocument::NONE, expected: 0, foreign: Vec::new() }
            };
            match found {
                Found::Formed { .. } | Found::CashDone(_) => {
                    let (settled, _) = self.settle_found(&e, found)?;
                    out.push(settled);
                }
                Found::Absent { foreign, .. } => {
                    let mut why = format!(
                        "settled by --settle-foreign: its recorded FN {recorded:?} was damaged; none of documents {first}..{last} of FN {device} is it"
                    );
                    for f in &foreign {
                        why += &format!("; {f}");
                    }
                    self.journal.not_formed(e.seq, &why)?;
                    out.push(self.journal.get(e.seq)?.unwrap_or(e));
                }
                Found::Unknown(why) => {
                    self.journal.note(e.seq, &why)?;
                    out.push(self.journal.get(e.seq)?.unwrap_or(e));
                }
            }
        }
        Ok(out)
    }

    /// `kkt cancel`: cancels the document open on the register only when this journal opened
    /// it (a pending entry left it open: settling the pending entries cancels it). Returns
    /// whether a document was cancelled; a document another program opened is
    /// [`Error::RegisterBusy`] (nothing is cancelled; `kkt cancel --force` is a person's
    /// decision: [`Kkt::cancel_document`]).
    pub fn cancel_own(&mut self) -> Result<bool, Error> {
        let _lock = self.journal.lock(self.lock_wait)?;
        let before = self.fn_status(false)?;
        if before.current_document == CurrentDocument::NONE {
            return Ok(false);
        }
        self.settle_pending(None)?;
        let after = self.fn_status(false)?;
        if after.current_document == CurrentDocument::NONE {
            return Ok(true);
        }
        Err(Error::RegisterBusy { document: after.current_document })
    }

    /// Before a new document: settles the entries still pending (but `except`), so that each
    /// is judged against the register before more documents follow. A failure is logged: the
    /// entries stay pending and are settled later.
    fn settle_others(&mut self, except: Option<i64>) {
        match self.journal.pending() {
            Ok(p) if p.iter().all(|e| Some(e.seq) == except) => {}
            _ => {
                if let Err(e) = self.settle_pending(except) {
                    tracing::warn!(error = %e, "journal: pending entries not settled now");
                }
            }
        }
    }

    /// Settles every pending entry of this register but `except` (the caller holds the lock).
    fn settle_pending(&mut self, except: Option<i64>) -> Result<Vec<Entry>, Error> {
        let pending: Vec<Entry> = self.journal.pending()?.into_iter().filter(|e| Some(e.seq) != except).collect();
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        let fn_number = self.fn_status(false)?.fn_number;
        let mut out = Vec::with_capacity(pending.len());
        for e in pending {
            if e.device.as_deref().is_some_and(|d| d != fn_number) {
                tracing::info!(seq = e.seq, "journal entry of another register (FN) left pending");
                out.push(e);
                continue;
            }
            let (e, _) = self.settle(&e)?;
            out.push(e);
        }
        Ok(out)
    }

    /// The FN status before a new document. Every pending entry of this register is settled by
    /// now (under the lock), and settling cancels the document an entry of this journal left
    /// open: a document still open was opened by another program, and is not touched
    /// ([`Error::RegisterBusy`]), unless an entry of this register is still unresolved (then it
    /// may be that entry's: [`Error::Pending`]).
    fn ready(&mut self) -> Result<FnStatus, Error> {
        let fs = self.fn_status(true)?;
        if fs.current_document == CurrentDocument::NONE {
            return Ok(fs);
        }
        let unresolved =
            self.journal.pending()?.into_iter().find(|e| e.device.as_deref() == Some(fs.fn_number.as_str()));
        if let Some(e) = unresolved {
            return Err(Error::Pending {
                id: e.id.clone().unwrap_or_default(),
                seq: e.seq,
                detail: format!(
                    "a document is open on the register and journal entry {} ({}) is still unresolved: it may be that entry's",
                    e.seq, e.operation
                ),
            });
        }
        tracing::warn!(
            document = fs.current_document.code(),
            "a document another program opened is open on the register: refusing, nothing cancelled"
        );
        Err(Error::RegisterBusy { document: fs.current_document })
    }

    /// The FN status, validated: its FN number 16 digits and the one this journal serves, its
    /// last document not behind one seen before; with `twice` (before a document is journaled:
    /// its numbers go into the entry) two answers in a row must agree. A damaged answer (a valid
    /// frame with bad content) is read again; two answers alike in a row are taken as the
    /// register's word (an FN replaced meanwhile). Nothing is journaled from an answer that fails.
    fn fn_status(&mut self, twice: bool) -> Result<FnStatus, Error> {
        let mut previous: Option<FnStatus> = None;
        let mut why = String::new();
        for _ in 0..FN_STATUS_READS + usize::from(twice) {
            let fs = self.kkt.call(&GetFnStatus)?;
            let agrees =
                previous.as_ref().is_some_and(|p| p.fn_number == fs.fn_number && p.last_fd_number == fs.last_fd_number);
            if twice && previous.is_none() {
                previous = Some(fs);
                continue;
            }
            if twice && !agrees {
                why = "two answers in a row disagree".to_string();
            } else if !fs.fn_number_valid() {
                why = format!("the FN number in the answer is {:?}, not 16 digits", fs.fn_number);
            } else if self.fn_serial.as_deref().is_some_and(|f| f != fs.fn_number) && !agrees {
                why = format!(
                    "the answer names FN {}, the register was connected with FN {}",
                    fs.fn_number,
                    self.fn_serial.as_deref().unwrap_or_default()
                );
            } else if fs.last_fd_number < self.max_fd && !agrees {
                why = format!("the answer's last document {} is behind {} seen before", fs.last_fd_number, self.max_fd);
            } else {
                if self.fn_serial.as_deref() != Some(fs.fn_number.as_str()) {
                    if let Some(old) = &self.fn_serial {
                        tracing::warn!(old = %old, new = %fs.fn_number, "the register's FN changed");
                        self.max_fd = 0;
                    }
                    self.fn_serial = Some(fs.fn_number.clone());
                }
                self.max_fd = self.max_fd.max(fs.last_fd_number);
                return Ok(fs);
            }
            tracing::warn!(%why, "a damaged FN status answer: reading it again");
            previous = Some(fs);
        }
        Err(Error::Protocol {
            command: GetFnStatus::CODE,
            error: crate::error::ProtocolError::Unexpected(format!(
                "the FN status answer was damaged {FN_STATUS_READS} times ({why}); nothing was journaled or sent"
            )),
        })
    }

    /// A refused opening (the register's error, or the session model's after reading the
    /// register again) while a document this journal did not open is open: that is
    /// [`Error::RegisterBusy`], not a hint to cancel it.
    fn busy_instead(&mut self, e: Error) -> Error {
        let command = match &e {
            Error::Device { command, .. } => *command,
            Error::Sequence(v) => v.command,
            _ => return e,
        };
        if !opens_document(command) {
            return e;
        }
        match self.kkt.call(&GetFnStatus) {
            Ok(fs) if fs.current_document != CurrentDocument::NONE => {
                Error::RegisterBusy { document: fs.current_document }
            }
            _ => e,
        }
    }

    /// After a failure that formed nothing: whether no document of this attempt is left open on
    /// the register (none open, or the one this attempt opened cancelled now). A failure of the
    /// opening command itself opened nothing of ours, and an open document then is not touched.
    fn own_document_closed(&mut self, e: &Error) -> bool {
        let command = match e {
            Error::Device { command, .. } | Error::NotFormed { command, .. } | Error::Interrupted { command } => {
                Some(*command)
            }
            Error::Sequence(v) => Some(v.command),
            Error::MarkRefused(_) => None,
            // Refused before anything was sent.
            _ => return true,
        };
        if command.is_some_and(opens_document) {
            return true;
        }
        match self.kkt.call(&GetFnStatus) {
            Ok(fs) if fs.current_document == CurrentDocument::NONE => true,
            Ok(_) => match self.kkt.cancel_document() {
                Ok(()) => {
                    tracing::info!("journal: the document this attempt left open is cancelled");
                    true
                }
                Err(err) => {
                    tracing::warn!(error = %err, "journal: the document this attempt left open could not be cancelled now");
                    false
                }
            },
            Err(_) => false,
        }
    }

    /// Writes a formed outcome; a failure to write is logged, not returned: the document
    /// exists, and the entry left pending is settled by the next reconciliation.
    fn record_formed(&mut self, seq: i64, d: &Document) {
        match self.journal.formed(seq, d) {
            Ok(()) => tracing::info!(seq, fd_number = d.fd_number, "journal: formed"),
            Err(e) => {
                tracing::error!(seq, fd_number = d.fd_number, error = %e, "journal: the outcome could not be written; the entry stays pending until reconciled")
            }
        }
    }

    /// After the driver failed: a failure that certainly formed nothing is written as such;
    /// otherwise the register is asked. Returns the entry when it turned out formed (with the
    /// archive record), else the error (the original one, or `NotFormed` once settled).
    fn after_failure(&mut self, seq: i64, e: Error) -> Result<(Entry, Option<Box<FoundDocument>>), Error> {
        let certain = matches!(
            e,
            Error::Input(_)
                | Error::Sequence(_)
                | Error::Device { .. }
                | Error::NotFormed { .. }
                | Error::Uri(_)
                | Error::MarkRefused(_)
                | Error::Interrupted { .. }
        );
        if certain {
            // The driver cancels the document it opened; on a noisy line that cancel can fail.
            // A document still open now was opened by this attempt (`ready` saw none before it):
            // it is cancelled here, or the entry stays pending, so that settling it cancels the
            // document later (settled as not formed, it would be taken for another program's).
            if !self.own_document_closed(&e) {
                tracing::warn!(seq, "journal: this attempt's document is still open; the entry stays pending");
                return Err(e);
            }
            let why = outcome_text(&e);
            self.journal.not_formed(seq, &why)?;
            tracing::info!(seq, %why, "journal: not formed");
            return Err(e);
        }
        let Some(entry) = self.journal.get(seq)? else { return Err(e) };
        match self.settle(&entry) {
            Ok((entry, doc)) if entry.state == State::Formed => Ok((entry, doc)),
            Ok((entry, _)) if entry.state == State::NotFormed => {
                // When the fiscal command itself was in doubt, say it is settled; a failure
                // before it (an item, a check) stays what it was: nothing was formed either way.
                let command = command_of(&entry).map_or(0, |(c, _)| c);
                let about_it = match &e {
                    Error::UnknownOutcome(_) => true,
                    Error::Link { command: c, .. } | Error::Protocol { command: c, .. } => *c == command,
                    _ => false,
                };
                if !about_it {
                    return Err(e);
                }
                let last_fd = entry.expected_fd.map_or(0, |n| n.saturating_sub(1));
                Err(Error::NotFormed { command, cause: Box::new(e), last_fd })
            }
            Ok(_) => Err(e),
            Err(ask) => {
                let why =
                    format!("{}; the register could not be asked afterwards: {}", outcome_text(&e), outcome_text(&ask));
                let _ = self.journal.note(seq, &why);
                tracing::warn!(seq, %why, "journal: outcome unknown, entry left pending");
                Err(e)
            }
        }
    }

    /// Any command as bytes (`kkt raw --yes`), journaled as `raw_0xNN`: the entry holds the
    /// expected FD number, so that a lost answer is settled like any fiscal command's. The
    /// answer's DATA.
    pub fn raw(&mut self, code: u8, data: &[u8]) -> Result<Vec<u8>, Error> {
        let operation = format!("raw_{code:#04x}");
        let mut content = vec![code];
        content.extend_from_slice(data);
        self.journaled(
            &operation,
            &content,
            |k| k.call_raw(code, data),
            |answer, fs| raw_document(code, answer, fs),
            |_, doc, _| {
                Ok(doc.document.header().map_or_else(Vec::new, |h| {
                    let mut v = h.fd_number.to_le_bytes().to_vec();
                    v.extend_from_slice(&h.fiscal_sign.to_le_bytes());
                    v
                }))
            },
        )
    }

    /// A fiscal operation other than a receipt, journaled (no idempotency key).
    fn journaled<T>(
        &mut self,
        operation: &str,
        content: &[u8],
        run: impl FnOnce(&mut Kkt) -> Result<T, Error>,
        document: impl Fn(&T, &FnStatus) -> Document,
        rebuild: impl Fn(u8, &FoundDocument, &FnStatus) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let _lock = self.journal.lock(self.lock_wait)?;
        self.settle_others(None);
        let fs = self.ready()?;
        let hash = journal::content_hash(content);
        let new = NewEntry {
            id: None,
            operation,
            content_hash: &hash,
            device: Some(&fs.fn_number),
            expected_fd: fs.last_fd_number.checked_add(1),
            total: None,
            content: None,
            cash_before: None,
        };
        let Begun::New(seq) = self.journal.begin_entry(&new)? else {
            unreachable!("an entry without a key is always new")
        };
        match run(&mut self.kkt) {
            Ok(t) => {
                self.record_formed(seq, &document(&t, &fs));
                Ok(t)
            }
            Err(e) => match self.after_failure(seq, e).map_err(|e| self.busy_instead(e))? {
                (entry, Some(doc)) => {
                    let code = command_of(&entry).map_or(0, |(c, _)| c);
                    let status = self.kkt.call(&GetFnStatus)?;
                    rebuild(code, &doc, &status)
                }
                (entry, None) => Err(Error::Pending {
                    id: String::new(),
                    seq: entry.seq,
                    detail: "formed, but the archive record was not kept".into(),
                }),
            },
        }
    }

    /// Asks the register about `entry` and writes what it says. Returns the entry as it now
    /// stands, with the archive record when formed.
    fn settle(&mut self, entry: &Entry) -> Result<(Entry, Option<Box<FoundDocument>>), Error> {
        let found = self.find(entry)?;
        self.settle_found(entry, found)
    }

    /// Writes what the register said about `entry`.
    fn settle_found(&mut self, entry: &Entry, found: Found) -> Result<(Entry, Option<Box<FoundDocument>>), Error> {
        let seq = entry.seq;
        let mut kept = None;
        match found {
            Found::Formed { doc, numbers } => {
                let header = doc.document.header().copied();
                let Some(h) = header else {
                    return Err(Error::Pending {
                        id: String::new(),
                        seq,
                        detail: "archive record without header".into(),
                    });
                };
                let shift = match &doc.document {
                    ArchiveDocument::ShiftOpen(s) | ArchiveDocument::ShiftClose(s) => Some(u32::from(s.shift_number)),
                    _ => numbers.0,
                };
                let d = Document {
                    fd_number: h.fd_number,
                    fiscal_sign: h.fiscal_sign,
                    datetime: Some(datetime_text(h.datetime)),
                    shift_number: shift,
                    receipt_number: numbers.1,
                };
                self.journal.formed(seq, &d)?;
                tracing::info!(seq, fd_number = h.fd_number, "journal: reconciled: formed");
                kept = Some(doc);
            }
            Found::CashDone(after) => {
                self.journal.cash_done(seq, after)?;
                tracing::info!(seq, after, "journal: reconciled: cash done");
            }
            Found::Absent { last_fd, open_document, expected, foreign } => {
                let mut why = format!("the register has no document for it (its last document is {last_fd})");
                for f in &foreign {
                    why += &format!("; {f}");
                }
                // The document the entry left open is still open only if nothing was formed
                // since it began: one open after a later document is another program's.
                let ours = last_fd.checked_add(1) == Some(expected);
                // Our document still open (its cancel failed now): the entry stays pending, so
                // that the next settling cancels it; settled, it would be taken for another
                // program's and block every later document.
                let mut still_ours = false;
                if open_document != CurrentDocument::NONE && entry.state == State::Pending {
                    match (ours, self.policy) {
                        (true, OpenDocumentPolicy::Cancel) => match self.kkt.cancel_document() {
                            Ok(()) => why += "; the document it left open was cancelled (0x10)",
                            Err(e) => {
                                why += &format!(
                                    "; the document it left open could not be cancelled now ({e}): it stays pending"
                                );
                                still_ours = true;
                            }
                        },
                        (true, OpenDocumentPolicy::Report) => {
                            why += &format!(
                                "; a document (type {:#04x}) is still open on the register: finish it or cancel it (`kkt cancel`)",
                                open_document.code()
                            )
                        }
                        (false, _) => {
                            why += "; a document another program opened since is open on the register: it was left open"
                        }
                    }
                }
                if entry.state == State::Pending && still_ours {
                    self.journal.note(seq, &why)?;
                    tracing::warn!(seq, %why, "journal: not settled yet");
                } else if entry.state == State::Pending {
                    self.journal.not_formed(seq, &why)?;
                    tracing::info!(seq, %why, "journal: reconciled: not formed");
                }
            }
            Found::Unknown(why) => {
                if entry.state == State::Pending {
                    self.journal.note(seq, &why)?;
                }
                tracing::warn!(seq, %why, "journal: cannot reconcile");
            }
        }
        let e = self.journal.get(seq)?.unwrap_or_else(|| entry.clone());
        Ok((e, kept))
    }

    /// Looks for the entry's document on the register.
    fn find(&mut self, entry: &Entry) -> Result<Found, Error> {
        let status = self.fn_status(false)?;
        if let Some(d) = entry.device.as_deref().filter(|d| *d != status.fn_number) {
            let hint = if is_fn_number(d) {
                "connect to that register"
            } else {
                "that FN number is damaged: `kkt recover --settle-foreign` settles it against this register"
            };
            return Ok(Found::Unknown(format!(
                "the entry was sent to FN {d:?}; this register has FN {}: {hint}",
                status.fn_number
            )));
        }
        if let Some(dir) = cash_direction(&entry.operation) {
            return self.find_cash(entry, dir, &status);
        }
        let Some(expected) = entry.expected_fd else {
            return Ok(Found::Unknown("the entry has no expected document number".into()));
        };
        let last = status.last_fd_number;
        let absent =
            |foreign| Found::Absent { last_fd: last, open_document: status.current_document, expected, foreign };
        if last < expected {
            return Ok(absent(Vec::new()));
        }
        let device = status.fn_number.clone();
        self.look(entry, &device, expected..=last, SCAN, absent)
    }

    /// Reads the documents `fds` (skipping those other entries own, at most `limit` of the
    /// others) for the entry's: its type, and for a receipt its operation, total and content.
    fn look(
        &mut self,
        entry: &Entry,
        device: &str,
        fds: std::ops::RangeInclusive<u32>,
        limit: u32,
        absent: impl FnOnce(Vec<String>) -> Found,
    ) -> Result<Found, Error> {
        let Some((code, key)) = command_of(entry) else {
            return Ok(Found::Unknown(format!("operation {:?} is not one the journal knows", entry.operation)));
        };
        let receipt = matches!(code, cmd::FORM_RECEIPT | cmd::FORM_CORRECTION);
        let content = entry.content.as_deref().and_then(ReceiptContent::from_json);
        let (first, last) = (*fds.start(), *fds.end());
        let mut foreign = Vec::new();
        let mut read = 0;
        for fd in fds {
            if self.journal.formed_by_fd(device, fd)?.is_some_and(|o| o.seq != entry.seq) {
                continue;
            }
            if read == limit {
                return Ok(Found::Unknown(format!(
                    "documents {first}..{last} were formed since, {limit} of them by no entry of this journal, and none is this one: check the FN archive (`kkt fd N`)"
                )));
            }
            read += 1;
            let doc = self.kkt.call(&FindDocument { fd_number: fd })?;
            match reconcile::confirm(code, key, &doc) {
                Ok(()) => {}
                Err(reconcile::ReconcileError::OtherReceipt { found, .. }) => {
                    foreign.push(format!(
                        "FD {fd} is another receipt (operation {}, total {} kopecks)",
                        found.operation.code(),
                        found.total
                    ));
                    continue;
                }
                Err(_) => continue,
            }
            if !receipt {
                return Ok(Found::Formed { doc: Box::new(doc), numbers: (None, None) });
            }
            let Some(content) = &content else {
                return Ok(Found::Unknown(format!(
                    "FD {fd} has this receipt's operation and total, but the entry keeps no content to compare it with (written by an earlier kkt): check it (`kkt fd {fd}`)"
                )));
            };
            let tlv = match self.document_tlv(fd) {
                Ok(t) => t,
                Err(e) => {
                    return Ok(Found::Unknown(format!(
                        "FD {fd} has this receipt's operation and total, but its content could not be read back ({e}): check it (`kkt fd {fd}`)"
                    )))
                }
            };
            match content.compare(&tlv) {
                Ok(()) => {
                    let numbers = (
                        tlv.raw(tag::SHIFT_NUMBER).and_then(le_uint),
                        tlv.raw(tag::RECEIPT_NUMBER_IN_SHIFT).and_then(le_uint),
                    );
                    return Ok(Found::Formed { doc: Box::new(doc), numbers });
                }
                Err(m) => {
                    tracing::info!(seq = entry.seq, fd, mismatch = %m, "journal: a receipt of another program");
                    foreign.push(format!("FD {fd} is another program's receipt ({m})"));
                }
            }
        }
        Ok(absent(foreign))
    }

    /// A document's TLVs: 0x3A, or 0x35 and 0x36 one TLV at a time when the register refuses
    /// 0x3A (a document over its 1024 bytes).
    fn document_tlv(&mut self, fd: u32) -> Result<TlvList, Error> {
        // The long 0x3A answer is the one a noisy line damages most: asked again (each call
        // within its own budget) before giving up.
        let mut read = self.kkt.call(&ReadDocumentAsTlv { fd_number: fd });
        for _ in 0..TLV_READS {
            match &read {
                Err(Error::Protocol { .. }) => read = self.kkt.call(&ReadDocumentAsTlv { fd_number: fd }),
                _ => break,
            }
        }
        match read {
            Ok(t) => Ok(t.tlv),
            Err(first @ Error::Device { .. }) => {
                let Ok(info) = self.kkt.call(&RequestDocumentTlv { fd_number: fd }) else { return Err(first) };
                let mut bytes = Vec::with_capacity(usize::from(info.length));
                while bytes.len() < usize::from(info.length) {
                    let t = self.kkt.call(&ReadDocumentTlv)?;
                    let b = t.tlv.to_bytes();
                    if b.is_empty() {
                        break;
                    }
                    bytes.extend_from_slice(&b);
                }
                TlvList::parse(&bytes).map_err(|e| Error::Protocol {
                    command: ReadDocumentTlv::CODE,
                    error: crate::error::ProtocolError::Unexpected(format!("document {fd}'s TLVs: {e}")),
                })
            }
            Err(e) => Err(e),
        }
    }
}

impl JournaledKkt {
    /// A cash entry judged by the money counters: the drawer holds `before ± amount` (done),
    /// `before` (not done), or something else (unknown: other payments since).
    fn find_cash(&mut self, entry: &Entry, dir: CashDirection, status: &FnStatus) -> Result<Found, Error> {
        let (Some(before), Some(amount)) = (entry.cash_before, entry.total) else {
            return Ok(Found::Unknown("the entry has no cash counter to compare".into()));
        };
        let now = self.kkt.cash_totals()?.cash.kopecks();
        if Some(now) == dir.after(before, amount) {
            Ok(Found::CashDone(now))
        } else if now == before {
            Ok(Found::Absent {
                last_fd: status.last_fd_number,
                open_document: status.current_document,
                expected: 0,
                foreign: Vec::new(),
            })
        } else {
            Ok(Found::Unknown(format!(
                "the drawer held {} before, the amount was {}, it holds {} now (other payments since?): check the drawer and `kkt cash totals`",
                Money::from_kopecks(before),
                Money::from_kopecks(amount),
                Money::from_kopecks(now)
            )))
        }
    }
}

/// The direction of a cash entry's operation.
fn cash_direction(op: &str) -> Option<CashDirection> {
    match op {
        "cash_in" => Some(CashDirection::CashIn),
        "cash_out" => Some(CashDirection::CashOut),
        _ => None,
    }
}

/// A cash entry already done, as the journal keeps it.
fn cash_replay(e: &Entry, dir: CashDirection, recovered: bool) -> Result<CashDone, Error> {
    let (Some(amount), Some(before), Some(after)) = (e.total, e.cash_before, e.cash_after) else {
        return Err(Error::Pending {
            id: e.id.clone().unwrap_or_default(),
            seq: e.seq,
            detail: "the entry is done but the journal holds no counters".into(),
        });
    };
    Ok(CashDone {
        operation: dir,
        amount: Money::from_kopecks(amount),
        cash_before: Money::from_kopecks(before),
        cash_after: Money::from_kopecks(after),
        recovered,
        replayed: true,
        journal_seq: e.seq,
    })
}

/// Cash in or out done (or found done) through the journal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CashDone {
    /// In or out.
    pub operation: CashDirection,
    /// The amount.
    pub amount: Money,
    /// Cash in the drawer before.
    pub cash_before: Money,
    /// Cash in the drawer after.
    pub cash_after: Money,
    /// The register's answer was lost and the counters showed it was done.
    pub recovered: bool,
    /// An earlier call with the same id was returned; nothing was sent.
    pub replayed: bool,
    /// The journal entry.
    pub journal_seq: i64,
}

/// An error as the journal and the log keep it: input errors only name the field (their
/// message may quote the value, e.g. a customer's INN).
fn outcome_text(e: &Error) -> String {
    match e {
        Error::Input(i) => format!("invalid input in {}; nothing was sent", i.field),
        e => e.to_string(),
    }
}

/// The document a raw command's answer names: its `fd_number` and `fiscal_sign` when the answer
/// decodes with the command's layout, else the FD number the FN status before it expected.
fn raw_document(code: u8, answer: &[u8], fs: &FnStatus) -> Document {
    let fields = crate::commands::describe_response(code, answer).and_then(Result::ok).map(|d| d.fields_json());
    let num = |k: &str| fields.as_ref().and_then(|f| f[k].as_u64()).and_then(|n| u32::try_from(n).ok());
    Document {
        fd_number: num("fd_number").unwrap_or_else(|| fs.last_fd_number.saturating_add(1)),
        fiscal_sign: num("fiscal_sign").unwrap_or(0),
        datetime: None,
        shift_number: num("shift_number"),
        receipt_number: num("receipt_number"),
    }
}

fn shift_document(r: &ShiftReport, _: &FnStatus) -> Document {
    Document {
        fd_number: r.fd_number,
        fiscal_sign: r.fiscal_sign,
        datetime: None,
        shift_number: Some(u32::from(r.shift_number)),
        receipt_number: None,
    }
}

/// The answer a command would have given, from its archive record.
fn rebuild<T: 'static>(code: u8, doc: &FoundDocument, status: &FnStatus) -> Result<T, Error> {
    let pending = |detail: String| Error::Pending { id: String::new(), seq: 0, detail };
    reconcile::rebuild(code, doc, None, status)
        .map_err(|why| pending(format!("formed, but the answer cannot be rebuilt: {why}")))?
        .into_answer()
        .ok_or_else(|| pending(format!("formed, but {code:#04X}'s answer cannot be rebuilt from this record")))
}

/// Whether `command` opens a document (a receipt, a correction, a shift or settlement report).
fn opens_document(command: u8) -> bool {
    matches!(
        command,
        cmd::BEGIN_RECEIPT
            | cmd::BEGIN_CORRECTION
            | cmd::BEGIN_SHIFT_OPEN
            | cmd::BEGIN_SHIFT_CLOSE
            | cmd::BEGIN_SETTLEMENT_REPORT
    )
}
