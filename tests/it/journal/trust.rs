//! Issue 18 §3 and §4 through the journaled driver on the in-process virtual register:
//! recovery takes only its own document (a second program on the register), a document another
//! program opened is never cancelled, the journal cannot silently vanish (empty, unreadable,
//! copied without its `-wal`, created by two processes at once), and a damaged FN status answer
//! is read again, never journaled.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use crate::support::fault::{cashier, receipts, sale, tmpdir};
use kkt::commands::receipt::OpenReceipt;
use kkt::driver::reconcile::ReceiptContent;
use kkt::driver::Options;
use kkt::emulator::VirtualRegister;
use kkt::journal::{Begun, Journal, JournalError, NewEntry, State};
use kkt::journaled::{operation_name, receipt_hash, JournaledKkt};
use kkt::protocol::frame::{self, Parsed};
use kkt::receipt::{Item, Money, Receipt, Vat};
use kkt::transport::{InProcTransport, Responder};
use kkt::{Error, Kkt};

fn register() -> Arc<VirtualRegister> {
    Arc::new(VirtualRegister::new(kkt::emulator::EmulatorOptions::default()))
}

fn client(reg: &Arc<VirtualRegister>) -> Kkt {
    Kkt::with_transport(InProcTransport::new(reg.clone()), Options::fast()).unwrap()
}

/// A pending entry as a process that crashed mid-receipt leaves it (with the receipt's content,
/// as today's kkt writes it).
fn crashed_entry(j: &mut Journal, r: &Receipt, device: &str, expected: u32) -> i64 {
    let op = operation_name(r);
    let hash = receipt_hash(r);
    let content = ReceiptContent::of(r).unwrap().to_json();
    let new = NewEntry {
        id: r.id.as_deref(),
        operation: &op,
        content_hash: &hash,
        device: Some(device),
        expected_fd: Some(expected),
        total: Some(r.total().kopecks()),
        content: Some(&content),
        cash_before: None,
    };
    match j.begin_entry(&new).unwrap() {
        Begun::New(seq) => seq,
        Begun::Existing(e) => panic!("{e:?}"),
    }
}

/// Another program's receipt with the same operation and total as `r` (and the same payments),
/// but other goods.
fn same_total_other_goods(r: &Receipt) -> Receipt {
    let mut o = r.clone();
    o.id = None;
    o.items.clear();
    o.items.push(Item::new("Сыр", r.total(), kkt::protocol::Decimal::integer(1), Vat::VAT10));
    assert_eq!(o.total(), r.total());
    o
}

/// The two-journal crash: POS 1 (journal A) dies mid-receipt, POS 2 (another program on the
/// register) cancels the open receipt and forms its own with the same total. POS 1's recovery
/// must not take POS 2's document: A's entry ends "not formed" (naming the FD it saw), and the
/// retry forms it once.
#[test]
fn another_programs_receipt_with_the_same_total_is_not_taken_for_ours() {
    let reg = register();
    let mut pos1 = client(&reg);
    pos1.open_shift(&cashier()).unwrap();
    let fn_number = reg.state().fn_number.clone();
    let expected = reg.state().last_fd + 1;
    let r = sale(Some("pos1/17"), 3, 0);
    let mut a = Journal::in_memory().unwrap();
    crashed_entry(&mut a, &r, &fn_number, expected);
    pos1.call(&OpenReceipt::default()).unwrap();
    drop(pos1);

    // POS 2: a person cancels the abandoned receipt, then POS 2 sells other goods for the same sum.
    let mut pos2 = client(&reg);
    pos2.cancel_document().unwrap();
    let theirs = pos2.sell(&same_total_other_goods(&r)).unwrap();
    assert_eq!(theirs.fd_number, expected);

    // POS 1 comes back.
    let mut jk = JournaledKkt::without_recovery(client(&reg), a);
    let out = jk.recover().unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].state, State::NotFormed, "{:?}", out[0]);
    let note = out[0].note.clone().unwrap_or_default();
    assert!(note.contains(&format!("FD {expected}")), "the note names the FD seen: {note}");
    assert!(out[0].document.is_none());

    // The retry with the same id forms POS 1's receipt, once.
    let f = jk.receipt(&r).unwrap();
    assert!(!f.replayed, "POS 2's document is not replayed as POS 1's");
    assert_eq!(f.document.fd_number, expected + 1);
    let again = jk.receipt(&r).unwrap();
    assert!(again.replayed);
    assert_eq!(again.document.fd_number, expected + 1);
    assert_eq!(receipts(&reg.state()).len(), 2);
}

