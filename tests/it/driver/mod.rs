//! The driver: typed commands on the wire, the session, transports, captures of real devices.

mod captures;
mod day;
mod emulator;
mod logging;
#[cfg(unix)]
mod pty;
mod scripted;
mod wire;
