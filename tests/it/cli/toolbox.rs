//! Issue 17: the technician's toolbox and a new user's first hour, as a user runs `kkt`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command as Proc, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;

const BIN: &str = env!("CARGO_BIN_EXE_kkt");

/// A `kkt emulator` on a free TCP port (its paper and frame log kept for the test).
struct Emu {
    child: Child,
    uri: String,
    dir: PathBuf,
    stderr: Option<std::thread::JoinHandle<String>>,
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kkt-toolbox-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

impl Emu {
    fn start(name: &str, extra: &[&str]) -> Emu {
        let dir = tmp(name);
        let mut child = Proc::new(BIN)
            .args(["-vvv", "emulator", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().to_string();
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        Emu { child, uri: format!("tcp://{addr}"), dir, stderr: Some(stderr) }
    }

    fn kkt(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env("KKT_DEVICE", &self.uri)
            .env_remove("KKT_CONFIG")
            .env_remove("KKT_LANG")
            .env("LANG", "C")
            .env("HOME", &self.dir)
            // The cache (the sold-codes store) in this home on every system (Windows' folders
            // do not follow HOME).
            .env("KKT_CACHE_DIR", self.dir.join(".cache").join("kkt"))
            .env("KKT_JOURNAL", self.dir.join("journal.sqlite"));
        c
    }

    /// Stops it; its stderr (the frame log at TRACE).
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr.take().unwrap().join().unwrap()
    }
}

fn kkt_alone(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("KKT_DEVICE")
        .env_remove("KKT_CONFIG")
        .env_remove("KKT_LANG")
        .env("LANG", "C")
        .env("HOME", dir)
        .env("KKT_CACHE_DIR", dir.join(".cache").join("kkt"))
        .env("KKT_JOURNAL", dir.join("journal.sqlite"));
    c
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn fixture(name: &str) -> String {
    format!("{}/fixtures/receipts/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A TCP peer that answers every request with `answer(code)` (raw bytes) and records the
/// command codes it was sent; `None` closes the connection.
fn fake_peer(answer: fn(u8) -> Option<Vec<u8>>) -> (String, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    std::thread::spawn(move || {
        for conn in l.incoming().take(64) {
            let Ok(mut c) = conn else { continue };
            let seen = s2.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 2048];
                let mut have = Vec::new();
                loop {
                    let Ok(n) = c.read(&mut buf) else { return };
                    if n == 0 {
                        return;
                    }
                    have.extend_from_slice(&buf[..n]);
                    if let kkt::protocol::frame::Parsed::Frame { frame, consumed, .. } =
                        kkt::protocol::frame::parse(&have)
                    {
                        let code = frame.code;
                        have.drain(..consumed);
                        seen.lock().unwrap().push(code);
                        match answer(code) {
                            Some(bytes) => {
                                let _ = c.write_all(&bytes);
                            }
                            None => return,
                        }
                    }
                }
            });
        }
    });
    (addr, seen)
}

fn frame(code: u8, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    kkt::protocol::frame::encode(code, data, &mut v).unwrap();
    v
}

// ---------------------------------------------------------------- §1 safe by default

#[test]
fn demo_never_runs_on_a_real_register() {
    // A "real register": answers 0xA2 with its own service text (and anything else done).
    fn real(code: u8) -> Option<Vec<u8>> {
        Some(if code == 0xA2 { frame(0, b"TERMINAL-FA 2.0.5 FFD=1.2") } else { frame(0, &[]) })
    }
    let (addr, seen) = fake_peer(real);
    let dir = tmp("demo");
    // KKT_DEVICE and the config's device are not used: the demo runs in process.
    std::fs::write(dir.join("config.toml"), format!("device = \"tcp://{addr}\"\n")).unwrap();
    let out = kkt_alone(&dir)
        .env("KKT_DEVICE", format!("tcp://{addr}"))
        .env("KKT_CONFIG", dir.join("config.toml"))
        .args(["--json", "demo"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json_of(&out)["register"], "emulator");
    assert!(seen.lock().unwrap().is_empty(), "the real register was not touched");
    // --device naming it: refused after the one service query, nothing else sent.
    let out = kkt_alone(&dir).args(["--json", "demo", "--device", &format!("tcp://{addr}")]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = json_of(&out);
    assert!(e["error"]["message"].as_str().unwrap().contains("only on a virtual register"), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("TERMINAL-FA"), "{e}");
    assert_eq!(*seen.lock().unwrap(), [0xA2], "only the service query reached it");
    // A `kkt emulator` is recognised by its 0xA2 answer.
    let emu = Emu::start("demo-emu", &[]);
    kkt_alone(&dir)
        .args(["demo", "--device", &emu.uri])
        .assert()
        .success()
        .stdout(predicate::str::contains("КАССОВЫЙ ЧЕК"));
    emu.stop();
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_receipt_settles_it_and_says_what_to_run() {
    let dir = tmp("ctrlc");
    // Each item takes 1.5 s: Ctrl-C comes while the first is in flight.
    let scenario = dir.join("slow.toml");
    std::fs::write(
        &scenario,
        "[timing]\nbaud = 0\nkey_update_ms = 0\noism_ms = 0\nlatency_ms = [[0x96, 1500], [0x97, 1500], [0x91, 1500]]\n",
    )
    .unwrap();
    let emu = Emu::start("ctrlc-emu", &["--scenario", scenario.to_str().unwrap()]);
    emu.kkt().args(["shift", "open"]).assert().success();
    let child = Proc::new(BIN)
        .env("KKT_DEVICE", &emu.uri)
        .env_remove("KKT_CONFIG")
        .env("HOME", &emu.dir)
        .env("KKT_CACHE_DIR", emu.dir.join(".cache").join("kkt"))
        .env("LANG", "C")
        .env("KKT_JOURNAL", emu.dir.join("journal.sqlite"))
        .args(["receipt", &fixture("sale.json")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1200));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("stopping after the exchange in flight"), "{stderr}");
    assert!(stderr.contains("The register now: no document open"), "{stderr}");
    assert!(stderr.contains("Next:"), "{stderr}");
    // The register has nothing open, the journal's entry is settled (not formed).
    emu.kkt().args(["--json", "status"]).assert().success().stdout(predicate::str::contains("\"current_document\":0"));
    let out = emu.kkt().args(["--json", "journal"]).output().unwrap();
    let j = json_of(&out);
    assert_eq!(j[0]["state"], "not_formed", "{j}");
    emu.stop();
}

#[test]
fn datetime_set_before_the_last_document_needs_force() {
    let emu = Emu::start("clock", &[]);
    emu.kkt().args(["shift", "open"]).assert().success();
    let out = emu.kkt().args(["--json", "datetime", "set", "2021-01-01T00:00"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = json_of(&out);
    assert!(e["error"]["message"].as_str().unwrap().contains("before the FN's last document"), "{e}");
    assert!(e["error"]["hint"].as_str().unwrap().contains("--force"), "{e}");
    emu.kkt().args(["datetime", "set", "2021-01-01T00:00", "--force"]).assert().success();
    emu.kkt().args(["datetime", "get"]).assert().success().stdout(predicate::str::contains("2021-01-01"));
    emu.stop();
}

// ---------------------------------------------------------------- §2 progress

#[test]
fn no_progress_line_in_pipes_or_json() {
    let dir = tmp("progress");
    let scenario = dir.join("slow.toml");
    std::fs::write(&scenario, "[timing]\nbaud = 0\nkey_update_ms = 0\noism_ms = 0\nlatency_ms = [[0x20, 2600]]\n")
        .unwrap();
    let emu = Emu::start("progress-emu", &["--scenario", scenario.to_str().unwrap()]);
    let out = emu.kkt().args(["shift", "status"]).output().unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("waiting"), "{}", String::from_utf8_lossy(&out.stderr));
    emu.stop();
}

#[cfg(unix)]
#[test]
fn progress_line_on_a_terminal_for_a_long_wait() {
    use std::os::fd::OwnedFd;
    let _pty = crate::support::pty_lock();
    let dir = tmp("progress-tty");
    let scenario = dir.join("slow.toml");
    std::fs::write(&scenario, "[timing]\nbaud = 0\nkey_update_ms = 0\noism_ms = 0\nlatency_ms = [[0x20, 3000]]\n")
        .unwrap();
    let emu = Emu::start("progress-tty-emu", &["--scenario", scenario.to_str().unwrap()]);
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave: OwnedFd = pty.slave;
    let mut master = std::fs::File::from(pty.master);
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&all).contains("waiting for the register") {
                break;
            }
        }
        String::from_utf8_lossy(&all).into_owned()
    });
    let out = Proc::new(BIN)
        .env("KKT_DEVICE", &emu.uri)
        .env_remove("KKT_CONFIG")
        .env("LANG", "C")
        .env("HOME", &emu.dir)
        .env("KKT_CACHE_DIR", emu.dir.join(".cache").join("kkt"))
        .args(["shift", "status"])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(slave))
        .output()
        .unwrap();
    assert!(out.status.success());
    let seen = reader.join().unwrap();
    assert!(seen.contains("waiting for the register"), "{seen:?}");
    assert!(seen.contains("0x20"), "names the command: {seen:?}");
    emu.stop();
}

