//! The sold-codes store (seed 003 §6.2, seed 002): codes this store sold and took back, per legal
//! entity (`inn`), with the receipt and the time, so that a re-sale is caught without a network;
//! and the evidence trail: every verdict given (`kkt_mark_checks`: time, code, entity, source,
//! `reqId`, `reqTimestamp`, the answer's fields that decided, the verdict, the receipt's FD
//! number once formed), the store's record for ППР 1944 disputes.
//!
//! SQLite in the cache directory by default; PostgreSQL (`postgres://…`) for a chain of stores
//! sharing one store. Both use the same tables and statements (the checks table's key column
//! aside). A store of the first schema (no `inn`) is migrated in place when opened: its rows are
//! kept, with the entity unknown (`''`), and count as sold by every entity.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::rules::StoreHit;
pub use crate::marking::verdict::CodeState;

/// The tables (one statement per entry; the same text for SQLite and PostgreSQL).
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS kkt_marked_codes (
        inn TEXT NOT NULL DEFAULT '',
        print_view TEXT NOT NULL,
        code TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('sold', 'returned')),
        receipt TEXT NOT NULL,
        at_ms BIGINT NOT NULL,
        PRIMARY KEY (inn, print_view)
    )",
    "CREATE TABLE IF NOT EXISTS kkt_marked_events (
        print_view TEXT NOT NULL,
        code TEXT NOT NULL,
        event TEXT NOT NULL CHECK (event IN ('sold', 'returned')),
        receipt TEXT NOT NULL,
        at_ms BIGINT NOT NULL,
        inn TEXT NOT NULL DEFAULT ''
    )",
    "CREATE INDEX IF NOT EXISTS kkt_marked_events_pv ON kkt_marked_events (print_view)",
];

/// The checks table: its key column is the one thing the two servers spell differently.
fn checks_table(id: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS kkt_mark_checks (
            id {id},
            at_ms BIGINT NOT NULL,
            inn TEXT NOT NULL DEFAULT '',
            print_view TEXT NOT NULL,
            source TEXT NOT NULL,
            req_id TEXT,
            req_timestamp BIGINT,
            action TEXT NOT NULL,
            emergency BOOLEAN NOT NULL DEFAULT FALSE,
            reasons TEXT NOT NULL,
            decided TEXT NOT NULL,
            notes TEXT NOT NULL,
            fd_number BIGINT,
            receipt TEXT
        )"
    )
}

const CHECKS_INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS kkt_mark_checks_at ON kkt_mark_checks (at_ms)",
    "CREATE INDEX IF NOT EXISTS kkt_mark_checks_pv ON kkt_mark_checks (print_view)",
];

/// The advisory lock key taken while the schema is created ("kktmark" in ASCII).
#[cfg(feature = "postgres")]
const SCHEMA_LOCK: i64 = 0x006b_6b74_6d61_726b;

const UPSERT: &str =
    "INSERT INTO kkt_marked_codes (inn, print_view, code, state, receipt, at_ms) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (inn, print_view) DO UPDATE SET code = excluded.code, state = excluded.state,
     receipt = excluded.receipt, at_ms = excluded.at_ms";
const EVENT: &str =
    "INSERT INTO kkt_marked_events (inn, print_view, code, event, receipt, at_ms) VALUES ($1, $2, $3, $4, $5, $6)";
/// The last event of a code for an entity: its own rows and those of an unknown entity (a store
/// from before entities); for an unknown entity, every entity's.
const LOOKUP: &str = "SELECT state, receipt, at_ms, inn FROM kkt_marked_codes
     WHERE print_view = $1 AND ($2 = '' OR inn = $2 OR inn = '') ORDER BY at_ms DESC LIMIT 1";
const HISTORY: &str = "SELECT event, receipt, at_ms, inn FROM kkt_marked_events WHERE print_view = $1
     ORDER BY at_ms, event DESC";
const ADD_CHECK: &str = "INSERT INTO kkt_mark_checks (at_ms, inn, print_view, source, req_id, req_timestamp, action,
     emergency, reasons, decided, notes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
