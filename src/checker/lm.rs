//! The Local Module «Честный знак» (ЛМ ЧЗ, seeds 000 and 001): the offline check used when the
//! online check gives no answer in its budget, or the ТС ПИОТ gives none (its check timeout,
//! HTTP 514–520, …). Default address `http://127.0.0.1:5995`.
//!
//! The module of 2025 speaks API v2; v1 is still met on older installations:
//!
//! * `GET /api/v2/status` (`/api/v1/status` on 404): `ready`, `initialization`,
//!   `not_configured`, `sync_error`, `failure`; only `ready` is trusted.
//! * `POST /api/v2/cis/outCheck` `{"cis_list": [{"cis": KI}], "tz"?}`: one result per KI, in the
//!   request's order; v1 `POST /api/v1/cis/outCheck` `{"cis_list": ["KI"]}`: one flat answer
//!   (and, older still, `GET /api/v1/cis/check?cis=KI` per code). A KI is the code without its
//!   crypto tail ([`ki`]); the full code is never sent.
//! * `POST /api/v2/init` `{"token"}` (v1 on 404): initialises a `not_configured` module.
//! * Errors: `{"errorCode", "reason"}`; 4045 and 4050 mean the module is not ready or its data
//!   are stale: reported, never trusted.
//! * Authentication, the first that applies ([`choose_auth`]): Basic from the user and
//!   password; `Token <uuid>` from the token; the ТС ПИОТ's `lm.token` while its `lm.expDate`
//!   has not passed; Basic from the ТС ПИОТ's `lm.login`/`lm.pass`. `X-ClientId` carries the FN
//!   serial when the register is known.
//!
//! Bodies are built and answers read by pure functions ([`out_check_body`], [`parse_status`],
//! [`parse_out_check_v2`], [`parse_out_check_v1`]); [`Lm`] only moves bytes.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use serde::Serialize;
use serde_json::Value;

use super::secret::Secret;
use super::tspiot::LmInfo;
use crate::marking::model::{CheckAnswer, CodeInfo};
use crate::marking::MarkingCode;

/// The module's usual address.
pub const DEFAULT_URL: &str = "http://127.0.0.1:5995";
/// Status, API v2.
pub const STATUS_PATH: &str = "/api/v2/status";
/// Status, API v1.
pub const STATUS_PATH_V1: &str = "/api/v1/status";
/// Check KIs, API v2.
pub const OUT_CHECK_PATH: &str = "/api/v2/cis/outCheck";
/// Check KIs, API v1.
pub const OUT_CHECK_PATH_V1: &str = "/api/v1/cis/outCheck";
/// Check one KI (the oldest modules).
pub const CHECK_PATH_V1: &str = "/api/v1/cis/check";
/// Initialise, API v2.
pub const INIT_PATH: &str = "/api/v2/init";
/// Initialise, API v1.
pub const INIT_PATH_V1: &str = "/api/v1/init";

/// The error codes that mean "not ready, or its data are stale".
pub const NOT_READY_CODES: [i64; 2] = [4045, 4050];

/// The module's API generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LmApi {
    /// `/api/v1/…`.
    V1,
    /// `/api/v2/…`.
    V2,
}

/// How to reach the module.
#[derive(Debug, Clone)]
pub struct LmConfig {
    /// Base URL.
    pub url: String,
    /// Basic-auth user (`--lm-user`).
    pub user: Option<String>,
    /// Basic-auth password (`--lm-password`).
    pub password: Option<Secret>,
    /// `Authorization: Token …` (`--lm-token`, `KKT_LM_TOKEN`).
    pub token: Option<Secret>,
    /// Timeout of each request when no deadline is given.
    pub timeout: Duration,
    /// The shop's time-zone number (`tz` of outCheck v2), when known.
    pub tz: Option<u8>,
}

impl LmConfig {
    /// The module at `url` with a 1.5 s timeout, no credentials.
    pub fn new(url: impl Into<String>) -> Self {
        LmConfig {
            url: url.into(),
            user: None,
            password: None,
            token: None,
            timeout: Duration::from_millis(1500),
            tz: None,
        }
    }
}

/// What the status endpoint says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LmStatus {
    /// `ready`, `initialization`, `not_configured`, `sync_error`, `failure`, …
    pub status: String,
    /// The module's version.
    pub version: Option<String>,
    /// The instance id.
    pub inst: Option<String>,
    /// The database version.
    pub db_version: Option<String>,
    /// Last synchronisation, Unix ms.
    pub last_sync: Option<i64>,
    /// `active`, …
    pub operation_mode: Option<String>,
    /// The whole answer.
    pub raw: Value,
}

