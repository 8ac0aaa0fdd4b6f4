//! The ГИС МТ token (seed 003 §1.1). Cabinet tokens ended on 1 March 2025: a token is obtained
//! with `POST /api/v3/true-api/auth/permissive-access`, body `{"data": BASE64}` where `data` is
//! arbitrary data signed with the participant's qualified signature (УКЭП, attached CMS), and
//! lives `expires_in` seconds.
//!
//! kkt does no GOST cryptography: it runs the store's signer (a CryptoPro `csptest`/`cryptcp`
//! line, any command that reads the data on stdin and prints the Base64 signature on stdout),
//! posts the signature, and keeps the token with its expiry in a private file (0600) in the
//! cache directory, shared by the till's processes. The token is never logged nor printed.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::secret::Secret;

/// The method.
pub const AUTH_PATH: &str = "/api/v3/true-api/auth/permissive-access";
/// The production host of the method.
pub const DEFAULT_AUTH_URL: &str = "https://markirovka.crpt.ru";
/// The test contour's host.
pub const SANDBOX_AUTH_URL: &str = "https://markirovka.sandbox.crptech.ru";

/// A token obtained by signing, as kept in its file.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    /// The token (`access_token`).
    pub access_token: String,
    /// When it was obtained (Unix ms).
    pub obtained_at_ms: i64,
    /// When it expires (Unix ms): `obtained_at_ms + expires_in`.
    pub expires_at_ms: i64,
    /// The host that issued it.
    pub auth_url: String,
    /// The legal entity (INN) it is for, when known.
    #[serde(default)]
    pub inn: Option<String>,
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("access_token", &"***")
            .field("obtained_at_ms", &self.obtained_at_ms)
            .field("expires_at_ms", &self.expires_at_ms)
            .field("auth_url", &self.auth_url)
            .field("inn", &self.inn)
            .finish()
    }
}

impl StoredToken {
    /// The token as a secret.
    pub fn secret(&self) -> Secret {
        Secret::new(self.access_token.clone())
    }

    /// Still valid at `now_ms`.
    pub fn valid(&self, now_ms: i64) -> bool {
        now_ms < self.expires_at_ms
    }

    /// Due for renewal at `now_ms`: less than a fifth of its life, or less than 10 minutes,
    /// left (whichever is less).
    pub fn due(&self, now_ms: i64) -> bool {
        let life = (self.expires_at_ms - self.obtained_at_ms).max(0);
        let margin = (life / 5).min(10 * 60 * 1000);
        now_ms >= self.expires_at_ms - margin
    }
}

/// Why no token could be obtained. The texts name the command and the host, never the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The sign command could not be started.
    #[error("the sign command `{command}` could not be started: {why}")]
    Spawn {
        /// The command.
        command: String,
        /// Why.
        why: String,
    },
    /// The sign command failed.
    #[error("the sign command `{command}` failed ({status}){}", if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Signer {
        /// The command.
        command: String,
        /// Its exit status.
        status: String,
        /// The first line of what it wrote on stderr.
        stderr: String,
    },
    /// The sign command took too long.
    #[error("the sign command `{command}` did not finish within {secs} s (is it waiting for a PIN?)")]
    SignerTimeout {
        /// The command.
        command: String,
        /// The limit.
        secs: u64,
    },
    /// The sign command printed no Base64 signature.
    #[error("the sign command `{command}` printed no Base64 signature ({why})")]
    NoSignature {
        /// The command.
        command: String,
        /// What was wrong.
        why: String,
    },
    /// ГИС МТ refused the signature or the request.
    #[error("ГИС МТ refused the signed data (HTTP {status} from {url}{AUTH_PATH}): {description}")]
    Refused {
        /// The host.
        url: String,
        /// The HTTP status.
        status: u16,
        /// Its description.
        description: String,
    },
    /// The host could not be reached, or its answer read.
    #[error("{url}{AUTH_PATH}: {why}")]
    Http {
        /// The host.
        url: String,
        /// What failed.
        why: String,
    },
    /// The token file could not be written or read.
    #[error("token file {path}: {why}")]
    File {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
    /// A setting that cannot be used.
    #[error("{0}")]
    Config(String),
}

