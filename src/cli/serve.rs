//! `kkt serve`: the local HTTP/JSON service for POS systems (see [`crate::server`]).

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::config::Config as FileConfig;
use super::device::{self, Failure};
use super::Cli;
use crate::server::{self, Token};

/// Options of `kkt serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to listen (default 127.0.0.1:8567, or `listen` in the config's [serve]). Beyond
    /// loopback a token is required.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// A file holding the bearer token (the token itself may be in $KKT_SERVE_TOKEN).
    #[arg(long, env = "KKT_SERVE_TOKEN_FILE", value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// How long a request may wait for the register before it is answered 503 (nothing sent);
    /// decimal seconds (`0.5`), default 30.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub queue_timeout: Option<Duration>,
    /// How many requests may wait for the register.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub queue_size: usize,
    /// A web page origin allowed to call the service from a browser (`https://pos.example`);
    /// repeatable. Requests carrying any other `Origin` are refused (403).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
    /// A host name the service answers to besides its address and `localhost`; repeatable.
    /// Requests with any other `Host` are refused (403: DNS rebinding).
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_hosts: Vec<String>,
    /// Connections open at once (more wait until one closes).
    #[arg(long, default_value_t = 512, value_name = "N")]
    pub max_connections: usize,
    /// Seconds a client may take to send a request's headers (from connecting, or from the last
    /// answer on a kept-alive connection); then the connection is closed.
    #[arg(long, value_name = "SECS", value_parser = parse_secs, default_value = "10")]
    pub header_timeout: Duration,
    /// Seconds a request's body may take to arrive (then 408).
    #[arg(long, value_name = "SECS", value_parser = parse_secs, default_value = "30")]
    pub body_timeout: Duration,
    /// HTTPS: the server's certificate chain (PEM); with --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// HTTPS: the server's private key (PEM); with --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Listen beyond loopback over plain HTTP: the bearer token and customers' contacts cross the
    /// network in clear (README: security). Prefer --tls-cert/--tls-key.
    #[arg(long)]
    pub insecure_lan: bool,
    /// The marked goods check of sales and of `POST /v1/marks/check` (ГИС МТ, Local Module,
    /// sold-codes store).
    #[command(flatten)]
    pub marks: Box<super::mark::SaleArgs>,
}

/// The token: from the file, else $KKT_SERVE_TOKEN.
fn token(file: Option<&Path>) -> Result<Option<Token>, String> {
    if let Some(p) = file {
        let text = std::fs::read_to_string(p).map_err(|e| format!("token file {}: {e}", p.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if std::fs::metadata(p).map(|m| m.permissions().mode() & 0o077 != 0).unwrap_or(false) {
                tracing::warn!("token file {} is readable by others: chmod 600 it", p.display());
            }
        }
        return Token::new(&text).map(Some).map_err(|e| format!("token file {}: {e}", p.display()));
    }
    match std::env::var("KKT_SERVE_TOKEN") {
        Ok(t) => Token::new(&t).map(Some).map_err(|e| format!("KKT_SERVE_TOKEN: {e}")),
        Err(_) => Ok(None),
    }
}

/// Decimal seconds (`30`, `0.5`, `1.25`) as a duration, exactly (no floating point); more than
/// zero and at most a day.
fn parse_secs(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a number of seconds (e.g. 30 or 0.5)");
    let (whole, frac) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 3
    {
        return Err(bad());
    }
    let secs: u64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
    let ms: u64 = if frac.is_empty() { 0 } else { format!("{frac:0<3}").parse().map_err(|_| bad())? };
    let d = Duration::from_secs(secs) + Duration::from_millis(ms);
    if d.is_zero() || d > Duration::from_secs(86_400) {
        return Err(format!("{text:?}: give more than 0 and at most 86400 seconds"));
    }
    Ok(d)
}

fn listen_addr(text: &str) -> Result<SocketAddr, String> {
    let mut addrs: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| format!("--listen {text:?}: {e} (give HOST:PORT, e.g. 127.0.0.1:8567)"))?
        .collect();
    // Prefer IPv4 loopback for `localhost`.
    addrs.sort_by_key(|a| !a.is_ipv4());
    addrs.into_iter().next().ok_or_else(|| format!("--listen {text:?} resolves to no address"))
}

