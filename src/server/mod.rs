//! The local HTTP/JSON service (`kkt serve`): one process owns the register, many POS clients
//! in any language call it.
//!
//! * [`api`]: the endpoints (JSON in, JSON out; the receipt format of the CLI);
//!   `GET /openapi.json` serves the committed OpenAPI 3.1 description, protocol/openapi.json.
//! * [`worker`]: the one thread that owns the register; requests reach it through a bounded
//!   queue, one at a time, so receipts never interleave on the device.
//! * [`error`]: the error body `{"error": {"kind", "code", "message", "hint"}}` and its status.
//!
//! Listening beyond loopback needs a bearer token; every `/v1` request then carries
//! `Authorization: Bearer TOKEN` (compared in constant time). The request log holds the method,
//! path, status and duration only: never a body, a query or a header.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use kkt::checker::{Checker, Settings};
use kkt::driver::Options;
use kkt::journal::Journal;
use kkt::receipt::Cashier;

pub mod api;
pub mod errbody;
pub mod error;
pub mod guard;
pub mod listen;
pub mod worker;

pub use error::ApiError;

/// The default address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8567";

/// A bearer token. Its text never appears in `Debug` output or logs.
#[derive(Clone)]
pub struct Token(Arc<[u8; 32]>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

/// The shortest token accepted.
pub const MIN_TOKEN_LEN: usize = 16;

impl Token {
    /// A token from its text (surrounding whitespace removed); at least [`MIN_TOKEN_LEN`]
    /// characters.
    pub fn new(text: &str) -> Result<Token, String> {
        let t = text.trim();
        if t.chars().count() < MIN_TOKEN_LEN {
            return Err(format!("the token is shorter than {MIN_TOKEN_LEN} characters"));
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("the token has spaces or control characters inside".into());
        }
        Ok(Token(Arc::new(Sha256::digest(t.as_bytes()).into())))
    }

    /// Whether `given` is the token (in constant time: both are hashed, the digests compared
    /// with `subtle`).
    pub fn matches(&self, given: &str) -> bool {
        let d: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        bool::from(d.ct_eq(&self.0[..]))
    }
}

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The register's URI.
    pub device: String,
    /// Driver options.
    pub options: Options,
    /// The journal file.
    pub journal: PathBuf,
    /// The bearer token; required when `listen` is not a loopback address.
    pub token: Option<Token>,
    /// How long a request may wait for the register before it is answered 503.
    pub queue_timeout: Duration,
    /// How many requests may wait for the register.
    pub queue_size: usize,
    /// The cashier of shift commands that name none.
    pub cashier: Cashier,
    /// The marked-goods checker (ГИС МТ, the Local Module, the sold-codes store) for sales and
    /// `POST /v1/marks/check`; without one the register's own checks decide.
    pub checker: Option<Arc<Checker>>,
    /// The rules' settings of `POST /v1/marks/check` without a checker.
    pub mark_settings: Settings,
    /// Browser origins and host names allowed to call (web pages are refused by default).
    pub access: guard::Access,
    /// Connection cap, header deadline, TLS.
    pub limits: listen::Limits,
    /// The longest a request's body may take to arrive once its headers have.
    pub body_timeout: Duration,
    /// Listen beyond loopback without TLS (`--insecure-lan`): the token and customers' data
    /// would cross the network in clear.
    pub insecure_lan: bool,
    /// The remembered journals (`kkt::journal::known`): the FN the journal serves is written
    /// there once the register is reached.
    pub known: Option<PathBuf>,
}

impl Config {
    /// A configuration with the defaults: a 30 s queue timeout, 256 places in the queue.
    pub fn new(listen: SocketAddr, device: impl Into<String>, journal: PathBuf) -> Self {
        Self {
            listen,
            device: device.into(),
            options: Options::default(),
            journal,
            token: None,
            queue_timeout: Duration::from_secs(30),
            queue_size: 256,
            cashier: Cashier::new("Кассир"),
            checker: None,
            mark_settings: Settings::default(),
            access: guard::Access { listen: Some(listen), ..guard::Access::default() },
            limits: listen::Limits::default(),
            body_timeout: Duration::from_secs(30),
            insecure_lan: false,
            known: None,
        }
    }

