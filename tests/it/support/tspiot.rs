//! Test doubles on loopback, written from the public descriptions (issue 13, seeds 000/001), not
//! from kkt's code: a mock ТС ПИОТ speaking HTTPS with a self-signed certificate (fixtures/tls/
//! tspiot.pem), API v1/v2/v3 shapes, `/info` by GET or by POST only, outcomes scripted per code;
//! and a mock Local Module ЛМ ЧЗ v2 (and v1 only) with Basic and Token auth, every status,
//! per-KI results, a malformed KI, and the 4045/4050 errors.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{json, Value};

use super::gismt::{entry, serve, uuid, Reply, Server};

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/tls").join(name)
}

pub const FN_SERIAL: &str = "7380440700089917";
pub const TS_LM_INST: &str = "4679b3db-da6a-44e0-a2e6-a684437bafb0";
pub const TS_LM_VERSION: &str = "6e7f1224-0e08-41ed-844c-d386675f4e50";

/// What the ТС ПИОТ answers for a code.
#[derive(Clone, Debug)]
pub enum Ts {
    /// A ГИС МТ entry with these fields overridden.
    Entry(Value),
    /// Checked offline by the Local Module through the ТС ПИОТ: every flag false except these
    /// overrides, `reqTimestamp` a string, `inst`/`version` on the item.
    Offline(Value),
    /// The whole request answered with this status and body.
    Http(u16, Value),
    /// The item's `code` is not 0.
    Item(i64, &'static str),
    /// A normal entry after this delay.
    Slow(Duration),
    /// The connection is closed without an answer.
    Reset,
}

/// One request the mock saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The mock's knobs.
pub struct TsState {
    /// The API versions it speaks.
    pub versions: Mutex<Vec<u8>>,
    /// `/info` answers only POST (GET is 405).
    pub info_post_only: AtomicBool,
    /// `/info` answers this status (0: normally).
    pub info_status: AtomicU16,
    /// `/info` is this slow (ms).
    pub info_delay_ms: AtomicU64,
    /// The `/info` body.
    pub info: Mutex<Value>,
    /// Per code (with GS as U+001D).
    pub codes: Mutex<HashMap<String, Ts>>,
    /// For every check request, whatever the codes.
    pub forced: Mutex<Option<Ts>>,
    /// Every request.
    pub seen: Mutex<Vec<Seen>>,
    /// Answer garbage instead of TLS.
    pub no_tls: AtomicBool,
}

impl TsState {
    pub fn checks(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().iter().filter(|s| s.path.ends_with("/codes/check")).cloned().collect()
    }
    pub fn paths(&self) -> Vec<String> {
        self.seen.lock().unwrap().iter().map(|s| format!("{} {}", s.method, s.path)).collect()
    }
    pub fn set(&self, code: &str, b: Ts) {
        self.codes.lock().unwrap().insert(code.to_string(), b);
    }
    pub fn force(&self, b: Option<Ts>) {
        *self.forced.lock().unwrap() = b;
    }
}

pub struct MockTsPiot {
    pub url: String,
    pub state: Arc<TsState>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl Drop for MockTsPiot {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

pub fn default_info(check_timeout: Value, lm_port: Option<u16>) -> Value {
    json!({
        "tspiotId": "esm-test-0001",
        "kktSerial": "0000000001",
        "fnSerial": FN_SERIAL,
        "kktInn": "7700000000",
        "codesCheckTimeout": check_timeout,
        "lm": {
            "version": "2.0.1-100", "status": "ready", "lastSync": now_ms().to_string(),
            "token": "", "expDate": null,
            "ip": lm_port.map(|_| "127.0.0.1"), "port": lm_port,
            "login": null, "pass": null
        }
    })
}

fn tls_config() -> Arc<rustls::ServerConfig> {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(fixture("tspiot.pem")).unwrap().collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("tspiot.key")).unwrap();
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    Arc::new(cfg)
}

fn respond(w: &mut impl Write, status: u16, body: &str) {
    let resp = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = w.write_all(resp.as_bytes());
    let _ = w.flush();
}

fn decode_codes(body: &Value) -> Option<Vec<Result<String, String>>> {
    let list = body.get("codes")?.as_array()?;
    Some(
        list.iter()
            .map(|c| {
                let b = c.as_str().or_else(|| c.get("cis").and_then(Value::as_str)).ok_or("not a string")?;
                let raw = base64::engine::general_purpose::STANDARD.decode(b).map_err(|e| e.to_string())?;
                String::from_utf8(raw).map_err(|e| e.to_string())
            })
            .collect(),
    )
}

fn offline_entry(code: &str, o: &Value) -> Value {
    let mut v = json!({
        "cis": code.split('\u{1d}').next().unwrap(),
        "found": false, "valid": false, "verified": false, "realizable": false, "utilised": false,
        "isBlocked": false, "groupIds": [], "ogvs": []
    });
    for (k, x) in o.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

/// Answers one request: (status, body, delay), or None to drop the connection.
fn handle(st: &TsState, method: &str, path: &str, body: &str) -> Option<(u16, String, Duration)> {
    let versions = st.versions.lock().unwrap().clone();
    let version = path
        .strip_prefix("/api/v")
        .and_then(|r| r.split('/').next())
        .and_then(|v| v.parse::<u8>().ok())
        .filter(|v| versions.contains(v));
    let Some(version) = version else {
        return Some((404, json!({"code": 404, "description": "no such API"}).to_string(), Duration::ZERO));
    };
    if path.ends_with("/info") {
        let delay = Duration::from_millis(st.info_delay_ms.load(Ordering::Relaxed));
        if method == "GET" && st.info_post_only.load(Ordering::Relaxed) {
            return Some((405, json!({"description": "method not allowed"}).to_string(), delay));
        }
        return match st.info_status.load(Ordering::Relaxed) {
            0 => Some((200, st.info.lock().unwrap().to_string(), delay)),
            s => Some((s, json!({"code": s, "description": "info failure"}).to_string(), delay)),
        };
    }
    if !(path.ends_with("/codes/check") && method == "POST") {
        return Some((404, json!({"code": 404}).to_string(), Duration::ZERO));
    }
    let bad = |d: &str| Some((400, json!({"code": 400, "description": d}).to_string(), Duration::ZERO));
    let Ok(req) = serde_json::from_str::<Value>(body) else { return bad("the body is not JSON") };
    if req.pointer("/client_info/name").and_then(Value::as_str).is_none() {
        return bad("client_info.name missing");
    }
    // v3 takes objects, v1 and v2 strings.
    let shape_ok = req["codes"]
        .as_array()
        .is_some_and(|a| a.iter().all(|c| if version >= 3 { c.is_object() } else { c.is_string() }));
    if !shape_ok {
        return bad("codes: wrong shape for this version");
    }
    let Some(codes) = decode_codes(&req) else { return bad("codes missing") };
    let mut decoded = Vec::new();
    for c in codes {
        match c {
            Ok(s) if s.contains("\\u001d") || s.contains("<GS>") => {
                return bad("escaped GS in a code: send the byte 0x1D")
            }
            Ok(s) => decoded.push(s),
            Err(e) => return bad(&format!("codes: not Base64 of a code: {e}")),
        }
    }
    let table = st.codes.lock().unwrap();
    let forced = st.forced.lock().unwrap().clone();
    let mut entries = Vec::new();
    let mut delay = Duration::ZERO;
    let mut offline: Option<Value> = None;
    for c in &decoded {
        let b = forced.clone().or_else(|| table.get(c).cloned()).unwrap_or(Ts::Entry(json!({})));
        match b {
            Ts::Http(s, body) => return Some((s, body.to_string(), delay)),
            Ts::Reset => return None,
            Ts::Item(code, d) => {
                let item =
                    json!({"code": code, "description": d, "codes": [], "reqId": uuid(), "reqTimestamp": now_ms()});
                return Some((200, wrap(version, item).to_string(), delay));
            }
            Ts::Slow(d) => {
                delay = delay.max(d);
                entries.push(entry(c, &json!({})));
            }
            Ts::Entry(o) => entries.push(entry(c, &o)),
            Ts::Offline(o) => {
                offline = Some(json!({}));
                entries.push(offline_entry(c, &o));
            }
        }
    }
    let mut item = json!({"code": 0, "description": "ok", "codes": entries, "reqId": uuid(), "reqTimestamp": now_ms(),
                          "isCheckedOffline": false});
    if offline.is_some() {
        item["isCheckedOffline"] = true.into();
        item["reqTimestamp"] = now_ms().to_string().into();
        item["inst"] = TS_LM_INST.into();
        item["version"] = TS_LM_VERSION.into();
    }
    Some((200, wrap(version, item).to_string(), delay))
}

fn wrap(version: u8, item: Value) -> Value {
    if version == 1 {
        json!({"codesResponse": {"codesResponse": [item]}})
    } else {
        json!({"codesResponse": [item]})
    }
}

impl MockTsPiot {
    /// A ТС ПИОТ speaking `versions`, its `/info` naming a Local Module on `lm_port`.
    pub fn start(versions: &[u8], lm_port: Option<u16>) -> MockTsPiot {
        let state = Arc::new(TsState {
            versions: Mutex::new(versions.to_vec()),
            info_post_only: AtomicBool::new(false),
            info_status: AtomicU16::new(0),
            info_delay_ms: AtomicU64::new(0),
            info: Mutex::new(default_info(json!("1800"), lm_port)),
            codes: Mutex::new(HashMap::new()),
            forced: Mutex::new(None),
            seen: Mutex::new(Vec::new()),
            no_tls: AtomicBool::new(false),
        });
        let cfg = tls_config();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let (st, stop2) = (Arc::clone(&state), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let (cfg, st) = (Arc::clone(&cfg), Arc::clone(&st));
                std::thread::spawn(move || {
                    if st.no_tls.load(Ordering::Relaxed) {
                        let mut b = [0u8; 512];
                        let _ = stream.read(&mut b);
                        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
                        return;
                    }
                    let conn = rustls::ServerConnection::new(cfg).unwrap();
                    let mut tls = rustls::StreamOwned::new(conn, stream);
                    let mut reader = BufReader::new(&mut tls);
                    let mut first = String::new();
                    if reader.read_line(&mut first).is_err() || first.is_empty() {
                        return;
                    }
                    let mut len = 0usize;
                    let mut headers = Vec::new();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.trim_end().split_once(':') {
                            if k.eq_ignore_ascii_case("content-length") {
                                len = v.trim().parse().unwrap_or(0);
                            }
                            headers.push((k.trim().to_string(), v.trim().to_string()));
                        }
                    }
                    let mut body = vec![0; len];
                    let _ = reader.read_exact(&mut body);
                    let mut parts = first.split_whitespace();
                    let method = parts.next().unwrap_or_default().to_string();
                    let path = parts.next().unwrap_or_default().to_string();
                    let body = String::from_utf8_lossy(&body).into_owned();
                    st.seen.lock().unwrap().push(Seen {
                        method: method.clone(),
                        path: path.clone(),
                        body: body.clone(),
                        headers,
                    });
                    match handle(&st, &method, &path, &body) {
                        Some((status, answer, delay)) => {
                            std::thread::sleep(delay);
                            respond(&mut tls, status, &answer);
                            tls.conn.send_close_notify();
                            let _ = tls.flush();
                        }
                        None => drop(tls),
                    }
                });
            }
        });
        MockTsPiot { url: format!("https://127.0.0.1:{port}"), state, stop, port }
    }

