//! Transports: how request bytes reach the register and one response frame comes back.
//!
//! A transport is a thin shell around the sans-IO codec ([`FrameDecoder`]): it writes one
//! encoded request, then reads until one whole response frame has arrived (in as many pieces
//! as the line delivers it), skipping garbage, or until the deadline. It never retries and never
//! interprets the response: retries, reconciliation and the session state live in
//! [`crate::driver`].
//!
//! | transport | sync | async |
//! |---|---|---|
//! | serial line (RS-232 / USB), exclusive lock | [`SerialTransport`] | [`AsyncSerialTransport`] |
//! | TCP, one connection per command or persistent | [`TcpTransport`] | [`AsyncTcpTransport`] |
//! | in-process register (the emulator) | [`InProcTransport`] | [`InProcTransport`] |
//!
//! [`DeviceUri`] names a device (`tcp://HOST:PORT`, `serial:///dev/ttyUSB0?baud=115200`,
//! `COM3`, `emulator`); [`crate::device::open`] and [`crate::device::open_async`] turn one into a
//! transport (the virtual register of an `emulator` URI lives above this layer).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use bytes::BytesMut;

use crate::protocol::frame::{Frame, FrameDecoder, FrameError};

mod inproc;
mod line;
// On every system: where there is no pseudo-terminal (Windows) it says so (pty::NOT_AVAILABLE).
#[cfg(any(feature = "serial", feature = "emulator"))]
pub mod pty;
#[cfg(feature = "serial")]
pub mod serial;
#[cfg(feature = "tcp")]
pub mod tcp;
#[cfg(feature = "tokio")]
mod tokio;
pub mod uri;

#[cfg(all(feature = "tokio", feature = "serial"))]
pub use self::tokio::AsyncSerialTransport;
#[cfg(all(feature = "tokio", feature = "tcp"))]
pub use self::tokio::AsyncTcpTransport;
pub use inproc::{InProcTransport, Responder};
pub use line::{Flow, Parity, SerialConfig, TcpMode, CONNECT_TIMEOUT};
#[cfg(feature = "serial")]
pub use serial::SerialTransport;
#[cfg(feature = "tcp")]
pub use tcp::TcpTransport;
pub use uri::{DeviceUri, UriError};

fn frame_magic() -> &'static [u8; 2] {
    &crate::protocol::frame::MAGIC
}

/// How long to keep reading after a response frame failed its check (bad CRC or LEN) before
/// calling the response corrupted: a real frame may still follow a false start in the garbage.
/// A response that stops this long in the middle of a frame (fewer bytes than its LEN) is
/// corrupted too: a register sends a frame whole, and a damaged LEN waits for bytes that never
/// come.
pub const BAD_FRAME_GRACE: Duration = Duration::from_millis(300);

