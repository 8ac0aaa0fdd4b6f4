//! The host's journal of fiscal commands: nothing lost, nothing twice.
//!
//! Before a command that forms a fiscal document is sent, [`Journal::begin`] writes an entry
//! (operation, content hash, expected FD number, optional idempotency key) and syncs it to
//! disk; after the answer, [`Journal::formed`] or [`Journal::not_formed`] records the outcome. An entry still
//! `pending` after a crash is reconciled with the register (recovery) and becomes `formed` or
//! `not_formed`. SQLite in WAL mode with `synchronous = FULL`: a power cut at any moment
//! leaves a readable journal. The file is created with mode 0600.
//!
//! The journal cannot silently vanish: a file that exists but is empty, is not SQLite, or is
//! not a journal (a copy made without its `-wal` file) is refused ([`JournalError::Empty`],
//! [`JournalError::Unreadable`]), never taken for a new journal; a new journal is written
//! whole beside its path and linked into place, so a second process creating the same journal
//! at the same moment opens the one that won ([`Journal::create`]); the WAL is checkpointed
//! after each write, so the main file alone holds every entry; [`Journal::backup`] copies a
//! journal in use consistently (SQLite's online backup). [`known::Known`] remembers the
//! journals a user has used, so that a missing one can be told from a new one.
//!
//! No personal data is stored: the content hash identifies a receipt; for a receipt the entry
//! keeps what its document is recognised by in the FN archive (operation, total, payments, the
//! items' names, prices and quantities: [`Entry::content`], no customer or cashier); the
//! outcome holds only the document's numbers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub mod known;

/// A journal failure (the disk, the lock, or a misuse of an idempotency key).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// SQLite failed.
    #[error("journal: {0}")]
    Db(#[from] rusqlite::Error),
    /// The file could not be prepared.
    #[error("journal file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Another process holds the journal's lock (`JOURNAL.lock`) and did not let go in time.
    #[error(
        "journal file {path}: another kkt process is using the journal (waited {:.0} s); use that process (the service) or another journal",
        waited.as_secs_f64()
    )]
    Locked {
        /// The lock file.
        path: String,
        /// How long it was waited for.
        waited: Duration,
    },
    /// The journal file exists but is empty (0 bytes): refused, never taken for a new journal.
    #[error(
        "journal file {path} is empty (0 bytes): it is not taken for a new journal, since the ids formed before would \
         not be recognised and formed again; restore the journal (or its backup) to this path"
    )]
    Empty {
        /// The file.
        path: String,
    },
    /// The journal file exists but cannot be read as a journal.
    #[error("journal file {path} cannot be read as a kkt journal: {reason}; restore the journal (or its backup) to this path")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// No journal at this path, and it must exist (a path used before, or an open that does not create).
    #[error("journal file {path} is missing{}: the ids formed through it cannot be recognised any more, so they would be formed again; restore the journal (or its backup) to this path, or start a new journal deliberately with --new-journal",
        used.as_deref().map(|u| format!(" (it was used {u})")).unwrap_or_default())]
    Missing {
        /// The file.
        path: String,
        /// When and for which FN it was used, as [`known::Known`] remembers it.
        used: Option<String>,
    },
    /// A backup's destination exists already.
    #[error("{path} exists: a backup is written to a new file only")]
    BackupExists {
        /// The destination.
        path: String,
    },
    /// An idempotency key was reused for different content.
    #[error(
        "id {id:?} was already used for a different {operation} (content differs); choose a new id for a new document"
    )]
    KeyReused {
        /// The key.
        id: String,
        /// The operation of the first use.
        operation: String,
    },
}

/// The exclusive lock of a journal file, held for one operation ([`Journal::lock`]); let go
/// when dropped (and by the system when the process dies).
#[derive(Debug)]
pub struct JournalLock {
    file: Option<std::fs::File>,
}

impl Drop for JournalLock {
    fn drop(&mut self) {
        if let Some(f) = &self.file {
            let _ = fs4::FileExt::unlock(f);
        }
    }
}

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum State {
    /// Sent (or about to be); the outcome is not known yet.
    Pending,
    /// The register formed the document.
    Formed,
    /// The register did not form the document.
    NotFormed,
}

