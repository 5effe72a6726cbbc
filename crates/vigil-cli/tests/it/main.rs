//! End-to-end tests of the `vigil` binary. One test binary for the crate
//! (see `harness` for the mirror, the HTTP server and the runner).

mod audit;
mod baseline;
mod comply;
mod db;
mod engine;
mod fixplan;
mod harness;
mod memory;
mod platform;
mod redaction;
mod registry;
mod remediation;
mod sbom;
mod scan;
mod surface;
mod version;
mod webscan;