impl LmStatus {
    /// Only a `ready` module is trusted.
    pub fn ready(&self) -> bool {
        self.status.eq_ignore_ascii_case("ready")
    }
}

/// Errors talking to the module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LmError {
    /// Not reachable (refused, reset, no answer in time).
    #[error("Local Module at {url} is not reachable: {why}")]
    Unreachable {
        /// Its URL.
        url: String,
        /// Why.
        why: String,
    },
    /// HTTP 401/403.
    #[error("Local Module refused the credentials (HTTP {0}): check --lm-user/--lm-password or --lm-token")]
    Auth(u16),
    /// Another HTTP error.
    #[error("Local Module answered HTTP {status}: {text}")]
    Http {
        /// Status.
        status: u16,
        /// Its text.
        text: String,
    },
    /// An error body `{"errorCode", "reason"}` (4045, 4050: not ready or stale data).
    #[error("Local Module error {code}: {reason}")]
    Module {
        /// `errorCode`.
        code: i64,
        /// `reason`.
        reason: String,
    },
    /// An answer that cannot be read.
    #[error("Local Module answer cannot be read: {0}")]
    BadAnswer(String),
    /// Not ready (reported, not trusted).
    #[error("Local Module is not ready (status {0:?}): its answers are not trusted")]
    NotReady(String),
    /// A URL that is not understood.
    #[error("Local Module URL {0:?} is not valid")]
    Url(String),
}

impl LmError {
    /// True for the errors that say the module is not ready or its data are stale.
    pub fn not_ready(&self) -> bool {
        match self {
            LmError::NotReady(_) => true,
            LmError::Module { code, .. } => NOT_READY_CODES.contains(code),
            _ => false,
        }
    }
}

/// The `Authorization` a request carries.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Basic base64(user:password)`.
    Basic {
        /// User.
        user: String,
        /// Password.
        password: Secret,
    },
    /// `Token <uuid>`.
    Token(Secret),
    /// No header.
    None,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Basic { user, .. } => write!(f, "Basic({user}:***)"),
            Auth::Token(_) => f.write_str("Token(***)"),
            Auth::None => f.write_str("None"),
        }
    }
}

impl Auth {
    /// The header value.
    pub fn header(&self) -> Option<String> {
        match self {
            Auth::Basic { user, password } => {
                let enc = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.expose()));
                Some(format!("Basic {enc}"))
            }
            Auth::Token(t) => Some(format!("Token {}", t.expose())),
            Auth::None => None,
        }
    }

    /// Which kind, for the log (never the secret).
    pub fn kind(&self) -> &'static str {
        match self {
            Auth::Basic { .. } => "basic",
            Auth::Token(_) => "token",
            Auth::None => "none",
        }
    }
}

/// The authentication to send, the first that applies: Basic from the configured user and
/// password; the configured token; the ТС ПИОТ's `lm.token` while its `lm.expDate` has not
/// passed (an expired token is never sent; one without a date is sent); Basic from the ТС ПИОТ's
/// `lm.login`/`lm.pass`; none.
pub fn choose_auth(cfg: &LmConfig, tspiot: Option<&LmInfo>, now_ms: i64) -> Auth {
    if let Some(u) = cfg.user.as_ref().filter(|u| !u.is_empty()) {
        return Auth::Basic { user: u.clone(), password: cfg.password.clone().unwrap_or_else(|| Secret::new("")) };
    }
    if let Some(t) = cfg.token.as_ref().filter(|t| !t.expose().is_empty()) {
        return Auth::Token(t.clone());
    }
    if let Some(info) = tspiot {
        if let Some(t) = info.token.as_ref().filter(|t| !t.expose().is_empty()) {
            let valid = match info.exp_date.as_deref() {
                None => true,
                Some(d) => super::rules::parse_service_time(d).is_some_and(|exp| exp > now_ms),
            };
            if valid {
                return Auth::Token(t.clone());
            }
        }
        if let Some(u) = info.login.as_ref().filter(|u| !u.is_empty()) {
            return Auth::Basic { user: u.clone(), password: info.pass.clone().unwrap_or_else(|| Secret::new("")) };
        }
    }
    Auth::None
}

