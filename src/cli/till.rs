//! The till's day beside receipts: `kkt cash`, `kkt fd`, `kkt ofd`, `kkt print`,
//! `kkt report shift`.

use std::path::PathBuf;

use serde_json::json;

use super::device::{output, Failure};
use crate::views;
use kkt::driver::{PrintJob, StoredDocument};
use kkt::journaled::JournaledKkt;
use kkt::receipt::Money;
use kkt::Kkt;

/// `kkt cash ...`.
#[derive(Debug, clap::Subcommand)]
pub enum CashCmd {
    /// Put cash into the drawer (0xB3), e.g. `kkt cash in 1000.00`. Journaled.
    In(CashArgs),
    /// Take cash out of the drawer (0xB4), e.g. `kkt cash out 500.00`; more than the drawer holds
    /// is refused by the register (error 0x42). Journaled.
    Out(CashArgs),
    /// The money counters (0xB0): cash in the drawer, electronic payments.
    Totals,
}

/// The amount of a cash movement.
#[derive(Debug, clap::Args)]
pub struct CashArgs {
    /// Roubles, e.g. 1000.00.
    pub amount: String,
    /// Idempotency key: a second run with the same id and amount does nothing again and prints
    /// the first outcome.
    #[arg(long)]
    pub id: Option<String>,
}

/// `kkt fd ...`: documents from the FN archive.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct FdArgs {
    /// The document number, or `last` (printed like the document it was: items, totals, the
    /// fiscal sign as printed, the OFD's confirmation).
    #[arg(value_name = "N|last", required = true)]
    pub which: Option<String>,
    /// Print a copy, or the OFD's confirmation, on the register's printer.
    #[command(subcommand)]
    pub cmd: Option<FdCmd>,
}

/// `kkt fd print N`, `kkt fd ofd-receipt N`.
#[derive(Debug, clap::Subcommand)]
pub enum FdCmd {
    /// Print a copy of document N on the register's printer (0x39).
    Print {
        /// The document number, or `last`.
        #[arg(value_name = "N|last")]
        which: String,
    },
    /// Print the OFD's confirmation of document N (0x31).
    OfdReceipt {
        /// The document number, or `last`.
        #[arg(value_name = "N|last")]
        which: String,
    },
}

/// `kkt ofd ...`.
#[derive(Debug, clap::Subcommand)]
pub enum OfdCmd {
    /// The exchange with the OFD (0x50): documents waiting, the first of them and its date,
    /// documents not confirmed (0x32), with warnings past 24 hours and near the FN's 30 days.
    Status,
}

/// `kkt print ...`: the register's printer, no fiscal document.
#[derive(Debug, clap::Subcommand)]
pub enum PrintCmd {
    /// Lines of text (0x61 each; with --buffered 0x64 then 0x65); --cut cuts the paper (0x62).
    Text {
        /// The text (lines separated by newlines); or give --file.
        #[arg(required_unless_present = "file")]
        text: Option<String>,
        /// Read the text from this file (`-` for stdin).
        #[arg(long, conflicts_with = "text")]
        file: Option<PathBuf>,
        /// Through the print buffer (0x64/0x65) rather than line by line (0x61).
        #[arg(long)]
        buffered: bool,
        /// Cut the paper after the text (0x62).
        #[arg(long)]
        cut: bool,
    },
    /// A QR code (0x63).
    Qr {
        /// Its text (at least 6 characters).
        data: String,
    },
    /// A barcode (0x69).
    Barcode {
        /// Its text.
        data: String,
        /// ean13 (13 digits) or code128 (up to 24 ASCII characters).
        #[arg(long = "type", default_value = "ean13", value_parser = ["ean13", "code128"])]
        kind: String,
    },
}

/// Roubles given on the command line.
pub fn amount(text: &str, option: &str) -> Result<Money, Failure> {
    text.parse::<Money>().map_err(|e| Failure::usage(format!("{option}: {e}"), "give roubles, e.g. 1000.00"))
}

