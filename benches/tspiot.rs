//! The ТС ПИОТ path against the mock ТС ПИОТ (HTTPS, self-signed, loopback) and the mock Local
//! Module of tests/it/support/tspiot.rs — BENCHMARKS.md item 7.
//!
//! * `pure`: the request body of 1 and 100 codes, the failure table's `classify` of their
//!   answers (no I/O).
//! * `clean`: one code per receipt, the ТС ПИОТ answering at once: the whole verdict (a new TLS
//!   connection each time; `/info` remembered after the first).
//! * `fallback`: the ТС ПИОТ answers 515 / is down / is silent (codesCheckTimeout 1800 ms), the
//!   Local Module answers; and both silent: time to the verdict against the 4 s budget.
//!
//! `cargo bench --bench tspiot`

// The mocks of the tests (tspiot.rs reaches gismt.rs as `super::gismt`).
#[path = "../tests/it/support/gismt.rs"]
#[allow(dead_code)]
mod gismt;
#[path = "../tests/it/support/tspiot.rs"]
#[allow(dead_code)]
mod tspiot;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use gismt::temp_dir;
use kkt::checker::lm::{Lm, LmConfig};
use kkt::checker::tspiot::{check_body, classify, ClientInfo, TsPiot, TsPiotConfig};
use kkt::checker::{CheckItem, Checker, Secret, Settings, Source};
use kkt::marking::MarkingCode;
use serde_json::json;
use tspiot::*;

fn code(i: usize) -> MarkingCode {
    MarkingCode::parse(&format!("0104670540176099215{:05}\u{1d}93dGVz", i)).unwrap()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn stats(v: &mut [Duration]) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[v.len() - 1])
}

fn pure() {
    let client = ClientInfo::default();
    for n in [1usize, 100] {
        let codes: Vec<MarkingCode> = (0..n).map(code).collect();
        let groups = vec![None; n];
        let rounds = 2000 / n.max(1) + 50;
        let t = Instant::now();
        let mut len = 0;
        for _ in 0..rounds {
            len += check_body(2, &codes, &groups, &client).len();
        }
        let body = t.elapsed() / rounds as u32;
        let entries: Vec<serde_json::Value> = codes.iter().map(|c| gismt::entry(c.as_str(), &json!({}))).collect();
        let answer = json!({"codesResponse": [{"code": 0, "description": "ok", "codes": entries, "reqId": "r", "reqTimestamp": 1}]})
            .to_string();
        let t = Instant::now();
        let mut found = 0;
        for _ in 0..rounds {
            if let kkt::checker::tspiot::Outcome::Answer(e) = classify(200, &answer, &codes) {
                found += e.iter().flatten().count();
            }
        }
        let cl = t.elapsed() / rounds as u32;
        assert!(len > 0 && found == n * rounds);
        println!(
            "SUMMARY tspiot pure codes={n}: body {:.1} µs, classify {:.1} µs ({} bytes of answer)",
            body.as_secs_f64() * 1e6,
            cl.as_secs_f64() * 1e6,
            answer.len()
        );
    }
}

fn lm_for(m: &MockLm2) -> Lm {
    let mut c = LmConfig::new(m.server.url.clone());
    c.user = Some(LM2_USER.into());
    c.password = Some(Secret::new(LM2_PASSWORD));
    Lm::new(c).unwrap()
}

fn checker(ts_url: &str, lm: Option<&MockLm2>) -> Checker {
    let mut c = TsPiotConfig::new(ts_url);
    c.cache_dir = Some(temp_dir("bench-tspiot"));
    Checker::new(None, lm.map(lm_for), Settings::default()).with_tspiot(TsPiot::new(c).unwrap())
}

fn verdict(ch: &Checker, i: usize) -> (Source, Duration) {
    let t = Instant::now();
    let v = ch.receipt().check(&[CheckItem::new(code(i))]).remove(0);
    (v.source, t.elapsed())
}

fn clean() {
    let ts = MockTsPiot::start(&[2], None);
    let ch = checker(&ts.url, None);
    let (_, first) = verdict(&ch, 0);
    let mut v: Vec<Duration> = (1..200).map(|i| verdict(&ch, i).1).collect();
    let (med, max) = stats(&mut v);
    println!(
        "SUMMARY tspiot clean: first (with /info) {:.2} ms, then median {:.2} ms, max {:.2} ms over {} receipts",
        ms(first),
        ms(med),
        ms(max),
        v.len()
    );
}

fn fallback() {
    let lm = mock_lm2(2, LmAuth::Basic);
    let runs = 5;
    let ts = MockTsPiot::start(&[2], None);
    ts.state.force(Some(Ts::Http(515, json!({}))));
    let ch = checker(&ts.url, Some(&lm));
    let mut v: Vec<Duration> =
        (0..runs).map(|i| verdict(&ch, i)).inspect(|(s, _)| assert_eq!(*s, Source::Lm)).map(|x| x.1).collect();
    let (med, max) = stats(&mut v);
    println!("SUMMARY tspiot fallback 515→lm: median {:.1} ms, max {:.1} ms", ms(med), ms(max));
    let gone = MockTsPiot::start(&[2], None);
    let url = gone.url.clone();
    drop(gone);
    std::thread::sleep(Duration::from_millis(100));
    let ch = checker(&url, Some(&lm));
    let mut v: Vec<Duration> =
        (0..runs).map(|i| verdict(&ch, i)).inspect(|(s, _)| assert_eq!(*s, Source::Lm)).map(|x| x.1).collect();
    let (med, max) = stats(&mut v);
    println!("SUMMARY tspiot fallback refused→lm: median {:.1} ms, max {:.1} ms", ms(med), ms(max));
    ts.state.force(Some(Ts::Slow(Duration::from_secs(10))));
    let ch = checker(&ts.url, Some(&lm));
    let mut v: Vec<Duration> =
        (0..runs).map(|i| verdict(&ch, i)).inspect(|(s, _)| assert_eq!(*s, Source::Lm)).map(|x| x.1).collect();
    let (med, max) = stats(&mut v);
    println!(
        "SUMMARY tspiot fallback silent (codesCheckTimeout 1800 ms)→lm: median {:.1} ms, max {:.1} ms (wait 2100 ms)",
        ms(med),
        ms(max)
    );
    lm.state.delay_ms.store(10_000, Ordering::Relaxed);
    let mut v: Vec<Duration> =
        (0..runs).map(|i| verdict(&ch, i)).inspect(|(s, _)| assert_eq!(*s, Source::None)).map(|x| x.1).collect();
    let (med, max) = stats(&mut v);
    println!("SUMMARY tspiot both silent→none: median {:.1} ms, max {:.1} ms (budget 4000 ms)", ms(med), ms(max));
}

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let run = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    if run("pure") {
        pure();
    }
    if run("clean") {
        clean();
    }
    if run("fallback") {
        fallback();
    }
}
