//! Registry credentials that `docker login` and `podman login` stored.
//!
//! The auth files are read in the order podman reads them:
//! `$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`; then
//! `$XDG_CONFIG_HOME/containers/auth.json` (`~/.config/containers/auth.json`);
//! then Docker's `$DOCKER_CONFIG/config.json` (`~/.docker/config.json`). In
//! each file, for the registry being pulled from: its `credHelpers` entry,
//! then the most specific inline `auths` entry (a `registry/namespace` key
//! beats the registry alone; `auth` is base64 `user:password`,
//! `identitytoken` an OAuth refresh token), then the file's `credsStore`. The
//! first file that gives credentials wins.
//!
//! A credential helper is the program the user's own configuration names,
//! `docker-credential-NAME` on the `PATH`, run as docker, podman, crane and
//! Trivy run it: `get` as its argument, the registry on standard input, a
//! JSON `{"Username", "Secret"}` on standard output. It gets
//! [`HELPER_TIMEOUT`] to answer; its output is never logged, and a helper
//! that fails or is missing becomes a note (naming the helper and the file
//! that named it), after which the next source is tried.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use crate::registry::Credentials;

/// Longest a credential helper may take to answer.
pub const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest answer read from a helper.
const MAX_HELPER_OUTPUT: u64 = 1 << 20;

/// The user name Docker records for an identity (OAuth refresh) token.
pub const IDENTITY_TOKEN_USER: &str = "<token>";

/// What the stored configuration gives for one registry.
#[derive(Debug, Default)]
pub struct Lookup {
    /// The credentials, when some source had them.
    pub credentials: Option<Credentials>,
    /// Problems met on the way (a helper missing, failing or too slow),
    /// each naming the helper and the file; never any helper output.
    pub notes: Vec<String>,
}

/// The auth files, in the order they are read.
pub fn auth_files() -> Vec<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let home = env("HOME");
    let primary = env("REGISTRY_AUTH_FILE").or_else(|| env("XDG_RUNTIME_DIR").map(|d| d.join("containers/auth.json")));
    let config = env("XDG_CONFIG_HOME").or_else(|| home.as_ref().map(|h| h.join(".config")));
    let docker = env("DOCKER_CONFIG").or_else(|| home.as_ref().map(|h| h.join(".docker")));
    [primary, config.map(|d| d.join("containers/auth.json")), docker.map(|d| d.join("config.json"))]
        .into_iter()
        .flatten()
        .collect()
}

/// The credentials stored for `registry` (a host, with its port) and
/// `repository`, from the usual auth files.
pub fn stored_credentials(registry: &str, repository: &str) -> Lookup {
    lookup(
        &auth_files(),
        registry,
        repository,
        &|name| PathBuf::from(format!("docker-credential-{name}")),
        HELPER_TIMEOUT,
    )
}

/// The keys the configuration may use for `registry`: Docker Hub is known
/// by several names, and Docker's own tools key it by its v1 index URL.
fn registry_keys(registry: &str) -> Vec<&str> {
    if matches!(registry, "docker.io" | "index.docker.io" | "registry-1.docker.io") {
        vec!["https://index.docker.io/v1/", "docker.io", "index.docker.io", "registry-1.docker.io"]
    } else {
        vec![registry]
    }
}

/// An `auths` key as `host[/path]`: scheme and Docker's `/v1/` suffix dropped.
fn normalized_key(key: &str) -> String {
    let key = key.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/');
    let key = key.strip_suffix("/v1").or_else(|| key.strip_suffix("/v2")).unwrap_or(key);
    match key.split_once('/') {
        Some(("index.docker.io" | "registry-1.docker.io", path)) => format!("docker.io/{path}"),
        None if matches!(key, "index.docker.io" | "registry-1.docker.io") => "docker.io".to_owned(),
        _ => key.to_owned(),
    }
}

/// The inline credentials of the `auths` entry most specific to `registry/repository`.
fn inline(doc: &Value, registry: &str, repository: &str) -> Option<Credentials> {
    let hub = registry_keys(registry).len() > 1;
    let host = if hub { "docker.io" } else { registry };
    let wanted = format!("{host}/{repository}");
    let (_, entry) = doc["auths"]
        .as_object()?
        .iter()
        .map(|(key, entry)| (normalized_key(key), entry))
        .filter(|(key, _)| *key == host || wanted.starts_with(&format!("{key}/")) || *key == wanted)
        .max_by_key(|(key, _)| key.len())?;
    if let Some(token) = entry["identitytoken"].as_str().filter(|t| !t.is_empty()) {
        return Some(Credentials { username: IDENTITY_TOKEN_USER.into(), password: token.to_owned() });
    }
    let decoded = BASE64.decode(entry["auth"].as_str()?).ok()?;
    let (user, pass) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some(Credentials { username: user.to_owned(), password: pass.to_owned() })
}

