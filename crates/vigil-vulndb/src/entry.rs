//! The stored form of one affected entry: what a lookup needs (package
//! name, fix status, informational category, versions and ranges) in a
//! small length-prefixed binary layout that decodes several times faster
//! than JSON. The full entry stays in the record.
//!
//! Layout (integers little-endian): `u8` format version, then the package
//! name, status and informational category (`u8` presence flag + string for
//! the optional ones), `u32` count of versions and each version, `u32`
//! count of ranges and for each: `u8` kind, optional repository, `u32` count
//! of events and for each `u8` kind + version. A string is `u32` length +
//! UTF-8 bytes. Anything that does not decode is reported as `None`.

use vigil_core::osv::{Affected, Event, Range, RangeKind};

const FORMAT: u8 = 1;

/// An affected entry as lookups read it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredEntry {
    /// Package name as the record spells it.
    pub package: String,
    /// Source fix status (`needed`, `no-dsa`, ...).
    pub status: Option<String>,
    /// RustSec informational category.
    pub informational: Option<String>,
    /// Versions and ranges, with no package and nothing source-specific.
    pub affected: Affected,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
        None => out.push(0),
    }
}

/// Encodes the parts of `entry` lookups need.
pub(crate) fn encode(entry: &Affected) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(FORMAT);
    put_str(&mut out, entry.package.as_ref().map_or("", |p| p.name.as_str()));
    put_opt(&mut out, entry.status());
    put_opt(&mut out, entry.informational());
    out.extend_from_slice(&(entry.versions.len() as u32).to_le_bytes());
    for v in &entry.versions {
        put_str(&mut out, v);
    }
    out.extend_from_slice(&(entry.ranges.len() as u32).to_le_bytes());
    for r in &entry.ranges {
        out.push(match r.kind {
            RangeKind::Ecosystem => 0,
            RangeKind::Semver => 1,
            RangeKind::Git => 2,
            RangeKind::Unknown => 3,
        });
        put_opt(&mut out, r.repo.as_deref());
        out.extend_from_slice(&(r.events.len() as u32).to_le_bytes());
        for e in &r.events {
            let (tag, v) = match e {
                Event::Introduced(v) => (0, v),
                Event::Fixed(v) => (1, v),
                Event::LastAffected(v) => (2, v),
                Event::Limit(v) => (3, v),
            };
            out.push(tag);
            put_str(&mut out, v);
        }
    }
    out
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn u32(&mut self) -> Option<usize> {
        let (head, rest) = self.0.split_at_checked(4)?;
        self.0 = rest;
        Some(u32::from_le_bytes(head.try_into().ok()?) as usize)
    }

    fn str(&mut self) -> Option<String> {
        let n = self.u32()?;
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        String::from_utf8(head.to_vec()).ok()
    }

    fn opt(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(self.str()?)),
            _ => None,
        }
    }

    /// A count, refused when it cannot fit in what is left.
    fn count(&mut self) -> Option<usize> {
        let n = self.u32()?;
        (n <= self.0.len()).then_some(n)
    }
}

/// Decodes an entry written by [`encode`]; `None` if it is not one.
pub(crate) fn decode(bytes: &[u8]) -> Option<StoredEntry> {
    let mut r = Reader(bytes);
    if r.u8()? != FORMAT {
        return None;
    }
    let package = r.str()?;
    let status = r.opt()?;
    let informational = r.opt()?;
    let versions = (0..r.count()?).map(|_| r.str()).collect::<Option<Vec<_>>>()?;
    let mut ranges = Vec::with_capacity(1);
    for _ in 0..r.count()? {
        let kind = match r.u8()? {
            0 => RangeKind::Ecosystem,
            1 => RangeKind::Semver,
            2 => RangeKind::Git,
            _ => RangeKind::Unknown,
        };
        let repo = r.opt()?;
        let mut events = Vec::with_capacity(2);
        for _ in 0..r.count()? {
            let tag = r.u8()?;
            let v = r.str()?;
            events.push(match tag {
                0 => Event::Introduced(v),
                1 => Event::Fixed(v),
                2 => Event::LastAffected(v),
                3 => Event::Limit(v),
                _ => return None,
            });
        }
        ranges.push(Range { kind, repo, events, database_specific: None });
    }
    if !r.0.is_empty() {
        return None;
    }
    let affected = Affected {
        package: None,
        severity: Vec::new(),
        ranges,
        versions,
        ecosystem_specific: None,
        database_specific: None,
    };
    Some(StoredEntry { package, status, informational, affected })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let entry: Affected = serde_json::from_str(
            r#"{"package":{"ecosystem":"Ubuntu:18.04:LTS","name":"xine-ui"},"versions":["1.0"],
               "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2"}]},{"type":"GIT","repo":"r","events":[{"introduced":"a"}]}],
               "ecosystem_specific":{"status":"needed"}}"#,
        )
        .unwrap();
        let bytes = encode(&entry);
        let back = decode(&bytes).unwrap();
        assert_eq!(back.package, "xine-ui");
        assert_eq!(back.status.as_deref(), Some("needed"));
        assert_eq!(back.affected.ranges, entry.ranges);
        assert_eq!(back.affected.versions, entry.versions);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_none());
        }
        assert!(decode(&[1, 255, 255, 255, 255]).is_none());
    }
}
