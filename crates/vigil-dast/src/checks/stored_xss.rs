//! Stored cross-site scripting: every field of every request that changes
//! state (forms posted, JSON sent) gets a payload calling a marker function
//! of its own; then every page in scope is fetched again, and a page where
//! one of those calls runs as script (see [`crate::html::executes`]) proves
//! the field it came from.

use super::{Check, Ctx, Run, Target, marker};
use crate::finding::{Confidence, Finding, Severity};
use crate::html::executes;

/// The check.
pub const CHECK: Check = Check {
    id: "stored-xss",
    name: "stored cross-site scripting",
    rules: &["VGW-XSS-STORED"],
    default: true,
    run: Run::Site(run),
};

fn run(ctx: &Ctx<'_>, targets: &[Target]) -> Vec<Finding> {
    let mut planted = Vec::new();
    for target in targets.iter().filter(|t| t.request.method != "GET") {
        for point in target.request.points() {
            let call = format!("{}(1)", marker());
            let payload = format!("'\"><svg onload={call}>");
            let attack = target.request.with(&point, &payload);
            if ctx.send(&attack).is_some() {
                planted.push((call, point, payload, attack));
            }
        }
    }
    let mut out: Vec<Finding> = Vec::new();
    if planted.is_empty() {
        return out;
    }
    for page in targets.iter().filter(|t| t.request.method == "GET") {
        let Some(response) = ctx.send(&page.request) else { break };
        if !response.is_html() {
            continue;
        }
        for (call, point, payload, attack) in &planted {
            if out.iter().any(|f| f.payload.as_deref() == Some(payload.as_str())) {
                continue;
            }
            if let Some(proof) = executes(&response.body, call) {
                let finding = ctx.finding(
                    "VGW-XSS-STORED",
                    format!("Stored cross-site scripting through {point}"),
                    (Severity::High, Confidence::Certain, 79),
                    attack,
                    &response,
                    call,
                    format!(
                        "the payload sent to {} is kept and runs as script on {}: {proof}",
                        attack.location(),
                        page.request.url
                    ),
                );
                out.push(finding.at(point, payload).advice(
                    "Encode stored data for the context it is written into when pages show it (template \
                     auto-escaping), and set a Content-Security-Policy without 'unsafe-inline'.",
                    &["https://owasp.org/www-community/attacks/xss/#stored-xss-attacks"],
                ));
            }
        }
    }
    out
}
