//! The driver's error: what went wrong, told apart so that a caller (or a person) can act.
//!
//! | variant | what happened | what to do |
//! |---|---|---|
//! | [`Error::Input`] | bad input, nothing was sent | fix the named field |
//! | [`Error::Sequence`] | the call is out of order, nothing was sent | do the expected step first |
//! | [`Error::Device`] | the register refused the command (error code) | see the code's hint |
//! | [`Error::Link`] | the link failed (connect, I/O, timeout, closed) | check the cable/network, retry |
//! | [`Error::Protocol`] | a corrupted or unexpected response | retry; check the line |
//! | [`Error::NotFormed`] | a fiscal command's answer was lost, and the register says it formed nothing | safe to try again |
//! | [`Error::UnknownOutcome`] | a fiscal command's answer was lost and the register could not be asked | check before trying again |
//! | [`Error::IdReused`] | an idempotency key was used before for different content, nothing was sent | choose a new id |
//! | [`Error::Pending`] | an earlier attempt with this id is still unresolved and the register could not settle it | `kkt recover`, then repeat |
//! | [`Error::RegisterBusy`] | another program has a document open on the register, nothing was sent | let that program finish it |
//! | [`Error::Journal`] | the host's journal (disk) failed | check the disk and the journal file |
//! | [`Error::MarkRefused`] | the marked-goods check refused an item; the receipt was cancelled | take the item out (or, for `ask`, let the cashier accept) |
//! | [`Error::Interrupted`] | the caller stopped (Ctrl-C) before the command; nothing sent | see the register's state |

use crate::commands::{DecodeError, InputError};
#[cfg(feature = "journal")]
use crate::journal::JournalError;
use crate::protocol::frame::FrameError;
use crate::protocol::{command_info, DeviceError};
use crate::session::Violation;
use crate::transport::{ExchangeError, LinkError, UriError};

/// A response that is not what the protocol says.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// Bytes that did not make a valid frame (bad CRC or LEN).
    #[error("corrupted response frame: {0}")]
    BadFrame(#[from] FrameError),
    /// RESULT 1 with other than one byte of error code.
    #[error("error response with {len} bytes of data; exactly 1 error code byte expected")]
    MalformedError {
        /// Data length.
        len: usize,
    },
    /// RESULT neither 0 nor 1.
    #[error("response RESULT {0:#04x} is neither 0 (done) nor 1 (error)")]
    UnknownResult(u8),
    /// The response data does not match the command's layout.
    #[error("response to {} does not match its layout: {error}", command_name(*command))]
    Decode {
        /// The command.
        command: u8,
        /// What did not match.
        #[source]
        error: DecodeError,
    },
    /// A response that contradicts what was asked.
    #[error("{0}")]
    Unexpected(String),
}

/// A fiscal command whose answer was lost and whose outcome could not be established.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnknownOutcome {
    /// The command.
    pub command: u8,
    /// Number of the FN's last fiscal document before the command was sent.
    pub last_fd_before: Option<u32>,
    /// Why the answer was lost.
    pub cause: String,
    /// Why the register's state does not tell.
    pub detail: String,
    /// What a person should check before trying again.
    pub check: String,
}

impl std::fmt::Display for UnknownOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} outcome unknown: {} ({}); {}", command_name(self.command), self.cause, self.detail, self.check)
    }
}

/// A marked item the marked-goods check refused in a sale (or the cashier did not accept): the
/// receipt was cancelled, nothing was formed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MarkRefused {
    /// The receipt item.
    pub item: usize,
    /// The checker's verdict, with every reason of the decision (the register's included) and
    /// the action it came to (`refuse`, or `ask` when nobody could accept).
    pub verdict: crate::marking::Verdict,
    /// Why an `ask` was not accepted (no one to ask, the cashier declined, a confirmation that
    /// does not apply).
    pub not_accepted: Option<String>,
    /// The commands sent for this receipt before it was given up, in order.
    pub sent: Vec<u8>,
    /// What was done with the receipt on the register (cancelled, or why not).
    pub cancelled: String,
}

