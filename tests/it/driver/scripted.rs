//! The driver's retry and reconcile rules against a scripted register: each test lists the
//! commands the driver must send, in order, with the answers (or losses) the register gives.
//! A fiscal command is never sent twice.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use kkt::commands::archive::{ArchiveDocument, FoundDocument};
use kkt::commands::info::{FnStatus, Registration};
use kkt::commands::marking::MarkingStatus;
use kkt::commands::receipt::{FormReceipt, ReceiptResult, UnmarkedItem};
use kkt::commands::shift::ShiftParams;
use kkt::commands::Response;
use kkt::driver::{Event, Options};
use kkt::protocol::frame::encode;
use kkt::protocol::Decimal;
use kkt::transport::InProcTransport;
use kkt::{Error, Kkt};

/// What the scripted register does with one request.
enum Answer {
    /// A frame with RESULT 0 and these data.
    Ok(Vec<u8>),
    /// RESULT 1 with this code.
    Refuse(u8),
    /// Nothing (the connection closes).
    Lost,
    /// A frame with a broken CRC.
    Corrupt,
}

#[derive(Clone, Default)]
struct Script {
    steps: Arc<Mutex<VecDeque<(u8, Answer)>>>,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl Script {
    fn new(steps: Vec<(u8, Answer)>) -> Self {
        Script { steps: Arc::new(Mutex::new(steps.into())), sent: Arc::default() }
    }

    fn sent(&self) -> Vec<u8> {
        self.sent.lock().unwrap().clone()
    }

    fn left(&self) -> usize {
        self.steps.lock().unwrap().len()
    }

    fn responder(&self) -> impl Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static {
        let s = self.clone();
        move |req: &[u8]| {
            let code = req[4];
            s.sent.lock().unwrap().push(code);
            let (want, answer) =
                s.steps.lock().unwrap().pop_front().unwrap_or_else(|| panic!("unexpected {code:#04x}"));
            assert_eq!(code, want, "the driver sent {code:#04x} where the script expects {want:#04x}");
            let mut out = Vec::new();
            match answer {
                Answer::Ok(d) => encode(0, &d, &mut out).unwrap(),
                Answer::Refuse(c) => encode(1, &[c], &mut out).unwrap(),
                Answer::Lost => {}
                Answer::Corrupt => {
                    encode(0, &[1, 2, 3], &mut out).unwrap();
                    out[5] ^= 0xFF;
                }
            }
            out
        }
    }
}

fn bytes<R: Response>(r: R) -> Answer {
    let mut v = Vec::new();
    r.encode(&mut v).unwrap();
    Answer::Ok(v)
}

fn t() -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 4).unwrap().and_hms_opt(10, 20, 0).unwrap()
}

fn fn_status(last: u32, shift_open: bool, doc: u8) -> Answer {
    bytes(FnStatus {
        phase: kkt::protocol::values::LifePhase::FISCAL,
        current_document: doc.into(),
        document_data: 0,
        shift_open: u8::from(shift_open),
        warnings: 0,
        last_document_datetime: t(),
        fn_number: "9999078902003867".into(),
        last_fd_number: last,
    })
}

fn marking_status() -> Answer {
    bytes(MarkingStatus {
        check_state: 1,
        notification_state: 0,
        allowed_commands: 0,
        kept_results: 0,
        notification_codes: 0,
        storage_warning: 0,
        notification_queue: 0,
    })
}

fn registration() -> Answer {
    bytes(Registration {
        registration_number: "0000000000038045".into(),
        inn: "7806197274".into(),
        modes: Default::default(),
        taxation: kkt::protocol::values::TaxationSystems::GENERAL,
        agent: Default::default(),
    })
}

/// The resync on connect: FN status (shift open, a receipt open when `doc` is 4), marking
/// status, registration.
fn connect(last: u32, doc: u8) -> Vec<(u8, Answer)> {
    vec![(0x08, fn_status(last, true, doc)), (0x90, marking_status()), (0x0A, registration())]
}

fn resync(last: u32, doc: u8) -> Vec<(u8, Answer)> {
    vec![(0x08, fn_status(last, true, doc)), (0x90, marking_status())]
}

