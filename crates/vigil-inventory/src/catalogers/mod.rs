//! Catalogers: one module per package database, registered in
//! [`CATALOGERS`]. Adding a format is one module and one row.
//!
//! A cataloger reads what it needs through the [`RootFs`] view and returns
//! packages plus warnings (and, for OS package managers, the files they
//! own, so language catalogers skip them). A broken database is a warning naming the file,
//! never a failure of the whole inventory.

use std::collections::HashSet;

use vigil_core::inventory::{OsInfo, Package};

use crate::error::Result;
use crate::fs::RootFs;

pub mod apk;
pub mod binary;
pub mod dpkg;
pub mod lang;
pub mod rpm;

/// What a cataloger sees.
pub struct Context<'a> {
    /// The target's files.
    pub fs: &'a RootFs,
    /// The detected OS, if any.
    pub os: Option<&'a OsInfo>,
    /// Files installed by the OS package managers read so far: language
    /// metadata among them belongs to an OS package and is not reported
    /// a second time.
    pub owned: &'a HashSet<String>,
}

impl Context<'_> {
    /// The ecosystem for OS packages of `base` (`Debian`): the detected
    /// release when the OS matches, else the base alone.
    pub fn os_ecosystem(&self, base: &str) -> String {
        self.os
            .and_then(|os| os.ecosystem.clone())
            .filter(|e| e.split(':').next() == Some(base))
            .unwrap_or_else(|| base.to_owned())
    }

    /// `ID-VERSION_ID` for purl `distro` qualifiers, when known.
    pub fn distro(&self) -> Option<String> {
        let os = self.os?;
        Some(match &os.version_id {
            Some(v) => format!("{}-{v}", os.id),
            None => os.id.clone(),
        })
    }
}

/// What one cataloger found.
#[derive(Debug, Default)]
pub struct Found {
    /// Packages.
    pub packages: Vec<Package>,
    /// Problems, each naming the file.
    pub warnings: Vec<String>,
    /// Absolute paths of the files the packages installed (OS catalogers).
    pub owned: Vec<String>,
}

/// One package-database reader.
pub struct Cataloger {
    /// Short id (`dpkg`), recorded on every package it finds.
    pub id: &'static str,
    /// Whether the cataloger reads the file at this path (images keep the
    /// contents of exactly these files while their layers stream past).
    pub wants: fn(&str) -> bool,
    /// Reads the target.
    pub catalog: fn(&Context<'_>) -> Result<Found>,
}

/// Every cataloger, run in this order.
pub static CATALOGERS: &[Cataloger] = &[
    Cataloger { id: dpkg::ID, wants: dpkg::wants, catalog: dpkg::catalog },
    Cataloger { id: apk::ID, wants: apk::wants, catalog: apk::catalog },
    Cataloger { id: rpm::ID, wants: rpm::wants, catalog: rpm::catalog },
    Cataloger { id: lang::ID, wants: lang::wants, catalog: lang::catalog },
    Cataloger { id: binary::ID, wants: binary::wants, catalog: binary::catalog },
];