/// How the token is obtained by signing.
#[derive(Debug, Clone)]
pub struct SignerConfig {
    /// The command line, run by the shell (`sh -c` on Unix, `cmd /C` on Windows): reads the
    /// data on stdin, prints the Base64 attached signature on stdout.
    pub command: String,
    /// The host of `/auth/permissive-access` (default [`DEFAULT_AUTH_URL`]).
    pub auth_url: String,
    /// Where the token file lives.
    pub cache_dir: PathBuf,
    /// The legal entity (INN) the token is for: its own file.
    pub inn: Option<String>,
    /// How long the command may take.
    pub sign_timeout: Duration,
    /// Timeout of the request.
    pub http_timeout: Duration,
    /// Extra trusted roots (PEM).
    pub ca_file: Option<PathBuf>,
}

impl SignerConfig {
    /// A signer with the defaults: the production host, 60 s for the command, 10 s for the
    /// request.
    pub fn new(command: impl Into<String>, cache_dir: impl Into<PathBuf>) -> SignerConfig {
        SignerConfig {
            command: command.into(),
            auth_url: DEFAULT_AUTH_URL.to_string(),
            cache_dir: cache_dir.into(),
            inn: None,
            sign_timeout: Duration::from_secs(60),
            http_timeout: Duration::from_secs(10),
            ca_file: None,
        }
    }
}

/// The token file of an entity in a cache directory: `gismt-token.json`, or
/// `gismt-token-INN.json` for a named legal entity.
pub fn token_file(cache_dir: &Path, inn: Option<&str>) -> PathBuf {
    match inn {
        Some(i) => cache_dir.join(format!("gismt-token-{i}.json")),
        None => cache_dir.join("gismt-token.json"),
    }
}

/// Reads a stored token (None when absent or unreadable).
pub fn load(path: &Path) -> Option<StoredToken> {
    std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok())
}

/// Random bytes from the system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use ring::rand::SecureRandom;
    let mut b = [0u8; N];
    // The system's generator does not fail on supported systems; fall back to time and pid.
    if ring::rand::SystemRandom::new().fill(&mut b).is_err() {
        let seed = format!("{}-{}", super::gismt::now_ms(), std::process::id());
        let d = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
        for (i, x) in b.iter_mut().enumerate() {
            *x = d.as_ref()[i % 32];
        }
    }
    b
}

/// Reads the Base64 signature a signer printed: PEM armour lines (`-----BEGIN …`) and
/// whitespace dropped; the rest must decode.
pub fn signature_from_output(out: &[u8]) -> Result<String, String> {
    use base64::Engine;
    let text = String::from_utf8_lossy(out);
    let b64: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("-----"))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    if b64.is_empty() {
        return Err("stdout is empty".into());
    }
    let bytes =
        base64::engine::general_purpose::STANDARD.decode(&b64).map_err(|e| format!("stdout is not Base64: {e}"))?;
    if bytes.len() < 16 {
        return Err(format!("{} bytes is too short for a signature", bytes.len()));
    }
    Ok(b64)
}

fn first_line(b: &[u8]) -> String {
    String::from_utf8_lossy(b).lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").chars().take(200).collect()
}

/// Runs the sign command over `data`: its Base64 signature.
pub fn sign(command: &str, data: &[u8], timeout: Duration) -> Result<String, TokenError> {
    let mut cmd = if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.arg("/C").arg(command);
        c
    } else {
        let mut c = std::process::Command::new("sh");
        c.arg("-c").arg(command);
        c
    };
    cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| TokenError::Spawn { command: command.to_string(), why: e.to_string() })?;
    let mut stdin = child.stdin.take().expect("piped");
    let data = data.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(TokenError::SignerTimeout { command: command.to_string(), secs: timeout.as_secs() });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(TokenError::Spawn { command: command.to_string(), why: e.to_string() }),
        }
    };
    let _ = writer.join();
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    if !status.success() {
        let status = match status.code() {
            Some(c) => format!("exit status {c}"),
            None => status.to_string(),
        };
        return Err(TokenError::Signer { command: command.to_string(), status, stderr: first_line(&err) });
    }
    signature_from_output(&out).map_err(|why| TokenError::NoSignature { command: command.to_string(), why })
}

