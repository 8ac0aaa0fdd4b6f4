//! ГИС МТ's permissive-mode client (seed 003 §1): CDN discovery and ranking by measured latency,
//! the on-disk host cache with its 6-hour refresh, `/codes/check` with the failover of §1.4.3 in
//! a 1.5 s budget, and the emergency answer 203 (§7). The policy lives in [`super::cdn`]; this
//! file only moves bytes.
//!
//! The token goes in `X-API-KEY` and nowhere else: not in logs, not in error texts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::cdn::{self, Attempt, CacheFile, CdnState, End, Failover, Step};
use super::emergency::EmergencyFile;
use super::secret::Secret;
use super::token::Signer;
use crate::marking::model::CheckAnswer;
use crate::marking::MarkingCode;

/// The production discovery host.
pub const DEFAULT_URL: &str = "https://cdn.crpt.ru";
/// `GET` the list of CDN hosts.
pub const INFO_PATH: &str = "/api/v4/true-api/cdn/info";
/// `GET` a host's health.
pub const HEALTH_PATH: &str = "/api/v4/true-api/cdn/health/check";
/// `POST` codes to check.
pub const CHECK_PATH: &str = "/api/v4/true-api/codes/check";
/// At most this many codes in one request.
pub const MAX_CODES_PER_REQUEST: usize = 100;

/// Settings of the client.
#[derive(Debug, Clone)]
pub struct GisMtConfig {
    /// The discovery base URL (`--gismt-url`, `KKT_GISMT_URL`).
    pub base_url: String,
    /// The `X-API-KEY` token, when given as it is (a file, the environment).
    pub token: Option<Secret>,
    /// The signer that obtains (and renews) the token (`--sign-command`); it wins over `token`.
    pub signer: Option<Arc<Signer>>,
    /// Where the host list and the unavailability marks live (`KKT_CACHE_DIR`).
    pub cache_dir: std::path::PathBuf,
    /// No answer within this time of the first request: sell without the online check (1.5 s).
    pub budget: Duration,
    /// Timeout of `/cdn/info`.
    pub discovery_timeout: Duration,
    /// Timeout of each `/cdn/health/check`: a host slower than this is ranked last.
    pub health_timeout: Duration,
    /// Refresh the list no more often than this (6 h)…
    pub refresh_every: Duration,
    /// …and no later than this (7 h).
    pub refresh_by: Duration,
    /// How long a failing host is skipped (15 min).
    pub unavailable_for: Duration,
    /// Attempts on a busy host (429/5xx) before it is marked: the request and one repeat.
    pub tries_per_host: u32,
    /// Extra trusted root certificates (PEM), added to the built-in web roots: e.g. the Russian
    /// Trusted Root CA when a host's certificate chains to it. Certificates are always verified.
    pub ca_file: Option<std::path::PathBuf>,
}

impl GisMtConfig {
    /// The methodology's defaults for `base_url`.
    pub fn new(base_url: impl Into<String>, token: Option<Secret>, cache_dir: impl Into<std::path::PathBuf>) -> Self {
        GisMtConfig {
            base_url: base_url.into(),
            token,
            signer: None,
            cache_dir: cache_dir.into(),
            budget: Duration::from_millis(1500),
            discovery_timeout: Duration::from_secs(3),
            health_timeout: Duration::from_millis(1500),
            refresh_every: Duration::from_secs(6 * 3600),
            refresh_by: Duration::from_secs(7 * 3600),
            unavailable_for: Duration::from_secs(15 * 60),
            tries_per_host: 2,
            ca_file: None,
        }
    }
}

