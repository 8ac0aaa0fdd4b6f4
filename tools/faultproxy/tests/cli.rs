//! `kkt-faultproxy --pty` as a user runs it: a pseudo-terminal on Unix; on Windows, which has
//! none, a clear refusal with exit code 2.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_kkt-faultproxy");

#[test]
fn pty_mode_opens_a_terminal_or_says_why_not() {
    let mut cmd = Command::new(BIN);
    cmd.args(["--pty", "--upstream", "tcp://127.0.0.1:9", "--stats-every", "0"]);
    if cfg!(unix) {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        assert!(line.trim().starts_with("/dev/"), "the first line is the terminal's path: {line:?}");
    } else {
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(
                "kkt-faultproxy: --pty: not available on Windows: use --listen (TCP) or a virtual COM pair such as com0com"
            ),
            "{err}"
        );
    }
}
