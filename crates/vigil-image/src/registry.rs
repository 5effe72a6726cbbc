//! Images in a registry, through the OCI distribution API: references
//! (`ghcr.io/org/app:1.2`, `alpine`, `127.0.0.1:5000/x@sha256:...`),
//! anonymous, basic and bearer-token authentication (the `WWW-Authenticate`
//! challenge flow Docker Hub, GHCR and `docker-registry` use), multi-platform
//! indexes, and blobs streamed straight into the layer reader, every
//! manifest, config and layer checked against its digest. Layers already in
//! the [`crate::LayerCache`] are not downloaded at all.

use std::fmt;
use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use crate::credentials::{IDENTITY_TOKEN_USER, Lookup};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::{Fetch, layer_sources};
use crate::{ImageInfo, LayerSource, MAX_JSON_BYTES, ReadOptions, Selection, Tree, merge};

/// The manifest types asked for, most specific first.
const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
                      application/vnd.docker.distribution.manifest.list.v2+json, \
                      application/vnd.oci.image.manifest.v1+json, \
                      application/vnd.docker.distribution.manifest.v2+json";

/// Tries of one request while the registry is momentarily unavailable.
const ATTEMPTS: u32 = 4;
/// Longest pause between tries, whatever `Retry-After` asks.
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Registry host (and port): `docker.io`, `ghcr.io`, `127.0.0.1:5000`.
    pub registry: String,
    /// Repository path: `library/alpine`, `org/app`.
    pub repository: String,
    /// Tag, when given (`latest` is used when neither tag nor digest is).
    pub tag: Option<String>,
    /// Manifest digest, when given (`@sha256:...`); it wins over the tag.
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses a reference as Docker does: the first path component is a
    /// registry when it has a `.` or `:` or is `localhost`, otherwise the
    /// image is on Docker Hub (`library/` for single names).
    pub fn parse(text: &str) -> std::result::Result<Reference, String> {
        let invalid = |why: &str| format!("{text:?} is not an image reference ({why})");
        let (name, digest) = match text.split_once('@') {
            Some((name, d)) => {
                (name, Some(Digest::parse(d).ok_or_else(|| invalid("the digest is not sha256:<64 hex digits>"))?))
            }
            None => (text, None),
        };
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (&name[..last_slash + i], Some(name[last_slash + i + 1..].to_owned())),
            None => (name, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_owned(), rest.to_owned())
            }
            _ => ("docker.io".to_owned(), name.to_owned()),
        };
        let repository = if registry == "docker.io" && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        let component_ok = |c: &str| {
            !c.is_empty()
                && c.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
                && c.as_bytes()[0].is_ascii_alphanumeric()
        };
        if !repository.split('/').all(component_ok) {
            return Err(invalid("repository names are lowercase letters, digits and . _ - separated by /"));
        }
        if registry.is_empty() || !registry.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)) {
            return Err(invalid("bad registry host"));
        }
        if let Some(tag) = &tag
            && (tag.is_empty()
                || tag.len() > 128
                || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                || tag.starts_with(['.', '-']))
        {
            return Err(invalid("a tag is up to 128 letters, digits, . _ -"));
        }
        Ok(Reference { registry, repository, tag, digest })
    }

    /// What to ask the manifests endpoint for: the digest, else the tag, else `latest`.
    fn manifest_ref(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".into(),
        }
    }

    /// The API host: Docker Hub's is not its name.
    fn api_host(&self) -> &str {
        if self.registry == "docker.io" { "registry-1.docker.io" } else { &self.registry }
    }

    /// Whether the registry is on this machine, where plain HTTP is the norm (as Docker allows).
    pub fn is_loopback(&self) -> bool {
        let host = self.registry.rsplit_once(':').map_or(self.registry.as_str(), |(h, _)| h);
        host == "localhost" || host.starts_with("127.") || host == "[::1]"
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// A user name and password (or token) for a registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password or access token.
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({}, <redacted>)", self.username)
    }
}

/// How to talk to a registry.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Credentials for basic auth or for the token service.
    pub credentials: Option<Credentials>,
    /// Use `http://` instead of `https://` (always so for loopback registries).
    pub plain_http: bool,
    /// Mirrors to try first, in order, for a registry: `(registry, mirror host)`,
    /// such as `("docker.io", "mirror.internal:5000")`.
    pub mirrors: Vec<(String, String)>,
}

