//! `kkt demo`: a day's work on the built-in virtual register, with no device and no network.

use serde_json::json;

use super::device::{output, print_document, Failure};
use crate::views::ReceiptResult;
use kkt::driver::Options;
use kkt::receipt::{Cashier, Receipt};
use kkt::Kkt;

/// The demo's sale: bread (unmarked), milk and a tobacco-free marked item with codes the
/// virtual register's OISM model accepts (fixtures/receipts/demo.json).
pub const DEMO_RECEIPT: &str = include_str!("../../fixtures/receipts/demo.json");

/// Runs the demo; `uri` is the register (the in-process emulator by default).
pub fn run(uri: &str, json: bool) -> Result<(), Failure> {
    let say = |s: String| {
        if !json {
            println!("{s}");
        }
    };
    say(format!("kkt demo: the virtual register ({uri}), no device and no network needed\n"));
    let mut kkt = Kkt::connect_with(uri, Options::default())?;
    let st = kkt.status()?;
    say(format!(
        "register {} · FN {} · last FD {}",
        st.status.serial, st.fn_status.fn_number, st.fn_status.last_fd_number
    ));
    if st.shift.open {
        say(format!("a shift ({}) is already open: closing it first", st.shift.shift_number));
        kkt.close_shift()?;
    }
    let cashier = Cashier { inn: Some("500100732259".into()), ..Cashier::new("Иванова А.А.") };
    let opened = kkt.open_shift(&cashier)?;
    say(format!("shift {} opened (FD {}, fiscal sign {})", opened.shift_number, opened.fd_number, opened.fiscal_sign));

    let receipt = Receipt::from_json(DEMO_RECEIPT).map_err(kkt::Error::from)?;
    say("selling 3 items, 2 of them marked: each code is checked by the FN (0x91) and the OISM (0x92) first…".into());
    let doc = kkt.sell(&receipt)?;
    let result = ReceiptResult::new(&doc);
    if !json {
        print!("{}", print_document(&receipt, &result));
    }
    let closed = kkt.close_shift()?;
    say(format!("shift {} closed (FD {}, fiscal sign {})", closed.shift_number, closed.fd_number, closed.fiscal_sign));
    output(json, &json!({"shift_open": opened, "receipt": result, "shift_close": closed}), String::new);
    Ok(())
}
