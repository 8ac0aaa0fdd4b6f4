//! The `kkt` commands that talk to a register, run as a user runs them, against
//! `kkt emulator` over TCP (and the in-process emulator for the demo).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command as Proc, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;

const BIN: &str = env!("CARGO_BIN_EXE_kkt");

/// A `kkt emulator` on a free TCP port, logging every frame (TRACE) to its stderr.
struct Emulator {
    child: Child,
    uri: String,
    // The frame log, read as it comes (a full pipe would stop the emulator).
    log: std::thread::JoinHandle<String>,
}

impl Emulator {
    fn start(extra: &[&str]) -> Emulator {
        let mut child = Proc::new(BIN)
            .args(["-vvv", "emulator", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        let addr = line.split_whitespace().find(|w| w.starts_with("127.0.0.1:")).unwrap_or_else(|| panic!("{line}"));
        let mut stderr = child.stderr.take().unwrap();
        let log = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        Emulator { child, uri: format!("tcp://{addr}"), log }
    }

    fn kkt(&self) -> Command {
        let mut c = Command::new(BIN);
        // Each register its own journal (the default one is in the user's data directory).
        let journal = std::env::temp_dir().join(format!("kkt-cli-journal-{}", self.uri.replace([':', '/'], "_")));
        // And its own cache (the sold-codes store): a code sold in an earlier run is not "sold
        // by this store" in this one.
        let cache = std::env::temp_dir().join(format!(
            "kkt-cli-cache-{}-{}",
            std::process::id(),
            self.uri.replace([':', '/'], "_")
        ));
        c.env("KKT_DEVICE", &self.uri)
            .env_remove("KKT_CONFIG")
            .env_remove("KKT_STORE")
            .env("HOME", std::env::temp_dir())
            .env("KKT_STATE_DIR", crate::support::state_dir())
            .env("KKT_CACHE_DIR", cache)
            .env("KKT_JOURNAL", journal);
        c
    }

    /// Stops the emulator and returns its frame log.
    fn log(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log.join().unwrap()
    }
}

fn fixture(name: &str) -> String {
    format!("{}/fixtures/receipts/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn a_day_through_the_command_line() {
    let emu = Emulator::start(&[]);
    emu.kkt().args(["status"]).assert().success().stdout(predicate::str::contains("shift        closed"));
    let out = emu
        .kkt()
        .args(["--json", "shift", "open", "--cashier", "Иванова А.А.", "--cashier-inn", "500100732259"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json_of(&out)["shift_number"], 1);

    let out = emu.kkt().args(["--json", "receipt", &fixture("sale.json")]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = json_of(&out);
    for k in ["receipt_number", "fd_number", "fiscal_sign", "shift_number", "datetime", "total"] {
        assert!(!r[k].is_null(), "{k} in {r}");
    }
    assert_eq!(r["total"], "180.90");
    assert_eq!(r["marks"][0]["item"], 1);
    assert_eq!(r["marks"][0]["tag2106"]["checked"], true);

    // A receipt from stdin, human output.
    let text = std::fs::read_to_string(fixture("refund.json")).unwrap();
    emu.kkt().args(["receipt", "-"]).write_stdin(text).assert().success().stdout(predicate::str::contains("ФД"));
    emu.kkt().args(["correction", &fixture("correction.json")]).assert().success();
    emu.kkt().args(["--json", "shift", "status"]).assert().success().stdout(predicate::str::contains("\"open\":true"));
    emu.kkt().args(["report", "settlement"]).assert().success().stdout(predicate::str::contains("settlement report"));
    emu.kkt().args(["info"]).assert().success().stdout(predicate::str::contains("model"));
    emu.kkt().args(["datetime", "get"]).assert().success();
    emu.kkt().args(["datetime", "set", "tomorrow"]).assert().code(2);
    emu.kkt().args(["--json", "datetime", "get"]).assert().success().stdout(predicate::str::contains("datetime"));
    emu.kkt().args(["settings", "oism", "set", "--host", "test.oism.example", "--port", "19000"]).assert().success();
    emu.kkt()
        .args(["--json", "settings", "oism", "get"])
        .assert()
        .success()
        .stdout(predicate::str::contains("test.oism.example").and(predicate::str::contains("19000")));
    emu.kkt().args(["settings", "keys-host", "get"]).assert().success();
    emu.kkt()
        .args(["settings", "ofd", "set", "--host", "ofd.test.example", "--port", "7790", "--host-timeout", "30"])
        .assert()
        .success();
    emu.kkt()
        .args(["settings", "ofd", "get"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ofd.test.example:7790"));
    emu.kkt().args(["cancel"]).assert().success();
    emu.kkt().args(["shift", "close"]).assert().success().stdout(predicate::str::contains("closed"));
    // The register refuses a receipt without an open shift: exit 3 with the code. The
    // driver's state machine refuses it first (exit 2) when it knows the shift is closed.
    let out = emu.kkt().args(["--json", "receipt", &fixture("sale.json")]).output().unwrap();
    assert!(matches!(out.status.code(), Some(2) | Some(3)), "{out:?}");
    assert!(json_of(&out)["error"]["kind"].is_string());
    let log = emu.log();
    assert!(log.contains("0x22") || log.contains("B629"), "the frame log shows the exchange");
}

#[test]
fn bad_input_exits_2_and_sends_nothing() {
    let emu = Emulator::start(&[]);
    let dir = std::env::temp_dir().join(format!("kkt-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("sale.json")).unwrap()).unwrap();
    type Change = Box<dyn Fn(&mut serde_json::Value)>;
    let variants: Vec<(&str, Change, &str)> = vec![
        ("malformed", Box::new(|_| {}), ""),
        ("unknown field", Box::new(|v| v["colour"] = "red".into()), "colour"),
        ("negative price", Box::new(|v| v["items"][0]["price"] = "-1.00".into()), "items[0].price"),
        ("over-precise price", Box::new(|v| v["items"][0]["price"] = "45.505".into()), "items[0].price"),
        ("long name", Box::new(|v| v["items"][0]["name"] = "я".repeat(129).into()), "items[0].name"),
        ("bad INN", Box::new(|v| v["cashier"]["inn"] = "12345".into()), "inn"),
        ("marked quantity", Box::new(|v| v["items"][1]["quantity"] = "2".into()), "items[1]"),
        ("payments short", Box::new(|v| v["payments"]["cash"] = "10.00".into()), "payments"),
        ("not cp866", Box::new(|v| v["items"][0]["name"] = "Хлеб €".into()), "items[0].name"),
    ];
    for (what, change, field) in &variants {
        let path = dir.join("r.json");
        if *what == "malformed" {
            std::fs::write(&path, "{\"operation\": \"sell\",").unwrap();
        } else {
            let mut v = base.clone();
            change(&mut v);
            std::fs::write(&path, v.to_string()).unwrap();
        }
        let out = emu.kkt().args(["--json", "receipt", path.to_str().unwrap()]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{what}: {}", String::from_utf8_lossy(&out.stdout));
        let e = json_of(&out);
        assert_eq!(e["error"]["kind"], "input", "{what}: {e}");
        assert!(e["error"]["message"].as_str().unwrap().contains(field), "{what}: {e}");
    }
    std::fs::remove_dir_all(&dir).ok();
    let log = emu.log();
    assert!(!log.contains("kkt::frames"), "nothing may reach the register, but the log shows:\n{log}");
}

#[test]
fn errors_are_json_with_kind_code_message_hint() {
    // Nothing listens on this port: a link failure, exit 4.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let out = Command::new(BIN)
        .args(["--json", "--timeout", "2", "--device", &format!("tcp://127.0.0.1:{port}"), "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let e = json_of(&out);
    for k in ["kind", "code", "message", "hint"] {
        assert!(e["error"].get(k).is_some(), "{k} in {e}");
    }
    // No device at all: usage, exit 2.
    Command::new(BIN).env_remove("KKT_DEVICE").env("HOME", std::env::temp_dir()).args(["status"]).assert().code(2);
}

#[test]
fn clock_set_forward() {
    let emu = Emulator::start(&[]);
    emu.kkt().args(["datetime", "set", "2030-01-02T03:04"]).assert().success();
    emu.kkt().args(["datetime", "get"]).assert().success().stdout(predicate::str::contains("2030-01-02 03:0"));
    emu.log();
}

#[test]
fn completions_and_ports() {
    Command::new(BIN).args(["completions", "bash"]).assert().success().stdout(predicate::str::contains("kkt"));
    Command::new(BIN).args(["--json", "ports"]).assert().success();
}
#[test]
fn demo_runs_on_the_built_in_register() {
    let out = Command::new(BIN).env_remove("KKT_DEVICE").args(["--json", "demo"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json_of(&out);
    assert!(v["receipt"]["fd_number"].as_u64().unwrap() > 0);
    assert_eq!(v["receipt"]["marks"].as_array().unwrap().len(), 2);
    Command::new(BIN)
        .env_remove("KKT_DEVICE")
        .args(["demo"])
        .assert()
        .success()
        .stdout(predicate::str::contains("КАССОВЫЙ ЧЕК"));
}

#[test]
fn registration_activation_and_fn_close() {
    let emu = Emulator::start(&["--factory-fresh", "--activation-code", "ABCDEF0123456789"]);
    let reg = format!("{}/fixtures/registration.json", env!("CARGO_MANIFEST_DIR"));
    // Marking needs the OISM and key-update hosts before registration: kkt reads them (0x83,
    // 0x85) and refuses before 0xE1, naming the commands that save them.
    let out = emu.kkt().args(["--json", "register", &reg]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    let e = json_of(&out)["error"].clone();
    let text = format!("{} {}", e["message"], e["hint"]);
    assert!(text.contains("kkt settings oism set") && text.contains("kkt settings keys-host set"), "{e}");
    emu.kkt().args(["settings", "oism", "set", "--host", "oism.example.ru", "--port", "21701"]).assert().success();
    emu.kkt().args(["settings", "keys-host", "set", "--host", "keys.example.ru", "--port", "21702"]).assert().success();
    // The ФФД 1.2 registration commands wait for the activation code (device error 0xDD).
    let out = emu.kkt().args(["--json", "register", &reg]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(json_of(&out)["error"]["code"], 0xDD);
    emu.kkt().args(["activate", "ABCDEF0123"]).assert().code(2);
    emu.kkt().args(["activate", "ABCDEF0123456789"]).assert().success();
    let out = emu.kkt().args(["--json", "register", &reg]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(json_of(&out)["fd_number"].as_u64().unwrap() >= 1);
    emu.kkt().args(["--json", "info"]).assert().success().stdout(predicate::str::contains("7806197274"));
    // Closing the FN needs --yes; then it is closed for good.
    emu.kkt().args(["fn", "close"]).assert().code(2);
    emu.kkt().args(["fn", "close", "--yes", "--cashier", "Иванов Иван Иванович"]).assert().success();
    emu.kkt().args(["shift", "open"]).assert().failure();
    emu.log();
}

#[test]
fn in_process_register_keeps_its_state_between_runs() {
    let dir = std::env::temp_dir().join(format!("kkt-cli-inproc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let uri = format!("emulator?state={}", dir.join("register.json").display());
    let kkt = || {
        let mut c = Command::new(BIN);
        c.env("KKT_DEVICE", &uri)
            .env_remove("KKT_CONFIG")
            .env("HOME", &dir)
            .env("KKT_CACHE_DIR", dir.join(".cache").join("kkt"));
        c
    };
    kkt().args(["shift", "open", "--cashier", "Петрова"]).assert().success();
    let out = kkt().args(["--json", "receipt", &fixture("sale.json")]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fd = json_of(&out)["fd_number"].as_u64().unwrap();
    let out = kkt().args(["--json", "status"]).output().unwrap();
    assert_eq!(json_of(&out)["fn"]["last_fd_number"].as_u64(), Some(fd));
    assert_eq!(json_of(&out)["shift"]["open"], true);
    kkt().args(["shift", "close"]).assert().success();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn mark_check_on_the_register() {
    let emu = Emulator::start(&["--scenario", concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/emulator/scenario.toml")]);
    let out = emu
        .kkt()
        .args(["--json", "mark", "check", "--no-online", "--no-store", "--status", "piece_sold"])
        .arg("0104607028393037215'Wt4q<GS>93dGVz")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json_of(&out);
    assert_eq!(v["register"]["tag2106"]["checked"], true, "{v}");
    assert!(v["register"]["explained"].as_array().unwrap().len() >= 5);
    // The check left nothing in the FN's table: a receipt can follow at once.
    emu.kkt().args(["--json", "status"]).assert().success().stdout(predicate::str::contains("\"kept_results\":0"));
    emu.log();
}

/// A plain sale with an id, written to `dir`.
fn bread_with_id(dir: &std::path::Path, id: &str) -> String {
    let p = dir.join(format!("{id}.json"));
    let text = serde_json::json!({
        "id": id,
        "operation": "sell",
        "taxation": "osn",
        "cashier": {"name": "Иванова А.А."},
        "items": [{"name": "Хлеб", "price": "45.50", "quantity": "2", "vat": "vat10", "payment_method": "full_payment", "payment_object": "commodity"}],
        "payments": {"cash": "100.00"}
    });
    std::fs::write(&p, text.to_string()).unwrap();
    p.display().to_string()
}

fn last_fd(emu: &Emulator) -> u64 {
    let out = emu.kkt().args(["--json", "status"]).output().unwrap();
    json_of(&out)["fn"]["last_fd_number"].as_u64().unwrap()
}

/// Issue 18 §4: an emptied or deleted journal is refused (exit 8) and nothing is formed; a
/// new journal at a path used before only with --new-journal; `kkt journal backup`.
#[test]
fn an_emptied_or_missing_journal_is_refused_with_exit_8() {
    let emu = Emulator::start(&[]);
    let dir = std::env::temp_dir().join(format!("kkt-cli-vanish-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("journal.sqlite");
    let kkt = || {
        let mut c = emu.kkt();
        c.env("KKT_JOURNAL", &journal).env("KKT_STATE_DIR", dir.join("state"));
        c
    };
    kkt().args(["shift", "open", "--cashier", "Иванова А.А."]).assert().success();
    let sale = bread_with_id(&dir, "vanish-1");
    let out = kkt().args(["--json", "receipt", &sale]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fd = json_of(&out)["fd_number"].as_u64().unwrap();
    // The same id again: replayed, not formed again.
    let out = kkt().args(["--json", "receipt", &sale]).output().unwrap();
    assert_eq!(json_of(&out)["replayed"], true);

    // Emptied (0 bytes, its -wal and -shm gone): refused, nothing formed.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", journal.display()));
    }
    std::fs::write(&journal, b"").unwrap();
    let out = kkt().args(["--json", "receipt", &sale]).output().unwrap();
    assert_eq!(out.status.code(), Some(8), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(json_of(&out)["error"]["kind"], "journal");
    assert_eq!(std::fs::metadata(&journal).unwrap().len(), 0, "not reinitialised");
    assert_eq!(last_fd(&emu), fd, "nothing formed");

    // Deleted: the path was used before, so refused too, with the way out named.
    std::fs::remove_file(&journal).unwrap();
    let out = kkt().args(["--json", "receipt", &sale]).output().unwrap();
    assert_eq!(out.status.code(), Some(8), "{}", String::from_utf8_lossy(&out.stdout));
    let e = json_of(&out);
    assert!(e["error"]["message"].as_str().unwrap().contains("--new-journal"), "{e}");
    assert!(!journal.exists());
    assert_eq!(last_fd(&emu), fd, "nothing formed");
    // `kkt journal` does not create it either.
    kkt().args(["journal"]).assert().code(8);

    // A person's decision: a new journal.
    let out = kkt().args(["--json", "--new-journal", "receipt", &sale]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("new journal"), "a notice on stderr");
    assert_eq!(json_of(&out)["fd_number"].as_u64(), Some(fd + 1));

    // A consistent copy.
    let backup = dir.join("backup.sqlite");
    let out = kkt().args(["--json", "journal", "backup", backup.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json_of(&out)["entries"], 1);
    kkt().args(["journal", "backup", backup.to_str().unwrap()]).assert().failure();
    let out = kkt().env("KKT_JOURNAL", &backup).args(["--json", "receipt", &sale]).output().unwrap();
    assert_eq!(json_of(&out)["replayed"], true, "the backup replays the id");
    assert_eq!(last_fd(&emu), fd + 1);
    std::fs::remove_dir_all(&dir).ok();
}

/// Issue 18 §3: a document another program opened is not cancelled: `kkt receipt` and
/// `kkt cancel` exit 3 (`register_busy`), `kkt cancel --force` cancels it.
#[test]
fn a_document_another_program_opened_exits_3_until_cancel_force() {
    let emu = Emulator::start(&[]);
    let dir = std::env::temp_dir().join(format!("kkt-cli-busy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kkt = || {
        let mut c = emu.kkt();
        c.env("KKT_JOURNAL", dir.join("journal.sqlite")).env("KKT_STATE_DIR", dir.join("state"));
        c
    };
    kkt().args(["shift", "open", "--cashier", "Иванова А.А."]).assert().success();
    let fd = last_fd(&emu);
    // Another program opens a receipt and keeps it open.
    {
        let mut other = kkt::Kkt::connect(&emu.uri).unwrap();
        other.call(&kkt::commands::receipt::OpenReceipt::default()).unwrap();
    }
    let sale = bread_with_id(&dir, "busy-1");
    let out = kkt().args(["--json", "receipt", &sale]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(json_of(&out)["error"]["kind"], "register_busy");
    let out = kkt().args(["--json", "cancel"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(json_of(&out)["error"]["kind"], "register_busy");
    let out = kkt().args(["--json", "status"]).output().unwrap();
    assert_ne!(json_of(&out)["fn"]["current_document"], 0, "still open: {}", json_of(&out));
    assert_eq!(last_fd(&emu), fd);

    let out = kkt().args(["--json", "cancel", "--force"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json_of(&out)["cancelled"], true);
    let out = kkt().args(["--json", "receipt", &sale]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json_of(&out)["fd_number"].as_u64(), Some(fd + 1));
    std::fs::remove_dir_all(&dir).ok();
}

/// Issue 18 §7: `--max-items` and `--max-change` are the limits named, checked before
/// anything reaches the register.
#[test]
fn max_items_and_max_change_are_refused_before_sending() {
    let emu = Emulator::start(&[]);
    let dir = std::env::temp_dir().join(format!("kkt-cli-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    emu.kkt().args(["shift", "open", "--cashier", "Иванова А.А."]).assert().success();
    let fd = last_fd(&emu);
    let sale = bread_with_id(&dir, "limits-1");
    let out = emu.kkt().args(["--json", "--max-items", "0", "receipt", &sale]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    let m = json_of(&out)["error"]["message"].as_str().unwrap().to_string();
    assert!(m.contains("items") && m.contains("--max-items"), "{m}");
    // 100.00 tendered for 91.00: 9.00 of change, above --max-change 5.
    let out = emu.kkt().args(["--json", "--max-change", "5.00", "receipt", &sale]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    let m = json_of(&out)["error"]["message"].as_str().unwrap().to_string();
    assert!(m.contains("payments.cash") && m.contains("--max-change"), "{m}");
    assert_eq!(last_fd(&emu), fd, "nothing formed");
    let out = emu.kkt().args(["--json", "--max-change", "9.00", "receipt", &sale]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    std::fs::remove_dir_all(&dir).ok();
}

/// Issue 18 §7: `kkt --json receipt … | true`: stdout is closed before the answer is written;
/// kkt does not panic (exit 101) but exits with the receipt's code, and the journal holds the
/// outcome (a repeat with the id is replayed).
#[test]
fn a_closed_stdout_never_panics_after_a_receipt() {
    let emu = Emulator::start(&[]);
    let dir = std::env::temp_dir().join(format!("kkt-cli-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    emu.kkt().args(["shift", "open", "--cashier", "Иванова А.А."]).assert().success();
    let fd = last_fd(&emu);
    let sale = bread_with_id(&dir, "pipe-1");
    for human in [false, true] {
        let mut cmd = Proc::new(BIN);
        cmd.env("KKT_DEVICE", &emu.uri)
            .env_remove("KKT_CONFIG")
            .env("HOME", std::env::temp_dir())
            .env("KKT_JOURNAL", dir.join("journal.sqlite"))
            .env("KKT_STATE_DIR", dir.join("state"));
        if !human {
            cmd.arg("--json");
        }
        let mut child = cmd.args(["receipt", &sale]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // `| true`: the reader is gone before kkt writes.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "json {}: {}", !human, String::from_utf8_lossy(&out.stderr));
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(last_fd(&emu), fd + 1, "formed once (the second run replayed it)");
    let out = emu
        .kkt()
        .env("KKT_JOURNAL", dir.join("journal.sqlite"))
        .env("KKT_STATE_DIR", dir.join("state"))
        .args(["--json", "receipt", &sale])
        .output()
        .unwrap();
    assert_eq!(json_of(&out)["replayed"], true);
    std::fs::remove_dir_all(&dir).ok();
}
