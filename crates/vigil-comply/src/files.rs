//! Which files of a target the misconfiguration and secret scanners read:
//! one walk of the root (links not followed), regular files only, each read
//! at most once and under a size cap, binaries left out.

use vigil_inventory::fs::RootFs;

/// Caps on what a run reads.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest file read, in bytes; larger files are skipped with a warning.
    pub max_file_bytes: u64,
    /// Most entries walked in the target.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_file_bytes: 8 << 20, max_entries: 2_000_000 }
    }
}

/// Every regular file of the target (absolute inside the root), sorted.
pub(crate) fn candidates(fs: &RootFs, limits: &Limits, warnings: &mut Vec<String>) -> Vec<String> {
    let mut found = Vec::new();
    if let Err(e) = fs.walk("/", limits.max_entries, &mut |p| found.push(p.to_owned())) {
        warnings.push(format!("walking the target: {e}"));
    }
    found.sort();
    found
}

/// The text of `path`: `None` for a missing file, a binary (a NUL byte in
/// its first 8 KiB) or one over the cap (with a warning).
pub(crate) fn text(fs: &RootFs, path: &str, limits: &Limits, warnings: &mut Vec<String>) -> Option<String> {
    // A directory's file is measured before it is read (an image keeps only files under its own cap).
    if let Ok(Some(meta)) = fs.metadata(path)
        && meta.size > limits.max_file_bytes
    {
        warnings
            .push(format!("{path}: {} bytes is over the {} byte limit; not read", meta.size, limits.max_file_bytes));
        return None;
    }
    let bytes = match fs.read(path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return None,
        Err(e) => {
            warnings.push(e.to_string());
            return None;
        }
    };
    if bytes.len() as u64 > limits.max_file_bytes {
        warnings.push(format!(
            "{path}: {} bytes is over the {} byte limit; not read",
            bytes.len(),
            limits.max_file_bytes
        ));
        return None;
    }
    if is_binary(&bytes) {
        return None;
    }
    Some(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// A NUL byte in the first 8 KiB, as git and grep decide.
pub(crate) fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8192)].contains(&0)
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> u32 {
    let end = offset.min(text.len());
    (text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1) as u32
}
