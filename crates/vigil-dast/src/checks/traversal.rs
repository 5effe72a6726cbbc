//! Path traversal and file inclusion: paths that climb out of the
//! application's directory to a file every Unix host has (`/etc/passwd`)
//! or Windows' `win.ini`; proven when the file's content appears and was
//! not there before.

use std::sync::LazyLock;

use regex::Regex;

use super::{Check, Ctx, Run, Strength, Target};
use crate::finding::{Confidence, Finding, Severity};
use crate::request::Point;

/// The check.
pub const CHECK: Check = Check {
    id: "traversal",
    name: "path traversal and file inclusion",
    rules: &["VGW-PATH-TRAVERSAL"],
    default: true,
    run: Run::Point(run),
};

static FILE_CONTENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)root:[x*!]?:0:0:|^\[fonts\]\r?$|; for 16-bit app support").expect("valid pattern")
});

fn run(ctx: &Ctx<'_>, target: &Target, point: &Point) -> Vec<Finding> {
    if FILE_CONTENT.is_match(&target.response.body) {
        return Vec::new();
    }
    let up = "../".repeat(10);
    let mut payloads = vec![format!("{up}etc/passwd"), "/etc/passwd".to_string()];
    if ctx.strength >= Strength::Medium {
        payloads.extend([
            format!("{}etc/passwd", "....//".repeat(10)),
            format!("{}etc/passwd%00", up),
            format!("{}windows\\win.ini", "..\\".repeat(10)),
            "file:///etc/passwd".to_string(),
        ]);
    }
    for payload in payloads {
        let attack = target.request.with(point, &payload);
        let Some(response) = ctx.send(&attack) else { return Vec::new() };
        if let Some(m) = FILE_CONTENT.find(&response.body) {
            let needle = m.as_str().to_string();
            let finding = ctx.finding(
                "VGW-PATH-TRAVERSAL",
                format!("Path traversal in {point}"),
                (Severity::High, Confidence::Certain, 22),
                &attack,
                &response,
                &needle,
                format!("the response holds a system file's content: {needle}"),
            );
            return vec![finding.at(point, &payload).advice(
                "Map input to files through an allow-list or an id; otherwise resolve the path and refuse it \
                 unless it stays inside the intended directory.",
                &["https://owasp.org/www-community/attacks/Path_Traversal"],
            )];
        }
    }
    Vec::new()
}