/// Parses `REGISTRY=MIRROR` (`docker.io=mirror.internal:5000`).
pub fn parse_mirror(text: &str) -> std::result::Result<(String, String), String> {
    let (registry, mirror) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not REGISTRY=MIRROR (docker.io=mirror.internal:5000)"))?;
    let host_ok = |h: &str| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !host_ok(registry) || !host_ok(mirror) {
        return Err(format!("{text:?}: registry and mirror are host names, with a port if needed"));
    }
    Ok((registry.to_owned(), mirror.to_owned()))
}

/// One repository's API, with the authorization it has earned.
struct Client {
    agent: ureq::Agent,
    base: String,
    reference: Reference,
    credentials: Option<Credentials>,
    /// Why stored credentials could not be had (a credential helper that failed), for messages.
    credential_notes: Vec<String>,
    authorization: Mutex<Option<String>>,
}

/// Whether a transport error may pass if the request is made again.
fn transient(error: &ureq::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, Interrupted, TimedOut, UnexpectedEof};
    match error {
        ureq::Error::Timeout(_) => true,
        ureq::Error::Io(e) => matches!(
            e.kind(),
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | TimedOut | Interrupted
        ),
        _ => false,
    }
}

/// A `WWW-Authenticate` challenge: the scheme and its parameters.
fn parse_challenge(header: &str) -> (String, Vec<(String, String)>) {
    let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect::<String>().trim().to_owned();
        }
        params.push((key.trim().to_ascii_lowercase(), value));
    }
    (scheme.to_ascii_lowercase(), params)
}

