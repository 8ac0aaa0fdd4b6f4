//! The register as the service's worker holds it: the driver with the journal.
//!
//! This is the one place that pairs [`Kkt`] with the [`Journal`]: every fiscal document is
//! written to the journal (pending, synced to disk) before its command is sent and completed
//! after the answer, and a receipt's idempotency `id` is honoured (the same id and content give
//! the same document, never a second one).

use std::path::Path;

use crate::commands::archive::{ArchiveDocument, FindDocument};
use crate::driver::{FiscalDocument, Options};
use crate::journal::{self, Begun, Entry, Journal, JournalError, State};
use crate::receipt::{Cashier, Receipt};
use crate::{Error, Kkt};

/// A receipt the register formed, or the one the journal already held for its id.
#[derive(Debug, Clone)]
pub struct Fiscalized {
    /// The document.
    pub document: FiscalDocument,
    /// True when the id was formed before and the journal's document is returned.
    pub replayed: bool,
    /// The journal entry.
    pub journal_seq: i64,
}

/// What can go wrong with the register and its journal.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The driver failed.
    #[error(transparent)]
    Kkt(#[from] Error),
    /// The journal failed, or an id was misused.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// An id whose earlier attempt has no known outcome yet.
    #[error("a document with id {id:?} was sent before and its outcome is still unknown (journal entry {seq})")]
    Pending {
        /// The id.
        id: String,
        /// Its journal entry.
        seq: i64,
    },
}

/// The register with its journal.
pub struct Register {
    kkt: Kkt,
    journal: Journal,
}

impl std::fmt::Debug for Register {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Register").field("kkt", &self.kkt).finish_non_exhaustive()
    }
}

/// The journal name of a receipt's operation.
fn operation_name(r: &Receipt) -> &'static str {
    if r.correction.is_some() {
        "correction"
    } else {
        r.operation.name()
    }
}

/// The journal's record of a formed document.
fn journal_document(d: &FiscalDocument) -> journal::Document {
    journal::Document {
        fd_number: d.fd_number,
        fiscal_sign: d.fiscal_sign,
        datetime: Some(d.datetime.format("%Y-%m-%dT%H:%M:%S").to_string()),
        shift_number: Some(u32::from(d.shift_number)),
        receipt_number: Some(u32::from(d.receipt_number)),
    }
}

/// The document of a formed entry, rebuilt for the receipt it was formed from.
fn replayed_document(e: &Entry, r: &Receipt) -> Option<FiscalDocument> {
    let d = e.document.as_ref()?;
    let datetime =
        d.datetime.as_deref().and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").ok());
    Some(FiscalDocument {
        fd_number: d.fd_number,
        fiscal_sign: d.fiscal_sign,
        datetime: datetime.unwrap_or_default(),
        shift_number: d.shift_number.and_then(|n| u16::try_from(n).ok()).unwrap_or(0),
        receipt_number: d.receipt_number.and_then(|n| u16::try_from(n).ok()).unwrap_or(0),
        total: r.total(),
        change: r.settle().map(|s| s.change).unwrap_or_default(),
        recovered: false,
        marks: Vec::new(),
    })
}

/// The SHA-256 of a receipt's content (without its id).
fn receipt_hash(r: &Receipt) -> String {
    let mut c = r.clone();
    c.id = None;
    journal::content_hash(&serde_json::to_vec(&c).unwrap_or_default())
}

impl Register {
    /// Connects to the register at `uri` and opens (or creates) the journal at `journal`.
    pub fn connect(uri: &str, opts: Options, journal: &Path) -> Result<Self, RegisterError> {
        let journal = Journal::open(journal)?;
        let kkt = Kkt::connect_with(uri, opts)?;
        Ok(Self { kkt, journal })
    }

    /// The driver, for queries.
    pub fn kkt(&mut self) -> &mut Kkt {
        &mut self.kkt
    }

    /// The journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The outcome of the document with idempotency key `id`.
    pub fn outcome(&self, id: &str) -> Result<Option<Entry>, RegisterError> {
        Ok(self.journal.by_id(id)?)
    }

