//! Driver benchmarks (BENCHMARKS.md items 2–4).
//!
//! * `inproc`: a 100-item receipt (every second item marked: 0x91, 0x92, 0x94?, 0x97 each)
//!   through [`kkt::Kkt`] against the in-process virtual register with instant answers. The
//!   figure is the driver's own CPU time: this thread's CPU clock over `sell`, minus the CPU
//!   clock spent inside the register (measured around every `respond`).
//! * `tcp`, `pty`: the same receipt against `kkt emulator --listen 127.0.0.1:0` / `--pty`
//!   (wall time per receipt, the emulator process restarted every few receipts so that its
//!   growing document archive does not weigh on the figures).
//! * `realistic`: a 10-item receipt (5 marked) against `kkt emulator` with realistic timing
//!   (115200 baud line time, the command latency table, 1.5 s OISM answer), compared with the
//!   wire-time lower bound: the sum of the delays the same register computes for the same
//!   commands (bytes × 10 / baud + its latency table + OISM), obtained in process without
//!   sleeping.
//!
//! `cargo bench --bench driver -- --warm-up-time 1 --measurement-time 3`
//! (`KKT_BENCH_SKIP_REALISTIC=1` leaves out the realistic run, which takes about a minute).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use kkt::driver::Options;
use kkt::emulator::scenario::Timing;
use kkt::emulator::{Scenario, VirtualRegister};
use kkt::protocol::Decimal;
use kkt::receipt::{Cashier, Item, Money, Receipt, Taxation, Vat};
use kkt::transport::{InProcTransport, Responder};
use kkt::Kkt;

/// This thread's CPU time.
#[cfg(unix)]
fn thread_cpu() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID).map(Duration::from).unwrap_or_default()
}

