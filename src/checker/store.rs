//! The sold-codes store (seed 003 §6.2, seed 002): codes this store sold and took back, with the
//! receipt and the time, so that a re-sale is caught without a network. SQLite in the cache
//! directory by default; PostgreSQL (`postgres://…`) for a chain of stores sharing one store.
//! Both use the same schema and the same statements.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::rules::StoreHit;
pub use crate::marking::verdict::CodeState;

/// The schema (one statement per entry; the same text for SQLite and PostgreSQL).
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS kkt_marked_codes (
        print_view TEXT PRIMARY KEY,
        code TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('sold', 'returned')),
        receipt TEXT NOT NULL,
        at_ms BIGINT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS kkt_marked_events (
        print_view TEXT NOT NULL,
        code TEXT NOT NULL,
        event TEXT NOT NULL CHECK (event IN ('sold', 'returned')),
        receipt TEXT NOT NULL,
        at_ms BIGINT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS kkt_marked_events_pv ON kkt_marked_events (print_view)",
];

/// The advisory lock key taken while the schema is created ("kktmark" in ASCII).
const SCHEMA_LOCK: i64 = 0x006b_6b74_6d61_726b;

const UPSERT: &str =
    "INSERT INTO kkt_marked_codes (print_view, code, state, receipt, at_ms) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (print_view) DO UPDATE SET code = excluded.code, state = excluded.state,
     receipt = excluded.receipt, at_ms = excluded.at_ms";
const EVENT: &str =
    "INSERT INTO kkt_marked_events (print_view, code, event, receipt, at_ms) VALUES ($1, $2, $3, $4, $5)";
const LOOKUP: &str = "SELECT state, receipt, at_ms FROM kkt_marked_codes WHERE print_view = $1";
const HISTORY: &str =
    "SELECT event, receipt, at_ms FROM kkt_marked_events WHERE print_view = $1 ORDER BY at_ms, event DESC";

fn parse_state(s: &str) -> Result<CodeState, StoreError> {
    match s {
        "sold" => Ok(CodeState::Sold),
        "returned" => Ok(CodeState::Returned),
        other => Err(StoreError::Data(format!("unknown state {other:?}"))),
    }
}

/// The last event of a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRecord {
    /// Sold or returned.
    pub state: CodeState,
    /// The receipt (e.g. "FN 7380440700089917 FD 123").
    pub receipt: String,
    /// When, Unix ms.
    pub at_ms: i64,
}

impl CodeRecord {
    /// As a rules fact: only a sale that was not returned counts.
    pub fn as_hit(&self) -> Option<StoreHit> {
        (self.state == CodeState::Sold).then(|| StoreHit { receipt: self.receipt.clone(), at_ms: self.at_ms })
    }
}

/// Store errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite.
    #[error("sold-codes store (SQLite): {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL.
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

/// A sold-codes store.
pub trait SoldCodes: Send {
    /// The last event of a code (by its print view).
    fn lookup(&mut self, print_view: &str) -> Result<Option<CodeRecord>, StoreError>;
    /// Records a sale or a return.
    fn record(
        &mut self,
        print_view: &str,
        code: &str,
        state: CodeState,
        receipt: &str,
        at_ms: i64,
    ) -> Result<(), StoreError>;
    /// Every event of a code, oldest first.
    fn history(&mut self, print_view: &str) -> Result<Vec<CodeRecord>, StoreError>;
}

/// The SQLite store.
pub struct SqliteStore {
    conn: rusqlite::Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating) the database at `path`.
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
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        for s in SCHEMA {
            conn.execute(s, [])?;
        }
        Ok(SqliteStore { conn, path: path.to_path_buf() })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl SoldCodes for SqliteStore {
    fn lookup(&mut self, print_view: &str) -> Result<Option<CodeRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(LOOKUP)?;
        let mut rows = st.query([print_view])?;
        match rows.next()? {
            Some(r) => Ok(Some(CodeRecord {
                state: parse_state(&r.get::<_, String>(0)?)?,
                receipt: r.get(1)?,
                at_ms: r.get(2)?,
            })),
            None => Ok(None),
        }
    }

    fn record(
        &mut self,
        print_view: &str,
        code: &str,
        state: CodeState,
        receipt: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let p = rusqlite::params![print_view, code, state.as_str(), receipt, at_ms];
        tx.execute(UPSERT, p)?;
        tx.execute(EVENT, p)?;
        tx.commit()?;
        Ok(())
    }

    fn history(&mut self, print_view: &str) -> Result<Vec<CodeRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(HISTORY)?;
        let rows = st.query_map([print_view], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))?;
        rows.map(|r| {
            let (s, receipt, at_ms) = r?;
            Ok(CodeRecord { state: parse_state(&s)?, receipt, at_ms })
        })
        .collect()
    }
}

