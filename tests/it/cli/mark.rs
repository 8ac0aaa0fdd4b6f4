//! `kkt mark` as a user runs it, against the mock ГИС МТ and Local Module on loopback.

use std::path::Path;
use std::sync::atomic::Ordering;

use crate::support::gismt::*;
use assert_cmd::Command;
use serde_json::{json, Value};

fn kkt(mock: Option<&MockGisMt>, cache: &Path) -> Command {
    let mut c = Command::cargo_bin("kkt").unwrap();
    for v in [
        "KKT_DEVICE",
        "KKT_STORE",
        "KKT_LM_URL",
        "KKT_MARK_STRICT",
        "KKT_MARK_CHECK",
        "KKT_GISMT_TOKEN_FILE",
        "KKT_CONFIG",
        "KKT_SIGN_COMMAND",
        "KKT_TSPIOT_URL",
    ] {
        c.env_remove(v);
    }
    c.env("KKT_CACHE_DIR", cache).env("KKT_GISMT_TOKEN", TOKEN);
    if let Some(m) = mock {
        c.env("KKT_GISMT_URL", m.url());
    }
    c
}

fn code_of(n: u32) -> &'static str {
    appendix2().into_iter().find(|(k, _, _)| *k == n).unwrap().1
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn parse_prints_the_structure() {
    let dir = temp_dir("cli-parse");
    let out = kkt(None, &dir)
        .args(["mark", "parse", "]d2010461013628057121/798DM%<GS>8005106000<GS>93dGVz"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("GTIN:         04610136280571"), "{text}");
    assert!(text.contains("MRP:          1060.00 (106000 kopecks)"));
    assert!(text.contains("tag 2100:     5"));
    assert!(text.contains("1D 38 30 30 35"), "GS as one byte: {text}");
    let out = kkt(None, &dir).args(["mark", "parse", "--json", "00000046185372KY4mjNZAB=U/FkO"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["mrp_kopecks"], 12500);
    assert_eq!(v["crypto_tail"], "/FkO");
    assert_eq!(v["print_view"], "00000046185372KY4mjNZ");
    let out =
        kkt(None, &dir).args(["mark", "parse", "0104670540176099215abcdefghijklmnopqrstuvwxyz"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GS separator"));
}

#[test]
fn check_json_has_the_named_fields_and_exit_codes() {
    let mock = MockGisMt::start(2);
    let dir = temp_dir("cli-check");
    let out = kkt(Some(&mock), &dir).args(["mark", "check", "--json", code_of(4)]).output().unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stderr));
    let v = &json_lines(&out.stdout)[0];
    for k in ["code", "allowed", "reasons", "req_id", "req_timestamp", "tag1265", "source", "emergency"] {
        assert!(v.get(k).is_some(), "{k} missing in {v}");
    }
    assert_eq!(v["code"], code_of(4));
    assert_eq!(v["allowed"], false);
    assert_eq!(v["source"], "online");
    assert_eq!(v["reasons"][0]["field"], "sold");
    assert_eq!(v["tag1265"], format!("UUID={}&Time={}", v["req_id"].as_str().unwrap(), v["req_timestamp"]));
    // The block at its MRP sells; two codes in one request.
    let out = kkt(Some(&mock), &dir)
        .args([
            "mark",
            "check",
            "--json",
            "--price",
            "1060.00",
            code_of(7),
            code_of(7).replace('\u{1d}', "\\u001d").as_str(),
        ])
        .output()
        .unwrap();
    let vs = json_lines(&out.stdout);
    assert_eq!(vs.len(), 2);
    assert_eq!(vs[0]["allowed"], true);
    assert_eq!(vs[1]["reasons"][0]["field"], "code", "the same code twice in one receipt");
    assert_eq!(out.status.code(), Some(6));
    // Ask mode: exit 7, text for the cashier.
    let out = kkt(Some(&mock), &dir).args(["mark", "check", "--strict", "ask", code_of(5)]).output().unwrap();
    assert_eq!(out.status.code(), Some(7));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ASK THE CASHIER") && text.contains("[isBlocked]") && text.contains("RPN"), "{text}");
    // Emergency: exit 0, says so.
    let out = kkt(Some(&mock), &dir).args(["mark", "check", "--json", code_of(12)]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_lines(&out.stdout)[0]["emergency"], true);
    // A bad code: exit 2, nothing sent.
    let before = mock.total_checks();
    let out = kkt(Some(&mock), &dir).args(["mark", "check", "hello"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(mock.total_checks(), before);
}

#[test]
fn unavailability_marks_hold_across_runs() {
    let mock = MockGisMt::start(2);
    let dir = temp_dir("cli-marks");
    let out = kkt(Some(&mock), &dir).args(["mark", "cdn", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let best = v["hosts"][0]["host"].as_str().unwrap().to_string();
    assert_eq!(v["hosts"][0]["rank"], 1);
    assert!(v["hosts"][0]["latency_ms"].is_u64());
    assert!(v["hosts"][0]["unavailable_until_ms"].is_null());
    let h = mock.hosts.iter().find(|h| h.url() == best).unwrap();
    h.state.force(429, json!({"code": 429}), 100);
    let out = kkt(Some(&mock), &dir).args(["mark", "check", "--json", code_of(4)]).output().unwrap();
    assert_eq!(json_lines(&out.stdout)[0]["source"], "online");
    assert_eq!(h.state.checks(), 2);
    // Another run sees the mark, and skips the host.
    let out = kkt(Some(&mock), &dir).args(["mark", "cdn", "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let marked = v["hosts"].as_array().unwrap().iter().find(|x| x["host"] == best.as_str()).unwrap();
    assert!(marked["unavailable_until_ms"].is_i64(), "{v}");
    kkt(Some(&mock), &dir).args(["mark", "check", code_of(4)]).output().unwrap();
    assert_eq!(h.state.checks(), 2);
    // Text output names rank, latency and the mark.
    let out = kkt(Some(&mock), &dir).args(["mark", "cdn"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("rank") && text.contains(" ms") && text.contains(&best), "{text}");
    assert_eq!(mock.discovery.calls.load(Ordering::Relaxed), 1, "one discovery for all these runs");
}

#[test]
fn lm_status_and_fallback() {
    let lm = mock_lm();
    let dir = temp_dir("cli-lm");
    let run = |args: &[&str]| {
        kkt(None, &dir)
            .env("KKT_LM_URL", &lm.server.url)
            .env("KKT_LM_USER", LM_USER)
            .env("KKT_LM_PASSWORD", LM_PASSWORD)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["mark", "lm-status"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(": ready") && text.contains(LM_VERSION), "{text}");
    *lm.status.lock().unwrap() = "sync_error".into();
    let v: Value = serde_json::from_slice(&run(&["mark", "lm-status", "--json"]).stdout).unwrap();
    assert_eq!(v["status"], "sync_error");
    assert_eq!(v["ready"], false);
    *lm.status.lock().unwrap() = "ready".into();
    // Local Module only.
    lm.codes.lock().unwrap().insert(code_of(4).to_string(), json!({"sold": true}));
    let out = run(&["mark", "check", "--json", "--no-online", code_of(4)]);
    let v = &json_lines(&out.stdout)[0];
    assert_eq!(v["source"], "lm");
    assert_eq!(v["reasons"][0]["field"], "sold");
    assert!(v["tag1265"].as_str().unwrap().contains(&format!("&Inst={LM_INST}&Ver={LM_VERSION}")));
    // Unreachable module: exit 4.
    let out = kkt(None, &dir).args(["mark", "lm-status", "--lm-url", "http://127.0.0.1:9"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
}

#[test]
fn token_check() {
    let mock = MockGisMt::start(1);
    let dir = temp_dir("cli-token");
    let out = kkt(Some(&mock), &dir).args(["mark", "token-check"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = kkt(Some(&mock), &temp_dir("cli-token2"))
        .env("KKT_GISMT_TOKEN", "not-the-token")
        .args(["mark", "token-check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("401") && !err.contains("not-the-token"), "{err}");
    // From a file.
    let f = dir.join("token");
    std::fs::write(&f, format!("{TOKEN}\n")).unwrap();
    let out = kkt(Some(&mock), &dir)
        .env_remove("KKT_GISMT_TOKEN")
        .args(["mark", "token-check", "--gismt-token-file", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn store_record_history_and_resale() {
    let mock = MockGisMt::start(1);
    let dir = temp_dir("cli-store");
    let out = kkt(Some(&mock), &dir).args(["mark", "check", "--price", "1060", code_of(7)]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out =
        kkt(Some(&mock), &dir).args(["mark", "record", "sold", "--receipt", "FD 77", code_of(7)]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = kkt(Some(&mock), &dir).args(["mark", "check", "--json", "--price", "1060", code_of(7)]).output().unwrap();
    assert_eq!(out.status.code(), Some(6));
    let v = &json_lines(&out.stdout)[0];
    assert_eq!(v["reasons"][0]["field"], "store");
    let out = kkt(Some(&mock), &dir).args(["mark", "history", code_of(7)]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("FD 77"));
    kkt(Some(&mock), &dir).args(["mark", "record", "returned", "--receipt", "FD 78", code_of(7)]).assert().success();
    kkt(Some(&mock), &dir).args(["mark", "check", "--price", "1060", code_of(7)]).assert().code(0);
}

/// `kkt emulator` on a free TCP port.
struct Emulator {
    child: std::process::Child,
    uri: String,
}

impl Emulator {
    fn start() -> Emulator {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kkt"))
            .args(["emulator", "--listen", "127.0.0.1:0"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        let addr = line.split_whitespace().find(|w| w.starts_with("127.0.0.1:")).unwrap_or_else(|| panic!("{line}"));
        Emulator { child, uri: format!("tcp://{addr}") }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn receipt_json(code: &str, price: &str) -> String {
    json!({
        "operation": "sell", "taxation": "osn",
        "cashier": {"name": "Иванова А.А.", "inn": "500100732259"},
        "items": [{"name": "Сигареты", "price": price, "quantity": "1", "vat": "vat20",
                   "payment_method": "full_payment", "payment_object": "marked_commodity",
                   "marking_code": code}],
        "payments": {"cash": price}
    })
    .to_string()
}

#[test]
fn kkt_receipt_checks_marked_items_and_sends_1260() {
    let mock = MockGisMt::start(1);
    let emu = Emulator::start();
    let dir = temp_dir("cli-receipt");
    let run = |args: &[&str], stdin: Option<String>| {
        let mut c = kkt(Some(&mock), &dir);
        c.env("KKT_DEVICE", &emu.uri).env("HOME", &dir).args(args);
        if let Some(s) = stdin {
            c.write_stdin(s);
        }
        c.output().unwrap()
    };
    let out = run(&["shift", "open", "--cashier", "Иванова А.А."], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The block at its MRP: sold, 1260 from the online answer, fiscalDriveNumber from the register.
    let out = run(&["--json", "receipt", "-"], Some(receipt_json(code_of(7), "1060.00")));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &v["marks"][0];
    assert_eq!(m["source"], "online", "{v}");
    assert!(m["tag1265"].as_str().unwrap().starts_with("UUID="), "{v}");
    let body = mock.hosts[0].state.bodies.lock().unwrap()[0].clone();
    assert_eq!(body["fiscalDriveNumber"].as_str().map(str::len), Some(16));
    // A withdrawn code: refused by the checker, exit 6 (not 2: the input was fine), the reason
    // named, what had been sent, and that the receipt was cancelled.
    let out = run(&["receipt", "-"], Some(receipt_json(code_of(4), "100.00")));
    assert_eq!(out.status.code(), Some(6));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[sold]") && err.contains("sent before: 0x23, 0x91") && err.contains("cancelled"), "{err}");
    // With --json: the verdict in the error.
    let out = run(&["--json", "receipt", "-"], Some(receipt_json(code_of(4), "100.00")));
    assert_eq!(out.status.code(), Some(6));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "mark_refused");
    assert_eq!(v["error"]["verdict"]["reasons"][0]["rule"], "sold");
    assert!(v["error"]["verdict"]["reasons"][0]["message_ru"].as_str().unwrap().contains("выведен из оборота"), "{v}");
    // The block again: this store sold it.
    let out = run(&["receipt", "-"], Some(receipt_json(code_of(7), "1060.00")));
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[store]"));
    // Checks off: the register alone decides.
    let out = run(&["receipt", "--no-mark-check", "-"], Some(receipt_json(code_of(4), "100.00")));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // `kkt mark check` with a register sends its FN serial.
    let before = mock.total_checks() as usize;
    run(&["mark", "check", code_of(2)], None);
    let bodies = mock.hosts[0].state.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), before + 1);
    assert_eq!(bodies[before]["fiscalDriveNumber"], body["fiscalDriveNumber"]);
}

#[test]
fn the_checks_trail_keeps_every_verdict_and_the_receipt_it_sold_in() {
    let mock = MockGisMt::start(1);
    let emu = Emulator::start();
    let dir = temp_dir("cli-trail");
    let run = |args: &[&str], stdin: Option<String>| {
        let mut c = kkt(Some(&mock), &dir);
        c.env("KKT_DEVICE", &emu.uri).env("HOME", &dir).env("KKT_JOURNAL", dir.join("j.sqlite")).args(args);
        if let Some(s) = stdin {
            c.write_stdin(s);
        }
        c.output().unwrap()
    };
    let started = chrono::Local::now().format("%Y-%m-%d").to_string();
    assert!(run(&["shift", "open"], None).status.success());
    // A check alone, a sale, a refused sale: three verdicts.
    assert_eq!(run(&["mark", "check", code_of(4)], None).status.code(), Some(6));
    let out = run(&["--json", "receipt", "-"], Some(receipt_json(code_of(7), "1060.00")));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fd = doc["fd_number"].as_i64().unwrap();
    let check_id = doc["marks"][0]["check_id"].as_i64().expect("the sold item's verdict row");
    assert_eq!(run(&["receipt", "-"], Some(receipt_json(code_of(4), "100.00"))).status.code(), Some(6));
    let out = run(&["--json", "mark", "checks", "--since", &started], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v["checks"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{v}");
    let actions: Vec<&str> = rows.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["refuse", "sell", "refuse"]);
    for r in rows {
        assert_eq!(r["source"], "online");
        assert!(r["req_id"].is_string() && r["req_timestamp"].is_i64(), "{r}");
        assert_eq!(r["inn"].as_str().map(str::len), Some(10), "the register's registration INN: {r}");
        assert!(
            r["decided"]["found"].is_boolean() && r["decided"]["sold"].is_boolean(),
            "the fields that decided: {r}"
        );
    }
    assert_eq!(rows[1]["id"].as_i64(), Some(check_id));
    assert_eq!(rows[1]["fd_number"].as_i64(), Some(fd), "the sold item's verdict carries the FD number");
    assert!(rows[1]["receipt"].as_str().unwrap().ends_with(&format!("FD {fd}")));
    assert_eq!(rows[0]["print_view"], rows[2]["print_view"]);
    assert!(rows[0]["fd_number"].is_null() && rows[2]["fd_number"].is_null(), "no receipt for a refusal");
    assert_eq!(rows[2]["reasons"][0]["rule"], "sold");
    // `kkt mark history`: the checks and the sale.
    let out = run(&["mark", "history", code_of(7)], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("checks:") && text.contains("sold in FN") && text.contains("Sold"), "{text}");
    // Retention: verdicts and events older than it are pruned (the sold state stays).
    let mut s = kkt::checker::store::SqliteStore::open(&kkt::checker::store::default_path(&dir)).unwrap();
    let old = kkt::checker::gismt::now_ms() - 3 * 86_400_000;
    let mut rec: kkt::checker::store::CheckRecord = serde_json::from_value(rows[0].clone()).unwrap();
    rec.at_ms = old;
    kkt::checker::store::SoldCodes::add_check(&mut s, &rec).unwrap();
    drop(s);
    let v: Value =
        serde_json::from_slice(&run(&["--json", "mark", "checks", "--since", "2000-01-01"], None).stdout).unwrap();
    assert_eq!(v["checks"].as_array().unwrap().len(), 4);
    // Pruning runs at most once a day (a marker in the cache directory says when it last ran):
    // today's has run already, without this retention.
    run(&["mark", "check", "--retention-days", "1", code_of(2)], None);
    let v: Value =
        serde_json::from_slice(&run(&["--json", "mark", "checks", "--since", "2000-01-01"], None).stdout).unwrap();
    assert_eq!(v["checks"].as_array().unwrap().len(), 5, "not pruned twice a day");
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap().to_string_lossy().starts_with("store-pruned-") {
            std::fs::remove_file(p).unwrap();
        }
    }
    run(&["mark", "check", "--retention-days", "1", code_of(2)], None);
    let v: Value =
        serde_json::from_slice(&run(&["--json", "mark", "checks", "--since", "2000-01-01"], None).stdout).unwrap();
    let rows = v["checks"].as_array().unwrap();
    assert_eq!(rows.len(), 5, "the old verdict pruned, the new ones kept: {v}");
    assert!(rows.iter().all(|r| r["at_ms"].as_i64().unwrap() > old));
    assert_eq!(run(&["mark", "check", "--price", "1060", code_of(7)], None).status.code(), Some(6), "still sold here");
}
