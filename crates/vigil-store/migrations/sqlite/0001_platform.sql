-- Vigil platform schema, SQLite flavour. Times are Unix seconds;
-- flags are 0 or 1 (sqlx's Any driver reads no boolean columns).
-- Keep in step with ../postgres/0001_platform.sql: same tables, columns and indexes.

CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    role TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE team_members (
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT
);
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE assets (
    id INTEGER PRIMARY KEY,
    team_id BIGINT NOT NULL REFERENCES teams (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    os TEXT,
    os_release TEXT,
    arch TEXT,
    image_digest TEXT,
    image_repository TEXT,
    owner TEXT,
    inventory TEXT,
    last_scan_id BIGINT,
    last_scan_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (team_id, kind, name)
);
CREATE INDEX assets_name ON assets (name);
CREATE INDEX assets_inventory ON assets (inventory);

-- Multi-valued attributes: hostname, address, and label:KEY for free labels.
CREATE TABLE asset_attributes (
    asset_id BIGINT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (asset_id, name, value)
);
CREATE INDEX asset_attributes_value ON asset_attributes (name, value);

CREATE TABLE tags (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    rule TEXT,
    description TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE asset_tags (
    asset_id BIGINT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    tag_id BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    dynamic BIGINT NOT NULL,
    PRIMARY KEY (asset_id, tag_id)
);
CREATE INDEX asset_tags_tag ON asset_tags (tag_id);

-- Inventories are content-addressed: identical images share one row.
CREATE TABLE inventories (
    digest TEXT PRIMARY KEY,
    packages BIGINT NOT NULL,
    body BLOB NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE inventory_packages (
    inventory TEXT NOT NULL REFERENCES inventories (digest) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    ecosystem TEXT NOT NULL,
    purl TEXT NOT NULL,
    path TEXT NOT NULL,
    layer TEXT,
    PRIMARY KEY (inventory, seq)
);
CREATE INDEX inventory_packages_name ON inventory_packages (name, inventory);

CREATE TABLE scans (
    id INTEGER PRIMARY KEY,
    asset_id BIGINT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    full_scan BIGINT NOT NULL,
    inventory TEXT,
    content_digest TEXT,
    vulndb_version TEXT,
    scanner TEXT,
    target TEXT,
    uploaded_by TEXT,
    received_at BIGINT NOT NULL,
    findings_open BIGINT NOT NULL DEFAULT 0,
    findings_new BIGINT NOT NULL DEFAULT 0,
    findings_fixed BIGINT NOT NULL DEFAULT 0,
    findings_reopened BIGINT NOT NULL DEFAULT 0,
    local_findings BLOB
);
CREATE INDEX scans_asset ON scans (asset_id, id);
CREATE INDEX scans_content ON scans (asset_id, content_digest);

-- Every advisory id and alias -> the key its findings are filed under.
CREATE TABLE vuln_aliases (
    id TEXT NOT NULL,
    vuln_key TEXT NOT NULL,
    PRIMARY KEY (id, vuln_key)
);
CREATE INDEX vuln_aliases_key ON vuln_aliases (vuln_key);

CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    asset_id BIGINT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    team_id BIGINT NOT NULL,
    identity TEXT NOT NULL,
    source TEXT NOT NULL,
    vuln_key TEXT NOT NULL,
    vuln_ids TEXT NOT NULL,
    title TEXT,
    package_name TEXT,
    package_version TEXT,
    ecosystem TEXT,
    purl TEXT,
    location TEXT NOT NULL,
    layer TEXT,
    severity BIGINT NOT NULL,
    severity_source TEXT,
    cvss DOUBLE PRECISION,
    cvss_vector TEXT,
    epss DOUBLE PRECISION,
    kev BIGINT NOT NULL,
    kev_added TEXT,
    fix_status TEXT NOT NULL,
    fixed_versions TEXT NOT NULL,
    risk DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    fixed_at BIGINT,
    status_changed_at BIGINT NOT NULL,
    status_scan_id BIGINT,
    triage TEXT NOT NULL DEFAULT 'open',
    triage_justification TEXT,
    triage_until BIGINT,
    triage_comment TEXT,
    triage_by TEXT,
    triage_at BIGINT,
    triage_rule_id BIGINT,
    vulndb_version TEXT,
    details TEXT,
    observed_hash TEXT NOT NULL,
    UNIQUE (asset_id, identity)
);
CREATE INDEX findings_team ON findings (team_id, status, severity);
CREATE INDEX findings_status ON findings (status, severity);
CREATE INDEX findings_vuln ON findings (vuln_key);
CREATE INDEX findings_package ON findings (package_name);
CREATE INDEX findings_first_seen ON findings (first_seen);
CREATE INDEX findings_last_seen ON findings (last_seen);

CREATE TABLE finding_events (
    id INTEGER PRIMARY KEY,
    finding_id BIGINT NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    asset_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL,
    scan_id BIGINT,
    vulndb_version TEXT
);
CREATE INDEX finding_events_finding ON finding_events (finding_id, id);

CREATE TABLE triage_rules (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    vuln_key TEXT,
    query TEXT,
    team_id BIGINT,
    state TEXT NOT NULL,
    justification TEXT,
    until BIGINT,
    comment TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    actor_id BIGINT,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT,
    team_id BIGINT,
    before_state TEXT,
    after_state TEXT,
    address TEXT,
    request_id TEXT
);
CREATE INDEX audit_at ON audit (at);
-- The audit trail is append-only.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_after BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    dedupe_key TEXT UNIQUE,
    run_id BIGINT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    last_error TEXT
);
CREATE INDEX jobs_ready ON jobs (status, run_after);
CREATE INDEX jobs_run ON jobs (run_id, status);

CREATE TABLE rematch_runs (
    id INTEGER PRIMARY KEY,
    vulndb_version TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    inventories BIGINT NOT NULL,
    finished_at BIGINT
);

CREATE TABLE vulndb_versions (
    version TEXT PRIMARY KEY,
    built_at BIGINT NOT NULL,
    stored_at BIGINT NOT NULL,
    size BIGINT NOT NULL,
    chunks BIGINT NOT NULL,
    advisories BIGINT NOT NULL,
    is_current BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE vulndb_chunks (
    version TEXT NOT NULL REFERENCES vulndb_versions (version) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (version, seq)
);
