//! The built-in Debian policy over a small root filesystem built here:
//! results with their evidence, and results that flip when a file changes.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use vigil_comply::policy::{self, Status};
use vigil_core::inventory::{Inventory, Location, OsInfo, Package};
use vigil_inventory::fs::RootFs;

fn write(root: &Path, path: &str, text: &str, mode: u32) {
    let p = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn package(name: &str) -> Package {
    Package {
        name: name.into(),
        version: "1:9.2p1-2".into(),
        version_source: None,
        ecosystem: "Debian:12".into(),
        purl: format!("pkg:deb/debian/{name}@1:9.2p1-2"),
        source: None,
        arch: None,
        license: None,
        location: Location { path: "/var/lib/dpkg/status".into(), layer: None },
        cataloger: "dpkg".into(),
        properties: Default::default(),
    }
}

fn root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "/etc/ssh/sshd_config",
        "Include /etc/ssh/sshd_config.d/*.conf\n#PermitRootLogin prohibit-password\nX11Forwarding yes\nUsePAM yes\n",
        0o644,
    );
    write(r, "/etc/ssh/sshd_config.d/10-hardening.conf", "PermitRootLogin no\nMaxAuthTries 3\n", 0o644);
    write(r, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n", 0o644);
    write(r, "/etc/group", "root:x:0:\nshadow:x:42:\n", 0o644);
    write(r, "/etc/shadow", "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n", 0o640);
    write(
        r,
        "/etc/login.defs",
        "PASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\nPASS_WARN_AGE\t7\nUMASK\t\t022\nENCRYPT_METHOD SHA512\n",
        0o644,
    );
    write(r, "/etc/sysctl.d/99-hardening.conf", "kernel.randomize_va_space = 2\nnet.ipv4.ip_forward = 1\n", 0o644);
    write(r, "/etc/world-writable", "x", 0o666);
    std::fs::create_dir_all(r.join("tmp")).unwrap();
    std::fs::set_permissions(r.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    // A link out of the root is never followed.
    symlink("/etc/shadow", r.join("etc/host-shadow")).unwrap();
    dir
}

fn inventory() -> Inventory {
    Inventory {
        target: "test".into(),
        os: Some(OsInfo {
            id: "debian".into(),
            version_id: Some("12".into()),
            pretty_name: None,
            ecosystem: Some("Debian:12".into()),
            source: "/etc/os-release".into(),
        }),
        packages: vec![package("openssh-server"), package("telnetd")],
        ..Inventory::default()
    }
}

fn results(root: &Path) -> Vec<policy::CheckResult> {
    let fs = RootFs::open(root, 1 << 20).unwrap();
    let debian = policy::load("debian", &|p| Err(p.to_string())).unwrap();
    policy::evaluate(&debian, &fs, &inventory())
}

fn status(results: &[policy::CheckResult], id: &str) -> Status {
    results.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no check {id}")).status
}

#[test]
fn checks_read_the_files_with_their_evidence() {
    let dir = root();
    let r = results(dir.path());
    // A drop-in read before sshd_config sets PermitRootLogin and MaxAuthTries; the first value wins.
    assert_eq!(status(&r, "debian-ssh-root-login"), Status::Pass);
    assert_eq!(status(&r, "debian-ssh-max-auth-tries"), Status::Pass);
    let x11 = r.iter().find(|c| c.id == "debian-ssh-x11-forwarding").unwrap();
    assert_eq!(x11.status, Status::Fail);
    assert_eq!(
        (x11.evidence[0].file.as_deref(), x11.evidence[0].line, x11.evidence[0].value.as_deref()),
        (Some("/etc/ssh/sshd_config"), Some(3), Some("yes"))
    );
    assert_eq!(status(&r, "debian-password-max-days"), Status::Fail);
    assert_eq!(status(&r, "debian-password-warn-age"), Status::Pass);
    assert_eq!(status(&r, "debian-umask-login-defs"), Status::Fail);
    assert_eq!(status(&r, "debian-accounts-uid0-only-root"), Status::Pass);
    // Owned by whoever runs the test: root in CI (scripts/test.sh runs as root).
    let as_root = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(dir.path()).unwrap()) == 0;
    assert_eq!(status(&r, "debian-perm-shadow"), if as_root { Status::Pass } else { Status::Fail });
    assert_eq!(status(&r, "debian-sysctl-randomize-va-space"), Status::Pass);
    assert_eq!(status(&r, "debian-sysctl-ipv4-ip-forward"), Status::Fail);
    // Not configured: the kernel's default decides.
    assert_eq!(status(&r, "debian-sysctl-suid-dumpable"), Status::Pass);
    assert_eq!(status(&r, "debian-no-telnetd"), Status::Fail);
    assert_eq!(status(&r, "debian-no-nis"), Status::Pass);
    // sudo is not installed: its checks do not apply.
    assert_eq!(status(&r, "debian-sudo-use-pty"), Status::NotApplicable);
    let ww = r.iter().find(|c| c.id == "debian-world-writable-files").unwrap();
    assert_eq!(ww.status, Status::Fail);
    assert_eq!(ww.evidence[0].file.as_deref(), Some("/etc/world-writable"));
    assert_eq!(status(&r, "debian-world-writable-dirs-sticky"), Status::Pass);
    // Every check has an outcome, and none errs on a readable root.
    let errors: Vec<_> = r.iter().filter(|c| c.status == Status::Error).map(|c| (&c.id, &c.evidence)).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn results_flip_when_files_change() {
    let dir = root();
    let r = dir.path();
    write(r, "/etc/ssh/sshd_config.d/10-hardening.conf", "PermitRootLogin yes\n", 0o644);
    write(r, "/etc/login.defs", "PASS_MAX_DAYS 90\nPASS_MIN_DAYS 1\nPASS_WARN_AGE 3\nUMASK 027\n", 0o644);
    write(r, "/etc/shadow", "root:*:19000:0:99999:7:::\ndaemon::19000:0:99999:7:::\n", 0o644);
    write(r, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\n", 0o644);
    std::fs::set_permissions(r.join("etc/world-writable"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::create_dir_all(r.join("srv/drop")).unwrap();
    std::fs::set_permissions(r.join("srv/drop"), std::fs::Permissions::from_mode(0o777)).unwrap();
    let after = results(r);
    for (id, status_now) in [
        ("debian-ssh-root-login", Status::Fail),
        ("debian-password-max-days", Status::Pass),
        ("debian-password-warn-age", Status::Fail),
        ("debian-umask-login-defs", Status::Pass),
        ("debian-accounts-no-empty-passwords", Status::Fail),
        ("debian-accounts-uid0-only-root", Status::Fail),
        ("debian-perm-shadow", Status::Fail),
        ("debian-world-writable-files", Status::Pass),
        ("debian-world-writable-dirs-sticky", Status::Fail),
    ] {
        assert_eq!(status(&after, id), status_now, "{id}");
    }
    let uid0 = after.iter().find(|c| c.id == "debian-accounts-uid0-only-root").unwrap();
    assert_eq!((uid0.evidence[0].line, uid0.evidence[0].value.as_deref()), (Some(2), Some("toor")));
}

#[test]
fn failed_checks_become_issues_and_foreign_policies_do_not_apply() {
    let dir = root();
    let fs = RootFs::open(dir.path(), 1 << 20).unwrap();
    let debian = policy::load("debian", &|p| Err(p.to_string())).unwrap();
    let options = vigil_comply::Options { policies: vec![debian], ..Default::default() };
    let report = vigil_comply::scan(&fs, &inventory(), &options);
    let x11 = report.issues.iter().find(|i| i.rule == "debian-ssh-x11-forwarding").unwrap();
    assert_eq!((x11.location.as_str(), x11.line), ("/etc/ssh/sshd_config", Some(3)));
    assert!(x11.references.iter().any(|r| r == "ssg:sshd_disable_x11_forwarding"), "{:?}", x11.references);
    assert_eq!(report.issues.len(), report.checks.iter().filter(|c| c.status == Status::Fail).count());
    let alpine = policy::load("alpine", &|p| Err(p.to_string())).unwrap();
    let r = policy::evaluate(&alpine, &fs, &inventory());
    assert!(r.iter().all(|c| c.status == Status::NotApplicable));
}
