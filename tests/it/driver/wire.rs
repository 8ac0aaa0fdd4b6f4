//! The driver against the `kkt emulator` process over real links: TCP (a connection per
//! command, and persistent), a pseudo-terminal as a serial port, and the async client, with
//! the emulator's own fault injection. No fault may produce a second fiscal document.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use kkt::driver::Options;
use kkt::protocol::Decimal;
use kkt::receipt::{Cashier, Item, Money, Receipt, Taxation, Vat};
use kkt::{AsyncKkt, Error, Kkt};

const CODE: &str = "010464007801637221gDDJ2VMOqvdNG\u{1d}91FFD0\u{1d}92dGVzdIjNx7Hb93pmLsV+niIDiJWV8ZFAjQdF9b2BO/o=";

struct Emulator {
    child: Child,
    at: String,
    _dir: Option<std::path::PathBuf>,
}

impl Emulator {
    /// `kkt emulator ARGS` with `faults` (JSON array) in a scenario file.
    fn start(args: &[&str], faults: &str) -> Emulator {
        let dir = std::env::temp_dir().join(format!("kkt-drv-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let scenario = dir.join("scenario.json");
        std::fs::write(&scenario, format!(r#"{{"faults": {faults}}}"#)).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_kkt"))
            .arg("emulator")
            .args(args)
            .arg("--scenario")
            .arg(&scenario)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn kkt emulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(!line.trim().is_empty(), "the emulator printed no address");
        Emulator { child, at: line.trim().to_string(), _dir: Some(dir) }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(d) = &self._dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}

/// Short timeouts: a truncated answer is given up on quickly.
fn opts() -> Options {
    let mut o = Options::fast();
    for c in [0x01u8, 0x08, 0x0A, 0x20, 0x21, 0x22, 0x24, 0x26, 0x28, 0x2A, 0x30, 0x90, 0x91, 0x92, 0x94] {
        o.timeouts.insert(c, Duration::from_secs(3));
    }
    o
}

fn sale(marked: bool) -> Receipt {
    let mut r = Receipt::sell(Taxation::OSN);
    r.items.push(Item::new("Хлеб", Money::from_kopecks(4550), Decimal::integer(2), Vat::VAT10));
    if marked {
        r.items.push(Item::marked("Молоко", Money::from_kopecks(8990), Vat::VAT10, CODE));
    }
    r.payments.cash = Money::from_kopecks(50000);
    r
}

fn last_fd(k: &mut Kkt) -> u32 {
    k.status().unwrap().fn_status.last_fd_number
}

/// A day with a fault on every fiscal command: the shift open is lost before execution (not
/// formed, opened again), a sale's answer lost after execution and another corrupted (both
/// recovered), the close truncated (recovered). Exactly one document per operation.
fn faulty_day(k: &mut Kkt) {
    let fd0 = last_fd(k);
    let cashier = Cashier::new("Иванова А.А.");
    let e = k.open_shift(&cashier).unwrap_err();
    assert!(matches!(e, Error::NotFormed { command: 0x22, .. }), "{e}");
    assert_eq!(last_fd(k), fd0);
    let opened = k.open_shift(&cashier).unwrap();
    assert_eq!(opened.fd_number, fd0 + 1);
    let a = k.sell(&sale(true)).unwrap();
    assert!(a.recovered, "close_after on 0x24");
    assert_eq!((a.fd_number, a.receipt_number), (fd0 + 2, 1));
    let b = k.sell(&sale(false)).unwrap();
    assert!(b.recovered, "corrupt on 0x24");
    assert_eq!((b.fd_number, b.receipt_number), (fd0 + 3, 2));
    let c = k.sell(&sale(true)).unwrap();
    assert!(!c.recovered);
    let closed = k.close_shift().unwrap();
    assert_eq!(closed.fd_number, fd0 + 5);
    assert!(k.last_reconciliation().is_some(), "drop on 0x2A");
    assert_eq!(last_fd(k), fd0 + 5, "one document per operation, none twice");
}

const DAY_FAULTS: &str = r#"[
    {"command": 34, "action": "close_before"},
    {"command": 36, "action": "close_after"},
    {"command": 36, "action": "corrupt"},
    {"command": 42, "action": "drop", "byte": 3}
]"#;

#[test]
fn tcp_per_command_faulty_day() {
    let emu = Emulator::start(&["--listen", "127.0.0.1:0"], DAY_FAULTS);
    let mut k = Kkt::connect_with(&format!("tcp://{}", emu.at), opts()).unwrap();
    faulty_day(&mut k);
}

#[test]
fn tcp_persistent_faulty_day() {
    let emu = Emulator::start(&["--listen", "127.0.0.1:0"], DAY_FAULTS);
    let mut k = Kkt::connect_with(&format!("tcp://{}?mode=persistent", emu.at), opts()).unwrap();
    faulty_day(&mut k);
}

// Unix only: `kkt emulator --pty` (Windows has no pseudo-terminal).
#[cfg(unix)]
#[test]
fn pty_serial_faulty_day() {
    let _g = crate::support::pty_lock();
    let emu = Emulator::start(&["--pty"], DAY_FAULTS);
    let mut k = Kkt::connect_with(&emu.at, opts()).unwrap();
    faulty_day(&mut k);
    // The port is held exclusively while the client lives.
    let e = Kkt::connect_with(&emu.at, opts()).unwrap_err();
    assert_eq!(e.kind().as_str(), "link", "{e}");
}

#[test]
fn async_tcp_sale_with_a_lost_answer() {
    let emu = Emulator::start(&["--listen", "127.0.0.1:0"], r#"[{"command": 36, "action": "close_after"}]"#);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let mut k = AsyncKkt::connect_with(&format!("tcp://{}", emu.at), opts()).await.unwrap();
        let fd0 = k.status().await.unwrap().fn_status.last_fd_number;
        k.open_shift(&Cashier::new("Иванова А.А.")).await.unwrap();
        // On a tokio task: the client's futures are Send.
        let h = tokio::spawn(async move {
            let d = k.sell(&sale(true)).await.unwrap();
            let d2 = k.sell(&sale(false)).await.unwrap();
            (k, d, d2)
        });
        let (mut k, d, d2) = h.await.unwrap();
        assert!(d.recovered && !d2.recovered);
        assert_eq!((d.fd_number, d2.fd_number), (fd0 + 2, fd0 + 3));
        assert_eq!(k.status().await.unwrap().fn_status.last_fd_number, fd0 + 3);
    });
}

// Unix only: `kkt emulator --pty` (Windows has no pseudo-terminal).
#[cfg(unix)]
#[test]
fn async_pty_sale() {
    let _g = crate::support::pty_lock();
    let emu = Emulator::start(&["--pty"], r#"[{"command": 36, "action": "corrupt"}]"#);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut k = AsyncKkt::connect_with(&emu.at, opts()).await.unwrap();
        k.open_shift(&Cashier::new("Иванова А.А.")).await.unwrap();
        let d = k.sell(&sale(true)).await.unwrap();
        assert!(d.recovered);
    });
}

/// A register's whole life through the driver, from a factory-fresh FN to its closing, using
/// every command the virtual register implements. Returns nothing; panics on a wrong answer.
fn whole_life(k: &mut Kkt) {
    use kkt::commands::{archive, cash, info, marking, receipt, report, settings};
    // Settings a register selling marked goods needs before registration.
    k.call(&settings::SetOismHost(settings::OismHost::new("82.202.183.18", 21701, 30))).unwrap();
    assert_eq!(k.call(&settings::GetOismHost).unwrap().port, 21701);
    k.call(&settings::SetKeyUpdateHost(settings::KeyUpdateHost::new("test.okp.atlas-kard.ru", 31101))).unwrap();
    assert_eq!(k.call(&settings::GetKeyUpdateHost).unwrap().port, 31101);
    k.call(&settings::EnterActivationCode { code: *b"ABCDEF0123456789" }).unwrap();
    k.call(&settings::GetServiceParams).unwrap();
    k.call(&settings::GetFnFormat).unwrap();
    // The printer (v01.05): a line, a QR code, a barcode, the buffer of formatted lines, a cut.
    {
        use kkt::commands::printer;
        k.call(&printer::PrintLine::new("kkt: проверка печати")).unwrap();
        k.call(&printer::PrintQr { text: "https://github.com/kkt".into() }).unwrap();
        k.call(&printer::PrintBarcode { barcode_type: 0, text: "4600439931256".into() }).unwrap();
        let lines =
            vec![printer::FormattedLine::new(0, 0, "Hello"), printer::FormattedLine::new(0x08, 1, "1234567890")];
        k.call(&printer::WriteFormattedLines::new(lines)).unwrap();
        k.call(&printer::PrintBuffer).unwrap();
        k.call(&printer::Cut { partial: None }).unwrap();
    }
    // Information.
    let st = k.call(&info::GetStatus).unwrap();
    assert!(!st.serial.is_empty());
    k.call(&info::GetSerial).unwrap();
    k.call(&info::GetFirmwareVersion).unwrap();
    assert!(!k.call(&info::GetModel).unwrap().text.is_empty());
    k.call(&info::GetFnSerial).unwrap();
    k.call(&info::GetFnFirmwareVersion).unwrap();
    let _ = k.call(&info::GetFnValidity); // a fresh FN may have no validity yet
    k.call(&info::GetFnErrors).unwrap();
    let _ = k.call(&info::GetRegistration); // not registered yet: refused
    k.call(&info::GetConfigVersion).unwrap();
    k.call(&info::GetTcpIp).unwrap();
    k.call(&info::GetOfdExchangeStatus).unwrap();
    let now = k.call(&info::GetDateTime).unwrap();
    k.call(&info::SetDateTime(now.clone())).unwrap();
    k.call(&info::GetLineWidth).unwrap();
    let ofd = k.call(&kkt::commands::network::GetOfdSettings).unwrap();
    k.call(&kkt::commands::network::SetOfdSettings(ofd)).unwrap();
    k.call(&marking::GetFnMemory).unwrap();
    k.call(&marking::GetNotificationState).unwrap();
    k.call(&marking::GetMarkingStatus).unwrap();
    // Registration.
    let data = kkt::commands::registration::RegistrationData {
        user_name: "ООО Ромашка".into(),
        address: "г. Москва, ул. Ленина, 1".into(),
        place: "Магазин".into(),
        cashier: "Иванова А.А.".into(),
        ofd_inn: Some("7704211201".into()),
        usage: kkt::protocol::values::UsageConditions::MARKING,
        modes: kkt::protocol::values::OperatingModes::ENCRYPTION,
        ..Default::default()
    };
    let form = kkt::commands::registration::FormRegistration {
        inn: "7806197274".into(),
        registration_number: "0000000000038045".into(),
        taxation: kkt::protocol::values::TaxationSystems::GENERAL,
        reasons: None,
    };
    let reg = k.register(&data, &form).unwrap();
    assert_eq!(k.call(&info::GetRegistration).unwrap().inn, "7806197274");
    // The day.
    let cashier = Cashier { name: "Иванова А.А.".into(), inn: Some("500100732259".into()) };
    let opened = k.open_shift(&cashier).unwrap();
    assert_eq!(opened.fd_number, reg.fd_number + 1);
    assert!(k.shift_params().unwrap().open);
    k.call(&cash::CashIn { amount: 100_000 }).unwrap();
    k.call(&cash::CashOut { amount: 10_000 }).unwrap();
    k.call(&cash::GetCashTotals).unwrap();
    let mut r = sale(true);
    r.cashier = Some(cashier.clone());
    r.customer = Some(kkt::receipt::Customer { contact: Some("+79990000000".into()), ..Default::default() });
    let sold = k.sell(&r).unwrap();
    assert_eq!(sold.fd_number, opened.fd_number + 1);
    // A receipt begun, a code checked and dropped, the checks cleared, the receipt cancelled.
    k.call(&receipt::OpenReceipt::default()).unwrap();
    k.check_mark(CODE, kkt::receipt::PlannedStatus::PIECE_SOLD, 1.into()).unwrap();
    k.decline_mark().unwrap();
    k.call(&marking::ClearMarkChecks).unwrap();
    k.cancel_document().unwrap();
    let mut corr = sale(false);
    corr.correction = Some(kkt::receipt::CorrectionBasis { date: now.datetime.date(), order_number: None });
    let c = k.correction(&corr).unwrap();
    assert_eq!(c.fd_number, sold.fd_number + 1);
    k.call(&report::BeginSettlementReport).unwrap();
    let rd =
        report::ReportData {
            address: Some("г. Москва".into()), place: Some("Магазин".into()), ..Default::default()
        };
    k.call(&report::SettlementReportData(rd)).unwrap();
    let s = k.call(&report::FormSettlementReport).unwrap();
    assert_eq!(s.fd_number, c.fd_number + 1);
    let closed = k.close_shift().unwrap();
    assert_eq!(closed.fd_number, s.fd_number + 1);
    // The archive.
    let found = k.call(&archive::FindDocument { fd_number: sold.fd_number }).unwrap();
    assert_eq!(found.document.header().map(|h| h.fiscal_sign), Some(sold.fiscal_sign));
    let whole = k.call(&archive::ReadDocumentAsTlv { fd_number: sold.fd_number }).unwrap();
    // The same document TLV by TLV (0x35, then 0x36 until its length is read).
    let info = k.call(&archive::RequestDocumentTlv { fd_number: sold.fd_number }).unwrap();
    assert_eq!(usize::from(info.length), whole.tlv.to_bytes().len());
    let mut one_by_one = Vec::new();
    while one_by_one.len() < usize::from(info.length) {
        one_by_one.extend(k.call(&archive::ReadDocumentTlv).unwrap().tlv.to_bytes());
    }
    assert_eq!(one_by_one, whole.tlv.to_bytes());
    // As a person reads it: the fiscal sign of 1077 is 0x24's and 0x30's.
    assert_eq!(k.document(sold.fd_number).unwrap().fiscal_sign, sold.fiscal_sign);
    k.print_document_copy(sold.fd_number).unwrap();
    assert_eq!(k.print_ofd_receipt(sold.fd_number).unwrap().fd_number, sold.fd_number);
    assert_eq!(k.call(&archive::GetUnconfirmedCount).unwrap().count, 0);
    assert!(k.ofd_status().unwrap().warnings.is_empty());
    // The service settings a technician reads and writes: network, print, control.
    use kkt::commands::{network, printer};
    k.call(&network::SetNetworkSettings(network::NetworkSettings::fixed(
        "192.168.1.50",
        "255.255.255.0",
        "192.168.1.1",
    )))
    .unwrap();
    let n = k.call(&network::GetNetworkSettings).unwrap();
    assert_eq!(n, network::NetworkSettings::fixed("192.168.1.50", "255.255.255.0", "192.168.1.1"));
    let p = k.call(&printer::GetPrintSettings).unwrap();
    k.call(&printer::SetPrintSettings(p.clone())).unwrap();
    assert_eq!(k.call(&printer::GetPrintSettings).unwrap(), p);
    k.call(&network::SetControlSettings(network::ControlSettings::ethernet(7778))).unwrap();
    assert_eq!(k.call(&network::GetControlSettings).unwrap(), network::ControlSettings::ethernet(7778));
    // The end of the FN.
    let end =
        k.close_fn(Some(&report::ReportData { cashier: Some("Иванова А.А.".into()), ..Default::default() })).unwrap();
    assert_eq!(end.fd_number, closed.fd_number + 1);
}

/// The virtual register in process, counting the commands it is sent.
struct Counting {
    reg: kkt::emulator::VirtualRegister,
    seen: Mutex<std::collections::BTreeSet<u8>>,
}

impl kkt::transport::Responder for Counting {
    fn respond(&self, request: &[u8]) -> Vec<u8> {
        self.seen.lock().unwrap().insert(request[4]);
        self.reg.exchange(request)
    }
}

#[test]
fn whole_life_in_process_uses_every_command_of_the_register() {
    let c = std::sync::Arc::new(Counting {
        reg: kkt::emulator::VirtualRegister::new(kkt::emulator::EmulatorOptions {
            factory_fresh: true,
            ..Default::default()
        }),
        seen: Mutex::default(),
    });
    let mut k = Kkt::with_transport(kkt::transport::InProcTransport::new(c.clone()), opts()).unwrap();
    whole_life(&mut k);
    let seen = c.seen.lock().unwrap();
    let missing: Vec<String> =
        kkt::emulator::register::COMMANDS.iter().filter(|c| !seen.contains(c)).map(|c| format!("{c:#04X}")).collect();
    assert!(missing.is_empty(), "commands the driver never sent: {missing:?}");
}

#[test]
fn whole_life_over_tcp() {
    let emu = Emulator::start(&["--listen", "127.0.0.1:0", "--factory-fresh"], "[]");
    let mut k = Kkt::connect_with(&format!("tcp://{}", emu.at), opts()).unwrap();
    whole_life(&mut k);
}

// Unix only: `kkt emulator --pty` (Windows has no pseudo-terminal).
#[cfg(unix)]
#[test]
fn whole_life_over_a_pty() {
    let _g = crate::support::pty_lock();
    let emu = Emulator::start(&["--pty", "--factory-fresh"], "[]");
    let mut k = Kkt::connect_with(&format!("serial://{}?baud=115200", emu.at), opts()).unwrap();
    whole_life(&mut k);
}
