//! Line settings: what a device URI says about the line (serial parameters, the TCP connection
//! mode). Plain data, available whatever transports are compiled in.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Parity bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parity {
    /// None (the device's setting).
    #[default]
    None,
    /// Odd.
    Odd,
    /// Even.
    Even,
}

impl fmt::Display for Parity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Parity::None => "none",
            Parity::Odd => "odd",
            Parity::Even => "even",
        })
    }
}

/// Flow control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// None (the device's setting).
    #[default]
    None,
    /// XON/XOFF.
    Software,
    /// RTS/CTS.
    Hardware,
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flow::None => "none",
            Flow::Software => "software",
            Flow::Hardware => "hardware",
        })
    }
}

/// Line settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SerialConfig {
    /// Baud rate (115200).
    pub baud: u32,
    /// Data bits, 5..=8 (8).
    pub data_bits: u8,
    /// Parity (none).
    pub parity: Parity,
    /// Stop bits, 1 or 2 (1).
    pub stop_bits: u8,
    /// Flow control (none).
    pub flow: Flow,
}

impl Default for SerialConfig {
    fn default() -> Self {
        Self { baud: 115_200, data_bits: 8, parity: Parity::None, stop_bits: 1, flow: Flow::None }
    }
}

/// How TCP connections are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TcpMode {
    /// A new connection for every command, closed after the response (as the device documents).
    #[default]
    PerCommand,
    /// One connection kept open across commands (reopened after any doubt).
    Persistent,
}

/// Default time allowed to establish a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