impl std::fmt::Display for MarkRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why: Vec<String> = self.verdict.reasons.iter().map(|r| format!("[{}] {}", r.field, r.message)).collect();
        write!(f, "items[{}].marking_code: the marking code check refused the sale: {}", self.item, why.join("; "))?;
        if let Some(n) = &self.not_accepted {
            write!(f, " ({n})")?;
        }
        let sent: Vec<String> = self.sent.iter().map(|c| format!("{c:#04X}")).collect();
        write!(
            f,
            "; sent before: {}; {}",
            if sent.is_empty() { "nothing".into() } else { sent.join(", ") },
            self.cancelled
        )
    }
}

/// Anything the driver can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad input: nothing was sent.
    #[error("invalid input: {0}")]
    Input(#[from] InputError),
    /// The call is out of order: nothing was sent.
    #[error("refused before sending: {0}")]
    Sequence(#[from] Violation),
    /// The register refused the command.
    #[error("{} refused: {error}", command_name(*command))]
    Device {
        /// The command.
        command: u8,
        /// The register's error code.
        #[source]
        error: DeviceError,
    },
    /// The link failed.
    #[error("{} failed: {error}", command_name(*command))]
    Link {
        /// The command.
        command: u8,
        /// What failed.
        #[source]
        error: LinkError,
    },
    /// A corrupted or unexpected response.
    #[error("{} failed: {error}", command_name(*command))]
    Protocol {
        /// The command.
        command: u8,
        /// What was wrong.
        #[source]
        error: ProtocolError,
    },
    /// A fiscal command's answer was lost, and the register confirms it formed no document:
    /// nothing happened, the call can be repeated.
    #[error("{} was not executed: the answer was lost ({cause}), and the register formed no document (last FD {last_fd})", command_name(*command))]
    NotFormed {
        /// The command.
        command: u8,
        /// Why the answer was lost.
        #[source]
        cause: Box<Error>,
        /// The FN's last fiscal document number, unchanged.
        last_fd: u32,
    },
    /// A fiscal command's answer was lost and its outcome is unknown: do not repeat it before
    /// checking.
    #[error("{0}")]
    UnknownOutcome(Box<UnknownOutcome>),
    /// The device address cannot be used.
    #[error(transparent)]
    Uri(#[from] UriError),
    /// Connecting failed before any command.
    #[error("cannot connect: {0}")]
    Connect(#[source] LinkError),
    /// The idempotency key was already used for a different document: nothing was sent.
    #[error("id {id:?} was already used for a different {operation} (the content differs); nothing was sent")]
    IdReused {
        /// The key.
        id: String,
        /// The operation of its first use.
        operation: String,
    },
    /// An earlier attempt with this idempotency key is still unresolved: its outcome could not
    /// be read from the register now, so nothing was sent (it might have been formed).
    #[error("an earlier attempt with id {id:?} (journal entry {seq}) is still unresolved: {detail}; nothing was sent")]
    Pending {
        /// The key.
        id: String,
        /// The journal entry.
        seq: i64,
        /// Why it could not be settled.
        detail: String,
    },
    /// Another program (another POS, a vendor utility, kkt with another journal) has a document
    /// open on the register, and this journal did not open it: it is not cancelled, and
    /// nothing was sent.
    #[error("another program has a document open on the register ({}); kkt cancels only the documents its own journal opened, so nothing was sent", document.text_en().unwrap_or("a document"))]
    RegisterBusy {
        /// The open document (FN status).
        document: crate::protocol::values::CurrentDocument,
    },
    /// The host's journal failed (nothing was sent when this comes before the command).
    #[cfg(feature = "journal")]
    #[error("{0}")]
    Journal(#[source] JournalError),
    /// A marked item the marked-goods check refused: the receipt was cancelled, nothing formed.
    #[error("{0}")]
    MarkRefused(Box<MarkRefused>),
    /// The caller stopped the work (Ctrl-C) before this command: it was not sent.
    #[error("interrupted before {} was sent", command_name(*command))]
    Interrupted {
        /// The command not sent.
        command: u8,
    },
}

#[cfg(feature = "journal")]
impl From<JournalError> for Error {
    fn from(e: JournalError) -> Self {
        match e {
            JournalError::KeyReused { id, operation } => Error::IdReused { id, operation },
            e => Error::Journal(e),
        }
    }
}

/// `0x24 «Сформировать чек»` for messages.
pub fn command_name(code: u8) -> String {
    match command_info(code) {
        Some(i) => format!("command {code:#04X} ({})", i.name_en),
        None => format!("command {code:#04X}"),
    }
}

impl Error {
    /// The error for an exchange that gave no frame.
    pub fn from_exchange(command: u8, e: ExchangeError) -> Self {
        match e {
            ExchangeError::Link(error) => Error::Link { command, error },
            ExchangeError::BadFrame(f) => Error::Protocol { command, error: ProtocolError::BadFrame(f) },
        }
    }

    /// The register's error code, for [`Error::Device`].
    pub fn device_code(&self) -> Option<u8> {
        match self {
            Error::Device { error, .. } => Some(error.code),
            _ => None,
        }
    }

    /// What kind of failure it is (what a caller does about it); [`ErrorKind::as_str`] is the
    /// name the CLI's and the service's JSON print.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Input(_) | Error::Uri(_) => ErrorKind::Input,
            Error::Sequence(_) => ErrorKind::Sequence,
            Error::Device { .. } => ErrorKind::Device,
            Error::Link { .. } | Error::Connect(_) => ErrorKind::Link,
            Error::Protocol { .. } => ErrorKind::Protocol,
            Error::NotFormed { .. } => ErrorKind::NotFormed,
            Error::UnknownOutcome(_) => ErrorKind::UnknownOutcome,
            Error::IdReused { .. } => ErrorKind::IdReused,
            Error::Pending { .. } => ErrorKind::Pending,
            Error::RegisterBusy { .. } => ErrorKind::RegisterBusy,
            #[cfg(feature = "journal")]
            Error::Journal(_) => ErrorKind::Journal,
            Error::MarkRefused(_) => ErrorKind::MarkRefused,
            Error::Interrupted { .. } => ErrorKind::Interrupted,
        }
    }

    /// What a person can do about it.
    pub fn hint(&self) -> String {
        match self {
            Error::Input(e) => format!("fix {}", e.field),
            Error::Uri(e) => match &e.suggestion {
                Some(s) => format!("use --device {s}"),
                None => "use tcp://HOST:PORT, serial:///dev/ttyUSB0?baud=115200, COM3 or emulator".into(),
            },
            Error::Sequence(v) => v.hint.to_string(),
            Error::Device { error, .. } => error.hint_en().to_string(),
            Error::Link { error: LinkError::NotARegister { .. }, .. } | Error::Connect(LinkError::NotARegister { .. }) => {
                "the device address leads to another kind of server or device: check the host, the port or the serial \
                 port (`kkt ports` lists serial ports; a register speaks the B6 29 protocol)"
                    .into()
            }
            Error::Link { .. } | Error::Connect(_) => {
                "check the cable or network and that the register is on; the command can be repeated".into()
            }
            Error::Protocol { .. } => "the line is noisy or another program talks to the register; retry".into(),
            Error::NotFormed { .. } => "nothing was formed: it is safe to try again".into(),
            Error::UnknownOutcome(o) => o.check.clone(),
            Error::IdReused { .. } => "a new document needs a new id; the same id returns the first document".into(),
            Error::Pending { .. } => {
                "reconnect to the register (or run `kkt recover`), then repeat with the same id: it returns the document if it was formed".into()
            }
            Error::RegisterBusy { .. } => {
                "let the program that opened it finish or cancel it (another POS, a vendor utility, kkt with another journal), then repeat; if that program is gone for good, a person who decides the document is abandoned can cancel it with `kkt cancel --force`".into()
            }
            #[cfg(feature = "journal")]
            Error::Journal(e) => match e {
                JournalError::Empty { .. } | JournalError::Unreadable { .. } | JournalError::Missing { .. } => {
                    "nothing was sent: restore the journal (or a backup from `kkt journal backup`), point --journal at it, or start a new one deliberately with --new-journal".into()
                }
                _ => "check the disk and the journal file (--journal PATH, KKT_JOURNAL); nothing is sent without it".into(),
            },
            Error::MarkRefused(r) if r.verdict.action == crate::marking::Action::Ask => {
                "the cashier must accept these reasons: on a terminal answer the question, or give --accept-asked, or \
                 a mark_confirmation from POST /v1/marks/check; or sell without this item"
                    .into()
            }
            Error::MarkRefused(_) => "this item may not be sold: take it out of the receipt".into(),
            Error::Interrupted { .. } => "nothing more was sent: `kkt status` shows the register's state".into(),
        }
    }
}

/// The kinds of [`Error`], as a caller tells them apart (the table in the module
/// documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad input (or device address): nothing was sent.
    Input,
    /// Out of order: nothing was sent.
    Sequence,
    /// The register refused the command.
    Device,
    /// The link failed (or connecting did).
    Link,
    /// A corrupted or unexpected response.
    Protocol,
    /// A fiscal command's answer was lost and the register formed nothing.
    NotFormed,
    /// A fiscal command's answer was lost and its outcome is unknown.
    UnknownOutcome,
    /// An idempotency key used before for other content.
    IdReused,
    /// An earlier attempt with this idempotency key is unresolved.
    Pending,
    /// Another program has a document open on the register.
    RegisterBusy,
    /// The host's journal failed.
    Journal,
    /// The marked-goods check refused an item (the receipt was cancelled).
    MarkRefused,
    /// Stopped by the caller (Ctrl-C) before the command was sent.
    Interrupted,
}

impl ErrorKind {
    /// The machine name: `input`, `sequence`, `device`, `link`, `protocol`, `not_formed`,
    /// `unknown_outcome`, `id_reused`, `pending`, `register_busy`, `journal`, `mark_refused` (the CLI's and the service's JSON
    /// `kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Input => "input",
            ErrorKind::Sequence => "sequence",
            ErrorKind::Device => "device",
            ErrorKind::Link => "link",
            ErrorKind::Protocol => "protocol",
            ErrorKind::NotFormed => "not_formed",
            ErrorKind::UnknownOutcome => "unknown_outcome",
            ErrorKind::IdReused => "id_reused",
            ErrorKind::Pending => "pending",
            ErrorKind::RegisterBusy => "register_busy",
            ErrorKind::Journal => "journal",
            ErrorKind::MarkRefused => "mark_refused",
            ErrorKind::Interrupted => "interrupted",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn kinds_print_their_names() {
        let all = [
            ErrorKind::Input,
            ErrorKind::Sequence,
            ErrorKind::Device,
            ErrorKind::Link,
            ErrorKind::Protocol,
            ErrorKind::NotFormed,
            ErrorKind::UnknownOutcome,
            ErrorKind::IdReused,
            ErrorKind::Pending,
            ErrorKind::RegisterBusy,
            ErrorKind::Journal,
            ErrorKind::MarkRefused,
            ErrorKind::Interrupted,
        ];
        for k in all {
            // The JSON name (serde) and the CLI's/service's `kind` string are one.
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str(), "{k:?}");
            assert_eq!(k.to_string(), k.as_str());
        }
        assert_eq!(Error::Input(InputError::new("x", "y")).kind().as_str(), "input");
    }

    #[test]
    fn causes_are_sources() {
        let lost =
            Error::Link { command: 0x24, error: LinkError::Closed { peer: "tcp://10.0.0.5:7778".into(), received: 0 } };
        let e = Error::NotFormed { command: 0x24, cause: Box::new(lost), last_fd: 10 };
        assert_eq!(e.kind(), ErrorKind::NotFormed);
        let cause = e.source().expect("the lost answer");
        assert!(cause.to_string().contains("closed the connection"), "{cause}");
        assert!(cause.source().is_some(), "and the link error below it");
        assert!(e.to_string().contains("closed the connection"), "{e}");
    }
}