impl Client {
    fn new(reference: &Reference, options: &RegistryOptions) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Blob downloads are often redirected to storage elsewhere, which must not see the credentials.
            .redirect_auth_headers(ureq::config::RedirectAuthHeaders::SameHost)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let scheme = if options.plain_http || reference.is_loopback() { "http" } else { "https" };
        let stored = match &options.credentials {
            Some(given) => Lookup { credentials: Some(given.clone()), notes: Vec::new() },
            None => crate::credentials::stored_credentials(&reference.registry, &reference.repository),
        };
        Client {
            agent,
            base: format!("{scheme}://{}/v2/{}", reference.api_host(), reference.repository),
            reference: reference.clone(),
            credentials: stored.credentials,
            credential_notes: stored.notes,
            authorization: Mutex::new(None),
        }
    }

    fn fail(&self, message: impl Into<String>) -> Error {
        Error::Registry { reference: self.reference.to_string(), message: message.into() }
    }

    fn send(
        &self,
        url: &str,
        accept: Option<&str>,
    ) -> std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let mut request = self.agent.get(url);
        if let Some(a) = accept {
            request = request.header("Accept", a);
        }
        if let Some(auth) = self.authorization.lock().ok().and_then(|a| a.clone()) {
            request = request.header("Authorization", auth);
        }
        request.call()
    }

    /// [`Client::send`], tried again after a pause when the registry is
    /// momentarily unavailable (a failed connection, HTTP 429, 502, 503 or
    /// 504), up to [`ATTEMPTS`] times; `Retry-After` is honoured up to [`MAX_PAUSE`].
    fn send_retrying(&self, url: &str, accept: Option<&str>) -> Result<ureq::http::Response<ureq::Body>> {
        let mut pause = Duration::from_millis(500);
        for attempt in 1..=ATTEMPTS {
            let last = attempt == ATTEMPTS;
            match self.send(url, accept) {
                Ok(response) if last || !matches!(response.status().as_u16(), 429 | 502 | 503 | 504) => {
                    return Ok(response);
                }
                Ok(response) => {
                    let asked = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    std::thread::sleep(asked.unwrap_or(pause).min(MAX_PAUSE));
                }
                // A dropped or stalled connection may work next time; a refused one or an unknown host will not.
                Err(e) if !last && transient(&e) => {
                    std::thread::sleep(pause);
                }
                Err(e) => return Err(self.fail(format!("GET {url}: {e}"))),
            }
            pause *= 2;
        }
        Err(self.fail(format!("GET {url}: no answer after {ATTEMPTS} attempts")))
    }

    /// GET `path` under the repository, answering one authentication challenge.
    fn get(&self, path: &str, accept: Option<&str>) -> Result<ureq::http::Response<ureq::Body>> {
        let url = format!("{}/{path}", self.base);
        let mut response = self.send_retrying(&url, accept)?;
        if response.status() == 401 {
            let challenge =
                response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            self.authenticate(&challenge)?;
            response = self.send_retrying(&url, accept)?;
        }
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let detail = response
            .body_mut()
            .with_config()
            .limit(64 << 10)
            .read_to_vec()
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v["errors"][0]["message"].as_str().map(str::to_owned))
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        let hint = match status.as_u16() {
            401 | 403 => {
                "; check the credentials (--username and --password, VIGIL_REGISTRY_USERNAME and \
                 VIGIL_REGISTRY_PASSWORD, or docker/podman login)"
            }
            404 => "; check the repository, tag or digest",
            429 => "; the registry limits requests: wait, or log in (anonymous pulls from Docker Hub are limited more)",
            _ => "",
        };
        Err(self.fail(format!("GET {url}: HTTP {status}{detail}{hint}")))
    }

    fn set_authorization(&self, value: String) {
        if let Ok(mut a) = self.authorization.lock() {
            *a = Some(value);
        }
    }

    /// HTTP Basic credentials (an identity token is not a password).
    fn basic(&self) -> Option<String> {
        let c = self.credentials.as_ref().filter(|c| c.username != IDENTITY_TOKEN_USER)?;
        Some(format!("Basic {}", BASE64.encode(format!("{}:{}", c.username, c.password))))
    }

    /// What the stored credential sources said, for an error message.
    fn notes(&self) -> String {
        match self.credential_notes.is_empty() {
            true => String::new(),
            false => format!(" (stored credentials: {})", self.credential_notes.join("; ")),
        }
    }

    /// Answers a challenge: basic credentials, or a bearer token from the realm.
    fn authenticate(&self, challenge: &str) -> Result<()> {
        let (scheme, params) = parse_challenge(challenge);
        let param = |k: &str| params.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        match scheme.as_str() {
            "basic" => {
                let basic = self.basic().ok_or_else(|| {
                    self.fail(format!(
                        "the registry requires credentials: pass --username and --password (or set \
                         VIGIL_REGISTRY_USERNAME and VIGIL_REGISTRY_PASSWORD), or log in with docker or podman{}",
                        self.notes()
                    ))
                })?;
                self.set_authorization(basic);
                Ok(())
            }
            "bearer" => {
                let realm = param("realm").filter(|r| r.starts_with("https://") || r.starts_with("http://"));
                let realm = realm.ok_or_else(|| self.fail(format!("unusable bearer challenge {challenge:?}")))?;
                let scope = param("scope")
                    .map_or_else(|| format!("repository:{}:pull", self.reference.repository), str::to_owned);
                let identity_token =
                    self.credentials.as_ref().filter(|c| c.username == IDENTITY_TOKEN_USER).map(|c| &c.password);
                let sent = match identity_token {
                    // An OAuth refresh token (Docker's identity token) is exchanged with a form POST.
                    Some(refresh) => {
                        let mut form = vec![
                            ("grant_type", "refresh_token"),
                            ("refresh_token", refresh.as_str()),
                            ("scope", scope.as_str()),
                            ("client_id", "vigil"),
                        ];
                        form.extend(param("service").map(|service| ("service", service)));
                        self.agent.post(realm).send_form(form)
                    }
                    None => {
                        let mut request = self.agent.get(realm).query("scope", &scope);
                        if let Some(service) = param("service") {
                            request = request.query("service", service);
                        }
                        if let Some(basic) = self.basic() {
                            request = request.header("Authorization", basic);
                        }
                        request.call()
                    }
                };
                let mut response = sent.map_err(|e| self.fail(format!("token request to {realm}: {e}")))?;
                if !response.status().is_success() {
                    return Err(self.fail(format!(
                        "the token service {realm} answered HTTP {}; check the credentials (--username and \
                         --password, or docker/podman login){}",
                        response.status(),
                        self.notes()
                    )));
                }
                let body = response
                    .body_mut()
                    .with_config()
                    .limit(1 << 20)
                    .read_to_vec()
                    .map_err(|e| self.fail(format!("token response from {realm}: {e}")))?;
                let doc: Value = serde_json::from_slice(&body)
                    .map_err(|e| self.fail(format!("token response from {realm} is not JSON: {e}")))?;
                let token = doc["token"]
                    .as_str()
                    .or(doc["access_token"].as_str())
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| self.fail(format!("token response from {realm} holds no token")))?;
                self.set_authorization(format!("Bearer {token}"));
                Ok(())
            }
            _ => Err(self.fail(format!("HTTP 401 with an authentication scheme Vigil does not speak: {challenge:?}"))),
        }
    }

    /// A manifest or index by tag or digest, checked against `expected` when given; returns it with its digest.
    fn manifest(&self, reference: &str, expected: Option<&Digest>) -> Result<(Value, Digest)> {
        let mut response = self.get(&format!("manifests/{reference}"), Some(ACCEPT))?;
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_JSON_BYTES)
            .read_to_vec()
            .map_err(|e| self.fail(format!("manifest {reference}: {e}")))?;
        let digest = match expected {
            Some(d) if !d.matches(&body) => {
                return Err(self.fail(format!("manifest {reference}: content does not match digest {d}")));
            }
            Some(d) => d.clone(),
            None => Digest::sha256_of(&body),
        };
        let doc =
            serde_json::from_slice(&body).map_err(|e| self.fail(format!("manifest {reference}: not JSON: {e}")))?;
        Ok((doc, digest))
    }

    /// A blob as a stream (checked by whoever reads it).
    fn blob(&self, digest: &Digest, max: u64) -> Result<Box<dyn Read + Send>> {
        let response = self.get(&format!("blobs/{digest}"), None)?;
        Ok(Box::new(response.into_body().into_with_config().limit(max).reader()))
    }

    /// A small JSON blob, checked against its digest.
    fn json_blob(&self, digest: &Digest) -> Result<Value> {
        let mut bytes = Vec::new();
        self.blob(digest, MAX_JSON_BYTES)?
            .read_to_end(&mut bytes)
            .map_err(|e| self.fail(format!("blob {digest}: {e}")))?;
        if !digest.matches(&bytes) {
            return Err(self.fail(format!("blob {digest}: content does not match its digest")));
        }
        serde_json::from_slice(&bytes).map_err(|e| self.fail(format!("blob {digest}: not JSON: {e}")))
    }
}

