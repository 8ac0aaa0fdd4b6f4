//! The online checker against the mock ГИС МТ of tests/it/support/gismt.rs (discovery + 3 CDN hosts on
//! loopback, real HTTP) — BENCHMARKS.md item 5.
//!
//! * `overhead`: one code per receipt, the CDN answering after a fixed latency: the time of the
//!   verdict beyond that latency (new receipt = new keep-alive connection, and a second scan in
//!   the same receipt on the kept connection). The mock's own HTTP and JSON work is inside
//!   the figure, so it bounds the checker's overhead from above.
//! * `failover`: the best-ranked CDN answers 503, is down (connection refused) or hangs: time
//!   to the verdict against the 1.5 s budget.
//! * `batch`: 1000 distinct codes in one check (the checker sends 10 requests of 100).
//! * `trail`: the cost of the sold-codes store and its evidence trail (a store lookup and a row
//!   of `kkt_mark_checks` per verdict, SQLite in WAL mode) on a verdict, against none.
//!
//! `cargo bench --bench checker`

// The mock ГИС МТ of the tests; the bench uses a part of it.
#[path = "../tests/it/support/gismt.rs"]
#[allow(dead_code)]
mod support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kkt::checker::{CheckItem, Checker, GisMt, GisMtConfig, Secret, Settings, Source, Strictness};
use kkt::marking::MarkingCode;
use serde_json::json;
use support::{temp_dir, MockGisMt, TOKEN};

const BUDGET: Duration = Duration::from_millis(1500);

fn checker(mock: &MockGisMt, tag: &str) -> Checker {
    let cfg = GisMtConfig::new(mock.url(), Some(Secret::new(TOKEN)), temp_dir(tag));
    let g = Arc::new(GisMt::new(cfg).unwrap());
    g.discover(false).unwrap();
    Checker::new(Some(g), None, Settings { strictness: Strictness::Deny, ..Settings::default() })
}

fn item(i: usize) -> CheckItem {
    let code = format!("0104670540176099215{:05}\u{1d}93dGVz", i);
    CheckItem { code: MarkingCode::parse(&code).unwrap(), price_kopecks: None, partial_sale: false }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// (median, max) of `v`.
fn stats(v: &mut [Duration]) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[v.len() - 1])
}

fn overhead() {
    for latency in [0u64, 50, 200] {
        let mock = MockGisMt::start(3);
        for h in &mock.hosts {
            h.state.check_delay_ms.store(latency, Ordering::Relaxed);
        }
        let ch = checker(&mock, "bench-lat");
        let lat = Duration::from_millis(latency);
        let (mut first, mut kept) = (Vec::new(), Vec::new());
        for n in 0..30 {
            let mut r = ch.receipt();
            let t = Instant::now();
            let v = r.check(&[item(2 * n)]).remove(0);
            first.push(t.elapsed().saturating_sub(lat));
            assert_eq!(v.source, Source::Online, "{v:?}");
            let t = Instant::now();
            let v = r.check(&[item(2 * n + 1)]).remove(0);
            kept.push(t.elapsed().saturating_sub(lat));
            assert_eq!(v.source, Source::Online, "{v:?}");
        }
        let (f50, fmax) = stats(&mut first);
        let (k50, kmax) = stats(&mut kept);
        println!(
            "SUMMARY checker overhead at {latency} ms latency: first scan of a receipt (new connection) median \
             {:.2} ms max {:.2} ms; next scan (kept connection) median {:.2} ms max {:.2} ms",
            ms(f50),
            ms(fmax),
            ms(k50),
            ms(kmax)
        );
    }
}

