//! The rest of a till's day beside receipts: cash in and out and the money counters (0xB0,
//! 0xB3, 0xB4), documents from the FN archive (0x30 with 0x3A, or 0x35/0x36; 0x39, 0x31), the
//! OFD exchange (0x50, 0x32), the shift's counters (the nearest to an X-report the register
//! offers: 0x20 and 0xB0), printing (0x61–0x69) and the registration profile receipts need.
//!
//! Cash in and out form no fiscal document, so the driver settles a lost answer from the money
//! counters: before 0xB3/0xB4 it reads 0xB0; when the answer is lost it reads 0xB0 again: the
//! cash moved by the amount (done: [`CashOperation::recovered`]), did not move
//! ([`Error::NotFormed`]), or moved otherwise ([`Error::UnknownOutcome`]). The command is never
//! sent again blindly.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::archive::{OfdStatus, StoredDocument};
use super::core::Driver;
use super::link::Link;
use super::profile::{self, Profile};
use crate::commands::archive::{
    FindDocument, GetUnconfirmedCount, OfdConfirmation, PrintDocument, PrintOfdConfirmation, ReadDocumentAsTlv,
    ReadDocumentTlv, ReadRegistrationTlv, RequestDocumentTlv,
};
use crate::commands::cash::{CashIn, CashOut, CashTotals, GetCashTotals};
use crate::commands::info::{GetDateTime, GetFnStatus, GetOfdExchangeStatus, GetRegistration};
use crate::commands::printer::{
    self, Cut, FormattedLine, PrintBarcode, PrintBuffer, PrintLine, PrintQr, WriteFormattedLines,
};
use crate::commands::shift::{GetShiftParams, ShiftParams};
use crate::commands::{InputError, TlvList};
use crate::error::{Error, UnknownOutcome};
use crate::protocol::{cmd, err};
use crate::receipt::Money;

/// The money counters (0xB0): cash in the drawer and electronic payments, since the counters
/// were last reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MoneyTotals {
    /// Cash in the drawer.
    pub cash: Money,
    /// Electronic payments.
    pub electronic: Money,
}

impl From<CashTotals> for MoneyTotals {
    fn from(t: CashTotals) -> Self {
        MoneyTotals { cash: Money::from_kopecks(t.cash), electronic: Money::from_kopecks(t.electronic) }
    }
}

/// Which way cash moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CashDirection {
    /// 0xB3 «Внесение».
    CashIn,
    /// 0xB4 «Выплата».
    CashOut,
}

impl CashDirection {
    /// The command.
    pub fn command(self) -> u8 {
        match self {
            CashDirection::CashIn => cmd::CASH_IN,
            CashDirection::CashOut => cmd::CASH_OUT,
        }
    }

    /// The journal's and the JSON's name: `cash_in`, `cash_out`.
    pub fn name(self) -> &'static str {
        match self {
            CashDirection::CashIn => "cash_in",
            CashDirection::CashOut => "cash_out",
        }
    }

    /// The drawer after moving `amount` from `before` (None when it cannot).
    pub fn after(self, before: u64, amount: u64) -> Option<u64> {
        match self {
            CashDirection::CashIn => before.checked_add(amount),
            CashDirection::CashOut => before.checked_sub(amount),
        }
    }
}

/// A cash movement done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CashOperation {
    /// In or out.
    pub operation: CashDirection,
    /// The amount.
    pub amount: Money,
    /// The counters before.
    pub before: MoneyTotals,
    /// The counters after.
    pub after: MoneyTotals,
    /// The register's answer was lost and the counters showed it was done.
    pub recovered: bool,
}

/// The shift's counters: the nearest to an X-report this register offers (it has no X-report
/// command): the shift (0x20) and the money counters (0xB0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ShiftCounters {
    /// 0x20.
    pub shift: ShiftParams,
    /// 0xB0.
    pub money: MoneyTotals,
    /// The register's clock.
    pub datetime: NaiveDateTime,
}