/// The link failed: nothing about the register's state can be concluded from it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The device could not be reached (TCP connect, opening the serial port): the request was
    /// certainly not sent.
    #[error("cannot reach {peer}: {source}")]
    Connect {
        /// The device.
        peer: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The serial port is locked by another program (or another connection of this one).
    #[error("{peer} is in use by another program: {source}")]
    Busy {
        /// The device.
        peer: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Reading or writing failed after the connection was made.
    #[error("i/o error with {peer}: {source}")]
    Io {
        /// The device.
        peer: String,
        /// Whether any byte of the request had been written.
        sent: bool,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No whole response arrived in time.
    #[error("{}", timeout_text(peer, *waited, *attempts, *received))]
    Timeout {
        /// The device.
        peer: String,
        /// How long the driver waited (every sending of the command together).
        waited: Duration,
        /// How many times the command was sent (1 for one exchange).
        attempts: u32,
        /// Bytes received before the deadline (a partial frame or garbage).
        received: usize,
    },
    /// The device closed the connection before a whole response arrived.
    #[error("{peer} closed the connection before a whole response ({received} bytes received)")]
    Closed {
        /// The device.
        peer: String,
        /// Bytes received before the close.
        received: usize,
    },
    /// The peer answered, but nothing it sent began a B6 29 frame: it is another kind of
    /// server or device (an HTTP server, a printer, a modem), not a fiscal register.
    #[error("{peer} is not a fiscal register (it answered {answered})")]
    NotARegister {
        /// The device.
        peer: String,
        /// The start of what it sent, as text where it is text (`"HTTP/1.1 400 Bad Request"`),
        /// else in hex.
        answered: String,
    },
}

/// The first bytes a peer sent, for [`LinkError::NotARegister`]: quoted text when they are
/// printable, hex otherwise.
pub fn answered_text(bytes: &[u8]) -> String {
    let printable =
        bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ' || *b == b'\r' || *b == b'\n' || *b == b'\t');
    if printable && !bytes.is_empty() {
        let text = String::from_utf8_lossy(bytes);
        let line = text.lines().next().unwrap_or("").trim();
        format!("{line:?}")
    } else {
        let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
        format!("the bytes {}", hex.join(" "))
    }
}

fn timeout_text(peer: &str, waited: Duration, attempts: u32, received: usize) -> String {
    let secs = waited.as_secs_f64();
    if attempts <= 1 {
        format!("no response from {peer} within {secs:.1} s ({received} bytes received)")
    } else {
        format!("no response from {peer}: kkt waited {secs:.1} s in all and asked {attempts} times ({received} bytes received the last time)")
    }
}

impl LinkError {
    /// True when the request certainly did not reach the device (so the command was not
    /// executed and may be sent again whatever it is).
    pub fn request_not_sent(&self) -> bool {
        match self {
            LinkError::Connect { .. } | LinkError::Busy { .. } => true,
            LinkError::Io { sent, .. } => !sent,
            LinkError::Timeout { .. } | LinkError::Closed { .. } | LinkError::NotARegister { .. } => false,
        }
    }
}

/// Why an exchange gave no response frame.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    /// The link failed.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// Bytes arrived but did not make a valid frame (bad CRC or LEN), and no valid frame followed.
    #[error("corrupted response: {0}")]
    BadFrame(#[source] FrameError),
}

impl ExchangeError {
    /// True when the request certainly did not reach the device.
    pub fn request_not_sent(&self) -> bool {
        matches!(self, ExchangeError::Link(l) if l.request_not_sent())
    }
}

/// A blocking transport: one request out, one response frame back.
pub trait Transport: Send {
    /// Sends one encoded request frame and returns the response frame that follows, waiting at
    /// most `timeout` for all of it.
    fn exchange(&mut self, request: &[u8], timeout: Duration) -> Result<Frame, ExchangeError>;

    /// Forgets any connection state after a doubtful exchange (closes a persistent connection,
    /// drops unread input), so the next exchange starts clean.
    fn reset(&mut self) {}

    /// The device, for messages (`tcp://10.0.0.5:7778`, `/dev/ttyUSB0`, `emulator`).
    fn peer(&self) -> &str;
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn exchange(&mut self, request: &[u8], timeout: Duration) -> Result<Frame, ExchangeError> {
        (**self).exchange(request, timeout)
    }
    fn reset(&mut self) {
        (**self).reset()
    }
    fn peer(&self) -> &str {
        (**self).peer()
    }
}

/// The future of an [`AsyncTransport::exchange`].
pub type ExchangeFuture<'a> = Pin<Box<dyn Future<Output = Result<Frame, ExchangeError>> + Send + 'a>>;

/// An async transport (tokio): the same shape as [`Transport`].
pub trait AsyncTransport: Send {
    /// Sends one encoded request frame and returns the response frame that follows, waiting at
    /// most `timeout` for all of it.
    fn exchange<'a>(&'a mut self, request: &'a [u8], timeout: Duration) -> ExchangeFuture<'a>;

    /// Forgets any connection state after a doubtful exchange.
    fn reset(&mut self) {}

    /// The device, for messages.
    fn peer(&self) -> &str;
}

impl<T: AsyncTransport + ?Sized> AsyncTransport for Box<T> {
    fn exchange<'a>(&'a mut self, request: &'a [u8], timeout: Duration) -> ExchangeFuture<'a> {
        (**self).exchange(request, timeout)
    }
    fn reset(&mut self) {
        (**self).reset()
    }
    fn peer(&self) -> &str {
        (**self).peer()
    }
}

/// Which way bytes went, for the TRACE log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Host to device.
    Tx,
    /// Device to host.
    Rx,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Tx => "tx",
            Direction::Rx => "rx",
        })
    }
}

