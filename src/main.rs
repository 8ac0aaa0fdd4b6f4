#![forbid(unsafe_code)]
//! The `kkt` binary: the command line (`cli/`) and the local HTTP/JSON service (`server/`,
//! `kkt serve`), over the library. The JSON views both print live in `views`.

mod cli;
mod server;
mod views;

fn main() -> std::process::ExitCode {
    cli::run()
}
