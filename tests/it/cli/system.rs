//! What differs between systems, as a user meets it: where the files are (`kkt --help` says,
//! and the journal is made there), and the pseudo-terminal, which Windows does not have.

use assert_cmd::Command;

use crate::support::http::{TempDir, BIN};

/// `kkt` with its files in `home`: on Linux through the XDG variables `dirs` reads; Windows'
/// profile folders come from the system (the variables are only read back, not set).
fn kkt(home: &TempDir) -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("KKT_CONFIG").env_remove("KKT_JOURNAL").env_remove("KKT_CACHE_DIR").env_remove("KKT_DEVICE");
    if cfg!(all(unix, not(target_os = "macos"))) {
        c.env("XDG_CONFIG_HOME", home.path("config"))
            .env("XDG_DATA_HOME", home.path("data"))
            .env("XDG_CACHE_HOME", home.path("cache"))
            .env("XDG_STATE_HOME", home.path("state"));
    }
    c
}

/// The default journal on this system, as README tells it.
fn default_journal(home: &TempDir) -> std::path::PathBuf {
    if cfg!(windows) {
        std::path::PathBuf::from(std::env::var("LOCALAPPDATA").expect("%LOCALAPPDATA%")).join(r"kkt\journal.sqlite")
    } else if cfg!(target_os = "macos") {
        std::path::PathBuf::from(std::env::var("HOME").unwrap()).join("Library/Application Support/kkt/journal.sqlite")
    } else {
        home.path("data").join("kkt/journal.sqlite")
    }
}

#[test]
fn help_names_this_systems_files() {
    let home = TempDir::new("files");
    let out = kkt(&home).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let files = text.split_once("Files on this system").unwrap_or_else(|| panic!("no Files in\n{text}")).1;
    let line = |what: &str| {
        files
            .lines()
            .find(|l| l.trim_start().starts_with(what))
            .unwrap_or_else(|| panic!("no {what} line in\n{text}"))
            .to_string()
    };
    let (config, journal, cache) = (line("config "), line("journal "), line("cache "));
    if cfg!(windows) {
        let roaming = std::env::var("APPDATA").expect("%APPDATA%");
        let local = std::env::var("LOCALAPPDATA").expect("%LOCALAPPDATA%");
        assert!(config.contains(&format!(r"{roaming}\kkt\config.toml")), "{config}");
        assert!(journal.contains(&format!(r"{local}\kkt\journal.sqlite")), "{journal}");
        assert!(cache.contains(&format!(r"{local}\kkt\cache")), "{cache}");
    } else if cfg!(target_os = "macos") {
        assert!(config.contains("Library/Application Support/kkt/config.toml"), "{config}");
        assert!(cache.contains("Library/Caches/kkt"), "{cache}");
    } else {
        assert!(config.contains(&home.path("config").join("kkt/config.toml").display().to_string()), "{config}");
        assert!(cache.contains(&home.path("cache").join("kkt").display().to_string()), "{cache}");
    }
    assert!(journal.contains(&default_journal(&home).display().to_string()), "{journal}");
    // Every system's paths, for README's readers on another one.
    for other in
        ["~/.local/share/kkt/journal.sqlite", r"%LOCALAPPDATA%\kkt\journal.sqlite", r"%APPDATA%\kkt\config.toml"]
    {
        assert!(text.contains(other), "{other} in\n{text}");
    }
}

#[test]
fn the_journal_is_made_where_help_says() {
    let home = TempDir::new("journal-home");
    let journal = default_journal(&home);
    // Elsewhere than Linux this is the user's real folder: never remove a journal there.
    #[cfg_attr(not(all(unix, not(target_os = "macos"))), allow(unused_variables))]
    let existed = journal.exists();
    let out = kkt(&home).args(["--json", "journal"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(journal.exists(), "{} was not made", journal.display());
    #[cfg(all(unix, not(target_os = "macos")))]
    if !existed {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&journal).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

/// Windows has no pseudo-terminal: the option is refused with the way out, exit code 2.
#[cfg(not(unix))]
#[test]
fn the_pseudo_terminal_is_refused_on_windows() {
    let home = TempDir::new("pty");
    let out = kkt(&home).args(["emulator", "--pty"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("--pty: not available on Windows: use --listen (TCP) or a virtual COM pair such as com0com"),
        "{err}"
    );
    let out = kkt(&home).args(["--json", "emulator", "--pty"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "input");
    assert!(v["error"]["message"].as_str().unwrap().contains("not available on Windows"), "{v}");
}

/// A receipt file as Windows editors save it: UTF-8 with a byte-order mark (Notepad), UTF-16
/// with one (Notepad's "Unicode", PowerShell 5's `>`). A legacy code page is refused (exit 2,
/// nothing sent), never guessed.
#[test]
fn receipts_saved_by_windows_editors_are_read() {
    let home = TempDir::new("bom");
    let uri = format!("emulator?state={}", home.path("register.json").display());
    let run = |args: &[&str]| {
        kkt(&home).env("KKT_DEVICE", &uri).env("KKT_JOURNAL", home.path("j.sqlite")).args(args).output().unwrap()
    };
    assert!(run(&["shift", "open", "--cashier", "Петрова"]).status.success());
    // Each file its own marking code (the sold-codes store refuses a code sold twice).
    let json = crate::support::http::fixture("sale.json", None);
    let other = crate::support::http::fixture("sale.json", None);
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(other.replace('\n', "\r\n").encode_utf16().flat_map(u16::to_le_bytes));
    let mut fds = Vec::new();
    for (name, bytes) in [("bom.json", [b"\xEF\xBB\xBF".as_slice(), json.as_bytes()].concat()), ("utf16.json", utf16)] {
        let file = home.path(name);
        std::fs::write(&file, bytes).unwrap();
        let out = run(&["--json", "receipt", file.to_str().unwrap()]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stdout));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["total"], "180.90", "{name}: {v}");
        fds.push(v["fd_number"].as_u64().unwrap());
    }
    assert_eq!(fds[1], fds[0] + 1);
    // "Хлеб" in windows-1251.
    let (before, after) = json.split_once("Хлеб").unwrap();
    let bytes = [before.as_bytes(), &[0xD5, 0xEB, 0xE5, 0xE1], after.as_bytes()].concat();
    let file = home.path("cp1251.json");
    std::fs::write(&file, bytes).unwrap();
    let out = run(&["--json", "receipt", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["error"]["message"].as_str().unwrap().contains("not UTF-8"), "{v}");
    let out = run(&["--json", "status"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["fn"]["last_fd_number"].as_u64(), Some(fds[1]), "nothing sent for the refused file");
}