    /// Runs a fiscal command under a journal entry. `replay` gives the document of an entry
    /// formed before under the same id.
    fn journaled<T>(
        &mut self,
        id: Option<&str>,
        operation: &str,
        hash: &str,
        replay: impl FnOnce(&Entry) -> Option<T>,
        send: impl FnOnce(&mut Kkt) -> Result<T, Error>,
        record: impl Fn(&T) -> journal::Document,
    ) -> Result<(T, bool, i64), RegisterError> {
        let st = self.kkt.status()?;
        let fn_number = st.fn_status.fn_number.clone();
        let expected = st.fn_status.last_fd_number.checked_add(1);
        let seq = match self.journal.begin(id, operation, hash, Some(&fn_number), expected)? {
            Begun::New(seq) => seq,
            Begun::Existing(e) => match e.state {
                State::Formed => {
                    if let Some(doc) = replay(&e) {
                        return Ok((doc, true, e.seq));
                    }
                    return Err(RegisterError::Pending { id: id.unwrap_or_default().to_string(), seq: e.seq });
                }
                State::Pending => {
                    return Err(RegisterError::Pending { id: id.unwrap_or_default().to_string(), seq: e.seq })
                }
                // The earlier attempt formed nothing: this one may.
                State::NotFormed => e.seq,
            },
        };
        match send(&mut self.kkt) {
            Ok(doc) => {
                if let Err(e) = self.journal.formed(seq, &record(&doc)) {
                    // The document exists: the POS must have it, whatever the disk says.
                    tracing::error!(seq, "the document was formed but the journal could not record it: {e}");
                }
                Ok((doc, false, seq))
            }
            Err(e) => {
                let kept = match &e {
                    Error::UnknownOutcome(_) => self.journal.note(seq, &e.to_string()),
                    _ => self.journal.not_formed(seq, &e.to_string()),
                };
                if let Err(j) = kept {
                    tracing::error!(seq, "journal: {j}");
                }
                Err(e.into())
            }
        }
    }

    /// Forms a receipt (or a correction receipt), honouring its `id`.
    pub fn receipt(&mut self, r: &Receipt) -> Result<Fiscalized, RegisterError> {
        r.validate().map_err(Error::from)?;
        if r.correction.is_none() {
            r.settle().map_err(Error::from)?;
        }
        let hash = receipt_hash(r);
        let (document, replayed, journal_seq) = self.journaled(
            r.id.as_deref(),
            operation_name(r),
            &hash,
            |e| replayed_document(e, r),
            |k| k.receipt(r),
            journal_document,
        )?;
        Ok(Fiscalized { document, replayed, journal_seq })
    }

    /// Forms a correction receipt (`r.correction` must be set).
    pub fn correction(&mut self, r: &Receipt) -> Result<Fiscalized, RegisterError> {
        if r.correction.is_none() {
            return Err(Error::from(crate::commands::InputError::new(
                "correction",
                "a correction receipt needs the corrected settlement's date",
            ))
            .into());
        }
        self.receipt(r)
    }

    /// Opens a shift.
    pub fn open_shift(&mut self, cashier: &Cashier) -> Result<crate::commands::shift::ShiftReport, RegisterError> {
        let hash = journal::content_hash(cashier.name.as_bytes());
        let (r, _, _) = self.journaled(
            None,
            "open_shift",
            &hash,
            |_| None,
            |k| k.open_shift(cashier),
            |r| report_document(r.fd_number, r.fiscal_sign, Some(r.shift_number)),
        )?;
        Ok(r)
    }

    /// Closes the shift (as `cashier`, or the one who opened it).
    pub fn close_shift(
        &mut self,
        cashier: Option<&Cashier>,
    ) -> Result<crate::commands::shift::ShiftReport, RegisterError> {
        let hash = journal::content_hash(cashier.map(|c| c.name.as_bytes()).unwrap_or_default());
        let (r, _, _) = self.journaled(
            None,
            "close_shift",
            &hash,
            |_| None,
            |k| match cashier {
                Some(c) => k.close_shift_as(c),
                None => k.close_shift(),
            },
            |r| report_document(r.fd_number, r.fiscal_sign, Some(r.shift_number)),
        )?;
        Ok(r)
    }

