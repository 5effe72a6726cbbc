//! What a team has decided about findings: the ignore file
//! (`.vigilignore.yaml`) and OpenVEX documents. Both take findings out of a
//! report and record why, so the decision stays visible; expired ignore
//! entries stop suppressing and say so.
//!
//! ```yaml
//! ignore:
//!   - id: CVE-2021-3156          # advisory id or any alias
//!     package: sudo              # optional: only this package name
//!     path: /var/lib/dpkg/status # optional: only packages found at this path (prefix)
//!     reason: not reachable, sudo is not installed setuid in this image
//!     expires: 2027-01-31        # optional: stops suppressing after this day
//! ```
//!
//! OpenVEX: statements whose status is `not_affected` or `fixed` suppress
//! findings whose id or aliases name the statement's vulnerability and
//! whose package is covered by one of the statement's products. A product
//! (its `@id` or `identifiers.purl`) covers a package when the package URLs
//! match (type, namespace and name, and the version when the product gives
//! one). A product naming the scanned image (its `pkg:oci` purl, or its
//! manifest digest) covers the subcomponents it lists, or every package of
//! the image when it lists none. A statement without products covers every
//! package; a product Vigil cannot identify covers nothing.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vigil_match::Finding;

/// One ignore rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreRule {
    /// Advisory id or alias.
    pub id: String,
    /// Package name, if the rule is limited to one.
    #[serde(default)]
    pub package: Option<String>,
    /// Location path prefix, if the rule is limited to one place.
    #[serde(default)]
    pub path: Option<String>,
    /// Why it is ignored (required: a decision without a reason is not reviewable).
    pub reason: String,
    /// Last day (YYYY-MM-DD) the rule applies.
    #[serde(default)]
    pub expires: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreFile {
    #[serde(default)]
    ignore: Vec<IgnoreRule>,
}

/// Parses an ignore file.
pub fn parse_ignore_file(text: &str) -> Result<Vec<IgnoreRule>, String> {
    let file: IgnoreFile = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    for (i, r) in file.ignore.iter().enumerate() {
        if let Some(e) = &r.expires
            && !is_date(e)
        {
            return Err(format!("ignore entry {} ({}): expires must be YYYY-MM-DD, got {e:?}", i + 1, r.id));
        }
    }
    Ok(file.ignore)
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// One product of an OpenVEX statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexProduct {
    /// Its identifiers: `@id` and `identifiers.purl` (none: it covers nothing).
    pub ids: Vec<String>,
    /// The identifiers of the subcomponents it lists.
    pub subcomponents: Vec<String>,
}

/// One OpenVEX statement that suppresses findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexStatement {
    /// Vulnerability id (and its aliases).
    pub ids: Vec<String>,
    /// The products the statement covers; `None` when it names none, which covers every package.
    pub products: Option<Vec<VexProduct>>,
    /// `not_affected` or `fixed`.
    pub status: String,
    /// The justification and impact statement, as written.
    pub justification: String,
}

/// The identifiers of a product or subcomponent: a string, or `@id` and `identifiers.purl`.
fn identifiers(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        other => [other.get("@id"), other.get("identifiers").and_then(|i| i.get("purl"))]
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
    }
}

fn products(v: Option<&Value>) -> Option<Vec<VexProduct>> {
    let list = match v? {
        Value::Array(a) => a.clone(),
        single => vec![single.clone()],
    };
    Some(
        list.iter()
            .map(|p| VexProduct {
                ids: identifiers(p),
                subcomponents: p
                    .get("subcomponents")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .flat_map(identifiers)
                    .collect(),
            })
            .collect(),
    )
}

fn as_strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| match x {
                Value::String(s) => Some(s.clone()),
                other => other.get("@id").and_then(Value::as_str).map(str::to_owned),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Parses an OpenVEX document; only `not_affected` and `fixed` statements are kept.
pub fn parse_openvex(text: &str) -> Result<Vec<VexStatement>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let statements =
        doc.get("statements").and_then(Value::as_array).ok_or("no `statements`: not an OpenVEX document")?;
    let mut out = Vec::new();
    for (i, s) in statements.iter().enumerate() {
        let status = s.get("status").and_then(Value::as_str).ok_or(format!("statement {}: no status", i + 1))?;
        if !matches!(status, "not_affected" | "fixed") {
            continue;
        }
        let vuln = s.get("vulnerability");
        let mut ids = match vuln {
            Some(Value::String(name)) => vec![name.clone()],
            Some(v) => {
                let mut ids: Vec<String> =
                    v.get("name").and_then(Value::as_str).map(str::to_owned).into_iter().collect();
                ids.extend(as_strings(v.get("aliases")));
                ids
            }
            None => Vec::new(),
        };
        ids.retain(|i| !i.is_empty());
        if ids.is_empty() {
            return Err(format!("statement {}: no vulnerability", i + 1));
        }
        let justification = [s.get("justification"), s.get("impact_statement"), s.get("status_notes")]
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("; ");
        out.push(VexStatement { ids, products: products(s.get("products")), status: status.to_owned(), justification });
    }
    Ok(out)
}

