//! Images in a local container engine (Docker, or Podman's Docker-compatible
//! service), reached over its Unix socket: `GET /images/NAME/json` tells
//! whether the engine has the image and lists its layers' `diff_id`s; when
//! the layer cache holds them all, that is the whole read. Otherwise
//! `GET /images/NAME/get` exports it as a docker-archive, which is spooled
//! to a temporary file (capped, deleted afterwards) and read like any
//! archive, every layer verified against the config's `diff_id`s. The
//! engine is only asked; nothing runs.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::digest::Digest;
use crate::error::{Error, Result};
use vigil_core::progress::NoProgress;

use crate::{ImageInfo, LayerSource, MAX_JSON_BYTES, ReadOptions, Reported, Selection, Tree, merge};

/// Which engine to ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Docker: `$DOCKER_HOST`, else `/var/run/docker.sock`.
    Docker,
    /// Podman's service: `$CONTAINER_HOST`, else `$XDG_RUNTIME_DIR/podman/podman.sock`, else `/run/podman/podman.sock`.
    Podman,
}

/// A local engine's API socket.
#[derive(Debug, Clone)]
pub struct Engine {
    socket: PathBuf,
}

/// The path of a `unix://` address.
fn unix_path(address: Option<std::ffi::OsString>) -> Option<PathBuf> {
    let address = address?.into_string().ok()?;
    address.strip_prefix("unix://").map(PathBuf::from)
}

impl Engine {
    /// The engine at `socket`.
    pub fn at(socket: impl Into<PathBuf>) -> Engine {
        Engine { socket: socket.into() }
    }

    /// The sockets `kind` is looked for at, in order.
    fn candidates(kind: Kind) -> Vec<PathBuf> {
        match kind {
            Kind::Docker => {
                vec![unix_path(std::env::var_os("DOCKER_HOST")).unwrap_or_else(|| "/var/run/docker.sock".into())]
            }
            Kind::Podman => [
                unix_path(std::env::var_os("CONTAINER_HOST")),
                std::env::var_os("XDG_RUNTIME_DIR").map(|d| Path::new(&d).join("podman/podman.sock")),
                Some("/run/podman/podman.sock".into()),
            ]
            .into_iter()
            .flatten()
            .collect(),
        }
    }

    /// Every socket of `kinds` that exists, in order.
    pub fn all(kinds: &[Kind]) -> Vec<Engine> {
        kinds.iter().flat_map(|&k| Engine::candidates(k)).filter(|p| p.exists()).map(Engine::at).collect()
    }

    /// The first socket of `kinds` that exists.
    pub fn find(kinds: &[Kind]) -> Option<Engine> {
        Engine::all(kinds).into_iter().next()
    }

