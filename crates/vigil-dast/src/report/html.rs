//! A standalone HTML report: no scripts, no external resources, every
//! value escaped (the evidence holds the site's own hostile markup).

use std::io::Write;

use super::escape;
use crate::Report;

/// Writes the HTML page.
pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>Vigil web scan: {target}</title><style>\
         body{{font-family:sans-serif;margin:2em;max-width:80em}}pre{{background:#f4f4f4;padding:.5em;overflow-x:auto;white-space:pre-wrap}}\
         .critical,.high{{color:#a00}}.medium{{color:#a60}}details{{margin:1em 0;border-bottom:1px solid #ccc}}\
         </style></head><body>\n<h1>Vigil web scan: {target}</h1>\n\
         <p>{n} findings; {crawled} requests crawled, {requests} requests sent in {secs:.1} s; checks: {checks}.</p>\n",
        target = escape(&report.target),
        n = report.findings.len(),
        crawled = report.crawled.len(),
        requests = report.requests,
        secs = report.duration_secs,
        checks = escape(&report.checks.join(", ")),
    )?;
    for f in &report.findings {
        let sev = f.severity.as_str();
        write!(
            out,
            "<details><summary><b class=\"{sev}\">{sev_up}</b> {title} <code>{location}</code></summary>\n\
             <p>{rule}, CWE-{cwe}, confidence {confidence:?}.</p><p>{evidence}</p>\n\
             <h4>Request</h4><pre>{request}</pre><h4>Response</h4><pre>{response}</pre>\n\
             <h4>Reproduce</h4><pre>{curl}</pre><h4>Fix</h4><p>{fix}</p></details>\n",
            sev_up = sev.to_uppercase(),
            title = escape(&f.title),
            location = escape(&f.location),
            rule = f.rule,
            cwe = f.cwe,
            confidence = f.confidence,
            evidence = escape(&f.evidence),
            request = escape(&f.request),
            response = escape(&f.response),
            curl = escape(&f.curl),
            fix = escape(f.remediation),
        )?;
    }
    let untested: Vec<_> = report.untested.iter().filter(|u| u.check != "crawl").collect();
    if !untested.is_empty() {
        writeln!(out, "<h2>Not tested (time limit)</h2><ul>")?;
        for u in untested {
            writeln!(
                out,
                "<li>{} {} {}</li>",
                escape(&u.check),
                escape(&u.location),
                escape(u.parameter.as_deref().unwrap_or_default())
            )?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</body></html>")
}
