//! Marked goods: the ГИС МТ checker, the ТС ПИОТ path, the Local Module, the sold-codes store,
//! the marked sale.

mod emergency;
mod entities;
mod entry_points;
mod gismt;
mod sale;
mod store;
mod tls;
mod token;
mod tspiot;
mod tspiot_sale;
mod wire;
