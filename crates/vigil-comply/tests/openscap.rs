//! The Debian policy against OpenSCAP on a real Debian root filesystem (the
//! one `scripts/test.sh` builds with mmdebstrap into `VIGIL_REAL_ROOTFS`).
//!
//! Every Vigil check that names a ComplianceAsCode rule (`compliance.ssg`)
//! is compared with OpenSCAP's evaluation of that rule's OVAL definition
//! from Debian's `ssg-debian` content, run by `oscap-chroot`; then files of
//! a copy of the root filesystem are changed and both must flip together.
//!
//! What OpenSCAP cannot evaluate in a chroot is left out and said here:
//! its `dpkginfo` probe reads the host's package database rather than the
//! chroot's (so `package_*` definitions describe the host, and an SSH
//! definition's "not installed" branch is taken from the host too: for
//! those the definition's own file tests are compared); `service_*` asks
//! the running systemd and `sysctl_*` the running kernel. ssg-debian ships
//! content for Debian 10 and 11 only, so the OVAL definitions are evaluated
//! directly (the XCCDF platform check would mark every rule not applicable
//! on Debian 12), with the variables a profile would set given in
//! [`VARIABLES`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use vigil_comply::policy::{self, Status};
use vigil_inventory::fs::RootFs;

const CONTENT: &str = "/usr/share/xml/scap/ssg/content/ssg-debian11-oval.xml";

/// The profile values the compared definitions read (the same thresholds as the Vigil checks).
const VARIABLES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<oval_variables xmlns="http://oval.mitre.org/XMLSchema/oval-variables-5" xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5">
  <generator><oval:schema_version>5.11.2</oval:schema_version><oval:timestamp>2026-01-01T00:00:00</oval:timestamp></generator>
  <variables>
    <variable id="oval:ssg-sshd_required:var:1" datatype="int" comment="sshd neither required nor forbidden"><value>0</value></variable>
    <variable id="oval:ssg-sshd_max_auth_tries_value:var:1" datatype="int" comment="MaxAuthTries"><value>4</value></variable>
    <variable id="oval:ssg-var_accounts_password_warn_age_login_defs:var:1" datatype="int" comment="PASS_WARN_AGE"><value>7</value></variable>
    <variable id="oval:ssg-var_sudo_logfile:var:1" datatype="string" comment="sudo log file"><value>/var/log/sudo.log</value></variable>
  </variables>
</oval_variables>
"#;

fn skip(why: &str) {
    assert!(std::env::var_os("VIGIL_REQUIRE_ORACLES").is_none(), "{why}");
    eprintln!("\n!!!!! SKIPPED: {why} !!!!!\n");
}

/// OpenSCAP's verdict per ComplianceAsCode rule name, for the rules it can evaluate in a chroot.
fn openscap(root: &Path, work: &Path) -> HashMap<String, bool> {
    let variables = work.join("variables.xml");
    std::fs::write(&variables, VARIABLES).unwrap();
    let results = work.join(format!("results-{}.xml", root.file_name().unwrap().to_string_lossy()));
    let out = Command::new("oscap-chroot")
        .arg(root)
        .args(["oval", "eval", "--variables"])
        .arg(&variables)
        .arg("--results")
        .arg(&results)
        .arg(CONTENT)
        .output()
        .expect("oscap-chroot runs");
    assert!(out.status.success(), "oscap-chroot failed: {}", String::from_utf8_lossy(&out.stderr));
    let content = std::fs::read_to_string(CONTENT).unwrap();
    let defs = roxmltree::Document::parse(&content).unwrap();
    let text = std::fs::read_to_string(&results).unwrap();
    let doc = roxmltree::Document::parse_with_options(
        &text,
        roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() },
    )
    .unwrap();
    let result = |tag: &str, attr: &str| -> HashMap<String, String> {
        doc.descendants()
            .filter(|n| n.tag_name().name() == tag && n.has_attribute(attr) && n.has_attribute("result"))
            .map(|n| (n.attribute(attr).unwrap().to_owned(), n.attribute("result").unwrap().to_owned()))
            .collect()
    };
    let (definitions, tests) = (result("definition", "definition_id"), result("test", "test_id"));
    let mut verdicts = HashMap::new();
    for def in defs.descendants().filter(|n| n.tag_name().name() == "definition" && n.has_attribute("id")) {
        let id = def.attribute("id").unwrap();
        let Some(name) = id.strip_prefix("oval:ssg-").and_then(|n| n.strip_suffix(":def:1")) else { continue };
        if ["package_", "service_", "sysctl_"].iter().any(|p| name.starts_with(p)) {
            continue;
        }
        let package_branch = def.descendants().any(|n| {
            n.tag_name().name() == "extend_definition"
                && n.attribute("definition_ref").is_some_and(|r| r.starts_with("oval:ssg-package_"))
        });
        let verdict = if package_branch {
            // The file tests themselves: every criterion of the definition holds.
            let criteria: Vec<&str> = def
                .descendants()
                .filter(|n| n.tag_name().name() == "criterion")
                .filter_map(|n| n.attribute("test_ref"))
                .collect();
            if criteria.is_empty() {
                continue;
            }
            criteria.iter().all(|t| tests.get(*t).map(String::as_str) == Some("true"))
        } else {
            match definitions.get(id).map(String::as_str) {
                Some("true") => true,
                Some("false") => false,
                _ => continue,
            }
        };
        verdicts.insert(name.to_owned(), verdict);
    }
    verdicts
}

