//! The query-language fields of each searchable table, and the SQL each
//! stands for. A field of a related table is an uncorrelated `column IN
//! (SELECT ...)`: the database builds the set once from an index rather
//! than probing it once per candidate row. Findings are searched as `findings f JOIN assets a`, assets
//! as `assets a`, the audit trail as `audit au`. `docs/QUERY.md` lists the
//! same fields; a test keeps the two in step.

use vigil_query::{Catalog, Field, Kind, Target};

use crate::model::{ASSET_KINDS, FIX_STATES, JUSTIFICATIONS, SEVERITIES, SLA_STATES, SOURCES, STATUSES, TRIAGE_STATES};

const TAG: Target = Target::Within {
    sql: "a.id IN (SELECT qt.asset_id FROM asset_tags qt JOIN tags qg ON qg.id = qt.tag_id WHERE {cond})",
    column: "qg.name",
};
const TEAM: Target =
    Target::Within { sql: "a.team_id IN (SELECT qm.id FROM teams qm WHERE {cond})", column: "qm.name" };
const LABEL: Target = Target::Within {
    sql: "a.id IN (SELECT ql.asset_id FROM asset_attributes ql WHERE ql.name = 'label:' || {key} AND {cond})",
    column: "ql.value",
};
const HOSTNAME: Target = Target::Within {
    sql: "a.id IN (SELECT qh.asset_id FROM asset_attributes qh WHERE qh.name = 'hostname' AND {cond})",
    column: "qh.value",
};
const ADDRESS: Target = Target::Within {
    sql: "a.id IN (SELECT qd.asset_id FROM asset_attributes qd WHERE qd.name = 'address' AND {cond})",
    column: "qd.value",
};

/// Asset fields, under the names both catalogues use (`asset.os`); the
/// asset catalogue also takes them without the prefix.
macro_rules! asset_fields {
    ($prefix:literal) => {
        [
            Field::new(concat!($prefix, "id"), Kind::Integer, Target::Column("a.id"), "the asset's id")
                .sortable("a.id"),
            Field::new(concat!($prefix, "name"), Kind::Text, Target::Column("a.name"), "the asset's name")
                .sortable("a.name"),
            Field::new(
                concat!($prefix, "kind"),
                Kind::Enum(ASSET_KINDS),
                Target::Column("a.kind"),
                "the kind of asset",
            )
            .sortable("a.kind"),
            Field::new(concat!($prefix, "os"), Kind::Text, Target::Column("a.os"), "operating system (`debian`)")
                .sortable("COALESCE(a.os, '')"),
            Field::new(concat!($prefix, "release"), Kind::Text, Target::Column("a.os_release"), "OS release (`12`)"),
            Field::new(concat!($prefix, "arch"), Kind::Text, Target::Column("a.arch"), "CPU architecture"),
            Field::new(
                concat!($prefix, "digest"),
                Kind::Text,
                Target::Column("a.image_digest"),
                "image manifest digest",
            ),
            Field::new(
                concat!($prefix, "repository"),
                Kind::Text,
                Target::Column("a.image_repository"),
                "image repository",
            ),
            Field::new(concat!($prefix, "owner"), Kind::Text, Target::Column("a.owner"), "owner"),
            Field::new(concat!($prefix, "hostname"), Kind::Text, HOSTNAME, "one of its host names"),
            Field::new(concat!($prefix, "address"), Kind::Text, ADDRESS, "one of its addresses"),
            Field::new(
                concat!($prefix, "last_scan"),
                Kind::Time,
                Target::Column("a.last_scan_at"),
                "when it was last scanned",
            )
            .sortable("COALESCE(a.last_scan_at, 0)"),
            Field::new(
                concat!($prefix, "created"),
                Kind::Time,
                Target::Column("a.created_at"),
                "when it was first seen",
            )
            .sortable("a.created_at"),
        ]
    };
}

const ASSET_PREFIXED: [Field; 13] = asset_fields!("asset.");
const ASSET_PLAIN: [Field; 13] = asset_fields!("");

const SHARED: [Field; 3] = [
    Field::new("tag", Kind::Text, TAG, "a tag of the asset (static or dynamic)"),
    Field::new("team", Kind::Text, TEAM, "the asset's team"),
    Field::new("label.*", Kind::Text, LABEL, "a label of the asset: `label.env:prod`"),
];

/// Each word of the `sla` field, written so the index on `sla_due_at` answers it.
const SLA_CASES: [(&str, &str); 5] = [
    ("none", "f.sla_due_at IS NULL"),
    ("within", "f.status <> 'fixed' AND f.sla_due_at > {now}"),
    ("breached", "f.status <> 'fixed' AND f.sla_due_at <= {now}"),
    ("met", "f.status = 'fixed' AND f.fixed_at <= f.sla_due_at"),
    ("missed", "f.status = 'fixed' AND f.fixed_at > f.sla_due_at"),
];

