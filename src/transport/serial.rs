//! Serial line (RS-232 or USB serial): 115200 baud, 8 data bits, no parity, 1 stop bit by
//! default. The port is opened exclusively (TIOCEXCL and an exclusive `flock` on Unix; Windows
//! opens COM ports exclusively, sharing mode 0), so two programs cannot interleave frames on one
//! line. Windows names: `COM3`, and `\\.\COM12` (both work for any number).

use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use super::line::{Flow, Parity, SerialConfig};
use super::{read_response_blocking, trace_bytes, Direction, ExchangeError, LinkError, Transport};
use crate::protocol::Frame;

impl SerialConfig {
    /// A serialport builder for `path` with these settings.
    pub fn builder(&self, path: &str) -> serialport::SerialPortBuilder {
        use serialport::{DataBits, FlowControl, StopBits};
        let data_bits = match self.data_bits {
            5 => DataBits::Five,
            6 => DataBits::Six,
            7 => DataBits::Seven,
            _ => DataBits::Eight,
        };
        let parity = match self.parity {
            Parity::None => serialport::Parity::None,
            Parity::Odd => serialport::Parity::Odd,
            Parity::Even => serialport::Parity::Even,
        };
        let flow = match self.flow {
            Flow::None => FlowControl::None,
            Flow::Software => FlowControl::Software,
            Flow::Hardware => FlowControl::Hardware,
        };
        serialport::new(path, self.baud)
            .data_bits(data_bits)
            .parity(parity)
            .stop_bits(if self.stop_bits == 2 { StopBits::Two } else { StopBits::One })
            .flow_control(flow)
            .timeout(Duration::from_millis(100))
    }
}

/// A serialport error when opening `peer`, as a link error (busy ports are told apart).
pub(crate) fn open_error(peer: &str, e: serialport::Error) -> LinkError {
    // Windows says NoDevice both for a port that is not there and for one another program
    // holds (COM ports open exclusively there): busy only if the system lists the port.
    #[cfg(windows)]
    let no_device = matches!(e.kind, serialport::ErrorKind::NoDevice) && windows_port_listed(peer);
    #[cfg(not(windows))]
    let no_device = matches!(e.kind, serialport::ErrorKind::NoDevice);
    let busy = no_device
        || matches!(e.kind, serialport::ErrorKind::Io(ErrorKind::WouldBlock))
        || e.description.to_ascii_lowercase().contains("busy")
        || e.description.to_ascii_lowercase().contains("lock");
    let kind = match e.kind {
        serialport::ErrorKind::Io(k) => k,
        serialport::ErrorKind::NoDevice => ErrorKind::Other,
        serialport::ErrorKind::InvalidInput => ErrorKind::InvalidInput,
        serialport::ErrorKind::Unknown => ErrorKind::Other,
    };
    let source = std::io::Error::new(kind, e.description);
    if busy {
        LinkError::Busy { peer: peer.to_string(), source }
    } else {
        LinkError::Connect { peer: peer.to_string(), source }
    }
}

/// Whether Windows lists `peer` (`COM3`, `\\.\COM12`) among its serial ports (true if the
/// list cannot be had).
#[cfg(windows)]
fn windows_port_listed(peer: &str) -> bool {
    let name = peer.trim_start_matches(r"\\.\");
    serialport::available_ports()
        .map(|ports| ports.iter().any(|p| p.port_name.eq_ignore_ascii_case(name)))
        .unwrap_or(true)
}

/// A register on a serial line (blocking). The port stays open (and locked) while this lives.
pub struct SerialTransport {
    path: String,
    config: SerialConfig,
    port: Box<dyn serialport::SerialPort>,
}

impl fmt::Debug for SerialTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SerialTransport").field("path", &self.path).field("config", &self.config).finish()
    }
}

impl SerialTransport {
    /// Opens and locks `path` (`/dev/ttyUSB0`, `COM3`) with `config`.
    pub fn open(path: &str, config: SerialConfig) -> Result<Self, LinkError> {
        let builder = config.builder(path);
        #[cfg(unix)]
        let port: Box<dyn serialport::SerialPort> = {
            let mut p = builder.open_native().map_err(|e| open_error(path, e))?;
            // serialport opens exclusively by default; say so explicitly, it is the contract here.
            p.set_exclusive(true).map_err(|e| open_error(path, e))?;
            Box::new(p)
        };
        #[cfg(not(unix))]
        let port = builder.open().map_err(|e| open_error(path, e))?;
        let _ = port.clear(serialport::ClearBuffer::All);
        tracing::debug!(path, baud = config.baud, "serial port opened (exclusive)");
        Ok(Self { path: path.to_string(), config, port })
    }

    /// The line settings.
    pub fn config(&self) -> &SerialConfig {
        &self.config
    }

    /// Drops whatever is waiting in the input buffer (a late answer to an earlier command).
    fn drain(&mut self) {
        let _ = self.port.clear(serialport::ClearBuffer::Input);
        let mut buf = [0u8; 256];
        while self.port.bytes_to_read().unwrap_or(0) > 0 {
            let _ = self.port.set_timeout(Duration::from_millis(1));
            match self.port.read(&mut buf) {
                Ok(n) if n > 0 => tracing::debug!(path = %self.path, bytes = n, "stale bytes dropped"),
                _ => break,
            }
        }
    }
}

impl Transport for SerialTransport {
    fn exchange(&mut self, request: &[u8], timeout: Duration) -> Result<Frame, ExchangeError> {
        self.drain();
        let started = Instant::now();
        trace_bytes(&self.path, Direction::Tx, request, Duration::ZERO);
        let _ = self.port.set_timeout(timeout.max(Duration::from_millis(100)));
        if let Err(source) = self.port.write_all(request).and_then(|_| self.port.flush()) {
            return Err(LinkError::Io { peer: self.path.clone(), sent: true, source }.into());
        }
        let port = &mut self.port;
        read_response_blocking(&self.path, started, timeout, |buf, wait| {
            port.set_timeout(wait.max(Duration::from_millis(1)))?;
            match port.read(buf) {
                // A hung-up line (the other end of a pty closed, a USB adapter unplugged).
                Err(e) if matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof) => Ok(0),
                r => r,
            }
        })
    }

    fn reset(&mut self) {
        self.drain();
    }

    fn peer(&self) -> &str {
        &self.path
    }
}