/// Errors of discovery and configuration (the check itself reports through [`Online`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GisMtError {
    /// A URL that is not allowed or not understood.
    #[error("URL {url:?}: {why}")]
    Url {
        /// The URL.
        url: String,
        /// Why.
        why: String,
    },
    /// No token configured.
    #[error(
        "no ГИС МТ token: give a sign command (--sign-command, `[marking] sign_command`) to obtain one, or a token \
         ($KKT_GISMT_TOKEN, --gismt-token-file)"
    )]
    NoToken,
    /// The signer could not obtain a token.
    #[error("no ГИС МТ token: {0}")]
    Signer(#[from] super::token::TokenError),
    /// HTTP 401.
    #[error("ГИС МТ refused the token (HTTP 401 from {0}): set a valid token for this contour")]
    Auth(String),
    /// `/cdn/info` failed.
    #[error("{INFO_PATH} failed: {0}")]
    Info(String),
    /// The extra root certificates cannot be used.
    #[error("CA file {path}: {why}")]
    CaFile {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
    /// The cache could not be written.
    #[error("cache {path}: {err}")]
    Cache {
        /// The file.
        path: String,
        /// The error.
        err: String,
    },
}

/// Why there is no online answer; the sale may go on without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "status")]
pub enum NoAnswer {
    /// Nothing within the 1.5 s budget.
    Budget,
    /// Every host failed (the list is being refreshed).
    AllUnavailable,
    /// Code 5000 twice: the cross-border service is down.
    CrossBorder,
    /// No host is known and discovery failed.
    NoHosts,
}

/// The outcome of one online check.
#[derive(Debug, Clone, PartialEq)]
pub enum Online {
    /// An answer.
    Answer {
        /// The answer.
        answer: CheckAnswer,
        /// The host that gave it.
        host: String,
    },
    /// HTTP 203 (now, or within the last 3 days, or declared by the store): emergency, checks off.
    Emergency {
        /// What says so.
        note: String,
    },
    /// No answer: sell without the online check.
    NoAnswer {
        /// Why.
        why: NoAnswer,
        /// For the cashier and the log.
        note: String,
    },
    /// The check failed (4xx, 401, an unreadable answer).
    Failed {
        /// "token", "http", "answer".
        field: String,
        /// Why.
        message: String,
    },
}

/// True for 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Checks and normalises a base or host URL: `https://` (added when no scheme is given; port 443
/// when none is given), or plain `http://` for loopback addresses only. Trailing `/` dropped.
pub fn normalize_url(s: &str) -> Result<String, GisMtError> {
    let s = s.trim();
    let with_scheme = if s.contains("://") { s.to_string() } else { format!("https://{s}") };
    let u = url::Url::parse(&with_scheme).map_err(|e| GisMtError::Url { url: s.to_string(), why: e.to_string() })?;
    match u.scheme() {
        "https" => {}
        "http" if is_loopback(&u) => {}
        "http" => {
            return Err(GisMtError::Url {
                url: s.to_string(),
                why: "plain http is allowed only for loopback addresses; use https".into(),
            })
        }
        other => return Err(GisMtError::Url { url: s.to_string(), why: format!("scheme {other:?} is not https") }),
    }
    if u.host().is_none() {
        return Err(GisMtError::Url { url: s.to_string(), why: "no host".into() });
    }
    Ok(u.as_str().trim_end_matches('/').to_string())
}

/// Unix time in ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn ms(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

struct Reply {
    status: u16,
    body: String,
}

enum HttpFail {
    Unreachable(String),
    Broken(String),
    Timeout,
}

fn is_timeout(t: &ureq::Transport) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(t);
    while let Some(e) = src {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(io.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) {
                return true;
            }
        }
        src = e.source();
    }
    t.to_string().contains("timed out")
}

fn http(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&Secret>,
    body: Option<&str>,
    timeout: Duration,
) -> Result<Reply, HttpFail> {
    let started = Instant::now();
    let mut req = agent.request(method, url).timeout(timeout).set("Content-Type", "application/json");
    if let Some(t) = token {
        req = req.set("X-API-KEY", t.expose());
    }
    let res = match body {
        Some(b) => req.send_string(b),
        None => req.call(),
    };
    let out_of_time = |started: Instant| started.elapsed() + Duration::from_millis(5) >= timeout;
    match res {
        Ok(resp) => {
            let status = resp.status();
            match resp.into_string() {
                Ok(body) => Ok(Reply { status, body }),
                Err(_) if out_of_time(started) => Err(HttpFail::Timeout),
                Err(e) => Err(HttpFail::Broken(e.to_string())),
            }
        }
        Err(ureq::Error::Status(status, resp)) => Ok(Reply { status, body: resp.into_string().unwrap_or_default() }),
        Err(ureq::Error::Transport(t)) => {
            if is_timeout(&t) || out_of_time(started) {
                return Err(HttpFail::Timeout);
            }
            match t.kind() {
                ureq::ErrorKind::Io | ureq::ErrorKind::BadStatus | ureq::ErrorKind::BadHeader => {
                    Err(HttpFail::Broken(t.to_string()))
                }
                _ => Err(HttpFail::Unreachable(t.to_string())),
            }
        }
    }
}