const FINDING_OWN: [Field; 28] = [
    Field::new("id", Kind::Integer, Target::Column("f.id"), "the finding's id").sortable("f.id"),
    Field::new(
        "severity",
        Kind::Ordered(SEVERITIES),
        Target::Column("f.severity"),
        "severity; ordered, so `severity>=high` works",
    )
    .sortable("f.severity"),
    Field::new("cvss", Kind::Number, Target::Column("f.cvss"), "CVSS base score").sortable("COALESCE(f.cvss, -1)"),
    Field::new("epss", Kind::Number, Target::Column("f.epss"), "EPSS probability (0 to 1)")
        .sortable("COALESCE(f.epss, -1)"),
    Field::new("risk", Kind::Number, Target::Column("f.risk"), "impact x likelihood").sortable("f.risk"),
    Field::new("kev", Kind::Bool, Target::Column("f.kev"), "listed in CISA's Known Exploited Vulnerabilities"),
    Field::new("advisory.kev", Kind::Bool, Target::Column("f.kev"), "same as `kev`"),
    Field::new(
        "advisory",
        Kind::Text,
        Target::Within { sql: "f.vuln_key IN (SELECT qv.vuln_key FROM vuln_aliases qv WHERE {cond})", column: "qv.id" },
        "any id or alias of the advisory (`CVE-2021-3156`, `DSA-4839-1`)",
    )
    .sortable("f.vuln_key"),
    Field::new("advisory.id", Kind::Text, Target::Column("f.vuln_key"), "the id the finding is filed under"),
    Field::new("title", Kind::Text, Target::Column("f.title"), "the advisory's summary"),
    Field::new("status", Kind::Enum(STATUSES), Target::Column("f.status"), "detection status").sortable("f.status"),
    Field::new("open", Kind::Bool, Target::Column("CASE WHEN f.status = 'fixed' THEN 0 ELSE 1 END"), "not fixed"),
    Field::new("triage", Kind::Enum(TRIAGE_STATES), Target::Column("f.triage"), "triage decision"),
    Field::new(
        "justification",
        Kind::Enum(JUSTIFICATIONS),
        Target::Column("f.triage_justification"),
        "VEX justification",
    ),
    Field::new("fix", Kind::Enum(FIX_STATES), Target::Column("f.fix_status"), "whether a fix exists"),
    Field::new("source", Kind::Enum(SOURCES), Target::Column("f.source"), "what found it"),
    Field::new("package.name", Kind::Text, Target::Column("f.package_name"), "package name")
        .sortable("COALESCE(f.package_name, '')"),
    Field::new("package.version", Kind::Text, Target::Column("f.package_version"), "installed version"),
    Field::new("package.ecosystem", Kind::Text, Target::Column("f.ecosystem"), "OSV ecosystem (`Debian:12`, `npm`)"),
    Field::new("package.purl", Kind::Text, Target::Column("f.purl"), "package URL"),
    Field::new("location", Kind::Text, Target::Column("f.location"), "the file (or URL) it was found in"),
    Field::new("layer", Kind::Text, Target::Column("f.layer"), "the image layer it came from"),
    Field::new("first_seen", Kind::Time, Target::Column("f.first_seen"), "first detected").sortable("f.first_seen"),
    Field::new("last_seen", Kind::Time, Target::Column("f.last_seen"), "last detected").sortable("f.last_seen"),
    Field::new("fixed_at", Kind::Time, Target::Column("f.fixed_at"), "when a scan showed it fixed")
        .sortable("COALESCE(f.fixed_at, 0)"),
    Field::new("changed", Kind::Time, Target::Column("f.status_changed_at"), "when its status last changed")
        .sortable("f.status_changed_at"),
    Field::new("due", Kind::Time, Target::Column("f.sla_due_at"), "when its SLA runs out (`due<2025-01-01`)")
        .sortable("COALESCE(f.sla_due_at, 9223372036854775807)"),
    Field::new(
        "sla",
        Kind::Enum(SLA_STATES),
        Target::Cases(&SLA_CASES),
        "against its SLA: `none`, `within`, `breached` (open, past due), `met`, `missed` (fixed late)",
    ),
];

const fn concat_fields<const A: usize, const B: usize, const C: usize, const N: usize>(
    a: [Field; A],
    b: [Field; B],
    c: [Field; C],
) -> [Field; N] {
    let mut out = [a[0]; N];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    while i < A + B {
        out[i] = b[i - A];
        i += 1;
    }
    while i < N {
        out[i] = c[i - A - B];
        i += 1;
    }
    out
}

static FINDING_FIELDS: [Field; 44] = concat_fields(FINDING_OWN, ASSET_PREFIXED, SHARED);

const PACKAGE: &str = "a.inventory IN (SELECT qp.inventory FROM inventory_packages qp WHERE {cond})";
const OPEN_FINDING: &str = "a.id IN (SELECT qf.asset_id FROM findings qf WHERE qf.status <> 'fixed' AND {cond})";

