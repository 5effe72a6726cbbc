//! `requirements*.txt`: pinned lines only (`name==version`, extras and
//! environment markers allowed); ranges are not installed versions, so
//! they are not reported.

use super::{Dep, Format, file_name};

/// The format.
pub const FORMAT: Format = Format { id: "requirements", ecosystem: "PyPI", matches, parse };

fn matches(path: &str) -> bool {
    let name = file_name(path);
    name.starts_with("requirements") && name.ends_with(".txt")
}

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let text: &str = &String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split(" #").next().unwrap_or("").trim().trim_end_matches('\\').trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        let spec = line.split(';').next().unwrap_or("").trim();
        let Some((name, version)) = spec.split_once("==") else { continue };
        let name = name.split('[').next().unwrap_or("").trim();
        let version = version.split_whitespace().next().unwrap_or("").trim_start_matches('=');
        if !name.is_empty() && !version.is_empty() && !version.contains('*') {
            out.push(Dep::new(name, version));
        }
    }
    Ok(out)
}