/// The same receipt content as the entry's (the other program sold the same goods at the same
/// prices) cannot be told from ours, but a different quantity or payment type can.
#[test]
fn a_receipt_differing_only_in_payment_type_is_not_ours() {
    let reg = register();
    let mut k = client(&reg);
    k.open_shift(&cashier()).unwrap();
    let fn_number = reg.state().fn_number.clone();
    let expected = reg.state().last_fd + 1;
    let r = sale(Some("pay"), 5, 0);
    let mut a = Journal::in_memory().unwrap();
    crashed_entry(&mut a, &r, &fn_number, expected);
    // Same goods and total, paid by card.
    let mut o = r.clone();
    o.id = None;
    o.payments.electronic = o.payments.cash;
    o.payments.cash = Money::ZERO;
    k.sell(&o).unwrap();
    let mut jk = JournaledKkt::without_recovery(k, a);
    let out = jk.recover().unwrap();
    assert_eq!(out[0].state, State::NotFormed, "{:?}", out[0]);
    assert!(out[0].note.as_deref().unwrap_or_default().contains("payment"), "{:?}", out[0].note);
}

/// A document another program opened is never cancelled by kkt: the journaled receipt is
/// refused with `register_busy`, the document stays open, and `cancel_own` refuses too; only a
/// person's `kkt cancel --force` (`Kkt::cancel_document`) cancels it.
#[test]
fn a_document_another_program_opened_is_reported_not_cancelled() {
    let reg = register();
    let mut jk = JournaledKkt::with_kkt(client(&reg), Journal::in_memory().unwrap()).unwrap();
    jk.open_shift(&cashier()).unwrap();
    let fd = reg.state().last_fd;
    let mut other = client(&reg);
    other.call(&OpenReceipt::default()).unwrap();

    let e = jk.receipt(&sale(Some("busy"), 1, 0)).unwrap_err();
    assert!(matches!(e, Error::RegisterBusy { .. }), "{e}");
    assert_eq!(e.kind().as_str(), "register_busy");
    assert!(e.to_string().contains("another program"), "{e}");
    assert!(e.hint().contains("kkt cancel --force"), "{}", e.hint());
    assert!(reg.state().receipt.is_some(), "the other program's receipt is still open");
    assert_eq!(reg.state().last_fd, fd, "nothing formed");
    // Refused before anything was journaled or sent.
    assert!(jk.outcome("busy").unwrap().is_none());

    let e = jk.cancel_own().unwrap_err();
    assert!(matches!(e, Error::RegisterBusy { .. }), "{e}");
    assert!(reg.state().receipt.is_some(), "still open");

    // The other program finishes its receipt; ours is formed then.
    other.cancel_document().unwrap();
    let f = jk.receipt(&sale(Some("busy"), 1, 0)).unwrap();
    assert_eq!(f.document.fd_number, fd + 1);
}

/// Recovery cancels the document its own entry left open, but not one opened after another
/// program's document was formed.
#[test]
fn recovery_cancels_only_the_document_its_entry_left_open() {
    let reg = register();
    let mut k = client(&reg);
    k.open_shift(&cashier()).unwrap();
    let fn_number = reg.state().fn_number.clone();
    let expected = reg.state().last_fd + 1;
    let r = sale(Some("left"), 2, 0);
    let mut a = Journal::in_memory().unwrap();
    crashed_entry(&mut a, &r, &fn_number, expected);
    // Another program formed a document since and has a receipt open now.
    let mut other = client(&reg);
    other.sell(&same_total_other_goods(&sale(None, 40, 0))).unwrap();
    other.call(&OpenReceipt::default()).unwrap();
    let mut jk = JournaledKkt::without_recovery(k, a);
    let out = jk.recover().unwrap();
    assert_eq!(out[0].state, State::NotFormed, "{:?}", out[0]);
    assert!(reg.state().receipt.is_some(), "the other program's receipt is left open: {:?}", out[0].note);
    assert!(out[0].note.as_deref().unwrap_or_default().contains("another program"), "{:?}", out[0].note);
}

