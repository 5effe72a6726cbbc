//! The embedded schema and its migrations, one set per backend.

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::{Backend, Result, Store};

/// `(version, description, SQLite DDL, PostgreSQL DDL)`, oldest first.
/// Adding a migration is one row here and one file per backend.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "platform",
        include_str!("../migrations/sqlite/0001_platform.sql"),
        include_str!("../migrations/postgres/0001_platform.sql"),
    ),
    (
        2,
        "list order",
        include_str!("../migrations/sqlite/0002_list_order.sql"),
        include_str!("../migrations/postgres/0002_list_order.sql"),
    ),
    (
        3,
        "tickets and notifications",
        include_str!("../migrations/sqlite/0003_tickets.sql"),
        include_str!("../migrations/postgres/0003_tickets.sql"),
    ),
    (
        4,
        "sla and trends",
        include_str!("../migrations/sqlite/0004_sla_trends.sql"),
        include_str!("../migrations/postgres/0004_sla_trends.sql"),
    ),
    (
        5,
        "inbound deliveries",
        include_str!("../migrations/sqlite/0005_inbound_deliveries.sql"),
        include_str!("../migrations/postgres/0005_inbound_deliveries.sql"),
    ),
];

/// Applies the migrations that have not run yet. On PostgreSQL, sqlx holds
/// an advisory lock meanwhile, so nodes starting together apply them once.
pub(crate) async fn migrate(store: &Store) -> Result<()> {
    let migrations: Vec<Migration> = MIGRATIONS
        .iter()
        .map(|&(version, description, sqlite, postgres)| {
            let sql = match store.backend {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            };
            Migration::new(version, Cow::Borrowed(description), MigrationType::Simple, sql.into_sql_str(), false)
        })
        .collect();
    let migrator = Migrator { migrations: Cow::Owned(migrations), ..Migrator::DEFAULT };
    migrator.run(&store.pool).await?;
    Ok(())
}
