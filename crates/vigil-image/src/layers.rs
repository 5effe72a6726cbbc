//! One layer (a tar stream: plain, gzip or zstd) read into the list of
//! changes it makes, checked against its digests, and applied to the tree:
//! whiteouts and opaque directories remove what lower layers put there;
//! wanted files keep their contents; everything is counted against the caps.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::digest::{Digest, Verify};
use crate::error::{Error, Result};
use crate::{Entry, Limits, Node, SPOOL_EXECUTABLES_ABOVE, Selection, Tree};

/// Running totals across all layers of one image, shared by the threads
/// that read its layers.
pub(crate) struct Budget {
    pub bytes: AtomicU64,
    pub entries: AtomicU64,
    pub limits: Limits,
}

/// Counts decompressed bytes and stops at the cap.
struct Counted<'a, R> {
    inner: R,
    bytes: &'a AtomicU64,
    max: u64,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.bytes.fetch_add(n as u64, Ordering::Relaxed) + n as u64 > self.max {
            return Err(std::io::Error::other(format!("the image decompresses to more than {} bytes", self.max)));
        }
        Ok(n)
    }
}

/// A zstd stream of one or more frames, decoded frame after frame.
struct Zstd<R: BufRead> {
    current: Option<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
}

impl<R: BufRead> Zstd<R> {
    fn new(source: R) -> std::io::Result<Zstd<R>> {
        let decoder = ruzstd::decoding::StreamingDecoder::new(source).map_err(std::io::Error::other)?;
        Ok(Zstd { current: Some(decoder) })
    }
}

impl<R: BufRead> Read for Zstd<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let Some(decoder) = self.current.as_mut() else { return Ok(0) };
            let n = decoder.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // This frame is done; another may follow.
            let Some(finished) = self.current.take() else { return Ok(0) };
            let (mut source, _) = finished.into_parts();
            if source.fill_buf()?.is_empty() {
                return Ok(0);
            }
            self.current = Some(ruzstd::decoding::StreamingDecoder::new(source).map_err(std::io::Error::other)?);
        }
    }
}

/// `/a/b` for an entry name, with `.` and empty parts dropped and `..`
/// unable to climb above the root; `None` for the root itself.
pub(crate) fn normalize(name: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for p in name.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| format!("/{}", parts.join("/")))
}

/// One change a layer makes, in the order its tar stream lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// A directory, file or symlink at a path.
    Put(String, Node),
    /// A hard link at a path to an earlier entry.
    HardLink(String, String),
    /// `.wh.NAME`: the path and everything below it are gone.
    Whiteout(String),
    /// `.wh..wh..opq`: everything below the directory from lower layers is gone.
    Opaque(String),
}

/// What one layer does to the tree below it: the unit that is read,
/// verified and cached once per layer digest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layer {
    pub(crate) changes: Vec<Change>,
}

/// Removes `path` and everything below it.
fn remove_tree(tree: &mut Tree, path: &str) {
    tree.entries.remove(path);
    remove_children(tree, path);
}

/// Removes everything strictly below `dir`.
fn remove_children(tree: &mut Tree, dir: &str) {
    let prefix = if dir == "/" { "/".to_owned() } else { format!("{dir}/") };
    let end = format!("{}0", &prefix[..prefix.len() - 1]);
    let doomed: Vec<String> = tree.entries.range(prefix.clone()..end).map(|(k, _)| k.clone()).collect();
    for k in doomed {
        tree.entries.remove(&k);
    }
}

impl Tree {
    /// Applies `layer` (identified as `id`) on top of what is there.
    pub(crate) fn apply(&mut self, layer: &Layer, id: &str) {
        for change in &layer.changes {
            let (path, node) = match change {
                Change::Opaque(dir) => {
                    remove_children(self, dir);
                    continue;
                }
                Change::Whiteout(path) => {
                    remove_tree(self, path);
                    continue;
                }
                Change::Put(path, Node::Dir) => {
                    if matches!(self.entries.get(path), Some(Entry { node: Node::Dir, .. })) {
                        continue;
                    }
                    (path, Node::Dir)
                }
                Change::Put(path, node) => (path, node.clone()),
                // A hard link shares its target's contents, which an earlier entry carried.
                Change::HardLink(path, target) => match self.entries.get(target) {
                    Some(Entry { node: node @ Node::File { .. }, .. }) => (path, node.clone()),
                    _ => continue,
                },
            };
            if node != Node::Dir {
                // A file or link replacing a directory of a lower layer hides what was below it.
                remove_children(self, path);
            }
            self.entries.insert(path.clone(), Entry { node, layer: id.to_owned() });
        }
    }
}

/// The digests one layer stream must have.
pub(crate) struct Expected<'a> {
    /// Of the bytes as stored (a compressed blob's digest).
    pub blob: Option<&'a Digest>,
    /// Of the uncompressed tar (the image config's `diff_id`).
    pub diff_id: Option<&'a Digest>,
}

