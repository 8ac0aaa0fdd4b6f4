//! The store's ТС ПИОТ (технические средства получения информации о товаре, seeds 000 and 001):
//! since 28.12.2025 every marking code is checked through it. The best-known one is ЕСМ of
//! АО «ЕСП» on `https://127.0.0.1:51401`, with a self-signed certificate and no authentication.
//!
//! The official «протокол ПМСР ↔ ТС ПИОТ» is not public; this is what the open integrators and a
//! real answer of ЕСП's emulator agree on, every variant accepted where they differ:
//!
//! * **Version**: `/api/v3/info` by GET, then by POST (only after 404/405), then v2, then v1;
//!   another 4xx moves to the next lower version ([`Probe`]). The version found is remembered
//!   for the process and, for a day, in the cache directory ([`VersionFile`]).
//! * **`/info`**: `tspiotId`, `kktSerial`, `fnSerial`, `kktInn`, `codesCheckTimeout` (ms, a number
//!   or a string) and an `lm` block ([`parse_info`]).
//! * **`POST /api/v{n}/codes/check`** `{"codes": [...], "client_info": {...}}`: each code the Base64
//!   of its raw bytes (GS as the byte 0x1D); in v3 `{"cis": BASE64, "pg"?}` ([`check_body`]).
//! * **The answer**: v1 `{"codesResponse": {"codesResponse": [item]}}`, v2/v3
//!   `{"codesResponse": [item]}`; an item has `code`, `description`, `codes` (ГИС МТ's fields),
//!   `reqId`, `reqTimestamp`, `isCheckedOffline`, `inst`, `version` ([`classify`]).
//! * **Failures**: [`classify`] turns every HTTP status and body into an [`Outcome`]: the codes'
//!   entries, an emergency (203), a refusal (400), or "ask the Local Module" with why.
//!
//! On a loopback address any certificate is accepted (said once in the log at INFO); elsewhere it
//! is verified against the built-in roots plus `--tspiot-ca-file`. Plain `http://` only on
//! loopback. No ГИС МТ token is ever sent here.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::gismt::{is_loopback, now_ms};
use super::lm::{Lm, LmConfig};
use super::secret::Secret;
use crate::marking::model::CodeInfo;
use crate::marking::MarkingCode;

/// ЕСМ's usual address.
pub const DEFAULT_URL: &str = "https://127.0.0.1:51401";
/// The whole verdict (the ТС ПИОТ and the Local Module together) by default.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(4);
/// The check timeout when `/info` gives none.
pub const DEFAULT_CHECK_TIMEOUT_MS: u64 = 1800;
/// Added to the ТС ПИОТ's check timeout before kkt gives up on it.
pub const CHECK_MARGIN: Duration = Duration::from_millis(300);
/// What the budget always keeps for the Local Module.
pub const LM_RESERVE: Duration = Duration::from_secs(1);
/// What the budget keeps back for the work after the last request (judging, logging), so that
/// the verdict comes within the budget, not just after it.
pub const FINISH_MARGIN: Duration = Duration::from_millis(60);
/// The versions, newest first.
pub const VERSIONS: [u8; 3] = [3, 2, 1];
/// The version asked when none is known.
pub const FALLBACK_VERSION: u8 = 2;
/// How long the version file is trusted.
pub const VERSION_TTL_MS: i64 = 24 * 3600 * 1000;
/// How long an `/info` answer is reused in one process.
pub const INFO_TTL: Duration = Duration::from_secs(300);

/// Runs `f` on its own thread and waits for it at most `wait`: a request's socket timeout is
/// only as precise as the kernel's tick (on a loaded machine a 2 s read timeout was measured to
/// end 3–10 % late), while this wait is not. A request given up on ends on its own (its own
/// timeout is a little longer) and its answer is dropped.
pub(crate) fn within<T: Send + 'static>(wait: Duration, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    if wait.is_zero() {
        return None;
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new().name("kkt-check-http".into()).spawn(move || {
        let _ = tx.send(f());
    });
    match spawned {
        Ok(_) => rx.recv_timeout(wait).ok(),
        Err(_) => None,
    }
}

/// How much longer than the wait a request given up on may live.
pub(crate) const ABANDON_AFTER: Duration = Duration::from_millis(250);

/// `/api/v{n}/info`.
pub fn info_path(version: u8) -> String {
    format!("/api/v{version}/info")
}

/// `/api/v{n}/codes/check`.
pub fn check_path(version: u8) -> String {
    format!("/api/v{version}/codes/check")
}

/// Who is asking (`client_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// `kkt`.
    pub name: String,
    /// The crate's version.
    pub version: String,
    /// The ПМСР's id in the ГИС МТ registry (`--tspiot-client-id`).
    pub id: Option<String>,
    /// Its token (`--tspiot-client-token`).
    pub token: Option<Secret>,
}

impl Default for ClientInfo {
    fn default() -> Self {
        ClientInfo { name: "kkt".into(), version: env!("CARGO_PKG_VERSION").into(), id: None, token: None }
    }
}

/// Settings of the client.
#[derive(Debug, Clone)]
pub struct TsPiotConfig {
    /// The base URL (`--tspiot-url`).
    pub url: String,
    /// Extra roots for a ТС ПИОТ that is not on loopback.
    pub ca_file: Option<PathBuf>,
    /// `client_info`.
    pub client: ClientInfo,
    /// Where the version is remembered (none: the process only).
    pub cache_dir: Option<PathBuf>,
    /// The whole verdict (`--tspiot-budget`, default 4 s).
    pub budget: Duration,
    /// At most this long for finding the version and reading `/info`.
    pub info_timeout: Duration,
    /// Credentials for a Local Module found through `/info` (its `url` is ignored).
    pub lm_defaults: Option<LmConfig>,
}

impl TsPiotConfig {
    /// The defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        TsPiotConfig {
            url: url.into(),
            ca_file: None,
            client: ClientInfo::default(),
            cache_dir: None,
            budget: DEFAULT_BUDGET,
            info_timeout: Duration::from_secs(1),
            lm_defaults: None,
        }
    }
}

/// Configuration errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TsPiotError {
    /// A URL that is not allowed or not understood.
    #[error("ТС ПИОТ URL {url:?}: {why}")]
    Url {
        /// The URL.
        url: String,
        /// Why.
        why: String,
    },
    /// A budget too small to leave the Local Module its second.
    #[error("--tspiot-budget {0:?}: give at least 1.5 seconds (the Local Module always keeps 1 s of it)")]
    Budget(Duration),
    /// The CA file cannot be used.
    #[error("{0}")]
    Tls(String),
    /// `/info` failed.
    #[error("ТС ПИОТ /info: {0}")]
    Info(String),
}

