//! API contracts as crawl seeds: an OpenAPI 3 or Swagger 2 document (JSON
//! or YAML) becomes one request per operation, with path, query, header and
//! cookie parameters filled from their examples, defaults, enums or types,
//! and JSON or form bodies built from their schemas (`$ref`s resolved, to a
//! depth). Path parameters and headers the contract names become places to
//! test. DELETE operations are left out: a scan should not destroy what it
//! tests.

use serde_json::{Map, Value, json};
use url::Url;

use crate::Error;
use crate::request::{Body, Point, Request};

/// Methods imported.
const METHODS: &[&str] = &["get", "post", "put", "patch"];

/// The requests of the contract `text`, read from `source` (its URL, for relative server URLs).
pub fn requests(text: &str, source: &Url) -> Result<Vec<Request>, Error> {
    let doc: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => {
            serde_saphyr::from_str(text).map_err(|e| Error::Options(format!("{source}: neither JSON nor YAML: {e}")))?
        }
    };
    let swagger2 = doc.get("swagger").and_then(Value::as_str).is_some_and(|v| v.starts_with('2'));
    if !swagger2 && !doc.get("openapi").and_then(Value::as_str).is_some_and(|v| v.starts_with('3')) {
        return Err(Error::Options(format!(
            "{source}: not an OpenAPI 3 or Swagger 2 document (no `openapi: 3.x` or `swagger: 2.0`)"
        )));
    }
    let base = base_url(&doc, source, swagger2)?;
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else { return Ok(out) };
    for (path, item) in paths.iter().take(5000) {
        let item = resolve(&doc, item);
        let shared: Vec<Value> = item.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
        for method in METHODS {
            let Some(op) = item.get(*method).map(|o| resolve(&doc, o)) else { continue };
            let mut params = shared.clone();
            params.extend(op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default());
            if let Some(request) = operation(&doc, &base, path, method, &params, &op, swagger2) {
                out.push(request);
            }
        }
    }
    Ok(out)
}

fn base_url(doc: &Value, source: &Url, swagger2: bool) -> Result<Url, Error> {
    let raw = if swagger2 {
        let host = doc.get("host").and_then(Value::as_str).map(str::to_string);
        let base = doc.get("basePath").and_then(Value::as_str).unwrap_or("/");
        match host {
            Some(h) => format!("{}://{h}{base}", source.scheme()),
            None => base.to_string(),
        }
    } else {
        let server = doc.pointer("/servers/0");
        let mut url = server.and_then(|s| s.get("url")).and_then(Value::as_str).unwrap_or("/").to_string();
        for (name, var) in server.and_then(|s| s.get("variables")).and_then(Value::as_object).into_iter().flatten() {
            let default = var.get("default").and_then(Value::as_str).unwrap_or_default();
            url = url.replace(&format!("{{{name}}}"), default);
        }
        url
    };
    let mut base = source.join(&raw).map_err(|e| Error::Options(format!("{source}: server URL {raw}: {e}")))?;
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    Ok(base)
}

/// `value`, or what its `$ref` points to (local references only).
fn resolve(doc: &Value, value: &Value) -> Value {
    let mut current = value.clone();
    for _ in 0..8 {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else { break };
        let Some(pointer) = reference.strip_prefix('#') else { break };
        match doc.pointer(pointer) {
            Some(v) => current = v.clone(),
            None => break,
        }
    }
    current
}