const SET_RECEIPT: &str = "UPDATE kkt_mark_checks SET fd_number = $1, receipt = $2 WHERE id = $3";
const CHECK_COLUMNS: &str = "id, at_ms, inn, print_view, source, req_id, req_timestamp, action, emergency, reasons,
     decided, notes, fd_number, receipt";
const PRUNE_CHECKS: &str = "DELETE FROM kkt_mark_checks WHERE at_ms < $1";
const PRUNE_EVENTS: &str = "DELETE FROM kkt_marked_events WHERE at_ms < $1";

/// The default retention of the evidence trail and the events: 3 years.
pub const DEFAULT_RETENTION_DAYS: u32 = 3 * 365;

fn parse_state(s: &str) -> Result<CodeState, StoreError> {
    match s {
        "sold" => Ok(CodeState::Sold),
        "returned" => Ok(CodeState::Returned),
        other => Err(StoreError::Data(format!("unknown state {other:?}"))),
    }
}

/// An event of a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRecord {
    /// Sold or returned.
    pub state: CodeState,
    /// The receipt (e.g. "FN 7380440700089917 FD 123").
    pub receipt: String,
    /// When, Unix ms.
    pub at_ms: i64,
    /// The legal entity (INN; empty when unknown).
    #[serde(default)]
    pub inn: String,
}

impl CodeRecord {
    /// As a rules fact: only a sale that was not returned counts.
    pub fn as_hit(&self) -> Option<StoreHit> {
        (self.state == CodeState::Sold).then(|| StoreHit { receipt: self.receipt.clone(), at_ms: self.at_ms })
    }
}

/// One verdict kept in the evidence trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRecord {
    /// Its row (0 before it is stored).
    pub id: i64,
    /// When the verdict was given, Unix ms.
    pub at_ms: i64,
    /// The legal entity (INN; empty when unknown).
    pub inn: String,
    /// The code without its crypto part.
    pub print_view: String,
    /// Where the facts came from (`online`, `tspiot`, `tspiot_lm`, `lm`, `none`).
    pub source: String,
    /// The answer's `reqId`.
    pub req_id: Option<String>,
    /// The answer's `reqTimestamp`, Unix ms.
    pub req_timestamp: Option<i64>,
    /// `sell`, `refuse` or `ask`.
    pub action: String,
    /// Sold without a check in an emergency.
    pub emergency: bool,
    /// The reasons (`rule`, `field`, `message`).
    pub reasons: serde_json::Value,
    /// The answer's fields the rules look at (`found`, `sold`, `isBlocked`, `expireDate`, …).
    pub decided: serde_json::Value,
    /// The verdict's notes.
    pub notes: Vec<String>,
    /// The receipt's FD number, once formed.
    pub fd_number: Option<i64>,
    /// The receipt ("FN … FD …"), once formed.
    pub receipt: Option<String>,
}

