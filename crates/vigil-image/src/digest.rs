//! Content digests (`sha256:HEX`, `sha512:HEX`) and a reader that checks
//! the bytes passing through it against one, so that a blob whose content
//! does not match its name is refused instead of scanned or cached.

use std::cell::Cell;
use std::fmt;
use std::io::Read;
use std::rc::Rc;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use sha2::Digest as _;

/// A validated content digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Algorithm {
    Sha256,
    Sha512,
}

impl Digest {
    /// Parses `sha256:` + 64 lowercase hex digits (or `sha512:` + 128);
    /// `None` for anything else.
    pub fn parse(text: &str) -> Option<Digest> {
        let (algorithm, hex) = text.split_once(':')?;
        let (algorithm, len) = match algorithm {
            "sha256" => (Algorithm::Sha256, 64),
            "sha512" => (Algorithm::Sha512, 128),
            _ => return None,
        };
        (hex.len() == len && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Digest { algorithm, hex: hex.to_owned() })
    }

    /// The SHA-256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Digest {
        Digest { algorithm: Algorithm::Sha256, hex: hex(&sha2::Sha256::digest(bytes)) }
    }

    /// The hex part.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// `blobs/ALGORITHM/HEX`, where an OCI image layout keeps this blob.
    pub fn blob_path(&self) -> String {
        format!("blobs/{}/{}", self.algorithm.name(), self.hex)
    }

    /// Whether `bytes` have this digest.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        let mut hasher = Hasher::new(self.algorithm);
        hasher.update(bytes);
        hasher.finish() == self.hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    fn finish(self) -> String {
        match self {
            Hasher::Sha256(h) => hex(&h.finalize()),
            Hasher::Sha512(h) => hex(&h.finalize()),
        }
    }
}

/// Bytes handed to the hashing thread at a time.
const CHUNK: usize = 256 << 10;

/// A hasher on a thread of its own, fed through a short queue, so hashing
/// runs beside decompression and the tar walk instead of after them.
struct Background {
    queue: Option<SyncSender<Vec<u8>>>,
    pending: Vec<u8>,
    hasher: Option<JoinHandle<String>>,
}

impl Background {
    fn new(algorithm: Algorithm) -> Background {
        let (queue, chunks) = sync_channel::<Vec<u8>>(4);
        let hasher = std::thread::spawn(move || {
            let mut hasher = Hasher::new(algorithm);
            for chunk in chunks {
                hasher.update(&chunk);
            }
            hasher.finish()
        });
        Background { queue: Some(queue), pending: Vec::with_capacity(CHUNK), hasher: Some(hasher) }
    }

    fn update(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= CHUNK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if let Some(queue) = &self.queue
            && !self.pending.is_empty()
        {
            // A send fails only if the hashing thread is gone; finish() then reports it.
            let _ = queue.send(std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK)));
        }
    }

    /// The hex digest of everything given, or `None` if the thread failed.
    fn finish(&mut self) -> Option<String> {
        self.flush();
        self.queue = None;
        self.hasher.take()?.join().ok()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        // Closing the queue ends the thread; nothing waits for its answer.
        self.queue = None;
    }
}

/// Hashes what is read through it (on a background thread); at the end of
/// the stream the digest must equal `expected`, or the final read fails.
/// `checked` turns true once the comparison has passed, so a caller can
/// tell a verified stream from one that was not read to its end.
pub(crate) struct Verify<R> {
    inner: R,
    hasher: Option<Background>,
    expected: Digest,
    checked: Rc<Cell<bool>>,
}

impl<R: Read> Verify<R> {
    pub(crate) fn new(inner: R, expected: &Digest) -> (Verify<R>, Rc<Cell<bool>>) {
        let checked = Rc::new(Cell::new(false));
        let reader = Verify {
            inner,
            hasher: Some(Background::new(expected.algorithm)),
            expected: expected.clone(),
            checked: checked.clone(),
        };
        (reader, checked)
    }
}

impl<R: Read> Read for Verify<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            if let Some(h) = self.hasher.as_mut() {
                h.update(&buf[..n]);
            }
        } else if !buf.is_empty()
            && let Some(mut h) = self.hasher.take()
        {
            let actual = h.finish().ok_or_else(|| std::io::Error::other("the hashing thread failed"))?;
            if actual != self.expected.hex {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "digest mismatch: the content is {}:{actual}, not {}",
                        self.expected.algorithm.name(),
                        self.expected
                    ),
                ));
            }
            self.checked.set(true);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_well_formed_digests() {
        let d = Digest::sha256_of(b"hello");
        assert_eq!(d.to_string(), "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(Digest::parse(&d.to_string()), Some(d.clone()));
        assert_eq!(d.blob_path(), format!("blobs/sha256/{}", d.hex()));
        for bad in ["sha256:abc", "md5:2cf24dba5fb0a30e26e83b2ac5b9e29e", "sha256:../../../../etc/passwd", "x", ""] {
            assert_eq!(Digest::parse(bad), None, "{bad}");
        }
        assert_eq!(Digest::parse(&d.to_string().to_uppercase().replace("SHA256", "sha256")), None, "uppercase hex");
    }

    #[test]
    fn a_verified_stream_fails_at_its_end_on_a_mismatch() {
        let d = Digest::sha256_of(b"hello");
        let (mut good, checked) = Verify::new(&b"hello"[..], &d);
        std::io::copy(&mut good, &mut std::io::sink()).unwrap();
        assert!(checked.get());
        let (mut bad, checked) = Verify::new(&b"hellO"[..], &d);
        let err = std::io::copy(&mut bad, &mut std::io::sink()).unwrap_err().to_string();
        assert!(err.contains("digest mismatch") && err.contains(&d.to_string()), "{err}");
        assert!(!checked.get());
    }
}