/// Pulls the image `reference` names (the manifest for the requested
/// platform, its config, then each layer not already cached), verifies and
/// merges it.
pub fn pull(
    reference: &Reference,
    registry: &RegistryOptions,
    selection: &Selection<'_>,
    options: &ReadOptions<'_>,
) -> Result<(Tree, ImageInfo)> {
    let image = reference.to_string();
    let mut info = ImageInfo { format: "registry".into(), ..ImageInfo::default() };
    // The configured mirrors first, then the registry itself; the first to give the manifest serves the image.
    let candidates: Vec<Reference> = registry
        .mirrors
        .iter()
        .filter(|(origin, _)| *origin == reference.registry)
        .map(|(_, mirror)| Reference { registry: mirror.clone(), ..reference.clone() })
        .chain(std::iter::once(reference.clone()))
        .collect();
    let mut failures = Vec::new();
    let (client, doc, digest) = loop {
        let Some(candidate) = candidates.get(failures.len()) else {
            return Err(Error::Registry { reference: image, message: failures.join("; ") });
        };
        let client = Client::new(candidate, registry);
        match client.manifest(&reference.manifest_ref(), reference.digest.as_ref()) {
            Ok((doc, digest)) => break (client, doc, digest),
            Err(e) if candidates.len() > 1 => failures.push(format!("from {}: {e}", candidate.registry)),
            Err(e) => return Err(e),
        }
    };
    info.warnings.extend(client.credential_notes.iter().map(|n| format!("registry credentials: {n}")));
    if !failures.is_empty() {
        info.warnings.push(format!(
            "mirrors failed, pulled from {} instead: {}",
            client.reference.registry,
            failures.join("; ")
        ));
    }
    info.manifest_digest = Some(digest.to_string());
    let manifest = |digest: &Digest| client.manifest(&digest.to_string(), Some(digest)).map(|(doc, _)| doc);
    let config = |digest: &Digest| client.json_blob(digest);
    let fetch = Fetch { manifest: &manifest, config: &config };
    let layers = layer_sources(doc, options.platform.as_ref(), &image, &fetch, Digest::to_string, &mut info)?;
    let max = options.limits.max_total_bytes;
    let open = |layer: &LayerSource| -> Result<Box<dyn Read + Send>> {
        let digest = layer.blob.as_ref().ok_or_else(|| client.fail("a layer without a digest"))?;
        client.blob(digest, max)
    };
    let tree = merge(&image, &layers, &open, selection, options, &mut info)?;
    Ok((tree, info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references_as_docker_does() {
        let r = |s: &str| Reference::parse(s).unwrap();
        assert_eq!(
            r("alpine"),
            Reference { registry: "docker.io".into(), repository: "library/alpine".into(), tag: None, digest: None }
        );
        assert_eq!(r("alpine:3.20").tag.as_deref(), Some("3.20"));
        assert_eq!(r("bitnami/redis").repository, "bitnami/redis");
        let ghcr = r("ghcr.io/org/team/app:v1.2");
        assert_eq!(
            (ghcr.registry.as_str(), ghcr.repository.as_str(), ghcr.tag.as_deref()),
            ("ghcr.io", "org/team/app", Some("v1.2"))
        );
        let local = r("127.0.0.1:5000/debian:bookworm");
        assert_eq!((local.registry.as_str(), local.repository.as_str()), ("127.0.0.1:5000", "debian"));
        assert!(local.is_loopback() && !ghcr.is_loopback());
        let d = format!("sha256:{}", "ab".repeat(32));
        let pinned = r(&format!("localhost:5000/x:1@{d}"));
        assert_eq!(pinned.manifest_ref(), d, "the digest wins");
        assert_eq!(pinned.to_string(), format!("localhost:5000/x:1@{d}"));
        assert_eq!(r("localhost/x").registry, "localhost");
        assert_eq!(r("docker.io/library/alpine").api_host(), "registry-1.docker.io");
        for bad in ["UPPER/case", "x@sha256:12", "x:", "a//b", "x:-tag", "reg.io/", ""] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }

    /// A server on 127.0.0.1 giving `answers` in turn, one per connection; returns its address
    /// and a counter of the requests it took.
    fn canned(answers: Vec<String>) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{BufRead, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = count.clone();
        std::thread::spawn(move || {
            for (stream, answer) in listener.incoming().zip(answers.iter().cycle()) {
                let Ok(mut stream) = stream else { continue };
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    line.clear();
                }
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        (address, count)
    }

    fn answer(status: &str, headers: &str, body: &str) -> String {
        format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}", body.len())
    }

    #[test]
    fn momentary_failures_are_tried_again() {
        let manifest = r#"{"schemaVersion": 2, "config": {}, "layers": []}"#;
        let (address, count) = canned(vec![
            answer("503 Service Unavailable", "Retry-After: 0\r\n", ""),
            answer("502 Bad Gateway", "Retry-After: 0\r\n", ""),
            answer("200 OK", "", manifest),
        ]);
        let reference = Reference::parse(&format!("{address}/app:1")).unwrap();
        let client = Client::new(&reference, &RegistryOptions::default());
        let (doc, digest) = client.manifest("1", None).unwrap();
        assert_eq!(doc["schemaVersion"], 2);
        assert_eq!(digest, Digest::sha256_of(manifest.as_bytes()));
        assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 3);

        let (address, count) = canned(vec![answer("429 Too Many Requests", "Retry-After: 0\r\n", "")]);
        let reference = Reference::parse(&format!("{address}/app:1")).unwrap();
        let err = Client::new(&reference, &RegistryOptions::default()).manifest("1", None).unwrap_err().to_string();
        assert!(err.contains("HTTP 429") && err.contains("limits requests"), "{err}");
        assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), ATTEMPTS as usize);
    }

    #[test]
    fn mirrors_are_host_pairs() {
        assert_eq!(parse_mirror("docker.io=127.0.0.1:5000").unwrap(), ("docker.io".into(), "127.0.0.1:5000".into()));
        assert!(parse_mirror("docker.io").is_err());
        assert!(parse_mirror("docker.io=http://x/").is_err());
    }

    #[test]
    fn parses_challenges() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
        );
        assert_eq!(scheme, "bearer");
        assert_eq!(params[0], ("realm".into(), "https://auth.docker.io/token".into()));
        assert_eq!(params[2], ("scope".into(), "repository:samalba/my-app:pull,push".into()));
        let (scheme, params) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!((scheme.as_str(), params[0].1.as_str()), ("basic", "Registry Realm"));
        assert_eq!(parse_challenge("").1, vec![]);
        let (_, params) = parse_challenge(r#"Bearer realm=http://x/token , service="a\"b""#);
        assert_eq!(params, vec![("realm".into(), "http://x/token".into()), ("service".into(), "a\"b".into())]);
    }
}
