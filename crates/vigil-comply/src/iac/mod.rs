//! Misconfiguration rules for infrastructure files: one module per format
//! (`dockerfile`, `kubernetes`, `compose`, `terraform`), registered in [`FORMATS`], and
//! every rule described once in [`RULES`]. A format's checker returns
//! [`Hit`]s (rule, line, what tells two hits apart, the offending setting);
//! this module turns them into issues with the rule's title, severity and fix.

mod compose;
mod dockerfile;
mod kubernetes;
mod terraform;

use vigil_core::severity::Severity;
use vigil_inventory::fs::RootFs;

use crate::files::{self, Limits};
use crate::{Issue, Source};

/// One misconfiguration rule.
#[derive(Debug)]
pub struct Rule {
    /// Stable id (`DOCKER-ROOT-USER`).
    pub id: &'static str,
    /// The format it applies to (an id of [`FORMATS`]).
    pub format: &'static str,
    /// What is wrong.
    pub title: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// How to fix it.
    pub fix: &'static str,
    /// The CWE it is an instance of.
    pub cwe: &'static str,
}

/// What a format's checker found.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The rule's id.
    pub rule: &'static str,
    /// The line of the offending setting (or of the object lacking one).
    pub line: u32,
    /// The object it is about (`Deployment/web container app`), when a file holds several.
    pub key: Option<String>,
    /// The offending setting as written, or what is missing.
    pub detail: String,
}

/// A file format with misconfiguration rules.
pub struct Format {
    /// Its id (`dockerfile`).
    pub id: &'static str,
    /// Whether the file at this path (inside the target) may be one.
    pub matches: fn(&str) -> bool,
    /// Its checker: hits, or an error saying why the file could not be read as this format
    /// (`None` when the file turns out not to be one).
    pub check: fn(&str) -> Result<Option<Vec<Hit>>, String>,
}

/// Every format, in the order they are tried.
pub static FORMATS: &[Format] = &[
    Format { id: "dockerfile", matches: dockerfile::matches, check: dockerfile::check },
    Format { id: "compose", matches: compose::matches, check: compose::check },
    Format { id: "kubernetes", matches: kubernetes::matches, check: kubernetes::check },
    Format { id: "terraform", matches: terraform::matches, check: terraform::check },
];

