//! The code's real bytes on the wire: whatever rendering of GS a scanner or a person gives
//! (the byte, `\u001d`, `<GS>`, `{GS}`, `␝`, a `]d2` prefix), the register's 0x91 and 0x97
//! (tag 2000) carry the code with GS as the one byte 0x1D — through the driver, `kkt receipt`
//! and `kkt serve` — and the virtual register takes bytes as a real FN does, so a driver that
//! forgot to parse would be caught: a literal `<GS>` is a different, malformed code there.

use std::sync::{Arc, Mutex};

use crate::support::http::{Emulator as EmuProcess, Service};
use kkt::commands::marking::{CheckMarkLocal, CheckMarkLocalResult, CheckMarkOnline};
use kkt::commands::receipt::MarkedItem;
use kkt::commands::Request;
use kkt::driver::Options;
use kkt::emulator::{EmulatorOptions, VirtualRegister};
use kkt::protocol::frame::{self, Parsed};
use kkt::receipt::{Cashier, Item, Measure, Money, PlannedStatus, Receipt, Taxation, Vat};
use kkt::transport::{InProcTransport, Responder};
use kkt::Kkt;
use serde_json::json;

/// Seed 003's dairy code with GS as the byte.
const BYTES: &str = "0104670540176099215'W9Um\u{1d}93dGVz";

/// How scanners and people render it.
const RENDERINGS: &[&str] = &[
    "0104670540176099215'W9Um\u{1d}93dGVz",
    "0104670540176099215'W9Um\\u001d93dGVz",
    "0104670540176099215'W9Um\\u001D93dGVz",
    "0104670540176099215'W9Um<GS>93dGVz",
    "0104670540176099215'W9Um{GS}93dGVz",
    "0104670540176099215'W9Um\u{241d}93dGVz",
    "]d20104670540176099215'W9Um\u{1d}93dGVz",
    "]d2\u{1d}0104670540176099215'W9Um<gs>93dGVz\r\n",
];

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
    fn data(&self, code: u8) -> Vec<Vec<u8>> {
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
}

fn sale(code: &str) -> Receipt {
    let mut r = Receipt::sell(Taxation::OSN);
    r.items.push(Item::marked("Молоко", Money::from_kopecks(8990), Vat::VAT10, code));
    r.payments.cash = Money::from_kopecks(8990);
    r
}

#[test]
fn every_rendering_reaches_the_register_as_the_gs_byte() {
    let rec = Arc::new(Rec { reg: VirtualRegister::new(EmulatorOptions::default()), frames: Mutex::default() });
    let mut kkt = Kkt::with_transport(InProcTransport::new(rec.clone()), Options::fast()).unwrap();
    kkt.open_shift(&Cashier::new("Иванова А.А.")).unwrap();
    let want = BYTES.as_bytes();
    println!("\n| rendering | 0x91 code bytes | 0x97 tag 2000 |");
    println!("|---|---|---|");
    for r in RENDERINGS {
        rec.frames.lock().unwrap().clear();
        kkt.sell(&sale(r)).unwrap_or_else(|e| panic!("{r:?}: {e}"));
        let local = rec.data(CheckMarkLocal::CODE);
        assert_eq!(local.len(), 1, "{r:?}");
        // 0x91: type 0, length 0, then the code's bytes.
        assert_eq!(&local[0][2..], want, "{r:?}: 0x91 carries {:?}", String::from_utf8_lossy(&local[0][2..]));
        let item = rec.data(MarkedItem::CODE);
        let m = MarkedItem::decode(&item[0]).unwrap();
        assert_eq!(m.code.as_bytes(), want, "{r:?}: tag 2000");
        // The raw 0x97 DATA holds the code with the one byte 0x1D and no rendering.
        assert!(item[0].windows(want.len()).any(|w| w == want), "{r:?}");
        assert!(!item[0].windows(4).any(|w| w.eq_ignore_ascii_case(b"<gs>")), "{r:?}");
        println!("| {:?} | {} | ok |", r, hex::encode_upper(&local[0][2..]));
    }
    // Kkt::check_mark parses too.
    rec.frames.lock().unwrap().clear();
    let c = kkt.check_mark("0104670540176099215'W9Um<GS>93dGVz", PlannedStatus::PIECE_SOLD, 1.into()).unwrap();
    kkt.decline_mark().unwrap();
    assert_eq!(&rec.data(CheckMarkLocal::CODE)[0][2..], want);
    assert_eq!(c.local.reason, 1, "a 4-character tail: a type the FN does not check");
}

