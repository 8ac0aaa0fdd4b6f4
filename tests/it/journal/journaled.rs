//! [`JournaledKkt`] on the in-process virtual register: idempotency keys, journaled shifts,
//! recovery of entries left pending, and what it refuses.

use std::sync::Arc;

use crate::support::fault::{cashier, receipts, sale, tmpdir};
use kkt::driver::Options;
use kkt::emulator::VirtualRegister;
use kkt::journal::{Begun, Journal, NewEntry, State};
use kkt::journaled::{operation_name, receipt_hash, JournaledKkt, OpenDocumentPolicy};
use kkt::transport::InProcTransport;
use kkt::{Error, Kkt};

fn setup() -> (JournaledKkt, Arc<VirtualRegister>) {
    let reg = Arc::new(VirtualRegister::new(kkt::emulator::EmulatorOptions::default()));
    let k = Kkt::with_transport(InProcTransport::new(reg.clone()), Options::fast()).unwrap();
    let mut jk = JournaledKkt::with_kkt(k, Journal::in_memory().unwrap()).unwrap();
    jk.open_shift(&cashier()).unwrap();
    (jk, reg)
}

#[test]
fn an_id_is_formed_once() {
    let (mut jk, reg) = setup();
    let r = sale(Some("pos-1/42"), 1, 1);
    let a = jk.receipt(&r).unwrap();
    assert!(!a.replayed);
    let b = jk.receipt(&r).unwrap();
    assert!(b.replayed);
    assert_eq!(
        (a.document.fd_number, a.document.fiscal_sign, a.document.receipt_number, a.document.shift_number),
        (b.document.fd_number, b.document.fiscal_sign, b.document.receipt_number, b.document.shift_number)
    );
    assert_eq!(a.document.datetime, b.document.datetime);
    assert_eq!(a.journal_seq, b.journal_seq);
    assert_eq!(receipts(&reg.state()).len(), 1);
    let e = jk.outcome("pos-1/42").unwrap().unwrap();
    assert_eq!((e.state, e.total), (State::Formed, Some(r.total().kopecks())));

    // The same id for something else: refused, nothing sent.
    let fd = reg.state().last_fd;
    let e = jk.receipt(&sale(Some("pos-1/42"), 2, 0)).unwrap_err();
    assert!(matches!(&e, Error::IdReused { id, .. } if id == "pos-1/42"), "{e}");
    assert_eq!(e.kind().as_str(), "id_reused");
    assert_eq!(reg.state().last_fd, fd);
}

#[test]
fn without_an_id_the_same_receipt_is_a_new_sale() {
    let (mut jk, reg) = setup();
    let r = sale(None, 7, 0);
    let a = jk.receipt(&r).unwrap();
    let b = jk.receipt(&r).unwrap();
    assert!(!a.replayed && !b.replayed);
    assert_eq!(b.document.fd_number, a.document.fd_number + 1);
    assert_eq!(receipts(&reg.state()).len(), 2);
}

#[test]
fn shifts_and_reports_are_journaled() {
    let (mut jk, _reg) = setup();
    let s = jk.settlement_report().unwrap();
    let c = jk.close_shift(None).unwrap();
    let list = jk.journal().list(false, 10).unwrap();
    let ops: Vec<_> =
        list.iter().map(|e| (e.operation.as_str(), e.state, e.document.as_ref().map(|d| d.fd_number))).collect();
    assert_eq!(
        ops,
        vec![
            ("close_shift", State::Formed, Some(c.fd_number)),
            ("settlement_report", State::Formed, Some(s.fd_number)),
            ("open_shift", State::Formed, Some(s.fd_number - 1)),
        ]
    );
    // A refused operation is written as not formed.
    let e = jk.close_shift(None).unwrap_err();
    assert!(matches!(e, Error::Sequence(_) | Error::Device { .. }), "{e}");
    assert_eq!(jk.journal().list(false, 1).unwrap()[0].state, State::NotFormed);
}

/// A pending entry as a crashed process leaves it.
fn crashed_entry(j: &mut Journal, r: &kkt::receipt::Receipt, device: &str, expected: u32) -> i64 {
    let op = operation_name(r);
    let hash = receipt_hash(r);
    let new = NewEntry {
        id: r.id.as_deref(),
        operation: &op,
        content_hash: &hash,
        device: Some(device),
        expected_fd: Some(expected),
        total: Some(r.total().kopecks()),
        content: None,
        cash_before: None,
    };
    match j.begin_entry(&new).unwrap() {
        Begun::New(seq) => seq,
        Begun::Existing(e) => panic!("{e:?}"),
    }
}