/// `kkt cash in|out`.
pub fn cash_move(jk: &mut JournaledKkt, cmd: &CashCmd, json: bool) -> Result<(), Failure> {
    let (a, out) = match cmd {
        CashCmd::In(a) => (a, false),
        CashCmd::Out(a) => (a, true),
        CashCmd::Totals => return Ok(()),
    };
    let m = amount(&a.amount, "amount")?;
    let d = if out { jk.cash_out(m, a.id.as_deref())? } else { jk.cash_in(m, a.id.as_deref())? };
    let v = views::cash_json(&d, a.id.as_deref());
    output(json, &v, || {
        let what = if out { "ВЫПЛАТА" } else { "ВНЕСЕНИЕ" };
        let mut s = format!("{what} {}: в кассе {} → {}\n", d.amount, d.cash_before, d.cash_after);
        if d.recovered {
            s += "(the register's answer was lost; the money counters show it was done)\n";
        }
        if d.replayed {
            s += "(done earlier under this id: nothing was done again)\n";
        }
        s
    });
    Ok(())
}

/// `kkt cash totals`.
pub fn cash_totals(kkt: &mut Kkt, json: bool) -> Result<(), Failure> {
    let t = kkt.cash_totals()?;
    let v = views::money_json(&t);
    output(json, &v, || format!("наличные {}\nбезналичные {}\n", t.cash, t.electronic));
    Ok(())
}

fn fd_number(kkt: &mut Kkt, which: &str) -> Result<u32, Failure> {
    if which == "last" {
        return Ok(kkt.last_fd()?);
    }
    which
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Failure::usage(format!("{which:?} is not a document number"), "give N (from 1) or `last`"))
}

/// `kkt fd N|last`, `kkt fd print N`, `kkt fd ofd-receipt N`.
pub fn fd(kkt: &mut Kkt, a: &FdArgs, json: bool) -> Result<(), Failure> {
    match (&a.cmd, &a.which) {
        (Some(FdCmd::Print { which }), _) => {
            let n = fd_number(kkt, which)?;
            kkt.print_document_copy(n)?;
            output(json, &json!({"printed": n}), || format!("a copy of document {n} was printed\n"));
        }
        (Some(FdCmd::OfdReceipt { which }), _) => {
            let n = fd_number(kkt, which)?;
            let c = kkt.print_ofd_receipt(n)?;
            output(json, &c, || {
                format!(
                    "the OFD's confirmation of document {} ({}) was printed; operator's sign {}\n",
                    c.fd_number,
                    c.datetime.format("%Y-%m-%d %H:%M"),
                    hex::encode_upper(c.operator_sign)
                )
            });
        }
        (None, Some(which)) => {
            let n = fd_number(kkt, which)?;
            let d = kkt.document(n)?;
            output(json, &d, || document_text(&d));
        }
        (None, None) => return Err(Failure::usage("which document?", "kkt fd N, kkt fd last")),
    }
    Ok(())
}

