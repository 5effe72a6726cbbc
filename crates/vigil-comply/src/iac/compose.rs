//! docker-compose files (`compose.yaml`, `docker-compose.yml`,
//! `docker-compose.prod.yml`): every service of `services`.

use super::{Hit, credential_assignment, unpinned};
use crate::yaml::{self, Node, Value};

/// The file names Compose looks for, and their variants.
pub(super) fn matches(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    (name.starts_with("docker-compose") || name.starts_with("compose"))
        && (name.ends_with(".yml") || name.ends_with(".yaml"))
}

/// Checks a compose file; `None` when it has no `services` mapping.
pub(super) fn check(text: &str) -> Result<Option<Vec<Hit>>, String> {
    let docs = yaml::documents(text)?;
    let Some(services) = docs.first().and_then(|d| d.get("services")).filter(|s| matches!(s.value, Value::Map(_)))
    else {
        return Ok(None);
    };
    let mut hits = Vec::new();
    for (name, service) in services.entries() {
        let key = format!("service {name}");
        let mut hit = |rule, node: &Node, detail: String| {
            hits.push(Hit { rule, line: node.line, key: Some(key.clone()), detail })
        };
        if let Some(node) = service.get("privileged").filter(|n| n.is_true()) {
            hit("COMPOSE-PRIVILEGED", node, "privileged: true".into());
        }
        for setting in ["network_mode", "pid", "ipc"] {
            if let Some(node) = service.get(setting).filter(|n| n.text().as_deref() == Some("host")) {
                hit("COMPOSE-HOST-NAMESPACE", node, format!("{setting}: host"));
            }
        }
        for volume in service.get("volumes").map(Node::items).unwrap_or_default() {
            let source = match volume.text() {
                Some(short) => short.split(':').next().unwrap_or_default().to_owned(),
                None => volume.get("source").and_then(Node::text).unwrap_or_default(),
            };
            if source.ends_with("docker.sock") || source.ends_with("podman.sock") {
                hit("COMPOSE-DOCKER-SOCKET", volume, format!("volume {source}"));
            }
        }
        for cap in service.get("cap_add").map(Node::items).unwrap_or_default() {
            let name = cap.text().unwrap_or_default().to_ascii_uppercase();
            if matches!(
                name.trim_start_matches("CAP_"),
                "ALL" | "SYS_ADMIN" | "NET_ADMIN" | "SYS_PTRACE" | "SYS_MODULE"
            ) {
                hit("COMPOSE-CAP-ADD", cap, format!("cap_add: {name}"));
            }
        }
        match service.get("image") {
            Some(image) if unpinned(&image.text().unwrap_or_default()) => {
                hit("COMPOSE-LATEST-TAG", image, format!("image: {}", image.text().unwrap_or_default()));
            }
            _ => {}
        }
        let limited =
            service.get("mem_limit").is_some() || service.at(&["deploy", "resources", "limits", "memory"]).is_some();
        if !limited {
            hit("COMPOSE-NO-MEMORY-LIMIT", service, "no mem_limit".into());
        }
        // `environment` is a mapping or a list of KEY=VALUE.
        let environment = service.get("environment");
        let mut vars: Vec<(String, String, &Node)> = environment
            .map(Node::entries)
            .unwrap_or_default()
            .iter()
            .map(|(k, v)| (k.clone(), v.text().unwrap_or_default(), v))
            .collect();
        for item in environment.map(Node::items).unwrap_or_default() {
            if let Some((k, v)) = item.text().as_deref().and_then(|t| t.split_once('=')) {
                vars.push((k.to_owned(), v.to_owned(), item));
            }
        }
        for (var, value, node) in vars {
            if credential_assignment(&var, &value) {
                hit("COMPOSE-SECRET-IN-ENV", node, format!("environment {var} has a literal value"));
            }
        }
    }
    hits.sort_by_key(|h| h.line);
    Ok(Some(hits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_checked() {
        let text = "services:\n  web:\n    image: nginx:latest\n    privileged: true\n    network_mode: host\n\
                    \x20   cap_add: [SYS_ADMIN, CHOWN]\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n\
                    \x20   environment:\n      - API_TOKEN=abc123def456\n      - TOKEN_FILE=/run/secrets/t\n\
                    \x20 db:\n    image: postgres:16.2\n    mem_limit: 512m\n    environment:\n      POSTGRES_PASSWORD: ${PW}\n";
        let hits = check(text).unwrap().unwrap();
        let found: Vec<(&str, u32)> = hits.iter().map(|h| (h.rule, h.line)).collect();
        assert_eq!(
            found,
            [
                ("COMPOSE-LATEST-TAG", 3),
                ("COMPOSE-NO-MEMORY-LIMIT", 3),
                ("COMPOSE-PRIVILEGED", 4),
                ("COMPOSE-HOST-NAMESPACE", 5),
                ("COMPOSE-CAP-ADD", 6),
                ("COMPOSE-DOCKER-SOCKET", 8),
                ("COMPOSE-SECRET-IN-ENV", 10),
            ]
        );
        assert_eq!(check("version: '3'\n").unwrap(), None);
    }
}
