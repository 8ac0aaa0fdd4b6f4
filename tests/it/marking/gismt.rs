//! The checker against a mock ГИС МТ on loopback: the 15 scenarios of seed 003 Appendix 2, every
//! row of the failover table (§1.4.3), emergency 203 (§7), the 1.5 s budget, the CDN cache, the
//! Local Module fallback, the sold-codes store and the receipt's duplicates.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::gismt::*;
use kkt::checker::cdn::CacheFile;
use kkt::checker::gismt::{now_ms, NoAnswer};
use kkt::checker::store::{CodeState, SqliteStore};
use kkt::checker::Rule;
use kkt::checker::{
    Action, CheckItem, Checker, GisMt, GisMtConfig, Lm, LmConfig, Online, Secret, Settings, Source, Strictness, Verdict,
};
use kkt::marking::MarkingCode;
use serde_json::json;

/// Generous slack over the 1.5 s budget: the assertion is "within the budget", never a tight time.
const SLACK: Duration = Duration::from_millis(1500);

fn config(mock: &MockGisMt, dir: &Path) -> GisMtConfig {
    GisMtConfig::new(mock.url(), Some(Secret::new(TOKEN)), dir)
}

fn gismt(mock: &MockGisMt, dir: &Path) -> Arc<GisMt> {
    Arc::new(GisMt::new(config(mock, dir)).unwrap())
}

fn checker(mock: &MockGisMt, dir: &Path, strictness: Strictness) -> Checker {
    Checker::new(Some(gismt(mock, dir)), None, Settings { strictness, ..Settings::default() })
}

fn item(code: &str, price: Option<u64>) -> CheckItem {
    CheckItem { code: MarkingCode::parse(code).unwrap(), price_kopecks: price, partial_sale: false }
}

fn check(ch: &Checker, code: &str, price: Option<u64>) -> (Verdict, Duration) {
    let t = Instant::now();
    let v = ch.receipt().check(&[item(code, price)]).remove(0);
    (v, t.elapsed())
}

fn fields(v: &Verdict) -> Vec<&str> {
    v.reasons.iter().map(|r| r.field.as_str()).collect()
}

fn code_of(n: u32) -> &'static str {
    appendix2().into_iter().find(|(k, _, _)| *k == n).unwrap().1
}

#[test]
fn appendix_2_scenarios() {
    let mock = MockGisMt::start(3);
    let dir = temp_dir("scen");
    let ch = checker(&mock, &dir, Strictness::Deny);
    // (scenario, price, allowed, reason fields, source, emergency, note fragment)
    type Row<'a> = (u32, Option<u64>, bool, Vec<&'a str>, Source, bool, &'a str);
    let expect: Vec<Row> = vec![
        (1, None, false, vec!["utilised", "realizable"], Source::Online, false, ""),
        (2, None, false, vec!["realizable"], Source::Online, false, ""),
        (3, Some(177000), true, vec![], Source::Online, false, "grayZone"),
        (4, None, false, vec!["sold"], Source::Online, false, ""),
        (5, None, false, vec!["isBlocked"], Source::Online, false, ""),
        (6, None, false, vec!["expireDate"], Source::Online, false, ""),
        (7, Some(106000), true, vec![], Source::Online, false, ""),
        (7, Some(100000), false, vec!["price"], Source::Online, false, ""),
        (8, Some(14500), true, vec![], Source::Online, false, ""),
        (8, Some(15900), false, vec!["price"], Source::Online, false, ""),
        (9, None, false, vec!["found", "utilised", "verified", "realizable"], Source::Online, false, ""),
        (10, None, false, vec!["verified"], Source::Online, false, ""),
        (11, None, true, vec![], Source::None, false, "every ГИС МТ CDN host failed"),
        (13, None, true, vec![], Source::None, false, "every ГИС МТ CDN host failed"),
        (14, None, true, vec![], Source::None, false, "within 1.5 s"),
        (15, None, true, vec![], Source::None, false, "code 5000"),
        // Last: a 203 latches the emergency for 3 days (§7).
        (12, None, true, vec![], Source::None, true, "emergency"),
    ];
    println!("\n| # | price | verdict | reasons | source | emergency | ms |");
    println!("|---|---|---|---|---|---|---|");
    for (n, price, allowed, want, source, emergency, note) in expect {
        let (v, took) = check(&ch, code_of(n), price);
        println!(
            "| {n} | {} | {:?} | {} | {:?} | {} | {} |",
            price.map_or("-".to_string(), |p| p.to_string()),
            v.action,
            fields(&v).join(", "),
            v.source,
            v.emergency,
            took.as_millis()
        );
        assert_eq!(v.allowed, allowed, "scenario {n}: {v:?}");
        assert_eq!(fields(&v), want, "scenario {n}: {v:?}");
        assert_eq!(v.source, source, "scenario {n}");
        assert_eq!(v.emergency, emergency, "scenario {n}");
        assert!(note.is_empty() || v.notes.iter().any(|x| x.contains(note)), "scenario {n}: {:?}", v.notes);
        assert!(took < Duration::from_millis(1500) + SLACK, "scenario {n} took {took:?}");
        if source == Source::Online {
            let id = v.req_id.as_deref().unwrap();
            let ts = v.req_timestamp.unwrap();
            assert_eq!(v.tag1265, Some(format!("UUID={id}&Time={ts}")));
            assert!(v.tag1260().is_some());
        } else {
            assert_eq!(v.tag1265, None, "scenario {n}");
        }
        if !allowed {
            assert_eq!(v.action, Action::Refuse);
        }
    }
    // After scenario 12's 203 checks are off: nothing more is sent, whatever the code.
    let before = mock.total_checks();
    let (v, _) = check(&ch, code_of(4), None);
    assert!(v.allowed && v.emergency, "{v:?}");
    assert_eq!(mock.total_checks(), before, "no /codes/check while the emergency holds");
    ch.gismt().unwrap().wait_background();
}

