//! ГИС МТ's emergency (seed 003 §7) as a user meets it: a 203 latches it in the cache directory
//! for every later process (no /codes/check is sent at all while it holds), `kkt mark emergency
//! on|off|status` follows ЦРПТ's announcements by hand on every path (the ТС ПИОТ's too), and the
//! rules that need no ГИС МТ still apply.

use std::path::Path;

use crate::support::gismt::*;
use crate::support::tspiot::MockTsPiot;
use assert_cmd::Command;
use serde_json::Value;

fn kkt(mock: &MockGisMt, cache: &Path) -> Command {
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
    c.env("KKT_CACHE_DIR", cache).env("KKT_GISMT_TOKEN", TOKEN).env("KKT_GISMT_URL", mock.url()).env("HOME", cache);
    c
}

fn code_of(n: u32) -> &'static str {
    appendix2().into_iter().find(|(k, _, _)| *k == n).unwrap().1
}

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn status(mock: &MockGisMt, dir: &Path) -> Value {
    let out = kkt(mock, dir).args(["--json", "mark", "emergency", "status"]).output().unwrap();
    assert!(out.status.success());
    lines(&out.stdout).remove(0)
}

fn iso_ms(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().timestamp_millis()
}

const DAY: i64 = 86_400_000;

#[test]
fn a_203_latches_checks_off_for_3_days_across_processes() {
    let mock = MockGisMt::start(2);
    let dir = temp_dir("emergency");
    assert_eq!(status(&mock, &dir)["emergency"], false);
    // Scenario 12: /codes/check answers 203.
    let t0 = kkt::checker::gismt::now_ms();
    let out = kkt(&mock, &dir).args(["--json", "mark", "check", code_of(12)]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(lines(&out.stdout)[0]["emergency"], true);
    let sent = mock.total_checks();
    let st = status(&mock, &dir);
    assert_eq!((st["emergency"].as_bool(), st["cause"].as_str()), (Some(true), Some("203")), "{st}");
    let until = iso_ms(&st["until"]);
    assert!(until >= t0 + 3 * DAY - 1000 && until <= kkt::checker::gismt::now_ms() + 3 * DAY, "{st}");
    assert!(st["last_203_from"].as_str().unwrap().ends_with("/codes/check"), "{st}");
    // Another process: checks are off, nothing is sent, the sale is allowed without a check.
    let out = kkt(&mock, &dir).args(["--json", "mark", "check", code_of(4)]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = &lines(&out.stdout)[0];
    assert_eq!(
        (v["allowed"].as_bool(), v["emergency"].as_bool(), v["tag1265"].is_null()),
        (Some(true), Some(true), true)
    );
    assert!(v["notes"][0].as_str().unwrap().contains("3 days"), "{v}");
    assert_eq!(mock.total_checks(), sent, "no /codes/check while the emergency holds");
    // The rules that need no ГИС МТ still apply: the MRP in the code, repeats, the store.
    let out = kkt(&mock, &dir).args(["--json", "mark", "check", "--price", "1000", code_of(7)]).output().unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert_eq!(lines(&out.stdout)[0]["reasons"][0]["field"], "price");
    let out = kkt(&mock, &dir).args(["--json", "mark", "check", code_of(2), code_of(2)]).output().unwrap();
    assert_eq!(lines(&out.stdout)[1]["reasons"][0]["field"], "code");
    kkt(&mock, &dir).args(["mark", "record", "sold", "--receipt", "FD 9", code_of(5)]).assert().success();
    let out = kkt(&mock, &dir).args(["--json", "mark", "check", code_of(5)]).output().unwrap();
    assert_eq!(lines(&out.stdout)[0]["reasons"][0]["field"], "store");
    assert_eq!(mock.total_checks(), sent);
    // The text says so.
    let out = kkt(&mock, &dir).args(["mark", "emergency", "status"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("checks are OFF") && text.contains("203"), "{text}");
    // The store learns from ЦРПТ that the test contour's 203 was no emergency: checks back now.
    kkt(&mock, &dir).args(["mark", "emergency", "off", "--now"]).assert().success();
    assert_eq!(status(&mock, &dir)["emergency"], false);
    let out = kkt(&mock, &dir).args(["--json", "mark", "check", code_of(4)]).output().unwrap();
    assert_eq!(out.status.code(), Some(6));
    let v = &lines(&out.stdout)[0];
    assert_eq!((v["source"].as_str(), v["emergency"].as_bool()), (Some("online"), Some(false)));
    assert_eq!(mock.total_checks(), sent + 1);
}

#[test]
fn the_store_declares_and_ends_an_emergency_by_hand_on_every_path() {
    let mock = MockGisMt::start(1);
    let ts = MockTsPiot::start(&[2], None);
    let dir = temp_dir("emergency-hand");
    // ЦРПТ announces an emergency: checks off until it is ended, whatever the path.
    let out = kkt(&mock, &dir).args(["--json", "mark", "emergency", "on"]).output().unwrap();
    assert!(out.status.success());
    let st = lines(&out.stdout).remove(0);
    assert_eq!(
        (st["emergency"].as_bool(), st["cause"].as_str(), st["until"].is_null()),
        (Some(true), Some("manual"), true),
        "{st}"
    );
    let out = kkt(&mock, &dir).args(["--json", "mark", "check", code_of(4)]).output().unwrap();
    let v = &lines(&out.stdout)[0];
    assert_eq!((v["allowed"].as_bool(), v["emergency"].as_bool()), (Some(true), Some(true)), "{v}");
    assert!(v["notes"][0].as_str().unwrap().contains("declared by the store"), "{v}");
    let out = kkt(&mock, &dir).args(["--json", "mark", "check", "--tspiot-url", &ts.url, code_of(4)]).output().unwrap();
    assert_eq!(lines(&out.stdout)[0]["emergency"], true);
    assert!(ts.state.checks().is_empty(), "the ТС ПИОТ is not asked either");
    assert_eq!(mock.total_checks(), 0);
    // ЦРПТ announces its end: 3 more days without checks (§7).
    let t0 = kkt::checker::gismt::now_ms();
    kkt(&mock, &dir).args(["mark", "emergency", "off"]).assert().success();
    let st = status(&mock, &dir);
    assert_eq!((st["emergency"].as_bool(), st["cause"].as_str()), (Some(true), Some("manual")), "{st}");
    let until = iso_ms(&st["until"]);
    assert!(until >= t0 + 3 * DAY - 1000 && until <= kkt::checker::gismt::now_ms() + 3 * DAY, "{st}");
    assert_eq!(
        lines(&kkt(&mock, &dir).args(["--json", "mark", "check", code_of(4)]).output().unwrap().stdout)[0]["emergency"],
        true
    );
    assert_eq!(mock.total_checks(), 0);
}