/// The bytes as they may be logged: in a frame carrying TLVs (a request such as 0x98, or an
/// answer such as 0x3A's document), the values of the customer's tags (contact, name, INN,
/// birth date, citizenship, identity document, address) are replaced by `*`, inside STLVs too.
#[doc(hidden)]
pub fn redact(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    use crate::protocol::frame::{parse, Parsed};
    let Parsed::Frame { frame, skipped, .. } = parse(bytes) else {
        return bytes.into();
    };
    let mut out: Option<Vec<u8>> = None;
    mask_personal(frame.data, skipped + 5, bytes, &mut out, 0);
    match out {
        Some(v) => v.into(),
        None => bytes.into(),
    }
}

/// Masks the personal tags' values among the TLVs `data` (at `base` in `bytes`) into `out`.
fn mask_personal(data: &[u8], base: usize, bytes: &[u8], out: &mut Option<Vec<u8>>, depth: u8) {
    let mut it = crate::protocol::tlv::iter(data);
    while let Some(Ok(t)) = it.next() {
        let end = base + it.offset();
        let start = end - t.value.len();
        match crate::protocol::tag_info(t.tag) {
            Some(i) if i.personal => out.get_or_insert_with(|| bytes.to_vec())[start..end].fill(b'*'),
            Some(i) if i.ty == crate::protocol::TagType::Stlv && depth < 4 => {
                mask_personal(t.value, start, bytes, out, depth + 1)
            }
            _ => {}
        }
    }
}

/// Logs bytes at TRACE: direction, elapsed time since the request was sent, hex.
pub(crate) fn trace_bytes(peer: &str, dir: Direction, bytes: &[u8], elapsed: Duration) {
    if tracing::enabled!(tracing::Level::TRACE) {
        let shown = redact(bytes);
        tracing::trace!(
            target: "kkt::frames",
            peer,
            dir = %dir,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            len = bytes.len(),
            hex = %hex::encode_upper(&*shown),
            "frame bytes"
        );
    }
}

/// The receiving half of an exchange: feeds the bytes that arrive to the codec and decides
/// when a response is complete, corrupted or late. Shared by every transport.
#[derive(Debug)]
pub(crate) struct ResponseReader {
    buf: BytesMut,
    decoder: FrameDecoder,
    started: Instant,
    deadline: Instant,
    received: usize,
    bad: Option<(FrameError, Instant)>,
    grace: Duration,
    /// When bytes last arrived.
    last_rx: Option<Instant>,
    /// The first bytes received, for [`LinkError::NotARegister`] (no allocation).
    first: [u8; FIRST_KEPT],
}

/// How many of the first bytes a reader keeps to say what a peer that is no register sent.
const FIRST_KEPT: usize = 48;

/// What the reader wants next.
#[derive(Debug)]
pub(crate) enum ReadStep {
    /// Read more bytes, waiting at most this long.
    Read(Duration),
    /// A whole response frame.
    Done(Frame),
    /// The response was corrupted and nothing valid followed within the grace time.
    Corrupt(FrameError),
    /// The deadline passed (what came is in the reader's `received`).
    TimedOut,
}

impl ResponseReader {
    /// A reader for a response due within `timeout` of `started`.
    pub(crate) fn new(started: Instant, timeout: Duration) -> Self {
        Self {
            buf: BytesMut::with_capacity(64),
            decoder: FrameDecoder::new(),
            started,
            deadline: started + timeout,
            received: 0,
            bad: None,
            grace: BAD_FRAME_GRACE,
            last_rx: None,
            first: [0; FIRST_KEPT],
        }
    }

    /// Time since the request was sent.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// How long the reader waited in all.
    pub(crate) fn waited(&self) -> Duration {
        self.deadline.saturating_duration_since(self.started)
    }

