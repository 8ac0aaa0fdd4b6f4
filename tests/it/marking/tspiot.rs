//! The ТС ПИОТ path (issue 13): every row of the failure table against the mock ТС ПИОТ (HTTPS,
//! self-signed, loopback) and the mock Local Module (v2 and v1); the version probe and its
//! memory; the budget, measured; the GS byte's Base64 form, byte for byte; the register binding;
//! the Local Module's auth order, statuses, per-KI results and errors.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::support::gismt::temp_dir;
use crate::support::tspiot::*;
use kkt::checker::lm::{Lm, LmConfig};
use kkt::checker::tspiot::{TsPiot, TsPiotConfig, VersionFile};
use kkt::checker::{Action, CheckItem, Checker, Secret, Settings, Source, Verdict};
use kkt::marking::MarkingCode;

pub const DAIRY: &str = "0104670540176099215'W9Um\u{1d}93dGVz";
pub const NOT_APPLIED: &str = "0104670540176099215LnOjv\u{1d}93dGVz";
pub const GRAY: &str = "010462930887704421DzkcYt2\u{1d}8005177000\u{1d}93dGVz";
pub const SOLD: &str = "0104670540176099215NN*cM\u{1d}93dGVz";
pub const BLOCKED: &str = "0104602220006549215opFcmK\u{1d}93dGVz";
pub const EXPIRED: &str = "0104670540176099215<pGKy\u{1d}93dGVz";
pub const BLOCK_1060: &str = "010461013628057121/798DM%\u{1d}8005106000\u{1d}93dGVz";
pub const PACK_145: &str = "04601653035829H;dV)bFACVUdGVz";
pub const UNKNOWN: &str = "04601653035829H;vE)bFACVUdGVz";
pub const BAD_TAIL: &str = "0104670540176099215<pGKy\u{1d}93DGVz";

/// What a run of the checker is measured with.
const SLACK: Duration = Duration::from_millis(1500);

fn code(s: &str) -> MarkingCode {
    MarkingCode::parse(s).unwrap()
}

pub fn tspiot_for(ts: &MockTsPiot, dir: &std::path::Path) -> TsPiot {
    let mut c = TsPiotConfig::new(ts.url.clone());
    c.cache_dir = Some(dir.to_path_buf());
    TsPiot::new(c).unwrap()
}

pub fn lm_for(m: &MockLm2) -> Lm {
    let mut c = LmConfig::new(m.server.url.clone());
    c.user = Some(LM2_USER.into());
    c.password = Some(Secret::new(LM2_PASSWORD));
    Lm::new(c).unwrap()
}

fn checker(ts: &MockTsPiot, lm: Option<&MockLm2>) -> Checker {
    Checker::new(None, lm.map(lm_for), Settings::default()).with_tspiot(tspiot_for(ts, &temp_dir("tspiot")))
}

fn check_all(ch: &Checker, items: &[(&str, Option<u64>)]) -> (Vec<Verdict>, Duration) {
    let items: Vec<CheckItem> = items
        .iter()
        .map(|(c, p)| {
            let mut i = CheckItem::new(code(c));
            i.price_kopecks = *p;
            i
        })
        .collect();
    let t = Instant::now();
    let v = ch.receipt().check(&items);
    (v, t.elapsed())
}

fn check(ch: &Checker, c: &str) -> (Verdict, Duration) {
    let (mut v, t) = check_all(ch, &[(c, None)]);
    (v.remove(0), t)
}

fn fields(v: &Verdict) -> Vec<&str> {
    v.reasons.iter().map(|r| r.field.as_str()).collect()
}

fn scripted(ts: &MockTsPiot) {
    let s = &ts.state;
    s.set(NOT_APPLIED, Ts::Entry(json!({"utilised": false, "realizable": false})));
    s.set(SOLD, Ts::Entry(json!({"sold": true, "realizable": false})));
    s.set(BLOCKED, Ts::Entry(json!({"isBlocked": true, "ogvs": ["RPN"]})));
    s.set(EXPIRED, Ts::Entry(json!({"expireDate": "2022-12-22T12:16:00.000Z"})));
    s.set(BLOCK_1060, Ts::Entry(json!({"groupIds": [3], "mrp": 106000})));
    s.set(PACK_145, Ts::Entry(json!({"groupIds": [3], "mrp": 14500})));
    s.set(GRAY, Ts::Entry(json!({"realizable": false, "grayZone": true, "groupIds": [3], "mrp": 177000})));
    s.set(UNKNOWN, Ts::Entry(json!({"found": false, "verified": false, "utilised": false, "realizable": false})));
    s.set(BAD_TAIL, Ts::Entry(json!({"verified": false, "errorCode": 6})));
}

