//! The journals a user has used, remembered (SQLite, mode 0600, in the user's state directory:
//! the command line chooses where), so that a journal missing at a path used before is told
//! from a path never used: the first is refused (the ids formed through it would be formed
//! again), the second is a new journal.
//!
//! Each row: the journal's absolute path, the FN serial of the register it last served, when it
//! was first and last used. Two processes may write at once (SQLite transactions).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::JournalError;

/// A journal remembered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnownJournal {
    /// Its absolute path.
    pub path: PathBuf,
    /// The FN serial of the register it last served, once known.
    pub fn_serial: Option<String>,
    /// When it was first used (UTC, ISO 8601).
    pub first_used: String,
    /// When it was last used.
    pub last_used: String,
}

impl KnownJournal {
    /// "on 2026-03-04 for FN 9999078902003867", for messages.
    pub fn describe(&self) -> String {
        let day = self.last_used.get(..10).unwrap_or(&self.last_used);
        match &self.fn_serial {
            Some(f) => format!("last on {day}, for the register with FN {f}"),
            None => format!("last on {day}"),
        }
    }
}

/// The remembered journals.
#[derive(Debug)]
pub struct Known {
    db: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS journals (
    path TEXT PRIMARY KEY,
    fn_serial TEXT,
    first_used TEXT NOT NULL,
    last_used TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS journals_fn ON journals(fn_serial);
";

/// The absolute form of a journal path, as it is remembered: the directory resolved when it
/// exists (symbolic links, `..`), the file name kept.
pub fn absolute(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (abs.parent(), abs.file_name()) {
        (Some(dir), Some(name)) => match std::fs::canonicalize(dir) {
            Ok(d) => d.join(name),
            Err(_) => abs.clone(),
        },
        _ => abs,
    }
}

impl Known {
    /// Opens (or creates, mode 0600, its directory 0700) the file at `path`.
    pub fn open(path: &Path) -> Result<Known, JournalError> {
        let io = |source| JournalError::Io { path: path.display().to_string(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::fsutil::create_private_dir(dir).map_err(io)?;
        }
        if !path.exists() {
            // Created private before SQLite writes to it (a second process may win: fine).
            let _ = crate::fsutil::private_options().write(true).create_new(true).open(path);
        }
        let mut db = Connection::open(path)?;
        db.busy_timeout(Duration::from_secs(10))?;
        let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(SCHEMA)?;
        tx.commit()?;
        Ok(Known { db })
    }

    /// What is remembered of the journal at `journal`.
    pub fn get(&self, journal: &Path) -> Result<Option<KnownJournal>, JournalError> {
        let key = absolute(journal);
        Ok(self
            .db
            .query_row(
                "SELECT path, fn_serial, first_used, last_used FROM journals WHERE path = ?1",
                [key.to_string_lossy()],
                row,
            )
            .optional()?)
    }

    /// Remembers that the journal at `journal` is used now (and, once known, the FN it serves).
    pub fn remember(&self, journal: &Path, fn_serial: Option<&str>) -> Result<(), JournalError> {
        let key = absolute(journal);
        let t = super::now();
        self.db.execute(
            "INSERT INTO journals (path, fn_serial, first_used, last_used) VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT(path) DO UPDATE SET fn_serial = COALESCE(?2, fn_serial), last_used = ?3",
            params![key.to_string_lossy(), fn_serial, t],
        )?;
        Ok(())
    }

    /// The other journals that served the register with FN `fn_serial`.
    pub fn served(&self, fn_serial: &str, except: &Path) -> Result<Vec<KnownJournal>, JournalError> {
        let key = absolute(except);
        let mut st = self.db.prepare(
            "SELECT path, fn_serial, first_used, last_used FROM journals WHERE fn_serial = ?1 AND path != ?2
             ORDER BY last_used DESC",
        )?;
        let rows = st.query_map(params![fn_serial, key.to_string_lossy()], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KnownJournal> {
    Ok(KnownJournal {
        path: PathBuf::from(r.get::<_, String>(0)?),
        fn_serial: r.get(1)?,
        first_used: r.get(2)?,
        last_used: r.get(3)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_paths_and_their_fn() {
        let dir = std::env::temp_dir().join(format!("kkt-known-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let k = Known::open(&dir.join("state").join("journals.sqlite")).unwrap();
        let a = dir.join("a.sqlite");
        assert_eq!(k.get(&a).unwrap(), None);
        k.remember(&a, None).unwrap();
        assert_eq!(k.get(&a).unwrap().unwrap().fn_serial, None);
        k.remember(&a, Some("9999078902003867")).unwrap();
        // A later use without the FN keeps the FN known.
        k.remember(&a, None).unwrap();
        let got = k.get(&dir.join(".").join("a.sqlite")).unwrap().unwrap();
        assert_eq!(got.fn_serial.as_deref(), Some("9999078902003867"));
        assert!(got.describe().contains("9999078902003867"));
        let b = dir.join("b.sqlite");
        k.remember(&b, Some("9999078902003867")).unwrap();
        let others = k.served("9999078902003867", &b).unwrap();
        assert_eq!(others.len(), 1);
        assert_eq!(others[0].path, absolute(&a));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir.join("state")), 0o700);
            assert_eq!(mode(&dir.join("state").join("journals.sqlite")), 0o600);
        }
        drop(k);
        std::fs::remove_dir_all(&dir).ok();
    }
}