#[test]
fn ask_mode_returns_reasons_for_the_cashier() {
    let mock = MockGisMt::start(1);
    let dir = temp_dir("ask");
    let ch = checker(&mock, &dir, Strictness::Ask);
    let (v, _) = check(&ch, code_of(4), None);
    assert_eq!(v.action, Action::Ask);
    assert!(!v.allowed);
    assert_eq!(v.reasons[0].rule, Rule::Sold);
    assert!(v.reasons[0].message.contains("withdrawn"));
}

#[test]
fn discovery_ranks_by_measured_latency_not_avg_time() {
    let mock = MockGisMt::start(3);
    // Host 0 is slow but claims to be fast; host 1 is fastest; host 2 in between.
    for (h, (delay, avg)) in mock.hosts.iter().zip([(400, 1), (10, 900), (150, 500)]) {
        h.state.health_delay_ms.store(delay, Ordering::Relaxed);
        h.state.avg_time_ms.store(avg, Ordering::Relaxed);
    }
    let dir = temp_dir("rank");
    let g = gismt(&mock, &dir);
    let d = g.discover(false).unwrap();
    let order: Vec<_> = d.state.hosts.iter().map(|h| h.host.clone()).collect();
    let want: Vec<_> = [1, 2, 0].iter().map(|&i| mock.hosts[i].url().to_string()).collect();
    assert_eq!(order, want);
    assert!(d.state.hosts[0].latency_ms.unwrap() < d.state.hosts[2].latency_ms.unwrap());
    // Saved for other processes, and used: the check goes to the best host.
    assert_eq!(CacheFile::in_dir(&dir).load(g.base_url()).unwrap().hosts.len(), 3);
    let ch = Checker::new(Some(g), None, Settings::default());
    assert!(check(&ch, code_of(2), None).0.reasons.iter().any(|r| r.field == "realizable"));
    assert_eq!(mock.hosts[1].state.checks(), 1);
    assert_eq!(mock.hosts[0].state.checks() + mock.hosts[2].state.checks(), 0);
}

#[test]
fn a_host_failing_its_health_check_is_ranked_last() {
    let mock = MockGisMt::start(2);
    mock.hosts[0].state.health_status.store(503, Ordering::Relaxed);
    let dir = temp_dir("health");
    let d = gismt(&mock, &dir).discover(false).unwrap();
    assert_eq!(d.state.hosts[0].host, mock.hosts[1].url());
    assert_eq!(d.state.hosts[1].latency_ms, None);
}