    /// Forms the settlement status report.
    pub fn settlement_report(&mut self) -> Result<crate::commands::report::SettlementReport, RegisterError> {
        let (r, _, _) = self.journaled(
            None,
            "settlement_report",
            &journal::content_hash(b"settlement_report"),
            |_| None,
            |k| k.settlement_report(),
            |r| report_document(r.fd_number, r.fiscal_sign, None),
        )?;
        Ok(r)
    }

    /// Settles every pending journal entry with the register: formed (with its document from
    /// the FN archive) or not formed. Returns the entries it settled.
    pub fn recover(&mut self) -> Result<Vec<Entry>, RegisterError> {
        let pending = self.journal.list(true, 10_000)?;
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        let st = self.kkt.status()?;
        let last = st.fn_status.last_fd_number;
        let fn_number = st.fn_status.fn_number.clone();
        let mut settled = Vec::new();
        for e in pending.iter().rev() {
            let Some(fd) = e.expected_fd else { continue };
            if e.device.as_deref().is_some_and(|d| d != fn_number) {
                self.journal.note(
                    e.seq,
                    &format!("sent to FN {}, the register now has FN {fn_number}", e.device.as_deref().unwrap_or("")),
                )?;
                continue;
            }
            if fd > last {
                self.journal
                    .not_formed(e.seq, &format!("the FN's last document is {last}: document {fd} was never formed"))?;
            } else if self.journal_holds_fd(fd, e.seq)? {
                self.journal.not_formed(e.seq, &format!("document {fd} is another journal entry's"))?;
            } else {
                let found = self.kkt.call(&FindDocument { fd_number: fd })?;
                match document_of(&found.document, &e.operation) {
                    Some(doc) => self.journal.formed(e.seq, &doc)?,
                    None => self.journal.not_formed(
                        e.seq,
                        &format!(
                            "document {fd} in the FN is of type {}, not this {}",
                            found.document.document_type(),
                            e.operation
                        ),
                    )?,
                }
            }
            if let Some(now) = self.journal.get(e.seq)? {
                settled.push(now);
            }
        }
        Ok(settled)
    }

    fn journal_holds_fd(&self, fd: u32, except: i64) -> Result<bool, JournalError> {
        // Entries are few per shift; the list is newest first and bounded.
        Ok(self
            .journal
            .list(false, 10_000)?
            .iter()
            .any(|x| x.seq != except && x.document.as_ref().is_some_and(|d| d.fd_number == fd)))
    }
}

fn report_document(fd_number: u32, fiscal_sign: u32, shift: Option<u16>) -> journal::Document {
    journal::Document {
        fd_number,
        fiscal_sign,
        datetime: None,
        shift_number: shift.map(u32::from),
        receipt_number: None,
    }
}

/// The journal document for an archive document, when it is of the journal operation's kind.
fn document_of(doc: &ArchiveDocument, operation: &str) -> Option<journal::Document> {
    let header = doc.header()?;
    let kind_ok = match (operation, doc) {
        ("correction", ArchiveDocument::CorrectionReceipt(_) | ArchiveDocument::BsoCorrection(_)) => true,
        ("open_shift", ArchiveDocument::ShiftOpen(_)) => true,
        ("close_shift", ArchiveDocument::ShiftClose(_)) => true,
        ("settlement_report", ArchiveDocument::SettlementReport(_)) => true,
        (op, ArchiveDocument::Receipt(r) | ArchiveDocument::Bso(r)) => {
            crate::receipt::Operation::from_code(r.operation).is_some_and(|o| o.name() == op)
        }
        _ => false,
    };
    kind_ok.then(|| journal::Document {
        fd_number: header.fd_number,
        fiscal_sign: header.fiscal_sign,
        datetime: Some(header.datetime.format("%Y-%m-%dT%H:%M:%S").to_string()),
        shift_number: None,
        receipt_number: None,
    })
}
