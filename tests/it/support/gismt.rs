//! Test doubles on loopback: a mock ГИС МТ (a discovery host and several CDN hosts on their own
//! ports, with per-host latency and failure knobs and the 15 scenarios of seed 003 Appendix 2),
//! and a mock Local Module of API v1 (the v2 one is in [`super::tspiot`]). Real HTTP (tiny_http),
//! one thread per request.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};

pub const TOKEN: &str = "test-token-5e1f0c";

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

static REQ: AtomicU64 = AtomicU64::new(1);

pub fn uuid() -> String {
    let n = REQ.fetch_add(1, Ordering::Relaxed);
    format!("{n:08x}-6510-4d37-be04-{:012x}", now_ms() as u64 & 0xffff_ffff_ffff)
}

/// A running tiny_http server; stops when dropped.
pub struct Server {
    pub url: String,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

pub struct Req {
    pub method: String,
    pub path: String,
    pub query: String,
    pub body: String,
    pub headers: Vec<(String, String)>,
    pub peer: Option<SocketAddr>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, v: Value) -> Reply {
        Reply { status, body: v.to_string(), delay: Duration::ZERO }
    }
    pub fn after(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

pub fn serve(handler: impl Fn(Req) -> Reply + Send + Sync + 'static) -> Server {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = Arc::clone(&stop);
    let handler = Arc::new(handler);
    let handle = std::thread::spawn(move || {
        while !stop2.load(Ordering::Relaxed) {
            let Ok(Some(mut rq)) = server.recv_timeout(Duration::from_millis(50)) else { continue };
            let handler = Arc::clone(&handler);
            std::thread::spawn(move || {
                let mut body = String::new();
                let _ = std::io::Read::read_to_string(rq.as_reader(), &mut body);
                let (path, query) = match rq.url().split_once('?') {
                    Some((p, q)) => (p.to_string(), q.to_string()),
                    None => (rq.url().to_string(), String::new()),
                };
                let req = Req {
                    method: rq.method().to_string(),
                    path,
                    query,
                    body,
                    headers: rq.headers().iter().map(|h| (h.field.to_string(), h.value.to_string())).collect(),
                    peer: rq.remote_addr().copied(),
                };
                let reply = handler(req);
                if !reply.delay.is_zero() {
                    std::thread::sleep(reply.delay);
                }
                let resp = tiny_http::Response::from_string(reply.body)
                    .with_status_code(reply.status)
                    .with_header("Content-Type: application/json".parse::<tiny_http::Header>().unwrap());
                let _ = rq.respond(resp);
            });
        }
    });
    Server { url: format!("http://127.0.0.1:{port}"), stop, handle: Some(handle) }
}

/// What ГИС МТ says about one code.
#[derive(Clone)]
pub enum Behaviour {
    /// An entry: the normal fields overridden by these.
    Entry(Value),
    /// An HTTP status and body for the whole request.
    Http(u16, Value),
    /// A normal entry after a delay.
    Slow(Duration),
}

/// The 15 scenarios of seed 003 Appendix 2, as (number, code, behaviour).
pub fn appendix2() -> Vec<(u32, &'static str, Behaviour)> {
    use Behaviour::*;
    vec![
        (1, "0104670540176099215'W9Um\u{1d}93dGVz", Entry(json!({"utilised": false, "realizable": false}))),
        (
            2,
            "0104670540176099215LnOjv\u{1d}93dGVz",
            Entry(json!({"realizable": false, "utilised": true, "sold": false})),
        ),
        (
            3,
            "010462930887704421DzkcYt2\u{1d}8005177000\u{1d}93dGVz",
            Entry(
                json!({"realizable": false, "utilised": true, "sold": false, "grayZone": true, "groupIds": [3], "mrp": 177000}),
            ),
        ),
        (4, "0104670540176099215NN*cM\u{1d}93dGVz", Entry(json!({"sold": true, "realizable": false}))),
        (5, "0104602220006549215opFcmK\u{1d}93dGVz", Entry(json!({"isBlocked": true, "ogvs": ["RPN"]}))),
        (6, "0104670540176099215<pGKy\u{1d}93dGVz", Entry(json!({"expireDate": "2022-12-22T12:16:00.000Z"}))),
        (7, "010461013628057121/798DM%\u{1d}8005106000\u{1d}93dGVz", Entry(json!({"groupIds": [3], "mrp": 106000}))),
        (8, "04601653035829H;dV)bFACVUdGVz", Entry(json!({"groupIds": [3], "mpr": 14500}))),
        (
            9,
            "04601653035829H;vE)bFACVUdGVz",
            Entry(
                json!({"found": false, "valid": true, "verified": false, "utilised": false, "realizable": false, "errorCode": 10}),
            ),
        ),
        (10, "0104670540176099215<pGKy\u{1d}93DGVz", Entry(json!({"verified": false, "errorCode": 6}))),
        (11, "0104670540176099215!pGKy\u{1d}93dGVz", Http(504, json!({"code": 504, "description": "Gateway Timeout"}))),
        (12, "0104670540176099215LpGKy\u{1d}93dGVz", Http(203, json!({"code": 203, "description": "emergency"}))),
        (13, "0104670540176099215PpGKy\u{1d}93dGVz", Http(500, json!({"code": 500, "description": "Internal error"}))),
        (14, "0104670540176099215MpGKy\u{1d}93dGVz", Slow(Duration::from_secs(2))),
        (
            15,
            "0104813445003293215TmiV,g\u{1d}93dGVz",
            Http(500, json!({"code": 5000, "description": "Transgran BY internal error", "codes": []})),
        ),
    ]
}

fn print_view(code: &str) -> String {
    if code.contains('\u{1d}') {
        code.split('\u{1d}').next().unwrap().to_string()
    } else if code.len() == 29 {
        code[..21].to_string()
    } else {
        code.to_string()
    }
}

pub fn entry(code: &str, overrides: &Value) -> Value {
    let mut v = json!({
        "cis": code.replace('\u{1d}', ""),
        "valid": true,
        "printView": print_view(code),
        "gtin": if code.starts_with("01") { &code[2..16] } else { &code[..14] },
        "groupIds": [8],
        "verified": true,
        "found": true,
        "realizable": true,
        "utilised": true,
        "isBlocked": false,
        "errorCode": 0,
        "isTracking": true,
        "sold": false,
        "packageType": "UNIT",
        "producerInn": "7731376812"
    });
    for (k, x) in overrides.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

/// Knobs and counters of one CDN host.
#[derive(Default)]
pub struct HostState {
    /// Health check delay (ms) and the `avgTimeMs` it reports.
    pub health_delay_ms: AtomicU64,
    pub avg_time_ms: AtomicU64,
    /// Health check status (0 = 200).
    pub health_status: AtomicU16,
    /// A forced answer to `/codes/check` (status, body) for the next `forced_times` requests.
    pub forced: Mutex<Option<(u16, Value)>>,
    pub forced_times: AtomicU32,
    /// Extra delay of `/codes/check`.
    pub check_delay_ms: AtomicU64,
    /// Counters.
    pub checks: AtomicU32,
    pub health_checks: AtomicU32,
    pub peers: Mutex<Vec<SocketAddr>>,
    pub bodies: Mutex<Vec<Value>>,
}

impl HostState {
    pub fn force(&self, status: u16, body: Value, times: u32) {
        *self.forced.lock().unwrap() = Some((status, body));
        self.forced_times.store(times, Ordering::Relaxed);
    }
    pub fn checks(&self) -> u32 {
        self.checks.load(Ordering::Relaxed)
    }
    pub fn distinct_peers(&self) -> usize {
        self.peers.lock().unwrap().iter().collect::<HashSet<_>>().len()
    }
}

/// The shared "back end" behind every CDN host (and the discovery host).
pub struct Backend {
    pub codes: Mutex<HashMap<String, Behaviour>>,
    /// The tokens accepted as X-API-KEY (TOKEN, and those the auth endpoint issued).
    pub tokens: Mutex<HashSet<String>>,
    /// The X-API-KEY of every /codes/check, in order.
    pub keys: Mutex<Vec<String>>,
}

impl Default for Backend {
    fn default() -> Self {
        Backend {
            codes: Mutex::default(),
            tokens: Mutex::new([TOKEN.to_string()].into_iter().collect()),
            keys: Mutex::default(),
        }
    }
}

impl Backend {
    fn authorized(&self, r: &Req) -> bool {
        r.header("X-API-KEY").is_some_and(|k| self.tokens.lock().unwrap().contains(k))
    }
}

pub struct CdnHost {
    pub state: Arc<HostState>,
    pub server: Server,
}

impl CdnHost {
    pub fn url(&self) -> &str {
        &self.server.url
    }
}

pub fn cdn_host(backend: Arc<Backend>) -> CdnHost {
    let state = Arc::new(HostState::default());
    let st = Arc::clone(&state);
    let server = serve(move |r| {
        if !backend.authorized(&r) {
            return Reply::json(401, json!({"code": 401, "description": "unauthorized"}));
        }
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/api/v4/true-api/cdn/health/check") => {
                st.health_checks.fetch_add(1, Ordering::Relaxed);
                let status = match st.health_status.load(Ordering::Relaxed) {
                    0 => 200,
                    s => s,
                };
                Reply::json(
                    status,
                    json!({"code": 0, "description": "ok", "avgTimeMs": st.avg_time_ms.load(Ordering::Relaxed)}),
                )
                .after(Duration::from_millis(st.health_delay_ms.load(Ordering::Relaxed)))
            }
            ("POST", "/api/v4/true-api/codes/check") => {
                st.checks.fetch_add(1, Ordering::Relaxed);
                if let Some(p) = r.peer {
                    st.peers.lock().unwrap().push(p);
                }
                let delay = Duration::from_millis(st.check_delay_ms.load(Ordering::Relaxed));
                let Ok(body) = serde_json::from_str::<Value>(&r.body) else {
                    return Reply::json(400, json!({"code": 400, "description": "bad json"}));
                };
                st.bodies.lock().unwrap().push(body.clone());
                backend.keys.lock().unwrap().push(r.header("X-API-KEY").unwrap_or_default().to_string());
                if st.forced_times.load(Ordering::Relaxed) > 0 {
                    st.forced_times.fetch_sub(1, Ordering::Relaxed);
                    if let Some((s, b)) = st.forced.lock().unwrap().clone() {
                        return Reply::json(s, b).after(delay);
                    }
                }
                let Some(codes) = body.get("codes").and_then(Value::as_array) else {
                    return Reply::json(400, json!({"code": 400, "description": "codes missing"}));
                };
                let table = backend.codes.lock().unwrap();
                let mut out = Vec::new();
                let mut slow = Duration::ZERO;
                for c in codes {
                    let c = c.as_str().unwrap_or_default();
                    match table.get(c) {
                        Some(Behaviour::Http(s, b)) => return Reply::json(*s, b.clone()).after(delay),
                        Some(Behaviour::Slow(d)) => {
                            slow = slow.max(*d);
                            out.push(entry(c, &json!({})));
                        }
                        Some(Behaviour::Entry(o)) => out.push(entry(c, o)),
                        None => out.push(entry(c, &json!({}))),
                    }
                }
                Reply::json(
                    200,
                    json!({"code": 0, "description": "ok", "codes": out, "reqId": uuid(), "reqTimestamp": now_ms()}),
                )
                .after(delay + slow)
            }
            _ => Reply::json(404, json!({"code": 404, "description": "no such method"})),
        }
    });
    CdnHost { state, server }
}

/// The discovery host (`/cdn/info`).
pub struct Discovery {
    pub server: Server,
    pub hosts: Arc<Mutex<Vec<String>>>,
    /// 0 = 200, else this status.
    pub status: Arc<AtomicU16>,
    pub calls: Arc<AtomicU32>,
}

/// The discovery host of a back end (its tokens).
pub fn discovery_with(hosts: Vec<String>, backend: Arc<Backend>) -> Discovery {
    let list = Arc::new(Mutex::new(hosts));
    let status = Arc::new(AtomicU16::new(0));
    let calls = Arc::new(AtomicU32::new(0));
    let (l, s, c) = (Arc::clone(&list), Arc::clone(&status), Arc::clone(&calls));
    let server = serve(move |r| {
        if !backend.authorized(&r) {
            return Reply::json(401, json!({"code": 401, "description": "unauthorized"}));
        }
        if r.path != "/api/v4/true-api/cdn/info" {
            return Reply::json(404, json!({"code": 404}));
        }
        c.fetch_add(1, Ordering::Relaxed);
        match s.load(Ordering::Relaxed) {
            0 => {
                let hosts: Vec<Value> = l.lock().unwrap().iter().map(|h| json!({"host": h})).collect();
                Reply::json(200, json!({"code": 0, "description": "ok", "hosts": hosts}))
            }
            st => Reply::json(st, json!({"code": st, "description": "discovery failure"})),
        }
    });
    Discovery { server, hosts: list, status, calls }
}

/// A whole mock ГИС МТ: discovery + `n` CDN hosts + the Appendix 2 back end.
pub struct MockGisMt {
    pub discovery: Discovery,
    pub hosts: Vec<CdnHost>,
    pub backend: Arc<Backend>,
}

impl MockGisMt {
    pub fn start(n: usize) -> MockGisMt {
        let backend = Arc::new(Backend::default());
        {
            let mut t = backend.codes.lock().unwrap();
            for (_, code, b) in appendix2() {
                t.insert(code.to_string(), b);
            }
        }
        let hosts: Vec<CdnHost> = (0..n).map(|_| cdn_host(Arc::clone(&backend))).collect();
        let discovery = discovery_with(hosts.iter().map(|h| h.url().to_string()).collect(), Arc::clone(&backend));
        MockGisMt { discovery, hosts, backend }
    }