/// The `lm` block of `/info`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LmInfo {
    /// The module's version.
    pub version: Option<String>,
    /// Its status.
    pub status: Option<String>,
    /// Last synchronisation (Unix ms).
    pub last_sync: Option<i64>,
    /// A token for `Authorization: Token`.
    pub token: Option<Secret>,
    /// The token's expiry (ISO 8601).
    pub exp_date: Option<String>,
    /// Its address.
    pub ip: Option<String>,
    /// Its port.
    pub port: Option<u16>,
    /// Basic-auth user.
    pub login: Option<String>,
    /// Basic-auth password.
    pub pass: Option<Secret>,
}

impl LmInfo {
    /// `http://ip:port` when both are given.
    pub fn address(&self) -> Option<String> {
        let ip = self.ip.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        let port = self.port.filter(|&p| p != 0)?;
        let host = if ip.contains(':') && !ip.starts_with('[') { format!("[{ip}]") } else { ip.to_string() };
        Some(format!("http://{host}:{port}"))
    }
}

/// What `/info` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TsPiotInfo {
    /// `tspiotId`.
    pub tspiot_id: Option<String>,
    /// `kktSerial`.
    pub kkt_serial: Option<String>,
    /// `fnSerial`.
    pub fn_serial: Option<String>,
    /// `kktInn`.
    pub kkt_inn: Option<String>,
    /// `codesCheckTimeout`, ms.
    pub check_timeout_ms: Option<u64>,
    /// The Local Module it uses.
    pub lm: Option<LmInfo>,
}

fn get_ci<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let o = v.as_object()?;
    o.get(key).or_else(|| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)).filter(|v| !v.is_null())
}

fn text_ci(v: &Value, key: &str) -> Option<String> {
    match get_ci(v, key)? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn int_ci(v: &Value, key: &str) -> Option<i64> {
    match get_ci(v, key)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn bool_ci(v: &Value, key: &str) -> Option<bool> {
    match get_ci(v, key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        _ => None,
    }
}

/// Reads `/info` (keys in any case; unknown fields ignored; missing ones `None`).
pub fn parse_info(body: &str) -> Result<TsPiotInfo, String> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    if !v.is_object() {
        return Err("not a JSON object".into());
    }
    let lm = get_ci(&v, "lm").filter(|l| l.is_object()).map(|l| LmInfo {
        version: text_ci(l, "version"),
        status: text_ci(l, "status"),
        last_sync: int_ci(l, "lastSync"),
        token: text_ci(l, "token").map(Secret::new),
        exp_date: text_ci(l, "expDate"),
        ip: text_ci(l, "ip"),
        port: int_ci(l, "port").and_then(|p| u16::try_from(p).ok()),
        login: text_ci(l, "login"),
        pass: text_ci(l, "pass").map(Secret::new),
    });
    Ok(TsPiotInfo {
        tspiot_id: text_ci(&v, "tspiotId"),
        kkt_serial: text_ci(&v, "kktSerial"),
        fn_serial: text_ci(&v, "fnSerial"),
        kkt_inn: text_ci(&v, "kktInn"),
        check_timeout_ms: int_ci(&v, "codesCheckTimeout").and_then(|t| u64::try_from(t).ok()).filter(|&t| t > 0),
        lm,
    })
}

/// The Base64 of the code's raw bytes, GS as the byte 0x1D.
pub fn code_base64(code: &MarkingCode) -> String {
    base64::engine::general_purpose::STANDARD.encode(code.to_wire_bytes())
}

/// The body of `/codes/check` for API `version`: v1/v2 `codes` as Base64 strings, v3 as
/// `{"cis", "pg"?}` objects; `client_info` with `id` and `token` when configured.
pub fn check_body(version: u8, codes: &[MarkingCode], groups: &[Option<u32>], client: &ClientInfo) -> String {
    let list: Vec<Value> = codes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let b = code_base64(c);
            if version >= 3 {
                let mut o = serde_json::json!({ "cis": b });
                if let Some(pg) = groups.get(i).copied().flatten() {
                    o["pg"] = pg.into();
                }
                o
            } else {
                Value::String(b)
            }
        })
        .collect();
    let mut ci = serde_json::json!({ "name": client.name, "version": client.version });
    if let Some(id) = &client.id {
        ci["id"] = id.clone().into();
    }
    if let Some(t) = &client.token {
        ci["token"] = t.expose().into();
    }
    serde_json::json!({ "codes": list, "client_info": ci }).to_string()
}

/// One code's entry in a ТС ПИОТ answer.
#[derive(Debug, Clone, PartialEq)]
pub struct TsEntry {
    /// ГИС МТ's fields (or the Local Module's, when offline).
    pub info: CodeInfo,
    /// `reqId`.
    pub req_id: Option<String>,
    /// `reqTimestamp`, Unix ms.
    pub req_timestamp: Option<i64>,
    /// `isCheckedOffline`: the Local Module answered through the ТС ПИОТ.
    pub offline: bool,
    /// The Local Module's instance (offline answers).
    pub inst: Option<String>,
    /// The Local Module's version (offline answers).
    pub version: Option<String>,
}

/// What one `/codes/check` came to.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// The answer: per requested code its entry (None when the answer has none for it).
    Answer(Vec<Option<TsEntry>>),
    /// HTTP 203 (or a body `code` 203): emergency, sell without a check; the Local Module is not
    /// asked.
    Emergency {
        /// What said so.
        note: String,
    },
    /// HTTP 400: the ТС ПИОТ cannot read what kkt sent; every code is refused, no fallback.
    Refused {
        /// The ТС ПИОТ's description.
        message: String,
    },
    /// No usable answer: ask the Local Module directly.
    Fallback {
        /// Why (for the verdict's notes).
        note: String,
        /// A 404: the remembered version is dropped.
        drop_version: bool,
    },
}

fn describe(v: &Value) -> String {
    ["description", "message", "error", "reason"]
        .iter()
        .find_map(|k| match get_ci(v, k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(o @ Value::Object(_)) => {
                text_ci(o, "errorDescription").or_else(|| text_ci(o, "description")).or_else(|| text_ci(o, "message"))
            }
            _ => None,
        })
        .unwrap_or_default()
}

fn describe_body(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(v) => {
            let d = describe(&v);
            if d.is_empty() {
                body.chars().take(200).collect()
            } else {
                d
            }
        }
        Err(_) => body.chars().take(200).collect(),
    }
}

