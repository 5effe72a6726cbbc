//! OS command injection: shell separators followed by an `echo` of a
//! marker and an arithmetic expansion (`$((37*41))`); proven when the
//! marker comes back followed by the result (1517), which only a shell
//! that ran the command could have written.

use super::{Check, Ctx, Run, Strength, Target, marker};
use crate::finding::{Confidence, Finding, Severity};
use crate::request::Point;

/// The check.
pub const CHECK: Check = Check {
    id: "cmdi",
    name: "OS command injection",
    rules: &["VGW-COMMAND-INJECTION"],
    default: true,
    run: Run::Point(run),
};

fn run(ctx: &Ctx<'_>, target: &Target, point: &Point) -> Vec<Finding> {
    let original = target.request.value(point).unwrap_or_default();
    let m = marker();
    let proof = format!("{m}1517");
    let command = format!("echo {m}$((37*41))");
    let mut payloads =
        vec![format!("{original};{command}"), format!("{original}|{command}"), format!("{original}$({command})")];
    if ctx.strength >= Strength::Medium {
        payloads.extend([
            format!("{original}&&{command}"),
            format!("{original}`{command}`"),
            format!("{original}\n{command}"),
            format!("{original}';{command};'"),
            format!("{original}\";{command};\""),
        ]);
    }
    for payload in payloads {
        let attack = target.request.with(point, &payload);
        let Some(response) = ctx.send(&attack) else { return Vec::new() };
        if response.body.contains(&proof) {
            let finding = ctx.finding(
                "VGW-COMMAND-INJECTION",
                format!("OS command injection in {point}"),
                (Severity::Critical, Confidence::Certain, 78),
                &attack,
                &response,
                &proof,
                format!("a shell ran the injected command: its output {proof} is in the response"),
            );
            return vec![finding.at(point, &payload).advice(
                "Do not run commands through a shell with input in them; pass arguments as a list to the \
                 program, or use a library instead of a command.",
                &["https://owasp.org/www-community/attacks/Command_Injection"],
            )];
        }
    }
    Vec::new()
}
