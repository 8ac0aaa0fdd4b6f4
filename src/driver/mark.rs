//! The driver's side of a marked-goods checker: what a sale needs from one ([`MarkChecker`]),
//! and the check of a sale's codes that runs on a thread of its own while the register does
//! 0x91/0x92 ([`MarkJob`]).
//!
//! The driver knows no checker: `crate::checker::Checker` (ГИС МТ, the Local Module, the
//! sold-codes store) implements [`MarkChecker`], and so can a POS's own. What they exchange
//! (the item, the [`Verdict`], the [`Decision`]) is [`crate::marking::verdict`].

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::commands::marking::MarkCheckResult;
use crate::commands::InputError;
use crate::marking::{CheckItem, CodeState, Decision, MarkingCode, Verdict};
use crate::receipt::{Measure, Operation, Receipt};

/// The register and the legal entity of a sale, for its check.
#[derive(Debug, Clone, Copy, Default)]
pub struct SaleContext<'a> {
    /// The register's FN serial, when known (ГИС МТ's `fiscalDriveNumber`).
    pub fn_number: Option<&'a str>,
    /// The legal entity (INN) selling: the receipt's `seller_inn`, else the register's
    /// registration INN, when known.
    pub inn: Option<&'a str>,
}

/// What a formed receipt leaves in the checker's store.
#[derive(Debug, Clone, Copy)]
pub struct ReceiptRecord<'a> {
    /// The receipt's marking codes.
    pub codes: &'a [MarkingCode],
    /// Sold (a sale) or returned (a return of a sale).
    pub state: CodeState,
    /// The receipt ("FN … FD …").
    pub receipt: &'a str,
    /// Its FD number.
    pub fd_number: u32,
    /// The legal entity (as in [`SaleContext::inn`]).
    pub inn: Option<&'a str>,
    /// The verdicts its items were sold on ([`Verdict::check_id`]): the evidence trail gets the
    /// FD number.
    pub check_ids: &'a [i64],
}

/// What a sale needs from a checker of marked goods ([`Kkt::set_mark_checker`](super::Kkt::set_mark_checker)).
pub trait MarkChecker: Send + Sync + std::fmt::Debug {
    /// Refuses a sale for a legal entity the checker does not know (before anything is sent).
    fn check_entity(&self, inn: Option<&str>) -> Result<(), String> {
        let _ = inn;
        Ok(())
    }

