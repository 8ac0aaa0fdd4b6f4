//! When a command is sent again: one pure function of what happened ([`decide`]), so that the
//! policy is a table a test reads, and changing it is a change here only.
//!
//! | what failed | query | any other command |
//! |---|---|---|
//! | refused (an error code) | no | no |
//! | error 0x25 (the request arrived damaged, not executed) | at once | at once |
//! | not sent (connection refused, nothing written) | after `retry_delay × attempt` | after `retry_delay × attempt` |
//! | corrupted answer (bad CRC or LEN, a frame that stops, an answer that does not decode) | at once | no: a fiscal one is reconciled |
//! | lost (sent, no answer: timeout, closed connection) | after `retry_delay × attempt` | no: a fiscal one is reconciled |
//!
//! How often: with a budget ([`Options::budget`], `kkt --timeout`: the whole wait for one
//! command, every sending and pause included) as long as the budget leaves room for another
//! sending (and at most [`MAX_SENDINGS`] sendings); without one, up to [`Options::retries`]
//! times. A command that is not a query and whose answer was corrupted or lost is not sent
//! again here: the receipt's own steps are recovered by the sale (the state read back, or the
//! receipt cancelled and formed again), a fiscal command is reconciled with the register.

use std::time::Duration;

use super::Options;
use crate::protocol::CommandClass;

/// The most sendings of one command, whatever the budget.
pub(crate) const MAX_SENDINGS: u32 = 16;

/// The least time a sending is given: with less left of the budget, none is started.
pub(crate) const MIN_SENDING: Duration = Duration::from_millis(100);

/// How one sending of a command failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The register refused it (RESULT 1 with an error code): it did not execute it.
    Refused,
    /// The register answered error 0x25: the request frame arrived damaged and was not executed.
    BadRequestFrame,
    /// The request never left (connection refused, nothing written): nothing happened.
    NotSent,
    /// An answer came, damaged (bad CRC or LEN, stopped mid-frame, not the command's layout):
    /// the command may or may not have run; the line is noisy, not down.
    Corrupted,
    /// Sent, but no answer (timeout, closed connection): the command may or may not have run.
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
    /// How long the command has taken so far, every sending and pause included.
    pub(crate) spent: Duration,
    /// The whole wait allowed for the command (`None`: [`Options::retries`] sendings).
    pub(crate) budget: Option<Duration>,
}

/// What to do after a failed sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Give up: the failure goes to the caller (a lost fiscal command to reconciliation).
    No,
    /// Send it again after this pause (zero: at once).
    After(Duration),
}

/// The policy (the table in the module documentation).
pub(crate) fn decide(opts: &Options, a: &Attempt) -> Retry {
    let query = a.class == CommandClass::Query;
    let pause = match a.failure {
        Failure::Refused => return Retry::No,
        Failure::BadRequestFrame => Duration::ZERO,
        Failure::NotSent => opts.retry_delay * a.number,
        Failure::Corrupted if query => Duration::ZERO,
        Failure::Lost if query => opts.retry_delay * a.number,
        Failure::Corrupted | Failure::Lost => return Retry::No,
    };
    let more = match a.budget {
        Some(budget) => a.number < MAX_SENDINGS && a.spent + pause.min(budget / 4) + MIN_SENDING <= budget,
        None => a.number <= opts.retries,
    };
    match (more, a.budget) {
        (false, _) => Retry::No,
        // Within a budget a pause never takes more than a quarter of it.
        (true, Some(budget)) => Retry::After(pause.min(budget / 4)),
        (true, None) => Retry::After(pause),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(class: CommandClass, number: u32, failure: Failure) -> Retry {
        let opts = Options { retries: 2, retry_delay: Duration::from_millis(200), ..Options::default() };
        let a = Attempt { class, number, failure, spent: Duration::from_secs(20), budget: None };
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
            (Corrupted, [now, now, no], [no, no, no]),
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
        for failure in [Failure::Refused, Failure::BadRequestFrame, Failure::NotSent, Failure::Corrupted, Failure::Lost]
        {
            let a = Attempt { class: CommandClass::Query, number: 1, failure, spent: Duration::ZERO, budget: None };
            assert_eq!(decide(&opts, &a), Retry::No, "{failure:?}");
        }
    }

    #[test]
    fn a_budget_bounds_the_whole_wait() {
        let opts = Options { retries: 2, retry_delay: Duration::from_millis(200), ..Options::default() };
        let budget = Some(Duration::from_secs(2));
        let q = |number, failure, spent_ms| {
            let a =
                Attempt { class: CommandClass::Query, number, failure, spent: Duration::from_millis(spent_ms), budget };
            decide(&opts, &a)
        };
        // Corrupted answers of a query: sent again at once, beyond `retries`, while the budget
        // leaves room for a sending.
        assert_eq!(q(5, Failure::Corrupted, 1000), Retry::After(Duration::ZERO));
        assert_eq!(q(5, Failure::Corrupted, 1950), Retry::No);
        assert_eq!(q(MAX_SENDINGS, Failure::Corrupted, 10), Retry::No);
        // A silent register: pauses grow, but never past a quarter of the budget, and no
        // sending starts that the budget cannot hold.
        assert_eq!(q(1, Failure::Lost, 300), ms(200));
        assert_eq!(q(4, Failure::Lost, 900), ms(500));
        assert_eq!(q(4, Failure::Lost, 1500), Retry::No);
        // Not a query: a lost or corrupted answer is never sent again here.
        let a = Attempt {
            class: CommandClass::Document,
            number: 1,
            failure: Failure::Corrupted,
            spent: Duration::ZERO,
            budget,
        };
        assert_eq!(decide(&opts, &a), Retry::No);
        let a = Attempt { failure: Failure::BadRequestFrame, ..a };
        assert_eq!(decide(&opts, &a), Retry::After(Duration::ZERO));
    }
}
