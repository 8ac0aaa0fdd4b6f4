//! Files kkt writes: private to the user, whatever they hold — the journal, logs, caches and the
//! virtual register's state may name documents, customers or devices.
//!
//! On Unix they are created with mode 0600. On Windows a new file takes the access list of its
//! folder: kkt's default folders are in the user's profile (`%APPDATA%`, `%LOCALAPPDATA%`), which
//! only the user, SYSTEM and the Administrators can open; a file put elsewhere (`--journal
//! D:\shared\…`) is as private as that folder.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Options that create a file readable and writable by its owner only (0600 on Unix; on
/// Windows the folder's access list, see the module documentation).
pub fn private_options() -> std::fs::OpenOptions {
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut o = std::fs::OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o
}

/// Opens a file for appending, created private.
pub fn open_private_append(p: &Path) -> std::io::Result<std::fs::File> {
    private_options().create(true).append(true).open(p)
}

/// Replaces `path` with `bytes` through a private temporary file beside it and a rename, so a
/// reader sees the old or the new content, never a mix. With `durable`, the file and the
/// directory are synced too, so that a power cut keeps one of the two.
pub fn write_private(path: &Path, bytes: &[u8], durable: bool) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // Unique per process and per call: two threads may replace the same file at once.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp{}.{n}", std::process::id()));
    {
        let mut f = private_options().write(true).create(true).truncate(true).open(&tmp)?;
        f.write_all(bytes)?;
        if durable {
            f.sync_all()?;
        }
    }
    std::fs::rename(&tmp, path)?;
    if durable {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Syncs the directory holding `path` (best effort), so that a new name in it survives a power
/// cut.
pub fn sync_dir(path: &Path) {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Creates directory `dir` (and its parents) for kkt's private files: the directories this
/// call creates get mode 0700 on Unix (the user's own); on Windows they take the access list of
/// the folder above (the user's profile for kkt's default folders).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file's mode on Unix; Windows has none (the folder's access list applies).
    fn mode(p: &Path) -> Option<u32> {
        #[cfg(unix)]
        return Some(std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions()) & 0o777);
        #[cfg(not(unix))]
        {
            assert!(p.exists());
            None
        }
    }

    const PRIVATE: Option<u32> = if cfg!(unix) { Some(0o600) } else { None };

    #[test]
    fn files_are_private_and_replaced_whole() {
        let dir = std::env::temp_dir().join(format!("kkt-fsutil-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("state.json");
        write_private(&p, b"one", true).unwrap();
        assert_eq!((std::fs::read(&p).unwrap(), mode(&p)), (b"one".to_vec(), PRIVATE));
        write_private(&p, b"two", false).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file left");
        let log = dir.join("kkt.log");
        open_private_append(&log).unwrap().write_all(b"a\n").unwrap();
        open_private_append(&log).unwrap().write_all(b"b\n").unwrap();
        assert_eq!((std::fs::read(&log).unwrap(), mode(&log)), (b"a\nb\n".to_vec(), PRIVATE));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
