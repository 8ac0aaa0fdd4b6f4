//! kkt's integration tests, one binary: the driver against the virtual register (in process,
//! over TCP and a pseudo-terminal), the emulator's servers, the HTTP service, marked goods
//! against mock ГИС МТ and Local Module servers on loopback, the CLI, the journal, and the
//! security properties. The fault tests (register killed at every step, the host killed, the
//! fault proxy) are the second binary, `tests/faults`.
//!
//! Tests that use a pseudo-terminal pair take [`support::pty_lock`] and run one at a time.

mod cli;
mod driver;
mod emulator;
mod http;
mod journal;
mod layers;
mod marking;
mod security;
mod support;
