//! The marked sale end to end: the driver with a marked-goods checker against the virtual
//! register (in process) and the mock ГИС МТ / Local Module on loopback. The online check runs
//! while the register does 0x91/0x92; the verdict and 2106 decide 0x94; 0x97 carries 1260;
//! the formed receipt's codes are recorded as sold, a return's as returned.

use std::sync::{Arc, Mutex};

use crate::support::gismt::*;
use kkt::checker::store::SqliteStore;
use kkt::checker::{Checker, GisMt, GisMtConfig, Lm, LmConfig, Secret, Settings, Source, Strictness};
use kkt::commands::marking::KeepMarkCheck;
use kkt::commands::receipt::MarkedItem;
use kkt::commands::Request;
use kkt::driver::Options;
use kkt::emulator::scenario::CodeRule;
use kkt::emulator::{OismStatus, VirtualRegister};
use kkt::protocol::frame::{self, Parsed};
use kkt::receipt::{Cashier, Item, Money, Operation, Receipt, Taxation, Vat};
use kkt::transport::{InProcTransport, Responder};
use kkt::{Error, Kkt};

/// The virtual register, recording every request frame.
struct Rec {
    reg: VirtualRegister,
    frames: Mutex<Vec<Vec<u8>>>,
}

impl Responder for Rec {
    fn respond(&self, request: &[u8]) -> Vec<u8> {
        self.frames.lock().unwrap().push(request.to_vec());
        self.reg.exchange(request)
    }
}

impl Rec {
    fn requests(&self, code: u8) -> Vec<Vec<u8>> {
        self.frames
            .lock()
            .unwrap()
            .iter()
            .filter_map(|f| match frame::parse(f) {
                Parsed::Frame { frame, .. } if frame.code == code => Some(frame.data.to_vec()),
                _ => None,
            })
            .collect()
    }

    fn items_97(&self) -> Vec<MarkedItem> {
        self.requests(0x97).iter().map(|d| MarkedItem::decode(d).unwrap()).collect()
    }

    fn keeps_94(&self) -> Vec<bool> {
        self.requests(0x94).iter().map(|d| KeepMarkCheck::decode(d).unwrap().keep).collect()
    }

    fn clear(&self) {
        self.frames.lock().unwrap().clear();
    }
}

fn cashier() -> Cashier {
    Cashier { name: "Иванова А.А.".into(), inn: Some("500100732259".into()) }
}

fn code_of(n: u32) -> &'static str {
    appendix2().into_iter().find(|(k, _, _)| *k == n).unwrap().1
}

fn sale(op: Operation, items: &[(&str, u64)]) -> Receipt {
    let mut r = Receipt::sell(Taxation::OSN);
    r.operation = op;
    r.cashier = Some(cashier());
    let mut total = 0;
    for (code, price) in items {
        r.items.push(Item::marked("Сигареты", Money::from_kopecks(*price), Vat::VAT20, *code));
        total += price;
    }
    r.payments.cash = Money::from_kopecks(total);
    r
}

struct Setup {
    kkt: Kkt,
    rec: Arc<Rec>,
    mock: MockGisMt,
    checker: Arc<Checker>,
}

fn setup(emu: kkt::emulator::EmulatorOptions, strictness: Strictness, lm: Option<&MockLm>) -> Setup {
    let mock = MockGisMt::start(2);
    let dir = temp_dir("sale");
    let g = Arc::new(GisMt::new(GisMtConfig::new(mock.url(), Some(Secret::new(TOKEN)), &dir)).unwrap());
    let lm = lm.map(|m| {
        let mut c = LmConfig::new(m.server.url.clone());
        c.user = Some(LM_USER.into());
        c.password = Some(Secret::new(LM_PASSWORD));
        Lm::new(c).unwrap()
    });
    let store = SqliteStore::open(&dir.join("sold.sqlite")).unwrap();
    let checker =
        Arc::new(Checker::new(Some(g), lm, Settings { strictness, ..Settings::default() }).with_store(Box::new(store)));
    let rec = Arc::new(Rec { reg: VirtualRegister::new(emu), frames: Mutex::default() });
    let mut kkt = Kkt::with_transport(InProcTransport::new(rec.clone()), Options::fast()).unwrap();
    kkt.set_mark_checker(Some(checker.clone()));
    kkt.open_shift(&cashier()).unwrap();
    rec.clear();
    Setup { kkt, rec, mock, checker }
}