/// The code's identifier without its crypto tail, as the module takes it: `01` GTIN `21`
/// serial for a GS1 code, GTIN 14 + serial 7 for a 29-character tobacco pack.
pub fn ki(code: &MarkingCode) -> String {
    code.print_view()
}

/// The outCheck body: v2 `{"cis_list": [{"cis": KI, "pg"?}], "tz"?}`, v1 `{"cis_list": ["KI"]}`.
/// `pg` is omitted when the product group is not known.
pub fn out_check_body(api: LmApi, kis: &[String], groups: &[Option<u32>], tz: Option<u8>) -> String {
    match api {
        LmApi::V1 => serde_json::json!({ "cis_list": kis }).to_string(),
        LmApi::V2 => {
            let list: Vec<Value> = kis
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let mut o = serde_json::json!({ "cis": k });
                    if let Some(pg) = groups.get(i).copied().flatten() {
                        o["pg"] = pg.into();
                    }
                    o
                })
                .collect();
            let mut body = serde_json::json!({ "cis_list": list });
            if let Some(tz) = tz {
                body["tz"] = tz.into();
            }
            body.to_string()
        }
    }
}

fn text_of(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn int_of(v: &Value, k: &str) -> Option<i64> {
    match v.get(k)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An error body `{"errorCode", "reason"}` (None when the body is not one, or its code is 0).
pub fn parse_error(body: &str) -> Option<LmError> {
    let v: Value = serde_json::from_str(body).ok()?;
    let code = int_of(&v, "errorCode").filter(|&c| c != 0)?;
    let reason = text_of(&v, "reason").or_else(|| text_of(&v, "description")).unwrap_or_default();
    Some(LmError::Module { code, reason })
}

/// Reads a status answer.
pub fn parse_status(body: &str) -> Result<LmStatus, LmError> {
    if let Some(e) = parse_error(body) {
        return Err(e);
    }
    let raw: Value = serde_json::from_str(body).map_err(|e| LmError::BadAnswer(e.to_string()))?;
    if !raw.is_object() {
        return Err(LmError::BadAnswer("the status is not a JSON object".into()));
    }
    Ok(LmStatus {
        status: text_of(&raw, "status").unwrap_or_else(|| "unknown".into()),
        version: text_of(&raw, "version"),
        inst: text_of(&raw, "inst"),
        db_version: text_of(&raw, "dbVersion"),
        last_sync: int_of(&raw, "lastSync"),
        operation_mode: text_of(&raw, "operationMode"),
        raw,
    })
}

/// The module's answer for one KI.
#[derive(Debug, Clone, PartialEq)]
pub enum LmCode {
    /// The module's entry for the code.
    Entry {
        /// The entry (`isBlocked`, `sold`, …).
        info: Box<CodeInfo>,
        /// `reqId`.
        req_id: Option<String>,
        /// `reqTimestamp`, Unix ms.
        req_timestamp: Option<i64>,
        /// `inst`.
        inst: Option<String>,
        /// `version`.
        version: Option<String>,
    },
    /// The module could not read this KI (an inner code 400): the code is refused.
    Refused {
        /// The module's description.
        description: String,
    },
    /// No usable answer for this code.
    Missing {
        /// Why.
        why: String,
    },
}

fn norm(s: &str) -> String {
    s.replace('\u{1d}', "")
}

fn entry_from(result: &Value, ki: &str) -> LmCode {
    let code = int_of(result, "code").unwrap_or(0);
    let description = text_of(result, "description").unwrap_or_default();
    if code == 400 {
        return LmCode::Refused {
            description: if description.is_empty() {
                "the Local Module cannot read the code".into()
            } else {
                description
            },
        };
    }
    if code != 0 {
        return LmCode::Missing { why: format!("the Local Module answered code {code} for this code: {description}") };
    }
    let codes: Vec<Value> = result.get("codes").and_then(Value::as_array).cloned().unwrap_or_default();
    let pick = codes
        .iter()
        .find(|c| c.get("cis").and_then(Value::as_str).map(norm).as_deref() == Some(ki))
        .or_else(|| codes.iter().find(|c| c.get("printView").and_then(Value::as_str) == Some(ki)))
        .or_else(|| (codes.len() == 1).then(|| &codes[0]));
    let Some(c) = pick else {
        return LmCode::Missing { why: "the Local Module has no entry for this code".into() };
    };
    let info: CodeInfo = match serde_json::from_value(c.clone()) {
        Ok(i) => i,
        Err(e) => return LmCode::Missing { why: format!("the Local Module's entry cannot be read: {e}") },
    };
    LmCode::Entry {
        info: Box::new(info),
        req_id: text_of(result, "reqId").or_else(|| text_of(c, "reqId")),
        req_timestamp: int_of(result, "reqTimestamp").or_else(|| int_of(c, "reqTimestamp")),
        inst: text_of(result, "inst").or_else(|| text_of(c, "inst")),
        version: text_of(result, "version").or_else(|| text_of(c, "version")),
    }
}

fn result_cis(r: &Value) -> Option<String> {
    r.get("cis").and_then(Value::as_str).or_else(|| r.get("codes")?.as_array()?.first()?.get("cis")?.as_str()).map(norm)
}

/// Reads an outCheck v2 answer `{"results": [...]}` for `kis`: one result per KI in the request's
/// order, matched by `cis` where the result gives one, else by position. A flat (v1) answer is
/// taken too.
pub fn parse_out_check_v2(body: &str, kis: &[String]) -> Result<Vec<LmCode>, LmError> {
    if let Some(e) = parse_error(body) {
        return Err(e);
    }
    let v: Value = serde_json::from_str(body).map_err(|e| LmError::BadAnswer(e.to_string()))?;
    let Some(results) = v.get("results").and_then(Value::as_array) else {
        if v.get("codes").is_some() {
            return Ok(kis.iter().map(|k| entry_from(&v, k)).collect());
        }
        return Err(LmError::BadAnswer("no `results` in the outCheck answer".into()));
    };
    let mut used = vec![false; results.len()];
    let by_cis: Vec<Option<String>> = results.iter().map(result_cis).collect();
    Ok(kis
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let at = by_cis
                .iter()
                .enumerate()
                .position(|(j, c)| !used[j] && c.as_deref() == Some(k.as_str()))
                .or_else(|| (i < results.len() && !used[i] && by_cis[i].is_none()).then_some(i))
                .or_else(|| (i < results.len() && !used[i] && results.len() == kis.len()).then_some(i));
            match at {
                Some(j) => {
                    used[j] = true;
                    entry_from(&results[j], k)
                }
                None => LmCode::Missing { why: "the Local Module gave no result for this code".into() },
            }
        })
        .collect())
}

