//! `kkt demo`: a day's work on a virtual register, with no device and no network. It forms
//! fiscal documents and closes an open shift, so it never runs on a real register: the
//! built-in one by default, `--device` only for an `emulator…` URI or a `kkt emulator` it
//! recognises by its 0xA2 answer; `KKT_DEVICE` and the config file are not read.

use serde_json::json;

use super::device::{output, print_document, Failure};
use super::i18n::tr;
use crate::views::ReceiptResult;
use kkt::commands::settings::GetServiceParams;
use kkt::driver::Options;
use kkt::receipt::{Cashier, Receipt};
use kkt::Kkt;

/// The demo's sale: bread (unmarked), milk and a tobacco-free marked item with codes the
/// virtual register's OISM model accepts (fixtures/receipts/demo.json).
pub const DEMO_RECEIPT: &str = include_str!("../../fixtures/receipts/demo.json");

/// What `kkt emulator` answers to 0xA2 «служебные параметры»: how the demo knows a virtual
/// register over TCP or a serial line (a real one answers 0x04 "Terminal-FA" too, so the model
/// proves nothing).
pub const EMULATOR_SERVICE_PREFIX: &str = "KKT-EMULATOR ";

/// The register the demo may use: the in-process one by default; with --device only an
/// `emulator…` URI, or a register that answers 0xA2 as `kkt emulator` does.
fn virtual_register(device: Option<&str>, json: bool) -> Result<(String, Kkt), Failure> {
    let uri = device.unwrap_or("emulator").to_string();
    let parsed: kkt::transport::DeviceUri = uri.parse().map_err(kkt::Error::from)?;
    let is_emulator = matches!(parsed, kkt::transport::DeviceUri::Emulator { .. });
    // Nothing but queries until the register is known to be virtual.
    let opts = Options { resync_on_connect: false, ..Options::default() };
    let mut kkt = Kkt::connect_with(&uri, opts)?;
    if !is_emulator {
        let answer = kkt.call(&GetServiceParams).map(|t| t.text);
        let ok = answer.as_ref().is_ok_and(|t| t.starts_with(EMULATOR_SERVICE_PREFIX));
        if !ok {
            let said = match &answer {
                Ok(t) => format!("{t:?}"),
                Err(e) => e.to_string(),
            };
            let _ = json;
            return Err(Failure::usage(tr!("demo-refused", uri = uri.as_str(), answer = said), tr!("hint-demo")));
        }
    }
    Ok((uri, kkt))
}

/// Runs the demo on a virtual register (see [`virtual_register`]); `KKT_DEVICE` and the config
/// file are never used.
pub fn run(device: Option<&str>, cli: &super::Cli) -> Result<(), Failure> {
    let json = cli.json;
    let say = |s: String| {
        if !json {
            println!("{s}");
        }
    };
    let (uri, mut kkt) = virtual_register(device, json)?;
    say(tr!("demo-intro", uri = uri.as_str()) + "\n");
    let st = kkt.status()?;
    say(tr!(
        "demo-register",
        serial = st.status.serial.as_str(),
        fn_number = st.fn_status.fn_number.as_str(),
        fd = st.fn_status.last_fd_number
    ));
    if st.shift.open {
        say(tr!("demo-closing-open-shift", number = st.shift.shift_number));
        kkt.close_shift()?;
    }
    let cashier = Cashier { inn: Some("500100732259".into()), ..Cashier::new("Иванова А.А.") };
    let opened = kkt.open_shift(&cashier)?;
    say(tr!("demo-shift-opened", number = opened.shift_number, fd = opened.fd_number, fp = opened.fiscal_sign));

    let receipt = Receipt::from_json(DEMO_RECEIPT).map_err(kkt::Error::from)?;
    say(tr!("demo-selling"));
    let doc = kkt.sell(&receipt)?;
    let result = ReceiptResult::new(&doc);
    if !json {
        print!("{}", print_document(&receipt, &result));
    }
    let closed = kkt.close_shift()?;
    say(tr!("demo-shift-closed", number = closed.shift_number, fd = closed.fd_number, fp = closed.fiscal_sign));
    output(
        json,
        &json!({"shift_open": opened, "receipt": result, "shift_close": closed, "register": uri}),
        String::new,
    );
    Ok(())
}