fn receipt_doc(fd: u32, op: u8, total: u64) -> Answer {
    let mut v = vec![3, 0];
    // Приложение 5.3: DATETIME(5), FD, FP, operation, UINT40 total.
    kkt::protocol::types::encode_datetime5(t(), &mut v).unwrap();
    v.extend_from_slice(&fd.to_le_bytes());
    v.extend_from_slice(&0x1234_5678u32.to_le_bytes());
    v.push(op);
    kkt::protocol::types::encode_u40(total, &mut v).unwrap();
    // The layout is the archive command's own: check it decodes as such.
    let d = FoundDocument::decode(&v).unwrap();
    assert!(matches!(d.document, ArchiveDocument::Receipt(_)));
    Answer::Ok(v)
}

fn kkt(script: &Script) -> Kkt {
    Kkt::with_transport(InProcTransport::new(Arc::new(script.responder())), Options::fast()).unwrap()
}

fn script(parts: Vec<Vec<(u8, Answer)>>) -> Script {
    Script::new(parts.into_iter().flatten().collect())
}

const FORM: FormReceipt = FormReceipt { operation: kkt::protocol::values::Operation::SELL, total: 15000 };

#[test]
fn lost_answer_formed_document_is_recovered_from_the_archive() {
    let s = script(vec![
        connect(10, 4),
        vec![
            (0x08, fn_status(10, true, 4)), // before
            (0x24, Answer::Lost),
            (0x08, fn_status(11, true, 0)), // after: one new document
            (0x30, receipt_doc(11, 1, 15000)),
            (0x20, bytes(ShiftParams { open: true, shift_number: 3, receipt_number: 17 })),
        ],
        resync(11, 0),
    ]);
    let mut k = kkt(&s);
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    k.on_event(move |e| ev.lock().unwrap().push(e.clone()));
    let r = k.call(&FORM).unwrap();
    assert_eq!(
        r,
        ReceiptResult { receipt_number: 17, fd_number: 11, fiscal_sign: 0x1234_5678, datetime: t(), shift_number: 3 }
    );
    assert_eq!(s.sent().iter().filter(|c| **c == 0x24).count(), 1, "0x24 sent once");
    assert_eq!(k.last_reconciliation().map(|r| r.fd_number), Some(11));
    assert!(events.lock().unwrap().contains(&Event::Reconciled { command: 0x24, formed: true, fd_number: Some(11) }));
    assert_eq!(s.left(), 0);
}

#[test]
fn corrupted_answer_not_formed_is_reported_as_such() {
    let s = script(vec![
        connect(10, 4),
        vec![(0x08, fn_status(10, true, 4)), (0x24, Answer::Corrupt), (0x08, fn_status(10, true, 4))],
        resync(10, 4),
    ]);
    let mut k = kkt(&s);
    let e = k.call(&FORM).unwrap_err();
    assert!(matches!(e, Error::NotFormed { command: 0x24, last_fd: 10, .. }), "{e}");
    assert_eq!(e.kind().as_str(), "not_formed");
    assert_eq!(s.sent().iter().filter(|c| **c == 0x24).count(), 1);
    assert_eq!(s.left(), 0);
}

#[test]
fn silent_register_gives_unknown_outcome_with_what_to_check() {
    let mut steps = connect(10, 4);
    steps.extend([(0x08, fn_status(10, true, 4)), (0x24, Answer::Lost)]);
    // Every FN status query after the loss goes unanswered (3 attempts × 3 sends each).
    for _ in 0..9 {
        steps.push((0x08, Answer::Lost));
    }
    let s = Script::new(steps);
    let mut k = kkt(&s);
    let e = k.call(&FORM).unwrap_err();
    let Error::UnknownOutcome(o) = &e else { panic!("{e}") };
    assert_eq!((o.command, o.last_fd_before), (0x24, Some(10)));
    assert!(o.check.contains("still 10") && o.check.contains("11"), "{}", o.check);
    assert_eq!(s.sent().iter().filter(|c| **c == 0x24).count(), 1);
    assert_eq!(s.left(), 0);
}

