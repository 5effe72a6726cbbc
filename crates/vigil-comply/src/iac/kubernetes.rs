//! Kubernetes manifests (and Helm charts once rendered with `helm template`):
//! every document of a YAML stream, `List` items included, whose kind holds a
//! pod template (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
//! CronJob, ReplicationController, PodTemplate) is checked pod by pod and
//! container by container. A container's security context overrides its pod's.

use super::{Hit, credential_assignment, unpinned};
use crate::yaml::{self, Node};

/// YAML files.
pub(super) fn matches(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml")
}

/// Where a kind keeps its pod spec.
fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pod" => &["spec"],
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "ReplicationController" => {
            &["spec", "template", "spec"]
        }
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        "PodTemplate" => &["template", "spec"],
        _ => return None,
    })
}

/// Checks the manifests of a YAML file; `None` when it holds no Kubernetes
/// object (or is an unrendered Helm template).
pub(super) fn check(text: &str) -> Result<Option<Vec<Hit>>, String> {
    let looks_like = text.contains("apiVersion") && text.contains("kind");
    if !looks_like || text.contains("{{") {
        return Ok(None);
    }
    let docs = yaml::documents(text)?;
    let mut objects = Vec::new();
    for doc in &docs {
        if doc.get("kind").and_then(Node::text).as_deref() == Some("List") {
            objects.extend(doc.get("items").map(Node::items).unwrap_or_default());
        } else {
            objects.push(doc);
        }
    }
    let mut any = false;
    let mut hits = Vec::new();
    for object in objects {
        let (Some(kind), Some(_)) = (object.get("kind").and_then(Node::text), object.get("apiVersion")) else {
            continue;
        };
        any = true;
        let Some(spec) = pod_spec_path(&kind).and_then(|p| object.at(p)) else { continue };
        let name = object.at(&["metadata", "name"]).and_then(Node::text).unwrap_or_default();
        check_pod(&format!("{kind}/{name}"), spec, &mut hits);
    }
    hits.sort_by_key(|h| h.line);
    Ok(any.then_some(hits))
}