#[test]
fn a_pending_entry_of_another_register_is_left_and_its_id_refused() {
    let dir = tmpdir("journaled-other");
    let path = dir.join("j.sqlite");
    let r = sale(Some("other-fn"), 3, 0);
    {
        let mut j = Journal::open(&path).unwrap();
        crashed_entry(&mut j, &r, "9999000000000000", 5);
    }
    let reg = Arc::new(VirtualRegister::new(kkt::emulator::EmulatorOptions::default()));
    let k = Kkt::with_transport(InProcTransport::new(reg.clone()), Options::fast()).unwrap();
    let mut jk = JournaledKkt::with_kkt(k, Journal::open(&path).unwrap()).unwrap();
    jk.open_shift(&cashier()).unwrap();
    let left = jk.recover().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].state, State::Pending);
    let fd = reg.state().last_fd;
    let e = jk.receipt(&r).unwrap_err();
    assert!(matches!(&e, Error::Pending { id, .. } if id == "other-fn"), "{e}");
    assert_eq!(e.kind().as_str(), "pending");
    assert!(e.to_string().contains("9999000000000000"), "{e}");
    assert_eq!(reg.state().last_fd, fd, "nothing formed");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn recovery_cancels_or_reports_a_document_left_open() {
    for policy in [OpenDocumentPolicy::Cancel, OpenDocumentPolicy::Report] {
        let reg = Arc::new(VirtualRegister::new(kkt::emulator::EmulatorOptions::default()));
        let mut k = Kkt::with_transport(InProcTransport::new(reg.clone()), Options::fast()).unwrap();
        k.open_shift(&cashier()).unwrap();
        let fn_number = reg.state().fn_number.clone();
        let expected = reg.state().last_fd + 1;
        // The crashed process had opened its receipt.
        k.call(&kkt::commands::receipt::OpenReceipt::default()).unwrap();
        let mut j = Journal::in_memory().unwrap();
        let r = sale(Some("open"), 4, 0);
        crashed_entry(&mut j, &r, &fn_number, expected);
        let mut jk = JournaledKkt::without_recovery(k, j);
        jk.set_open_document_policy(policy);
        let out = jk.recover().unwrap();
        assert_eq!(out[0].state, State::NotFormed);
        let note = out[0].note.clone().unwrap();
        match policy {
            OpenDocumentPolicy::Cancel => {
                assert!(reg.state().receipt.is_none());
                assert!(note.contains("cancelled"), "{note}");
                // Run again: formed now, once.
                let f = jk.receipt(&r).unwrap();
                assert!(!f.replayed);
                assert_eq!(f.document.fd_number, expected);
            }
            OpenDocumentPolicy::Report => {
                assert!(reg.state().receipt.is_some());
                assert!(note.contains("still open"), "{note}");
            }
            other => panic!("policy {other:?} is not covered by this test"),
        }
    }
}

