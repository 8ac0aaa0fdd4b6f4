//! The cashier's question over HTTP (seed 002: iMark's Enter/Esc): with `--mark-strict ask`,
//! `POST /v1/marks/check` gives an `ask` verdict a confirmation token bound to the code, the
//! reasons and the time; a receipt item carrying it as `mark_confirmation` sells with exactly
//! those reasons; another code, an expired token, a new reason: refused (422 mark_refused).

use std::sync::Arc;

use crate::support::gismt::*;
use crate::support::http::*;
use serde_json::{json, Value};

fn code_of(n: u32) -> &'static str {
    appendix2().into_iter().find(|(k, _, _)| *k == n).unwrap().1
}

fn receipt(code: &str, confirmation: Option<&str>) -> String {
    let mut item = json!({"name": "Товар", "price": "89.90", "quantity": "1", "vat": "vat20",
                          "payment_method": "full_payment", "payment_object": "marked_commodity", "marking_code": code});
    if let Some(c) = confirmation {
        item["mark_confirmation"] = c.into();
    }
    json!({"operation": "sell", "taxation": "osn", "items": [item], "payments": {"cash": "89.90"}}).to_string()
}

fn ask(c: &Client, code: &str) -> Value {
    let a = c.post("/v1/marks/check", &json!({"codes": [code]}).to_string());
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["verdicts"][0].clone()
}

fn service(mock: &MockGisMt, ttl: &str) -> (Service, Arc<EmuHolder>) {
    let dir = temp_dir("confirm");
    let token_file = dir.join("token");
    std::fs::write(&token_file, TOKEN).unwrap();
    let emu = Arc::new(EmuHolder(Emulator::start(&[])));
    let opts = vec![
        "--gismt-url".to_string(),
        mock.url().to_string(),
        "--gismt-token-file".into(),
        token_file.display().to_string(),
        "--mark-strict".into(),
        "ask".into(),
        "--mark-confirmation-ttl".into(),
        ttl.into(),
    ];
    let svc = Service::start(&emu.0.uri, |o| o.extra = opts);
    assert_eq!(svc.client.post("/v1/shift/open", "").status, 200);
    (svc, emu)
}

/// Keeps the emulator alive as long as the service.
struct EmuHolder(Emulator);

#[test]
fn an_ask_verdict_is_confirmed_over_http() {
    let mock = MockGisMt::start(1);
    let (svc, _emu) = service(&mock, "600");
    let c = &svc.client;
    // Blocked (scenario 5): ask, with a confirmation token.
    let v = ask(c, code_of(5));
    assert_eq!((v["action"].as_str(), v["allowed"].as_bool()), (Some("ask"), Some(false)), "{v}");
    assert_eq!(v["reasons"][0]["rule"], "blocked");
    assert!(v["reasons"][0]["message_ru"].as_str().unwrap().contains("заблокирована"), "{v}");
    let token = v["confirmation"].as_str().expect("a confirmation for an ask verdict").to_string();
    // Without it, nobody can accept: refused, 422, with the verdict.
    let a = c.post("/v1/receipts", &receipt(code_of(5), None));
    assert_eq!(a.status, 422, "{}", a.body);
    assert_eq!(a.body["error"]["kind"], "mark_refused");
    assert_eq!(a.body["error"]["verdict"]["action"], "ask");
    assert!(a.body["error"]["message"].as_str().unwrap().contains("nobody could be asked"), "{}", a.body);
    // With it: sold, the note says the cashier accepted.
    let a = c.post("/v1/receipts", &receipt(code_of(5), Some(&token)));
    assert_eq!(a.status, 200, "{}", a.body);
    let notes = a.body["marks"][0]["notes"].as_array().unwrap();
    assert!(notes.iter().any(|n| n.as_str().unwrap().contains("accepted by the cashier")), "{notes:?}");
    // The same token on another code (also asked about): refused.
    let other = ask(c, code_of(4));
    assert_eq!(other["action"], "ask");
    let a = c.post("/v1/receipts", &receipt(code_of(4), Some(&token)));
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body["error"]["message"].as_str().unwrap().contains("another code"), "{}", a.body);
    // A new reason since the confirmation: refused, naming it.
    let v = ask(c, code_of(2));
    assert_eq!(v["reasons"].as_array().unwrap().len(), 1, "{v}");
    let t2 = v["confirmation"].as_str().unwrap().to_string();
    mock.backend.codes.lock().unwrap().insert(
        code_of(2).to_string(),
        Behaviour::Entry(json!({"realizable": false, "utilised": true, "sold": false, "isBlocked": true})),
    );
    let a = c.post("/v1/receipts", &receipt(code_of(2), Some(&t2)));
    assert_eq!(a.status, 422, "{}", a.body);
    let m = a.body["error"]["message"].as_str().unwrap();
    assert!(m.contains("a reason the cashier did not accept") && m.contains("blocked:isBlocked"), "{m}");
    // An altered token.
    let v = ask(c, code_of(1));
    let mut t3 = v["confirmation"].as_str().unwrap().to_string();
    t3.insert(5, 'x');
    let a = c.post("/v1/receipts", &receipt(code_of(1), Some(&t3)));
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body["error"]["message"].as_str().unwrap().contains("not one this till issued"), "{}", a.body);
    // A confirmation on an unmarked item is bad input.
    let body = json!({"operation": "sell", "taxation": "osn", "payments": {"cash": "10"},
                      "items": [{"name": "Хлеб", "price": "10", "quantity": "1", "vat": "vat10", "payment_method": "full_payment",
                                 "payment_object": "commodity", "mark_confirmation": token}]});
    assert_error(&c.post("/v1/receipts", &body.to_string()), 400, "input", "items[0].mark_confirmation");
}

#[test]
fn an_expired_confirmation_is_refused() {
    let mock = MockGisMt::start(1);
    let (svc, _emu) = service(&mock, "0.5");
    let c = &svc.client;
    let v = ask(c, code_of(5));
    let token = v["confirmation"].as_str().unwrap().to_string();
    // Well past its validity (the wait only has to be longer than 0.5 s).
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let a = c.post("/v1/receipts", &receipt(code_of(5), Some(&token)));
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body["error"]["message"].as_str().unwrap().contains("expired"), "{}", a.body);
}