/// Vigil's Debian policy on `root`: check id -> (status, the ComplianceAsCode rules it names).
fn vigil(root: &Path) -> HashMap<String, (Status, Vec<String>)> {
    let inventory = vigil_inventory::inventory_dir(root, &Default::default()).unwrap();
    let fs = RootFs::open(root, 64 << 20).unwrap();
    let debian = policy::load("debian", &|p| Err(p.to_string())).unwrap();
    policy::evaluate(&debian, &fs, &inventory)
        .into_iter()
        .map(|r| (r.id.clone(), (r.status, r.compliance.get("ssg").cloned().unwrap_or_default())))
        .collect()
}

/// Compares every check with counterparts OpenSCAP decided; returns (check, status) of those compared.
fn compare(ours: &HashMap<String, (Status, Vec<String>)>, theirs: &HashMap<String, bool>) -> HashMap<String, Status> {
    let mut compared = HashMap::new();
    let mut disagreements = Vec::new();
    for (id, (status, rules)) in ours {
        if rules.is_empty() || !matches!(status, Status::Pass | Status::Fail) {
            continue;
        }
        let verdicts: Option<Vec<bool>> = rules.iter().map(|r| theirs.get(r).copied()).collect();
        let Some(verdicts) = verdicts else { continue };
        let oracle = verdicts.iter().all(|v| *v);
        if oracle != (*status == Status::Pass) {
            disagreements.push(format!("{id}: Vigil {status:?}, OpenSCAP {rules:?} = {verdicts:?}"));
        }
        compared.insert(id.clone(), *status);
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    compared
}

#[test]
fn debian_policy_agrees_with_openscap_and_flips_with_it() {
    let Some(real) = std::env::var_os("VIGIL_REAL_ROOTFS").map(PathBuf::from) else {
        return skip("VIGIL_REAL_ROOTFS is not set (scripts/test.sh builds the real Debian root filesystem)");
    };
    let root = real.join("bookworm");
    if !Command::new("oscap").arg("--version").output().is_ok_and(|o| o.status.success())
        || !Path::new(CONTENT).is_file()
    {
        return skip("oscap or ssg-debian is not installed (scripts/test.sh installs openscap-scanner and ssg-debian)");
    }
    let work = tempfile::tempdir().unwrap();
    let before = compare(&vigil(&root), &openscap(&root, work.path()));
    eprintln!("{} checks compared with OpenSCAP", before.len());
    assert!(before.len() >= 25, "only {} checks compared: {before:?}", before.len());
    assert!(before.values().any(|s| *s == Status::Fail) && before.values().any(|s| *s == Status::Pass));

    // A copy with hardened and weakened settings.
    let copy = work.path().join("copy");
    let cp = Command::new("cp").arg("-a").arg(&root).arg(&copy).status().unwrap();
    assert!(cp.success());
    let edit = |path: &str, change: &dyn Fn(String) -> String| {
        let p = copy.join(path);
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, change(text)).unwrap();
    };
    edit("etc/ssh/sshd_config", &|t| {
        t.replace("X11Forwarding yes", "X11Forwarding no")
            + "PermitRootLogin no\nMaxAuthTries 3\nPermitEmptyPasswords no\nIgnoreRhosts yes\nHostbasedAuthentication no\n"
    });
    edit("etc/passwd", &|t| t + "toor:x:0:0:backdoor:/root:/bin/bash\n");
    edit("etc/shadow", &|t| t + "toor::19000:0:99999:7:::\n");
    std::fs::write(copy.join("etc/sudoers.d/ci"), "ci ALL=(ALL) NOPASSWD: ALL\n").unwrap();
    std::fs::write(copy.join("etc/open-to-all"), "x").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(copy.join("etc/open-to-all"), std::fs::Permissions::from_mode(0o666)).unwrap();
    std::fs::set_permissions(copy.join("etc/shadow"), std::fs::Permissions::from_mode(0o644)).unwrap();

    let after = compare(&vigil(&copy), &openscap(&copy, work.path()));
    for (id, now) in [
        ("debian-ssh-root-login", Status::Pass),
        ("debian-ssh-x11-forwarding", Status::Pass),
        ("debian-ssh-max-auth-tries", Status::Pass),
        ("debian-ssh-empty-passwords", Status::Pass),
        ("debian-accounts-uid0-only-root", Status::Fail),
        ("debian-accounts-no-empty-passwords", Status::Fail),
        ("debian-perm-shadow", Status::Fail),
        ("debian-world-writable-files", Status::Fail),
        ("debian-sudo-no-nopasswd", Status::Fail),
    ] {
        assert_eq!(after.get(id), Some(&now), "{id} after the change (compared: {after:?})");
        assert_ne!(before.get(id), Some(&now), "{id} did not flip");
    }
}
