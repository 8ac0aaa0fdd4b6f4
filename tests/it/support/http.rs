//! The HTTP service under test, a blocking client, the emulator with its frame log, and the
//! OpenAPI document every answer is checked against.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_kkt");

/// The seed 004 marking code (GS = 0x1D).
pub const SEED_CODE: &str =
    "010464007801637221gDDJ2VMOqvdNG\u{1d}91FFD0\u{1d}92dGVzdIjNx7Hb93pmLsV+niIDiJWV8ZFAjQdF9b2BO/o=";

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("kkt-http-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The committed OpenAPI document.
pub fn openapi() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/protocol/openapi.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    })
}

/// A validator for the schema at `pointer` inside the OpenAPI document (its `$ref`s resolve
/// against the whole document).
pub fn validator(pointer: &str) -> jsonschema::Validator {
    let mut root = openapi().clone();
    let o = root.as_object_mut().unwrap();
    o.insert("$ref".into(), Value::String(format!("#{pointer}")));
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .unwrap_or_else(|e| panic!("{pointer}: {e}"))
}

/// JSON pointer escaping (`/` → `~1`), percent-encoded for a URI fragment.
fn esc(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1").replace('{', "%7B").replace('}', "%7D")
}

/// Checks an answer against the document: the path and method exist, the status is one the
/// operation lists, and the body is valid under its schema.
pub fn check_against_openapi(method: &str, template: &str, status: u16, body: &Value) {
    let doc = openapi();
    let op = &doc["paths"][template][method.to_lowercase()];
    assert!(op.is_object(), "{method} {template} is not in openapi.json");
    let resp = &op["responses"][status.to_string()];
    assert!(resp.is_object(), "{method} {template} answered {status}, which openapi.json does not list: {body}");
    let pointer = match resp["$ref"].as_str() {
        Some(r) => format!("{}/content/application~1json/schema", r.trim_start_matches('#')),
        None => format!(
            "/paths/{}/{}/responses/{status}/content/application~1json/schema",
            esc(template),
            method.to_lowercase()
        ),
    };
    let v = validator(&pointer);
    let errors: Vec<String> = v.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(
        errors.is_empty(),
        "{method} {template} {status}: the body does not match openapi.json: {errors:?}\n{body}"
    );
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<String>,
}

/// A blocking client of one service.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub token: Option<String>,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(base: impl Into<String>) -> Client {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(300)).build();
        Client { base: base.into(), token: None, agent }
    }

    pub fn with_token(mut self, t: &str) -> Client {
        self.token = Some(t.to_string());
        self
    }

    /// Sends a request; `template` is the OpenAPI path the answer is checked against (None: not
    /// checked).
    pub fn raw(&self, method: &str, path: &str, body: Option<&str>) -> Answer {
        let mut req = self.agent.request(method, &format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let r = match body {
            Some(b) => req.set("Content-Type", "application/json").send_string(b),
            None => req.call(),
        };
        let resp = match r {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = resp.status();
        let retry_after = resp.header("Retry-After").map(str::to_string);
        let text = resp.into_string().unwrap();
        let body =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path} {status}: not JSON ({e}): {text}"));
        Answer { status, body, retry_after }
    }

    /// Sends and checks the answer against the OpenAPI document.
    pub fn call(&self, method: &str, template: &str, path: &str, body: Option<&str>) -> Answer {
        let a = self.raw(method, path, body);
        check_against_openapi(method, template, a.status, &a.body);
        a
    }

    pub fn get(&self, template: &str, path: &str) -> Answer {
        self.call("GET", template, path, None)
    }

    pub fn post(&self, path: &str, body: &str) -> Answer {
        self.call("POST", path, path, Some(body))
    }
}

/// An answer read off the socket.
pub struct RawAnswer {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl RawAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Sends `request` (the whole request, head and body, as bytes on the wire) on a new
/// connection and reads one answer: what a browser or a hand-written client would send.
pub fn raw_request(base: &str, request: &str) -> RawAnswer {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    // A guard against a hang only: the answer comes at once.
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut r = BufReader::new(s);
    let mut status_line = String::new();
    r.read_line(&mut status_line).unwrap();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no status line: {status_line:?}"))
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        if h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let len: usize = headers.iter().find(|(k, _)| k == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)))
    };
    RawAnswer { status, headers, body }
}

