//! What the scanner reads in HTML, with a real HTML5 parser (html5ever via
//! `scraper`), so it sees a page as a browser does: where a reflected
//! marker landed ([`contexts`]), whether a payload became script a browser
//! would run ([`executes`]), and the links, forms and script URLs a page
//! offers ([`Page`]).

use scraper::{ElementRef, Html, Node};
use url::Url;

use crate::request::{Body, Request};

/// Where a reflected marker landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Context {
    /// Text of an element (`parent` is its name; `title`/`textarea` text is not parsed as tags).
    Text {
        /// The element holding the text.
        parent: String,
    },
    /// The value of an ordinary attribute.
    Attribute {
        /// The attribute's name.
        name: String,
    },
    /// The value of a URL attribute (`href`, `src`, `action`), at its start.
    Url {
        /// The attribute's name.
        name: String,
    },
    /// The value of an event handler attribute (`onclick`): script.
    Handler {
        /// The attribute's name.
        name: String,
    },
    /// Inside a `<script>` element.
    Script,
    /// Inside an HTML comment.
    Comment,
}

impl Context {
    /// The context's name in findings.
    pub fn name(&self) -> String {
        match self {
            Context::Text { parent } => format!("HTML text in <{parent}>"),
            Context::Attribute { name } => format!("attribute {name}"),
            Context::Url { name } => format!("URL attribute {name}"),
            Context::Handler { name } => format!("event handler {name}"),
            Context::Script => "script".into(),
            Context::Comment => "HTML comment".into(),
        }
    }
}

const URL_ATTRIBUTES: &[&str] = &["href", "src", "action", "formaction", "data", "xlink:href", "poster"];