#[test]
fn two_new_documents_or_a_foreign_one_are_unknown() {
    let s = script(vec![
        connect(10, 4),
        vec![(0x08, fn_status(10, true, 4)), (0x24, Answer::Lost), (0x08, fn_status(12, true, 0))],
    ]);
    let e = kkt(&s).call(&FORM).unwrap_err();
    assert!(matches!(&e, Error::UnknownOutcome(o) if o.detail.contains("from 10 to 12")), "{e}");

    let s = script(vec![
        connect(10, 4),
        vec![
            (0x08, fn_status(10, true, 4)),
            (0x24, Answer::Lost),
            (0x08, fn_status(11, true, 0)),
            (0x30, receipt_doc(11, 2, 15000)), // a return, not our sale
        ],
    ]);
    let e = kkt(&s).call(&FORM).unwrap_err();
    assert!(matches!(&e, Error::UnknownOutcome(o) if o.detail.contains("operation 2")), "{e}");
    assert_eq!(s.sent().iter().filter(|c| **c == 0x24).count(), 1);
}

#[test]
fn queries_are_retried_after_a_loss_or_corruption() {
    let s = script(vec![
        connect(10, 0),
        vec![
            (0x20, Answer::Lost),
            (0x20, Answer::Corrupt),
            (0x20, bytes(ShiftParams { open: true, shift_number: 3, receipt_number: 0 })),
        ],
    ]);
    let mut k = kkt(&s);
    assert_eq!(k.shift_params().unwrap().shift_number, 3);
    assert_eq!(s.left(), 0);

    // Retries run out: the link error is returned.
    let s = script(vec![connect(10, 0), vec![(0x20, Answer::Lost), (0x20, Answer::Lost), (0x20, Answer::Lost)]]);
    let e = kkt(&s).shift_params().unwrap_err();
    assert_eq!(e.kind().as_str(), "link");
}

#[test]
fn a_lost_document_step_is_not_repeated_and_the_state_is_read_again() {
    let item = UnmarkedItem::new("Хлеб", 4550, Decimal::integer(1), 2, 4, 1);
    let s = script(vec![
        connect(10, 4),
        vec![(0x96, Answer::Lost)],
        // The next call first reads the state again (the receipt is still open).
        resync(10, 4),
        vec![(0x96, Answer::Ok(vec![]))],
    ]);
    let mut k = kkt(&s);
    let e = k.call(&item).unwrap_err();
    assert_eq!(e.kind().as_str(), "link");
    k.call(&item).unwrap();
    assert_eq!(s.left(), 0);
}

#[test]
fn damaged_request_0x25_is_sent_again_even_for_fiscal_commands() {
    let s = script(vec![
        connect(10, 4),
        vec![
            (0x08, fn_status(10, true, 4)),
            (0x24, Answer::Refuse(0x25)),
            (
                0x24,
                bytes(ReceiptResult {
                    receipt_number: 1,
                    fd_number: 11,
                    fiscal_sign: 9,
                    datetime: t(),
                    shift_number: 3,
                }),
            ),
        ],
    ]);
    let mut k = kkt(&s);
    assert_eq!(k.call(&FORM).unwrap().fd_number, 11);
    assert!(k.last_reconciliation().is_none());
    assert_eq!(s.left(), 0);
}

#[test]
fn out_of_order_calls_are_refused_before_sending() {
    // Shift closed, no document: a receipt cannot be formed. Issue 18 §5: before refusing, the
    // register's state is read again once (0x08, 0x90); the refused command is never sent.
    let s = Script::new(vec![
        (0x08, fn_status(10, false, 0)),
        (0x90, marking_status()),
        (0x0A, registration()),
        (0x08, fn_status(10, false, 0)),
        (0x90, marking_status()),
    ]);
    let mut k = kkt(&s);
    let sent_before = s.sent().len();
    let e = k.call(&FORM).unwrap_err();
    let Error::Sequence(v) = &e else { panic!("{e}") };
    assert_eq!((v.command, v.code), (0x24, 0x5B));
    assert!(e.hint().contains("open a receipt"), "{}", e.hint());
    assert_eq!(s.sent()[sent_before..], [0x08, 0x90], "only the state read again");
    assert_eq!(s.left(), 0);
}

#[test]
fn device_refusal_is_reported_with_its_code_and_the_state_read_again() {
    let item = UnmarkedItem::new("Хлеб", 4550, Decimal::integer(1), 2, 4, 1);
    let s = script(vec![
        connect(10, 4),
        vec![(0x96, Answer::Refuse(0x37))],
        resync(10, 4),
        vec![(0x96, Answer::Ok(vec![]))],
    ]);
    let mut k = kkt(&s);
    let e = k.call(&item).unwrap_err();
    assert_eq!(e.device_code(), Some(0x37));
    assert!(e.to_string().contains("0x37"), "{e}");
    k.call(&item).unwrap();
    assert_eq!(s.left(), 0);
}