#[test]
fn an_empty_or_unreadable_journal_is_refused_never_reinitialised() {
    let dir = tmpdir("journal-empty");
    let empty = dir.join("empty.sqlite");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(Journal::open(&empty), Err(JournalError::Empty { .. })));
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0, "left as it was");

    let junk = dir.join("junk.sqlite");
    std::fs::write(&junk, b"this is not a database, it is a text file of 60 bytes or so").unwrap();
    assert!(matches!(Journal::open(&junk), Err(JournalError::Unreadable { .. })));

    // A SQLite file without the journal's table (a main file copied without its -wal before
    // the first checkpoint looks like this).
    let other = dir.join("other.sqlite");
    rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE t (x INTEGER);").unwrap();
    assert!(matches!(Journal::open(&other), Err(JournalError::Unreadable { .. })), "{:?}", Journal::open(&other));

    let missing = dir.join("missing.sqlite");
    assert!(matches!(Journal::open_existing(&missing), Err(JournalError::Missing { .. })));
    assert!(!missing.exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// After each outcome the WAL is checkpointed: a copy of the main file alone holds every
/// settled entry; `Journal::backup` copies a journal in use.
#[test]
fn a_copy_of_the_main_file_and_a_backup_hold_every_settled_entry() {
    let dir = tmpdir("journal-copy");
    let path = dir.join("j.sqlite");
    let reg = register();
    let mut jk = JournaledKkt::with_kkt(client(&reg), Journal::open(&path).unwrap()).unwrap();
    jk.open_shift(&cashier()).unwrap();
    let f = jk.receipt(&sale(Some("copied"), 8, 0)).unwrap();
    // Copy the main file only, as a careless backup does, while the journal is open.
    let copy = dir.join("copy.sqlite");
    std::fs::copy(&path, &copy).unwrap();
    let c = Journal::open_existing(&copy).unwrap();
    let e = c.by_id("copied").unwrap().expect("the formed entry is in the main file");
    assert_eq!((e.state, e.document.map(|d| d.fd_number)), (State::Formed, Some(f.document.fd_number)));

    let b = dir.join("backup.sqlite");
    jk.journal().backup(&b).unwrap();
    assert!(matches!(jk.journal().backup(&b), Err(JournalError::BackupExists { .. })));
    let bj = Journal::open_existing(&b).unwrap();
    assert_eq!(bj.list(false, 100).unwrap().len(), jk.journal().list(false, 100).unwrap().len());
    // The backup is a journal kkt uses: the id is replayed from it, not formed again.
    let mut jk2 = JournaledKkt::with_kkt(client(&reg), bj).unwrap();
    let g = jk2.receipt(&sale(Some("copied"), 8, 0)).unwrap();
    assert!(g.replayed);
    assert_eq!(receipts(&reg.state()).len(), 1);
    std::fs::remove_dir_all(&dir).ok();
}

/// Two processes creating the same journal at once both succeed, and share one journal.
#[test]
fn two_creators_of_the_same_journal_both_succeed() {
    for round in 0..20 {
        let dir = tmpdir(&format!("journal-race{round}"));
        let path = Arc::new(dir.join("j.sqlite"));
        let barrier = Arc::new(Barrier::new(2));
        let threads: Vec<_> = (0..2)
            .map(|i| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut j = Journal::open(&path)?;
                    let id = format!("t{i}");
                    let new = NewEntry {
                        id: Some(&id),
                        operation: "sell",
                        content_hash: "h",
                        device: None,
                        expected_fd: None,
                        total: None,
                        content: None,
                        cash_before: None,
                    };
                    j.begin_entry(&new).map(|_| ())
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
        let j = Journal::open_existing(&path).unwrap();
        assert_eq!(j.list(false, 10).unwrap().len(), 2, "round {round}: one journal, both entries");
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// The virtual register behind a line that, while armed, gives FN status answers (0x08) whose
/// FN number is damaged but whose CRC is valid (a register's or a converter's fault).
struct DamagedFn {
    reg: Arc<VirtualRegister>,
    armed: AtomicUsize,
    seen: AtomicUsize,
}

impl Responder for DamagedFn {
    fn respond(&self, request: &[u8]) -> Vec<u8> {
        let answer = self.reg.exchange(request);
        if request.get(4) != Some(&0x08) {
            return answer;
        }
        self.seen.fetch_add(1, Ordering::Relaxed);
        if self.armed.load(Ordering::Relaxed) == 0 {
            return answer;
        }
        self.armed.fetch_sub(1, Ordering::Relaxed);
        let Parsed::Frame { frame, .. } = frame::parse(&answer) else { return answer };
        let mut data = frame.data.to_vec();
        // The FN number: bytes 10..26 of the answer's data.
        data[10..26].copy_from_slice(b"\x019\xff87000000\x00\x00\x00\x00\x00");
        let mut out = Vec::new();
        frame::encode(frame.code, &data, &mut out).unwrap();
        out
    }
}

/// A CRC-valid FN status answer with a garbage FN number before a receipt is read again: the
/// entry records the register's real FN, and the receipt is formed once.
#[test]
fn a_damaged_fn_status_answer_is_read_again_never_journaled() {
    let reg = register();
    let line = Arc::new(DamagedFn { reg: reg.clone(), armed: AtomicUsize::new(0), seen: AtomicUsize::new(0) });
    let k = Kkt::with_transport(InProcTransport::new(line.clone()), Options::fast()).unwrap();
    let mut jk = JournaledKkt::with_kkt(k, Journal::in_memory().unwrap()).unwrap();
    jk.open_shift(&cashier()).unwrap();
    let fn_number = reg.state().fn_number.clone();
    for (n, damaged) in [(1u64, 1usize), (2, 2)] {
        let id = format!("fn-{n}");
        let seen = line.seen.load(Ordering::Relaxed);
        line.armed.store(damaged, Ordering::Relaxed);
        let f = jk.receipt(&sale(Some(&id), n, 0)).unwrap();
        assert_eq!(line.armed.load(Ordering::Relaxed), 0, "every damaged answer was read");
        assert!(line.seen.load(Ordering::Relaxed) > seen + damaged, "the FN status was read again");
        let e = jk.outcome(&id).unwrap().unwrap();
        assert_eq!(e.device.as_deref(), Some(fn_number.as_str()), "the real FN is journaled");
        assert_eq!((e.state, e.document.map(|d| d.fd_number)), (State::Formed, Some(f.document.fd_number)));
    }
    assert_eq!(receipts(&reg.state()).len(), 2);
}

/// An entry an earlier kkt journaled with a damaged FN number blocks its id (the register
/// cannot be told to be that one); `settle_foreign` (`kkt recover --settle-foreign`) settles it
/// against this register's last documents.
#[test]
fn settle_foreign_frees_an_entry_with_a_damaged_fn_number() {
    let reg = register();
    let mut k = client(&reg);
    k.open_shift(&cashier()).unwrap();
    let last = reg.state().last_fd;
    let not_sent = sale(Some("garbled-1"), 11, 0);
    let sent = sale(Some("garbled-2"), 12, 0);
    let mut a = Journal::in_memory().unwrap();
    crashed_entry(&mut a, &not_sent, "\u{1}9\u{ff}87000000", 7);
    crashed_entry(&mut a, &sent, "\u{1}9\u{ff}87000000", 7);
    // The second one reached the register before the crash.
    let mut s = sent.clone();
    s.id = None;
    let formed = k.sell(&s).unwrap();
    let mut jk = JournaledKkt::without_recovery(k, a);

    // Plain recovery cannot settle them, and their ids are refused.
    let out = jk.recover().unwrap();
    assert!(out.iter().all(|e| e.state == State::Pending), "{out:?}");
    let e = jk.receipt(&not_sent).unwrap_err();
    assert!(matches!(e, Error::Pending { .. }), "{e}");
    assert!(e.to_string().contains("--settle-foreign"), "{e}");
    assert_eq!(reg.state().last_fd, last + 1);

    let out = jk.settle_foreign().unwrap();
    assert_eq!(out.len(), 2);
    let by = |id: &str| out.iter().find(|e| e.id.as_deref() == Some(id)).unwrap().clone();
    assert_eq!(by("garbled-1").state, State::NotFormed, "{:?}", by("garbled-1"));
    let g2 = by("garbled-2");
    assert_eq!((g2.state, g2.document.map(|d| d.fd_number)), (State::Formed, Some(formed.fd_number)));

    // Now the ids work: one formed now, the other replayed.
    assert!(!jk.receipt(&not_sent).unwrap().replayed);
    assert!(jk.receipt(&sent).unwrap().replayed);
    assert_eq!(receipts(&reg.state()).len(), 2);
}
