//! Where kkt keeps its files by default, from the system's own folders (`dirs`): one place,
//! used by the commands and printed by `kkt --help`.
//!
//! | | Linux | macOS | Windows |
//! |---|---|---|---|
//! | config | `~/.config/kkt/config.toml` | `~/Library/Application Support/kkt/config.toml` | `%APPDATA%\kkt\config.toml` |
//! | journal | `~/.local/share/kkt/journal.sqlite` | `~/Library/Application Support/kkt/journal.sqlite` | `%LOCALAPPDATA%\kkt\journal.sqlite` |
//! | cache | `~/.cache/kkt` | `~/Library/Caches/kkt` | `%LOCALAPPDATA%\kkt\cache` |
//!
//! On Windows the journal is in the local (not roaming) profile: it belongs to the register on
//! this machine, and a roaming profile would copy a live SQLite file between machines. The
//! cache gets its own folder there, so that clearing it never touches the journal beside it.

use std::path::PathBuf;

/// The config file (`--config`, `$KKT_CONFIG`).
pub fn config() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("kkt").join("config.toml"))
}

/// The journal (`--journal`, `$KKT_JOURNAL`).
pub fn journal() -> Option<PathBuf> {
    dirs::data_local_dir().map(|d| d.join("kkt").join("journal.sqlite"))
}

/// The cache directory: ГИС МТ CDN hosts, the sold-codes store (`--cache-dir`, `$KKT_CACHE_DIR`).
pub fn cache() -> Option<PathBuf> {
    let kkt = dirs::cache_dir()?.join("kkt");
    Some(if cfg!(windows) { kkt.join("cache") } else { kkt })
}

/// The "Files" part of `kkt --help`: this system's paths, then every system's.
pub fn help() -> String {
    let show = |p: Option<PathBuf>| p.map(|p| p.display().to_string()).unwrap_or_else(|| "(no such folder)".into());
    format!(
        "Files on this system (each may be moved with the option or variable named):\n  \
         config   {}   (--config, KKT_CONFIG)\n  \
         journal  {}   (--journal, KKT_JOURNAL)\n  \
         cache    {}   (--cache-dir, KKT_CACHE_DIR)\n\
         Linux: ~/.config/kkt/config.toml, ~/.local/share/kkt/journal.sqlite, ~/.cache/kkt\n\
         macOS: ~/Library/Application Support/kkt/{{config.toml,journal.sqlite}}, ~/Library/Caches/kkt\n\
         Windows: %APPDATA%\\kkt\\config.toml, %LOCALAPPDATA%\\kkt\\journal.sqlite, %LOCALAPPDATA%\\kkt\\cache",
        show(config()),
        show(journal()),
        show(cache()),
    )
}
