//! The fault tests, a binary of their own (they are long and use the whole machine): the
//! register killed at every step of a receipt (`cuts`), the host process killed at random
//! moments (`kill`), and receipts through the fault proxy over TCP and a pseudo-terminal
//! (`proxy`). Each prints its figures to `target/tmp/fault-figures/` for CI.

mod cuts;
#[path = "../it/support/fault.rs"]
mod fault;
mod kill;
mod proxy;
mod support;