fn agent(connect_timeout: Duration, tls: Option<&Arc<rustls::ClientConfig>>) -> ureq::Agent {
    let mut b =
        ureq::AgentBuilder::new().timeout_connect(connect_timeout).redirects(0).max_idle_connections_per_host(1);
    if let Some(t) = tls {
        b = b.tls_config(Arc::clone(t));
    }
    b.build()
}

/// A TLS configuration trusting the built-in web roots and the certificates of a PEM file.
pub fn tls_with_extra_roots(path: &std::path::Path) -> Result<Arc<rustls::ClientConfig>, GisMtError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let err = |why: String| GisMtError::CaFile { path: path.display().to_string(), why };
    let pem = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&pem).collect::<Result<_, _>>().map_err(|e| err(format!("{e:?}")))?;
    if certs.is_empty() {
        return Err(err("no PEM certificate in it".into()));
    }
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    for c in certs {
        roots.add(c).map_err(|e| err(e.to_string()))?;
    }
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
        .map_err(|e| err(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

/// A short description of an error answer: its `description` or the first 200 characters.
fn describe_body(body: &str) -> String {
    let v: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let d = v
        .as_ref()
        .and_then(|v| v.get("description").or_else(|| v.get("message")).or_else(|| v.get("error")))
        .and_then(|d| d.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| body.chars().take(200).collect());
    d.trim().to_string()
}

/// What discovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// The ranked list (saved in the cache).
    pub state: CdnState,
    /// A 203 was seen.
    pub emergency: bool,
    /// Hosts skipped (not https, not understood), with why.
    pub skipped: Vec<String>,
}

/// The client. Cheap to share (`Arc`); one [`Session`] per receipt.
pub struct GisMt {
    cfg: GisMtConfig,
    base: String,
    cache: CacheFile,
    emergency: EmergencyFile,
    fiscal_drive: Mutex<Option<String>>,
    refresher_running: AtomicBool,
    refreshing: AtomicBool,
    tls: Option<Arc<rustls::ClientConfig>>,
    background: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for GisMt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GisMt").field("base", &self.base).field("cache", &self.cache.path()).finish()
    }
}

