//! Misconfiguration rules over the fixtures in `tests/fixtures/iac` (a
//! Dockerfile with the usual mistakes, a multi-stage one, a hardened one;
//! Kubernetes manifests; a compose file; Terraform), then compared with Checkov on the
//! rules both implement.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use vigil_comply::Issue;
use vigil_core::inventory::Inventory;
use vigil_inventory::fs::RootFs;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iac")
}

fn issues() -> Vec<Issue> {
    let fs = RootFs::open(&fixtures(), 1 << 20).unwrap();
    let options = vigil_comply::Options { misconfig: true, ..Default::default() };
    let report = vigil_comply::scan(&fs, &Inventory::default(), &options);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    report.issues
}

fn found(issues: &[Issue], file: &str) -> BTreeSet<(String, u32)> {
    issues.iter().filter(|i| i.location == file).map(|i| (i.rule.clone(), i.line.unwrap_or(0))).collect()
}

fn set(items: &[(&str, u32)]) -> BTreeSet<(String, u32)> {
    items.iter().map(|(r, l)| (r.to_string(), *l)).collect()
}

#[test]
fn dockerfiles() {
    let all = issues();
    assert_eq!(
        found(&all, "/docker/Dockerfile"),
        set(&[
            ("DOCKER-LATEST-TAG", 2),
            ("DOCKER-ROOT-USER", 2),
            ("DOCKER-NO-HEALTHCHECK", 2),
            ("DOCKER-MAINTAINER", 3),
            ("DOCKER-SECRET-IN-ENV", 4),
            ("DOCKER-ADD-URL", 6),
            ("DOCKER-ADD-INSTEAD-OF-COPY", 7),
            ("DOCKER-WORKDIR-RELATIVE", 8),
            ("DOCKER-UPDATE-ALONE", 9),
            ("DOCKER-CURL-PIPE-SHELL", 10),
            ("DOCKER-EXPOSE-SSH", 11),
        ])
    );
    assert_eq!(
        found(&all, "/docker/Dockerfile.multistage"),
        set(&[("DOCKER-NO-HEALTHCHECK", 7), ("DOCKER-ROOT-USER", 11)])
    );
    assert!(found(&all, "/docker/Dockerfile.hardened").is_empty());
    let secret = all.iter().find(|i| i.rule == "DOCKER-SECRET-IN-ENV").unwrap();
    assert_eq!(secret.key.as_deref(), Some("DB_PASSWORD"));
    assert!(secret.remediation.as_deref().unwrap().contains("--mount=type=secret"));
    assert!(!serde_json::to_string(secret).unwrap().contains("s3cr3t"), "the value is shown: {secret:?}");
}

#[test]
fn kubernetes_and_compose() {
    let all = issues();
    let deployment = found(&all, "/k8s/deployment-insecure.yaml");
    for expected in [
        ("K8S-HOST-NETWORK", 16),
        ("K8S-HOST-PID", 17),
        ("K8S-LATEST-TAG", 20),
        ("K8S-SECRET-IN-ENV", 25),
        ("K8S-PRIVILEGED", 29),
        ("K8S-ALLOW-PRIVILEGE-ESCALATION", 30),
        ("K8S-CAP-SYS-ADMIN", 32),
        ("K8S-DOCKER-SOCKET", 39),
        ("K8S-HOST-PATH", 42),
        ("K8S-NO-MEMORY-LIMIT", 19),
        ("K8S-RUN-AS-ROOT", 19),
    ] {
        assert!(deployment.contains(&(expected.0.to_string(), expected.1)), "{expected:?} not in {deployment:?}");
    }
    assert!(found(&all, "/k8s/pod-hardened.yaml").is_empty(), "{:?}", found(&all, "/k8s/pod-hardened.yaml"));
    let cron: BTreeSet<String> = found(&all, "/k8s/cronjob.yaml").into_iter().map(|(r, _)| r).collect();
    // The memory request defaults to the limit; the CPU has neither.
    assert!(cron.contains("K8S-RUN-AS-ROOT") && cron.contains("K8S-NO-CPU-REQUEST"));
    assert!(!cron.contains("K8S-NO-MEMORY-REQUEST") && !cron.contains("K8S-LATEST-TAG"));
    assert_eq!(
        found(&all, "/compose/docker-compose.yml"),
        set(&[
            ("COMPOSE-NO-MEMORY-LIMIT", 3),
            ("COMPOSE-LATEST-TAG", 3),
            ("COMPOSE-HOST-NAMESPACE", 4),
            ("COMPOSE-DOCKER-SOCKET", 6),
            ("COMPOSE-PRIVILEGED", 9),
            ("COMPOSE-CAP-ADD", 11),
            ("COMPOSE-SECRET-IN-ENV", 13),
        ])
    );
}

#[test]
fn terraform() {
    let all = issues();
    assert_eq!(
        found(&all, "/terraform/main.tf"),
        set(&[
            ("TF-S3-PUBLIC-ACL", 13),
            ("TF-SG-OPEN-SSH", 24),
            ("TF-SG-OPEN-RDP", 32),
            ("TF-EBS-UNENCRYPTED", 49),
            ("TF-RDS-PUBLIC", 64),
            ("TF-RDS-UNENCRYPTED", 65),
            ("TF-INSTANCE-ROOT-UNENCRYPTED", 68),
            ("TF-INSTANCE-IMDSV1", 68),
        ])
    );
    let keys: Vec<&str> = all.iter().filter(|i| i.rule.starts_with("TF-SG")).filter_map(|i| i.key.as_deref()).collect();
    assert_eq!(keys, ["aws_security_group.bastion", "aws_security_group.bastion"]);
}