/// A finding taken out of the report, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Suppression {
    /// Advisory id.
    pub id: String,
    /// Package name and version.
    pub package: String,
    /// Package URL.
    pub purl: String,
    /// `ignore file` or `OpenVEX (not_affected)` / `OpenVEX (fixed)`.
    pub by: String,
    /// The reason or justification given.
    pub reason: String,
}

fn names(f: &Finding) -> impl Iterator<Item = &str> {
    std::iter::once(f.id.as_str()).chain(f.aliases.iter().map(String::as_str))
}

/// `pkg:type/namespace/name@version?q#s` -> (`pkg:type/namespace/name`, version).
fn purl_parts(purl: &str) -> (&str, Option<&str>) {
    let base = purl.split(['?', '#']).next().unwrap_or(purl);
    match base.rsplit_once('@') {
        Some((path, version)) if !path.ends_with('/') && path.contains('/') => (path, Some(version)),
        _ => (base, None),
    }
}

fn product_matches(product: &str, purl: &str) -> bool {
    let (want_path, want_version) = purl_parts(product);
    let (have_path, have_version) = purl_parts(purl);
    want_path.eq_ignore_ascii_case(have_path) && want_version.is_none_or(|v| Some(v) == have_version)
}

/// What VEX products can name the scanned target by.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// The image's `pkg:oci` purl, when it was pulled from a registry.
    pub image_purl: Option<String>,
    /// The image's manifest digest, when known.
    pub manifest_digest: Option<String>,
}

impl Subject {
    /// The subject of an inventory: its image's purl and digest, if it is an image.
    pub fn of(inventory: &vigil_core::inventory::Inventory) -> Subject {
        let image = inventory.image.as_ref();
        Subject {
            image_purl: image.and_then(crate::sbom::image_purl),
            manifest_digest: image.and_then(|i| i.manifest_digest.clone()),
        }
    }

    /// Whether a product identifier names this image: its purl, or any purl or
    /// reference carrying its manifest digest.
    fn is_named_by(&self, id: &str) -> bool {
        self.image_purl.as_deref().is_some_and(|p| product_matches(id, p))
            || self.manifest_digest.as_deref().is_some_and(|d| {
                id.contains(d) || id.contains(&d.replace(':', "%3A")) || id.contains(&d.replace(':', "%3a"))
            })
    }
}

impl VexStatement {
    /// Whether the statement covers the package with URL `purl` in `subject`.
    fn covers(&self, purl: &str, subject: &Subject) -> bool {
        let Some(products) = &self.products else { return true };
        products.iter().any(|p| {
            p.ids.iter().any(|id| product_matches(id, purl))
                || (p.ids.iter().any(|id| subject.is_named_by(id))
                    && (p.subcomponents.is_empty() || p.subcomponents.iter().any(|c| product_matches(c, purl))))
        })
    }
}

