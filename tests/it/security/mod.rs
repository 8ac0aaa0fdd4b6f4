//! Personal data and secrets, file modes, and property tests of every parser.

mod privacy;
mod properties;
