//! `kkt journal` and `kkt recover`: the host's journal of fiscal documents.

use std::path::PathBuf;

use super::device::{output, Failure};
use super::Cli;
use kkt::journal::{Entry, Journal, State};
use kkt::journaled::JournaledKkt;

/// Options of `kkt journal`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only the entries whose outcome is not known yet.
    #[arg(long)]
    pub pending: bool,
    /// At most this many entries, newest first.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: usize,
}

/// The journal's path: `--journal`, `$KKT_JOURNAL`, else `kkt/journal.sqlite` in the user's
/// local data directory ([`super::paths::journal`]).
pub fn path(cli: &Cli) -> Result<PathBuf, Failure> {
    cli.journal
        .clone()
        .or_else(super::paths::journal)
        .ok_or_else(|| Failure::usage("no data directory for the journal", "give --journal PATH or set KKT_JOURNAL"))
}

/// Opens (or creates, mode 0600) the journal.
pub fn open(cli: &Cli) -> Result<Journal, Failure> {
    let p = path(cli)?;
    Journal::open(&p).map_err(|e| Failure::from(kkt::Error::from(e)))
}

fn line(e: &Entry) -> String {
    let money = |k: u64| kkt::receipt::Money::from_kopecks(k).to_string();
    let what = match (&e.state, &e.document) {
        (State::Formed, Some(d)) => format!("formed     FD {} FP {}", d.fd_number, d.fiscal_sign),
        (State::Formed, None) if e.cash_after.is_some() => format!(
            "done       {} → {}",
            e.cash_before.map(money).unwrap_or_default(),
            e.cash_after.map(money).unwrap_or_default()
        ),
        (State::Formed, None) => "formed".to_string(),
        (State::NotFormed, _) => "not formed".to_string(),
        (State::Pending, _) => "PENDING".to_string(),
        (other, _) => format!("{other:?}"),
    };
    let mut s = format!(
        "{:>6}  {}  {:<22} {:<30} {}",
        e.seq,
        e.created_at,
        e.operation,
        what,
        e.id.as_deref().map(|i| format!("id {i}")).unwrap_or_default()
    );
    if let Some(n) = e.note.as_deref().filter(|_| e.state != State::Formed) {
        s += &format!("\n        {n}");
    }
    s + "\n"
}

/// `kkt journal [--pending]`: no register needed.
pub fn list(cli: &Cli, a: &ListArgs) -> Result<(), Failure> {
    let j = open(cli)?;
    let entries = j.list(a.pending, a.limit).map_err(|e| Failure::from(kkt::Error::from(e)))?;
    output(cli.json, &entries, || {
        if entries.is_empty() {
            return if a.pending { "no pending entries\n".into() } else { "the journal is empty\n".into() };
        }
        entries.iter().map(line).collect()
    });
    Ok(())
}

/// `kkt recover`: reconciles every pending entry with the register and prints them. Exits 5
/// when some could not be settled.
pub fn recover(k: &mut JournaledKkt, json: bool) -> Result<(), Failure> {
    let entries = k.recover()?;
    let unresolved = entries.iter().filter(|e| e.state == State::Pending).count();
    output(json, &entries, || {
        if entries.is_empty() {
            return "no pending entries: the journal and the register agree\n".into();
        }
        let mut s: String = entries.iter().map(line).collect();
        s += &format!("{} reconciled, {unresolved} still unresolved\n", entries.len() - unresolved);
        s
    });
    if unresolved > 0 {
        return Err(Failure {
            exit: super::exit::UNKNOWN,
            kind: "pending",
            code: None,
            message: format!("{unresolved} journal entries could not be reconciled with this register"),
            hint: "see each entry's note: connect to the register it was sent to, or check its FN archive".into(),
            extra: None,
            silent: false,
        });
    }
    Ok(())
}
