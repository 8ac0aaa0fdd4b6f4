//! Issue 18 §3, §5 and §7 through `kkt serve`: a document another program opened is 409
//! `register_busy` (nothing cancelled), the service follows a shift a technician opened with
//! the command line, and the outcome of a receipt still being formed is 202 `in_progress`.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::support::http::{assert_error, fixture, Emulator, Service, TempDir, BIN};

/// `kkt …` on the emulator at `uri`, with its own journal and home (another process than the
/// service, as a technician's terminal is).
fn cli(uri: &str, dir: &TempDir) -> Command {
    let mut c = Command::new(BIN);
    c.env("KKT_DEVICE", uri)
        .env_remove("KKT_CONFIG")
        .env("KKT_JOURNAL", dir.path("cli-journal.sqlite"))
        .env("KKT_STATE_DIR", dir.path("cli-state"))
        .env("HOME", dir.path("cli-home"));
    c
}

fn last_fd(svc: &Service) -> u64 {
    svc.client.get("/v1/status", "/v1/status").body["fn"]["last_fd_number"].as_u64().unwrap()
}

#[test]
fn a_document_another_program_opened_is_409_register_busy_and_left_open() {
    let emu = Emulator::start(&[]);
    let svc = Service::start(&emu.uri, |_| {});
    let c = svc.client.clone();
    assert_eq!(c.post("/v1/shift/open", "").status, 200);
    let fd = last_fd(&svc);
    // Another program opens a receipt on the register and keeps it open.
    let mut other = kkt::Kkt::connect(&emu.uri).unwrap();
    other.call(&kkt::commands::receipt::OpenReceipt::default()).unwrap();

    let sale = fixture("sale.json", Some("busy-http"));
    let a = c.post("/v1/receipts", &sale);
    assert_error(&a, 409, "register_busy", "another program");
    let st = c.get("/v1/status", "/v1/status");
    assert_ne!(st.body["fn"]["current_document"], json!(0), "left open: {}", st.body);
    assert_eq!(st.body["fn"]["last_fd_number"].as_u64(), Some(fd), "nothing formed");
    // Not cancelled by the service's recovery either.
    assert_eq!(c.post("/v1/recover", "").status, 200);
    let st = c.get("/v1/status", "/v1/status");
    assert_ne!(st.body["fn"]["current_document"], json!(0), "left open: {}", st.body);

    // The other program gives up its receipt: ours is formed, once.
    other.cancel_document().unwrap();
    let a = c.post("/v1/receipts", &sale);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["fd_number"].as_u64(), Some(fd + 1));
}