/// [`raw_request`]'s status and JSON body.
pub fn raw_exchange(base: &str, request: &str) -> (u16, Value) {
    let a = raw_request(base, request);
    (a.status, a.body)
}

/// Asserts an error answer: its status and kind, and that the message names `mentions`.
pub fn assert_error(a: &Answer, status: u16, kind: &str, mentions: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.body["error"]["kind"], kind, "{}", a.body);
    let m = a.body["error"]["message"].as_str().unwrap();
    assert!(m.contains(mentions), "{mentions:?} not in {m:?}");
}

/// How a `kkt serve` under test is started: its options and config file.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The bearer token (given as `KKT_SERVE_TOKEN`).
    pub token: Option<String>,
    /// `--queue-size`.
    pub queue_size: Option<usize>,
    /// `--queue-timeout` (default 300 s: the tests wait for the register, not the queue).
    pub queue_timeout: Duration,
    /// `--timeout` (seconds, every command).
    pub timeout: Option<u64>,
    /// The config's `[driver]` table (default: short pauses, as `Options::fast`).
    pub driver: String,
    /// More of the config file after `[driver]` (e.g. a `[marking]` table).
    pub config_extra: String,
    /// More options of `kkt serve`.
    pub extra: Vec<String>,
    /// Start the service with this limit of open descriptors (soft and hard; Unix, through
    /// `sh -c 'ulimit -n N'`), as on a till with the usual 1 024.
    pub fd_limit: Option<u32>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            token: None,
            queue_size: None,
            queue_timeout: Duration::from_secs(300),
            timeout: None,
            driver: "retry_delay_ms = 1\nreconcile_attempts = 3\nreconcile_delay_ms = 1\n".into(),
            config_extra: String::new(),
            extra: Vec::new(),
            fd_limit: None,
        }
    }
}

/// `kkt serve` as a process, on a free loopback port, with its own journal, config and home.
pub struct Service {
    child: Option<Child>,
    pub client: Client,
    /// Its journal, config and home (read by the Unix-only shutdown tests; removed on drop).
    #[cfg_attr(not(unix), allow(dead_code))]
    pub dir: TempDir,
}

impl Service {
    /// A service on a free loopback port for `device`, with `tune` applied to its options.
    pub fn start(device: &str, tune: impl FnOnce(&mut ServeOptions)) -> Service {
        let dir = TempDir::new("svc");
        let mut o = ServeOptions::default();
        tune(&mut o);
        let config = dir.path("config.toml");
        std::fs::write(&config, format!("[driver]\n{}\n{}", o.driver, o.config_extra)).unwrap();
        let mut cmd = match o.fd_limit {
            Some(n) if cfg!(unix) => {
                let mut c = Command::new("sh");
                c.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), BIN]);
                c
            }
            _ => Command::new(BIN),
        };
        cmd.arg("--config").arg(&config).arg("--journal").arg(dir.path("journal.sqlite"));
        cmd.args(["--device", device]);
        if let Some(t) = o.timeout {
            cmd.args(["--timeout", &t.to_string()]);
        }
        cmd.args(["serve", "--listen", "127.0.0.1:0"]);
        cmd.args(["--queue-timeout", &format!("{}.{:03}", o.queue_timeout.as_secs(), o.queue_timeout.subsec_millis())]);
        if let Some(n) = o.queue_size {
            cmd.args(["--queue-size", &n.to_string()]);
        }
        cmd.args(&o.extra);
        for v in [
            "KKT_DEVICE",
            "KKT_CONFIG",
            "KKT_JOURNAL",
            "KKT_SERVE_TOKEN",
            "KKT_SERVE_TOKEN_FILE",
            "KKT_TSPIOT_URL",
            "KKT_LM_URL",
            "KKT_GISMT_TOKEN",
            "KKT_GISMT_TOKEN_FILE",
            "KKT_CACHE_DIR",
            "KKT_STORE",
            "KKT_MARK_CHECK",
            "KKT_MARK_STRICT",
            "KKT_SIGN_COMMAND",
        ] {
            cmd.env_remove(v);
        }
        if let Some(t) = &o.token {
            cmd.env("KKT_SERVE_TOKEN", t);
        }
        // Its own home: nothing of the user's (config, caches, stores) is read or written.
        for v in
            ["HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "APPDATA", "LOCALAPPDATA"]
        {
            cmd.env(v, dir.path("home"));
        }
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line.trim().to_string();
        assert!(base.starts_with("http://127.0.0.1:"), "kkt serve did not start: {line:?}");
        Service { child: Some(child), client: Client::new(base), dir }
    }

    /// On the virtual register in the service's process.
    pub fn emulator() -> Service {
        Service::start("emulator", |_| {})
    }

    /// Asks the service to stop as `kill` would (SIGTERM) and waits until it has: it finishes
    /// the requests in flight first. Unix only: std cannot send Ctrl-Break to another process.
    #[cfg(unix)]
    pub fn shutdown(&mut self) {
        self.signal(nix::sys::signal::Signal::SIGTERM);
    }

    /// Sends `signal` (SIGINT is what Ctrl-C sends) and waits until the service has stopped.
    #[cfg(unix)]
    pub fn signal(&mut self, signal: nix::sys::signal::Signal) {
        let Some(mut child) = self.child.take() else { return };
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, signal);
        let _ = child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A `kkt -vvv emulator` on a free TCP port, its frame log in a file.