    /// Adds bytes that arrived (now).
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.push_at(bytes, Instant::now());
    }

    /// Adds bytes that arrived at `at`.
    pub(crate) fn push_at(&mut self, bytes: &[u8], at: Instant) {
        if self.received < FIRST_KEPT {
            let n = bytes.len().min(FIRST_KEPT - self.received);
            self.first[self.received..self.received + n].copy_from_slice(&bytes[..n]);
        }
        self.received += bytes.len();
        self.buf.extend_from_slice(bytes);
        if !bytes.is_empty() {
            self.last_rx = Some(at);
        }
    }

    /// When bytes came but none began a frame (B6 29): the peer is no register.
    fn not_a_register(&self, peer: &str) -> Option<LinkError> {
        let seen_start = self.first[..self.received.min(FIRST_KEPT)].windows(2).any(|w| w == frame_magic())
            || self.buf.windows(2).any(|w| w == frame_magic())
            || self.buf.first() == Some(&frame_magic()[0]);
        (self.received > 0 && self.bad.is_none() && !seen_start).then(|| LinkError::NotARegister {
            peer: peer.to_string(),
            answered: answered_text(&self.first[..self.received.min(FIRST_KEPT)]),
        })
    }

    /// The error for a connection the device closed now: a corrupted response if one was seen.
    pub(crate) fn closed_error(&self, peer: &str) -> ExchangeError {
        match self.bad {
            Some((e, _)) => ExchangeError::BadFrame(e),
            None => self
                .not_a_register(peer)
                .unwrap_or(LinkError::Closed { peer: peer.to_string(), received: self.received })
                .into(),
        }
    }

    /// The error for a response that did not come in time (what came is in `received`).
    pub(crate) fn timeout_error(&self, peer: &str) -> ExchangeError {
        self.not_a_register(peer)
            .unwrap_or(LinkError::Timeout {
                peer: peer.to_string(),
                waited: self.waited(),
                attempts: 1,
                received: self.received,
            })
            .into()
    }

    /// What to do next, at time `now`.
    pub(crate) fn step(&mut self, now: Instant) -> ReadStep {
        loop {
            match self.decoder.decode(&mut self.buf) {
                Some(Ok(frame)) => {
                    if frame.skipped > 0 {
                        tracing::debug!(skipped = frame.skipped, "garbage before the response skipped");
                    }
                    return ReadStep::Done(frame);
                }
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "bad frame in the response; resynchronising");
                    if self.bad.is_none() {
                        self.bad = Some((e, now));
                    }
                }
                None => break,
            }
        }
        if let Some((e, at)) = self.bad {
            let until = (at + self.grace).min(self.deadline);
            return match until.checked_duration_since(now) {
                Some(d) if !d.is_zero() => ReadStep::Read(d),
                _ => ReadStep::Corrupt(e),
            };
        }
        let left = match self.deadline.checked_duration_since(now) {
            Some(d) if !d.is_zero() => d,
            _ => return ReadStep::TimedOut,
        };
        // A frame begun and stalled (its LEN announced more than will come), or bytes that
        // were all garbage but began as a register's frame does (one of B6 29 in its place: a
        // damaged start of frame) and then silence: a register sends its answer whole, so
        // either is a corrupted answer, not a silent register. Bytes that never looked like a
        // frame are waited for until the deadline (then: not a register).
        let magic = frame_magic();
        let kept = &self.first[..self.received.min(FIRST_KEPT)];
        let damaged_start = kept.first() == Some(&magic[0]) || kept.get(1) == Some(&magic[1]);
        let stalled = match self.decoder.pending_len(&self.buf) {
            Some(need) => Some(need),
            None if self.received > 0 && damaged_start => Some(0),
            None => None,
        };
        if let (Some(need), Some(at)) = (stalled, self.last_rx) {
            let until = at + self.grace;
            return match until.checked_duration_since(now) {
                Some(d) if !d.is_zero() => ReadStep::Read(d.min(left)),
                _ => ReadStep::Corrupt(FrameError::Stalled {
                    have: if need == 0 { self.received } else { self.buf.len() },
                    need,
                }),
            };
        }
        ReadStep::Read(left)
    }
}

