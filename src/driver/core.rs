//! The driver's procedures, written once as `async fn`s over a [`Link`]; [`super::Kkt`] runs
//! them blocking, [`super::AsyncKkt`] on tokio.
//!
//! Here: sending one command (its retries: [`super::retry`]), the session state around it, the
//! reconciliation of a fiscal command whose answer was lost ([`super::reconcile`]), and the
//! shift, report and registration procedures. Receipts and marking codes: `sale.rs`.

use std::time::Instant;

use tracing::Instrument;

use super::link::Link;
use super::plan::Encoded;
use super::reconcile::{self, Outcome, Rebuilt, ReceiptKey};
use super::retry::{self, Attempt, Failure, Retry};
use super::{Event, Options, Reconciliation};
use crate::commands::archive::{FindDocument, ReadDocumentAsTlv};
use crate::commands::document::CancelDocument;
use crate::commands::info::{FnStatus, GetFnStatus, GetRegistration, GetStatus, Status};
use crate::commands::marking::{ClearMarkChecks, GetMarkingStatus};
use crate::commands::registration::{BeginRegistration, FormRegistration, RegistrationData};
use crate::commands::report::{
    BeginFnClose, BeginSettlementReport, FiscalResult, FnCloseData, FormFnClose, FormSettlementReport, ReportData,
    SettlementReport,
};
use crate::commands::settings::{GetKeyUpdateHost, GetOismHost};
use crate::commands::shift::{
    BeginShiftClose, BeginShiftOpen, CloseShift, GetShiftParams, OpenShift, ShiftCloseData, ShiftOpenData, ShiftParams,
    ShiftReport, ShiftReportData,
};
use crate::commands::{DecodeError, DecodeErrorKind, InputError, Request, Response};
use crate::error::{Error, ProtocolError, UnknownOutcome};
use crate::protocol::frame::{self, ResponseError};
use crate::protocol::values::{OperatingModes, ReregistrationReasons, UsageConditions};
use crate::protocol::{cmd, command_info, err, CommandClass, DeviceError};
use crate::receipt::Cashier;
use crate::session::{MarkStep, SessionState, ShiftState};
use crate::transport::ExchangeError;

/// Why one send failed.
enum SendFail {
    /// The register refused (RESULT 1): it did not execute the command.
    Refused(DeviceError),
    /// The request never left: nothing happened.
    NotSent(Error),
    /// Sent, but no usable answer: the command may or may not have run. `corrupted` when an
    /// answer came, damaged.
    Lost(Error, bool),
}

impl SendFail {
    /// As the retry policy tells failures apart.
    fn failure(&self) -> Failure {
        match self {
            SendFail::Refused(e) if e.code == err::BAD_FRAME => Failure::BadRequestFrame,
            SendFail::Refused(_) => Failure::Refused,
            SendFail::NotSent(_) => Failure::NotSent,
            SendFail::Lost(_, true) => Failure::Corrupted,
            SendFail::Lost(_, false) => Failure::Lost,
        }
    }
}

/// An answer for a command's decoder: its DATA as the register sent it, or the answer rebuilt
/// from the register's archive after it was lost.
pub(crate) enum Answer<'a> {
    /// RESULT 0 with this DATA.
    Data(&'a [u8]),
    /// Rebuilt by the reconciliation.
    Rebuilt(Rebuilt),
}

/// Takes a command's answer: decodes it once and keeps the typed value (the caller's slot), or
/// says why it does not match (the answer then counts as lost).
pub(crate) type Accept<'a> = dyn FnMut(Answer<'_>) -> Result<(), DecodeError> + Send + 'a;

/// A receiver of [`Event`]s.
pub(crate) type EventHandler = Box<dyn FnMut(&Event) + Send>;