/// A helper name as Docker allows it: no path, nothing a shell would read.
fn valid_helper(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['.', '-'])
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// Reads the files in order; `program` turns a helper name into what to run.
fn lookup(
    files: &[PathBuf],
    registry: &str,
    repository: &str,
    program: &dyn Fn(&str) -> PathBuf,
    timeout: Duration,
) -> Lookup {
    let mut found = Lookup::default();
    let keys = registry_keys(registry);
    // Docker hands helpers the hub by its index URL, other registries by host.
    let server = keys[0];
    for file in files {
        let Ok(text) = std::fs::read(file) else { continue };
        let doc: Value = match serde_json::from_slice(&text) {
            Ok(doc) => doc,
            Err(e) => {
                found.notes.push(format!("{}: not JSON ({e}); skipped", file.display()));
                continue;
            }
        };
        let mut ask = |name: &str, field: &str| -> Option<Credentials> {
            if !valid_helper(name) {
                found.notes.push(format!("{}: {field} names {name:?}, which is not a helper name", file.display()));
                return None;
            }
            match run_helper(&program(name), server, timeout) {
                Ok(credentials) => credentials,
                Err(e) => {
                    let note = format!("{}: {field} docker-credential-{name}: {e}", file.display());
                    found.notes.push(note);
                    None
                }
            }
        };
        let helper = keys.iter().find_map(|k| doc["credHelpers"][*k].as_str());
        if let Some(credentials) = helper.and_then(|name| ask(name, "credHelpers")) {
            found.credentials = Some(credentials);
            return found;
        }
        if let Some(credentials) = inline(&doc, registry, repository) {
            found.credentials = Some(credentials);
            return found;
        }
        if let Some(credentials) = doc["credsStore"].as_str().and_then(|name| ask(name, "credsStore")) {
            found.credentials = Some(credentials);
            return found;
        }
    }
    found
}

