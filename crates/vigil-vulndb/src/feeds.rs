//! The two non-OSV feeds: CISA's Known Exploited Vulnerabilities catalog
//! (JSON) and FIRST's EPSS scores (CSV, usually gzip-compressed, opening
//! with a `#model_version:...,score_date:...` comment line).

use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One KEV catalog entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct KevEntry {
    /// The CVE.
    #[serde(rename(deserialize = "cveID"))]
    pub cve_id: String,
    /// Vendor or project.
    #[serde(default)]
    pub vendor_project: String,
    /// Product.
    #[serde(default)]
    pub product: String,
    /// CISA's name for it.
    #[serde(default)]
    pub vulnerability_name: String,
    /// When CISA added it (YYYY-MM-DD).
    pub date_added: String,
    /// Remediation due date for US federal agencies.
    #[serde(default)]
    pub due_date: String,
    /// `Known` or `Unknown`.
    #[serde(default)]
    pub known_ransomware_campaign_use: String,
    /// What to do.
    #[serde(default)]
    pub required_action: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KevCatalog {
    #[serde(default)]
    catalog_version: String,
    vulnerabilities: Vec<KevEntry>,
}

/// A parsed KEV catalog.
#[derive(Debug, Clone)]
pub struct Kev {
    /// The catalog's version string.
    pub version: String,
    /// The entries.
    pub entries: Vec<KevEntry>,
}

/// Parses the KEV JSON catalog.
pub fn parse_kev(source_name: &str, bytes: &[u8]) -> Result<Kev> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let catalog: KevCatalog = serde_path_to_error::deserialize(&mut de).map_err(|e| Error::Feed {
        source_name: source_name.to_owned(),
        message: format!("not a KEV catalog: field {}: {}", e.path(), e.inner()),
    })?;
    Ok(Kev { version: catalog.catalog_version, entries: catalog.vulnerabilities })
}

/// True when the bytes look like a KEV catalog (for `db import` detection).
pub fn looks_like_kev(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    text.contains("\"catalogVersion\"") || text.contains("Known Exploited Vulnerabilities")
}

/// One EPSS row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpssScore {
    /// The CVE.
    pub cve: String,
    /// Probability of exploitation activity in the next 30 days.
    pub score: f64,
    /// Percentile among all scored CVEs.
    pub percentile: f64,
}

/// A parsed EPSS file.
#[derive(Debug, Clone)]
pub struct Epss {
    /// The model version from the comment line, if present.
    pub model_version: Option<String>,
    /// The score date from the comment line, if present.
    pub score_date: Option<String>,
    /// The rows.
    pub scores: Vec<EpssScore>,
}

/// Decompresses gzip when the bytes start with the gzip magic, with a cap
/// on the decompressed size.
pub fn maybe_gunzip(source_name: &str, bytes: Vec<u8>, max_bytes: u64) -> Result<Vec<u8>> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    let mut reader = flate2::read::MultiGzDecoder::new(&bytes[..]).take(max_bytes + 1);
    reader
        .read_to_end(&mut out)
        .map_err(|e| Error::Archive { source_name: source_name.to_owned(), message: format!("bad gzip data: {e}") })?;
    if out.len() as u64 > max_bytes {
        return Err(Error::Archive {
            source_name: source_name.to_owned(),
            message: format!("decompresses to more than {max_bytes} bytes (raise --max-bytes if this is genuine)"),
        });
    }
    Ok(out)
}

/// Parses an EPSS CSV (already decompressed).
pub fn parse_epss(source_name: &str, text: &[u8]) -> Result<Epss> {
    let text = std::str::from_utf8(text)
        .map_err(|e| Error::Feed { source_name: source_name.to_owned(), message: format!("not UTF-8 text: {e}") })?;
    let mut epss = Epss { model_version: None, score_date: None, scores: Vec::new() };
    let mut header_seen = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            for part in comment.split(',') {
                if let Some((k, v)) = part.split_once(':') {
                    match k.trim() {
                        "model_version" => epss.model_version = Some(v.trim().to_owned()),
                        "score_date" => epss.score_date = Some(v.trim().to_owned()),
                        _ => {}
                    }
                }
            }
            continue;
        }
        if !header_seen {
            if !line.starts_with("cve,epss,percentile") {
                return Err(Error::Feed {
                    source_name: source_name.to_owned(),
                    message: format!("line {}: expected the header `cve,epss,percentile`", n + 1),
                });
            }
            header_seen = true;
            continue;
        }
        let bad = |what: &str| Error::Feed {
            source_name: source_name.to_owned(),
            message: format!("line {}: {what}: {line:?}", n + 1),
        };
        let mut cols = line.split(',');
        let (Some(cve), Some(score), Some(pct)) = (cols.next(), cols.next(), cols.next()) else {
            return Err(bad("expected three columns"));
        };
        let score: f64 = score.trim().parse().map_err(|_| bad("bad epss value"))?;
        let percentile: f64 = pct.trim().parse().map_err(|_| bad("bad percentile"))?;
        if !(0.0..=1.0).contains(&score) || !(0.0..=1.0).contains(&percentile) {
            return Err(bad("value outside 0..1"));
        }
        epss.scores.push(EpssScore { cve: cve.trim().to_owned(), score, percentile });
    }
    if !header_seen {
        return Err(Error::Feed {
            source_name: source_name.to_owned(),
            message: "no `cve,epss,percentile` header".into(),
        });
    }
    Ok(epss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epss_layout() {
        let e = parse_epss("e.csv", b"#model_version:v2025.03.14,score_date:2025-08-01T00:00:00+0000\ncve,epss,percentile\nCVE-2021-44228,0.94358,0.99957\n").unwrap();
        assert_eq!(e.model_version.as_deref(), Some("v2025.03.14"));
        assert_eq!(e.scores[0].cve, "CVE-2021-44228");
        assert!(parse_epss("e.csv", b"cve,epss,percentile\nCVE-1,2.0,0.1\n").is_err());
        assert!(parse_epss("e.csv", b"nope\n").is_err());
    }

    #[test]
    fn kev_layout() {
        let k = parse_kev("k.json", br#"{"catalogVersion":"2025.08.01","vulnerabilities":[{"cveID":"CVE-2021-44228","dateAdded":"2021-12-10","knownRansomwareCampaignUse":"Known"}]}"#).unwrap();
        assert_eq!(k.entries[0].date_added, "2021-12-10");
        assert!(
            parse_kev("k.json", br#"{"vulnerabilities":[{"dateAdded":"x"}]}"#)
                .unwrap_err()
                .to_string()
                .contains("cveID")
        );
    }
}
