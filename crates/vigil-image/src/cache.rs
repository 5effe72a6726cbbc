//! The layer cache: what a layer does to the tree (its [`Layer`] changes,
//! with the contents of the wanted files) stored under the digest of the
//! uncompressed layer, so a rescan, or a second image sharing base layers,
//! reads a small file instead of decompressing and walking the layer again.
//!
//! Only layers whose content was checked against that digest are stored,
//! so an image cannot plant another image's layer in the cache. An entry is
//! also keyed by the caller's selection id (what files it keeps), written
//! to a temporary file and renamed, and read back defensively: a damaged or
//! foreign file is a cache miss, never an error or a panic.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Node;
use crate::digest::Digest;
use crate::layers::{Change, Layer};

const MAGIC: &[u8] = b"vigil-layer-v2\n";
const END: &[u8] = b"end\n";
/// The name prefix of layers being written.
const TMP_PREFIX: &str = ".tmp-";

/// A directory of cached layers.
#[derive(Debug, Clone)]
pub struct LayerCache {
    dir: PathBuf,
}

impl LayerCache {
    /// The cache in `dir` (created on first store).
    pub fn new(dir: impl Into<PathBuf>) -> LayerCache {
        LayerCache { dir: dir.into() }
    }

    /// Where it lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, diff_id: &Digest, selection: &str) -> PathBuf {
        let selection = Digest::sha256_of(selection.as_bytes());
        self.dir.join(format!("{}.{}.layer", diff_id.to_string().replace(':', "-"), &selection.hex()[..16]))
    }

    /// The cached changes of the layer whose uncompressed digest is `diff_id`.
    pub(crate) fn get(&self, diff_id: &Digest, selection: &str) -> Option<Layer> {
        let path = self.path(diff_id, selection);
        let bytes = std::fs::read(&path).ok()?;
        let layer = decode(&bytes)?;
        // The modification time records the last use, for `clear_unused`; failing to set it is harmless.
        if let Ok(file) = std::fs::File::options().write(true).open(&path) {
            let _ = file.set_modified(std::time::SystemTime::now());
        }
        Some(layer)
    }

    /// Whether a layer is cached (its file exists; a damaged one is still a miss when read).
    pub(crate) fn contains(&self, diff_id: &Digest, selection: &str) -> bool {
        self.path(diff_id, selection).is_file()
    }

    /// Stores a layer; failures (a read-only or full disk) only cost speed
    /// next time, so they are returned for the caller to report, not fatal.
    pub(crate) fn put(&self, diff_id: &Digest, selection: &str, layer: &Layer) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        // Named so that `clear` finds what a crash left behind; deleted when dropped unpersisted.
        let mut tmp = tempfile::Builder::new().prefix(TMP_PREFIX).tempfile_in(&self.dir)?;
        tmp.write_all(&encode(layer))?;
        tmp.as_file().sync_all()?;
        tmp.persist(self.path(diff_id, selection)).map(drop).map_err(|e| e.error)
    }

    /// The number of cached layers and their total size in bytes.
    pub fn usage(&self) -> std::io::Result<(u64, u64)> {
        let mut count = 0;
        let mut bytes = 0;
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            if entry.file_name().to_string_lossy().ends_with(".layer") {
                count += 1;
                bytes += entry.metadata()?.len();
            }
        }
        Ok((count, bytes))
    }

    /// Deletes every cached layer; returns how many.
    pub fn clear(&self) -> std::io::Result<u64> {
        self.clear_unused(std::time::Duration::ZERO)
    }

    /// Deletes the cached layers not used for `unused` (a write or a
    /// read counts as a use), and leftover temporary files; returns how many layers.
    pub fn clear_unused(&self, unused: std::time::Duration) -> std::io::Result<u64> {
        let cutoff = std::time::SystemTime::now().checked_sub(unused).unwrap_or(std::time::UNIX_EPOCH);
        let mut removed = 0;
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let stale = entry.metadata()?.modified().is_ok_and(|m| m <= cutoff);
            if (name.ends_with(".layer") || name.starts_with(TMP_PREFIX)) && stale {
                std::fs::remove_file(entry.path())?;
                removed += u64::from(name.ends_with(".layer"));
            }
        }
        Ok(removed)
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(b);
}

