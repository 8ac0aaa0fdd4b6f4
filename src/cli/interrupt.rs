//! Ctrl-C (SIGINT, and SIGTERM on Unix) during a command that forms a document: the exchange
//! in flight finishes, no further step is sent (the driver's interrupt flag), the journal entry
//! is settled by the journaled path as for any failure, a document left open by this run is
//! cancelled, and kkt says what state the register is in and what to run next. A second Ctrl-C
//! aborts at once.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use kkt::commands::info::GetFnStatus;
use kkt::protocol::values::CurrentDocument;
use kkt::Kkt;

use super::device::{output, Failure};
use super::exit;
use super::i18n::tr;

/// The handler of one run: holds the flag the driver looks at.
#[derive(Debug)]
pub struct Guard {
    flag: Option<Arc<AtomicBool>>,
}

static PRESSES: AtomicU32 = AtomicU32::new(0);

impl Guard {
    /// Installs the handler when `active` (a command that forms a document); otherwise Ctrl-C
    /// keeps its usual effect.
    pub fn install(active: bool) -> Guard {
        if !active {
            return Guard { flag: None };
        }
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new().name("kkt-signals".into()).spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                let _ = ready_tx.send(false);
                return;
            };
            rt.block_on(async move {
                #[cfg(unix)]
                let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
                // Registering the handler before saying ready: no signal falls between.
                let ctrl_c = tokio::signal::ctrl_c();
                tokio::pin!(ctrl_c);
                let _ = ready_tx.send(true);
                loop {
                    #[cfg(unix)]
                    {
                        let t = async {
                            match term.as_mut() {
                                Some(t) => {
                                    t.recv().await;
                                }
                                None => std::future::pending::<()>().await,
                            }
                        };
                        tokio::select! {
                            r = &mut ctrl_c => { if r.is_err() { return; } ctrl_c.set(tokio::signal::ctrl_c()); }
                            _ = t => {}
                        }
                    }
                    #[cfg(not(unix))]
                    {
                        if (&mut ctrl_c).await.is_err() {
                            return;
                        }
                        ctrl_c.set(tokio::signal::ctrl_c());
                    }
                    if PRESSES.fetch_add(1, Ordering::SeqCst) == 0 {
                        f.store(true, Ordering::SeqCst);
                        eprintln!("{}", tr!("interrupt-first"));
                    } else {
                        eprintln!("{}", tr!("interrupt-abort"));
                        std::process::exit(i32::from(exit::INTERRUPTED));
                    }
                }
            });
        });
        if spawned.is_err() || !ready_rx.recv().unwrap_or(false) {
            return Guard { flag: None };
        }
        Guard { flag: Some(flag) }
    }

    /// The flag for [`Kkt::set_interrupt`], when installed.
    pub fn flag(&self) -> Option<Arc<AtomicBool>> {
        self.flag.clone()
    }

    /// Whether Ctrl-C was pressed.
    pub fn pressed(&self) -> bool {
        self.flag.as_ref().is_some_and(|f| f.load(Ordering::SeqCst))
    }
}

/// After the command: when Ctrl-C came, cancel a document this run left open, tell the
/// register's state and what to run next, and exit 130 (unless the work was done anyway).
pub fn after(
    guard: &Guard,
    result: Result<(), Failure>,
    json: bool,
    with_kkt: impl FnOnce(&mut dyn FnMut(&mut Kkt) -> Report) -> Report,
) -> Result<(), Failure> {
    if !guard.pressed() {
        return result;
    }
    let finished = result.is_ok();
    let report = with_kkt(&mut |kkt: &mut Kkt| state_report(kkt, finished));
    let out = serde_json::json!({"interrupted": true, "completed": finished, "register": report.state,
                                 "cancelled_open_document": report.cancelled, "next": report.next});
    if json && !finished {
        // The error below is the JSON answer; the state goes with it as its hint.
    } else if json {
        output(true, &out, String::new);
    } else {
        eprintln!("{}", tr!("interrupt-state", state = report.state.as_str()));
        if report.cancelled {
            eprintln!("{}", tr!("interrupt-cancelled"));
        }
        eprintln!("{}", tr!("interrupt-next", next = report.next.as_str()));
    }
    match result {
        Ok(()) => Ok(()),
        Err(mut f) => {
            f.exit = exit::INTERRUPTED;
            f.kind = "interrupted";
            f.hint = format!(
                "{} {}",
                tr!("interrupt-state", state = report.state.as_str()),
                tr!("interrupt-next", next = report.next.as_str())
            );
            Err(f)
        }
    }
}

/// What the register is doing after an interrupted run.
#[derive(Debug, Default)]
pub struct Report {
    /// The FN's open document and shift, as text.
    pub state: String,
    /// Whether this run cancelled a document it had left open.
    pub cancelled: bool,
    /// What to run next.
    pub next: String,
}

fn state_report(kkt: &mut Kkt, finished: bool) -> Report {
    let mut r = Report::default();
    let Ok(fs) = kkt.call(&GetFnStatus) else {
        r.state = tr!("interrupt-state-unknown");
        r.next = "kkt recover; kkt status".into();
        return r;
    };
    let mut doc = fs.current_document;
    // The document open now was opened by this run (the driver refused every step after the
    // stop): cancel it rather than leave it.
    if doc != CurrentDocument::NONE && !finished && kkt.cancel_document().is_ok() {
        r.cancelled = true;
        doc = kkt.call(&GetFnStatus).map(|f| f.current_document).unwrap_or(doc);
    }
    let document = if doc == CurrentDocument::NONE {
        tr!("interrupt-no-document")
    } else {
        super::i18n::pick(doc.text_ru().unwrap_or("?"), doc.text_en().unwrap_or("?")).to_string()
    };
    let shift = if fs.shift_open != 0 { tr!("word-shift-open") } else { tr!("word-shift-closed") };
    r.state = format!("{document}; {shift}; FD {}", fs.last_fd_number);
    r.next = if finished { "kkt status".into() } else { "kkt journal --pending; kkt status".into() };
    r
}
