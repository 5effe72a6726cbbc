//! The client commands: a few common calls of the server's API, so scripts
//! need no curl, and `vigil scan --upload`.

use std::io::Write;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use vigil_core::inventory::{Inventory, Location, Package};
use vigil_report::baseline::{EpssOnly, KevDate, Record, Side};

use crate::cli_platform::{ClientArgs, ClientFormat, ExposureArgs, SearchArgs, TriageArgs, UploadArgs};

/// A signed-in connection to a server.
struct Client {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl Client {
    fn new(server: &str, token: &str) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(300)))
            .build()
            .new_agent();
        Client { base: server.trim_end_matches('/').to_string(), token: token.to_string(), agent }
    }

    fn from(args: &ClientArgs) -> Client {
        Client::new(&args.server, &args.token)
    }

    /// Reads an answer: its JSON, or the problem report as an error.
    fn answer(&self, what: &str, response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Value> {
        let mut response = response.with_context(|| format!("{what}: is the server at {} running?", self.base))?;
        let status = response.status().as_u16();
        let text = response.body_mut().with_config().limit(256 << 20).read_to_string().unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status >= 400 {
            let detail = body["detail"].as_str().unwrap_or("no details");
            let hint =
                body["hint"].as_str().filter(|h| !detail.contains(h)).map(|h| format!(" ({h})")).unwrap_or_default();
            let next = match status {
                401 => "; check --token / VIGIL_TOKEN",
                403 => "; the token's role or teams do not allow this",
                _ => "",
            };
            bail!("{what}: the server answered {status}: {detail}{hint}{next}");
        }
        Ok(body)
    }

    fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        let mut request =
            self.agent.get(format!("{}{path}", self.base)).header("Authorization", format!("Bearer {}", self.token));
        for (key, value) in query {
            request = request.query(*key, value);
        }
        self.answer(&format!("GET {path}"), request.call())
    }

    /// Posts JSON, gzip-compressed.
    fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        serde_json::to_writer(&mut encoder, body)?;
        let compressed = encoder.finish()?;
        let request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Content-Type", "application/json")
            .header("Content-Encoding", "gzip");
        self.answer(&format!("POST {path}"), request.send(&compressed[..]))
    }

    /// Every item of a list endpoint, page after page, up to `limit`.
    fn all(&self, path: &str, search: &SearchArgs) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        while items.len() < search.limit {
            let mut query =
                vec![("q", search.query.clone()), ("limit", (search.limit - items.len()).min(1000).to_string())];
            if let Some(sort) = &search.sort {
                query.push(("sort", sort.clone()));
            }
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let page = self.get(path, &query)?;
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        Ok(items)
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Prints rows as aligned columns.
fn table(headers: &[&str], rows: Vec<Vec<String>>) -> Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = std::io::stdout().lock();
    let line = |cells: Vec<String>| {
        cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join("  ").trim_end().to_string()
    };
    writeln!(out, "{}", line(headers.iter().map(|h| h.to_string()).collect()))?;
    for row in rows {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}

fn print_json(value: &Value) -> Result<()> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    std::io::stdout().lock().write_all(&text)?;
    Ok(())
}

/// `vigil assets`.
pub fn assets(args: &SearchArgs) -> Result<()> {
    let items = Client::from(&args.client).all("/api/v1/assets", args)?;
    if args.format == ClientFormat::Json {
        return print_json(&Value::Array(items));
    }
    let rows = items
        .iter()
        .map(|a| {
            let os = [&a["os"], &a["os_release"]].iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(" ");
            let os = if os.is_empty() { "-".to_string() } else { os };
            let tags: Vec<String> = a["tags"].as_array().into_iter().flatten().map(|t| text(&t["name"])).collect();
            vec![text(&a["id"]), text(&a["name"]), text(&a["kind"]), os, tags.join(","), text(&a["last_scan_at"])]
        })
        .collect();
    table(&["ID", "NAME", "KIND", "OS", "TAGS", "LAST SCAN"], rows)
}

/// `vigil findings`.
pub fn findings(args: &SearchArgs) -> Result<()> {
    let items = Client::from(&args.client).all("/api/v1/findings", args)?;
    if args.format == ClientFormat::Json {
        return print_json(&Value::Array(items));
    }
    let rows = items
        .iter()
        .map(|f| {
            let package = match f["package"].as_object() {
                Some(p) => format!("{} {}", text(&p["name"]), text(&p["version"])),
                None => "-".into(),
            };
            let triage = text(&f["triage"]["state"]);
            vec![
                text(&f["id"]),
                text(&f["severity"]),
                text(&f["advisory"]),
                package,
                text(&f["asset_name"]),
                text(&f["status"]),
                triage,
                text(&f["first_seen"]),
            ]
        })
        .collect();
    table(&["ID", "SEVERITY", "ADVISORY", "PACKAGE", "ASSET", "STATUS", "TRIAGE", "FIRST SEEN"], rows)
}

