//! The virtual register: an emulator of a Терминал-ФА with ФФД 1.2, marked goods and its
//! fiscal storage, built on the same codec and typed commands as the driver (it is their
//! server side).
//!
//! * [`Register`]: the sans-IO core — a request frame and the time in, the response out. No
//!   clock, no I/O; the order rules come from [`crate::session`]. Each command has its
//!   handler (one per typed request, in `handlers/` by command group), dispatched from one
//!   table that also says which commands are refused or wait for the activation code.
//! * [`VirtualRegister`]: the embeddable register (a mutex around [`Register`], the host
//!   clock, the `--state` file written atomically after every change, the frame log).
//! * [`server`]: thin TCP and pseudo-terminal servers with fault injection.
//! * [`scenario`]: the OISM model, timing and faults, from a TOML or JSON file.

mod handlers;
pub mod paper;
pub mod register;
pub mod scenario;
pub mod server;
pub mod state;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use chrono::NaiveDateTime;

pub use register::{EmulatorOptions, Register, Reply};
pub use scenario::{Fault, FaultAction, OismStatus, Scenario};
pub use state::RegisterState;

/// The in-process virtual register of an `emulator` URI: in memory, or kept in `state`.
pub fn open(state: Option<&Path>) -> Result<crate::transport::InProcTransport, crate::transport::LinkError> {
    let reg = match state {
        None => VirtualRegister::new(EmulatorOptions::default()),
        Some(p) => VirtualRegister::open(EmulatorOptions::default(), p, Clock::System).map_err(|e| {
            crate::transport::LinkError::Connect {
                peer: format!("emulator?state={}", p.display()),
                source: std::io::Error::other(e.to_string()),
            }
        })?,
    };
    Ok(crate::transport::InProcTransport::new(std::sync::Arc::new(reg)))
}

impl crate::transport::Responder for VirtualRegister {
    fn respond(&self, request: &[u8]) -> Vec<u8> {
        self.exchange(request)
    }
}

/// Where the register's clock comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The host's local wall clock.
    System,
    /// A fixed time (tests).
    Fixed(NaiveDateTime),
}

impl Clock {
    /// The time now.
    pub fn now(&self) -> NaiveDateTime {
        match self {
            Clock::System => chrono::Local::now().naive_local(),
            Clock::Fixed(t) => *t,
        }
    }
}

/// The state file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// Reading or writing the state file failed.
    #[error("state file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The state file is not a state this version understands.
    #[error("state file {path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

#[derive(Debug)]
struct Inner {
    register: Register,
    state_path: Option<PathBuf>,
    saved: Vec<u8>,
    clock: Clock,
}

/// Where a register's paper goes: called with the text of each thing it prints.
pub struct PrintSink(Box<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for PrintSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrintSink")
    }
}

/// The register as a library object: `exchange(request bytes) -> response bytes`.
#[derive(Debug)]
pub struct VirtualRegister {
    inner: Mutex<Inner>,
    started: Instant,
    printer: std::sync::OnceLock<PrintSink>,
}

fn state_json(state: &RegisterState) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(&serde_json::json!({ "version": 1, "state": state })).unwrap_or_default();
    v.push(b'\n');
    v
}

/// Writes the state file: private, atomically and durably (a kill at any moment leaves either
/// the old or the new file).
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::fsutil::write_private(path, bytes, true)
}

fn load_state(path: &Path) -> Result<Option<RegisterState>, EmulatorError> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(EmulatorError::Io { path: path.into(), source }),
    };
    #[derive(serde::Deserialize)]
    struct File {
        version: u32,
        state: RegisterState,
    }
    let f: File = serde_json::from_slice(&text)
        .map_err(|e| EmulatorError::Format { path: path.into(), message: e.to_string() })?;
    if f.version != 1 {
        return Err(EmulatorError::Format { path: path.into(), message: format!("version {} is not 1", f.version) });
    }
    Ok(Some(f.state))
}