/// What to print on the register's printer (no fiscal document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintJob {
    /// Lines of text: one 0x61 each, or (`buffered`) 0x64 then 0x65; `cut` ends with 0x62.
    Text {
        /// The lines.
        lines: Vec<String>,
        /// Through the print buffer (0x64/0x65).
        buffered: bool,
        /// Cut the paper after them.
        cut: bool,
    },
    /// A QR code (0x63).
    Qr {
        /// Its text.
        data: String,
    },
    /// A barcode (0x69): 0 EAN-13, 1 CODE128.
    Barcode {
        /// The type.
        barcode_type: u8,
        /// Its text.
        data: String,
    },
}

/// What was printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Printed {
    /// The commands sent, in order.
    pub commands: Vec<u8>,
    /// Lines of text printed.
    pub lines: usize,
}

/// The most registration reports 0x3B is asked for when looking for the last one.
const MAX_REGISTRATIONS: u8 = 64;

impl<L: Link> Driver<L> {
    pub(crate) async fn cash_totals(&mut self) -> Result<MoneyTotals, Error> {
        Ok(self.query(&GetCashTotals).await?.into())
    }

    /// 0xB3 or 0xB4 with the counters read before and after; a lost answer is settled from the
    /// counters.
    pub(crate) async fn move_cash(&mut self, dir: CashDirection, amount: Money) -> Result<CashOperation, Error> {
        let k = amount.kopecks();
        let req_in = CashIn { amount: k };
        let req_out = CashOut { amount: k };
        // Checked before anything is sent.
        let mut data = Vec::new();
        match dir {
            CashDirection::CashIn => crate::commands::Request::encode(&req_in, &mut data),
            CashDirection::CashOut => crate::commands::Request::encode(&req_out, &mut data),
        }?;
        if !self.synced {
            self.resync().await?;
        }
        // Refused before sending when the shift is not open (the register answers 0x43).
        self.state.next(dir.command(), &data, None)?;
        let before: MoneyTotals = self.query(&GetCashTotals).await?.into();
        if dir == CashDirection::CashOut && k > before.cash.kopecks() {
            tracing::info!(amount = k, cash = before.cash.kopecks(), "cash out above the drawer: the register decides");
        }
        let sent = match dir {
            CashDirection::CashIn => self.call(&req_in).await.map(|_| ()),
            CashDirection::CashOut => self.call(&req_out).await.map(|_| ()),
        };
        let recovered = match sent {
            Ok(()) => false,
            Err(e @ (Error::Link { .. } | Error::Protocol { .. })) => self.settle_cash(dir, k, before, e).await?,
            Err(e) => return Err(e),
        };
        let after: MoneyTotals = self.query(&GetCashTotals).await?.into();
        Ok(CashOperation { operation: dir, amount, before, after, recovered })
    }

