//! Shared SQL plumbing: binding query-language values, keyset pagination
//! with opaque cursors, team scoping, and reading rows.

use serde::{Deserialize, Serialize};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AssertSqlSafe, Row};
use vigil_query::{Catalog, Expr, Param, SortKey};

use crate::{Error, Result, Scope};

/// The most rows one page may hold.
pub const MAX_PAGE: usize = 1000;

/// A page request: how many rows, and where the previous page ended.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Rows wanted (1 to [`MAX_PAGE`]; 50 when 0).
    pub limit: usize,
    /// The `next` cursor of the previous page.
    pub cursor: Option<String>,
}

/// One page of rows and the cursor of the next, when there is one.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Binds query-language values in order.
pub(crate) fn bind_params<'q>(
    mut query: Query<'q, Any, AnyArguments>,
    params: &[Param],
) -> Query<'q, Any, AnyArguments> {
    for p in params {
        query = match p {
            Param::Text(s) => query.bind(s.clone()),
            Param::Int(i) => query.bind(*i),
            Param::Float(f) => query.bind(*f),
            // Flags are stored as 0 or 1 on both backends.
            Param::Bool(b) => query.bind(i64::from(*b)),
        };
    }
    query
}

/// Runs a statement assembled at run time. Its text may hold only fixed SQL
/// and placeholders; every value travels in `params`.
pub(crate) async fn fetch_all(conn: &mut AnyConnection, sql: String, params: &[Param]) -> Result<Vec<AnyRow>> {
    let sql = for_backend(conn, sql);
    Ok(bind_params(sqlx::query(AssertSqlSafe(sql)), params).fetch_all(conn).await?)
}

/// Like [`fetch_all`], for statements that return nothing.
pub(crate) async fn execute(conn: &mut AnyConnection, sql: String, params: &[Param]) -> Result<u64> {
    let sql = for_backend(conn, sql);
    Ok(bind_params(sqlx::query(AssertSqlSafe(sql)), params).execute(conn).await?.rows_affected())
}

/// SQLite reads `$N` as a named parameter, which the driver resolves by
/// name for every value it binds (quadratic in the number of values: a
/// thousand-row insert spent most of its time there); `?N` means the same
/// to SQLite and binds by position. PostgreSQL keeps `$N`.
fn for_backend(conn: &AnyConnection, sql: String) -> String {
    if !conn.backend_name().eq_ignore_ascii_case("sqlite") || !sql.contains('$') {
        return sql;
    }
    numbered_placeholders(&sql)
}

/// `$N` placeholders outside quoted strings and identifiers rewritten as `?N`.
fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') if chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('?');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// `column IN ($n, ...)` for the scope's teams (or `TRUE` for all), the
/// values appended to `params`.
pub(crate) fn scope_condition(scope: &Scope, column: &str, params: &mut Vec<Param>) -> String {
    match scope {
        Scope::All => "TRUE".to_string(),
        Scope::Teams(teams) if teams.is_empty() => "FALSE".to_string(),
        Scope::Teams(teams) => {
            let placeholders: Vec<String> = teams
                .iter()
                .map(|t| {
                    params.push(Param::Int(*t));
                    format!("${}", params.len())
                })
                .collect();
            format!("{column} IN ({})", placeholders.join(", "))
        }
    }
}

/// `$n, ...` placeholders for `ids`, appended to `params`.
pub(crate) fn id_list(ids: &[i64], params: &mut Vec<Param>) -> String {
    let list: Vec<String> = ids
        .iter()
        .map(|id| {
            params.push(Param::Int(*id));
            format!("${}", params.len())
        })
        .collect();
    if list.is_empty() { "NULL".to_string() } else { list.join(", ") }
}

/// A value in a cursor: where the last row of a page stood in each sort key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum CursorValue {
    Int(i64),
    Float(f64),
    Text(String),
}

impl CursorValue {
    fn param(&self) -> Param {
        match self {
            CursorValue::Int(i) => Param::Int(*i),
            CursorValue::Float(f) => Param::Float(*f),
            CursorValue::Text(s) => Param::Text(s.clone()),
        }
    }