    pub fn set_info(&self, v: Value) {
        *self.state.info.lock().unwrap() = v;
    }
}

// ---------------------------------------------------------------------------------------------
// The Local Module.

pub const LM2_USER: &str = "lm-admin";
pub const LM2_PASSWORD: &str = "lm2-secret-pass";
pub const LM2_TOKEN: &str = "3f1a7c2e-0000-4444-8888-000000000001";
pub const LM2_INST: &str = "7a1b9bec-d7a1-4d06-bc6d-be484ece9202";
pub const LM2_VERSION: &str = "2.1.0-412";
pub const INIT_TOKEN: &str = "org-token-5b0ff425-697d";

/// The credentials the module takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LmAuth {
    Basic,
    Token,
    BasicOrToken,
}

pub struct MockLm2 {
    pub server: Server,
    pub state: Arc<Lm2State>,
}

pub struct Lm2State {
    /// 2: v2 and v1 endpoints; 1: v1 only.
    pub api: AtomicU8,
    pub status: Mutex<String>,
    pub auth: Mutex<LmAuth>,
    /// Overrides per KI.
    pub codes: Mutex<HashMap<String, Value>>,
    /// A forced answer to outCheck.
    pub error: Mutex<Option<(u16, Value)>>,
    pub delay_ms: AtomicU64,
    pub seen: Mutex<Vec<Seen>>,
}

