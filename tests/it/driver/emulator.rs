//! The driver against the virtual register, in process: whole days with unmarked and marked
//! goods, every command family, each refusal of the state machine, and faults on every
//! command that forms a fiscal document (connection closed before or after execution,
//! corrupted or truncated answer), which must end in the right "formed / not formed" answer
//! and never in a second document.

use std::sync::{Arc, Mutex};

use kkt::commands::info::{FnStatus, GetFnStatus, GetModel};
use kkt::commands::marking::KeepMarkCheck;
use kkt::commands::receipt::{FormReceipt, MarkedItem, OpenReceipt, Payment, UnmarkedItem};
use kkt::commands::registration::{FormRegistration, RegistrationData};
use kkt::commands::report::ReportData;
use kkt::commands::settings::{KeyUpdateHost, OismHost, SetKeyUpdateHost, SetOismHost};
use kkt::commands::shift::{BeginShiftOpen, OpenShift};
use kkt::commands::{Request, Response};
use kkt::driver::{Event, MarkPolicy, Options};
use kkt::emulator::scenario::CodeRule;
use kkt::emulator::{FaultAction, OismStatus, VirtualRegister};
use kkt::protocol::frame::{self, Parsed};
use kkt::protocol::values::{OperatingModes, TaxationSystems, UsageConditions};
use kkt::protocol::Decimal;
use kkt::receipt::{Cashier, CorrectionBasis, Item, Money, Operation, PlannedStatus, Receipt, Taxation, Vat};
use kkt::session::ShiftState;
use kkt::transport::{InProcTransport, Responder};
use kkt::{Error, Kkt};

/// The seed 004 marking code (GS = 0x1D).
const CODE: &str = "010464007801637221gDDJ2VMOqvdNG\u{1d}91FFD0\u{1d}92dGVzdIjNx7Hb93pmLsV+niIDiJWV8ZFAjQdF9b2BO/o=";
const CODE2: &str = "0104600439931256215Bd;cj,\u{1d}93dGVz";

/// The virtual register behind a fault injector that counts what it is sent.
struct Faulty {
    reg: VirtualRegister,
    faults: Mutex<Vec<(u8, FaultAction)>>,
    sent: Mutex<Vec<u8>>,
}

impl Faulty {
    fn arm(&self, command: u8, action: FaultAction) {
        self.faults.lock().unwrap().push((command, action));
    }

    fn sent(&self, command: u8) -> usize {
        self.sent.lock().unwrap().iter().filter(|c| **c == command).count()
    }

    fn codes_sent(&self) -> Vec<u8> {
        self.sent.lock().unwrap().clone()
    }

    fn total_sent(&self) -> usize {
        self.sent.lock().unwrap().len()
    }

    /// Asks the register directly (not through the driver).
    fn ask<R: Request>(&self, req: &R) -> R::Response {
        let mut data = Vec::new();
        req.encode(&mut data).unwrap();
        let mut f = Vec::new();
        frame::encode(R::CODE, &data, &mut f).unwrap();
        let answer = self.reg.exchange(&f);
        let Parsed::Frame { frame, .. } = frame::parse(&answer) else { panic!("no frame") };
        R::Response::decode(frame.response().expect("answered")).unwrap()
    }

    fn fn_status(&self) -> FnStatus {
        self.ask(&GetFnStatus)
    }

    fn last_fd(&self) -> u32 {
        self.fn_status().last_fd_number
    }
}

impl Responder for Faulty {
    fn respond(&self, request: &[u8]) -> Vec<u8> {
        let code = request[4];
        self.sent.lock().unwrap().push(code);
        let fault = {
            let mut f = self.faults.lock().unwrap();
            f.iter().position(|(c, _)| *c == code).map(|i| f.remove(i).1)
        };
        match fault {
            Some(FaultAction::CloseBefore) => Vec::new(),
            Some(FaultAction::CloseAfter) => {
                self.reg.exchange(request);
                Vec::new()
            }
            Some(FaultAction::Corrupt) => {
                let mut a = self.reg.exchange(request);
                let last = a.len() - 1;
                a[last] ^= 0xFF;
                a
            }
            Some(FaultAction::Drop) => {
                let mut a = self.reg.exchange(request);
                a.remove(a.len() / 2);
                a
            }
            Some(FaultAction::Delay) | None => self.reg.exchange(request),
            Some(other) => panic!("fault {other:?} is not modelled by this test's register"),
        }
    }
}