/// The driver state around a link.
pub(super) struct Driver<L: Link> {
    pub(crate) link: L,
    pub(crate) opts: Options,
    pub(crate) state: SessionState,
    pub(crate) synced: bool,
    pub(crate) autonomous: Option<bool>,
    pub(crate) events: Option<EventHandler>,
    pub(crate) cashier: Option<Cashier>,
    /// Set when the last fiscal command's answer was rebuilt after a loss.
    pub(crate) last_reconciled: Option<Reconciliation>,
    /// The marked-goods checker for sales.
    pub(crate) checker: Option<std::sync::Arc<dyn super::MarkChecker>>,
    /// The cashier's answer to a verdict that asks.
    pub(crate) mark_ask: Option<super::MarkAsk>,
    /// The FN serial, read with the FN status (`fiscalDriveNumber` of the online check).
    pub(crate) fn_number: Option<String>,
    /// While a receipt is formed: what its archive record must hold to be taken for ours.
    pub(crate) content: Option<super::reconcile::ReceiptContent>,
    /// The registration INN (0x0A): the legal entity of a sale that names none.
    pub(crate) registration_inn: Option<String>,
    /// While a receipt is being filled: the commands sent for it, in order (what a refusal
    /// names).
    pub(crate) sent_log: Option<Vec<u8>>,
    /// The registration as receipts need it (read on the first receipt; forgotten after a
    /// registration).
    pub(crate) profile: Option<super::profile::Profile>,
    /// Set from outside (Ctrl-C): no new step of a document is sent; queries and the cancel
    /// (0x10) still are.
    pub(crate) interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// `prefix.field` for an input error inside a part of the input (`items[2]`, `cashier`).
pub(crate) fn in_field(prefix: &str, e: InputError) -> InputError {
    InputError::new(format!("{prefix}.{}", e.field), e.message)
}

fn command_span(code: u8) -> tracing::Span {
    let name = command_info(code).map_or("unknown command", |i| i.name_en);
    tracing::info_span!("kkt_command", code = %format_args!("{code:#04X}"), name)
}

fn class_of(code: u8) -> CommandClass {
    command_info(code).map_or(CommandClass::Service, |i| i.class)
}

impl<L: Link> Driver<L> {
    pub(crate) fn new(link: L, opts: Options) -> Self {
        Self {
            link,
            opts,
            state: SessionState::new(),
            synced: false,
            autonomous: None,
            events: None,
            cashier: None,
            last_reconciled: None,
            checker: None,
            mark_ask: None,
            fn_number: None,
            content: None,
            registration_inn: None,
            sent_log: None,
            profile: None,
            interrupt: None,
        }
    }

    /// Whether the caller asked to stop (see [`Driver::interrupt`]).
    pub(crate) fn interrupted(&self) -> bool {
        self.interrupt.as_ref().is_some_and(|f| f.load(std::sync::atomic::Ordering::SeqCst))
    }

    pub(crate) fn emit(&mut self, e: Event) {
        if !matches!(e, Event::Sending { .. } | Event::Received { .. }) {
            tracing::debug!(event = ?e, "driver event");
        }
        if let Some(h) = self.events.as_mut() {
            h(&e);
        }
    }

    // ---------------------------------------------------------------- one command

    /// One command with its retry policy; no reconciliation, no state.
    async fn send(&mut self, code: u8, data: &[u8], accept: &mut Accept<'_>) -> Result<(), SendFail> {
        let class = class_of(code);
        let timeout = self.opts.timeout(code);
        // The whole wait for the command; never less than one sending's own timeout (shift
        // open keeps its longer one).
        let budget = self.opts.budget.map(|b| b.max(timeout));
        let mut req = Vec::with_capacity(data.len() + 7);
        frame::encode(code, data, &mut req)
            .map_err(|e| SendFail::NotSent(InputError::new("data", e.to_string()).into()))?;
        let first = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let started = Instant::now();
            let wait =
                budget.map_or(timeout, |b| timeout.min(b.saturating_sub(first.elapsed())).max(retry::MIN_SENDING));
            self.emit(Event::Sending { command: code, attempt, timeout: wait });
            let r = self.link.exchange(&req, wait).await;
            let elapsed = started.elapsed();
            self.emit(Event::Received { command: code, elapsed });
            let protocol = |error| SendFail::Lost(Error::Protocol { command: code, error }, true);
            let fail = match r {
                Ok(f) => match f.response() {
                    Ok(bytes) => match accept(Answer::Data(bytes)) {
                        Ok(()) => {
                            tracing::debug!(elapsed_ms = elapsed.as_millis() as u64, attempt, "done");
                            return Ok(());
                        }
                        Err(error) => protocol(ProtocolError::Decode { command: code, error }),
                    },
                    Err(ResponseError::Device(e)) => SendFail::Refused(e),
                    Err(ResponseError::MalformedError { len }) => protocol(ProtocolError::MalformedError { len }),
                    Err(ResponseError::UnknownResult(r)) => protocol(ProtocolError::UnknownResult(r)),
                },
                Err(e) if e.request_not_sent() => SendFail::NotSent(Error::from_exchange(code, e)),
                Err(e @ ExchangeError::BadFrame(_)) => SendFail::Lost(Error::from_exchange(code, e), true),
                Err(e @ ExchangeError::Link(_)) => SendFail::Lost(Error::from_exchange(code, e), false),
            };
            if matches!(fail, SendFail::NotSent(_) | SendFail::Lost(..)) {
                self.link.reset();
            }
            let a = Attempt { class, number: attempt, failure: fail.failure(), spent: first.elapsed(), budget };
            let decision = if self.interrupted() { Retry::No } else { retry::decide(&self.opts, &a) };
            let Retry::After(pause) = decision else {
                if let SendFail::Refused(e) = &fail {
                    tracing::debug!(error = %e, "refused");
                }
                return Err(counted(fail, attempt, first.elapsed()));
            };
            let reason = match &fail {
                SendFail::Refused(_) => {
                    tracing::warn!(attempt, "the register got a damaged request (0x25): sending it again");
                    "the register received a damaged frame (0x25) and did not execute it".to_string()
                }
                SendFail::NotSent(e) | SendFail::Lost(e, _) => {
                    let reason = e.to_string();
                    tracing::info!(attempt, %reason, "retrying");
                    reason
                }
            };
            self.emit(Event::Retrying { command: code, attempt, reason });
            if !pause.is_zero() {
                self.link.sleep(pause).await;
            }
        }
    }