/// Row 1: HTTP 200, item code 0: the verdict from the codes, for every API version.
#[test]
fn row_200_the_verdict_comes_from_the_codes_in_every_version() {
    for version in [1u8, 2, 3] {
        let ts = MockTsPiot::start(&[version], None);
        scripted(&ts);
        let lm = mock_lm2(2, LmAuth::Basic);
        let ch = checker(&ts, Some(&lm));
        let cases: Vec<(&str, Option<u64>, bool, Vec<&str>)> = vec![
            (DAIRY, None, true, vec![]),
            (NOT_APPLIED, None, false, vec!["utilised", "realizable"]),
            (SOLD, None, false, vec!["sold"]),
            (BLOCKED, None, false, vec!["isBlocked"]),
            (EXPIRED, None, false, vec!["expireDate"]),
            (BLOCK_1060, Some(106000), true, vec![]),
            (BLOCK_1060, Some(100000), false, vec!["price"]),
            (PACK_145, Some(14500), true, vec![]),
            (PACK_145, Some(15000), false, vec!["price"]),
            (GRAY, Some(177000), true, vec![]),
            (UNKNOWN, None, false, vec!["found", "utilised", "verified", "realizable"]),
            (BAD_TAIL, None, false, vec!["verified"]),
        ];
        for (c, price, allowed, want) in cases {
            let (mut v, _) = check_all(&ch, &[(c, price)]);
            let v = v.remove(0);
            assert_eq!(v.source, Source::Tspiot, "v{version} {c}: {v:?}");
            assert_eq!(v.allowed, allowed, "v{version} {c}: {:?}", v.reasons);
            assert_eq!(fields(&v), want, "v{version} {c}");
            assert!(!v.emergency);
            let id = v.req_id.clone().unwrap();
            assert_eq!(v.tag1265, Some(format!("UUID={id}&Time={}", v.req_timestamp.unwrap())), "v{version}");
        }
        let (v, _) = check_all(&ch, &[(GRAY, Some(177000))]);
        assert!(v[0].notes.iter().any(|n| n.contains("grayZone")), "{:?}", v[0].notes);
        // Every check went to this version's path; the Local Module was never asked.
        let checks = ts.state.checks();
        assert!(checks.iter().all(|s| s.path == format!("/api/v{version}/codes/check")), "{:?}", ts.state.paths());
        assert!(lm.state.checks().is_empty());
        // v3 sends objects, v1/v2 strings.
        let body: Value = serde_json::from_str(&checks[0].body).unwrap();
        assert_eq!(body["codes"][0].is_object(), version == 3, "{body}");
        assert_eq!(body["client_info"]["name"], "kkt");
        assert!(checks[0].header("X-API-KEY").is_none(), "no ГИС МТ token goes to the ТС ПИОТ");
    }
}

/// All codes of one receipt in one request, matched back by `cis`.
#[test]
fn one_request_per_receipt() {
    let ts = MockTsPiot::start(&[2], None);
    scripted(&ts);
    let ch = checker(&ts, None);
    let (v, _) = check_all(&ch, &[(DAIRY, None), (SOLD, None), (PACK_145, Some(14500))]);
    assert_eq!(ts.state.checks().len(), 1);
    assert_eq!(v.iter().map(|v| v.allowed).collect::<Vec<_>>(), vec![true, false, true]);
    let body: Value = serde_json::from_str(&ts.state.checks()[0].body).unwrap();
    assert_eq!(body["codes"].as_array().unwrap().len(), 3);
}