#[test]
fn a_host_too_slow_for_the_budget_is_ranked_last_without_delaying_discovery() {
    let mock = MockGisMt::start(2);
    mock.hosts[0].state.health_delay_ms.store(3000, Ordering::Relaxed);
    let dir = temp_dir("slowhealth");
    let t = Instant::now();
    let d = gismt(&mock, &dir).discover(false).unwrap();
    assert!(t.elapsed() < Duration::from_millis(1500) + SLACK, "{:?}", t.elapsed());
    assert_eq!(d.state.hosts[0].host, mock.hosts[1].url());
    assert_eq!(d.state.hosts[1].latency_ms, None);
}

#[test]
fn cached_list_is_used_when_discovery_fails_and_refreshed_after_6_hours() {
    let mock = MockGisMt::start(2);
    let dir = temp_dir("cache");
    let ch = checker(&mock, &dir, Strictness::Deny);
    assert!(check(&ch, code_of(7), Some(106000)).0.allowed);
    assert_eq!(mock.discovery.calls.load(Ordering::Relaxed), 1);
    // Within 6 hours: no new discovery, across processes too (a new client reads the cache).
    let ch2 = checker(&mock, &dir, Strictness::Deny);
    assert!(check(&ch2, code_of(7), Some(106000)).0.allowed);
    assert_eq!(mock.discovery.calls.load(Ordering::Relaxed), 1);
    // 6 hours later the list is rediscovered…
    let cache = CacheFile::in_dir(&dir);
    let base = ch.gismt().unwrap().base_url().to_string();
    cache.update(&base, |s| s.refreshed_at_ms -= 6 * 3_600_000 + 1000).unwrap();
    assert!(check(&ch, code_of(7), Some(106000)).0.allowed);
    ch.gismt().unwrap().wait_background();
    assert_eq!(mock.discovery.calls.load(Ordering::Relaxed), 2, "refreshed in the background");
    let st = cache.load(&base).unwrap();
    assert!(!st.due(now_ms(), 6 * 3_600_000));
    // …and when /cdn/info fails, the cached hosts are used.
    cache.update(&base, |s| s.refreshed_at_ms -= 7 * 3_600_000).unwrap();
    mock.discovery.status.store(500, Ordering::Relaxed);
    let (v, _) = check(&ch, code_of(4), None);
    ch.gismt().unwrap().wait_background();
    assert_eq!(mock.discovery.calls.load(Ordering::Relaxed), 3);
    assert_eq!(v.source, Source::Online);
    assert_eq!(fields(&v), vec!["sold"]);
    // Discovery failed: the cached list (and its age) stays.
    assert!(cache.load(&base).unwrap().due(now_ms(), 6 * 3_600_000));
}

#[test]
fn background_refresher_keeps_to_its_interval() {
    let mock = MockGisMt::start(1);
    let dir = temp_dir("refresher");
    let mut cfg = config(&mock, &dir);
    cfg.refresh_every = Duration::from_millis(300);
    cfg.refresh_by = Duration::from_millis(400);
    let g = Arc::new(GisMt::new(cfg).unwrap());
    g.discover(false).unwrap();
    let t = Instant::now();
    let r = g.start_refresher();
    std::thread::sleep(Duration::from_millis(2500));
    drop(r);
    let calls = mock.discovery.calls.load(Ordering::Relaxed) - 1;
    let elapsed = t.elapsed().as_millis() as u32;
    // At least one scheduled refresh, and never more often than every 300 ms.
    assert!(calls >= 1, "no scheduled refresh");
    assert!(calls <= elapsed / 300 + 1, "{calls} refreshes in {elapsed} ms");
}

#[test]
fn failover_4xx_is_not_retried() {
    let mock = MockGisMt::start(2);
    let dir = temp_dir("400");
    let ch = checker(&mock, &dir, Strictness::Deny);
    ch.gismt().unwrap().discover(false).unwrap();
    let best = ch.gismt().unwrap().cached().unwrap().hosts[0].host.clone();
    let h = mock.hosts.iter().find(|h| h.url() == best).unwrap();
    h.state.force(400, json!({"code": 400, "description": "Bad request: codes"}), 10);
    let (v, _) = check(&ch, code_of(2), None);
    assert_eq!(mock.total_checks(), 1);
    assert_eq!(v.action, Action::Refuse);
    assert_eq!(v.reasons[0].rule, Rule::CheckFailed);
    assert_eq!(v.reasons[0].field, "http");
    assert!(v.reasons[0].message.contains("HTTP 400") && v.reasons[0].message.contains("Bad request"));
    assert!(ch.gismt().unwrap().cached().unwrap().hosts.iter().all(|h| h.unavailable_until_ms.is_none()));
}

