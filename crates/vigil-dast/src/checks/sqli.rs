//! SQL injection, error-based and boolean-based.
//!
//! Error-based: a quote, a backslash or an unbalanced parenthesis appended
//! to the value makes the database's own error message appear (signatures
//! for MySQL/MariaDB, PostgreSQL, SQLite, Microsoft SQL Server and Oracle,
//! matched after HTML entities and JSON escapes are undone), where the
//! untouched request showed none.
//!
//! Time-based: a delay the database makes (`pg_sleep`, `SLEEP`, `WAITFOR
//! DELAY`) must show in the response time, twice, with a zero delay fast in
//! between. Times are judged against a baseline of the untouched request
//! (mean plus seven standard deviations, as sqlmap does), and both run in
//! sessions of their own, one after the other, so an application that
//! serves one request per session at a time (PHP's session lock) neither
//! slows the baseline nor queues the delayed request behind the scan's
//! other requests.
//!
//! Boolean-based: for each closure (none, `'`, `"`, `)`, `')`, `'))`, ...) a
//! condition that is true must give the original page back and one that is
//! false must not; then a second pair with other numbers must agree. Pages
//! are compared word by word after the payload's reflections are removed,
//! against a threshold set by how much the page changes between two
//! identical requests (dynamic content).

use std::sync::LazyLock;

use regex::Regex;

use super::{Check, Ctx, Run, Strength, Target, normalize, similarity, without};
use crate::finding::{Confidence, Finding, Severity};
use crate::request::Point;

/// The check.
pub const CHECK: Check =
    Check { id: "sqli", name: "SQL injection", rules: &["VGW-SQLI"], default: true, run: Run::Point(run) };

/// Database error signatures: (database, pattern).
const SIGNATURES: &[(&str, &str)] = &[
    (
        "MySQL",
        r"You have an error in your SQL syntax|check the manual that (?:corresponds|fits) to your (?:MySQL|MariaDB) server version",
    ),
    (
        "MySQL",
        r"\bmysqli?_(?:fetch|query|num_rows)|MySqlException|com\.mysql\.jdbc|Unknown column '[^']+' in '(?:where|field|order) clause'",
    ),
    ("MySQL", r"SQLSTATE\[(?:42000|HY000)\]|\bMariaDB server\b"),
    (
        "PostgreSQL",
        r#"(?:syntax error|unterminated quoted (?:string|identifier)) at or near "|PG::SyntaxError|org\.postgresql\.util\.PSQLException"#,
    ),
    (
        "PostgreSQL",
        r#"invalid input syntax for (?:type )?(?:integer|numeric|bigint|uuid)|psycopg2?\.errors|\bpg_query\(\)|ERROR:\s+syntax error at"#,
    ),
    (
        "SQLite",
        r#"SQLite3?::(?:SQL)?Exception|sqlite3\.OperationalError|SQLITE_ERROR|\[SQLITE_ERROR\]|System\.Data\.SQLite"#,
    ),
    (
        "SQLite",
        r#"near "[^"\n]{0,40}": syntax error|unrecognized token: "|unterminated string literal|\bincomplete input\b"#,
    ),
    (
        "Microsoft SQL Server",
        r"Unclosed quotation mark after the character string|Incorrect syntax near|\[SQL Server\]|SqlClient\.SqlException|Microsoft OLE DB Provider for SQL Server|ODBC SQL Server Driver",
    ),
    ("Oracle", r"\bORA-\d{5}\b|quoted string not properly terminated|SQL command not properly ended|oracle\.jdbc"),
];