/// Offline answers (the Local Module through the ТС ПИОТ): false flags and a string reqTimestamp;
/// judged on isBlocked and sold only; 1265 with Inst and Ver.
#[test]
fn offline_answers_through_the_tspiot() {
    let ts = MockTsPiot::start(&[1], None);
    ts.state.set(DAIRY, Ts::Offline(json!({})));
    ts.state.set(BLOCKED, Ts::Offline(json!({"isBlocked": true})));
    ts.state.set(SOLD, Ts::Offline(json!({"sold": true})));
    let ch = checker(&ts, None);
    let (v, _) = check(&ch, DAIRY);
    assert!(v.allowed, "{:?}", v.reasons);
    assert_eq!(v.source, Source::TspiotLm);
    let t = v.tag1265.clone().unwrap();
    assert!(t.starts_with("UUID=") && t.ends_with(&format!("&Inst={TS_LM_INST}&Ver={TS_LM_VERSION}")), "{t}");
    assert!(v.req_timestamp.unwrap() > 1_700_000_000_000, "the string reqTimestamp is read");
    assert_eq!(fields(&check(&ch, BLOCKED).0), vec!["isBlocked"]);
    assert_eq!(fields(&check(&ch, SOLD).0), vec!["sold"]);
}

/// Row 2: HTTP 203 (or 200 with body code 203): emergency, sold without a check, no 1260, the
/// Local Module not asked.
#[test]
fn row_203_emergency() {
    let ts = MockTsPiot::start(&[2], None);
    let lm = mock_lm2(2, LmAuth::Basic);
    let ch = checker(&ts, Some(&lm));
    for forced in
        [Ts::Http(203, json!({"code": 203, "description": "emergency mode"})), Ts::Http(200, json!({"code": 203}))]
    {
        ts.state.force(Some(forced.clone()));
        let (v, _) = check(&ch, SOLD);
        assert!(v.allowed && v.emergency, "{forced:?}: {v:?}");
        assert_eq!(v.source, Source::Tspiot);
        assert_eq!(v.tag1265, None);
        assert!(v.tag1260().is_none());
        assert!(v.reasons.is_empty());
    }
    assert!(lm.state.seen.lock().unwrap().is_empty(), "the Local Module is not asked");
}

fn assert_from_lm(v: &Verdict, lm: &MockLm2, what: &str) {
    assert_eq!(v.source, Source::Lm, "{what}: {v:?}");
    assert!(v.allowed, "{what}");
    let t = v.tag1265.clone().unwrap();
    assert!(t.ends_with(&format!("&Inst={LM2_INST}&Ver={LM2_VERSION}")), "{what}: {t}");
    assert!(!lm.state.checks().is_empty(), "{what}");
}

/// Row 3: HTTP 514–520: the Local Module directly, with KIs (never the full code).
#[test]
fn row_514_to_520_ask_the_local_module() {
    let ts = MockTsPiot::start(&[2], None);
    let lm = mock_lm2(2, LmAuth::Basic);
    let ch = checker(&ts, Some(&lm));
    for s in 514..=520 {
        ts.state.force(Some(Ts::Http(s, json!({"code": s, "description": "ГИС МТ unavailable"}))));
        let before = lm.state.checks().len();
        let (v, _) = check(&ch, DAIRY);
        assert_from_lm(&v, &lm, &s.to_string());
        assert_eq!(lm.state.checks().len(), before + 1);
        assert!(v.notes.iter().any(|n| n.contains(&format!("HTTP {s}"))), "{:?}", v.notes);
    }
    let body: Value = serde_json::from_str(&lm.state.checks()[0].body).unwrap();
    assert_eq!(body, json!({"cis_list": [{"cis": "0104670540176099215'W9Um"}]}));
}

