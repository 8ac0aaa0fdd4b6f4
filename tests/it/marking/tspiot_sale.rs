//! The ТС ПИОТ path where it shows: the marked sale (`Kkt::sell` against the virtual register:
//! the right 1260 per source, none in an emergency, a dead ТС ПИОТ still sells through the
//! Local Module), `kkt mark check --tspiot-url … --json`, `kkt mark tspiot-status`,
//! `kkt mark lm-status`, `kkt mark lm-init`, the config file's `[marking] tspiot_url`, and
//! `kkt serve`'s `POST /v1/marks/check`, `POST /v1/receipts`, `GET /v1/status`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use assert_cmd::Command;
use serde_json::{json, Value};

use super::tspiot::{lm_for, tspiot_for, BLOCKED, DAIRY, PACK_145, SOLD};
use crate::support::gismt::temp_dir;
use crate::support::http::Service;
use crate::support::tspiot::*;
use kkt::checker::{Checker, Settings, Source};
use kkt::commands::receipt::MarkedItem;
use kkt::commands::Request;
use kkt::driver::Options;
use kkt::emulator::VirtualRegister;
use kkt::protocol::frame::{self, Parsed};
use kkt::receipt::{Cashier, Item, Money, Receipt, Taxation, Vat};
use kkt::transport::{InProcTransport, Responder};
use kkt::{Error, Kkt};

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
    fn items_97(&self) -> Vec<MarkedItem> {
        let frames = std::mem::take(&mut *self.frames.lock().unwrap());
        frames
            .iter()
            .filter_map(|f| match frame::parse(f) {
                Parsed::Frame { frame, .. } if frame.code == 0x97 => Some(MarkedItem::decode(frame.data).unwrap()),
                _ => None,
            })
            .collect()
    }
}

fn cashier() -> Cashier {
    Cashier { name: "Иванова А.А.".into(), inn: Some("500100732259".into()) }
}

fn sale(items: &[(&str, u64)]) -> Receipt {
    let mut r = Receipt::sell(Taxation::OSN);
    r.cashier = Some(cashier());
    let mut total = 0;
    for (code, price) in items {
        r.items.push(Item::marked("Молоко", Money::from_kopecks(*price), Vat::VAT10, *code));
        total += price;
    }
    r.payments.cash = Money::from_kopecks(total);
    r
}

fn register(checker: Checker) -> (Kkt, Arc<Rec>) {
    let rec = Arc::new(Rec { reg: VirtualRegister::new(Default::default()), frames: Mutex::default() });
    let mut kkt = Kkt::with_transport(InProcTransport::new(rec.clone()), Options::fast()).unwrap();
    kkt.set_mark_checker(Some(Arc::new(checker)));
    kkt.open_shift(&cashier()).unwrap();
    rec.frames.lock().unwrap().clear();
    (kkt, rec)
}

