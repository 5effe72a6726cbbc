//! Compiles a parsed query against a catalogue into an SQL condition with
//! `$N` placeholders, which SQLite and PostgreSQL both accept, and the
//! values to bind to them. No value from the query is ever written into the
//! SQL text.
//!
//! A missing value makes a comparison false rather than unknown: whatever
//! is negated (`not ...`, `!=`) is wrapped in `COALESCE((...), FALSE)` first,
//! so `not triage:x` keeps the rows whose triage is not set. Comparisons
//! outside a negation stay bare (an unknown there filters the row out, as
//! false would, since `AND` and `OR` cannot turn an unknown into true), so
//! the database can answer them from an index.

use crate::catalog::{Catalog, Field, Kind, Target};
use crate::error::Error;
use crate::parser::{Comparison, Expr, Op, Value};

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// Text.
    Text(String),
    /// A whole number (ranks and Unix seconds too).
    Int(i64),
    /// A number.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// SQL for a `WHERE` clause, with placeholders `$first..`.
    pub condition: String,
    /// The values, in placeholder order.
    pub params: Vec<Param>,
}

/// One sort key: the SQL expression and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    /// The field's name.
    pub field: &'static str,
    /// The SQL expression.
    pub expr: &'static str,
    /// Descending order.
    pub descending: bool,
}

/// Compiles `expr` against `catalog`. Placeholders are numbered from
/// `first_param`; `now` (Unix seconds) anchors ages such as `30d`.
pub fn compile(expr: &Expr, catalog: &Catalog, first_param: usize, now: i64) -> Result<Compiled, Error> {
    let mut compiler = Compiler { catalog, first_param, now, params: Vec::new() };
    let condition = compiler.expr(expr)?;
    Ok(Compiled { condition, params: compiler.params })
}

/// Parses a sort specification: comma-separated fields, each optionally
/// followed by `:asc` or `:desc`, or preceded by `-` for descending
/// (`severity:desc,first_seen`).
pub fn parse_sort(spec: &str, catalog: &Catalog) -> Result<Vec<SortKey>, Error> {
    let mut keys = Vec::new();
    let mut column = 1;
    for part in spec.split(',') {
        let trimmed = part.trim();
        let at = column + (part.len() - part.trim_start().len());
        column += part.chars().count() + 1;
        if trimmed.is_empty() {
            continue;
        }
        let (name, descending) = match trimmed.rsplit_once(':') {
            Some((name, "desc")) => (name, true),
            Some((name, "asc")) => (name, false),
            Some((_, other)) => {
                return Err(Error::at(at, format!("unknown sort direction `{other}`")).hint("use `asc` or `desc`"));
            }
            None => match trimmed.strip_prefix('-') {
                Some(name) => (name, true),
                None => (trimmed, false),
            },
        };
        let field = catalog.sort_field(name).ok_or_else(|| {
            let sortable: Vec<&str> = catalog.fields.iter().filter(|f| f.sort.is_some()).map(|f| f.name).collect();
            Error::at(at, format!("cannot sort {} by `{name}`", catalog.entity))
                .suggest(name, sortable.iter().copied())
                .hint_if_none(format!("sortable fields: {}", sortable.join(", ")))
        })?;
        keys.push(SortKey { field: field.name, expr: field.sort.unwrap_or(field.name), descending });
    }
    Ok(keys)
}

impl Error {
    fn hint_if_none(self, hint: String) -> Error {
        if self.hint.is_some() { self } else { self.hint(hint) }
    }
}

struct Compiler<'a> {
    catalog: &'a Catalog,
    first_param: usize,
    now: i64,
    params: Vec<Param>,
}

