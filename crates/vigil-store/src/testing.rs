//! Databases for tests: a fresh SQLite file and, when PostgreSQL answers,
//! a fresh schema on it, so every test runs against both backends.
//!
//! PostgreSQL is found at `VIGIL_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When it does not answer, the
//! PostgreSQL half is skipped with a loud message, or fails the test when
//! `VIGIL_REQUIRE_ORACLES=1` (as in CI).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::Store;

/// The default PostgreSQL for tests.
pub const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database that lives as long as the value (the SQLite file's folder,
/// or the PostgreSQL schema, is removed on drop where possible).
pub struct TestDatabase {
    /// The URL a server or a second process can open.
    pub url: String,
    /// Its store.
    pub store: Store,
    /// The folder of a SQLite database.
    pub dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((base, schema)) = self.schema.take() {
            // Dropped from a plain thread: the test's runtime may be gone.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(async {
                        use sqlx::Connection;
                        if let Ok(mut conn) = sqlx::AnyConnection::connect(&base).await {
                            let drop = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
                            let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut conn).await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// The PostgreSQL URL for tests, when PostgreSQL answers there.
pub async fn postgres_url() -> Option<String> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let base = std::env::var("VIGIL_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_POSTGRES.to_string());
    match sqlx::AnyConnection::connect(&base).await {
        Ok(_) => Some(base),
        Err(e) => {
            let message =
                format!("PostgreSQL at {base} does not answer ({e}): the PostgreSQL half of this test is SKIPPED");
            assert!(std::env::var("VIGIL_REQUIRE_ORACLES").as_deref() != Ok("1"), "{message}");
            eprintln!("\n!!! {message}\n");
            None
        }
    }
}

/// A fresh, empty SQLite database in a temporary folder.
pub async fn sqlite() -> TestDatabase {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("vigil.db").display());
    let store = Store::open(&url).await.expect("open SQLite");
    TestDatabase { url, store, dir: Some(dir), schema: None }
}

/// A fresh, empty schema on the test PostgreSQL, when it answers.
pub async fn postgres() -> Option<TestDatabase> {
    use sqlx::Connection;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let base = postgres_url().await?;
    let schema = format!(
        "vigil_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        vigil_core::time::now_unix()
    );
    let mut conn = sqlx::AnyConnection::connect(&base).await.expect("connect to PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut conn)
        .await
        .expect("create schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    let store = Store::open(&url).await.expect("open PostgreSQL");
    Some(TestDatabase { url, store, dir: None, schema: Some((base, schema)) })
}

/// SQLite, then PostgreSQL when it answers.
pub async fn both() -> Vec<TestDatabase> {
    let mut out = vec![sqlite().await];
    out.extend(postgres().await);
    out
}
