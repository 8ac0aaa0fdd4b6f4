//! Many clients, one register: receipts from concurrent clients are formed once each and never
//! interleave on the device (checked in the emulator's frame log); a repeated id is formed once;
//! a request that waits too long is answered 503 with nothing sent; a client that leaves does not
//! leave a half-formed receipt; shutdown finishes the request in flight.

use std::collections::BTreeSet;
use std::io::Read;
#[cfg(unix)]
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

use crate::support::http::*;
use serde_json::{json, Value};

/// A receipt of one unmarked item at `price` roubles, paid by card.
fn sale(id: &str, price: u32) -> String {
    json!({"id": id, "operation": "sell", "taxation": "osn",
           "items": [{"name": format!("Товар {id}"), "price": format!("{price}.00"), "quantity": "1", "vat": "vat20",
                      "payment_method": "full_payment", "payment_object": "commodity"}],
           "payments": {"electronic": format!("{price}.00")}})
    .to_string()
}

/// The receipt steps that may only come between 0x23 (open) and 0x24 (form).
const RECEIPT_STEPS: [u8; 6] = [0x2B, 0x2C, 0x2D, 0x96, 0x97, 0x98];

fn is_query_or_marking(code: u8) -> bool {
    use kkt::protocol::tables::{command_info, CommandClass};
    matches!(code, 0x91 | 0x92 | 0x94) || command_info(code).is_some_and(|i| i.class == CommandClass::Query)
}

/// Checks that every receipt's 0x23 … 0x24 is contiguous; gives the number of receipts.
fn receipts_in_log(codes: &[u8]) -> Result<usize, String> {
    let (mut open, mut formed) = (false, 0);
    for (i, &c) in codes.iter().enumerate() {
        match c {
            0x23 if open => return Err(format!("a receipt opened inside another (request {i})")),
            0x23 => open = true,
            0x24 if !open => return Err(format!("a receipt formed without being opened (request {i})")),
            0x24 => {
                open = false;
                formed += 1;
            }
            c if RECEIPT_STEPS.contains(&c) && !open => {
                return Err(format!("receipt step {c:#04X} outside a receipt (request {i})"))
            }
            c if RECEIPT_STEPS.contains(&c) => {}
            // Inside a receipt only its own driver's queries (FN status before 0x24) and
            // marked-item checks may come: nothing of another document.
            c if open && !is_query_or_marking(c) => return Err(format!("{c:#04X} inside a receipt (request {i})")),
            _ => {}
        }
    }
    if open {
        return Err("a receipt left open".into());
    }
    Ok(formed)
}

#[test]
fn the_frame_log_check_catches_interleaving() {
    assert_eq!(receipts_in_log(&[0x01, 0x23, 0x96, 0x2D, 0x24, 0x23, 0x96, 0x24]), Ok(2));
    assert!(receipts_in_log(&[0x23, 0x96, 0x23, 0x96, 0x24, 0x24]).is_err());
    assert_eq!(receipts_in_log(&[0x23, 0x96, 0x08, 0x24]), Ok(1), "the receipt's own FN status query");
    for other in [0x21, 0x29, 0x10, 0x25, 0x27] {
        assert!(receipts_in_log(&[0x23, 0x96, other, 0x24]).is_err(), "{other:#04X} inside a receipt");
    }
    assert!(receipts_in_log(&[0x96, 0x23, 0x24]).is_err());
    assert!(receipts_in_log(&[0x23, 0x96]).is_err());
}