    /// After a lost answer to 0xB3/0xB4: the counters say whether it was done (`Ok(true)`).
    async fn settle_cash(
        &mut self,
        dir: CashDirection,
        k: u64,
        before: MoneyTotals,
        cause: Error,
    ) -> Result<bool, Error> {
        let command = dir.command();
        let cause_text = cause.to_string();
        tracing::warn!(command, cause = %cause_text, "answer to a cash movement lost: reading the money counters");
        self.emit(super::Event::Reconciling { command, cause: cause_text.clone() });
        let mut now = None;
        let mut last = None;
        for i in 0..self.opts.reconcile_attempts.max(1) {
            if i > 0 {
                self.link.sleep(self.opts.reconcile_delay).await;
            }
            match self.query(&GetCashTotals).await {
                Ok(t) => {
                    now = Some(t);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let b = before.cash.kopecks();
        let unknown = |detail: String| {
            Error::UnknownOutcome(Box::new(UnknownOutcome {
                command,
                last_fd_before: None,
                cause: cause_text.clone(),
                detail,
                check: format!(
                    "read the money counters (`kkt cash totals`): cash {} means it was not done, {} that it was",
                    Money::from_kopecks(b),
                    dir.after(b, k).map_or_else(|| "?".into(), |a| Money::from_kopecks(a).to_string())
                ),
            }))
        };
        let Some(now) = now else {
            return Err(unknown(format!(
                "the register did not answer the money counters query: {}",
                last.map(|e| e.to_string()).unwrap_or_default()
            )));
        };
        let _ = self.resync().await;
        if Some(now.cash) == dir.after(b, k) {
            tracing::info!(command, "done: the counters moved by the amount");
            self.emit(super::Event::Reconciled { command, formed: true, fd_number: None });
            Ok(true)
        } else if now.cash == b {
            tracing::info!(command, "not done: the counters did not move");
            self.emit(super::Event::Reconciled { command, formed: false, fd_number: None });
            let last_fd = self.query(&GetFnStatus).await.map(|s| s.last_fd_number).unwrap_or(0);
            Err(Error::NotFormed { command, cause: Box::new(cause), last_fd })
        } else {
            Err(unknown(format!(
                "the cash in the drawer moved from {} to {}, not by {}",
                Money::from_kopecks(b),
                Money::from_kopecks(now.cash),
                Money::from_kopecks(k)
            )))
        }
    }

    /// A document from the archive: 0x30, then 0x3A (0x35/0x36 when 0x3A is refused).
    pub(crate) async fn document(&mut self, fd_number: u32) -> Result<StoredDocument, Error> {
        let found = self.query(&FindDocument { fd_number }).await?;
        let tlv = match self.query(&ReadDocumentAsTlv { fd_number }).await {
            Ok(t) => t.tlv,
            Err(Error::Device { error, .. }) if error.code != err::NOT_IN_ARCHIVE => {
                tracing::debug!(%error, "0x3A refused: reading the document TLV by TLV (0x35, 0x36)");
                self.document_tlv_by_tlv(fd_number).await?
            }
            Err(e) => return Err(e),
        };
        Ok(StoredDocument::new(&found, &tlv))
    }

    async fn document_tlv_by_tlv(&mut self, fd_number: u32) -> Result<TlvList, Error> {
        let info = self.query(&RequestDocumentTlv { fd_number }).await?;
        let mut nodes = Vec::new();
        let mut read = 0usize;
        while read < usize::from(info.length) {
            let t = self.query(&ReadDocumentTlv).await?;
            if t.tlv.0.is_empty() {
                break;
            }
            read += t.tlv.to_bytes().len();
            nodes.extend(t.tlv.0);
        }
        Ok(TlvList(nodes))
    }

    /// The number of the FN's last document.
    pub(crate) async fn last_fd(&mut self) -> Result<u32, Error> {
        Ok(self.query(&GetFnStatus).await?.last_fd_number)
    }

    pub(crate) async fn print_copy(&mut self, fd_number: u32) -> Result<(), Error> {
        self.call(&PrintDocument { fd_number }).await.map(|_| ())
    }

    pub(crate) async fn ofd_receipt(&mut self, fd_number: u32) -> Result<OfdConfirmation, Error> {
        self.call(&PrintOfdConfirmation { fd_number }).await
    }

    pub(crate) async fn ofd_status(&mut self) -> Result<OfdStatus, Error> {
        let ex = self.query(&GetOfdExchangeStatus).await?;
        let unconfirmed = match self.query(&GetUnconfirmedCount).await {
            Ok(c) => Some(c.count),
            Err(Error::Device { .. }) => None,
            Err(e) => return Err(e),
        };
        let now = self.query(&GetDateTime).await?.datetime;
        Ok(OfdStatus::new(ex, unconfirmed, now))
    }

    pub(crate) async fn shift_counters(&mut self) -> Result<ShiftCounters, Error> {
        let shift = self.query(&GetShiftParams).await?;
        let money = self.cash_totals().await?;
        let datetime = self.query(&GetDateTime).await?.datetime;
        Ok(ShiftCounters { shift, money, datetime })
    }

    pub(crate) async fn print(&mut self, job: &PrintJob) -> Result<Printed, Error> {
        // Every request encoded (and so checked) before the first is sent.
        let mut commands = Vec::new();
        let mut lines = 0;
        match job {
            PrintJob::Text { lines: text, buffered, cut } => {
                if text.is_empty() {
                    return Err(InputError::new("text", "nothing to print").into());
                }
                if *buffered {
                    let mut chunks = Vec::new();
                    for (i, chunk) in text.chunks(16).enumerate() {
                        let l: Vec<FormattedLine> = chunk.iter().map(|t| FormattedLine::new(0, 0, t)).collect();
                        let w = WriteFormattedLines::new(l);
                        let mut d = Vec::new();
                        crate::commands::Request::encode(&w, &mut d)
                            .map_err(|e| InputError::new(format!("text[{}].{}", i * 16, e.field), e.message))?;
                        chunks.push(w);
                    }
                    for w in &chunks {
                        self.call(w).await?;
                        commands.push(cmd::PRINT_BUFFER_WRITE);
                    }
                    self.call(&PrintBuffer).await?;
                    commands.push(cmd::PRINT_BUFFER);
                } else {
                    let reqs: Vec<PrintLine> = text.iter().map(|t| PrintLine::new(t)).collect();
                    for (i, r) in reqs.iter().enumerate() {
                        crate::commands::Request::encode(r, &mut Vec::new())
                            .map_err(|e| InputError::new(format!("text[{i}]"), e.message))?;
                    }
                    for r in &reqs {
                        let a = self.call(r).await?;
                        if let Some(status) = a.printer_status {
                            return Err(InputError::new(
                                "printer",
                                format!(
                                    "the printer could not print: {}",
                                    printer::printer_status_name(status).unwrap_or("unknown status")
                                ),
                            )
                            .into());
                        }
                        commands.push(cmd::PRINT_TEXT);
                    }
                }
                lines = text.len();
                if *cut {
                    self.call(&Cut::default()).await?;
                    commands.push(cmd::CUT_PAPER);
                }
            }
            PrintJob::Qr { data } => {
                self.call(&PrintQr { text: data.clone() }).await?;
                commands.push(cmd::PRINT_QR);
            }
            PrintJob::Barcode { barcode_type, data } => {
                self.call(&PrintBarcode { barcode_type: *barcode_type, text: data.clone() }).await?;
                commands.push(cmd::PRINT_BARCODE);
            }
        }
        Ok(Printed { commands, lines })
    }

    /// The registration as receipts need it (read once a connection: 0x0A, then 0x3B until the
    /// last report).
    pub(crate) async fn profile(&mut self) -> Result<Profile, Error> {
        if let Some(p) = &self.profile {
            return Ok(p.clone());
        }
        let automatic = match self.query(&GetRegistration).await {
            Ok(r) => profile::automatic(r.modes),
            Err(Error::Device { .. }) => false,
            Err(e) => return Err(e),
        };
        let mut report = None;
        for n in 1..=MAX_REGISTRATIONS {
            // The report is a long answer, the one a noisy line damages most: asked again
            // (each time within its own budget) before giving up.
            let mut read = self.query(&ReadRegistrationTlv { report_number: n }).await;
            for _ in 0..LONG_ANSWER_READS {
                match &read {
                    Err(Error::Protocol { .. }) => read = self.query(&ReadRegistrationTlv { report_number: n }).await,
                    _ => break,
                }
            }
            match read {
                // A register that answers any number with the same report has no more.
                Ok(t) if report.as_ref() == Some(&t.tlv) => break,
                Ok(t) => report = Some(t.tlv),
                Err(Error::Device { .. }) => break,
                Err(e) => return Err(e),
            }
        }
        let p = Profile { automatic, report };
        self.profile = Some(p.clone());
        Ok(p)
    }
}

/// How often more a long query's answer (the registration report) is asked for after it came
/// damaged.
const LONG_ANSWER_READS: usize = 3;
