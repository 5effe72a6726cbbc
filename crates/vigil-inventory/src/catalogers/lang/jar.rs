//! Java archives (`.jar`, `.war`, `.ear`): every
//! `META-INF/maven/GROUP/ARTIFACT/pom.properties` inside, and inside the
//! archives they bundle (`WEB-INF/lib/*.jar`, `BOOT-INF/lib/*.jar`, ...),
//! up to three levels deep, with caps on what is decompressed.

use std::io::{Cursor, Read};

use super::{Dep, Format, Parser};

/// The format.
pub const FORMAT: Format = Format {
    id: "java-archive",
    ecosystem: "Maven",
    files: "*.jar, *.war, *.ear",
    matches,
    parse: Parser::Deps(parse),
};

/// Largest member read from an archive (a nested archive or a properties file).
const MAX_MEMBER: u64 = 256 << 20;
/// Most bytes decompressed from one top-level archive, nested ones included.
const MAX_TOTAL: u64 = 1 << 30;

fn matches(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".jar", ".war", ".ear"].iter().any(|e| lower.ends_with(e))
}

/// `groupId`, `artifactId` and `version` of a pom.properties.
fn properties(text: &str) -> Option<Dep> {
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(key).and_then(|r| r.trim_start().strip_prefix('=')).map(|v| v.trim()))
    };
    let (g, a, v) = (get("groupId")?, get("artifactId")?, get("version")?);
    (!g.is_empty() && !a.is_empty() && !v.is_empty()).then(|| Dep::new(format!("{g}:{a}"), v))
}

fn walk(bytes: &[u8], depth: usize, budget: &mut u64, out: &mut Vec<Dep>) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not a readable archive: {e}"))?;
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).map_err(|e| format!("member {i}: {e}"))?;
        let name = String::from_utf8_lossy(member.name_raw()).into_owned();
        let lower = name.to_ascii_lowercase();
        let wanted_properties = lower.starts_with("meta-inf/maven/") && lower.ends_with("/pom.properties");
        let nested = depth < 3 && matches(&lower);
        if !wanted_properties && !nested {
            continue;
        }
        if member.size() > MAX_MEMBER || member.size() > *budget {
            return Err(format!("{name}: over the decompression limit"));
        }
        let mut data = Vec::with_capacity(member.size() as usize);
        (&mut member).take(MAX_MEMBER + 1).read_to_end(&mut data).map_err(|e| format!("{name}: {e}"))?;
        *budget = budget.saturating_sub(data.len() as u64);
        if wanted_properties {
            if let Some(dep) = properties(&String::from_utf8_lossy(&data))
                && !out.contains(&dep)
            {
                out.push(dep);
            }
        } else {
            walk(&data, depth + 1, budget, out).map_err(|e| format!("{name}: {e}"))?;
        }
    }
    Ok(())
}

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let mut out = Vec::new();
    let mut budget = MAX_TOTAL;
    walk(bytes, 0, &mut budget, &mut out)?;
    Ok(out)
}
