//! The host process killed (SIGKILL) at random moments during `kkt receipt`, then `kkt recover`
//! and the same receipt (same `id`) run again, against `kkt emulator` with its state file and
//! register-like latencies (a command executes when it arrives; its answer comes after the
//! latency, so many kills fall between the two).
//!
//! After every kill: `kkt recover` leaves nothing pending and says what the register holds;
//! the second run prints the document (`replayed` exactly when the killed run had formed it);
//! the register holds exactly one document for the receipt.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::fault::{cashier, receipts, sale, tmpdir};
use crate::support::{figures, state_file, Rng};

const BIN: &str = env!("CARGO_BIN_EXE_kkt");
const RUNS: usize = 24;

/// Latencies (ms) by command: the receipt takes about half a second.
const SCENARIO: &str = r#"{"timing": {"baud": 0, "key_update_ms": 10, "oism_ms": 15,
  "latency_ms": [[36, 120], [35, 20], [43, 20], [45, 20], [145, 25], [146, 25], [148, 25], [151, 25], [152, 20], [8, 10], [32, 10]]}}"#;

struct Emulator {
    child: Child,
    uri: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn emulator(dir: &Path) -> Emulator {
    let scenario = dir.join("scenario.json");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let mut child = Command::new(BIN)
        .args(["emulator", "--listen", "127.0.0.1:0", "--state"])
        .arg(dir.join("state.json"))
        .arg("--scenario")
        .arg(&scenario)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    Emulator { child, uri: format!("tcp://{}", line.trim()) }
}

fn kkt(emu: &Emulator, dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env("KKT_DEVICE", &emu.uri)
        .env("KKT_JOURNAL", dir.join("journal.sqlite"))
        .env_remove("KKT_CONFIG")
        .env("HOME", dir)
        .arg("--json");
    c
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {} / {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

#[test]
fn host_killed_during_kkt_receipt_then_recover() {
    let dir = tmpdir("kill");
    let emu = emulator(&dir);
    let c = cashier();
    let out = kkt(&emu, &dir).args(["shift", "open", "--cashier", &c.name]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let mut rng = Rng(0x5EED);
    let (mut killed_pending, mut killed_formed, mut replayed, mut duplicates, mut lost) = (0, 0, 0, 0, 0);
    let mut kill_ms = Vec::new();
    for run in 0..RUNS {
        let id = format!("kill-{run}");
        let r = sale(Some(&id), 100 + run as u64, run % 3);
        let file = dir.join(format!("r{run}.json"));
        std::fs::write(&file, r.to_json()).unwrap();
        let before = receipts(&state_file(&dir.join("state.json"))).len();
        // Kill at a random moment of the run (its whole length is about 0.3–0.7 s).
        let ms = rng.below(700);
        kill_ms.push(ms);
        let mut child = kkt(&emu, &dir).arg("receipt").arg(&file).stdout(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // The register may still be reading or executing the killed host's last command (its
        // bytes were on the wire when the host died): let its connection finish, then a query
        // it answers after that command (it executes one at a time) says its state is written.
        std::thread::sleep(Duration::from_millis(200));
        let settled = kkt(&emu, &dir).arg("status").output().unwrap();
        assert!(settled.status.success(), "run {run}: status: {}", String::from_utf8_lossy(&settled.stdout));
        let formed_by_killed = receipts(&state_file(&dir.join("state.json"))).len() - before;
        killed_formed += formed_by_killed;

        let pending = kkt(&emu, &dir).args(["journal", "--pending"]).output().unwrap();
        killed_pending += json(&pending).as_array().map_or(0, Vec::len);

        let rec = kkt(&emu, &dir).arg("recover").output().unwrap();
        assert!(rec.status.success(), "run {run}: recover: {}", String::from_utf8_lossy(&rec.stdout));
        for e in json(&rec).as_array().unwrap() {
            assert_ne!(e["state"], "pending", "run {run}: {e}");
            // Recovery tells the true state.
            if e["id"] == id.as_str() {
                assert_eq!(e["state"] == "formed", formed_by_killed == 1, "run {run}: {e}");
            }
        }
        let again = kkt(&emu, &dir).arg("receipt").arg(&file).output().unwrap();
        assert!(again.status.success(), "run {run}: second run: {}", String::from_utf8_lossy(&again.stdout));
        let a = json(&again);
        assert_eq!(a["replayed"], formed_by_killed == 1, "run {run} (killed at {ms} ms): {a}");
        replayed += usize::from(a["replayed"] == true);
        let st = state_file(&dir.join("state.json"));
        let mine: Vec<_> = receipts(&st).into_iter().filter(|d| d.total == r.total().kopecks()).collect();
        match mine.len() {
            1 => assert_eq!(a["fd_number"], mine[0].number, "run {run}"),
            0 => lost += 1,
            _ => duplicates += 1,
        }
    }
    figures(
        "fault_kill",
        &format!(
            "runs {RUNS}, host killed at {kill_ms:?} ms, entries left pending by the kill {killed_pending}, \
         receipts formed by the killed run {killed_formed}, second runs that returned the first document {replayed}, \
         duplicates {duplicates}, lost {lost}"
        ),
    );
    assert_eq!((duplicates, lost), (0, 0));
    drop(emu);
    std::fs::remove_dir_all(&dir).ok();
}
