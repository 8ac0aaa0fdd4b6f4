//! A till's whole working day through the high-level API (issue 16) against `kkt emulator` over
//! TCP, with a recording proxy between them: every requisite of a receipt checked on the wire tag
//! by tag, a vending register's 0xC9 and the defaults from its registration, cash in and out with a
//! lost answer settled once, the documents of the day read back from the archive with the fiscal
//! sign of 0x24, 0x30 and 0x3A held together, a re-registration with FN replacement, a registration
//! refused for missing OISM hosts. No step of the day goes through `Kkt::call` (the registration
//! test saves the hosts with it, as `kkt settings … set` does).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use kkt::commands::registration::{FormRegistration, RegistrationData};
use kkt::driver::Options;
use kkt::protocol::frame::{self, Parsed};
use kkt::protocol::values::{OperatingModes, ReregistrationReasons, TaxationSystems, UsageConditions};
use kkt::protocol::{cmd, tag, TlvWriter};
use kkt::receipt::{Cashier, Money, Receipt};
use kkt::{Error, Kkt};

/// `kkt emulator --listen 127.0.0.1:0 ARGS`, with `faults` (a JSON array) in a scenario file.
struct Emulator {
    child: Child,
    addr: String,
    dir: std::path::PathBuf,
}

impl Emulator {
    fn start(args: &[&str], faults: &str) -> Emulator {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("kkt-day-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let scenario = dir.join("scenario.json");
        std::fs::write(&scenario, format!(r#"{{"faults": {faults}}}"#)).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_kkt"))
            .args(["emulator", "--listen", "127.0.0.1:0", "--scenario"])
            .arg(&scenario)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        Emulator { child, addr: line.trim().to_string(), dir }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The request frames that went through, as (command, DATA).
type Log = Arc<Mutex<Vec<(u8, Vec<u8>)>>>;

/// A TCP proxy in front of `upstream` that records every request frame.
fn recording_proxy(upstream: String) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let log: Log = Arc::default();
    let l = log.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else { continue };
            let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut s_read, mut c_write) = (server, client);
            let l = l.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut b = [0u8; 2048];
                while let Ok(n) = c_read.read(&mut b) {
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&b[..n]);
                    while let Parsed::Frame { frame, consumed, .. } = frame::parse(&buf) {
                        l.lock().unwrap().push((frame.code, frame.data.to_vec()));
                        buf.drain(..consumed);
                    }
                    if s_write.write_all(&b[..n]).is_err() {
                        break;
                    }
                }
                let _ = s_write.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_read, &mut c_write);
                let _ = c_write.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (addr, log)
}

fn connect(addr: &str) -> Kkt {
    Kkt::connect_with(&format!("tcp://{addr}"), Options::fast()).unwrap()
}

fn fixture(name: &str) -> Receipt {
    let text = std::fs::read_to_string(format!("{}/fixtures/receipts/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    Receipt::from_json(&text).unwrap()
}

/// A TLV list as (tag, value hex), STLVs opened: what the wire carried, tag by tag.
fn tags(data: &[u8]) -> Vec<(u16, String)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 4 <= data.len() {
        let t = u16::from_le_bytes([data[at], data[at + 1]]);
        let len = usize::from(u16::from_le_bytes([data[at + 2], data[at + 3]]));
        let v = &data[at + 4..at + 4 + len];
        if matches!(t, tag::INDUSTRY_ITEM_REQUISITE | tag::INDUSTRY_RECEIPT_REQUISITE) {
            let inner: Vec<String> = tags(v).into_iter().map(|(t, v)| format!("{t}={v}")).collect();
            out.push((t, format!("[{}]", inner.join(" "))));
        } else {
            out.push((t, hex::encode_upper(v)));
        }
        at += 4 + len;
    }
    assert_eq!(at, data.len(), "a whole TLV list");
    out
}

/// The expected (tag, value hex) of a text.
fn s(t: u16, v: &str) -> (u16, String) {
    let mut w = TlvWriter::new();
    w.string(t, v).unwrap();
    (t, hex::encode_upper(&w.as_bytes()[4..]))
}

fn b(t: u16, v: u8) -> (u16, String) {
    (t, format!("{v:02X}"))
}

fn vln(t: u16, v: u64) -> (u16, String) {
    let mut w = TlvWriter::new();
    w.vln(t, v).unwrap();
    (t, hex::encode_upper(&w.as_bytes()[4..]))
}

fn industry(t: u16, foiv: u8, date: &str, number: &str, value: &str) -> (u16, String) {
    let inner = [b(1262, foiv), s(1263, date), s(1264, number), s(1265, value)];
    (t, format!("[{}]", inner.iter().map(|(t, v)| format!("{t}={v}")).collect::<Vec<_>>().join(" ")))
}

#[test]
fn a_whole_day_with_every_requisite_on_the_wire() {
    let emu = Emulator::start(&[], "[]");
    let (proxy, log) = recording_proxy(emu.addr.clone());
    let mut kkt = connect(&proxy);
    let opened = kkt.open_shift(&Cashier::new("Иванова А.А.")).unwrap();

    // The receipt with every requisite of seed 004's 0x96 and 0x98.
    let r = fixture("requisites.json");
    log.lock().unwrap().clear();
    let doc = kkt.sell(&r).unwrap();
    assert!(doc.defaults.is_empty(), "a shop register takes no defaults");
    assert!(!doc.correction);
    let sent = log.lock().unwrap().clone();
    let items: Vec<&Vec<u8>> = sent.iter().filter(|(c, _)| *c == cmd::ITEM).map(|(_, d)| d).collect();
    assert_eq!(items.len(), 3);
    let head = |name: &str, price: u64, vat: u8, object: u8| {
        vec![s(1030, name), vln(1079, price), (1023, "0001".into()), b(1199, vat), b(1214, 4), b(1212, object)]
    };
    // A bank payment agent: 1222 = 1, the money transfer operator's data, the supplier; 1016
    // and 1226 padded with spaces to 12.
    let mut want = head("Оплата мобильной связи", 30000, 6, 4);
    want.extend([
        b(1222, 1),
        s(1075, "+74950000001"),
        s(1044, "Платеж"),
        s(1026, "АО \"Банк\""),
        s(1005, "г. Москва, ул. Банковская, д. 3"),
        s(1016, "7702070139  "),
        s(1171, "+74950000002"),
        s(1225, "ПАО \"Связь\""),
        s(1226, "7707049388  "),
    ]);
    assert_eq!(tags(items[0]), want, "item 0 (0x96)");
    // A payment agent: 1222 = 4, its phones 1073 and 1074.
    let mut want = head("Коммунальные услуги", 150000, 6, 4);
    want.extend([
        b(1222, 4),
        s(1073, "+74950000003"),
        s(1074, "+74950000004"),
        s(1225, "ГУП \"ЖКХ\""),
        s(1226, "7710000004  "),
    ]);
    assert_eq!(tags(items[1]), want, "item 1 (0x96)");
    // Excise goods of a commission agent: 1229, 1231, 1230 padded to 3, 1191, 1260.
    let mut want = head("Вино красное сухое", 89000, 1, 2);
    want.extend([
        vln(1229, 4500),
        s(1231, "10702070/010124/0012345"),
        s(1230, "250"),
        s(1191, "партия 7"),
        b(1222, 32),
        s(1171, "+74950000005"),
        s(1225, "ИП Петров"),
        s(1226, "500100732259"),
        industry(1260, 30, "21.11.2023", "1944", "id=5"),
    ]);
    assert_eq!(tags(items[2]), want, "item 2 (0x96)");
    // 0x98: every receipt requisite, 1228 padded to 12, 1262 one BYTE (the JSON gave "030").
    let req = &sent.iter().find(|(c, _)| *c == cmd::RECEIPT_REQUISITES).expect("0x98 sent").1;
    let want = vec![
        s(1009, "г. Москва, ул. Тверская, д. 1"),
        s(1187, "Магазин \"Ромашка\", касса 3"),
        s(1036, "00000042"),
        s(1021, "Иванова А.А."),
        s(1203, "500100732259"),
        s(1008, "buyer@example.ru"),
        s(1228, "7740000076  "),
        s(1227, "ООО \"Покупатель\""),
        s(1243, "01.02.1990"),
        s(1244, "643"),
        b(1245, 21),
        s(1246, "4510 123456"),
        s(1254, "г. Москва, ул. Покупателей, д. 2"),
        s(1192, "заказ 1234"),
        s(1085, "Бонусная карта"),
        s(1086, "7000 1234"),
        industry(1261, 30, "26.03.2022", "477", "mode=2"),
    ];
    assert_eq!(tags(req), want, "0x98");
    let order: Vec<u8> =
        sent.iter().map(|(c, _)| *c).filter(|c| !matches!(c, 0x08 | 0x01 | 0x0A | 0x3B | 0x20 | 0x90)).collect();
    assert_eq!(order, [0x23, 0x96, 0x96, 0x96, 0x98, 0x2D, 0x24], "the receipt's commands in order");

    // The archive holds what was sent: the receipt read back with its requisites, and its
    // fiscal sign the same in 0x24's answer, 0x30's and tag 1077 of 0x3A.
    let stored = kkt.document(doc.fd_number).unwrap();
    assert_eq!((stored.document, stored.fiscal_sign), ("receipt", doc.fiscal_sign));
    assert_eq!(stored.items.len(), 3);
    assert_eq!(stored.items[0].item.agent, r.items[0].agent);
    assert_eq!(stored.items[2].item.industry_requisites, r.items[2].industry_requisites);
    assert_eq!(stored.items[2].item.country_code.as_deref(), Some("250"));
    assert_eq!(stored.settlement_place, r.settlement_place);
    assert_eq!(stored.user_requisite, r.user_requisite);
    assert_eq!(stored.industry_requisites, r.industry_requisites);
    assert_eq!(stored.customer.as_ref().and_then(|c| c.inn.as_deref()), Some("7740000076"));
    assert_eq!(stored.total, Some(doc.total));

    // Cash in and out; out above the drawer is the register's 0x42, with its text.
    let before = kkt.cash_totals().unwrap();
    let c = kkt.cash_in(Money::from_kopecks(100_000)).unwrap();
    assert_eq!((c.before, c.after.cash.kopecks()), (before, before.cash.kopecks() + 100_000));
    let c = kkt.cash_out(Money::from_kopecks(50_000)).unwrap();
    assert_eq!(c.after.cash.kopecks(), before.cash.kopecks() + 50_000);
    let e = kkt.cash_out(Money::from_kopecks(c.after.cash.kopecks() + 1)).unwrap_err();
    assert_eq!(e.device_code(), Some(0x42), "{e}");
    assert!(e.to_string().contains("Сумма изъятия больше доступной суммы наличных"), "{e}");
    assert_eq!(kkt.cash_totals().unwrap(), c.after, "nothing taken");

    // A correction receipt: only through the correction call.
    let corr = fixture("correction.json");
    let e = kkt.receipt(&corr).unwrap_err();
    assert!(matches!(&e, Error::Input(i) if i.field == "correction"), "{e}");
    let cd = kkt.correction(&corr).unwrap();
    assert!(cd.correction);
    let report = kkt.settlement_report().unwrap();
    let closed = kkt.close_shift().unwrap();

    // Every document of the day from the archive, as it was, with the numbers the commands gave.
    let kinds: Vec<(u32, &str, u32)> = vec![
        (opened.fd_number, "shift_open", opened.fiscal_sign),
        (doc.fd_number, "receipt", doc.fiscal_sign),
        (cd.fd_number, "correction", cd.fiscal_sign),
        (report.fd_number, "settlement_report", report.fiscal_sign),
        (closed.fd_number, "shift_close", closed.fiscal_sign),
        (1, "registration", 0),
    ];
    for (fd, kind, sign) in kinds {
        let d = kkt.document(fd).unwrap();
        assert_eq!(d.document, kind, "FD {fd}");
        if sign != 0 {
            assert_eq!(d.fiscal_sign, sign, "FD {fd}: 1077 as printed is the sign the command gave");
        }
        // 0x30's number and tag 1077's agree.
        let tlv_sign = d.tlv.as_array().unwrap().iter().find(|t| t["tag"] == 1077).expect("1077")["value"].clone();
        let hexed = tlv_sign.as_str().unwrap();
        assert_eq!(u32::from_str_radix(&hexed[4..], 16).unwrap(), d.fiscal_sign, "FD {fd}");
    }
    let cdoc = kkt.document(cd.fd_number).unwrap();
    assert_eq!(cdoc.title, "ЧЕК КОРРЕКЦИИ");
    assert!(cdoc.corrected_date.is_some());
    assert_eq!(kkt.last_fd().unwrap(), closed.fd_number);
    // The commands of the day: none is `Kkt::call`'s only (every one above is a method).
    let all = log.lock().unwrap();
    assert_eq!(all.iter().filter(|(c, _)| *c == cmd::CASH_IN).count(), 1);
    assert_eq!(all.iter().filter(|(c, _)| *c == cmd::CASH_OUT).count(), 2);
}

#[test]
fn a_vending_register_needs_1009_1187_1036_and_takes_the_registered_ones() {
    let emu = Emulator::start(&["--modes", "automat"], "[]");
    let mut kkt = connect(&emu.addr);
    kkt.open_shift(&Cashier::new("Автомат")).unwrap();
    let mut sale = Receipt::from_json(&fixture_text("sale.json")).unwrap();
    sale.items.truncate(1);
    sale.customer = None;
    sale.payments.cash = sale.total();
    // The register itself refuses a receipt without them (0xC9), as a real one does: the
    // frames without the driver's defaults, on their own connection.
    let mut raw = TcpStream::connect(&emu.addr).unwrap();
    let send = |s: &mut TcpStream, code: u8, data: &[u8]| -> Result<Vec<u8>, u8> {
        let mut f = Vec::new();
        frame::encode(code, data, &mut f).unwrap();
        s.write_all(&f).unwrap();
        let mut buf = Vec::new();
        let mut b = [0u8; 512];
        loop {
            if let Parsed::Frame { frame, .. } = frame::parse(&buf) {
                return match frame.response() {
                    Ok(d) => Ok(d.to_vec()),
                    Err(kkt::protocol::ResponseError::Device(e)) => Err(e.code),
                    Err(e) => panic!("{e}"),
                };
            }
            let n = s.read(&mut b).unwrap();
            assert!(n > 0);
            buf.extend_from_slice(&b[..n]);
        }
    };
    use kkt::commands::Request;
    let enc = |r: &dyn Fn(&mut Vec<u8>)| {
        let mut d = Vec::new();
        r(&mut d);
        d
    };
    send(&mut raw, cmd::BEGIN_RECEIPT, &[]).unwrap();
    let item = kkt::commands::receipt::UnmarkedItem::new("Вода", 5000, 1u32.into(), 1, 4, 1);
    send(&mut raw, cmd::ITEM, &enc(&|d| item.encode(d).unwrap())).unwrap();
    let pay = kkt::commands::receipt::Payment {
        taxation: Some(kkt::protocol::values::Taxation::OSN),
        cash: Some(5000),
        ..Default::default()
    };
    send(&mut raw, cmd::PAYMENT_DATA, &enc(&|d| pay.encode(d).unwrap())).unwrap();
    let form = kkt::commands::receipt::FormReceipt { operation: kkt::protocol::values::Operation::SELL, total: 5000 };
    assert_eq!(send(&mut raw, cmd::FORM_RECEIPT, &enc(&|d| form.encode(d).unwrap())), Err(0xC9));
    send(&mut raw, cmd::CANCEL_DOCUMENT, &[]).unwrap();
    drop(raw);

    // Through the driver: the registered address, place and machine number, said in the answer.
    kkt.resync().unwrap();
    let doc = kkt.sell(&sale).unwrap();
    let used: Vec<(&str, u16, &str)> = doc.defaults.iter().map(|d| (d.field, d.tag, d.value.as_str())).collect();
    assert_eq!(
        used,
        [
            ("settlement_address", 1009, "г. Москва, ул. Тестовая, д. 1"),
            ("settlement_place", 1187, "Торговый зал"),
            ("automat_number", 1036, "00000042")
        ]
    );
    let stored = kkt.document(doc.fd_number).unwrap();
    assert_eq!(stored.automat_number.as_deref(), Some("00000042"));
    // A value the receipt gives wins over the registered one.
    sale.settlement_place = Some("Вокзал, перрон 2".into());
    let doc = kkt.sell(&sale).unwrap();
    assert_eq!(doc.defaults.len(), 2);
    assert_eq!(kkt.document(doc.fd_number).unwrap().settlement_place.as_deref(), Some("Вокзал, перрон 2"));
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/receipts/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn one_to_many_and_delivery_registers_refuse_what_no_one_gives() {
    for (modes, field) in [("one_to_many", "settlement_address"), ("delivery", "settlement_place")] {
        let emu = Emulator::start(&["--modes", modes], "[]");
        let mut kkt = connect(&emu.addr);
        kkt.open_shift(&Cashier::new("Кассир")).unwrap();
        let mut sale = Receipt::from_json(&fixture_text("sale.json")).unwrap();
        sale.items.truncate(1);
        sale.payments.cash = sale.total();
        let e = kkt.sell(&sale).unwrap_err();
        assert!(matches!(&e, Error::Input(i) if i.field == field && i.message.contains("0xC9")), "{modes}: {e}");
        assert!(!kkt.status().unwrap().session.document_open(), "nothing was opened");
        sale.settlement_address = Some("Маршрут 5".into());
        sale.settlement_place = Some("Автолавка А123ВС".into());
        sale.automat_number = Some("А123ВС77".into());
        let doc = kkt.sell(&sale).unwrap();
        if modes == "delivery" {
            // The registered address was not needed: the receipt gave it.
            assert!(doc.defaults.is_empty());
        }
    }
}

#[test]
fn a_lost_answer_to_cash_in_is_settled_once() {
    // The emulator executes the first 0xB3 and closes the connection without answering.
    let emu = Emulator::start(&[], r#"[{"command": 179, "action": "close_after", "times": 1}]"#);
    let (proxy, log) = recording_proxy(emu.addr.clone());
    let mut kkt = connect(&proxy);
    kkt.open_shift(&Cashier::new("Кассир")).unwrap();
    let before = kkt.cash_totals().unwrap();
    let c = kkt.cash_in(Money::from_kopecks(123_400)).unwrap();
    assert!(c.recovered, "the answer was lost and the counters showed it done");
    assert_eq!(c.after.cash.kopecks(), before.cash.kopecks() + 123_400);
    assert_eq!(kkt.cash_totals().unwrap().cash.kopecks(), before.cash.kopecks() + 123_400, "exactly once");
    assert_eq!(log.lock().unwrap().iter().filter(|(c, _)| *c == cmd::CASH_IN).count(), 1, "never sent again");

    // Lost before it was done: the counters did not move, NotFormed, safe to repeat.
    let emu = Emulator::start(&[], r#"[{"command": 180, "action": "close_before", "times": 1}]"#);
    let mut kkt = connect(&emu.addr);
    kkt.open_shift(&Cashier::new("Кассир")).unwrap();
    kkt.cash_in(Money::from_kopecks(10_000)).unwrap();
    let e = kkt.cash_out(Money::from_kopecks(5_000)).unwrap_err();
    assert!(matches!(e, Error::NotFormed { command: 0xB4, .. }), "{e}");
    assert_eq!(kkt.cash_totals().unwrap().cash.kopecks(), 10_000);
    kkt.cash_out(Money::from_kopecks(5_000)).unwrap();
    assert_eq!(kkt.cash_totals().unwrap().cash.kopecks(), 5_000);
}

fn registration_data() -> RegistrationData {
    RegistrationData {
        user_name: "ООО \"Ромашка\"".into(),
        address: "г. Москва, ул. Тверская, д. 1".into(),
        place: "Магазин".into(),
        cashier: "Иванов И.И.".into(),
        ofd_inn: Some("7704211201".into()),
        usage: UsageConditions::MARKING,
        modes: OperatingModes::ENCRYPTION,
        ..Default::default()
    }
}

#[test]
fn registration_needs_the_oism_hosts_and_reregistration_sends_1205_as_32_bits() {
    let emu = Emulator::start(&["--factory-fresh"], "[]");
    let (proxy, log) = recording_proxy(emu.addr.clone());
    let mut kkt = connect(&proxy);
    let form = FormRegistration {
        inn: "7806197274".into(),
        registration_number: "0000000000038045".into(),
        taxation: TaxationSystems::GENERAL,
        reasons: None,
    };
    // Refused before 0xE1: kkt read 0x83 and 0x85 and found them empty.
    let e = kkt.register(&registration_data(), &form).unwrap_err();
    let text = format!("{e} {}", e.hint());
    assert!(matches!(e, Error::Sequence(_)), "{e}");
    assert!(text.contains("kkt settings oism set") && text.contains("kkt settings keys-host set"), "{text}");
    {
        let sent = log.lock().unwrap();
        assert!(
            sent.iter().any(|(c, _)| *c == cmd::GET_OISM_HOST) && sent.iter().any(|(c, _)| *c == cmd::GET_KEYS_HOST)
        );
        assert!(!sent.iter().any(|(c, _)| *c == cmd::BEGIN_REGISTRATION), "0xE1 was not sent");
    }
    // The hosts saved (as `kkt settings … set` does), the registration goes.
    kkt.call(&kkt::commands::settings::SetOismHost(kkt::commands::settings::OismHost::new(
        "oism.example.ru",
        21701,
        30,
    )))
    .unwrap();
    kkt.call(&kkt::commands::settings::SetKeyUpdateHost(kkt::commands::settings::KeyUpdateHost::new(
        "keys.example.ru",
        21702,
    )))
    .unwrap();
    let first = kkt.register(&registration_data(), &form).unwrap();
    assert_eq!(kkt.document(first.fd_number).unwrap().document, "registration");

    // Re-registration with FN replacement after the ФФД version changed: 0xE1 type 1, tag 1205
    // bits 0 and 21 as UINT32 LE in 0xE3.
    log.lock().unwrap().clear();
    let reasons = ReregistrationReasons::FN_REPLACEMENT | ReregistrationReasons::FFD_VERSION_CHANGE;
    let again = FormRegistration { reasons: Some(reasons), ..form.clone() };
    // report_type and reasons must agree (refused before anything is sent).
    let e = kkt.reregister(2, &registration_data(), &again).unwrap_err();
    assert!(matches!(&e, Error::Input(i) if i.field == "reasons"), "{e}");
    let e = kkt.reregister(1, &registration_data(), &form).unwrap_err();
    assert!(matches!(&e, Error::Input(i) if i.field == "reasons"), "{e}");
    assert!(!log.lock().unwrap().iter().any(|(c, _)| *c == cmd::BEGIN_REGISTRATION));
    let r = kkt.reregister(1, &registration_data(), &again).unwrap();
    let sent = log.lock().unwrap().clone();
    let begin = &sent.iter().find(|(c, _)| *c == cmd::BEGIN_REGISTRATION).unwrap().1;
    assert_eq!(begin, &[1], "0xE1 type 1: re-registration with FN replacement");
    let formed = &sent.iter().find(|(c, _)| *c == cmd::FORM_REGISTRATION).unwrap().1;
    assert_eq!(&formed[33..], [0x01, 0x00, 0x20, 0x00], "1205 bits 0 and 21");
    let d = kkt.document(r.fd_number).unwrap();
    assert_eq!(d.document, "registration_change");
    assert_eq!(d.reregistration_reasons, ["fn_replacement", "ffd_version_change"]);
    assert_eq!(d.fiscal_sign, r.fiscal_sign);
}

#[test]
fn a_document_longer_than_one_answer_is_read_tlv_by_tlv() {
    let emu = Emulator::start(&[], "[]");
    let (proxy, log) = recording_proxy(emu.addr.clone());
    let mut kkt = connect(&proxy);
    kkt.open_shift(&Cashier::new("Кассир")).unwrap();
    let mut r = Receipt::from_json(&fixture_text("sale.json")).unwrap();
    r.items.truncate(1);
    r.customer = None;
    let item = r.items[0].clone();
    r.items = (0..12)
        .map(|i| kkt::receipt::Item {
            name: format!("{i:02} {}", "товар с длинным названием ".repeat(4)),
            ..item.clone()
        })
        .collect();
    r.payments.cash = r.total();
    let doc = kkt.sell(&r).unwrap();
    let stored = kkt.document(doc.fd_number).unwrap();
    assert_eq!(stored.items.len(), 12);
    assert_eq!(stored.items[11].item.name, r.items[11].name);
    assert_eq!(stored.fiscal_sign, doc.fiscal_sign);
    let sent = log.lock().unwrap();
    // 0x3A could not answer it in one frame: 0x35, then 0x36 once a TLV.
    assert!(sent.iter().any(|(c, _)| *c == 0x35), "0x35 used");
    assert!(sent.iter().filter(|(c, _)| *c == 0x36).count() > 12, "0x36 once a TLV");
}
