//! `kkt journal`, `kkt journal backup` and `kkt recover`: the host's journal of fiscal
//! documents, and where it is.
//!
//! The journal cannot silently vanish: kkt remembers each journal path it has used, and the FN
//! serial it served, in the user's state directory (`kkt/journals.sqlite`, mode 0600;
//! `$KKT_STATE_DIR` moves it). A journal missing at a remembered path is refused (exit 8)
//! unless `--new-journal` is given; a path never used before gets a new journal, with a notice
//! on stderr (a typo in `--journal` cannot silently drop the replay protection of ids); a file
//! that exists but is empty or not a journal is refused, never reinitialised.

use std::path::{Path, PathBuf};

use super::device::{output, Failure};
use super::Cli;
use kkt::journal::known::Known;
use kkt::journal::{Entry, Journal, JournalError, State};
use kkt::journaled::JournaledKkt;

/// Options of `kkt journal`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    /// Something else than listing.
    #[command(subcommand)]
    pub cmd: Option<JournalCmd>,
    /// Listing.
    #[command(flatten)]
    pub list: ListArgs,
}

/// `kkt journal …`.
#[derive(Debug, clap::Subcommand)]
pub enum JournalCmd {
    /// Copy the journal consistently into a new file (SQLite's online backup: safe while
    /// `kkt serve` or another kkt uses it).
    Backup {
        /// The new file (refused if it exists).
        path: PathBuf,
    },
}

/// Options of `kkt journal` (the listing).
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only the entries whose outcome is not known yet.
    #[arg(long)]
    pub pending: bool,
    /// At most this many entries, newest first.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: usize,
}

/// Options of `kkt recover`.
#[derive(Debug, clap::Args)]
pub struct RecoverArgs {
    /// Also settle the pending entries whose recorded FN number is not a valid one (a damaged
    /// FN status answer journaled by an earlier kkt): each is compared with this register's
    /// last documents; a receipt none of them matches is written not formed.
    #[arg(long)]
    pub settle_foreign: bool,
}

/// The journal's path: `--journal`, `$KKT_JOURNAL`, else `kkt/journal.sqlite` in the user's
/// local data directory ([`super::paths::journal`]).
pub fn path(cli: &Cli) -> Result<PathBuf, Failure> {
    cli.journal
        .clone()
        .or_else(super::paths::journal)
        .ok_or_else(|| Failure::usage("no data directory for the journal", "give --journal PATH or set KKT_JOURNAL"))
}

/// Where the remembered journals are kept: `$KKT_STATE_DIR/journals.sqlite`, else
/// `kkt/journals.sqlite` in the user's state directory (the local data directory where the
/// system has none).
pub fn known_path() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("KKT_STATE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("journals.sqlite"));
    }
    dirs::state_dir().or_else(dirs::data_local_dir).map(|d| d.join("kkt").join("journals.sqlite"))
}

/// The remembered journals; a failure is a warning (the journal itself still protects ids).
fn known() -> Option<Known> {
    let p = known_path()?;
    match Known::open(&p) {
        Ok(k) => Some(k),
        Err(e) => {
            tracing::warn!(error = %e, "the list of journals used before cannot be read or written");
            eprintln!("kkt: warning: {e}: a journal missing at a path used before cannot be recognised");
            None
        }
    }
}

fn journal_failure(e: JournalError) -> Failure {
    Failure::from(kkt::Error::from(e))
}

/// A journal opened (or created) for a command, and what kkt knew of its path.
#[derive(Debug)]
pub struct Opened {
    /// The journal.
    pub journal: Journal,
    /// Its file.
    pub path: PathBuf,
    /// Created now.
    pub created: bool,
}

/// Opens the journal of `cli`, creating it only where no journal was used before (or with
/// `--new-journal`), with a notice on stderr.
pub fn open(cli: &Cli) -> Result<Opened, Failure> {
    let p = path(cli)?;
    open_at(&p, cli.new_journal)
}

