//! CDN hosts of ГИС МТ (seed 003 §1.4): the ranked list, the 15-minute unavailability marks, the
//! refresh schedule, the on-disk cache shared by processes, and the failover policy of §1.4.3 as a
//! pure state machine ([`Failover`]).

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One CDN host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdnHost {
    /// Base URL, e.g. `https://cdn01.am.crptech.ru` (port 443 unless given).
    pub host: String,
    /// Measured `/cdn/health/check` latency; None when the check failed (ranked last).
    pub latency_ms: Option<u64>,
    /// Marked unavailable until this time (Unix ms).
    pub unavailable_until_ms: Option<i64>,
}

/// The cached state: the ranked list (index = rank) and when it was made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdnState {
    /// The discovery base URL the list came from (a list from another contour is not used).
    pub base_url: String,
    /// When the list was last discovered (Unix ms).
    pub refreshed_at_ms: i64,
    /// Ranked hosts, best first.
    pub hosts: Vec<CdnHost>,
    /// When an HTTP 203 (emergency) was last seen (Unix ms); whether checks are off is the
    /// emergency latch's ([`super::emergency`]).
    pub emergency_at_ms: Option<i64>,
}

impl CdnState {
    /// Ranks hosts by measured latency (failed health checks last, order kept among equals).
    pub fn ranked(base_url: &str, now_ms: i64, measured: Vec<(String, Option<u64>)>) -> CdnState {
        let mut hosts: Vec<CdnHost> = measured
            .into_iter()
            .map(|(host, latency_ms)| CdnHost { host, latency_ms, unavailable_until_ms: None })
            .collect();
        hosts.sort_by_key(|h| (h.latency_ms.is_none(), h.latency_ms.unwrap_or(0)));
        CdnState { base_url: base_url.to_string(), refreshed_at_ms: now_ms, hosts, emergency_at_ms: None }
    }

    /// Keeps the unexpired marks of `old` for hosts still listed (a scheduled refresh does not
    /// forgive a host marked a minute ago).
    pub fn carry_marks(&mut self, old: &CdnState, now_ms: i64) {
        for h in &mut self.hosts {
            if let Some(o) = old.hosts.iter().find(|o| o.host == h.host) {
                h.unavailable_until_ms = o.unavailable_until_ms.filter(|&t| t > now_ms);
            }
        }
        self.emergency_at_ms = old.emergency_at_ms;
    }

    /// Hosts not marked unavailable at `now_ms`, best first.
    pub fn available(&self, now_ms: i64) -> Vec<String> {
        self.hosts.iter().filter(|h| h.unavailable_until_ms.is_none_or_past(now_ms)).map(|h| h.host.clone()).collect()
    }

    /// Marks `host` unavailable for `for_ms`.
    pub fn mark(&mut self, host: &str, now_ms: i64, for_ms: i64) {
        if let Some(h) = self.hosts.iter_mut().find(|h| h.host == host) {
            h.unavailable_until_ms = Some(now_ms + for_ms);
        }
    }

    /// Clears every mark.
    pub fn clear_marks(&mut self) {
        for h in &mut self.hosts {
            h.unavailable_until_ms = None;
        }
    }

    /// True when the list is older than `every_ms`.
    pub fn due(&self, now_ms: i64, every_ms: i64) -> bool {
        now_ms - self.refreshed_at_ms >= every_ms
    }
}

trait PastExt {
    fn is_none_or_past(&self, now_ms: i64) -> bool;
}

impl PastExt for Option<i64> {
    fn is_none_or_past(&self, now_ms: i64) -> bool {
        match self {
            None => true,
            Some(t) => *t <= now_ms,
        }
    }
}

/// The cache file (`gismt-cdn.json` in the cache directory). Written atomically (temporary file
/// and rename), so a reader never sees half a file; several processes share it.
#[derive(Debug, Clone)]
pub struct CacheFile {
    path: PathBuf,
}

impl CacheFile {
    /// The cache in `dir`.
    pub fn in_dir(dir: &Path) -> CacheFile {
        CacheFile { path: dir.join("gismt-cdn.json") }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cached state for `base_url` (None when absent, unreadable, or for another base URL).
    pub fn load(&self, base_url: &str) -> Option<CdnState> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let st: CdnState = serde_json::from_str(&text).ok()?;
        (st.base_url == base_url).then_some(st)
    }

