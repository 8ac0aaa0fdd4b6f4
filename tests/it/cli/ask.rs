//! The cashier's question in `kkt receipt` (seed 002, iMark's Enter/Esc) and the texts a
//! cashier reads: on a terminal the reasons are shown and the cashier answers y/N;
//! `--accept-asked` accepts; in a pipe or with --json an `ask` is refused (exit 6). `kkt mark
//! check` speaks Russian with `--lang ru` or a Russian locale. The samples of the README and the
//! fixtures are codes that parse.

#[cfg(unix)]
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
#[cfg(unix)]
use std::time::{Duration, Instant};

use crate::support::gismt::*;
use crate::support::http::Emulator;
use serde_json::json;

fn code_of(n: u32) -> &'static str {
    appendix2().into_iter().find(|(k, _, _)| *k == n).unwrap().1
}

fn env(c: &mut Command, mock: &MockGisMt, dir: &Path) {
    for v in [
        "KKT_DEVICE",
        "KKT_STORE",
        "KKT_LM_URL",
        "KKT_MARK_STRICT",
        "KKT_MARK_CHECK",
        "KKT_GISMT_TOKEN_FILE",
        "KKT_CONFIG",
        "KKT_SIGN_COMMAND",
        "KKT_TSPIOT_URL",
        "LC_ALL",
        "LC_MESSAGES",
        "LANG",
    ] {
        c.env_remove(v);
    }
    c.env("KKT_CACHE_DIR", dir)
        .env("HOME", dir)
        .env("KKT_GISMT_TOKEN", TOKEN)
        .env("KKT_GISMT_URL", mock.url())
        .env("KKT_JOURNAL", dir.join("journal.sqlite"));
}

fn receipt_file(dir: &Path, name: &str, code: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    let r = json!({"operation": "sell", "taxation": "osn", "payments": {"cash": "89.90"},
                   "items": [{"name": "Молоко", "price": "89.90", "quantity": "1", "vat": "vat10",
                              "payment_method": "full_payment", "payment_object": "marked_commodity", "marking_code": code}]});
    std::fs::write(&p, r.to_string()).unwrap();
    p
}