/// Elsewhere (Windows) the wall time since the first call: std has no thread CPU clock there,
/// and wall time is never less than CPU time, so the figures are upper bounds.
#[cfg(not(unix))]
fn thread_cpu() -> Duration {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

fn cashier() -> Cashier {
    Cashier { name: "Иванова А.А.".into(), inn: Some("500100732259".into()) }
}

/// A distinct, well-formed marking code per `i` (GTIN + serial + crypto tail).
fn code(i: usize) -> String {
    format!("0104670540176099215{:05}\u{1d}93dGVz", i)
}

/// `n` items, every second one marked, paid in cash exactly.
fn receipt(n: usize) -> Receipt {
    let mut r = Receipt::sell(Taxation::OSN);
    r.cashier = Some(cashier());
    for i in 0..n {
        let price = Money::from_kopecks(1000 + i as u64);
        let item = if i % 2 == 1 {
            Item::marked(format!("Молоко 3,2% № {i}"), price, Vat::VAT10, code(i))
        } else {
            Item::new(format!("Хлеб нарезной № {i}"), price, Decimal::integer(1), Vat::VAT10)
        };
        r.items.push(item);
    }
    r.payments.cash = r.total();
    r
}

fn emulator_options(timing: Option<Timing>) -> kkt::emulator::EmulatorOptions {
    kkt::emulator::EmulatorOptions {
        check_table_size: 128,
        scenario: Scenario { timing, ..Scenario::default() },
        ..kkt::emulator::EmulatorOptions::default()
    }
}

/// The virtual register, with the CPU time spent inside it, its simulated time and the number
/// of commands it answered.
struct Metered {
    reg: VirtualRegister,
    cpu_ns: AtomicU64,
    simulated: Mutex<Duration>,
    commands: AtomicU64,
    wire_bytes: AtomicU64,
}

impl Metered {
    fn new(timing: Option<Timing>) -> Arc<Metered> {
        Arc::new(Metered {
            reg: VirtualRegister::new(emulator_options(timing)),
            cpu_ns: AtomicU64::new(0),
            simulated: Mutex::new(Duration::ZERO),
            commands: AtomicU64::new(0),
            wire_bytes: AtomicU64::new(0),
        })
    }

    fn reset(&self) {
        self.cpu_ns.store(0, Ordering::Relaxed);
        *self.simulated.lock().unwrap() = Duration::ZERO;
        self.commands.store(0, Ordering::Relaxed);
        self.wire_bytes.store(0, Ordering::Relaxed);
    }

    fn cpu(&self) -> Duration {
        Duration::from_nanos(self.cpu_ns.load(Ordering::Relaxed))
    }
}

impl Responder for Metered {
    fn respond(&self, request: &[u8]) -> Vec<u8> {
        let t = thread_cpu();
        let reply = self.reg.exchange_timed(request);
        let spent = thread_cpu().saturating_sub(t);
        self.cpu_ns.fetch_add(spent.as_nanos() as u64, Ordering::Relaxed);
        *self.simulated.lock().unwrap() += reply.delay;
        self.commands.fetch_add(1, Ordering::Relaxed);
        self.wire_bytes.fetch_add((request.len() + reply.bytes.len()) as u64, Ordering::Relaxed);
        reply.bytes
    }
}

/// A driver on a fresh in-process register with an open shift.
fn inproc_driver(timing: Option<Timing>) -> (Kkt, Arc<Metered>) {
    let m = Metered::new(timing);
    let mut k = Kkt::with_transport(InProcTransport::new(m.clone()), Options::fast()).unwrap();
    k.open_shift(&cashier()).unwrap();
    (k, m)
}

/// Receipts per fresh register (its archive grows with every receipt).
const PER_REGISTER: u64 = 20;

fn bench_inproc(c: &mut Criterion) {
    let r = receipt(100);
    let mut g = c.benchmark_group("driver");
    g.sample_size(20);
    // Driver CPU per 100-item receipt (the register's own CPU time subtracted).
    g.bench_function("inproc_100_items_driver_cpu", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let (mut k, m) = inproc_driver(None);
                for _ in 0..PER_REGISTER.min(iters - done) {
                    m.reset();
                    let t = thread_cpu();
                    k.sell(&r).unwrap();
                    total += thread_cpu().saturating_sub(t).saturating_sub(m.cpu());
                    done += 1;
                }
            }
            total
        })
    });
    // Wall time of the same receipt, register included.
    g.bench_function("inproc_100_items_wall", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let (mut k, _m) = inproc_driver(None);
                for _ in 0..PER_REGISTER.min(iters - done) {
                    let t = Instant::now();
                    k.sell(&r).unwrap();
                    total += t.elapsed();
                    done += 1;
                }
            }
            total
        })
    });
    g.finish();

    // One plain summary: commands per receipt, driver CPU per command, register CPU.
    let (mut k, m) = inproc_driver(None);
    let mut samples = Vec::new();
    let mut commands = 0;
    let mut reg_cpu = Duration::ZERO;
    for _ in 0..PER_REGISTER {
        m.reset();
        let t = thread_cpu();
        k.sell(&r).unwrap();
        let all = thread_cpu().saturating_sub(t);
        samples.push(all.saturating_sub(m.cpu()));
        reg_cpu += m.cpu();
        commands = m.commands.load(Ordering::Relaxed);
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    println!(
        "SUMMARY inproc: {commands} commands per 100-item receipt; driver CPU median {:.3} ms per receipt, \
         {:.1} µs per command (min {:.1} µs); register CPU {:.3} ms per receipt",
        median.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e6 / commands as f64,
        samples[0].as_secs_f64() * 1e6 / commands as f64,
        reg_cpu.as_secs_f64() * 1e3 / PER_REGISTER as f64,
    );
}

/// `kkt emulator` with `args`; its first stdout line (address or pty path).
struct Emulator {
    child: Child,
    address: String,
}