/// Row 4: HTTP 5xx, connection refused or reset, TLS failure, no answer within
/// codesCheckTimeout + 300 ms: the Local Module directly.
#[test]
fn row_5xx_refused_reset_tls_and_timeout_ask_the_local_module() {
    let lm = mock_lm2(2, LmAuth::Basic);
    let ts = MockTsPiot::start(&[2], None);
    let ch = checker(&ts, Some(&lm));
    for (what, forced) in [
        ("500", Ts::Http(500, json!({"code": 500, "description": "Internal error"}))),
        ("504", Ts::Http(504, json!({"code": 504, "description": "Gateway Timeout"}))),
        ("reset", Ts::Reset),
    ] {
        ts.state.force(Some(forced));
        let (v, _) = check(&ch, DAIRY);
        assert_from_lm(&v, &lm, what);
    }
    // No TLS at all.
    ts.state.force(None);
    ts.state.no_tls.store(true, Ordering::Relaxed);
    let (v, _) = check(&checker(&ts, Some(&lm)), DAIRY);
    assert_from_lm(&v, &lm, "tls");
    assert!(v.notes.iter().any(|n| n.contains("no answer")), "{:?}", v.notes);
    // Connection refused: a port nobody listens on.
    let gone = MockTsPiot::start(&[2], None);
    let url = gone.url.clone();
    drop(gone);
    std::thread::sleep(Duration::from_millis(100));
    let mut c = TsPiotConfig::new(url);
    c.cache_dir = Some(temp_dir("refused"));
    let ch = Checker::new(None, Some(lm_for(&lm)), Settings::default()).with_tspiot(TsPiot::new(c).unwrap());
    let (v, took) = check(&ch, DAIRY);
    assert_from_lm(&v, &lm, "refused");
    assert!(took < Duration::from_secs(4) + SLACK, "{took:?}");
    // No answer within codesCheckTimeout (500 ms here) + 300 ms.
    let ts = MockTsPiot::start(&[2], None);
    ts.set_info(default_info(json!(500), None));
    ts.state.force(Some(Ts::Slow(Duration::from_secs(3))));
    let ch = checker(&ts, Some(&lm));
    let (v, took) = check(&ch, DAIRY);
    assert_from_lm(&v, &lm, "slow");
    eprintln!("measured: ТС ПИОТ silent (codesCheckTimeout 500 ms), verdict from the Local Module in {took:?}");
    assert!(took >= Duration::from_millis(800), "kkt waited codesCheckTimeout + 300 ms: {took:?}");
    assert!(took < Duration::from_millis(800) + SLACK, "{took:?}");
}

/// Row 5: an item code other than 0: the Local Module directly; the code and description in
/// the notes.
#[test]
fn row_inner_code_5000_asks_the_local_module() {
    let ts = MockTsPiot::start(&[2], None);
    let lm = mock_lm2(2, LmAuth::Basic);
    ts.state.force(Some(Ts::Item(5000, "Transgran BY internal error")));
    let (v, _) = check(&checker(&ts, Some(&lm)), DAIRY);
    assert_from_lm(&v, &lm, "5000");
    assert!(v.notes.iter().any(|n| n.contains("5000") && n.contains("Transgran BY internal error")), "{:?}", v.notes);
}

/// Row 6: HTTP 400: every code of the request refused with the ТС ПИОТ's description; no
/// fallback.
#[test]
fn row_400_refuses_every_code_without_fallback() {
    let ts = MockTsPiot::start(&[2], None);
    let lm = mock_lm2(2, LmAuth::Basic);
    ts.state.force(Some(Ts::Http(400, json!({"code": 400, "description": "codes[1]: cannot be decoded"}))));
    let (v, _) = check_all(&checker(&ts, Some(&lm)), &[(DAIRY, None), (SOLD, None)]);
    for v in &v {
        assert!(!v.allowed);
        assert_eq!(v.action, Action::Refuse);
        assert_eq!(v.source, Source::Tspiot);
        assert!(v.reasons[0].message.contains("cannot be decoded"), "{:?}", v.reasons);
    }
    assert!(lm.state.seen.lock().unwrap().is_empty(), "no fallback");
}

/// Row 7: any other 4xx: the Local Module, the status in the notes; a 404 drops the remembered
/// version.
#[test]
fn row_other_4xx_ask_the_local_module() {
    let lm = mock_lm2(2, LmAuth::Basic);
    for s in [401u16, 403, 404, 405, 429] {
        let ts = MockTsPiot::start(&[3], None);
        let dir = temp_dir("4xx");
        let ch = Checker::new(None, Some(lm_for(&lm)), Settings::default()).with_tspiot(tspiot_for(&ts, &dir));
        ts.state.force(Some(Ts::Http(s, json!({"code": s, "description": "no"}))));
        let (v, _) = check(&ch, DAIRY);
        assert_from_lm(&v, &lm, &s.to_string());
        assert!(v.notes.iter().any(|n| n.contains(&format!("HTTP {s}"))), "{s}: {:?}", v.notes);
        let remembered = VersionFile::load(&dir, &ts.url, kkt::checker::gismt::now_ms());
        assert_eq!(remembered, if s == 404 { None } else { Some(3) }, "{s}");
        // After the 404 the next check probes /info again.
        if s == 404 {
            ts.state.force(None);
            let n = ts.state.paths().iter().filter(|p| p.ends_with("/info")).count();
            let (v, _) = check(&ch, DAIRY);
            assert_eq!(v.source, Source::Tspiot);
            assert!(ts.state.paths().iter().filter(|p| p.ends_with("/info")).count() > n);
        }
    }
}

