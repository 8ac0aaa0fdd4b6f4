//! The progress line on a terminal: a wait of more than 2 s for the register shows what kkt
//! waits for, for how long, and the attempt, from the driver's events
//! ([`kkt::driver::Event::Sending`], [`kkt::driver::Event::Received`]). Nothing of it with
//! `--json` or when stderr is not a terminal (a pipe, a file).

use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kkt::driver::Event;

use super::i18n::tr;

/// How long a wait goes unshown.
pub const SHOW_AFTER: Duration = Duration::from_secs(2);

#[derive(Debug)]
struct Wait {
    command: u8,
    attempt: u32,
    since: Instant,
    timeout: Duration,
}

#[derive(Debug, Default)]
struct State {
    wait: Option<Wait>,
    key_update: bool,
    bar: Option<ProgressBar>,
}

impl State {
    fn clear(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

/// The progress display of one command line run (a no-op when disabled).
#[derive(Debug, Clone)]
pub struct Progress {
    state: Option<Arc<Mutex<State>>>,
}

/// Whether progress may be shown: stderr is a terminal and the output is not JSON.
pub fn wanted(json: bool) -> bool {
    !json && std::io::stderr().is_terminal()
}

fn command_label(code: u8) -> String {
    match kkt::protocol::command_info(code) {
        Some(i) => format!("{} ({code:#04X})", super::i18n::pick(i.name_ru, i.name_en)),
        None => format!("{code:#04X}"),
    }
}

fn message(w: &Wait, key_update: bool) -> String {
    let secs = w.since.elapsed().as_secs();
    let limit = w.timeout.as_secs();
    let what = if key_update { tr!("progress-key-update") } else { command_label(w.command) };
    if w.attempt > 1 {
        tr!("progress-waiting-retry", what = what, secs = secs, limit = limit, attempt = w.attempt)
    } else {
        tr!("progress-waiting", what = what, secs = secs, limit = limit)
    }
}

fn tick(state: &Mutex<State>) {
    let mut s = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(w) = &s.wait else {
        return;
    };
    if w.since.elapsed() < SHOW_AFTER {
        return;
    }
    let text = message(w, s.key_update);
    let bar = s.bar.get_or_insert_with(|| {
        let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b
    });
    bar.set_message(text);
    bar.tick();
}

fn ticker(state: Weak<Mutex<State>>) {
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let Some(s) = state.upgrade() else {
            return;
        };
        tick(&s);
    }
}

impl Progress {
    /// A display that shows nothing.
    pub fn off() -> Self {
        Progress { state: None }
    }

    /// The display: on when [`wanted`].
    pub fn new(json: bool) -> Self {
        if !wanted(json) {
            return Self::off();
        }
        let state = Arc::new(Mutex::new(State::default()));
        let weak = Arc::downgrade(&state);
        let _ = std::thread::Builder::new().name("kkt-progress".into()).spawn(move || ticker(weak));
        Progress { state: Some(state) }
    }

    /// Whether anything is shown at all.
    pub fn enabled(&self) -> bool {
        self.state.is_some()
    }

    /// Takes a driver event.
    pub fn event(&self, e: &Event) {
        let Some(state) = &self.state else {
            return;
        };
        let mut s = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match e {
            Event::Sending { command, attempt, timeout } => {
                s.wait = Some(Wait { command: *command, attempt: *attempt, since: Instant::now(), timeout: *timeout });
            }
            Event::Received { .. } => {
                s.wait = None;
                s.clear();
            }
            Event::KeyUpdate { finished } => s.key_update = finished.is_none(),
            Event::Retrying { command, attempt, reason } => {
                s.wait = None;
                s.clear();
                eprintln!(
                    "{}",
                    tr!(
                        "progress-retrying",
                        what = command_label(*command),
                        attempt = *attempt,
                        reason = reason.as_str()
                    )
                );
            }
            Event::Reconciling { command, cause } => {
                s.clear();
                eprintln!("{}", tr!("progress-reconciling", what = command_label(*command), cause = cause.as_str()));
            }
            Event::OismUnreachable => {
                s.clear();
                eprintln!("{}", tr!("progress-oism-unreachable"));
            }
            _ => {}
        }
    }

    /// Clears the line (before the result is printed).
    pub fn finish(&self) {
        if let Some(state) = &self.state {
            let mut s = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            s.wait = None;
            s.clear();
        }
    }
}