impl Emulator {
    fn start(args: &[&str]) -> Emulator {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kkt"))
            .arg("emulator")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("kkt emulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        Emulator { child, address: line.trim().to_string() }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn remote(uri: &str) -> Kkt {
    let mut k = Kkt::connect_with(uri, Options::fast()).unwrap();
    k.open_shift(&cashier()).unwrap();
    k
}

fn bench_remote(c: &mut Criterion) {
    let r = receipt(100);
    let mut g = c.benchmark_group("driver");
    g.sample_size(10);
    type Line<'a> = (&'a str, &'a [&'a str], fn(&str) -> String);
    let lines: [Line; 3] = [
        // The default: a connection per command, as the device documents.
        ("tcp_loopback_100_items_wall", &["--listen", "127.0.0.1:0"], |a| format!("tcp://{a}")),
        ("tcp_persistent_100_items_wall", &["--listen", "127.0.0.1:0"], |a| format!("tcp://{a}?mode=persistent")),
        ("pty_100_items_wall", &["--pty"], |a| format!("serial://{a}")),
    ];
    for (name, args, uri) in lines {
        let mut all = vec!["--check-table-size", "128"];
        all.extend_from_slice(args);
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut done = 0;
                while done < iters {
                    let emu = Emulator::start(&all);
                    let mut k = remote(&uri(&emu.address));
                    for _ in 0..PER_REGISTER.min(iters - done) {
                        let t = Instant::now();
                        k.sell(&r).unwrap();
                        total += t.elapsed();
                        done += 1;
                    }
                }
                total
            })
        });
    }
    g.finish();
}

/// Realistic timing: total time of a 10-item receipt against the wire-time lower bound.
fn realistic() {
    if std::env::var_os("KKT_BENCH_SKIP_REALISTIC").is_some() {
        return;
    }
    const ITEMS: usize = 10;
    let r = receipt(ITEMS);
    // Shift open's 15 s key update is not part of the receipt: leave it out.
    let timing = Timing { key_update_ms: 0, ..Timing::default() };
    // The lower bound: the same commands against the same register, delays summed, not slept.
    let (mut k, m) = inproc_driver(Some(timing.clone()));
    m.reset();
    k.sell(&r).unwrap();
    let bound = *m.simulated.lock().unwrap();
    let (commands, bytes) = (m.commands.load(Ordering::Relaxed), m.wire_bytes.load(Ordering::Relaxed));
    let line = timing.line(bytes as usize);

    let dir = std::env::temp_dir().join(format!("kkt-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("realistic.toml");
    std::fs::write(
        &scenario,
        format!("[timing]\nbaud = {}\nkey_update_ms = 0\noism_ms = {}\n", timing.baud, timing.oism_ms),
    )
    .unwrap();
    let emu = Emulator::start(&[
        "--listen",
        "127.0.0.1:0",
        "--check-table-size",
        "128",
        "--scenario",
        scenario.to_str().unwrap(),
    ]);
    let mut k = remote(&format!("tcp://{}", emu.address));
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        k.sell(&r).unwrap();
        times.push(t.elapsed());
    }
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
    times.sort();
    let best = times[0];
    let median = times[1];
    println!(
        "SUMMARY realistic: {ITEMS}-item receipt ({} marked), {commands} commands, {bytes} bytes on the line \
         ({:.1} ms at {} baud); lower bound {:.1} ms; measured best {:.1} ms, median {:.1} ms: +{:.2}% (median +{:.2}%), \
         idle {:.2} ms per command",
        ITEMS / 2,
        line.as_secs_f64() * 1e3,
        timing.baud,
        bound.as_secs_f64() * 1e3,
        best.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3,
        (best.as_secs_f64() / bound.as_secs_f64() - 1.0) * 100.0,
        (median.as_secs_f64() / bound.as_secs_f64() - 1.0) * 100.0,
        (median.saturating_sub(bound)).as_secs_f64() * 1e3 / commands as f64,
    );
}

criterion_group!(benches, bench_inproc, bench_remote);

fn main() {
    benches();
    realistic();
    Criterion::default().configure_from_args().final_summary();
}
