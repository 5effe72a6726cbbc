//! Observations of package findings, one per identity: (asset, advisory
//! with its aliases merged, package, location), as
//! [`vigil_match::identity`] defines it for the scanner's baselines too.
//! The most severe member of a group speaks for it; fixes are pooled.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};
use vigil_match::identity::{hex, identity, merge_aliases, vuln_key};
use vigil_match::{FixStatus, Kind};
use vigil_store::findings::Observed;

fn fix_word(status: FixStatus) -> &'static str {
    match status {
        FixStatus::FixAvailable => "available",
        FixStatus::NoFixYet => "none",
        FixStatus::WillNotFix => "wontfix",
    }
}

/// Turns matcher findings into observations, one per identity.
/// Informational advisories (RustSec `unmaintained`, ...) are not tracked.
pub fn observe(findings: &[vigil_match::Finding]) -> Vec<Observed> {
    let vulns: Vec<&vigil_match::Finding> = findings.iter().filter(|f| f.kind == Kind::Vulnerability).collect();
    let groups = merge_aliases(
        &vulns,
        |f| (f.package.ecosystem.as_str(), f.package.name.as_str(), f.package.location.path.as_str()),
        |f| std::iter::once(&f.id).chain(&f.aliases).map(String::as_str).collect(),
    );
    groups.iter().map(|members| merge(members.iter().map(|&i| vulns[i]).collect())).collect()
}

/// One observation from findings that are the same vulnerability.
fn merge(members: Vec<&vigil_match::Finding>) -> Observed {
    let ids: BTreeSet<String> =
        members.iter().flat_map(|f| std::iter::once(&f.id).chain(&f.aliases)).cloned().collect();
    let key = vuln_key(ids.iter().map(String::as_str));
    // The most severe member speaks for the group; fixes are pooled.
    let lead = members
        .iter()
        .max_by(|a, b| {
            a.severity.cmp(&b.severity).then_with(|| a.risk.total_cmp(&b.risk)).then_with(|| b.id.cmp(&a.id))
        })
        .copied()
        .unwrap_or(members[0]);
    let fixed: BTreeSet<String> = members.iter().flat_map(|f| f.fixed.iter().cloned()).collect();
    let fix = members
        .iter()
        .map(|f| f.fix_status)
        .min_by_key(|s| match s {
            FixStatus::FixAvailable => 0,
            FixStatus::NoFixYet => 1,
            FixStatus::WillNotFix => 2,
        })
        .unwrap_or(lead.fix_status);
    let kev = members.iter().find_map(|f| f.kev.as_ref());
    let epss = members.iter().filter_map(|f| f.epss.as_ref().map(|e| e.score)).max_by(f64::total_cmp);
    let p = &lead.package;
    let details = serde_json::json!({
        "advisories": members.iter().map(|f| &f.id).collect::<Vec<_>>(),
        "matched_as": lead.matched_as,
        "advisory_ecosystem": lead.advisory_ecosystem,
        "status": lead.status,
        "evaluation": lead.evaluation.checks.iter().map(|c| c.describe()).collect::<Vec<_>>(),
    });
    let mut observed = Observed {
        identity: identity(&key, &p.ecosystem, &p.name, &p.location.path),
        source: "package".into(),
        vuln_key: key,
        vuln_ids: ids.into_iter().collect(),
        title: lead.summary.clone(),
        package: Some((p.name.clone(), p.version.clone(), p.ecosystem.clone(), p.purl.clone())),
        location: p.location.path.clone(),
        layer: p.location.layer.clone(),
        severity: lead.severity as i64,
        severity_source: lead.severity_source.clone(),
        cvss: lead.cvss_score,
        cvss_vector: lead.cvss_vector.clone(),
        epss,
        kev: kev.is_some(),
        kev_added: kev.map(|k| k.date_added.clone()),
        fix: fix_word(fix).into(),
        fixed_versions: fixed.into_iter().collect(),
        risk: members.iter().map(|f| f.risk).fold(0.0, f64::max),
        details: Some(details.to_string()),
        observed_hash: String::new(),
    };
    observed.observed_hash = observed_hash(&observed);
    observed
}

/// A digest of what an observation says, to skip rewriting unchanged rows.
pub fn observed_hash(o: &Observed) -> String {
    let text = format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{}|{:?}|{:?}|{:?}|{:?}|{}|{:?}|{}|{:?}|{}|{:?}",
        o.vuln_ids,
        o.title,
        o.package,
        o.location,
        o.layer,
        o.severity,
        o.severity_source,
        o.cvss,
        o.cvss_vector,
        o.epss,
        o.kev,
        o.kev_added,
        o.fix,
        o.fixed_versions,
        o.risk,
        o.details
    );
    hex(&Sha256::digest(text.as_bytes())[..16])
}
