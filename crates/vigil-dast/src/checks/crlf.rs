//! CRLF injection (HTTP response splitting): a carriage return and line
//! feed followed by a header of the scanner's own; the finding is proven
//! when the response carries that header.

use super::{Check, Ctx, Run, Target, marker};
use crate::finding::{Confidence, Finding, Severity};
use crate::request::Point;

/// The check.
pub const CHECK: Check =
    Check { id: "crlf", name: "CRLF injection", rules: &["VGW-CRLF"], default: true, run: Run::Point(run) };

fn run(ctx: &Ctx<'_>, target: &Target, point: &Point) -> Vec<Finding> {
    if matches!(point, Point::Header(_) | Point::Cookie(_)) {
        return Vec::new();
    }
    let original = target.request.value(point).unwrap_or_default();
    let name = format!("x-{}", marker());
    for separator in ["\r\n", "\n", "\r\n\t"] {
        let payload = format!("{original}{separator}{name}: injected");
        let attack = target.request.with(point, &payload);
        let Some(response) = ctx.send_once(&attack) else { return Vec::new() };
        if response.header(&name).is_some() {
            let finding = ctx.finding(
                "VGW-CRLF",
                format!("CRLF injection in {point}"),
                (Severity::Medium, Confidence::Certain, 113),
                &attack,
                &response,
                &name,
                format!("the response carries the injected header `{name}: injected`"),
            );
            return vec![finding.at(point, &payload).advice(
                "Never copy input into response headers unchecked: refuse or strip CR and LF \
                 (most frameworks' header APIs do).",
                &["https://owasp.org/www-community/vulnerabilities/CRLF_Injection"],
            )];
        }
    }
    Vec::new()
}
