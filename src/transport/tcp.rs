//! TCP: the register is the server. The documented exchange is one command per connection
//! (connect, send, read the response, close); a persistent connection is an option.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::{read_response_blocking, trace_bytes, Direction, ExchangeError, LinkError, Transport};
use super::{TcpMode, CONNECT_TIMEOUT};
use crate::protocol::Frame;

/// A register reached over TCP (blocking).
#[derive(Debug)]
pub struct TcpTransport {
    host: String,
    port: u16,
    mode: TcpMode,
    peer: String,
    conn: Option<TcpStream>,
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
}

impl TcpTransport {
    /// A transport to `host:port`; nothing is connected until the first exchange.
    pub fn new(host: impl Into<String>, port: u16, mode: TcpMode) -> Self {
        let host = host.into();
        let peer = if host.contains(':') { format!("tcp://[{host}]:{port}") } else { format!("tcp://{host}:{port}") };
        Self { host, port, mode, peer, conn: None, connect_timeout: CONNECT_TIMEOUT }
    }

    /// The connection mode.
    pub fn mode(&self) -> TcpMode {
        self.mode
    }

    fn connect(&self, timeout: Duration) -> Result<TcpStream, LinkError> {
        let fail = |source| LinkError::Connect { peer: self.peer.clone(), source };
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port).to_socket_addrs().map_err(fail)?.collect();
        let mut last = std::io::Error::new(ErrorKind::NotFound, "the host name resolves to no address");
        for a in addrs {
            match TcpStream::connect_timeout(&a, timeout.min(self.connect_timeout)) {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    tracing::debug!(peer = %self.peer, addr = %a, "connected");
                    return Ok(s);
                }
                Err(e) => last = e,
            }
        }
        Err(fail(last))
    }

    /// A kept connection that is still open, with any stale input dropped.
    fn reuse(&mut self) -> Option<TcpStream> {
        let s = self.conn.take()?;
        if s.set_nonblocking(true).is_err() {
            return None;
        }
        let mut buf = [0u8; 256];
        let alive = loop {
            match (&s).read(&mut buf) {
                Ok(0) => break false,
                Ok(n) => tracing::debug!(peer = %self.peer, bytes = n, "stale bytes dropped before the request"),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break false,
            }
        };
        (alive && s.set_nonblocking(false).is_ok()).then_some(s)
    }
}