    /// Refuses `token` from now on (a revoked or expired token: 401).
    pub fn revoke(&self, token: &str) {
        self.backend.tokens.lock().unwrap().remove(token);
    }

    /// The X-API-KEY of every /codes/check so far.
    pub fn keys(&self) -> Vec<String> {
        self.backend.keys.lock().unwrap().clone()
    }

    pub fn url(&self) -> &str {
        &self.discovery.server.url
    }

    pub fn total_checks(&self) -> u32 {
        self.hosts.iter().map(|h| h.state.checks()).sum()
    }
}

/// A mock Local Module.
pub struct MockLm {
    pub server: Server,
    pub status: Arc<Mutex<String>>,
    /// When false, `outCheck` answers 404 (an older module).
    pub out_check: Arc<AtomicBool>,
    /// Entry overrides per code (with GS).
    pub codes: Arc<Mutex<HashMap<String, Value>>>,
    pub calls: Arc<Mutex<Vec<String>>>,
}

pub const LM_USER: &str = "admin";
pub const LM_PASSWORD: &str = "lm-pass";
pub const LM_INST: &str = "ebf70f9d-44da-49ad-a272-17047acc4e18";
pub const LM_VERSION: &str = "1.5.1-330";

fn lm_entry(code: &str, o: Option<&Value>) -> Value {
    let mut v = json!({"cis": code, "printView": print_view(code), "gtin": "04670540176099", "isBlocked": false});
    if let Some(o) = o {
        for (k, x) in o.as_object().unwrap() {
            v[k] = x.clone();
        }
    }
    v
}

/// The overrides for a KI (the module is asked with the code without its crypto tail; the table
/// is keyed by the whole code).
fn lookup_ki<'a>(table: &'a HashMap<String, Value>, ki: &str) -> Option<&'a Value> {
    table.get(ki).or_else(|| table.iter().find(|(k, _)| print_view(k) == ki).map(|(_, v)| v))
}

