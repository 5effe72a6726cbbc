//! `vigil cache status|clean`: the image layer cache.

use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::{CacheDirArg, Format};

/// Prints how many layers are cached and their size.
pub fn status(dir: &CacheDirArg, format: Format) -> Result<()> {
    let cache = super::layer_cache(dir)?;
    let (layers, bytes) = cache.usage().with_context(|| format!("reading {}", cache.dir().display()))?;
    let mut out = std::io::stdout().lock();
    if format == Format::Json {
        let doc = serde_json::json!({"path": cache.dir(), "layers": layers, "bytes": bytes});
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        writeln!(out, "layer cache: {}", cache.dir().display())?;
        writeln!(out, "layers:      {layers} ({:.1} MiB)", bytes as f64 / f64::from(1 << 20))?;
    }
    Ok(())
}

/// Deletes every cached layer, or those unused for `unused_days`.
pub fn clean(dir: &CacheDirArg, unused_days: Option<u64>, quiet: bool) -> Result<()> {
    let cache = super::layer_cache(dir)?;
    let unused = std::time::Duration::from_secs(unused_days.unwrap_or(0).saturating_mul(86_400));
    let removed = cache.clear_unused(unused).with_context(|| format!("cleaning {}", cache.dir().display()))?;
    if !quiet {
        let plural = if removed == 1 { "" } else { "s" };
        eprintln!("removed {removed} cached layer{plural} from {}", cache.dir().display());
    }
    Ok(())
}
