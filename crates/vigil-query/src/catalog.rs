//! Field catalogues: the fields a query over one kind of row may name, the
//! type of each, and where it lives in SQL. The store defines one catalogue
//! per searchable table; this module resolves names against it.

use crate::error::Error;

/// A field's type, which decides the values and operators it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text: exact (case-sensitive) or, with a trailing `*`, by prefix.
    Text,
    /// One of a fixed set of words, stored as text; `:`, `!=` and `in`.
    Enum(&'static [&'static str]),
    /// One of an ordered set of words, stored as its index in the list, so
    /// `<`, `>=` and friends compare by rank (`severity>=high`).
    Ordered(&'static [&'static str]),
    /// A whole number.
    Integer,
    /// A number (`cvss>=7.5`).
    Number,
    /// `true` or `false` (`yes`/`no` accepted).
    Bool,
    /// A moment, stored as Unix seconds: compared with an age (`first_seen<30d`,
    /// "less than 30 days ago") or a date (`first_seen>=2024-01-01`).
    Time,
}

/// Where a field lives in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A column (or any SQL expression) of the searched row.
    Column(&'static str),
    /// A condition on `column` placed into `sql` where `{cond}` stands (an
    /// `EXISTS (SELECT ...)` over a related table). For a keyed field
    /// (`label.*`), `{key}` stands where the key is bound.
    Within {
        /// SQL holding `{cond}` (and `{key}` for keyed fields).
        sql: &'static str,
        /// The column the condition is on.
        column: &'static str,
    },
    /// An enumerated field whose every word stands for its own condition
    /// (`sla:breached` is `f.status <> 'fixed' AND f.sla_due_at <= now`),
    /// so each can be written the way an index answers it. `{now}` in a
    /// condition is bound to the query's present moment.
    Cases(&'static [(&'static str, &'static str)]),
}

/// One field of a catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The name users write (`severity`, `package.name`); a name ending in
    /// `.*` is keyed: `label.*` accepts `label.env`, `label.team`, ...
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Where it lives.
    pub target: Target,
    /// One line for the documentation and the field list.
    pub doc: &'static str,
    /// The SQL expression to sort by, when the field is sortable.
    pub sort: Option<&'static str>,
}

impl Field {
    /// A field that cannot be sorted by.
    pub const fn new(name: &'static str, kind: Kind, target: Target, doc: &'static str) -> Field {
        Field { name, kind, target, doc, sort: None }
    }

    /// The same field, sortable by `expr`.
    pub const fn sortable(self, expr: &'static str) -> Field {
        Field { sort: Some(expr), ..self }
    }

    /// Whether the field takes a key (`label.*`).
    pub fn is_keyed(&self) -> bool {
        self.name.ends_with(".*")
    }

    /// The words an enumerated field accepts.
    pub fn words(&self) -> Option<&'static [&'static str]> {
        match self.kind {
            Kind::Enum(words) | Kind::Ordered(words) => Some(words),
            _ => None,
        }
    }
}

/// The fields of one searchable kind of row.
#[derive(Debug, Clone, Copy)]
pub struct Catalog {
    /// What the rows are (`findings`, `assets`, `audit`), for messages.
    pub entity: &'static str,
    /// Its fields.
    pub fields: &'static [Field],
}

impl Catalog {
    /// A catalogue.
    pub const fn new(entity: &'static str, fields: &'static [Field]) -> Catalog {
        Catalog { entity, fields }
    }

    /// The field `name` refers to, and its key for a keyed field.
    pub fn resolve(&self, name: &str, column: usize) -> Result<(&'static Field, Option<String>), Error> {
        if let Some(field) = self.fields.iter().find(|f| !f.is_keyed() && f.name.eq_ignore_ascii_case(name)) {
            return Ok((field, None));
        }
        for field in self.fields.iter().filter(|f| f.is_keyed()) {
            let prefix = &field.name[..field.name.len() - 1];
            if let Some((head, key)) = name.split_at_checked(prefix.len())
                && !key.is_empty()
                && head.eq_ignore_ascii_case(prefix)
            {
                return Ok((field, Some(key.to_string())));
            }
        }
        Err(Error::at(column, format!("unknown field `{name}`"))
            .suggest(name, self.fields.iter().map(|f| f.name.trim_end_matches(".*"))))
    }

    /// The field a sort key names.
    pub fn sort_field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.sort.is_some() && f.name.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static FIELDS: &[Field] = &[
        Field::new("severity", Kind::Ordered(&["low", "high"]), Target::Column("severity"), ""),
        Field::new("label.*", Kind::Text, Target::Within { sql: "{key} {cond}", column: "v" }, ""),
    ];
    const CATALOG: Catalog = Catalog::new("findings", FIELDS);

    #[test]
    fn names_resolve_case_insensitively_and_keys_are_kept() {
        assert_eq!(CATALOG.resolve("Severity", 1).unwrap().0.name, "severity");
        let (field, key) = CATALOG.resolve("label.Env", 1).unwrap();
        assert_eq!((field.name, key.as_deref()), ("label.*", Some("Env")));
    }

    #[test]
    fn unknown_fields_suggest() {
        let err = CATALOG.resolve("sevrity", 1).unwrap_err();
        assert_eq!(err.to_string(), "unknown field `sevrity` at column 1; did you mean `severity`?");
        assert_eq!(CATALOG.resolve("labl", 3).unwrap_err().hint.as_deref(), Some("did you mean `label`?"));
        assert!(CATALOG.resolve("label.", 1).is_err());
    }
}
