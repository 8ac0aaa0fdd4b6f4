//! ГИС МТ's emergency (seed 003 §7): «на период действия аварийной ситуации и 3 дней со дня
//! окончания такого периода» a store sells without the permissive checks, online and offline.
//!
//! The latch is a small file in the cache directory (`gismt-emergency.json`), shared by every
//! process of the till: a 203 from any ГИС МТ method (`/cdn/info`, `/cdn/health/check`,
//! `/codes/check`) sets it, and it holds for 3 days after the last 203 seen; while it holds no
//! `/codes/check` is sent at all. The store may also follow ЦРПТ's announcement by hand
//! (`kkt mark emergency on|off`): on holds until off; off starts the 3 days (or, with
//! `immediately`, clears the latch). Pure state ([`Latch`]) and a thin file shell
//! ([`EmergencyFile`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How long checks stay off after an emergency ends (the last 203, or the announced end).
pub const AFTER_MS: i64 = 3 * 24 * 3600 * 1000;

/// The latch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latch {
    /// When the current emergency was first seen or declared (Unix ms).
    pub since_ms: Option<i64>,
    /// The last HTTP 203 seen (Unix ms).
    pub last_203_ms: Option<i64>,
    /// What answered the last 203 (`https://cdn01… /codes/check`).
    pub last_203_from: Option<String>,
    /// Declared by hand and not yet ended.
    #[serde(default)]
    pub manual_on: bool,
    /// When a declared emergency was ended by hand (Unix ms): the 3 days run from here.
    pub manual_ended_ms: Option<i64>,
}

/// Why checks are off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cause {
    /// ГИС МТ answered 203.
    #[serde(rename = "203")]
    Http203,
    /// The store declared it (`kkt mark emergency on`).
    #[serde(rename = "manual")]
    Manual,
}

/// What `kkt mark emergency status` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Checks are off.
    pub emergency: bool,
    /// Since when (ISO 8601, UTC), when in an emergency.
    pub since: Option<String>,
    /// Until when (ISO 8601, UTC); none while declared by hand and not ended.
    pub until: Option<String>,
    /// Why.
    pub cause: Option<Cause>,
    /// The last 203 seen, and from what.
    pub last_203: Option<String>,
    /// What answered it.
    pub last_203_from: Option<String>,
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

impl Latch {
    /// The end of the 3 days after the last 203, if any.
    fn until_203(&self) -> Option<i64> {
        self.last_203_ms.map(|t| t + AFTER_MS)
    }

    /// The end of the 3 days after a declared emergency was ended.
    fn until_manual(&self) -> Option<i64> {
        self.manual_ended_ms.map(|t| t + AFTER_MS)
    }

    /// True while checks are off at `now_ms`.
    pub fn active(&self, now_ms: i64) -> bool {
        self.manual_on
            || self.until_203().is_some_and(|u| now_ms < u)
            || self.until_manual().is_some_and(|u| now_ms < u)
    }

    /// Until when checks are off (None while declared and not ended, or when not active).
    pub fn until(&self, now_ms: i64) -> Option<i64> {
        if !self.active(now_ms) || self.manual_on {
            return None;
        }
        self.until_203().into_iter().chain(self.until_manual()).filter(|&u| u > now_ms).max()
    }

    /// Why checks are off (None when they are not).
    pub fn cause(&self, now_ms: i64) -> Option<Cause> {
        if !self.active(now_ms) {
            return None;
        }
        if self.manual_on {
            return Some(Cause::Manual);
        }
        match (self.until_203().filter(|&u| u > now_ms), self.until_manual().filter(|&u| u > now_ms)) {
            (Some(a), Some(b)) if b > a => Some(Cause::Manual),
            (Some(_), _) => Some(Cause::Http203),
            (None, _) => Some(Cause::Manual),
        }
    }

    /// A 203 from `from` at `now_ms`.
    pub fn saw_203(&mut self, now_ms: i64, from: &str) {
        if !self.active(now_ms) {
            self.since_ms = Some(now_ms);
        }
        self.last_203_ms = Some(self.last_203_ms.map_or(now_ms, |t| t.max(now_ms)));
        self.last_203_from = Some(from.to_string());
    }

    /// Declared by hand at `now_ms`.
    pub fn declare(&mut self, now_ms: i64) {
        if !self.active(now_ms) {
            self.since_ms = Some(now_ms);
        }
        self.manual_on = true;
        self.manual_ended_ms = None;
    }

    /// Ended by hand at `now_ms`: checks stay off 3 more days (§7), unless `immediately`, which
    /// clears the latch (a mistaken declaration, a test contour's 203).
    pub fn end(&mut self, now_ms: i64, immediately: bool) {
        if immediately {
            *self = Latch::default();
            return;
        }
        if self.manual_on || self.active(now_ms) {
            self.manual_ended_ms = Some(now_ms);
        }
        self.manual_on = false;
    }

