//! Go binaries: the build information the Go toolchain (1.18 and later)
//! embeds in the `.go.buildinfo` section: the Go version, which becomes
//! the `stdlib` package (as the Go vulnerability database names it), and
//! the module list (`mod` is the main module, `dep` a dependency, `=>` its
//! replacement), as `go version -m` prints it. Go 1.18 and later store the
//! two strings inline; Go 1.13 to 1.17 store pointers to Go string headers,
//! which are followed through the file's loadable segments (as Go's own
//! `debug/buildinfo` does).
//!
//! A main module without a version (`(devel)`, a `v0.0.0-...` pseudo-version,
//! or no module at all in a binary built outside module mode, as the docker
//! CLI is) takes the version its build stamped in with
//! `-ldflags "-X PACKAGE.Version=..."`, read from the recorded `-ldflags`
//! build setting the way Trivy does: keys ending in `.version` or `.ver`
//! (any case) whose value is a semantic version; first those under the main
//! module's `cmd/`, then those in a package called `main`, `common`,
//! `version` or `cmd`, then the rest; two different versions in the first
//! group that has any means none. The package records that its version came
//! from there. Outside module mode the module path is the package path's
//! repository (`github.com/docker/cli` for `github.com/docker/cli/cmd/docker`),
//! or what precedes `/cmd/`, or the package path itself.

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

/// A `build` setting value as the Go toolchain writes it: Go-quoted (with
/// `strconv.Quote` escapes) when it holds spaces or quotes, bare otherwise.
fn setting_value(raw: &str) -> Option<String> {
    let Some(quoted) = raw.strip_prefix('"') else { return Some(raw.to_owned()) };
    let inner = quoted.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex = |chars: &mut std::str::Chars<'_>, n: usize| -> Option<u32> {
            let digits: String = chars.by_ref().take(n).collect();
            (digits.len() == n).then(|| u32::from_str_radix(&digits, 16).ok()).flatten()
        };
        out.push(match chars.next()? {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            c @ ('\\' | '"' | '\'') => c,
            'x' => char::from(u8::try_from(hex(&mut chars, 2)?).ok()?),
            'u' => char::from_u32(hex(&mut chars, 4)?)?,
            'U' => char::from_u32(hex(&mut chars, 8)?)?,
            _ => return None,
        });
    }
    Some(out)
}

/// Splits `-ldflags` into arguments as `go build` does (cmd/internal/quoted):
/// fields separated by white space, a field starting with `'` or `"` runs to
/// the matching quote, with no escapes. `None` for an unterminated quote.
fn split_flags(mut s: &str) -> Option<Vec<&str>> {
    let mut fields = Vec::new();
    loop {
        s = s.trim_start_matches([' ', '\t', '\n', '\r']);
        let Some(first) = s.chars().next() else { return Some(fields) };
        if first == '"' || first == '\'' {
            let end = s[1..].find(first)?;
            fields.push(&s[1..1 + end]);
            s = &s[end + 2..];
        } else {
            let end = s.find([' ', '\t', '\n', '\r']).unwrap_or(s.len());
            fields.push(&s[..end]);
            s = &s[end..];
        }
    }
}

/// The `-X KEY=VALUE` settings of the linker flags (`-X k=v`, `-X=k=v`, `--X k=v`).
fn x_settings(ldflags: &str) -> Vec<(&str, &str)> {
    let fields = split_flags(ldflags).unwrap_or_default();
    let mut out = Vec::new();
    let mut fields = fields.into_iter();
    while let Some(f) = fields.next() {
        let setting = match f.trim_start_matches('-') {
            "X" if f.starts_with('-') => fields.next(),
            rest if f.starts_with('-') && rest.starts_with("X=") => Some(&rest[2..]),
            _ => None,
        };
        if let Some((key, value)) = setting.and_then(|s| s.split_once('=')) {
            out.push((key, value));
        }
    }
    out
}

/// `value` as a `v`-prefixed semantic version when it is one (Go's
/// `semver.IsValid`, with or without the `v`: `v1`, `1.2`, `1.2.3-rc.1+build`).
fn semver(value: &str) -> Option<String> {
    let v = value.strip_prefix('v').unwrap_or(value);
    let numeric = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && (n == "0" || !n.starts_with('0'));
    let (core, build) = v.split_once('+').map_or((v, None), |(c, b)| (c, Some(b)));
    let (core, pre) = core.split_once('-').map_or((core, None), |(c, p)| (c, Some(p)));
    let parts: Vec<&str> = core.split('.').collect();
    let identifiers = |s: &str, strict: bool| {
        s.split('.').all(|id| {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && (!strict || !id.bytes().all(|b| b.is_ascii_digit()) || numeric(id))
        })
    };
    let valid = parts.len() <= 3
        && parts.iter().all(|p| numeric(p))
        && (parts.len() == 3 || (pre.is_none() && build.is_none()))
        && pre.is_none_or(|p| identifiers(p, true))
        && build.is_none_or(|b| identifiers(b, false));
    valid.then(|| format!("v{v}"))
}