impl State {
    fn parse(s: &str) -> State {
        match s {
            "formed" => State::Formed,
            "not_formed" => State::NotFormed,
            _ => State::Pending,
        }
    }
}

/// The document a formed entry produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// Fiscal document number.
    pub fd_number: u32,
    /// Fiscal sign (ФПД).
    pub fiscal_sign: u32,
    /// Date and time of the document (ISO 8601), if known.
    pub datetime: Option<String>,
    /// Shift number, if known.
    pub shift_number: Option<u32>,
    /// Receipt number in the shift, if known.
    pub receipt_number: Option<u32>,
}

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Sequence number in the journal.
    pub seq: i64,
    /// The POS's idempotency key, if given.
    pub id: Option<String>,
    /// What was done: `sell`, `sell_return`, `buy`, `buy_return`, `correction`, `open_shift`, ...
    pub operation: String,
    /// SHA-256 of the request's content, hex.
    pub content_hash: String,
    /// The register (FN number) the entry was sent to, if known.
    pub device: Option<String>,
    /// The FD number the document would get (last FD + 1 before sending), if known.
    pub expected_fd: Option<u32>,
    /// The receipt's total in kopecks (receipts only): with the operation, it tells this
    /// receipt's document from another in the FN archive; for cash in and out, the amount.
    pub total: Option<u64>,
    /// What the receipt's document in the FN archive must hold to be this entry's (JSON of
    /// `driver::reconcile::ReceiptContent`: operation, total, payments, items' names, prices,
    /// quantities); receipts only.
    #[serde(skip)]
    pub content: Option<String>,
    /// Cash in and out: the cash in the drawer before (kopecks, 0xB0), what the outcome is
    /// judged by (after = before ± the amount: done; after = before: not done).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cash_before: Option<u64>,
    /// Cash in and out, once done: the cash in the drawer after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cash_after: Option<u64>,
    /// Where it stands.
    pub state: State,
    /// The document, when formed.
    pub document: Option<Document>,
    /// Why it was not formed, or what is still unknown.
    pub note: Option<String>,
    /// When the entry was written (UTC, ISO 8601).
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

/// What [`Journal::begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    /// A new entry: send the command.
    New(i64),
    /// The idempotency key was used before for the same content: do not send; reconcile or
    /// return this entry.
    Existing(Box<Entry>),
}

/// What [`Journal::begin_entry`] writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NewEntry<'a> {
    /// The POS's idempotency key, if given.
    pub id: Option<&'a str>,
    /// What is done (`sell`, `correction`, `open_shift`, ...).
    pub operation: &'a str,
    /// [`content_hash`] of the request.
    pub content_hash: &'a str,
    /// The register (FN number).
    pub device: Option<&'a str>,
    /// The FD number the document would get.
    pub expected_fd: Option<u32>,
    /// The receipt's total in kopecks (cash in and out: the amount).
    pub total: Option<u64>,
    /// What its document must hold ([`Entry::content`]).
    pub content: Option<&'a str>,
    /// Cash in and out: the cash in the drawer before, kopecks.
    pub cash_before: Option<u64>,
}

/// The SHA-256 of `bytes`, hex.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The journal.
#[derive(Debug)]
pub struct Journal {
    db: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    idem_key TEXT UNIQUE,
    operation TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    device TEXT,
    expected_fd INTEGER,
    state TEXT NOT NULL CHECK (state IN ('pending', 'formed', 'not_formed')),
    fd_number INTEGER,
    fiscal_sign INTEGER,
    doc_datetime TEXT,
    shift_number INTEGER,
    receipt_number INTEGER,
    note TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    total INTEGER,
    content TEXT,
    cash_before INTEGER,
    cash_after INTEGER
);
CREATE INDEX IF NOT EXISTS entries_state ON entries(state);
CREATE INDEX IF NOT EXISTS entries_fd ON entries(device, fd_number);
";

