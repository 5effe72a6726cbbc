-- SLAs and trends (issue 9).
-- Keep in step with ../sqlite/0004_sla_trends.sql: same tables, columns and indexes.

-- Days to remediate, per severity rank (0 unknown .. 5 critical): the
-- default policy (tag '') and per-tag overrides. A severity without a
-- default row has no SLA.
CREATE TABLE sla_policy (
    tag TEXT COLLATE "C" NOT NULL,
    severity BIGINT NOT NULL,
    days BIGINT NOT NULL,
    PRIMARY KEY (tag, severity)
);
INSERT INTO sla_policy (tag, severity, days) VALUES ('', 5, 7), ('', 4, 30), ('', 3, 90), ('', 2, 180);

-- When each finding must be fixed by (first seen + its SLA), kept by the
-- platform as severities, tags and the policy change; NULL: no SLA.
ALTER TABLE findings ADD COLUMN sla_due_at BIGINT;
UPDATE findings SET sla_due_at = first_seen + 86400 * (CASE severity WHEN 5 THEN 7 WHEN 4 THEN 30 WHEN 3 THEN 90 WHEN 2 THEN 180 END);
CREATE INDEX findings_sla_due ON findings (sla_due_at);
CREATE INDEX finding_events_at ON finding_events (at);

-- One row per UTC day, team, tag ('' for all of the team's findings),
-- severity and status: the state at the end of the day and the day's
-- changes into that status.
CREATE TABLE trend_snapshots (
    day BIGINT NOT NULL,
    team_id BIGINT NOT NULL,
    tag TEXT COLLATE "C" NOT NULL,
    severity BIGINT NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    findings BIGINT NOT NULL,
    with_due BIGINT NOT NULL,
    overdue BIGINT NOT NULL,
    entered BIGINT NOT NULL,
    on_time BIGINT NOT NULL,
    late BIGINT NOT NULL,
    seconds BIGINT NOT NULL,
    PRIMARY KEY (tag, day, team_id, severity, status)
);
