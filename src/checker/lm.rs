//! The Local Module «Честный знак» (ЛМ ЧЗ, seeds 000 and 001): the offline check used when the
//! online check gives no answer in its budget or a ТС ПИОТ answers 514–520. Default address
//! `http://127.0.0.1:5995`, HTTP basic authentication.
//!
//! `GET /api/v1/status` tells whether the module is `ready` (or `initialization`,
//! `not_configured`, `sync_error`); a module that is not ready is reported, not trusted.
//! `POST /api/v1/cis/outCheck` with `{"cis_list": [...]}` checks codes; the older
//! `GET /api/v1/cis/check?cis=` is the fallback.

use std::time::Duration;

use base64::Engine;
use serde::Serialize;

use super::secret::Secret;
use crate::marking::model::CheckAnswer;
use crate::marking::MarkingCode;

/// The module's usual address.
pub const DEFAULT_URL: &str = "http://127.0.0.1:5995";
/// Status.
pub const STATUS_PATH: &str = "/api/v1/status";
/// Check codes (current).
pub const OUT_CHECK_PATH: &str = "/api/v1/cis/outCheck";
/// Check one code (older modules).
pub const CHECK_PATH: &str = "/api/v1/cis/check";

/// How to reach the module.
#[derive(Debug, Clone)]
pub struct LmConfig {
    /// Base URL.
    pub url: String,
    /// Basic-auth user.
    pub user: Option<String>,
    /// Basic-auth password.
    pub password: Option<Secret>,
    /// Timeout of each request.
    pub timeout: Duration,
}

impl LmConfig {
    /// The module at `url` with a 1.5 s timeout.
    pub fn new(url: impl Into<String>) -> Self {
        LmConfig { url: url.into(), user: None, password: None, timeout: Duration::from_millis(1500) }
    }
}