/// The items of an answer: v1's double wrap, v2/v3's single one, or a bare item.
fn items(v: &Value) -> Option<Vec<&Value>> {
    let outer = get_ci(v, "codesResponse")?;
    match outer {
        Value::Array(a) => Some(a.iter().collect()),
        Value::Object(_) => match get_ci(outer, "codesResponse") {
            Some(Value::Array(a)) => Some(a.iter().collect()),
            Some(o @ Value::Object(_)) => Some(vec![o]),
            _ if get_ci(outer, "codes").is_some() => Some(vec![outer]),
            _ => None,
        },
        _ => None,
    }
}

fn strip_gs(s: &str) -> String {
    s.replace('\u{1d}', "")
}

/// Turns one `/codes/check` reply (its HTTP status and body) into the failure table's row.
pub fn classify(status: u16, body: &str, codes: &[MarkingCode]) -> Outcome {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let body_code = parsed.as_ref().and_then(|v| int_ci(v, "code"));
    match status {
        203 => return Outcome::Emergency { note: "the ТС ПИОТ answered HTTP 203 (emergency mode)".into() },
        200 | 204 if body_code == Some(203) && parsed.as_ref().and_then(items).is_none() => {
            return Outcome::Emergency { note: "the ТС ПИОТ answered code 203 (emergency mode)".into() }
        }
        200 | 204 => {}
        400 => {
            let d = describe_body(body);
            return Outcome::Refused {
                message: format!(
                    "the ТС ПИОТ cannot read the request (HTTP 400{}); not sent to the Local Module",
                    if d.is_empty() { String::new() } else { format!(": {d}") }
                ),
            };
        }
        514..=520 => {
            return Outcome::Fallback {
                note: format!("the ТС ПИОТ answered HTTP {status} ({})", describe_body(body)),
                drop_version: false,
            }
        }
        s if (400..500).contains(&s) => {
            return Outcome::Fallback {
                note: format!("the ТС ПИОТ answered HTTP {s} ({})", describe_body(body)),
                drop_version: s == 404,
            }
        }
        s => {
            return Outcome::Fallback {
                note: format!("the ТС ПИОТ answered HTTP {s} ({})", describe_body(body)),
                drop_version: false,
            }
        }
    }
    let Some(v) = parsed else {
        let what = if body.trim().is_empty() { "no body".to_string() } else { "a body that is not JSON".to_string() };
        return Outcome::Fallback {
            note: format!("the ТС ПИОТ answered HTTP {status} with {what}"),
            drop_version: false,
        };
    };
    let Some(items) = items(&v) else {
        return Outcome::Fallback {
            note: format!("the ТС ПИОТ's answer has no codesResponse ({})", describe(&v)),
            drop_version: false,
        };
    };
    if items.is_empty() {
        return Outcome::Fallback { note: "the ТС ПИОТ's answer has no item".into(), drop_version: false };
    }
    if let Some(bad) = items.iter().find(|i| int_ci(i, "code").unwrap_or(0) != 0) {
        let code = int_ci(bad, "code").unwrap_or(0);
        if code == 203 {
            return Outcome::Emergency { note: "the ТС ПИОТ answered code 203 (emergency mode)".into() };
        }
        return Outcome::Fallback {
            note: format!("the ТС ПИОТ answered code {code}: {}", describe(bad)),
            drop_version: false,
        };
    }
    // Every code entry with the item it came in, indexed by its `cis` (GS dropped) and
    // `printView`: linear in the number of codes.
    let mut entries: Vec<(&Value, &Value)> = Vec::new();
    for it in &items {
        for c in get_ci(it, "codes").and_then(Value::as_array).into_iter().flatten() {
            entries.push((c, *it));
        }
    }
    let mut by_key: std::collections::HashMap<String, Vec<usize>> = std::collections::HashMap::new();
    for (j, (c, _)) in entries.iter().enumerate() {
        if let Some(cis) = get_ci(c, "cis").and_then(Value::as_str) {
            by_key.entry(strip_gs(cis)).or_default().push(j);
        }
        if let Some(pv) = get_ci(c, "printView").and_then(Value::as_str) {
            by_key.entry(format!("pv:{pv}")).or_default().push(j);
        }
    }
    let mut used = vec![false; entries.len()];
    let take = |key: &str, used: &mut Vec<bool>| -> Option<usize> {
        let j = *by_key.get(key)?.iter().find(|&&j| !used[j])?;
        used[j] = true;
        Some(j)
    };
    let out = codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let pv = code.print_view();
            let at = take(&strip_gs(code.as_str()), &mut used)
                .or_else(|| take(&code_base64(code), &mut used))
                .or_else(|| take(&pv, &mut used))
                .or_else(|| take(&format!("pv:{pv}"), &mut used))
                .or_else(|| {
                    (entries.len() == codes.len() && !used[i]).then(|| {
                        used[i] = true;
                        i
                    })
                })?;
            let (c, item) = entries[at];
            let info = CodeInfo::deserialize(c).ok()?;
            let offline = bool_ci(item, "isCheckedOffline").or_else(|| bool_ci(c, "isCheckedOffline")).unwrap_or(false);
            Some(TsEntry {
                info,
                req_id: text_ci(item, "reqId").or_else(|| text_ci(c, "reqId")),
                req_timestamp: int_ci(item, "reqTimestamp").or_else(|| int_ci(c, "reqTimestamp")),
                offline,
                inst: text_ci(item, "inst").or_else(|| text_ci(c, "inst")),
                version: text_ci(item, "version").or_else(|| text_ci(c, "version")),
            })
        })
        .collect();
    Outcome::Answer(out)
}

/// A reply to one `/info` request, for [`Probe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeReply {
    /// 200 with a readable answer.
    Ok,
    /// 404 or 405.
    NotHere,
    /// Any other 4xx (or an unreadable 2xx).
    Client,
    /// 5xx, no answer, a broken connection.
    Down,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeStep {
    /// Ask `/api/v{version}/info`, by POST when `post`.
    Send {
        /// The version.
        version: u8,
        /// POST (else GET).
        post: bool,
    },
    /// This version answered.
    Found(u8),
    /// `/info` gives nothing (5xx, no answer, or no version answered).
    Unavailable,
}

/// The version probe as a pure state machine: GET, POST only after a 404/405, then the next
/// lower version; another 4xx skips to the next version; 5xx or no answer ends the probe.
#[derive(Debug, Clone)]
pub struct Probe {
    order: Vec<u8>,
    at: usize,
    post: bool,
}