/// One line of the frame log at TRACE: direction, hex, time since start. The data of 0x98
/// (customer contact and INN) is not logged, only its length.
fn log_frame(direction: &str, bytes: &[u8], started: Instant, request_code: Option<u8>) {
    if !tracing::enabled!(tracing::Level::TRACE) {
        return;
    }
    let ms = started.elapsed().as_millis();
    if request_code == Some(crate::protocol::cmd::RECEIPT_REQUISITES) && direction == "<-" {
        tracing::trace!(target: "kkt::frames", "{direction} +{ms}ms 0x98 request, {} bytes (personal data not logged)", bytes.len());
    } else {
        tracing::trace!(target: "kkt::frames", "{direction} +{ms}ms {}", hex::encode_upper(&*crate::transport::redact(bytes)));
    }
}

impl VirtualRegister {
    /// A register in memory (no state file), on the host clock.
    pub fn new(options: EmulatorOptions) -> Self {
        Self::with_clock(options, Clock::System)
    }

    /// A register in memory on `clock`.
    pub fn with_clock(options: EmulatorOptions, clock: Clock) -> Self {
        let register = Register::new(options, clock.now());
        let saved = state_json(register.state());
        VirtualRegister {
            inner: Mutex::new(Inner { register, state_path: None, saved, clock }),
            started: Instant::now(),
            printer: std::sync::OnceLock::new(),
        }
    }

    /// A register whose state lives in `path`: loaded if the file exists (the options'
    /// starting state is then ignored), created from the options otherwise.
    pub fn open(options: EmulatorOptions, path: &Path, clock: Clock) -> Result<Self, EmulatorError> {
        let register = match load_state(path)? {
            Some(state) => Register::from_state(state, options),
            None => Register::new(options, clock.now()),
        };
        let saved = state_json(register.state());
        write_atomically(path, &saved).map_err(|source| EmulatorError::Io { path: path.into(), source })?;
        Ok(VirtualRegister {
            inner: Mutex::new(Inner { register, state_path: Some(path.into()), saved, clock }),
            started: Instant::now(),
            printer: std::sync::OnceLock::new(),
        })
    }

    /// Sends the text of everything the register prints from now on (receipts, shift reports,
    /// free lines) to `sink`, once per printed thing, after the answer is ready. Set once; the
    /// sink must not block for long (the exchange waits for it).
    pub fn on_print(&self, sink: impl Fn(&str) + Send + Sync + 'static) {
        let _ = self.printer.set(PrintSink(Box::new(sink)));
    }

    /// Answers request bytes at once (the simulated time is not waited for).
    pub fn exchange(&self, request: &[u8]) -> Vec<u8> {
        self.exchange_timed(request).bytes
    }

    /// Answers request bytes, with the time a real register would take (not waited for).
    /// The state file is written before the answer is given; if it cannot be, the command
    /// is undone and answered 0x35 «Аппаратный сбой ККТ».
    pub fn exchange_timed(&self, request: &[u8]) -> Reply {
        let code = match crate::protocol::frame::parse(request) {
            crate::protocol::Parsed::Frame { frame, .. } => Some(frame.code),
            _ => None,
        };
        log_frame("<-", request, self.started, code);
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = inner.clock.now();
        let before = inner.register.clone();
        let printed_before = before.state().printer.printed_total;
        let mut reply = inner.register.handle_bytes(request, now);
        let paper = inner.register.take_paper(printed_before);
        let json = state_json(inner.register.state());
        if json != inner.saved {
            if let Some(path) = inner.state_path.clone() {
                if let Err(e) = write_atomically(&path, &json) {
                    tracing::error!("state file {}: {e}; command undone", path.display());
                    inner.register = before;
                    reply.bytes = register::error_frame(crate::protocol::err::HARDWARE_FAILURE);
                    log_frame("->", &reply.bytes, self.started, None);
                    return reply;
                }
            }
            inner.saved = json;
        }
        log_frame("->", &reply.bytes, self.started, None);
        drop(inner);
        if let Some(sink) = self.printer.get() {
            for text in &paper {
                (sink.0)(text);
            }
        }
        reply
    }

    /// A copy of the state.
    pub fn state(&self) -> RegisterState {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner).register.state().clone()
    }

    /// The options.
    pub fn options(&self) -> EmulatorOptions {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner).register.options().clone()
    }

    /// Sets the clock (tests move time forward with this).
    pub fn set_clock(&self, clock: Clock) {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clock = clock;
    }
}