fn check_pod(object: &str, spec: &Node, hits: &mut Vec<Hit>) {
    let mut hit = |rule, node: &Node, key: String, detail: String| {
        hits.push(Hit { rule, line: node.line, key: Some(key), detail })
    };
    for (setting, rule) in
        [("hostPID", "K8S-HOST-PID"), ("hostIPC", "K8S-HOST-IPC"), ("hostNetwork", "K8S-HOST-NETWORK")]
    {
        if let Some(node) = spec.get(setting).filter(|n| n.is_true()) {
            hit(rule, node, object.to_owned(), format!("{setting}: true"));
        }
    }
    for volume in spec.get("volumes").map(Node::items).unwrap_or_default() {
        let Some(path) = volume.at(&["hostPath", "path"]) else { continue };
        let host = path.text().unwrap_or_default();
        let socket = ["docker.sock", "containerd.sock", "crio.sock", "podman.sock"].iter().any(|s| host.ends_with(s));
        let volume_name = volume.get("name").and_then(Node::text).unwrap_or_default();
        let rule = if socket { "K8S-DOCKER-SOCKET" } else { "K8S-HOST-PATH" };
        hit(rule, path, format!("{object} volume {volume_name}"), format!("hostPath.path: {host}"));
    }
    let pod_context = spec.get("securityContext");
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for container in spec.get(list).map(Node::items).unwrap_or_default() {
            let name = container.get("name").and_then(Node::text).unwrap_or_default();
            let key = format!("{object} container {name}");
            let context = container.get("securityContext");
            let setting = |field: &str| context.and_then(|c| c.get(field));
            let effective = |field: &str| setting(field).or_else(|| pod_context.and_then(|c| c.get(field)));
            if let Some(node) = setting("privileged").filter(|n| n.is_true()) {
                hit("K8S-PRIVILEGED", node, key.clone(), "privileged: true".into());
            }
            match setting("allowPrivilegeEscalation") {
                Some(node) if node.text().as_deref() == Some("false") => {}
                Some(node) => {
                    hit("K8S-ALLOW-PRIVILEGE-ESCALATION", node, key.clone(), "allowPrivilegeEscalation: true".into())
                }
                None => hit(
                    "K8S-ALLOW-PRIVILEGE-ESCALATION",
                    container,
                    key.clone(),
                    "allowPrivilegeEscalation not set".into(),
                ),
            }
            let non_root = effective("runAsNonRoot").is_some_and(Node::is_true);
            let user = effective("runAsUser").and_then(Node::text).and_then(|u| u.parse::<f64>().ok());
            if !non_root && user.is_none_or(|u| u <= 0.0) {
                hit("K8S-RUN-AS-ROOT", container, key.clone(), "no runAsNonRoot: true and no runAsUser above 0".into());
            }
            // A request left out defaults to the limit, as the API server does.
            for (kind, limit_rule, request_rule) in [
                ("cpu", "K8S-NO-CPU-LIMIT", "K8S-NO-CPU-REQUEST"),
                ("memory", "K8S-NO-MEMORY-LIMIT", "K8S-NO-MEMORY-REQUEST"),
            ] {
                let limit = container.at(&["resources", "limits", kind]).is_some();
                if !limit {
                    hit(limit_rule, container, key.clone(), format!("no resources.limits.{kind}"));
                }
                if !limit && container.at(&["resources", "requests", kind]).is_none() {
                    hit(request_rule, container, key.clone(), format!("no resources.requests.{kind}"));
                }
            }
            match container.get("image") {
                Some(image) if !unpinned(&image.text().unwrap_or_default()) => {}
                Some(image) => {
                    hit("K8S-LATEST-TAG", image, key.clone(), format!("image: {}", image.text().unwrap_or_default()))
                }
                None => hit("K8S-LATEST-TAG", container, key.clone(), "no image".into()),
            }
            if !setting("readOnlyRootFilesystem").is_some_and(Node::is_true) {
                hit("K8S-WRITABLE-ROOT-FS", container, key.clone(), "readOnlyRootFilesystem not true".into());
            }
            let caps = |field: &str| -> Vec<(String, &Node)> {
                setting("capabilities")
                    .and_then(|c| c.get(field))
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .map(|n| (n.text().unwrap_or_default().to_ascii_uppercase(), n))
                    .collect()
            };
            for (cap, node) in caps("add") {
                if cap.trim_start_matches("CAP_") == "SYS_ADMIN" {
                    hit("K8S-CAP-SYS-ADMIN", node, key.clone(), "capabilities.add: SYS_ADMIN".into());
                }
            }
            let dropped = caps("drop");
            if !dropped.iter().any(|(c, _)| matches!(c.trim_start_matches("CAP_"), "ALL" | "NET_RAW")) {
                hit("K8S-NET-RAW", container, key.clone(), "NET_RAW not dropped".into());
            }
            for env in container.get("env").map(Node::items).unwrap_or_default() {
                let (Some(var), Some(value)) = (env.get("name").and_then(Node::text), env.get("value")) else {
                    continue;
                };
                if credential_assignment(&var, &value.text().unwrap_or_default()) {
                    hit(
                        "K8S-SECRET-IN-ENV",
                        value,
                        format!("{key} env {var}"),
                        format!("env {var} has a literal value"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RISKY: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  hostPID: true\n  hostNetwork: true\n\
        \x20 volumes:\n  - name: sock\n    hostPath:\n      path: /var/run/docker.sock\n  containers:\n  - name: app\n\
        \x20   image: nginx\n    securityContext:\n      privileged: true\n      capabilities:\n        add: [SYS_ADMIN]\n\
        \x20   env:\n    - name: DB_PASSWORD\n      value: s3cretvalue\n";

    const CAREFUL: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: good}\nspec:\n  template:\n    spec:\n\
        \x20     securityContext: {runAsNonRoot: true, runAsUser: 10001}\n      containers:\n      - name: app\n\
        \x20       image: registry.example.invalid/app:1.4.2\n        securityContext:\n          allowPrivilegeEscalation: false\n\
        \x20         readOnlyRootFilesystem: true\n          capabilities: {drop: [ALL]}\n        resources:\n\
        \x20         limits: {cpu: 500m, memory: 256Mi}\n          requests: {cpu: 100m, memory: 128Mi}\n";

    #[test]
    fn risky_pods_are_found_at_their_lines() {
        let hits = check(RISKY).unwrap().unwrap();
        let found: Vec<(&str, u32)> = hits.iter().map(|h| (h.rule, h.line)).collect();
        for expected in [
            ("K8S-HOST-PID", 6),
            ("K8S-HOST-NETWORK", 7),
            ("K8S-DOCKER-SOCKET", 11),
            ("K8S-LATEST-TAG", 14),
            ("K8S-PRIVILEGED", 16),
            ("K8S-CAP-SYS-ADMIN", 18),
            ("K8S-SECRET-IN-ENV", 21),
            ("K8S-RUN-AS-ROOT", 13),
            ("K8S-NO-MEMORY-LIMIT", 13),
        ] {
            assert!(found.contains(&expected), "{expected:?} not in {found:?}");
        }
        assert_eq!(hits[0].key.as_deref(), Some("Pod/bad"));
    }

    #[test]
    fn careful_deployments_pass_and_other_yaml_is_not_a_manifest() {
        assert_eq!(check(CAREFUL).unwrap().unwrap(), vec![]);
        assert_eq!(check("a: 1\n").unwrap(), None);
        assert_eq!(check("apiVersion: v1\nkind: {{ .Values.kind }}\n").unwrap(), None);
        assert!(check("apiVersion: v1\nkind: [\n").is_err());
    }
}
