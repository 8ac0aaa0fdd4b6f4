//! The driver's procedures, written once as `async fn`s over a [`Link`]; [`super::Kkt`] runs
//! them blocking, [`super::AsyncKkt`] on tokio.

use std::time::Instant;

use tracing::Instrument;

use super::link::Link;
use super::reconcile::{self, Verdict};
use super::{Event, FiscalDocument, ItemMark, MarkCheck, MarkPolicy, Options, Reconciliation};
use crate::commands::archive::FindDocument;
use crate::commands::document::CancelDocument;
use crate::commands::info::{FnStatus, GetFnStatus, GetRegistration, GetStatus, Status};
use crate::commands::marking::{
    CheckMarkLocal, CheckMarkOnline, CheckMarkOnlineResult, ClearMarkChecks, GetMarkingStatus, KeepMarkCheck,
    KeepMarkCheckResult, OISM_UNREACHABLE,
};
use crate::commands::receipt::{
    FormCorrectionReceipt, FormReceipt, MarkedItem, OpenCorrectionReceipt, OpenReceipt, Payment, ReceiptRequisites,
    ReceiptResult, UnmarkedItem, NO_PRINT,
};
use crate::commands::registration::{BeginRegistration, FormRegistration, RegistrationData};
use crate::commands::report::{
    BeginFnClose, BeginSettlementReport, FiscalResult, FnCloseData, FormFnClose, FormSettlementReport, ReportData,
    SettlementReport,
};
use crate::commands::shift::{
    BeginShiftClose, BeginShiftOpen, CloseShift, GetShiftParams, OpenShift, ShiftCloseData, ShiftOpenData, ShiftParams,
    ShiftReport, ShiftReportData,
};
use crate::commands::{DecodeError, InputError, Request, Response};
use crate::error::{Error, ProtocolError, UnknownOutcome};
use crate::protocol::frame::{self, ResponseError};
use crate::protocol::{command_info, CommandClass, DeviceError};
use crate::receipt::{Cashier, Item, Measure, Money, Operation, PlannedStatus, Receipt};
use crate::session::{MarkStep, SessionState, ShiftState};
use crate::transport::ExchangeError;

/// The register answered error 0x25: the request frame arrived damaged and was not executed.
const BAD_REQUEST_FRAME: u8 = 0x25;

/// Why one send failed.
enum SendFail {
    /// The register refused (RESULT 1): it did not execute the command.
    Refused(DeviceError),
    /// The request never left: nothing happened.
    NotSent(Error),
    /// Sent, but no usable answer: the command may or may not have run.
    Lost(Error),
}

/// A receiver of [`Event`]s.
pub(crate) type EventHandler = Box<dyn FnMut(&Event) + Send>;

/// The driver state around a link.
pub struct Driver<L: Link> {
    pub(crate) link: L,
    pub(crate) opts: Options,
    pub(crate) state: SessionState,
    pub(crate) synced: bool,
    pub(crate) autonomous: Option<bool>,
    pub(crate) events: Option<EventHandler>,
    pub(crate) cashier: Option<Cashier>,
    /// Set when the last fiscal command's answer was rebuilt after a loss.
    pub(crate) last_reconciled: Option<Reconciliation>,
    /// The marked-goods checker (ГИС МТ, Local Module, sold-codes store) for sales.
    pub(crate) checker: Option<std::sync::Arc<crate::checker::Checker>>,
    /// The cashier's answer to a verdict that asks.
    pub(crate) mark_ask: Option<super::MarkAsk>,
    /// The FN serial, read with the FN status (`fiscalDriveNumber` of the online check).
    pub(crate) fn_number: Option<String>,
}

/// The companion check of a receipt's marked items, running on its own thread while the
/// register does 0x91/0x92.
struct MarkJob {
    rx: Option<tokio::sync::oneshot::Receiver<Vec<crate::checker::Verdict>>>,
    verdicts: Option<Vec<crate::checker::Verdict>>,
    /// Receipt item → index in `verdicts`.
    index: Vec<Option<usize>>,
    strictness: crate::checker::Strictness,
}

impl MarkJob {
    async fn verdict(&mut self, item: usize) -> Option<crate::checker::Verdict> {
        if self.verdicts.is_none() {
            let rx = self.rx.take()?;
            self.verdicts = Some(rx.await.unwrap_or_default());
        }
        let i = (*self.index.get(item)?)?;
        self.verdicts.as_ref()?.get(i).cloned()
    }
}