pub fn mock_lm() -> MockLm {
    let status = Arc::new(Mutex::new("ready".to_string()));
    let out_check = Arc::new(AtomicBool::new(true));
    let codes: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
    let calls: Arc<Mutex<Vec<String>>> = Arc::default();
    let (s, o, c, k) = (Arc::clone(&status), Arc::clone(&out_check), Arc::clone(&codes), Arc::clone(&calls));
    let server = serve(move |r| {
        use base64::Engine;
        let want =
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{LM_USER}:{LM_PASSWORD}")));
        if r.header("Authorization") != Some(want.as_str()) {
            return Reply::json(401, json!({"error": "unauthorized"}));
        }
        k.lock().unwrap().push(format!("{} {}", r.method, r.path));
        let answer = |codes: Vec<Value>| {
            Reply::json(
                200,
                json!({"reqId": uuid(), "reqTimestamp": now_ms(), "inst": LM_INST, "description": "ok", "codes": codes, "code": 0}),
            )
        };
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/api/v1/status") => Reply::json(
                200,
                json!({"version": LM_VERSION, "status": s.lock().unwrap().clone(), "inst": LM_INST, "lastSync": now_ms(),
                       "operationMode": "active", "requiresDownload": false}),
            ),
            ("POST", "/api/v1/cis/outCheck") if o.load(Ordering::Relaxed) => {
                let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
                let table = c.lock().unwrap();
                let list: Vec<Value> = body["cis_list"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|x| {
                        let code = x.as_str().unwrap_or_default();
                        lm_entry(code, lookup_ki(&table, code))
                    })
                    .collect();
                answer(list)
            }
            ("GET", "/api/v1/cis/check") => {
                let code = r
                    .query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("cis="))
                    .map(|v| url::form_urlencoded::parse(format!("x={v}").as_bytes()).next().unwrap().1.into_owned())
                    .unwrap_or_default();
                let table = c.lock().unwrap();
                answer(vec![lm_entry(&code, lookup_ki(&table, &code))])
            }
            _ => Reply::json(404, json!({"error": "not found"})),
        }
    });
    MockLm { server, status, out_check, codes, calls }
}

