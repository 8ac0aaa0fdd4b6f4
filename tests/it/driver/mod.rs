//! The driver: typed commands on the wire, the session, transports, captures of real devices.

mod captures;
mod day;
mod emulator;
mod logging;
// Unix only: a real pseudo-terminal pair stands for the serial line (Windows has none).
#[cfg(unix)]
mod pty;
mod scripted;
mod wire;