/// Reads one response with a blocking `read(buf, wait)` that returns `Ok(0)` at end of
/// stream and `ErrorKind::TimedOut`/`WouldBlock` when `wait` passed with nothing.
pub(crate) fn read_response_blocking(
    peer: &str,
    started: Instant,
    timeout: Duration,
    mut read: impl FnMut(&mut [u8], Duration) -> std::io::Result<usize>,
) -> Result<Frame, ExchangeError> {
    use std::io::ErrorKind;
    let mut r = ResponseReader::new(started, timeout);
    let mut chunk = [0u8; 1100];
    loop {
        match r.step(Instant::now()) {
            ReadStep::Read(wait) => match read(&mut chunk, wait) {
                Ok(0) => return Err(r.closed_error(peer)),
                Ok(n) => {
                    trace_bytes(peer, Direction::Rx, &chunk[..n], r.elapsed());
                    r.push(&chunk[..n]);
                }
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
                Err(source) => return Err(LinkError::Io { peer: peer.to_string(), sent: true, source }.into()),
            },
            ReadStep::Done(frame) => return Ok(frame),
            ReadStep::Corrupt(e) => return Err(ExchangeError::BadFrame(e)),
            ReadStep::TimedOut => return Err(r.timeout_error(peer)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(code: u8, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        crate::protocol::frame::encode(code, data, &mut v).unwrap();
        v
    }

    #[test]
    fn reader_takes_pieces_and_skips_garbage() {
        let t0 = Instant::now();
        let mut r = ResponseReader::new(t0, Duration::from_secs(5));
        assert!(matches!(r.step(t0), ReadStep::Read(_)));
        let f = frame(0, &[1, 2, 3]);
        r.push(&[0x00, 0x13]);
        r.push(&f[..2]);
        assert!(matches!(r.step(t0), ReadStep::Read(_)));
        r.push(&f[2..]);
        let ReadStep::Done(got) = r.step(t0) else { panic!() };
        assert_eq!((got.code, &got.data[..], got.skipped), (0, &[1u8, 2, 3][..], 2));
    }

    #[test]
    fn reader_times_out_and_reports_bytes() {
        let t0 = Instant::now();
        let mut r = ResponseReader::new(t0, Duration::from_secs(5));
        r.push(&[0xB6, 0x29, 0x00]);
        assert!(matches!(r.step(t0 + Duration::from_secs(5)), ReadStep::TimedOut));
        assert_eq!(r.received, 3);
    }

    #[test]
    fn corrupt_frame_waits_a_grace_then_fails_unless_a_good_one_follows() {
        let t0 = Instant::now();
        let mut bad = frame(0, &[7]);
        bad[5] ^= 0xFF;
        let mut r = ResponseReader::new(t0, Duration::from_secs(5));
        r.push(&bad);
        let ReadStep::Read(d) = r.step(t0) else { panic!() };
        assert!(d <= BAD_FRAME_GRACE);
        assert!(matches!(r.step(t0 + BAD_FRAME_GRACE), ReadStep::Corrupt(FrameError::BadCrc { .. })));

        let mut r = ResponseReader::new(t0, Duration::from_secs(5));
        r.push(&bad);
        assert!(matches!(r.step(t0), ReadStep::Read(_)));
        r.push(&frame(0, &[8]));
        let ReadStep::Done(got) = r.step(t0 + Duration::from_millis(1)) else { panic!() };
        assert_eq!(&got.data[..], &[8]);
    }

    #[test]
    fn personal_data_is_masked_in_logs() {
        let mut w = crate::protocol::TlvWriter::new();
        w.string(1008, "+79990000000").unwrap().string(1021, "Иванова").unwrap();
        let f = frame(0x98, w.as_bytes());
        let r = redact(&f);
        let s = hex::encode_upper(&*r);
        assert!(!s.contains(&hex::encode_upper("+7999")), "{s}");
        assert!(s.contains("2A2A2A2A2A2A2A2A2A2A2A2A"));
        // The cashier's name (1021) stays.
        assert_eq!(&r[r.len() - 2 - 7..r.len() - 2], &f[f.len() - 2 - 7..f.len() - 2]);
        // An answer carrying a document (0x3A: RESULT 0, then its TLVs) is masked too.
        let mut w = crate::protocol::TlvWriter::new();
        w.string(1008, "+79990000000").unwrap();
        let a = redact(&frame(0, w.as_bytes())).into_owned();
        assert!(!hex::encode_upper(&a).contains(&hex::encode_upper("+7999")));
        // Frames without personal tags are not copied.
        let plain = frame(0x01, &[]);
        assert!(matches!(redact(&plain), std::borrow::Cow::Borrowed(_)));
    }
}
