//! Accepting connections: a cap on how many are open at once, a deadline for each request's
//! headers (counted from accept, and again while a kept-alive connection waits for its next
//! request), optional TLS, and a graceful stop that finishes the requests in flight.
//!
//! The connection handling is hyper's own (`http1::Builder::header_read_timeout` with a tokio
//! timer; hyper starts that timer when the connection is accepted and whenever it falls idle
//! after an answer), so an idle or slowloris connection is closed after [`Limits::header_timeout`]
//! and cannot hold a place for ever. Connections over [`Limits::max_connections`] wait in the
//! kernel's backlog, holding no descriptor of this process, so the journal and the register's
//! link never starve.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;

use super::errbody::ErrorBodies;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How connections are limited.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections open at once; more wait until one closes.
    pub max_connections: usize,
    /// The longest a client may take to send a request's headers, from accept (or from the
    /// previous answer on a kept-alive connection); then the connection is closed.
    pub header_timeout: Duration,
    /// TLS (`--tls-cert`, `--tls-key`); `None` is plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_connections: 512, header_timeout: Duration::from_secs(10), tls: None }
    }
}

/// Reads a PEM certificate chain and private key into a rustls server configuration.
pub fn tls_config(cert: &std::path::Path, key: &std::path::Path) -> Result<rustls::ServerConfig, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| format!("--tls-cert {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("--tls-cert {}: no certificate in the file", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("--tls-key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("--tls-cert/--tls-key: {e}"))
}

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting at once and
/// waits for the connections to finish the requests they carry.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let places = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let tls = limits.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let place = tokio::select! {
            p = places.clone().acquire_owned() => p.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: wait, go on.
                    tracing::warn!(target: "kkt::http", "accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        match &tls {
            None => {
                let conn = graceful.watch(http.serve_connection(TokioIo::new(ErrorBodies::new(stream)), service));
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(target: "kkt::http", "connection from {peer}: {e}");
                    }
                    drop(place);
                });
            }
            Some(acceptor) => {
                let (acceptor, http, watcher, deadline) =
                    (acceptor.clone(), http.clone(), graceful.watcher(), limits.header_timeout);
                tokio::spawn(async move {
                    match tokio::time::timeout(deadline, acceptor.accept(stream)).await {
                        Ok(Ok(s)) => {
                            if let Err(e) =
                                watcher.watch(http.serve_connection(TokioIo::new(ErrorBodies::new(s)), service)).await
                            {
                                tracing::debug!(target: "kkt::http", "connection from {peer}: {e}");
                            }
                        }
                        Ok(Err(e)) => tracing::debug!(target: "kkt::http", "TLS handshake with {peer} failed: {e}"),
                        Err(_) => tracing::debug!(target: "kkt::http", "TLS handshake with {peer} timed out"),
                    }
                    drop(place);
                });
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
