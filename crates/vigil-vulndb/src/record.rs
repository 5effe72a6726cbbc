//! Turns the bytes of one OSV JSON file into what the database stores,
//! validating the fields matching depends on. A bad file becomes a
//! [`Problem`] naming the file and the field; it never aborts an import.

use serde::Serialize;
use vigil_core::ecosystem::Ecosystem;
use vigil_core::osv::{Event, RangeKind, Record};

use crate::severity::{Scored, score_record};

/// A record that was skipped, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file (an archive path plus `!entry` for zip members).
    pub file: String,
    /// The JSON field, when one is to blame (`affected[0].ranges[1].events`).
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}: field {field}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// One affected entry, keyed for lookup.
#[derive(Debug, Clone)]
pub(crate) struct PreparedAffected {
    pub ecosystem: String,
    pub base: String,
    pub name: String,
    pub entry: Vec<u8>,
}

/// A record ready to insert.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub id: String,
    pub modified: Option<String>,
    pub published: Option<String>,
    pub summary: Option<String>,
    pub aliases: Vec<String>,
    pub scored: Option<Scored>,
    pub raw: Vec<u8>,
    pub affected: Vec<PreparedAffected>,
    pub git_ranges: usize,
}

/// What one file turned out to be.
#[derive(Debug)]
pub(crate) enum Parsed {
    Record(Box<Prepared>),
    Withdrawn,
    Malformed(Problem),
}

fn problem(file: &str, field: Option<String>, message: impl Into<String>) -> Parsed {
    Parsed::Malformed(Problem { file: file.to_owned(), field, message: message.into() })
}

/// Parses and validates one OSV record.
pub(crate) fn prepare(file: &str, bytes: &[u8]) -> Parsed {
    // The fast path parses without tracking field paths; only a failure is
    // parsed again to name the field.
    let record: Record = match serde_json::from_slice(bytes) {
        Ok(r) => r,
        Err(plain) => {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            return match serde_path_to_error::deserialize::<_, Record>(&mut de) {
                Err(e) => {
                    let path = e.path().to_string();
                    let field = (path != ".").then_some(path);
                    problem(file, field, e.into_inner().to_string())
                }
                Ok(_) => problem(file, None, plain.to_string()),
            };
        }
    };
    if record.id.trim().is_empty() {
        return problem(file, Some("id".into()), "empty id");
    }
    if record.withdrawn.is_some() {
        return Parsed::Withdrawn;
    }
    let mut affected = Vec::with_capacity(record.affected.len());
    let mut git_ranges = 0;
    for (i, entry) in record.affected.iter().enumerate() {
        for (j, range) in entry.ranges.iter().enumerate() {
            match range.kind {
                RangeKind::Git => git_ranges += 1,
                RangeKind::Ecosystem | RangeKind::Semver => {
                    if !range.events.iter().any(|e| matches!(e, Event::Introduced(_))) {
                        return problem(
                            file,
                            Some(format!("affected[{i}].ranges[{j}].events")),
                            "range has no introduced event",
                        );
                    }
                }
                RangeKind::Unknown => {}
            }
        }
        let Some(package) = &entry.package else {
            continue;
        };
        if package.ecosystem.trim().is_empty() {
            return problem(file, Some(format!("affected[{i}].package.ecosystem")), "empty ecosystem");
        }
        if package.name.trim().is_empty() {
            return problem(file, Some(format!("affected[{i}].package.name")), "empty package name");
        }
        let eco = Ecosystem::parse(&package.ecosystem);

        affected.push(PreparedAffected {
            ecosystem: eco.as_str().to_owned(),
            base: eco.base().to_owned(),
            name: eco.normalize_name(&package.name),
            entry: crate::entry::encode(entry),
        });
    }
    let mut aliases: Vec<String> = Vec::new();
    for a in record.aliases.iter().chain(&record.upstream) {
        if a != &record.id && !aliases.contains(a) {
            aliases.push(a.clone());
        }
    }
    Parsed::Record(Box::new(Prepared {
        scored: score_record(&record),
        id: record.id,
        modified: record.modified,
        published: record.published,
        summary: record.summary,
        aliases,
        raw: minify_json(bytes),
        affected,
        git_ranges,
    }))
}

/// Removes insignificant whitespace from valid JSON (outside strings).
pub(crate) fn minify_json(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 2);
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            if b == b'"' {
                in_string = true;
            }
            out.push(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_records_name_the_field() {
        let Parsed::Malformed(p) =
            prepare("x.json", br#"{"id":"A","affected":[{"ranges":[{"type":"ECOSYSTEM","events":[{"fixed":1}]}]}]}"#)
        else {
            panic!("expected a problem")
        };
        assert_eq!(p.field.as_deref(), Some("affected[0].ranges[0].events[0].fixed"));
        let Parsed::Malformed(p) = prepare("y.json", br#"{"id":"A","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"fixed":"1.0.0"}]}]}]}"#)
        else {
            panic!("expected a problem")
        };
        assert_eq!(p.to_string(), "y.json: field affected[0].ranges[0].events: range has no introduced event");
        assert!(matches!(prepare("z.json", b"{\"id\": \"A\"} trailing"), Parsed::Malformed(_)));
        assert!(matches!(prepare("w.json", br#"{"id":"A","withdrawn":"2024-01-01T00:00:00Z"}"#), Parsed::Withdrawn));
    }

    #[test]
    fn minify_keeps_strings() {
        assert_eq!(minify_json(b"{ \"a b\" : [ 1, \"x \\\" y\" ] }\n"), b"{\"a b\":[1,\"x \\\" y\"]}".to_vec());
    }
}
