//! A read-only view of a target's files that never leaves its root: a
//! directory on disk, or the merged layers of a container image
//! ([`vigil_image::Tree`]).
//!
//! Paths are resolved component by component: `..` stops at the root, an
//! absolute symlink target is taken relative to the root (as the target
//! system would see it), a relative one relative to the link's directory,
//! and more than 40 links on one path is a loop. Nothing is ever written,
//! and reads are capped.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use vigil_image::{Node, Tree};

use crate::error::{Error, Result};

/// Most symlinks followed while resolving one path.
const MAX_LINKS: usize = 40;

/// Where the files are.
#[derive(Debug, Clone)]
enum Backend {
    /// A directory on disk.
    Dir(PathBuf),
    /// An image's merged layers, with the contents of the wanted files.
    Image(Arc<Tree>),
}

/// What a path is, before following it.
enum Kind {
    Missing,
    Dir,
    File,
    Symlink(String),
}

/// A target's root filesystem.
#[derive(Debug, Clone)]
pub struct RootFs {
    backend: Backend,
    max_file_bytes: u64,
}

impl RootFs {
    /// Opens the directory `root`.
    pub fn open(root: &Path, max_file_bytes: u64) -> Result<RootFs> {
        let meta = std::fs::metadata(root).map_err(|source| Error::Io { path: root.to_owned(), source })?;
        if !meta.is_dir() {
            return Err(Error::Path { path: root.display().to_string(), message: "not a directory".into() });
        }
        Ok(RootFs { backend: Backend::Dir(root.to_owned()), max_file_bytes })
    }

    /// A view of an image's merged layers.
    pub fn image(tree: Arc<Tree>, max_file_bytes: u64) -> RootFs {
        RootFs { backend: Backend::Image(tree), max_file_bytes }
    }

    fn host(root: &Path, path: &str) -> PathBuf {
        let mut p = root.to_owned();
        p.extend(components(path));
        p
    }

    fn kind(&self, path: &str) -> Result<Kind> {
        match &self.backend {
            Backend::Dir(root) => {
                let host = Self::host(root, path);
                match std::fs::symlink_metadata(&host) {
                    Ok(m) if m.file_type().is_symlink() => {
                        let target = std::fs::read_link(&host).map_err(|source| Error::Io { path: host, source })?;
                        Ok(Kind::Symlink(target.to_string_lossy().into_owned()))
                    }
                    Ok(m) if m.is_dir() => Ok(Kind::Dir),
                    Ok(_) => Ok(Kind::File),
                    Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => {
                        Ok(Kind::Missing)
                    }
                    Err(source) => Err(Error::Io { path: host, source }),
                }
            }
            Backend::Image(tree) => Ok(match tree.entries.get(path).map(|e| &e.node) {
                Some(Node::Dir) => Kind::Dir,
                Some(Node::File { .. }) => Kind::File,
                Some(Node::Symlink(t)) => Kind::Symlink(t.clone()),
                // Layers need not list every parent directory.
                None if has_children(tree, path) => Kind::Dir,
                None => Kind::Missing,
            }),
        }
    }

