//! [`Kkt`] (blocking) and [`AsyncKkt`] (tokio): the same methods over the same procedures.

use super::core::Driver;
#[cfg(feature = "tokio")]
use super::link::AsyncLink;
use super::link::{block_on, Link, SyncLink};
use super::{DeviceStatus, Event, FiscalDocument, MarkCheck, Options, Reconciliation};
use crate::commands::marking::KeepMarkCheckResult;
use crate::commands::registration::{FormRegistration, RegistrationData};
use crate::commands::report::{FiscalResult, ReportData, SettlementReport};
use crate::commands::shift::{ShiftParams, ShiftReport};
use crate::commands::Request;
use crate::error::Error;
use crate::protocol::Decimal;
use crate::receipt::{Cashier, Measure, Operation, PlannedStatus, Receipt};
use crate::session::SessionState;
#[cfg(feature = "tokio")]
use crate::transport::AsyncTransport;
use crate::transport::Transport;

/// A blocking client of one register.
///
/// ```no_run
/// # fn main() -> Result<(), kkt::Error> {
/// let mut kkt = kkt::Kkt::connect("serial:///dev/ttyUSB0?baud=115200")?;
/// let st = kkt.status()?;
/// println!("FN {}, last FD {}, shift open: {}", st.fn_status.fn_number, st.fn_status.last_fd_number, st.shift.open);
/// # Ok(()) }
/// ```
pub struct Kkt {
    inner: Driver<SyncLink>,
}

/// An async client of one register (tokio): the methods of [`Kkt`], `async`.
///
/// ```
/// # async fn run() -> Result<(), kkt::Error> {
/// let mut kkt = kkt::AsyncKkt::connect("emulator").await?; // or tcp://…, serial://…
/// kkt.open_shift(&kkt::receipt::Cashier::new("Иванова А.А.")).await?;
/// let r = kkt::receipt::Receipt::from_json(r#"{"operation": "sell", "taxation": "osn",
///   "items": [{"name": "Хлеб", "price": "45.50", "quantity": "2", "vat": "vat10",
///              "payment_method": "full_payment", "payment_object": "commodity"}],
///   "payments": {"cash": "100"}}"#)?;
/// let doc = kkt.sell(&r).await?;
/// println!("FD {} FP {}", doc.fd_number, doc.fiscal_sign);
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
/// ```
#[cfg(feature = "tokio")]
pub struct AsyncKkt {
    inner: Driver<AsyncLink>,
}

impl std::fmt::Debug for Kkt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kkt").field("peer", &self.inner.link.peer()).field("session", &self.inner.state).finish()
    }
}

#[cfg(feature = "tokio")]
impl std::fmt::Debug for AsyncKkt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncKkt").field("peer", &self.inner.link.peer()).field("session", &self.inner.state).finish()
    }
}

impl Kkt {
    /// A client over a transport built by hand (e.g. [`crate::transport::InProcTransport`]).
    pub fn with_transport(t: impl Transport + 'static, opts: Options) -> Result<Kkt, Error> {
        Self::with_boxed(Box::new(t), opts)
    }

    pub(crate) fn with_boxed(t: Box<dyn Transport>, opts: Options) -> Result<Kkt, Error> {
        let resync = opts.resync_on_connect;
        let mut k = Kkt { inner: Driver::new(SyncLink(t), opts) };
        if resync {
            block_on(k.inner.resync())?;
        }
        Ok(k)
    }

    /// Any typed command: checked against the session state, sent with the policy of its
    /// class; a fiscal command whose answer is lost is reconciled with the register.
    ///
    /// ```
    /// # fn main() -> Result<(), kkt::Error> {
    /// # let mut kkt = kkt::Kkt::connect("emulator")?;
    /// let model = kkt.call(&kkt::commands::info::GetModel)?;
    /// println!("{}", model.text);
    /// # Ok(()) }
    /// ```
    pub fn call<R: Request>(&mut self, req: &R) -> Result<R::Response, Error> {
        block_on(self.inner.call(req))
    }

    /// Any command given as its code and DATA (what `kkt raw` sends), with the same checks and
    /// retry policy as [`Kkt::call`]; the answer's DATA. A device error is
    /// [`Error::Device`](crate::Error::Device).
    pub fn call_raw(&mut self, code: u8, data: &[u8]) -> Result<Vec<u8>, Error> {
        block_on(self.inner.call_raw(code, data))
    }
}

#[cfg(feature = "tokio")]
impl AsyncKkt {
    /// A client over an async transport built by hand.
    pub async fn with_transport(t: impl AsyncTransport + 'static, opts: Options) -> Result<AsyncKkt, Error> {
        Self::with_boxed(Box::new(t), opts).await
    }