/// `vigil triage`.
pub fn triage(args: &TriageArgs) -> Result<()> {
    let target = match (&args.advisory, &args.query) {
        (Some(advisory), _) => json!({"advisory": advisory}),
        (None, Some(query)) => json!({"query": query}),
        (None, None) => json!({"findings": args.findings}),
    };
    let body = json!({
        "target": target, "state": args.state, "justification": args.justification, "until": args.until,
        "comment": args.comment, "team": args.team,
    });
    let outcome = Client::from(&args.client).post("/api/v1/triage", &body)?;
    if args.format == ClientFormat::Json {
        return print_json(&outcome);
    }
    let decided = outcome["findings"].as_array().map_or(0, Vec::len);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} findings marked {}", decided, args.state)?;
    if let Some(rule) = outcome["rule"].as_object() {
        writeln!(out, "rule {} will decide matching findings of later scans too", text(&rule["id"]))?;
    }
    Ok(())
}

/// `vigil exposure`.
pub fn exposure(args: &ExposureArgs) -> Result<()> {
    let report = Client::from(&args.client).get("/api/v1/exposure", &[("advisory", args.advisory.clone())])?;
    if args.format == ClientFormat::Json {
        return print_json(&report);
    }
    let rows = report["assets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let windows: Vec<String> = a["windows"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|w| format!("{} .. {}", text(&w["from"]), w["to"].as_str().unwrap_or("now")))
                .collect();
            let secs = a["exposed_secs"].as_i64().unwrap_or(0);
            vec![
                text(&a["asset_name"]),
                if a["exposed_now"] == true { "yes".into() } else { "no".into() },
                vigil_core::time::humanize(secs),
                windows.join(", "),
            ]
        })
        .collect();
    table(&["ASSET", "EXPOSED NOW", "FOR", "WINDOWS"], rows)?;
    let aliases: Vec<String> = report["aliases"].as_array().into_iter().flatten().map(text).collect();
    eprintln!(
        "{}: {} assets exposed now; known as {}",
        args.advisory,
        text(&report["exposed_now"]),
        if aliases.is_empty() { "nothing else".to_string() } else { aliases.join(", ") }
    );
    Ok(())
}

/// The asset kind a scanned target implies, for `--upload` without `--asset-kind`.
fn kind_of(inventory: &Inventory) -> &'static str {
    if inventory.image.is_some() {
        "image"
    } else if inventory.os.is_some() {
        "host"
    } else {
        "repository"
    }
}

/// The asset a scan of `target` is filed under: `--asset`, else the target as given.
pub fn asset_name(args: &UploadArgs, target: &str) -> String {
    args.asset.clone().unwrap_or_else(|| target.to_owned())
}

/// Every item of a list endpoint, page after page.
fn every(client: &Client, path: &str, query: &[(&str, String)]) -> Result<Vec<Value>> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = query.to_vec();
        q.push(("limit", "1000".into()));
        if let Some(c) = &cursor {
            q.push(("cursor", c.clone()));
        }
        let page = client.get(path, &q)?;
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(items),
        }
    }
}

/// A finding the server holds, as comparisons read it.
fn server_record(f: &Value) -> Option<Record> {
    let p = f["package"].as_object()?;
    let key = f["advisory"].as_str()?.to_owned();
    let aliases = f["ids"].as_array().into_iter().flatten().filter_map(Value::as_str).filter(|id| *id != key);
    Some(Record {
        aliases: aliases.map(str::to_owned).collect(),
        summary: f["title"].as_str().map(str::to_owned),
        kind: vigil_match::Kind::Vulnerability,
        package: Package {
            name: p.get("name")?.as_str()?.to_owned(),
            version: p.get("version").and_then(Value::as_str).unwrap_or_default().to_owned(),
            version_source: None,
            ecosystem: p.get("ecosystem").and_then(Value::as_str).unwrap_or_default().to_owned(),
            purl: p.get("purl").and_then(Value::as_str).unwrap_or_default().to_owned(),
            source: None,
            arch: None,
            license: None,
            location: Location {
                path: f["location"].as_str().unwrap_or_default().to_owned(),
                layer: f["layer"].as_str().map(str::to_owned),
            },
            cataloger: String::new(),
            properties: Default::default(),
        },
        fixed: f["fixed_versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        fix_status: match f["fix"].as_str() {
            Some("available") => vigil_match::FixStatus::FixAvailable,
            Some("wontfix") => vigil_match::FixStatus::WillNotFix,
            _ => vigil_match::FixStatus::NoFixYet,
        },
        status: None,
        severity: serde_json::from_value(f["severity"].clone()).unwrap_or(vigil_core::severity::Severity::Unknown),
        cvss_score: f["cvss"].as_f64(),
        severity_source: f["severity_source"].as_str().map(str::to_owned),
        severity_from: None,
        kev: f["kev_added"].as_str().map(|d| KevDate { cve_id: String::new(), date_added: d.to_owned() }),
        epss: f["epss"].as_f64().map(|score| EpssOnly { score }),
        baseline: None,
        id: key,
    })
}

