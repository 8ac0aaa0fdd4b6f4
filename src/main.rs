#![forbid(unsafe_code)]
//! The `kkt` binary: the command line (`cli/`) and the local HTTP/JSON service (`server/`,
//! `kkt serve`), over the library. The JSON views both print live in `views`.

// `print!` and friends that never panic on a closed or full stdout/stderr (see `out`); they
// shadow the standard macros in every module below.
macro_rules! print {
    ($($t:tt)*) => { $crate::out::stdout(format_args!($($t)*), false) };
}
macro_rules! println {
    () => { $crate::out::stdout(format_args!(""), true) };
    ($($t:tt)*) => { $crate::out::stdout(format_args!($($t)*), true) };
}
#[allow(unused_macros)]
macro_rules! eprint {
    ($($t:tt)*) => { $crate::out::stderr(format_args!($($t)*), false) };
}
macro_rules! eprintln {
    () => { $crate::out::stderr(format_args!(""), true) };
    ($($t:tt)*) => { $crate::out::stderr(format_args!($($t)*), true) };
}

mod cli;
mod out;
mod server;
mod views;

fn main() -> std::process::ExitCode {
    cli::run()
}