/// Runs `PROGRAM get` with `server` on standard input and reads its answer;
/// `Ok(None)` when it has no credentials for the server. Errors never quote
/// what the helper wrote.
fn run_helper(program: &Path, server: &str, timeout: Duration) -> Result<Option<Credentials>, String> {
    let mut child = Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "not found on the PATH".to_owned(),
            _ => format!("cannot be run: {e}"),
        })?;
    // A helper that does not read its input is still given a chance to answer.
    let _ = child.stdin.take().map(|mut stdin| stdin.write_all(server.as_bytes()));
    let mut stdout = child.stdout.take().ok_or("no standard output")?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = (&mut stdout).take(MAX_HELPER_OUTPUT).read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("gave no answer within {} s; stopped", timeout.as_secs()));
            }
            Err(e) => return Err(format!("could not be waited for: {e}")),
        }
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        // The helpers' protocol: this message on standard output means "nothing stored".
        if String::from_utf8_lossy(&out).contains("credentials not found") {
            return Ok(None);
        }
        return Err(format!("failed ({status})"));
    }
    let doc: Value = serde_json::from_slice(&out).map_err(|_| "answered with something other than JSON".to_owned())?;
    let (Some(username), Some(secret)) = (doc["Username"].as_str(), doc["Secret"].as_str()) else {
        return Err("answered without Username and Secret".to_owned());
    };
    Ok((!secret.is_empty()).then(|| Credentials { username: username.to_owned(), password: secret.to_owned() }))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A helper script in `dir` that runs `body` (sh), returning the program runner.
    fn helper(dir: &Path, name: &str, body: &str) {
        let path = dir.join(format!("docker-credential-{name}"));
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn run(dir: &Path, files: &[PathBuf], registry: &str, repository: &str, timeout: Duration) -> Lookup {
        let dir = dir.to_owned();
        lookup(files, registry, repository, &move |name| dir.join(format!("docker-credential-{name}")), timeout)
    }

    #[test]
    fn inline_entries_most_specific_first() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (BASE64.encode("me:s3cret"), BASE64.encode("team:t0ken"));
        let file = dir.path().join("auth.json");
        std::fs::write(
            &file,
            format!(
                r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{a}"}}, "ghcr.io": {{"auth": "{a}"}},
                   "ghcr.io/team": {{"auth": "{b}"}}, "acr.example.io": {{"identitytoken": "refresh"}}}}}}"#
            ),
        )
        .unwrap();
        let files = [file];
        let user = |registry: &str, repository: &str| {
            run(dir.path(), &files, registry, repository, HELPER_TIMEOUT).credentials.map(|c| c.username)
        };
        assert_eq!(user("docker.io", "library/alpine").as_deref(), Some("me"));
        assert_eq!(user("ghcr.io", "other/app").as_deref(), Some("me"));
        assert_eq!(user("ghcr.io", "team/app").as_deref(), Some("team"));
        assert_eq!(user("ghcr.io", "teamster/app").as_deref(), Some("me"), "a key is a whole path prefix");
        assert_eq!(user("acr.example.io", "x").as_deref(), Some(IDENTITY_TOKEN_USER));
        assert_eq!(user("quay.io", "x"), None);
    }

    #[test]
    fn helpers_get_the_registry_on_standard_input() {
        let dir = tempfile::tempdir().unwrap();
        let asked = dir.path().join("asked");
        helper(
            dir.path(),
            "test",
            &format!(
                r#"[ "$1" = get ] || exit 3
server=$(cat)
printf '%s' "$server" >> {asked}
case "$server" in
  registry.example:5000) echo '{{"ServerURL":"registry.example:5000","Username":"ci","Secret":"from-helper"}}' ;;
  https://index.docker.io/v1/) echo '{{"ServerURL":"x","Username":"hub","Secret":"hub-secret"}}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac"#,
                asked = asked.display()
            ),
        );
        let file = dir.path().join("config.json");
        let inline = BASE64.encode("inline:pw");
        std::fs::write(
            &file,
            format!(r#"{{"credHelpers": {{"registry.example:5000": "test"}}, "credsStore": "test", "auths": {{"quay.io": {{"auth": "{inline}"}}}}}}"#),
        )
        .unwrap();
        let files = [file];
        let got = run(dir.path(), &files, "registry.example:5000", "app", HELPER_TIMEOUT);
        assert_eq!(got.credentials, Some(Credentials { username: "ci".into(), password: "from-helper".into() }));
        assert!(got.notes.is_empty(), "{:?}", got.notes);
        assert_eq!(std::fs::read_to_string(&asked).unwrap(), "registry.example:5000");
        // credsStore serves registries without a helper of their own; the hub by its index URL.
        let hub = run(dir.path(), &files, "docker.io", "library/alpine", HELPER_TIMEOUT).credentials.unwrap();
        assert_eq!(hub.username, "hub");
        // Inline entries come before the store; a store with nothing gives nothing.
        assert_eq!(run(dir.path(), &files, "quay.io", "x", HELPER_TIMEOUT).credentials.unwrap().username, "inline");
        let none = run(dir.path(), &files, "ghcr.io", "x", HELPER_TIMEOUT);
        assert_eq!((none.credentials, none.notes.len()), (None, 0));
    }

    #[test]
    fn failing_slow_or_missing_helpers_are_notes_without_their_output() {
        let dir = tempfile::tempdir().unwrap();
        helper(dir.path(), "leaky", "echo 'TOPSECRET-out'; echo 'TOPSECRET-err' >&2; exit 2");
        helper(dir.path(), "slow", "exec sleep 30");
        helper(dir.path(), "garbled", "echo 'TOPSECRET not json'");
        let inline = BASE64.encode("fallback:pw");
        for (name, expect) in [
            ("leaky", "failed (exit status: 2)"),
            ("slow", "gave no answer within 1 s"),
            ("garbled", "answered with something other than JSON"),
            ("absent", "not found on the PATH"),
            ("../../bin/sh", "not a helper name"),
        ] {
            let file = dir.path().join(format!("{}.json", name.replace('/', "_")));
            std::fs::write(
                &file,
                format!(
                    r#"{{"credHelpers": {{"r.example": "{name}"}}, "auths": {{"r.example": {{"auth": "{inline}"}}}}}}"#
                ),
            )
            .unwrap();
            let start = Instant::now();
            let got = run(dir.path(), &[file], "r.example", "app", Duration::from_secs(1));
            assert!(start.elapsed() < Duration::from_secs(10), "{name}: the time limit holds");
            assert_eq!(got.credentials.map(|c| c.username).as_deref(), Some("fallback"), "{name}");
            let notes = got.notes.join("\n");
            assert!(notes.contains(expect), "{name}: {notes}");
            assert!(!notes.contains("TOPSECRET"), "{name}: helper output must never be shown: {notes}");
        }
    }
}