/// Reads an outCheck v1 answer (one flat object with `codes`) for `kis`.
pub fn parse_out_check_v1(body: &str, kis: &[String]) -> Result<Vec<LmCode>, LmError> {
    if let Some(e) = parse_error(body) {
        return Err(e);
    }
    let v: Value = serde_json::from_str(body).map_err(|e| LmError::BadAnswer(e.to_string()))?;
    let a: CheckAnswer = serde_json::from_value(v.clone()).map_err(|e| LmError::BadAnswer(e.to_string()))?;
    match a.code {
        Some(0) | None => {}
        Some(400) => {
            let d = a.description.unwrap_or_default();
            return Ok(kis.iter().map(|_| LmCode::Refused { description: d.clone() }).collect());
        }
        Some(c) => return Err(LmError::BadAnswer(format!("code {c}: {}", a.description.unwrap_or_default()))),
    }
    let version = text_of(&v, "version");
    Ok(kis
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let info = a
                .codes
                .iter()
                .find(|c| c.cis.as_deref().map(norm).as_deref() == Some(k.as_str()))
                .or_else(|| a.codes.iter().find(|c| c.print_view.as_deref() == Some(k.as_str())))
                .or_else(|| (a.codes.len() == kis.len()).then(|| &a.codes[i]));
            match info {
                Some(info) => LmCode::Entry {
                    info: Box::new(info.clone()),
                    req_id: a.req_id.clone(),
                    req_timestamp: a.req_timestamp,
                    inst: a.inst.clone(),
                    version: version.clone(),
                },
                None => LmCode::Missing { why: "the Local Module has no entry for this code".into() },
            }
        })
        .collect())
}

/// A Local Module answer: one result per code, and the module's status when asked.
#[derive(Debug, Clone, PartialEq)]
pub struct LmAnswer {
    /// Per code, in the request's order.
    pub results: Vec<LmCode>,
    /// The module's status when asked.
    pub status: LmStatus,
    /// The API that answered.
    pub api: LmApi,
}