    /// Checks the marked items of a sale (their codes in one request) and returns one verdict per
    /// item, in order. Blocking: the driver calls it on a thread of its own while the register
    /// does 0x91/0x92.
    fn check_sale(&self, items: &[CheckItem], sale: &SaleContext<'_>) -> Vec<Verdict>;

    /// What the sale does with an item: its verdict and the register's tag 2106 (None when the
    /// register's result is not judged) decide 0x94 save (and 0x97) or delete; `Ask` waits for
    /// the cashier (the item's `mark_confirmation`, else [`Kkt::on_mark_ask`](super::Kkt::on_mark_ask)).
    fn decide(&self, verdict: &Verdict, device_2106: Option<MarkCheckResult>) -> Decision;

    /// Whether the cashier's confirmation `token` (a receipt item's `mark_confirmation`) lets
    /// `verdict`, with every reason it now has (the register's included), be sold; why not.
    fn confirm(&self, verdict: &Verdict, token: &str) -> Result<(), String> {
        let _ = (verdict, token);
        Err("this checker takes no confirmations".into())
    }

    /// After a receipt is formed: its codes are recorded as sold (a sale) or returned (a return
    /// of a sale), and the verdicts of its items get its FD number.
    fn record_receipt(&self, record: &ReceiptRecord<'_>) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
}

/// The check of a sale's marked items, running on its own thread.
pub(crate) struct MarkJob {
    rx: Option<Receiver<Vec<Verdict>>>,
    verdicts: Option<Vec<Verdict>>,
    /// Receipt item → index in `verdicts`.
    index: Vec<Option<usize>>,
    /// The checker that gives the verdicts and decides.
    pub(crate) checker: Arc<dyn MarkChecker>,
    /// The legal entity of the sale.
    pub(crate) inn: Option<String>,
}

impl MarkJob {
    /// Starts the check of a sale's marked items (one request for all of them), so that it runs
    /// while the register does 0x91/0x92. Only for sales: returns and corrections are not
    /// checked (None). `codes` are the plan's parsed codes, per receipt item. A legal entity the
    /// checker does not know is refused before anything is sent.
    pub(crate) fn start(
        checker: &Arc<dyn MarkChecker>,
        receipt: &Receipt,
        codes: &[Option<&MarkingCode>],
        fn_number: Option<&str>,
        registration_inn: Option<&str>,
    ) -> Result<Option<MarkJob>, InputError> {
        if receipt.operation != Operation::SELL || receipt.correction.is_some() {
            return Ok(None);
        }
        let mut items = Vec::new();
        let mut index = vec![None; receipt.items.len()];
        for (i, it) in receipt.items.iter().enumerate() {
            let Some(Some(code)) = codes.get(i) else { continue };
            index[i] = Some(items.len());
            items.push(CheckItem {
                code: (*code).clone(),
                price_kopecks: Some(it.price.kopecks()),
                partial_sale: it.fraction.is_some() || it.measure != Measure::PIECE,
            });
        }
        if items.is_empty() {
            return Ok(None);
        }
        let inn = receipt.seller_inn.clone().or_else(|| registration_inn.map(str::to_string));
        let field = if receipt.seller_inn.is_some() { "seller_inn" } else { "marking" };
        checker.check_entity(inn.as_deref()).map_err(|e| InputError::new(field, e))?;
        let (tx, rx) = oneshot();
        let (c, fn_number, sale_inn) = (checker.clone(), fn_number.map(str::to_string), inn.clone());
        std::thread::spawn(move || {
            let sale = SaleContext { fn_number: fn_number.as_deref(), inn: sale_inn.as_deref() };
            tx.send(c.check_sale(&items, &sale))
        });
        Ok(Some(MarkJob { rx: Some(rx), verdicts: None, index, checker: checker.clone(), inn }))
    }

    /// The verdict of receipt item `item` (waits for the check the first time).
    pub(crate) async fn verdict(&mut self, item: usize) -> Option<Verdict> {
        if self.verdicts.is_none() {
            let rx = self.rx.take()?;
            self.verdicts = Some(rx.await.unwrap_or_default());
        }
        let i = (*self.index.get(item)?)?;
        self.verdicts.as_ref()?.get(i).cloned()
    }
}

/// After a receipt is formed: its codes are recorded as sold (a sale) or returned (a return of
/// a sale) in the checker's store, the verdicts it was sold on get its FD number. A failure is
/// logged: the receipt is already formed.
pub(crate) fn record_receipt(
    checker: &dyn MarkChecker,
    receipt: &Receipt,
    codes: &[Option<&MarkingCode>],
    label: &str,
    fd_number: u32,
    inn: Option<&str>,
    check_ids: &[i64],
) {
    let state = match receipt.operation {
        Operation::SELL => CodeState::Sold,
        Operation::SELL_RETURN => CodeState::Returned,
        _ => return,
    };
    if receipt.correction.is_some() {
        return;
    }
    let codes: Vec<MarkingCode> = codes.iter().flatten().map(|c| (*c).clone()).collect();
    if codes.is_empty() {
        return;
    }
    let inn = receipt.seller_inn.as_deref().or(inn);
    let r = ReceiptRecord { codes: &codes, state, receipt: label, fd_number, inn, check_ids };
    if let Err(e) = checker.record_receipt(&r) {
        tracing::warn!(error = %e, "recording the receipt's marking codes failed");
    }
}

/// A channel for one value whose receiving half is a future: the checker's thread sends, the
/// sale awaits (on tokio or on the driver's own `block_on`) without needing a runtime.
fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new(Slot { value: None, closed: false, waker: None }));
    (Sender(slot.clone()), Receiver(slot))
}

struct Slot<T> {
    value: Option<T>,
    closed: bool,
    waker: Option<Waker>,
}

struct Sender<T>(Arc<Mutex<Slot<T>>>);

struct Receiver<T>(Arc<Mutex<Slot<T>>>);

impl<T> Sender<T> {
    fn send(self, value: T) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).value = Some(value);
        // Dropping `self` wakes the receiver.
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        s.closed = true;
        if let Some(w) = s.waker.take() {
            w.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    /// The value, or None when the sender went away without one (the thread panicked).
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = s.value.take() {
            return Poll::Ready(Some(v));
        }
        if s.closed {
            return Poll::Ready(None);
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::link::block_on;

    #[test]
    fn oneshot_wakes_the_waiting_receiver() {
        let (tx, rx) = oneshot();
        let h = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(5));
            tx.send(7);
        });
        assert_eq!(block_on(rx), Some(7));
        h.join().unwrap();
        // A sender dropped without a value: None, not a hang.
        let (tx, rx) = oneshot::<u8>();
        std::thread::spawn(move || drop(tx)).join().unwrap();
        assert_eq!(block_on(rx), None);
    }
}
