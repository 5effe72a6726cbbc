//! What a scan may touch: hosts (with their ports), path prefixes and
//! exclusions. Every request the scanner sends, redirects included, is
//! checked here first; anything not on the loopback interface needs
//! `allow_remote`.

use std::net::IpAddr;

use regex::Regex;
use url::{Host, Url};

use crate::Error;

/// The scope of a scan.
#[derive(Debug, Clone)]
pub struct Scope {
    /// `host:port` pairs in scope.
    pub hosts: Vec<String>,
    /// Path prefixes in scope (`/` for all).
    pub prefixes: Vec<String>,
    /// URLs matching any of these are never requested.
    pub excludes: Vec<Regex>,
    /// Whether hosts that are not loopback addresses may be scanned.
    pub allow_remote: bool,
}

/// Links whose following would end the session.
const LOGOUT: &str = r"(?i)/(log-?out|sign-?out|log-?off|sign-?off)\b";

impl Scope {
    /// The scope of a scan starting at `start`: its host and port, every path, plus
    /// `hosts`, `prefixes` and `excludes` given by the user.
    pub fn new(
        start: &Url,
        hosts: &[String],
        prefixes: &[String],
        excludes: &[String],
        allow_remote: bool,
    ) -> Result<Scope, Error> {
        let mut all = vec![authority(start).ok_or_else(|| Error::Scope(format!("{start}: not an http(s) URL")))?];
        for host in hosts {
            let url = Url::parse(&format!("{}://{host}", start.scheme()))
                .map_err(|e| Error::Scope(format!("--scope-host {host}: {e}")))?;
            all.extend(authority(&url));
        }
        let mut patterns = vec![Regex::new(LOGOUT).expect("valid pattern")];
        for e in excludes {
            patterns.push(Regex::new(e).map_err(|err| Error::Scope(format!("--exclude {e}: {err}")))?);
        }
        let scope = Scope {
            hosts: all,
            prefixes: if prefixes.is_empty() { vec!["/".into()] } else { prefixes.to_vec() },
            excludes: patterns,
            allow_remote,
        };
        if !allow_remote {
            for url in std::iter::once(start.clone())
                .chain(scope.hosts.iter().filter_map(|h| Url::parse(&format!("http://{h}")).ok()))
            {
                if !is_loopback(&url) {
                    return Err(Error::Scope(format!(
                        "{}: not a loopback address; scanning other hosts needs --allow-remote (and their owner's consent)",
                        url.host_str().unwrap_or_default()
                    )));
                }
            }
        }
        Ok(scope)
    }

    /// Whether `url` may be requested.
    pub fn allows(&self, url: &Url) -> bool {
        let Some(auth) = authority(url) else { return false };
        (self.allow_remote || is_loopback(url))
            && self.hosts.contains(&auth)
            && self.prefixes.iter().any(|p| url.path().starts_with(p.as_str()))
            && !self.excludes.iter().any(|e| e.is_match(url.as_str()))
    }
}

/// `host:port` of an http(s) URL.
fn authority(url: &Url) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    Some(format!("{}:{}", url.host_str()?.to_ascii_lowercase(), url.port_or_known_default()?))
}

/// Whether `url`'s host is a loopback address or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_keeps_to_its_hosts_paths_and_loopback() {
        let start = Url::parse("http://127.0.0.1:8080/app/").unwrap();
        let scope = Scope::new(&start, &[], &["/app/".into()], &["/app/danger".into()], false).unwrap();
        let ok = |u: &str| scope.allows(&Url::parse(u).unwrap());
        assert!(ok("http://127.0.0.1:8080/app/x?y=1"));
        assert!(!ok("http://127.0.0.1:8081/app/x"));
        assert!(!ok("http://127.0.0.1:8080/other"));
        assert!(!ok("http://127.0.0.1:8080/app/danger/zone"));
        assert!(!ok("http://127.0.0.1:8080/app/logout"));
        assert!(!ok("http://example.com/app/"));
        assert!(!ok("ftp://127.0.0.1:8080/app/"));
        let remote = Url::parse("http://192.0.2.1/").unwrap();
        assert!(Scope::new(&remote, &[], &[], &[], false).unwrap_err().to_string().contains("--allow-remote"));
        assert!(Scope::new(&start, &["192.0.2.1".into()], &[], &[], false).is_err());
        assert!(Scope::new(&remote, &[], &[], &[], true).is_ok());
        assert!(is_loopback(&Url::parse("http://[::1]:9/").unwrap()));
        assert!(is_loopback(&Url::parse("http://LOCALHOST/").unwrap()));
    }
}