#[test]
fn failover_401_is_an_authentication_error_and_the_token_never_leaks() {
    let mock = MockGisMt::start(2);
    let dir = temp_dir("401");
    let ch = checker(&mock, &dir, Strictness::Ask);
    ch.gismt().unwrap().discover(false).unwrap();
    for h in &mock.hosts {
        h.state.force(401, json!({"code": 401, "description": format!("token {TOKEN} unknown")}), 10);
    }
    let (v, _) = check(&ch, code_of(2), None);
    assert_eq!(mock.total_checks(), 1);
    assert_eq!(v.action, Action::Ask);
    assert_eq!(v.reasons[0].field, "token");
    assert!(v.reasons[0].message.contains("401"));
    let all = serde_json::to_string(&v).unwrap() + &std::fs::read_to_string(CacheFile::in_dir(&dir).path()).unwrap();
    assert!(!all.contains(TOKEN));
    // A token is checked when it is set: a wrong one fails at once, a right one passes.
    let bad = Arc::new(GisMt::new(GisMtConfig::new(mock.url(), Some(Secret::new("wrong")), temp_dir("401b"))).unwrap());
    assert!(bad.check_token().is_err());
    for h in &mock.hosts {
        h.state.forced_times.store(0, Ordering::Relaxed);
    }
    assert!(ch.gismt().unwrap().check_token().is_ok());
}

fn best_and_next(mock: &MockGisMt, g: &GisMt) -> (usize, usize) {
    let st = g.cached().unwrap();
    let idx = |u: &str| mock.hosts.iter().position(|h| h.url() == u).unwrap();
    (idx(&st.hosts[0].host), idx(&st.hosts[1].host))
}

#[test]
fn failover_429_and_5xx_retry_then_mark_for_15_minutes() {
    busy_row(&[429, 500, 502, 503, 504]);
}

/// 514–520 from a ГИС МТ CDN host are server errors there: §1.4.3's 5xx row (the request and
/// one repeat, the host marked for 15 minutes, the next host). Only a ТС ПИОТ gives them a
/// meaning of their own (the Local Module).
#[test]
fn failover_514_to_520_from_a_cdn_host_is_the_5xx_row() {
    busy_row(&[514, 515, 516, 517, 518, 519, 520]);
}

fn busy_row(statuses: &[u16]) {
    for &status in statuses {
        let mock = MockGisMt::start(3);
        let dir = temp_dir("busy");
        let ch = checker(&mock, &dir, Strictness::Deny);
        let g = ch.gismt().unwrap();
        g.discover(false).unwrap();
        let (best, next) = best_and_next(&mock, g);
        mock.hosts[best].state.force(status, json!({"code": status, "description": "busy"}), 100);
        let t0 = now_ms();
        let (v, _) = check(&ch, code_of(4), None);
        assert_eq!(v.source, Source::Online, "{status}");
        assert_eq!(fields(&v), vec!["sold"]);
        assert_eq!(mock.hosts[best].state.checks(), 2, "{status}: the request and one repeat");
        assert_eq!(mock.hosts[next].state.checks(), 1);
        assert_eq!(v.host.as_deref(), Some(mock.hosts[next].url()));
        // The mark holds 15 minutes, in the cache, for other processes too.
        let st = CacheFile::in_dir(&dir).load(g.base_url()).unwrap();
        let until = st.hosts.iter().find(|h| h.host == mock.hosts[best].url()).unwrap().unavailable_until_ms.unwrap();
        assert!(until >= t0 + 14 * 60_000 && until <= now_ms() + 15 * 60_000, "{status}");
        let other = checker(&mock, &dir, Strictness::Deny);
        assert!(check(&other, code_of(7), Some(106000)).0.allowed);
        assert_eq!(mock.hosts[best].state.checks(), 2, "{status}: the marked host is skipped");
    }
}

