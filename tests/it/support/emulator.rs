//! A host written directly on the core codec (frames + typed commands, not the driver), and
//! the `kkt emulator` process it talks to.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kkt::commands::{receipt, report, shift, Request, Response};
use kkt::protocol::frame::{self, Parsed};
use kkt::protocol::Decimal;

/// The seed 004 marking code (GS = 0x1D).
pub const SEED_CODE: &str =
    "010464007801637221gDDJ2VMOqvdNG\u{1d}91FFD0\u{1d}92dGVzdIjNx7Hb93pmLsV+niIDiJWV8ZFAjQdF9b2BO/o=";

/// A running `kkt emulator`.
pub struct Emulator {
    pub child: Child,
    /// Where it listens (address or pty path).
    pub at: String,
}

impl Emulator {
    /// Starts `kkt emulator ARGS` and reads where it listens.
    pub fn start(args: &[&str]) -> Emulator {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kkt"))
            .arg("emulator")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn kkt emulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(!line.trim().is_empty(), "emulator printed no address");
        Emulator { child, at: line.trim().to_string() }
    }

    /// Starts on TCP (a free port) with extra args.
    pub fn tcp(args: &[&str]) -> Emulator {
        let mut a = vec!["--listen", "127.0.0.1:0"];
        a.extend_from_slice(args);
        Emulator::start(&a)
    }

    /// Kills it hard (SIGKILL), as a power cut would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A connection for several commands.
    pub fn connect(&self) -> Conn {
        let s = TcpStream::connect(&self.at).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Conn(s)
    }

    /// One command on its own connection (as the device's documentation does it).
    pub fn raw(&self, code: u8, data: &[u8]) -> Result<Vec<u8>, u8> {
        self.connect().raw(code, data)
    }

    /// A typed command on its own connection.
    pub fn call<R: Request>(&self, req: &R) -> Result<R::Response, u8> {
        self.connect().call(req)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP connection to the emulator.
pub struct Conn(pub TcpStream);

/// Reads one whole frame from `r` (waits for LEN + CRC).
pub fn read_frame(r: &mut impl Read) -> Vec<u8> {
    read_frames(r, 1).remove(0)
}

/// Reads `n` whole frames from `r` (they may arrive in one read).
pub fn read_frames(r: &mut impl Read, n: usize) -> Vec<Vec<u8>> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut b = [0u8; 512];
    loop {
        match frame::parse(&buf) {
            Parsed::Frame { consumed, .. } => {
                out.push(buf[..consumed].to_vec());
                buf.drain(..consumed);
                if out.len() == n {
                    assert!(buf.is_empty(), "bytes after the expected frames: {}", hex::encode_upper(&buf));
                    return out;
                }
                continue;
            }
            Parsed::Invalid { error, .. } => panic!("bad response frame: {error}"),
            Parsed::Incomplete { .. } => {}
        }
        let n = r.read(&mut b).expect("read response");
        assert!(n > 0, "connection closed before a whole response; have {}", hex::encode_upper(&buf));
        buf.extend_from_slice(&b[..n]);
    }
}

/// The response frame's RESULT-0 data, or the device error code.
pub fn result_of(response: &[u8]) -> Result<Vec<u8>, u8> {
    let Parsed::Frame { frame, .. } = frame::parse(response) else { panic!("not a frame") };
    match frame.response() {
        Ok(d) => Ok(d.to_vec()),
        Err(kkt::protocol::ResponseError::Device(e)) => Err(e.code),
        Err(e) => panic!("malformed response: {e}"),
    }
}

impl Conn {
    /// Sends bytes, reads one response frame.
    pub fn send(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.0.write_all(bytes).unwrap();
        read_frame(&mut self.0)
    }

    /// One command: its data, or the device error code.
    pub fn raw(&mut self, code: u8, data: &[u8]) -> Result<Vec<u8>, u8> {
        let mut f = Vec::new();
        frame::encode(code, data, &mut f).unwrap();
        result_of(&self.send(&f))
    }