impl Probe {
    /// A probe starting at `first` (the remembered version), then 3, 2, 1.
    pub fn new(first: Option<u8>) -> Probe {
        let mut order: Vec<u8> = first.into_iter().filter(|v| VERSIONS.contains(v)).collect();
        order.extend(VERSIONS.iter().copied().filter(|v| Some(*v) != first));
        Probe { order, at: 0, post: false }
    }

    /// The first request.
    pub fn start(&self) -> ProbeStep {
        ProbeStep::Send { version: self.order[0], post: false }
    }

    fn next_version(&mut self) -> ProbeStep {
        self.at += 1;
        self.post = false;
        match self.order.get(self.at) {
            Some(&v) => ProbeStep::Send { version: v, post: false },
            None => ProbeStep::Unavailable,
        }
    }

    /// The step after `reply`.
    pub fn next(&mut self, reply: ProbeReply) -> ProbeStep {
        let v = self.order[self.at];
        match reply {
            ProbeReply::Ok => ProbeStep::Found(v),
            ProbeReply::Down => ProbeStep::Unavailable,
            ProbeReply::NotHere if !self.post => {
                self.post = true;
                ProbeStep::Send { version: v, post: true }
            }
            ProbeReply::NotHere | ProbeReply::Client => self.next_version(),
        }
    }
}

/// The remembered version in the cache directory (`tspiot-version.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionFile {
    /// The ТС ПИОТ it is about.
    pub url: String,
    /// The API version.
    pub version: u8,
    /// When it was found (Unix ms).
    pub at_ms: i64,
}

impl VersionFile {
    /// The file in `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("tspiot-version.json")
    }

    /// The version remembered for `url` within a day of `now_ms`.
    pub fn load(dir: &Path, url: &str, now_ms: i64) -> Option<u8> {
        let text = std::fs::read_to_string(Self::path(dir)).ok()?;
        let f: VersionFile = serde_json::from_str(&text).ok()?;
        (f.url == url && now_ms - f.at_ms < VERSION_TTL_MS && VERSIONS.contains(&f.version)).then_some(f.version)
    }

    /// Saves (atomically: a temporary file and a rename).
    pub fn store(dir: &Path, url: &str, version: u8, now_ms: i64) -> std::io::Result<()> {
        crate::fsutil::create_private_dir(dir)?;
        let f = VersionFile { url: url.to_string(), version, at_ms: now_ms };
        crate::fsutil::write_private(&Self::path(dir), &serde_json::to_vec(&f).expect("serializable"), false)
    }

    /// Forgets it.
    pub fn drop_for(dir: &Path, url: &str) {
        if let Ok(text) = std::fs::read_to_string(Self::path(dir)) {
            if serde_json::from_str::<VersionFile>(&text).is_ok_and(|f| f.url == url) {
                let _ = std::fs::remove_file(Self::path(dir));
            }
        }
    }
}

/// Whether the ТС ПИОТ is bound to the connected register: the FN serial, and the register's
/// serial when both have the same length. None without a register or without `/info`.
pub fn matches_register(info: &TsPiotInfo, fn_serial: Option<&str>, kkt_serial: Option<&str>) -> Option<bool> {
    let reg_fn = fn_serial.map(str::trim).filter(|s| !s.is_empty())?;
    let their_fn = info.fn_serial.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    let mut ok = their_fn == reg_fn;
    if let (Some(a), Some(b)) = (info.kkt_serial.as_deref().map(str::trim), kkt_serial.map(str::trim)) {
        if !a.is_empty() && a.len() == b.len() && a != b {
            ok = false;
        }
    }
    Some(ok)
}

/// A certificate verifier that accepts any certificate (a loopback ТС ПИОТ's self-signed one),
/// while still checking the handshake's signatures.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls_pki_types::CertificateDer<'_>,
        _intermediates: &[rustls_pki_types::CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn loopback_tls() -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
        .expect("TLS 1.2 and 1.3 are supported")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    Arc::new(cfg)
}

/// Checks and normalises the base URL: `https://` added when no scheme is given; plain
/// `http://` only on loopback.
pub fn normalize_url(s: &str) -> Result<(String, bool), TsPiotError> {
    let s = s.trim();
    let with_scheme = if s.contains("://") { s.to_string() } else { format!("https://{s}") };
    let u = url::Url::parse(&with_scheme).map_err(|e| TsPiotError::Url { url: s.into(), why: e.to_string() })?;
    let lo = is_loopback(&u);
    match u.scheme() {
        "https" => {}
        "http" if lo => {}
        "http" => {
            return Err(TsPiotError::Url {
                url: s.into(),
                why: "plain http is allowed only on a loopback address; use https".into(),
            })
        }
        other => return Err(TsPiotError::Url { url: s.into(), why: format!("scheme {other:?} is not https") }),
    }
    if u.host().is_none() {
        return Err(TsPiotError::Url { url: s.into(), why: "no host".into() });
    }
    Ok((u.as_str().trim_end_matches('/').to_string(), lo))
}

/// The result of asking the ТС ПИОТ about a receipt's codes.
#[derive(Debug, Clone)]
pub struct TsCheck {
    /// The failure table's row.
    pub outcome: Outcome,
    /// The version asked.
    pub version: u8,
    /// `/info` (None when it gave nothing).
    pub info: Option<TsPiotInfo>,
    /// Facts for every verdict (a register mismatch, `/info` unavailable, …).
    pub notes: Vec<String>,
    /// The end of the whole budget (the Local Module's deadline).
    pub deadline: Instant,
}

#[derive(Debug, Default)]
struct Known {
    version: Option<u8>,
    info: Option<(TsPiotInfo, Instant)>,
}

/// What `kkt mark tspiot-status` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TsPiotStatus {
    /// The base URL.
    pub url: String,
    /// The API version that answered `/info`.
    pub api_version: Option<u8>,
    /// `tspiotId`.
    pub tspiot_id: Option<String>,
    /// `kktSerial`.
    pub kkt_serial: Option<String>,
    /// `fnSerial`.
    pub fn_serial: Option<String>,
    /// `kktInn`.
    pub kkt_inn: Option<String>,
    /// `codesCheckTimeout`, ms.
    pub check_timeout_ms: Option<u64>,
    /// The Local Module it reports.
    pub lm: Option<LmStatusView>,
    /// Bound to the connected register (None without one).
    pub matches_register: Option<bool>,
}

