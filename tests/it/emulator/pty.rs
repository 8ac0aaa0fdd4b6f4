//! The virtual register on a pseudo-terminal (`kkt emulator --pty`), driven like a serial
//! port by a host written on the core codec. Tests using a pty run one at a time.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::support::emulator::*;
use kkt::protocol::frame;

fn exchange(port: &mut std::fs::File, code: u8, data: &[u8]) -> Result<Vec<u8>, u8> {
    let mut f = Vec::new();
    frame::encode(code, data, &mut f).unwrap();
    port.write_all(&f).unwrap();
    result_of(&read_frame(port))
}

#[test]
fn a_business_day_over_the_pty() {
    let _one_at_a_time = crate::support::pty_lock();
    // A pty read has no timeout: a hung exchange ends the test run instead of blocking CI
    // (the watchdog stands down when the test is over: other tests share this process).
    struct Done(Arc<AtomicBool>);
    impl Drop for Done {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let done = Done(Arc::new(AtomicBool::new(false)));
    let flag = done.0.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(120));
        if !flag.load(Ordering::SeqCst) {
            eprintln!("pty test: no answer within 120 s");
            std::process::exit(1);
        }
    });
    let emu = Emulator::start(&["--pty"]);
    assert!(emu.at.starts_with("/dev/"), "first line is the pty path: {}", emu.at);
    let mut port = std::fs::OpenOptions::new().read(true).write(true).open(&emu.at).unwrap();
    let status = exchange(&mut port, 0x01, &[]).unwrap();
    assert_eq!(&status[..10], b"0000000001");
    for (code, data) in business_day() {
        exchange(&mut port, code, &data).unwrap_or_else(|e| panic!("command {code:#04X}: error {e:#04X}"));
    }
    // Garbage and a bad frame on the line: 0x25, then the line still works.
    let mut bad = Vec::new();
    frame::encode(0x20, &[], &mut bad).unwrap();
    *bad.last_mut().unwrap() ^= 1;
    port.write_all(&[0x00, 0x17]).unwrap();
    port.write_all(&bad).unwrap();
    assert_eq!(result_of(&read_frame(&mut port)), Err(0x25));
    let shift = exchange(&mut port, 0x20, &[]).unwrap();
    assert_eq!(shift, vec![0, 1, 0, 4, 0], "shift 1 closed, 4 receipts");
    // Several frames written at once are answered in order.
    let mut two = Vec::new();
    frame::encode(0x04, &[], &mut two).unwrap();
    frame::encode(0x0F, &[], &mut two).unwrap();
    port.write_all(&two).unwrap();
    let answers = read_frames(&mut port, 2);
    assert_eq!(result_of(&answers[0]).unwrap(), b"Terminal-FA");
    assert_eq!(result_of(&answers[1]).unwrap(), vec![4, 4]);
}
