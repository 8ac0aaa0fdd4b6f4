//! Thin servers around [`VirtualRegister`]: TCP (one thread a connection; one or many
//! commands per connection) and a pseudo-terminal, with the scenario's faults.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::scenario::{Fault, FaultAction};
use super::VirtualRegister;
use crate::protocol::frame::{self, FrameError, Parsed};

/// The faults still to inject (each with its remaining count; 0 = always).
#[derive(Debug, Default)]
pub struct Faults(Mutex<Vec<(Fault, u32)>>);

impl Faults {
    /// The scenario's faults.
    pub fn new(faults: &[Fault]) -> Self {
        Faults(Mutex::new(faults.iter().map(|f| (f.clone(), f.times)).collect()))
    }

    /// The fault for `command`, if one is due (and counts it).
    pub fn take(&self, command: u8) -> Option<Fault> {
        let mut v = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let i = v.iter().position(|(f, left)| f.command == command && (f.times == 0 || *left > 0))?;
        if v[i].0.times > 0 {
            v[i].1 -= 1;
        }
        Some(v[i].0.clone())
    }
}

/// What the connection reader found in the bytes received.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A whole request frame (its bytes).
    Request(Vec<u8>),
    /// Bytes that start like a frame but are not one (bad CRC or LEN): answered 0x25.
    Bad(FrameError),
}

/// Splits a byte stream into request frames (sans-IO). Garbage before a frame is dropped.
#[derive(Debug, Default)]
pub struct Splitter {
    buf: Vec<u8>,
}

impl Splitter {
    /// Adds received bytes; returns the frames (and bad frames) now complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Incoming> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            match frame::parse(&self.buf) {
                Parsed::Frame { skipped, consumed, .. } => {
                    out.push(Incoming::Request(self.buf[skipped..consumed].to_vec()));
                    self.buf.drain(..consumed);
                }
                Parsed::Incomplete { skipped, .. } => {
                    self.buf.drain(..skipped);
                    return out;
                }
                Parsed::Invalid { error, skipped, consumed } => {
                    // A bad CRC: the whole frame is dropped (its length is known); a bad
                    // LEN: resynchronise after the B6.
                    let drop = match error {
                        FrameError::BadCrc { .. } => {
                            let len = usize::from(u16::from_be_bytes([self.buf[skipped + 2], self.buf[skipped + 3]]));
                            skipped + 6 + len
                        }
                        _ => consumed,
                    };
                    out.push(Incoming::Bad(error));
                    self.buf.drain(..drop.min(self.buf.len()));
                }
            }
        }
    }
}

/// What to do after answering.
enum After {
    Continue,
    Close,
}

fn corrupt(mut bytes: Vec<u8>, fault: &Fault) -> Vec<u8> {
    let i = fault.byte.unwrap_or(bytes.len().saturating_sub(1)).min(bytes.len().saturating_sub(1));
    match fault.action {
        FaultAction::Corrupt if !bytes.is_empty() => bytes[i] ^= 0xFF,
        FaultAction::Drop if !bytes.is_empty() => {
            bytes.remove(i);
        }
        _ => {}
    }
    bytes
}

/// Answers one incoming frame on `out`, with the scenario's faults and timing.
fn serve_one(
    reg: &VirtualRegister,
    faults: &Faults,
    incoming: Incoming,
    out: &mut impl Write,
) -> std::io::Result<After> {
    let request = match incoming {
        Incoming::Request(r) => r,
        Incoming::Bad(e) => {
            tracing::debug!("bad frame: {e}");
            out.write_all(&super::register::error_frame(crate::protocol::err::BAD_FRAME))?;
            out.flush()?;
            return Ok(After::Continue);
        }
    };
    let command = request.get(4).copied().unwrap_or(0);
    let fault = faults.take(command);
    if let Some(f) = &fault {
        tracing::info!("fault for command {command:#04X}: {:?}", f.action);
        if f.action == FaultAction::CloseBefore {
            return Ok(After::Close);
        }
    }
    let reply = reg.exchange_timed(&request);
    if let Some(f) = &fault {
        match f.action {
            FaultAction::CloseAfter => return Ok(After::Close),
            FaultAction::Delay => std::thread::sleep(Duration::from_millis(f.delay_ms)),
            _ => {}
        }
    }
    if !reply.delay.is_zero() {
        std::thread::sleep(reply.delay);
    }
    let bytes = match &fault {
        Some(f) => corrupt(reply.bytes, f),
        None => reply.bytes,
    };
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(After::Continue)
}

/// Serves one TCP connection until the peer closes it (any number of commands).
pub fn serve_connection(reg: &VirtualRegister, faults: &Faults, mut stream: TcpStream) -> std::io::Result<()> {
    let mut split = Splitter::default();
    let mut buf = [0u8; 2048];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        for incoming in split.feed(&buf[..n]) {
            if let After::Close = serve_one(reg, faults, incoming, &mut stream)? {
                let _ = stream.shutdown(std::net::Shutdown::Both);
                return Ok(());
            }
        }
    }
}

/// How often the servers look at their stop flag while idle.
const STOP_POLL: Duration = Duration::from_millis(100);

