//! ГИС МТ over TLS: certificates are verified (a host whose certificate chains to an unknown CA is
//! refused); an extra root CA file (e.g. the Russian Trusted Root CA) is trusted when given.
//! A small HTTPS server on loopback with a test CA (fixtures/tls).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use kkt::checker::gismt::{GisMtError, NoAnswer};
use kkt::checker::{GisMt, GisMtConfig, Online, Secret};
use kkt::marking::MarkingCode;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/tls").join(name)
}

/// An HTTPS server for `localhost` answering discovery, health and checks; returns its port.
fn https_server() -> u16 {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(fixture("server.pem")).unwrap().collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let cfg = Arc::new(cfg);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(50) {
            let Ok(stream) = stream else { continue };
            let cfg = Arc::clone(&cfg);
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(cfg).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let mut reader = BufReader::new(&mut tls);
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    return; // the client refused the certificate
                }
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                let _ = reader.read_exact(&mut body);
                let path = first.split_whitespace().nth(1).unwrap_or_default().to_string();
                let answer = match path.as_str() {
                    "/api/v4/true-api/cdn/info" => {
                        format!(r#"{{"code":0,"description":"ok","hosts":[{{"host":"https://localhost:{port}"}}]}}"#)
                    }
                    "/api/v4/true-api/cdn/health/check" => r#"{"code":0,"description":"ok","avgTimeMs":5}"#.to_string(),
                    _ => r#"{"code":0,"description":"ok","codes":[{"found":true,"sold":true}],"reqId":"tls-1","reqTimestamp":7}"#
                        .to_string(),
                };
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = tls.write_all(resp.as_bytes());
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    port
}

fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kkt-tls-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn code() -> MarkingCode {
    MarkingCode::parse("0104670540176099215NN*cM\u{1d}93dGVz").unwrap()
}

#[test]
fn an_unknown_ca_is_refused() {
    let port = https_server();
    let cfg = GisMtConfig::new(format!("https://localhost:{port}"), Some(Secret::new("t")), temp("refused"));
    let g = Arc::new(GisMt::new(cfg).unwrap());
    let e = g.discover(false).unwrap_err();
    assert!(matches!(&e, GisMtError::Info(m) if m.to_lowercase().contains("certificate")), "{e}");
    assert!(matches!(g.session().check(&[code()]), Online::NoAnswer { why: NoAnswer::NoHosts, .. }));
}

#[test]
fn an_extra_root_ca_is_trusted() {
    let port = https_server();
    let mut cfg = GisMtConfig::new(format!("https://localhost:{port}"), Some(Secret::new("t")), temp("trusted"));
    cfg.ca_file = Some(fixture("ca.pem"));
    let g = Arc::new(GisMt::new(cfg).unwrap());
    let d = g.discover(false).unwrap();
    assert_eq!(d.state.hosts[0].host, format!("https://localhost:{port}"));
    assert!(d.state.hosts[0].latency_ms.is_some());
    match g.session().check(&[code()]) {
        Online::Answer { answer, .. } => assert_eq!(answer.req_id.as_deref(), Some("tls-1")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_bad_ca_file_is_a_clear_error() {
    let mut cfg = GisMtConfig::new("https://localhost:1", None, temp("bad"));
    cfg.ca_file = Some(fixture("server.key"));
    let e = GisMt::new(cfg.clone()).unwrap_err();
    assert!(matches!(e, GisMtError::CaFile { .. }), "{e}");
    cfg.ca_file = Some(fixture("missing.pem"));
    assert!(GisMt::new(cfg).unwrap_err().to_string().contains("missing.pem"));
}