/// Builds the service's configuration from the options, the environment and the config file.
pub fn config(cli: &Cli, a: &Args, cfg: &FileConfig) -> Result<server::Config, Failure> {
    let serve = cfg.serve.clone().unwrap_or_default();
    let uri = device::device_uri(cli, cfg).map_err(|m| Failure::usage(m, ""))?;
    let listen_text = a.listen.clone().or(serve.listen).unwrap_or_else(|| server::DEFAULT_LISTEN.to_string());
    let listen = listen_addr(&listen_text).map_err(|m| Failure::usage(m, ""))?;
    // --journal (KKT_JOURNAL), else the config's [serve] journal, else the CLI's default.
    let journal = match (&cli.journal, serve.journal) {
        (None, Some(p)) => p,
        _ => super::journal::path(cli)?,
    };
    let token_file = a.token_file.clone().or(serve.token_file);
    let token = token(token_file.as_deref()).map_err(|m| Failure::usage(m, "fix the token"))?;
    let mut c = server::Config::new(listen, uri, journal);
    c.options = device::options(cli, cfg, true);
    c.token = token;
    c.queue_timeout = a.queue_timeout.unwrap_or_else(|| Duration::from_secs(serve.queue_timeout.unwrap_or(30).max(1)));
    c.queue_size = a.queue_size.max(1);
    let cashier = cfg.cashier.clone().unwrap_or_default();
    c.cashier = kkt::receipt::Cashier { name: cashier.name.unwrap_or_else(|| "Кассир".into()), inn: cashier.inn };
    c.checker = super::mark::sale_checker(&a.marks, cfg).map_err(|m| Failure::usage(m, "see kkt serve --help"))?;
    c.mark_settings = super::mark::settings(&a.marks.checker, cfg);
    c.access.origins = a.allow_origins.clone();
    c.access.hosts = a.allow_hosts.clone();
    c.limits.max_connections = a.max_connections.max(1);
    c.limits.header_timeout = a.header_timeout;
    c.body_timeout = a.body_timeout;
    if let (Some(cert), Some(key)) = (&a.tls_cert, &a.tls_key) {
        let tls = server::listen::tls_config(cert, key)
            .map_err(|m| Failure::usage(m, "give a PEM certificate chain and its key"))?;
        c.limits.tls = Some(std::sync::Arc::new(tls));
    }
    c.insecure_lan = a.insecure_lan;
    c.known = super::journal::known_path();
    c.check().map_err(|m| Failure::usage(m, "see `kkt serve --help`"))?;
    Ok(c)
}

/// Runs the service until Ctrl-C (SIGINT), SIGTERM (Unix) or Ctrl-Break (Windows), then finishes
/// the requests in flight.
pub fn run(cli: &Cli, a: &Args) -> Result<(), Failure> {
    let file =
        super::config::load(cli.config.as_deref()).map_err(|m| Failure::usage(m, "fix or remove the config file"))?;
    let cfg = config(cli, a, &file)?;
    // The journal: created here only where none was used before (with a notice), refused when
    // missing where one was, or damaged (exit 8).
    super::journal::open_at(&cfg.journal, cli.new_journal)?;
    let io = |e: std::io::Error| Failure::usage(format!("cannot start: {e}"), "");
    raise_open_files_limit();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(io)?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|e| Failure::usage(format!("cannot listen on {}: {e}", cfg.listen), "choose another --listen"))?;
        let addr = listener.local_addr().map_err(io)?;
        let prepared = server::prepare(&cfg).map_err(|e| match e {
            server::StartError::Journal(j) => Failure::from(kkt::Error::from(j)),
            e => Failure::usage(e.to_string(), ""),
        })?;
        // The first line on stdout is the address (as `kkt emulator` does).
        let scheme = if cfg.limits.tls.is_some() { "https" } else { "http" };
        println!("{scheme}://{addr}");
        tracing::info!("kkt serve on {scheme}://{addr}, register {}", cfg.device);
        server::serve(listener, prepared, shutdown_signal()).await.map_err(io)
    })
}

/// Raises the soft limit of open descriptors to the hard limit where the system allows: the
/// connection cap and the journal then never meet "Too many open files".
fn raise_open_files_limit() {
    #[cfg(unix)]
    {
        use nix::sys::resource::{getrlimit, setrlimit, Resource};
        if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
            if soft < hard {
                match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
                    Ok(()) => tracing::debug!("open-files limit raised from {soft} to {hard}"),
                    Err(e) => tracing::debug!("open-files limit stays {soft}: {e}"),
                }
            }
        }
    }
}

/// Completes on the first stop request: Ctrl-C (SIGINT) everywhere, SIGTERM on Unix, Ctrl-Break
/// on Windows (`kkt serve` in a console window, or a service wrapper that sends it).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(windows)]
    let term = async {
        match tokio::signal::windows::ctrl_break() {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(any(unix, windows)))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("stopping: finishing the requests in flight");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_exact_decimals() {
        assert_eq!(parse_secs("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_secs("0.3"), Ok(Duration::from_millis(300)));
        assert_eq!(parse_secs("1.25"), Ok(Duration::from_millis(1250)));
        for bad in ["0", "0.0", "-1", "1e3", "abc", "", ".", "0.0001", "86401"] {
            assert!(parse_secs(bad).is_err(), "{bad}");
        }
    }
}
