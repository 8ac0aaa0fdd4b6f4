//! Security of what kkt leaves on the host: the journal (and its WAL, shared-memory and lock
//! files) and the ГИС МТ cache are private (0600); the customer's contact and INN reach neither
//! the log (at TRACE) nor the journal, whatever fails; no `unsafe` anywhere.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::support::fault::{cashier, sale, tmpdir};
use kkt::driver::Options;
use kkt::emulator::VirtualRegister;
use kkt::journal::Journal;
use kkt::journaled::JournaledKkt;
use kkt::receipt::Customer;
use kkt::transport::{InProcTransport, Responder};
use kkt::Kkt;

const CONTACT: &str = "+79995550011";
const INN: &str = "7707083893";
const BAD_INN: &str = "77777777777";

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The register, with the answer to every 0x24 lost (the journal then reconciles).
struct LoseForm(VirtualRegister);

impl Responder for LoseForm {
    fn respond(&self, request: &[u8]) -> Vec<u8> {
        let a = self.0.exchange(request);
        if request[4] == 0x24 {
            Vec::new()
        } else {
            a
        }
    }
}

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn personal_data_stays_out_of_logs_and_journal_and_files_are_private() {
    let buf = Buf::default();
    let writer = buf.clone();
    let sub = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _g = tracing::subscriber::set_default(sub);

    let dir = tmpdir("security");
    let jpath = dir.join("journal.sqlite");
    let reg = Arc::new(LoseForm(VirtualRegister::new(kkt::emulator::EmulatorOptions::default())));
    let k = Kkt::with_transport(InProcTransport::new(reg.clone()), Options::fast()).unwrap();
    let mut jk = JournaledKkt::with_kkt(k, Journal::open(&jpath).unwrap()).unwrap();
    jk.open_shift(&cashier()).unwrap();
    let customer = |inn: &str| Customer { contact: Some(CONTACT.into()), inn: Some(inn.into()), ..Customer::default() };
    // Formed, its answer lost and rebuilt; then replayed.
    let mut r = sale(Some("sec-1"), 1, 1);
    r.customer = Some(customer(INN));
    let f = jk.receipt(&r).unwrap();
    assert!(f.document.recovered);
    assert!(jk.receipt(&r).unwrap().replayed);
    // Refused input (an INN of the wrong length): named by field, never quoted.
    let mut bad = sale(Some("sec-2"), 2, 0);
    bad.customer = Some(customer(BAD_INN));
    let e = jk.receipt(&bad).unwrap_err();
    assert_eq!(e.kind().as_str(), "input");
    drop(jk);

    let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("journal"), "the journal logs its steps:\n{log}");
    let mut files = String::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        files += &String::from_utf8_lossy(&std::fs::read(&p).unwrap());
        #[cfg(unix)]
        assert_eq!(mode(&p), 0o600, "{} is not private", p.display());
    }
    for secret in [CONTACT, INN, BAD_INN] {
        let h = hex::encode_upper(secret);
        for l in log.lines().filter(|l| l.contains(secret) || l.contains(&h)) {
            eprintln!("LEAK: {l}");
        }
        assert!(!log.contains(secret) && !log.contains(&h), "{secret} in the log");
        assert!(!files.contains(secret), "{secret} in the journal files");
    }
    std::fs::remove_dir_all(&dir).ok();
}

// Unix only: it checks the file mode 0600; on Windows a file takes its folder's access list
// (README, "Windows").
#[cfg(unix)]
#[test]
fn the_gismt_cache_is_private() {
    let dir = tmpdir("cache");
    let c = kkt::checker::cdn::CacheFile::in_dir(&dir);
    c.store(&kkt::checker::cdn::CdnState::ranked("https://example", 0, vec![("h".into(), Some(5))])).unwrap();
    assert_eq!(mode(c.path()), 0o600);
    std::fs::remove_dir_all(&dir).ok();
}

/// Issue 18 §7: the sold-codes store and every cache file 0600, the directories kkt creates
/// for them 0700 (not the umask's 0644 / 0755), and a store an earlier kkt left readable made
/// private.
#[cfg(unix)]
#[test]
fn the_sold_codes_store_and_caches_and_their_directories_are_private() {
    use kkt::checker::store::{CodeState, SoldCodes, SqliteStore};
    let dir = tmpdir("private-store");
    let store_dir = dir.join("new").join("kkt");
    let path = store_dir.join("sold-codes.sqlite");
    let mut s = SqliteStore::open(&path).unwrap();
    s.record("7806197274", "0104670540176099215abc", "0104670540176099215abc", CodeState::Sold, "FD 1", 1).unwrap();
    for d in [dir.join("new"), store_dir.clone()] {
        assert_eq!(mode(&d), 0o700, "{}", d.display());
    }
    for e in std::fs::read_dir(&store_dir).unwrap() {
        let p = e.unwrap().path();
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    drop(s);
    // A store left 0644 by an earlier kkt.
    let old = dir.join("old.sqlite");
    drop(SqliteStore::open(&old).unwrap());
    std::fs::set_permissions(&old, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    drop(SqliteStore::open(&old).unwrap());
    assert_eq!(mode(&old), 0o600);

    // The ГИС МТ CDN cache and the ТС ПИОТ version cache, in directories that do not exist yet.
    let cache = dir.join("cache").join("kkt");
    let c = kkt::checker::cdn::CacheFile::in_dir(&cache);
    c.store(&kkt::checker::cdn::CdnState::ranked("https://example", 0, vec![("h".into(), Some(5))])).unwrap();
    kkt::checker::tspiot::VersionFile::store(&cache, "https://tspiot.example", 2, 0).unwrap();
    assert_eq!(mode(&dir.join("cache")), 0o700);
    assert_eq!(mode(&cache), 0o700);
    let files: Vec<_> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 2, "{files:?}");
    for p in files {
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn no_unsafe_code() {
    let root = env!("CARGO_MANIFEST_DIR");
    for krate in ["src/lib.rs", "src/main.rs", "tools/faultproxy/src/lib.rs", "tools/faultproxy/src/main.rs"] {
        let text = std::fs::read_to_string(format!("{root}/{krate}")).unwrap();
        assert!(text.contains("#![forbid(unsafe_code)]"), "{krate} does not forbid unsafe code");
    }
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or("");
                    if code.contains("unsafe {") || code.contains("unsafe fn") || code.contains("unsafe impl") {
                        out.push(format!("{}:{}", p.display(), i + 1));
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(&std::path::Path::new(root).join("src"), &mut found);
    walk(&std::path::Path::new(root).join("tools"), &mut found);
    assert!(found.is_empty(), "unsafe code at {found:?}");
}
