-- Remediation tickets: integrations (where tickets and notifications go),
-- ticket rules (a query and what to open for it), tickets grouping
-- findings, their events (the comment log, each synced once) and the
-- delivery log; notification rules and what they send. Keep in step with ../postgres/0003_tickets.sql.

CREATE TABLE integrations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    inbound_secret TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE ticket_rules (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    grouping TEXT NOT NULL,
    team_id BIGINT,
    assignee_team_id BIGINT,
    assignee_user_id BIGINT,
    integration_id BIGINT REFERENCES integrations (id),
    active BIGINT NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY,
    rule_id BIGINT REFERENCES ticket_rules (id),
    team_id BIGINT NOT NULL,
    group_key TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    severity BIGINT NOT NULL,
    assignee_team_id BIGINT,
    assignee_user_id BIGINT,
    due_at BIGINT,
    integration_id BIGINT REFERENCES integrations (id),
    external_key TEXT,
    external_url TEXT,
    revision BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    closed_at BIGINT,
    close_reason TEXT,
    UNIQUE (rule_id, team_id, group_key)
);
CREATE INDEX tickets_status ON tickets (team_id, status, id);
CREATE INDEX tickets_external ON tickets (integration_id, external_key);

CREATE TABLE ticket_findings (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    finding_id BIGINT NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, finding_id)
);
CREATE INDEX ticket_findings_finding ON ticket_findings (finding_id);

CREATE TABLE ticket_events (
    id INTEGER PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    synced BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

CREATE TABLE ticket_deliveries (
    id INTEGER PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    integration_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX ticket_deliveries_ticket ON ticket_deliveries (ticket_id, id);

-- Notification rules: an event kind, a query over findings, a channel
-- (an integration) and the least time between two messages. Each event is
-- recorded once per rule (a finding, a digest day) and sent grouped.
CREATE TABLE notification_rules (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    event TEXT NOT NULL,
    query TEXT NOT NULL,
    team_id BIGINT,
    integration_id BIGINT NOT NULL REFERENCES integrations (id),
    min_interval BIGINT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    last_sent_at BIGINT,
    not_before BIGINT,
    checked_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    rule_id BIGINT NOT NULL REFERENCES notification_rules (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    at BIGINT NOT NULL,
    summary TEXT NOT NULL,
    sent_at BIGINT,
    UNIQUE (rule_id, subject)
);
CREATE INDEX notifications_pending ON notifications (rule_id, sent_at);

CREATE TABLE notification_log (
    id INTEGER PRIMARY KEY,
    rule_id BIGINT NOT NULL REFERENCES notification_rules (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    items BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX notification_log_rule ON notification_log (rule_id, id);
