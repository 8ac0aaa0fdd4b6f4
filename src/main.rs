#![forbid(unsafe_code)]
//! The `kkt` binary: see `kkt --help`.

fn main() -> std::process::ExitCode {
    kkt::cli::run()
}