    /// A typed command.
    pub fn call<R: Request>(&mut self, req: &R) -> Result<R::Response, u8> {
        let mut data = Vec::new();
        req.encode(&mut data).expect("valid request");
        let out = self.raw(R::CODE, &data)?;
        Ok(R::Response::decode(&out).expect("response decodes"))
    }
}

/// A request as (code, data).
pub fn req<R: Request>(r: &R) -> (u8, Vec<u8>) {
    let mut d = Vec::new();
    r.encode(&mut d).expect("valid request");
    (R::CODE, d)
}

/// Bread: 45.50 × 2.
pub fn bread() -> receipt::UnmarkedItem {
    receipt::UnmarkedItem::new("Хлеб", 4550, Decimal::integer(2), 2, 4, 1)
}

/// Payment in cash, taxation 1 (general).
pub fn cash(amount: u64) -> receipt::Payment {
    receipt::Payment { taxation: Some(kkt::protocol::values::Taxation::OSN), cash: Some(amount), ..Default::default() }
}

/// A whole business day as requests, every one of which succeeds in order: shift open,
/// a receipt of unmarked goods, a receipt with a marked item, a return, a correction
/// receipt, the settlement report, shift close.
pub fn business_day() -> Vec<(u8, Vec<u8>)> {
    use kkt::commands::marking;
    let corrected = chrono::NaiveDate::from_ymd_opt(2024, 1, 15).unwrap().and_hms_opt(0, 0, 0).unwrap();
    vec![
        req(&shift::BeginShiftOpen { no_print: Some(true) }),
        req(&shift::ShiftOpenData(shift::ShiftReportData::cashier("Иванова А.А."))),
        req(&shift::OpenShift),
        // Receipt 1: bread, cash.
        req(&receipt::OpenReceipt::default()),
        req(&bread()),
        req(&receipt::ReceiptRequisites { cashier: Some("Иванова А.А.".into()), ..Default::default() }),
        req(&cash(9100)),
        req(&receipt::FormReceipt { operation: kkt::protocol::values::Operation::SELL, total: 9100 }),
        // Receipt 2: a marked item checked by the FN and the OISM, paid electronically.
        req(&receipt::OpenReceipt::default()),
        req(&marking::CheckMarkLocal::new(SEED_CODE)),
        req(&marking::CheckMarkOnline {
            planned_status: kkt::protocol::values::PlannedStatus::PIECE_SOLD,
            mode: 0,
            quantity: Decimal::integer(1),
            measure: kkt::protocol::values::Measure::PIECE,
            fraction: None,
        }),
        req(&marking::KeepMarkCheck { keep: true }),
        req(&receipt::MarkedItem::piece("Молоко 3,2%", 8990, 2, 4, 33, SEED_CODE)),
        req(&bread()),
        req(&receipt::Payment {
            taxation: Some(kkt::protocol::values::Taxation::OSN),
            electronic: Some(18090),
            ..Default::default()
        }),
        req(&receipt::FormReceipt { operation: kkt::protocol::values::Operation::SELL, total: 18090 }),
        // Receipt 3: a return of bread.
        req(&receipt::OpenReceipt::default()),
        req(&bread()),
        req(&cash(9100)),
        req(&receipt::FormReceipt { operation: kkt::protocol::values::Operation::SELL_RETURN, total: 9100 }),
        // Receipt 4: a correction receipt.
        req(&receipt::OpenCorrectionReceipt::default()),
        req(&bread()),
        req(&receipt::ReceiptRequisites { corrected_date: Some(corrected), ..Default::default() }),
        req(&cash(9100)),
        req(&receipt::FormCorrectionReceipt { operation: kkt::protocol::values::Operation::SELL, total: 9100 }),
        // Settlement report.
        req(&report::BeginSettlementReport),
        req(&report::SettlementReportData(report::ReportData {
            address: Some("Москва".into()), ..Default::default()
        })),
        req(&report::FormSettlementReport),
        // Shift close.
        req(&shift::BeginShiftClose { no_print: Some(true) }),
        req(&shift::ShiftCloseData(shift::ShiftReportData::cashier("Иванова А.А."))),
        req(&shift::CloseShift),
    ]
}