    /// Writes the state.
    pub fn store(&self, st: &CdnState) -> io::Result<()> {
        if let Some(dir) = self.path.parent() {
            crate::fsutil::create_private_dir(dir)?;
        }
        // Not synced: a lost cache is rebuilt by discovery, and the check's budget is short.
        crate::fsutil::write_private(&self.path, &serde_json::to_vec_pretty(st).map_err(io::Error::other)?, false)
    }

    /// Reads, changes and writes the state for `base_url` (nothing when there is none).
    pub fn update(&self, base_url: &str, f: impl FnOnce(&mut CdnState)) -> io::Result<Option<CdnState>> {
        let Some(mut st) = self.load(base_url) else { return Ok(None) };
        f(&mut st);
        self.store(&st)?;
        Ok(Some(st))
    }
}

/// One `/codes/check` attempt, classified (seed 003 §1.4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// HTTP 200 with `code` 0.
    Answer,
    /// HTTP 203: emergency (§7).
    Emergency,
    /// HTTP 401.
    Auth,
    /// Another 4xx (not 401, 429).
    Client(u16),
    /// 429 or 5xx: retry, then mark the host and go on.
    Busy(u16),
    /// 5xx with `"code": 5000`: the cross-border service is down; retry without marking.
    CrossBorder,
    /// The host cannot be reached (connection refused, DNS): mark it and go on.
    Unreachable,
    /// The connection broke mid-request: retry, then mark.
    Broken,
    /// The budget ran out.
    Timeout,
    /// HTTP 200 that cannot be read, or a non-zero `code`.
    BadAnswer,
}

/// Classifies an HTTP status and body of a ГИС МТ CDN host (§1.4.3's table). 514–520 are server
/// errors there like any 5xx (only a ТС ПИОТ gives them a meaning of their own: its client,
/// [`super::tspiot`], sends the codes to the Local Module then).
pub fn classify(status: u16, body: &str) -> Attempt {
    let body_code = || {
        serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("code").and_then(|c| c.as_i64().or_else(|| c.as_str().and_then(|s| s.parse().ok()))))
    };
    match status {
        200 => match body_code() {
            Some(0) => Attempt::Answer,
            _ => Attempt::BadAnswer,
        },
        203 => Attempt::Emergency,
        401 => Attempt::Auth,
        429 => Attempt::Busy(429),
        500..=599 if body_code() == Some(5000) => Attempt::CrossBorder,
        500..=599 => Attempt::Busy(status),
        _ => Attempt::Client(status),
    }
}

/// How a check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// `host` answered.
    Answer(String),
    /// `host` said 203.
    Emergency(String),
    /// 401 from `host`.
    Auth(String),
    /// A 4xx from `host`: the request is wrong; no retry.
    Client(u16, String),
    /// A 200 that cannot be used.
    BadAnswer(String),
    /// Code 5000 twice: sell without the online check.
    CrossBorder,
    /// Every host failed: refresh the list, clear the marks.
    AllUnavailable,
    /// The budget ran out.
    Budget,
    /// There was no host to ask.
    NoHosts,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send the request to this host.
    Send(String),
    /// Stop.
    Done(End),
}

/// The failover of §1.4.3 over a ranked list of available hosts. Feed each attempt's class to
/// [`Failover::next`]; the hosts to mark unavailable collect in [`Failover::marks`].
#[derive(Debug, Clone)]
pub struct Failover {
    hosts: Vec<String>,
    pos: usize,
    tries_here: u32,
    cross_border_tries: u32,
    tries_per_host: u32,
    /// Hosts to mark unavailable for 15 minutes.
    pub marks: Vec<String>,
    /// Requests sent, per host in order.
    pub sent: Vec<String>,
}

impl Failover {
    /// A failover over `hosts` (best first), trying each busy host `tries_per_host` times.
    pub fn new(hosts: Vec<String>, tries_per_host: u32) -> Failover {
        Failover {
            hosts,
            pos: 0,
            tries_here: 0,
            cross_border_tries: 0,
            tries_per_host: tries_per_host.max(1),
            marks: Vec::new(),
            sent: Vec::new(),
        }
    }

    fn send_current(&mut self) -> Step {
        match self.hosts.get(self.pos) {
            Some(h) => {
                self.tries_here += 1;
                self.sent.push(h.clone());
                Step::Send(h.clone())
            }
            None if self.hosts.is_empty() => Step::Done(End::NoHosts),
            None => Step::Done(End::AllUnavailable),
        }
    }

