//! One journal, two processes: while `kkt receipt` forms a receipt, another process that opens
//! the same journal waits for the lock and, after its wait, is refused with nothing sent; once
//! the first process is done the journal is free again. The lock is a file lock (flock on Unix,
//! LockFileEx on Windows), so this runs on both.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::fault::sale;
use crate::support::http::{fixture, Emulator, TempDir, BIN};
use kkt::journal::{Journal, State};
use kkt::journaled::JournaledKkt;
use kkt::{Error, Kkt};

#[test]
fn two_processes_cannot_use_one_journal_at_once() {
    let dir = TempDir::new("journal-lock");
    // The register takes 4 s to answer the first "form receipt" (0x24): the CLI holds the
    // journal's lock for that long.
    let scenario = dir.path("slow.toml");
    std::fs::write(&scenario, "[[faults]]\ncommand = 0x24\naction = \"delay\"\ndelay_ms = 4000\n").unwrap();
    let emu = Emulator::start(&["--scenario", scenario.to_str().unwrap()]);
    let journal = dir.path("journal.sqlite");
    let receipt = dir.path("sale.json");
    std::fs::write(&receipt, fixture("sale.json", Some("till-1-0001"))).unwrap();
    let kkt = |args: &[&str]| {
        let mut c = Command::new(BIN);
        // Its own home and cache: the sold-codes store of an earlier run does not know these codes.
        c.env_remove("KKT_CONFIG")
            .env_remove("KKT_STORE")
            .env("HOME", dir.path("home"))
            .env("KKT_CACHE_DIR", dir.path("cache"))
            .arg("--device")
            .arg(&emu.uri)
            .arg("--journal")
            .arg(&journal)
            .args(args);
        c
    };
    assert!(kkt(&["shift", "open"]).stdout(Stdio::null()).status().unwrap().success());

    let first = kkt(&["--json", "receipt"]).arg(&receipt).stdout(Stdio::piped()).spawn().unwrap();
    // Wait (bounded) until the first process is inside its receipt: the register has its 0x24.
    let started = Instant::now();
    while !emu.requests().contains(&0x24) {
        assert!(started.elapsed() < Duration::from_secs(60), "the first receipt never reached 0x24");
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent_before = emu.requests().len();

    // This test's process, on the same journal: refused after its wait, nothing sent.
    let mut second = JournaledKkt::without_recovery(Kkt::connect(&emu.uri).unwrap(), Journal::open(&journal).unwrap());
    second.set_lock_wait(Duration::from_millis(300));
    let e = second.receipt(&sale(Some("till-2-0001"), 1, 0)).unwrap_err();
    assert!(matches!(e, Error::Journal(_)), "{e:?}");
    assert!(e.to_string().contains("another kkt process is using the journal"), "{e}");
    assert!(second.outcome("till-2-0001").unwrap().is_none(), "nothing journaled for the refused receipt");
    let sent_now = emu.requests();
    assert!(!sent_now[sent_before..].contains(&0x23), "the refused receipt sent nothing: {sent_now:02X?}");

    // The first finishes; its lock is gone with it, and the second receipt goes through.
    let out = first.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    second.set_lock_wait(Duration::from_secs(10));
    let done = second.receipt(&sale(Some("till-2-0001"), 1, 0)).unwrap();
    assert!(!done.replayed);
    let j = Journal::open(&journal).unwrap();
    for id in ["till-1-0001", "till-2-0001"] {
        assert_eq!(j.by_id(id).unwrap().map(|e| e.state), Some(State::Formed), "{id}");
    }
}