/// The `lm` block of [`TsPiotStatus`] (never the token or the password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LmStatusView {
    /// Its status.
    pub status: Option<String>,
    /// Its version.
    pub version: Option<String>,
    /// Last synchronisation (Unix ms).
    pub last_sync: Option<i64>,
    /// `http://ip:port`.
    pub address: Option<String>,
    /// When its token expires.
    pub token_expires: Option<String>,
}

/// The client. Cheap to share.
pub struct TsPiot {
    cfg: TsPiotConfig,
    base: String,
    agent: ureq::Agent,
    known: Mutex<Known>,
    register: Mutex<(Option<String>, Option<String>)>,
    warned_mismatch: AtomicBool,
    lm_from_info: Mutex<Option<Arc<Lm>>>,
}

impl std::fmt::Debug for TsPiot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsPiot").field("base", &self.base).field("budget", &self.cfg.budget).finish()
    }
}

enum Http {
    Reply(u16, String),
    Failed(String),
}

impl TsPiot {
    /// A client; the URL, the budget and the CA file are checked here.
    pub fn new(cfg: TsPiotConfig) -> Result<TsPiot, TsPiotError> {
        let (base, loopback) = normalize_url(&cfg.url)?;
        if cfg.budget < LM_RESERVE + Duration::from_millis(500) {
            return Err(TsPiotError::Budget(cfg.budget));
        }
        let tls = if loopback {
            static SAID: AtomicBool = AtomicBool::new(false);
            if base.starts_with("https") && !SAID.swap(true, Ordering::Relaxed) {
                tracing::info!(target: "kkt::tspiot", url = %base,
                    "the ТС ПИОТ is on a loopback address: its certificate is accepted without verification (ЕСМ's is self-signed)");
            }
            Some(loopback_tls())
        } else {
            match &cfg.ca_file {
                Some(p) => Some(super::gismt::tls_with_extra_roots(p).map_err(|e| TsPiotError::Tls(e.to_string()))?),
                None => None,
            }
        };
        let mut b = ureq::AgentBuilder::new().redirects(0).max_idle_connections_per_host(1);
        if let Some(t) = tls {
            b = b.tls_config(t);
        }
        Ok(TsPiot {
            cfg,
            base,
            agent: b.build(),
            known: Mutex::new(Known::default()),
            register: Mutex::new((None, None)),
            warned_mismatch: AtomicBool::new(false),
            lm_from_info: Mutex::new(None),
        })
    }

    /// The normalised base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// The configuration.
    pub fn config(&self) -> &TsPiotConfig {
        &self.cfg
    }

    /// The connected register's FN serial and serial number (for the binding check).
    pub fn set_register(&self, fn_serial: Option<String>, kkt_serial: Option<String>) {
        let mut r = self.register.lock().expect("not poisoned");
        if fn_serial.is_some() {
            r.0 = fn_serial;
        }
        if kkt_serial.is_some() {
            r.1 = kkt_serial;
        }
    }

    /// The register's FN serial, when known.
    pub fn fn_serial(&self) -> Option<String> {
        self.register.lock().expect("not poisoned").0.clone()
    }

    /// The version remembered (process, then the cache file).
    pub fn remembered_version(&self) -> Option<u8> {
        let v = self.known.lock().expect("not poisoned").version;
        v.or_else(|| self.cfg.cache_dir.as_deref().and_then(|d| VersionFile::load(d, &self.base, now_ms())))
    }

    fn remember(&self, version: u8) {
        self.known.lock().expect("not poisoned").version = Some(version);
        if let Some(d) = &self.cfg.cache_dir {
            if let Err(e) = VersionFile::store(d, &self.base, version, now_ms()) {
                tracing::warn!(target: "kkt::tspiot", "cannot remember the ТС ПИОТ's version in {}: {e}", d.display());
            }
        }
    }

    fn forget_version(&self) {
        let mut k = self.known.lock().expect("not poisoned");
        k.version = None;
        k.info = None;
        drop(k);
        if let Some(d) = &self.cfg.cache_dir {
            VersionFile::drop_for(d, &self.base);
        }
    }

    fn scrub(&self, s: String) -> String {
        match &self.cfg.client.token {
            Some(t) => t.scrub(&s),
            None => s,
        }
    }

    fn http(&self, method: &str, path: &str, body: Option<&str>, timeout: Duration) -> Http {
        if timeout.is_zero() {
            return Http::Failed("no time left".into());
        }
        let req = self
            .agent
            .request(method, &format!("{}{path}", self.base))
            .timeout(timeout + ABANDON_AFTER)
            .set("Accept", "application/json")
            .set("Content-Type", "application/json");
        let started = Instant::now();
        let body = body.map(str::to_string);
        let res = within(timeout, move || {
            let r = match body {
                Some(b) => req.send_string(&b),
                None => req.call(),
            };
            // Read the body on this thread too, inside the wait.
            match r {
                Ok(resp) => {
                    let status = resp.status();
                    resp.into_string().map(|b| (status, b)).map_err(|e| format!("the answer broke off: {e}"))
                }
                Err(ureq::Error::Status(s, resp)) => Ok((s, resp.into_string().unwrap_or_default())),
                Err(ureq::Error::Transport(t)) => Err(t.to_string()),
            }
        });
        let timed_out = |why: String| {
            if started.elapsed() + Duration::from_millis(5) >= timeout {
                format!("no answer within {} ms", timeout.as_millis())
            } else {
                why
            }
        };
        match res {
            None => Http::Failed(format!("no answer within {} ms", timeout.as_millis())),
            Some(Ok((status, b))) => Http::Reply(status, b),
            Some(Err(why)) => Http::Failed(self.scrub(timed_out(why))),
        }
    }