fn register_with(options: kkt::emulator::EmulatorOptions, opts: Options) -> (Kkt, Arc<Faulty>) {
    let f = Arc::new(Faulty { reg: VirtualRegister::new(options), faults: Mutex::default(), sent: Mutex::default() });
    let k = Kkt::with_transport(InProcTransport::new(f.clone()), opts).unwrap();
    (k, f)
}

fn register() -> (Kkt, Arc<Faulty>) {
    register_with(kkt::emulator::EmulatorOptions::default(), Options::fast())
}

fn cashier() -> Cashier {
    Cashier { name: "Иванова А.А.".into(), inn: Some("500100732259".into()) }
}

fn open() -> (Kkt, Arc<Faulty>) {
    let (mut k, f) = register();
    k.open_shift(&cashier()).unwrap();
    (k, f)
}

fn bread(op: Operation) -> Receipt {
    let mut r = Receipt::sell(Taxation::OSN);
    r.operation = op;
    r.cashier = Some(cashier());
    r.items.push(Item::new("Хлеб", Money::from_kopecks(4550), Decimal::integer(2), Vat::VAT10));
    r.payments.cash = Money::from_kopecks(10000);
    r
}

fn with_marked(op: Operation, code: &str) -> Receipt {
    let mut r = bread(op);
    r.items.push(Item::marked("Молоко 3,2%", Money::from_kopecks(8990), Vat::VAT10, code));
    r.payments.cash = Money::from_kopecks(20000);
    r
}

#[test]
fn a_whole_day_through_the_high_level_api() {
    let (mut k, f) = register();
    let fd0 = f.last_fd();
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    k.on_event(move |e| ev.lock().unwrap().push(e.clone()));

    let st = k.status().unwrap();
    assert_eq!(st.session.shift(), ShiftState::Closed);
    assert_eq!(st.fn_status.last_fd_number, fd0);

    let opened = k.open_shift(&cashier()).unwrap();
    assert_eq!(opened.fd_number, fd0 + 1);
    assert_eq!(k.session().shift(), ShiftState::Open);
    let ev = events.lock().unwrap().clone();
    assert!(ev.contains(&Event::KeyUpdate { finished: None }));
    assert!(ev.iter().any(|e| matches!(e, Event::KeyUpdate { finished: Some(_) })));

    let sale = k.sell(&bread(Operation::SELL)).unwrap();
    assert_eq!((sale.fd_number, sale.receipt_number, sale.shift_number), (fd0 + 2, 1, opened.shift_number));
    assert_eq!((sale.total, sale.change), (Money::from_kopecks(9100), Money::from_kopecks(900)));
    assert!(!sale.recovered);

    let marked = k.sell(&with_marked(Operation::SELL, CODE)).unwrap();
    assert_eq!(marked.fd_number, fd0 + 3);
    assert_eq!(marked.marks.len(), 1);
    assert_eq!(marked.marks[0].item, 1);
    assert_eq!(marked.marks[0].check.flags().map(|f| f.0), Some(0x0F));

    let refund = k.refund(&with_marked(Operation::SELL_RETURN, CODE)).unwrap();
    assert_eq!(refund.receipt_number, 3);
    let buy = k.buy(&bread(Operation::BUY)).unwrap();
    let buy_return = k.buy_return(&bread(Operation::BUY_RETURN)).unwrap();
    assert_eq!(buy_return.fd_number, buy.fd_number + 1);

    let mut corr = bread(Operation::SELL);
    corr.correction =
        Some(CorrectionBasis { date: chrono::NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(), order_number: None });
    let c = k.correction(&corr).unwrap();
    assert_eq!(c.fd_number, buy_return.fd_number + 1);

    let s = k.settlement_report().unwrap();
    assert_eq!(s.fd_number, c.fd_number + 1);
    let closed = k.close_shift().unwrap();
    assert_eq!((closed.shift_number, closed.fd_number), (opened.shift_number, s.fd_number + 1));
    assert_eq!(f.last_fd(), closed.fd_number);
    assert_eq!(k.session().shift(), ShiftState::Closed);
}