/// Columns added since the first journals, added to an older journal when it is opened.
const ADDED_COLUMNS: &[(&str, &str)] =
    &[("total", "INTEGER"), ("content", "TEXT"), ("cash_before", "INTEGER"), ("cash_after", "INTEGER")];

/// The first bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

impl Journal {
    /// Opens the journal at `path`, creating it (mode 0600) when there is no file: a file that
    /// exists is opened only if it is a journal (never reinitialised). See [`Journal::create`]
    /// and [`Journal::open_existing`].
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        Self::create(path).map(|(j, _)| j)
    }

    /// Opens the journal at `path`, which must exist: [`JournalError::Missing`] otherwise,
    /// [`JournalError::Empty`] or [`JournalError::Unreadable`] for a file that is not a journal.
    pub fn open_existing(path: &Path) -> Result<Self, JournalError> {
        let shown = path.display().to_string();
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(JournalError::Missing { path: shown, used: None })
            }
            Err(source) => return Err(JournalError::Io { path: shown, source }),
        };
        if meta.is_dir() {
            return Err(JournalError::Unreadable { path: shown, reason: "it is a directory".into() });
        }
        if meta.len() == 0 {
            return Err(JournalError::Empty { path: shown });
        }
        let mut head = [0u8; 16];
        let read = std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head));
        match read {
            Ok(()) if &head == SQLITE_HEADER => {}
            Ok(()) => {
                return Err(JournalError::Unreadable { path: shown, reason: "it is not an SQLite database".into() })
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(JournalError::Unreadable { path: shown, reason: "it is truncated".into() })
            }
            Err(e) => return Err(JournalError::Unreadable { path: shown, reason: e.to_string() }),
        }
        let unreadable = |e: rusqlite::Error| JournalError::Unreadable { path: shown.clone(), reason: e.to_string() };
        let db = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(unreadable)?;
        let has_entries: i64 = db
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'entries'", [], |r| r.get(0))
            .map_err(unreadable)?;
        if has_entries == 0 {
            return Err(JournalError::Unreadable {
                path: shown,
                reason: "it holds no journal (a copy made without its -wal file?)".into(),
            });
        }
        Self::init(db)
    }

    /// Creates the journal at `path` (mode 0600; its directory too) if there is no file, and
    /// opens it; `true` when this call created it. The new journal is written whole beside
    /// `path` and linked into place, so that it never exists half made, and two processes
    /// creating it at once both open the one journal (the one that lost the race opens the
    /// winner's). A file that exists is opened as [`Journal::open_existing`] does.
    pub fn create(path: &Path) -> Result<(Self, bool), JournalError> {
        let io = |source| JournalError::Io { path: path.display().to_string(), source };
        if path.exists() {
            return Self::open_existing(path).map(|j| (j, false));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::fsutil::create_private_dir(dir).map_err(io)?;
        }
        let tmp = sibling(path, "new");
        let made = (|| {
            crate::fsutil::private_options().write(true).create_new(true).open(&tmp).map_err(io)?;
            let db = Connection::open(&tmp)?;
            Self::init(db)?;
            Ok::<_, JournalError>(())
        })();
        if let Err(e) = made {
            remove_db_files(&tmp);
            return Err(e);
        }
        let linked = match std::fs::hard_link(&tmp, path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            // A file system without hard links: copy into a file only this process creates.
            Err(_) => match crate::fsutil::private_options().write(true).create_new(true).open(path) {
                Ok(mut f) => std::fs::read(&tmp)
                    .and_then(|bytes| std::io::Write::write_all(&mut f, &bytes))
                    .and_then(|()| f.sync_all())
                    .map(|()| true),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(e),
            },
        };
        remove_db_files(&tmp);
        let created = linked.map_err(io)?;
        if created {
            crate::fsutil::sync_dir(path);
        }
        Self::open_existing(path).map(|j| (j, created))
    }

    /// A journal in memory (tests, the demo).
    pub fn in_memory() -> Result<Self, JournalError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut db: Connection) -> Result<Self, JournalError> {
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "FULL")?;
        // The schema in one transaction, idempotently: two processes opening (or creating) the
        // same journal at once both succeed.
        let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(SCHEMA)?;
        for (name, ty) in ADDED_COLUMNS {
            let has: i64 =
                tx.query_row("SELECT COUNT(*) FROM pragma_table_info('entries') WHERE name = ?1", [name], |r| {
                    r.get(0)
                })?;
            if has == 0 {
                tx.execute_batch(&format!("ALTER TABLE entries ADD COLUMN {name} {ty}"))?;
            }
        }
        tx.commit()?;
        Ok(Self { db })
    }

    /// Copies the whole journal into the new file `dest` (mode 0600), consistently while it
    /// is in use (SQLite's online backup): the copy is a journal of its own, every entry
    /// committed so far in its main file.
    pub fn backup(&self, dest: &Path) -> Result<(), JournalError> {
        let io = |source| JournalError::Io { path: dest.display().to_string(), source };
        if dest.exists() {
            return Err(JournalError::BackupExists { path: dest.display().to_string() });
        }
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::fsutil::create_private_dir(dir).map_err(io)?;
        }
        let tmp = sibling(dest, "backup");
        let copied = (|| {
            crate::fsutil::private_options().write(true).create_new(true).open(&tmp).map_err(io)?;
            let mut to = Connection::open(&tmp)?;
            {
                let b = rusqlite::backup::Backup::new(&self.db, &mut to)?;
                b.run_to_completion(256, Duration::ZERO, None)?;
            }
            // Closing the copy's only connection folds its WAL into its main file.
            drop(to);
            Ok::<_, JournalError>(())
        })();
        if let Err(e) = copied {
            remove_db_files(&tmp);
            return Err(e);
        }
        let linked = std::fs::hard_link(&tmp, dest).or_else(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Err(e),
            _ => std::fs::copy(&tmp, dest).map(|_| ()),
        });
        remove_db_files(&tmp);
        match linked {
            Ok(()) => {
                crate::fsutil::sync_dir(dest);
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(JournalError::BackupExists { path: dest.display().to_string() })
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Folds the WAL into the main file, so that a copy of the main file alone holds every
    /// entry written so far. A failure (another process reading) is logged: the entry is
    /// committed either way, and the next checkpoint catches up.
    fn checkpoint(&self) {
        if self.path().is_none() {
            return;
        }
        let r = self.db.query_row("PRAGMA wal_checkpoint(FULL)", [], |r| r.get::<_, i64>(0));
        match r {
            Ok(0) => {}
            Ok(_) => tracing::debug!("journal: WAL checkpoint not complete (a reader was busy)"),
            Err(e) => tracing::warn!(error = %e, "journal: WAL checkpoint failed"),
        }
    }

    /// The file the journal lives in (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.db.path().filter(|p| !p.is_empty()).map(Path::new)
    }

    /// Takes the exclusive lock of the journal file (`JOURNAL.lock`) for one operation, so that
    /// a second process never judges an entry still in flight; waits up to `wait` for another
    /// process to let go. `flock` on Unix, `LockFileEx` on Windows (fs4): the same rule on both.
    /// A journal in memory needs none.
    pub fn lock(&self, wait: Duration) -> Result<JournalLock, JournalError> {
        let Some(path) = self.path() else { return Ok(JournalLock { file: None }) };
        let mut name = path.as_os_str().to_owned();
        name.push(".lock");
        let lock_path = std::path::PathBuf::from(name);
        let io = |source| JournalError::Io { path: lock_path.display().to_string(), source };
        // Read and write access: Windows locks need one of them (append alone is not enough).
        let file = crate::fsutil::private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io)?;
        let started = std::time::Instant::now();
        loop {
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => return Ok(JournalLock { file: Some(file) }),
                Err(fs4::TryLockError::WouldBlock) if started.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(fs4::TryLockError::WouldBlock) => {
                    return Err(JournalError::Locked { path: lock_path.display().to_string(), waited: wait })
                }
                Err(fs4::TryLockError::Error(e)) => return Err(io(e)),
            }
        }
    }

    /// Writes a pending entry before the command is sent. With an idempotency key already in
    /// the journal for the same content, nothing is written and the old entry is returned; for
    /// different content it is an error.
    pub fn begin(
        &mut self,
        id: Option<&str>,
        operation: &str,
        content_hash: &str,
        device: Option<&str>,
        expected_fd: Option<u32>,
    ) -> Result<Begun, JournalError> {
        self.begin_entry(&NewEntry {
            id,
            operation,
            content_hash,
            device,
            expected_fd,
            total: None,
            content: None,
            cash_before: None,
        })
    }

    /// [`Journal::begin`] with every field of the entry (the receipt's total too).
    pub fn begin_entry(&mut self, new: &NewEntry<'_>) -> Result<Begun, JournalError> {
        let NewEntry { id, operation, content_hash, device, expected_fd, total, content, cash_before } = *new;
        // IMMEDIATE: it reads, then writes; a deferred transaction that another writer overtook
        // between the two would fail at once (SQLITE_BUSY without the busy wait).
        let tx = self.db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some(id) = id {
            let old =
                tx.query_row("SELECT seq FROM entries WHERE idem_key = ?1", [id], |r| r.get::<_, i64>(0)).optional()?;
            if let Some(seq) = old {
                let e = Self::get_in(&tx, seq)?;
                if let Some(e) = e {
                    if e.content_hash != content_hash || e.operation != operation {
                        return Err(JournalError::KeyReused { id: id.to_string(), operation: e.operation });
                    }
                    return Ok(Begun::Existing(Box::new(e)));
                }
            }
        }
        let t = now();
        tx.execute(
            "INSERT INTO entries (idem_key, operation, content_hash, device, expected_fd, total, content, cash_before, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?9)",
            params![
                id,
                operation,
                content_hash,
                device,
                expected_fd,
                total.map(|t| t as i64),
                content,
                cash_before.map(|t| t as i64),
                t
            ],
        )?;
        let seq = tx.last_insert_rowid();
        tx.commit()?;
        self.checkpoint();
        Ok(Begun::New(seq))
    }

    /// Records that entry `seq` formed `doc`.
    pub fn formed(&mut self, seq: i64, doc: &Document) -> Result<(), JournalError> {
        self.db.execute(
            "UPDATE entries SET state = 'formed', fd_number = ?2, fiscal_sign = ?3, doc_datetime = ?4,
             shift_number = ?5, receipt_number = ?6, note = NULL, updated_at = ?7 WHERE seq = ?1",
            params![seq, doc.fd_number, doc.fiscal_sign, doc.datetime, doc.shift_number, doc.receipt_number, now()],
        )?;
        self.checkpoint();
        Ok(())
    }

    /// Records that cash in or out `seq` was done, leaving `cash_after` in the drawer.
    pub fn cash_done(&mut self, seq: i64, cash_after: u64) -> Result<(), JournalError> {
        self.db.execute(
            "UPDATE entries SET state = 'formed', cash_after = ?2, note = NULL, updated_at = ?3 WHERE seq = ?1",
            params![seq, cash_after as i64, now()],
        )?;
        self.checkpoint();
        Ok(())
    }

    /// Makes a `not_formed` cash entry pending again for a new attempt with the counter now.
    pub fn retry_cash(&mut self, seq: i64, device: Option<&str>, cash_before: u64) -> Result<bool, JournalError> {
        let n = self.db.execute(
            "UPDATE entries SET state = 'pending', device = ?2, cash_before = ?3, note = NULL, updated_at = ?4
             WHERE seq = ?1 AND state = 'not_formed'",
            params![seq, device, cash_before as i64, now()],
        )?;
        Ok(n == 1)
    }

    /// Records that entry `seq` formed no document, and why.
    pub fn not_formed(&mut self, seq: i64, why: &str) -> Result<(), JournalError> {
        self.db.execute(
            "UPDATE entries SET state = 'not_formed', note = ?2, updated_at = ?3 WHERE seq = ?1",
            params![seq, why, now()],
        )?;
        self.checkpoint();
        Ok(())
    }

    /// Makes a `not_formed` entry pending again for a new attempt (same idempotency key), with
    /// the FD number the new attempt expects. Returns false if the entry was not `not_formed`.
    pub fn retry(&mut self, seq: i64, device: Option<&str>, expected_fd: Option<u32>) -> Result<bool, JournalError> {
        let n = self.db.execute(
            "UPDATE entries SET state = 'pending', device = ?2, expected_fd = ?3, note = NULL, updated_at = ?4
             WHERE seq = ?1 AND state = 'not_formed'",
            params![seq, device, expected_fd, now()],
        )?;
        self.checkpoint();
        Ok(n == 1)
    }

    /// Records that pending entry `seq` was sent to register (FN) `device`: for an entry whose
    /// recorded FN number was damaged (`kkt recover --settle-foreign`). Returns false if the
    /// entry was not pending.
    pub fn set_device(&mut self, seq: i64, device: &str, expected_fd: Option<u32>) -> Result<bool, JournalError> {
        let n = self.db.execute(
            "UPDATE entries SET device = ?2, expected_fd = ?3, updated_at = ?4 WHERE seq = ?1 AND state = 'pending'",
            params![seq, device, expected_fd, now()],
        )?;
        self.checkpoint();
        Ok(n == 1)
    }

    /// Leaves entry `seq` pending with a note on what is unknown.
    pub fn note(&mut self, seq: i64, note: &str) -> Result<(), JournalError> {
        self.db.execute("UPDATE entries SET note = ?2, updated_at = ?3 WHERE seq = ?1", params![seq, note, now()])?;
        self.checkpoint();
        Ok(())
    }

    /// Entry `seq`.
    pub fn get(&self, seq: i64) -> Result<Option<Entry>, JournalError> {
        Self::get_in(&self.db, seq)
    }

    /// The entry with idempotency key `id`.
    pub fn by_id(&self, id: &str) -> Result<Option<Entry>, JournalError> {
        let seq = self.db.query_row("SELECT seq FROM entries WHERE idem_key = ?1", [id], |r| r.get(0)).optional()?;
        match seq {
            Some(s) => Self::get_in(&self.db, s),
            None => Ok(None),
        }
    }

    /// The formed entry of register `device` with document `fd_number`, if any.
    pub fn formed_by_fd(&self, device: &str, fd_number: u32) -> Result<Option<Entry>, JournalError> {
        let seq = self
            .db
            .query_row(
                "SELECT seq FROM entries WHERE state = 'formed' AND device = ?1 AND fd_number = ?2",
                params![device, fd_number],
                |r| r.get(0),
            )
            .optional()?;
        match seq {
            Some(s) => Self::get_in(&self.db, s),
            None => Ok(None),
        }
    }

    /// The pending entries, oldest first (the order to reconcile them in).
    pub fn pending(&self) -> Result<Vec<Entry>, JournalError> {
        let mut st = self.db.prepare(&format!("SELECT {COLS} FROM entries WHERE state = 'pending' ORDER BY seq"))?;
        let rows = st.query_map([], row_to_entry)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Entries, newest first; only pending ones with `pending_only`.
    pub fn list(&self, pending_only: bool, limit: usize) -> Result<Vec<Entry>, JournalError> {
        let sql = format!(
            "SELECT {COLS} FROM entries {} ORDER BY seq DESC LIMIT ?1",
            if pending_only { "WHERE state = 'pending'" } else { "" }
        );
        let mut st = self.db.prepare(&sql)?;
        let rows = st.query_map([limit as i64], row_to_entry)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn get_in(db: &Connection, seq: i64) -> Result<Option<Entry>, JournalError> {
        Ok(db.query_row(&format!("SELECT {COLS} FROM entries WHERE seq = ?1"), [seq], row_to_entry).optional()?)
    }
}

const COLS: &str = "seq, idem_key, operation, content_hash, device, expected_fd, state, fd_number, fiscal_sign,
    doc_datetime, shift_number, receipt_number, note, created_at, updated_at, total, content, cash_before, cash_after";

/// `path` with `.NAME-PID-N.tmp` after its file name: a file beside it that no other call uses.
fn sibling(path: &Path, name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{name}-{}-{n}.tmp", std::process::id()));
    PathBuf::from(s)
}

/// Removes a database file and its `-wal`, `-shm` and `-journal` files (best effort).
fn remove_db_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut s = path.as_os_str().to_owned();
        s.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(s));
    }
}