#[test]
fn failover_5000_retries_without_marking_then_sells_unchecked() {
    let mock = MockGisMt::start(2);
    let dir = temp_dir("5000");
    let ch = checker(&mock, &dir, Strictness::Deny);
    let (v, took) = check(&ch, code_of(15), None);
    assert!(v.allowed);
    assert_eq!(v.source, Source::None);
    assert!(v.notes.iter().any(|n| n.contains("code 5000")), "{:?}", v.notes);
    assert_eq!(mock.total_checks(), 2, "one request and one repeat, same host");
    assert!(mock.hosts.iter().any(|h| h.state.checks() == 2));
    let st = ch.gismt().unwrap().cached().unwrap();
    assert!(st.hosts.iter().all(|h| h.unavailable_until_ms.is_none()));
    assert!(took < Duration::from_millis(1500) + SLACK);
}

#[test]
fn all_hosts_unavailable_refreshes_the_list_and_clears_the_marks() {
    let mock = MockGisMt::start(3);
    let dir = temp_dir("allbad");
    let ch = checker(&mock, &dir, Strictness::Deny);
    let g = ch.gismt().unwrap();
    g.discover(false).unwrap();
    for h in &mock.hosts {
        h.state.force(503, json!({"code": 503}), 2);
    }
    let calls = mock.discovery.calls.load(Ordering::Relaxed);
    let (v, _) = check(&ch, code_of(4), None);
    assert!(v.allowed, "no answer: the sale goes on without the online check");
    assert_eq!(v.source, Source::None);
    assert_eq!(mock.total_checks(), 6);
    g.wait_background();
    assert_eq!(mock.discovery.calls.load(Ordering::Relaxed), calls + 1, "the list was refreshed");
    let st = g.cached().unwrap();
    assert!(st.hosts.iter().all(|h| h.unavailable_until_ms.is_none()), "{st:?}");
    // The hosts are healthy again: the next check is answered.
    assert_eq!(fields(&check(&ch, code_of(4), None).0), vec!["sold"]);
}

#[test]
fn every_host_marked_at_the_start_clears_the_marks_and_refreshes() {
    let mock = MockGisMt::start(2);
    let dir = temp_dir("marked");
    let ch = checker(&mock, &dir, Strictness::Deny);
    let g = ch.gismt().unwrap();
    g.discover(false).unwrap();
    let now = now_ms();
    CacheFile::in_dir(&dir)
        .update(g.base_url(), |s| {
            for h in s.hosts.clone() {
                s.mark(&h.host, now, 15 * 60_000)
            }
        })
        .unwrap();
    let calls = mock.discovery.calls.load(Ordering::Relaxed);
    let (v, _) = check(&ch, code_of(4), None);
    assert_eq!(v.source, Source::Online, "the cleared list is used at once");
    g.wait_background();
    assert_eq!(mock.discovery.calls.load(Ordering::Relaxed), calls + 1, "and the list was refreshed");
    assert!(g.cached().unwrap().hosts.iter().all(|h| h.unavailable_until_ms.is_none()));
}

#[test]
fn an_unreachable_host_is_marked_and_skipped() {
    let mut mock = MockGisMt::start(3);
    let dir = temp_dir("down");
    let ch = checker(&mock, &dir, Strictness::Deny);
    let g = ch.gismt().unwrap();
    g.discover(false).unwrap();
    let (best, next) = best_and_next(&mock, g);
    let dead_url = mock.hosts[best].url().to_string();
    let dead = mock.hosts.remove(best);
    drop(dead);
    let (v, _) = check(&ch, code_of(4), None);
    assert_eq!(fields(&v), vec!["sold"]);
    let next_url = if next > best { mock.hosts[next - 1].url() } else { mock.hosts[next].url() };
    assert_eq!(v.host.as_deref(), Some(next_url));
    let st = g.cached().unwrap();
    assert!(st.hosts.iter().find(|h| h.host == dead_url).unwrap().unavailable_until_ms.is_some());
}

#[test]
fn emergency_203_from_any_method() {
    // From /codes/check (scenario 12).
    let mock = MockGisMt::start(2);
    let (v, _) = check(&checker(&mock, &temp_dir("203a"), Strictness::Deny), code_of(12), None);
    assert!(v.allowed && v.emergency);
    assert_eq!(mock.total_checks(), 1, "203 is not retried");
    // From /cdn/info with nothing cached.
    let mock = MockGisMt::start(2);
    mock.discovery.status.store(203, Ordering::Relaxed);
    let (v, _) = check(&checker(&mock, &temp_dir("203b"), Strictness::Deny), code_of(4), None);
    assert!(v.allowed && v.emergency, "{v:?}");
    assert_eq!(mock.total_checks(), 0);
    // From /cdn/health/check: discovery says so.
    let mock = MockGisMt::start(2);
    for h in &mock.hosts {
        h.state.health_status.store(203, Ordering::Relaxed);
    }
    let d = gismt(&mock, &temp_dir("203c")).discover(false).unwrap();
    assert!(d.emergency);
    assert!(d.state.emergency_at_ms.is_some());
}

