//! The driver against the `kkt emulator` process over real links: TCP (a connection per
//! command, and persistent), a pseudo-terminal as a serial port, and the async client, with
//! the emulator's own fault injection. No fault may produce a second fiscal document.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use kkt::driver::Options;
use kkt::protocol::Decimal;
use kkt::receipt::{Cashier, Item, Money, Receipt, Taxation, Vat};
use kkt::{AsyncKkt, Error, Kkt};

/// pty tests run one at a time.
static PTY: Mutex<()> = Mutex::new(());

const CODE: &str = "010464007801637221gDDJ2VMOqvdNG\u{1d}91FFD0\u{1d}92dGVzdIjNx7Hb93pmLsV+niIDiJWV8ZFAjQdF9b2BO/o=";

struct Emulator {
    child: Child,
    at: String,
    _dir: Option<std::path::PathBuf>,
}

impl Emulator {
    /// `kkt emulator ARGS` with `faults` (JSON array) in a scenario file.
    fn start(args: &[&str], faults: &str) -> Emulator {
        let dir = std::env::temp_dir().join(format!("kkt-drv-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let scenario = dir.join("scenario.json");
        std::fs::write(&scenario, format!(r#"{{"faults": {faults}}}"#)).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_kkt"))
            .arg("emulator")
            .args(args)
            .arg("--scenario")
            .arg(&scenario)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn kkt emulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(!line.trim().is_empty(), "the emulator printed no address");
        Emulator { child, at: line.trim().to_string(), _dir: Some(dir) }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(d) = &self._dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}

/// Short timeouts: a truncated answer is given up on quickly.
fn opts() -> Options {
    let mut o = Options::fast();
    for c in [0x01u8, 0x08, 0x0A, 0x20, 0x21, 0x22, 0x24, 0x26, 0x28, 0x2A, 0x30, 0x90, 0x91, 0x92, 0x94] {
        o.timeouts.insert(c, Duration::from_secs(3));
    }
    o
}

fn sale(marked: bool) -> Receipt {
    let mut r = Receipt::sell(Taxation::Osn);
    r.items.push(Item::new("Хлеб", Money::from_kopecks(4550), Decimal::integer(2), Vat::Vat10));
    if marked {
        r.items.push(Item::marked("Молоко", Money::from_kopecks(8990), Vat::Vat10, CODE));
    }
    r.payments.cash = Money::from_kopecks(50000);
    r
}

fn last_fd(k: &mut Kkt) -> u32 {
    k.status().unwrap().fn_status.last_fd_number
}

/// A day with a fault on every fiscal command: the shift open is lost before execution (not
/// formed, opened again), a sale's answer lost after execution and another corrupted (both
/// recovered), the close truncated (recovered). Exactly one document per operation.
fn faulty_day(k: &mut Kkt) {
    let fd0 = last_fd(k);
    let cashier = Cashier::new("Иванова А.А.");
    let e = k.open_shift(&cashier).unwrap_err();
    assert!(matches!(e, Error::NotFormed { command: 0x22, .. }), "{e}");
    assert_eq!(last_fd(k), fd0);
    let opened = k.open_shift(&cashier).unwrap();
    assert_eq!(opened.fd_number, fd0 + 1);
    let a = k.sell(&sale(true)).unwrap();
    assert!(a.recovered, "close_after on 0x24");
    assert_eq!((a.fd_number, a.receipt_number), (fd0 + 2, 1));
    let b = k.sell(&sale(false)).unwrap();
    assert!(b.recovered, "corrupt on 0x24");
    assert_eq!((b.fd_number, b.receipt_number), (fd0 + 3, 2));
    let c = k.sell(&sale(true)).unwrap();
    assert!(!c.recovered);
    let closed = k.close_shift().unwrap();
    assert_eq!(closed.fd_number, fd0 + 5);
    assert!(k.last_reconciliation().is_some(), "drop on 0x2A");
    assert_eq!(last_fd(k), fd0 + 5, "one document per operation, none twice");
}

const DAY_FAULTS: &str = r#"[
    {"command": 34, "action": "close_before"},
    {"command": 36, "action": "close_after"},
    {"command": 36, "action": "corrupt"},
    {"command": 42, "action": "drop", "byte": 3}
]"#;

#[test]
fn tcp_per_command_faulty_day() {
    let emu = Emulator::start(&["--listen", "127.0.0.1:0"], DAY_FAULTS);
    let mut k = Kkt::connect_with(&format!("tcp://{}", emu.at), opts()).unwrap();
    faulty_day(&mut k);
}

#[test]
fn tcp_persistent_faulty_day() {
    let emu = Emulator::start(&["--listen", "127.0.0.1:0"], DAY_FAULTS);
    let mut k = Kkt::connect_with(&format!("tcp://{}?mode=persistent", emu.at), opts()).unwrap();
    faulty_day(&mut k);
}

#[test]
fn pty_serial_faulty_day() {
    let _g = PTY.lock().unwrap_or_else(|e| e.into_inner());
    let emu = Emulator::start(&["--pty"], DAY_FAULTS);
    let mut k = Kkt::connect_with(&emu.at, opts()).unwrap();
    faulty_day(&mut k);
    // The port is held exclusively while the client lives.
    let e = Kkt::connect_with(&emu.at, opts()).unwrap_err();
    assert_eq!(e.kind(), "link", "{e}");
}

#[test]
fn async_tcp_sale_with_a_lost_answer() {
    let emu = Emulator::start(&["--listen", "127.0.0.1:0"], r#"[{"command": 36, "action": "close_after"}]"#);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let mut k = AsyncKkt::connect_with(&format!("tcp://{}", emu.at), opts()).await.unwrap();
        let fd0 = k.status().await.unwrap().fn_status.last_fd_number;
        k.open_shift(&Cashier::new("Иванова А.А.")).await.unwrap();
        // On a tokio task: the client's futures are Send.
        let h = tokio::spawn(async move {
            let d = k.sell(&sale(true)).await.unwrap();
            let d2 = k.sell(&sale(false)).await.unwrap();
            (k, d, d2)
        });
        let (mut k, d, d2) = h.await.unwrap();
        assert!(d.recovered && !d2.recovered);
        assert_eq!((d.fd_number, d2.fd_number), (fd0 + 2, fd0 + 3));
        assert_eq!(k.status().await.unwrap().fn_status.last_fd_number, fd0 + 3);
    });
}

#[test]
fn async_pty_sale() {
    let _g = PTY.lock().unwrap_or_else(|e| e.into_inner());
    let emu = Emulator::start(&["--pty"], r#"[{"command": 36, "action": "corrupt"}]"#);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut k = AsyncKkt::connect_with(&emu.at, opts()).await.unwrap();
        k.open_shift(&Cashier::new("Иванова А.А.")).await.unwrap();
        let d = k.sell(&sale(true)).await.unwrap();
        assert!(d.recovered);
    });
}