/// The main module's version from `-X` settings, with the key it came from.
fn ldflags_version<'a>(module: &str, settings: &[(&'a str, &'a str)]) -> Option<(&'a str, String)> {
    let mut groups: [Vec<(&str, String)>; 3] = Default::default();
    for &(key, value) in settings {
        let (key, value) = (key.trim_start_matches('\''), value.trim_end_matches('\''));
        let lower = key.to_ascii_lowercase();
        let Some(version) = semver(value).filter(|_| lower.ends_with(".version") || lower.ends_with(".ver")) else {
            continue;
        };
        let package = lower.rsplit('/').next().unwrap_or(&lower).split('.').next().unwrap_or_default();
        let group = if key.starts_with(&format!("{module}/cmd/")) {
            0
        } else if matches!(package, "main" | "common" | "version" | "cmd") {
            1
        } else {
            2
        };
        groups[group].push((key, version));
    }
    let found = groups.into_iter().find(|g| !g.is_empty())?;
    found.iter().all(|(_, v)| *v == found[0].1).then(|| found[0].clone())
}

/// The module a package path belongs to, for binaries built outside module
/// mode: the repository on a well-known host, else what precedes `/cmd/`,
/// else the package path.
fn module_of_package(path: &str) -> Option<&str> {
    if !path.split('/').next().is_some_and(|host| host.contains('.')) {
        return None; // `command-line-arguments`, or a path that names no module
    }
    let parts: Vec<&str> = path.splitn(4, '/').collect();
    if matches!(parts[0], "github.com" | "gitlab.com" | "bitbucket.org") && parts.len() >= 3 {
        return Some(&path[..parts[0].len() + parts[1].len() + parts[2].len() + 2]);
    }
    Some(path.split_once("/cmd/").map_or(path, |(module, _)| module))
}