/// Store errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite.
    #[error("sold-codes store (SQLite): {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    #[error("sold-codes store (PostgreSQL): {0}")]
    Postgres(#[from] postgres::Error),
    /// The store's directory could not be made.
    #[error("sold-codes store: {path}: {source}")]
    Io {
        /// The directory.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A value the store cannot hold or read.
    #[error("sold-codes store: {0}")]
    Data(String),
    /// A location that is not understood.
    #[error("sold-codes store location {0:?}: use a file path, sqlite:PATH or postgres://…")]
    Location(String),
}

/// A sold-codes store with its evidence trail.
pub trait SoldCodes: Send {
    /// The last event of a code (by its print view) for the entity `inn` (empty: any entity).
    fn lookup(&mut self, inn: &str, print_view: &str) -> Result<Option<CodeRecord>, StoreError>;
    /// Records a sale or a return by the entity `inn`.
    fn record(
        &mut self,
        inn: &str,
        print_view: &str,
        code: &str,
        state: CodeState,
        receipt: &str,
        at_ms: i64,
    ) -> Result<(), StoreError>;
    /// Every event of a code, oldest first, every entity's.
    fn history(&mut self, print_view: &str) -> Result<Vec<CodeRecord>, StoreError>;
    /// Keeps a verdict; its id.
    fn add_check(&mut self, c: &CheckRecord) -> Result<i64, StoreError>;
    /// The receipt those verdicts' items were sold in.
    fn set_receipt(&mut self, ids: &[i64], fd_number: u32, receipt: &str) -> Result<(), StoreError>;
    /// The verdicts given since `since_ms` (oldest first), or those of one code, at most `limit`.
    fn checks(&mut self, since_ms: i64, print_view: Option<&str>, limit: usize)
        -> Result<Vec<CheckRecord>, StoreError>;
    /// Forgets verdicts and events older than `before_ms` (the sold state of a code stays); how
    /// many rows went.
    fn prune(&mut self, before_ms: i64) -> Result<u64, StoreError>;
}

fn checks_query(print_view: bool) -> String {
    let filter = if print_view { "at_ms >= $1 AND print_view = $2" } else { "at_ms >= $1" };
    format!("SELECT {CHECK_COLUMNS} FROM kkt_mark_checks WHERE {filter} ORDER BY at_ms, id LIMIT {{limit}}")
}

fn json_text(v: &impl Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn from_json_text<T: serde::de::DeserializeOwned + Default>(s: &str) -> T {
    serde_json::from_str(s).unwrap_or_default()
}

/// The SQLite store.
pub struct SqliteStore {
    conn: rusqlite::Connection,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish()
    }
}

impl SqliteStore {
    /// Opens (creating, or migrating from the first schema) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::fsutil::create_private_dir(dir)
                .map_err(|source| StoreError::Io { path: dir.display().to_string(), source })?;
        }
        // The file private to the user (0600 on Unix; SQLite gives its -wal and -shm files the
        // same mode): created so before SQLite opens it, and one an earlier kkt left readable
        // by others is made private.
        let io = |source| StoreError::Io { path: path.display().to_string(), source };
        match crate::fsutil::private_options().write(true).create_new(true).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
                    if mode & 0o077 != 0 {
                        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700)).map_err(io)?;
                    }
                }
            }
            Err(e) => return Err(io(e)),
        }
        let mut conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL: a till's sale and its checks do not wait on a reader (`kkt mark checks`).
        let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.execute_batch("PRAGMA synchronous = NORMAL")?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        Self::migrate(&tx)?;
        for s in SCHEMA {
            tx.execute(s, [])?;
        }
        tx.execute(&checks_table("INTEGER PRIMARY KEY AUTOINCREMENT"), [])?;
        for s in CHECKS_INDEXES {
            tx.execute(s, [])?;
        }
        tx.commit()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(SqliteStore { conn, path: path.to_path_buf() })
    }

    fn has_column(tx: &rusqlite::Transaction<'_>, table: &str, column: &str) -> Result<Option<bool>, StoreError> {
        let mut st = tx.prepare(&format!("PRAGMA table_info({table})"))?;
        let cols: Vec<String> = st.query_map([], |r| r.get::<_, String>(1))?.collect::<Result<_, _>>()?;
        Ok((!cols.is_empty()).then(|| cols.iter().any(|c| c == column)))
    }

    /// The first schema had no `inn`: the codes table is rebuilt with its new key (SQLite cannot
    /// change a primary key), the events table gets the column; every row is kept.
    fn migrate(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
        if Self::has_column(tx, "kkt_marked_codes", "inn")? == Some(false) {
            tracing::info!(target: "kkt::store", "migrating the sold-codes store: adding the legal entity (inn)");
            tx.execute_batch(
                "ALTER TABLE kkt_marked_codes RENAME TO kkt_marked_codes_v1;
                 CREATE TABLE kkt_marked_codes (
                    inn TEXT NOT NULL DEFAULT '',
                    print_view TEXT NOT NULL,
                    code TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('sold', 'returned')),
                    receipt TEXT NOT NULL,
                    at_ms BIGINT NOT NULL,
                    PRIMARY KEY (inn, print_view)
                 );
                 INSERT INTO kkt_marked_codes (inn, print_view, code, state, receipt, at_ms)
                    SELECT '', print_view, code, state, receipt, at_ms FROM kkt_marked_codes_v1;
                 DROP TABLE kkt_marked_codes_v1;",
            )?;
        }
        if Self::has_column(tx, "kkt_marked_events", "inn")? == Some(false) {
            tx.execute_batch("ALTER TABLE kkt_marked_events ADD COLUMN inn TEXT NOT NULL DEFAULT ''")?;
        }
        Ok(())
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn sqlite_check(r: &rusqlite::Row<'_>) -> rusqlite::Result<CheckRecord> {
    Ok(CheckRecord {
        id: r.get(0)?,
        at_ms: r.get(1)?,
        inn: r.get(2)?,
        print_view: r.get(3)?,
        source: r.get(4)?,
        req_id: r.get(5)?,
        req_timestamp: r.get(6)?,
        action: r.get(7)?,
        emergency: r.get(8)?,
        reasons: from_json_text(&r.get::<_, String>(9)?),
        decided: from_json_text(&r.get::<_, String>(10)?),
        notes: from_json_text(&r.get::<_, String>(11)?),
        fd_number: r.get(12)?,
        receipt: r.get(13)?,
    })
}