/// Row 8: no Local Module, or it fails too: sold without a check, source none, what failed in
/// the notes, no reasons.
#[test]
fn row_no_local_module_or_it_fails_too() {
    let ts = MockTsPiot::start(&[2], None);
    ts.state.force(Some(Ts::Http(515, json!({}))));
    let none = |v: &Verdict, what: &str, says: &str| {
        assert!(v.allowed, "{what}: {v:?}");
        assert_eq!(v.source, Source::None, "{what}");
        assert!(v.reasons.is_empty(), "{what}: {:?}", v.reasons);
        assert!(v.tag1265.is_none());
        assert!(v.notes.iter().any(|n| n.contains("HTTP 515") && n.contains(says)), "{what}: {:?}", v.notes);
    };
    none(&check(&checker(&ts, None), DAIRY).0, "no module", "no Local Module configured");
    // Refused: nobody listens.
    let dead = mock_lm2(2, LmAuth::Basic);
    let dead_lm = lm_for(&dead);
    drop(dead);
    let ch = Checker::new(None, Some(dead_lm), Settings::default()).with_tspiot(tspiot_for(&ts, &temp_dir("x")));
    none(&check(&ch, DAIRY).0, "refused", "not reachable");
    // 401.
    let lm = mock_lm2(2, LmAuth::Token);
    none(&check(&checker(&ts, Some(&lm)), DAIRY).0, "401", "401");
    // Not ready, in every state but ready.
    let lm = mock_lm2(2, LmAuth::Basic);
    for st in ["not_configured", "initialization", "sync_error", "failure"] {
        lm.state.set_status(st);
        none(&check(&checker(&ts, Some(&lm)), DAIRY).0, st, st);
    }
    lm.state.set_status("ready");
    // 4045 and 4050 (not ready, stale data): reported, never trusted.
    for (s, e) in [(503, 4045), (200, 4050)] {
        *lm.state.error.lock().unwrap() = Some((s, json!({"errorCode": e, "reason": "the data are stale"})));
        none(&check(&checker(&ts, Some(&lm)), DAIRY).0, &e.to_string(), &e.to_string());
    }
    *lm.state.error.lock().unwrap() = None;
    // No answer within the budget.
    lm.state.delay_ms.store(6000, Ordering::Relaxed);
    let (v, took) = check(&checker(&ts, Some(&lm)), DAIRY);
    none(&v, "slow", "not reachable");
    eprintln!("measured: ТС ПИОТ 515 and the Local Module silent: verdict in {took:?} (budget 4 s)");
    assert!(took < Duration::from_secs(4) + SLACK, "{took:?}");
}

/// The budget: the ТС ПИОТ silent and the Local Module slow; the whole verdict within
/// `--tspiot-budget`, the ТС ПИОТ's wait never past the budget less 1 s.
#[test]
fn the_budget_is_kept_and_measured() {
    let lm = mock_lm2(2, LmAuth::Basic);
    let ts = MockTsPiot::start(&[2], None);
    ts.set_info(default_info(json!("10000"), None)); // a check timeout longer than the budget
    ts.state.force(Some(Ts::Slow(Duration::from_secs(8))));
    let mut c = TsPiotConfig::new(ts.url.clone());
    c.cache_dir = Some(temp_dir("budget"));
    c.budget = Duration::from_millis(2500);
    let ch = Checker::new(None, Some(lm_for(&lm)), Settings::default()).with_tspiot(TsPiot::new(c).unwrap());
    let (v, took) = check(&ch, DAIRY);
    eprintln!("measured: budget 2.5 s, ТС ПИОТ silent, Local Module answering: verdict in {took:?}");
    assert_eq!(v.source, Source::Lm, "the Local Module kept its second: {v:?}");
    assert!(took >= Duration::from_millis(1500), "the ТС ПИОТ had budget − 1 s: {took:?}");
    assert!(took < Duration::from_millis(2500) + SLACK, "{took:?}");
    lm.state.delay_ms.store(5000, Ordering::Relaxed);
    let (v, took) = check(&ch, DAIRY);
    eprintln!("measured: budget 2.5 s, both silent: verdict in {took:?}");
    assert_eq!(v.source, Source::None);
    assert!(took < Duration::from_millis(2500) + SLACK, "{took:?}");
    // A clean answer.
    ts.state.force(None);
    lm.state.delay_ms.store(0, Ordering::Relaxed);
    let (_, first) = check(&ch, DAIRY);
    let mut times: Vec<Duration> = (0..20).map(|_| check(&ch, DAIRY).1).collect();
    times.sort();
    eprintln!("measured: a clean ТС ПИОТ answer (loopback HTTPS, a new connection each): first {first:?}, median {:?}, max {:?}", times[10], times[19]);
}