#[test]
fn operation_must_match_the_call() {
    let (mut k, f) = open();
    let n = f.total_sent();
    let e = k.sell(&bread(Operation::SELL_RETURN)).unwrap_err();
    assert!(matches!(&e, Error::Input(i) if i.field == "operation"), "{e}");
    let e = k.correction(&bread(Operation::SELL)).unwrap_err();
    assert!(matches!(&e, Error::Input(i) if i.field == "correction"), "{e}");
    let mut bad = bread(Operation::SELL);
    bad.items[0].price = Money::from_kopecks(1); // payments now exceed nothing, but...
    bad.payments.electronic = Money::from_kopecks(100_000);
    let e = k.sell(&bad).unwrap_err();
    assert!(matches!(&e, Error::Input(i) if i.field == "payments"), "{e}");
    assert_eq!(f.total_sent(), n, "nothing sent for bad input");
}

#[test]
fn a_marked_item_sells_on_the_fn_check_when_the_oism_does_not_answer() {
    // The OISM is out of reach: 0x92 answers 0xCC. The permissive mode sells on the FN's check;
    // 0x94 saves the result and the register's 2106 says the OISM gave no answer.
    let mut o = kkt::emulator::EmulatorOptions::default();
    o.scenario.default_status = OismStatus::Unreachable;
    let (mut k, f) = register_with(o, Options::fast());
    k.open_shift(&cashier()).unwrap();
    let fd = f.last_fd();
    let d = k.sell(&with_marked(Operation::SELL, CODE2)).unwrap();
    assert_eq!(d.fd_number, fd + 1);
    let m = &d.marks[0];
    assert!(m.check.online.is_none(), "{m:?}");
    assert!(m.notes.iter().any(|n| n.contains("0xCC")), "{:?}", m.notes);
    assert_eq!(m.result.0 & 0x0C, 0, "2106 = {:#04x}: no OISM answer, status not checked", m.result.0);
    // After the refused 0x92 the driver reads the register's state again (0x08, 0x90), then
    // saves the result and adds the item.
    let sent = f.codes_sent();
    let at = sent.iter().position(|&c| c == 0x92).expect("0x92 sent");
    let next: Vec<u8> = sent[at..].iter().copied().filter(|c| ![0x08, 0x90].contains(c)).take(3).collect();
    assert_eq!(next, [0x92, 0x94, 0x97], "{sent:02X?}");
    // The register is clean afterwards.
    assert_eq!(f.fn_status().current_document, 0);
    assert_eq!(k.sell(&bread(Operation::SELL)).unwrap().fd_number, fd + 2);
}

#[test]
fn strict_policy_refuses_a_code_the_oism_rejects_and_leaves_no_trace() {
    let mut o = kkt::emulator::EmulatorOptions::default();
    o.scenario.codes.push(CodeRule {
        pattern: "0104600439931256*".into(),
        status: OismStatus::Incorrect,
        crypto_valid: true,
        latency_ms: 0,
        fn_error: None,
    });
    let (mut k, f) = register_with(o.clone(), Options::fast());
    k.open_shift(&cashier()).unwrap();
    let fd = f.last_fd();
    let e = k.sell(&with_marked(Operation::SELL, CODE2)).unwrap_err();
    assert!(
        matches!(&e, Error::Input(i) if i.field == "items[2].marking_code" || i.field == "items[1].marking_code"),
        "{e}"
    );
    assert!(e.to_string().contains("planned status"), "{e}");
    assert_eq!(f.last_fd(), fd, "no document");
    assert_eq!(f.fn_status().current_document, 0, "the receipt was cancelled");
    // The register is clean: the next sale goes through.
    assert_eq!(k.sell(&bread(Operation::SELL)).unwrap().fd_number, fd + 1);

    // The lenient policy sells it (seed 004 allows saving a negative result).
    let mut opts = Options::fast();
    opts.mark_policy = MarkPolicy::AcceptAll;
    let (mut k, _f) = register_with(o, opts);
    k.open_shift(&cashier()).unwrap();
    let d = k.sell(&with_marked(Operation::SELL, CODE2)).unwrap();
    assert_eq!(d.marks[0].check.flags().map(|f| f.status_correct()), Some(false));
}