fn failover() {
    type Break = fn(&mut MockGisMt, usize);
    let cases: [(&str, Break); 3] = [
        ("best CDN answers 503", |m, i| m.hosts[i].state.force(503, json!({"code": 503}), 1000)),
        ("best CDN is down (refused)", |m, i| drop(m.hosts.remove(i))),
        ("best CDN hangs (3 s)", |m, i| m.hosts[i].state.check_delay_ms.store(3000, Ordering::Relaxed)),
    ];
    for (name, brk) in cases {
        let mut times = Vec::new();
        let mut sources = Vec::new();
        for _ in 0..5 {
            let mut mock = MockGisMt::start(3);
            for h in &mock.hosts {
                h.state.check_delay_ms.store(50, Ordering::Relaxed);
            }
            let ch = checker(&mock, "bench-fail");
            let best = ch.gismt().unwrap().cached().unwrap().hosts[0].host.clone();
            let i = mock.hosts.iter().position(|h| h.url() == best).unwrap();
            brk(&mut mock, i);
            let t = Instant::now();
            let v = ch.receipt().check(&[item(7)]).remove(0);
            times.push(t.elapsed());
            sources.push(format!("{:?}", v.source));
            assert!(v.allowed, "{v:?}");
            ch.gismt().unwrap().wait_background();
        }
        sources.dedup();
        let (m, max) = stats(&mut times);
        println!(
            "SUMMARY checker failover, {name} (others 50 ms): verdict median {:.1} ms, max {:.1} ms \
             (budget {} ms: {}); source {}",
            ms(m),
            ms(max),
            BUDGET.as_millis(),
            if max <= BUDGET { "kept" } else { "EXCEEDED" },
            sources.join("/")
        );
    }
}

fn batch() {
    for latency in [0u64, 50] {
        let mock = MockGisMt::start(3);
        for h in &mock.hosts {
            h.state.check_delay_ms.store(latency, Ordering::Relaxed);
        }
        let ch = checker(&mock, "bench-batch");
        let items: Vec<CheckItem> = (0..1000).map(item).collect();
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let vs = ch.receipt().check(&items);
            times.push(t.elapsed());
            assert_eq!(vs.len(), 1000);
            assert!(
                vs.iter().all(|v| v.source == Source::Online),
                "{:?}",
                vs.iter().find(|v| v.source != Source::Online)
            );
        }
        let requests = mock.total_checks() / 5;
        let (m, max) = stats(&mut times);
        let overhead = m.saturating_sub(Duration::from_millis(latency) * requests);
        println!(
            "SUMMARY checker batch: 1000 codes in one check = {requests} requests at {latency} ms latency: median \
             {:.1} ms, max {:.1} ms; beyond the latencies {:.1} ms = {:.1} µs per code",
            ms(m),
            ms(max),
            ms(overhead),
            overhead.as_secs_f64() * 1e6 / 1000.0
        );
    }
}

fn trail() {
    let mock = MockGisMt::start(3);
    let bare = checker(&mock, "bench-trail-none");
    let dir = temp_dir("bench-trail");
    let store = kkt::checker::store::SqliteStore::open(&kkt::checker::store::default_path(&dir)).unwrap();
    let kept = checker(&mock, "bench-trail").with_store(Box::new(store));
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for n in 0..200 {
        let t = Instant::now();
        assert_eq!(bare.receipt().check(&[item(10_000 + n)]).remove(0).source, Source::Online);
        without.push(t.elapsed());
        let t = Instant::now();
        let v = kept.receipt().check(&[item(20_000 + n)]).remove(0);
        with.push(t.elapsed());
        assert!(v.check_id.is_some());
    }
    let (a50, amax) = stats(&mut without);
    let (b50, bmax) = stats(&mut with);
    println!(
        "SUMMARY checker with the sold-codes store and its evidence trail (SQLite, WAL): verdict median {:.2} ms \
         max {:.2} ms; without a store median {:.2} ms max {:.2} ms; the store's share of the median {:.2} ms",
        ms(b50),
        ms(bmax),
        ms(a50),
        ms(amax),
        ms(b50.saturating_sub(a50))
    );
}

fn main() {
    if std::env::args().any(|a| a == "trail") {
        return trail();
    }
    overhead();
    failover();
    batch();
    trail();
}