    /// The path (absolute inside the target) that `path` names once every
    /// symlink is followed inside the root; `None` when it does not exist.
    pub fn resolve(&self, path: &str) -> Result<Option<String>> {
        let mut pending: Vec<String> = components(path).rev().map(str::to_owned).collect();
        let mut resolved: Vec<String> = Vec::new();
        let mut links = 0;
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "." => continue,
                ".." => {
                    resolved.pop();
                    continue;
                }
                _ => {}
            }
            resolved.push(part);
            let current = format!("/{}", resolved.join("/"));
            match self.kind(&current)? {
                Kind::Missing => return Ok(None),
                Kind::Dir | Kind::File => {}
                Kind::Symlink(target) => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(Error::Path {
                            path: path.to_owned(),
                            message: "too many symbolic links (a loop?)".into(),
                        });
                    }
                    resolved.pop();
                    if target.starts_with('/') {
                        resolved.clear();
                    }
                    pending.extend(components(&target).rev().map(str::to_owned));
                }
            }
        }
        Ok(Some(format!("/{}", resolved.join("/"))))
    }

    /// The regular file at `path` as a buffered stream, `None` when missing,
    /// for package databases read record by record rather than whole: a
    /// directory's file is read as it is consumed, an image's kept contents
    /// without a copy. Files over the size cap are an error naming the file.
    pub fn stream(&self, path: &str) -> Result<Option<Box<dyn BufRead + Send + '_>>> {
        let Some(real) = self.resolve(path)? else { return Ok(None) };
        match &self.backend {
            Backend::Dir(root) => match self.host_file(root, path, &real)? {
                Some((file, _)) => {
                    Ok(Some(Box::new(std::io::BufReader::with_capacity(1 << 18, file.take(self.max_file_bytes)))))
                }
                None => Ok(None),
            },
            Backend::Image(_) => match self.image_data(path, &real)? {
                Some(data) => Ok(Some(Box::new(std::io::Cursor::new(Shared(data))))),
                None => Ok(None),
            },
        }
    }

    /// The directory's regular file `real` (`path` as asked, for messages),
    /// open, with its size; `None` when it is not a regular file, an error
    /// when it is over the size cap.
    fn host_file(&self, root: &Path, path: &str, real: &str) -> Result<Option<(std::fs::File, u64)>> {
        let host = Self::host(root, real);
        let meta = std::fs::metadata(&host).map_err(|source| Error::Io { path: host.clone(), source })?;
        if !meta.is_file() {
            return Ok(None);
        }
        if meta.len() > self.max_file_bytes {
            return Err(Error::Path {
                path: path.to_owned(),
                message: format!("{} bytes is over the {} byte limit", meta.len(), self.max_file_bytes),
            });
        }
        let file = std::fs::File::open(&host).map_err(|source| Error::Io { path: host, source })?;
        Ok(Some((file, meta.len())))
    }

    /// The kept contents of the image file `real` (`path` as asked, for messages).
    fn image_data(&self, path: &str, real: &str) -> Result<Option<Arc<Vec<u8>>>> {
        let Backend::Image(tree) = &self.backend else { return Ok(None) };
        match tree.entries.get(real).map(|e| &e.node) {
            Some(Node::File { data: Some(data), .. }) => Ok(Some(Arc::clone(data))),
            Some(Node::File { size, data: None, .. }) => Err(Error::Path {
                path: path.to_owned(),
                message: if *size > self.max_file_bytes {
                    format!("{size} bytes is over the {} byte limit", self.max_file_bytes)
                } else {
                    "its contents were not kept: no cataloger declared this path".into()
                },
            }),
            _ => Ok(None),
        }
    }

    /// The contents of the regular file at `path`, `None` when missing.
    /// Files over the size cap are an error naming the file.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let Some(real) = self.resolve(path)? else { return Ok(None) };
        match &self.backend {
            Backend::Dir(root) => {
                let Some((file, len)) = self.host_file(root, path, &real)? else { return Ok(None) };
                let mut data = Vec::with_capacity(len as usize);
                file.take(self.max_file_bytes + 1)
                    .read_to_end(&mut data)
                    .map_err(|source| Error::Io { path: Self::host(root, &real), source })?;
                Ok(Some(data))
            }
            Backend::Image(_) => Ok(self.image_data(path, &real)?.map(|data| data.as_ref().clone())),
        }
    }

    /// What `sniff` makes of the executable ELF file at `path` (walked,
    /// so not a symlink): an image kept it while its layers streamed past;
    /// a directory's file is handed to `sniff` open, to read what it needs. `None` for files that are not
    /// executable, not ELF, over the size cap, or that `sniff` declines.
    pub fn sniffed(&self, path: &str, sniff: fn(&std::fs::File) -> Option<Vec<u8>>) -> Result<Option<Vec<u8>>> {
        match &self.backend {
            Backend::Image(tree) => Ok(match tree.entries.get(path).map(|e| &e.node) {
                Some(Node::File { sniffed: Some(kept), .. }) => Some(kept.as_ref().clone()),
                _ => None,
            }),
            Backend::Dir(root) => {
                use std::os::unix::fs::PermissionsExt;
                let host = Self::host(root, path);
                let io = |source| Error::Io { path: host.clone(), source };
                let meta = std::fs::symlink_metadata(&host).map_err(io)?;
                if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 || meta.len() > self.max_file_bytes {
                    return Ok(None);
                }
                let mut file = std::fs::File::open(&host).map_err(io)?;
                let mut magic = [0u8; 4];
                if file.read_exact(&mut magic).is_err() || magic != *b"\x7fELF" {
                    return Ok(None);
                }
                Ok(sniff(&file))
            }
        }
    }

    /// The mode (type and permission bits), owner and group of what `path`
    /// names once its links are followed inside the root; `None` when it does
    /// not exist. Images do not record modes and owners here, so asking an
    /// image is an error that says so.
    pub fn metadata(&self, path: &str) -> Result<Option<Metadata>> {
        let Some(real) = self.resolve(path)? else { return Ok(None) };
        match &self.backend {
            Backend::Dir(root) => {
                use std::os::unix::fs::MetadataExt;
                let host = Self::host(root, &real);
                let meta = std::fs::symlink_metadata(&host).map_err(|source| Error::Io { path: host, source })?;
                Ok(Some(Metadata { path: real, mode: meta.mode(), uid: meta.uid(), gid: meta.gid(), size: meta.len() }))
            }
            Backend::Image(_) => Err(Error::Path {
                path: path.to_owned(),
                message: "file modes and owners are not recorded for image targets".into(),
            }),
        }
    }

    /// Calls `visit` with every entry below `dir` (absolute inside the root)
    /// and its own metadata (links are reported as links, never followed or
    /// descended into); `/proc`, `/sys` and `/dev` are skipped. At most
    /// `max_entries` entries; images record no modes, so asking one is an error.
    pub fn walk_metadata(&self, dir: &str, max_entries: usize, visit: &mut dyn FnMut(&Metadata)) -> Result<()> {
        let Backend::Dir(root) = &self.backend else {
            return Err(Error::Path {
                path: dir.to_owned(),
                message: "file modes and owners are not recorded for image targets".into(),
            });
        };
        use std::os::unix::fs::MetadataExt;
        let Some(start) = self.resolve(dir)? else { return Ok(()) };
        let mut seen = 0usize;
        let mut stack = vec![start.trim_end_matches('/').to_owned()];
        while let Some(current) = stack.pop() {
            if matches!(current.as_str(), "/proc" | "/sys" | "/dev") {
                continue;
            }
            let Ok(read) = std::fs::read_dir(Self::host(root, &current)) else { continue };
            for e in read.filter_map(|e| e.ok()) {
                seen += 1;
                if seen > max_entries {
                    return Err(Error::Path { path: current, message: format!("more than {max_entries} entries") });
                }
                let Ok(meta) = e.metadata() else { continue };
                let path = format!("{current}/{}", e.file_name().to_string_lossy());
                if meta.is_dir() {
                    stack.push(path.clone());
                }
                visit(&Metadata { path, mode: meta.mode(), uid: meta.uid(), gid: meta.gid(), size: meta.len() });
            }
        }
        Ok(())
    }

    /// The layer a path came from, for image targets.
    pub fn layer(&self, path: &str) -> Option<String> {
        let Backend::Image(tree) = &self.backend else { return None };
        let real = self.resolve(path).ok().flatten()?;
        tree.entries.get(&real).map(|e| e.layer.clone())
    }

    /// The sorted names in the directory at `path` (empty when missing).
    pub fn read_dir(&self, path: &str) -> Result<Vec<String>> {
        let Some(real) = self.resolve(path)? else { return Ok(Vec::new()) };
        match &self.backend {
            Backend::Dir(root) => {
                let host = Self::host(root, &real);
                if !host.is_dir() {
                    return Ok(Vec::new());
                }
                let mut names = Vec::new();
                for entry in std::fs::read_dir(&host).map_err(|source| Error::Io { path: host.clone(), source })? {
                    let entry = entry.map_err(|source| Error::Io { path: host.clone(), source })?;
                    names.push(entry.file_name().to_string_lossy().into_owned());
                }
                names.sort();
                Ok(names)
            }
            Backend::Image(tree) => {
                let prefix = if real == "/" { "/".to_owned() } else { format!("{real}/") };
                let mut names: Vec<String> = tree
                    .entries
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .filter_map(|(k, _)| k[prefix.len()..].split('/').next().map(str::to_owned))
                    .collect();
                names.dedup();
                Ok(names)
            }
        }
    }

    /// Calls `visit` with the path (absolute inside the root) of every
    /// regular file below `dir`, in no particular order. Symlinks are not
    /// followed (a link to a directory is not descended into), and the
    /// pseudo-filesystems `/proc`, `/sys` and `/dev` are skipped. At most
    /// `max_entries` entries are visited; past that the walk stops with an
    /// error naming the directory it was in.
    pub fn walk(&self, dir: &str, max_entries: usize, visit: &mut dyn FnMut(&str)) -> Result<()> {
        let skipped = |p: &str| ["/proc/", "/sys/", "/dev/"].iter().any(|s| p.starts_with(s));
        match &self.backend {
            Backend::Image(tree) => {
                for (n, (path, entry)) in tree.entries.iter().enumerate() {
                    if n >= max_entries {
                        return Err(Error::Path {
                            path: dir.to_owned(),
                            message: format!("more than {max_entries} entries in the target"),
                        });
                    }
                    if matches!(entry.node, Node::File { .. }) && !skipped(path) {
                        visit(path);
                    }
                }
                Ok(())
            }
            Backend::Dir(root) => {
                let mut seen = 0usize;
                let mut stack = vec![dir.trim_end_matches('/').to_owned()];
                while let Some(current) = stack.pop() {
                    if matches!(current.as_str(), "/proc" | "/sys" | "/dev") {
                        continue;
                    }
                    let Ok(read) = std::fs::read_dir(Self::host(root, &current)) else { continue };
                    for e in read.filter_map(|e| e.ok()) {
                        seen += 1;
                        if seen > max_entries {
                            return Err(Error::Path {
                                path: current,
                                message: format!(
                                    "more than {max_entries} entries in the target; raise the limit if this is genuine"
                                ),
                            });
                        }
                        let Ok(kind) = e.file_type() else { continue };
                        let path = format!("{current}/{}", e.file_name().to_string_lossy());
                        if kind.is_dir() {
                            stack.push(path);
                        } else if kind.is_file() {
                            visit(&path);
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

/// What [`RootFs::metadata`] tells of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The path once its links are followed (absolute inside the root).
    pub path: String,
    /// `st_mode`: file type and permission bits.
    pub mode: u32,
    /// Owner's user id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Size in bytes.
    pub size: u64,
}

/// An image file's shared contents, read through a cursor without a copy.
struct Shared(Arc<Vec<u8>>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// True when some entry lies below `path` in the image tree.
fn has_children(tree: &Tree, path: &str) -> bool {
    let prefix = format!("{path}/");
    tree.entries.range(prefix.clone()..).next().is_some_and(|(k, _)| k.starts_with(&prefix))
}

fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_never_leave_the_root() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "host secret").unwrap();
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::fs::write(r.join("etc/real"), "inside").unwrap();
        symlink("/etc/real", r.join("etc/abs")).unwrap();
        symlink("../../../../etc/real", r.join("etc/dotdot")).unwrap();
        symlink(outside.path().join("secret"), r.join("etc/escape")).unwrap();
        symlink("loop2", r.join("etc/loop1")).unwrap();
        symlink("loop1", r.join("etc/loop2")).unwrap();
        let fs = RootFs::open(r, 1 << 20).unwrap();
        assert_eq!(fs.read("/etc/abs").unwrap().unwrap(), b"inside");
        assert_eq!(fs.read("etc/dotdot").unwrap().unwrap(), b"inside");
        assert_eq!(fs.read("/../../etc/real").unwrap().unwrap(), b"inside");
        // The absolute host path is re-rooted inside the target, where it does not exist.
        assert_eq!(fs.read("/etc/escape").unwrap(), None);
        assert!(fs.read("/etc/loop1").unwrap_err().to_string().contains("loop"));
        assert_eq!(fs.read("/nope/x").unwrap(), None);
    }

    #[test]
    fn reads_are_capped() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("big"), vec![0u8; 2048]).unwrap();
        let fs = RootFs::open(root.path(), 1024).unwrap();
        assert!(fs.read("/big").unwrap_err().to_string().contains("over the 1024 byte limit"));
    }
}