impl GisMt {
    /// A client; the base URL is checked here.
    pub fn new(cfg: GisMtConfig) -> Result<GisMt, GisMtError> {
        let base = normalize_url(&cfg.base_url)?;
        let cache = CacheFile::in_dir(&cfg.cache_dir);
        let emergency = EmergencyFile::in_dir(&cfg.cache_dir);
        let tls = cfg.ca_file.as_deref().map(tls_with_extra_roots).transpose()?;
        Ok(GisMt {
            cfg,
            base,
            cache,
            emergency,
            fiscal_drive: Mutex::new(None),
            refresher_running: AtomicBool::new(false),
            refreshing: AtomicBool::new(false),
            tls,
            background: Mutex::new(Vec::new()),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &GisMtConfig {
        &self.cfg
    }

    /// The normalised discovery base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Sets `fiscalDriveNumber` for the requests (the register's FN serial, 16 digits).
    pub fn set_fiscal_drive_number(&self, fn_serial: Option<String>) {
        *self.fiscal_drive.lock().expect("not poisoned") = fn_serial;
    }

    /// The cached host list (None before the first discovery).
    pub fn cached(&self) -> Option<CdnState> {
        self.cache.load(&self.base)
    }

    /// The cache file.
    pub fn cache_file(&self) -> &CacheFile {
        &self.cache
    }

    /// The emergency latch (seed 003 §7) in the cache directory.
    pub fn emergency(&self) -> &EmergencyFile {
        &self.emergency
    }

    /// True when a token can be had: given, or a signer configured.
    pub fn has_token(&self) -> bool {
        self.cfg.signer.is_some() || self.cfg.token.is_some()
    }

    /// The token to send: the signer's (renewed before it expires), else the given one.
    pub fn token(&self) -> Result<Secret, GisMtError> {
        match &self.cfg.signer {
            Some(s) => Ok(s.token(now_ms())?),
            None => self.cfg.token.clone().ok_or(GisMtError::NoToken),
        }
    }

    /// After a 401: a new token from the signer (None without one: the token is what it is).
    fn renew_token(&self) -> Option<Result<Secret, GisMtError>> {
        let s = self.cfg.signer.as_ref()?;
        tracing::warn!(target: "kkt::gismt", "ГИС МТ refused the token (HTTP 401): obtaining a new one");
        Some(s.obtain().map(|t| t.secret()).map_err(GisMtError::from))
    }

    fn scrub(&self, s: &str) -> String {
        let mut out = match &self.cfg.token {
            Some(t) => t.scrub(s),
            None => s.to_string(),
        };
        if let Some(t) = self.cfg.signer.as_ref().and_then(|s| s.stored()) {
            out = t.secret().scrub(&out);
        }
        out
    }

    fn save(&self, st: &CdnState) -> Result<(), GisMtError> {
        self.cache
            .store(st)
            .map_err(|e| GisMtError::Cache { path: self.cache.path().display().to_string(), err: e.to_string() })
    }

    /// A 203 was seen from `from`: the emergency latch holds for 3 days after it (§7).
    fn note_emergency(&self, from: &str) {
        let now = now_ms();
        let _ = self.cache.update(&self.base, |s| s.emergency_at_ms = Some(now));
        if let Err(e) = self.emergency.update(|l| l.saw_203(now, from)) {
            tracing::warn!(target: "kkt::gismt", "the emergency latch {} could not be written: {e}", self.emergency.path().display());
        }
    }

    /// Discovery (§1.4.1): `/cdn/info`, then `/cdn/health/check` on every host in parallel,
    /// ranked by the measured time to answer. Saved in the cache; `clear_marks` forgets the
    /// unavailability marks (after every host failed), otherwise unexpired marks are kept.
    pub fn discover(&self, clear_marks: bool) -> Result<Discovery, GisMtError> {
        let token = &self.token()?;
        let a = agent(self.cfg.discovery_timeout, self.tls.as_ref());
        let url = format!("{}{INFO_PATH}", self.base);
        let reply = http(&a, "GET", &url, Some(token), None, self.cfg.discovery_timeout).map_err(|f| {
            GisMtError::Info(match f {
                HttpFail::Timeout => "timed out".into(),
                HttpFail::Unreachable(e) | HttpFail::Broken(e) => self.scrub(&e),
            })
        })?;
        match reply.status {
            200 => {}
            203 => {
                tracing::warn!(target: "kkt::gismt", "ГИС МТ answered 203 to {INFO_PATH}: emergency mode, checks off");
                self.note_emergency(&format!("{}{INFO_PATH}", self.base));
                let state = self.cached().unwrap_or_default();
                return Ok(Discovery { state, emergency: true, skipped: Vec::new() });
            }
            401 => return Err(GisMtError::Auth(self.base.clone())),
            s => return Err(GisMtError::Info(format!("HTTP {s}: {}", self.scrub(&describe_body(&reply.body))))),
        }
        let v: serde_json::Value =
            serde_json::from_str(&reply.body).map_err(|e| GisMtError::Info(format!("the answer is not JSON: {e}")))?;
        if let Some(code) = v.get("code").and_then(|c| c.as_i64()).filter(|&c| c != 0) {
            return Err(GisMtError::Info(format!("code {code}: {}", self.scrub(&describe_body(&reply.body)))));
        }
        let mut hosts = Vec::new();
        let mut skipped = Vec::new();
        let scheme = url::Url::parse(&self.base).map(|u| u.scheme().to_string()).unwrap_or_else(|_| "https".into());
        for h in v.get("hosts").and_then(|h| h.as_array()).into_iter().flatten() {
            let s = h.get("host").and_then(|x| x.as_str()).or_else(|| h.as_str()).unwrap_or_default();
            // A host named without a scheme takes the discovery URL's (https in production).
            let with_scheme = if s.contains("://") || s.is_empty() { s.to_string() } else { format!("{scheme}://{s}") };
            match normalize_url(&with_scheme) {
                Ok(n) if !hosts.contains(&n) => hosts.push(n),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(target: "kkt::gismt", "CDN host skipped: {e}");
                    skipped.push(e.to_string());
                }
            }
        }
        if hosts.is_empty() {
            return Err(GisMtError::Info("the answer lists no usable host".into()));
        }
        let emergency = AtomicBool::new(false);
        let measured: Vec<(String, Option<u64>)> = std::thread::scope(|s| {
            let handles: Vec<_> = hosts
                .iter()
                .map(|h| {
                    let a = a.clone();
                    let emergency = &emergency;
                    s.spawn(move || {
                        let url = format!("{h}{HEALTH_PATH}");
                        let t0 = Instant::now();
                        let r = http(&a, "GET", &url, Some(token), None, self.cfg.health_timeout);
                        let took = t0.elapsed().as_millis() as u64;
                        let ok = match r {
                            Ok(r) if r.status == 200 => {
                                cdn::classify(200, &r.body) == Attempt::Answer || !r.body.contains("\"code\"")
                            }
                            Ok(r) if r.status == 203 => {
                                emergency.store(true, Ordering::Relaxed);
                                false
                            }
                            _ => false,
                        };
                        (h.clone(), ok.then_some(took))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("health check thread")).collect()
        });
        let now = now_ms();
        let mut state = CdnState::ranked(&self.base, now, measured);
        if let Some(old) = self.cached() {
            state.carry_marks(&old, now);
            if clear_marks {
                state.clear_marks();
            }
        }
        let emergency = emergency.into_inner();
        if emergency {
            tracing::warn!(target: "kkt::gismt", "ГИС МТ answered 203 to {HEALTH_PATH}: emergency mode, checks off");
            state.emergency_at_ms = Some(now);
        }
        self.save(&state)?;
        if emergency {
            self.note_emergency(&format!("a CDN host's {HEALTH_PATH}"));
        }
        tracing::info!(target: "kkt::gismt", hosts = state.hosts.len(), "CDN hosts discovered and ranked");
        Ok(Discovery { state, emergency, skipped })
    }

    /// The host list for a check, and whether checks are off (the emergency latch, §7). The
    /// cached list is used as it is; when it is due (6 h, or 7 h while a [`Refresher`] runs) it
    /// is refreshed in the background, and the check does not wait. Only without any cached list
    /// is discovery done first; if it fails then, there is no host.
    pub fn hosts(self: &Arc<Self>) -> Result<(CdnState, bool), GisMtError> {
        let limit =
            if self.refresher_running.load(Ordering::Relaxed) { self.cfg.refresh_by } else { self.cfg.refresh_every };
        let now = now_ms();
        if self.emergency.active(now) {
            return Ok((self.cached().unwrap_or_default(), true));
        }
        match self.cached() {
            Some(st) if !st.hosts.is_empty() => {
                if st.due(now, ms(limit)) {
                    self.refresh_in_background(false);
                }
                Ok((st, false))
            }
            _ => self.discover(false).map(|d| (d.state, d.emergency)),
        }
    }

    /// Refreshes the list in the background (one refresh at a time). `clear_marks` after every
    /// host failed (§1.4.3).
    fn refresh_in_background(self: &Arc<Self>, clear_marks: bool) {
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let me = Arc::clone(self);
        let h = std::thread::spawn(move || {
            match me.discover(clear_marks) {
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(target: "kkt::gismt", "background CDN refresh failed: {e}; the cached list stays");
                    if clear_marks {
                        let _ = me.cache.update(&me.base, CdnState::clear_marks);
                    }
                }
            }
            me.refreshing.store(false, Ordering::Release);
        });
        self.background.lock().expect("not poisoned").push(h);
    }

    /// Waits for background refreshes started by checks (a command line tool calls this before
    /// it exits).
    pub fn wait_background(&self) {
        let hs: Vec<_> = std::mem::take(&mut *self.background.lock().expect("not poisoned"));
        for h in hs {
            let _ = h.join();
        }
        if let Some(s) = &self.cfg.signer {
            s.wait_background();
        }
    }

    /// Starts the background refresher of §1.4.2: the list is rediscovered between 6 and 7 hours
    /// after the last discovery (another process's discovery counts, through the cache). Dropping
    /// the handle stops it.
    pub fn start_refresher(self: &Arc<Self>) -> Refresher {
        let (tx, rx) = mpsc::channel::<()>();
        let me = Arc::clone(self);
        me.refresher_running.store(true, Ordering::Relaxed);
        // A spread inside the hour so that many tills do not refresh at once.
        let window = ms(me.cfg.refresh_by.saturating_sub(me.cfg.refresh_every)).max(1);
        let jitter = (i64::from(std::process::id()) * 7919 + now_ms() % 1000) % window;
        let handle = std::thread::spawn(move || {
            let mut not_before = 0i64;
            loop {
                let now = now_ms();
                let due_at = me
                    .cached()
                    .map(|s| s.refreshed_at_ms + ms(me.cfg.refresh_every) + jitter)
                    .unwrap_or(now)
                    .max(not_before);
                let wait = Duration::from_millis(u64::try_from(due_at - now).unwrap_or(0));
                match rx.recv_timeout(wait) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    _ => break,
                }
                if let Err(e) = me.discover(false) {
                    tracing::warn!(target: "kkt::gismt", "scheduled CDN refresh failed: {e}; the cached list stays");
                    not_before = now_ms() + ms(me.cfg.unavailable_for);
                }
            }
            me.refresher_running.store(false, Ordering::Relaxed);
        });
        Refresher { stop: Some(tx), handle: Some(handle) }
    }

    /// Checks the token at once (§1.4.3, the 401 note): a `/codes/check` with one code; HTTP 401
    /// is an error, any other answer means the token was accepted.
    pub fn check_token(self: &Arc<Self>) -> Result<(), GisMtError> {
        let probe = MarkingCode::parse("0104600000000008215Probe\u{1d}93AAAA").expect("valid probe code");
        match self.session().check(std::slice::from_ref(&probe)) {
            Online::Failed { field, message } if field == "token" => match self.token() {
                Err(e) => Err(e),
                Ok(_) if message.contains("401") => Err(GisMtError::Auth(self.base.clone())),
                Ok(_) => Err(GisMtError::Info(message)),
            },
            _ => Ok(()),
        }
    }

    /// A check session for one receipt: one keep-alive connection for all its checks.
    pub fn session(self: &Arc<Self>) -> Session {
        Session { gismt: Arc::clone(self), agent: agent(self.cfg.budget, self.tls.as_ref()) }
    }
}

/// The background refresher; dropping it stops the thread.
pub struct Refresher {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Refresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refresher").field("running", &self.handle.is_some()).finish()
    }
}

impl Drop for Refresher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// What the budget keeps back after the last request's timeout for the work that follows it
/// (marking hosts in the cache file, logging, reading the answer), so that the verdict comes
/// within the budget, not just after it. At most a tenth of the budget.
pub const FINISH_MARGIN: Duration = Duration::from_millis(60);

/// Checks for one receipt (one keep-alive HTTPS connection, §1.5.4).
pub struct Session {
    gismt: Arc<GisMt>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

impl Session {
    /// Checks the codes of a receipt (in one request, up to 100 codes).
    ///
    /// The 1.5 s budget runs from this call: the token and host-list lookups and the work after
    /// the last request are inside it (see [`FINISH_MARGIN`]). A receipt of more than 100 codes
    /// has one budget per request of 100.
    pub fn check(&self, codes: &[MarkingCode]) -> Online {
        // The emergency latch (§7): while it holds, nothing is sent.
        let latch = self.gismt.emergency.load();
        let now = now_ms();
        if latch.active(now) {
            return Online::Emergency { note: latch.note(now) };
        }
        // The token first: a signer that must run does not eat the check's budget.
        let token = match self.gismt.token() {
            Ok(t) => t,
            Err(e) => return Online::Failed { field: "token".into(), message: e.to_string() },
        };
        let r = self.check_with(codes, &token);
        // A 401 with a signer configured: one new token, and the check once more (a new budget).
        if matches!(&r, Online::Failed { field, .. } if field == "token") {
            if let Some(renewed) = self.gismt.renew_token() {
                return match renewed {
                    Ok(t) => self.check_with(codes, &t),
                    Err(e) => Online::Failed { field: "token".into(), message: e.to_string() },
                };
            }
        }
        r
    }

    fn check_with(&self, codes: &[MarkingCode], token: &Secret) -> Online {
        let called = Instant::now();
        if codes.len() > MAX_CODES_PER_REQUEST {
            let mut all: Option<CheckAnswer> = None;
            let mut last_host = String::new();
            for (i, chunk) in codes.chunks(MAX_CODES_PER_REQUEST).enumerate() {
                let started = if i == 0 { called } else { Instant::now() };
                match self.check_chunk(chunk, started, token) {
                    Online::Answer { answer, host } => {
                        last_host = host;
                        match &mut all {
                            Some(a) => a.codes.extend(answer.codes),
                            None => all = Some(answer),
                        }
                    }
                    other => return other,
                }
            }
            return Online::Answer { answer: all.unwrap_or_default(), host: last_host };
        }
        self.check_chunk(codes, called, token)
    }

    /// One request of up to 100 codes; its budget runs from `started`.
    fn check_chunk(&self, codes: &[MarkingCode], started: Instant, token: &Secret) -> Online {
        let g = &self.gismt;
        let deadline = started + g.cfg.budget.saturating_sub(FINISH_MARGIN.min(g.cfg.budget / 10));
        let (mut state, emergency) = match g.hosts() {
            Ok(x) => x,
            Err(e @ (GisMtError::Auth(_) | GisMtError::NoToken | GisMtError::Signer(_))) => {
                return Online::Failed { field: "token".into(), message: e.to_string() }
            }
            Err(e) => {
                return Online::NoAnswer {
                    why: NoAnswer::NoHosts,
                    note: format!("no CDN host known ({e}): sale allowed without the online check"),
                }
            }
        };
        if emergency {
            // 203 from /cdn/info or /cdn/health/check: checks are off (§7).
            let now = now_ms();
            return Online::Emergency { note: g.emergency.load().note(now) };
        }
        let mut available = state.available(now_ms());
        if available.is_empty() {
            // Every host is marked: clear the marks and refresh the list (§1.4.3), in the
            // background so that the sale does not wait for discovery.
            tracing::warn!(target: "kkt::gismt", "every CDN host is marked unavailable: clearing the marks, refreshing the list");
            state.clear_marks();
            let _ = g.cache.update(&g.base, CdnState::clear_marks);
            g.refresh_in_background(true);
            available = state.available(now_ms());
        }
        let body = serde_json::json!({
            "codes": codes.iter().map(MarkingCode::as_str).collect::<Vec<_>>(),
            "fiscalDriveNumber": g.fiscal_drive.lock().expect("not poisoned").clone(),
        });
        let mut body = body;
        if body["fiscalDriveNumber"].is_null() {
            body.as_object_mut().expect("object").remove("fiscalDriveNumber");
        }
        let body = body.to_string();
        let mut fo = Failover::new(available, g.cfg.tries_per_host);
        let mut last = Reply { status: 0, body: String::new() };
        let mut step = fo.start();
        let end = loop {
            let host = match step {
                Step::Send(h) => h,
                Step::Done(end) => break end,
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break End::Budget;
            }
            let url = format!("{host}{CHECK_PATH}");
            let attempt = match http(&self.agent, "POST", &url, Some(token), Some(&body), left) {
                Ok(r) => {
                    let a = cdn::classify(r.status, &r.body);
                    if !matches!(a, Attempt::Answer) {
                        tracing::warn!(target: "kkt::gismt", %host, status = r.status, "codes/check: {}",
                            g.scrub(&describe_body(&r.body)));
                    }
                    last = r;
                    a
                }
                Err(HttpFail::Timeout) => Attempt::Timeout,
                Err(HttpFail::Unreachable(e)) => {
                    tracing::warn!(target: "kkt::gismt", %host, "codes/check: host unreachable: {}", g.scrub(&e));
                    Attempt::Unreachable
                }
                Err(HttpFail::Broken(e)) => {
                    tracing::warn!(target: "kkt::gismt", %host, "codes/check: connection broken: {}", g.scrub(&e));
                    Attempt::Broken
                }
            };
            step = fo.next(attempt);
        };
        if !fo.marks.is_empty() {
            let now = now_ms();
            let for_ms = ms(g.cfg.unavailable_for);
            let marks = fo.marks.clone();
            let _ = g.cache.update(&g.base, |s| marks.iter().for_each(|m| s.mark(m, now, for_ms)));
            for m in &marks {
                tracing::warn!(target: "kkt::gismt", host = %m, "CDN host marked unavailable for 15 minutes");
            }
        }
        let elapsed = started.elapsed();
        match end {
            End::Answer(host) => match serde_json::from_str::<CheckAnswer>(&last.body) {
                Ok(answer) => Online::Answer { answer, host },
                Err(e) => Online::Failed {
                    field: "answer".into(),
                    message: format!("the answer of {host} cannot be read: {e}"),
                },
            },
            End::Emergency(host) => {
                tracing::warn!(target: "kkt::gismt", %host, "ГИС МТ answered 203: emergency mode, checks off for 3 days");
                g.note_emergency(&format!("{host}{CHECK_PATH}"));
                Online::Emergency { note: g.emergency.load().note(now_ms()) }
            }
            End::Auth(host) => Online::Failed { field: "token".into(), message: GisMtError::Auth(host).to_string() },
            End::Client(status, host) => Online::Failed {
                field: "http".into(),
                message: format!(
                    "ГИС МТ rejected the request (HTTP {status} from {host}: {}); not retried",
                    g.scrub(&describe_body(&last.body))
                ),
            },
            End::BadAnswer(host) => Online::Failed {
                field: "answer".into(),
                message: format!("unusable answer from {host}: {}", g.scrub(&describe_body(&last.body))),
            },
            End::CrossBorder => Online::NoAnswer {
                why: NoAnswer::CrossBorder,
                note: "the cross-border check service is down (code 5000 twice): sale allowed without the online check"
                    .into(),
            },
            End::AllUnavailable => {
                tracing::warn!(target: "kkt::gismt", "every CDN host failed: refreshing the list, clearing the marks");
                let _ = g.cache.update(&g.base, CdnState::clear_marks);
                g.refresh_in_background(true);
                Online::NoAnswer {
                    why: NoAnswer::AllUnavailable,
                    note: "every ГИС МТ CDN host failed: sale allowed without the online check".into(),
                }
            }
            End::Budget => {
                tracing::warn!(target: "kkt::gismt", codes = codes.len(), elapsed_ms = elapsed.as_millis() as u64,
                    first = %codes.first().map(MarkingCode::print_view).unwrap_or_default(),
                    "no answer from ГИС МТ within the budget: sale allowed without the online check");
                Online::NoAnswer {
                    why: NoAnswer::Budget,
                    note: format!(
                        "no answer from ГИС МТ within {:.1} s: sale allowed without the online check",
                        g.cfg.budget.as_secs_f64()
                    ),
                }
            }
            End::NoHosts => Online::NoAnswer {
                why: NoAnswer::NoHosts,
                note: "no CDN host known: sale allowed without the online check".into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(normalize_url("cdn01.am.crptech.ru").unwrap(), "https://cdn01.am.crptech.ru");
        assert_eq!(normalize_url("https://cdn01.am.crptech.ru/").unwrap(), "https://cdn01.am.crptech.ru");
        assert_eq!(normalize_url("https://cdn01.am.crptech.ru:443").unwrap(), "https://cdn01.am.crptech.ru");
        assert_eq!(normalize_url("https://cdn01.am.crptech.ru:8443").unwrap(), "https://cdn01.am.crptech.ru:8443");
        assert_eq!(normalize_url("http://127.0.0.1:5000").unwrap(), "http://127.0.0.1:5000");
        assert_eq!(normalize_url("http://127.8.0.1:5000").unwrap(), "http://127.8.0.1:5000");
        assert_eq!(normalize_url("http://[::1]:5000").unwrap(), "http://[::1]:5000");
        assert_eq!(normalize_url("http://localhost:5000").unwrap(), "http://localhost:5000");
        assert!(normalize_url("http://cdn01.am.crptech.ru").is_err());
        assert!(normalize_url("http://10.0.0.1").is_err());
        assert!(normalize_url("ftp://x").is_err());
    }

    #[test]
    fn error_texts_do_not_leak_the_token() {
        let cfg = GisMtConfig::new("http://127.0.0.1:9", Some(Secret::new("SECRET-TOKEN-1")), std::env::temp_dir());
        let g = GisMt::new(cfg).unwrap();
        assert_eq!(g.scrub("echo SECRET-TOKEN-1"), "echo ***");
        assert!(!format!("{g:?}").contains("SECRET"));
    }
}
