//! Marked goods: the ГИС МТ checker, the ТС ПИОТ path, the Local Module, the sold-codes store,
//! the marked sale.

mod emergency;
// Unix only: the fake signers are POSIX shell scripts (`sh sign.sh`); kkt runs the sign command
// with `cmd /C` on Windows, where they cannot run.
#[cfg(unix)]
mod entities;
mod entry_points;
mod gismt;
mod sale;
mod store;
mod tls;
// Unix only: the fake signers are POSIX shell scripts (see `entities`).
#[cfg(unix)]
mod token;
mod tspiot;
mod tspiot_sale;
mod wire;