#[test]
fn the_marked_sale_carries_the_right_1260() {
    let ts = MockTsPiot::start(&[2], None);
    ts.state.set(SOLD, Ts::Entry(json!({"sold": true})));
    let lm = mock_lm2(2, LmAuth::Basic);
    let ch = Checker::new(None, Some(lm_for(&lm)), Settings::default()).with_tspiot(tspiot_for(&ts, &temp_dir("s1")));
    let (mut kkt, rec) = register(ch);
    // Online through the ТС ПИОТ: UUID and Time.
    let doc = kkt.sell(&sale(&[(DAIRY, 9900), (PACK_145, 14500)])).unwrap();
    assert_eq!(ts.state.checks().len(), 1, "the receipt's codes in one request");
    let body: Value = serde_json::from_str(&ts.state.checks()[0].body).unwrap();
    assert_eq!(body["codes"].as_array().unwrap().len(), 2);
    let items = rec.items_97();
    assert_eq!(items.len(), 2);
    for (item, mark) in items.iter().zip(&doc.marks) {
        assert_eq!(mark.source, Some(Source::Tspiot));
        let t = mark.tag1265.clone().unwrap();
        assert!(t.starts_with("UUID=") && t.contains("&Time=") && !t.contains("&Inst="), "{t}");
        assert_eq!(item.details.industry.len(), 1);
        assert_eq!(item.details.industry[0].authority, 30);
        assert_eq!(item.details.industry[0].value, t);
    }
    // The register's FN serial reached the binding check: the emulator's FN is not the one the
    // mock's /info names, a note (never a refusal).
    assert!(doc.marks[0].notes.iter().any(|n| n.contains("another register")), "{:?}", doc.marks[0].notes);
    // A refusal names the item.
    let e = kkt.sell(&sale(&[(SOLD, 9900)])).unwrap_err();
    assert!(matches!(&e, Error::MarkRefused(r) if r.item == 0), "{e}");
    assert!(e.to_string().contains("items[0].marking_code") && e.to_string().contains("[sold]"), "{e}");
    rec.items_97();
    // Emergency: sold, no 1260.
    ts.state.force(Some(Ts::Http(203, json!({"code": 203}))));
    let doc = kkt.sell(&sale(&[(BLOCKED, 9900)])).unwrap();
    assert_eq!(doc.marks[0].source, Some(Source::Tspiot));
    assert_eq!(doc.marks[0].tag1265, None);
    let items = rec.items_97();
    assert!(items[0].details.industry.is_empty(), "no 1260 in an emergency");
    // The ТС ПИОТ answers 515: the Local Module's 1260 with Inst and Ver.
    ts.state.force(Some(Ts::Http(515, json!({}))));
    let doc = kkt.sell(&sale(&[(DAIRY, 9900)])).unwrap();
    assert_eq!(doc.marks[0].source, Some(Source::Lm));
    let t = doc.marks[0].tag1265.clone().unwrap();
    assert!(t.ends_with(&format!("&Inst={LM2_INST}&Ver={LM2_VERSION}")), "{t}");
    assert_eq!(rec.items_97()[0].details.industry[0].value, t);
    // The Local Module had the register's FN serial.
    assert!(lm.state.checks().last().unwrap().header("X-ClientId").is_some_and(|s| s.len() == 16));
}

#[test]
fn a_dead_tspiot_still_sells_through_the_local_module() {
    let gone = MockTsPiot::start(&[2], None);
    let dead = tspiot_for(&gone, &temp_dir("dead"));
    drop(gone);
    let lm = mock_lm2(2, LmAuth::Basic);
    let ch = Checker::new(None, Some(lm_for(&lm)), Settings::default()).with_tspiot(dead);
    let (mut kkt, rec) = register(ch);
    let doc = kkt.sell(&sale(&[(DAIRY, 9900)])).unwrap();
    assert_eq!(doc.marks[0].source, Some(Source::Lm));
    assert!(rec.items_97()[0].details.industry[0].value.contains("&Inst="));
    // Both dead: sold without a check, no 1260, the notes say so.
    drop(lm);
    let doc = kkt.sell(&sale(&[(PACK_145, 14500)])).unwrap();
    assert_eq!(doc.marks[0].source, Some(Source::None));
    assert!(rec.items_97()[0].details.industry.is_empty());
    assert!(doc.marks[0].notes.iter().any(|n| n.contains("sale allowed without a check")), "{:?}", doc.marks[0].notes);
}