#[test]
fn a_clean_code_is_sold_with_1260_and_recorded() {
    let mut s = setup(kkt::emulator::EmulatorOptions::default(), Strictness::Deny, None);
    let doc = s.kkt.sell(&sale(Operation::SELL, &[(code_of(7), 106000), (code_of(8), 14500)])).unwrap();
    assert_eq!(s.mock.total_checks(), 1, "both codes in one request");
    let body = s.mock.hosts.iter().flat_map(|h| h.state.bodies.lock().unwrap().clone()).next().unwrap();
    assert_eq!(body["codes"].as_array().unwrap().len(), 2);
    let fn_number = body["fiscalDriveNumber"].as_str().expect("fiscalDriveNumber read from the register");
    assert_eq!(fn_number.len(), 16, "{fn_number}");
    assert_eq!(doc.marks.len(), 2);
    for m in &doc.marks {
        assert_eq!(m.source, Some(Source::Online));
        assert!(m.tag1265.as_deref().unwrap().starts_with("UUID="));
        assert_eq!(m.result.0, 0x0F, "2106 from 0x94");
    }
    assert_eq!(s.rec.keeps_94(), vec![true, true]);
    let items = s.rec.items_97();
    assert_eq!(items.len(), 2);
    for (item, mark) in items.iter().zip(&doc.marks) {
        let ind = &item.details.industry;
        assert_eq!(ind.len(), 1, "one 1260 per item");
        assert_eq!(ind[0].authority, 30);
        assert_eq!(ind[0].document_date, "21.11.2023");
        assert_eq!(ind[0].document_number, "1944");
        assert_eq!(Some(ind[0].value.clone()), mark.tag1265);
    }
    // Recorded as sold: a second sale of the same code is refused without asking the register twice.
    let e = s.kkt.sell(&sale(Operation::SELL, &[(code_of(7), 106000)])).unwrap_err();
    // A refusal by the checker is its own error (exit 6 on the command line), with the verdict.
    assert!(
        matches!(&e, Error::MarkRefused(r) if r.item == 0 && r.verdict.reasons.iter().any(|x| x.field == "store")),
        "{e}"
    );
    assert!(e.to_string().contains("items[0].marking_code") && e.to_string().contains("[store]"), "{e}");
    assert!(e.to_string().contains(&format!("FD {}", doc.fd_number)), "{e}");
    // A return records it as returned; then it sells again.
    s.kkt.refund(&sale(Operation::SELL_RETURN, &[(code_of(7), 106000)])).unwrap();
    assert_eq!(s.mock.total_checks(), 2, "a return is not checked online");
    s.kkt.sell(&sale(Operation::SELL, &[(code_of(7), 106000)])).unwrap();
}

#[test]
fn a_banned_code_is_deleted_and_the_sale_refused() {
    let mut s = setup(kkt::emulator::EmulatorOptions::default(), Strictness::Deny, None);
    let e = s.kkt.sell(&sale(Operation::SELL, &[(code_of(7), 106000), (code_of(4), 14500)])).unwrap_err();
    assert!(matches!(&e, Error::MarkRefused(r) if r.item == 1), "{e}");
    assert!(e.to_string().contains("[sold]"), "{e}");
    let Error::MarkRefused(r) = &e else { unreachable!() };
    // It says what had been sent and that the receipt was cancelled.
    assert_eq!(r.sent, vec![0x23, 0x91, 0x92, 0x94, 0x97, 0x91, 0x92, 0x94], "{e}");
    assert!(r.cancelled.contains("cancelled"), "{e}");
    assert!(e.to_string().contains("sent before: 0x23, 0x91") && e.to_string().contains("cancelled"), "{e}");
    assert_eq!(s.rec.keeps_94(), vec![true, false], "the banned code's result is deleted");
    assert_eq!(s.rec.requests(0x24).len(), 0, "no receipt formed");
    // The tobacco MRP rule: the block sold below its MRP.
    let e = s.kkt.sell(&sale(Operation::SELL, &[(code_of(7), 99000)])).unwrap_err();
    assert!(e.to_string().contains("[price]"), "{e}");
    // Nothing was recorded as sold.
    s.kkt.sell(&sale(Operation::SELL, &[(code_of(7), 106000)])).unwrap();
}