/// The last scan of `asset` on the server, as a baseline: the package
/// findings open after it (whatever their triage) and the asset's inventory.
pub fn baseline(server: &str, token: &str, asset: &str) -> Result<Side> {
    let client = Client::new(server, token);
    let quoted = format!("\"{}\"", asset.replace('\\', "\\\\").replace('"', "\\\""));
    let assets = every(&client, "/api/v1/assets", &[("q", format!("name:{quoted}"))])?;
    let found = assets.iter().find(|a| a["name"].as_str() == Some(asset)).with_context(|| {
        format!(
            "--baseline server: {server} has no asset named {asset}; upload the main branch's scan first \
             (vigil scan TARGET --upload {server} --asset {asset}), or name it with --asset"
        )
    })?;
    let id = found["id"].as_i64().context("--baseline server: the server listed an asset without an id")?;
    let findings =
        every(&client, &format!("/api/v1/assets/{id}/findings"), &[("q", "source:package and status!=fixed".into())])?;
    let inventory = every(&client, &format!("/api/v1/assets/{id}/inventory"), &[])?;
    let packages = inventory
        .iter()
        .filter_map(|p| {
            Some(Package {
                name: p["name"].as_str()?.to_owned(),
                version: p["version"].as_str().unwrap_or_default().to_owned(),
                version_source: None,
                ecosystem: p["ecosystem"].as_str().unwrap_or_default().to_owned(),
                purl: p["purl"].as_str().unwrap_or_default().to_owned(),
                source: None,
                arch: None,
                license: None,
                location: Location {
                    path: p["path"].as_str().unwrap_or_default().to_owned(),
                    layer: p["layer"].as_str().map(str::to_owned),
                },
                cataloger: String::new(),
                properties: Default::default(),
            })
        })
        .collect();
    Ok(Side {
        target: asset.to_owned(),
        scanned_at: found["last_scan_at"].as_str().map(str::to_owned),
        source: format!("{} asset {id} ({asset})", server.trim_end_matches('/')),
        findings: findings.iter().filter_map(server_record).collect(),
        packages: Some(packages),
    })
}

/// Sends a scan to a server (`vigil scan --upload`); reports what it recorded.
pub fn upload(
    args: &UploadArgs,
    inventory: &Inventory,
    findings: &[Value],
    results: &[Value],
    covers: Option<&[String]>,
    quiet: bool,
) -> Result<()> {
    let Some(url) = &args.upload else { return Ok(()) };
    let token = args.token.as_deref().context("--upload needs --token (or VIGIL_TOKEN)")?;
    let mut labels = serde_json::Map::new();
    for pair in &args.labels {
        let (key, value) = pair.split_once('=').with_context(|| format!("--label {pair}: write it as KEY=VALUE"))?;
        labels.insert(key.trim().to_string(), Value::String(value.trim().to_string()));
    }
    let name = asset_name(args, &inventory.target);
    let mut asset =
        json!({"name": name, "kind": args.asset_kind.as_deref().unwrap_or(kind_of(inventory)), "team": args.team});
    if !labels.is_empty() {
        asset["labels"] = Value::Object(labels);
    }
    let mut body = json!({
        "asset": asset,
        "tags": args.tags,
        "full": !args.partial,
        "scanner": format!("vigil {}", env!("CARGO_PKG_VERSION")),
        "inventory": inventory,
        "findings": findings,
    });
    // Configuration and secret results, and the sources this scan covers (what it did not find is fixed).
    if !results.is_empty() {
        body["results"] = json!(results);
    }
    if let Some(covers) = covers {
        body["covers"] = json!(covers);
    }
    let result = Client::new(url, token).post("/api/v1/scans", &body)?;
    if !quiet {
        let counts = &result["counts"];
        let state = if result["unchanged"] == true {
            "unchanged since the last upload".to_string()
        } else if result["matched"] == false {
            "stored; the server has no advisory database yet and will match it when it does".to_string()
        } else {
            format!(
                "{} open: {} new, {} fixed, {} reopened",
                text(&counts["open"]),
                text(&counts["new"]),
                text(&counts["fixed"]),
                text(&counts["reopened"])
            )
        };
        eprintln!(
            "uploaded to {url}: asset {} ({name}), scan {}: {state}",
            text(&result["asset_id"]),
            text(&result["scan"]["id"])
        );
    }
    Ok(())
}