#[test]
fn the_virtual_register_takes_bytes_as_an_fn_does() {
    // Bypassing the driver: a literal <GS>, `\u001d` or `]d2` is what a real FN would get from a
    // driver that forgot to parse the scanned code. The virtual register does not repair it.
    let reg = VirtualRegister::new(EmulatorOptions::default());
    let mut kkt = Kkt::with_transport(InProcTransport::new(Arc::new(reg)), Options::fast()).unwrap();
    kkt.open_shift(&Cashier::new("Иванова А.А.")).unwrap();
    let fn_check = |kkt: &mut Kkt, code: &str| -> (CheckMarkLocalResult, bool) {
        let r = kkt.call(&CheckMarkLocal::new(code)).unwrap();
        let online = CheckMarkOnline {
            planned_status: PlannedStatus::PIECE_SOLD,
            mode: 0,
            quantity: 1.into(),
            measure: Measure::PIECE,
            fraction: None,
        };
        let o = kkt.call(&online).unwrap();
        kkt.decline_mark().unwrap();
        (r, o.result.crypto_ok())
    };
    let (good, crypto) = fn_check(&mut kkt, BYTES);
    assert_eq!((good.result, good.reason), (0, 1), "type 5 (4-character tail): not checked in the FN");
    assert!(crypto, "the OISM finds the code well formed");
    for raw in [
        "0104670540176099215'W9Um<GS>93dGVz",
        "0104670540176099215'W9Um\\u001d93dGVz",
        "]d20104670540176099215'W9Um\u{1d}93dGVz",
    ] {
        let (r, crypto) = fn_check(&mut kkt, raw);
        assert_ne!(r, good, "{raw:?} is a different code for the FN");
        assert_eq!(r.reason, 4, "{raw:?}: not identified (malformed)");
        assert!(!crypto, "{raw:?}: and malformed for the OISM (2106 without the crypto bit)");
    }
}

/// The frames of a `kkt -vvv emulator` log: every request's (code, DATA).
fn logged_requests(log: &str) -> Vec<(u8, Vec<u8>)> {
    log.lines()
        .filter(|l| l.contains("kkt::frames"))
        .filter_map(|l| {
            let rest = &l[l.find("<- ")? + 3..];
            let hex_text = rest.split_whitespace().nth(1)?;
            let bytes = hex::decode(hex_text).ok()?;
            match frame::parse(&bytes) {
                Parsed::Frame { frame, .. } => Some((frame.code, frame.data.to_vec())),
                _ => None,
            }
        })
        .collect()
}

#[test]
fn a_client_of_kkt_serve_scanning_with_renderings_puts_the_gs_byte_on_the_wire() {
    let emu = EmuProcess::start(&[]);
    let svc = Service::start(&emu.uri, |_| {});
    let c = &svc.client;
    assert_eq!(c.post("/v1/shift/open", "").status, 200);
    // A check with a ]d2 prefix and `{GS}`, a receipt with `<GS>`, one with `\u001d` as text.
    let m = c.post("/v1/marks/check", &json!({"codes": ["]d20104670540176099215'W9Um{GS}93dGVz"]}).to_string());
    assert_eq!(m.status, 200, "{}", m.body);
    assert_eq!(m.body["verdicts"][0]["code"], BYTES);
    let receipt = |code: &str| {
        json!({"operation": "sell", "taxation": "osn", "payments": {"cash": "89.90"},
               "items": [{"name": "Молоко", "price": "89.90", "quantity": "1", "vat": "vat10",
                          "payment_method": "full_payment", "payment_object": "marked_commodity", "marking_code": code}]})
        .to_string()
    };
    let a = c.post("/v1/receipts", &receipt("0104670540176099215'W9Um<GS>93dGVz"));
    assert_eq!(a.status, 200, "{}", a.body);
    let b = c.post("/v1/receipts", &receipt("0104670540176099215LnOjv\\u001d93dGVz"));
    assert_eq!(b.status, 200, "{}", b.body);
    let frames = logged_requests(&emu.log_text());
    let local: Vec<&Vec<u8>> = frames.iter().filter(|(c, _)| *c == CheckMarkLocal::CODE).map(|(_, d)| d).collect();
    let items: Vec<&Vec<u8>> = frames.iter().filter(|(c, _)| *c == MarkedItem::CODE).map(|(_, d)| d).collect();
    assert_eq!(local.len(), 3, "one 0x91 per code");
    assert_eq!(items.len(), 2);
    assert_eq!(&local[0][2..], BYTES.as_bytes());
    assert_eq!(&local[1][2..], BYTES.as_bytes());
    assert_eq!(&local[2][2..], "0104670540176099215LnOjv\u{1d}93dGVz".as_bytes());
    assert_eq!(MarkedItem::decode(items[0]).unwrap().code, BYTES);
    for d in local.iter().chain(&items) {
        assert!(d.contains(&0x1D) && !d.windows(2).any(|w| w == b"<G" || w == b"\\u"), "{}", hex::encode_upper(d));
    }
    // A code that does not parse is 400 naming the field; nothing reaches the register.
    let before = logged_requests(&emu.log_text()).len();
    let e = c.post("/v1/receipts", &receipt("0104670540176098215'W9Um<GS>93dGVz"));
    assert_eq!(e.status, 400, "{}", e.body);
    assert!(e.body["error"]["message"].as_str().unwrap().contains("items[0].marking_code"), "{}", e.body);
    assert!(e.body["error"]["message"].as_str().unwrap().contains("check digit"), "{}", e.body);
    let e = c.post("/v1/marks/check", &json!({"codes": ["0104670540176099215'W9Um93dGVz"]}).to_string());
    assert_eq!(e.status, 400, "{}", e.body);
    assert!(e.body["error"]["message"].as_str().unwrap().contains("codes[0].code"), "{}", e.body);
    assert!(e.body["error"]["message"].as_str().unwrap().contains("GS separator"), "{}", e.body);
    let e = c.post("/v1/marks/check", &json!({"codes": ["hello world"]}).to_string());
    assert_eq!(e.status, 400, "{}", e.body);
    assert_eq!(logged_requests(&emu.log_text()).len(), before, "nothing sent for input refused");
}
