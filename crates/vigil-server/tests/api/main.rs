//! The API in process (no socket), on both backends.

mod fixplan;
mod harness;
mod hostile;
mod matrix;
mod session;
mod uploads;