/// §5: a technician opens the shift with `kkt shift open` in another process; the service's
/// next receipt is formed without anyone asking for `GET /v1/status` first.
#[test]
fn a_shift_opened_from_the_command_line_is_followed_by_the_service() {
    let emu = Emulator::start(&[]);
    let svc = Service::start(&emu.uri, |_| {});
    let c = svc.client.clone();
    let dir = TempDir::new("follow");
    // The service has seen the register with the shift closed.
    let st = c.get("/v1/status", "/v1/status");
    assert_eq!(st.body["shift"]["open"], false, "{}", st.body);
    let fd = st.body["fn"]["last_fd_number"].as_u64().unwrap();

    let out = cli(&emu.uri, &dir).args(["shift", "open", "--cashier", "Иванова А.А."]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let a = c.post("/v1/receipts", &fixture("sale.json", Some("after-cli-open")));
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["fd_number"].as_u64(), Some(fd + 2), "the shift report, then the receipt");

    // And the other way: closed from the command line, the service says so (the register's
    // word), not "formed".
    let out = cli(&emu.uri, &dir).args(["shift", "close"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let a = c.post("/v1/receipts", &fixture("sale.json", Some("after-cli-close")));
    assert!(matches!(a.status, 409 | 502), "{}", a.body);
    assert!(a.body["error"]["hint"].as_str().unwrap_or_default().contains("shift"), "{}", a.body);
}

/// §7: `GET /v1/receipts/{id}` while the POST with that id is being formed answers 202
/// `in_progress`, never an answer that would make the POS send it again.
#[test]
fn the_outcome_of_a_receipt_being_formed_is_202_in_progress() {
    let dir = TempDir::new("inprogress");
    let scenario = dir.path("scenario.toml");
    // The register takes its time over the receipt's 0x24.
    std::fs::write(&scenario, "[[faults]]\ncommand = 0x24\naction = \"delay\"\ndelay_ms = 2000\ntimes = 1\n").unwrap();
    let emu = Emulator::start(&["--scenario", scenario.to_str().unwrap()]);
    let svc = Service::start(&emu.uri, |_| {});
    let c = svc.client.clone();
    assert_eq!(c.post("/v1/shift/open", "").status, 200);
    let sale = fixture("sale.json", Some("slow-1"));
    let pos = {
        let (c, sale) = (c.clone(), sale.clone());
        std::thread::spawn(move || c.post("/v1/receipts", &sale))
    };
    let mut seen = None;
    for _ in 0..400 {
        let o = c.get("/v1/receipts/{id}", "/v1/receipts/slow-1");
        if o.status != 404 {
            seen = Some(o);
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let o = seen.expect("the POST was seen");
    assert_eq!(o.status, 202, "{}", o.body);
    assert_eq!(o.body["state"], "in_progress", "{}", o.body);
    let a = pos.join().unwrap();
    assert_eq!(a.status, 200, "{}", a.body);
    let o = c.get("/v1/receipts/{id}", "/v1/receipts/slow-1");
    assert_eq!((o.status, o.body["state"].as_str()), (200, Some("formed")), "{}", o.body);
}

/// §7: what a real FN or OFD would refuse is refused first (400 naming the field), nothing sent.
#[test]
fn inputs_a_real_fn_would_refuse_are_400_and_nothing_is_sent() {
    let svc = Service::emulator();
    let c = &svc.client;
    assert_eq!(c.post("/v1/shift/open", "").status, 200);
    let before = last_fd(&svc);
    let sale: serde_json::Value = serde_json::from_str(&fixture("sale.json", None)).unwrap();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = sale.clone();
        f(&mut v);
        v.to_string()
    };
    let many = |n: usize| {
        with(&|v| {
            let item = v["items"][0].clone();
            v["items"] = json!(vec![item; n]);
            v["payments"]["cash"] = json!(format!("{}.00", 91 * n));
        })
    };
    assert!(sale.to_string().contains("\"quantity\":\"2\""));
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("NUL in a name", with(&|v| v["items"][0]["name"] = json!("Хлеб\u{0}")), "items[0].name", "U+0000"),
        ("a control character", with(&|v| v["cashier"]["name"] = json!("Ива\u{7}нова")), "cashier.name", "U+0007"),
        (
            "a contact that is neither",
            with(&|v| v["customer"]["contact"] = json!("call me")),
            "customer.contact",
            "e-mail",
        ),
        (
            "an electronic receipt without a contact",
            with(&|v| {
                v["print"] = json!(false);
                v.as_object_mut().unwrap().remove("customer");
            }),
            "customer.contact",
            "electronic",
        ),
        (
            "a total of 0.00",
            with(&|v| {
                v["items"][0]["price"] = json!("0");
                v["items"][1]["price"] = json!("0");
                v["payments"]["cash"] = json!("0");
            }),
            "items",
            "0.00",
        ),
        (
            "an exponent quantity",
            sale.to_string().replace("\"quantity\":\"2\"", "\"quantity\":2e0"),
            "items[0].quantity",
            "exponent",
        ),
        ("101 items", many(101), "items", "100"),
        (
            "change above 100 000.00",
            with(&|v| v["payments"]["cash"] = json!("100200.00")),
            "payments.cash",
            "--max-change",
        ),
    ];
    for (what, body, field, mentions) in &cases {
        let a = c.post("/v1/receipts", body);
        assert_eq!(a.status, 400, "{what}: {}", a.body);
        assert_eq!(a.body["error"]["kind"], "input", "{what}");
        let m = a.body["error"]["message"].as_str().unwrap();
        assert!(m.contains(field) && m.contains(mentions), "{what}: {field:?} / {mentions:?} not in {m:?}");
    }
    assert_eq!(last_fd(&svc), before, "nothing was formed");
    // The limits: 100 items pass (the virtual register's own limit).
    let a = c.post("/v1/receipts", &many(100));
    assert_eq!(a.status, 200, "{}", a.body);
}

/// §7: the answers hyper writes itself (a URI over its limit, headers over its buffer, a
/// request that is not HTTP) carry the JSON error body too.
#[test]
fn answers_hyper_writes_itself_carry_the_json_error_body() {
    let svc = Service::emulator();
    let base = &svc.client.base;
    let host = base.trim_start_matches("http://");
    let long = "a".repeat(70_000);
    let mut cases = vec![
        (format!("GET /v1/receipts/{long} HTTP/1.1\r\nHost: {host}\r\n\r\n"), 414, "too_large"),
        ("GARBAGE\r\n\r\n".to_string(), 400, "input"),
    ];
    // Unix only: under Wine hyper read the 500 kB header whole and answered 200 (its buffer
    // limit depends on how the socket hands over the bytes); not yet understood.
    if cfg!(unix) {
        cases.push((
            format!("GET /v1/status HTTP/1.1\r\nHost: {host}\r\nX-Big: {}\r\n\r\n", "b".repeat(500_000)),
            431,
            "too_large",
        ));
    }
    for (request, status, kind) in cases {
        let a = crate::support::http::raw_request(base, &request);
        assert_eq!(a.status, status, "{:?}", a.body);
        assert_eq!(a.header("content-type"), Some("application/json"), "{status}");
        assert_eq!(a.body["error"]["kind"], kind, "{status}: {}", a.body);
        assert!(a.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", a.body);
        assert!(a.body["error"]["hint"].is_string(), "{}", a.body);
    }
    // The service still answers.
    assert_eq!(svc.client.get("/v1/status", "/v1/status").status, 200);
}

/// §2: a `POST /v1/marks/check` with many codes does not hold the register: each code is one
/// job, so a receipt sent while the codes are being checked is formed between two of them.
#[test]
fn a_receipt_is_formed_between_the_codes_of_a_long_marks_check() {
    let dir = TempDir::new("marks-jobs");
    let scenario = dir.path("scenario.toml");
    // Every code's local check (0x91) takes the register 150 ms.
    std::fs::write(&scenario, "[[faults]]\ncommand = 0x91\naction = \"delay\"\ndelay_ms = 150\ntimes = 1000\n")
        .unwrap();
    let emu = Emulator::start(&["--scenario", scenario.to_str().unwrap()]);
    let svc = Service::start(&emu.uri, |_| {});
    let c = svc.client.clone();
    assert_eq!(c.post("/v1/shift/open", "").status, 200);
    let codes = vec![crate::support::http::SEED_CODE; 30];
    let marks = {
        let c = c.clone();
        let body = json!({ "codes": codes }).to_string();
        std::thread::spawn(move || c.post("/v1/marks/check", &body))
    };
    // Once the register is checking the first code, a receipt comes.
    let mut seen = false;
    for _ in 0..2000 {
        if emu.requests().contains(&0x91) {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(seen, "the marks check never reached the register");
    let r = c.post("/v1/receipts", &fixture("sale.json", Some("between-codes")));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!marks.is_finished(), "the receipt waited for all 30 codes");
    let m = marks.join().unwrap();
    assert_eq!(m.status, 200, "{}", m.body);
    assert_eq!(m.body["verdicts"].as_array().unwrap().len(), 30);
    // On the wire: the receipt's 0x24 between two codes' checks.
    let wire = emu.requests();
    let form = wire.iter().position(|c| *c == 0x24).expect("0x24 sent");
    assert!(wire[..form].contains(&0x91) && wire[form..].contains(&0x91), "{wire:02x?}");
}