/// A document from the archive as it was printed.
pub fn document_text(d: &StoredDocument) -> String {
    let mut s = String::new();
    s += &format!("{:=^48}\n", format!(" {} ", d.title));
    if let Some(op) = d.operation {
        s += &format!(
            "{}{}\n",
            op.text_ru().unwrap_or("признак расчета неизвестен"),
            d.taxation.and_then(|t| t.text_ru()).map(|t| format!(" / {t}")).unwrap_or_default()
        );
    }
    for (k, v) in [
        ("Кассир", &d.cashier),
        ("Адрес расчетов", &d.settlement_address),
        ("Место расчетов", &d.settlement_place),
        ("Номер автомата", &d.automat_number),
        ("Пользователь", &d.user_name),
    ] {
        if let Some(v) = v {
            s += &format!("{k}: {v}\n");
        }
    }
    for (i, it) in d.items.iter().enumerate() {
        let item = &it.item;
        s += &format!(
            "{:>2}. {}\n    {} x {} = {}  {}\n",
            i + 1,
            item.name,
            item.quantity,
            item.price,
            it.total.or_else(|| item.amount()).map(|m| m.to_string()).unwrap_or_default(),
            item.vat.text_ru().unwrap_or("")
        );
        if let Some(a) = &item.agent {
            s += &format!("    агент: {}\n", a.agent_type.text_ru().unwrap_or("?"));
        }
        if let Some(sup) = &item.supplier {
            s += &format!(
                "    поставщик: {} ИНН {}\n",
                sup.name.as_deref().unwrap_or(""),
                sup.inn.as_deref().unwrap_or("")
            );
        }
        if item.marking_code.is_some() {
            s += "    [М]\n";
        }
    }
    if let Some(t) = d.total {
        s += &format!("ИТОГ {:>43}\n", t.to_string());
    }
    if let Some(p) = &d.payments {
        for (k, v) in [
            ("НАЛИЧНЫМИ", p.cash),
            ("БЕЗНАЛИЧНЫМИ", p.electronic),
            ("ПРЕДОПЛАТА", p.prepayment),
            ("ПОСТОПЛАТА", p.credit),
            ("ВСТРЕЧНОЕ ПРЕДОСТАВЛЕНИЕ", p.consideration),
        ] {
            if v != Money::ZERO {
                s += &format!("{k} {:>width$}\n", v.to_string(), width = 47 - k.chars().count());
            }
        }
    }
    if let Some(u) = &d.user_requisite {
        s += &format!("{}: {}\n", u.name, u.value);
    }
    if let Some(a) = &d.additional_requisite {
        s += &format!("{a}\n");
    }
    if let Some(c) = d.corrected_date {
        s += &format!("корректируемый расчет от {}\n", c.format("%d.%m.%Y"));
    }
    if !d.reregistration_reasons.is_empty() {
        s += &format!("причины: {}\n", d.reregistration_reasons.join(", "));
    }
    if let Some(n) = d.shift_number {
        s += &format!("смена {n}");
        if let Some(r) = d.receipt_number {
            s += &format!(" чек {r}");
        }
        s += "  ";
    }
    s += &format!("{}\n", d.datetime.format("%d.%m.%Y %H:%M"));
    s += &format!("ФН {}  ФД {}  ФП {}\n", d.fn_number.as_deref().unwrap_or("?"), d.fd_number, d.fiscal_sign);
    s += if d.ofd_confirmed {
        "подтвержден ОФД\n"
    } else {
        "ОФД еще не подтвердил документ\n"
    };
    s += &format!("{:=^48}\n", "");
    s
}

/// `kkt ofd status`.
pub fn ofd_status(kkt: &mut Kkt, json: bool) -> Result<(), Failure> {
    let st = kkt.ofd_status()?;
    output(json, &st, || views::ofd_text(&st));
    Ok(())
}

/// `kkt report shift`: the shift's counters, the nearest to an X-report this register offers.
pub fn report_shift(kkt: &mut Kkt, json: bool) -> Result<(), Failure> {
    let c = kkt.shift_counters()?;
    let v = views::shift_counters_json(&c);
    output(json, &v, || {
        format!(
            "смена {} {}, чеков {}\nналичные в кассе {}\nбезналичные {}\n({}; the register has no X-report command: these are its counters)\n",
            c.shift.shift_number,
            if c.shift.open { "открыта" } else { "закрыта" },
            c.shift.receipt_number,
            c.money.cash,
            c.money.electronic,
            c.datetime.format("%d.%m.%Y %H:%M")
        )
    });
    Ok(())
}

/// `kkt print ...`.
pub fn print(kkt: &mut Kkt, cmd: &PrintCmd, json: bool) -> Result<(), Failure> {
    let job = match cmd {
        PrintCmd::Text { text, file, buffered, cut } => {
            let t = match (text, file) {
                (Some(t), _) => t.clone(),
                (None, Some(f)) => super::device::read_input(f)?,
                (None, None) => return Err(Failure::usage("nothing to print", "give TEXT or --file PATH")),
            };
            PrintJob::Text { lines: t.lines().map(str::to_string).collect(), buffered: *buffered, cut: *cut }
        }
        PrintCmd::Qr { data } => PrintJob::Qr { data: data.clone() },
        PrintCmd::Barcode { data, kind } => {
            PrintJob::Barcode { barcode_type: u8::from(kind == "code128"), data: data.clone() }
        }
    };
    let p = kkt.print(&job)?;
    output(json, &views::printed_json(&p), || match &job {
        PrintJob::Text { .. } => format!("{} lines printed\n", p.lines),
        PrintJob::Qr { .. } => "QR code printed\n".into(),
        PrintJob::Barcode { .. } => "barcode printed\n".into(),
    });
    Ok(())
}
