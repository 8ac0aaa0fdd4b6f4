//! Receipts and marking codes: a [`Plan`] run against the register, the marked items' checks
//! (0x91 → 0x92 → 0x94 → 0x97, Appendix 2 of seed 004) judged by [`MarkPolicy`] or by a
//! [`MarkChecker`](super::MarkChecker).

use super::core::Driver;
use super::link::Link;
use super::mark::{self, MarkJob};
use super::plan::{self, Encoded, Form, ItemStep, Open, Plan};
use super::{Event, FiscalDocument, ItemMark, MarkCheck, MarkPolicy};
use crate::commands::marking::{
    CheckMarkLocal, CheckMarkOnline, CheckMarkOnlineResult, KeepMarkCheck, KeepMarkCheckResult,
};
use crate::commands::receipt::{MarkedItem, ReceiptResult};
use crate::commands::InputError;
use crate::error::Error;
use crate::marking::{tag1260, Decision};
use crate::protocol::{err, Decimal};
use crate::receipt::{Measure, Operation, PlannedStatus, Receipt};

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
        let local_req = Encoded::new(CheckMarkLocal::new(code))?;
        let online_req = Encoded::new(plan::online_request(status, quantity, measure, fraction))?;
        if !self.synced {
            self.resync().await?;
        }
        let local = self.call_encoded(&local_req).await?;
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
        let plan = Plan::new(receipt)?;
        let mut job = match &self.checker {
            Some(c) => MarkJob::start(c, receipt, self.fn_number.as_deref())?,
            None => None,
        };
        if !self.synced {
            self.resync().await?;
        }
        // Refuse before opening anything if the state machine would refuse the opening (after
        // reading the register's state again).
        self.next_state(plan.open_code(), &[]).await?;
        let opened = match &plan.open {
            Open::Receipt(r) => self.call_encoded(r).await,
            Open::Correction(r) => self.call_encoded(r).await,
        };
        match opened {
            // Refused: nothing of ours is open (the document open may be another program's).
            Err(e @ Error::Device { .. }) => return Err(e),
            Err(e) => {
                self.abort_document().await;
                return Err(e);
            }
            Ok(_) => {}
        }
        let mut marks = Vec::new();
        let filled = self.fill(&plan, &mut marks, job.as_mut()).await;
        if let Err(e) = filled {
            self.abort_document().await;
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
                    mark::record_receipt(c.as_ref(), receipt, &label);
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
                ItemStep::Marked { local, online, item } => {
                    let local_r = self.call_encoded(local).await?;
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
    /// 0x97 with 1260) or delete (and the item is refused).
    async fn judge_marked(
        &mut self,
        i: usize,
        check: MarkCheck,
        item: &Encoded<MarkedItem>,
        job: &mut MarkJob,
        marks: &mut Vec<ItemMark>,
        no_oism: Option<String>,
    ) -> Result<(), Error> {
        let field = format!("items[{i}].marking_code");
        let Some(verdict) = job.verdict(i).await else {
            let _ = self.call(&KeepMarkCheck { keep: false }).await;
            return Err(Error::Input(InputError::new(field, "the marking code check gave no verdict")));
        };
        let device = if self.opts.mark_policy == MarkPolicy::Strict { check.device_result() } else { None };
        let mut decision = job.checker.decide(&verdict, device);
        if matches!(decision, Decision::Ask { .. }) {
            let yes = self.mark_ask.as_mut().is_some_and(|ask| ask(&verdict));
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
                let why: Vec<String> = reasons.iter().map(|r| format!("[{}] {}", r.field, r.message)).collect();
                Err(Error::Input(InputError::new(
                    field,
                    format!("the marking code check refused the sale: {}", why.join("; ")),
                )))
            }
        }
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
