//! `kkt decode --json` of a 40 000-frame exchange log against a Python decoder of the same log
//! (benches/python/decode_log.py: crcmod's C CRC, a TLV walk, one JSON object per frame),
//! side by side in one run. Not a test: it prints the figures for BENCHMARKS.md.
//!
//! `cargo bench --bench decode_log` (the Python with crcmod: `$KKT_BENCH_PYTHON`, else
//! `python3`, else `/usr/bin/python3`). `KKT_BENCH_KEEP=1` keeps the log, to profile with.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kkt::commands::{info, receipt, Request, Response};
use kkt::protocol::frame;
use kkt::protocol::types::Decimal;

mod common;

/// 20 000 request/response pairs as a technician's log has them: time, `>` or `<`, the bytes.
fn log() -> (String, usize) {
    let frame = |code: u8, data: &[u8]| {
        let mut v = Vec::new();
        frame::encode(code, data, &mut v).unwrap();
        v
    };
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02X}")).collect::<Vec<_>>().join(" ");
    let enc = |r: &dyn Fn(&mut Vec<u8>)| {
        let mut v = Vec::new();
        r(&mut v);
        v
    };
    let t0 = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap().and_hms_opt(12, 0, 0).unwrap();
    let status = info::Status {
        serial: "0000000001".into(),
        datetime: t0,
        critical_errors: 0,
        printer_status: 0,
        fn_present: 1,
        fn_phase: 3.into(),
        extra: vec![0],
    };
    let fn_status = info::FnStatus {
        phase: 3.into(),
        current_document: 0.into(),
        document_data: 0,
        shift_open: 1,
        warnings: 0,
        last_document_datetime: t0,
        fn_number: "9999078900000001".into(),
        last_fd_number: 42,
    };
    let item = receipt::UnmarkedItem::new("Хлеб Бородинский", 4550, Decimal::integer(2), 1, 4, 1);
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (frame(0x01, &[]), frame(0, &enc(&|v| status.encode(v).unwrap()))),
        (frame(0x08, &[]), frame(0, &enc(&|v| fn_status.encode(v).unwrap()))),
        (frame(0x96, &enc(&|v| Request::encode(&item, v).unwrap())), frame(0, &[])),
        // A marked item of 1000 bytes.
        (frame(0x97, &common::data_0x97()), frame(0, &[])),
        // Refused: 0x02.
        (frame(0x21, &[]), frame(1, &[0x02])),
    ];
    let mut s = String::new();
    let mut n = 0;
    let mut t = 0u64;
    while n < 40_000 {
        for (req, resp) in &pairs {
            if n >= 40_000 {
                break;
            }
            t += 137;
            s += &format!(
                "2026-03-02 12:{:02}:{:02}.{:03} > {}\n",
                (t / 60_000) % 60,
                (t / 1000) % 60,
                t % 1000,
                hex(req)
            );
            s += &format!(
                "2026-03-02 12:{:02}:{:02}.{:03} < {}\n",
                (t / 60_000) % 60,
                (t / 1000) % 60,
                (t + 21) % 1000,
                hex(resp)
            );
            n += 2;
        }
    }
    (s, n)
}

fn python() -> Option<String> {
    let candidates: Vec<String> = std::env::var("KKT_BENCH_PYTHON")
        .into_iter()
        .chain(["python3".to_string(), "/usr/bin/python3".to_string()])
        .collect();
    candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import crcmod._crcfunext"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Median wall time of `runs` runs, checking the output has `frames` lines once.
fn time(mut cmd: impl FnMut() -> Command, frames: usize, runs: usize) -> Duration {
    let out = cmd().output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = out.stdout.iter().filter(|b| **b == b'\n').count();
    assert_eq!(lines, frames, "one line per frame");
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let s = cmd().stdout(Stdio::null()).status().expect("run");
            assert!(s.success());
            start.elapsed()
        })
        .collect();
    t.sort();
    t[runs / 2]
}

fn main() {
    // `cargo bench` passes --bench; a filter that names another bench skips this one.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if !args.is_empty() && !args.iter().any(|a| "decode_log".contains(a.as_str())) {
        return;
    }
    let (text, frames) = log();
    let dir = std::env::temp_dir().join(format!("kkt-bench-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("exchange.log");
    std::fs::File::create(&path).unwrap().write_all(text.as_bytes()).unwrap();
    let mb = text.len() as f64 / 1e6;
    println!("log: {frames} frames, {:.1} MB ({})", mb, path.display());
    let kkt = env!("CARGO_BIN_EXE_kkt");
    let runs = 5;
    let t_kkt = time(
        || {
            let mut c = Command::new(kkt);
            c.args(["decode", "--json", "--file"]).arg(&path);
            c
        },
        frames,
        runs,
    );
    println!(
        "kkt decode --json: {:.1} ms median of {runs} ({:.0} frames/s, {:.1} MB/s of log)",
        t_kkt.as_secs_f64() * 1e3,
        frames as f64 / t_kkt.as_secs_f64(),
        mb / t_kkt.as_secs_f64()
    );
    let Some(py) = python() else {
        println!("python with crcmod not found (set KKT_BENCH_PYTHON): no comparison");
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/python/decode_log.py");
    let t_py = time(
        || {
            let mut c = Command::new(&py);
            c.arg(script).arg(&path);
            c
        },
        frames,
        runs,
    );
    println!(
        "python ({py}, crcmod): {:.1} ms median of {runs} ({:.0} frames/s, {:.1} MB/s of log)",
        t_py.as_secs_f64() * 1e3,
        frames as f64 / t_py.as_secs_f64(),
        mb / t_py.as_secs_f64()
    );
    println!("kkt is {:.1}x faster", t_py.as_secs_f64() / t_kkt.as_secs_f64());
    if std::env::var_os("KKT_BENCH_KEEP").is_some() {
        println!("the log is kept (KKT_BENCH_KEEP): {}", path.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