/// Runs `kkt receipt FILE --mark-strict ask` with stdin and stderr on a pseudo-terminal, answers
/// `answer` once the question is on the screen; (exit code, what the terminal showed).
#[cfg(unix)]
fn on_a_terminal(
    mock: &MockGisMt,
    dir: &Path,
    emu: &str,
    file: &Path,
    answer: &str,
    lang: &str,
) -> (Option<i32>, String) {
    let p = nix::pty::openpty(None, None).expect("openpty");
    let mut master = std::fs::File::from(p.master);
    let mut c = Command::new(env!("CARGO_BIN_EXE_kkt"));
    env(&mut c, mock, dir);
    c.env("LANG", lang)
        .args(["--device", emu, "receipt"])
        .arg(file)
        .args(["--mark-strict", "ask"])
        .stdin(Stdio::from(p.slave.try_clone().unwrap()))
        .stderr(Stdio::from(p.slave.try_clone().unwrap()))
        .stdout(Stdio::piped());
    let child = c.spawn().unwrap();
    drop(p.slave);
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let mut reader = master.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut b = [0u8; 4096];
        while let Ok(n) = reader.read(&mut b) {
            if n == 0 || tx.send(b[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut screen = Vec::new();
    let started = Instant::now();
    while !String::from_utf8_lossy(&screen).contains("[y/N]") {
        assert!(started.elapsed() < Duration::from_secs(60), "no question: {}", String::from_utf8_lossy(&screen));
        if let Ok(b) = rx.recv_timeout(Duration::from_millis(100)) {
            screen.extend(b);
        }
    }
    master.write_all(answer.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    while let Ok(b) = rx.recv_timeout(Duration::from_millis(200)) {
        screen.extend(b);
    }
    let mut shown = String::from_utf8_lossy(&screen).into_owned();
    shown.push_str(&String::from_utf8_lossy(&out.stdout));
    (out.status.code(), shown)
}

#[cfg(unix)]
#[test]
fn the_cashier_answers_on_a_terminal() {
    let _pty = crate::support::pty_lock();
    let mock = MockGisMt::start(1);
    let emu = Emulator::start(&[]);
    let dir = temp_dir("ask-tty");
    let mut c = Command::new(env!("CARGO_BIN_EXE_kkt"));
    env(&mut c, &mock, &dir);
    assert!(c.args(["--device", &emu.uri, "shift", "open"]).output().unwrap().status.success());
    // Blocked (scenario 5): the cashier accepts: sold.
    let f = receipt_file(&dir, "yes.json", code_of(5));
    let (code, shown) = on_a_terminal(&mock, &dir, &emu.uri, &f, "y\n", "en_US.UTF-8");
    assert!(shown.contains("[isBlocked]") && shown.contains("the sale is blocked"), "{shown}");
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("КАССОВЫЙ ЧЕК"), "the receipt is printed: {shown}");
    // Not in circulation (scenario 2): the cashier declines, in Russian: refused, exit 6.
    let f = receipt_file(&dir, "no.json", code_of(2));
    let (code, shown) = on_a_terminal(&mock, &dir, &emu.uri, &f, "n\n", "ru_RU.UTF-8");
    assert!(shown.contains("кассиру") && shown.contains("нет сведений о вводе товара в оборот"), "{shown}");
    assert_eq!(code, Some(6), "{shown}");
    assert!(shown.contains("the cashier did not accept") && shown.contains("cancelled"), "{shown}");
}

#[test]
fn an_ask_in_a_pipe_is_refused_unless_accepted_by_option() {
    let mock = MockGisMt::start(1);
    let emu = Emulator::start(&[]);
    let dir = temp_dir("ask-pipe");
    let run = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kkt"));
        env(&mut c, &mock, &dir);
        c.args(["--device", &emu.uri]).args(args).stdin(Stdio::null()).output().unwrap()
    };
    assert!(run(&["shift", "open"]).status.success());
    let f = receipt_file(&dir, "a.json", code_of(5));
    let f = f.to_str().unwrap();
    let out = run(&["receipt", f, "--mark-strict", "ask"]);
    assert_eq!(out.status.code(), Some(6));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nobody could be asked") && err.contains("--accept-asked"), "{err}");
    let out = run(&["--json", "receipt", f, "--mark-strict", "ask"]);
    assert_eq!(out.status.code(), Some(6));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["error"]["kind"].as_str(), v["error"]["verdict"]["action"].as_str()),
        (Some("mark_refused"), Some("ask"))
    );
    let out = run(&["--json", "receipt", f, "--mark-strict", "ask", "--accept-asked"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["marks"][0]["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("accepted by the cashier")),
        "{v}"
    );
}

#[test]
fn check_speaks_russian_with_lang_ru_or_a_russian_locale() {
    let mock = MockGisMt::start(1);
    let dir = temp_dir("lang");
    let run = |lang: Option<&str>, args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kkt"));
        env(&mut c, &mock, &dir);
        if let Some(l) = lang {
            c.env("LANG", l);
        }
        let out = c.args(["mark", "check"]).args(args).arg(code_of(4)).output().unwrap();
        // The request's id differs from call to call.
        String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.contains("tag 1265")).collect::<Vec<_>>().join("\n")
    };
    let en = run(Some("en_US.UTF-8"), &[]);
    assert!(en.contains("REFUSE") && en.contains("reason [sold]: the item is withdrawn from circulation"), "{en}");
    let ru = run(None, &["--lang", "ru"]);
    assert!(ru.contains("ПРОДАЖА ЗАПРЕЩЕНА") && ru.contains("причина [sold]: товар выведен из оборота"), "{ru}");
    assert_eq!(run(Some("ru_RU.UTF-8"), &[]), ru, "the locale says Russian");
    assert_eq!(run(Some("ru_RU.UTF-8"), &["--lang", "en"]), en, "the option wins");
}

/// Every marking code shown in the README and the receipt fixtures parses (its GTIN's check
/// digit is right, its GS is there); `kkt mark parse` flags the old sample, whose was not.
#[test]
fn the_sample_codes_parse() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut codes = Vec::new();
    let mut texts = vec![std::fs::read_to_string(format!("{root}/README.md")).unwrap()];
    for e in std::fs::read_dir(format!("{root}/fixtures/receipts")).unwrap() {
        texts.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    for t in &texts {
        for part in t.split("\"marking_code\": \"").skip(1) {
            codes.push(part.split('"').next().unwrap().to_string());
        }
        for part in t.split("kkt mark parse '").skip(1) {
            codes.push(part.split('\'').next().unwrap().to_string());
        }
    }
    assert!(codes.len() >= 4, "{codes:?}");
    for c in &codes {
        if let Err(e) = kkt::marking::MarkingCode::parse(c) {
            panic!("{c:?}: {e}");
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_kkt"))
        .args(["mark", "parse", "0104607028393034215'Wt4q<GS>93dGVz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("check digit is wrong (7 expected)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
