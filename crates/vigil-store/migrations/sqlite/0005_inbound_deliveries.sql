-- Inbound webhook deliveries already applied, by the id their system gives
-- them, so a replayed delivery changes nothing.
-- Keep in step with ../postgres/0005_inbound_deliveries.sql.
CREATE TABLE inbound_deliveries (
    integration_id BIGINT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    delivery_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (integration_id, delivery_id)
);
