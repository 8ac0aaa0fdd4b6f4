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
    /// How long a request may wait for the register before it is answered 503 (nothing sent).
    #[arg(long, value_name = "SECS")]
    pub queue_timeout: Option<u64>,
    /// How many requests may wait for the register.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub queue_size: usize,
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
    c.queue_timeout = Duration::from_secs(a.queue_timeout.or(serve.queue_timeout).unwrap_or(30).max(1));
    c.queue_size = a.queue_size.max(1);
    let cashier = cfg.cashier.clone().unwrap_or_default();
    c.cashier =
        crate::receipt::Cashier { name: cashier.name.unwrap_or_else(|| "Кассир".into()), inn: cashier.inn };
    c.checker = super::mark::sale_checker(&a.marks).map_err(|m| Failure::usage(m, "see kkt serve --help"))?;
    c.mark_settings = crate::checker::Settings {
        strictness: match a.marks.strict {
            super::mark::StrictArg::Deny => crate::checker::Strictness::Deny,
            super::mark::StrictArg::Ask => crate::checker::Strictness::Ask,
        },
        expiry_all_groups: a.marks.expiry_all_groups,
    };
    c.check().map_err(|m| Failure::usage(m, "see `kkt serve --help`"))?;
    Ok(c)
}

/// Runs the service until SIGINT or SIGTERM, then finishes the requests in flight.
pub fn run(cli: &Cli, a: &Args) -> Result<(), Failure> {
    let file =
        super::config::load(cli.config.as_deref()).map_err(|m| Failure::usage(m, "fix or remove the config file"))?;
    let cfg = config(cli, a, &file)?;
    let io = |e: std::io::Error| Failure::usage(format!("cannot start: {e}"), "");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(io)?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|e| Failure::usage(format!("cannot listen on {}: {e}", cfg.listen), "choose another --listen"))?;
        let addr = listener.local_addr().map_err(io)?;
        let prepared = server::prepare(&cfg).map_err(|e| Failure::usage(e.to_string(), ""))?;
        // The first line on stdout is the address (as `kkt emulator` does).
        println!("http://{addr}");
        tracing::info!("kkt serve on http://{addr}, register {}", cfg.device);
        server::serve(listener, prepared, shutdown_signal()).await.map_err(io)
    })
}

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
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("stopping: finishing the requests in flight");
}