/// The GS byte reaches the ТС ПИОТ as 0x1D inside the Base64, whatever was typed; the mock
/// refuses an escaped GS with 400, and it never sees one.
#[test]
fn the_gs_byte_is_base64_of_0x1d_byte_for_byte() {
    let ts = MockTsPiot::start(&[2], None);
    let ch = checker(&ts, None);
    for typed in [DAIRY, "0104670540176099215'W9Um\\u001d93dGVz", "]d20104670540176099215'W9Um<GS>93dGVz"] {
        let items = [CheckItem::new(MarkingCode::parse(typed).unwrap())];
        let v = ch.receipt().check(&items).remove(0);
        assert_eq!(v.source, Source::Tspiot, "{typed}: {v:?}");
        let body: Value = serde_json::from_str(&ts.state.checks().last().unwrap().body).unwrap();
        let b64 = body["codes"][0].as_str().unwrap();
        assert_eq!(b64, "MDEwNDY3MDU0MDE3NjA5OTIxNSdXOVVtHTkzZEdWeg==", "{typed}");
        let raw = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
        assert_eq!(raw, b"0104670540176099215'W9Um\x1d93dGVz".to_vec());
    }
}

/// Version probing: GET, POST only after 404/405, v3 → v2 → v1; the version remembered in the
/// cache directory for the next run; /info down: the remembered version (v2 when none).
#[test]
fn the_version_probe_and_its_memory() {
    let ts = MockTsPiot::start(&[1], None);
    ts.state.info_post_only.store(true, Ordering::Relaxed);
    let dir = temp_dir("probe");
    let ch = Checker::new(None, None, Settings::default()).with_tspiot(tspiot_for(&ts, &dir));
    let (v, _) = check(&ch, DAIRY);
    assert_eq!(v.source, Source::Tspiot, "{v:?}");
    assert_eq!(
        ts.state.paths(),
        vec![
            "GET /api/v3/info",
            "POST /api/v3/info",
            "GET /api/v2/info",
            "POST /api/v2/info",
            "GET /api/v1/info",
            "POST /api/v1/info",
            "POST /api/v1/codes/check"
        ]
    );
    // The process remembers: no /info for the next check.
    check(&ch, DAIRY);
    assert_eq!(ts.state.paths().last().unwrap(), "POST /api/v1/codes/check");
    assert_eq!(ts.state.paths().iter().filter(|p| p.ends_with("/info")).count(), 6);
    // A later run in the same cache directory asks v1 first.
    ts.state.seen.lock().unwrap().clear();
    let ch2 = Checker::new(None, None, Settings::default()).with_tspiot(tspiot_for(&ts, &dir));
    check(&ch2, DAIRY);
    assert_eq!(ts.state.paths(), vec!["GET /api/v1/info", "POST /api/v1/info", "POST /api/v1/codes/check"]);
    // Another 4xx moves to the next version without a POST.
    let ts = MockTsPiot::start(&[2], None);
    ts.state.versions.lock().unwrap().push(3);
    ts.state.info_status.store(403, Ordering::Relaxed);
    let ch = Checker::new(None, None, Settings::default()).with_tspiot(tspiot_for(&ts, &temp_dir("p2")));
    let (v, _) = check(&ch, DAIRY);
    assert_eq!(&ts.state.paths()[..3], &["GET /api/v3/info", "GET /api/v2/info", "GET /api/v1/info"]);
    // Nothing answered /info: the check goes to v2 and succeeds.
    assert_eq!(ts.state.paths().last().unwrap(), "POST /api/v2/codes/check");
    assert_eq!(v.source, Source::Tspiot);
    assert!(v.notes.iter().any(|n| n.contains("/info gave nothing")), "{:?}", v.notes);
    // /info 5xx: the probe stops at once; the remembered version is asked.
    let ts = MockTsPiot::start(&[1], None);
    let dir = temp_dir("p3");
    VersionFile::store(&dir, &ts.url, 1, kkt::checker::gismt::now_ms()).unwrap();
    ts.state.info_status.store(500, Ordering::Relaxed);
    let ch = Checker::new(None, None, Settings::default()).with_tspiot(tspiot_for(&ts, &dir));
    check(&ch, DAIRY);
    assert_eq!(ts.state.paths(), vec!["GET /api/v1/info", "POST /api/v1/codes/check"]);
}

