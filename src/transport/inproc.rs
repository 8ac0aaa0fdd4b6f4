//! The in-process transport: request bytes go straight to a register implementation in the
//! same process (the virtual register), and its answer bytes go through the same codec as
//! bytes from a wire, so garbage, pieces, corruption and an empty answer (a closed connection)
//! are handled exactly as on a real line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{
    trace_bytes, AsyncTransport, Direction, ExchangeError, ExchangeFuture, ReadStep, ResponseReader, Transport,
};
use crate::protocol::Frame;

/// Something that answers request bytes with response bytes, like a register on a line.
/// An empty answer means the connection closed without a response.
pub trait Responder: Send + Sync {
    /// The bytes the register sends back for `request` (one encoded request frame).
    fn respond(&self, request: &[u8]) -> Vec<u8>;
}

impl<F: Fn(&[u8]) -> Vec<u8> + Send + Sync> Responder for F {
    fn respond(&self, request: &[u8]) -> Vec<u8> {
        self(request)
    }
}

/// A transport to a [`Responder`] in this process (sync and async).
pub struct InProcTransport {
    responder: Arc<dyn Responder>,
    peer: String,
}

impl std::fmt::Debug for InProcTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcTransport").field("peer", &self.peer).finish()
    }
}

impl InProcTransport {
    /// A transport to `responder`, named `emulator` in messages.
    pub fn new(responder: Arc<dyn Responder>) -> Self {
        Self { responder, peer: "emulator".into() }
    }

    /// The same, with another name for messages.
    pub fn named(responder: Arc<dyn Responder>, peer: impl Into<String>) -> Self {
        Self { responder, peer: peer.into() }
    }

    fn run(&self, request: &[u8], timeout: Duration) -> Result<Frame, ExchangeError> {
        let started = Instant::now();
        trace_bytes(&self.peer, Direction::Tx, request, Duration::ZERO);
        let answer = self.responder.respond(request);
        let mut r = ResponseReader::new(started, timeout.max(super::BAD_FRAME_GRACE));
        if !answer.is_empty() {
            trace_bytes(&self.peer, Direction::Rx, &answer, r.elapsed());
            r.push(&answer);
        }
        // Everything the responder will ever send has arrived: whatever is not a frame now
        // never will be.
        match r.step(started) {
            ReadStep::Done(f) => Ok(f),
            ReadStep::Corrupt(e) => Err(ExchangeError::BadFrame(e)),
            ReadStep::Read(_) | ReadStep::TimedOut => Err(r.closed_error(&self.peer)),
        }
    }
}

impl Transport for InProcTransport {
    fn exchange(&mut self, request: &[u8], timeout: Duration) -> Result<Frame, ExchangeError> {
        self.run(request, timeout)
    }

    fn peer(&self) -> &str {
        &self.peer
    }
}

impl AsyncTransport for InProcTransport {
    fn exchange<'a>(&'a mut self, request: &'a [u8], timeout: Duration) -> ExchangeFuture<'a> {
        let r = self.run(request, timeout);
        Box::pin(std::future::ready(r))
    }

    fn peer(&self) -> &str {
        &self.peer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::LinkError;

    fn frame(code: u8, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        crate::protocol::frame::encode(code, data, &mut v).unwrap();
        v
    }

    #[test]
    fn answers_garbage_corruption_and_silence() {
        let echo = |req: &[u8]| {
            let code = req[4];
            match code {
                1 => [b"junk".as_slice(), &frame(0, &[code])].concat(),
                2 => {
                    let mut f = frame(0, &[code]);
                    f[5] ^= 1;
                    f
                }
                3 => frame(0, &[code])[..5].to_vec(),
                _ => Vec::new(),
            }
        };
        let mut t = InProcTransport::new(Arc::new(echo));
        let f = Transport::exchange(&mut t, &frame(1, &[]), Duration::from_secs(1)).unwrap();
        assert_eq!((f.skipped, &f.data[..]), (4, &[1u8][..]));
        assert!(matches!(
            Transport::exchange(&mut t, &frame(2, &[]), Duration::from_secs(1)),
            Err(ExchangeError::BadFrame(_))
        ));
        assert!(matches!(
            Transport::exchange(&mut t, &frame(3, &[]), Duration::from_secs(1)),
            Err(ExchangeError::Link(LinkError::Closed { received: 5, .. }))
        ));
        assert!(matches!(
            Transport::exchange(&mut t, &frame(4, &[]), Duration::from_secs(1)),
            Err(ExchangeError::Link(LinkError::Closed { received: 0, .. }))
        ));
    }
}
