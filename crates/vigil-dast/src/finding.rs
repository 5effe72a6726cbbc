//! Web findings: what was found where, how sure the scanner is, the proof
//! (request and response excerpts around the payload), and a `curl`
//! command that shows it again. [`Finding::to_result`] gives the shape the
//! server's uploads take (`results` of source `web`).

use serde::Serialize;

use crate::http::Response;
use crate::request::{Point, Request};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// The name the server and reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// How sure the scanner is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Seen, not proven.
    Tentative,
    /// Proven by the application's own answer (an error, a changed result).
    Firm,
    /// Proven by the effect itself (a script that runs, a header set).
    Certain,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The check's rule id (`VGW-XSS-REFLECTED`).
    pub rule: &'static str,
    /// What is wrong, in a line.
    pub title: String,
    /// How bad it is.
    pub severity: Severity,
    /// How sure the scanner is.
    pub confidence: Confidence,
    /// The CWE number.
    pub cwe: u32,
    /// The method and URL, without the query.
    pub location: String,
    /// The request's method.
    pub method: String,
    /// The full URL of the proving request.
    pub url: String,
    /// Where the payload went, if anywhere.
    pub parameter: Option<Point>,
    /// The payload.
    pub payload: Option<String>,
    /// What proves it, in words and the excerpt that shows it.
    pub evidence: String,
    /// The proving request, as sent (cut).
    pub request: String,
    /// The proving response: status, headers and the body around the proof (cut).
    pub response: String,
    /// How to fix it.
    pub remediation: &'static str,
    /// Further reading.
    pub references: Vec<&'static str>,
    /// A command that sends the proving request again.
    pub curl: String,
}

/// Largest request or response excerpt kept.
const EXCERPT: usize = 2000;

impl Finding {
    /// A finding about `request` (as sent with `cookies`) and its `response`; the
    /// response excerpt is taken around `needle`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        rule: &'static str,
        title: String,
        (severity, confidence, cwe): (Severity, Confidence, u32),
        request: &Request,
        cookies: &[(String, String)],
        response: Option<&Response>,
        needle: &str,
        evidence: String,
    ) -> Finding {
        let mut sent = format!("{} {}\n", request.method, request.url);
        for (k, v) in &request.headers {
            sent.push_str(&format!("{k}: {v}\n"));
        }
        if !cookies.is_empty() {
            let jar: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            sent.push_str(&format!("cookie: {}\n", jar.join("; ")));
        }
        if let Some((body, _)) = request.encoded_body() {
            sent.push('\n');
            sent.push_str(&String::from_utf8_lossy(&body));
        }
        let response = response
            .map(|r| {
                let body = if needle.is_empty() { cut(&r.body, EXCERPT) } else { around(&r.body, needle, EXCERPT / 2) };
                format!("{}\n{body}", r.head())
            })
            .unwrap_or_default();
        Finding {
            rule,
            title,
            severity,
            confidence,
            cwe,
            location: request.location(),
            method: request.method.clone(),
            url: request.url.to_string(),
            parameter: None,
            payload: None,
            evidence,
            request: cut(&sent, EXCERPT),
            response: cut(&response, EXCERPT * 2),
            remediation: "",
            references: Vec::new(),
            curl: request.curl(cookies),
        }
    }

    /// The same finding, naming the parameter and payload.
    pub fn at(mut self, point: &Point, payload: &str) -> Finding {
        self.parameter = Some(point.clone());
        self.payload = Some(payload.to_string());
        self
    }

    /// The same finding with advice and references.
    pub fn advice(mut self, remediation: &'static str, references: &[&'static str]) -> Finding {
        self.remediation = remediation;
        self.references = references.to_vec();
        self
    }

    /// What tells this finding apart from others of its rule at its location.
    pub fn key(&self) -> Option<String> {
        self.parameter.as_ref().map(Point::key)
    }

    /// The finding as a result of source `web` in a server upload.
    pub fn to_result(&self) -> serde_json::Value {
        serde_json::json!({
            "source": "web",
            "rule": self.rule,
            "title": self.title,
            "severity": self.severity.as_str(),
            "location": self.location,
            "key": self.key(),
            "cwe": format!("CWE-{}", self.cwe),
            "remediation": self.remediation,
            "evidence": {
                "confidence": self.confidence,
                "url": self.url,
                "parameter": self.parameter.as_ref().map(|p| p.to_string()),
                "payload": self.payload,
                "proof": self.evidence,
                "request": self.request,
                "response": self.response,
                "curl": self.curl,
            },
            "references": self.references,
        })
    }
}

/// `text` cut to at most `max` bytes, at a character boundary, marked when cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Up to `radius` bytes either side of the first `needle` in `text` (the start of `text` when absent).
pub fn around(text: &str, needle: &str, radius: usize) -> String {
    let Some(at) = text.find(needle) else { return cut(text, radius * 2) };
    let mut start = at.saturating_sub(radius);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + needle.len() + radius).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    format!("{}{}{}", if start > 0 { "…" } else { "" }, &text[start..end], if end < text.len() { "…" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_stay_on_character_boundaries() {
        assert_eq!(cut("ééé", 3), "é…");
        assert_eq!(around("aaaaéXéaaaa", "X", 2), "…éXé…");
        assert_eq!(around("abc", "zz", 1), "ab…");
    }
}