/// The packages: `stdlib`, the main module when its version is known (from
/// the module list, else from `-ldflags -X`), and every dependency.
pub fn parse(metadata: &[u8]) -> Result<Vec<Dep>, String> {
    let text = std::str::from_utf8(metadata).map_err(|_| "build info is not UTF-8".to_owned())?;
    let (go, modinfo) = text.split_once('\n').unwrap_or((text, ""));
    let mut deps: Vec<Dep> = stdlib_version(go).map(|v| Dep::new("stdlib", v)).into_iter().collect();
    let main_at = deps.len();
    let (mut package_path, mut main_module, mut ldflags) = (None, None, None);
    for line in modinfo.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[..] {
            ["path", path, ..] => package_path = Some(path),
            ["mod", path, version, ..] => main_module = Some((path, version)),
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
            ["build", setting, ..] => {
                if let Some(raw) = setting.strip_prefix("-ldflags=") {
                    ldflags = setting_value(raw);
                }
            }
            _ => {}
        }
    }
    let settings = ldflags.as_deref().map(x_settings).unwrap_or_default();
    let main = match main_module {
        Some((path, version)) if !version.is_empty() && version != "(devel)" && !version.starts_with("v0.0.0-") => {
            Some(Dep::new(path, version))
        }
        Some((path, version)) => match ldflags_version(path, &settings) {
            Some((key, stamped)) => {
                Some(Dep { version_source: Some(format!("go build -ldflags -X {key}")), ..Dep::new(path, stamped) })
            }
            // A pseudo-version still says which commit was built.
            None => (!version.is_empty() && version != "(devel)").then(|| Dep::new(path, version)),
        },
        None => package_path.and_then(module_of_package).and_then(|module| {
            let (key, stamped) = ldflags_version(module, &settings)?;
            let source = format!(
                "go build -ldflags -X {key}; built outside module mode, module {module} named after the package {}",
                package_path.unwrap_or_default()
            );
            Some(Dep { version_source: Some(source), ..Dep::new(module, stamped) })
        }),
    };
    if let Some(main) = main {
        deps.insert(main_at, main);
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

    #[test]
    fn ldflags_settings_as_go_build_splits_them() {
        let raw = r#""-s -w -X \"github.com/docker/cli/cli/version.Version=24.0.7\" -X=main.commit=abc --X 'a.b=c d'""#;
        let ldflags = setting_value(raw).unwrap();
        assert_eq!(
            x_settings(&ldflags),
            [("github.com/docker/cli/cli/version.Version", "24.0.7"), ("main.commit", "abc"), ("a.b", "c d")]
        );
        assert_eq!(setting_value("-s"), Some("-s".into()));
        assert_eq!(setting_value(r#""\u00e9\x41\t""#), Some("\u{e9}A\t".into()));
        assert_eq!(setting_value(r#""\q""#), None);
        assert_eq!(split_flags("-X 'unterminated"), None);
    }

    #[test]
    fn versions_from_ldflags_as_trivy_chooses_them() {
        for (v, want) in [
            ("1.2.3", Some("v1.2.3")),
            ("v1", Some("v1")),
            ("1.2", Some("v1.2")),
            ("1.2.3-rc.1+b.5", Some("v1.2.3-rc.1+b.5")),
        ] {
            assert_eq!(semver(v).as_deref(), want, "{v}");
        }
        for v in ["dev", "1.02.3", "1.2-rc1", "1.2.3.4", "1.2.3-01", "", "v"] {
            assert_eq!(semver(v), None, "{v}");
        }
        let m = "example.com/app";
        let pick = |s: &[(&'static str, &'static str)]| ldflags_version(m, s).map(|(k, v)| format!("{k}={v}"));
        assert_eq!(pick(&[("main.version", "2.3.4")]).as_deref(), Some("main.version=v2.3.4"));
        assert_eq!(pick(&[("'main.Ver", "1.0.0'")]).as_deref(), Some("main.Ver=v1.0.0"));
        // Under the module's cmd/ first, then well-known package names, then the rest.
        let s = [("x.y/z.version", "9.9.9"), ("main.version", "2.0.0"), ("example.com/app/cmd/app/v.Version", "1.0.0")];
        assert_eq!(pick(&s).as_deref(), Some("example.com/app/cmd/app/v.Version=v1.0.0"));
        assert_eq!(pick(&s[..2]).as_deref(), Some("main.version=v2.0.0"));
        assert_eq!(pick(&s[..1]).as_deref(), Some("x.y/z.version=v9.9.9"));
        // Two different versions in one group: not known.
        assert_eq!(pick(&[("main.version", "1.0.0"), ("common.Version", "2.0.0")]), None);
        assert_eq!(pick(&[("main.commit", "1.0.0"), ("main.version", "dev")]), None);
        assert_eq!(module_of_package("github.com/docker/cli/cmd/docker"), Some("github.com/docker/cli"));
        assert_eq!(module_of_package("k8s.io/kubernetes/cmd/kubelet"), Some("k8s.io/kubernetes"));
        assert_eq!(module_of_package("example.com/tool"), Some("example.com/tool"));
        assert_eq!(module_of_package("command-line-arguments"), None);
    }

    #[test]
    fn the_main_module_version_from_ldflags() {
        let names = |info: &str| -> Vec<String> {
            let deps = parse(info.as_bytes()).unwrap();
            deps.iter()
                .map(|d| format!("{} {} {}", d.name, d.version, d.version_source.as_deref().unwrap_or("-")))
                .collect()
        };
        let devel = "go1.22.4\npath\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgolang.org/x/net\tv0.17.0\t\n\
                     build\t-ldflags=\"-X main.version=1.4.0\"\n";
        assert_eq!(
            names(devel),
            [
                "stdlib 1.22.4 -",
                "example.com/app v1.4.0 go build -ldflags -X main.version",
                "golang.org/x/net v0.17.0 -"
            ]
        );
        // A real module version wins over the stamp.
        assert_eq!(names(&devel.replace("(devel)", "v1.3.9"))[1], "example.com/app v1.3.9 -");
        let gopath = "go1.21.5\npath\tgithub.com/docker/cli/cmd/docker\nbuild\t-buildmode=pie\n\
                      build\t-ldflags=\"-w -X \\\"github.com/docker/cli/cli/version.Version=24.0.7\\\"\"\n";
        assert_eq!(
            names(gopath),
            [
                "stdlib 1.21.5 -",
                "github.com/docker/cli v24.0.7 go build -ldflags -X github.com/docker/cli/cli/version.Version; built \
                 outside module mode, module github.com/docker/cli named after the package github.com/docker/cli/cmd/docker"
            ]
        );
        assert_eq!(names("go1.21.5\npath\tgithub.com/docker/cli/cmd/docker\n"), ["stdlib 1.21.5 -"]);
    }
}
