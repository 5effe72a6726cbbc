//! Vigil's query language: one syntax for searching findings, assets and
//! the audit log, for dynamic-tag rules and (later) ticket rules and
//! dashboard widgets.
//!
//! ```text
//! severity>=high and tag:prod and package.name:openssl and not triage:false_positive
//! advisory:CVE-2021-3156 or (kev:true and first_seen<30d)
//! asset.os:debian* and label.env in (prod, staging)
//! ```
//!
//! A query is parsed ([`parse`]) into an [`Expr`], then compiled
//! ([`compile`]) against a [`Catalog`] of fields into an SQL condition whose
//! values are all bound parameters (`$1`, `$2`, ...): user input never
//! becomes SQL text. The catalogue, which knows the tables, belongs to the
//! store; this crate knows the grammar, the value types and how each
//! comparison is written in SQL that SQLite and PostgreSQL both accept.
//!
//! Errors name the column they start at and, for misspelt fields and
//! values, the closest known word:
//! `unknown field ` + "`sevrity`" + ` at column 1; did you mean ` + "`severity`?".
//!
//! The grammar is documented in `docs/QUERY.md`.
//!
//! ```
//! use vigil_query::{Catalog, Field, Kind, Target, compile, parse};
//!
//! static FIELDS: &[Field] = &[
//!     Field::new("severity", Kind::Ordered(&["none", "low", "medium", "high", "critical"]), Target::Column("f.severity"), "how bad"),
//! ];
//! let catalog = Catalog::new("findings", FIELDS);
//! let expr = parse("severity>=high").unwrap();
//! let sql = compile(&expr, &catalog, 1, 1_700_000_000).unwrap();
//! assert_eq!(sql.condition, "f.severity >= $1");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod catalog;
mod compile;
mod error;
mod lexer;
mod parser;

pub use catalog::{Catalog, Field, Kind, Target};
pub use compile::{Compiled, Param, SortKey, compile, parse_day, parse_instant, parse_sort};
pub use error::Error;
pub use parser::{Comparison, Expr, Op, Value, parse};

/// The longest query accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 4096;
/// The deepest nesting of parentheses and `not` accepted.
pub const MAX_DEPTH: usize = 32;
/// The most comparisons one query may hold.
pub const MAX_TERMS: usize = 128;
