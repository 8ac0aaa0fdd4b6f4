//! The virtual register's servers (TCP, pseudo-terminal) and its embedding.

mod driver;
#[cfg(unix)]
mod pty;
mod tcp;
