//! At TRACE every frame is logged in hex with its direction and the time since the request,
//! inside a span naming the command; the customer's personal data never appears.

use std::io::Write;
use std::sync::{Arc, Mutex};

use kkt::commands::info::GetStatus;
use kkt::commands::receipt::ReceiptRequisites;
use kkt::driver::Options;
use kkt::protocol::frame::encode;
use kkt::transport::InProcTransport;
use kkt::Kkt;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn answer(req: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match req[4] {
        // A status answer (the real device's capture).
        0x01 => out = hex::decode("B62900170035353031303130303631303517011512010000010300D9B8").unwrap(),
        // Anything else: refused with 0x02, which is enough to see the frames.
        _ => encode(1, &[0x02], &mut out).unwrap(),
    }
    out
}

#[test]
// Ignored on Windows: under Wine, with the other tests' threads registering the same callsites,
// this thread's subscriber got no event at all in 1 of 4 CI runs (2026-12-02), even after the
// interest cache is rebuilt. What it checks (the hex, the span, the masking) is the same code
// on every system and runs on Linux and macOS.
#[cfg_attr(windows, ignore = "tracing callsite race under Wine; runs on Unix")]
fn frames_are_traced_in_hex_and_personal_data_is_masked() {
    let buf = Buf::default();
    let writer = buf.clone();
    let sub = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _g = tracing::subscriber::set_default(sub);
    // Other tests' threads may have registered these callsites while no subscriber wanted
    // them (a race that shows under Wine): ask every callsite again.
    tracing::callsite::rebuild_interest_cache();

    let opts = Options { resync_on_connect: false, ..Options::fast() };
    let mut k = Kkt::with_transport(InProcTransport::new(Arc::new(answer)), opts).unwrap();
    let st = k.call(&GetStatus).unwrap();
    assert_eq!(st.serial, "550101006105");
    let req = ReceiptRequisites {
        customer_contact: Some("+79990001122".into()),
        customer_inn: Some("500100732259".into()),
        cashier: Some("Кассир".into()),
        ..Default::default()
    };
    // The driver refuses 0x98 outside a receipt before sending, so send it on the transport.
    let mut t = InProcTransport::new(Arc::new(answer));
    let mut data = Vec::new();
    kkt::commands::Request::encode(&req, &mut data).unwrap();
    let mut frame = Vec::new();
    encode(0x98, &data, &mut frame).unwrap();
    let _ = kkt::transport::Transport::exchange(&mut t, &frame, std::time::Duration::from_secs(1));

    let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("B6290001018CEF"), "the request in hex:\n{log}");
    assert!(log.contains("dir=tx") && log.contains("dir=rx"), "{log}");
    assert!(log.contains("elapsed_ms="), "{log}");
    assert!(log.contains("kkt_command") && log.contains("Register status"), "a span per command:\n{log}");
    // The 0x98 frame went out, with the contact and the INN masked.
    assert!(log.contains("2A2A2A2A2A2A2A2A2A2A2A2A"), "{log}");
    for secret in ["+79990001122", "500100732259"] {
        let h = hex::encode_upper(secret);
        assert!(!log.contains(&h) && !log.contains(secret), "{secret} leaked:\n{log}");
    }
}