/// The places `marker` appears in `body`, as the parser sees them.
pub fn contexts(body: &str, marker: &str) -> Vec<Context> {
    let doc = Html::parse_document(body);
    let mut out: Vec<Context> = Vec::new();
    let mut add = |c: Context| {
        if !out.contains(&c) {
            out.push(c);
        }
    };
    for node in doc.tree.nodes() {
        match node.value() {
            Node::Text(text) if text.contains(marker) => {
                let parent = node.parent().and_then(|p| p.value().as_element().map(|e| e.name().to_string()));
                match parent.as_deref() {
                    Some("script") => add(Context::Script),
                    Some("style") | None => {}
                    Some(p) => add(Context::Text { parent: p.to_string() }),
                }
            }
            Node::Comment(comment) if comment.contains(marker) => add(Context::Comment),
            Node::Element(element) => {
                for (name, value) in element.attrs() {
                    if !value.contains(marker) {
                        continue;
                    }
                    let name = name.to_ascii_lowercase();
                    if name.starts_with("on") {
                        add(Context::Handler { name });
                    } else if URL_ATTRIBUTES.contains(&name.as_str()) && value.trim_start().starts_with(marker) {
                        add(Context::Url { name });
                    } else {
                        add(Context::Attribute { name });
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Where `call` runs as script in `body`, if it does: in an event handler, a
/// `javascript:` URL or a script element, outside strings and comments.
pub fn executes(body: &str, call: &str) -> Option<String> {
    let doc = Html::parse_document(body);
    for node in doc.tree.nodes() {
        let Some(element) = ElementRef::wrap(node) else { continue };
        let e = element.value();
        for (name, value) in e.attrs() {
            let name = name.to_ascii_lowercase();
            if name.starts_with("on") && runs(value, call) {
                return Some(format!("<{} {name}=\"{value}\">", e.name()));
            }
            if URL_ATTRIBUTES.contains(&name.as_str()) {
                let v = value.trim_start_matches(|c: char| c.is_ascii_whitespace() || c.is_control());
                if let Some(colon) = v.find(':') {
                    let scheme: String = v[..colon].chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
                    if scheme.eq_ignore_ascii_case("javascript") && runs(&v[colon + 1..], call) {
                        return Some(format!("<{} {name}=\"{value}\">", e.name()));
                    }
                }
            }
        }
        if e.name() == "script" && e.attr("src").is_none() && is_script_type(e.attr("type")) {
            let text: String = element.text().collect();
            if runs(&text, call) {
                return Some(format!("<script>{}</script>", crate::finding::around(&text, call, 120)));
            }
        }
    }
    None
}

fn is_script_type(t: Option<&str>) -> bool {
    match t.map(|t| t.trim().to_ascii_lowercase()) {
        None => true,
        Some(t) => t.is_empty() || t == "module" || t.contains("javascript") || t.contains("ecmascript"),
    }
}

/// Whether `call` appears in script `code` outside strings, template literals and comments.
pub fn runs(code: &str, call: &str) -> bool {
    #[derive(PartialEq, Clone, Copy)]
    enum State {
        Code,
        Str(u8),
        Line,
        Block,
    }
    let bytes = code.as_bytes();
    let mut state = State::Code;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match state {
            State::Code => {
                if code[i..].starts_with(call) {
                    return true;
                }
                match b {
                    b'\'' | b'"' | b'`' => state = State::Str(b),
                    b'/' if bytes.get(i + 1) == Some(&b'/') => state = State::Line,
                    b'/' if bytes.get(i + 1) == Some(&b'*') => {
                        state = State::Block;
                        i += 1;
                    }
                    b'<' if code[i..].starts_with("<!--") => state = State::Line,
                    _ => {}
                }
            }
            State::Str(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q || (b == b'\n' && q != b'`') {
                    state = State::Code;
                }
            }
            State::Line => {
                if b == b'\n' {
                    state = State::Code;
                }
            }
            State::Block => {
                if b == b'*' && bytes.get(i + 1) == Some(&b'/') {
                    state = State::Code;
                    i += 1;
                }
            }
        }
        i += 1;
    }
    false
}

/// What a page offers the crawler.
#[derive(Debug, Default)]
pub struct Page {
    /// Links (`a`, `area`, `link`, frames, script sources, ...), resolved.
    pub links: Vec<Url>,
    /// Form submissions, seeded with plausible values.
    pub forms: Vec<Request>,
    /// Inline script text, for URLs in scripts.
    pub scripts: Vec<String>,
}

/// Reads links, forms and scripts from the HTML page at `base`.
pub fn page(base: &Url, body: &str) -> Page {
    let doc = Html::parse_document(body);
    let base = doc
        .tree
        .nodes()
        .filter_map(ElementRef::wrap)
        .find(|e| e.value().name() == "base")
        .and_then(|e| e.value().attr("href"))
        .and_then(|h| base.join(h).ok())
        .unwrap_or_else(|| base.clone());
    let mut out = Page::default();
    for element in doc.tree.nodes().filter_map(ElementRef::wrap) {
        let e = element.value();
        let attr = match e.name() {
            "a" | "area" | "link" => "href",
            "frame" | "iframe" | "script" | "img" | "embed" => "src",
            "form" => {
                out.forms.extend(form(&base, element));
                continue;
            }
            _ => continue,
        };
        if e.name() == "script" {
            let text: String = element.text().collect();
            if !text.trim().is_empty() {
                out.scripts.push(text);
            }
        }
        if let Some(url) = e.attr(attr).and_then(|h| base.join(h.trim()).ok()) {
            out.links.push(url);
        }
    }
    out
}

/// A form's submission with every field filled.
fn form(base: &Url, form: ElementRef<'_>) -> Option<Request> {
    let f = form.value();
    let action = f.attr("action").map(str::trim).filter(|a| !a.is_empty()).unwrap_or("");
    let url = base.join(action).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let method = f.attr("method").unwrap_or("get").trim().to_ascii_uppercase();
    let mut fields: Vec<(String, String)> = Vec::new();
    for element in form.descendent_elements() {
        let e = element.value();
        let Some(name) = e.attr("name").filter(|n| !n.is_empty()) else { continue };
        let value = match e.name() {
            "input" => {
                let kind = e.attr("type").unwrap_or("text").to_ascii_lowercase();
                match kind.as_str() {
                    "file" | "image" | "reset" | "button" => continue,
                    "radio" | "checkbox" if fields.iter().any(|(n, _)| n == name) => continue,
                    "radio" | "checkbox" => e.attr("value").unwrap_or("on").to_string(),
                    _ => match e.attr("value").filter(|v| !v.is_empty()) {
                        Some(v) => v.to_string(),
                        None => seed(&kind, name),
                    },
                }
            }
            "select" => {
                let options: Vec<ElementRef<'_>> =
                    element.descendent_elements().filter(|o| o.value().name() == "option").collect();
                let chosen = options.iter().find(|o| o.value().attr("selected").is_some()).or(options.first());
                match chosen {
                    Some(o) => o.value().attr("value").map(str::to_string).unwrap_or_else(|| o.text().collect()),
                    None => continue,
                }
            }
            "textarea" => {
                let text: String = element.text().collect();
                if text.is_empty() { seed("text", name) } else { text }
            }
            "button" if e.attr("type").is_none_or(|t| t.eq_ignore_ascii_case("submit")) => {
                e.attr("value").unwrap_or_default().to_string()
            }
            _ => continue,
        };
        fields.push((name.to_string(), value));
    }
    if method == "POST" {
        Some(Request { method, body: Body::Form(fields), ..Request::get(url) })
    } else {
        let mut url = url;
        url.set_query(None);
        if !fields.is_empty() {
            url.query_pairs_mut().extend_pairs(&fields);
        }
        Some(Request::get(url))
    }
}

/// A plausible value for an empty field of type `kind` named `name`.
fn seed(kind: &str, name: &str) -> String {
    let name = name.to_ascii_lowercase();
    let value = match kind {
        "email" => "vigil@example.com",
        "number" | "range" => "1",
        "password" => "Vigil-Pass-1",
        "url" => "http://127.0.0.1/",
        "tel" => "5550100",
        "date" => "2024-01-01",
        "datetime-local" => "2024-01-01T12:00",
        "time" => "12:00",
        "month" => "2024-01",
        "week" => "2024-W01",
        "color" => "#336699",
        _ if name.contains("mail") => "vigil@example.com",
        _ if name.contains("phone") || name.contains("tel") => "5550100",
        _ if ["id", "qty", "quantity", "age", "count", "page", "num"].iter().any(|n| name.contains(n)) => "1",
        _ if name.contains("url") || name.contains("site") => "http://127.0.0.1/",
        _ => "vigil",
    };
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_are_where_the_parser_puts_the_marker() {
        let m = "vgl123";
        let body = format!(
            "<html><head><title>{m}</title></head><body><p>{m}</p><input value='{m}'><a href='{m}/x'>a</a>\
             <div onclick=\"f('{m}')\"></div><script>var a = '{m}';</script><!-- {m} --><style>.{m}{{}}</style></body></html>"
        );
        let found = contexts(&body, m);
        assert_eq!(
            found,
            vec![
                Context::Text { parent: "title".into() },
                Context::Text { parent: "p".into() },
                Context::Attribute { name: "value".into() },
                Context::Url { name: "href".into() },
                Context::Handler { name: "onclick".into() },
                Context::Script,
                Context::Comment,
            ]
        );
    }

    #[test]
    fn only_script_that_runs_counts() {
        let call = "vgl1(1)";
        assert!(executes("<p><svg onload=vgl1(1)></p>", call).is_some());
        assert!(executes("<a href=' JaVaScRiPt:vgl1(1)'>x</a>", call).is_some());
        assert!(executes("<script>var q = '';vgl1(1);//';</script>", call).is_some());
        assert!(executes("<div onclick=\"x('&#39;);vgl1(1);//')\">", call).is_some());
        // Escaped, inside a string, a comment, RCDATA or a non-script type: nothing runs.
        assert!(executes("<p>&lt;svg onload=vgl1(1)&gt;</p>", call).is_none());
        assert!(executes("<script>var q = \"';vgl1(1);//\";</script>", call).is_none());
        assert!(executes("<script>// vgl1(1)\n/* vgl1(1) */ var a = `vgl1(1)`;</script>", call).is_none());
        assert!(executes("<title><svg onload=vgl1(1)></title>", call).is_none());
        assert!(executes("<textarea><svg onload=vgl1(1)></textarea>", call).is_none());
        assert!(executes("<!-- <svg onload=vgl1(1)> -->", call).is_none());
        assert!(executes("<script type='text/template'>vgl1(1)</script>", call).is_none());
        assert!(executes("<input value=\"&quot;><svg onload=vgl1(1)>\">", call).is_none());
    }

    #[test]
    fn forms_are_filled_like_a_user_would() {
        let base = Url::parse("http://127.0.0.1:1/shop/").unwrap();
        let page = page(
            &base,
            "<a href='/a?x=1'>a</a><a href='javascript:void(0)'>j</a><script src=app.js></script>\
             <form method=post action=order><select name=item><option value=a>A<option value=b selected>B</select>\
             <input type=number name=qty><input type=email name=contact><input type=hidden name=t value=tok>\
             <input type=checkbox name=c value=yes><input type=file name=f><textarea name=note></textarea>\
             <input type=submit name=go value=Go></form><form action='/find'><input name=q></form>",
        );
        let links: Vec<&str> = page.links.iter().map(Url::as_str).collect();
        assert_eq!(links, ["http://127.0.0.1:1/a?x=1", "javascript:void(0)", "http://127.0.0.1:1/shop/app.js"]);
        assert_eq!(page.forms[0].method, "POST");
        assert_eq!(page.forms[0].url.as_str(), "http://127.0.0.1:1/shop/order");
        let Body::Form(fields) = &page.forms[0].body else { panic!("a form body") };
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            fields,
            [
                ("item", "b"),
                ("qty", "1"),
                ("contact", "vigil@example.com"),
                ("t", "tok"),
                ("c", "yes"),
                ("note", "vigil"),
                ("go", "Go")
            ]
        );
        assert_eq!(page.forms[1].url.as_str(), "http://127.0.0.1:1/find?q=vigil");
    }
}
