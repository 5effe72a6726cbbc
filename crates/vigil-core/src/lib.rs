//! Vigil's shared vocabulary: the types every other crate speaks, and no I/O.
//!
//! - [`ecosystem`]: OSV ecosystem names (`Debian:11`, `PyPI`, ...) split into
//!   base and release, and per-ecosystem package-name normalisation.
//! - [`osv`]: the OSV record model as Vigil reads it (serde), with the
//!   fields the schema defines and the extras real feeds add (`upstream`).
//! - [`inventory`]: installed packages with purls and locations, and OS facts.
//! - [`time`]: UTC timestamps (RFC 3339) and ages in words.
//! - [`progress`]: how long work reports its progress.
//! - [`redact`]: credentials out of URLs, before anything is written.
//! - [`severity`]: the qualitative severity scale shared by CVSS and vendor
//!   ratings.
//!
//! Crate graph (data flows downwards):
//!
//! ```text
//! vigil-version   (leaf: version ordering, OSV range evaluation)
//!      |
//! vigil-core      (this crate: vocabulary)
//!      |
//! vigil-vulndb    (advisory database: import, index, lookup)
//!      |
//! vigil-cli       (the `vigil` binary: wiring only)
//! ```
//!
//! ```
//! use vigil_core::ecosystem::Ecosystem;
//!
//! let eco = Ecosystem::parse("Ubuntu:18.04:LTS");
//! assert_eq!(eco.base(), "Ubuntu");
//! assert_eq!(eco.release(), Some("18.04:LTS"));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ecosystem;
pub mod excerpt;
pub mod inventory;
pub mod osv;
pub mod progress;
pub mod redact;
pub mod severity;
pub mod time;