    /// Refuses a start that would expose the register: beyond loopback a token is required.
    pub fn check(&self) -> Result<(), String> {
        if !self.listen.ip().is_loopback() && self.token.is_none() {
            return Err(format!(
                "refusing to listen on {} without a token: anyone who reaches this address could form \
                 fiscal documents. Give a token (--token-file PATH or KKT_SERVE_TOKEN, at least {MIN_TOKEN_LEN} \
                 characters; clients send `Authorization: Bearer TOKEN`), or listen on 127.0.0.1",
                self.listen
            ));
        }
        if !self.listen.ip().is_loopback() && self.limits.tls.is_none() && !self.insecure_lan {
            return Err(format!(
                "refusing to listen on {} without TLS: the bearer token and customers' contacts would cross \
                 the network in clear. Give --tls-cert PEM --tls-key PEM, or --insecure-lan on a network you trust \
                 (README: security), or listen on 127.0.0.1",
                self.listen
            ));
        }
        Ok(())
    }
}

/// Why the service did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is refused.
    #[error("{0}")]
    Config(String),
    /// The journal cannot be opened.
    #[error(transparent)]
    Journal(#[from] kkt::journal::JournalError),
    /// The address cannot be listened on, or a thread could not start.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Builds the router over a started worker.
pub fn router(state: api::AppState, token: Option<Token>, access: guard::Access) -> Router {
    let v1 = Router::new()
        .route("/v1/status", get(api::status))
        .route("/v1/shift/open", post(api::shift_open))
        .route("/v1/shift/close", post(api::shift_close))
        .route("/v1/reports/settlement", post(api::settlement))
        .route("/v1/receipts", post(api::receipts))
        .route("/v1/receipts/{id}", get(api::receipt_outcome))
        .route("/v1/corrections", post(api::corrections))
        .route("/v1/marks/check", post(api::marks_check))
        .route("/v1/journal", get(api::journal))
        .route("/v1/recover", post(api::recover))
        .route("/v1/cash", get(api::cash_totals))
        .route("/v1/cash/in", post(api::cash_in))
        .route("/v1/cash/out", post(api::cash_out))
        .route("/v1/documents/{fd}", get(api::document))
        .route("/v1/ofd", get(api::ofd))
        .route("/v1/reports/shift", get(api::shift_counters))
        .route("/v1/print", post(api::print))
        .route_layer(middleware::from_fn_with_state(token, auth));
    Router::new()
        .merge(v1)
        .route("/openapi.json", get(api::openapi))
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(middleware::from_fn_with_state(Arc::new(access), guard::guard))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn auth(State(token): State<Option<Token>>, req: Request, next: Next) -> Response {
    let Some(token) = token else { return next.run(req).await };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    match given {
        Some(g) if token.matches(g) => next.run(req).await,
        _ => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid `Authorization: Bearer TOKEN` header is required",
            "send the service's token",
        )
        .into_response(),
    }
}

/// Logs method, path, status and duration: never bodies, queries or headers (tokens, contacts).
async fn log_request(req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let started = Instant::now();
    let resp = next.run(req).await;
    tracing::info!(
        target: "kkt::http",
        "{method} {path} {} {:.1}ms",
        resp.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    resp
}

/// The worker and the state of a service about to run.
pub struct Prepared {
    state: api::AppState,
    token: Option<Token>,
    access: guard::Access,
    limits: listen::Limits,
    worker: std::thread::JoinHandle<()>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared").finish_non_exhaustive()
    }
}

/// Checks the configuration, opens the journal and starts the register's worker.
pub fn prepare(cfg: &Config) -> Result<Prepared, StartError> {
    cfg.check().map_err(StartError::Config)?;
    // The journal must exist (the command line created it, or refused) and open before anything
    // is served; the worker opens its own connection, to the journal that exists only: one
    // removed meanwhile is refused, never made again empty.
    let reader = Journal::open_existing(&cfg.journal)?;
    let (uri, opts, path) = (cfg.device.clone(), cfg.options.clone(), cfg.journal.clone());
    let checker = cfg.checker.clone();
    let known = cfg.known.clone();
    let connect: worker::Connect = Box::new(move || {
        let journal = Journal::open_existing(&path)?;
        let mut kkt = kkt::Kkt::connect_with(&uri, opts.clone())?;
        kkt.set_mark_checker(checker.clone().map(|c| c as Arc<dyn kkt::driver::MarkChecker>));
        if let (Some(k), Some(f)) = (&known, kkt.fn_number()) {
            match kkt::journal::known::Known::open(k) {
                Ok(k) => {
                    let _ = k.remember(&path, Some(f));
                }
                Err(e) => tracing::warn!(error = %e, "the list of journals used before cannot be written"),
            }
        }
        kkt::journaled::JournaledKkt::with_kkt(kkt, journal)
    });
    let (queue, worker) = worker::spawn(connect, cfg.queue_size, cfg.queue_timeout)?;
    let state = api::AppState {
        queue,
        inflight: worker::Inflight::default(),
        journal: Arc::new(Mutex::new(reader)),
        cashier: cfg.cashier.clone(),
        // Without a configured checker the verdicts rest on the register's checks alone.
        checker: cfg.checker.clone().unwrap_or_else(|| Arc::new(Checker::new(None, None, cfg.mark_settings))),
        body_timeout: cfg.body_timeout,
    };
    let access = guard::Access { listen: Some(cfg.listen), ..cfg.access.clone() };
    Ok(Prepared { state, token: cfg.token.clone(), access, limits: cfg.limits.clone(), worker })
}

/// Serves until `shutdown` completes, then finishes the requests in flight and stops the worker
/// after its job in hand.
pub async fn serve(
    listener: tokio::net::TcpListener,
    p: Prepared,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let Prepared { state, token, access, limits, worker } = p;
    let access = guard::Access { listen: listener.local_addr().ok(), ..access };
    let app = router(state, token, access);
    let served = listen::run(listener, app, limits, shutdown).await;
    // Every queue handle is gone with the router: the worker ends after its job in hand.
    let joined = tokio::task::spawn_blocking(move || worker.join()).await;
    if !matches!(joined, Ok(Ok(()))) {
        tracing::error!("the register's worker did not stop cleanly");
    }
    served
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_and_stay_secret() {
        let t = Token::new(" 0123456789abcdef-secret\n").unwrap();
        assert!(t.matches("0123456789abcdef-secret"));
        assert!(!t.matches("0123456789abcdef-secreT"));
        assert!(!t.matches(""));
        assert!(!format!("{t:?}").contains("secret"));
        assert!(Token::new("short").is_err());
        assert!(Token::new("0123456789 abcdef").is_err());
    }

    #[test]
    fn beyond_loopback_needs_a_token() {
        let mut c = Config::new("0.0.0.0:8567".parse().unwrap(), "emulator", "j.sqlite".into());
        let e = c.check().unwrap_err();
        assert!(e.contains("token") && e.contains("0.0.0.0:8567"), "{e}");
        c.token = Some(Token::new("0123456789abcdef").unwrap());
        // With a token, plain HTTP beyond loopback still needs --insecure-lan (or TLS).
        let e = c.check().unwrap_err();
        assert!(e.contains("TLS") && e.contains("--insecure-lan"), "{e}");
        c.insecure_lan = true;
        assert!(c.check().is_ok());
        let c = Config::new("127.0.0.1:8567".parse().unwrap(), "emulator", "j.sqlite".into());
        assert!(c.check().is_ok());
        let c = Config::new("[::1]:8567".parse().unwrap(), "emulator", "j.sqlite".into());
        assert!(c.check().is_ok());
    }
}