impl Transport for TcpTransport {
    fn exchange(&mut self, request: &[u8], timeout: Duration) -> Result<crate::protocol::Frame, ExchangeError> {
        let mut stream = match self.mode {
            TcpMode::Persistent => match self.reuse() {
                Some(s) => s,
                None => self.connect(timeout)?,
            },
            TcpMode::PerCommand => self.connect(timeout)?,
        };
        let started = Instant::now();
        trace_bytes(&self.peer, Direction::Tx, request, Duration::ZERO);
        if let Err(source) = stream.write_all(request).and_then(|_| stream.flush()) {
            // A write error on a fresh connection may still have delivered part of the bytes.
            return Err(LinkError::Io { peer: self.peer.clone(), sent: true, source }.into());
        }
        let result: Result<Frame, ExchangeError> = read_response_blocking(&self.peer, started, timeout, |buf, wait| {
            stream.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
            stream.read(buf)
        });
        match (self.mode, &result) {
            (TcpMode::Persistent, Ok(_)) => self.conn = Some(stream),
            _ => {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
        result
    }

    fn reset(&mut self) {
        if let Some(s) = self.conn.take() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn peer(&self) -> &str {
        &self.peer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn frame(code: u8, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        crate::protocol::frame::encode(code, data, &mut v).unwrap();
        v
    }

    /// A listener that answers each connection with `answer(i)` after reading a whole request.
    fn serve(answers: Vec<Vec<Vec<u8>>>) -> (u16, std::thread::JoinHandle<Vec<Vec<u8>>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for pieces in answers {
                let (mut s, _) = l.accept().unwrap();
                let mut dec = crate::protocol::FrameDecoder::new();
                let mut buf = bytes::BytesMut::new();
                let mut b = [0u8; 1100];
                let req = loop {
                    if let Some(Ok(f)) = dec.decode(&mut buf) {
                        break f;
                    }
                    let n = s.read(&mut b).unwrap();
                    buf.extend_from_slice(&b[..n]);
                };
                seen.push(req.to_bytes().unwrap());
                for p in pieces {
                    s.write_all(&p).unwrap();
                    s.flush().unwrap();
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            seen
        });
        (port, h)
    }

    #[test]
    fn per_command_connections_and_pieces() {
        let resp = frame(0, &[1, 2, 3, 4]);
        let (port, h) = serve(vec![
            vec![resp[..1].to_vec(), resp[1..2].to_vec(), resp[2..].to_vec()],
            vec![b"\x00\xFFjunk".to_vec(), resp.clone()],
        ]);
        let mut t = TcpTransport::new("127.0.0.1", port, TcpMode::PerCommand);
        let req = frame(0x01, &[]);
        let f = t.exchange(&req, Duration::from_secs(10)).unwrap();
        assert_eq!(&f.data[..], &[1, 2, 3, 4]);
        let f = t.exchange(&req, Duration::from_secs(10)).unwrap();
        assert_eq!((f.skipped, &f.data[..]), (6, &[1u8, 2, 3, 4][..]));
        assert_eq!(h.join().unwrap(), vec![req.clone(), req]);
    }

    #[test]
    fn closed_before_response_and_corrupted_response() {
        let mut bad = frame(0, &[9, 9]);
        bad[6] ^= 0x55;
        let (port, h) = serve(vec![vec![frame(0, &[1])[..4].to_vec()], vec![bad]]);
        let mut t = TcpTransport::new("127.0.0.1", port, TcpMode::PerCommand);
        let req = frame(0x20, &[]);
        let e = t.exchange(&req, Duration::from_secs(10)).unwrap_err();
        assert!(matches!(e, ExchangeError::Link(LinkError::Closed { received: 4, .. })), "{e:?}");
        assert!(!e.request_not_sent());
        let e = t.exchange(&req, Duration::from_secs(10)).unwrap_err();
        assert!(matches!(e, ExchangeError::BadFrame(_)), "{e:?}");
        h.join().unwrap();
    }

    #[test]
    fn refused_connection_means_not_sent() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let mut t = TcpTransport::new("127.0.0.1", port, TcpMode::PerCommand);
        let e = t.exchange(&frame(1, &[]), Duration::from_secs(2)).unwrap_err();
        assert!(e.request_not_sent(), "{e:?}");
    }

    #[test]
    fn timeout_reports_partial_bytes() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut b = [0u8; 16];
            let _ = s.read(&mut b);
            s.write_all(&[0xB6, 0x29]).unwrap();
            // Hold the connection open until the client gives up.
            let _ = s.read(&mut b);
        });
        let mut t = TcpTransport::new("127.0.0.1", port, TcpMode::PerCommand);
        let e = t.exchange(&frame(1, &[]), Duration::from_millis(200)).unwrap_err();
        assert!(matches!(e, ExchangeError::Link(LinkError::Timeout { received: 2, .. })), "{e:?}");
        h.join().unwrap();
    }

    #[test]
    fn persistent_reuses_one_connection() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut n = 0;
            let mut b = [0u8; 1100];
            let mut dec = crate::protocol::FrameDecoder::new();
            let mut buf = bytes::BytesMut::new();
            while n < 3 {
                match dec.decode(&mut buf) {
                    Some(Ok(f)) => {
                        s.write_all(&frame(0, &[f.code])).unwrap();
                        n += 1;
                    }
                    _ => {
                        let k = s.read(&mut b).unwrap();
                        buf.extend_from_slice(&b[..k]);
                    }
                }
            }
        });
        let mut t = TcpTransport::new("127.0.0.1", port, TcpMode::Persistent);
        for code in [1u8, 8, 0x20] {
            let f = t.exchange(&frame(code, &[]), Duration::from_secs(10)).unwrap();
            assert_eq!(&f.data[..], &[code]);
        }
        h.join().unwrap();
    }
}