    /// Finds the version and reads `/info` before `deadline` (nothing is sent when a fresh
    /// answer is known). Returns the version to ask (the remembered one, or v2, when `/info`
    /// gives nothing), the info, and why it is missing.
    pub fn info(&self, deadline: Instant) -> (u8, Option<TsPiotInfo>, Option<String>) {
        {
            let k = self.known.lock().expect("not poisoned");
            if let (Some(v), Some((info, at))) = (k.version, &k.info) {
                if at.elapsed() < INFO_TTL {
                    return (v, Some(info.clone()), None);
                }
            }
        }
        let remembered = self.remembered_version();
        let mut probe = Probe::new(remembered);
        let mut step = probe.start();
        let mut last = String::new();
        let found = loop {
            let (version, post) = match step {
                ProbeStep::Send { version, post } => (version, post),
                ProbeStep::Found(v) => break Some(v),
                ProbeStep::Unavailable => break None,
            };
            let left = deadline.saturating_duration_since(Instant::now());
            let reply =
                match self.http(if post { "POST" } else { "GET" }, &info_path(version), post.then_some("{}"), left) {
                    Http::Reply(200, body) => match parse_info(&body) {
                        Ok(info) => {
                            self.known.lock().expect("not poisoned").info = Some((info, Instant::now()));
                            ProbeReply::Ok
                        }
                        Err(e) => {
                            last = format!("{} answered 200 that cannot be read: {e}", info_path(version));
                            ProbeReply::Client
                        }
                    },
                    Http::Reply(s @ (404 | 405), _) => {
                        last = format!("{} answered HTTP {s}", info_path(version));
                        ProbeReply::NotHere
                    }
                    Http::Reply(s, body) if (300..500).contains(&s) => {
                        last = format!("{} answered HTTP {s} ({})", info_path(version), describe_body(&body));
                        ProbeReply::Client
                    }
                    Http::Reply(s, body) => {
                        last = format!("{} answered HTTP {s} ({})", info_path(version), describe_body(&body));
                        ProbeReply::Down
                    }
                    Http::Failed(why) => {
                        last = format!("{}: {why}", info_path(version));
                        ProbeReply::Down
                    }
                };
            step = probe.next(reply);
        };
        match found {
            Some(v) => {
                if remembered != Some(v) || self.known.lock().expect("not poisoned").version != Some(v) {
                    self.remember(v);
                }
                tracing::debug!(target: "kkt::tspiot", url = %self.base, version = v, "ТС ПИОТ API version");
                let info = self.known.lock().expect("not poisoned").info.as_ref().map(|(i, _)| i.clone());
                (v, info, None)
            }
            None => {
                let v = remembered.unwrap_or(FALLBACK_VERSION);
                tracing::warn!(target: "kkt::tspiot", url = %self.base, "ТС ПИОТ /info gives nothing ({last}): checking through v{v}");
                let stale = self.known.lock().expect("not poisoned").info.as_ref().map(|(i, _)| i.clone());
                (v, stale, Some(format!("the ТС ПИОТ's /info gave nothing ({last})")))
            }
        }
    }

    /// The status for `kkt mark tspiot-status`.
    pub fn status(&self) -> Result<TsPiotStatus, TsPiotError> {
        self.known.lock().expect("not poisoned").info = None;
        let deadline = Instant::now() + self.cfg.info_timeout.max(Duration::from_secs(3));
        let (v, info, why) = self.info(deadline);
        let Some(info) = info.filter(|_| why.is_none()) else {
            return Err(TsPiotError::Info(why.unwrap_or_else(|| "no answer".into())));
        };
        let (fn_serial, kkt_serial) = self.register.lock().expect("not poisoned").clone();
        Ok(TsPiotStatus {
            url: self.base.clone(),
            api_version: Some(v),
            tspiot_id: info.tspiot_id.clone(),
            kkt_serial: info.kkt_serial.clone(),
            fn_serial: info.fn_serial.clone(),
            kkt_inn: info.kkt_inn.clone(),
            check_timeout_ms: info.check_timeout_ms,
            matches_register: matches_register(&info, fn_serial.as_deref(), kkt_serial.as_deref()),
            lm: info.lm.as_ref().map(|l| LmStatusView {
                status: l.status.clone(),
                version: l.version.clone(),
                last_sync: l.last_sync,
                address: l.address(),
                token_expires: l.exp_date.clone(),
            }),
        })
    }

    fn binding_note(&self, info: &TsPiotInfo) -> Option<String> {
        let (fn_serial, kkt_serial) = self.register.lock().expect("not poisoned").clone();
        if matches_register(info, fn_serial.as_deref(), kkt_serial.as_deref()) != Some(false) {
            return None;
        }
        let note = format!(
            "the ТС ПИОТ is bound to another register (its FN {}, serial {}; connected FN {}, serial {})",
            info.fn_serial.as_deref().unwrap_or("-"),
            info.kkt_serial.as_deref().unwrap_or("-"),
            fn_serial.as_deref().unwrap_or("-"),
            kkt_serial.as_deref().unwrap_or("-")
        );
        if !self.warned_mismatch.swap(true, Ordering::Relaxed) {
            tracing::warn!(target: "kkt::tspiot", "{note}");
        }
        Some(note)
    }

    /// Asks the ТС ПИОТ about a receipt's codes (one request; no retry). The budget runs from
    /// this call; the wait for the check is `codesCheckTimeout` + 300 ms but never past the
    /// budget less [`LM_RESERVE`].
    pub fn check(&self, codes: &[MarkingCode]) -> TsCheck {
        let started = Instant::now();
        let deadline = started + self.cfg.budget - FINISH_MARGIN;
        let tspiot_until = started + self.cfg.budget - LM_RESERVE;
        let info_until = started + self.cfg.info_timeout.min((self.cfg.budget - LM_RESERVE) / 2);
        let (version, info, info_note) = self.info(info_until);
        let mut notes: Vec<String> = info_note.into_iter().collect();
        if let Some(n) = info.as_ref().and_then(|i| self.binding_note(i)) {
            notes.push(n);
        }
        let cct = info.as_ref().and_then(|i| i.check_timeout_ms).unwrap_or(DEFAULT_CHECK_TIMEOUT_MS);
        let wait =
            (Duration::from_millis(cct) + CHECK_MARGIN).min(tspiot_until.saturating_duration_since(Instant::now()));
        let body = check_body(version, codes, &vec![None; codes.len()], &self.cfg.client);
        let outcome = match self.http("POST", &check_path(version), Some(&body), wait) {
            Http::Reply(status, body) => classify(status, &body, codes),
            Http::Failed(why) => {
                Outcome::Fallback { note: format!("the ТС ПИОТ gave no answer: {why}"), drop_version: false }
            }
        };
        match &outcome {
            Outcome::Fallback { note, drop_version } => {
                tracing::warn!(target: "kkt::tspiot", url = %self.base, version, codes = codes.len(),
                    elapsed_ms = started.elapsed().as_millis() as u64, "{note}: checking through the Local Module");
                if *drop_version {
                    self.forget_version();
                }
            }
            Outcome::Emergency { note } => {
                tracing::warn!(target: "kkt::tspiot", "{note}: sale allowed without a check")
            }
            Outcome::Refused { message } => tracing::warn!(target: "kkt::tspiot", "{message}"),
            Outcome::Answer(_) => {}
        }
        TsCheck { outcome, version, info, notes, deadline }
    }

