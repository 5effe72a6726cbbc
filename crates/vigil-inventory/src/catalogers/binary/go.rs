//! Go binaries: the build information the Go toolchain (1.18 and later)
//! embeds in the `.go.buildinfo` section: the Go version, which becomes
//! the `stdlib` package (as the Go vulnerability database names it), and
//! the module list (`mod` is the main module, `dep` a dependency, `=>` its
//! replacement), as `go version -m` prints it. Go 1.18 and later store the
//! two strings inline; Go 1.13 to 1.17 store pointers to Go string headers,
//! which are followed through the file's loadable segments (as Go's own
//! `debug/buildinfo` does).

use super::Binary;

use crate::catalogers::lang::Dep;

/// Cataloger id of Go binary packages.
pub const ID: &str = "go-binary";

const MAGIC: &[u8] = b"\xff Go buildinf:";
/// Flag bit: version and module info are inline, varint-length-prefixed strings.
const INLINE: u8 = 2;

/// A varint-length-prefixed string and what follows it.
fn varint_string(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut len: u64 = 0;
    for (i, &b) in data.iter().enumerate().take(10) {
        len |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            let rest = &data[i + 1..];
            let len = usize::try_from(len).ok().filter(|&l| l <= rest.len())?;
            return Some(rest.split_at(len));
        }
    }
    None
}

/// Longest string followed through a pointer.
const MAX_POINTED_STRING: u64 = 1 << 20;

/// A 4- or 8-byte pointer at the start of `b`.
fn pointer(b: &[u8], size: usize, big_endian: bool) -> Option<u64> {
    Some(match (size, big_endian) {
        (4, false) => u64::from(u32::from_le_bytes(b.get(..4)?.try_into().ok()?)),
        (4, true) => u64::from(u32::from_be_bytes(b.get(..4)?.try_into().ok()?)),
        (8, false) => u64::from_le_bytes(b.get(..8)?.try_into().ok()?),
        (8, true) => u64::from_be_bytes(b.get(..8)?.try_into().ok()?),
        _ => return None,
    })
}

/// The Go string whose header (data pointer, length) is at `address` (Go 1.13 to 1.17).
fn pointed_string<'a>(binary: &dyn Binary<'a>, address: u64, ptr_size: usize, big_endian: bool) -> Option<&'a [u8]> {
    let header = binary.read_at(address, 2 * ptr_size as u64)?;
    let data = pointer(header, ptr_size, big_endian)?;
    let len = pointer(&header[ptr_size..], ptr_size, big_endian)?;
    if len > MAX_POINTED_STRING {
        return None;
    }
    binary.read_at(data, len)
}

/// `GO-VERSION \n MODINFO` from the build info section.
pub fn extract(binary: &dyn Binary<'_>) -> Option<Vec<u8>> {
    let data = binary.section(".go.buildinfo")?;
    if data.len() < 32 || !data.starts_with(MAGIC) {
        return None;
    }
    let (version, modinfo) = if data[15] & INLINE != 0 {
        let (version, rest) = varint_string(&data[32..])?;
        (version, varint_string(rest)?.0)
    } else {
        let (ptr_size, big_endian) = (usize::from(data[14]), data[15] & 1 != 0);
        let read =
            |at: usize| pointed_string(binary, pointer(data.get(at..)?, ptr_size, big_endian)?, ptr_size, big_endian);
        (read(16)?, read(16 + ptr_size)?)
    };
    // The module info is framed by 16-byte sentinels (cmd/go's infoStart and infoEnd).
    let modinfo = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        &[]
    };
    let mut out = version.to_vec();
    out.push(b'\n');
    out.extend_from_slice(modinfo);
    Some(out)
}

/// `go1.21.3` as the `stdlib` version `1.21.3` (`go1.20` is `1.20.0`, and
/// a pre-release `go1.22rc1` is `1.22.0-rc.1`, as the Go vulnerability
/// database writes them); `None` for development toolchains.
fn stdlib_version(go: &str) -> Option<String> {
    let release = go.strip_prefix("go")?.split([' ', '-']).next()?;
    let (numbers, pre) = match release.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => {
            let (numbers, tag) = release.split_at(at);
            let digits = tag.find(|c: char| c.is_ascii_digit())?;
            let (kind, n) = tag.split_at(digits);
            if !matches!(kind, "rc" | "beta") || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (numbers, Some(format!("-{kind}.{n}")))
        }
        None => (release, None),
    };
    let parts: Vec<&str> = numbers.split('.').collect();
    if parts.len() > 3 || !parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let version = if parts.len() == 2 { format!("{numbers}.0") } else { numbers.to_owned() };
    Some(version + pre.as_deref().unwrap_or_default())
}

/// The packages: `stdlib`, the main module when it has a version, and every dependency.
pub fn parse(metadata: &[u8]) -> Result<Vec<Dep>, String> {
    let text = std::str::from_utf8(metadata).map_err(|_| "build info is not UTF-8".to_owned())?;
    let (go, modinfo) = text.split_once('\n').unwrap_or((text, ""));
    let mut deps: Vec<Dep> = stdlib_version(go).map(|v| Dep::new("stdlib", v)).into_iter().collect();
    for line in modinfo.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[..] {
            ["mod", path, version, ..] if version != "(devel)" && !version.is_empty() => {
                deps.push(Dep::new(path, version))
            }
            ["dep", path, version, ..] => deps.push(Dep::new(path, version)),
            // A replacement of the dependency just listed: a module with a version, or a local directory.
            ["=>", path, version, ..] if !version.is_empty() => {
                if let Some(last) = deps.last_mut() {
                    *last = Dep::new(path, version);
                }
            }
            ["=>", ..] => {
                deps.pop();
            }
            _ => {}
        }
    }
    Ok(deps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_lines_with_replacements() {
        let info = "go1.22.4\npath\texample.com/app\nmod\texample.com/app\tv1.2.0\th1:x=\n\
                    dep\tgolang.org/x/net\tv0.17.0\th1:a=\ndep\tgithub.com/old/lib\tv1.0.0\th1:b=\n\
                    =>\tgithub.com/new/lib\tv1.0.1\th1:c=\ndep\texample.com/local\tv0.0.0\n=>\t../local\t\t\n\
                    build\t-compiler=gc\n";
        let deps = parse(info.as_bytes()).unwrap();
        let got: Vec<String> = deps.iter().map(|d| format!("{} {}", d.name, d.version)).collect();
        assert_eq!(
            got,
            ["stdlib 1.22.4", "example.com/app v1.2.0", "golang.org/x/net v0.17.0", "github.com/new/lib v1.0.1"]
        );
        assert_eq!(stdlib_version("go1.20").as_deref(), Some("1.20.0"));
        assert_eq!(stdlib_version("go1.21.3 X:boringcrypto").as_deref(), Some("1.21.3"));
        assert_eq!(stdlib_version("devel go1.23-abcdef"), None);
        assert_eq!(stdlib_version("go1.22rc1").as_deref(), Some("1.22.0-rc.1"));
        assert_eq!(stdlib_version("go1.20beta1").as_deref(), Some("1.20.0-beta.1"));
        assert_eq!(stdlib_version("go1.22xyz1"), None);
        assert_eq!(stdlib_version("go"), None);
        assert_eq!(varint_string(&[0x85]), None, "a truncated length");
        assert_eq!(varint_string(&[5, b'a']), None, "a length past the end");
    }
}