#[derive(Deserialize)]
struct AuthAnswer {
    access_token: Option<String>,
    expires_in: Option<serde_json::Value>,
}

/// Obtains and keeps tokens by signing.
pub struct Signer {
    cfg: SignerConfig,
    base: String,
    path: PathBuf,
    tls: Option<Arc<rustls::ClientConfig>>,
    renewing: AtomicBool,
    background: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("command", &self.cfg.command).field("auth_url", &self.base).finish()
    }
}

impl Signer {
    /// A signer; the host URL is checked here.
    pub fn new(cfg: SignerConfig) -> Result<Signer, TokenError> {
        if cfg.command.trim().is_empty() {
            return Err(TokenError::Config("the sign command is empty".into()));
        }
        let base = super::gismt::normalize_url(&cfg.auth_url).map_err(|e| TokenError::Config(e.to_string()))?;
        let tls = cfg
            .ca_file
            .as_deref()
            .map(super::gismt::tls_with_extra_roots)
            .transpose()
            .map_err(|e| TokenError::Config(e.to_string()))?;
        let path = token_file(&cfg.cache_dir, cfg.inn.as_deref());
        Ok(Signer { cfg, base, path, tls, renewing: AtomicBool::new(false), background: Mutex::new(Vec::new()) })
    }

    /// The settings.
    pub fn config(&self) -> &SignerConfig {
        &self.cfg
    }

    /// The token file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored token, valid or not.
    pub fn stored(&self) -> Option<StoredToken> {
        load(&self.path)
    }

