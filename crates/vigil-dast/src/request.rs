//! Requests as the scanner builds them, the places in them a check may put
//! a payload ([`Point`]), the key that makes equivalent requests one, and
//! the `curl` command that replays a request.

use serde::Serialize;
use url::Url;

/// The body of a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Body {
    /// No body.
    None,
    /// `application/x-www-form-urlencoded` fields, in order.
    Form(Vec<(String, String)>),
    /// A JSON document.
    Json(serde_json::Value),
}

/// One request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The URL, query included.
    pub url: Url,
    /// Headers of this request (besides the session's and the scan's own).
    pub headers: Vec<(String, String)>,
    /// Cookies of this request, sent instead of the session's cookies of the same name.
    pub cookies: Vec<(String, String)>,
    /// The body.
    pub body: Body,
    /// Further places to test that only a contract names (path segments, headers).
    pub marked: Vec<Point>,
}

/// A place in a request where a check puts its payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "in", content = "name", rename_all = "lowercase")]
pub enum Point {
    /// A query string parameter.
    Query(String),
    /// A form field of the body.
    Form(String),
    /// A string or number in the JSON body, by its path of keys (array items as indexes).
    Json(Vec<String>),
    /// A cookie.
    Cookie(String),
    /// A request header.
    Header(String),
    /// A segment of the path, by its index (0 is the first after the leading `/`).
    Path(usize),
}

impl std::fmt::Display for Point {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Point::Query(name) => write!(f, "query parameter {name}"),
            Point::Form(name) => write!(f, "form field {name}"),
            Point::Json(path) => write!(f, "JSON field {}", path.join(".")),
            Point::Cookie(name) => write!(f, "cookie {name}"),
            Point::Header(name) => write!(f, "header {name}"),
            Point::Path(i) => write!(f, "path segment {}", i + 1),
        }
    }
}

impl Point {
    /// A short stable name: `query:q`, `form:item`, `json:user.name`, `cookie:theme`.
    pub fn key(&self) -> String {
        match self {
            Point::Query(name) => format!("query:{name}"),
            Point::Form(name) => format!("form:{name}"),
            Point::Json(path) => format!("json:{}", path.join(".")),
            Point::Cookie(name) => format!("cookie:{name}"),
            Point::Header(name) => format!("header:{name}"),
            Point::Path(i) => format!("path:{i}"),
        }
    }
}

impl Request {
    /// A GET of `url`.
    pub fn get(url: Url) -> Request {
        Request {
            method: "GET".into(),
            url,
            headers: Vec::new(),
            cookies: Vec::new(),
            body: Body::None,
            marked: Vec::new(),
        }
    }

    /// The places a payload may go: query parameters, form fields, JSON leaves, this
    /// request's own cookies, and path segments it was told about.
    pub fn points(&self) -> Vec<Point> {
        let mut points: Vec<Point> = Vec::new();
        for (name, _) in self.url.query_pairs() {
            let point = Point::Query(name.into_owned());
            if !points.contains(&point) {
                points.push(point);
            }
        }
        match &self.body {
            Body::None => {}
            Body::Form(fields) => {
                for (name, _) in fields {
                    let point = Point::Form(name.clone());
                    if !points.contains(&point) {
                        points.push(point);
                    }
                }
            }
            Body::Json(value) => json_leaves(value, &mut Vec::new(), &mut points),
        }
        points.extend(self.cookies.iter().map(|(name, _)| Point::Cookie(name.clone())));
        points.extend(self.marked.iter().filter(|p| !matches!(p, Point::Cookie(_))).cloned());
        points
    }

