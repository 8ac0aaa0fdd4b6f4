//! The loopback service against web pages (Origin, Host, Content-Type, CORS) and idle or slow
//! sockets (the header deadline, the connection cap): issue 18 §1 and §2.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::http::*;

/// A 99 999 ₽ refund, as a page would post it.
fn refund() -> String {
    let mut v: serde_json::Value = serde_json::from_str(&fixture("refund.json", None)).unwrap();
    v["items"][0]["price"] = "99999.00".into();
    v["payments"] = serde_json::json!({"cash": "99999.00"});
    v.to_string()
}

fn post(host: &str, path: &str, headers: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn fd_count(c: &Client) -> u64 {
    c.get("/v1/status", "/v1/status").body["fn"]["last_fd_number"].as_u64().unwrap()
}

#[test]
fn a_web_page_forms_nothing() {
    let svc = Service::emulator();
    let c = svc.client.clone();
    assert_eq!(c.post("/v1/shift/open", "").status, 200);
    let before = fd_count(&c);
    let host = c.base.trim_start_matches("http://").to_string();
    let page = "Origin: http://shop.evil.example\r\n";
    let cases: Vec<(&str, String, u16, &str)> = vec![
        // The no-preflight "simple" request a page can send.
        ("text/plain refund", post(&host, "/v1/receipts", "Content-Type: text/plain\r\n", &refund()), 415, "unsupported_media_type"),
        ("form refund", post(&host, "/v1/receipts", "Content-Type: application/x-www-form-urlencoded\r\n", &refund()), 415, "unsupported_media_type"),
        ("no Content-Type", post(&host, "/v1/receipts", "", &refund()), 415, "unsupported_media_type"),
        // With the page's Origin, whatever it declares.
        ("cross-site JSON refund", post(&host, "/v1/receipts", &format!("{page}Content-Type: application/json\r\n"), &refund()), 403, "forbidden"),
        ("cross-site shift close", post(&host, "/v1/shift/close", page, ""), 403, "forbidden"),
        ("cross-site report", post(&host, "/v1/reports/settlement", page, ""), 403, "forbidden"),
        ("cross-site journal read", format!("GET /v1/journal HTTP/1.1\r\nHost: {host}\r\n{page}Connection: close\r\n\r\n"), 403, "forbidden"),
        ("preflight", format!("OPTIONS /v1/receipts HTTP/1.1\r\nHost: {host}\r\n{page}Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n"), 403, "forbidden"),
        // DNS rebinding: the page's own name in Host, no Origin on a same-origin read.
        ("rebound journal read", "GET /v1/journal HTTP/1.1\r\nHost: rebound.evil.example:8567\r\nConnection: close\r\n\r\n".into(), 403, "forbidden"),
        ("rebound refund", post("rebound.evil.example", "/v1/receipts", "Content-Type: application/json\r\n", &refund()), 403, "forbidden"),
    ];
    for (what, request, status, kind) in &cases {
        let a = raw_request(&c.base, request);
        assert_eq!(a.status, *status, "{what}: {}", a.body);
        assert_eq!(a.body["error"]["kind"], *kind, "{what}: {}", a.body);
        assert!(a.header("access-control-allow-origin").is_none(), "{what}: no CORS grant");
        let mut line = request.split_whitespace();
        let (method, path) = (line.next().unwrap(), line.next().unwrap());
        if method != "OPTIONS" {
            check_against_openapi(method, path, a.status, &a.body);
        }
    }
    // Nothing was formed: one journal entry (the shift open), the same last FD.
    assert_eq!(fd_count(&c), before);
    let j = c.get("/v1/journal", "/v1/journal");
    assert_eq!(j.body["entries"].as_array().unwrap().len(), 1, "{}", j.body);
    // A POS program (no Origin, JSON with a charset, as .NET and 1C send it) is served.
    let a = raw_request(
        &c.base,
        &post(&host, "/v1/receipts", "Content-Type: application/json; charset=utf-8\r\n", &fixture("sale.json", None)),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let a = raw_request(
        &c.base,
        &post(&format!("localhost:{}", host.rsplit(':').next().unwrap()), "/v1/shift/close", "", ""),
    );
    assert_eq!(a.status, 200, "localhost is this service: {}", a.body);
}

#[test]
fn an_allowed_origin_gets_cors_and_only_it() {
    let svc = Service::start("emulator", |o| {
        o.extra = vec!["--allow-origin".into(), "https://pos.example".into(), "--allow-host".into(), "till-7".into()];
    });
    let base = svc.client.base.clone();
    let host = base.trim_start_matches("http://").to_string();
    let pre = raw_request(
        &base,
        &format!("OPTIONS /v1/receipts HTTP/1.1\r\nHost: {host}\r\nOrigin: https://pos.example\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type, authorization\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("access-control-allow-origin"), Some("https://pos.example"));
    assert!(pre.header("access-control-allow-headers").unwrap().contains("content-type"));
    let get = raw_request(
        &base,
        "GET /v1/status HTTP/1.1\r\nHost: till-7:1\r\nOrigin: https://pos.example\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(get.status, 200, "{}", get.body);
    assert_eq!(get.header("access-control-allow-origin"), Some("https://pos.example"));
    let other = raw_request(
        &base,
        &format!(
            "GET /v1/status HTTP/1.1\r\nHost: {host}\r\nOrigin: https://pos.example.evil\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(other.status, 403);
}

/// Opens `n` connections that never send a byte.
fn idle(base: &str, n: usize) -> Vec<TcpStream> {
    let addr = base.trim_start_matches("http://");
    (0..n).map(|_| TcpStream::connect(addr).unwrap()).collect()
}

/// A slowloris client: a request head one byte every 200 ms, never finished.
fn slowloris(base: &str) -> std::thread::JoinHandle<()> {
    let addr = base.trim_start_matches("http://").to_string();
    std::thread::spawn(move || {
        let Ok(mut s) = TcpStream::connect(&addr) else { return };
        let head = format!("GET /v1/status HTTP/1.1\r\nHost: {addr}\r\nX-Padding: {}", "a".repeat(400));
        for b in head.bytes() {
            if s.write_all(&[b]).is_err() {
                return; // closed by the service
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    })
}

#[test]
fn idle_and_slow_connections_do_not_deafen_the_service() {
    let svc = Service::emulator();
    let c = svc.client.clone();
    let held = idle(&c.base, 300);
    let _slow = slowloris(&c.base);
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    let a = Client::new(c.base.clone()).get("/v1/status", "/v1/status");
    let took = t.elapsed();
    assert_eq!(a.status, 200);
    eprintln!("FIGURES http idle: with 300 idle connections and a slowloris client, GET /v1/status on a new connection answered in {} ms", took.as_millis());
    assert!(took < Duration::from_secs(2), "took {took:?}");
    drop(held);
}

#[test]
fn a_connection_that_sends_nothing_is_closed_after_the_header_deadline() {
    let svc = Service::start("emulator", |o| o.extra = vec!["--header-timeout".into(), "1".into()]);
    let mut s = TcpStream::connect(svc.client.base.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let t = Instant::now();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    let took = t.elapsed();
    eprintln!("FIGURES http header deadline 1 s: a silent connection closed after {} ms", took.as_millis());
    assert_eq!(n, 0, "closed without an answer: {:?}", String::from_utf8_lossy(&buf[..n]));
    assert!(took >= Duration::from_millis(900), "not before the deadline: {took:?}");
}

/// More idle sockets than the usual 1 024-descriptor limit, and a slowloris client: receipts
/// still answer (the idle ones are closed at the header deadline; those over the cap wait in the
/// kernel's backlog and hold none of the service's descriptors).
#[cfg(unix)] // raises this test process's own descriptor limit (setrlimit) to hold 1 100 sockets
#[test]
fn eleven_hundred_idle_sockets_and_receipts_still_answer() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    if hard < 2400 {
        eprintln!("skipped: the hard descriptor limit ({hard}) cannot hold 1 100 sockets and the tests");
        return;
    }
    if soft < 4096.min(hard) {
        setrlimit(Resource::RLIMIT_NOFILE, 4096.min(hard), hard).unwrap();
    }
    let svc = Service::start("emulator", |o| {
        o.extra = vec!["--header-timeout".into(), "2".into()];
        o.fd_limit = Some(1024);
    });
    assert_eq!(svc.client.post("/v1/shift/open", "").status, 200);
    let held = idle(&svc.client.base, 1100);
    let _slow = slowloris(&svc.client.base);
    let t = Instant::now();
    for i in 0..3 {
        // A new client each time: a new connection, behind the idle ones.
        let a = Client::new(svc.client.base.clone())
            .post("/v1/receipts", &fixture("sale.json", Some(&format!("idle-{i}"))));
        assert_eq!(a.status, 200, "{}", a.body);
    }
    eprintln!(
        "FIGURES http load: 1100 idle sockets + slowloris, the service at 1024 descriptors (header deadline 2 s, cap 512): 3 receipts formed in {} ms",
        t.elapsed().as_millis()
    );
    drop(held);
}
