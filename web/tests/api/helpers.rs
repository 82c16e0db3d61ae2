//! `spawn_app`: the service on a free port over a freshly seeded database of the test's own
//! (a [`ScratchDatabase`] on `DATABASE_URL`, or on one throwaway server per test binary),
//! started the way `main` starts it ([`Application`]), and a client for it.

use bottles::{Database, PoolOptions};
use bottles_web::{Application, ServiceOptions};
use throwaway_pg::ScratchDatabase;
use tokio_postgres::NoTls;

pub fn admin_url() -> &'static str {
    throwaway_pg::env_or_shared_server("DATABASE_URL")
}

async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("connect as admin");
    tokio::spawn(connection);
    client
}

/// The service, serving on `address` until the test ends.
pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    /// The test's database, for checking what the service wrote.
    pub db_url: String,
    _database: ScratchDatabase,
}

/// The service over the notebook's data, with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(
        admin_url(),
        bottles::pool_options(),
        ServiceOptions::default(),
    )
    .await
}

/// The service over the notebook's data in a new database on the server at `admin_url`.
pub async fn spawn_app_on(admin_url: &str, options: PoolOptions) -> TestApp {
    spawn_app_with(admin_url, options, ServiceOptions::default()).await
}

/// [`spawn_app_on`] with service settings of the test's own.
pub async fn spawn_app_with(
    admin_url: &str,
    options: PoolOptions,
    service: ServiceOptions,
) -> TestApp {
    spawn_app_with_replicas(admin_url, &[], options, service).await
}

/// [`spawn_app_with`], reading on the same database on the servers at `replica_admin_urls`
/// (standbys of the one at `admin_url`).
pub async fn spawn_app_with_replicas(
    admin_url: &str,
    replica_admin_urls: &[&str],
    options: PoolOptions,
    service: ServiceOptions,
) -> TestApp {
    let database =
        ScratchDatabase::create(admin_url, "web_test").expect("create the test database");
    let db_url = database.url().to_string();
    let replicas: Vec<String> = replica_admin_urls
        .iter()
        .map(|url| throwaway_pg::with_database(url, database.name()))
        .collect();
    let db = Database::open_with_replicas(Some(&db_url), &replicas, options)
        .await
        .expect("open the test database");
    bottles_web::fill_with_notebook(&db).await.unwrap();
    let listen = "127.0.0.1:0".parse().unwrap();
    let app = Application::build(db, listen, service).await.unwrap();
    let address = format!("http://{}", app.address());
    tokio::spawn(async move { app.run_until(std::future::pending()).await.expect("serve") });
    TestApp {
        address,
        http: reqwest::Client::new(),
        db_url,
        _database: database,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("a response")
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("a response")
    }

    /// A client connection to the test's database, as an admin would open one.
    pub async fn sql(&self) -> tokio_postgres::Client {
        admin(&self.db_url).await
    }
}

/// A response's status and JSON body.
pub async fn json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let body = response.json().await.expect("a JSON body");
    (status, body)
}

/// The ids of a JSON array of messages.
pub fn ids(messages: &serde_json::Value) -> Vec<i64> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

/// The process's `tracing` subscriber as the binary has it, without the log on stderr: the
/// statement spans feeding the metrics. Installed once per test binary.
pub fn telemetry() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        use bottles_web::telemetry::metrics::{StatementMetrics, is_statement};
        use tracing_subscriber::Layer;
        use tracing_subscriber::layer::SubscriberExt;
        let layer =
            StatementMetrics.with_filter(tracing_subscriber::filter::filter_fn(is_statement));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    });
}