/// Vigil's rule for each Checkov check both implement.
const SHARED: &[(&str, &str)] = &[
    ("CKV_DOCKER_1", "DOCKER-EXPOSE-SSH"),
    ("CKV_DOCKER_2", "DOCKER-NO-HEALTHCHECK"),
    ("CKV_DOCKER_3", "DOCKER-ROOT-USER"),
    ("CKV_DOCKER_8", "DOCKER-ROOT-USER"),
    ("CKV_DOCKER_4", "DOCKER-ADD-URL"),
    ("CKV_DOCKER_4", "DOCKER-ADD-INSTEAD-OF-COPY"),
    ("CKV_DOCKER_6", "DOCKER-MAINTAINER"),
    ("CKV_DOCKER_7", "DOCKER-LATEST-TAG"),
    ("CKV_DOCKER_10", "DOCKER-WORKDIR-RELATIVE"),
    ("CKV_K8S_11", "K8S-NO-CPU-LIMIT"),
    ("CKV_K8S_13", "K8S-NO-MEMORY-LIMIT"),
    ("CKV_K8S_14", "K8S-LATEST-TAG"),
    ("CKV_K8S_16", "K8S-PRIVILEGED"),
    ("CKV_K8S_17", "K8S-HOST-PID"),
    ("CKV_K8S_18", "K8S-HOST-IPC"),
    ("CKV_K8S_19", "K8S-HOST-NETWORK"),
    ("CKV_K8S_20", "K8S-ALLOW-PRIVILEGE-ESCALATION"),
    ("CKV_K8S_22", "K8S-WRITABLE-ROOT-FS"),
    ("CKV_K8S_23", "K8S-RUN-AS-ROOT"),
    ("CKV_K8S_27", "K8S-DOCKER-SOCKET"),
    ("CKV_K8S_28", "K8S-NET-RAW"),
    ("CKV_K8S_39", "K8S-CAP-SYS-ADMIN"),
    ("CKV_AWS_20", "TF-S3-PUBLIC-ACL"),
    ("CKV_AWS_24", "TF-SG-OPEN-SSH"),
    ("CKV_AWS_25", "TF-SG-OPEN-RDP"),
    ("CKV_AWS_3", "TF-EBS-UNENCRYPTED"),
    ("CKV_AWS_8", "TF-INSTANCE-ROOT-UNENCRYPTED"),
    ("CKV_AWS_16", "TF-RDS-UNENCRYPTED"),
    ("CKV_AWS_17", "TF-RDS-PUBLIC"),
    ("CKV_AWS_79", "TF-INSTANCE-IMDSV1"),
    ("CKV_AWS_41", "TF-AWS-HARDCODED-KEY"),
];

/// Checkov's failed checks on the fixtures, as (file, Vigil rule) pairs
/// for the checks in [`SHARED`]; `None` when Checkov is not installed.
fn checkov() -> Option<BTreeSet<(String, String)>> {
    let program = std::env::var("VIGIL_CHECKOV").unwrap_or_else(|_| "/var/tmp/vigil-checkov/bin/checkov".into());
    let out = Command::new(&program)
        .args(["--quiet", "--compact", "-o", "json", "--framework", "dockerfile", "kubernetes", "terraform", "-d"])
        .arg(fixtures())
        .output();
    let Some(out) = out.ok().filter(|o| !o.stdout.is_empty()) else {
        let msg = format!("oracle checkov is not installed at {program} (scripts/test.sh installs it)");
        assert!(std::env::var_os("VIGIL_REQUIRE_ORACLES").is_none(), "{msg}");
        eprintln!("\n!!!!! SKIPPED: {msg} !!!!!\n");
        return None;
    };
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("checkov writes JSON");
    let runs = match doc {
        serde_json::Value::Array(runs) => runs,
        one => vec![one],
    };
    let mut failed = BTreeSet::new();
    for run in runs {
        for check in run["results"]["failed_checks"].as_array().into_iter().flatten() {
            let id = check["check_id"].as_str().unwrap_or_default();
            let file = check["file_path"].as_str().unwrap_or_default().to_owned();
            for (_, rule) in SHARED.iter().filter(|(c, _)| *c == id) {
                failed.insert((file.clone(), rule.to_string()));
            }
        }
    }
    Some(failed)
}

#[test]
fn agrees_with_checkov_on_shared_rules() {
    let Some(theirs) = checkov() else { return };
    let rules: BTreeSet<&str> = SHARED.iter().map(|(_, r)| *r).collect();
    let ours: BTreeSet<(String, String)> = issues()
        .into_iter()
        .filter(|i| rules.contains(i.rule.as_str()) && !i.location.starts_with("/compose/"))
        .map(|i| (i.location, i.rule))
        .collect();
    // CKV_DOCKER_4 flags every ADD; Vigil splits it in two rules, so a file's ADDs count once.
    let normalise = |set: &BTreeSet<(String, String)>| -> BTreeSet<(String, String)> {
        set.iter()
            .map(|(f, r)| (f.clone(), if r.starts_with("DOCKER-ADD") { "DOCKER-ADD".to_string() } else { r.clone() }))
            .collect()
    };
    let (ours, theirs) = (normalise(&ours), normalise(&theirs));
    assert!(theirs.len() >= 20, "checkov found too little to compare: {theirs:?}");
    assert_eq!(
        ours,
        theirs,
        "only Vigil: {:?}\nonly Checkov: {:?}",
        ours.difference(&theirs),
        theirs.difference(&ours)
    );
}