fn encode(layer: &Layer) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&(layer.changes.len() as u64).to_le_bytes());
    for change in &layer.changes {
        match change {
            Change::Put(path, node) => {
                out.push(0);
                put_str(&mut out, path);
                match node {
                    Node::Dir => out.push(0),
                    Node::File { size, data, sniffed } => {
                        out.push(1);
                        out.extend_from_slice(&size.to_le_bytes());
                        for kept in [data, sniffed] {
                            match kept {
                                Some(d) => {
                                    out.push(1);
                                    put_bytes(&mut out, d);
                                }
                                None => out.push(0),
                            }
                        }
                    }
                    Node::Symlink(target) => {
                        out.push(2);
                        put_str(&mut out, target);
                    }
                }
            }
            Change::HardLink(path, target) => {
                out.push(1);
                put_str(&mut out, path);
                put_str(&mut out, target);
            }
            Change::Whiteout(path) => {
                out.push(2);
                put_str(&mut out, path);
            }
            Change::Opaque(dir) => {
                out.push(3);
                put_str(&mut out, dir);
            }
        }
    }
    out.extend_from_slice(END);
    out
}

/// A bounds-checked reader over an encoded layer.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.rest.len() {
            return None;
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u64(&mut self) -> Option<u64> {
        self.take(8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u64()?).ok()?;
        self.take(n)
    }

    /// An optional byte string: `Some(None)` when absent, `None` when damaged.
    fn kept(&mut self) -> Option<Option<Arc<Vec<u8>>>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(Arc::new(self.bytes()?.to_vec()))),
            _ => None,
        }
    }

    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
}

fn decode(bytes: &[u8]) -> Option<Layer> {
    let mut c = Cursor { rest: bytes.strip_prefix(MAGIC)? };
    let count = c.u64()?;
    let mut changes = Vec::with_capacity(usize::try_from(count).ok()?.min(c.rest.len()));
    for _ in 0..count {
        let change = match c.u8()? {
            0 => {
                let path = c.string()?;
                let node = match c.u8()? {
                    0 => Node::Dir,
                    1 => Node::File { size: c.u64()?, data: c.kept()?, sniffed: c.kept()? },
                    2 => Node::Symlink(c.string()?),
                    _ => return None,
                };
                Change::Put(path, node)
            }
            1 => Change::HardLink(c.string()?, c.string()?),
            2 => Change::Whiteout(c.string()?),
            3 => Change::Opaque(c.string()?),
            _ => return None,
        };
        changes.push(change);
    }
    (c.rest == END).then_some(Layer { changes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Layer {
        Layer {
            changes: vec![
                Change::Put("/etc".into(), Node::Dir),
                Change::Put(
                    "/etc/os-release".into(),
                    Node::File { size: 3, data: Some(Arc::new(b"x=1".to_vec())), sniffed: None },
                ),
                Change::Put(
                    "/bin/app".into(),
                    Node::File { size: 125_560, data: None, sniffed: Some(Arc::new(b"go".to_vec())) },
                ),
                Change::Put("/lib".into(), Node::Symlink("usr/lib".into())),
                Change::HardLink("/bin/dash".into(), "/bin/sh".into()),
                Change::Whiteout("/opt/old".into()),
                Change::Opaque("/srv".into()),
            ],
        }
    }

    #[test]
    fn round_trips_and_refuses_damage() {
        let encoded = encode(&sample());
        assert_eq!(decode(&encoded), Some(sample()));
        for cut in 0..encoded.len() {
            assert_eq!(decode(&encoded[..cut]), None, "truncated at {cut}");
        }
        let mut flipped = encoded.clone();
        flipped[MAGIC.len() + 8] = 9;
        assert_eq!(decode(&flipped), None);
        // A huge length cannot make it allocate or read past the end.
        let mut huge = MAGIC.to_vec();
        huge.extend_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(decode(&huge), None);
    }

    #[test]
    fn stores_by_digest_and_selection() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::new(dir.path().join("layers"));
        let id = Digest::sha256_of(b"layer");
        assert_eq!(cache.get(&id, "a"), None);
        cache.put(&id, "a", &sample()).unwrap();
        assert_eq!(cache.get(&id, "a"), Some(sample()));
        assert_eq!(cache.get(&id, "b"), None, "another selection keeps other files");
        assert_eq!(cache.usage().unwrap().0, 1);
        assert_eq!(cache.clear_unused(std::time::Duration::from_secs(3600)).unwrap(), 0, "used just now");
        // An entry last used two days ago goes when one day of disuse is the limit.
        let file = std::fs::File::options().write(true).open(cache.path(&id, "a")).unwrap();
        file.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86400)).unwrap();
        assert_eq!(cache.clear_unused(std::time::Duration::from_secs(86400)).unwrap(), 1);
        cache.put(&id, "a", &sample()).unwrap();
        assert_eq!(cache.clear().unwrap(), 1);
        assert_eq!(cache.get(&id, "a"), None);
    }
}