/// The ТС ПИОТ is bound to one register: a different FN serial is warned about in the notes.
#[test]
fn the_register_binding() {
    let ts = MockTsPiot::start(&[2], None);
    let ch = checker(&ts, None);
    ch.set_register(Some(FN_SERIAL.into()), Some("0000000001".into()));
    let (v, _) = check(&ch, DAIRY);
    assert!(!v.notes.iter().any(|n| n.contains("another register")), "{:?}", v.notes);
    assert_eq!(ch.tspiot().unwrap().status().unwrap().matches_register, Some(true));
    let ch = checker(&ts, None);
    ch.set_fiscal_drive_number(Some("9999078900012345".into()));
    let (v, _) = check(&ch, DAIRY);
    assert!(v.notes.iter().any(|n| n.contains("another register") && n.contains(FN_SERIAL)), "{:?}", v.notes);
    let st = ch.tspiot().unwrap().status().unwrap();
    assert_eq!(st.matches_register, Some(false));
    assert_eq!(st.api_version, Some(2));
    assert_eq!(st.check_timeout_ms, Some(1800));
    assert_eq!(checker(&ts, None).tspiot().unwrap().status().unwrap().matches_register, None);
}

/// The Local Module the ТС ПИОТ names (lm.ip/lm.port), with its token while unexpired, then
/// its login; X-ClientId with the FN serial.
#[test]
fn the_local_module_from_info_and_the_auth_order() {
    let lm = mock_lm2(2, LmAuth::Token);
    let ts = MockTsPiot::start(&[2], Some(lm_port(&lm)));
    ts.state.force(Some(Ts::Http(516, json!({}))));
    let mut info = default_info(json!("1800"), Some(lm_port(&lm)));
    info["lm"]["token"] = LM2_TOKEN.into();
    info["lm"]["expDate"] = "2099-12-31T23:59:59Z".into();
    ts.set_info(info.clone());
    // No --lm-url: the module of /info, with its token.
    let ch = Checker::new(None, None, Settings::default()).with_tspiot(tspiot_for(&ts, &temp_dir("a")));
    ch.set_fiscal_drive_number(Some(FN_SERIAL.into()));
    let (v, _) = check(&ch, DAIRY);
    assert_from_lm(&v, &lm, "from info");
    let seen = lm.state.checks().pop().unwrap();
    assert_eq!(seen.header("Authorization"), Some(format!("Token {LM2_TOKEN}").as_str()));
    assert_eq!(seen.header("X-ClientId"), Some(FN_SERIAL));
    // An expired token is never sent: Basic from /info's login.
    *lm.state.auth.lock().unwrap() = LmAuth::BasicOrToken;
    info["lm"]["expDate"] = "2020-01-01T00:00:00Z".into();
    info["lm"]["login"] = LM2_USER.into();
    info["lm"]["pass"] = LM2_PASSWORD.into();
    ts.set_info(info);
    let ch = Checker::new(None, None, Settings::default()).with_tspiot(tspiot_for(&ts, &temp_dir("b")));
    let (v, _) = check(&ch, DAIRY);
    assert_from_lm(&v, &lm, "login from info");
    let seen = lm.state.checks().pop().unwrap();
    assert!(seen.header("Authorization").unwrap().starts_with("Basic "), "{:?}", seen.header("Authorization"));
    // A configured token wins over /info's.
    *lm.state.auth.lock().unwrap() = LmAuth::Token;
    let mut c = LmConfig::new(lm.server.url.clone());
    c.token = Some(Secret::new(LM2_TOKEN));
    let ch =
        Checker::new(None, Some(Lm::new(c).unwrap()), Settings::default()).with_tspiot(tspiot_for(&ts, &temp_dir("c")));
    assert_from_lm(&check(&ch, DAIRY).0, &lm, "--lm-token");
}