#[test]
fn autonomous_mode_skips_the_oism() {
    let o = kkt::emulator::EmulatorOptions { autonomous: true, ..Default::default() };
    let (mut k, f) = register_with(o, Options::fast());
    assert!(k.session().autonomous());
    k.open_shift(&cashier()).unwrap();
    let d = k.sell(&with_marked(Operation::SELL, CODE)).unwrap();
    assert!(d.marks[0].check.online.is_none());
    assert_eq!(f.sent(0x92), 0);
    assert!(d.marks[0].result.autonomous(), "2106 bit 4 in autonomous mode: {:?}", d.marks[0].result);
}

#[test]
fn the_marked_steps_by_hand() {
    let (mut k, f) = open();
    k.call(&OpenReceipt::default()).unwrap();
    let c = k.check_mark(CODE, PlannedStatus::PIECE_SOLD, 1.into()).unwrap();
    let flags = c.flags().unwrap();
    assert!(flags.checked() && flags.crypto_ok() && flags.status_checked() && flags.status_correct());
    let kept = k.accept_mark().unwrap();
    assert_eq!(kept.result, flags);
    k.call(&MarkedItem::piece("Молоко", 8990, 2, 4, 33, CODE)).unwrap();
    // A second code checked, then declined: it cannot be sold.
    k.check_mark(CODE2, PlannedStatus::PIECE_SOLD, 1.into()).unwrap();
    k.decline_mark().unwrap();
    let e = k.call(&MarkedItem::piece("Сигареты", 18900, 1, 4, 33, CODE2)).unwrap_err();
    assert!(matches!(&e, Error::Sequence(v) if v.code == 0xAE), "{e}");
    let p = Payment { taxation: Some(kkt::protocol::values::Taxation::OSN), cash: Some(8990), ..Default::default() };
    k.call(&p).unwrap();
    let r = k.call(&FormReceipt { operation: kkt::protocol::values::Operation::SELL, total: 8990 }).unwrap();
    assert_eq!(r.fd_number, f.last_fd());
}

#[test]
fn each_out_of_order_call_is_refused_before_sending() {
    // (state to reach, the call, the register's error code the state machine names)
    type Call = Box<dyn Fn(&mut Kkt) -> Result<(), Error>>;
    let item = || UnmarkedItem::new("Хлеб", 4550, Decimal::integer(1), 2, 4, 1);
    let cases: Vec<(&str, Call, u8)> = vec![
        ("closed", Box::new(|k| k.call(&OpenShift).map(|_| ())), 0x02),
        ("closed", Box::new(|k| k.call(&OpenReceipt::default()).map(|_| ())), 0x02),
        ("closed", Box::new(|k| k.close_shift().map(|_| ())), 0x02),
        ("open", Box::new(|k| k.call(&BeginShiftOpen::default()).map(|_| ())), 0x02),
        (
            "open",
            Box::new(|k| {
                k.call(&FormReceipt { operation: kkt::protocol::values::Operation::SELL, total: 1 }).map(|_| ())
            }),
            0x5B,
        ),
        ("open", Box::new(move |k| k.call(&item()).map(|_| ())), 0x5B),
        ("open", Box::new(|k| k.close_fn(None).map(|_| ())), 0x02),
        ("receipt", Box::new(|k| k.call(&OpenReceipt::default()).map(|_| ())), 0x29),
        ("receipt", Box::new(|k| k.sell(&bread(Operation::SELL)).map(|_| ())), 0x29),
        (
            "receipt",
            Box::new(|k| {
                k.call(&FormReceipt { operation: kkt::protocol::values::Operation::SELL, total: 1 }).map(|_| ())
            }),
            0x29,
        ),
        ("receipt", Box::new(|k| k.accept_mark().map(|_| ())), 0xA3),
        ("receipt", Box::new(|k| k.call(&MarkedItem::piece("x", 1, 1, 4, 33, CODE)).map(|_| ())), 0xAE),
        ("receipt", Box::new(|k| k.close_shift().map(|_| ())), 0x02),
        ("checked", Box::new(|k| k.check_mark(CODE2, PlannedStatus::PIECE_SOLD, 1.into()).map(|_| ())), 0xA3),
        ("checked", Box::new(|k| k.call(&MarkedItem::piece("x", 1, 1, 4, 33, CODE)).map(|_| ())), 0xA3),
        (
            "checked",
            Box::new(|k| {
                k.call(&FormReceipt { operation: kkt::protocol::values::Operation::SELL, total: 1 }).map(|_| ())
            }),
            0x29,
        ),
        ("paid", Box::new(move |k| k.call(&item()).map(|_| ())), 0x5A),
        ("paid", Box::new(|k| k.check_mark(CODE, PlannedStatus::PIECE_SOLD, 1.into()).map(|_| ())), 0x5A),
    ];
    for (at, call, code) in cases {
        let (mut k, f) = register();
        if at != "closed" {
            k.open_shift(&cashier()).unwrap();
        }
        if matches!(at, "receipt" | "checked" | "paid") {
            k.call(&OpenReceipt::default()).unwrap();
        }
        if at == "checked" {
            k.call(&kkt::commands::marking::CheckMarkLocal::new(CODE)).unwrap();
        }
        if at == "paid" {
            k.call(&UnmarkedItem::new("Хлеб", 4550, Decimal::integer(1), 2, 4, 1)).unwrap();
            let p = Payment {
                taxation: Some(kkt::protocol::values::Taxation::OSN),
                cash: Some(4550),
                ..Default::default()
            };
            k.call(&p).unwrap();
        }
        let n = f.total_sent();
        let e = call(&mut k).unwrap_err();
        let Error::Sequence(v) = &e else { panic!("{at}: expected a refusal before sending, got {e}") };
        assert_eq!(v.code, code, "{at}: {e}");
        assert!(!v.expected.is_empty());
        // Issue 18 §5: before refusing, the driver may read the register's state again once
        // (FN status, marking status); nothing else may be sent, the refused command least of all.
        let since = f.codes_sent()[n..].to_vec();
        assert!(
            since.iter().all(|c| matches!(*c, 0x08 | 0x90)),
            "{at}: {e}: only state queries may be sent: {since:02x?}"
        );
        assert!(since.len() <= 2, "{at}: {e}: the state is read again once at most: {since:02x?}");
    }
}