    /// Signs fresh random data, posts it, stores the token and returns it.
    pub fn obtain(&self) -> Result<StoredToken, TokenError> {
        let data = hex::encode(random_bytes::<32>());
        let signature = sign(&self.cfg.command, data.as_bytes(), self.cfg.sign_timeout)?;
        let mut b = ureq::AgentBuilder::new().timeout_connect(self.cfg.http_timeout).redirects(0);
        if let Some(t) = &self.tls {
            b = b.tls_config(Arc::clone(t));
        }
        let agent = b.build();
        let url = format!("{}{AUTH_PATH}", self.base);
        let body = serde_json::json!({ "data": signature }).to_string();
        let sent_at = super::gismt::now_ms();
        let res =
            agent.post(&url).timeout(self.cfg.http_timeout).set("Content-Type", "application/json").send_string(&body);
        let http = |why: String| TokenError::Http { url: self.base.clone(), why };
        let text = match res {
            Ok(r) => r.into_string().map_err(|e| http(e.to_string()))?,
            Err(ureq::Error::Status(status, r)) => {
                let text = r.into_string().unwrap_or_default();
                let v: Option<serde_json::Value> = serde_json::from_str(&text).ok();
                let description = v
                    .as_ref()
                    .and_then(|v| {
                        v.get("error_message").or(v.get("description")).or(v.get("message")).or(v.get("error"))
                    })
                    .and_then(|d| d.as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| text.chars().take(200).collect());
                return Err(TokenError::Refused { url: self.base.clone(), status, description });
            }
            Err(ureq::Error::Transport(t)) => return Err(http(t.to_string())),
        };
        let a: AuthAnswer = serde_json::from_str(&text).map_err(|e| http(format!("the answer cannot be read: {e}")))?;
        let token = a
            .access_token
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| http("the answer has no access_token".into()))?;
        let expires_in = a
            .expires_in
            .as_ref()
            .and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())))
            .filter(|&s| s > 0)
            .ok_or_else(|| http("the answer has no expires_in".into()))?;
        let t = StoredToken {
            access_token: token.trim().to_string(),
            obtained_at_ms: sent_at,
            expires_at_ms: sent_at + expires_in.saturating_mul(1000),
            auth_url: self.base.clone(),
            inn: self.cfg.inn.clone(),
        };
        self.store(&t)?;
        tracing::info!(target: "kkt::gismt", inn = ?self.cfg.inn, expires_in, "ГИС МТ token obtained by signing");
        Ok(t)
    }

    fn store(&self, t: &StoredToken) -> Result<(), TokenError> {
        let file = |why: String| TokenError::File { path: self.path.display().to_string(), why };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| file(e.to_string()))?;
        }
        let bytes = serde_json::to_vec_pretty(t).map_err(|e| file(e.to_string()))?;
        crate::fsutil::write_private(&self.path, &bytes, true).map_err(|e| file(e.to_string()))
    }

    /// The token to use now: the stored one while valid (renewed in the background once it is
    /// due), else a new one (obtained now: the signer runs).
    pub fn token(self: &Arc<Self>, now_ms: i64) -> Result<Secret, TokenError> {
        match self.stored() {
            Some(t) if t.valid(now_ms) => {
                if t.due(now_ms) {
                    self.renew_in_background();
                }
                Ok(t.secret())
            }
            _ => self.obtain().map(|t| t.secret()),
        }
    }

    /// Renews the token in the background (one renewal at a time).
    pub fn renew_in_background(self: &Arc<Self>) {
        if self.renewing.swap(true, Ordering::AcqRel) {
            return;
        }
        let me = Arc::clone(self);
        let h = std::thread::spawn(move || {
            if let Err(e) = me.obtain() {
                tracing::warn!(target: "kkt::gismt", "renewing the ГИС МТ token failed: {e}; the current one is used while valid");
            }
            me.renewing.store(false, Ordering::Release);
        });
        self.background.lock().expect("not poisoned").push(h);
    }

    /// Waits for a renewal in the background.
    pub fn wait_background(&self) {
        let hs: Vec<_> = std::mem::take(&mut *self.background.lock().expect("not poisoned"));
        for h in hs {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_read_from_pem_or_bare_base64() {
        use base64::Engine;
        let sig = base64::engine::general_purpose::STANDARD.encode([7u8; 40]);
        assert_eq!(signature_from_output(sig.as_bytes()).unwrap(), sig);
        let pem = format!("-----BEGIN CMS-----\n{}\n{}\n-----END CMS-----\n", &sig[..20], &sig[20..]);
        assert_eq!(signature_from_output(pem.as_bytes()).unwrap(), sig);
        assert!(signature_from_output(b"").unwrap_err().contains("empty"));
        assert!(signature_from_output(b"not base64 !!").unwrap_err().contains("Base64"));
        assert!(signature_from_output(b"AAAA").unwrap_err().contains("short"));
    }

    #[test]
    fn renewal_is_due_before_expiry() {
        let t = StoredToken {
            access_token: "t".into(),
            obtained_at_ms: 0,
            expires_at_ms: 10 * 3_600_000,
            auth_url: String::new(),
            inn: None,
        };
        // 10 h of life: due 10 min before the end.
        assert!(!t.due(10 * 3_600_000 - 600_001));
        assert!(t.due(10 * 3_600_000 - 600_000));
        assert!(t.valid(10 * 3_600_000 - 1) && !t.valid(10 * 3_600_000));
        // 100 s of life: due in its last fifth.
        let t = StoredToken { expires_at_ms: 100_000, ..t };
        assert!(!t.due(79_999) && t.due(80_000));
        assert!(!format!("{t:?}").contains("\"t\""));
    }

    #[cfg(unix)]
    #[test]
    fn a_failing_signer_names_its_command_and_status() {
        let e = sign("echo nope >&2; exit 3", b"data", Duration::from_secs(5)).unwrap_err();
        assert_eq!(
            e,
            TokenError::Signer {
                command: "echo nope >&2; exit 3".into(),
                status: "exit status 3".into(),
                stderr: "nope".into()
            }
        );
        assert!(e.to_string().contains("`echo nope >&2; exit 3` failed (exit status 3): nope"), "{e}");
        let e = sign("sleep 5", b"", Duration::from_millis(100)).unwrap_err();
        assert!(matches!(e, TokenError::SignerTimeout { .. }), "{e:?}");
        let e = sign("printf ''", b"x", Duration::from_secs(5)).unwrap_err();
        assert!(matches!(e, TokenError::NoSignature { .. }), "{e:?}");
        // The data reaches stdin.
        let sig = sign("base64", b"0123456789abcdef0123", Duration::from_secs(5)).unwrap();
        assert_eq!(sig, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM=");
    }
}