    /// The value now at `point`.
    pub fn value(&self, point: &Point) -> Option<String> {
        match point {
            Point::Query(name) => self.url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()),
            Point::Form(name) => match &self.body {
                Body::Form(fields) => fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
                _ => None,
            },
            Point::Json(path) => match &self.body {
                Body::Json(value) => json_at(value, path).map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                }),
                _ => None,
            },
            Point::Cookie(name) => self.cookies.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            Point::Header(name) => {
                self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
            }
            Point::Path(i) => self.url.path_segments().and_then(|mut s| s.nth(*i)).map(decode),
        }
    }

    /// This request with `value` at `point`.
    pub fn with(&self, point: &Point, value: &str) -> Request {
        let mut out = self.clone();
        match point {
            Point::Query(name) => {
                let pairs: Vec<(String, String)> = self
                    .url
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if k == name.as_str() { value.to_string() } else { v.into_owned() };
                        (k.into_owned(), v)
                    })
                    .collect();
                out.url.query_pairs_mut().clear().extend_pairs(pairs);
            }
            Point::Form(name) => {
                if let Body::Form(fields) = &mut out.body {
                    for (k, v) in fields.iter_mut() {
                        if k == name {
                            *v = value.to_string();
                        }
                    }
                }
            }
            Point::Json(path) => {
                if let Body::Json(doc) = &mut out.body
                    && let Some(slot) = json_at_mut(doc, path)
                {
                    *slot = serde_json::Value::String(value.to_string());
                }
            }
            Point::Cookie(name) => set(&mut out.cookies, name, value, false),
            Point::Header(name) => set(&mut out.headers, name, value, true),
            Point::Path(i) => {
                if let Ok(mut segments) = out.url.path_segments_mut() {
                    let old: Vec<String> = self.url.path_segments().into_iter().flatten().map(str::to_string).collect();
                    segments.clear();
                    for (n, s) in old.iter().enumerate() {
                        if n == *i {
                            segments.push(value);
                        } else {
                            segments.push(&decode(s));
                        }
                    }
                }
            }
        }
        out
    }

    /// What makes two requests the same for the crawler: method, origin, path, the names
    /// (not values) of query parameters and body fields, and the places a contract marked.
    pub fn key(&self) -> String {
        let mut names: Vec<String> = self.url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        names.sort();
        names.dedup();
        let body = match &self.body {
            Body::None => String::new(),
            Body::Form(fields) => {
                let mut f: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
                f.sort();
                format!("form:{}", f.join(","))
            }
            Body::Json(value) => {
                let mut p = Vec::new();
                json_leaves(value, &mut Vec::new(), &mut p);
                format!("json:{}", p.iter().map(Point::key).collect::<Vec<_>>().join(","))
            }
        };
        let marked: Vec<String> = self.marked.iter().map(Point::key).collect();
        format!(
            "{} {}{} ?{} {body} {}",
            self.method,
            self.url.origin().ascii_serialization(),
            self.url.path(),
            names.join(","),
            marked.join(",")
        )
    }

    /// The method and URL without the query, as findings name their location.
    pub fn location(&self) -> String {
        let mut url = self.url.clone();
        url.set_query(None);
        url.set_fragment(None);
        format!("{} {url}", self.method)
    }

    /// The body as bytes and its content type.
    pub fn encoded_body(&self) -> Option<(Vec<u8>, &'static str)> {
        match &self.body {
            Body::None => None,
            Body::Form(fields) => Some((
                url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish().into_bytes(),
                "application/x-www-form-urlencoded",
            )),
            Body::Json(value) => Some((value.to_string().into_bytes(), "application/json")),
        }
    }

    /// A `curl` command that sends this request again, with `cookies` (the session's and this request's).
    pub fn curl(&self, cookies: &[(String, String)]) -> String {
        let mut cmd = String::from("curl -i");
        if self.method != "GET" {
            cmd.push_str(&format!(" -X {}", self.method));
        }
        for (k, v) in &self.headers {
            cmd.push_str(&format!(" -H {}", shell(&format!("{k}: {v}"))));
        }
        if !cookies.is_empty() {
            let jar: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            cmd.push_str(&format!(" -b {}", shell(&jar.join("; "))));
        }
        if let Some((body, kind)) = self.encoded_body() {
            cmd.push_str(&format!(" -H {}", shell(&format!("Content-Type: {kind}"))));
            cmd.push_str(&format!(" --data-binary {}", shell(&String::from_utf8_lossy(&body))));
        }
        cmd.push(' ');
        cmd.push_str(&shell(self.url.as_str()));
        cmd
    }
}