fn kkt_cli(cache: &Path) -> Command {
    let mut c = Command::cargo_bin("kkt").unwrap();
    for v in [
        "KKT_DEVICE",
        "KKT_STORE",
        "KKT_LM_URL",
        "KKT_LM_USER",
        "KKT_LM_PASSWORD",
        "KKT_LM_TOKEN",
        "KKT_MARK_STRICT",
        "KKT_GISMT_TOKEN",
        "KKT_GISMT_TOKEN_FILE",
        "KKT_CONFIG",
        "KKT_TSPIOT_URL",
        "KKT_TSPIOT_CLIENT_TOKEN",
    ] {
        c.env_remove(v);
    }
    c.env("KKT_CACHE_DIR", cache).env("KKT_CONFIG", cache.join("none.toml")).env("KKT_STATE_DIR", cache.join("state"));
    std::fs::write(cache.join("none.toml"), "").unwrap();
    c
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn kkt_mark_check_through_the_tspiot() {
    let ts = MockTsPiot::start(&[3], None);
    ts.state.set(SOLD, Ts::Entry(json!({"sold": true})));
    let lm = mock_lm2(2, LmAuth::Basic);
    let dir = temp_dir("cli-ts");
    let lm_args = ["--lm-url", lm.server.url.as_str(), "--lm-user", LM2_USER];
    let out = kkt_cli(&dir)
        .env("KKT_LM_PASSWORD", LM2_PASSWORD)
        .args(["mark", "check", "--json", "--tspiot-url", &ts.url])
        .args(lm_args)
        .args(["--tspiot-client-id", "pmsr-7", "--tspiot-client-token", "client-secret-77"])
        .args([DAIRY, SOLD])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json_lines(&out.stdout);
    assert_eq!(v[0]["source"], "tspiot");
    assert_eq!(v[0]["allowed"], true);
    assert_eq!(v[0]["emergency"], false);
    assert!(v[0]["req_id"].is_string() && v[0]["req_timestamp"].is_i64());
    assert_eq!(v[0]["tag1265"], format!("UUID={}&Time={}", v[0]["req_id"].as_str().unwrap(), v[0]["req_timestamp"]));
    assert!(v[0]["notes"].is_array());
    assert_eq!(v[1]["reasons"][0]["field"], "sold");
    let body: Value = serde_json::from_str(&ts.state.checks()[0].body).unwrap();
    assert_eq!(body["client_info"]["id"], "pmsr-7");
    // Secrets never printed.
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains("client-secret-77") && !all.contains(LM2_PASSWORD));
    // The ТС ПИОТ answers 518: the Local Module (source lm); 203: emergency; 400: exit 6.
    ts.state.force(Some(Ts::Http(518, json!({}))));
    let out = kkt_cli(&dir)
        .env("KKT_LM_PASSWORD", LM2_PASSWORD)
        .env("KKT_TSPIOT_URL", &ts.url)
        .args(["-vvv", "mark", "check", "--json"])
        .args(lm_args)
        .arg(DAIRY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json_lines(&out.stdout)[0]["source"], "lm");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("loopback") && log.contains("certificate"), "said once at INFO: {log}");
    assert!(!log.contains(LM2_PASSWORD), "the password is not logged");
    ts.state.force(Some(Ts::Http(203, json!({}))));
    let out = kkt_cli(&dir).args(["mark", "check", "--json", "--tspiot-url", &ts.url, DAIRY]).output().unwrap();
    let v = &json_lines(&out.stdout)[0];
    assert_eq!(
        (v["source"].as_str(), v["emergency"].as_bool(), v["tag1265"].is_null()),
        (Some("tspiot"), Some(true), true)
    );
    assert_eq!(out.status.code(), Some(0));
    ts.state.force(Some(Ts::Http(400, json!({"description": "bad codes"}))));
    let out = kkt_cli(&dir).args(["mark", "check", "--tspiot-url", &ts.url, DAIRY]).output().unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stdout).contains("bad codes"));
    // The config file's [marking] tspiot_url; text output names the source.
    ts.state.force(None);
    let cfg = dir.join("kkt.toml");
    std::fs::write(&cfg, format!("[marking]\ntspiot_url = \"{}\"\n", ts.url)).unwrap();
    let out = kkt_cli(&dir).env("KKT_CONFIG", &cfg).args(["mark", "check", DAIRY]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("through the ТС ПИОТ"));
    // Plain http beyond loopback is refused, naming the option.
    let out = kkt_cli(&dir).args(["mark", "check", "--tspiot-url", "http://10.0.0.5:51401", DAIRY]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

#[test]
fn kkt_mark_tspiot_status_and_lm_status() {
    let lm = mock_lm2(2, LmAuth::Basic);
    let ts = MockTsPiot::start(&[2], Some(lm_port(&lm)));
    let mut info = default_info(json!(2500), Some(lm_port(&lm)));
    info["lm"]["login"] = LM2_USER.into();
    info["lm"]["pass"] = LM2_PASSWORD.into();
    info["lm"]["token"] = LM2_TOKEN.into();
    info["lm"]["expDate"] = "2099-01-01T00:00:00Z".into();
    ts.set_info(info);
    let dir = temp_dir("cli-st");
    let out = kkt_cli(&dir).args(["mark", "tspiot-status", "--json", "--tspiot-url", &ts.url]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["api_version"], 2);
    assert_eq!(v["tspiot_id"], "esm-test-0001");
    assert_eq!(v["fn_serial"], FN_SERIAL);
    assert_eq!(v["kkt_serial"], "0000000001");
    assert_eq!(v["kkt_inn"], "7700000000");
    assert_eq!(v["check_timeout_ms"], 2500);
    assert_eq!(v["lm"]["status"], "ready");
    assert_eq!(v["lm"]["address"], format!("http://127.0.0.1:{}", lm_port(&lm)));
    assert_eq!(v["lm"]["token_expires"], "2099-01-01T00:00:00Z");
    assert_eq!(v["matches_register"], Value::Null);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(LM2_TOKEN), "the token is never shown");
    let schema = crate::support::http::validator("/components/schemas/TsPiotStatus");
    let errors: Vec<String> = schema.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    // With a register: bound or not.
    let out = kkt_cli(&dir)
        .args(["--device", "emulator", "mark", "tspiot-status", "--json", "--tspiot-url", &ts.url])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["matches_register"].is_boolean(), "{v}");
    // Text.
    let out = kkt_cli(&dir).args(["mark", "tspiot-status", "--tspiot-url", &ts.url]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("API v2") && text.contains("2500 ms") && text.contains(FN_SERIAL), "{text}");
    // A dead ТС ПИОТ: exit 4.
    let out = kkt_cli(&dir).args(["mark", "tspiot-status", "--tspiot-url", "https://127.0.0.1:9"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    // lm-status without --lm-url: the module the ТС ПИОТ names, with its token.
    *lm.state.auth.lock().unwrap() = LmAuth::BasicOrToken;
    let out = kkt_cli(&dir).args(["mark", "lm-status", "--json", "--tspiot-url", &ts.url]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["api"].as_str(), v["status"].as_str(), v["ready"].as_bool()),
        (Some("v2"), Some("ready"), Some(true))
    );
    assert_eq!(v["db_version"], "de66b749-6764-4b63-821b-351ba4482664");
}