    /// The Local Module the ТС ПИОТ's `/info` names (with the configured credentials), kept
    /// for the process so that its API version is remembered.
    pub fn lm_from_info(&self, info: &TsPiotInfo) -> Option<Arc<Lm>> {
        let addr = info.lm.as_ref()?.address()?;
        let mut slot = self.lm_from_info.lock().expect("not poisoned");
        if let Some(lm) = slot.as_ref().filter(|l| l.url() == addr) {
            return Some(Arc::clone(lm));
        }
        let mut cfg = self.cfg.lm_defaults.clone().unwrap_or_else(|| LmConfig::new(""));
        cfg.url = addr;
        let lm = Arc::new(Lm::new(cfg).ok()?);
        *slot = Some(Arc::clone(&lm));
        Some(lm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> MarkingCode {
        MarkingCode::parse(s).unwrap()
    }

    const DAIRY: &str = "0104670540176099215'W9Um\u{1d}93dGVz";

    #[test]
    fn the_gs_byte_is_base64_of_0x1d() {
        // Scanned as the byte, as `\u001d`, as `<GS>`, with `]d2`: the same bytes.
        for typed in [DAIRY, "0104670540176099215'W9Um\\u001d93dGVz", "]d20104670540176099215'W9Um<GS>93dGVz"] {
            let c = code(typed);
            let b = code_base64(&c);
            assert_eq!(b, "MDEwNDY3MDU0MDE3NjA5OTIxNSdXOVVtHTkzZEdWeg==", "{typed}");
            let raw = base64::engine::general_purpose::STANDARD.decode(&b).unwrap();
            assert_eq!(raw, b"0104670540176099215'W9Um\x1d93dGVz");
            assert_eq!(raw[24], 0x1D);
            assert!(!raw.windows(6).any(|w| w == b"\\u001d"));
        }
    }

    #[test]
    fn bodies_per_version() {
        let c = code(DAIRY);
        let client = ClientInfo { id: Some("pmsr-1".into()), token: Some(Secret::new("tok")), ..ClientInfo::default() };
        let v2: Value = serde_json::from_str(&check_body(2, std::slice::from_ref(&c), &[None], &client)).unwrap();
        assert_eq!(v2["codes"][0], "MDEwNDY3MDU0MDE3NjA5OTIxNSdXOVVtHTkzZEdWeg==");
        assert_eq!(v2["client_info"]["name"], "kkt");
        assert_eq!(v2["client_info"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(v2["client_info"]["id"], "pmsr-1");
        assert_eq!(v2["client_info"]["token"], "tok");
        let v1: Value = serde_json::from_str(&check_body(1, std::slice::from_ref(&c), &[], &client)).unwrap();
        assert_eq!(v1["codes"], v2["codes"]);
        let v3: Value =
            serde_json::from_str(&check_body(3, &[c.clone(), c.clone()], &[Some(8), None], &ClientInfo::default()))
                .unwrap();
        assert_eq!(v3["codes"][0], serde_json::json!({"cis": "MDEwNDY3MDU0MDE3NjA5OTIxNSdXOVVtHTkzZEdWeg==", "pg": 8}));
        assert_eq!(v3["codes"][1], serde_json::json!({"cis": "MDEwNDY3MDU0MDE3NjA5OTIxNSdXOVVtHTkzZEdWeg=="}));
        assert!(v3["client_info"].get("token").is_none());
    }

    #[test]
    fn info_is_read_leniently() {
        let i = parse_info(
            r#"{"tspiotId":"esm-1","kktSerial":"0000000001","fnSerial":"7380440700089917","kktInn":"7700000000",
                "codesCheckTimeout":"1800","extra":1,
                "lm":{"version":"2.0.1","status":"ready","lastSync":"1739457221213","token":"t-1",
                      "expDate":"2026-12-31T00:00:00Z","ip":"127.0.0.1","port":5995,"login":"admin","pass":"p"}}"#,
        )
        .unwrap();
        assert_eq!(i.tspiot_id.as_deref(), Some("esm-1"));
        assert_eq!(i.check_timeout_ms, Some(1800));
        let lm = i.lm.unwrap();
        assert_eq!(lm.address().as_deref(), Some("http://127.0.0.1:5995"));
        assert_eq!(lm.last_sync, Some(1739457221213));
        assert_eq!(lm.token.unwrap().expose(), "t-1");
        // Spoleto spells it TsPiotId; numbers; nulls.
        let i = parse_info(r#"{"TsPiotId":"x","codesCheckTimeout":2500,"fnSerial":null,"lm":null}"#).unwrap();
        assert_eq!((i.tspiot_id.as_deref(), i.check_timeout_ms), (Some("x"), Some(2500)));
        assert_eq!((i.fn_serial, i.lm), (None, None));
        assert!(parse_info("[1]").is_err());
        assert!(parse_info("<html>").is_err());
    }

    fn item(extra: &str) -> String {
        format!(
            r#"{{"code":0,"description":"ok","codes":[{{"cis":"0104670540176099215'W9Um\u001d93dGVz","found":true,
            "valid":true,"verified":true,"realizable":true,"utilised":true,"isBlocked":false,"sold":false}}],
            "reqId":"r-1","reqTimestamp":1738932218989{extra}}}"#
        )
    }

    #[test]
    fn answers_of_every_version() {
        let c = [code(DAIRY)];
        let v1 = format!(r#"{{"codesResponse":{{"codesResponse":[{}]}}}}"#, item(""));
        let v2 = format!(r#"{{"codesResponse":[{}]}}"#, item(""));
        for body in [&v1, &v2] {
            let Outcome::Answer(e) = classify(200, body, &c) else { panic!("{body}") };
            let e = e[0].as_ref().unwrap();
            assert_eq!((e.req_id.as_deref(), e.req_timestamp, e.offline), (Some("r-1"), Some(1738932218989), false));
            assert_eq!(e.info.found, Some(true));
        }
        // Offline through the Local Module: string reqTimestamp, inst and version on the item.
        let off = r#"{"codesResponse":{"codesResponse":[{"code":0,"codes":[{"cis":"0104670540176099215'W9Um","found":false,
            "valid":false,"verified":false,"realizable":false,"utilised":false,"isBlocked":false,"ogvs":[]}],
            "reqId":"c9188551-817a-85a7-93e4-7042d907ab13","reqTimestamp":"1757681987579","isCheckedOffline":true,
            "version":"6e7f","inst":"i-9"}]}}"#;
        let Outcome::Answer(e) = classify(200, off, &c) else { panic!("{off}") };
        let e = e[0].as_ref().unwrap();
        assert!(e.offline);
        assert_eq!(e.req_timestamp, Some(1757681987579));
        assert_eq!((e.inst.as_deref(), e.version.as_deref()), (Some("i-9"), Some("6e7f")));
        // inst and version inside the code.
        let inner = r#"{"codesResponse":[{"code":0,"reqId":"r","reqTimestamp":5,"isCheckedOffline":true,
            "codes":[{"cis":"0104670540176099215'W9Um93dGVz","isBlocked":true,"inst":"i-2","version":"v-2"}]}]}"#;
        let Outcome::Answer(e) = classify(200, inner, &c) else { panic!() };
        let e = e[0].as_ref().unwrap();
        assert_eq!(
            (e.inst.as_deref(), e.version.as_deref(), e.info.is_blocked),
            (Some("i-2"), Some("v-2"), Some(true))
        );
        // 204 with a body is read as 200.
        assert!(matches!(classify(204, &v2, &c), Outcome::Answer(_)));
        // No entry for the code.
        let other = r#"{"codesResponse":[{"code":0,"codes":[{"cis":"x1"},{"cis":"x2"}]}]}"#;
        assert_eq!(classify(200, other, &c), Outcome::Answer(vec![None]));
    }

    #[test]
    fn the_failure_table() {
        let c = [code(DAIRY)];
        assert!(matches!(classify(203, "", &c), Outcome::Emergency { .. }));
        assert!(matches!(classify(200, r#"{"code":203,"description":"emergency"}"#, &c), Outcome::Emergency { .. }));
        for s in [514, 515, 516, 517, 518, 519, 520, 500, 502, 503, 504] {
            assert!(matches!(classify(s, "{}", &c), Outcome::Fallback { drop_version: false, .. }), "{s}");
        }
        match classify(200, r#"{"codesResponse":[{"code":5000,"description":"Transgran BY internal error"}]}"#, &c) {
            Outcome::Fallback { note, .. } => assert!(note.contains("5000") && note.contains("Transgran"), "{note}"),
            other => panic!("{other:?}"),
        }
        match classify(400, r#"{"code":400,"description":"codes[0]: not base64"}"#, &c) {
            Outcome::Refused { message } => assert!(message.contains("not base64"), "{message}"),
            other => panic!("{other:?}"),
        }
        for s in [401, 403, 405, 429] {
            match classify(s, "{}", &c) {
                Outcome::Fallback { note, drop_version } => {
                    assert!(note.contains(&s.to_string()));
                    assert!(!drop_version);
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(classify(404, "", &c), Outcome::Fallback { drop_version: true, .. }));
        assert!(matches!(classify(200, "", &c), Outcome::Fallback { .. }));
        assert!(matches!(classify(200, "<html>", &c), Outcome::Fallback { .. }));
        assert!(matches!(classify(200, r#"{"codesResponse":[]}"#, &c), Outcome::Fallback { .. }));
    }

    #[test]
    fn the_version_probe() {
        use ProbeReply::*;
        use ProbeStep::*;
        // v3 by GET.
        let mut p = Probe::new(None);
        assert_eq!(p.start(), Send { version: 3, post: false });
        assert_eq!(p.next(Ok), Found(3));
        // GET 404, POST 200.
        let mut p = Probe::new(None);
        assert_eq!(p.next(NotHere), Send { version: 3, post: true });
        assert_eq!(p.next(Ok), Found(3));
        // v3 GET 405 and POST 404, v2 GET 400 (no POST), v1 GET 404, POST 200.
        let mut p = Probe::new(None);
        assert_eq!(p.next(NotHere), Send { version: 3, post: true });
        assert_eq!(p.next(NotHere), Send { version: 2, post: false });
        assert_eq!(p.next(Client), Send { version: 1, post: false });
        assert_eq!(p.next(NotHere), Send { version: 1, post: true });
        assert_eq!(p.next(Ok), Found(1));
        // 5xx or no answer ends the probe.
        let mut p = Probe::new(None);
        assert_eq!(p.next(Down), Unavailable);
        // Every version refused.
        let mut p = Probe::new(None);
        assert_eq!(p.next(Client), Send { version: 2, post: false });
        assert_eq!(p.next(Client), Send { version: 1, post: false });
        assert_eq!(p.next(Client), Unavailable);
        // The remembered version first.
        let mut p = Probe::new(Some(1));
        assert_eq!(p.start(), Send { version: 1, post: false });
        assert_eq!(p.next(Client), Send { version: 3, post: false });
        assert_eq!(p.next(Client), Send { version: 2, post: false });
    }

    #[test]
    fn the_version_file() {
        let d = std::env::temp_dir().join(format!("kkt-tspiot-ver-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        assert_eq!(VersionFile::load(&d, "https://127.0.0.1:51401", 0), None);
        VersionFile::store(&d, "https://127.0.0.1:51401", 1, 1000).unwrap();
        assert_eq!(VersionFile::load(&d, "https://127.0.0.1:51401", 2000), Some(1));
        assert_eq!(VersionFile::load(&d, "https://127.0.0.1:51402", 2000), None);
        assert_eq!(VersionFile::load(&d, "https://127.0.0.1:51401", 1000 + VERSION_TTL_MS), None);
        VersionFile::drop_for(&d, "https://127.0.0.1:51401");
        assert_eq!(VersionFile::load(&d, "https://127.0.0.1:51401", 2000), None);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn the_register_binding() {
        let i = TsPiotInfo {
            fn_serial: Some("7380440700089917".into()),
            kkt_serial: Some("0000000001".into()),
            ..TsPiotInfo::default()
        };
        assert_eq!(matches_register(&i, None, None), None);
        assert_eq!(matches_register(&i, Some("7380440700089917"), None), Some(true));
        assert_eq!(matches_register(&i, Some("7380440700089918"), None), Some(false));
        assert_eq!(matches_register(&i, Some("7380440700089917"), Some("0000000002")), Some(false));
        // Serials of different lengths are not compared.
        assert_eq!(matches_register(&i, Some("7380440700089917"), Some("000000000002")), Some(true));
    }

    #[test]
    fn urls() {
        assert_eq!(normalize_url("127.0.0.1:51401").unwrap(), ("https://127.0.0.1:51401".into(), true));
        assert_eq!(normalize_url("http://localhost:51401/").unwrap(), ("http://localhost:51401".into(), true));
        assert!(normalize_url("http://10.0.0.5:51401").is_err());
        assert!(!normalize_url("https://10.0.0.5:51401").unwrap().1);
        assert!(TsPiot::new(TsPiotConfig { budget: Duration::from_secs(1), ..TsPiotConfig::new(DEFAULT_URL) }).is_err());
    }
}