/// The client.
#[derive(Debug)]
pub struct Lm {
    cfg: LmConfig,
    base: String,
    agent: ureq::Agent,
    api: Mutex<Option<LmApi>>,
    client_id: Mutex<Option<String>>,
}

impl Clone for Lm {
    fn clone(&self) -> Self {
        Lm {
            cfg: self.cfg.clone(),
            base: self.base.clone(),
            agent: self.agent.clone(),
            api: Mutex::new(*self.api.lock().expect("not poisoned")),
            client_id: Mutex::new(self.client_id.lock().expect("not poisoned").clone()),
        }
    }
}

struct Reply {
    status: u16,
    body: String,
}

impl Lm {
    /// A client (`http://` added when no scheme is given).
    pub fn new(cfg: LmConfig) -> Result<Lm, LmError> {
        let with_scheme = if cfg.url.contains("://") { cfg.url.clone() } else { format!("http://{}", cfg.url) };
        let u = url::Url::parse(&with_scheme).map_err(|_| LmError::Url(cfg.url.clone()))?;
        if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
            return Err(LmError::Url(cfg.url.clone()));
        }
        let base = u.as_str().trim_end_matches('/').to_string();
        let agent = ureq::AgentBuilder::new().timeout_connect(cfg.timeout).redirects(0).build();
        Ok(Lm { cfg, base, agent, api: Mutex::new(None), client_id: Mutex::new(None) })
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// The configuration.
    pub fn config(&self) -> &LmConfig {
        &self.cfg
    }

    /// The API generation found so far (None before the first status).
    pub fn api(&self) -> Option<LmApi> {
        *self.api.lock().expect("not poisoned")
    }