fn row_to_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    let state = State::parse(&r.get::<_, String>(6)?);
    let fd: Option<u32> = r.get(7)?;
    let document = match (state, fd) {
        (State::Formed, Some(fd_number)) => Some(Document {
            fd_number,
            fiscal_sign: r.get::<_, Option<u32>>(8)?.unwrap_or(0),
            datetime: r.get(9)?,
            shift_number: r.get(10)?,
            receipt_number: r.get(11)?,
        }),
        _ => None,
    };
    Ok(Entry {
        seq: r.get(0)?,
        id: r.get(1)?,
        operation: r.get(2)?,
        content_hash: r.get(3)?,
        device: r.get(4)?,
        expected_fd: r.get(5)?,
        total: r.get::<_, Option<i64>>(15)?.map(|t| t as u64),
        content: r.get(16)?,
        cash_before: r.get::<_, Option<i64>>(17)?.map(|t| t as u64),
        cash_after: r.get::<_, Option<i64>>(18)?.map(|t| t as u64),
        state,
        document,
        note: r.get(12)?,
        created_at: r.get(13)?,
        updated_at: r.get(14)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(fd: u32) -> Document {
        Document {
            fd_number: fd,
            fiscal_sign: 123456,
            datetime: Some("2026-11-23T10:00:00".into()),
            shift_number: Some(1),
            receipt_number: Some(2),
        }
    }

    #[test]
    fn pending_then_formed() {
        let mut j = Journal::in_memory().unwrap();
        let h = content_hash(b"receipt 1");
        let Begun::New(seq) = j.begin(None, "sell", &h, Some("9999078902003867"), Some(11)).unwrap() else { panic!() };
        assert_eq!(j.list(true, 10).unwrap().len(), 1);
        j.formed(seq, &doc(11)).unwrap();
        assert!(j.list(true, 10).unwrap().is_empty());
        let e = j.get(seq).unwrap().unwrap();
        assert_eq!(e.state, State::Formed);
        assert_eq!(e.document, Some(doc(11)));
    }

    #[test]
    fn idempotency_key_returns_the_first_entry() {
        let mut j = Journal::in_memory().unwrap();
        let h = content_hash(b"receipt");
        let Begun::New(seq) = j.begin(Some("pos-1"), "sell", &h, None, Some(5)).unwrap() else { panic!() };
        j.formed(seq, &doc(5)).unwrap();
        match j.begin(Some("pos-1"), "sell", &h, None, Some(6)).unwrap() {
            Begun::Existing(e) => assert_eq!(e.document.unwrap().fd_number, 5),
            other => panic!("{other:?}"),
        }
        let e = j.begin(Some("pos-1"), "sell", &content_hash(b"other"), None, None).unwrap_err();
        assert!(matches!(e, JournalError::KeyReused { .. }), "{e}");
        // Without a key, the same content is a new sale.
        assert!(matches!(j.begin(None, "sell", &h, None, None).unwrap(), Begun::New(_)));
        assert!(matches!(j.begin(None, "sell", &h, None, None).unwrap(), Begun::New(_)));
    }

    #[test]
    fn survives_reopen_and_is_private() {
        let dir = std::env::temp_dir().join(format!("kkt-journal-{}", std::process::id()));
        let path = dir.join("journal.sqlite");
        {
            let mut j = Journal::open(&path).unwrap();
            let Begun::New(seq) = j.begin(Some("a"), "sell", "h", None, None).unwrap() else { panic!() };
            j.not_formed(seq, "register refused: 0x39").unwrap();
            j.begin(Some("b"), "sell", "h2", None, None).unwrap();
        }
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.by_id("a").unwrap().unwrap().state, State::NotFormed);
        assert_eq!(j.list(true, 10).unwrap()[0].id.as_deref(), Some("b"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // Closed first: Windows does not remove an open file (and would leave it for the next run).
        drop(j);
        std::fs::remove_dir_all(&dir).ok();
    }
}