    /// A query (or any command) sent with retries but without touching the session state.
    pub(crate) async fn query<R: Request>(&mut self, req: &R) -> Result<R::Response, Error> {
        let data = encode(req)?;
        let mut out = None;
        let mut accept = decoder::<R::Response>(&mut out);
        self.send(R::CODE, &data, &mut accept).instrument(command_span(R::CODE)).await.map_err(|f| match f {
            SendFail::Refused(error) => Error::Device { command: R::CODE, error },
            SendFail::NotSent(e) | SendFail::Lost(e, _) => e,
        })?;
        drop(accept);
        let v = out.expect("accepted");
        self.observe_answer(R::CODE, &v);
        Ok(v)
    }

    /// Any command: checked against the session state, sent with the policy of its class, the
    /// state moved on. A fiscal command whose answer is lost is reconciled.
    async fn call_data(&mut self, code: u8, data: &[u8], accept: &mut Accept<'_>) -> Result<(), Error> {
        let class = class_of(code);
        if class == CommandClass::Fiscal {
            self.last_reconciled = None;
        }
        if class != CommandClass::Query && !self.synced {
            self.resync().await?;
        }
        if class != CommandClass::Query && code != crate::protocol::cmd::CANCEL_DOCUMENT && self.interrupted() {
            return Err(Error::Interrupted { command: code });
        }
        let mut next = self.next_state(code, data).await?;
        // The FN status before a fiscal command (what reconciliation compares with) feeds the
        // session model too: the command is judged again against what it says.
        let before = if class == CommandClass::Fiscal {
            let fs = self.query(&GetFnStatus).await?;
            next = self.state.next(code, data, None)?;
            Some(fs)
        } else {
            None
        };
        let sent = self.send(code, data, accept).instrument(command_span(code)).await;
        if let (Some(log), false) = (self.sent_log.as_mut(), matches!(sent, Err(SendFail::NotSent(_)))) {
            log.push(code);
        }
        match sent {
            Ok(()) => {
                self.state = next;
                Ok(())
            }
            Err(SendFail::Refused(error)) => {
                // The register disagrees with what we thought: read its state again next time.
                if class != CommandClass::Query {
                    self.synced = false;
                }
                Err(Error::Device { command: code, error })
            }
            Err(SendFail::NotSent(e)) => Err(e),
            Err(SendFail::Lost(e, _)) => match (class, before) {
                (CommandClass::Fiscal, Some(before)) => self.reconcile(code, data, before, e, accept).await,
                _ => {
                    if class != CommandClass::Query {
                        self.synced = false;
                    }
                    Err(e)
                }
            },
        }
    }