    fn read(row: &AnyRow, column: &str) -> Result<CursorValue> {
        if let Ok(i) = row.try_get::<i64, _>(column) {
            return Ok(CursorValue::Int(i));
        }
        if let Ok(f) = row.try_get::<f64, _>(column) {
            return Ok(CursorValue::Float(f));
        }
        Ok(CursorValue::Text(row.try_get::<String, _>(column)?))
    }
}

/// A search: the rows' base `SELECT ... FROM ...`, the id column, the
/// catalogue the filter is compiled against, the filter, the scope and
/// the order.
pub(crate) struct Search<'a> {
    pub select: &'a str,
    pub id: &'a str,
    pub team: Option<&'a str>,
    pub catalog: &'a Catalog,
    pub filter: &'a Expr,
    pub scope: &'a Scope,
    pub sort: &'a [SortKey],
    /// Extra fixed conditions and their values (`a.id = $n`), already numbered
    /// from 1.
    pub extra: Option<(String, Vec<Param>)>,
    pub now: i64,
}

impl Search<'_> {
    /// The `WHERE` clause (without the keyword) and its values.
    fn condition(&self) -> Result<(String, Vec<Param>)> {
        let (mut conditions, mut params) = match &self.extra {
            Some((sql, params)) => (vec![sql.clone()], params.clone()),
            None => (Vec::new(), Vec::new()),
        };
        if let Some(team) = self.team {
            conditions.push(scope_condition(self.scope, team, &mut params));
        }
        let compiled = vigil_query::compile(self.filter, self.catalog, params.len() + 1, self.now)?;
        conditions.push(compiled.condition);
        params.extend(compiled.params);
        Ok((conditions.join(" AND "), params))
    }

    /// How many rows match.
    pub async fn count(&self, conn: &mut AnyConnection) -> Result<i64> {
        let (condition, params) = self.condition()?;
        let from = &self.select[self.select.find(" FROM ").unwrap_or(0)..];
        let rows = fetch_all(conn, format!("SELECT COUNT(*) AS n{from} WHERE {condition}"), &params).await?;
        Ok(rows.first().map(|r| r.try_get::<i64, _>("n")).transpose()?.unwrap_or(0))
    }

    /// Rows grouped by `expr`, most frequent first, at most `limit` groups.
    pub async fn group(&self, conn: &mut AnyConnection, expr: &str, limit: usize) -> Result<Vec<(String, i64)>> {
        let (condition, params) = self.condition()?;
        let from = &self.select[self.select.find(" FROM ").unwrap_or(0)..];
        let sql = format!(
            "SELECT CAST({expr} AS TEXT) AS value, COUNT(*) AS n{from} WHERE {condition} \
             GROUP BY {expr} ORDER BY n DESC, value LIMIT {}",
            limit.clamp(1, MAX_PAGE)
        );
        let rows = fetch_all(conn, sql, &params).await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<Option<String>, _>("value")?.unwrap_or_default(), r.try_get::<i64, _>("n")?)))
            .collect()
    }

    /// One page of rows, in the requested order, then by id.
    pub async fn page(&self, conn: &mut AnyConnection, page: &Page) -> Result<(Vec<AnyRow>, Option<String>)> {
        let limit = if page.limit == 0 { 50 } else { page.limit.min(MAX_PAGE) };
        let (mut condition, mut params) = self.condition()?;
        let keys: Vec<(String, bool)> = self
            .sort
            .iter()
            .map(|k| (k.expr.to_string(), k.descending))
            .chain(std::iter::once((self.id.to_string(), false)))
            .collect();
        if let Some(cursor) = &page.cursor {
            let values = decode_cursor(cursor, keys.len())?;
            condition = format!("{condition} AND ({})", keyset(&keys, &values, &mut params));
        }
        let select_keys: String = keys.iter().enumerate().map(|(i, (expr, _))| format!(", {expr} AS _k{i}")).collect();
        let order: Vec<String> =
            keys.iter().map(|(expr, desc)| format!("{expr} {}", if *desc { "DESC" } else { "ASC" })).collect();
        let (head, from) = self.select.split_at(self.select.find(" FROM ").unwrap_or(self.select.len()));
        let sql =
            format!("{head}{select_keys}{from} WHERE {condition} ORDER BY {} LIMIT {}", order.join(", "), limit + 1);
        let mut rows = fetch_all(conn, sql, &params).await?;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            let last = rows.last().ok_or_else(|| Error::Corrupt("empty page".into()))?;
            let values: Vec<CursorValue> =
                (0..keys.len()).map(|i| CursorValue::read(last, &format!("_k{i}"))).collect::<Result<_>>()?;
            Some(encode_cursor(&values))
        } else {
            None
        };
        Ok((rows, next))
    }
}