impl SoldCodes for SqliteStore {
    fn lookup(&mut self, inn: &str, print_view: &str) -> Result<Option<CodeRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(LOOKUP)?;
        let mut rows = st.query([print_view, inn])?;
        match rows.next()? {
            Some(r) => Ok(Some(CodeRecord {
                state: parse_state(&r.get::<_, String>(0)?)?,
                receipt: r.get(1)?,
                at_ms: r.get(2)?,
                inn: r.get(3)?,
            })),
            None => Ok(None),
        }
    }

    fn record(
        &mut self,
        inn: &str,
        print_view: &str,
        code: &str,
        state: CodeState,
        receipt: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let p = rusqlite::params![inn, print_view, code, state.as_str(), receipt, at_ms];
        tx.execute(UPSERT, p)?;
        tx.execute(EVENT, p)?;
        tx.commit()?;
        Ok(())
    }

    fn history(&mut self, print_view: &str) -> Result<Vec<CodeRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(HISTORY)?;
        let rows = st.query_map([print_view], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.map(|r| {
            let (s, receipt, at_ms, inn) = r?;
            Ok(CodeRecord { state: parse_state(&s)?, receipt, at_ms, inn })
        })
        .collect()
    }

    fn add_check(&mut self, c: &CheckRecord) -> Result<i64, StoreError> {
        let mut st = self.conn.prepare_cached(ADD_CHECK)?;
        let id = st.query_row(
            rusqlite::params![
                c.at_ms,
                c.inn,
                c.print_view,
                c.source,
                c.req_id,
                c.req_timestamp,
                c.action,
                c.emergency,
                json_text(&c.reasons),
                json_text(&c.decided),
                json_text(&c.notes)
            ],
            |r| r.get(0),
        )?;
        Ok(id)
    }

    fn set_receipt(&mut self, ids: &[i64], fd_number: u32, receipt: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for id in ids {
            tx.execute(SET_RECEIPT, rusqlite::params![i64::from(fd_number), receipt, id])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn checks(
        &mut self,
        since_ms: i64,
        print_view: Option<&str>,
        limit: usize,
    ) -> Result<Vec<CheckRecord>, StoreError> {
        let q = checks_query(print_view.is_some()).replace("{limit}", &limit.to_string());
        let mut st = self.conn.prepare(&q)?;
        let rows: Vec<CheckRecord> = match print_view {
            Some(pv) => st.query_map(rusqlite::params![since_ms, pv], sqlite_check)?.collect::<Result<_, _>>()?,
            None => st.query_map(rusqlite::params![since_ms], sqlite_check)?.collect::<Result<_, _>>()?,
        };
        Ok(rows)
    }

    fn prune(&mut self, before_ms: i64) -> Result<u64, StoreError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(PRUNE_CHECKS, [before_ms])? + tx.execute(PRUNE_EVENTS, [before_ms])?;
        tx.commit()?;
        Ok(n as u64)
    }
}

#[cfg(feature = "postgres")]
/// The PostgreSQL store.
pub struct PostgresStore {
    client: postgres::Client,
}

#[cfg(feature = "postgres")]
impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection string holds a password: never printed.
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

