//! A scan's report in each output format, one module per format, chosen by
//! one `match` on [`Format`].

use std::io::Write;

use crate::Report;

mod html;
mod json;
mod junit;
mod sarif;
mod table;

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A table for people.
    Table,
    /// The report as JSON.
    Json,
    /// SARIF 2.1.0, for code scanning dashboards.
    Sarif,
    /// JUnit XML, a failed test case per finding, for CI test views.
    Junit,
    /// A standalone HTML page.
    Html,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        Ok(match s {
            "table" => Format::Table,
            "json" => Format::Json,
            "sarif" => Format::Sarif,
            "junit" => Format::Junit,
            "html" => Format::Html,
            _ => return Err(format!("{s}: not one of table, json, sarif, junit, html")),
        })
    }
}

/// The version of the JSON report's shape.
pub const SCHEMA_VERSION: u32 = 1;

/// Writes `report` as `format`.
pub fn write(report: &Report, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Table => table::write(report, out),
        Format::Json => json::write(report, out),
        Format::Sarif => sarif::write(report, out),
        Format::Junit => junit::write(report, out),
        Format::Html => html::write(report, out),
    }
}

/// `text` escaped for XML and HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}
