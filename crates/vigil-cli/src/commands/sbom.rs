//! `vigil sbom`: inventory a target and write it as an SBOM.

use anyhow::Result;
use vigil_report::SbomFormat;

use crate::cli::{SbomArgs, SbomFormatArg};

/// Inventories the target and writes the SBOM (atomically when `--output`).
pub fn sbom(args: &SbomArgs, quiet: bool) -> Result<()> {
    let inventory = super::inventory(&args.target, &args.image, quiet)?;
    if !quiet {
        for w in &inventory.warnings {
            eprintln!("warning: {w}");
        }
    }
    let format = match args.format {
        SbomFormatArg::Cyclonedx => SbomFormat::CycloneDx,
        SbomFormatArg::Spdx => SbomFormat::Spdx,
        SbomFormatArg::Json => SbomFormat::Json,
    };
    let created = vigil_core::time::rfc3339(vigil_core::time::now_unix());
    match &args.output {
        None => vigil_report::write_sbom(&inventory, format, &created, &mut std::io::stdout().lock())?,
        Some(path) => {
            super::scan::write_atomically(path, |file| vigil_report::write_sbom(&inventory, format, &created, file))?
        }
    }
    Ok(())
}
