//! The `kkt` command line, run as a process.

mod decode;
mod device;
mod mark;
mod receipt_schema;
mod toolbox;
