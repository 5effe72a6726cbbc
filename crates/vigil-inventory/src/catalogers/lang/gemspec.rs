//! Installed Ruby gems: the `specifications/*.gemspec` files RubyGems and
//! Bundler write for every installed gem (`/usr/local/bundle`,
//! `vendor/bundle`, Ruby's own default gems), which images carry even
//! without a `Gemfile.lock`. Name and version come from the `# stub:` line
//! RubyGems writes first, else from the `NAME.name = "..."` and
//! `NAME.version = "..."` assignments; the Ruby code is never run.

use super::{Dep, Format, Parser};

/// The format.
pub const FORMAT: Format = Format {
    id: "gem-installed",
    ecosystem: "RubyGems",
    files: "specifications/*.gemspec",
    matches,
    parse: Parser::Deps(parse),
};

fn matches(path: &str) -> bool {
    path.ends_with(".gemspec") && path.contains("/specifications/")
}

/// The string literal assigned to `.field` (`s.version = "2.2.22".freeze`).
fn assigned<'a>(text: &'a str, field: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (target, value) = line.trim().split_once('=')?;
        let (_, name) = target.trim().rsplit_once('.')?;
        if name != field {
            return None;
        }
        let value = value.trim();
        let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'')?;
        value[1..].split(quote).next()
    })
}

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let text: &str = &String::from_utf8_lossy(bytes);
    let stub = text.lines().find_map(|l| l.strip_prefix("# stub: ")).and_then(|rest| {
        let mut words = rest.split_whitespace();
        Some((words.next()?, words.next()?))
    });
    let (name, version) = match stub {
        Some(found) => found,
        None => (
            assigned(text, "name").ok_or("no `# stub:` line and no `.name =`: not a gem specification")?,
            assigned(text, "version").ok_or("no `.version =` in the gem specification")?,
        ),
    };
    if name.is_empty() || version.is_empty() {
        return Err("empty gem name or version".into());
    }
    Ok(vec![Dep::new(name, version)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_stub_line_the_assignments_count() {
        let spec =
            b"Gem::Specification.new do |spec|\n  spec.name    = 'rack'\n  spec.version = \"2.2.3\".freeze\nend\n";
        assert_eq!(parse(spec).unwrap(), [Dep::new("rack", "2.2.3")]);
        assert!(parse(b"puts 1\n").is_err());
        assert!(matches("/usr/local/bundle/specifications/rack-2.2.3.gemspec"));
        assert!(!matches("/src/rack/rack.gemspec"), "a gem's own source, not an installed gem");
    }
}