#[test]
fn fifty_concurrent_clients_each_sell_once_and_never_interleave() {
    const N: usize = 50;
    let emu = Emulator::start(&[]);
    let svc = Service::start(&emu.uri, |c| c.queue_size = Some(N));
    let c = svc.client.clone();
    assert_eq!(c.post("/v1/shift/open", "").status, 200);
    let fd_before = c.get("/v1/status", "/v1/status").body["fn"]["last_fd_number"].as_u64().unwrap();
    let requests_before = emu.requests().len();

    let barrier = Arc::new(Barrier::new(N));
    let started = Instant::now();
    let handles: Vec<_> = (0..N)
        .map(|i| {
            let (c, barrier) = (c.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let id = format!("till-{i:02}");
                let t = Instant::now();
                let a = c.post("/v1/receipts", &sale(&id, 100 + i as u32));
                (i, id, a, t.elapsed())
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let wall = started.elapsed();

    let mut fds = BTreeSet::new();
    let mut numbers = BTreeSet::new();
    let mut slowest = Duration::ZERO;
    for (i, id, a, took) in &results {
        assert_eq!(a.status, 200, "client {i}: {}", a.body);
        assert_eq!(a.body["id"], id.as_str());
        assert_eq!(a.body["replayed"], false);
        assert_eq!(a.body["total"], format!("{}.00", 100 + i));
        fds.insert(a.body["fd_number"].as_u64().unwrap());
        numbers.insert(a.body["receipt_number"].as_u64().unwrap());
        slowest = slowest.max(*took);
    }
    assert_eq!(fds.len(), N, "every client got its own document");
    assert_eq!(fds, (fd_before + 1..=fd_before + N as u64).collect(), "documents are consecutive, none extra");
    assert_eq!(numbers, (1..=N as u64).collect(), "receipt numbers 1..{N} in the shift");

    // The register formed exactly N documents; the journal holds each id once, formed.
    let st = c.get("/v1/status", "/v1/status");
    assert_eq!(st.body["fn"]["last_fd_number"].as_u64().unwrap(), fd_before + N as u64);
    let j = c.get("/v1/journal", "/v1/journal?limit=1000");
    let sells: Vec<&Value> =
        j.body["entries"].as_array().unwrap().iter().filter(|e| e["operation"] == "sell").collect();
    assert_eq!(sells.len(), N);
    assert!(sells.iter().all(|e| e["state"] == "formed"));
    let ids: BTreeSet<&str> = sells.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), N);

    // On the wire: 50 receipts, each 0x23 … 0x24 uninterrupted.
    let codes = emu.requests();
    let during = &codes[requests_before..];
    assert_eq!(during.iter().filter(|&&c| c == 0x23).count(), N, "each receipt opened once");
    assert_eq!(during.iter().filter(|&&c| c == 0x24).count(), N, "each receipt formed once");
    assert_eq!(receipts_in_log(during), Ok(N));
    assert!(!during.contains(&0x10), "no receipt was cancelled");
    eprintln!(
        "{N} concurrent clients: all formed once in {:.2} s ({:.1} ms per receipt; the slowest client waited {:.2} s); \
         {} requests to the register, receipts contiguous",
        wall.as_secs_f64(),
        wall.as_secs_f64() * 1000.0 / N as f64,
        slowest.as_secs_f64(),
        during.len()
    );
}

#[test]
fn the_same_id_from_concurrent_clients_is_formed_once() {
    const N: usize = 10;
    let svc = Service::emulator();
    let c = svc.client.clone();
    assert_eq!(c.post("/v1/shift/open", "").status, 200);
    let fd_before = c.get("/v1/status", "/v1/status").body["fn"]["last_fd_number"].as_u64().unwrap();
    let barrier = Arc::new(Barrier::new(N));
    let answers: Vec<Answer> = (0..N)
        .map(|_| {
            let (c, barrier) = (c.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                c.post("/v1/receipts", &sale("pos-7-000123", 250))
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let ok: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    assert!(!ok.is_empty());
    assert_eq!(ok.iter().filter(|a| a.body["replayed"] == false).count(), 1, "formed by one request only");
    assert!(ok.iter().all(|a| a.body["fd_number"] == ok[0].body["fd_number"]), "the same document for all");
    for a in answers.iter().filter(|a| a.status != 200) {
        assert_error(a, 409, "in_progress", "pos-7-000123");
    }
    let st = c.get("/v1/status", "/v1/status");
    assert_eq!(st.body["fn"]["last_fd_number"].as_u64().unwrap(), fd_before + 1);
    // And once more afterwards: the same document.
    let again = c.post("/v1/receipts", &sale("pos-7-000123", 250));
    assert_eq!(
        (again.status, &again.body["fd_number"], &again.body["replayed"]),
        (200, &ok[0].body["fd_number"], &json!(true))
    );
}

/// A register that takes requests and never answers: each connection is handed to the test once
/// its first bytes arrived (or, in auto-close mode, closed at once and counted).
struct Silent {
    addr: String,
    conns: mpsc::Receiver<TcpStream>,
    auto_close: Arc<AtomicBool>,
    closed: Arc<AtomicUsize>,
}

impl Silent {
    fn start() -> Silent {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("tcp://{}", l.local_addr().unwrap());
        let (tx, conns) = mpsc::channel();
        let auto_close = Arc::new(AtomicBool::new(false));
        let closed = Arc::new(AtomicUsize::new(0));
        let (ac, cl) = (auto_close.clone(), closed.clone());
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                let mut b = [0u8; 64];
                if s.read(&mut b).unwrap_or(0) == 0 {
                    continue;
                }
                if ac.load(Ordering::SeqCst) {
                    cl.fetch_add(1, Ordering::SeqCst);
                    drop(s);
                } else if tx.send(s).is_err() {
                    return;
                }
            }
        });
        Silent { addr, conns, auto_close, closed }
    }
}

/// Driver options for the silent register: no reading of the state at connect, no retries, and
/// answers awaited until the test closes the connection.
fn patient(c: &mut ServeOptions) {
    c.driver =
        "retries = 0\nresync_on_connect = false\nretry_delay_ms = 1\nreconcile_attempts = 3\nreconcile_delay_ms = 1\n"
            .into();
    c.timeout = Some(600);
}

#[test]
fn a_request_that_waits_too_long_is_503_and_never_sent() {
    let reg = Silent::start();
    let svc = Service::start(&reg.addr, |c| {
        patient(c);
        c.queue_timeout = Duration::from_millis(300);
    });
    let c = svc.client.clone();
    // A holds the register: its first request is on the wire and unanswered.
    let a = {
        let c = c.clone();
        std::thread::spawn(move || c.get("/v1/status", "/v1/status"))
    };
    let held = reg.conns.recv().unwrap();
    // B waits behind it for longer than the queue timeout.
    let b = c.post("/v1/receipts", &sale("late-1", 100));
    assert_error(&b, 503, "busy", "nothing was sent");
    assert_eq!(b.retry_after.as_deref(), Some("1"));
    // A's register connection closes: A gets its answer (504: no answer from the register).
    drop(held);
    let a = a.join().unwrap();
    assert_eq!((a.status, a.body["error"]["kind"].as_str()), (504, Some("link")), "{}", a.body);
    // C goes next: B was dropped, so C's is the only request the register sees after A's.
    reg.auto_close.store(true, Ordering::SeqCst);
    let cst = c.get("/v1/status", "/v1/status");
    assert!(cst.status >= 500, "{}", cst.body);
    assert_eq!(reg.closed.load(Ordering::SeqCst), 1, "only C's request reached the register; B's never did");
    assert!(reg.conns.try_recv().is_err());
    // Nothing of B was journaled.
    assert_error(&c.get("/v1/receipts/{id}", "/v1/receipts/late-1"), 404, "not_found", "late-1");
    assert_eq!(c.get("/v1/journal", "/v1/journal").body["entries"], json!([]));
}

// Unix only, as the next two: they stop the service with a signal, and on Windows std cannot
// send Ctrl-Break to another process (Service::shutdown ends it there instead).
#[cfg(unix)]
#[test]
fn shutdown_finishes_the_request_in_flight() {
    stops_after_the_request_in_flight(Service::shutdown);
}

/// Ctrl-C (SIGINT; on Windows the console's Ctrl-C and Ctrl-Break, the same `shutdown_signal`).
#[cfg(unix)]
#[test]
fn ctrl_c_finishes_the_request_in_flight() {
    stops_after_the_request_in_flight(|svc| svc.signal(nix::sys::signal::Signal::SIGINT));
}

#[cfg(unix)]
fn stops_after_the_request_in_flight(stop: fn(&mut Service)) {
    let reg = Silent::start();
    let mut svc = Service::start(&reg.addr, patient);
    let c = svc.client.clone();
    let addr = c.base.trim_start_matches("http://").to_string();
    let a = {
        let c = c.clone();
        std::thread::spawn(move || c.get("/v1/status", "/v1/status"))
    };
    let held = reg.conns.recv().unwrap();
    let stopping = std::thread::spawn(move || stop(&mut svc));
    // Wait until the service stops accepting connections (bounded: it does at once).
    let mut refused = false;
    for _ in 0..1000 {
        if TcpStream::connect(&addr).is_err() {
            refused = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(refused, "the service kept accepting connections after shutdown began");
    assert!(!a.is_finished(), "the request in flight must still be running");
    // The register answers (here: closes); the request in flight gets its whole answer.
    drop(held);
    let a = a.join().unwrap();
    assert_eq!(a.status, 504, "{}", a.body);
    stopping.join().unwrap();
}

#[cfg(unix)]
#[test]
fn a_client_that_leaves_leaves_no_half_formed_receipt() {
    let emu = Emulator::start(&[]);
    let mut svc = Service::start(&emu.uri, |_| {});
    let c = svc.client.clone();
    assert_eq!(c.post("/v1/shift/open", "").status, 200);
    let fd_before = c.get("/v1/status", "/v1/status").body["fn"]["last_fd_number"].as_u64().unwrap();
    for i in 0..10 {
        let body = sale(&format!("gone-{i}"), 300);
        let mut s = TcpStream::connect(c.base.trim_start_matches("http://")).unwrap();
        write!(
            s,
            "POST /v1/receipts HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        drop(s); // gone before the answer
    }
    // Shutdown finishes whatever the register took up and drops what it had not.
    svc.shutdown();
    let journal = kkt::journal::Journal::open(&svc.dir.path("journal.sqlite")).unwrap();
    let entries: Vec<_> = journal.list(false, 100).unwrap().into_iter().filter(|e| e.operation == "sell").collect();
    assert!(entries.iter().all(|e| e.state != kkt::journal::State::Pending), "{entries:?}");
    let formed = entries.iter().filter(|e| e.state == kkt::journal::State::Formed).count() as u64;
    let mut k = kkt::Kkt::connect(&emu.uri).unwrap();
    let st = k.status().unwrap();
    assert_eq!(st.fn_status.current_document, 0, "no document left open on the register");
    assert_eq!(u64::from(st.fn_status.last_fd_number), fd_before + formed, "every formed receipt is journaled");
    eprintln!("10 clients that left: {formed} receipts formed and journaled, the rest never sent");
}