/// Every rule.
pub static RULES: &[Rule] = &[
    Rule {
        id: "DOCKER-ROOT-USER",
        format: "dockerfile",
        title: "The image runs as root: the last USER of the final stage is missing or root",
        severity: Severity::High,
        fix: "Create an unprivileged user and end the final stage with `USER name` (or a numeric non-zero uid).",
        cwe: "CWE-250",
    },
    Rule {
        id: "DOCKER-LATEST-TAG",
        format: "dockerfile",
        title: "The base image has no tag or the `latest` tag",
        severity: Severity::Medium,
        fix: "Pin the base image to a version tag, better a digest (`FROM debian:12.5@sha256:...`).",
        cwe: "CWE-1357",
    },
    Rule {
        id: "DOCKER-ADD-URL",
        format: "dockerfile",
        title: "ADD fetches a URL at build time, unverified",
        severity: Severity::High,
        fix: "Download with `RUN curl -fsSLo FILE URL && echo 'SHA256  FILE' | sha256sum -c` or `ADD --checksum=sha256:...`.",
        cwe: "CWE-494",
    },
    Rule {
        id: "DOCKER-ADD-INSTEAD-OF-COPY",
        format: "dockerfile",
        title: "ADD used where COPY would do",
        severity: Severity::Low,
        fix: "Use COPY for local files; ADD also unpacks archives and fetches URLs.",
        cwe: "CWE-710",
    },
    Rule {
        id: "DOCKER-SECRET-IN-ENV",
        format: "dockerfile",
        title: "A credential is set in ENV or ARG and stays in the image",
        severity: Severity::High,
        fix: "Pass secrets with `RUN --mount=type=secret` or at run time; never bake them into ENV or ARG.",
        cwe: "CWE-798",
    },
    Rule {
        id: "DOCKER-NO-HEALTHCHECK",
        format: "dockerfile",
        title: "No HEALTHCHECK instruction",
        severity: Severity::Low,
        fix: "Add a HEALTHCHECK so the runtime can tell a hung container from a healthy one.",
        cwe: "CWE-754",
    },
    Rule {
        id: "DOCKER-EXPOSE-SSH",
        format: "dockerfile",
        title: "Port 22 (SSH) is exposed",
        severity: Severity::Medium,
        fix: "Do not run an SSH server in a container; use `docker exec` / `kubectl exec`.",
        cwe: "CWE-284",
    },
    Rule {
        id: "DOCKER-UPDATE-ALONE",
        format: "dockerfile",
        title: "A package index update runs alone, so a cached layer installs stale packages",
        severity: Severity::Low,
        fix: "Update and install in one RUN: `apt-get update && apt-get install -y ...`.",
        cwe: "CWE-1104",
    },
    Rule {
        id: "DOCKER-MAINTAINER",
        format: "dockerfile",
        title: "MAINTAINER is deprecated",
        severity: Severity::Low,
        fix: "Use `LABEL org.opencontainers.image.authors=...`.",
        cwe: "CWE-477",
    },
    Rule {
        id: "DOCKER-WORKDIR-RELATIVE",
        format: "dockerfile",
        title: "WORKDIR is a relative path",
        severity: Severity::Low,
        fix: "Give WORKDIR an absolute path.",
        cwe: "CWE-710",
    },
    Rule {
        id: "DOCKER-DUPLICATE-ALIAS",
        format: "dockerfile",
        title: "Two build stages share one alias",
        severity: Severity::Low,
        fix: "Give every `FROM ... AS name` a unique name.",
        cwe: "CWE-710",
    },
    Rule {
        id: "DOCKER-CURL-PIPE-SHELL",
        format: "dockerfile",
        title: "A script downloaded with curl or wget is piped into a shell",
        severity: Severity::Medium,
        fix: "Download the script, verify its checksum or signature, then run it.",
        cwe: "CWE-494",
    },
    Rule {
        id: "DOCKER-SUDO",
        format: "dockerfile",
        title: "RUN uses sudo",
        severity: Severity::Medium,
        fix: "Build steps already run as the current USER; switch with USER instead of sudo.",
        cwe: "CWE-250",
    },
    Rule {
        id: "K8S-PRIVILEGED",
        format: "kubernetes",
        title: "A container is privileged",
        severity: Severity::Critical,
        fix: "Remove `securityContext.privileged: true`; grant only the capabilities it needs.",
        cwe: "CWE-250",
    },
    Rule {
        id: "K8S-HOST-PID",
        format: "kubernetes",
        title: "The pod shares the host's process namespace",
        severity: Severity::High,
        fix: "Remove `hostPID: true`.",
        cwe: "CWE-668",
    },
    Rule {
        id: "K8S-HOST-IPC",
        format: "kubernetes",
        title: "The pod shares the host's IPC namespace",
        severity: Severity::High,
        fix: "Remove `hostIPC: true`.",
        cwe: "CWE-668",
    },
    Rule {
        id: "K8S-HOST-NETWORK",
        format: "kubernetes",
        title: "The pod shares the host's network namespace",
        severity: Severity::High,
        fix: "Remove `hostNetwork: true`; expose ports through a Service.",
        cwe: "CWE-668",
    },
    Rule {
        id: "K8S-ALLOW-PRIVILEGE-ESCALATION",
        format: "kubernetes",
        title: "A container may gain more privileges than its parent (allowPrivilegeEscalation is not false)",
        severity: Severity::Medium,
        fix: "Set `securityContext.allowPrivilegeEscalation: false`.",
        cwe: "CWE-269",
    },
    Rule {
        id: "K8S-RUN-AS-ROOT",
        format: "kubernetes",
        title: "A container may run as root (neither runAsNonRoot nor a non-zero runAsUser)",
        severity: Severity::Medium,
        fix: "Set `securityContext.runAsNonRoot: true` (pod or container) and a non-zero `runAsUser`.",
        cwe: "CWE-250",
    },
    Rule {
        id: "K8S-NO-CPU-LIMIT",
        format: "kubernetes",
        title: "A container has no CPU limit",
        severity: Severity::Low,
        fix: "Set `resources.limits.cpu`.",
        cwe: "CWE-770",
    },
    Rule {
        id: "K8S-NO-MEMORY-LIMIT",
        format: "kubernetes",
        title: "A container has no memory limit",
        severity: Severity::Medium,
        fix: "Set `resources.limits.memory`.",
        cwe: "CWE-770",
    },
    Rule {
        id: "K8S-NO-CPU-REQUEST",
        format: "kubernetes",
        title: "A container has no CPU request",
        severity: Severity::Low,
        fix: "Set `resources.requests.cpu`.",
        cwe: "CWE-770",
    },
    Rule {
        id: "K8S-NO-MEMORY-REQUEST",
        format: "kubernetes",
        title: "A container has no memory request",
        severity: Severity::Low,
        fix: "Set `resources.requests.memory`.",
        cwe: "CWE-770",
    },
    Rule {
        id: "K8S-LATEST-TAG",
        format: "kubernetes",
        title: "A container image has no tag or the `latest` tag",
        severity: Severity::Medium,
        fix: "Pin the image to a version tag or a digest.",
        cwe: "CWE-1357",
    },
    Rule {
        id: "K8S-WRITABLE-ROOT-FS",
        format: "kubernetes",
        title: "A container's root filesystem is writable",
        severity: Severity::Low,
        fix: "Set `securityContext.readOnlyRootFilesystem: true` and mount writable volumes where needed.",
        cwe: "CWE-732",
    },
    Rule {
        id: "K8S-CAP-SYS-ADMIN",
        format: "kubernetes",
        title: "A container adds the SYS_ADMIN capability",
        severity: Severity::High,
        fix: "Remove SYS_ADMIN from `securityContext.capabilities.add`.",
        cwe: "CWE-250",
    },
    Rule {
        id: "K8S-NET-RAW",
        format: "kubernetes",
        title: "A container keeps the NET_RAW capability (neither NET_RAW nor ALL dropped)",
        severity: Severity::Low,
        fix: "Set `securityContext.capabilities.drop: [ALL]`.",
        cwe: "CWE-250",
    },
    Rule {
        id: "K8S-DOCKER-SOCKET",
        format: "kubernetes",
        title: "The container runtime's socket is mounted from the host",
        severity: Severity::Critical,
        fix: "Do not mount /var/run/docker.sock (or containerd's socket) into a pod.",
        cwe: "CWE-668",
    },
    Rule {
        id: "K8S-HOST-PATH",
        format: "kubernetes",
        title: "A volume mounts a path of the host",
        severity: Severity::Medium,
        fix: "Use a persistentVolumeClaim, configMap, secret or emptyDir instead of hostPath.",
        cwe: "CWE-668",
    },
    Rule {
        id: "K8S-SECRET-IN-ENV",
        format: "kubernetes",
        title: "A credential is written into an environment variable's value",
        severity: Severity::High,
        fix: "Use `valueFrom.secretKeyRef` with a Kubernetes Secret.",
        cwe: "CWE-798",
    },
    Rule {
        id: "COMPOSE-PRIVILEGED",
        format: "compose",
        title: "A service runs privileged",
        severity: Severity::Critical,
        fix: "Remove `privileged: true`; add only the capabilities it needs.",
        cwe: "CWE-250",
    },
    Rule {
        id: "COMPOSE-HOST-NAMESPACE",
        format: "compose",
        title: "A service shares a host namespace (network_mode, pid or ipc: host)",
        severity: Severity::High,
        fix: "Remove `network_mode: host`, `pid: host` and `ipc: host`.",
        cwe: "CWE-668",
    },
    Rule {
        id: "COMPOSE-DOCKER-SOCKET",
        format: "compose",
        title: "A service mounts the Docker socket",
        severity: Severity::Critical,
        fix: "Do not mount /var/run/docker.sock into a service.",
        cwe: "CWE-668",
    },
    Rule {
        id: "COMPOSE-CAP-ADD",
        format: "compose",
        title: "A service adds a dangerous capability (ALL, SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE)",
        severity: Severity::High,
        fix: "Remove the capability from `cap_add`.",
        cwe: "CWE-250",
    },
    Rule {
        id: "COMPOSE-LATEST-TAG",
        format: "compose",
        title: "A service image has no tag or the `latest` tag",
        severity: Severity::Medium,
        fix: "Pin the image to a version tag or a digest.",
        cwe: "CWE-1357",
    },
    Rule {
        id: "COMPOSE-NO-MEMORY-LIMIT",
        format: "compose",
        title: "A service has no memory limit",
        severity: Severity::Low,
        fix: "Set `mem_limit` or `deploy.resources.limits.memory`.",
        cwe: "CWE-770",
    },
    Rule {
        id: "COMPOSE-SECRET-IN-ENV",
        format: "compose",
        title: "A credential is written into a service's environment",
        severity: Severity::High,
        fix: "Use compose `secrets:` or an env file kept out of the repository.",
        cwe: "CWE-798",
    },
    Rule {
        id: "TF-S3-PUBLIC-ACL",
        format: "terraform",
        title: "An S3 bucket ACL grants public access",
        severity: Severity::High,
        fix: "Remove the public ACL (use `private`) and enable the bucket's public access block.",
        cwe: "CWE-732",
    },
    Rule {
        id: "TF-SG-OPEN-SSH",
        format: "terraform",
        title: "A security group allows SSH (22) from anywhere",
        severity: Severity::High,
        fix: "Limit the ingress CIDR to known addresses, or reach hosts through a bastion or SSM.",
        cwe: "CWE-284",
    },
    Rule {
        id: "TF-SG-OPEN-RDP",
        format: "terraform",
        title: "A security group allows RDP (3389) from anywhere",
        severity: Severity::High,
        fix: "Limit the ingress CIDR to known addresses, or use a VPN.",
        cwe: "CWE-284",
    },
    Rule {
        id: "TF-SG-OPEN-ALL",
        format: "terraform",
        title: "A security group allows every port from anywhere",
        severity: Severity::Critical,
        fix: "Open only the ports the service needs, to the addresses that need them.",
        cwe: "CWE-284",
    },
    Rule {
        id: "TF-EBS-UNENCRYPTED",
        format: "terraform",
        title: "An EBS volume is not encrypted",
        severity: Severity::Medium,
        fix: "Set `encrypted = true` (and a `kms_key_id`).",
        cwe: "CWE-311",
    },
    Rule {
        id: "TF-INSTANCE-ROOT-UNENCRYPTED",
        format: "terraform",
        title: "An instance's root volume is not encrypted",
        severity: Severity::Medium,
        fix: "Add `root_block_device { encrypted = true }`.",
        cwe: "CWE-311",
    },
    Rule {
        id: "TF-RDS-UNENCRYPTED",
        format: "terraform",
        title: "An RDS instance's storage is not encrypted",
        severity: Severity::Medium,
        fix: "Set `storage_encrypted = true`.",
        cwe: "CWE-311",
    },
    Rule {
        id: "TF-RDS-PUBLIC",
        format: "terraform",
        title: "An RDS instance is publicly accessible",
        severity: Severity::High,
        fix: "Set `publicly_accessible = false` and reach it from inside the VPC.",
        cwe: "CWE-284",
    },
    Rule {
        id: "TF-INSTANCE-IMDSV1",
        format: "terraform",
        title: "An instance allows the instance metadata service v1 (no session tokens)",
        severity: Severity::Medium,
        fix: "Add `metadata_options { http_tokens = \"required\" }`.",
        cwe: "CWE-918",
    },
    Rule {
        id: "TF-AWS-HARDCODED-KEY",
        format: "terraform",
        title: "AWS keys are written into the provider block",
        severity: Severity::Critical,
        fix: "Remove `access_key`/`secret_key`; use the environment, a profile or an instance role.",
        cwe: "CWE-798",
    },
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// True for an image reference without a tag or digest, or with `latest`.
pub(crate) fn unpinned(image: &str) -> bool {
    if image.contains('@') {
        return false;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) => tag == "latest",
        None => true,
    }
}

