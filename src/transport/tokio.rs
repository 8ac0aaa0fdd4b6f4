//! Async transports on tokio: TCP and serial (`tokio-serial`), the same behaviour as the
//! blocking ones.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[cfg(feature = "serial")]
use super::serial::open_error;
#[cfg(feature = "serial")]
use super::SerialConfig;
use super::{
    trace_bytes, AsyncTransport, Direction, ExchangeError, ExchangeFuture, LinkError, ReadStep, ResponseReader,
};
use super::{TcpMode, CONNECT_TIMEOUT};
use crate::protocol::Frame;

async fn read_response<R: AsyncRead + Unpin>(
    peer: &str,
    started: Instant,
    timeout: Duration,
    reader: &mut R,
) -> Result<Frame, ExchangeError> {
    let mut r = ResponseReader::new(started, timeout);
    let mut chunk = [0u8; 1100];
    loop {
        match r.step(Instant::now()) {
            ReadStep::Read(wait) => match tokio::time::timeout(wait, reader.read(&mut chunk)).await {
                Err(_) => {}
                Ok(Ok(0)) => return Err(r.closed_error(peer)),
                Ok(Ok(n)) => {
                    trace_bytes(peer, Direction::Rx, &chunk[..n], r.elapsed());
                    r.push(&chunk[..n]);
                }
                Ok(Err(e)) if matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof) => {
                    return Err(r.closed_error(peer))
                }
                Ok(Err(e)) if matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::WouldBlock) => {}
                Ok(Err(source)) => return Err(LinkError::Io { peer: peer.to_string(), sent: true, source }.into()),
            },
            ReadStep::Done(f) => return Ok(f),
            ReadStep::Corrupt(e) => return Err(ExchangeError::BadFrame(e)),
            ReadStep::TimedOut => return Err(r.timeout_error(peer)),
        }
    }
}

#[cfg(feature = "tcp")]
/// A register reached over TCP (tokio).
#[derive(Debug)]
pub struct AsyncTcpTransport {
    host: String,
    port: u16,
    mode: TcpMode,
    peer: String,
    conn: Option<TcpStream>,
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
}

#[cfg(feature = "tcp")]
impl AsyncTcpTransport {
    /// A transport to `host:port`; nothing is connected until the first exchange.
    pub fn new(host: impl Into<String>, port: u16, mode: TcpMode) -> Self {
        let host = host.into();
        let peer = if host.contains(':') { format!("tcp://[{host}]:{port}") } else { format!("tcp://{host}:{port}") };
        Self { host, port, mode, peer, conn: None, connect_timeout: CONNECT_TIMEOUT }
    }

    async fn connect(&self, timeout: Duration) -> Result<TcpStream, LinkError> {
        let fail = |source| LinkError::Connect { peer: self.peer.clone(), source };
        let wait = timeout.min(self.connect_timeout);
        match tokio::time::timeout(wait, TcpStream::connect((self.host.as_str(), self.port))).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                Ok(s)
            }
            Ok(Err(e)) => Err(fail(e)),
            Err(_) => Err(fail(std::io::Error::new(ErrorKind::TimedOut, format!("connect timed out after {wait:?}")))),
        }
    }

    fn reuse(&mut self) -> Option<TcpStream> {
        let s = self.conn.take()?;
        let mut buf = [0u8; 256];
        loop {
            match s.try_read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => tracing::debug!(peer = %self.peer, bytes = n, "stale bytes dropped before the request"),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Some(s),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        }
    }

    async fn run(&mut self, request: &[u8], timeout: Duration) -> Result<Frame, ExchangeError> {
        let mut stream = match self.mode {
            TcpMode::Persistent => match self.reuse() {
                Some(s) => s,
                None => self.connect(timeout).await?,
            },
            TcpMode::PerCommand => self.connect(timeout).await?,
        };
        let started = Instant::now();
        trace_bytes(&self.peer, Direction::Tx, request, Duration::ZERO);
        if let Err(source) = stream.write_all(request).await {
            return Err(LinkError::Io { peer: self.peer.clone(), sent: true, source }.into());
        }
        let result = read_response(&self.peer, started, timeout, &mut stream).await;
        match (self.mode, &result) {
            (TcpMode::Persistent, Ok(_)) => self.conn = Some(stream),
            _ => {
                let _ = stream.shutdown().await;
            }
        }
        result
    }
}