#[test]
fn a_203_holds_checks_off_for_3_days_after_the_last_one() {
    // A background refresh (or `kkt mark cdn --refresh`) meets 203 on /cdn/health/check while
    // /codes/check still answers: checks are off all the same (§7), and stay off 3 days after
    // the last 203 seen, even once discovery no longer sees it, for every process of the till.
    let mock = MockGisMt::start(2);
    let dir = temp_dir("203latch");
    for h in &mock.hosts {
        h.state.health_status.store(203, Ordering::Relaxed);
    }
    let g = gismt(&mock, &dir);
    let t0 = now_ms();
    assert!(g.discover(false).unwrap().emergency);
    // The emergency is over at ГИС МТ, a discovery sees no 203 any more: the 3 days hold.
    for h in &mock.hosts {
        h.state.health_status.store(0, Ordering::Relaxed);
    }
    assert!(!g.discover(false).unwrap().emergency);
    let ch = Checker::new(Some(Arc::clone(&g)), None, Settings { strictness: Strictness::Deny, ..Settings::default() });
    let (v, _) = check(&ch, code_of(4), None);
    assert!(v.allowed && v.emergency, "{v:?}");
    assert!(v.notes.iter().any(|n| n.contains("3 days")), "{:?}", v.notes);
    assert_eq!(mock.total_checks(), 0, "checks are off: /codes/check is not asked");
    // Another process (a new client on the same cache directory) sees it too.
    let (v, _) = check(&checker(&mock, &dir, Strictness::Deny), code_of(4), None);
    assert!(v.emergency);
    let latch = g.emergency().load();
    let until = latch.status(now_ms()).until.unwrap();
    let until_ms = chrono::DateTime::parse_from_rfc3339(&until).unwrap().timestamp_millis();
    assert!(until_ms >= t0 + 3 * 86_400_000 - 1000 && until_ms <= now_ms() + 3 * 86_400_000, "{until}");
    // Three days after the last 203: checks are back.
    g.emergency().update(|l| l.last_203_ms = Some(now_ms() - 3 * 86_400_000 - 1)).unwrap();
    let (v, _) = check(&ch, code_of(4), None);
    assert!(!v.allowed && !v.emergency, "{v:?}");
    assert_eq!(fields(&v), vec!["sold"]);
    // A 203 from /codes/check starts it again; so does the store by hand, on every path.
    let (v, _) = check(&ch, code_of(12), None);
    assert!(v.emergency);
    let n = mock.total_checks();
    assert!(check(&ch, code_of(4), None).0.emergency);
    assert_eq!(mock.total_checks(), n);
}

#[test]
fn the_budget_holds_with_retries_and_failover() {
    let mock = MockGisMt::start(3);
    let dir = temp_dir("budget");
    let ch = checker(&mock, &dir, Strictness::Deny);
    ch.gismt().unwrap().discover(false).unwrap();
    // Every host is slow and then fails: retries and failover would take 6 × 600 ms.
    for h in &mock.hosts {
        h.state.check_delay_ms.store(600, Ordering::Relaxed);
        h.state.force(503, json!({"code": 503}), 100);
    }
    let (v, took) = check(&ch, code_of(4), None);
    assert!(v.allowed);
    assert_eq!(v.source, Source::None);
    assert!(v.notes.iter().any(|n| n.contains("within 1.5 s")), "{:?}", v.notes);
    assert!(took < Duration::from_millis(1500) + SLACK, "{took:?}");
    assert!(mock.total_checks() < 6);
}