pub struct Emulator {
    child: Child,
    pub uri: String,
    pub log: PathBuf,
    _dir: TempDir,
}

impl Emulator {
    pub fn start(extra: &[&str]) -> Emulator {
        Emulator::start_at("127.0.0.1:0", extra)
    }

    /// On `listen` (HOST:PORT; port 0 picks one).
    pub fn start_at(listen: &str, extra: &[&str]) -> Emulator {
        let dir = TempDir::new("emu");
        let log = dir.path("frames.log");
        let mut child = Command::new(BIN)
            .args(["-vvv", "--log-file"])
            .arg(&log)
            .args(["emulator", "--listen", listen])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().to_string();
        assert!(addr.starts_with("127.0.0.1:"), "{line}");
        Emulator { child, uri: format!("tcp://{addr}"), log, _dir: dir }
    }

    /// Kills it (SIGKILL), as a power cut would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The frame log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The command codes of the requests the emulator received, in order.
    pub fn requests(&self) -> Vec<u8> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        request_codes(&text)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The command codes of the `<-` (received) frames of a frame log.
pub fn request_codes(log: &str) -> Vec<u8> {
    log.lines()
        .filter(|l| l.contains("kkt::frames"))
        .filter_map(|l| {
            let rest = &l[l.find("<- ")? + 3..];
            let mut w = rest.split_whitespace();
            let _elapsed = w.next()?;
            let frame = w.next()?;
            if frame == "0x98" {
                return Some(0x98);
            }
            let code = frame.get(8..10)?;
            assert!(frame.starts_with("B629"), "not a frame: {l}");
            u8::from_str_radix(code, 16).ok()
        })
        .collect()
}

/// Reads a fixture receipt, with `id` set when given.
///
/// Each marked item gets a code of its own (a new 6-character serial, the same for the same
/// `id`): the sold-codes store is on, and a real shop never sells one code twice.
pub fn fixture(name: &str, id: Option<&str>) -> String {
    let text = std::fs::read_to_string(format!("{}/fixtures/receipts/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    if let Some(id) = id {
        v["id"] = Value::String(id.into());
    }
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seed = match id {
        Some(id) => id.bytes().fold(1469598103934665603u64, |h, b| (h ^ u64::from(b)).wrapping_mul(1099511628211)),
        None => N.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + u64::from(std::process::id()) * 1_000_003,
    };
    for (k, it) in v["items"].as_array_mut().into_iter().flatten().enumerate() {
        if let Some(code) = it["marking_code"].as_str().map(str::to_string) {
            it["marking_code"] = Value::String(unique_serial(&code, seed.wrapping_add(k as u64)));
        }
    }
    v.to_string()
}

/// `code` (01 GTIN 21 serial of 6 GS 93 tail) with its serial replaced by one from `seed`.
pub fn unique_serial(code: &str, seed: u64) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut x = seed;
    let serial: String = (0..6)
        .map(|_| {
            let c = A[(x % A.len() as u64) as usize] as char;
            x /= A.len() as u64;
            c
        })
        .collect();
    format!("{}{serial}{}", &code[..18], &code[24..])
}
