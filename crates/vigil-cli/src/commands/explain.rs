//! `vigil explain ADVISORY TARGET`: why an advisory does or does not
//! match what is in a target: which package and which lookup key (source
//! package, origin), which record entry, which range and which comparison.

use std::io::Write;
use std::path::Path;

use anyhow::{Result, bail};

use crate::cli::ExplainArgs;
use crate::config::Config;

/// Explains one advisory (id or alias) against the target.
pub fn explain(config: &Config, db: &Path, args: &ExplainArgs, quiet: bool) -> Result<()> {
    let database = super::db::open(config, db, quiet)?;
    let ids = database.ids_for(&args.advisory)?;
    if ids.is_empty() {
        bail!(
            "{} is not in the advisory database (as an id or alias); `vigil db status` lists its sources",
            args.advisory
        );
    }
    let inventory = super::inventory(&args.target, &args.image, quiet)?;
    let mut out = std::io::stdout().lock();
    let os = inventory.os.as_ref().and_then(|o| o.pretty_name.clone().or_else(|| Some(o.id.clone())));
    writeln!(
        out,
        "{} ({}) in {}{}",
        args.advisory,
        ids.join(", "),
        inventory.target,
        os.map(|o| format!(" ({o})")).unwrap_or_default()
    )?;
    let mut entries = 0;
    for p in &inventory.packages {
        let (name, version) = vigil_match::lookup_key(p);
        if p.version.is_empty() {
            if database.candidates(&p.ecosystem, &name, "0")?.iter().any(|c| ids.contains(&c.id)) {
                entries += 1;
                writeln!(
                    out,
                    "\npackage {} ({} at {}): the file gives no version, so it is not matched",
                    p.name, p.cataloger, p.location.path
                )?;
            }
            continue;
        }
        for c in database.candidates(&p.ecosystem, &name, &version)? {
            if !ids.contains(&c.id) {
                continue;
            }
            entries += 1;
            writeln!(out)?;
            write!(out, "package {} {} ({} at {}", p.name, p.version, p.cataloger, p.location.path)?;
            if let Some(layer) = &p.location.layer {
                write!(out, " in layer {layer}")?;
            }
            write!(out, ")")?;
            if name != p.name || version != p.version {
                write!(out, ", looked up as {name} {version}")?;
            }
            writeln!(out, " in {}", p.ecosystem)?;
            let mut all = vec![c.id.clone()];
            all.extend(c.aliases.iter().cloned());
            let borrowed = super::db::borrowed_severity(&database, &c)?;
            let (kev, epss) = (database.kev(&all)?, database.epss(&all)?);
            super::db::write_candidate(&mut out, &c, borrowed.as_ref(), kev.as_ref(), epss.as_ref())?;
        }
    }
    if entries == 0 {
        writeln!(out)?;
        writeln!(out, "no package in the target has an entry in {}; its entries are for:", ids.join(", "))?;
        for id in &ids {
            if let Some(record) = database.record(id)? {
                for a in record.affected.iter().filter_map(|a| a.package.as_ref()) {
                    writeln!(out, "  {id}: {} {}", a.ecosystem, a.name)?;
                }
            }
        }
        let ecosystems: Vec<&str> = {
            let mut e: Vec<&str> = inventory.packages.iter().map(|p| p.ecosystem.as_str()).collect();
            e.sort();
            e.dedup();
            e
        };
        writeln!(
            out,
            "the target's packages are in: {}",
            if ecosystems.is_empty() { "(none found)".to_owned() } else { ecosystems.join(", ") }
        )?;
    }
    Ok(())
}
