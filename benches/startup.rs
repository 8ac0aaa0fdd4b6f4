//! Start-up and memory of the `kkt` binary (BENCHMARKS.md item 6).
//!
//! * start to first frame: a TCP listener in this process timestamps the first byte that
//!   `kkt status` / `kkt receipt` sends, counted from just before the spawn;
//! * peak RSS and wall time of `kkt status` and `kkt receipt fixtures/receipts/sale.json`
//!   against `kkt emulator`, from `/usr/bin/time -f '%M %e'` (GNU time; `apt-get install time`).
//!
//! `cargo bench --bench startup`

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KKT: &str = env!("CARGO_BIN_EXE_kkt");
const SALE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/receipts/sale.json");

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Spawn to first byte received, for `kkt --device tcp://… ARGS`.
fn first_frame(args: &[&str]) -> Duration {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = Instant::now();
    let mut child = Command::new(KKT)
        .arg("--device")
        .arg(format!("tcp://127.0.0.1:{port}"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (mut s, _) = l.accept().unwrap();
    let mut b = [0u8; 1];
    s.read_exact(&mut b).unwrap();
    let took = t.elapsed();
    drop(s);
    let _ = child.kill();
    let _ = child.wait();
    took
}

/// (peak RSS in kB, wall seconds) of `kkt ARGS` under GNU time.
fn rss(args: &[&str]) -> Option<(u64, f64)> {
    let out = Command::new("/usr/bin/time").arg("-f").arg("%M %e").arg(KKT).args(args).output().ok()?;
    assert!(out.status.success(), "kkt {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last()?;
    let mut f = last.split_whitespace();
    Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
}

fn main() {
    // Build artefacts and the page cache warm: one run not counted.
    first_frame(&["status"]);
    for (name, args) in [("status", vec!["status"]), ("receipt", vec!["receipt", SALE])] {
        let mut v: Vec<Duration> = (0..20).map(|_| first_frame(&args)).collect();
        v.sort();
        println!(
            "SUMMARY start to first frame, kkt {name}: median {:.2} ms, min {:.2} ms, max {:.2} ms (20 runs)",
            ms(v[10]),
            ms(v[0]),
            ms(v[19])
        );
    }

    let mut emu = Command::new(KKT)
        .args(["emulator", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut addr = String::new();
    BufReader::new(emu.stdout.take().unwrap()).read_line(&mut addr).unwrap();
    let device = format!("tcp://{}", addr.trim());
    let d = ["--device", device.as_str()];
    let open = Command::new(KKT).args(d).args(["shift", "open", "--cashier", "Иванова А.А."]).output().unwrap();
    assert!(open.status.success(), "{}", String::from_utf8_lossy(&open.stderr));
    for (name, args) in [("status", vec!["status"]), ("receipt sale.json", vec!["receipt", SALE])] {
        let all: Vec<&str> = d.iter().copied().chain(args).collect();
        let runs: Vec<(u64, f64)> = (0..5).filter_map(|_| rss(&all)).collect();
        match runs.iter().map(|r| r.0).max() {
            Some(max) => {
                let mut walls: Vec<f64> = runs.iter().map(|r| r.1).collect();
                walls.sort_by(f64::total_cmp);
                println!(
                    "SUMMARY kkt {name}: peak RSS max {:.1} MB over {} runs; wall median {:.0} ms",
                    max as f64 / 1024.0,
                    runs.len(),
                    walls[walls.len() / 2] * 1e3
                );
            }
            None => println!("SUMMARY kkt {name}: /usr/bin/time (GNU time) not available"),
        }
    }
    let _ = emu.kill();
    let _ = emu.wait();
}
