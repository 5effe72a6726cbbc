//! Vigil's local advisory database.
//!
//! Everything Vigil flags comes from here. The database is one SQLite file
//! holding OSV records (indexed by ecosystem and package name), their
//! aliases, the CISA KEV catalog and FIRST EPSS scores. It is rebuilt from
//! its sources by [`update`] (downloads) or [`import`] (local files) into a
//! temporary file that atomically replaces the old one, so a failed or
//! interrupted build never breaks the database in use.
//!
//! Main types: [`Database`] (read side: [`Database::lookup`],
//! [`Database::candidates`] for `explain`, [`Database::entries`] for fix plans, [`Database::status`]),
//! [`UpdatePlan`], [`Report`], [`Limits`]. Range evaluation follows the OSV
//! schema exactly (see [`evaluate`]); version ordering comes from
//! `vigil-version`.
//!
//! This crate knows nothing about images, filesystems or output formats.
//!
//! ```no_run
//! use vigil_vulndb::Database;
//!
//! let db = Database::open(std::path::Path::new("vigil.db"))?;
//! for hit in db.lookup("crates.io", "smallvec", "1.6.0")? {
//!     println!("{} fixed in {:?}", hit.id, hit.fixed);
//! }
//! # Ok::<(), vigil_vulndb::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod entry;
mod error;
pub mod evaluate;
pub mod feeds;
mod ingest;
mod query;
mod record;
pub mod severity;
mod store;

pub use error::{Error, Result};
pub use ingest::{Limits, NoProgress, Progress, Report, SourceReport, UpdatePlan, import, update};
pub use query::{BorrowedSeverity, Candidate, EcosystemCount, PackageEntry, SourceStatus, Status};
pub use record::Problem;
pub use store::{Database, SCHEMA_VERSION, SourceCounts};

/// The public OSV bulk export.
pub const DEFAULT_OSV_BASE: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// The CISA KEV catalog.
pub const DEFAULT_KEV_URL: &str = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
/// The current EPSS scores.
pub const DEFAULT_EPSS_URL: &str = "https://epss.cyentia.com/epss_scores-current.csv.gz";

/// Ecosystem folders fetched by default: the ecosystems Vigil catalogs.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &[
    "AlmaLinux",
    "Alpine",
    "ConanCenter",
    "CRAN",
    "Debian",
    "Go",
    "Hex",
    "Maven",
    "npm",
    "NuGet",
    "Packagist",
    "Pub",
    "PyPI",
    "Rocky Linux",
    "RubyGems",
    "Ubuntu",
    "crates.io",
];
