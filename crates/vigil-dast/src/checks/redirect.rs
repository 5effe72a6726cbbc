//! Open redirect: a URL on a host of the scanner's choosing, put where the
//! application takes a destination, comes back as the `Location` of a
//! redirect (or a meta refresh) to that host. The redirect is observed,
//! never followed: the host (`<marker>.example`) is not in scope.

use std::sync::LazyLock;

use regex::Regex;

use super::{Check, Ctx, Run, Strength, Target, marker};
use crate::finding::{Confidence, Finding, Severity};
use crate::request::Point;

/// The check.
pub const CHECK: Check =
    Check { id: "redirect", name: "open redirect", rules: &["VGW-OPEN-REDIRECT"], default: true, run: Run::Point(run) };

static REFRESH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]+content\s*=\s*["']?\s*\d+\s*;\s*url\s*=\s*([^"'>\s]+)"#,
    )
    .expect("valid pattern")
});

fn run(ctx: &Ctx<'_>, target: &Target, point: &Point) -> Vec<Finding> {
    let host = format!("{}.example", marker());
    let payloads = match ctx.strength {
        Strength::Low => vec![format!("https://{host}/")],
        _ => vec![format!("https://{host}/"), format!("//{host}/"), format!("/\\{host}/"), format!("https:{host}")],
    };
    for payload in payloads {
        let attack = target.request.with(point, &payload);
        let Some(response) = ctx.send_once(&attack) else { return Vec::new() };
        let header = match response.status {
            300..=399 => response.header("location").map(str::to_string),
            _ => None,
        };
        let destination = header.or_else(|| REFRESH.captures(&response.body).map(|c| c[1].to_string()));
        let Some(destination) = destination else { continue };
        let lands = attack.url.join(destination.trim()).is_ok_and(|u| u.host_str() == Some(host.as_str()));
        if lands {
            let finding = ctx.finding(
                "VGW-OPEN-REDIRECT",
                format!("Open redirect in {point}"),
                (Severity::Medium, Confidence::Certain, 601),
                &attack,
                &response,
                &host,
                format!("the application sends the browser to {destination}"),
            );
            return vec![finding.at(point, &payload).advice(
                "Redirect only to relative paths of the application or to an allow-list of destinations; \
                 refuse scheme-relative (//host) and backslash forms.",
                &["https://cheatsheetseries.owasp.org/cheatsheets/Unvalidated_Redirects_and_Forwards_Cheat_Sheet.html"],
            )];
        }
    }
    Vec::new()
}