fn decode(segment: &str) -> String {
    percent_decode(segment)
}

/// Percent-decodes `s` (invalid UTF-8 replaced).
pub fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn set(list: &mut Vec<(String, String)>, name: &str, value: &str, ignore_case: bool) {
    let same = |k: &String| if ignore_case { k.eq_ignore_ascii_case(name) } else { k == name };
    match list.iter_mut().find(|(k, _)| same(k)) {
        Some((_, v)) => *v = value.to_string(),
        None => list.push((name.to_string(), value.to_string())),
    }
}

/// Single-quotes `s` for a POSIX shell.
fn shell(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn json_leaves(value: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<Point>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                path.push(k.clone());
                json_leaves(v, path, out);
                path.pop();
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate().take(4) {
                path.push(i.to_string());
                json_leaves(v, path, out);
                path.pop();
            }
        }
        serde_json::Value::String(_) | serde_json::Value::Number(_) => out.push(Point::Json(path.clone())),
        _ => {}
    }
}

fn json_at<'a>(value: &'a serde_json::Value, path: &[String]) -> Option<&'a serde_json::Value> {
    path.iter().try_fold(value, |v, k| match v {
        serde_json::Value::Object(map) => map.get(k),
        serde_json::Value::Array(items) => items.get(k.parse::<usize>().ok()?),
        _ => None,
    })
}

fn json_at_mut<'a>(value: &'a mut serde_json::Value, path: &[String]) -> Option<&'a mut serde_json::Value> {
    path.iter().try_fold(value, |v, k| match v {
        serde_json::Value::Object(map) => map.get_mut(k),
        serde_json::Value::Array(items) => items.get_mut(k.parse::<usize>().ok()?),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_replaced_where_they_are() {
        let mut r = Request::get(Url::parse("http://127.0.0.1:1/a/b?x=1&y=two").unwrap());
        r.body = Body::Json(serde_json::json!({"user": {"name": "al", "age": 3}, "tags": ["t"]}));
        r.method = "POST".into();
        let keys: Vec<String> = r.points().iter().map(Point::key).collect();
        assert_eq!(keys, ["query:x", "query:y", "json:tags.0", "json:user.age", "json:user.name"]);
        let changed = r.with(&Point::Query("y".into()), "a b'&c");
        assert_eq!(changed.value(&Point::Query("y".into())).unwrap(), "a b'&c");
        assert_eq!(changed.value(&Point::Query("x".into())).unwrap(), "1");
        let changed = r.with(&Point::Json(vec!["user".into(), "age".into()]), "3 AND 1=1");
        assert_eq!(changed.value(&Point::Json(vec!["user".into(), "age".into()])).unwrap(), "3 AND 1=1");
        let changed = r.with(&Point::Path(1), "x/../y");
        assert_eq!(changed.url.path(), "/a/x%2F..%2Fy");
        assert_eq!(changed.value(&Point::Path(1)).unwrap(), "x/../y");
        assert_eq!(r.key(), r.with(&Point::Query("x".into()), "9").key());
        assert_eq!(r.location(), "POST http://127.0.0.1:1/a/b");
    }

    #[test]
    fn curl_quotes_for_the_shell() {
        let r = Request::get(Url::parse("http://127.0.0.1:1/?q=it's").unwrap());
        assert_eq!(r.curl(&[("sid".into(), "a".into())]), r"curl -i -b 'sid=a' 'http://127.0.0.1:1/?q=it%27s'");
    }
}
