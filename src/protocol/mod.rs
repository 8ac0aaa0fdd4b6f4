//! The protocol core: frames, data types, TLV, the tables, the named values of the tags and the
//! device errors.
//!
//! Nothing here does I/O or reads a clock: bytes in, values out, and back.

mod error;
pub mod frame;
pub mod tables;
pub mod tlv;
pub mod types;
pub mod values;

pub use error::DeviceError;
pub use frame::{Frame, FrameDecoder, FrameError, FrameRef, Parsed, ResponseError};
pub use tables::{cmd, command_info, err, error_info, tag, tag_info, CommandClass, ErrorCategory, TagType};
pub use tlv::{Tlv, TlvNode, TlvValue, TlvWriter, Value};
pub use types::Decimal;