#[test]
fn the_register_2106_is_judged_too() {
    let mut emu = kkt::emulator::EmulatorOptions::default();
    emu.scenario.codes.push(CodeRule {
        pattern: "010461013628057121*".into(),
        status: OismStatus::Incorrect,
        crypto_valid: true,
        latency_ms: 0,
        fn_error: None,
    });
    let mut s = setup(emu, Strictness::Deny, None);
    let e = s.kkt.sell(&sale(Operation::SELL, &[(code_of(7), 106000)])).unwrap_err();
    assert!(e.to_string().contains("[2106]") && e.to_string().contains("planned status"), "{e}");
    assert_eq!(s.rec.keeps_94(), vec![false]);
}

#[test]
fn ask_mode_asks_the_cashier() {
    let mut s = setup(kkt::emulator::EmulatorOptions::default(), Strictness::Ask, None);
    // No handler: an asking verdict refuses.
    let e = s.kkt.sell(&sale(Operation::SELL, &[(code_of(5), 10000)])).unwrap_err();
    assert!(e.to_string().contains("[isBlocked]"), "{e}");
    let asked = Arc::new(Mutex::new(Vec::new()));
    let a = asked.clone();
    s.kkt.on_mark_ask(move |v| {
        a.lock().unwrap().push(v.reasons[0].field.clone());
        true
    });
    let doc = s.kkt.sell(&sale(Operation::SELL, &[(code_of(5), 10000)])).unwrap();
    assert_eq!(*asked.lock().unwrap(), vec!["isBlocked"]);
    assert!(doc.marks[0].notes.iter().any(|n| n.contains("accepted by the cashier")));
    assert!(doc.marks[0].tag1265.is_some());
}

#[test]
fn without_an_online_answer_the_sale_goes_on_and_the_local_module_signs_1265() {
    // Scenario 14 (2 s delay): no answer in 1.5 s; no Local Module → sold without 1260.
    let mut s = setup(kkt::emulator::EmulatorOptions::default(), Strictness::Deny, None);
    let doc = s.kkt.sell(&sale(Operation::SELL, &[(code_of(14), 10000)])).unwrap();
    assert_eq!(doc.marks[0].source, Some(Source::None));
    assert_eq!(doc.marks[0].tag1265, None);
    assert!(s.rec.items_97()[0].details.industry.is_empty());
    assert!(doc.marks[0].notes.iter().any(|n| n.contains("within 1.5 s")));
    // With a Local Module: its answer, with Inst and Ver.
    let lm = mock_lm();
    let mut s = setup(kkt::emulator::EmulatorOptions::default(), Strictness::Deny, Some(&lm));
    let doc = s.kkt.sell(&sale(Operation::SELL, &[(code_of(14), 10000)])).unwrap();
    assert_eq!(doc.marks[0].source, Some(Source::Lm));
    let v = &s.rec.items_97()[0].details.industry[0].value;
    assert!(v.ends_with(&format!("&Inst={LM_INST}&Ver={LM_VERSION}")), "{v}");
    // Emergency (203): sold, no 1260, and the checker says so.
    let doc = s.kkt.sell(&sale(Operation::SELL, &[(code_of(12), 10000)])).unwrap();
    assert!(doc.marks[0].notes.iter().any(|n| n.contains("emergency")));
    assert!(s.checker.gismt().is_some());
}

#[test]
fn an_unparsable_code_is_refused_before_anything_is_sent() {
    let mut s = setup(kkt::emulator::EmulatorOptions::default(), Strictness::Deny, None);
    let e = s.kkt.sell(&sale(Operation::SELL, &[("0104670540176099215abcdefghijklmnopqrstuvwxyz", 100)])).unwrap_err();
    assert!(matches!(&e, Error::Input(i) if i.field == "items[0].marking_code"), "{e}");
    assert!(s.rec.frames.lock().unwrap().is_empty(), "nothing sent");
    assert_eq!(s.mock.total_checks(), 0);
}