impl Compiler<'_> {
    /// Binds a value and returns its placeholder.
    fn bind(&mut self, param: Param) -> String {
        self.params.push(param);
        format!("${}", self.first_param + self.params.len() - 1)
    }

    fn expr(&mut self, expr: &Expr) -> Result<String, Error> {
        Ok(match expr {
            Expr::All => "TRUE".to_string(),
            Expr::And(parts) => self.join(parts, " AND ")?,
            Expr::Or(parts) => self.join(parts, " OR ")?,
            Expr::Not(inner) => format!("NOT COALESCE(({}), FALSE)", self.expr(inner)?),
            Expr::Compare(c) => self.comparison(c)?,
        })
    }

    fn join(&mut self, parts: &[Expr], separator: &str) -> Result<String, Error> {
        let parts: Vec<String> = parts.iter().map(|p| self.expr(p)).collect::<Result<_, _>>()?;
        Ok(format!("({})", parts.join(separator)))
    }

    fn comparison(&mut self, c: &Comparison) -> Result<String, Error> {
        let (field, key) = self.catalog.resolve(&c.field, c.column)?;
        check_operator(field, c)?;
        let key = key.map(|k| self.bind(Param::Text(k)));
        let (column, within) = match field.target {
            Target::Column(column) => (column, None),
            Target::Within { sql, column } => (column, Some(sql)),
            Target::Cases(cases) => {
                let condition = self.cases(field, cases, &c.values)?;
                return Ok(if c.op == Op::Ne { format!("NOT COALESCE(({condition}), FALSE)") } else { condition });
            }
        };
        let positive = if c.op == Op::Ne { Op::Eq } else { c.op };
        let condition = self.condition(field, column, positive, &c.values)?;
        let condition = match within {
            Some(sql) => sql.replace("{key}", key.as_deref().unwrap_or("NULL")).replace("{cond}", &condition),
            None => condition,
        };
        Ok(if c.op == Op::Ne { format!("NOT COALESCE(({condition}), FALSE)") } else { condition })
    }

    /// The condition `column op values` for a field of the given kind.
    fn condition(&mut self, field: &Field, column: &str, op: Op, values: &[Value]) -> Result<String, Error> {
        match field.kind {
            Kind::Text => {
                let parts: Vec<String> = values.iter().map(|v| self.text(column, v)).collect::<Result<_, _>>()?;
                Ok(if parts.len() == 1 { parts[0].clone() } else { format!("({})", parts.join(" OR ")) })
            }
            Kind::Enum(words) => {
                let params = values
                    .iter()
                    .map(|v| word(field, words, v).map(|w| Param::Text(w.to_string())))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(self.compare(column, op, params))
            }
            Kind::Ordered(words) => {
                let params = values
                    .iter()
                    .map(|v| {
                        word(field, words, v)
                            .map(|w| Param::Int(words.iter().position(|x| *x == w).unwrap_or(0) as i64))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(self.compare(column, op, params))
            }
            Kind::Integer => {
                let params = values
                    .iter()
                    .map(|v| {
                        v.text.parse::<i64>().map(Param::Int).map_err(|_| {
                            Error::at(v.column, format!("`{}` is not a whole number (field `{}`)", v.text, field.name))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(self.compare(column, op, params))
            }
            Kind::Number => {
                let params = values
                    .iter()
                    .map(|v| match v.text.parse::<f64>() {
                        Ok(n) if n.is_finite() => Ok(Param::Float(n)),
                        _ => Err(Error::at(v.column, format!("`{}` is not a number (field `{}`)", v.text, field.name))),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(self.compare(column, op, params))
            }
            Kind::Bool => {
                let params = values
                    .iter()
                    .map(|v| match v.text.to_ascii_lowercase().as_str() {
                        "true" | "yes" => Ok(Param::Bool(true)),
                        "false" | "no" => Ok(Param::Bool(false)),
                        _ => Err(Error::at(
                            v.column,
                            format!("`{}` is not true or false (field `{}`)", v.text, field.name),
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(self.compare(column, op, params))
            }
            Kind::Time => self.time(field, column, op, &values[0]),
        }
    }

    /// The conditions of the words named, joined by `OR`. The field's kind
    /// lists the same words as its cases.
    fn cases(
        &mut self,
        field: &Field,
        cases: &[(&'static str, &'static str)],
        values: &[Value],
    ) -> Result<String, Error> {
        let words: Vec<&'static str> = cases.iter().map(|(w, _)| *w).collect();
        let mut parts = Vec::new();
        for v in values {
            let Some((_, sql)) = cases.iter().find(|(w, _)| w.eq_ignore_ascii_case(&v.text)) else {
                return Err(Error::at(v.column, format!("`{}` is not a value of `{}`", v.text, field.name))
                    .suggest(&v.text, words.iter().copied())
                    .hint_if_none(format!("it takes {}", words.join(", "))));
            };
            let sql = if sql.contains("{now}") {
                let now = self.bind(Param::Int(self.now));
                sql.replace("{now}", &now)
            } else {
                sql.to_string()
            };
            parts.push(format!("({sql})"));
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { format!("({})", parts.join(" OR ")) })
    }

    /// `column op $n`, or `column IN ($n, ...)` for a list.
    fn compare(&mut self, column: &str, op: Op, params: Vec<Param>) -> String {
        if op == Op::In {
            let placeholders: Vec<String> = params.into_iter().map(|p| self.bind(p)).collect();
            return format!("{column} IN ({})", placeholders.join(", "));
        }
        let param = params.into_iter().next().map(|p| self.bind(p)).unwrap_or_default();
        format!("{column} {} {param}", sql_operator(op))
    }

    /// Exact text, or a prefix (`abc*`) as a range that uses an index.
    fn text(&mut self, column: &str, v: &Value) -> Result<String, Error> {
        if v.quoted || !v.text.contains('*') {
            let p = self.bind(Param::Text(v.text.clone()));
            return Ok(format!("{column} = {p}"));
        }
        let prefix = v.text.strip_suffix('*').filter(|p| !p.contains('*')).ok_or_else(|| {
            Error::at(v.column, format!("`{}`: only a trailing `*` (prefix match) is supported", v.text))
                .hint("quote the value to match a literal `*`")
        })?;
        if prefix.is_empty() {
            return Err(Error::at(v.column, "`*` alone matches everything").hint("leave the term out"));
        }
        let low = self.bind(Param::Text(prefix.to_string()));
        Ok(match successor(prefix) {
            Some(upper) => {
                let high = self.bind(Param::Text(upper));
                format!("({column} >= {low} AND {column} < {high})")
            }
            None => format!("{column} >= {low}"),
        })
    }

    /// A time compared with an age (`30d`), a day (`2024-01-01`) or a
    /// moment (`2024-01-01T12:00:00Z`).
    fn time(&mut self, field: &Field, column: &str, op: Op, v: &Value) -> Result<String, Error> {
        if let Some(age) = parse_age(&v.text) {
            // `first_seen<30d`: less than 30 days ago, i.e. after now - 30d.
            let instant = self.now.saturating_sub(age);
            let reversed = match op {
                Op::Lt => ">",
                Op::Le => ">=",
                Op::Gt => "<",
                Op::Ge => "<=",
                _ => {
                    return Err(Error::at(v.column, format!("an age such as `{}` needs `<` or `>`", v.text))
                        .hint(format!("`{}<{}` means less than {} ago", field.name, v.text, v.text)));
                }
            };
            let p = self.bind(Param::Int(instant));
            return Ok(format!("{column} {reversed} {p}"));
        }
        if let Some(day) = parse_day(&v.text) {
            let (start, end) = (day, day + 86_400);
            let condition = match op {
                Op::Lt => format!("{column} < {}", self.bind(Param::Int(start))),
                Op::Le => format!("{column} < {}", self.bind(Param::Int(end))),
                Op::Gt => format!("{column} >= {}", self.bind(Param::Int(end))),
                Op::Ge => format!("{column} >= {}", self.bind(Param::Int(start))),
                _ => {
                    let (s, e) = (self.bind(Param::Int(start)), self.bind(Param::Int(end)));
                    format!("({column} >= {s} AND {column} < {e})")
                }
            };
            return Ok(condition);
        }
        if let Some(instant) = parse_instant(&v.text) {
            return Ok(self.compare(column, op, vec![Param::Int(instant)]));
        }
        Err(Error::at(v.column, format!("`{}` is not an age or a date (field `{}`)", v.text, field.name))
            .hint("write an age as 12h, 30d, 2w or 1y, a date as 2024-01-31 or 2024-01-31T12:00:00Z"))
    }
}

/// Operators each kind accepts.
fn check_operator(field: &Field, c: &Comparison) -> Result<(), Error> {
    let ordered = matches!(c.op, Op::Gt | Op::Ge | Op::Lt | Op::Le);
    let refused = match field.kind {
        Kind::Text | Kind::Enum(_) | Kind::Bool => ordered,
        Kind::Time => c.op == Op::In,
        Kind::Ordered(_) | Kind::Integer | Kind::Number => false,
    };
    if refused {
        let op = match c.op {
            Op::In => "in",
            op => sql_operator(op),
        };
        let accepted = if field.kind == Kind::Time { "`<`, `<=`, `>`, `>=`, `:`" } else { "`:`, `!=` and `in (...)`" };
        return Err(Error::at(c.column, format!("field `{}` cannot be compared with `{op}`", field.name))
            .hint(format!("it takes {accepted}")));
    }
    Ok(())
}

fn sql_operator(op: Op) -> &'static str {
    match op {
        Op::Eq | Op::In => "=",
        Op::Ne => "<>",
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Lt => "<",
        Op::Le => "<=",
    }
}

/// The word of an enumerated field a value names (case-insensitively).
fn word(field: &Field, words: &'static [&'static str], v: &Value) -> Result<&'static str, Error> {
    words.iter().copied().find(|w| w.eq_ignore_ascii_case(&v.text)).ok_or_else(|| {
        Error::at(v.column, format!("`{}` is not a value of `{}`", v.text, field.name))
            .suggest(&v.text, words.iter().copied())
            .hint_if_none(format!("it takes {}", words.join(", ")))
    })
}

/// The smallest string greater than every string starting with `prefix`
/// (in code-point order, which is SQLite's and PostgreSQL's `C` order).
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// `12h`, `30d`, `2w`, `1y` in seconds.
fn parse_age(text: &str) -> Option<i64> {
    let unit = match text.chars().last()? {
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        'y' => 365 * 86_400,
        _ => return None,
    };
    let digits = &text[..text.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok()?.checked_mul(unit)
}

/// Days since the Unix epoch of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn number(text: &str, digits: usize) -> Option<i64> {
    (text.len() == digits && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

/// `YYYY-MM-DD` as the Unix second its day starts (UTC).
pub fn parse_day(text: &str) -> Option<i64> {
    let mut parts = text.split('-');
    let (y, m, d) = (number(parts.next()?, 4)?, number(parts.next()?, 2)?, number(parts.next()?, 2)?);
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400)
}

/// `YYYY-MM-DDTHH:MM:SS` followed by `Z` or `±HH:MM`, as Unix seconds.
pub fn parse_instant(text: &str) -> Option<i64> {
    let (day, rest) = text.split_once(['T', 't'])?;
    let day = parse_day(day)?;
    if rest.len() < 9 {
        return None;
    }
    let (clock, zone) = rest.split_at(8);
    let mut hms = clock.split(':');
    let (h, mi, s) = (number(hms.next()?, 2)?, number(hms.next()?, 2)?, number(hms.next()?, 2)?);
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = match zone.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = zone[1..].split_once(':')?;
            sign * (number(oh, 2)? * 3600 + number(om, 2)? * 60)
        }
    };
    Some(day + h * 3600 + mi * 60 + s - offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    const SEVERITIES: &[&str] = &["none", "low", "medium", "high", "critical"];
    static FIELDS: &[Field] = &[
        Field::new("severity", Kind::Ordered(SEVERITIES), Target::Column("f.severity"), "").sortable("f.severity"),
        Field::new("status", Kind::Enum(&["new", "active", "fixed", "reopened"]), Target::Column("f.status"), ""),
        Field::new("package.name", Kind::Text, Target::Column("f.package_name"), "").sortable("f.package_name"),
        Field::new("cvss", Kind::Number, Target::Column("f.cvss"), ""),
        Field::new("kev", Kind::Bool, Target::Column("f.kev"), ""),
        Field::new("first_seen", Kind::Time, Target::Column("f.first_seen"), "").sortable("f.first_seen"),
        Field::new(
            "sla",
            Kind::Enum(&["breached", "none"]),
            Target::Cases(&[("breached", "f.open = 1 AND f.due <= {now}"), ("none", "f.due IS NULL")]),
            "",
        ),
        Field::new(
            "tag",
            Kind::Text,
            Target::Within {
                sql: "EXISTS (SELECT 1 FROM asset_tags t WHERE t.asset_id = f.asset_id AND {cond})",
                column: "t.name",
            },
            "",
        ),
        Field::new(
            "label.*",
            Kind::Text,
            Target::Within {
                sql: "EXISTS (SELECT 1 FROM labels l WHERE l.asset_id = f.asset_id AND l.key = {key} AND {cond})",
                column: "l.value",
            },
            "",
        ),
    ];
    const CATALOG: Catalog = Catalog::new("findings", FIELDS);
    const NOW: i64 = 1_700_000_000;

    fn sql(q: &str) -> Compiled {
        compile(&parse(q).unwrap(), &CATALOG, 1, NOW).unwrap()
    }

    fn err(q: &str) -> Error {
        compile(&parse(q).unwrap(), &CATALOG, 1, NOW).unwrap_err()
    }

    #[test]
    fn the_issue_example_compiles_with_bound_values() {
        let c = sql("severity:critical and tag:prod and package.name:openssl and not status:fixed");
        assert_eq!(
            c.condition,
            "(f.severity = $1 AND EXISTS (SELECT 1 FROM asset_tags t WHERE \
             t.asset_id = f.asset_id AND t.name = $2) AND f.package_name = $3 AND \
             NOT COALESCE((f.status = $4), FALSE))"
        );
        assert_eq!(
            c.params,
            [Param::Int(4), Param::Text("prod".into()), Param::Text("openssl".into()), Param::Text("fixed".into())]
        );
    }

    #[test]
    fn ordered_words_compare_by_rank() {
        let c = sql("severity>=HIGH");
        assert_eq!(c.condition, "f.severity >= $1");
        assert_eq!(c.params, [Param::Int(3)]);
        assert_eq!(sql("severity in (low, critical)").params, [Param::Int(1), Param::Int(4)]);
    }

    #[test]
    fn prefixes_are_ranges_and_quotes_are_literal() {
        let c = sql("package.name:open*");
        assert_eq!(c.condition, "(f.package_name >= $1 AND f.package_name < $2)");
        assert_eq!(c.params, [Param::Text("open".into()), Param::Text("opeo".into())]);
        assert_eq!(sql("package.name:\"a*\"").params, [Param::Text("a*".into())]);
        assert!(err("package.name:a*b").message.contains("trailing"));
        assert!(err("package.name:*").message.contains("alone"));
    }

    #[test]
    fn not_equal_keeps_rows_without_a_value() {
        assert_eq!(sql("status!=fixed").condition, "NOT COALESCE((f.status = $1), FALSE)");
    }

    #[test]
    fn keyed_fields_bind_their_key() {
        let c = sql("label.env in (prod, stage*)");
        assert_eq!(
            c.condition,
            "EXISTS (SELECT 1 FROM labels l WHERE l.asset_id = f.asset_id AND l.key = $1 AND \
             (l.value = $2 OR (l.value >= $3 AND l.value < $4)))"
        );
        assert_eq!(c.params[0], Param::Text("env".into()));
    }

    #[test]
    fn ages_dates_and_instants() {
        assert_eq!(sql("first_seen<30d").condition, "f.first_seen > $1");
        assert_eq!(sql("first_seen<30d").params, [Param::Int(NOW - 30 * 86_400)]);
        assert_eq!(sql("first_seen>2w").condition, "f.first_seen < $1");
        let day = sql("first_seen:2024-02-29");
        assert_eq!(day.condition, "(f.first_seen >= $1 AND f.first_seen < $2)");
        assert_eq!(day.params, [Param::Int(1_709_164_800), Param::Int(1_709_251_200)]);
        assert_eq!(sql("first_seen>2024-02-29").params, [Param::Int(1_709_251_200)]);
        assert_eq!(sql("first_seen>=2024-02-29T23:59:59Z").params, [Param::Int(1_709_251_199)]);
        assert_eq!(sql("first_seen>=2024-03-01T01:00:00+02:00").params, [Param::Int(1_709_247_600)]);
        assert!(err("first_seen:30d").message.contains("needs `<` or `>`"));
        assert!(err("first_seen<yesterday").hint.unwrap().contains("30d"));
    }

    #[test]
    fn values_are_checked() {
        let e = err("severity:hgih");
        assert_eq!((e.column, e.hint.as_deref()), (10, Some("did you mean `high`?")));
        assert_eq!(err("severity:x").hint.as_deref(), Some("it takes none, low, medium, high, critical"));
        assert!(err("cvss>=high").message.contains("not a number"));
        assert!(err("kev:maybe").message.contains("true or false"));
        assert!(err("status>new").message.contains("cannot be compared"));
        assert_eq!(err("sevrity:high").to_string(), "unknown field `sevrity` at column 1; did you mean `severity`?");
    }

    #[test]
    fn injection_attempts_stay_values() {
        let c = sql("package.name:\"x' OR 1=1 --\" or tag:\"); DROP TABLE findings; --\"");
        assert!(!c.condition.contains("DROP") && !c.condition.contains("1=1"));
        assert_eq!(c.params[0], Param::Text("x' OR 1=1 --".into()));
    }

    #[test]
    fn placeholders_start_where_asked() {
        let c = compile(&parse("severity:high kev:true").unwrap(), &CATALOG, 3, NOW).unwrap();
        assert_eq!(c.condition, "(f.severity = $3 AND f.kev = $4)");
        assert_eq!(sql("").condition, "TRUE");
    }

    #[test]
    fn sort_specs() {
        let keys = parse_sort("severity:desc, -first_seen,package.name", &CATALOG).unwrap();
        let got: Vec<(&str, bool)> = keys.iter().map(|k| (k.expr, k.descending)).collect();
        assert_eq!(got, [("f.severity", true), ("f.first_seen", true), ("f.package_name", false)]);
        let e = parse_sort("severity,sevrity", &CATALOG).unwrap_err();
        assert_eq!((e.column, e.hint.as_deref()), (10, Some("did you mean `severity`?")));
        assert!(parse_sort("cvss", &CATALOG).unwrap_err().hint.unwrap().starts_with("sortable fields"));
        assert!(parse_sort("severity:up", &CATALOG).is_err());
    }

    #[test]
    fn each_word_of_a_cases_field_is_its_own_condition() {
        let c = compile(&parse("sla:breached").unwrap(), &CATALOG, 1, NOW).unwrap();
        assert_eq!(c.condition, "(f.open = 1 AND f.due <= $1)");
        assert_eq!(c.params, vec![Param::Int(NOW)]);
        let c = compile(&parse("sla in (none, breached)").unwrap(), &CATALOG, 3, NOW).unwrap();
        assert_eq!(c.condition, "((f.due IS NULL) OR (f.open = 1 AND f.due <= $3))");
        let c = compile(&parse("sla!=breached").unwrap(), &CATALOG, 1, NOW).unwrap();
        assert_eq!(c.condition, "NOT COALESCE(((f.open = 1 AND f.due <= $1)), FALSE)");
        let err = compile(&parse("sla:breachd").unwrap(), &CATALOG, 1, NOW).unwrap_err();
        assert_eq!(err.hint.as_deref(), Some("did you mean `breached`?"));
        assert!(compile(&parse("sla>breached").unwrap(), &CATALOG, 1, NOW).is_err());
    }

    #[test]
    fn successors() {
        assert_eq!(successor("abc").as_deref(), Some("abd"));
        assert_eq!(successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(successor("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(successor("\u{10FFFF}"), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn any_input_parses_or_errors_and_placeholders_match(q in "[a-z_.:<>=!*\"(), 0-9-]{0,80}") {
            if let Ok(expr) = parse(&q)
                && let Ok(c) = compile(&expr, &CATALOG, 1, NOW)
            {
                let placeholders = c.condition.matches('$').count();
                proptest::prop_assert_eq!(placeholders, c.params.len());
            }
        }

        #[test]
        fn arbitrary_unicode_never_panics(q in "\\PC{0,120}") {
            let _ = parse(&q).map(|e| compile(&e, &CATALOG, 1, NOW));
        }
    }
}