    pub(crate) async fn with_boxed(t: Box<dyn AsyncTransport>, opts: Options) -> Result<AsyncKkt, Error> {
        let resync = opts.resync_on_connect;
        let mut k = AsyncKkt { inner: Driver::new(AsyncLink(t), opts) };
        if resync {
            k.inner.resync().await?;
        }
        Ok(k)
    }

    /// Any typed command (see [`Kkt::call`]).
    pub async fn call<R: Request + Sync>(&mut self, req: &R) -> Result<R::Response, Error> {
        self.inner.call(req).await
    }
}

/// The methods both clients share: blocking on [`Kkt`], `async` on [`AsyncKkt`].
macro_rules! client_methods {
    ($( $(#[$m:meta])* fn $name:ident(&mut self $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty = |$d:ident| $body:expr; )*) => {
        impl Kkt {
            $( $(#[$m])* pub fn $name(&mut self $(, $arg: $ty)*) -> $ret {
                let $d = &mut self.inner;
                block_on($body)
            } )*
        }
        #[cfg(feature = "tokio")]
        impl AsyncKkt {
            $( $(#[$m])* pub async fn $name(&mut self $(, $arg: $ty)*) -> $ret {
                let $d = &mut self.inner;
                $body.await
            } )*
        }
    };
}

/// Accessors both clients share.
macro_rules! client_accessors {
    ($($t:ty),*) => {$(
        impl $t {
            /// The command-order state the client works with (as last read or moved on).
            pub fn session(&self) -> &SessionState {
                &self.inner.state
            }

            /// The device, as messages name it.
            pub fn peer(&self) -> &str {
                self.inner.link.peer()
            }

            /// The FN serial number (16 digits) as the FN status read at connect (or at the last
            /// resync) gave it; `None` before it was read, or when every answer was damaged.
            pub fn fn_number(&self) -> Option<&str> {
                self.inner.fn_number.as_deref()
            }

            /// The options.
            pub fn options(&self) -> &Options {
                &self.inner.opts
            }

            /// Stops at the next step once `flag` is set (Ctrl-C): the exchange in flight
            /// finishes, then no further command of a document is sent (it fails with
            /// [`Error::Interrupted`](crate::Error::Interrupted), nothing sent); queries and the
            /// cancel (0x10) still go, so that an open document can be cancelled.
            pub fn set_interrupt(&mut self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
                self.inner.interrupt = Some(flag);
            }

            /// Calls `handler` with every [`Event`] (progress of the key update at shift open,
            /// retries, reconciliation after a lost answer).
            pub fn on_event(&mut self, handler: impl FnMut(&Event) + Send + 'static) {
                self.inner.events = Some(Box::new(handler));
            }

            /// Checks the marked items of sales with `checker` (any [`MarkChecker`](super::MarkChecker);
            /// `kkt::checker::Checker` is ГИС МТ's permissive mode, the Local Module and the
            /// sold-codes store): the codes of a receipt are checked in one request while the
            /// register does 0x91/0x92; the verdict and the register's 2106 decide 0x94 (save,
            /// and 0x97 with tag 1260; or delete, and the sale is refused naming the reasons).
            /// After the receipt is formed its codes are recorded as sold, after a return as
            /// returned. `None` goes back to the register's checks alone.
            pub fn set_mark_checker(&mut self, checker: Option<std::sync::Arc<dyn super::MarkChecker>>) {
                self.inner.checker = checker;
            }

            /// The cashier's answer when a verdict asks (`Strictness::Ask`): `true` sells the
            /// item. Without a handler such an item is refused.
            pub fn on_mark_ask(&mut self, handler: impl FnMut(&crate::marking::Verdict) -> bool + Send + 'static) {
                self.inner.mark_ask = Some(Box::new(handler));
            }

            /// When the last fiscal command's answer was lost and rebuilt from the register's
            /// archive: which document it was.
            pub fn last_reconciliation(&self) -> Option<&Reconciliation> {
                self.inner.last_reconciled.as_ref()
            }
        }
    )*};
}

client_accessors!(Kkt);
#[cfg(feature = "tokio")]
client_accessors!(AsyncKkt);

client_methods! {
    /// Serial number, clock, FN status, shift parameters and the session state, read now.
    ///
    /// ```
    /// # fn main() -> Result<(), kkt::Error> {
    /// let mut kkt = kkt::Kkt::connect("emulator")?; // or tcp://…, serial://…
    /// let st = kkt.status()?;
    /// assert_eq!(st.shift.open, st.session.shift() == kkt::session::ShiftState::Open);
    /// # Ok(()) }
    /// ```
    fn status(&mut self) -> Result<DeviceStatus, Error> = |d| d.status();

    /// Reads the session state from the register (FN status, marking status, modes).
    fn resync(&mut self) -> Result<SessionState, Error> = |d| d.resync();

    /// The shift parameters (0x20).
    fn shift_params(&mut self) -> Result<ShiftParams, Error> = |d| d.shift_params();

    /// Opens a shift: 0x21 (the register may update its marking-code keys, ~15 s or more:
    /// [`Event::KeyUpdate`] tells when it starts and ends), 0xE4 with the cashier, 0x22.
    ///
    /// ```
    /// # fn main() -> Result<(), kkt::Error> {
    /// # let mut kkt = kkt::Kkt::connect("emulator")?;
    /// kkt.on_event(|e| if let kkt::driver::Event::KeyUpdate { finished } = e { println!("keys: {finished:?}") });
    /// let report = kkt.open_shift(&kkt::receipt::Cashier::new("Иванова А.А."))?;
    /// println!("shift {} opened, FD {}", report.shift_number, report.fd_number);
    /// # Ok(()) }
    /// ```
    fn open_shift(&mut self, cashier: &Cashier) -> Result<ShiftReport, Error> =
        |d| d.open_shift(cashier);

    /// Closes the shift (0x29, 0xE5 with the cashier who opened it, 0x2A).
    ///
    /// ```
    /// # fn main() -> Result<(), kkt::Error> {
    /// # let mut kkt = kkt::Kkt::connect("emulator")?;
    /// # kkt.open_shift(&kkt::receipt::Cashier::new("Иванова А.А."))?;
    /// let report = kkt.close_shift()?;
    /// println!("shift {} closed, FD {}, warnings {:?}", report.shift_number, report.fd_number, report.warnings.explain());
    /// # Ok(()) }
    /// ```
    fn close_shift(&mut self) -> Result<ShiftReport, Error> = |d| d.close_shift(None);

    /// Closes the shift naming the cashier.
    fn close_shift_as(&mut self, cashier: &Cashier) -> Result<ShiftReport, Error> =
        |d| d.close_shift(Some(cashier));

    /// Forms a sale receipt (`operation` must be `sell`). Marked items go through the check of
    /// Appendix 2 (0x91 → 0x92 → 0x94 → 0x97) under [`Options::mark_policy`]. On any failure
    /// before the receipt is formed it is cancelled, so the call can be repeated.
    ///
    /// ```
    /// # fn main() -> Result<(), kkt::Error> {
    /// # let mut kkt = kkt::Kkt::connect("emulator")?;
    /// # kkt.open_shift(&kkt::receipt::Cashier::new("Иванова А.А."))?;
    /// let r = kkt::receipt::Receipt::from_json(r#"{"operation": "sell", "taxation": "osn",
    ///   "items": [{"name": "Хлеб", "price": "45.50", "quantity": "2", "vat": "vat10",
    ///              "payment_method": "full_payment", "payment_object": "commodity"}],
    ///   "payments": {"electronic": "91.00"}}"#)?;
    /// let doc = kkt.sell(&r)?;
    /// println!("receipt {} FD {} FP {}", doc.receipt_number, doc.fd_number, doc.fiscal_sign);
    /// # Ok(()) }
    /// ```
    fn sell(&mut self, receipt: &Receipt) -> Result<FiscalDocument, Error> =
        |d| d.receipt(receipt, Some(Operation::SELL), false);

    /// Forms a return of a sale (`operation` must be `sell_return`).
    fn refund(&mut self, receipt: &Receipt) -> Result<FiscalDocument, Error> =
        |d| d.receipt(receipt, Some(Operation::SELL_RETURN), false);

    /// Forms a purchase receipt (`operation` must be `buy`).
    fn buy(&mut self, receipt: &Receipt) -> Result<FiscalDocument, Error> =
        |d| d.receipt(receipt, Some(Operation::BUY), false);

    /// Forms a return of a purchase (`operation` must be `buy_return`).
    fn buy_return(&mut self, receipt: &Receipt) -> Result<FiscalDocument, Error> =
        |d| d.receipt(receipt, Some(Operation::BUY_RETURN), false);

    /// Forms a receipt of whatever operation it names. A receipt with `correction` is refused
    /// (naming the field): corrections go to [`Kkt::correction`].
    fn receipt(&mut self, receipt: &Receipt) -> Result<FiscalDocument, Error> =
        |d| d.receipt(receipt, None, false);

    /// Forms a correction receipt (0x25 … 0x26): `receipt.correction` gives the date of the
    /// corrected settlement and the tax authority's order number, if any.
    ///
    /// ```
    /// # fn main() -> Result<(), kkt::Error> {
    /// # let mut kkt = kkt::Kkt::connect("emulator")?;
    /// # kkt.open_shift(&kkt::receipt::Cashier::new("Иванова А.А."))?;
    /// let r = kkt::receipt::Receipt::from_json(r#"{"operation": "sell", "taxation": "osn",
    ///   "items": [{"name": "Выручка", "price": "1000", "quantity": 1, "vat": "vat20",
    ///              "payment_method": "full_payment", "payment_object": "commodity"}],
    ///   "payments": {"cash": "1000"}, "correction": {"date": "2026-01-15"}}"#)?;
    /// let doc = kkt.correction(&r)?;
    /// # let _ = doc; Ok(()) }
    /// ```
    fn correction(&mut self, receipt: &Receipt) -> Result<FiscalDocument, Error> =
        |d| d.receipt(receipt, None, true);

    /// Puts cash into the drawer (0xB3), the money counters read before and after. A lost
    /// answer is settled from the counters (0xB0), never sent again blindly.
    ///
    /// ```
    /// # fn main() -> Result<(), kkt::Error> {
    /// # let mut kkt = kkt::Kkt::connect("emulator")?;
    /// # kkt.open_shift(&kkt::receipt::Cashier::new("Иванова А.А."))?;
    /// use kkt::receipt::Money;
    /// let c = kkt.cash_in(Money::from_kopecks(100_000))?;
    /// assert_eq!(c.after.cash.kopecks(), c.before.cash.kopecks() + 100_000);
    /// let e = kkt.cash_out(Money::from_kopecks(1_000_000_00)).unwrap_err(); // more than the drawer holds
    /// assert_eq!(e.device_code(), Some(0x42));
    /// # Ok(()) }
    /// ```
    fn cash_in(&mut self, amount: crate::receipt::Money) -> Result<super::CashOperation, Error> =
        |d| d.move_cash(super::CashDirection::CashIn, amount);

    /// Takes cash out of the drawer (0xB4); more than it holds is refused by the register
    /// (error 0x42). As [`Kkt::cash_in`] otherwise.
    fn cash_out(&mut self, amount: crate::receipt::Money) -> Result<super::CashOperation, Error> =
        |d| d.move_cash(super::CashDirection::CashOut, amount);

    /// The money counters (0xB0): cash in the drawer, electronic payments.
    fn cash_totals(&mut self) -> Result<super::MoneyTotals, Error> = |d| d.cash_totals();

    /// Fiscal document `fd_number` from the FN archive (0x30 and 0x3A), as it was formed:
    /// items, totals, the fiscal sign as printed, the OFD's confirmation.
    ///
    /// ```
    /// # fn main() -> Result<(), kkt::Error> {
    /// # let mut kkt = kkt::Kkt::connect("emulator")?;
    /// let last = kkt.last_fd()?;
    /// let doc = kkt.document(last)?;
    /// println!("{} ФД {} ФП {}", doc.title, doc.fd_number, doc.fiscal_sign);
    /// # Ok(()) }
    /// ```
    fn document(&mut self, fd_number: u32) -> Result<super::StoredDocument, Error> = |d| d.document(fd_number);

    /// The number of the FN's last fiscal document (0x08).
    fn last_fd(&mut self) -> Result<u32, Error> = |d| d.last_fd();

    /// Prints a copy of fiscal document `fd_number` on the register's printer (0x39).
    fn print_document_copy(&mut self, fd_number: u32) -> Result<(), Error> = |d| d.print_copy(fd_number);

    /// Prints (and returns) the OFD's confirmation of document `fd_number` (0x31).
    fn print_ofd_receipt(&mut self, fd_number: u32) -> Result<crate::commands::archive::OfdConfirmation, Error> =
        |d| d.ofd_receipt(fd_number);

    /// The OFD exchange (0x50, 0x32) with warnings: the first unsent document older than 24
    /// hours, the FN's 30-day limit near.
    fn ofd_status(&mut self) -> Result<super::OfdStatus, Error> = |d| d.ofd_status();

    /// The shift's counters (0x20, 0xB0): the nearest to an X-report this register offers.
    fn shift_counters(&mut self) -> Result<super::ShiftCounters, Error> = |d| d.shift_counters();

    /// Prints text, a QR code or a barcode on the register's printer (no fiscal document).
    fn print(&mut self, job: &super::PrintJob) -> Result<super::Printed, Error> = |d| d.print(job);

    /// Forms the settlement status report (0x27, 0x28).
    ///
    /// ```
    /// # fn main() -> Result<(), kkt::Error> {
    /// # let mut kkt = kkt::Kkt::connect("emulator")?;
    /// let r = kkt.settlement_report()?;
    /// println!("{} documents not yet confirmed by the OFD", r.unconfirmed);
    /// # Ok(()) }
    /// ```
    fn settlement_report(&mut self) -> Result<SettlementReport, Error> = |d| d.settlement_report();

    /// Registers the register (0xE1 type 0, 0xE2, 0xE3). A register with marked goods in data
    /// transfer mode needs its OISM and key update hosts saved first (0x83, 0x85 are read;
    /// refused naming `kkt settings oism set` / `kkt settings keys-host set`).
    fn register(&mut self, data: &RegistrationData, form: &FormRegistration) -> Result<FiscalResult, Error> =
        |d| d.register(0, data, form);

    /// Re-registers: `report_type` 1 with FN replacement (tag 1205 `fn_replacement` among
    /// `form.reasons`), 2 without; `form.reasons` says why.
    fn reregister(&mut self, report_type: u8, data: &RegistrationData, form: &FormRegistration) -> Result<FiscalResult, Error> =
        |d| d.register(report_type, data, form);

    /// Closes the fiscal mode of the FN (0x14, 0x17 with the data if given, 0x15).
    fn close_fn(&mut self, data: Option<&ReportData>) -> Result<FiscalResult, Error> =
        |d| d.close_fn(data);

    /// Checks a marking code of a piece: 0x91 (the FN), then 0x92 (the OISM; skipped in
    /// autonomous mode). The code then waits for [`Kkt::accept_mark`] or
    /// [`Kkt::decline_mark`] (0x94).
    ///
    /// ```
    /// # fn main() -> Result<(), kkt::Error> {
    /// # let mut kkt = kkt::Kkt::connect("emulator")?;
    /// # kkt.open_shift(&kkt::receipt::Cashier::new("Иванова А.А."))?;
    /// # kkt.call(&kkt::commands::receipt::OpenReceipt::default())?;
    /// use kkt::receipt::PlannedStatus;
    /// let c = kkt.check_mark("0104607028393037215'Wt4q\u{1d}93dGVz", PlannedStatus::PIECE_SOLD, 1.into())?;
    /// match c.flags() {
    ///     Some(f) if f.status_checked() && !f.status_correct() => { kkt.decline_mark()?; }
    ///     _ => { kkt.accept_mark()?; }
    /// }
    /// # Ok(()) }
    /// ```
    fn check_mark(&mut self, code: &str, planned_status: PlannedStatus, quantity: Decimal) -> Result<MarkCheck, Error> =
        |d| d.check_mark(code, planned_status, quantity, Measure::PIECE, None);

    /// [`Kkt::check_mark`] for measured goods (or a fraction of a piece).
    fn check_mark_measured(
        &mut self,
        code: &str,
        planned_status: PlannedStatus,
        quantity: Decimal,
        measure: Measure,
        fraction: Option<(u32, u32)>
    ) -> Result<MarkCheck, Error> =
        |d| d.check_mark(code, planned_status, quantity, measure, fraction);

    /// Saves the check result of the code under check (0x94 with 1): it may then be sold
    /// (0x97). Returns tag 2106.
    fn accept_mark(&mut self) -> Result<KeepMarkCheckResult, Error> = |d| d.keep_mark(true);

    /// Deletes the check result of the code under check (0x94 with 0).
    fn decline_mark(&mut self) -> Result<KeepMarkCheckResult, Error> = |d| d.keep_mark(false);

    /// Cancels the open document (0x10).
    fn cancel_document(&mut self) -> Result<(), Error> = |d| d.cancel_document();
}

impl From<u32> for Decimal {
    fn from(v: u32) -> Self {
        Decimal::integer(u64::from(v))
    }
}

#[cfg(feature = "tokio")]
#[allow(dead_code)]
fn assert_send() {
    fn is_send<T: Send>(_: &T) {}
    fn check(k: &mut AsyncKkt, r: &Receipt) {
        is_send(&k.sell(r));
        is_send(&k.status());
        is_send(&k.cash_in(crate::receipt::Money::ZERO));
        is_send(&k.document(1));
        is_send(&k.ofd_status());
        is_send(&k.print(&super::PrintJob::Qr { data: String::new() }));
    }
    let _ = check;
}
