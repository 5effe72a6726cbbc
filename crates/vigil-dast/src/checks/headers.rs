//! Passive checks over every crawled response (no request of their own,
//! except one `Origin` probe for CORS): missing security headers
//! (Content-Security-Policy, X-Content-Type-Options, framing protection,
//! HSTS on HTTPS), cookies without HttpOnly/Secure/SameSite, server
//! version disclosure, directory listings, and CORS that lets any origin
//! read responses with credentials. Site-wide headers give one finding per
//! origin, listing the pages.

use std::collections::BTreeMap;

use super::{Check, Ctx, Run, Target, marker};
use crate::finding::{Confidence, Finding, Severity};
use crate::http::Response;
use crate::request::Request;

/// The check.
pub const CHECK: Check = Check {
    id: "headers",
    name: "security headers, cookies, disclosure, directory listing, CORS",
    rules: &[
        "VGW-HEADER-CSP",
        "VGW-HEADER-XCTO",
        "VGW-HEADER-FRAMING",
        "VGW-HEADER-HSTS",
        "VGW-COOKIE-FLAGS",
        "VGW-VERSION-DISCLOSURE",
        "VGW-DIRECTORY-LISTING",
        "VGW-CORS",
    ],
    default: true,
    run: Run::Site(run),
};

/// (rule, title, severity, cwe, remediation) of a missing header, and whether `response` lacks it.
type Missing = (&'static str, &'static str, Severity, u32, &'static str, fn(&Response) -> bool);

const MISSING: &[Missing] = &[
    (
        "VGW-HEADER-CSP",
        "No Content-Security-Policy",
        Severity::Medium,
        693,
        "Send a Content-Security-Policy that allows scripts only from the application's own origin, without 'unsafe-inline'.",
        |r| r.is_html() && r.header("content-security-policy").is_none(),
    ),
    (
        "VGW-HEADER-XCTO",
        "No X-Content-Type-Options: nosniff",
        Severity::Low,
        693,
        "Send X-Content-Type-Options: nosniff with every response.",
        |r| !r.header("x-content-type-options").is_some_and(|v| v.trim().eq_ignore_ascii_case("nosniff")),
    ),
    (
        "VGW-HEADER-FRAMING",
        "Pages can be framed by other sites (clickjacking)",
        Severity::Medium,
        1021,
        "Send Content-Security-Policy: frame-ancestors 'self' (or X-Frame-Options: DENY or SAMEORIGIN).",
        |r| {
            r.is_html()
                && r.header("x-frame-options").is_none()
                && !r.header("content-security-policy").is_some_and(|c| c.contains("frame-ancestors"))
        },
    ),
    (
        "VGW-HEADER-HSTS",
        "No Strict-Transport-Security on HTTPS",
        Severity::Low,
        319,
        "Send Strict-Transport-Security: max-age=31536000; includeSubDomains over HTTPS.",
        |r| r.url.scheme() == "https" && r.header("strict-transport-security").is_none(),
    ),
];

fn origin_of(target: &Target) -> Request {
    let mut url = target.request.url.clone();
    url.set_path("/");
    url.set_query(None);
    Request::get(url)
}

fn run(ctx: &Ctx<'_>, targets: &[Target]) -> Vec<Finding> {
    let mut out = Vec::new();
    let live: Vec<&Target> = targets.iter().filter(|t| t.response.status < 400).collect();
    for &(rule, title, severity, cwe, fix, lacks) in MISSING {
        let pages: Vec<&&Target> = live.iter().filter(|t| lacks(&t.response)).collect();
        let Some(first) = pages.first() else { continue };
        let listed: Vec<String> = pages.iter().take(5).map(|t| t.request.url.to_string()).collect();
        let mut f = ctx.finding(
            rule,
            title.to_string(),
            (severity, Confidence::Certain, cwe),
            &first.request,
            &first.response,
            "",
            format!("{} of {} pages lack it, e.g. {}", pages.len(), live.len(), listed.join(", ")),
        );
        f.location = origin_of(first).location();
        out.push(f.advice(fix, &["https://owasp.org/www-project-secure-headers/"]));
    }
    out.extend(cookies(ctx, &live));
    out.extend(disclosure(ctx, &live));
    out.extend(listings(ctx, &live));
    out.extend(cors(ctx, &live));
    out
}

fn cookies(ctx: &Ctx<'_>, pages: &[&Target]) -> Vec<Finding> {
    let mut seen: BTreeMap<String, ()> = BTreeMap::new();
    let mut out = Vec::new();
    // What a new visitor is given, besides what the crawl's session was given.
    let first = pages.first().and_then(|t| {
        let response = ctx.send_in(&ctx.private_session(), &Request::get(t.request.url.clone()))?;
        Some(Target { request: Request::get(t.request.url.clone()), response })
    });
    for t in first.iter().chain(pages.iter().copied()) {
        for set in t.response.header_all("set-cookie") {
            let mut parts = set.split(';');
            let Some(name) = parts.next().and_then(|p| p.split_once('=')).map(|(n, _)| n.trim().to_string()) else {
                continue;
            };
            let attrs: Vec<String> = parts.map(|a| a.trim().to_ascii_lowercase()).collect();
            let has = |a: &str| attrs.iter().any(|x| x == a || x.starts_with(&format!("{a}=")));
            let mut missing = Vec::new();
            if !has("httponly") {
                missing.push("HttpOnly");
            }
            if t.request.url.scheme() == "https" && !has("secure") {
                missing.push("Secure");
            }
            if !has("samesite") {
                missing.push("SameSite");
            }
            if missing.is_empty() || seen.insert(name.clone(), ()).is_some() {
                continue;
            }
            let mut f = ctx.finding(
                "VGW-COOKIE-FLAGS",
                format!("Cookie {name} is set without {}", missing.join(", ")),
                (Severity::Low, Confidence::Certain, 1004),
                &t.request,
                &t.response,
                "",
                format!("Set-Cookie: {set}"),
            );
            f.location = origin_of(t).location();
            f.parameter = Some(crate::request::Point::Cookie(name));
            out.push(f.advice(
                "Set HttpOnly on cookies scripts do not need, Secure on every cookie over HTTPS, and SameSite=Lax or Strict.",
                &["https://owasp.org/www-community/HttpOnly"],
            ));
        }
    }
    out
}

fn disclosure(ctx: &Ctx<'_>, pages: &[&Target]) -> Vec<Finding> {
    let mut out = Vec::new();
    for header in ["server", "x-powered-by", "x-aspnet-version", "x-aspnetmvc-version"] {
        let Some(t) = pages.iter().find(|t| {
            t.response.header(header).is_some_and(|v| header != "server" || v.chars().any(|c| c.is_ascii_digit()))
        }) else {
            continue;
        };
        let value = t.response.header(header).unwrap_or_default();
        let mut f = ctx.finding(
            "VGW-VERSION-DISCLOSURE",
            format!("The {header} header discloses software versions"),
            (Severity::Low, Confidence::Certain, 200),
            &t.request,
            &t.response,
            "",
            format!("{header}: {value}"),
        );
        f.location = origin_of(t).location();
        f.parameter = Some(crate::request::Point::Header(header.to_string()));
        out.push(f.advice(
            "Remove version numbers from response headers (server tokens, X-Powered-By).",
            &["https://cwe.mitre.org/data/definitions/200.html"],
        ));
    }
    out
}

fn listings(ctx: &Ctx<'_>, pages: &[&Target]) -> Vec<Finding> {
    pages
        .iter()
        .filter(|t| {
            let b = &t.response.body;
            t.response.is_html() && (b.contains("<title>Index of /") || b.contains("<title>Directory listing for /"))
        })
        .map(|t| {
            ctx.finding(
                "VGW-DIRECTORY-LISTING",
                "Directory listing".to_string(),
                (Severity::Low, Confidence::Certain, 548),
                &t.request,
                &t.response,
                "",
                format!("{} lists the files of a directory", t.request.url),
            )
            .advice(
                "Turn off directory listings in the web server.",
                &["https://cwe.mitre.org/data/definitions/548.html"],
            )
        })
        .collect()
}

fn cors(ctx: &Ctx<'_>, pages: &[&Target]) -> Vec<Finding> {
    let origin = format!("https://{}.example", marker());
    for t in pages.iter().filter(|t| t.request.method == "GET").take(20) {
        let mut probe = t.request.clone();
        probe.headers.push(("Origin".into(), origin.clone()));
        let Some(r) = ctx.send_once(&probe) else { return Vec::new() };
        let allowed = r.header("access-control-allow-origin").map(str::trim);
        let credentials = r.header("access-control-allow-credentials").is_some_and(|v| v.trim() == "true");
        let open = match allowed {
            Some(a) if a == origin => true,
            Some("*") | Some("null") => credentials,
            _ => false,
        };
        if open {
            let mut f = ctx.finding(
                "VGW-CORS",
                "CORS lets any origin read responses".to_string(),
                (if credentials { Severity::High } else { Severity::Medium }, Confidence::Certain, 942),
                &probe,
                &r,
                "",
                format!(
                    "Origin: {origin} is answered with Access-Control-Allow-Origin: {}{}",
                    allowed.unwrap_or_default(),
                    if credentials { " and Access-Control-Allow-Credentials: true" } else { "" }
                ),
            );
            f.location = origin_of(t).location();
            return vec![f.advice(
                "Allow only the origins that need access, from an allow-list; never reflect the Origin header with credentials.",
                &["https://portswigger.net/web-security/cors"],
            )];
        }
    }
    Vec::new()
}