#[test]
fn kkt_mark_lm_init() {
    let lm = mock_lm2(2, LmAuth::Basic);
    lm.state.set_status("not_configured");
    let dir = temp_dir("cli-init");
    let bad = dir.join("bad-token");
    std::fs::write(&bad, "not-the-token\n").unwrap();
    let good = dir.join("token");
    std::fs::write(&good, format!("{INIT_TOKEN}\n")).unwrap();
    let run = |file: &Path| {
        kkt_cli(&dir)
            .env("KKT_LM_PASSWORD", LM2_PASSWORD)
            .args(["-vvv", "mark", "lm-init", "--token-file", file.to_str().unwrap(), "--wait", "10"])
            .args(["--lm-url", lm.server.url.as_str(), "--lm-user", LM2_USER])
            .output()
            .unwrap()
    };
    let out = run(&bad);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("4001") && err.contains("not valid"), "{err}");
    assert!(!err.contains("not-the-token"));
    let out = run(&good);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ready"));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains(INIT_TOKEN), "the token is never logged or printed");
    let init = lm.state.seen.lock().unwrap().iter().rev().find(|s| s.path == "/api/v2/init").cloned().unwrap();
    assert_eq!(serde_json::from_str::<Value>(&init.body).unwrap(), json!({"token": INIT_TOKEN}));
    // Already ready: nothing to do.
    let out = run(&good);
    assert!(String::from_utf8_lossy(&out.stdout).contains("already ready"));
}

