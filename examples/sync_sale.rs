//! A sale with the blocking client: open a shift if needed, sell bread and a marked carton of
//! milk, print what the register formed.
//!
//! ```text
//! cargo run --example sync_sale                      # the in-process virtual register
//! cargo run --example sync_sale -- tcp://192.168.1.50:7778
//! cargo run --example sync_sale -- serial:///dev/ttyUSB0?baud=115200
//! ```

use kkt::driver::Event;
use kkt::protocol::Decimal;
use kkt::receipt::{Cashier, Item, Money, Receipt, Taxation, Vat};
use kkt::session::ShiftState;

fn main() -> Result<(), kkt::Error> {
    let uri = std::env::args().nth(1).unwrap_or_else(|| "emulator".into());
    let mut kkt = kkt::Kkt::connect(&uri)?;
    kkt.on_event(|e| match e {
        Event::KeyUpdate { finished: None } => println!("opening the shift: the register may update its keys…"),
        Event::Reconciling { command, .. } => println!("answer to {command:#04X} lost: asking the register"),
        _ => {}
    });

    let cashier = Cashier { name: "Иванова А.А.".into(), inn: Some("500100732259".into()) };
    if kkt.session().shift() != ShiftState::Open {
        let r = kkt.open_shift(&cashier)?;
        println!("shift {} opened (FD {})", r.shift_number, r.fd_number);
    }

    let mut receipt = Receipt::sell(Taxation::OSN);
    receipt.cashier = Some(cashier);
    receipt.items.push(Item::new("Хлеб", Money::from_kopecks(4550), Decimal::integer(2), Vat::VAT10));
    receipt.items.push(Item::marked(
        "Молоко 3,2%",
        Money::from_kopecks(8990),
        Vat::VAT10,
        "0104607028393037215'Wt4q\u{1d}93dGVz",
    ));
    receipt.payments.cash = "200.00".parse().expect("an amount");

    match kkt.sell(&receipt) {
        Ok(doc) => println!(
            "receipt {} of shift {}: FD {}, FP {}, {} total {}, change {}",
            doc.receipt_number, doc.shift_number, doc.fd_number, doc.fiscal_sign, doc.datetime, doc.total, doc.change
        ),
        Err(e @ kkt::Error::UnknownOutcome(_)) => {
            eprintln!("{e}");
            eprintln!("do NOT sell again before checking: {}", e.hint());
            std::process::exit(5);
        }
        Err(e) => {
            eprintln!("{e}\nhint: {}", e.hint());
            std::process::exit(1);
        }
    }
    Ok(())
}