/// A fresh temporary directory.
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "kkt-{tag}-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        now_ms()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// What the fake signer writes before the data it signs (it "signs" by prefixing it and
/// Base64-encoding the lot): the mock auth endpoint checks for it.
pub const SIGNED_PREFIX: &str = "SIGNED-BY-TEST-UKEP:";

/// A fake signer: a shell script that reads the data on stdin and prints the Base64 of
/// SIGNED_PREFIX + the data (optionally tagged with `who`), as CryptoPro's csptest would print
/// an attached CMS in Base64. Counts its runs in `runs` (one line per run).
pub fn fake_signer(dir: &std::path::Path, who: &str) -> (String, std::path::PathBuf) {
    let script = dir.join(format!("sign-{who}.sh"));
    let runs = dir.join(format!("sign-{who}.runs"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho run >> '{}'\n{{ printf '%s' '{SIGNED_PREFIX}{who}:'; cat; }} | base64\n",
            runs.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (format!("sh {}", script.display()), runs)
}

/// How many times a fake signer ran.
pub fn signer_runs(runs: &std::path::Path) -> usize {
    std::fs::read_to_string(runs).map(|s| s.lines().count()).unwrap_or(0)
}

/// A mock of ГИС МТ's /api/v3/true-api/auth/permissive-access (seed 003 §1.1): checks the
/// request (POST, JSON, `data` Base64 of what the fake signer signed: 64 random hex digits,
/// never the same twice) and issues a new token each time, accepted by `backend` from then on.
pub struct MockAuth {
    pub server: Server,
    /// (who signed, the data signed), per request.
    pub signed: Arc<Mutex<Vec<(String, String)>>>,
    /// The tokens issued.
    pub issued: Arc<Mutex<Vec<String>>>,
    /// expires_in of the next tokens, seconds.
    pub expires_in: Arc<AtomicU64>,
    /// Requests the mock refused, and why.
    pub refused: Arc<Mutex<Vec<String>>>,
    /// When false, the tokens issued are not accepted by the back end (a contour mismatch).
    pub accept_issued: Arc<AtomicBool>,
}

pub fn mock_auth(backend: Arc<Backend>) -> MockAuth {
    use base64::Engine;
    let signed: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let issued: Arc<Mutex<Vec<String>>> = Arc::default();
    let refused: Arc<Mutex<Vec<String>>> = Arc::default();
    let expires_in = Arc::new(AtomicU64::new(36_000));
    let accept_issued = Arc::new(AtomicBool::new(true));
    let (sg, is, rf, ex) = (Arc::clone(&signed), Arc::clone(&issued), Arc::clone(&refused), Arc::clone(&expires_in));
    let ai = Arc::clone(&accept_issued);
    let server = serve(move |r| {
        let refuse = |why: String| {
            rf.lock().unwrap().push(why.clone());
            Reply::json(400, json!({"error_message": why}))
        };
        if (r.method.as_str(), r.path.as_str()) != ("POST", "/api/v3/true-api/auth/permissive-access") {
            return Reply::json(404, json!({"error_message": "no such method"}));
        }
        if !r.header("Content-Type").is_some_and(|c| c.starts_with("application/json")) {
            return refuse("Content-Type is not application/json".into());
        }
        let Ok(body) = serde_json::from_str::<Value>(&r.body) else { return refuse("not JSON".into()) };
        let Some(data) = body["data"].as_str() else { return refuse("no data".into()) };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data) else {
            return refuse("data is not Base64".into());
        };
        let text = String::from_utf8_lossy(&bytes).to_string();
        let Some(rest) = text.strip_prefix(SIGNED_PREFIX) else {
            return Reply::json(403, json!({"error_message": "the signature is not valid"}));
        };
        let (who, signed_data) = rest.split_once(':').unwrap_or(("", rest));
        if signed_data.len() != 64 || !signed_data.bytes().all(|b| b.is_ascii_hexdigit()) {
            return refuse(format!("the signed data is not 32 random bytes in hex: {signed_data:?}"));
        }
        if sg.lock().unwrap().iter().any(|(_, d)| d == signed_data) {
            return refuse("the same data signed twice".into());
        }
        sg.lock().unwrap().push((who.to_string(), signed_data.to_string()));
        let token = format!("tok-{who}-{}", is.lock().unwrap().len() + 1);
        is.lock().unwrap().push(token.clone());
        if ai.load(Ordering::Relaxed) {
            backend.tokens.lock().unwrap().insert(token.clone());
        }
        Reply::json(
            200,
            json!({"access_token": token, "id_token": "id", "expires_in": ex.load(Ordering::Relaxed), "token_type": "Bearer"}),
        )
    });
    MockAuth { server, signed, issued, expires_in, refused, accept_issued }
}
