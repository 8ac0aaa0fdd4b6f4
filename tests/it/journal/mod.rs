//! The host's journal and the journaled driver.

mod journaled;
mod lock;
mod trust;