impl Lm2State {
    pub fn checks(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().iter().filter(|s| s.path.contains("outCheck")).cloned().collect()
    }
    pub fn set_status(&self, s: &str) {
        *self.status.lock().unwrap() = s.to_string();
    }
}

/// A malformed KI: not `01`+14 digits+`21`+serial, nor 14 digits + 7 characters.
fn malformed(ki: &str) -> bool {
    let b = ki.as_bytes();
    let gs1 = b.len() >= 19
        && b.len() <= 40
        && ki.starts_with("01")
        && b[2..16].iter().all(u8::is_ascii_digit)
        && &ki[16..18] == "21";
    let pack = b.len() == 21 && b[..14].iter().all(u8::is_ascii_digit);
    ki.contains('\u{1d}') || !(gs1 || pack)
}

fn lm_code(ki: &str, o: Option<&Value>) -> Value {
    let gtin = if ki.starts_with("01") && ki.len() > 16 { &ki[2..16] } else { &ki[..ki.len().min(14)] };
    let mut v = json!({"cis": ki, "printView": ki, "gtin": gtin, "isBlocked": false, "sold": false});
    if let Some(o) = o {
        for (k, x) in o.as_object().unwrap() {
            v[k] = x.clone();
        }
    }
    v
}

pub fn mock_lm2(api: u8, auth: LmAuth) -> MockLm2 {
    let state = Arc::new(Lm2State {
        api: AtomicU8::new(api),
        status: Mutex::new("ready".into()),
        auth: Mutex::new(auth),
        codes: Mutex::new(HashMap::new()),
        error: Mutex::new(None),
        delay_ms: AtomicU64::new(0),
        seen: Mutex::new(Vec::new()),
    });
    let st = Arc::clone(&state);
    let server = serve(move |r| {
        st.seen.lock().unwrap().push(Seen {
            method: r.method.clone(),
            path: r.path.clone(),
            body: r.body.clone(),
            headers: r.headers.clone(),
        });
        let basic =
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{LM2_USER}:{LM2_PASSWORD}")));
        let token = format!("Token {LM2_TOKEN}");
        let given = r.header("Authorization").unwrap_or_default().to_string();
        let ok = match *st.auth.lock().unwrap() {
            LmAuth::Basic => given == basic,
            LmAuth::Token => given == token,
            LmAuth::BasicOrToken => given == basic || given == token,
        };
        if !ok {
            return Reply::json(401, json!({"errorCode": 401, "reason": "unauthorized"}));
        }
        let v2 = st.api.load(Ordering::Relaxed) == 2;
        let delay = Duration::from_millis(st.delay_ms.load(Ordering::Relaxed));
        let status = st.status.lock().unwrap().clone();
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/api/v2/status") if v2 => Reply::json(200, status_body(&status)),
            ("GET", "/api/v1/status") => Reply::json(200, status_body(&status)),
            ("POST", "/api/v2/init") if v2 => init(&st, &r.body),
            ("POST", "/api/v1/init") if !v2 => init(&st, &r.body),
            ("POST", "/api/v2/cis/outCheck") if v2 => {
                if r.header("Accept") != Some("application/json")
                    || r.header("Content-Type") != Some("application/json")
                {
                    return Reply::json(415, json!({"errorCode": 415, "reason": "json only"}));
                }
                if let Some((s, b)) = st.error.lock().unwrap().clone() {
                    return Reply::json(s, b).after(delay);
                }
                if status != "ready" {
                    return Reply::json(503, json!({"errorCode": 4045, "reason": "the module is not ready"}));
                }
                let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
                let table = st.codes.lock().unwrap();
                let results: Vec<Value> = body["cis_list"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|x| {
                        let ki = x["cis"].as_str().unwrap_or_default();
                        if malformed(ki) || table.get(ki).is_some_and(|o| o["malformed"] == true) {
                            json!({"code": 400, "description": "Некорректный КИ"})
                        } else {
                            json!({"code": 0, "description": "ok", "reqId": uuid(), "reqTimestamp": now_ms(),
                                   "inst": LM2_INST, "version": LM2_VERSION, "codes": [lm_code(ki, table.get(ki))]})
                        }
                    })
                    .collect();
                Reply::json(200, json!({"results": results})).after(delay)
            }
            ("POST", "/api/v1/cis/outCheck") => {
                if let Some((s, b)) = st.error.lock().unwrap().clone() {
                    return Reply::json(s, b).after(delay);
                }
                let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
                let table = st.codes.lock().unwrap();
                let codes: Vec<Value> = body["cis_list"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x.as_str())
                    .map(|ki| lm_code(ki, table.get(ki)))
                    .collect();
                Reply::json(
                    200,
                    json!({"code": 0, "description": "ok", "reqId": uuid(), "reqTimestamp": now_ms(), "inst": LM2_INST, "codes": codes}),
                )
                .after(delay)
            }
            _ => Reply::json(404, json!({"errorCode": 404, "reason": "not found"})),
        }
    });
    MockLm2 { server, state }
}

fn status_body(status: &str) -> Value {
    json!({"version": LM2_VERSION, "status": status, "inst": LM2_INST, "dbVersion": "de66b749-6764-4b63-821b-351ba4482664",
           "lastSync": now_ms(), "operationMode": "active", "requiresDownload": false})
}

fn init(st: &Arc<Lm2State>, body: &str) -> Reply {
    let v: Value = serde_json::from_str(body).unwrap_or_default();
    if v["token"] != INIT_TOKEN {
        return Reply::json(400, json!({"errorCode": 4001, "reason": "the token is not valid for this organisation"}));
    }
    st.set_status("initialization");
    let st = Arc::clone(st);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        st.set_status("ready");
    });
    Reply::json(200, json!({}))
}

pub fn lm_port(m: &MockLm2) -> u16 {
    m.server.url.rsplit(':').next().unwrap().parse().unwrap()
}