#[test]
fn a_document_another_entry_owns_is_not_taken() {
    let (mut jk, reg) = setup();
    let fn_number = reg.state().fn_number.clone();
    let expected = reg.state().last_fd + 1;
    // Two entries expecting the same document number, same content (two customers, same bread):
    // the first formed it through the journal; the other crashed before sending.
    let r = sale(None, 9, 0);
    let first = jk.receipt(&r).unwrap();
    assert_eq!(first.document.fd_number, expected);
    let mut r2 = r.clone();
    r2.id = Some("second".into());
    // Written straight into the journal in use, as a crashed writer would have left it.
    let dir = tmpdir("journaled-owned");
    let path = dir.join("j.sqlite");
    let mut j = Journal::open(&path).unwrap();
    let seq1 = crashed_entry(&mut j, &r, &fn_number, expected);
    j.formed(
        seq1,
        &kkt::journal::Document {
            fd_number: expected,
            fiscal_sign: first.document.fiscal_sign,
            datetime: None,
            shift_number: None,
            receipt_number: None,
        },
    )
    .unwrap();
    crashed_entry(&mut j, &r2, &fn_number, expected);
    let k = Kkt::with_transport(InProcTransport::new(reg.clone()), Options::fast()).unwrap();
    let mut jk2 = JournaledKkt::with_kkt(k, j).unwrap();
    let e = jk2.outcome("second").unwrap().unwrap();
    assert_eq!(e.state, State::NotFormed, "{e:?}");
    let f = jk2.receipt(&r2).unwrap();
    assert!(!f.replayed);
    assert_eq!(f.document.fd_number, expected + 1);
    assert_eq!(receipts(&reg.state()).len(), 2);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cash_in_and_out_are_journaled_with_ids() {
    let (mut jk, reg) = setup();
    let m = kkt::receipt::Money::from_kopecks;
    let a = jk.cash_in(m(150_000), Some("float-1")).unwrap();
    assert_eq!((a.cash_before, a.cash_after, a.replayed), (m(0), m(150_000), false));
    // The same id and amount: the first outcome, nothing sent; another amount: refused.
    let b = jk.cash_in(m(150_000), Some("float-1")).unwrap();
    assert_eq!((b.replayed, b.journal_seq, b.cash_after), (true, a.journal_seq, a.cash_after));
    assert_eq!(reg.state().cash, 150_000, "done once");
    let e = jk.cash_in(m(1), Some("float-1")).unwrap_err();
    assert!(matches!(&e, Error::IdReused { .. }), "{e}");
    // An id of a receipt is not a cash id.
    jk.receipt(&sale(Some("r-1"), 1, 0)).unwrap();
    assert!(matches!(jk.cash_out(m(100), Some("r-1")).unwrap_err(), Error::IdReused { .. }));
    // More than the drawer holds: the register's 0x42, written as not done; a later try with
    // the same id goes again.
    let drawer = reg.state().cash;
    let e = jk.cash_out(m(drawer + 1), Some("out-1")).unwrap_err();
    assert_eq!(e.device_code(), Some(0x42), "{e}");
    assert_eq!(jk.outcome("out-1").unwrap().unwrap().state, State::NotFormed);
    jk.cash_in(m(10_000), None).unwrap();
    let c = jk.cash_out(m(drawer + 1), Some("out-1")).unwrap();
    assert_eq!(c.cash_after.kopecks(), 10_000 - 1);
    let e = jk.outcome("out-1").unwrap().unwrap();
    assert_eq!((e.state, e.cash_before, e.cash_after), (State::Formed, Some(drawer + 10_000), Some(10_000 - 1)));
}

/// A cash entry as a crashed process leaves it: pending, with the drawer before.
fn crashed_cash_entry(j: &mut Journal, op: &str, id: &str, amount: u64, before: u64, device: &str) -> i64 {
    let hash = kkt::journal::content_hash(format!("{op}:{amount}").as_bytes());
    let new = NewEntry {
        id: Some(id),
        operation: op,
        content_hash: &hash,
        device: Some(device),
        expected_fd: None,
        total: Some(amount),
        content: None,
        cash_before: Some(before),
    };
    match j.begin_entry(&new).unwrap() {
        Begun::New(seq) => seq,
        Begun::Existing(e) => panic!("{e:?}"),
    }
}

#[test]
fn a_cash_entry_left_pending_is_settled_from_the_counters() {
    let dir = tmpdir("cash-crash");
    let path = dir.join("journal.sqlite");
    let reg = Arc::new(VirtualRegister::new(kkt::emulator::EmulatorOptions::default()));
    let fn_number = reg.state().fn_number.clone();
    {
        let k = Kkt::with_transport(InProcTransport::new(reg.clone()), Options::fast()).unwrap();
        let mut jk = JournaledKkt::with_kkt(k, Journal::open(&path).unwrap()).unwrap();
        jk.open_shift(&cashier()).unwrap();
        jk.cash_in(kkt::receipt::Money::from_kopecks(50_000), None).unwrap();
    }
    // The host died after sending 0xB3 for 200.00 (done: the drawer moved) and before an 0xB4
    // for 10.00 was sent (not done: it did not).
    let mut j = Journal::open(&path).unwrap();
    let done = crashed_cash_entry(&mut j, "cash_in", "in-7", 20_000, 50_000, &fn_number);
    drop(j);
    {
        let mut k = Kkt::with_transport(InProcTransport::new(reg.clone()), Options::fast()).unwrap();
        k.call(&kkt::commands::cash::CashIn { amount: 20_000 }).unwrap();
    }
    let mut j = Journal::open(&path).unwrap();
    let not_done = crashed_cash_entry(&mut j, "cash_out", "out-7", 1_000, 70_000, &fn_number);
    drop(j);
    let k = Kkt::with_transport(InProcTransport::new(reg.clone()), Options::fast()).unwrap();
    let mut jk = JournaledKkt::with_kkt(k, Journal::open(&path).unwrap()).unwrap();
    let e = jk.journal().get(done).unwrap().unwrap();
    assert_eq!((e.state, e.cash_after), (State::Formed, Some(70_000)));
    assert_eq!(jk.journal().get(not_done).unwrap().unwrap().state, State::NotFormed);
    // Asked again under their ids: the done one is replayed, the other is done now, once.
    let a = jk.cash_in(kkt::receipt::Money::from_kopecks(20_000), Some("in-7")).unwrap();
    assert!(a.replayed);
    let b = jk.cash_out(kkt::receipt::Money::from_kopecks(1_000), Some("out-7")).unwrap();
    assert!(!b.replayed);
    assert_eq!(reg.state().cash, 69_000);
    std::fs::remove_dir_all(&dir).ok();
}
