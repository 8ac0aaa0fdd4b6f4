//! The driver (`Kkt`) over its in-process transport to the virtual register: the same order
//! rules on both sides, so a whole receipt goes through, and the register's own refusals come
//! back as device errors.

use std::sync::Arc;

use kkt::commands::{marking, receipt, shift};
use kkt::emulator::{EmulatorOptions, VirtualRegister};
use kkt::protocol::Decimal;
use kkt::transport::InProcTransport;

#[test]
fn the_driver_runs_a_receipt_on_the_virtual_register() {
    let reg = Arc::new(VirtualRegister::new(EmulatorOptions::default()));
    let mut k = kkt::Kkt::with_transport(InProcTransport::new(reg.clone()), Default::default()).unwrap();
    k.call(&shift::BeginShiftOpen::default()).unwrap();
    let opened = k.call(&shift::OpenShift).unwrap();
    assert_eq!(opened.shift_number, 1);
    k.call(&receipt::OpenReceipt::default()).unwrap();
    let code = "0104600439931256215Bd;cj,\u{1d}93dGVz";
    k.call(&marking::CheckMarkLocal::new(code)).unwrap();
    let online = marking::CheckMarkOnline {
        planned_status: kkt::protocol::values::PlannedStatus::PIECE_SOLD,
        mode: 0,
        quantity: Decimal::integer(1),
        measure: kkt::protocol::values::Measure::PIECE,
        fraction: None,
    };
    assert!(k.call(&online).unwrap().result.status_correct());
    k.call(&marking::KeepMarkCheck { keep: true }).unwrap();
    k.call(&receipt::MarkedItem::piece("Сигареты", 18900, 1, 4, 33, code)).unwrap();
    k.call(&receipt::Payment {
        taxation: Some(kkt::protocol::values::Taxation::OSN),
        cash: Some(18900),
        ..Default::default()
    })
    .unwrap();
    let r = k.call(&receipt::FormReceipt { operation: kkt::protocol::values::Operation::SELL, total: 18900 }).unwrap();
    assert_eq!((r.receipt_number, r.shift_number), (1, 1));
    assert_eq!(reg.state().last_fd, r.fd_number);
    assert_eq!(reg.state().cash, 18900);
}
