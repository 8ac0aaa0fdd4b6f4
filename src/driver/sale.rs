//! Receipts and marking codes: a [`Plan`] run against the register, the marked items' checks
//! (0x91 → 0x92 → 0x94 → 0x97, Appendix 2 of seed 004) judged by [`MarkPolicy`] or by a
//! [`MarkChecker`](super::MarkChecker).

use super::core::Driver;
use super::link::Link;
use super::mark::{self, MarkJob};
use super::plan::{self, Encoded, Form, ItemStep, Open, Plan};
use super::{Event, FiscalDocument, ItemMark, MarkCheck, MarkPolicy};
use crate::commands::marking::{
    CheckMarkLocal, CheckMarkLocalResult, CheckMarkOnline, CheckMarkOnlineResult, KeepMarkCheck, KeepMarkCheckResult,
};
use crate::commands::receipt::{MarkedItem, ReceiptResult};
use crate::commands::InputError;
use crate::error::Error;
use crate::marking::{tag1260, Action, Decision};
use crate::protocol::{err, Decimal};
use crate::receipt::{Measure, Operation, PlannedStatus, Receipt};
use crate::session::MarkStep;

impl<L: Link> Driver<L> {
    /// 0x91, then 0x92 unless the register is autonomous. The code stays under check until
    /// [`Self::keep_mark`].
    pub(crate) async fn check_mark(
        &mut self,
        code: &str,
        status: PlannedStatus,
        quantity: Decimal,
        measure: Measure,
        fraction: Option<(u32, u32)>,
    ) -> Result<MarkCheck, Error> {
        // The code's real bytes (GS as 0x1D), whatever rendering the caller gave.
        let code = crate::marking::MarkingCode::parse(code).map_err(|e| InputError::new("code", e.to_string()))?;
        let local_req = Encoded::new(CheckMarkLocal::new(code.as_str()))?;
        let online_req = Encoded::new(plan::online_request(status, quantity, measure, fraction))?;
        if !self.synced {
            self.resync().await?;
        }
        let (local, online, _) = self.check_code(&local_req, &online_req).await?;
        Ok(MarkCheck { local, online })
    }