/// What `/api/v1/status` says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LmStatus {
    /// `ready`, `initialization`, `not_configured`, `sync_error`, …
    pub status: String,
    /// The module's version.
    pub version: Option<String>,
    /// The instance id.
    pub inst: Option<String>,
    /// Last synchronisation, Unix ms.
    pub last_sync: Option<i64>,
    /// The whole answer.
    pub raw: serde_json::Value,
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
    /// Not reachable.
    #[error("Local Module at {url} is not reachable: {why}")]
    Unreachable {
        /// Its URL.
        url: String,
        /// Why.
        why: String,
    },
    /// HTTP 401/403.
    #[error("Local Module refused the user or password (HTTP {0})")]
    Auth(u16),
    /// Another HTTP error.
    #[error("Local Module answered HTTP {status}: {text}")]
    Http {
        /// Status.
        status: u16,
        /// Its text.
        text: String,
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

/// The client.
#[derive(Debug, Clone)]
pub struct Lm {
    cfg: LmConfig,
    base: String,
    agent: ureq::Agent,
}

/// A Local Module answer with the module's identity (for tag 1265).
#[derive(Debug, Clone, PartialEq)]
pub struct LmAnswer {
    /// The answer.
    pub answer: CheckAnswer,
    /// The module's status when asked.
    pub status: LmStatus,
}

impl Lm {
    /// A client.
    pub fn new(cfg: LmConfig) -> Result<Lm, LmError> {
        let with_scheme = if cfg.url.contains("://") { cfg.url.clone() } else { format!("http://{}", cfg.url) };
        let u = url::Url::parse(&with_scheme).map_err(|_| LmError::Url(cfg.url.clone()))?;
        if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
            return Err(LmError::Url(cfg.url.clone()));
        }
        let base = u.as_str().trim_end_matches('/').to_string();
        let agent = ureq::AgentBuilder::new().timeout(cfg.timeout).redirects(0).build();
        Ok(Lm { cfg, base, agent })
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn auth(&self, req: ureq::Request) -> ureq::Request {
        match (&self.cfg.user, &self.cfg.password) {
            (Some(u), p) => {
                let pair = format!("{u}:{}", p.as_ref().map(Secret::expose).unwrap_or(""));
                let enc = base64::engine::general_purpose::STANDARD.encode(pair);
                req.set("Authorization", &format!("Basic {enc}"))
            }
            _ => req,
        }
    }

    fn send(&self, req: ureq::Request, body: Option<&str>) -> Result<(u16, String), LmError> {
        let req = self.auth(req).set("Content-Type", "application/json");
        let res = match body {
            Some(b) => req.send_string(b),
            None => req.call(),
        };
        match res {
            Ok(r) => {
                let status = r.status();
                r.into_string().map(|b| (status, b)).map_err(|e| LmError::BadAnswer(e.to_string()))
            }
            Err(ureq::Error::Status(s @ (401 | 403), _)) => Err(LmError::Auth(s)),
            Err(ureq::Error::Status(s, r)) => Ok((s, r.into_string().unwrap_or_default())),
            Err(ureq::Error::Transport(t)) => Err(LmError::Unreachable { url: self.base.clone(), why: t.to_string() }),
        }
    }

    /// `GET /api/v1/status`.
    pub fn status(&self) -> Result<LmStatus, LmError> {
        let (s, body) = self.send(self.agent.get(&format!("{}{STATUS_PATH}", self.base)), None)?;
        if s != 200 {
            return Err(LmError::Http { status: s, text: body.chars().take(200).collect() });
        }
        let raw: serde_json::Value = serde_json::from_str(&body).map_err(|e| LmError::BadAnswer(e.to_string()))?;
        let text = |k: &str| raw.get(k).and_then(|v| v.as_str()).map(str::to_string);
        Ok(LmStatus {
            status: text("status").unwrap_or_else(|| "unknown".into()),
            version: text("version"),
            inst: text("inst"),
            last_sync: raw.get("lastSync").and_then(|v| v.as_i64()),
            raw,
        })
    }

    /// Checks codes: the module must be `ready`; `outCheck` first, the older `cis/check` per code
    /// when `outCheck` is not there (404/405).
    pub fn check(&self, codes: &[MarkingCode]) -> Result<LmAnswer, LmError> {
        let status = self.status()?;
        if !status.ready() {
            return Err(LmError::NotReady(status.status));
        }
        let body = serde_json::json!({ "cis_list": codes.iter().map(MarkingCode::as_str).collect::<Vec<_>>() });
        let (s, text) =
            self.send(self.agent.post(&format!("{}{OUT_CHECK_PATH}", self.base)), Some(&body.to_string()))?;
        let answer = match s {
            200 => parse_answer(&text)?,
            404 | 405 => {
                let mut all = CheckAnswer::default();
                for c in codes {
                    let req = self.agent.get(&format!("{}{CHECK_PATH}", self.base)).query("cis", c.as_str());
                    let (s, text) = self.send(req, None)?;
                    if s != 200 {
                        return Err(LmError::Http { status: s, text: text.chars().take(200).collect() });
                    }
                    let a = parse_answer(&text)?;
                    if all.req_id.is_none() {
                        all.req_id = a.req_id.clone();
                        all.req_timestamp = a.req_timestamp;
                        all.inst.clone_from(&a.inst);
                        all.code = a.code;
                        all.description.clone_from(&a.description);
                    }
                    all.codes.extend(a.codes);
                }
                all
            }
            _ => return Err(LmError::Http { status: s, text: text.chars().take(200).collect() }),
        };
        Ok(LmAnswer { answer, status })
    }
}

fn parse_answer(text: &str) -> Result<CheckAnswer, LmError> {
    let a: CheckAnswer = serde_json::from_str(text).map_err(|e| LmError::BadAnswer(e.to_string()))?;
    match a.code {
        Some(0) | None => Ok(a),
        Some(c) => Err(LmError::BadAnswer(format!("code {c}: {}", a.description.clone().unwrap_or_default()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(Lm::new(LmConfig::new("127.0.0.1:5995")).unwrap().url(), "http://127.0.0.1:5995");
        assert_eq!(Lm::new(LmConfig::new("http://192.168.0.117:5995/")).unwrap().url(), "http://192.168.0.117:5995");
        assert!(Lm::new(LmConfig::new("ftp://x")).is_err());
    }

    #[test]
    fn answers() {
        assert!(parse_answer(r#"{"code":0,"codes":[{"cis":"x","isBlocked":true}]}"#).is_ok());
        assert!(matches!(parse_answer(r#"{"code":3,"description":"bad"}"#), Err(LmError::BadAnswer(_))));
        assert!(parse_answer("nope").is_err());
    }
}