    /// Where it listens.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    fn fail(&self, message: impl Into<String>) -> Error {
        Error::Format { image: format!("engine {}", self.socket.display()), message: message.into() }
    }

    /// Sends `GET path`; returns the status and a reader over the (de-chunked) body.
    fn get(&self, path: &str) -> Result<(u16, Box<dyn Read + Send>)> {
        let io = |e: std::io::Error| self.fail(format!("GET {path}: {e}"));
        let mut stream = UnixStream::connect(&self.socket).map_err(io)?;
        stream.set_read_timeout(Some(Duration::from_secs(120))).map_err(io)?;
        write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: vigil\r\nConnection: close\r\n\r\n")
            .map_err(io)?;
        let mut reader = BufReader::with_capacity(256 << 10, stream);
        let mut line = String::new();
        reader.by_ref().take(8 << 10).read_line(&mut line).map_err(io)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.fail(format!("GET {path}: not an HTTP answer: {:?}", line.trim())))?;
        let (mut chunked, mut length) = (false, None);
        for _ in 0..100 {
            line.clear();
            reader.by_ref().take(8 << 10).read_line(&mut line).map_err(io)?;
            let header = line.trim();
            if header.is_empty() {
                let body: Box<dyn Read + Send> = match (chunked, length) {
                    (true, _) => Box::new(Chunked { inner: reader, left: 0, done: false }),
                    (false, Some(n)) => Box::new(reader.take(n)),
                    (false, None) => Box::new(reader),
                };
                return Ok((status, body));
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            match name.trim().to_ascii_lowercase().as_str() {
                "transfer-encoding" => chunked = value.trim().eq_ignore_ascii_case("chunked"),
                "content-length" => length = value.trim().parse().ok(),
                _ => {}
            }
        }
        Err(self.fail(format!("GET {path}: too many headers")))
    }

    /// What the engine says of an image (`RootFS.Layers`, `RepoTags`, ...); `None` when it has none by that name.
    pub fn inspect(&self, name: &str) -> Result<Option<Value>> {
        let (status, body) = self.get(&format!("/images/{name}/json"))?;
        let mut text = Vec::new();
        body.take(MAX_JSON_BYTES).read_to_end(&mut text).map_err(|e| self.fail(format!("asking for {name}: {e}")))?;
        match status {
            200 => serde_json::from_slice(&text)
                .map(Some)
                .map_err(|e| self.fail(format!("asking for {name}: not JSON: {e}"))),
            404 => Ok(None),
            status => Err(self.fail(format!("asking for {name}: HTTP {status}"))),
        }
    }

    /// Reads the image `name`, which this engine must have.
    pub fn open(&self, name: &str, selection: &Selection<'_>, options: &ReadOptions<'_>) -> Result<(Tree, ImageInfo)> {
        let details = self.inspect(name)?.ok_or_else(|| {
            self.fail(format!("has no image {name} (`docker images` or `podman images` list what it has)"))
        })?;
        self.read(name, &details, selection, options)
    }

    /// Reads the image `name` from the first engine of `kinds` that has it
    /// (an engine that does not answer counts as not having it); `None` when none has.
    pub fn open_any(
        kinds: &[Kind],
        name: &str,
        selection: &Selection<'_>,
        options: &ReadOptions<'_>,
    ) -> Result<Option<(Tree, ImageInfo)>> {
        for engine in Engine::all(kinds) {
            if let Ok(Some(details)) = engine.inspect(name) {
                return engine.read(name, &details, selection, options).map(Some);
            }
        }
        Ok(None)
    }

    /// Reads an image the engine described as `details`: from the layer
    /// cache alone when the engine's `diff_id`s are all there, else by
    /// exporting it and reading the archive as [`crate::open`] does.
    fn read(
        &self,
        name: &str,
        details: &Value,
        selection: &Selection<'_>,
        options: &ReadOptions<'_>,
    ) -> Result<(Tree, ImageInfo)> {
        let strings = |v: &Value| -> Vec<String> {
            v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_owned)).collect()
        };
        let diff_ids: Option<Vec<Digest>> =
            strings(&details["RootFS"]["Layers"]).iter().map(|d| Digest::parse(d)).collect();
        let identify = |info: &mut ImageInfo| {
            info.format = "engine".into();
            info.tags = strings(&details["RepoTags"]);
            info.manifest_digest =
                strings(&details["RepoDigests"]).first().and_then(|d| d.split_once('@')).map(|(_, d)| d.to_owned());
        };
        let all_cached = options
            .cache
            .zip(diff_ids.as_ref())
            .is_some_and(|(cache, ids)| !ids.is_empty() && ids.iter().all(|id| cache.contains(id, selection.id)));
        if all_cached && let Some(ids) = diff_ids {
            let layers: Vec<LayerSource> = ids
                .into_iter()
                .map(|d| LayerSource {
                    name: d.to_string(),
                    id: d.to_string(),
                    blob: None,
                    diff_id: Some(d),
                    size: None,
                })
                .collect();
            let mut info = ImageInfo::default();
            let gone = |layer: &LayerSource| -> Result<Box<dyn Read + Send>> {
                Err(self.fail(format!("layer {} left the cache while being read", layer.id)))
            };
            // A cache entry found damaged now makes `gone` fail the merge: then the image is exported.
            if let Ok(tree) = merge(name, &layers, &gone, selection, options, &mut info) {
                identify(&mut info);
                return Ok((tree, info));
            }
        }
        let (status, body) = self.get(&format!("/images/{name}/get"))?;
        if status != 200 {
            let mut text = String::new();
            let _ = body.take(4 << 10).read_to_string(&mut text);
            return Err(self.fail(format!("exporting {name}: HTTP {status} {}", text.trim())));
        }
        let mut spool = tempfile::NamedTempFile::new().map_err(|e| self.fail(format!("temporary file: {e}")))?;
        let max = options.limits.max_total_bytes;
        let progress = options.progress.unwrap_or(&NoProgress);
        progress.begin(&format!("export {name}"), None, true);
        let copied = std::io::copy(&mut Reported { inner: body.take(max + 1), progress }, spool.as_file_mut())
            .map_err(|e| self.fail(format!("exporting {name}: {e}")));
        progress.end();
        let copied = copied?;
        if copied > max {
            return Err(self.fail(format!("exporting {name}: more than {max} bytes")));
        }
        let (tree, mut info) = crate::open(spool.path(), selection, options).map_err(|e| match e {
            Error::Format { message, .. } => self.fail(format!("{name}: {message}")),
            Error::Layer { layer, message, .. } => {
                Error::Layer { image: format!("{name} (engine {})", self.socket.display()), layer, message }
            }
            other => other,
        })?;
        identify(&mut info);
        Ok((tree, info))
    }
}

/// An HTTP/1.1 chunked body, de-chunked.
struct Chunked<R> {
    inner: R,
    left: u64,
    done: bool,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut line = String::new();
            (&mut self.inner).take(1 << 10).read_line(&mut line)?;
            if line.trim().is_empty() {
                // The CRLF that ends the previous chunk.
                line.clear();
                (&mut self.inner).take(1 << 10).read_line(&mut line)?;
            }
            let size = line.trim().split(';').next().unwrap_or_default();
            self.left = u64::from_str_radix(size, 16).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, format!("bad chunk size {size:?}"))
            })?;
            if self.left == 0 {
                self.done = true;
                return Ok(0);
            }
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the body ended inside a chunk"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_joined_and_checked() {
        let read = |wire: &[u8]| {
            let mut out = Vec::new();
            Chunked { inner: wire, left: 0, done: false }.read_to_end(&mut out).map(|_| out)
        };
        assert_eq!(read(b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n").unwrap(), b"hello, world");
        assert!(read(b"zz\r\nhello\r\n").is_err());
        assert!(read(b"10\r\nshort").is_err());
    }
}
