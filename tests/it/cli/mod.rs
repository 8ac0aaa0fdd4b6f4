//! The `kkt` command line, run as a process.

mod ask;
mod day;
mod decode;
mod device;
mod mark;
mod receipt_schema;
mod system;
mod toolbox;