/// Runs `op` with `fault` on `command`, and checks the outcome and the document count.
fn fault_case(
    command: u8,
    action: FaultAction,
    setup: impl Fn(&mut Kkt),
    op: impl Fn(&mut Kkt) -> Result<u32, Error>,
    options: kkt::emulator::EmulatorOptions,
) -> (Kkt, Arc<Faulty>) {
    let (mut k, f) = register_with(options, Options::fast());
    setup(&mut k);
    let fd0 = f.last_fd();
    f.arm(command, action);
    let r = op(&mut k);
    let fd1 = f.last_fd();
    assert_eq!(f.sent(command), 1, "{command:#04X} {action:?}: sent once");
    assert!(fd1 <= fd0 + 1, "{command:#04X} {action:?}: a second document");
    match action {
        FaultAction::CloseBefore => {
            let e = r.expect_err("not executed");
            assert!(matches!(e, Error::NotFormed { command: c, last_fd, .. } if c == command && last_fd == fd0), "{e}");
            assert_eq!(fd1, fd0);
        }
        _ => {
            let fd = r.unwrap_or_else(|e| panic!("{command:#04X} {action:?}: {e}"));
            assert_eq!((fd, fd1), (fd0 + 1, fd0 + 1), "{command:#04X} {action:?}");
            assert_eq!(k.last_reconciliation().map(|r| (r.command, r.fd_number)), Some((command, fd0 + 1)));
        }
    }
    (k, f)
}

const ACTIONS: [FaultAction; 4] =
    [FaultAction::CloseBefore, FaultAction::CloseAfter, FaultAction::Corrupt, FaultAction::Drop];