#[test]
fn one_request_and_one_connection_per_receipt() {
    let mock = MockGisMt::start(1);
    let dir = temp_dir("receipt");
    let ch = checker(&mock, &dir, Strictness::Deny);
    ch.gismt().unwrap().set_fiscal_drive_number(Some("7380440700089917".into()));
    let mut r = ch.receipt();
    let vs = r.check(&[item(code_of(2), None), item(code_of(4), None), item(code_of(7), Some(106000))]);
    assert_eq!(vs.iter().map(|v| v.allowed).collect::<Vec<_>>(), vec![false, false, true]);
    assert_eq!(mock.total_checks(), 1, "all codes of the receipt in one request");
    let body = mock.hosts[0].state.bodies.lock().unwrap()[0].clone();
    assert_eq!(body["codes"].as_array().unwrap().len(), 3);
    assert_eq!(body["codes"][0], code_of(2), "GS sent as \\u001d inside JSON");
    assert_eq!(body["fiscalDriveNumber"], "7380440700089917");
    // More scans in the same receipt reuse the connection.
    r.check(&[item(code_of(8), Some(14500))]);
    r.check(&[item(code_of(3), Some(177000))]);
    assert_eq!(mock.total_checks(), 3);
    assert_eq!(mock.hosts[0].state.distinct_peers(), 1, "one keep-alive connection");
    drop(r);
    ch.receipt().check(&[item(code_of(8), Some(14500))]);
    assert_eq!(mock.hosts[0].state.distinct_peers(), 2, "a new receipt, a new connection");
}

#[test]
fn duplicates_in_a_receipt() {
    let mock = MockGisMt::start(1);
    let ch = checker(&mock, &temp_dir("dup"), Strictness::Deny);
    let mut r = ch.receipt();
    assert!(r.check(&[item(code_of(7), Some(106000))])[0].allowed);
    let v = r.check(&[item(code_of(7), Some(106000))]).remove(0);
    assert_eq!(fields(&v), vec!["code"]);
    assert_eq!(v.reasons[0].rule, Rule::DuplicateInReceipt);
    // Within one batch too.
    let vs = ch.receipt().check(&[item(code_of(8), Some(14500)), item(code_of(8), Some(14500))]);
    assert!(vs[0].allowed && !vs[1].allowed);
    // A removed item may be scanned again.
    r.remove(&MarkingCode::parse(code_of(7)).unwrap());
    assert!(r.check(&[item(code_of(7), Some(106000))])[0].allowed);
}

fn lm_for(mock: &MockLm) -> Lm {
    let mut cfg = LmConfig::new(mock.server.url.clone());
    cfg.user = Some(LM_USER.into());
    cfg.password = Some(Secret::new(LM_PASSWORD));
    Lm::new(cfg).unwrap()
}

#[test]
fn local_module_answers_when_the_online_check_does_not() {
    let mock = MockGisMt::start(1);
    let lm = mock_lm();
    let dir = temp_dir("lm");
    let ch = Checker::new(Some(gismt(&mock, &dir)), Some(lm_for(&lm)), Settings::default());
    // Scenario 14: no answer in 1.5 s → the Local Module, with Inst and Ver in 1265.
    let (v, took) = check(&ch, code_of(14), None);
    assert!(v.allowed, "{v:?}");
    assert_eq!(v.source, Source::Lm);
    let t = v.tag1265.clone().unwrap();
    assert!(
        t.starts_with("UUID=") && t.contains("&Time=") && t.ends_with(&format!("&Inst={LM_INST}&Ver={LM_VERSION}")),
        "{t}"
    );
    assert!(took < Duration::from_millis(3000) + SLACK);
    // Offline, only isBlocked and sold are judged.
    lm.codes.lock().unwrap().insert(code_of(15).to_string(), json!({"isBlocked": true, "found": false}));
    let (v, _) = check(&ch, code_of(15), None);
    assert_eq!(v.source, Source::Lm);
    assert_eq!(fields(&v), vec!["isBlocked"]);
    lm.codes.lock().unwrap().insert(code_of(13).to_string(), json!({"sold": true, "verified": false}));
    assert_eq!(fields(&check(&ch, code_of(13), None).0), vec!["sold"]);
    // An older module: outCheck missing, cis/check per code.
    lm.out_check.store(false, Ordering::Relaxed);
    let (v, _) = check(&ch, code_of(15), None);
    assert_eq!(fields(&v), vec!["isBlocked"]);
    assert!(lm.calls.lock().unwrap().iter().any(|c| c == "GET /api/v1/cis/check"));
    // A module that is not ready is reported, not trusted.
    *lm.status.lock().unwrap() = "initialization".into();
    let (v, _) = check(&ch, code_of(15), None);
    assert!(v.allowed);
    assert_eq!(v.source, Source::None);
    assert!(v.notes.iter().any(|n| n.contains("not ready") && n.contains("initialization")), "{:?}", v.notes);
}