/// Tag 2106 as the register's checks give it: from 0x92, else built from the FN's 0x91 result
/// (autonomous mode: 1 = checked and negative, 3 = checked and positive).
fn device_2106(c: &MarkCheck) -> Option<crate::commands::marking::MarkCheckResult> {
    c.device_result()
}

fn check_of<R: Response>(d: &[u8]) -> Result<(), DecodeError> {
    R::decode(d).map(|_| ())
}

fn decode<R: Response>(code: u8, bytes: &[u8]) -> Result<R, Error> {
    R::decode(bytes)
        .map_err(|error| Error::Protocol { command: code, error: ProtocolError::Decode { command: code, error } })
}

fn prefixed(prefix: &str, e: InputError) -> InputError {
    InputError::new(format!("{prefix}.{}", e.field), e.message)
}

fn encode_request<R: Request>(req: &R) -> Result<Vec<u8>, Error> {
    let mut data = Vec::new();
    req.encode(&mut data)?;
    Ok(data)
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
        }
    }

    pub(crate) fn emit(&mut self, e: Event) {
        tracing::debug!(event = ?e, "driver event");
        if let Some(h) = self.events.as_mut() {
            h(&e);
        }
    }

    /// One command with its retry policy; no reconciliation, no state.
    async fn send(
        &mut self,
        code: u8,
        data: &[u8],
        check: &(dyn Fn(&[u8]) -> Result<(), DecodeError> + Sync),
    ) -> Result<Vec<u8>, SendFail> {
        let class = command_info(code).map_or(CommandClass::Service, |i| i.class);
        let timeout = self.opts.timeout(code);
        let mut req = Vec::with_capacity(data.len() + 7);
        frame::encode(code, data, &mut req)
            .map_err(|e| SendFail::NotSent(InputError::new("data", e.to_string()).into()))?;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let started = Instant::now();
            let r = self.link.exchange(&req, timeout).await;
            let elapsed = started.elapsed();
            let fail = match r {
                Ok(f) => match f.response() {
                    Ok(bytes) => match check(bytes) {
                        Ok(()) => {
                            tracing::debug!(elapsed_ms = elapsed.as_millis() as u64, attempt, "done");
                            return Ok(bytes.to_vec());
                        }
                        Err(error) => SendFail::Lost(Error::Protocol {
                            command: code,
                            error: ProtocolError::Decode { command: code, error },
                        }),
                    },
                    Err(ResponseError::Device(e)) => {
                        if e.code == BAD_REQUEST_FRAME && attempt <= self.opts.retries {
                            tracing::warn!(attempt, "the register got a damaged request (0x25): sending it again");
                            self.emit(Event::Retrying {
                                command: code,
                                attempt,
                                reason: "the register received a damaged frame (0x25) and did not execute it".into(),
                            });
                            continue;
                        }
                        tracing::debug!(error = %e, "refused");
                        return Err(SendFail::Refused(e));
                    }
                    Err(ResponseError::MalformedError { len }) => {
                        SendFail::Lost(Error::Protocol { command: code, error: ProtocolError::MalformedError { len } })
                    }
                    Err(ResponseError::UnknownResult(r)) => {
                        SendFail::Lost(Error::Protocol { command: code, error: ProtocolError::UnknownResult(r) })
                    }
                },
                Err(e) if e.request_not_sent() => SendFail::NotSent(Error::from_exchange(code, e)),
                Err(e @ (ExchangeError::Link(_) | ExchangeError::BadFrame(_))) => {
                    SendFail::Lost(Error::from_exchange(code, e))
                }
            };
            self.link.reset();
            let retry = match &fail {
                SendFail::NotSent(_) => attempt <= self.opts.retries,
                SendFail::Lost(_) => class == CommandClass::Query && attempt <= self.opts.retries,
                SendFail::Refused(_) => false,
            };
            if !retry {
                return Err(fail);
            }
            let reason = match &fail {
                SendFail::NotSent(e) | SendFail::Lost(e) => e.to_string(),
                SendFail::Refused(e) => e.to_string(),
            };
            tracing::info!(attempt, %reason, "retrying");
            self.emit(Event::Retrying { command: code, attempt, reason });
            self.link.sleep(self.opts.retry_delay * attempt).await;
        }
    }

    /// A query (or any command) sent with retries but without touching the session state.
    async fn query<R: Request>(&mut self, req: &R) -> Result<R::Response, Error> {
        let data = encode_request(req)?;
        let span = command_span(R::CODE);
        let bytes =
            self.send(R::CODE, &data, &check_of::<R::Response>).instrument(span).await.map_err(|f| match f {
                SendFail::Refused(error) => Error::Device { command: R::CODE, error },
                SendFail::NotSent(e) | SendFail::Lost(e) => e,
            })?;
        decode(R::CODE, &bytes)
    }

    /// Reads the register's state: FN status, marking status, autonomous mode.
    pub(crate) async fn resync(&mut self) -> Result<SessionState, Error> {
        let fs = self.query(&GetFnStatus).await?;
        self.fn_number = Some(fs.fn_number.trim().to_string()).filter(|n| !n.is_empty());
        let ms = match self.query(&GetMarkingStatus).await {
            Ok(m) => Some(m),
            Err(Error::Device { .. }) => None,
            Err(e) => return Err(e),
        };
        if self.autonomous.is_none() {
            self.autonomous = match self.query(&GetRegistration).await {
                Ok(r) => Some(r.modes.contains(crate::protocol::values::OperatingModes::AUTONOMOUS)),
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

    /// Any command: checked against the session state, sent with the policy of its class, the
    /// state moved on. A fiscal command whose answer is lost is reconciled.
    pub(crate) async fn call_raw(
        &mut self,
        code: u8,
        data: &[u8],
        check: &(dyn Fn(&[u8]) -> Result<(), DecodeError> + Sync),
    ) -> Result<Vec<u8>, Error> {
        let class = command_info(code).map_or(CommandClass::Service, |i| i.class);
        if class == CommandClass::Fiscal {
            self.last_reconciled = None;
        }
        if class != CommandClass::Query && !self.synced {
            self.resync().await?;
        }
        let next = self.state.next(code, data, None)?;
        let before = if class == CommandClass::Fiscal { Some(self.query(&GetFnStatus).await?) } else { None };
        let span = command_span(code);
        match self.send(code, data, check).instrument(span).await {
            Ok(bytes) => {
                self.state = next;
                Ok(bytes)
            }
            Err(SendFail::Refused(error)) => {
                // The register disagrees with what we thought: read its state again next time.
                if class != CommandClass::Query {
                    self.synced = false;
                }
                Err(Error::Device { command: code, error })
            }
            Err(SendFail::NotSent(e)) => Err(e),
            Err(SendFail::Lost(e)) => match (class, before) {
                (CommandClass::Fiscal, Some(before)) => self.reconcile(code, data, before, e).await,
                _ => {
                    if class != CommandClass::Query {
                        self.synced = false;
                    }
                    Err(e)
                }
            },
        }
    }

    /// A typed command through [`Self::call_raw`].
    pub(crate) async fn call<R: Request>(&mut self, req: &R) -> Result<R::Response, Error> {
        let data = encode_request(req)?;
        let bytes = self.call_raw(R::CODE, &data, &check_of::<R::Response>).await?;
        decode(R::CODE, &bytes)
    }

    /// Asks the register what became of fiscal command `code` whose answer was lost.
    async fn reconcile(&mut self, code: u8, data: &[u8], before: FnStatus, cause: Error) -> Result<Vec<u8>, Error> {
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
            Verdict::NotFormed => {
                tracing::info!(command = code, last_fd = after.last_fd_number, "not formed");
                self.emit(Event::Reconciled { command: code, formed: false, fd_number: None });
                let _ = self.resync().await;
                Err(Error::NotFormed { command: code, cause: cause_text, last_fd: after.last_fd_number })
            }
            Verdict::Unknown { detail } => Err(unknown(detail)),
            Verdict::Formed { fd_number } => {
                let doc = match self.query(&FindDocument { fd_number }).await {
                    Ok(d) => d,
                    Err(e) => {
                        return Err(unknown(format!(
                            "a new document {fd_number} exists but could not be read from the archive: {e}"
                        )))
                    }
                };
                if let Err(why) = reconcile::confirm(code, data, &doc) {
                    return Err(unknown(format!("document {fd_number} was formed, but {why}")));
                }
                let shift = if matches!(code, 0x24 | 0x26) {
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
                let bytes = reconcile::response_bytes(code, &doc, shift.as_ref(), &after)
                    .map_err(|why| unknown(format!("document {fd_number} was formed, but {why}")))?;
                tracing::info!(command = code, fd_number, "formed: answer rebuilt from the FN archive");
                self.last_reconciled = Some(Reconciliation { command: code, fd_number, cause: cause_text.clone() });
                self.emit(Event::Reconciled { command: code, formed: true, fd_number: Some(fd_number) });
                let _ = self.resync().await;
                Ok(bytes)
            }
        }
    }

    /// Cancels whatever document is open and clears code checks, best effort, after a failure
    /// inside a multi-step operation. Errors are logged, not returned: the caller reports the
    /// original failure.
    async fn abort_document(&mut self) {
        if !self.synced && self.resync().await.is_err() {
            return;
        }
        if self.state.document_open() || self.state.mark != MarkStep::Idle {
            if let Err(e) = self.call(&CancelDocument).await {
                tracing::warn!(error = %e, "cancelling the open document failed");
                return;
            }
        }
        if !self.synced && self.resync().await.is_err() {
            return;
        }
        if self.state.saved_marks > 0 || self.state.mark != MarkStep::Idle {
            if let Err(e) = self.call(&ClearMarkChecks).await {
                tracing::warn!(error = %e, "clearing the marking code checks failed");
            }
        }
    }

    // ---------------------------------------------------------------- high level

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
        let data = ShiftOpenData(Self::report_data(cashier));
        encode_request(&data).map_err(|e| match e {
            Error::Input(i) => prefixed("cashier", i).into(),
            e => e,
        })?;
        let begin = BeginShiftOpen { no_print: (!self.opts.print_reports).then_some(true) };
        if !self.synced {
            self.resync().await?;
        }
        // A shift open begun earlier (its answer lost, e.g. a key update longer than the
        // timeout) is finished rather than refused.
        if self.state.shift != ShiftState::Opening {
            self.emit(Event::KeyUpdate { finished: None });
            let started = Instant::now();
            self.call(&begin).await?;
            self.emit(Event::KeyUpdate { finished: Some(started.elapsed()) });
        }
        self.cashier = Some(cashier.clone());
        let r = async {
            self.call(&data).await?;
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
        let data = cashier.as_ref().map(|c| ShiftCloseData(Self::report_data(c)));
        if let Some(d) = &data {
            encode_request(d)?;
        }
        if !self.synced {
            self.resync().await?;
        }
        if self.state.shift != ShiftState::Closing {
            self.call(&BeginShiftClose { no_print: (!self.opts.print_reports).then_some(true) }).await?;
        }
        let r = async {
            if let Some(d) = &data {
                self.call(d).await?;
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
        let begin = BeginRegistration { report_type };
        encode_request(&begin)?;
        encode_request(data)?;
        encode_request(form)?;
        self.call(&begin).await?;
        let r = async {
            self.call(data).await?;
            self.call(form).await
        }
        .await;
        if r.is_err() {
            self.abort_document().await;
        }
        // A registration changes the modes (autonomous or not): read them again.
        self.autonomous = None;
        self.synced = false;
        r
    }

    pub(crate) async fn close_fn(&mut self, data: Option<&ReportData>) -> Result<FiscalResult, Error> {
        let data = data.cloned().map(FnCloseData);
        if let Some(d) = &data {
            encode_request(d)?;
        }
        self.call(&BeginFnClose).await?;
        let r = async {
            if let Some(d) = &data {
                self.call(d).await?;
            }
            self.call(&FormFnClose).await
        }
        .await;
        if r.is_err() {
            self.abort_document().await;
        }
        r
    }

    fn online_request(
        status: PlannedStatus,
        quantity: crate::protocol::Decimal,
        measure: Measure,
        fraction: Option<(u32, u32)>,
    ) -> CheckMarkOnline {
        let measured = matches!(status, PlannedStatus::MEASURED_SOLD | PlannedStatus::MEASURED_RETURNED);
        CheckMarkOnline {
            planned_status: status,
            mode: 0,
            // Seed 004: for piece goods the quantity is exactly 1; it matters to the OISM for
            // statuses 2 and 4.
            quantity: if measured { quantity } else { crate::protocol::Decimal::integer(1) },
            measure,
            fraction,
        }
    }

    /// 0x91, then 0x92 unless the register is autonomous. The code stays under check until
    /// [`Self::keep_mark`].
    pub(crate) async fn check_mark(
        &mut self,
        code: &str,
        status: PlannedStatus,
        quantity: crate::protocol::Decimal,
        measure: Measure,
        fraction: Option<(u32, u32)>,
    ) -> Result<MarkCheck, Error> {
        // The code's real bytes (GS as 0x1D), whatever rendering the caller gave.
        let code = crate::marking::MarkingCode::parse(code).map_err(|e| InputError::new("code", e.to_string()))?;
        let local_req = CheckMarkLocal::new(code.as_str());
        let online_req = Self::online_request(status, quantity, measure, fraction);
        encode_request(&local_req)?;
        encode_request(&online_req)?;
        if !self.synced {
            self.resync().await?;
        }
        let local = self.call(&local_req).await?;
        let online = match self.ask_oism(&online_req).await {
            Ok((online, _)) => online,
            Err(e) => {
                // Leave no code half-checked: drop it.
                let _ = self.call(&KeepMarkCheck { keep: false }).await;
                return Err(e);
            }
        };
        Ok(MarkCheck { local, online })
    }

    pub(crate) async fn keep_mark(&mut self, keep: bool) -> Result<KeepMarkCheckResult, Error> {
        self.call(&KeepMarkCheck { keep }).await
    }

    /// The requests of a receipt, all encoded (validated) before anything is sent.
    fn plan(receipt: &Receipt) -> Result<Plan, Error> {
        receipt.validate()?;
        let settled = receipt.settle()?;
        let total = receipt.total();
        let mut items = Vec::with_capacity(receipt.items.len());
        for (i, it) in receipt.items.iter().enumerate() {
            let p = format!("items[{i}]");
            let step = match &it.marking_code {
                None => {
                    let mut u = UnmarkedItem::new(
                        &it.name,
                        it.price.kopecks(),
                        it.quantity,
                        it.vat.code(),
                        it.payment_method.code(),
                        it.payment_object.code(),
                    );
                    u.measure = (it.measure != Measure::PIECE).then_some(it.measure);
                    u.barcode = it.barcode.clone();
                    fill_details(&mut u.details, it);
                    encode_request(&u).map_err(|e| in_item(&p, e))?;
                    ItemStep::Plain(Box::new(u))
                }
                Some(code) => {
                    // Parsed once: 0x91 and 0x97 (tag 2000) carry the code's real bytes.
                    let parsed = crate::marking::MarkingCode::parse(code)
                        .map_err(|e| InputError::new(format!("{p}.marking_code"), e.to_string()))?;
                    let code = parsed.as_str();
                    let status = it.planned_status_for(receipt.operation);
                    let fraction = it.fraction.map(|f| (f.numerator, f.denominator));
                    let mut m = MarkedItem::piece(
                        &it.name,
                        it.price.kopecks(),
                        it.vat.code(),
                        it.payment_method.code(),
                        it.payment_object.code(),
                        code,
                    );
                    m.quantity = it.quantity;
                    m.status = status;
                    m.measure = it.measure;
                    m.fraction = fraction;
                    fill_details(&mut m.details, it);
                    encode_request(&m).map_err(|e| in_item(&p, e))?;
                    let local = CheckMarkLocal::new(code);
                    encode_request(&local).map_err(|e| in_item(&p, e))?;
                    let online = Self::online_request(status, it.quantity, it.measure, fraction);
                    encode_request(&online).map_err(|e| in_item(&p, e))?;
                    ItemStep::Marked { local, online, item: Box::new(m) }
                }
            };
            items.push(step);
        }
        let mut req = ReceiptRequisites::default();
        if let Some(c) = &receipt.cashier {
            req.cashier = Some(c.name.clone());
            req.cashier_inn = c.inn.clone();
        }
        if let Some(c) = &receipt.customer {
            req.customer_contact = c.contact.clone();
            req.customer = c.name.clone();
            req.customer_inn = c.inn.clone();
            req.customer_birth_date = c.birth_date.clone();
            req.customer_citizenship = c.citizenship.clone();
            req.id_document_type = c.document_type;
            req.id_document = c.document.clone();
            req.customer_address = c.address.clone();
        }
        if let Some(c) = &receipt.correction {
            req.corrected_date = Some(c.date.and_time(chrono::NaiveTime::MIN));
            req.order_number = c.order_number.clone();
        }
        let requisites = (req != ReceiptRequisites::default()).then_some(req);
        if let Some(r) = &requisites {
            encode_request(r).map_err(|e| match e {
                Error::Input(i) => Error::Input(InputError::new(format!("requisites.{}", i.field), i.message)),
                e => e,
            })?;
        }
        let nz = |m: Money| (m.kopecks() > 0).then_some(m.kopecks());
        let mut payment = Payment {
            taxation: Some(receipt.taxation),
            cash: nz(settled.cash),
            electronic: nz(settled.electronic),
            prepayment: nz(settled.prepayment),
            credit: nz(settled.credit),
            consideration: nz(settled.consideration),
            ..Payment::default()
        };
        if payment.total() == 0 {
            payment.cash = Some(0);
        }
        encode_request(&payment)?;
        Ok(Plan { items, requisites, payment, total, change: settled.change })
    }

    /// Opens, fills and forms a receipt (or a correction receipt).
    pub(crate) async fn receipt(
        &mut self,
        receipt: &Receipt,
        expected: Option<Operation>,
    ) -> Result<FiscalDocument, Error> {
        if let Some(op) = expected {
            if receipt.operation != op {
                return Err(InputError::new(
                    "operation",
                    format!("the receipt's operation is {} but {} was asked for", receipt.operation, op),
                )
                .into());
            }
        }
        let plan = Self::plan(receipt)?;
        let mut job = self.start_mark_job(receipt)?;
        let correction = receipt.correction.is_some();
        let print_option = (!receipt.print).then_some(NO_PRINT);
        if !self.synced {
            self.resync().await?;
        }
        // Refuse before opening anything if the state machine would refuse the opening.
        self.state.next(if correction { 0x25 } else { 0x23 }, &[], None)?;
        let result = if correction {
            self.call(&OpenCorrectionReceipt { print_option }).await
        } else {
            self.call(&OpenReceipt { print_option }).await
        };
        if let Err(e) = result {
            self.abort_document().await;
            return Err(e);
        }
        let mut marks = Vec::new();
        let filled = self.fill(&plan, &mut marks, job.as_mut()).await;
        if let Err(e) = filled {
            self.abort_document().await;
            return Err(e);
        }
        let (op, total) = (receipt.operation, plan.total.kopecks());
        let formed: Result<ReceiptResult, Error> = if correction {
            self.call(&FormCorrectionReceipt { operation: op, total }).await
        } else {
            self.call(&FormReceipt { operation: op, total }).await
        };
        match formed {
            Ok(r) => {
                self.record_marks(receipt, r.fd_number);
                Ok(FiscalDocument {
                    fd_number: r.fd_number,
                    fiscal_sign: r.fiscal_sign,
                    datetime: r.datetime,
                    shift_number: r.shift_number,
                    receipt_number: r.receipt_number,
                    total: plan.total,
                    change: plan.change,
                    recovered: self.last_reconciled.is_some(),
                    marks,
                })
            }
            Err(e @ Error::UnknownOutcome(_)) => Err(e),
            Err(e) => {
                // Refused or confirmed not formed: the receipt is still open; cancel it so
                // the call can simply be repeated.
                self.abort_document().await;
                Err(e)
            }
        }
    }

    /// Starts the companion check of a sale's marked items (one request for all of them) on its
    /// own thread, so that it runs while the register does 0x91/0x92. Only for sales: returns
    /// and corrections are not checked. A code that cannot be parsed is refused before anything
    /// is sent.
    fn start_mark_job(&self, receipt: &Receipt) -> Result<Option<MarkJob>, Error> {
        let Some(checker) = self.checker.clone() else { return Ok(None) };
        if receipt.operation != Operation::SELL || receipt.correction.is_some() {
            return Ok(None);
        }
        let mut items = Vec::new();
        let mut index = vec![None; receipt.items.len()];
        for (i, it) in receipt.items.iter().enumerate() {
            let Some(code) = &it.marking_code else { continue };
            let code = crate::marking::MarkingCode::parse(code)
                .map_err(|e| InputError::new(format!("items[{i}].marking_code"), e.to_string()))?;
            index[i] = Some(items.len());
            items.push(crate::checker::Item {
                code,
                price_kopecks: Some(it.price.kopecks()),
                partial_sale: it.fraction.is_some() || it.measure != Measure::PIECE,
            });
        }
        if items.is_empty() {
            return Ok(None);
        }
        checker.set_fiscal_drive_number(self.fn_number.clone());
        let strictness = checker.settings().strictness;
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let verdicts = checker.receipt().check(&items);
            let _ = tx.send(verdicts);
        });
        Ok(Some(MarkJob { rx: Some(rx), verdicts: None, index, strictness }))
    }

    /// After a receipt is formed: its codes are recorded as sold (a sale) or returned (a return
    /// of a sale) in the checker's store. A failure is logged: the receipt is already formed.
    fn record_marks(&self, receipt: &Receipt, fd_number: u32) {
        let Some(checker) = &self.checker else { return };
        let state = match receipt.operation {
            Operation::SELL => crate::checker::store::CodeState::Sold,
            Operation::SELL_RETURN => crate::checker::store::CodeState::Returned,
            _ => return,
        };
        if receipt.correction.is_some() {
            return;
        }
        let codes: Vec<_> = receipt
            .items
            .iter()
            .filter_map(|it| it.marking_code.as_deref())
            .filter_map(|c| crate::marking::MarkingCode::parse(c).ok())
            .collect();
        if codes.is_empty() {
            return;
        }
        let label = format!("FN {} FD {fd_number}", self.fn_number.as_deref().unwrap_or("?"));
        if let Err(e) = checker.record(&codes, state, &label) {
            tracing::warn!(error = %e, "recording the receipt's marking codes failed");
        }
    }

    async fn fill(
        &mut self,
        plan: &Plan,
        marks: &mut Vec<ItemMark>,
        mut job: Option<&mut MarkJob>,
    ) -> Result<(), Error> {
        for (i, step) in plan.items.iter().enumerate() {
            match step {
                ItemStep::Plain(u) => {
                    self.call(u.as_ref()).await?;
                }
                ItemStep::Marked { local, online, item } => {
                    let local_r = self.call(local).await?;
                    let (online_r, no_oism) = self.ask_oism(online).await?;
                    let check = MarkCheck { local: local_r, online: online_r };
                    if let Some(job) = job.as_deref_mut() {
                        self.judge_marked(i, check, item, job, marks, no_oism).await?;
                        continue;
                    }
                    if let Err(why) = self.opts.mark_policy.judge(&check) {
                        let _ = self.call(&KeepMarkCheck { keep: false }).await;
                        return Err(Error::Input(InputError::new(
                            format!("items[{i}].marking_code"),
                            format!("the marking code check refused the sale: {why}"),
                        )));
                    }
                    let kept = self.call(&KeepMarkCheck { keep: true }).await?;
                    marks.push(ItemMark {
                        item: i,
                        check,
                        result: kept.result,
                        source: None,
                        tag1265: None,
                        notes: no_oism.into_iter().collect(),
                    });
                    self.call(item.as_ref()).await?;
                }
            }
        }
        if let Some(r) = &plan.requisites {
            self.call(r).await?;
        }
        self.call(&plan.payment).await?;
        Ok(())
    }

    /// 0x92 for the code under check (skipped in autonomous mode). When the OISM does not answer
    /// (error 0xCC) the sale goes on without its answer, as the permissive mode allows: the
    /// FN's check and the checker decide, 0x94 saves the result and tag 2106 records that the
    /// OISM gave no answer. The note says so; any other error ends the receipt.
    async fn ask_oism(
        &mut self,
        online: &CheckMarkOnline,
    ) -> Result<(Option<CheckMarkOnlineResult>, Option<String>), Error> {
        if self.state.autonomous {
            return Ok((None, None));
        }
        match self.call(online).await {
            Ok(r) => Ok((Some(r), None)),
            Err(Error::Device { command, error }) if error.code == OISM_UNREACHABLE => {
                tracing::warn!(command, "the OISM did not answer (0xCC): going on with the FN's check alone");
                self.emit(Event::OismUnreachable);
                Ok((
                    None,
                    Some(
                        "the OISM did not answer (register error 0xCC): sold on the FN's check without the OISM's; \
                         tag 2106 records it"
                            .into(),
                    ),
                ))
            }
            Err(e) => Err(e),
        }
    }

    /// A marked item under the checker: its verdict and the register's 2106 decide 0x94 save (and
    /// 0x97 with 1260) or delete (and the item is refused).
    async fn judge_marked(
        &mut self,
        i: usize,
        check: MarkCheck,
        item: &MarkedItem,
        job: &mut MarkJob,
        marks: &mut Vec<ItemMark>,
        no_oism: Option<String>,
    ) -> Result<(), Error> {
        use crate::checker::decide::{decide, Decision};
        let field = format!("items[{i}].marking_code");
        let Some(verdict) = job.verdict(i).await else {
            let _ = self.call(&KeepMarkCheck { keep: false }).await;
            return Err(Error::Input(InputError::new(field, "the marking code check gave no verdict")));
        };
        let device = if self.opts.mark_policy == MarkPolicy::Strict { device_2106(&check) } else { None };
        let mut decision = decide(&verdict, device, job.strictness);
        if matches!(decision, Decision::Ask { .. }) {
            let yes = self.mark_ask.as_mut().is_some_and(|ask| ask(&verdict));
            decision = decision.confirm(yes);
        }
        match decision {
            Decision::Sell { mut notes, .. } => {
                notes.extend(no_oism);
                let kept = self.call(&KeepMarkCheck { keep: true }).await?;
                let mut m = item.clone();
                if let Some(t) = &verdict.tag1265 {
                    m.details.industry.push(crate::checker::tag1260::requisite(t));
                }
                marks.push(ItemMark {
                    item: i,
                    check,
                    result: kept.result,
                    source: Some(verdict.source),
                    tag1265: verdict.tag1265.clone(),
                    notes,
                });
                self.call(&m).await?;
                Ok(())
            }
            Decision::Refuse { reasons } | Decision::Ask { reasons, .. } => {
                let _ = self.call(&KeepMarkCheck { keep: false }).await;
                let why: Vec<String> = reasons.iter().map(|r| format!("[{}] {}", r.field, r.message)).collect();
                Err(Error::Input(InputError::new(
                    field,
                    format!("the marking code check refused the sale: {}", why.join("; ")),
                )))
            }
        }
    }

    pub(crate) async fn cancel_document(&mut self) -> Result<(), Error> {
        self.call(&CancelDocument).await.map(|_| ())
    }

    pub(crate) async fn shift_params(&mut self) -> Result<ShiftParams, Error> {
        self.query(&GetShiftParams).await
    }
}

fn in_item(prefix: &str, e: Error) -> Error {
    match e {
        Error::Input(i) => Error::Input(prefixed(prefix, i)),
        e => e,
    }
}

fn fill_details(d: &mut crate::commands::receipt::ItemDetails, it: &Item) {
    d.excise = it.excise.map(Money::kopecks);
    d.country = it.country.clone();
    d.customs_declaration = it.customs_declaration.clone();
    d.additional = it.additional.clone();
}

fn command_span(code: u8) -> tracing::Span {
    let name = command_info(code).map_or("unknown command", |i| i.name_en);
    tracing::info_span!("kkt_command", code = %format_args!("{code:#04X}"), name)
}

enum ItemStep {
    Plain(Box<UnmarkedItem>),
    Marked { local: CheckMarkLocal, online: CheckMarkOnline, item: Box<MarkedItem> },
}

struct Plan {
    items: Vec<ItemStep>,
    requisites: Option<ReceiptRequisites>,
    payment: Payment,
    total: Money,
    change: Money,
}

impl MarkPolicy {
    /// Whether a check result allows the sale; the reason when not.
    pub fn judge(&self, c: &MarkCheck) -> Result<(), String> {
        if *self == MarkPolicy::AcceptAll {
            return Ok(());
        }
        if let Some(o) = &c.online {
            let r = o.result;
            if r.status_checked() && !r.status_correct() {
                let why = match o.oism_status() {
                    Some(3) => "the OISM says the goods' circulation is suspended",
                    _ => "the OISM says the planned status is not correct",
                };
                return Err(format!("{why} (tag 2106 = {:#04x})", r.0));
            }
            if r.checked() && !r.crypto_ok() {
                return Err(format!("the code's crypto tail check is negative (tag 2106 = {:#04x})", r.0));
            }
        } else if c.local.result == 1 {
            return Err("the FN's check of the code is negative (tag 2004 = 1)".into());
        }
        Ok(())
    }
}
