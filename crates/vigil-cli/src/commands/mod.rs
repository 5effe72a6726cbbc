//! One module per command group; each turns parsed arguments into calls on
//! the library crates and prints the result.

pub mod db;
pub mod explain;
pub mod sbom;
pub mod scan;
pub mod version;