#[test]
fn local_module_status_and_auth() {
    let lm = mock_lm();
    let st = lm_for(&lm).status().unwrap();
    assert!(st.ready());
    assert_eq!(st.version.as_deref(), Some(LM_VERSION));
    for s in ["initialization", "not_configured", "sync_error"] {
        *lm.status.lock().unwrap() = s.into();
        let st = lm_for(&lm).status().unwrap();
        assert_eq!(st.status, s);
        assert!(!st.ready());
    }
    let anon = Lm::new(LmConfig::new(lm.server.url.clone())).unwrap();
    assert!(matches!(anon.status(), Err(kkt::checker::lm::LmError::Auth(401))));
}

#[test]
fn a_resale_is_caught_without_a_network() {
    let mock = MockGisMt::start(1);
    let dir = temp_dir("resale");
    let store = SqliteStore::open(&dir.join("sold.sqlite")).unwrap();
    let ch = checker(&mock, &dir, Strictness::Deny).with_store(Box::new(store));
    let code = MarkingCode::parse(code_of(7)).unwrap();
    assert!(check(&ch, code_of(7), Some(106000)).0.allowed);
    ch.record(std::slice::from_ref(&code), CodeState::Sold, "FN 7380440700089917 FD 12").unwrap();
    // ГИС МТ is gone.
    drop(mock);
    let v = check(&ch, code_of(7), Some(106000)).0;
    assert_eq!(fields(&v), vec!["store"]);
    assert!(v.reasons[0].message.contains("FD 12"));
    // After a refund it may be sold again.
    ch.record(std::slice::from_ref(&code), CodeState::Returned, "FN 7380440700089917 FD 13").unwrap();
    let v = check(&ch, code_of(7), Some(106000)).0;
    assert!(v.allowed, "{v:?}");
    assert_eq!(v.source, Source::None);
}

#[test]
fn no_token_is_a_clear_error() {
    let mock = MockGisMt::start(1);
    let g = Arc::new(GisMt::new(GisMtConfig::new(mock.url(), None, temp_dir("notoken"))).unwrap());
    match g.session().check(&[MarkingCode::parse(code_of(4)).unwrap()]) {
        Online::Failed { field, message } => {
            assert_eq!(field, "token");
            assert!(message.contains("KKT_GISMT_TOKEN") && message.contains("--sign-command"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn plain_http_only_on_loopback() {
    let err = GisMt::new(GisMtConfig::new("http://cdn.crpt.ru", None, temp_dir("tls"))).unwrap_err();
    assert!(err.to_string().contains("loopback"));
    // A discovery answer naming a plain-http public host: the host is skipped.
    let mock = MockGisMt::start(1);
    mock.discovery.hosts.lock().unwrap().push("http://cdn01.example.org".into());
    let d = gismt(&mock, &temp_dir("tls2")).discover(false).unwrap();
    assert_eq!(d.state.hosts.len(), 1);
    assert_eq!(d.skipped.len(), 1);
}

#[test]
fn hosts_without_a_scheme_take_the_discovery_scheme() {
    let mock = MockGisMt::start(1);
    let bare = mock.hosts[0].url().trim_start_matches("http://").to_string();
    *mock.discovery.hosts.lock().unwrap() = vec![bare];
    let d = gismt(&mock, &temp_dir("bare")).discover(false).unwrap();
    assert_eq!(d.state.hosts[0].host, mock.hosts[0].url());
    assert!(d.state.hosts[0].latency_ms.is_some());
}

#[test]
fn no_answer_kinds_are_reported() {
    let mock = MockGisMt::start(1);
    let g = gismt(&mock, &temp_dir("kinds"));
    let code = MarkingCode::parse(code_of(15)).unwrap();
    assert!(matches!(g.session().check(&[code]), Online::NoAnswer { why: NoAnswer::CrossBorder, .. }));
    // 517 from the only host, twice: it is marked, and no host is left.
    mock.hosts[0].state.force(517, json!({}), 2);
    let code = MarkingCode::parse(code_of(4)).unwrap();
    assert!(matches!(g.session().check(&[code]), Online::NoAnswer { why: NoAnswer::AllUnavailable, .. }));
    assert_eq!(mock.hosts[0].state.checks(), 4, "the 5000 code twice, then 517 and its repeat");
}