    fn mark_and_advance(&mut self) -> Step {
        if let Some(h) = self.hosts.get(self.pos) {
            self.marks.push(h.clone());
        }
        self.pos += 1;
        self.tries_here = 0;
        self.send_current()
    }

    fn current(&self) -> String {
        self.hosts.get(self.pos).cloned().unwrap_or_default()
    }

    /// The first step.
    pub fn start(&mut self) -> Step {
        self.send_current()
    }

    /// The step after an attempt on the current host.
    pub fn next(&mut self, a: Attempt) -> Step {
        match a {
            Attempt::Answer => Step::Done(End::Answer(self.current())),
            Attempt::Emergency => Step::Done(End::Emergency(self.current())),
            Attempt::Auth => Step::Done(End::Auth(self.current())),
            Attempt::Client(s) => Step::Done(End::Client(s, self.current())),
            Attempt::BadAnswer => Step::Done(End::BadAnswer(self.current())),
            Attempt::Timeout => Step::Done(End::Budget),
            Attempt::CrossBorder => {
                self.cross_border_tries += 1;
                if self.cross_border_tries < 2 {
                    self.send_current()
                } else {
                    Step::Done(End::CrossBorder)
                }
            }
            Attempt::Busy(_) | Attempt::Broken => {
                if self.tries_here < self.tries_per_host {
                    self.send_current()
                } else {
                    self.mark_and_advance()
                }
            }
            Attempt::Unreachable => self.mark_and_advance(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        vec!["a".into(), "b".into(), "c".into()]
    }

    #[test]
    fn ranking_by_measured_latency() {
        // The methodology's example: 400, 300, 500 ms → cdn02, cdn01, cdn03.
        let st = CdnState::ranked(
            "base",
            0,
            vec![
                ("cdn01".into(), Some(400)),
                ("cdn02".into(), Some(300)),
                ("x".into(), None),
                ("cdn03".into(), Some(500)),
            ],
        );
        let order: Vec<_> = st.hosts.iter().map(|h| h.host.as_str()).collect();
        assert_eq!(order, vec!["cdn02", "cdn01", "cdn03", "x"]);
    }

    #[test]
    fn marks_expire_and_clear() {
        let mut st = CdnState::ranked("base", 0, vec![("a".into(), Some(1)), ("b".into(), Some(2))]);
        st.mark("a", 1000, 15 * 60_000);
        assert_eq!(st.available(1000), vec!["b"]);
        assert_eq!(st.available(1000 + 15 * 60_000), vec!["a", "b"]);
        st.mark("b", 1000, 15 * 60_000);
        assert!(st.available(2000).is_empty());
        st.clear_marks();
        assert_eq!(st.available(2000).len(), 2);
        let mut new = CdnState::ranked("base", 5000, vec![("b".into(), Some(1)), ("c".into(), Some(2))]);
        st.mark("b", 4000, 60_000);
        new.carry_marks(&st, 5000);
        assert_eq!(new.available(5000), vec!["c"]);
        assert!(new.due(5000 + 6 * 3_600_000, 6 * 3_600_000));
        assert!(!new.due(5000 + 6 * 3_600_000 - 1, 6 * 3_600_000));
    }

    #[test]
    fn cache_file_round_trip_and_base_url() {
        let dir = std::env::temp_dir().join(format!("kkt-cdn-test-{}", std::process::id()));
        let f = CacheFile::in_dir(&dir);
        let st = CdnState::ranked("https://cdn.crpt.ru", 7, vec![("https://a".into(), Some(3))]);
        f.store(&st).unwrap();
        assert_eq!(f.load("https://cdn.crpt.ru"), Some(st.clone()));
        assert_eq!(f.load("https://markirovka.sandbox.crptech.ru"), None);
        let after = f.update("https://cdn.crpt.ru", |s| s.mark("https://a", 10, 5)).unwrap().unwrap();
        assert_eq!(after.hosts[0].unavailable_until_ms, Some(15));
        assert_eq!(f.load("https://cdn.crpt.ru").unwrap().hosts[0].unavailable_until_ms, Some(15));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn classify_the_failover_table() {
        assert_eq!(classify(200, r#"{"code":0,"codes":[]}"#), Attempt::Answer);
        assert_eq!(classify(200, r#"{"code":1}"#), Attempt::BadAnswer);
        assert_eq!(classify(200, "<html>"), Attempt::BadAnswer);
        assert_eq!(classify(203, ""), Attempt::Emergency);
        assert_eq!(classify(400, ""), Attempt::Client(400));
        assert_eq!(classify(404, ""), Attempt::Client(404));
        assert_eq!(classify(401, ""), Attempt::Auth);
        assert_eq!(classify(429, ""), Attempt::Busy(429));
        assert_eq!(classify(500, "oops"), Attempt::Busy(500));
        assert_eq!(classify(504, ""), Attempt::Busy(504));
        assert_eq!(
            classify(500, r#"{ "code": 5000, "description": "Transgran BY internal error", "codes": [] }"#),
            Attempt::CrossBorder
        );
        assert_eq!(classify(502, r#"{"code":"5000"}"#), Attempt::CrossBorder);
        // 514–520 from a CDN host: the 5xx row (repeat, mark for 15 minutes, next host).
        for s in 514..=520 {
            assert_eq!(classify(s, ""), Attempt::Busy(s), "{s}");
        }
        assert_eq!(classify(517, r#"{"code": 5000}"#), Attempt::CrossBorder);
    }

    #[test]
    fn client_errors_and_auth_are_not_retried() {
        for (a, end) in [
            (Attempt::Client(400), End::Client(400, "a".into())),
            (Attempt::Auth, End::Auth("a".into())),
            (Attempt::Emergency, End::Emergency("a".into())),
            (Attempt::Answer, End::Answer("a".into())),
        ] {
            let mut f = Failover::new(hosts(), 2);
            assert_eq!(f.start(), Step::Send("a".into()));
            assert_eq!(f.next(a), Step::Done(end));
            assert!(f.marks.is_empty());
            assert_eq!(f.sent, vec!["a"]);
        }
    }

    #[test]
    fn busy_hosts_are_retried_then_marked() {
        let mut f = Failover::new(hosts(), 2);
        f.start();
        assert_eq!(f.next(Attempt::Busy(429)), Step::Send("a".into()));
        assert_eq!(f.next(Attempt::Busy(429)), Step::Send("b".into()));
        assert_eq!(f.marks, vec!["a"]);
        assert_eq!(f.next(Attempt::Busy(503)), Step::Send("b".into()));
        assert_eq!(f.next(Attempt::Answer), Step::Done(End::Answer("b".into())));
        assert_eq!(f.sent, vec!["a", "a", "b", "b"]);
    }

    #[test]
    fn all_busy_ends_all_unavailable() {
        let mut f = Failover::new(hosts(), 2);
        let mut step = f.start();
        while let Step::Send(_) = step {
            step = f.next(Attempt::Busy(504));
        }
        assert_eq!(step, Step::Done(End::AllUnavailable));
        assert_eq!(f.marks, vec!["a", "b", "c"]);
        assert_eq!(f.sent.len(), 6);
    }

    #[test]
    fn unreachable_is_marked_at_once() {
        let mut f = Failover::new(hosts(), 2);
        f.start();
        assert_eq!(f.next(Attempt::Unreachable), Step::Send("b".into()));
        assert_eq!(f.marks, vec!["a"]);
        assert_eq!(f.next(Attempt::Broken), Step::Send("b".into()));
        assert_eq!(f.next(Attempt::Broken), Step::Send("c".into()));
    }

    #[test]
    fn cross_border_retries_without_marking() {
        let mut f = Failover::new(hosts(), 2);
        f.start();
        assert_eq!(f.next(Attempt::CrossBorder), Step::Send("a".into()));
        assert_eq!(f.next(Attempt::CrossBorder), Step::Done(End::CrossBorder));
        assert!(f.marks.is_empty());
        // A retry that answers is an answer.
        let mut f = Failover::new(hosts(), 2);
        f.start();
        f.next(Attempt::CrossBorder);
        assert_eq!(f.next(Attempt::Answer), Step::Done(End::Answer("a".into())));
    }

    #[test]
    fn no_hosts_and_timeouts() {
        assert_eq!(Failover::new(vec![], 2).start(), Step::Done(End::NoHosts));
        let mut f = Failover::new(hosts(), 2);
        f.start();
        assert_eq!(f.next(Attempt::Timeout), Step::Done(End::Budget));
        assert!(f.marks.is_empty());
    }
}
