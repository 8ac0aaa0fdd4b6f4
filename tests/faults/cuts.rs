//! The register killed at every step of a receipt with marked goods — before and after it
//! executes each command — and restarted from its state file; the host reconnects (its
//! journal reopened from disk), reconciles, and runs the same receipt (same `id`) again.
//!
//! For every cut point: the journal and the register agree after recovery, the register holds
//! exactly one document for the receipt (zero duplicates, zero lost), and the second run
//! returns that document (`replayed` exactly when the first attempt formed it).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::fault::{cashier, receipts, sale, tmpdir};
use crate::support::figures;
use kkt::driver::Options;
use kkt::emulator::{Clock, VirtualRegister};
use kkt::journal::{Journal, State};
use kkt::journaled::JournaledKkt;
use kkt::transport::{InProcTransport, Responder};
use kkt::Kkt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// Killed when the request arrives: not executed.
    Before,
    /// Killed after executing it, before answering.
    After,
}

/// A register process that can be killed at the n-th request and restarted from its state file.
struct Process {
    state: PathBuf,
    reg: Mutex<Option<VirtualRegister>>,
    cut: Mutex<Option<(usize, Cut)>>,
    count: AtomicUsize,
    codes: Mutex<Vec<u8>>,
}

impl Process {
    fn start(state: &Path) -> Arc<Process> {
        let p = Arc::new(Process {
            state: state.into(),
            reg: Mutex::new(None),
            cut: Mutex::new(None),
            count: AtomicUsize::new(0),
            codes: Mutex::default(),
        });
        p.restart();
        p
    }

    fn restart(&self) {
        let r = VirtualRegister::open(kkt::emulator::EmulatorOptions::default(), &self.state, Clock::System).unwrap();
        *self.reg.lock().unwrap() = Some(r);
    }

    /// Counts requests from now on, and kills the register at request `n` (from 0).
    fn arm(&self, cut: Option<(usize, Cut)>) {
        self.count.store(0, Ordering::SeqCst);
        self.codes.lock().unwrap().clear();
        *self.cut.lock().unwrap() = cut;
    }

    fn alive(&self) -> bool {
        self.reg.lock().unwrap().is_some()
    }

    fn kkt(self: &Arc<Self>) -> Kkt {
        Kkt::with_transport(InProcTransport::new(self.clone()), Options::fast()).unwrap()
    }
}

impl Responder for Process {
    fn respond(&self, request: &[u8]) -> Vec<u8> {
        let mut reg = self.reg.lock().unwrap();
        let Some(r) = reg.as_ref() else { return Vec::new() };
        let n = self.count.fetch_add(1, Ordering::SeqCst);
        self.codes.lock().unwrap().push(request[4]);
        match *self.cut.lock().unwrap() {
            Some((at, Cut::Before)) if at == n => {
                *reg = None;
                Vec::new()
            }
            Some((at, Cut::After)) if at == n => {
                r.exchange(request);
                *reg = None;
                Vec::new()
            }
            _ => r.exchange(request),
        }
    }
}

fn journal(dir: &Path) -> Journal {
    Journal::open(&dir.join("journal.sqlite")).unwrap()
}

/// The request codes of one receipt, fault-free, from the journaled call's first request.
fn receipt_steps() -> Vec<u8> {
    let dir = tmpdir("cut-steps");
    let p = Process::start(&dir.join("state.json"));
    let mut jk = JournaledKkt::with_kkt(p.kkt(), journal(&dir)).unwrap();
    jk.open_shift(&cashier()).unwrap();
    p.arm(None);
    jk.receipt(&sale(Some("steps"), 0, 2)).unwrap();
    let codes = p.codes.lock().unwrap().clone();
    std::fs::remove_dir_all(&dir).ok();
    codes
}

#[derive(Default, Debug)]
struct Figures {
    cut_points: usize,
    formed_first: usize,
    duplicates: usize,
    lost: usize,
    disagreements: usize,
}