#[test]
fn bad_input_is_refused_before_sending() {
    let s = Script::new(connect(10, 4));
    let mut k = kkt(&s);
    let item = UnmarkedItem::new(&"я".repeat(129), 4550, Decimal::integer(1), 2, 4, 1);
    let e = k.call(&item).unwrap_err();
    let Error::Input(i) = &e else { panic!("{e}") };
    assert_eq!(i.field, "name");
    assert_eq!(s.left(), 0);
}

#[test]
fn the_async_client_reconciles_the_same_way() {
    let s = script(vec![
        connect(10, 4),
        vec![
            (0x08, fn_status(10, true, 4)),
            (0x24, Answer::Lost),
            (0x08, fn_status(11, true, 0)),
            (0x30, receipt_doc(11, 1, 15000)),
            (0x20, bytes(ShiftParams { open: true, shift_number: 3, receipt_number: 17 })),
        ],
        resync(11, 0),
    ]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let t = InProcTransport::new(Arc::new(s.responder()));
        let mut k = kkt::AsyncKkt::with_transport(t, Options::fast()).await.unwrap();
        let r = k.call(&FORM).await.unwrap();
        assert_eq!((r.fd_number, r.receipt_number), (11, 17));
        assert_eq!(k.last_reconciliation().map(|r| r.command), Some(0x24));
    });
    assert_eq!(s.sent().iter().filter(|c| **c == 0x24).count(), 1);
    assert_eq!(s.left(), 0);
}

/// A transport that refuses the connection (nothing sent) for the listed commands, once each.
struct Refusing {
    refuse: Arc<Mutex<Vec<u8>>>,
    inner: InProcTransport,
}

impl kkt::transport::Transport for Refusing {
    fn exchange(
        &mut self,
        request: &[u8],
        timeout: std::time::Duration,
    ) -> Result<kkt::protocol::Frame, kkt::transport::ExchangeError> {
        let mut r = self.refuse.lock().unwrap();
        if let Some(i) = r.iter().position(|c| *c == request[4]) {
            r.remove(i);
            return Err(kkt::transport::LinkError::Connect {
                peer: "test".into(),
                source: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
            }
            .into());
        }
        drop(r);
        kkt::transport::Transport::exchange(&mut self.inner, request, timeout)
    }

    fn peer(&self) -> &str {
        "test"
    }
}

#[test]
fn a_request_that_never_left_is_sent_again_even_when_fiscal() {
    let s = script(vec![
        connect(10, 4),
        vec![
            (0x08, fn_status(10, true, 4)),
            (
                0x24,
                bytes(ReceiptResult {
                    receipt_number: 1,
                    fd_number: 11,
                    fiscal_sign: 9,
                    datetime: t(),
                    shift_number: 3,
                }),
            ),
        ],
        vec![(0x08, fn_status(11, true, 0))],
    ]);
    let refuse = Arc::new(Mutex::new(Vec::new()));
    let t = Refusing { refuse: refuse.clone(), inner: InProcTransport::new(Arc::new(s.responder())) };
    let mut k = Kkt::with_transport(t, Options::fast()).unwrap();
    let retries = Arc::new(Mutex::new(Vec::new()));
    let r2 = retries.clone();
    k.on_event(move |e| {
        if let Event::Retrying { command, .. } = e {
            r2.lock().unwrap().push(*command)
        }
    });
    *refuse.lock().unwrap() = vec![0x24, 0x24];
    assert_eq!(k.call(&FORM).unwrap().fd_number, 11);
    assert_eq!(*retries.lock().unwrap(), vec![0x24, 0x24]);
    assert_eq!(s.sent().iter().filter(|c| **c == 0x24).count(), 1, "reached the register once");

    // Refusals beyond the retries: a link error, and nothing was sent.
    *refuse.lock().unwrap() = vec![0x08; 3];
    let e = k.resync().unwrap_err();
    assert_eq!(e.kind().as_str(), "link");
    assert!(matches!(e, Error::Link { error, .. } if error.request_not_sent()));
    assert_eq!(s.left(), 1);
}