#[test]
fn lost_answers_to_receipts_never_give_a_second_document() {
    for action in ACTIONS {
        let (k, f) = fault_case(
            0x24,
            action,
            |k| {
                k.open_shift(&cashier()).unwrap();
            },
            |k| {
                let d = k.sell(&with_marked(Operation::SELL, CODE))?;
                assert!(d.recovered);
                assert_eq!(d.receipt_number, 1);
                assert_eq!(d.marks.len(), 1);
                Ok(d.fd_number)
            },
            Default::default(),
        );
        // The next sale works and is the next document.
        let (mut k, f) = (k, f);
        let fd = f.last_fd();
        let next = k.sell(&bread(Operation::SELL)).unwrap();
        assert_eq!(next.fd_number, fd + 1);
        assert!(!next.recovered);
    }
    // Not formed: the receipt was cancelled, and repeating the sale forms it once.
    let (mut k, f) = open();
    let fd0 = f.last_fd();
    f.arm(0x24, FaultAction::CloseBefore);
    assert!(matches!(k.sell(&bread(Operation::SELL)), Err(Error::NotFormed { .. })));
    assert_eq!(f.fn_status().current_document, 0);
    assert_eq!(k.sell(&bread(Operation::SELL)).unwrap().fd_number, fd0 + 1);
}

#[test]
fn lost_answers_to_corrections_and_reports() {
    let corr = || {
        let mut r = bread(Operation::SELL);
        r.correction =
            Some(CorrectionBasis { date: chrono::NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(), order_number: None });
        r
    };
    for action in ACTIONS {
        let open_shift = |k: &mut Kkt| {
            k.open_shift(&cashier()).unwrap();
        };
        fault_case(0x26, action, open_shift, |k| k.correction(&corr()).map(|d| d.fd_number), Default::default());
        fault_case(0x28, action, open_shift, |k| k.settlement_report().map(|d| d.fd_number), Default::default());
        fault_case(0x2A, action, open_shift, |k| k.close_shift().map(|d| d.fd_number), Default::default());
        fault_case(0x22, action, |_| {}, |k| k.open_shift(&cashier()).map(|d| d.fd_number), Default::default());
        fault_case(
            0x15,
            action,
            |_| {},
            |k| k.close_fn(Some(&ReportData::default())).map(|d| d.fd_number),
            Default::default(),
        );
        fault_case(
            0xE3,
            action,
            hosts,
            |k| k.register(&registration_data(), &registration_form()).map(|d| d.fd_number),
            kkt::emulator::EmulatorOptions { factory_fresh: true, ..Default::default() },
        );
    }
}

/// The OISM and key-update hosts, which a register selling marked goods needs before
/// registration (seed 004, 0x84 note); the test hosts of Appendix 4.
fn hosts(k: &mut Kkt) {
    k.call(&SetOismHost(OismHost::new("82.202.183.18", 21701, 30))).unwrap();
    k.call(&SetKeyUpdateHost(KeyUpdateHost::new("test.okp.atlas-kard.ru", 31101))).unwrap();
}

fn registration_data() -> RegistrationData {
    RegistrationData {
        user_name: "ООО Ромашка".into(),
        address: "г. Москва, ул. Ленина, 1".into(),
        place: "Магазин".into(),
        cashier: "Иванова А.А.".into(),
        cashier_inn: Some("500100732259".into()),
        ofd_inn: Some("7704211201".into()),
        ofd_name: Some("ОФД".into()),
        sender_email: Some("kkt@example.org".into()),
        usage: UsageConditions::MARKING,
        modes: OperatingModes::ENCRYPTION,
        ..Default::default()
    }
}

fn registration_form() -> FormRegistration {
    FormRegistration {
        inn: "7806197274".into(),
        registration_number: "0000000000038045".into(),
        taxation: TaxationSystems::GENERAL,
        reasons: None,
    }
}

#[test]
fn registration_then_a_sale() {
    let o = kkt::emulator::EmulatorOptions { factory_fresh: true, ..Default::default() };
    let (mut k, f) = register_with(o, Options::fast());
    hosts(&mut k);
    let r = k.register(&registration_data(), &registration_form()).unwrap();
    assert_eq!(r.fd_number, f.last_fd());
    k.open_shift(&cashier()).unwrap();
    k.sell(&with_marked(Operation::SELL, CODE)).unwrap();
}