/// The PostgreSQL store.
pub struct PostgresStore {
    client: postgres::Client,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/db`; no TLS) and creates the
    /// tables when missing.
    pub fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let mut client = postgres::Client::connect(url, postgres::NoTls)?;
        // Tills of a chain start together: CREATE … IF NOT EXISTS races in PostgreSQL, so the
        // schema is created under a transaction-scoped advisory lock.
        let mut tx = client.transaction()?;
        tx.batch_execute(&format!("SELECT pg_advisory_xact_lock({SCHEMA_LOCK})"))?;
        for s in SCHEMA {
            tx.batch_execute(s)?;
        }
        tx.commit()?;
        Ok(PostgresStore { client })
    }
}

impl SoldCodes for PostgresStore {
    fn lookup(&mut self, print_view: &str) -> Result<Option<CodeRecord>, StoreError> {
        let rows = self.client.query(LOOKUP, &[&print_view])?;
        match rows.first() {
            Some(r) => {
                Ok(Some(CodeRecord { state: parse_state(r.get::<_, &str>(0))?, receipt: r.get(1), at_ms: r.get(2) }))
            }
            None => Ok(None),
        }
    }

    fn record(
        &mut self,
        print_view: &str,
        code: &str,
        state: CodeState,
        receipt: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.client.transaction()?;
        let s = state.as_str();
        tx.execute(UPSERT, &[&print_view, &code, &s, &receipt, &at_ms])?;
        tx.execute(EVENT, &[&print_view, &code, &s, &receipt, &at_ms])?;
        tx.commit()?;
        Ok(())
    }

    fn history(&mut self, print_view: &str) -> Result<Vec<CodeRecord>, StoreError> {
        self.client
            .query(HISTORY, &[&print_view])?
            .iter()
            .map(|r| Ok(CodeRecord { state: parse_state(r.get::<_, &str>(0))?, receipt: r.get(1), at_ms: r.get(2) }))
            .collect()
    }
}

/// Opens a store from a location: `postgres://…` / `postgresql://…`, `sqlite:PATH`, or a path.
pub fn open(location: &str) -> Result<Box<dyn SoldCodes>, StoreError> {
    if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        return Ok(Box::new(PostgresStore::connect(location)?));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The behaviour every backend must have (also run against PostgreSQL in tests/).
    pub fn exercise(store: &mut dyn SoldCodes, tag: &str) {
        let pv = format!("0104670540176099215{tag}");
        assert_eq!(store.lookup(&pv).unwrap(), None);
        store.record(&pv, &format!("{pv}\u{1d}93dGVz"), CodeState::Sold, "FD 1", 1000).unwrap();
        let r = store.lookup(&pv).unwrap().unwrap();
        assert_eq!(r, CodeRecord { state: CodeState::Sold, receipt: "FD 1".into(), at_ms: 1000 });
        assert_eq!(r.as_hit(), Some(StoreHit { receipt: "FD 1".into(), at_ms: 1000 }));
        store.record(&pv, &pv, CodeState::Returned, "FD 2", 2000).unwrap();
        assert_eq!(store.lookup(&pv).unwrap().unwrap().as_hit(), None);
        store.record(&pv, &pv, CodeState::Sold, "FD 3", 3000).unwrap();
        let h = store.history(&pv).unwrap();
        assert_eq!(h.iter().map(|r| r.receipt.as_str()).collect::<Vec<_>>(), vec!["FD 1", "FD 2", "FD 3"]);
        assert_eq!(store.lookup(&pv).unwrap().unwrap().state, CodeState::Sold);
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
        assert_eq!(s.lookup("0104670540176099215abc").unwrap().unwrap().receipt, "FD 3");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_location() {
        assert!(matches!(open("sqlite:"), Err(StoreError::Location(_))));
    }
}