#[cfg(feature = "postgres")]
impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/db`; no TLS) and creates the
    /// tables when missing (or migrates those of the first schema).
    pub fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let mut client = postgres::Client::connect(url, postgres::NoTls)?;
        // Tills of a chain start together: CREATE … IF NOT EXISTS races in PostgreSQL, so the
        // schema is created (and migrated) under a transaction-scoped advisory lock.
        let mut tx = client.transaction()?;
        tx.batch_execute(&format!("SELECT pg_advisory_xact_lock({SCHEMA_LOCK})"))?;
        Self::migrate(&mut tx)?;
        for s in SCHEMA {
            tx.batch_execute(s)?;
        }
        tx.batch_execute(&checks_table("BIGSERIAL PRIMARY KEY"))?;
        for s in CHECKS_INDEXES {
            tx.batch_execute(s)?;
        }
        tx.commit()?;
        Ok(PostgresStore { client })
    }

    fn has_column(tx: &mut postgres::Transaction<'_>, table: &str, column: &str) -> Result<Option<bool>, StoreError> {
        let rows = tx.query(
            "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
            &[&table],
        )?;
        let cols: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        Ok((!cols.is_empty()).then(|| cols.iter().any(|c| c == column)))
    }

    /// The first schema had no `inn`: the column is added and the codes' key becomes (inn,
    /// print_view); every row is kept.
    fn migrate(tx: &mut postgres::Transaction<'_>) -> Result<(), StoreError> {
        if Self::has_column(tx, "kkt_marked_codes", "inn")? == Some(false) {
            tracing::info!(target: "kkt::store", "migrating the sold-codes store: adding the legal entity (inn)");
            let pk: Option<String> = tx
                .query_opt(
                    "SELECT conname::text FROM pg_constraint WHERE conrelid = 'kkt_marked_codes'::regclass AND contype = 'p'",
                    &[],
                )?
                .map(|r| r.get(0));
            tx.batch_execute("ALTER TABLE kkt_marked_codes ADD COLUMN inn TEXT NOT NULL DEFAULT ''")?;
            if let Some(pk) = pk {
                tx.batch_execute(&format!("ALTER TABLE kkt_marked_codes DROP CONSTRAINT \"{}\"", pk.replace('"', "")))?;
            }
            tx.batch_execute("ALTER TABLE kkt_marked_codes ADD PRIMARY KEY (inn, print_view)")?;
        }
        if Self::has_column(tx, "kkt_marked_events", "inn")? == Some(false) {
            tx.batch_execute("ALTER TABLE kkt_marked_events ADD COLUMN inn TEXT NOT NULL DEFAULT ''")?;
        }
        Ok(())
    }
}

#[cfg(feature = "postgres")]
fn pg_check(r: &postgres::Row) -> CheckRecord {
    CheckRecord {
        id: r.get(0),
        at_ms: r.get(1),
        inn: r.get(2),
        print_view: r.get(3),
        source: r.get(4),
        req_id: r.get(5),
        req_timestamp: r.get(6),
        action: r.get(7),
        emergency: r.get(8),
        reasons: from_json_text(r.get::<_, &str>(9)),
        decided: from_json_text(r.get::<_, &str>(10)),
        notes: from_json_text(r.get::<_, &str>(11)),
        fd_number: r.get(12),
        receipt: r.get(13),
    }
}

#[cfg(feature = "postgres")]
impl SoldCodes for PostgresStore {
    fn lookup(&mut self, inn: &str, print_view: &str) -> Result<Option<CodeRecord>, StoreError> {
        let rows = self.client.query(LOOKUP, &[&print_view, &inn])?;
        match rows.first() {
            Some(r) => Ok(Some(CodeRecord {
                state: parse_state(r.get::<_, &str>(0))?,
                receipt: r.get(1),
                at_ms: r.get(2),
                inn: r.get(3),
            })),
            None => Ok(None),
        }
    }

    fn record(
        &mut self,
        inn: &str,
        print_view: &str,
        code: &str,
        state: CodeState,
        receipt: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.client.transaction()?;
        let s = state.as_str();
        tx.execute(UPSERT, &[&inn, &print_view, &code, &s, &receipt, &at_ms])?;
        tx.execute(EVENT, &[&inn, &print_view, &code, &s, &receipt, &at_ms])?;
        tx.commit()?;
        Ok(())
    }

    fn history(&mut self, print_view: &str) -> Result<Vec<CodeRecord>, StoreError> {
        self.client
            .query(HISTORY, &[&print_view])?
            .iter()
            .map(|r| {
                Ok(CodeRecord {
                    state: parse_state(r.get::<_, &str>(0))?,
                    receipt: r.get(1),
                    at_ms: r.get(2),
                    inn: r.get(3),
                })
            })
            .collect()
    }

    fn add_check(&mut self, c: &CheckRecord) -> Result<i64, StoreError> {
        let (reasons, decided, notes) = (json_text(&c.reasons), json_text(&c.decided), json_text(&c.notes));
        let r = self.client.query_one(
            ADD_CHECK,
            &[
                &c.at_ms,
                &c.inn,
                &c.print_view,
                &c.source,
                &c.req_id,
                &c.req_timestamp,
                &c.action,
                &c.emergency,
                &reasons,
                &decided,
                &notes,
            ],
        )?;
        Ok(r.get(0))
    }

    fn set_receipt(&mut self, ids: &[i64], fd_number: u32, receipt: &str) -> Result<(), StoreError> {
        let mut tx = self.client.transaction()?;
        for id in ids {
            tx.execute(SET_RECEIPT, &[&i64::from(fd_number), &receipt, id])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn checks(
        &mut self,
        since_ms: i64,
        print_view: Option<&str>,
        limit: usize,
    ) -> Result<Vec<CheckRecord>, StoreError> {
        let q = checks_query(print_view.is_some()).replace("{limit}", &limit.to_string());
        let rows = match print_view {
            Some(pv) => self.client.query(&q, &[&since_ms, &pv])?,
            None => self.client.query(&q, &[&since_ms])?,
        };
        Ok(rows.iter().map(pg_check).collect())
    }

    fn prune(&mut self, before_ms: i64) -> Result<u64, StoreError> {
        let mut tx = self.client.transaction()?;
        let n = tx.execute(PRUNE_CHECKS, &[&before_ms])? + tx.execute(PRUNE_EVENTS, &[&before_ms])?;
        tx.commit()?;
        Ok(n)
    }
}

/// Opens a store from a location: `postgres://…` / `postgresql://…`, `sqlite:PATH`, or a path.
pub fn open(location: &str) -> Result<Box<dyn SoldCodes>, StoreError> {
    if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        return Ok(Box::new(PostgresStore::connect(location)?));
        #[cfg(not(feature = "postgres"))]
        return Err(StoreError::Data(format!(
            "{}: this kkt was built without the `postgres` feature: use a SQLite store",
            location.split('@').next_back().unwrap_or("postgres://…")
        )));
    }
    let path = location.strip_prefix("sqlite:").unwrap_or(location);
    if path.is_empty() {
        return Err(StoreError::Location(location.to_string()));
    }
    Ok(Box::new(SqliteStore::open(Path::new(path))?))
}