fn operation(
    doc: &Value,
    base: &Url,
    path: &str,
    method: &str,
    params: &[Value],
    op: &Value,
    swagger2: bool,
) -> Option<Request> {
    let mut filled_path = path.trim_start_matches('/').to_string();
    let mut query: Vec<(String, String)> = Vec::new();
    let mut request = Request::get(base.clone());
    request.method = method.to_ascii_uppercase();
    let mut path_params = Vec::new();
    for p in params {
        let p = resolve(doc, p);
        let Some(name) = p.get("name").and_then(Value::as_str) else { continue };
        let schema = p.get("schema").map(|s| resolve(doc, s)).unwrap_or_else(|| p.clone());
        let value = p.get("example").cloned().unwrap_or_else(|| sample(doc, &schema, 0));
        let text = match &value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match p.get("in").and_then(Value::as_str) {
            Some("path") => {
                filled_path = filled_path.replace(&format!("{{{name}}}"), &text);
                path_params.push(name.to_string());
            }
            Some("query") => query.push((name.to_string(), text)),
            Some("header") => {
                request.headers.push((name.to_string(), text));
                request.marked.push(Point::Header(name.to_string()));
            }
            Some("cookie") => request.cookies.push((name.to_string(), text)),
            Some("body") if swagger2 => request.body = Body::Json(sample(doc, &schema, 0)),
            Some("formData") if swagger2 => match &mut request.body {
                Body::Form(fields) => fields.push((name.to_string(), text)),
                _ => request.body = Body::Form(vec![(name.to_string(), text)]),
            },
            _ => {}
        }
    }
    // Segments that held a parameter are places to test.
    let template: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let prefix = base.path_segments().map(|s| s.filter(|x| !x.is_empty()).count()).unwrap_or(0);
    for (i, segment) in template.iter().enumerate() {
        if path_params.iter().any(|p| segment.contains(&format!("{{{p}}}"))) {
            request.marked.push(Point::Path(prefix + i));
        }
    }
    request.url = base.join(&filled_path).ok()?;
    if !query.is_empty() {
        request.url.query_pairs_mut().extend_pairs(&query);
    }
    if !swagger2 && let Some(content) = op.pointer("/requestBody").map(|b| resolve(doc, b)) {
        let content = content.get("content").cloned().unwrap_or(Value::Null);
        if let Some(json) = content.get("application/json") {
            let example = json.get("example").cloned();
            let schema = json.get("schema").map(|s| resolve(doc, s)).unwrap_or(Value::Null);
            request.body = Body::Json(example.unwrap_or_else(|| sample(doc, &schema, 0)));
        } else if let Some(form) = content.get("application/x-www-form-urlencoded") {
            let schema = form.get("schema").map(|s| resolve(doc, s)).unwrap_or(Value::Null);
            if let Value::Object(fields) = sample(doc, &schema, 0) {
                request.body = Body::Form(
                    fields
                        .into_iter()
                        .map(|(k, v)| (k, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
                        .collect(),
                );
            }
        }
    }
    Some(request)
}

/// A value a schema accepts: its example, default or first enum value, else one made from its type.
fn sample(doc: &Value, schema: &Value, depth: usize) -> Value {
    let schema = resolve(doc, schema);
    if depth > 6 {
        return Value::Null;
    }
    for key in ["example", "default"] {
        if let Some(v) = schema.get(key) {
            return v.clone();
        }
    }
    if let Some(first) = schema.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
        return first.clone();
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in all {
            if let Value::Object(m) = sample(doc, part, depth + 1) {
                merged.extend(m);
            }
        }
        return Value::Object(merged);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = schema.get(key).and_then(Value::as_array).and_then(|a| a.first()) {
            return sample(doc, first, depth + 1);
        }
    }
    let kind = match schema.get("type") {
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("string"),
        Some(Value::String(t)) => t.as_str(),
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    };
    match kind {
        "object" => {
            let mut out = Map::new();
            for (name, prop) in schema.get("properties").and_then(Value::as_object).into_iter().flatten().take(100) {
                out.insert(name.clone(), sample(doc, prop, depth + 1));
            }
            Value::Object(out)
        }
        "array" => json!([sample(doc, schema.get("items").unwrap_or(&Value::Null), depth + 1)]),
        "integer" => json!(1),
        "number" => json!(1.5),
        "boolean" => json!(true),
        _ => match schema.get("format").and_then(Value::as_str) {
            Some("email") => json!("vigil@example.com"),
            Some("date") => json!("2024-01-01"),
            Some("date-time") => json!("2024-01-01T12:00:00Z"),
            Some("uuid") => json!("00000000-0000-4000-8000-000000000000"),
            Some("uri" | "url") => json!("http://127.0.0.1/"),
            _ => json!("vigil"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_become_requests_with_their_places_to_test() {
        let doc = r##"{"openapi": "3.0.3", "servers": [{"url": "/api/v1"}],
          "components": {"schemas": {"Item": {"type": "object", "properties": {"name": {"type": "string", "example": "apple"}, "qty": {"type": "integer"}}}}},
          "paths": {
            "/items/{id}": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
              "get": {"parameters": [{"name": "fields", "in": "query", "schema": {"enum": ["all", "some"]}},
                                     {"name": "X-Tenant", "in": "header", "schema": {"type": "string"}}]},
              "delete": {}},
            "/items": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}}}}}"##;
        let source = Url::parse("http://127.0.0.1:9/openapi.json").unwrap();
        let requests = requests(doc, &source).unwrap();
        assert_eq!(requests.len(), 2);
        let get = requests.iter().find(|r| r.method == "GET").unwrap();
        let post = requests.iter().find(|r| r.method == "POST").unwrap();
        assert_eq!((get.method.as_str(), get.url.as_str()), ("GET", "http://127.0.0.1:9/api/v1/items/1?fields=all"));
        let keys: Vec<String> = get.points().iter().map(Point::key).collect();
        assert_eq!(keys, ["query:fields", "header:X-Tenant", "path:3"]);
        assert_eq!(get.value(&Point::Path(3)).as_deref(), Some("1"));
        assert_eq!(post.body, Body::Json(json!({"name": "apple", "qty": 1})));
        let yaml = "swagger: '2.0'\nbasePath: /v2\npaths:\n  /pets:\n    post:\n      parameters:\n        - {name: name, in: formData, type: string}\n";
        let swagger = super::requests(yaml, &source).unwrap();
        assert_eq!(swagger[0].url.as_str(), "http://127.0.0.1:9/v2/pets");
        assert_eq!(swagger[0].body, Body::Form(vec![("name".into(), "vigil".into())]));
        assert!(super::requests("{\"paths\": {}}", &source).unwrap_err().to_string().contains("not an OpenAPI"));
    }
}