/// Rows after the cursor: `(k1 > v1) OR (k1 = v1 AND k2 > v2) OR ...`,
/// each comparison in its key's direction.
fn keyset(keys: &[(String, bool)], values: &[CursorValue], params: &mut Vec<Param>) -> String {
    let mut alternatives = Vec::new();
    for i in 0..keys.len() {
        let mut parts = Vec::new();
        for (j, (expr, desc)) in keys.iter().enumerate().take(i + 1) {
            params.push(values[j].param());
            let op = if j < i {
                "="
            } else if *desc {
                "<"
            } else {
                ">"
            };
            parts.push(format!("{expr} {op} ${}", params.len()));
        }
        alternatives.push(format!("({})", parts.join(" AND ")));
    }
    alternatives.join(" OR ")
}

fn encode_cursor(values: &[CursorValue]) -> String {
    let json = serde_json::to_vec(values).unwrap_or_default();
    json.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_cursor(cursor: &str, keys: usize) -> Result<Vec<CursorValue>> {
    let invalid = || Error::Invalid("invalid cursor: pass the `next` value of the previous page unchanged".into());
    if !cursor.len().is_multiple_of(2) || cursor.len() > 8192 {
        return Err(invalid());
    }
    let bytes: Vec<u8> = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<_, _>>()
        .map_err(|_| invalid())?;
    let values: Vec<CursorValue> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if values.len() != keys {
        return Err(invalid());
    }
    Ok(values)
}

/// Reads an optional text column.
pub(crate) fn opt_text(row: &AnyRow, column: &str) -> Result<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(column)?)
}

/// Reads a 0/1 flag column.
pub(crate) fn flag(row: &AnyRow, column: &str) -> Result<bool> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

/// Splits a space-separated list column.
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_tampering() {
        let values = vec![CursorValue::Int(4), CursorValue::Text("a b".into()), CursorValue::Float(1.5)];
        let encoded = encode_cursor(&values);
        assert_eq!(decode_cursor(&encoded, 3).unwrap(), values);
        assert!(decode_cursor(&encoded, 2).is_err());
        assert!(decode_cursor("zz", 1).is_err());
        assert!(decode_cursor("abc", 1).is_err());
    }

    #[test]
    fn placeholders_become_positional_outside_quotes() {
        assert_eq!(
            numbered_placeholders("SELECT '$1', \"$2\" FROM t WHERE a = $1 AND b IN ($2, $10) AND c = 'it''s $3'"),
            "SELECT '$1', \"$2\" FROM t WHERE a = ?1 AND b IN (?2, ?10) AND c = 'it''s $3'"
        );
        assert_eq!(numbered_placeholders("json_extract(x, '$.a') = $1"), "json_extract(x, '$.a') = ?1");
    }

    #[test]
    fn keyset_conditions_follow_each_direction() {
        let mut params = Vec::new();
        let sql = keyset(
            &[("f.severity".into(), true), ("f.id".into(), false)],
            &[CursorValue::Int(4), CursorValue::Int(10)],
            &mut params,
        );
        assert_eq!(sql, "(f.severity < $1) OR (f.severity = $2 AND f.id > $3)");
        assert_eq!(params.len(), 3);
    }
}
