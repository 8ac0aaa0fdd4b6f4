//! The virtual register's servers (TCP, pseudo-terminal) and its embedding.

mod driver;
// Unix only: `kkt emulator --pty` (Windows has no pseudo-terminal; it refuses, see
// cli::system).
#[cfg(unix)]
mod pty;
mod tcp;
