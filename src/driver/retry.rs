//! When a command is sent again: one pure function of what happened ([`decide`]), so that the
//! policy is a table a test reads, and changing it is a change here only.
//!
//! | what failed | query | any other command |
//! |---|---|---|
//! | refused (an error code) | no | no |
//! | error 0x25 (the request arrived damaged, not executed) | at once | at once |
//! | not sent (connection refused, nothing written) | after `retry_delay × attempt` | after `retry_delay × attempt` |
//! | lost (sent, no usable answer) | after `retry_delay × attempt` | no: a fiscal one is reconciled |
//!
//! Each up to [`Options::retries`] times.

use std::time::Duration;

use super::Options;
use crate::protocol::CommandClass;

/// How one sending of a command failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The register refused it (RESULT 1 with an error code): it did not execute it.
    Refused,
    /// The register answered error 0x25: the request frame arrived damaged and was not executed.
    BadRequestFrame,
    /// The request never left (connection refused, nothing written): nothing happened.
    NotSent,
    /// Sent, but no usable answer (timeout, closed connection, corrupted or undecodable
    /// answer): the command may or may not have run.
    Lost,
}

/// One failed sending.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt {
    /// What the command does (the command table).
    pub(crate) class: CommandClass,
    /// Which sending failed: 1 = the first.
    pub(crate) number: u32,
    /// How.
    pub(crate) failure: Failure,
    /// How long it took.
    pub(crate) elapsed: Duration,
    /// The command's timeout.
    pub(crate) timeout: Duration,
}

/// What to do after a failed sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Give up: the failure goes to the caller (a lost fiscal command to reconciliation).
    No,
    /// Send it again after this pause (zero: at once).
    After(Duration),
}

/// Today's policy (the table in the module documentation). It does not look at how long the
/// attempt took (`elapsed` against `timeout`); a policy that does changes only this function.
pub(crate) fn decide(opts: &Options, a: &Attempt) -> Retry {
    let _ = (a.elapsed, a.timeout);
    let more = a.number <= opts.retries;
    let later = Retry::After(opts.retry_delay * a.number);
    match a.failure {
        Failure::Refused => Retry::No,
        Failure::BadRequestFrame if more => Retry::After(Duration::ZERO),
        Failure::NotSent if more => later,
        Failure::Lost if more && a.class == CommandClass::Query => later,
        Failure::BadRequestFrame | Failure::NotSent | Failure::Lost => Retry::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(class: CommandClass, number: u32, failure: Failure) -> Retry {
        let opts = Options { retries: 2, retry_delay: Duration::from_millis(200), ..Options::default() };
        let a = Attempt { class, number, failure, elapsed: Duration::from_secs(20), timeout: Duration::from_secs(20) };
        decide(&opts, &a)
    }

    fn ms(ms: u64) -> Retry {
        Retry::After(Duration::from_millis(ms))
    }

    #[test]
    fn the_table() {
        use CommandClass::*;
        use Failure::*;
        let (no, now) = (Retry::No, Retry::After(Duration::ZERO));
        // What attempts 1, 2 and 3 lead to, with 2 retries 200 ms apart: a query, then every
        // other class.
        let table = [
            (Refused, [no, no, no], [no, no, no]),
            (BadRequestFrame, [now, now, no], [now, now, no]),
            (NotSent, [ms(200), ms(400), no], [ms(200), ms(400), no]),
            (Lost, [ms(200), ms(400), no], [no, no, no]),
        ];
        for (failure, query, other) in table {
            for class in [Query, Setting, Document, Fiscal, Marking, Service] {
                let want = if class == Query { query } else { other };
                for (n, want) in (1..).zip(want) {
                    assert_eq!(at(class, n, failure), want, "{class:?} {failure:?} attempt {n}");
                }
            }
        }
    }

    #[test]
    fn no_retries_means_one_sending() {
        let opts = Options { retries: 0, ..Options::default() };
        for failure in [Failure::Refused, Failure::BadRequestFrame, Failure::NotSent, Failure::Lost] {
            let a = Attempt {
                class: CommandClass::Query,
                number: 1,
                failure,
                elapsed: Duration::ZERO,
                timeout: Duration::from_secs(20),
            };
            assert_eq!(decide(&opts, &a), Retry::No, "{failure:?}");
        }
    }
}