    /// Sets `X-ClientId` (the register's FN serial).
    pub fn set_client_id(&self, fn_serial: Option<String>) {
        *self.client_id.lock().expect("not poisoned") = fn_serial.filter(|s| !s.trim().is_empty());
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        auth: &Auth,
        deadline: Instant,
    ) -> Result<Reply, LmError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(LmError::Unreachable { url: self.base.clone(), why: "no time left in the budget".into() });
        }
        let mut req = self
            .agent
            .request(method, &format!("{}{path}", self.base))
            .timeout(left + super::tspiot::ABANDON_AFTER)
            .set("Accept", "application/json")
            .set("Content-Type", "application/json");
        if let Some(h) = auth.header() {
            req = req.set("Authorization", &h);
        }
        if let Some(id) = self.client_id.lock().expect("not poisoned").clone() {
            req = req.set("X-ClientId", &id);
        }
        let body = body.map(str::to_string);
        let res = super::tspiot::within(left, move || {
            let r = match body {
                Some(b) => req.send_string(&b),
                None => req.call(),
            };
            match r {
                Ok(resp) => {
                    let status = resp.status();
                    resp.into_string().map(|b| (status, b)).map_err(|e| e.to_string())
                }
                Err(ureq::Error::Status(s, resp)) => Ok((s, resp.into_string().unwrap_or_default())),
                Err(ureq::Error::Transport(t)) => Err(t.to_string()),
            }
        });
        let scrub = |s: String| match auth {
            Auth::Basic { password, .. } => password.scrub(&s),
            Auth::Token(t) => t.scrub(&s),
            Auth::None => s,
        };
        match res {
            None => Err(LmError::Unreachable {
                url: self.base.clone(),
                why: format!("no answer within {} ms", left.as_millis()),
            }),
            Some(Ok((s @ (401 | 403), _))) => Err(LmError::Auth(s)),
            Some(Ok((status, body))) => Ok(Reply { status, body }),
            Some(Err(why)) => Err(LmError::Unreachable { url: self.base.clone(), why: scrub(why) }),
        }
    }

    fn http_error(r: &Reply) -> LmError {
        parse_error(&r.body)
            .unwrap_or_else(|| LmError::Http { status: r.status, text: r.body.chars().take(200).collect() })
    }

    /// The status (v2, v1 on 404) with the configured credentials.
    pub fn status(&self) -> Result<LmStatus, LmError> {
        let auth = choose_auth(&self.cfg, None, super::gismt::now_ms());
        self.status_with(&auth, Instant::now() + self.cfg.timeout).map(|(s, _)| s)
    }

    /// The status and the API that gave it, with `auth`, before `deadline`.
    pub fn status_with(&self, auth: &Auth, deadline: Instant) -> Result<(LmStatus, LmApi), LmError> {
        if self.api() != Some(LmApi::V1) {
            let r = self.send("GET", STATUS_PATH, None, auth, deadline)?;
            match r.status {
                200 => {
                    *self.api.lock().expect("not poisoned") = Some(LmApi::V2);
                    return parse_status(&r.body).map(|s| (s, LmApi::V2));
                }
                404 => {}
                _ => return Err(Self::http_error(&r)),
            }
        }
        let r = self.send("GET", STATUS_PATH_V1, None, auth, deadline)?;
        if r.status != 200 {
            return Err(Self::http_error(&r));
        }
        *self.api.lock().expect("not poisoned") = Some(LmApi::V1);
        parse_status(&r.body).map(|s| (s, LmApi::V1))
    }

    /// Checks codes with the configured credentials and the configured timeout.
    pub fn check(&self, codes: &[MarkingCode]) -> Result<LmAnswer, LmError> {
        self.check_within(codes, None, Instant::now() + self.cfg.timeout * 2)
    }

    /// Checks codes before `deadline`: the module must be `ready`; then outCheck with the KIs.
    /// `tspiot` is the ТС ПИОТ's `lm` block (for its token or login when none is configured).
    pub fn check_within(
        &self,
        codes: &[MarkingCode],
        tspiot: Option<&LmInfo>,
        deadline: Instant,
    ) -> Result<LmAnswer, LmError> {
        let auth = choose_auth(&self.cfg, tspiot, super::gismt::now_ms());
        tracing::debug!(target: "kkt::lm", url = %self.base, auth = auth.kind(), codes = codes.len(), "Local Module check");
        let (status, api) = self.status_with(&auth, deadline)?;
        if !status.ready() {
            return Err(LmError::NotReady(status.status));
        }
        let kis: Vec<String> = codes.iter().map(ki).collect();
        let groups = vec![None; kis.len()];
        let results = match api {
            LmApi::V2 => {
                let r = self.send(
                    "POST",
                    OUT_CHECK_PATH,
                    Some(&out_check_body(api, &kis, &groups, self.cfg.tz)),
                    &auth,
                    deadline,
                )?;
                if r.status != 200 {
                    return Err(Self::http_error(&r));
                }
                parse_out_check_v2(&r.body, &kis)?
            }
            LmApi::V1 => {
                let r = self.send(
                    "POST",
                    OUT_CHECK_PATH_V1,
                    Some(&out_check_body(api, &kis, &groups, None)),
                    &auth,
                    deadline,
                )?;
                match r.status {
                    200 => parse_out_check_v1(&r.body, &kis)?,
                    404 | 405 => {
                        let mut out = Vec::with_capacity(kis.len());
                        for k in &kis {
                            let q: String = url::form_urlencoded::byte_serialize(k.as_bytes()).collect();
                            let r = self.send("GET", &format!("{CHECK_PATH_V1}?cis={q}"), None, &auth, deadline)?;
                            if r.status != 200 {
                                return Err(Self::http_error(&r));
                            }
                            out.extend(parse_out_check_v1(&r.body, std::slice::from_ref(k))?);
                        }
                        out
                    }
                    _ => return Err(Self::http_error(&r)),
                }
            }
        };
        Ok(LmAnswer { results, status, api })
    }

    /// Initialises a `not_configured` module with the organisation's token (`/api/v2/init`, v1
    /// on 404). The token goes in the body and nowhere else.
    pub fn init(&self, token: &Secret) -> Result<LmApi, LmError> {
        let auth = choose_auth(&self.cfg, None, super::gismt::now_ms());
        let deadline = Instant::now() + self.cfg.timeout.max(Duration::from_secs(10));
        let body = serde_json::json!({ "token": token.expose() }).to_string();
        let mut api = LmApi::V2;
        let mut r = self.send("POST", INIT_PATH, Some(&body), &auth, deadline)?;
        if r.status == 404 {
            api = LmApi::V1;
            r = self.send("POST", INIT_PATH_V1, Some(&body), &auth, deadline)?;
        }
        if !(200..300).contains(&r.status) {
            return Err(match Self::http_error(&r) {
                LmError::Http { status, text } => LmError::Http { status, text: token.scrub(&text) },
                e => e,
            });
        }
        if let Some(e) = parse_error(&r.body) {
            return Err(e);
        }
        *self.api.lock().expect("not poisoned") = Some(api);
        Ok(api)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> MarkingCode {
        MarkingCode::parse(s).unwrap()
    }

    #[test]
    fn urls() {
        assert_eq!(Lm::new(LmConfig::new("127.0.0.1:5995")).unwrap().url(), "http://127.0.0.1:5995");
        assert_eq!(Lm::new(LmConfig::new("http://192.168.0.117:5995/")).unwrap().url(), "http://192.168.0.117:5995");
        assert!(Lm::new(LmConfig::new("ftp://x")).is_err());
    }

    #[test]
    fn kis_drop_the_crypto_tail() {
        assert_eq!(ki(&code("0104670540176099215'W9Um\u{1d}93dGVz")), "0104670540176099215'W9Um");
        assert_eq!(
            ki(&code(
                "010464007801637221gDDJ2VMOqvdNG\u{1d}91FFD0\u{1d}92dGVzdIjNx7Hb93pmLsV+niIDiJWV8ZFAjQdF9b2BO/o="
            )),
            "010464007801637221gDDJ2VMOqvdNG"
        );
        assert_eq!(ki(&code("04601653035829H;dV)bFACVUdGVz")), "04601653035829H;dV)bF");
    }

    #[test]
    fn bodies() {
        let kis = vec!["0104670540176099215'W9Um".to_string(), "04601653035829H;dV)bF".to_string()];
        assert_eq!(
            out_check_body(LmApi::V2, &kis, &[None, Some(3)], Some(2)),
            r#"{"cis_list":[{"cis":"0104670540176099215'W9Um"},{"cis":"04601653035829H;dV)bF","pg":3}],"tz":2}"#
        );
        assert_eq!(
            out_check_body(LmApi::V1, &kis, &[], None),
            r#"{"cis_list":["0104670540176099215'W9Um","04601653035829H;dV)bF"]}"#
        );
        // A quote or backslash in a serial is JSON-escaped.
        let odd = vec!["010467054017609921\"a\\b".to_string()];
        let b = out_check_body(LmApi::V2, &odd, &[], None);
        assert_eq!(b, r#"{"cis_list":[{"cis":"010467054017609921\"a\\b"}]}"#);
        let v: Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["cis_list"][0]["cis"], odd[0].as_str());
    }

    #[test]
    fn status_answers() {
        // The seed 001 answer.
        let s = parse_status(
            r#"{"version":"1.2.0-326","status":"ready","operationMode":"active","lastSync":1739457221213,
            "inst":"7a1b9bec-d7a1-4d06-bc6d-be484ece9202","dbVersion":"de66b749-6764-4b63-821b-351ba4482664"}"#,
        )
        .unwrap();
        assert!(s.ready());
        assert_eq!(s.version.as_deref(), Some("1.2.0-326"));
        assert_eq!(s.last_sync, Some(1739457221213));
        assert_eq!(s.db_version.as_deref(), Some("de66b749-6764-4b63-821b-351ba4482664"));
        assert_eq!(s.operation_mode.as_deref(), Some("active"));
        for st in ["not_configured", "initialization", "sync_error", "failure"] {
            assert!(!parse_status(&format!(r#"{{"status":"{st}","lastSync":"0"}}"#)).unwrap().ready());
        }
        let e = parse_status(r#"{"errorCode":4045,"reason":"module is not ready"}"#).unwrap_err();
        assert!(e.not_ready(), "{e}");
        assert!(parse_status("[]").is_err());
    }

    #[test]
    fn v2_results_per_ki() {
        let kis =
            vec!["0104670540176099215'W9Um".to_string(), "bad ki".to_string(), "04601653035829H;dV)bF".to_string()];
        // Out of order, one malformed (inner 400 without cis).
        let body = r#"{"results":[
            {"code":0,"description":"ok","reqId":"r-3","reqTimestamp":"1738932218989","inst":"i-1","version":"2.0.1",
             "codes":[{"cis":"04601653035829H;dV)bF","gtin":"04601653035829","isBlocked":false,"sold":true,"mrp":14500}]},
            {"code":400,"description":"invalid cis"},
            {"code":0,"description":"ok","reqId":"r-1","reqTimestamp":1738932218990,"inst":"i-1","version":"2.0.1",
             "codes":[{"cis":"0104670540176099215'W9Um","gtin":"04670540176099","isBlocked":true,"sold":false}]}]}"#;
        // The result without a cis sits at index 1, which is the malformed KI's position.
        let r = parse_out_check_v2(body, &kis).unwrap();
        match &r[0] {
            LmCode::Entry { info, req_id, req_timestamp, inst, version } => {
                assert_eq!(info.is_blocked, Some(true));
                assert_eq!(req_id.as_deref(), Some("r-1"));
                assert_eq!(*req_timestamp, Some(1738932218990));
                assert_eq!((inst.as_deref(), version.as_deref()), (Some("i-1"), Some("2.0.1")));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r[1], LmCode::Refused { description: "invalid cis".into() });
        match &r[2] {
            LmCode::Entry { info, req_timestamp, .. } => {
                assert_eq!((info.sold, info.mrp), (Some(true), Some(14500)));
                assert_eq!(*req_timestamp, Some(1738932218989));
            }
            other => panic!("{other:?}"),
        }
        // By position when no result names its cis.
        let body = r#"{"results":[{"code":0,"reqId":"a","reqTimestamp":1,"codes":[{"isBlocked":false}]},
                                  {"code":0,"reqId":"b","reqTimestamp":2,"codes":[{"isBlocked":true}]}]}"#;
        let r = parse_out_check_v2(body, &kis[..2]).unwrap();
        assert!(matches!(&r[1], LmCode::Entry { info, .. } if info.is_blocked == Some(true)));
        // Too few results.
        let r = parse_out_check_v2(r#"{"results":[]}"#, &kis[..1]).unwrap();
        assert!(matches!(r[0], LmCode::Missing { .. }));
        assert!(parse_out_check_v2(r#"{"errorCode":4050,"reason":"stale"}"#, &kis).unwrap_err().not_ready());
        assert!(parse_out_check_v2("{}", &kis).is_err());
    }

    #[test]
    fn v1_flat_answer() {
        // The seed 001 answer.
        let body = r#"{"reqId":"bfa41a5f-8d1f-8084-2ee6-548af2000ff5","reqTimestamp":1738932218989,
            "inst":"ebf70f9d-44da-49ad-a272-17047acc4e18","description":"ok","codes":[{"printView":
            "0104850013000162215!!Y!BsOtaR_n","isBlocked":true,"gtin":"04850013000162",
            "cis":"0104850013000162215!!Y!BsOtaR_n"}],"code":0}"#;
        let r = parse_out_check_v1(body, &["0104850013000162215!!Y!BsOtaR_n".to_string()]).unwrap();
        match &r[0] {
            LmCode::Entry { info, inst, version, .. } => {
                assert_eq!(info.is_blocked, Some(true));
                assert_eq!(inst.as_deref(), Some("ebf70f9d-44da-49ad-a272-17047acc4e18"));
                assert_eq!(*version, None);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse_out_check_v1(r#"{"code":3,"description":"bad"}"#, &[]), Err(LmError::BadAnswer(_))));
        assert!(parse_out_check_v1("nope", &[]).is_err());
    }

    #[test]
    fn auth_order() {
        let now = 1_700_000_000_000;
        let mut cfg = LmConfig::new("x");
        let info = LmInfo {
            token: Some(Secret::new("tok-from-tspiot")),
            exp_date: Some("2099-01-01T00:00:00Z".into()),
            login: Some("esm".into()),
            pass: Some(Secret::new("esm-pass")),
            ..LmInfo::default()
        };
        assert_eq!(choose_auth(&cfg, None, now), Auth::None);
        assert_eq!(choose_auth(&cfg, Some(&info), now), Auth::Token(Secret::new("tok-from-tspiot")));
        let expired = LmInfo { exp_date: Some("2020-01-01T00:00:00.000Z".into()), ..info.clone() };
        assert_eq!(
            choose_auth(&cfg, Some(&expired), now),
            Auth::Basic { user: "esm".into(), password: Secret::new("esm-pass") }
        );
        cfg.token = Some(Secret::new("cli-token"));
        assert_eq!(choose_auth(&cfg, Some(&info), now), Auth::Token(Secret::new("cli-token")));
        cfg.user = Some("admin".into());
        cfg.password = Some(Secret::new("pw"));
        let a = choose_auth(&cfg, Some(&info), now);
        assert_eq!(a.header().unwrap(), "Basic YWRtaW46cHc=");
        assert!(!format!("{a:?}").contains("pw"));
        assert_eq!(Auth::Token(Secret::new("u-1")).header().unwrap(), "Token u-1");
    }
}