    /// The status at `now_ms`.
    pub fn status(&self, now_ms: i64) -> Status {
        let on = self.active(now_ms);
        Status {
            emergency: on,
            since: self.since_ms.filter(|_| on).map(iso),
            until: self.until(now_ms).map(iso),
            cause: self.cause(now_ms),
            last_203: self.last_203_ms.map(iso),
            last_203_from: self.last_203_from.clone(),
        }
    }

    /// A note for a verdict sold during the emergency.
    pub fn note(&self, now_ms: i64) -> String {
        let until = match self.until(now_ms) {
            Some(u) => format!("until {}", iso(u)),
            None => "until `kkt mark emergency off`".to_string(),
        };
        match self.cause(now_ms) {
            Some(Cause::Manual) => format!("declared by the store (kkt mark emergency on), checks off {until}"),
            _ => format!(
                "HTTP 203 from {} at {}, checks off {until} (seed 003 §7: the emergency and 3 days after)",
                self.last_203_from.as_deref().unwrap_or("ГИС МТ"),
                self.last_203_ms.map(iso).unwrap_or_default()
            ),
        }
    }
}

/// The latch file in a cache directory. Written atomically, private; a missing or unreadable
/// file is no emergency.
#[derive(Debug, Clone)]
pub struct EmergencyFile {
    path: PathBuf,
}

impl EmergencyFile {
    /// The latch of `dir`.
    pub fn in_dir(dir: &Path) -> EmergencyFile {
        EmergencyFile { path: dir.join("gismt-emergency.json") }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The latch as stored.
    pub fn load(&self) -> Latch {
        std::fs::read(&self.path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    /// Changes and stores the latch.
    pub fn update(&self, f: impl FnOnce(&mut Latch)) -> std::io::Result<Latch> {
        let mut l = self.load();
        f(&mut l);
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        crate::fsutil::write_private(&self.path, &serde_json::to_vec_pretty(&l).map_err(std::io::Error::other)?, true)?;
        Ok(l)
    }

    /// True while checks are off.
    pub fn active(&self, now_ms: i64) -> bool {
        self.load().active(now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_700_000_000_000;
    const DAY: i64 = 24 * 3600 * 1000;

    #[test]
    fn a_203_holds_three_days_after_the_last_one() {
        let mut l = Latch::default();
        assert!(!l.active(T));
        l.saw_203(T, "https://cdn01/codes/check");
        assert!(l.active(T) && l.active(T + 3 * DAY - 1));
        assert!(!l.active(T + 3 * DAY));
        // Another 203 two days later moves the end.
        l.saw_203(T + 2 * DAY, "https://cdn02/cdn/info");
        assert!(l.active(T + 3 * DAY));
        assert_eq!(l.until(T + 3 * DAY), Some(T + 5 * DAY));
        assert_eq!(l.cause(T), Some(Cause::Http203));
        let st = l.status(T + DAY);
        assert!(st.emergency);
        assert_eq!(st.since.as_deref(), Some("2023-11-14T22:13:20Z"));
        assert_eq!(st.last_203_from.as_deref(), Some("https://cdn02/cdn/info"));
        assert!(!l.status(T + 5 * DAY).emergency);
        // Over: a new 203 starts a new emergency.
        l.saw_203(T + 10 * DAY, "x");
        assert_eq!(l.since_ms, Some(T + 10 * DAY));
    }

    #[test]
    fn declared_by_hand() {
        let mut l = Latch::default();
        l.declare(T);
        assert!(l.active(T + 100 * DAY), "until it is ended");
        assert_eq!((l.until(T), l.cause(T)), (None, Some(Cause::Manual)));
        l.end(T + DAY, false);
        assert!(l.active(T + 4 * DAY - 1) && !l.active(T + 4 * DAY));
        assert_eq!(l.until(T + DAY), Some(T + 4 * DAY));
        l.declare(T + 2 * DAY);
        l.end(T + 2 * DAY, true);
        assert!(!l.active(T + 2 * DAY));
        assert_eq!(l, Latch::default());
        // Ending what was never declared does not start anything.
        l.end(T, false);
        assert!(!l.active(T));
    }

    #[test]
    fn the_file_is_shared() {
        let dir = std::env::temp_dir().join(format!("kkt-emergency-{}", std::process::id()));
        let a = EmergencyFile::in_dir(&dir);
        let b = EmergencyFile::in_dir(&dir);
        assert!(!a.active(T));
        a.update(|l| l.saw_203(T, "h")).unwrap();
        assert!(b.active(T + DAY));
        std::fs::write(b.path(), "garbage").unwrap();
        assert!(!a.active(T), "unreadable: no emergency");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
