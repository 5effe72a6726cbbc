//! `Gemfile.lock`: the `specs:` of the `GEM` section (`    name (version)`,
//! a platform suffix such as `-x86_64-linux` dropped).

use super::{Dep, Format, Parser, file_name};

/// The format.
pub const FORMAT: Format =
    Format { id: "gemfile-lock", ecosystem: "RubyGems", files: "Gemfile.lock", matches, parse: Parser::Deps(parse) };

fn matches(path: &str) -> bool {
    file_name(path) == "Gemfile.lock"
}

const PLATFORMS: &[&str] =
    &["-x86_64", "-aarch64", "-arm64", "-arm", "-x86", "-java", "-universal", "-mingw", "-mswin"];

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let text: &str = &String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut in_gem = false;
    for line in text.lines() {
        if !line.starts_with(' ') {
            in_gem = line.trim() == "GEM";
            continue;
        }
        // Specs are indented four spaces; their dependencies six.
        if !in_gem || !line.starts_with("    ") || line.starts_with("     ") {
            continue;
        }
        let Some((name, rest)) = line.trim().split_once(" (") else { continue };
        let mut version = rest.trim_end_matches(')');
        if let Some(i) = PLATFORMS.iter().filter_map(|p| version.find(p)).min() {
            version = &version[..i];
        }
        out.push(Dep::new(name, version));
    }
    Ok(out)
}