/// [`open`] for the journal at `p`.
pub fn open_at(p: &Path, new_journal: bool) -> Result<Opened, Failure> {
    let known = known();
    if p.exists() {
        if new_journal {
            eprintln!("kkt: --new-journal ignored: a journal exists at {}, and it is used", p.display());
        }
        let journal = Journal::open_existing(p).map_err(journal_failure)?;
        if let Some(k) = &known {
            let _ = k.remember(p, None);
        }
        return Ok(Opened { journal, path: p.to_path_buf(), created: false });
    }
    let used = known.as_ref().and_then(|k| k.get(p).ok().flatten());
    if let (Some(u), false) = (&used, new_journal) {
        return Err(journal_failure(JournalError::Missing { path: p.display().to_string(), used: Some(u.describe()) }));
    }
    let (journal, created) = Journal::create(p).map_err(journal_failure)?;
    if created {
        match &used {
            Some(u) => eprintln!(
                "kkt: new journal at {} (--new-journal: the journal used there before, {}, is gone; the ids formed through it are not recognised by this one)",
                p.display(),
                u.describe()
            ),
            None => eprintln!("kkt: new journal at {}", p.display()),
        }
    }
    if let Some(k) = &known {
        let _ = k.remember(p, None);
    }
    Ok(Opened { journal, path: p.to_path_buf(), created })
}

/// Remembers the FN the journal at `p` serves; for a journal created now, says which other
/// journals served that register before (their ids are not known to this one).
pub fn remember_fn(p: &Path, fn_serial: Option<&str>, created: bool) {
    let (Some(k), Some(f)) = (known(), fn_serial) else { return };
    if created {
        if let Ok(others) = k.served(f, p) {
            for o in others.iter().take(3) {
                eprintln!(
                    "kkt: the register with FN {f} was served before by the journal at {} ({}): ids formed through that journal are not known to this one",
                    o.path.display(),
                    o.describe()
                );
            }
        }
    }
    let _ = k.remember(p, Some(f));
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

/// `kkt journal …`: no register needed.
pub fn run(cli: &Cli, a: &Args) -> Result<(), Failure> {
    match &a.cmd {
        None => list(cli, &a.list),
        Some(JournalCmd::Backup { path: dest }) => backup(cli, dest),
    }
}

/// The journal for reading: never created (a missing one used before is refused; one never
/// used is none yet).
fn read_only(cli: &Cli) -> Result<Option<Journal>, Failure> {
    let p = path(cli)?;
    if p.exists() {
        return Journal::open_existing(&p).map(Some).map_err(journal_failure);
    }
    match known().and_then(|k| k.get(&p).ok().flatten()) {
        Some(u) => {
            Err(journal_failure(JournalError::Missing { path: p.display().to_string(), used: Some(u.describe()) }))
        }
        None => Ok(None),
    }
}

/// `kkt journal [--pending]`.
pub fn list(cli: &Cli, a: &ListArgs) -> Result<(), Failure> {
    // As every journaled command: created where no journal was used before (the path help
    // names), refused where one is missing or damaged.
    let entries = open(cli)?.journal.list(a.pending, a.limit).map_err(journal_failure)?;
    output(cli.json, &entries, || {
        if entries.is_empty() {
            return if a.pending { "no pending entries\n".into() } else { "the journal is empty\n".into() };
        }
        entries.iter().map(line).collect()
    });
    Ok(())
}

/// `kkt journal backup PATH`.
pub fn backup(cli: &Cli, dest: &Path) -> Result<(), Failure> {
    let p = path(cli)?;
    let Some(j) = read_only(cli)? else {
        return Err(Failure::usage(
            format!("no journal at {}: nothing to back up", p.display()),
            "give --journal PATH",
        ));
    };
    j.backup(dest).map_err(journal_failure)?;
    let entries = j.list(false, usize::MAX >> 1).map_err(journal_failure)?.len();
    let v = serde_json::json!({"journal": p, "backup": dest, "entries": entries});
    output(cli.json, &v, || format!("journal {} copied to {} ({entries} entries)\n", p.display(), dest.display()));
    Ok(())
}

/// `kkt recover`: reconciles every pending entry with the register and prints them. Exits 5
/// when some could not be settled.
pub fn recover(k: &mut JournaledKkt, a: &RecoverArgs, json: bool) -> Result<(), Failure> {
    let mut entries = if a.settle_foreign { k.settle_foreign()? } else { Vec::new() };
    let settled: std::collections::HashSet<i64> = entries.iter().map(|e| e.seq).collect();
    entries.extend(k.recover()?.into_iter().filter(|e| !settled.contains(&e.seq)));
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