/// True for an environment variable name that holds a credential, with a literal value.
pub(crate) fn credential_assignment(name: &str, value: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let named = ["password", "passwd", "secret", "token", "api_key", "apikey", "access_key", "private_key"]
        .iter()
        .any(|w| name.contains(w));
    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
    named && !value.is_empty() && !value.starts_with('$') && !name.ends_with("_file") && !name.ends_with("_path")
}

/// Runs every format over the candidate files.
pub(crate) fn scan(
    fs: &RootFs,
    found: &[String],
    limits: &Limits,
    issues: &mut Vec<Issue>,
    warnings: &mut Vec<String>,
) {
    for path in found {
        for format in FORMATS.iter().filter(|f| (f.matches)(path)) {
            let Some(text) = files::text(fs, path, limits, warnings) else { break };
            match (format.check)(&text) {
                Ok(Some(hits)) => {
                    issues.extend(hits.into_iter().map(|hit| issue(path, hit)));
                    break;
                }
                Ok(None) => {}
                Err(e) => warnings.push(format!("{}: {path}: {e}", format.id)),
            }
        }
    }
}

/// The issue of one hit.
fn issue(path: &str, hit: Hit) -> Issue {
    let rule = rule(hit.rule).expect("checkers only name rules of RULES");
    Issue {
        source: Source::Config,
        rule: rule.id.to_owned(),
        title: rule.title.to_owned(),
        severity: rule.severity,
        location: path.to_owned(),
        key: hit.key,
        line: Some(hit.line),
        layer: None,
        cwe: Some(rule.cwe.to_owned()),
        remediation: Some(rule.fix.to_owned()),
        evidence: Some(serde_json::json!({ "setting": vigil_core::excerpt::clip(&hit.detail) })),
        references: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_belongs_to_a_format() {
        for r in RULES {
            assert!(FORMATS.iter().any(|f| f.id == r.format), "{}", r.id);
        }
        let mut ids: Vec<_> = RULES.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
    }

    #[test]
    fn image_pinning() {
        assert!(unpinned("nginx"));
        assert!(unpinned("nginx:latest"));
        assert!(unpinned("localhost:5000/app"));
        assert!(!unpinned("localhost:5000/app:1.2"));
        assert!(!unpinned("nginx@sha256:abc"));
    }
}