/// Serves TCP until `stop` is set (checked between connections; a connection per thread).
pub fn serve_tcp(
    listener: TcpListener,
    reg: Arc<VirtualRegister>,
    faults: Arc<Faults>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<()> {
    // Waits for the next connection without sleeping through it (a fixed sleep here was an idle
    // gap of up to 10 ms before every command of a per-command connection): mio's poll (epoll,
    // kqueue, IOCP), so the same code serves on Unix and Windows.
    listener.set_nonblocking(true)?;
    let mut listener = mio::net::TcpListener::from_std(listener);
    let mut poll = mio::Poll::new()?;
    poll.registry().register(&mut listener, mio::Token(0), mio::Interest::READABLE)?;
    let mut events = mio::Events::with_capacity(4);
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, peer)) => {
                let stream = TcpStream::from(stream);
                stream.set_nonblocking(false)?;
                let _ = stream.set_nodelay(true);
                tracing::debug!("connection from {peer}");
                let (reg, faults) = (reg.clone(), faults.clone());
                std::thread::spawn(move || {
                    if let Err(e) = serve_connection(&reg, &faults, stream) {
                        tracing::debug!("connection from {peer}: {e}");
                    }
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => match poll.poll(&mut events, Some(STOP_POLL)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            },
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A pseudo-terminal the register answers on: hosts open [`Pty::path`] like a serial port.
/// Unix only: on Windows [`Pty::open`] fails with
/// [`NOT_AVAILABLE`](crate::transport::pty::NOT_AVAILABLE).
pub struct Pty {
    pty: crate::transport::pty::RawPty,
}

impl std::fmt::Debug for Pty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pty").field("path", &self.pty.path()).finish()
    }
}

impl Pty {
    /// Opens a new pseudo-terminal pair in raw mode (nix's safe `posix_openpt`; no unsafe here).
    pub fn open() -> std::io::Result<Pty> {
        Ok(Pty { pty: crate::transport::pty::RawPty::open()? })
    }

    /// The terminal's path (e.g. /dev/pts/5).
    pub fn path(&self) -> &str {
        self.pty.path()
    }

    /// Serves until `stop` is set.
    #[cfg(not(unix))]
    pub fn serve(self, _: Arc<VirtualRegister>, _: Arc<Faults>, _: Arc<AtomicBool>) -> std::io::Result<()> {
        match self.pty {}
    }

    /// Serves until `stop` is set.
    #[cfg(unix)]
    pub fn serve(
        mut self,
        reg: Arc<VirtualRegister>,
        faults: Arc<Faults>,
        stop: Arc<AtomicBool>,
    ) -> std::io::Result<()> {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        use std::os::fd::AsFd;
        let mut split = Splitter::default();
        let mut buf = [0u8; 2048];
        while !stop.load(Ordering::Relaxed) {
            let ready = {
                let mut fds = [PollFd::new(self.pty.master.as_fd(), PollFlags::POLLIN)];
                poll(&mut fds, PollTimeout::from(100u16))?
            };
            if ready == 0 {
                continue;
            }
            let n = match self.pty.master.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            for incoming in split.feed(&buf[..n]) {
                // A serial line cannot be "closed": the fault drops the answer instead.
                if let After::Close = serve_one(&reg, &faults, incoming, &mut self.pty.master)? {
                    tracing::info!("fault: answer dropped on the serial line");
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::cmd;

    fn frame(code: u8, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        frame::encode(code, data, &mut v).unwrap();
        v
    }

    #[test]
    fn splitter_frames_garbage_and_bad_crc() {
        let mut s = Splitter::default();
        let a = frame(cmd::REGISTER_STATUS, &[]);
        let b = frame(cmd::FIND_DOCUMENT, &[1, 0, 0, 0]);
        let mut bad = frame(cmd::SHIFT_PARAMS, &[]);
        *bad.last_mut().unwrap() ^= 1;
        let mut stream = vec![0x00, 0x11];
        stream.extend_from_slice(&a);
        stream.extend_from_slice(&bad);
        stream.extend_from_slice(&b[..3]);
        let got = s.feed(&stream);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], Incoming::Request(a));
        assert!(matches!(got[1], Incoming::Bad(FrameError::BadCrc { .. })));
        assert_eq!(s.feed(&b[3..]), vec![Incoming::Request(b)]);
    }

    #[test]
    fn faults_count_down() {
        let f = Faults::new(&[Fault {
            command: cmd::FORM_RECEIPT,
            action: FaultAction::Corrupt,
            times: 2,
            delay_ms: 0,
            byte: None,
        }]);
        assert!(f.take(cmd::BEGIN_RECEIPT).is_none());
        assert!(f.take(cmd::FORM_RECEIPT).is_some());
        assert!(f.take(cmd::FORM_RECEIPT).is_some());
        assert!(f.take(cmd::FORM_RECEIPT).is_none());
        let fault = Fault { command: 1, action: FaultAction::Drop, times: 0, delay_ms: 0, byte: Some(0) };
        assert_eq!(corrupt(vec![1, 2, 3], &fault), vec![2, 3]);
        let fault = Fault { action: FaultAction::Corrupt, byte: None, ..fault };
        assert_eq!(corrupt(vec![1, 2, 3], &fault), vec![1, 2, 0xFC]);
    }
}
