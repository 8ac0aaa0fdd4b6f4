//! The one thread that owns the register.
//!
//! Requests reach it through a bounded queue and get their answer on a oneshot channel, so the
//! register does one thing at a time: receipts from concurrent clients never interleave on the
//! device. A request waits in the queue at most the queue timeout; one that timed out, or whose
//! client went away, before the worker took it up is dropped with nothing sent. Once taken up a
//! job runs to the end whatever the client does, so a receipt is always completed (formed or
//! not) in the journal.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use super::error::ApiError;
use kkt::journal::State;
use kkt::journaled::{Fiscalized, JournaledKkt};
use kkt::receipt::{Cashier, Receipt};

/// One code of `POST /v1/marks/check`.
pub use crate::views::MarkQuery;

/// What the worker is asked to do.
#[derive(Debug)]
pub enum Op {
    /// Register, FN, shift, marking, OISM queue.
    Status,
    /// Open a shift.
    OpenShift(Cashier),
    /// Close the shift.
    CloseShift(Option<Cashier>),
    /// The settlement status report.
    Settlement,
    /// A receipt (or, with `correction`, a correction receipt).
    Receipt(Box<Receipt>),
    /// Check marking codes with the register (0x91, 0x92, then 0x94 with 0: nothing is kept).
    /// Answers [`crate::views::RegisterChecks`] as JSON: the FN serial, the register's serial
    /// and registration INN, per code the CLI's `register` object and tag 2106 as a byte, or the
    /// register's refusal.
    CheckMarks(Vec<MarkQuery>),
    /// Settle pending journal entries.
    Recover,
    /// Cash in (`out` false) or out, with its idempotency key.
    Cash {
        /// Cash out rather than in.
        out: bool,
        /// The amount.
        amount: kkt::receipt::Money,
        /// The idempotency key.
        id: Option<String>,
    },
    /// The money counters (0xB0).
    CashTotals,
    /// A document from the FN archive (`None`: the last one).
    Document(Option<u32>),
    /// The OFD exchange.
    Ofd,
    /// Print on the register's printer.
    Print(kkt::driver::PrintJob),
    /// The shift's counters (0x20, 0xB0).
    ShiftCounters,
}

const WAITING: u8 = 0;
const STARTED: u8 = 1;
const CANCELLED: u8 = 2;

/// Removes an id from the set of ids in flight when the job is done (or dropped).
#[derive(Debug)]
pub struct InflightGuard {
    set: Arc<Mutex<HashSet<String>>>,
    id: String,
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        if let Ok(mut s) = self.set.lock() {
            s.remove(&self.id);
        }
    }
}

/// The ids of receipts queued or being formed.
#[derive(Debug, Clone, Default)]
pub struct Inflight(Arc<Mutex<HashSet<String>>>);

impl Inflight {
    /// Claims `id`; `None` when it is already in flight.
    pub fn claim(&self, id: &str) -> Option<InflightGuard> {
        let mut s = self.0.lock().ok()?;
        if !s.insert(id.to_string()) {
            return None;
        }
        Some(InflightGuard { set: self.0.clone(), id: id.to_string() })
    }

    /// Whether a request with `id` is queued or being formed now.
    pub fn contains(&self, id: &str) -> bool {
        self.0.lock().map(|s| s.contains(id)).unwrap_or(false)
    }
}

/// A queued request.
struct Job {
    op: Op,
    state: Arc<AtomicU8>,
    reply: oneshot::Sender<Result<Value, ApiError>>,
    _guard: Option<InflightGuard>,
}

/// The handle requests use to reach the worker.
#[derive(Debug, Clone)]
pub struct Queue {
    tx: mpsc::Sender<Job>,
    timeout: Duration,
}

impl Queue {
    /// Queues `op` and waits for its answer: at most the queue timeout for the worker to take it
    /// up, then as long as the register takes (the driver's own timeouts bound that).
    pub async fn run(&self, op: Op, guard: Option<InflightGuard>) -> Result<Value, ApiError> {
        let state = Arc::new(AtomicU8::new(WAITING));
        let (reply, mut rx) = oneshot::channel();
        let job = Job { op, state: state.clone(), reply, _guard: guard };
        self.tx.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => ApiError::busy("the register's queue is full; nothing was sent"),
            mpsc::error::TrySendError::Closed(_) => ApiError::internal("the service is stopping; nothing was sent"),
        })?;
        let stopped = |_| ApiError::internal("the register's worker stopped before answering");
        match tokio::time::timeout(self.timeout, &mut rx).await {
            Ok(r) => r.map_err(stopped)?,
            Err(_) => {
                if state.compare_exchange(WAITING, CANCELLED, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                    return Err(ApiError::busy(format!(
                        "the register was busy for {} s (the queue timeout); nothing was sent",
                        self.timeout.as_secs_f64()
                    )));
                }
                // Taken up just now: the answer comes when the register is done.
                rx.await.map_err(stopped)?
            }
        }
    }
}