#[cfg(feature = "tcp")]
impl AsyncTransport for AsyncTcpTransport {
    fn exchange<'a>(&'a mut self, request: &'a [u8], timeout: Duration) -> ExchangeFuture<'a> {
        Box::pin(self.run(request, timeout))
    }

    fn reset(&mut self) {
        self.conn = None;
    }

    fn peer(&self) -> &str {
        &self.peer
    }
}

#[cfg(feature = "serial")]
/// A register on a serial line (tokio-serial), opened exclusively.
pub struct AsyncSerialTransport {
    path: String,
    stream: tokio_serial::SerialStream,
}

#[cfg(feature = "serial")]
impl std::fmt::Debug for AsyncSerialTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncSerialTransport").field("path", &self.path).finish()
    }
}

#[cfg(feature = "serial")]
impl AsyncSerialTransport {
    /// Opens and locks `path` with `config`. Needs a tokio runtime with I/O enabled.
    pub fn open(path: &str, config: &SerialConfig) -> Result<Self, LinkError> {
        use tokio_serial::SerialPortBuilderExt;
        #[allow(unused_mut)]
        let mut stream = config.builder(path).open_native_async().map_err(|e| open_error(path, e))?;
        #[cfg(unix)]
        stream.set_exclusive(true).map_err(|e| open_error(path, e))?;
        tracing::debug!(path, baud = config.baud, "serial port opened (exclusive, async)");
        Ok(Self { path: path.to_string(), stream })
    }

    fn drain(&mut self) {
        use tokio_serial::SerialPort;
        let _ = self.stream.clear(tokio_serial::ClearBuffer::Input);
    }
}

#[cfg(feature = "serial")]
impl AsyncTransport for AsyncSerialTransport {
    fn exchange<'a>(&'a mut self, request: &'a [u8], timeout: Duration) -> ExchangeFuture<'a> {
        Box::pin(async move {
            self.drain();
            let started = Instant::now();
            trace_bytes(&self.path, Direction::Tx, request, Duration::ZERO);
            if let Err(source) = self.stream.write_all(request).await {
                return Err(LinkError::Io { peer: self.path.clone(), sent: true, source }.into());
            }
            read_response(&self.path, started, timeout, &mut self.stream).await
        })
    }

    fn reset(&mut self) {
        self.drain();
    }

    fn peer(&self) -> &str {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    fn frame(code: u8, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        crate::protocol::frame::encode(code, data, &mut v).unwrap();
        v
    }

    #[tokio::test]
    async fn tcp_pieces_garbage_and_close() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            for i in 0..2 {
                let (mut s, _) = l.accept().await.unwrap();
                let mut b = [0u8; 64];
                let _ = s.read(&mut b).await.unwrap();
                let f = frame(0, &[i]);
                if i == 0 {
                    s.write_all(b"\xFF\x00").await.unwrap();
                    for byte in f {
                        s.write_all(&[byte]).await.unwrap();
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                } else {
                    s.write_all(&f[..3]).await.unwrap();
                }
            }
        });
        let mut t = AsyncTcpTransport::new("127.0.0.1", port, TcpMode::PerCommand);
        let f = t.exchange(&frame(1, &[]), Duration::from_secs(10)).await.unwrap();
        assert_eq!((f.skipped, &f.data[..]), (2, &[0u8][..]));
        let e = t.exchange(&frame(1, &[]), Duration::from_secs(10)).await.unwrap_err();
        assert!(matches!(e, ExchangeError::Link(LinkError::Closed { received: 3, .. })), "{e:?}");
        server.await.unwrap();
    }
}