#[test]
fn kkt_serve_checks_and_sells_through_the_tspiot() {
    let ts = MockTsPiot::start(&[2], None);
    ts.state.set(SOLD, Ts::Entry(json!({"sold": true})));
    let lm = mock_lm2(2, LmAuth::Basic);
    let (lm_url, ts_url) = (lm.server.url.clone(), ts.url.clone());
    let mut svc = Service::start("emulator", |o| {
        o.config_extra = format!("[marking]\ntspiot_url = \"{ts_url}\"\n");
        o.extra = vec!["--lm-url".into(), lm_url, "--lm-user".into(), LM2_USER.into()];
    });
    let _ = &mut svc;
    let c = &svc.client;
    let st = c.get("/v1/status", "/v1/status");
    assert_eq!(st.status, 200, "{}", st.body);
    assert_eq!(st.body["mark_check"]["path"], "tspiot");
    assert_eq!(st.body["mark_check"]["tspiot"]["api_version"], 2);
    assert!(st.body["mark_check"]["tspiot"]["matches_register"].is_boolean());
    let m = c.post("/v1/marks/check", &json!({"codes": [DAIRY, SOLD]}).to_string());
    assert_eq!(m.status, 200, "{}", m.body);
    assert_eq!(m.body["verdicts"][0]["source"], "tspiot");
    assert_eq!(m.body["verdicts"][1]["action"], "refuse");
    // The ТС ПИОТ down (520): the Local Module, for the check and the sale. The password comes
    // from nowhere here, so the module refuses it: sold without a check.
    ts.state.force(Some(Ts::Http(520, json!({}))));
    let m = c.post("/v1/marks/check", &json!({"codes": [DAIRY]}).to_string());
    assert_eq!(m.body["verdicts"][0]["source"], "none", "{}", m.body);
    assert!(m.body["verdicts"][0]["notes"].to_string().contains("401"), "{}", m.body);
    ts.state.force(None);
    c.post("/v1/shift/open", "{}");
    let r = c.post(
        "/v1/receipts",
        &json!({"operation": "sell", "taxation": "osn", "items": [{"name": "Молоко", "price": "99.00", "quantity": 1,
                "vat": "vat10", "payment_method": "full_payment", "payment_object": "marked_commodity", "marking_code": DAIRY}],
                "payments": {"cash": "99.00"}})
        .to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["marks"][0]["source"], "tspiot", "{}", r.body);
    assert!(r.body["marks"][0]["tag1265"].as_str().unwrap().starts_with("UUID="));
}

#[test]
fn kkt_receipt_sells_through_the_tspiot() {
    let ts = MockTsPiot::start(&[2], None);
    let emu = crate::support::http::Emulator::start(&[]);
    let dir = temp_dir("cli-receipt");
    let run = |args: &[&str]| {
        kkt_cli(&dir)
            .args(["--device", emu.uri.as_str(), "--journal", dir.join("journal.sqlite").to_str().unwrap()])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["shift", "open", "--cashier", "Иванова А.А."]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sale = format!("{}/fixtures/receipts/sale.json", env!("CARGO_MANIFEST_DIR"));
    let out = run(&["--json", "receipt", &sale, "--tspiot-url", &ts.url]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["marks"][0]["source"], "tspiot", "{r}");
    assert!(r["marks"][0]["tag1265"].as_str().unwrap().starts_with("UUID="));
    assert_eq!(ts.state.checks().len(), 1);
}