/// How the worker reaches the register (again, after a failed connect): the driver with the
/// journal, its pending entries reconciled.
pub type Connect = Box<dyn FnMut() -> Result<JournaledKkt, kkt::Error> + Send>;

/// Starts the worker thread with a queue of `capacity`; requests wait at most `timeout` in it.
/// The thread ends when every [`Queue`] is dropped, after the job in hand.
pub fn spawn(
    connect: Connect,
    capacity: usize,
    timeout: Duration,
) -> std::io::Result<(Queue, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let h = std::thread::Builder::new().name("kkt-register".into()).spawn(move || run(connect, rx))?;
    Ok((Queue { tx, timeout }, h))
}

fn run(mut connect: Connect, mut rx: mpsc::Receiver<Job>) {
    let mut reg: Option<JournaledKkt> = None;
    let mut ensure = |reg: &mut Option<JournaledKkt>| -> Result<(), ApiError> {
        if reg.is_none() {
            *reg = Some(connect()?);
        }
        Ok(())
    };
    if let Err(e) = ensure(&mut reg) {
        tracing::warn!("the register is not reachable yet: {}", e.message);
    }
    while let Some(job) = rx.blocking_recv() {
        if job.reply.is_closed() {
            tracing::debug!("a request whose client left before its turn was dropped");
            continue;
        }
        if job.state.compare_exchange(WAITING, STARTED, Ordering::AcqRel, Ordering::Acquire).is_err() {
            continue;
        }
        let answer = match ensure(&mut reg) {
            Err(e) => Err(e),
            Ok(()) => {
                let r = reg.as_mut().expect("connected");
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| execute(r, job.op))) {
                    Ok(a) => a,
                    Err(_) => {
                        // The register's state is in doubt: reconnect (and resync) for the next job.
                        reg = None;
                        Err(ApiError::internal("the register's worker failed on this request"))
                    }
                }
            }
        };
        let _ = job.reply.send(answer);
    }
    tracing::debug!("the register's worker stopped");
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::internal(format!("answer not serializable: {e}")))
}

fn execute(jk: &mut JournaledKkt, op: Op) -> Result<Value, ApiError> {
    match op {
        Op::Status => Ok(crate::views::status_json(jk.kkt())?),
        Op::OpenShift(c) => to_value(&jk.open_shift(&c)?),
        Op::CloseShift(c) => to_value(&jk.close_shift(c.as_ref())?),
        Op::Settlement => to_value(&jk.settlement_report()?),
        Op::Receipt(r) => {
            let f = if r.correction.is_some() { jk.correction(&r)? } else { jk.receipt(&r)? };
            Ok(receipt_answer(&r, &f))
        }
        Op::CheckMarks(codes) => check_marks(jk, &codes),
        Op::Cash { out, amount, id } => {
            let d = if out { jk.cash_out(amount, id.as_deref())? } else { jk.cash_in(amount, id.as_deref())? };
            Ok(crate::views::cash_json(&d, id.as_deref()))
        }
        Op::CashTotals => Ok(crate::views::money_json(&jk.kkt().cash_totals()?)),
        Op::Document(fd) => {
            let k = jk.kkt();
            let n = match fd {
                Some(n) => n,
                None => k.last_fd()?,
            };
            to_value(&k.document(n)?)
        }
        Op::Ofd => to_value(&jk.kkt().ofd_status()?),
        Op::Print(job) => Ok(crate::views::printed_json(&jk.kkt().print(&job)?)),
        Op::ShiftCounters => Ok(crate::views::shift_counters_json(&jk.kkt().shift_counters()?)),
        Op::Recover => {
            let entries = jk.recover()?;
            let settled: Vec<_> = entries.into_iter().filter(|e| e.state != State::Pending).collect();
            let pending = jk.journal().list(true, super::api::MAX_ENTRIES).map_err(kkt::Error::from)?;
            Ok(json!({"settled": settled, "pending": pending}))
        }
    }
}

/// The answer to `POST /v1/receipts`: the CLI's receipt result, with the id.
pub fn receipt_answer(r: &Receipt, f: &Fiscalized) -> Value {
    let out = crate::views::ReceiptResult {
        replayed: f.replayed,
        journal_seq: Some(f.journal_seq),
        ..crate::views::ReceiptResult::new(&f.document)
    };
    let mut v = serde_json::to_value(&out).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("id".into(), json!(r.id));
    }
    v
}

/// The register's check of each code (as `kkt mark check --device` gives it).
fn check_marks(jk: &mut JournaledKkt, codes: &[MarkQuery]) -> Result<Value, ApiError> {
    Ok(crate::views::register_checks(jk.kkt(), codes)?.to_json())
}