// ---------------------------------------------------------------- §3 messages

#[test]
fn cancel_with_nothing_open_says_so() {
    let emu = Emu::start("cancel", &[]);
    let out = emu.kkt().args(["--json", "cancel"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_of(&out)["cancelled"], false);
    emu.kkt().args(["cancel"]).assert().success().stdout(predicate::str::contains("nothing to cancel"));
    emu.stop();
}

#[test]
fn device_address_mistakes_say_what_was_meant() {
    let dir = tmp("uri");
    let out = kkt_alone(&dir).args(["--json", "--device", "127.0.0.1:7778", "status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(json_of(&out)["error"]["message"].as_str().unwrap().contains("did you mean tcp://127.0.0.1:7778?"));
    kkt_alone(&dir)
        .args(["--device", "emulatr", "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean emulator?"));
    // A web server is no register.
    fn http(_: u8) -> Option<Vec<u8>> {
        Some(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec())
    }
    let (addr, _) = fake_peer(http);
    let out = kkt_alone(&dir)
        .args(["--json", "--timeout", "1", "--device", &format!("tcp://{addr}"), "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let m = json_of(&out)["error"]["message"].as_str().unwrap().to_string();
    assert!(m.contains("is not a fiscal register (it answered \"HTTP/1.1 400 Bad Request\")"), "{m}");
    // --timeout 0 names the option.
    let out = kkt_alone(&dir).args(["--json", "--timeout", "0", "--device", "emulator", "status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(json_of(&out)["error"]["message"].as_str().unwrap().contains("--timeout"));
}

#[test]
fn usage_errors_are_json_with_json() {
    let dir = tmp("usage");
    let out = kkt_alone(&dir).args(["--json", "stauts"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = json_of(&out);
    assert_eq!(e["error"]["kind"], "input");
    assert!(e["error"]["message"].as_str().unwrap().contains("stauts"), "{e}");
    assert!(!e["error"]["hint"].as_str().unwrap().is_empty());
    let out = kkt_alone(&dir).args(["--json", "shift", "open", "--cashier-in", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(json_of(&out)["error"]["message"].as_str().unwrap().contains("--cashier-in"));
}

#[test]
fn cli_errors_name_options_not_json_paths() {
    let dir = tmp("options");
    let out = kkt_alone(&dir)
        .args(["--json", "--device", "emulator", "shift", "open", "--cashier-inn", "123"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = json_of(&out);
    let m = e["error"]["message"].as_str().unwrap();
    assert!(m.contains("--cashier-inn") && !m.contains("cashier."), "{e}");
    assert!(e["error"]["hint"].as_str().unwrap().contains("--cashier-inn"), "{e}");
}

#[test]
fn hints_name_kkt_commands() {
    // Out of order: a receipt before a shift; the hint names `kkt shift open`, no opcode.
    let emu = Emu::start("hints", &[]);
    let out = emu.kkt().args(["--json", "receipt", &fixture("sale.json")]).output().unwrap();
    let e = json_of(&out);
    let hint = e["error"]["hint"].as_str().unwrap();
    assert!(hint.contains("kkt shift open"), "{e}");
    assert!(!hint.contains("0x"), "{e}");
    assert_ne!(hint, e["error"]["message"].as_str().unwrap());
    emu.stop();
}

#[test]
fn a_factory_fresh_register_says_to_register_first() {
    let emu = Emu::start("fresh", &["--factory-fresh"]);
    let out = emu.kkt().args(["--json", "shift", "open"]).output().unwrap();
    assert!(!out.status.success());
    let e = json_of(&out);
    assert!(e["error"]["message"].as_str().unwrap().contains("not registered yet"), "{e}");
    assert!(e["error"]["hint"].as_str().unwrap().contains("kkt register"), "{e}");
    emu.kkt().args(["status"]).assert().success().stdout(predicate::str::contains("ready for registration"));
    emu.stop();
}

#[test]
fn status_and_info_are_readable() {
    let emu = Emu::start("readable", &[]);
    let out = emu.kkt().args(["status"]).output().unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    for want in [
        "fiscal mode (0x03)",
        "none open",
        "FN warnings",
        "no code under check",
        "B1h: take a code for the check",
        "OISM queue",
        "no exchange",
        "OFD queue",
        "FN resources",
        "documents left",
    ] {
        assert!(s.contains(want), "{want:?} in\n{s}");
    }
    assert!(!s.contains('{'), "no JSON dumps:\n{s}");
    let out = emu.kkt().args(["info"]).output().unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    for want in [
        "FN format",
        "FFD 1.2",
        "operating modes",
        "encryption",
        "taxation systems",
        "general",
        "printed line",
        "48 characters",
        "TCP/IP",
    ] {
        assert!(s.contains(want), "{want:?} in\n{s}");
    }
    assert!(!s.contains('{'), "no JSON dumps:\n{s}");
    emu.stop();
}

#[test]
fn russian_with_the_locale_or_lang() {
    let emu = Emu::start("ru", &[]);
    emu.kkt().args(["--lang", "ru", "status"]).assert().success().stdout(predicate::str::contains("Фискальный режим"));
    emu.kkt()
        .env("KKT_LANG", "ru")
        .args(["status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("предупреждения ФН"));
    emu.kkt()
        .env("LANG", "ru_RU.UTF-8")
        .args(["cancel"])
        .assert()
        .success()
        .stdout(predicate::str::contains("отменять нечего"));
    emu.kkt().args(["cancel"]).assert().success().stdout(predicate::str::contains("nothing to cancel"));
    // A device error in Russian, with its Russian hint.
    let out = emu.kkt().args(["--lang", "ru", "--json", "receipt", &fixture("sale.json")]).output().unwrap();
    let e = json_of(&out);
    assert!(e["error"]["hint"].as_str().unwrap().contains("откройте смену"), "{e}");
    emu.stop();
    let dir = tmp("ru-uri");
    kkt_alone(&dir)
        .env("KKT_LANG", "ru")
        .args(["--device", "127.0.0.1:7778", "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("адрес ККТ").and(predicate::str::contains("подсказка")));
}

#[test]
fn no_colour_in_logs_or_pipes() {
    let dir = tmp("ansi");
    let out = kkt_alone(&dir).args(["-vv", "--device", "emulator", "status"]).output().unwrap();
    assert!(out.status.success());
    assert!(!out.stderr.is_empty(), "there is a log");
    assert!(!out.stderr.contains(&0x1B), "{}", String::from_utf8_lossy(&out.stderr));
    let log = dir.join("kkt.log");
    kkt_alone(&dir)
        .args(["-vvv", "--log-file", log.to_str().unwrap(), "--device", "emulator", "status"])
        .assert()
        .success();
    let text = std::fs::read(&log).unwrap();
    assert!(!text.is_empty() && !text.contains(&0x1B));
}

// ---------------------------------------------------------------- §4 decode

#[test]
fn decode_reads_the_log_kkt_wrote_during_a_receipt() {
    let dir = tmp("decode-own");
    let dev = format!("emulator?state={}", dir.join("r.json").display());
    let log = dir.join("kkt.log");
    let run = |args: &[&str]| {
        kkt_alone(&dir)
            .args(["-vvv", "--log-file", log.to_str().unwrap(), "--device", &dev])
            .args(args)
            .assert()
            .success();
    };
    run(&["shift", "open"]);
    run(&["receipt", &fixture("sale.json")]);
    let text = std::fs::read_to_string(&log).unwrap();
    let sent = text.lines().filter(|l| l.contains("dir=tx")).count();
    let out = kkt_alone(&dir).args(["decode", "--json", "--file", log.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let frames: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let requests = frames.iter().filter(|f| f["kind"] == "request").count();
    assert_eq!(requests, sent, "every request once (the in-process register's lines are not counted twice)");
    assert_eq!(frames.len(), 2 * sent, "every request has its response");
    // The receipt is in it: 0x24 answered.
    assert!(frames.iter().any(|f| f["kind"] == "response" && f["command"] == 0x24 && f["error"].is_null()));
    // The item's TLVs keep their tags, names and meanings.
    let item = frames.iter().find(|f| f["kind"] == "request" && f["code"] == 0x96).unwrap();
    let vat = item["tlv"].as_array().unwrap().iter().find(|t| t["tag"] == 1199).unwrap();
    assert_eq!(
        (vat["name_ru"].as_str(), vat["value"].as_u64(), vat["text_ru"].as_str()),
        (Some("Ставка НДС"), Some(1), Some("НДС 20%"))
    );
    // Human text of the same log.
    let out = kkt_alone(&dir).args(["decode", "--file", log.to_str().unwrap()]).output().unwrap();
    let human = String::from_utf8(out.stdout).unwrap();
    assert!(human.contains("1199 Ставка НДС = 1 (НДС 20%)"), "{human}");
    assert!(human.contains("= 4550 (45.50 ₽)"), "{human}");
    assert!(human.contains("personal data masked"), "{human}");
}

#[test]
fn decode_reads_the_emulators_log_with_the_directions_right() {
    let emu = Emu::start("decode-emu", &[]);
    emu.kkt().args(["status"]).assert().success();
    let log = emu.stop();
    assert!(log.contains("kkt::frames: <- "), "{log}");
    let out = kkt_alone(&std::env::temp_dir()).args(["decode", "--json"]).write_stdin(log).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let frames: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(frames.len() >= 2);
    assert_eq!(frames[0]["kind"], "request", "{}", frames[0]);
    assert_eq!(frames[1]["kind"], "response");
    assert_eq!(frames[1]["command"], frames[0]["code"]);
}

#[test]
fn decode_fields_markers_and_meanings() {
    let d = std::env::temp_dir();
    // hex= and data= fields of another program's log.
    let resp = hex::encode_upper(frame(0, &[0x03, 0x00]));
    let log = format!("12:00:01 send hex=B629000108A57E\r\n12:00:02 recv dir=rx data=\"{resp}\"\r\n");
    let out = kkt_alone(&d).args(["decode", "--json"]).write_stdin(log).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().next().unwrap().contains("\"kind\":\"request\""), "{text}");
    // > and < as documented.
    assert!(text.lines().nth(1).unwrap().contains("\"kind\":\"response\""), "{text}");
    let refused = hex::encode_upper(frame(1, &[0x02]));
    let out = kkt_alone(&d)
        .args(["decode", "--json"])
        .write_stdin(format!("> B6 29 00 01 08 A5 7E\n< {refused}\n"))
        .output()
        .unwrap();
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!((lines[0]["kind"].as_str(), lines[1]["kind"].as_str()), (Some("request"), Some("response")));
    assert_eq!(lines[1]["error"]["code"], 2);
    // A TLV body: `tlv` is never null (0x82, the OISM host), each tag named.
    let mut body = Vec::new();
    kkt::commands::Request::encode(
        &kkt::commands::settings::SetOismHost(kkt::commands::settings::OismHost::new("oism.example", 21701, 30)),
        &mut body,
    )
    .unwrap();
    let out = kkt_alone(&d).args(["decode", "--json", &hex::encode(frame(0x82, &body))]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["tlv"].is_array(), "{v}");
    assert_eq!(v["tlv"][0]["tag"], 30050);
    assert!(v["tlv"][0]["name_ru"].is_string());
    // Bit masks by name (1062), the fiscal sign as printed (1077).
    let mut w = kkt::protocol::TlvWriter::new();
    w.byte(1062, 0b10_0001).unwrap();
    w.raw(1077, &[0x31, 0x04, 0x12, 0x34, 0x56, 0x78]).unwrap();
    let out = kkt_alone(&d).args(["decode", "--json", &hex::encode(frame(0xAB, w.as_bytes()))]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tlv"][0]["text"], "general, patent");
    assert_eq!(v["tlv"][1]["text_ru"], format!("ФП {:010}", 0x1234_5678u32));
    // A response given as a request says what it looks like.
    let out = kkt_alone(&d).args(["decode", "B629000201E0BF24"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("looks like an error response"));
    let out = kkt_alone(&d).args(["decode", "--json", &hex::encode(frame(0, &[1, 2]))]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["note"].as_str().unwrap().contains("--response"), "{v}");
}

// ---------------------------------------------------------------- §5 service commands

#[test]
fn raw_sends_any_command_and_fiscal_ones_need_yes() {
    let emu = Emu::start("raw", &[]);
    emu.kkt().args(["raw", "0x01"]).assert().success().stdout(predicate::str::contains("response to 0x01"));
    let out = emu.kkt().args(["--json", "raw", "0x20"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(json_of(&out)["fields"]["open"], false);
    // A setting (0x72, the clock) needs --yes, and then it is journaled.
    let dt = "3075 0500 1A0C0F0C00".replace(' ', ""); // tag 30000, 2026-12-15 12:00
    emu.kkt().args(["raw", "0x72", &dt]).assert().code(2).stderr(predicate::str::contains("--yes"));
    emu.kkt().args(["raw", "0x72", &dt, "--yes"]).assert().success();
    emu.kkt().args(["--json", "journal"]).assert().success().stdout(predicate::str::contains("raw_0x72"));
    // A refusal is explained as decode explains it, exit 3 (0x30: FD 999 is not in the archive).
    emu.kkt()
        .args(["raw", "0x30", "E7030000"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("refused").and(predicate::str::contains("0x08")));
    // Out of order: refused before sending, naming what to run.
    emu.kkt().args(["raw", "0x22", "--yes"]).assert().code(2).stderr(predicate::str::contains("kkt shift open"));
    emu.stop();
}

#[test]
fn network_print_control_and_fn_errors() {
    let emu = Emu::start("settings", &[]);
    emu.kkt()
        .args(["network", "set", "--ip", "10.0.0.5", "--mask", "255.255.255.0", "--gateway", "10.0.0.1"])
        .assert()
        .success();
    let out = emu.kkt().args(["--json", "network", "get"]).output().unwrap();
    let v = json_of(&out);
    assert_eq!(v["network"]["ip"], "10.0.0.5");
    assert_eq!(v["in_use"]["gateway"], "10.0.0.1");
    emu.kkt().args(["network", "set", "--dhcp"]).assert().success().stdout(predicate::str::contains("DHCP"));
    emu.kkt()
        .args(["network", "set", "--ip", "10.0.0.5", "--mask", "255.0.255.0", "--gateway", "10.0.0.1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--mask"));
    emu.kkt().args(["settings", "print", "set", "--font", "small", "--receipt-text", "Спасибо!"]).assert().success();
    emu.kkt()
        .args(["settings", "print", "get"])
        .assert()
        .success()
        .stdout(predicate::str::contains("small font").and(predicate::str::contains("Спасибо!")));
    emu.kkt().args(["info"]).assert().success().stdout(predicate::str::contains("64 characters"));
    emu.kkt().args(["settings", "control", "set", "--interface", "ethernet", "--port", "5555"]).assert().success();
    emu.kkt()
        .args(["--json", "settings", "control", "get"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"tcp_port\":5555"));
    emu.kkt().args(["fn", "errors"]).assert().success().stdout(predicate::str::contains("error buffer"));
    emu.stop();
}

#[test]
fn config_init_writes_an_example_and_never_overwrites() {
    let dir = tmp("config");
    let path = dir.join("kkt").join("config.toml");
    kkt_alone(&dir).env("KKT_CONFIG", &path).args(["config", "init"]).assert().success();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("KKT_DEVICE") && text.contains("# device = "), "{text}");
    // The example is a valid config (every key commented out).
    kkt_alone(&dir).env("KKT_CONFIG", &path).args(["--device", "emulator", "status"]).assert().success();
    std::fs::write(&path, "device = \"emulator\"\n").unwrap();
    kkt_alone(&dir)
        .env("KKT_CONFIG", &path)
        .args(["config", "init"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not overwritten"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "device = \"emulator\"\n");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains("fixtures/config.example.toml") && readme.contains("kkt config init"));
}

#[test]
fn the_emulator_shows_what_it_printed() {
    let dir = tmp("paper");
    let paper = dir.join("paper.txt");
    let emu = Emu::start("paper-emu", &["--print-log", paper.to_str().unwrap()]);
    emu.kkt().args(["shift", "open"]).assert().success();
    emu.kkt().args(["receipt", &fixture("sale.json")]).assert().success();
    emu.stop();
    let text = std::fs::read_to_string(&paper).unwrap();
    for want in ["ОТЧЕТ ОБ ОТКРЫТИИ СМЕНЫ", "КАССОВЫЙ ЧЕК", "Приход", "Хлеб", "ИТОГ", "ОСН", "ФП"]
    {
        assert!(text.contains(want), "{want:?} in\n{text}");
    }
    // On stdout by default, after the address line.
    let mut child = Proc::new(BIN)
        .args(["emulator", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut addr = String::new();
    out.read_line(&mut addr).unwrap();
    kkt_alone(&dir).args(["--device", &format!("tcp://{}", addr.trim()), "shift", "open"]).assert().success();
    let mut seen = String::new();
    while !seen.contains("ФП") {
        let mut l = String::new();
        if out.read_line(&mut l).unwrap() == 0 {
            break;
        }
        seen += &l;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.contains("ОТЧЕТ ОБ ОТКРЫТИИ СМЕНЫ"), "{seen}");
}

/// `--timeout` is the whole wait for one command, retries included (not one timeout per
/// sending), and the message after the last try says how long kkt waited and how many times it
/// asked.
#[test]
fn the_timeout_is_the_whole_wait_and_the_message_says_how_often_kkt_asked() {
    fn silent(_: u8) -> Option<Vec<u8>> {
        Some(Vec::new())
    }
    let (addr, seen) = fake_peer(silent);
    let dir = tmp("timeout-whole");
    let out = kkt_alone(&dir)
        .args(["--json", "--timeout", "2", "--device", &format!("tcp://{addr}"), "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stdout));
    let e = json_of(&out);
    let m = e["error"]["message"].as_str().unwrap().to_string();
    let number_after = |word: &str| -> Option<f64> { m.split(word).nth(1)?.split(' ').next()?.parse().ok() };
    let (waited, asked) = if m.contains(" in all and asked ") {
        (number_after("waited ").expect(&m), number_after("asked ").expect(&m))
    } else {
        (number_after("within ").expect(&m), 1.0)
    };
    // The budget of one command, not one per sending.
    assert!(waited <= 2.5, "{m}");
    let sent = seen.lock().unwrap().len() as f64;
    assert!(asked >= 1.0 && asked <= sent, "asked {asked}, the peer got {sent} frames: {m}");
    assert!(!e["error"]["hint"].as_str().unwrap().is_empty());
}