static PATTERNS: LazyLock<Vec<(&'static str, Regex)>> =
    LazyLock::new(|| SIGNATURES.iter().map(|(db, p)| (*db, Regex::new(p).expect("valid signature"))).collect());

/// The database error in `body`, if any: (database, the matching text).
pub fn error_in(body: &str) -> Option<(&'static str, String)> {
    let body = normalize(body);
    PATTERNS.iter().find_map(|(db, re)| re.find(&body).map(|m| (*db, m.as_str().to_string())))
}

fn run(ctx: &Ctx<'_>, target: &Target, point: &Point) -> Vec<Finding> {
    let original = target.request.value(point).unwrap_or_default();
    if let Some(found) = error_based(ctx, target, point, &original) {
        return vec![found];
    }
    if let Some(found) = boolean(ctx, target, point, &original) {
        return vec![found];
    }
    time_based(ctx, target, point, &original).into_iter().collect()
}

const REMEDIATION: &str = "Use parameterised queries (prepared statements with bound parameters) for every value \
    that reaches SQL; never build SQL by concatenating input. Do not show database errors to users.";
const REFERENCES: &[&str] =
    &["https://owasp.org/www-community/attacks/SQL_Injection", "https://cwe.mitre.org/data/definitions/89.html"];

fn error_based(ctx: &Ctx<'_>, target: &Target, point: &Point, original: &str) -> Option<Finding> {
    if error_in(&target.response.body).is_some() {
        return None;
    }
    let suffixes: &[&str] = match ctx.strength {
        Strength::Low => &["'", "\""],
        _ => &["'", "\"", "\\", "')", "`"],
    };
    for suffix in suffixes {
        let payload = format!("{original}{suffix}");
        let attack = target.request.with(point, &payload);
        let response = ctx.send(&attack)?;
        if let Some((db, text)) = error_in(&response.body) {
            let finding = ctx.finding(
                "VGW-SQLI",
                format!("SQL injection in {point} ({db}, error-based)"),
                (Severity::Critical, Confidence::Firm, 89),
                &attack,
                &response,
                &text,
                format!("appending {suffix} makes the application show a {db} error: {text}"),
            );
            return Some(finding.at(point, &payload).advice(REMEDIATION, REFERENCES));
        }
    }
    None
}

/// A true and a false condition after `closure`: (true, false) payloads.
fn conditions(original: &str, closure: &str, (a, b): (u32, u32)) -> [(String, String); 2] {
    let commented = (format!("{original}{closure} AND {a}={a}-- -"), format!("{original}{closure} AND {a}={b}-- -"));
    // Without a comment, the closure's quote is balanced by the query's own.
    let open = match closure {
        "'" | "\"" => Some((
            format!("{original}{closure} AND {closure}{a}{closure}={closure}{a}"),
            format!("{original}{closure} AND {closure}{a}{closure}={closure}{b}"),
        )),
        _ => None,
    };
    [commented.clone(), open.unwrap_or(commented)]
}

fn boolean(ctx: &Ctx<'_>, target: &Target, point: &Point, original: &str) -> Option<Finding> {
    let closures: &[&str] = match ctx.strength {
        Strength::Low => &["", "'"],
        Strength::Medium => &["", "'", "\"", "')", "'))", ")"],
        Strength::High => &["", "'", "\"", ")", "')", "'))", "\")", "\"))", "))"],
    };
    // How much the page changes by itself.
    let again = ctx.send(&target.request)?;
    let base = without(&target.response.body, &[original]);
    let stability = similarity(&base, &without(&again.body, &[original]));
    if again.status != target.response.status || stability < 0.8 {
        return None;
    }
    let threshold = (stability - 0.02).min(0.98);
    let compare = |response: &crate::http::Response, payload: &str| {
        (response.status, similarity(&base, &without(&response.body, &[payload, original])))
    };
    for closure in closures {
        let first = conditions(original, closure, (7, 8));
        for (form, (yes, no)) in first.iter().enumerate() {
            if form == 1 && first[0].0 == *yes {
                continue;
            }
            let true_req = target.request.with(point, yes);
            let true_resp = ctx.send(&true_req)?;
            let (status, t) = compare(&true_resp, yes);
            if status != target.response.status || t < threshold {
                continue;
            }
            let false_req = target.request.with(point, no);
            let false_resp = ctx.send(&false_req)?;
            let (_, f) = compare(&false_resp, no);
            if f >= threshold || t - f < 0.03 {
                continue;
            }
            // A second pair with other numbers must agree.
            let (yes2, no2) = conditions(original, closure, (3, 5))[form].clone();
            let t2 = ctx.send(&target.request.with(point, &yes2))?;
            let f2 = ctx.send(&target.request.with(point, &no2))?;
            let (_, t2s) = compare(&t2, &yes2);
            let (_, f2s) = compare(&f2, &no2);
            let false_alike = similarity(
                &without(&false_resp.body, &[no.as_str(), original]),
                &without(&f2.body, &[no2.as_str(), original]),
            );
            if t2s >= threshold && f2s < threshold && false_alike >= threshold {
                let finding = ctx.finding(
                    "VGW-SQLI",
                    format!("SQL injection in {point} (boolean-based)"),
                    (Severity::Critical, Confidence::Firm, 89),
                    &false_req,
                    &false_resp,
                    "",
                    format!(
                        "`{yes}` gives the original page back ({:.0}% alike) and `{no}` does not ({:.0}%); \
                         confirmed with `{yes2}` and `{no2}`",
                        t * 100.0,
                        f * 100.0
                    ),
                );
                return Some(finding.at(point, yes).advice(REMEDIATION, REFERENCES));
            }
        }
    }
    None
}

/// Delay payloads: `{s}` stands for the seconds; (database, template).
const DELAYS: &[(&str, &str)] = &[
    ("PostgreSQL", "' AND 1=(SELECT 1 FROM pg_sleep({s}))-- -"),
    ("PostgreSQL", " AND 1=(SELECT 1 FROM pg_sleep({s}))-- -"),
    ("MySQL", "' AND SLEEP({s})-- -"),
    ("MySQL", " AND SLEEP({s})"),
    ("PostgreSQL", "';SELECT pg_sleep({s})-- -"),
    ("Microsoft SQL Server", "';WAITFOR DELAY '0:0:{s}'-- -"),
    ("MySQL", "' AND (SELECT 1 FROM (SELECT SLEEP({s}))x)-- -"),
    ("PostgreSQL", "') AND 1=(SELECT 1 FROM pg_sleep({s}))-- -"),
    ("MySQL", "\" AND SLEEP({s})-- -"),
];

fn time_based(ctx: &Ctx<'_>, target: &Target, point: &Point, original: &str) -> Option<Finding> {
    let delays = match ctx.strength {
        Strength::Low => &DELAYS[..2],
        Strength::Medium => &DELAYS[..6],
        Strength::High => DELAYS,
    };
    // The baseline, from a session of its own.
    let baseline = ctx.private_session();
    let mut times = Vec::new();
    for _ in 0..5 {
        times.push(ctx.send_in(&baseline, &target.request)?.elapsed.as_secs_f64());
    }
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let sd = (times.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (times.len() - 1) as f64).sqrt();
    let slow = (mean + 7.0 * sd).max(mean + 0.5);
    let seconds = (slow.ceil() as u64 + 2).clamp(3, 10);
    let attacks = ctx.private_session();
    for (db, template) in delays {
        let payload = |n: u64| format!("{original}{}", template.replace("{s}", &n.to_string()));
        let timed = |n: u64| {
            let request = target.request.with(point, &payload(n));
            ctx.send_in(&attacks, &request).map(|r| (request, r))
        };
        let (request, first) = timed(seconds)?;
        let first_secs = first.elapsed.as_secs_f64();
        if first_secs < seconds as f64 || first_secs < slow {
            continue;
        }
        let (_, zero) = timed(0)?;
        if zero.elapsed.as_secs_f64() >= slow.max(seconds as f64 / 2.0) {
            continue;
        }
        let (_, again) = timed(seconds)?;
        let again_secs = again.elapsed.as_secs_f64();
        if again_secs < seconds as f64 {
            continue;
        }
        let cookies = attacks.merged(&request.cookies);
        let finding = Finding::new(
            "VGW-SQLI",
            format!("SQL injection in {point} ({db}, time-based)"),
            (Severity::Critical, Confidence::Firm, 89),
            &request,
            &cookies,
            Some(&first),
            "",
            format!(
                "a {seconds} s delay took {first_secs:.2} s and {again_secs:.2} s, a zero delay {:.2} s; \
                 the untouched request takes {mean:.2} s ± {sd:.2} s (5 runs, another session)",
                zero.elapsed.as_secs_f64()
            ),
        );
        return Some(finding.at(point, &payload(seconds)).advice(REMEDIATION, REFERENCES));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_of_each_database_match_their_errors() {
        let errors = [
            (
                "MySQL",
                "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version",
            ),
            ("PostgreSQL", "ERROR:  unterminated quoted string at or near \"'\""),
            ("PostgreSQL", "invalid input syntax for type integer: \"1'\""),
            ("SQLite", "<p>Database error: unrecognized token: &quot;&#x27;&quot;</p>"),
            ("SQLite", r#"{"error": "near \"'\": syntax error"}"#),
            ("Microsoft SQL Server", "Unclosed quotation mark after the character string ''."),
            ("Oracle", "ORA-01756: quoted string not properly terminated"),
        ];
        for (db, text) in errors {
            assert_eq!(error_in(text).map(|(d, _)| d), Some(db), "{text}");
        }
        for clean in ["<p>Syntax of the product page</p>", "near the shop", "ORA-1 is a sku"] {
            assert_eq!(error_in(clean), None, "{clean}");
        }
    }
}
