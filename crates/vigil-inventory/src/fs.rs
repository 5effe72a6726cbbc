//! A read-only view of a root filesystem on disk that never leaves the root.
//!
//! Paths are resolved component by component: `..` stops at the root, an
//! absolute symlink target is taken relative to the root (as the target
//! system would see it), a relative one relative to the link's directory,
//! and more than 40 links on one path is a loop. Nothing is ever written,
//! and reads are capped.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Most symlinks followed while resolving one path.
const MAX_LINKS: usize = 40;

/// A directory treated as the root of a target system.
#[derive(Debug, Clone)]
pub struct RootFs {
    root: PathBuf,
    max_file_bytes: u64,
}

impl RootFs {
    /// Opens `root`, which must be a directory.
    pub fn open(root: &Path, max_file_bytes: u64) -> Result<RootFs> {
        let meta = std::fs::metadata(root).map_err(|source| Error::Io { path: root.to_owned(), source })?;
        if !meta.is_dir() {
            return Err(Error::Path { path: root.display().to_string(), message: "not a directory".into() });
        }
        Ok(RootFs { root: root.to_owned(), max_file_bytes })
    }

    /// The host path of `path` (absolute inside the root), with every
    /// symlink resolved inside the root; `None` when it does not exist.
    pub fn resolve(&self, path: &str) -> Result<Option<PathBuf>> {
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
            let host = self.host(&resolved).join(&part);
            let meta = match std::fs::symlink_metadata(&host) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => return Ok(None),
                Err(source) => return Err(Error::Io { path: host, source }),
            };
            if meta.file_type().is_symlink() {
                links += 1;
                if links > MAX_LINKS {
                    return Err(Error::Path {
                        path: path.to_owned(),
                        message: "too many symbolic links (a loop?)".into(),
                    });
                }
                let target = std::fs::read_link(&host).map_err(|source| Error::Io { path: host, source })?;
                let target = target.to_string_lossy().into_owned();
                if target.starts_with('/') {
                    resolved.clear();
                }
                pending.extend(components(&target).rev().map(str::to_owned));
            } else {
                resolved.push(part);
            }
        }
        Ok(Some(self.host(&resolved)))
    }

    fn host(&self, parts: &[String]) -> PathBuf {
        let mut p = self.root.clone();
        p.extend(parts);
        p
    }

    /// The contents of the regular file at `path`, `None` when missing.
    /// Files over the size cap are an error naming the file.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let Some(host) = self.resolve(path)? else {
            return Ok(None);
        };
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
        let mut data = Vec::with_capacity(meta.len() as usize);
        std::fs::File::open(&host)
            .and_then(|f| f.take(self.max_file_bytes + 1).read_to_end(&mut data))
            .map_err(|source| Error::Io { path: host, source })?;
        Ok(Some(data))
    }

    /// The sorted names in the directory at `path` (empty when missing).
    pub fn read_dir(&self, path: &str) -> Result<Vec<String>> {
        let Some(host) = self.resolve(path)? else {
            return Ok(Vec::new());
        };
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
}

impl RootFs {
    /// Calls `visit` with the path (absolute inside the root) of every
    /// regular file below `dir`, in no particular order. Symlinks are not
    /// followed (a link to a directory is not descended into), and the
    /// pseudo-filesystems `/proc`, `/sys` and `/dev` are skipped. At most
    /// `max_entries` entries are visited; past that the walk stops with an
    /// error naming the directory it was in.
    pub fn walk(&self, dir: &str, max_entries: usize, visit: &mut dyn FnMut(&str)) -> Result<()> {
        let mut seen = 0usize;
        let mut stack = vec![dir.trim_end_matches('/').to_owned()];
        while let Some(current) = stack.pop() {
            if matches!(current.as_str(), "/proc" | "/sys" | "/dev") {
                continue;
            }
            let host = self.host(&components(&current).map(str::to_owned).collect::<Vec<_>>());
            let Ok(read) = std::fs::read_dir(&host) else { continue };
            let mut entries: Vec<(String, std::fs::FileType)> = read
                .filter_map(|e| e.ok())
                .filter_map(|e| Some((e.file_name().to_string_lossy().into_owned(), e.file_type().ok()?)))
                .collect();
            entries.sort_by(|a, b| b.0.cmp(&a.0));
            for (name, kind) in entries {
                seen += 1;
                if seen > max_entries {
                    return Err(Error::Path {
                        path: current,
                        message: format!(
                            "more than {max_entries} entries in the target; raise the limit if this is genuine"
                        ),
                    });
                }
                let path = format!("{current}/{name}");
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