/// The default SQLite file in a cache directory.
pub fn default_path(cache_dir: &Path) -> PathBuf {
    cache_dir.join("sold-codes.sqlite")
}

/// Prunes the store at `location` on a thread of its own (its own connection, so that no sale
/// waits): verdicts and events older than `retention_days`. At most once a day per store: a
/// marker file in `cache_dir` remembers the last run.
pub fn prune_in_background(
    location: String,
    cache_dir: PathBuf,
    retention_days: u32,
) -> Option<std::thread::JoinHandle<()>> {
    let now = super::gismt::now_ms();
    let marker = cache_dir.join(format!(
        "store-pruned-{}.txt",
        hex::encode(&ring::digest::digest(&ring::digest::SHA256, location.as_bytes()).as_ref()[..6])
    ));
    let last: i64 = std::fs::read_to_string(&marker).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    if now - last < 24 * 3600 * 1000 {
        return None;
    }
    Some(std::thread::spawn(move || {
        let before = now - i64::from(retention_days) * 24 * 3600 * 1000;
        match open(&location).and_then(|mut s| s.prune(before)) {
            Ok(n) => {
                tracing::debug!(target: "kkt::store", rows = n, retention_days, "sold-codes store pruned");
                let _ = std::fs::create_dir_all(&cache_dir);
                let _ = crate::fsutil::write_private(&marker, now.to_string().as_bytes(), false);
            }
            Err(e) => tracing::warn!(target: "kkt::store", "pruning the sold-codes store failed: {e}"),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The behaviour every backend must have (also run against PostgreSQL in tests/).
    pub(crate) fn exercise(store: &mut dyn SoldCodes, tag: &str) {
        let pv = format!("0104670540176099215{tag}");
        assert_eq!(store.lookup("", &pv).unwrap(), None);
        store.record("7701234567", &pv, &format!("{pv}\u{1d}93dGVz"), CodeState::Sold, "FD 1", 1000).unwrap();
        let r = store.lookup("7701234567", &pv).unwrap().unwrap();
        assert_eq!(
            r,
            CodeRecord { state: CodeState::Sold, receipt: "FD 1".into(), at_ms: 1000, inn: "7701234567".into() }
        );
        assert_eq!(r.as_hit(), Some(StoreHit { receipt: "FD 1".into(), at_ms: 1000 }));
        // Another entity did not sell it; an unknown entity sees every entity's sale.
        assert_eq!(store.lookup("500100732259", &pv).unwrap(), None);
        assert!(store.lookup("", &pv).unwrap().is_some());
        store.record("7701234567", &pv, &pv, CodeState::Returned, "FD 2", 2000).unwrap();
        assert_eq!(store.lookup("7701234567", &pv).unwrap().unwrap().as_hit(), None);
        store.record("7701234567", &pv, &pv, CodeState::Sold, "FD 3", 3000).unwrap();
        let h = store.history(&pv).unwrap();
        assert_eq!(h.iter().map(|r| r.receipt.as_str()).collect::<Vec<_>>(), vec!["FD 1", "FD 2", "FD 3"]);
        assert_eq!(store.lookup("7701234567", &pv).unwrap().unwrap().state, CodeState::Sold);
        // The evidence trail.
        let c = CheckRecord {
            id: 0,
            at_ms: 5000,
            inn: "7701234567".into(),
            print_view: pv.clone(),
            source: "online".into(),
            req_id: Some("u-1".into()),
            req_timestamp: Some(4999),
            action: "sell".into(),
            emergency: false,
            reasons: serde_json::json!([]),
            decided: serde_json::json!({"found": true, "sold": false}),
            notes: vec!["n".into()],
            fd_number: None,
            receipt: None,
        };
        let id = store.add_check(&c).unwrap();
        assert!(id > 0);
        store.set_receipt(&[id], 12, "FN 1 FD 12").unwrap();
        let got = store.checks(0, Some(&pv), 10).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0], CheckRecord { id, fd_number: Some(12), receipt: Some("FN 1 FD 12".into()), ..c });
        assert_eq!(store.checks(5001, Some(&pv), 10).unwrap(), vec![]);
        assert!(store.prune(4000).unwrap() >= 3, "the events before 4000 ms");
        assert_eq!(store.history(&pv).unwrap(), vec![]);
        assert_eq!(store.lookup("7701234567", &pv).unwrap().unwrap().state, CodeState::Sold, "the state stays");
        assert_eq!(store.checks(0, Some(&pv), 10).unwrap().len(), 1);
    }

    #[test]
    fn sqlite_store() {
        let dir = std::env::temp_dir().join(format!("kkt-store-{}", std::process::id()));
        let path = default_path(&dir);
        let _ = std::fs::remove_file(&path);
        {
            let mut s = open(&format!("sqlite:{}", path.display())).unwrap();
            exercise(s.as_mut(), "abc");
        }
        // A second process (or a restart) sees the sale.
        let mut s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.lookup("7701234567", "0104670540176099215abc").unwrap().unwrap().receipt, "FD 3");
        // Closed first: Windows does not remove an open file.
        drop(s);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_location() {
        assert!(matches!(open("sqlite:"), Err(StoreError::Location(_))));
    }
}