/// Takes out of `findings` what the rules and statements suppress; returns
/// the suppressions and notices about expired rules. `today` is YYYY-MM-DD;
/// `subject` says what image, if any, was scanned.
pub fn apply(
    findings: &mut Vec<Finding>,
    rules: &[IgnoreRule],
    vex: &[VexStatement],
    subject: &Subject,
    today: &str,
) -> (Vec<Suppression>, Vec<String>) {
    let mut notices = Vec::new();
    let active: Vec<&IgnoreRule> = rules
        .iter()
        .filter(|r| match &r.expires {
            Some(e) if e.as_str() < today => {
                notices.push(format!("ignore entry {} expired on {e}: it no longer suppresses anything", r.id));
                false
            }
            _ => true,
        })
        .collect();
    let mut suppressed = Vec::new();
    findings.retain(|f| {
        let rule = active.iter().find(|r| {
            names(f).any(|n| n.eq_ignore_ascii_case(&r.id))
                && r.package.as_ref().is_none_or(|p| *p == f.package.name)
                && r.path.as_ref().is_none_or(|p| f.package.location.path.starts_with(p.as_str()))
        });
        let (by, reason) = if let Some(r) = rule {
            ("ignore file".to_owned(), r.reason.clone())
        } else if let Some(s) = vex.iter().find(|s| {
            s.ids.iter().any(|id| names(f).any(|n| n.eq_ignore_ascii_case(id))) && s.covers(&f.package.purl, subject)
        }) {
            (format!("OpenVEX ({})", s.status), s.justification.clone())
        } else {
            return true;
        };
        suppressed.push(Suppression {
            id: f.id.clone(),
            package: format!("{} {}", f.package.name, f.package.version),
            purl: f.package.purl.clone(),
            by,
            reason,
        });
        false
    });
    (suppressed, notices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_file_layout() {
        let rules = parse_ignore_file(
            "ignore:\n  - id: CVE-1\n    reason: because\n    expires: 2027-01-31\n  - id: X\n    package: p\n    reason: r\n",
        )
        .unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].expires.as_deref(), Some("2027-01-31"));
        assert!(parse_ignore_file("ignore:\n  - id: A\n").unwrap_err().contains("reason"));
        assert!(
            parse_ignore_file("ignore:\n  - id: A\n    reason: r\n    expires: soon\n")
                .unwrap_err()
                .contains("YYYY-MM-DD")
        );
        assert!(parse_ignore_file("ignore:\n  - id: A\n    reason: r\n    typo: 1\n").is_err());
    }

    #[test]
    fn vex_products_subcomponents_and_images() {
        let doc = |products: &str| {
            let text = format!(
                r#"{{"statements": [{{"vulnerability": {{"name": "CVE-1"}}, "status": "not_affected", "products": {products}}}]}}"#
            );
            parse_openvex(&text).unwrap().remove(0)
        };
        let digest = format!("sha256:{}", "ab".repeat(32));
        let image = Subject {
            image_purl: Some(format!("pkg:oci/app@{}?repository_url=ghcr.io/org/app", digest.replace(':', "%3A"))),
            manifest_digest: Some(digest.clone()),
        };
        let openssl = "pkg:deb/debian/openssl@3.0.11?distro=debian-12";
        let zlib = "pkg:deb/debian/zlib@1.2.13?distro=debian-12";
        // The image by purl, with one subcomponent: only that package.
        let s = doc(&format!(
            r#"[{{"@id": "pkg:oci/app@{}", "subcomponents": [{{"@id": "pkg:deb/debian/openssl"}}]}}]"#,
            digest.replace(':', "%3A")
        ));
        assert!(s.covers(openssl, &image) && !s.covers(zlib, &image));
        assert!(!s.covers(openssl, &Subject::default()), "another target is not that image");
        // The image by digest, without subcomponents: every package in it.
        let s = doc(&format!(r#"[{{"@id": "ghcr.io/org/app@{digest}"}}]"#));
        assert!(s.covers(openssl, &image) && s.covers(zlib, &image));
        // A package product named only through identifiers.purl.
        let s = doc(r#"[{"identifiers": {"purl": "pkg:deb/debian/zlib"}}]"#);
        assert!(s.covers(zlib, &Subject::default()) && !s.covers(openssl, &Subject::default()));
        // A product Vigil cannot identify covers nothing, rather than everything.
        let s = doc(r#"[{"identifiers": {"cpe23": "cpe:2.3:a:openssl:openssl:3.0.11:*:*:*:*:*:*:*"}}]"#);
        assert!(!s.covers(openssl, &image));
        // No products at all: every package.
        let s = parse_openvex(r#"{"statements": [{"vulnerability": "CVE-1", "status": "fixed"}]}"#).unwrap().remove(0);
        assert!(s.covers(openssl, &Subject::default()));
    }

    #[test]
    fn purls_match_on_path_and_version() {
        assert!(product_matches("pkg:cargo/smallvec", "pkg:cargo/smallvec@1.6.0"));
        assert!(product_matches("pkg:cargo/smallvec@1.6.0", "pkg:cargo/smallvec@1.6.0"));
        assert!(!product_matches("pkg:cargo/smallvec@1.6.1", "pkg:cargo/smallvec@1.6.0"));
        assert!(product_matches(
            "pkg:deb/debian/sudo@1.8.27-1%2Bdeb10u2",
            "pkg:deb/debian/sudo@1.8.27-1%2Bdeb10u2?arch=amd64&distro=debian-10"
        ));
        assert!(!product_matches("pkg:deb/debian/sudo-ldap", "pkg:deb/debian/sudo@1"));
    }
}
