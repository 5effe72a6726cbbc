//! `pnpm-lock.yaml`: the keys of the `packages:` section, in every
//! lockfile version (`/name/1.0.0` in v5, `/name@1.0.0` in v6,
//! `name@1.0.0` in v9), peer-dependency suffixes dropped.

use super::{Dep, Format, file_name};

/// The format.
pub const FORMAT: Format = Format { id: "pnpm-lock", ecosystem: "npm", matches, parse };

fn matches(path: &str) -> bool {
    file_name(path) == "pnpm-lock.yaml" && !path.contains("/node_modules/")
}

/// Name and version of one package key.
fn key(k: &str) -> Option<(String, String)> {
    let k = k.trim().trim_matches(|c| c == '\'' || c == '"');
    let k = k.split('(').next()?;
    let body = k.trim_start_matches('/');
    let unscoped = match body.strip_prefix('@') {
        Some(r) => r.split_once('/').map_or(r, |(_, n)| n),
        None => body,
    };
    if k.starts_with('/') && !unscoped.contains('@') {
        // v5: /name/version or /@scope/name/version, peers after `_`.
        let (name, version) = body.rsplit_once('/')?;
        return Some((name.to_owned(), version.split('_').next()?.to_owned()));
    }
    let k = k.trim_start_matches('/');
    let at = if let Some(rest) = k.strip_prefix('@') { rest.find('@').map(|i| i + 1) } else { k.find('@') }?;
    Some((k[..at].to_owned(), k[at + 1..].to_owned()))
}

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let text: &str = &String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut in_packages = false;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            in_packages = line.trim_end() == "packages:";
            continue;
        }
        // Package keys are indented two spaces and end with a colon.
        if in_packages && line.starts_with("  ") && !line.starts_with("   ") && line.trim_end().ends_with(':') {
            let k = line.trim().trim_end_matches(':');
            let (name, version) = key(k).ok_or_else(|| format!("cannot read the package key {k:?}"))?;
            if !version.starts_with("link:") && !version.starts_with("file:") {
                out.push(Dep::new(name, version));
            }
        }
    }
    Ok(out)
}