#[test]
fn killed_at_every_step_of_a_marked_receipt() {
    let steps = receipt_steps();
    assert!(steps.contains(&0x24) && steps.contains(&0x91) && steps.contains(&0x92), "{steps:02X?}");
    let mut fig = Figures::default();
    for (i, code) in steps.iter().enumerate() {
        for cut in [Cut::Before, Cut::After] {
            let dir = tmpdir("cut");
            let state = dir.join("state.json");
            let p = Process::start(&state);
            let id = format!("pos-{i}-{cut:?}");
            let r = sale(Some(&id), i as u64, 2);
            let what = format!("cut {cut:?} request {i} ({code:#04X})");
            {
                let mut jk = JournaledKkt::with_kkt(p.kkt(), journal(&dir)).unwrap();
                jk.open_shift(&cashier()).unwrap();
                p.arm(Some((i, cut)));
                let first = jk.receipt(&r);
                assert!(!p.alive(), "{what}: the register was not killed");
                if let Ok(f) = &first {
                    // Only possible when the kill came after the last request of the receipt.
                    assert!(!f.replayed, "{what}");
                }
                // The host goes away too.
            }
            // The register comes back from its state file; the host reconnects with its journal
            // read from disk: connecting reconciles.
            p.restart();
            p.arm(None);
            let mut jk = JournaledKkt::with_kkt(p.kkt(), journal(&dir)).unwrap();
            let reg_state =
                kkt::emulator::VirtualRegister::open(Default::default(), &state, Clock::System).unwrap().state();
            let docs = receipts(&reg_state).len();
            let entry = jk.outcome(&id).unwrap();
            let formed_first = docs == 1;
            match (&entry, docs) {
                (None, 0) => {}
                (Some(e), 1) if e.state == State::Formed => {
                    assert_eq!(e.document.as_ref().unwrap().fd_number, receipts(&reg_state)[0].number, "{what}");
                }
                (Some(e), 0) if e.state == State::NotFormed => {}
                (e, n) => {
                    eprintln!("{what}: journal {e:?} but the register has {n} receipts");
                    fig.disagreements += 1;
                }
            }
            assert!(jk.journal().pending().unwrap().is_empty(), "{what}: still pending after recovery");
            assert!(reg_state.receipt.is_none(), "{what}: a receipt is left open after recovery");

            // The same receipt again.
            let again = jk.receipt(&r).unwrap_or_else(|e| panic!("{what}: second run: {e}"));
            assert_eq!(again.replayed, formed_first, "{what}");
            let after = p.reg.lock().unwrap().as_ref().unwrap().state();
            let rs = receipts(&after);
            match rs.len() {
                1 => assert_eq!(rs[0].number, again.document.fd_number, "{what}"),
                0 => fig.lost += 1,
                _ => fig.duplicates += 1,
            }
            assert_eq!(rs[0].total, r.total().kopecks(), "{what}");
            let e = jk.outcome(&id).unwrap().unwrap();
            assert_eq!(e.state, State::Formed, "{what}");
            assert_eq!(e.document.unwrap().fd_number, again.document.fd_number, "{what}");
            fig.cut_points += 1;
            fig.formed_first += usize::from(formed_first);
            drop(jk);
            std::fs::remove_dir_all(&dir).ok();
        }
    }
    figures(
        "fault_cuts",
        &format!(
    "receipt steps {} (codes {:02X?}), cut points covered {}, first attempt formed {}, duplicates {}, lost {}, journal/register disagreements {}",
        steps.len(),
        steps,
        fig.cut_points,
        fig.formed_first,
        fig.duplicates,
        fig.lost,
        fig.disagreements
        ),
    );
    assert_eq!((fig.duplicates, fig.lost, fig.disagreements), (0, 0, 0));
    assert_eq!(fig.cut_points, steps.len() * 2);
}
