//! The serial transports through a pseudo-terminal pair: the test plays the register on the
//! master side, the transport opens the slave like a serial port.

use std::fs::File;
use std::io::{Read, Write};
use std::time::Duration;

use bytes::BytesMut;
use kkt::protocol::frame::encode;
use kkt::protocol::FrameDecoder;
use kkt::transport::{
    AsyncSerialTransport, AsyncTransport, ExchangeError, LinkError, SerialConfig, SerialTransport, Transport,
};

fn frame(code: u8, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    encode(code, data, &mut v).unwrap();
    v
}

struct Pair {
    master: File,
    _slave: std::os::fd::OwnedFd,
    path: String,
}

fn pty() -> Pair {
    let p = nix::pty::openpty(None, None).expect("openpty");
    let path = nix::unistd::ttyname(&p.slave).expect("ttyname").to_string_lossy().into_owned();
    // Raw mode on the slave, so the line discipline passes bytes through untouched from the start.
    let mut t = nix::sys::termios::tcgetattr(&p.slave).unwrap();
    nix::sys::termios::cfmakeraw(&mut t);
    nix::sys::termios::tcsetattr(&p.slave, nix::sys::termios::SetArg::TCSANOW, &t).unwrap();
    Pair { master: File::from(p.master), _slave: p.slave, path }
}

/// Plays the register on the master: for each request, writes the pieces `answer` gives.
fn register(
    mut master: File,
    n: usize,
    answer: impl Fn(u8) -> Vec<Vec<u8>> + Send + 'static,
) -> std::thread::JoinHandle<File> {
    std::thread::spawn(move || {
        let mut dec = FrameDecoder::new();
        let mut buf = BytesMut::new();
        let mut b = [0u8; 1100];
        let mut done = 0;
        while done < n {
            if let Some(Ok(f)) = dec.decode(&mut buf) {
                for piece in answer(f.code) {
                    master.write_all(&piece).unwrap();
                    master.flush().unwrap();
                    std::thread::sleep(Duration::from_millis(3));
                }
                done += 1;
                continue;
            }
            let k = master.read(&mut b).unwrap();
            buf.extend_from_slice(&b[..k]);
        }
        master
    })
}

#[test]
fn serial_exchange_in_pieces_with_garbage() {
    let _g = crate::support::pty_lock();
    let p = pty();
    let h = register(p.master, 2, |code| {
        let f = frame(0, &[code, 0xAA]);
        vec![vec![0x00, 0x11], f[..3].to_vec(), f[3..].to_vec()]
    });
    let mut t = SerialTransport::open(&p.path, SerialConfig::default()).unwrap();
    for code in [0x01, 0x20] {
        let f = t.exchange(&frame(code, &[]), Duration::from_secs(10)).unwrap();
        assert_eq!((f.code, &f.data[..], f.skipped), (0, &[code, 0xAA][..], 2));
    }
    h.join().unwrap();
}

#[test]
fn serial_port_is_exclusive() {
    let _g = crate::support::pty_lock();
    let p = pty();
    let t = SerialTransport::open(&p.path, SerialConfig::default()).unwrap();
    let e = SerialTransport::open(&p.path, SerialConfig::default()).unwrap_err();
    assert!(matches!(e, LinkError::Busy { .. }), "{e:?}");
    assert!(e.request_not_sent());
    drop(t);
    SerialTransport::open(&p.path, SerialConfig::default()).expect("free again after the first closed");
}

#[test]
fn serial_timeout_and_corruption() {
    let _g = crate::support::pty_lock();
    let p = pty();
    let h = register(p.master, 2, |code| match code {
        0x01 => vec![vec![0xB6, 0x29, 0x00]],
        _ => {
            let mut f = frame(0, &[1, 2, 3]);
            f[6] ^= 0x40;
            vec![f]
        }
    });
    let mut t = SerialTransport::open(&p.path, SerialConfig::default()).unwrap();
    let e = t.exchange(&frame(0x01, &[]), Duration::from_millis(300)).unwrap_err();
    assert!(matches!(e, ExchangeError::Link(LinkError::Timeout { received: 3, .. })), "{e:?}");
    let e = t.exchange(&frame(0x08, &[]), Duration::from_secs(10)).unwrap_err();
    assert!(matches!(e, ExchangeError::BadFrame(_)), "{e:?}");
    h.join().unwrap();
}

#[test]
fn async_serial_exchange() {
    let _g = crate::support::pty_lock();
    let p = pty();
    let h = register(p.master, 1, |code| vec![frame(0, &[code])]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut t = AsyncSerialTransport::open(&p.path, &SerialConfig::default()).unwrap();
        let f = t.exchange(&frame(0x73, &[]), Duration::from_secs(10)).await.unwrap();
        assert_eq!(&f.data[..], &[0x73]);
    });
    h.join().unwrap();
}