    /// A typed command, encoded once, through [`Self::call_data`]; its answer decoded once.
    pub(crate) async fn call<R: Request>(&mut self, req: &R) -> Result<R::Response, Error> {
        let data = encode(req)?;
        self.send_data::<R>(&data).await
    }

    /// A request encoded before (a plan's), sent as it is.
    pub(crate) async fn call_encoded<R: Request>(&mut self, req: &Encoded<R>) -> Result<R::Response, Error> {
        self.send_data::<R>(&req.data).await
    }

    async fn send_data<R: Request>(&mut self, data: &[u8]) -> Result<R::Response, Error> {
        let mut out = None;
        let mut accept = decoder::<R::Response>(&mut out);
        self.call_data(R::CODE, data, &mut accept).await?;
        drop(accept);
        let v = out.expect("accepted");
        self.observe_answer(R::CODE, &v);
        Ok(v)
    }

    /// Feeds an answer into the session model: every FN status (0x08), whoever asked for it.
    fn observe_answer<T: 'static>(&mut self, code: u8, v: &T) {
        if code == GetFnStatus::CODE {
            if let Some(fs) = (v as &dyn std::any::Any).downcast_ref::<FnStatus>() {
                self.observe(fs);
            }
        }
    }

    /// The register's shift flag and open document (FN status) where the session model
    /// differs (a technician's `kkt shift open`, another process, another program): the model
    /// takes the register's, the marked-item step as it was.
    pub(crate) fn observe(&mut self, fs: &FnStatus) {
        let shift_open = fs.shift_open != 0;
        if self.state.shift_open() == shift_open && self.state.current_document() == fs.current_document {
            return;
        }
        tracing::info!(
            shift_open,
            document = fs.current_document.code(),
            "the register's shift or open document changed outside this client: following it"
        );
        self.state = SessionState::from_device(
            shift_open,
            fs.current_document,
            self.state.mark().device_state(),
            self.state.saved_marks(),
            self.state.autonomous(),
        );
    }

    /// The session state after `code`: when the model would refuse it, the register's state is
    /// read again once first (it may have changed outside this client), and the command is
    /// judged against that. Inside a document this client opened, the model's word stands.
    pub(crate) async fn next_state(&mut self, code: u8, data: &[u8]) -> Result<SessionState, Error> {
        match self.state.next(code, data, None) {
            Ok(next) => Ok(next),
            Err(v) if self.state.document_open() && !opens_a_document(code) => Err(v.into()),
            Err(v) => {
                tracing::debug!(violation = %v, "the session model refuses: reading the register's state again");
                if self.resync().await.is_err() {
                    return Err(v.into());
                }
                Ok(self.state.next(code, data, None)?)
            }
        }
    }

    /// Any command as bytes (`kkt raw`): checked against the session state and sent with the
    /// policy of its class like a typed one; the answer's DATA as it came (a fiscal answer
    /// rebuilt after a loss is encoded again).
    pub(crate) async fn call_raw(&mut self, code: u8, data: &[u8]) -> Result<Vec<u8>, Error> {
        let mut out: Option<Vec<u8>> = None;
        let mut accept = |answer: Answer<'_>| -> Result<(), DecodeError> {
            out = Some(match answer {
                Answer::Data(d) => d.to_vec(),
                Answer::Rebuilt(r) => r.to_bytes(),
            });
            Ok(())
        };
        self.call_data(code, data, &mut accept).await?;
        Ok(out.unwrap_or_default())
    }

    /// Reads the register's state: FN status, marking status, autonomous mode.
    pub(crate) async fn resync(&mut self) -> Result<SessionState, Error> {
        // An answer whose FN number is not 16 digits is damaged (a valid frame with bad
        // content): read it again, at most twice more.
        let mut fs = self.query(&GetFnStatus).await?;
        for _ in 0..2 {
            if fs.fn_number_valid() {
                break;
            }
            tracing::warn!(fn_number = ?fs.fn_number, "the FN status answer names no valid FN number: reading it again");
            fs = self.query(&GetFnStatus).await?;
        }
        self.fn_number = fs.fn_number_valid().then(|| fs.fn_number.clone());
        let ms = match self.query(&GetMarkingStatus).await {
            Ok(m) => Some(m),
            Err(Error::Device { .. }) => None,
            Err(e) => return Err(e),
        };
        if self.autonomous.is_none() {
            self.autonomous = match self.query(&GetRegistration).await {
                Ok(r) => {
                    self.registration_inn = Some(r.inn.trim().to_string()).filter(|i| !i.is_empty());
                    Some(r.modes.contains(crate::protocol::values::OperatingModes::AUTONOMOUS))
                }
                Err(Error::Device { .. }) => Some(false),
                Err(e) => return Err(e),
            };
        }
        let state = SessionState::from_device(
            fs.shift_open != 0,
            fs.current_document,
            ms.map_or(1, |m| m.check_state),
            ms.map_or(0, |m| m.kept_results),
            self.autonomous.unwrap_or(false),
        );
        self.state = state.clone();
        self.synced = true;
        self.emit(Event::Resynced { state: state.clone() });
        Ok(state)
    }

    /// Asks the register what became of fiscal command `code` whose answer was lost; when it
    /// formed its document, the answer rebuilt from the archive goes to `accept`.
    async fn reconcile(
        &mut self,
        code: u8,
        data: &[u8],
        before: FnStatus,
        cause: Error,
        accept: &mut Accept<'_>,
    ) -> Result<(), Error> {
        let cause_text = cause.to_string();
        tracing::warn!(command = code, cause = %cause_text, "answer to a fiscal command lost: asking the register");
        self.emit(Event::Reconciling { command: code, cause: cause_text.clone() });
        self.synced = false;
        let unknown = |detail: String| {
            Error::UnknownOutcome(Box::new(UnknownOutcome {
                command: code,
                last_fd_before: Some(before.last_fd_number),
                cause: cause_text.clone(),
                detail,
                check: format!(
                    "read the FN status (`kkt status`) and the last document: if the last FD number is still {} nothing was formed; if it is {} read that document (`kkt fd {}`) before doing anything else",
                    before.last_fd_number,
                    before.last_fd_number.wrapping_add(1),
                    before.last_fd_number.wrapping_add(1)
                ),
            }))
        };
        let mut after = None;
        let mut last_error = None;
        for i in 0..self.opts.reconcile_attempts.max(1) {
            if i > 0 {
                self.link.sleep(self.opts.reconcile_delay).await;
            }
            match self.query(&GetFnStatus).await {
                Ok(s) => {
                    after = Some(s);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        let Some(after) = after else {
            let e = last_error.map(|e| e.to_string()).unwrap_or_default();
            return Err(unknown(format!("the register did not answer the FN status query: {e}")));
        };
        match reconcile::judge(&before, &after) {
            Outcome::NotFormed => {
                tracing::info!(command = code, last_fd = after.last_fd_number, "not formed");
                self.emit(Event::Reconciled { command: code, formed: false, fd_number: None });
                let _ = self.resync().await;
                Err(Error::NotFormed { command: code, cause: Box::new(cause), last_fd: after.last_fd_number })
            }
            Outcome::Unknown { detail } => Err(unknown(detail)),
            Outcome::Formed { fd_number } => {
                let doc = match self.query(&FindDocument { fd_number }).await {
                    Ok(d) => d,
                    Err(e) => {
                        return Err(unknown(format!(
                            "a new document {fd_number} exists but could not be read from the archive: {e}"
                        )))
                    }
                };
                if let Err(why) = reconcile::confirm(code, ReceiptKey::of(code, data), &doc) {
                    return Err(unknown(format!("document {fd_number} was formed, but {why}")));
                }
                // A receipt's content too (another program may have formed one with the same
                // operation and total).
                if let Some(content) =
                    self.content.clone().filter(|_| matches!(code, cmd::FORM_RECEIPT | cmd::FORM_CORRECTION))
                {
                    match self.query(&ReadDocumentAsTlv { fd_number }).await {
                        Ok(t) => {
                            if let Err(m) = content.compare(&t.tlv) {
                                return Err(unknown(format!("document {fd_number} was formed, but it is not ours: {m}")));
                            }
                        }
                        // The FN status read just before 0x24 showed this client's receipt
                        // open (the register holds one document at a time, and the session let
                        // 0x24 go only inside the receipt this client opened and filled): the
                        // one document formed after it, with its operation and total, is that
                        // receipt. Another program would first have had to cancel it in the
                        // instant between that status and 0x24, and then our 0x24 finds no
                        // receipt to form. On a noisy line the long 0x3A answer is the one most
                        // often damaged, so this case does not hang on reading it.
                        Err(e) if before.current_document != crate::protocol::values::CurrentDocument::NONE => {
                            tracing::warn!(
                                fd_number,
                                error = %e,
                                "the receipt's content could not be read back; the register had this client's receipt open just before 0x24: taken for ours"
                            );
                        }
                        Err(e) => {
                            return Err(unknown(format!(
                                "document {fd_number} has our operation and total, but its content could not be read back to confirm it is ours: {e}"
                            )))
                        }
                    }
                }
                let shift = if matches!(code, cmd::FORM_RECEIPT | cmd::FORM_CORRECTION) {
                    match self.query(&GetShiftParams).await {
                        Ok(s) => Some(s),
                        Err(e) => {
                            return Err(unknown(format!(
                                "document {fd_number} was formed (it is ours), but the shift parameters could not be read: {e}"
                            )))
                        }
                    }
                } else {
                    None
                };
                reconcile::rebuild(code, &doc, shift.as_ref(), &after)
                    .map_err(|why| unknown(format!("document {fd_number} was formed, but {why}")))
                    .and_then(|r| {
                        accept(Answer::Rebuilt(r))
                            .map_err(|why| unknown(format!("document {fd_number} was formed, but {why}")))
                    })?;
                tracing::info!(command = code, fd_number, "formed: answer rebuilt from the FN archive");
                self.last_reconciled = Some(Reconciliation { command: code, fd_number, cause: cause_text.clone() });
                self.emit(Event::Reconciled { command: code, formed: true, fd_number: Some(fd_number) });
                let _ = self.resync().await;
                Ok(())
            }
        }
    }

    /// Cancels whatever document is open and clears code checks, best effort, after a failure
    /// inside a multi-step operation. Errors are logged, not returned: the caller reports the
    /// original failure.
    pub(crate) async fn abort_document(&mut self) -> String {
        if !self.synced {
            if let Err(e) = self.resync().await {
                return format!("the register could not be asked whether the receipt is still open ({e})");
            }
        }
        let mut done = "nothing was left open on the register".to_string();
        if self.state.document_open() || self.state.mark() != MarkStep::Idle {
            if let Err(e) = self.call(&CancelDocument).await {
                tracing::warn!(error = %e, "cancelling the open document failed");
                return format!("cancelling the receipt failed ({e}): `kkt cancel`");
            }
            done = "the receipt was cancelled (0x10)".to_string();
        }
        if !self.synced && self.resync().await.is_err() {
            return done;
        }
        if self.state.saved_marks() > 0 || self.state.mark() != MarkStep::Idle {
            if let Err(e) = self.call(&ClearMarkChecks).await {
                tracing::warn!(error = %e, "clearing the marking code checks failed");
            }
        }
        done
    }

    // ---------------------------------------------------------------- procedures

    pub(crate) async fn status(&mut self) -> Result<super::DeviceStatus, Error> {
        let status: Status = self.query(&GetStatus).await?;
        let fn_status = self.query(&GetFnStatus).await?;
        let shift = self.query(&GetShiftParams).await?;
        let session = self.resync().await?;
        Ok(super::DeviceStatus { status, fn_status, shift, session })
    }

    fn report_data(c: &Cashier) -> ShiftReportData {
        let mut d = ShiftReportData::cashier(&c.name);
        d.cashier_inn = c.inn.clone();
        d
    }

    pub(crate) async fn open_shift(&mut self, cashier: &Cashier) -> Result<ShiftReport, Error> {
        let data = Encoded::new(ShiftOpenData(Self::report_data(cashier))).map_err(|e| in_field("cashier", e))?;
        let begin = BeginShiftOpen { no_print: (!self.opts.print_reports).then_some(true) };
        if !self.synced {
            self.resync().await?;
        }
        // A shift open begun earlier (its answer lost, e.g. a key update longer than the
        // timeout) is finished rather than refused.
        if self.state.shift() != ShiftState::Opening {
            self.emit(Event::KeyUpdate { finished: None });
            let started = Instant::now();
            self.call(&begin).await?;
            self.emit(Event::KeyUpdate { finished: Some(started.elapsed()) });
        }
        self.cashier = Some(cashier.clone());
        let r = async {
            self.call_encoded(&data).await?;
            self.call(&OpenShift).await
        }
        .await;
        if r.is_err() {
            self.abort_document().await;
        }
        r
    }

    pub(crate) async fn close_shift(&mut self, cashier: Option<&Cashier>) -> Result<ShiftReport, Error> {
        let cashier = cashier.cloned().or_else(|| self.cashier.clone());
        let data = cashier.as_ref().map(|c| Encoded::new(ShiftCloseData(Self::report_data(c)))).transpose()?;
        if !self.synced {
            self.resync().await?;
        }
        if self.state.shift() != ShiftState::Closing {
            self.call(&BeginShiftClose { no_print: (!self.opts.print_reports).then_some(true) }).await?;
        }
        let r = async {
            if let Some(d) = &data {
                self.call_encoded(d).await?;
            }
            self.call(&CloseShift).await
        }
        .await;
        if r.is_err() {
            self.abort_document().await;
        } else {
            self.cashier = None;
        }
        r
    }

    pub(crate) async fn settlement_report(&mut self) -> Result<SettlementReport, Error> {
        self.call(&BeginSettlementReport).await?;
        let r = self.call(&FormSettlementReport).await;
        if r.is_err() {
            self.abort_document().await;
        }
        r
    }

    pub(crate) async fn register(
        &mut self,
        report_type: u8,
        data: &RegistrationData,
        form: &FormRegistration,
    ) -> Result<FiscalResult, Error> {
        check_report_type(report_type, form.reasons)?;
        let begin = Encoded::new(BeginRegistration { report_type })?;
        let encoded_data = Encoded::new(data.clone())?;
        let form = Encoded::new(form.clone())?;
        // Seed 004: the OISM and key update hosts are saved before a ФФД 1.2 register with
        // marked goods is registered in data transfer mode.
        if data.usage.contains(UsageConditions::MARKING) && !data.modes.contains(OperatingModes::AUTONOMOUS) {
            self.check_marking_hosts().await?;
        }
        let data = encoded_data;
        self.call_encoded(&begin).await?;
        let r = async {
            self.call_encoded(&data).await?;
            self.call_encoded(&form).await
        }
        .await;
        if r.is_err() {
            self.abort_document().await;
        }
        // A registration changes the modes (autonomous or not) and what receipts need: read
        // them again.
        self.autonomous = None;
        self.profile = None;
        self.synced = false;
        r
    }

    /// Reads the OISM host (0x83) and the key update host (0x85); refuses a registration while
    /// either is empty. A register that answers neither command is let through (it says what
    /// it needs itself).
    async fn check_marking_hosts(&mut self) -> Result<(), Error> {
        let empty = |r: Result<String, Error>| -> Result<bool, Error> {
            match r {
                Ok(a) => Ok(a.trim().is_empty()),
                Err(Error::Device { error, .. }) => {
                    tracing::warn!(%error, "the register did not give a marking host: registering without checking it");
                    Ok(false)
                }
                Err(e) => Err(e),
            }
        };
        let oism = empty(self.query(&GetOismHost).await.map(|h| h.address))?;
        let keys = empty(self.query(&GetKeyUpdateHost).await.map(|h| h.address))?;
        let (expected, hint) = match (oism, keys) {
            (false, false) => return Ok(()),
            (true, true) => (
                "save the OISM host and the key update host (seed 004: before registering a ФФД 1.2 register \
                     with marked goods): `kkt settings oism set --host HOST --port PORT`, then `kkt settings \
                     keys-host set --host HOST --port PORT` first",
                "run `kkt settings oism set` and `kkt settings keys-host set`, then `kkt register` again",
            ),
            (true, false) => (
                "save the OISM host (seed 004: before registering a ФФД 1.2 register with marked goods): \
                     `kkt settings oism set --host HOST --port PORT` first",
                "run `kkt settings oism set`, then `kkt register` again",
            ),
            (false, true) => (
                "save the key update host (seed 004: before registering a ФФД 1.2 register with marked \
                     goods): `kkt settings keys-host set --host HOST --port PORT` first",
                "run `kkt settings keys-host set`, then `kkt register` again",
            ),
        };
        Err(Error::Sequence(crate::session::Violation {
            command: cmd::BEGIN_REGISTRATION,
            expected,
            code: err::REQUIRED_MISSING,
            hint,
        }))
    }

    pub(crate) async fn close_fn(&mut self, data: Option<&ReportData>) -> Result<FiscalResult, Error> {
        let data = data.cloned().map(|d| Encoded::new(FnCloseData(d))).transpose()?;
        self.call(&BeginFnClose).await?;
        let r = async {
            if let Some(d) = &data {
                self.call_encoded(d).await?;
            }
            self.call(&FormFnClose).await
        }
        .await;
        if r.is_err() {
            self.abort_document().await;
        }
        r
    }

    pub(crate) async fn cancel_document(&mut self) -> Result<(), Error> {
        self.call(&CancelDocument).await.map(|_| ())
    }

    pub(crate) async fn shift_params(&mut self) -> Result<ShiftParams, Error> {
        self.query(&GetShiftParams).await
    }
}

/// The last failure of a command sent `attempts` times over `spent`: a timeout says how long kkt
/// waited in all and how many times it asked.
fn counted(fail: SendFail, attempts: u32, spent: std::time::Duration) -> SendFail {
    use crate::transport::LinkError;
    match fail {
        SendFail::Lost(Error::Link { command, error: LinkError::Timeout { peer, waited, received, .. } }, c)
            if attempts > 1 =>
        {
            let waited = spent.max(waited);
            SendFail::Lost(Error::Link { command, error: LinkError::Timeout { peer, waited, attempts, received } }, c)
        }
        f => f,
    }
}

/// Whether `code` begins a document (a receipt, a shift report, a report): the commands a
/// document opened elsewhere would make the register refuse.
fn opens_a_document(code: u8) -> bool {
    matches!(
        code,
        cmd::BEGIN_RECEIPT
            | cmd::BEGIN_CORRECTION
            | cmd::BEGIN_SHIFT_OPEN
            | cmd::BEGIN_SHIFT_CLOSE
            | cmd::BEGIN_SETTLEMENT_REPORT
            | cmd::BEGIN_REGISTRATION
            | cmd::BEGIN_REGISTRATION_105
            | cmd::BEGIN_FN_CLOSE
    )
}

/// The report type of 0xE1 and the reasons (tag 1205) agree: 0 (first registration) has none,
/// 1 (with FN replacement) has `fn_replacement`, 2 (without) has reasons but not that one.
fn check_report_type(report_type: u8, reasons: Option<ReregistrationReasons>) -> Result<(), InputError> {
    let r = reasons.unwrap_or_default();
    match report_type {
        0 if !r.is_empty() => Err(InputError::new(
            "reasons",
            "a first registration (report_type 0) has no re-registration reasons (tag 1205)",
        )),
        1 if !r.contains(ReregistrationReasons::FN_REPLACEMENT) => Err(InputError::new(
            "reasons",
            "a re-registration with FN replacement (report_type 1) has the reason fn_replacement (tag 1205 bit 0)",
        )),
        2 if r.is_empty() => Err(InputError::new(
            "reasons",
            "a re-registration (report_type 2) says why: give at least one reason (tag 1205)",
        )),
        2 if r.contains(ReregistrationReasons::FN_REPLACEMENT) => Err(InputError::new(
            "reasons",
            "fn_replacement is the reason of report_type 1 (re-registration with FN replacement), not 2",
        )),
        0..=2 => Ok(()),
        other => Err(InputError::new(
            "report_type",
            format!(
                "{other} is not 0 (first registration), 1 (re-registration with FN replacement) or 2 (re-registration without)"
            ),
        )),
    }
}

/// A request's DATA (checking every input: nothing is sent on error).
fn encode<R: Request>(req: &R) -> Result<Vec<u8>, Error> {
    let mut data = Vec::new();
    req.encode(&mut data)?;
    Ok(data)
}

/// The [`Accept`] of answer type `T`: decodes the DATA (or takes the rebuilt answer) into `out`.
fn decoder<T: Response>(out: &mut Option<T>) -> impl FnMut(Answer<'_>) -> Result<(), DecodeError> + Send + '_ {
    move |answer| {
        *out = Some(match answer {
            Answer::Data(d) => T::decode(d)?,
            Answer::Rebuilt(r) => r.into_answer().ok_or_else(|| {
                DecodeError::new(DecodeErrorKind::Value, "answer", 0, "the rebuilt answer is not this command's")
            })?,
        });
        Ok(())
    }
}