    /// 0x91 and 0x92 for one code. When an answer is lost (a noisy line), the code's check is
    /// dropped (0x94 with 0, if the register holds one: the marking status says) and done again,
    /// up to [`CODE_CHECK_REDOS`] times: a check keeps nothing until 0x94 saves it. On any other
    /// failure the code is left unchecked (dropped).
    async fn check_code(
        &mut self,
        local: &Encoded<CheckMarkLocal>,
        online: &Encoded<CheckMarkOnline>,
    ) -> Result<(CheckMarkLocalResult, Option<CheckMarkOnlineResult>, Option<String>), Error> {
        let mut redo = 0;
        loop {
            let checked = async {
                let l = self.call_encoded(local).await?;
                let (o, note) = self.ask_oism(online).await?;
                Ok::<_, Error>((l, o, note))
            }
            .await;
            let e = match checked {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if redo < CODE_CHECK_REDOS && answer_lost(&e) && self.drop_code_check().await {
                redo += 1;
                tracing::info!(redo, error = %e, "a marking code check's answer was lost: checking the code again");
                self.emit(Event::Retrying {
                    command: local.frame_code(),
                    attempt: redo,
                    reason: format!("{e}; the code's check was dropped and is done again"),
                });
                continue;
            }
            // Leave no code half-checked: drop it.
            if self.state.mark() != MarkStep::Idle || answer_lost(&e) {
                let _ = self.call(&KeepMarkCheck { keep: false }).await;
            }
            return Err(e);
        }
    }

    /// Drops the code under check, if the register holds one (its marking status read again);
    /// true when no code is under check any more.
    async fn drop_code_check(&mut self) -> bool {
        for _ in 0..3 {
            if self.resync().await.is_err() {
                return false;
            }
            if self.state.mark() == MarkStep::Idle {
                return true;
            }
            let _ = self.call(&KeepMarkCheck { keep: false }).await;
        }
        false
    }

    pub(crate) async fn keep_mark(&mut self, keep: bool) -> Result<KeepMarkCheckResult, Error> {
        self.call(&KeepMarkCheck { keep }).await
    }

    /// Opens, fills and forms a receipt, or (`correction`) a correction receipt: a receipt with
    /// a `correction` object goes to the correction call only, and a correction needs one.
    pub(crate) async fn receipt(
        &mut self,
        receipt: &Receipt,
        expected: Option<Operation>,
        correction: bool,
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
        match (correction, receipt.correction.is_some()) {
            (false, true) => {
                return Err(InputError::new(
                    "correction",
                    "a receipt with `correction` is a correction receipt: form it with `kkt correction` \
                     (Kkt::correction, POST /v1/corrections)",
                )
                .into())
            }
            (true, false) => {
                return Err(
                    InputError::new("correction", "a correction receipt needs the corrected settlement's date").into()
                )
            }
            _ => {}
        }
        // Every input is checked (each request encoded) before anything is sent.
        let plan = Plan::with_limits(receipt, &self.opts.limits)?;
        if !self.synced {
            self.resync().await?;
        }
        // Refuse before opening anything if the state machine would refuse the opening (after
        // reading the register's state again: it may have changed outside this client).
        self.next_state(plan.open_code(), &[]).await?;
        // A vending, delivery or one-to-many register needs 1009, 1187 and 1036 in every
        // receipt: those the receipt leaves out come from the registration.
        let profile = self.profile().await?;
        let (filled, defaults) = super::profile::fill(receipt, &profile)?;
        let plan = if defaults.is_empty() { plan } else { Plan::with_limits(&filled, &self.opts.limits)? };
        let codes = plan.codes();
        let mut job = match &self.checker {
            Some(c) => MarkJob::start(c, receipt, &codes, self.fn_number.as_deref(), self.registration_inn.as_deref())?,
            None => None,
        };
        let mut marks = Vec::new();
        let mut restarts = 0;
        loop {
            if restarts > 0 {
                self.next_state(plan.open_code(), &[]).await?;
            }
            let opened = match &plan.open {
                Open::Receipt(r) => self.call_encoded(r).await.map(|_| ()),
                Open::Correction(r) => self.call_encoded(r).await.map(|_| ()),
            };
            let e = match opened {
                // Refused: nothing of ours is open (the document open may be another program's).
                Err(e @ Error::Device { .. }) => return Err(e),
                Err(e) => e,
                Ok(()) => {
                    self.sent_log = Some(vec![plan.open_code()]);
                    let filled = self.fill(&plan, &mut marks, job.as_mut()).await;
                    let sent = self.sent_log.take().unwrap_or_default();
                    match filled {
                        Ok(()) => break,
                        Err(Error::MarkRefused(mut r)) => {
                            let cancelled = self.abort_document().await;
                            r.sent = sent;
                            r.cancelled = cancelled;
                            tracing::warn!(item = r.item, "{r}");
                            return Err(Error::MarkRefused(r));
                        }
                        Err(e) => e,
                    }
                }
            };
            // Nothing is formed before 0x24: the receipt this call opened is cancelled. When a
            // step's answer was lost (a noisy line: the step may or may not have been taken),
            // the receipt is formed again from its start, up to RECEIPT_RESTARTS times.
            self.abort_document().await;
            marks.clear();
            if restarts < RECEIPT_RESTARTS && answer_lost(&e) && self.clean().await {
                restarts += 1;
                tracing::info!(restarts, error = %e, "a receipt step's answer was lost: the receipt was cancelled and is formed again");
                self.emit(Event::Retrying {
                    command: plan.open_code(),
                    attempt: restarts,
                    reason: format!("{e}; the receipt was cancelled and is formed again"),
                });
                continue;
            }
            return Err(e);
        }
        self.content = super::reconcile::ReceiptContent::of(receipt);
        let formed: Result<ReceiptResult, Error> = match &plan.form {
            Form::Receipt(r) => self.call_encoded(r).await,
            Form::Correction(r) => self.call_encoded(r).await,
        };
        self.content = None;
        match formed {
            Ok(r) => {
                if let Some(c) = &self.checker {
                    let label = format!("FN {} FD {}", self.fn_number.as_deref().unwrap_or("?"), r.fd_number);
                    let ids: Vec<i64> = marks.iter().filter_map(|m| m.check_id).collect();
                    let inn = job.as_ref().and_then(|j| j.inn.clone()).or_else(|| self.registration_inn.clone());
                    mark::record_receipt(c.as_ref(), receipt, &codes, &label, r.fd_number, inn.as_deref(), &ids);
                }
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
                    correction,
                    defaults,
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

    async fn fill(
        &mut self,
        plan: &Plan,
        marks: &mut Vec<ItemMark>,
        mut job: Option<&mut MarkJob>,
    ) -> Result<(), Error> {
        for (i, step) in plan.items.iter().enumerate() {
            match step {
                ItemStep::Plain(u) => {
                    self.call_encoded(u.as_ref()).await?;
                }
                ItemStep::Marked { local, online, item, .. } => {
                    let (local_r, online_r, no_oism) = self.check_code(local, online).await?;
                    let check = MarkCheck { local: local_r, online: online_r };
                    if let Some(job) = job.as_deref_mut() {
                        let confirmation = plan.confirmations.get(i).cloned().flatten();
                        self.judge_marked(i, check, item, job, marks, no_oism, confirmation.as_deref()).await?;
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
                        check_id: None,
                    });
                    self.call_encoded(item.as_ref()).await?;
                }
            }
        }
        if let Some(r) = &plan.requisites {
            self.call_encoded(r).await?;
        }
        self.call_encoded(&plan.payment).await?;
        Ok(())
    }

    /// 0x92 for the code under check (skipped in autonomous mode). When the OISM does not answer
    /// (error 0xCC) the sale goes on without its answer, as the permissive mode allows: the
    /// FN's check and the checker decide, 0x94 saves the result and tag 2106 records that the
    /// OISM gave no answer. The note says so; any other error ends the receipt.
    async fn ask_oism(
        &mut self,
        online: &Encoded<CheckMarkOnline>,
    ) -> Result<(Option<CheckMarkOnlineResult>, Option<String>), Error> {
        if self.state.autonomous() {
            return Ok((None, None));
        }
        match self.call_encoded(online).await {
            Ok(r) => Ok((Some(r), None)),
            Err(Error::Device { command, error }) if error.code == err::OISM_UNREACHABLE => {
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
    /// 0x97 with 1260) or delete (and the item is refused, [`Error::MarkRefused`]). An `ask` is
    /// settled by the item's confirmation (`mark_confirmation`), else by the cashier
    /// ([`super::Kkt::on_mark_ask`]); with neither it is refused.
    #[allow(clippy::too_many_arguments)]
    async fn judge_marked(
        &mut self,
        i: usize,
        check: MarkCheck,
        item: &Encoded<MarkedItem>,
        job: &mut MarkJob,
        marks: &mut Vec<ItemMark>,
        no_oism: Option<String>,
        confirmation: Option<&str>,
    ) -> Result<(), Error> {
        let field = format!("items[{i}].marking_code");
        let Some(verdict) = job.verdict(i).await else {
            let _ = self.call(&KeepMarkCheck { keep: false }).await;
            return Err(Error::Input(InputError::new(field, "the marking code check gave no verdict")));
        };
        let device = if self.opts.mark_policy == MarkPolicy::Strict { check.device_result() } else { None };
        let mut decision = job.checker.decide(&verdict, device);
        let mut not_accepted = None;
        if let Decision::Ask { reasons, .. } = &decision {
            // What the cashier is asked: the verdict with every reason of the decision.
            let asked = crate::marking::Verdict { reasons: reasons.clone(), ..verdict.clone() };
            let yes = match confirmation {
                Some(token) => match job.checker.confirm(&asked, token) {
                    Ok(()) => true,
                    Err(e) => {
                        not_accepted = Some(format!("the confirmation does not apply: {e}"));
                        false
                    }
                },
                None => match self.mark_ask.as_mut() {
                    Some(ask) => {
                        let yes = ask(&asked);
                        if !yes {
                            not_accepted = Some("the cashier did not accept".into());
                        }
                        yes
                    }
                    None => {
                        not_accepted =
                            Some("nobody could be asked: no cashier's answer and no mark_confirmation".into());
                        false
                    }
                },
            };
            decision = decision.confirm(yes);
        }
        match decision {
            Decision::Sell { mut notes, .. } => {
                notes.extend(no_oism);
                let kept = self.call(&KeepMarkCheck { keep: true }).await?;
                marks.push(ItemMark {
                    item: i,
                    check,
                    result: kept.result,
                    source: Some(verdict.source),
                    tag1265: verdict.tag1265.clone(),
                    notes,
                    check_id: verdict.check_id,
                });
                match &verdict.tag1265 {
                    // The item with its 1260: another request, encoded now.
                    Some(t) => {
                        let mut m = item.req.clone();
                        m.details.industry.push(tag1260::requisite(t));
                        self.call(&m).await?;
                    }
                    None => {
                        self.call_encoded(item).await?;
                    }
                }
                Ok(())
            }
            Decision::Refuse { reasons } | Decision::Ask { reasons, .. } => {
                let _ = self.call(&KeepMarkCheck { keep: false }).await;
                let action = if verdict.action == Action::Ask
                    && reasons.iter().all(|r| r.rule != crate::marking::Rule::DeviceRefused)
                {
                    verdict.action
                } else {
                    Action::Refuse
                };
                let verdict = crate::marking::Verdict { reasons, action, allowed: false, ..verdict };
                Err(Error::MarkRefused(Box::new(crate::error::MarkRefused {
                    item: i,
                    verdict,
                    not_accepted,
                    sent: Vec::new(),
                    cancelled: String::new(),
                })))
            }
        }
    }
}

/// How often a code's check is done again after a lost answer (0x91, 0x92).
const CODE_CHECK_REDOS: u32 = 4;

/// How often a receipt is cancelled and formed again after a lost answer to one of its steps
/// before 0x24 (an item, the payment, the requisites, the opening).
const RECEIPT_RESTARTS: u32 = 4;

/// An answer lost or corrupted on the line (the step may or may not have been taken), as
/// opposed to a refusal, bad input or a link that is down.
fn answer_lost(e: &Error) -> bool {
    match e {
        Error::Protocol { .. } => true,
        Error::Link { error, .. } => !error.request_not_sent(),
        _ => false,
    }
}

impl<L: Link> Driver<L> {
    /// After a receipt was cancelled: the register's state read again shows no document open
    /// and no code under check (so forming the receipt again starts clean).
    async fn clean(&mut self) -> bool {
        // The state read itself may meet a damaged answer on the same noisy line.
        let mut read = self.resync().await;
        for _ in 0..2 {
            if read.is_ok() {
                break;
            }
            read = self.resync().await;
        }
        read.is_ok()
            && !self.state.document_open()
            && self.state.mark() == MarkStep::Idle
            && self.state.saved_marks() == 0
    }
}

/// Why [`MarkPolicy::Strict`] refuses a marked item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MarkRefusal {
    /// The OISM says the goods' circulation is suspended.
    #[error("the OISM says the goods' circulation is suspended (tag 2106 = {tag2106:#04x})")]
    Suspended {
        /// Tag 2106 from 0x92.
        tag2106: u8,
    },
    /// The OISM says the planned status is not correct.
    #[error("the OISM says the planned status is not correct (tag 2106 = {tag2106:#04x})")]
    StatusIncorrect {
        /// Tag 2106 from 0x92.
        tag2106: u8,
    },
    /// The code's crypto tail check is negative.
    #[error("the code's crypto tail check is negative (tag 2106 = {tag2106:#04x})")]
    CryptoNegative {
        /// Tag 2106 from 0x92.
        tag2106: u8,
    },
    /// The FN's own check (autonomous mode, or no OISM answer) is negative.
    #[error("the FN's check of the code is negative (tag 2004 = 1)")]
    FnNegative,
}

impl MarkPolicy {
    /// Whether a check result allows the sale; why not when it does not.
    pub fn judge(&self, c: &MarkCheck) -> Result<(), MarkRefusal> {
        if *self == MarkPolicy::AcceptAll {
            return Ok(());
        }
        if let Some(o) = &c.online {
            let r = o.result;
            if r.status_checked() && !r.status_correct() {
                return Err(match o.oism_status() {
                    Some(3) => MarkRefusal::Suspended { tag2106: r.0 },
                    _ => MarkRefusal::StatusIncorrect { tag2106: r.0 },
                });
            }
            if r.checked() && !r.crypto_ok() {
                return Err(MarkRefusal::CryptoNegative { tag2106: r.0 });
            }
        } else if c.local.result == 1 {
            return Err(MarkRefusal::FnNegative);
        }
        Ok(())
    }
}