const ASSET_OWN: [Field; 9] = [
    Field::new("package.name", Kind::Text, Target::Within { sql: PACKAGE, column: "qp.name" }, "an installed package"),
    Field::new(
        "package.version",
        Kind::Text,
        Target::Within { sql: PACKAGE, column: "qp.version" },
        "an installed version",
    ),
    Field::new(
        "package.ecosystem",
        Kind::Text,
        Target::Within { sql: PACKAGE, column: "qp.ecosystem" },
        "an ecosystem present",
    ),
    Field::new(
        "package.purl",
        Kind::Text,
        Target::Within { sql: PACKAGE, column: "qp.purl" },
        "an installed package URL",
    ),
    Field::new(
        "finding.severity",
        Kind::Ordered(SEVERITIES),
        Target::Within { sql: OPEN_FINDING, column: "qf.severity" },
        "the severity of an open finding",
    ),
    Field::new(
        "finding.kev",
        Kind::Bool,
        Target::Within { sql: OPEN_FINDING, column: "qf.kev" },
        "an open finding is in KEV",
    ),
    Field::new(
        "finding.advisory",
        Kind::Text,
        Target::Within {
            sql: "a.id IN (SELECT qf.asset_id FROM findings qf JOIN vuln_aliases qv ON qv.vuln_key = qf.vuln_key \
                  WHERE qf.status <> 'fixed' AND {cond})",
            column: "qv.id",
        },
        "an advisory of an open finding",
    ),
    Field::new(
        "finding.fix",
        Kind::Enum(FIX_STATES),
        Target::Within { sql: OPEN_FINDING, column: "qf.fix_status" },
        "the fix state of an open finding",
    ),
    Field::new(
        "findings",
        Kind::Integer,
        Target::Column("(SELECT COUNT(*) FROM findings qc WHERE qc.asset_id = a.id AND qc.status <> 'fixed')"),
        "how many open findings it has",
    )
    .sortable("(SELECT COUNT(*) FROM findings qc WHERE qc.asset_id = a.id AND qc.status <> 'fixed')"),
];

const ASSET_BASE: [Field; 29] = concat_fields(ASSET_PLAIN, ASSET_PREFIXED, SHARED);
static ASSET_FIELDS: [Field; 38] = concat_fields(ASSET_BASE, ASSET_OWN, []);

static AUDIT_FIELDS: [Field; 8] = [
    Field::new("at", Kind::Time, Target::Column("au.at"), "when").sortable("au.at"),
    Field::new("actor", Kind::Text, Target::Column("au.actor"), "who (a user name, or `system`)").sortable("au.actor"),
    Field::new("action", Kind::Text, Target::Column("au.action"), "what was done (`asset.update`, `finding.triage`)")
        .sortable("au.action"),
    Field::new("target", Kind::Text, Target::Column("au.target_type"), "the kind of thing changed"),
    Field::new("target.id", Kind::Text, Target::Column("au.target_id"), "which one"),
    Field::new(
        "team",
        Kind::Text,
        Target::Within { sql: "au.team_id IN (SELECT qm.id FROM teams qm WHERE {cond})", column: "qm.name" },
        "the team the thing belongs to",
    ),
    Field::new("address", Kind::Text, Target::Column("au.address"), "the client's address"),
    Field::new("request_id", Kind::Text, Target::Column("au.request_id"), "the request id"),
];

/// Findings (`findings f JOIN assets a`).
pub static FINDINGS: Catalog = Catalog::new("findings", &FINDING_FIELDS);
/// Assets (`assets a`): their own fields, with or without the `asset.`
/// prefix, installed packages and open findings.
pub static ASSETS: Catalog = Catalog::new("assets", &ASSET_FIELDS);
/// The audit trail (`audit au`).
pub static AUDIT: Catalog = Catalog::new("audit", &AUDIT_FIELDS);

/// Every catalogue, for the field list and the documentation.
pub static ALL: [&Catalog; 3] = [&FINDINGS, &ASSETS, &AUDIT];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_within_each_catalogue() {
        for catalog in ALL {
            let mut names: Vec<&str> = catalog.fields.iter().map(|f| f.name).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "{}", catalog.entity);
        }
    }

    #[test]
    fn the_sla_field_has_a_condition_for_each_state() {
        let words: Vec<&str> = SLA_CASES.iter().map(|(w, _)| *w).collect();
        assert_eq!(words, SLA_STATES);
    }

    #[test]
    fn the_query_document_lists_every_field() {
        let doc = include_str!("../../../docs/QUERY.md");
        for catalog in ALL {
            for field in catalog.fields {
                assert!(
                    doc.contains(&format!("`{}`", field.name)),
                    "docs/QUERY.md lacks `{}` ({})",
                    field.name,
                    catalog.entity
                );
            }
        }
    }

    #[test]
    fn every_field_compiles() {
        for catalog in ALL {
            for field in catalog.fields {
                let name = field.name.replace(".*", ".env");
                let value = match field.kind {
                    Kind::Text => "x*".to_string(),
                    Kind::Enum(words) | Kind::Ordered(words) => words[0].to_string(),
                    Kind::Integer | Kind::Number => "1".to_string(),
                    Kind::Bool => "true".to_string(),
                    Kind::Time => "2024-01-01".to_string(),
                };
                let expr = vigil_query::parse(&format!("{name}:{value}")).unwrap();
                vigil_query::compile(&expr, catalog, 1, 0).unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
    }
}