#[test]
fn a_lost_item_step_cancels_the_receipt_and_forms_it_again_once() {
    // Issue 18 §6: nothing is formed before 0x24, so when a step's answer is lost the receipt
    // this call opened is cancelled (0x10) and formed again from its start: one document, never
    // two, and the caller gets it without a second run.
    let (mut k, f) = open();
    let fd0 = f.last_fd();
    f.arm(0x96, FaultAction::CloseAfter);
    let sent = f.total_sent();
    let d = k.sell(&bread(Operation::SELL)).unwrap();
    assert_eq!((d.fd_number, f.last_fd()), (fd0 + 1, fd0 + 1), "formed once");
    let codes = f.codes_sent()[sent..].to_vec();
    let cancel = codes.iter().position(|c| *c == 0x10).expect("the half-built receipt cancelled");
    assert_eq!(codes.iter().filter(|c| **c == 0x23).count(), 2, "opened again after the cancel: {codes:02x?}");
    assert_eq!(codes.iter().filter(|c| **c == 0x24).count(), 1, "formed once: {codes:02x?}");
    assert!(codes[..cancel].iter().all(|c| *c != 0x24), "{codes:02x?}");
    assert_eq!(f.fn_status().current_document, 0);

    // Same for a lost marking step: the code check is cleared, then done again.
    f.arm(0x94, FaultAction::Corrupt);
    let sent = f.total_sent();
    let d = k.sell(&with_marked(Operation::SELL, CODE)).unwrap();
    assert_eq!((d.fd_number, f.last_fd()), (fd0 + 2, fd0 + 2), "formed once");
    let codes = f.codes_sent()[sent..].to_vec();
    assert_eq!(codes.iter().filter(|c| **c == 0x24).count(), 1, "{codes:02x?}");
    assert!(codes.contains(&0x10), "the half-built receipt cancelled: {codes:02x?}");

    // A fault on every sending: the bounded restarts end in an error, nothing formed, nothing
    // left open.
    for _ in 0..10 {
        f.arm(0x96, FaultAction::CloseAfter);
    }
    let e = k.sell(&bread(Operation::SELL)).unwrap_err();
    assert_eq!(e.kind().as_str(), "link", "{e}");
    assert_eq!(f.last_fd(), fd0 + 2);
    assert_eq!(f.fn_status().current_document, 0, "cancelled");
}

#[test]
fn queries_survive_faults() {
    let (mut k, f) = open();
    for a in ACTIONS {
        f.arm(0x20, a);
        assert!(k.shift_params().unwrap().open);
    }
    f.arm(0x04, FaultAction::Corrupt);
    assert!(!k.call(&GetModel).unwrap().text.is_empty());
}

#[test]
fn keep_result_toggle_is_a_marking_step() {
    let (mut k, _f) = open();
    k.call(&OpenReceipt::default()).unwrap();
    let e = k.call(&KeepMarkCheck { keep: true }).unwrap_err();
    assert!(matches!(e, Error::Sequence(_)), "{e}");
}

#[test]
fn a_shift_open_whose_begin_answer_was_lost_is_finished() {
    let (mut k, f) = register();
    let fd0 = f.last_fd();
    f.arm(0x21, FaultAction::CloseAfter);
    let e = k.open_shift(&cashier()).unwrap_err();
    assert_eq!(e.kind().as_str(), "link", "{e}");
    assert_eq!(f.fn_status().current_document, 0x02, "the register is opening a shift");
    let r = k.open_shift(&cashier()).unwrap();
    assert_eq!(r.fd_number, fd0 + 1);
    assert_eq!(f.sent(0x21), 1, "0x21 not repeated");
    // Same for the close.
    f.arm(0x29, FaultAction::Corrupt);
    assert_eq!(k.close_shift().unwrap_err().kind().as_str(), "protocol");
    assert_eq!(k.close_shift().unwrap().fd_number, fd0 + 2);
    assert_eq!(f.sent(0x29), 1);
}

#[test]
fn the_emulator_uri_keeps_its_state_in_a_file() {
    let dir = std::env::temp_dir().join(format!("kkt-drv-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("register.json");
    let uri = format!("emulator?state={}", path.display());
    let fd = {
        let mut k = Kkt::connect_with(&uri, Options::fast()).unwrap();
        k.open_shift(&cashier()).unwrap();
        k.sell(&bread(Operation::SELL)).unwrap().fd_number
    };
    let mut k = Kkt::connect_with(&uri, Options::fast()).unwrap();
    assert_eq!(k.session().shift(), ShiftState::Open, "the shift is still open");
    assert_eq!(k.status().unwrap().fn_status.last_fd_number, fd);
    let _ = std::fs::remove_dir_all(&dir);
}