/// The Local Module v2: per-KI results in one request, a malformed KI refused with its
/// description; v1: the flat answer, KIs as strings.
#[test]
fn local_module_v2_and_v1() {
    let ts = MockTsPiot::start(&[2], None);
    ts.state.force(Some(Ts::Http(517, json!({}))));
    let lm = mock_lm2(2, LmAuth::Basic);
    lm.state.codes.lock().unwrap().insert("0104670540176099215NN*cM".into(), json!({"sold": true}));
    lm.state.codes.lock().unwrap().insert("04601653035829H;dV)bF".into(), json!({"isBlocked": true}));
    let ch = checker(&ts, Some(&lm));
    let (v, _) = check_all(&ch, &[(DAIRY, None), (SOLD, None), (PACK_145, Some(14500))]);
    assert_eq!(lm.state.checks().len(), 1, "one outCheck for the receipt");
    assert_eq!(v.iter().map(|v| v.source).collect::<Vec<_>>(), vec![Source::Lm; 3]);
    assert!(v[0].allowed);
    assert_eq!(fields(&v[1]), vec!["sold"]);
    assert_eq!(fields(&v[2]), vec!["isBlocked"]);
    let body: Value = serde_json::from_str(&lm.state.checks()[0].body).unwrap();
    assert_eq!(
        body["cis_list"],
        json!([{"cis": "0104670540176099215'W9Um"}, {"cis": "0104670540176099215NN*cM"}, {"cis": "04601653035829H;dV)bF"}])
    );
    // A malformed KI: the module answers inner 400 without cis; that code is refused.
    lm.state.codes.lock().unwrap().insert("0104670540176099215<pGKy".into(), json!({"malformed": true}));
    let (v, _) = check_all(&ch, &[(DAIRY, None), (EXPIRED, None)]);
    assert!(v[0].allowed);
    assert!(!v[1].allowed);
    assert_eq!(v[1].source, Source::Lm);
    assert!(v[1].reasons[0].message.contains("Некорректный КИ"), "{:?}", v[1].reasons);
    // v1 only.
    let lm1 = mock_lm2(1, LmAuth::Basic);
    lm1.state.codes.lock().unwrap().insert("0104670540176099215NN*cM".into(), json!({"sold": true}));
    let ch = checker(&ts, Some(&lm1));
    let (v, _) = check_all(&ch, &[(DAIRY, None), (SOLD, None)]);
    assert!(v[0].allowed);
    assert_eq!(fields(&v[1]), vec!["sold"]);
    let paths: Vec<String> =
        lm1.state.seen.lock().unwrap().iter().map(|s| format!("{} {}", s.method, s.path)).collect();
    assert_eq!(paths, vec!["GET /api/v2/status", "GET /api/v1/status", "POST /api/v1/cis/outCheck"]);
    let body: Value = serde_json::from_str(&lm1.state.checks()[0].body).unwrap();
    assert_eq!(body, json!({"cis_list": ["0104670540176099215'W9Um", "0104670540176099215NN*cM"]}));
    // 1265 from a v1 module: its inst, the version from its status.
    let t = v[0].tag1265.clone().unwrap();
    assert!(t.ends_with(&format!("&Inst={LM2_INST}&Ver={LM2_VERSION}")), "{t}");
}

/// Local Module statuses and the status client (v2, v1 on 404).
#[test]
fn local_module_status() {
    for api in [2u8, 1] {
        let lm = mock_lm2(api, LmAuth::Basic);
        let c = lm_for(&lm);
        let st = c.status().unwrap();
        assert!(st.ready());
        assert_eq!(st.version.as_deref(), Some(LM2_VERSION));
        assert_eq!(st.db_version.as_deref(), Some("de66b749-6764-4b63-821b-351ba4482664"));
        assert_eq!(st.operation_mode.as_deref(), Some("active"));
        assert_eq!(c.api(), Some(if api == 2 { kkt::checker::lm::LmApi::V2 } else { kkt::checker::lm::LmApi::V1 }));
        for s in ["not_configured", "initialization", "sync_error", "failure"] {
            lm.state.set_status(s);
            let st = c.status().unwrap();
            assert_eq!(st.status, s);
            assert!(!st.ready());
        }
        let anon = Lm::new(LmConfig::new(lm.server.url.clone())).unwrap();
        assert!(matches!(anon.status(), Err(kkt::checker::lm::LmError::Auth(401))));
    }
}
