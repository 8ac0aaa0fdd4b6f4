//! Marked goods: the ГИС МТ checker, the ТС ПИОТ path, the Local Module, the sold-codes store,
//! the marked sale.

mod gismt;
mod sale;
mod store;
mod tls;
mod tspiot;
mod tspiot_sale;