/// Reads one layer stream: plain, gzip or zstd tar, checked against its
/// digests to the last byte.
pub(crate) fn read_layer(
    reader: impl Read,
    layer: &str,
    image: &str,
    expected: &Expected<'_>,
    selection: &Selection<'_>,
    budget: &Budget,
) -> Result<Layer> {
    let fail = |message: String| Error::Layer { image: image.to_owned(), layer: layer.to_owned(), message };
    let (raw, raw_checked): (Box<dyn Read>, _) = match expected.blob {
        Some(d) => {
            let (r, checked) = Verify::new(reader, d);
            (Box::new(r), Some(checked))
        }
        None => (Box::new(reader), None),
    };
    let mut buffered = BufReader::with_capacity(256 << 10, raw);
    let head = buffered.fill_buf().map_err(|e| fail(format!("cannot read: {e}")))?;
    let stream: Box<dyn Read> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(buffered))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(Zstd::new(buffered).map_err(|e| fail(format!("bad zstd data: {e}")))?)
    } else {
        Box::new(buffered)
    };
    let (stream, tar_checked): (Box<dyn Read>, _) = match expected.diff_id {
        Some(d) => {
            // Buffered above the check, so it sees large reads rather than 512-byte tar headers.
            let (r, checked) = Verify::new(stream, d);
            (Box::new(BufReader::with_capacity(256 << 10, r)), Some(checked))
        }
        None => (stream, None),
    };
    let limits = budget.limits;
    let (max_file, max_entries) = (limits.max_file_bytes, limits.max_entries);
    let mut archive = tar::Archive::new(Counted { inner: stream, bytes: &budget.bytes, max: limits.max_total_bytes });
    let mut changes = Vec::new();
    let entries = archive.entries().map_err(|e| fail(format!("not a tar stream: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| fail(format!("corrupt or truncated: {e}")))?;
        if budget.entries.fetch_add(1, Ordering::Relaxed) + 1 > max_entries {
            return Err(fail(format!("more than {max_entries} entries")));
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(path) = normalize(&raw) else { continue };
        let (dir, name) =
            path.rsplit_once('/').map(|(d, n)| (if d.is_empty() { "/" } else { d }, n)).unwrap_or(("/", ""));
        if name == ".wh..wh..opq" {
            changes.push(Change::Opaque(dir.to_owned()));
            continue;
        }
        if let Some(hidden) = name.strip_prefix(".wh.") {
            let target = if dir == "/" { format!("/{hidden}") } else { format!("{dir}/{hidden}") };
            changes.push(Change::Whiteout(target));
            continue;
        }
        let kind = entry.header().entry_type();
        let link = || entry.link_name_bytes().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        let change = if kind.is_dir() {
            Change::Put(path, Node::Dir)
        } else if kind.is_symlink() {
            Change::Put(path, Node::Symlink(link()))
        } else if kind.is_hard_link() {
            match normalize(&link()) {
                Some(target) => Change::HardLink(path, target),
                None => continue,
            }
        } else if kind.is_file() {
            let size = entry.size();
            let executable = entry.header().mode().is_ok_and(|m| m & 0o111 != 0);
            let (mut data, mut sniffed) = (None, None);
            if size <= max_file && (selection.wanted)(&path) {
                let mut bytes = Vec::with_capacity(size as usize);
                entry.read_to_end(&mut bytes).map_err(|e| fail(format!("{path}: {e}")))?;
                data = Some(Arc::new(bytes));
            } else if let Some(sniff) = selection.sniff.filter(|_| executable && size >= 4 && size <= max_file) {
                let mut magic = [0u8; 4];
                entry.read_exact(&mut magic).map_err(|e| fail(format!("{path}: {e}")))?;
                if magic == *b"\x7fELF" {
                    let io = |e: std::io::Error| fail(format!("{path}: {e}"));
                    sniffed = if size > SPOOL_EXECUTABLES_ABOVE {
                        let mut spool =
                            tempfile::tempfile().map_err(|e| fail(format!("temporary file for {path}: {e}")))?;
                        spool.write_all(&magic).map_err(io)?;
                        std::io::copy(&mut entry, &mut spool).map_err(io)?;
                        (sniff.file)(&spool)
                    } else {
                        let mut bytes = Vec::with_capacity(size as usize);
                        bytes.extend_from_slice(&magic);
                        entry.read_to_end(&mut bytes).map_err(io)?;
                        (sniff.bytes)(&bytes)
                    }
                    .map(Arc::new);
                }
            }
            Change::Put(path, Node::File { size, data, sniffed })
        } else {
            continue;
        };
        changes.push(change);
    }
    // The tar reader stops at the end-of-archive marker; the digests cover every byte.
    let mut rest = archive.into_inner();
    std::io::copy(&mut rest, &mut std::io::sink()).map_err(|e| fail(format!("corrupt or truncated: {e}")))?;
    if raw_checked.iter().chain(&tar_checked).any(|c| !c.get()) {
        return Err(fail("the layer was not read to its end, so its digest could not be checked".into()));
    }
    Ok(Layer { changes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_climb_out() {
        assert_eq!(normalize("./etc/os-release").as_deref(), Some("/etc/os-release"));
        assert_eq!(normalize("../../etc/passwd").as_deref(), Some("/etc/passwd"));
        assert_eq!(normalize("/abs/../x").as_deref(), Some("/x"));
        assert_eq!(normalize("./"), None);
    }
}
