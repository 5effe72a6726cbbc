-- Findings are listed most severe first, then by risk, then by id (the
-- default order of the API and the dashboard): these indexes give the first
-- page without sorting the table, for every team and for one team.
CREATE INDEX findings_order ON findings (severity DESC, risk DESC, id);
CREATE INDEX findings_team_order ON findings (team_id, severity DESC, risk DESC, id);
