//! `/metrics`: requests by route, method and status; statements by name; the pool and the
//! statement mode; `promtool check metrics` finds nothing to say; a real Prometheus scrapes it
//! and answers a query for a series of it. (The replicas' series are checked in `replicas`,
//! the unprepared mode in `pooler`.)

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, telemetry};

/// The value of the series `name{labels…}` whose labels include all of `labels`.
pub fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let (series, value) = rest.rsplit_once(' ')?;
        let fits = (series.is_empty() || series.starts_with('{'))
            && labels
                .iter()
                .all(|(key, value)| series.contains(&format!("{key}=\"{value}\"")));
        fits.then(|| value.parse().ok()).flatten()
    })
}

pub async fn scrape(app: &TestApp) -> String {
    let response = app.get("/metrics").await;
    assert_eq!(response.status().as_u16(), 200);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    response.text().await.unwrap()
}

/// The test database's name, which `db_namespace` and the pool's name carry.
fn database(app: &TestApp) -> &str {
    app.db_url.rsplit('/').next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_statements_and_the_pool_are_counted_and_promtool_agrees() {
    telemetry();
    let app = spawn_app().await;
    // Statements counted before the requests (the test database's reset and seed ran in
    // this process too): the requests' own are the difference.
    let before = scrape(&app).await;
    for path in [
        "/messages?user_name=Eli",
        "/messages?user_name=Nick",
        "/stats",
        "/users/999",
        "/nope",
    ] {
        app.get(path).await;
    }
    assert_eq!(
        app.post_json("/users", &json!({"name": "Zed"}))
            .await
            .status(),
        201
    );
    let metrics = scrape(&app).await;
    let kept = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("metrics.txt");
    std::fs::write(&kept, &metrics).unwrap();
    let http = "http_server_request_duration_seconds_count";
    for (method, route, status, count) in [
        ("GET", "/messages", "200", 2.0),
        ("GET", "/stats", "200", 1.0),
        ("GET", "/users/{id}", "404", 1.0),
        ("GET", "", "404", 1.0),
        ("POST", "/users", "201", 1.0),
    ] {
        let labels = [
            ("http_request_method", method),
            ("http_route", route),
            ("http_response_status_code", status),
        ];
        assert_eq!(
            sample(&metrics, http, &labels),
            Some(count),
            "{method} {route} {status}\n{metrics}"
        );
    }
    let db = database(&app);
    let statement = |summary| {
        let labels = [
            ("db_query_summary", summary),
            ("db_namespace", db),
            ("db_system_name", "postgresql"),
            ("server_address", "127.0.0.1"),
        ];
        let count = "db_client_operation_duration_seconds_count";
        let earlier = sample(&before, count, &labels).unwrap_or(0.0);
        sample(&metrics, count, &labels).map(|now| now - earlier)
    };
    assert_eq!(
        statement("messages_from_user_after"),
        Some(2.0),
        "{metrics}"
    );
    assert_eq!(statement("count_users"), Some(1.0));
    assert_eq!(statement("insert_user"), Some(1.0));
    let labels = [("db_query_summary", "insert_user"), ("db_namespace", db)];
    let series = metrics
        .lines()
        .find(|line| {
            line.starts_with("db_client_operation_duration_seconds_count")
                && labels
                    .iter()
                    .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
        })
        .unwrap();
    assert!(
        series.contains("db_operation_name=\"INSERT\"")
            && series.contains("db_collection_name=\"user\""),
        "{series}"
    );
    assert!(!metrics.contains("Zed"), "a parameter value in the metrics");

    let pool = format!(
        "127.0.0.1:{}/{db}",
        app.db_url
            .rsplit(':')
            .next()
            .unwrap()
            .split('/')
            .next()
            .unwrap()
    );
    let on_pool = |name: &str, extra: &[(&str, &str)]| {
        let mut labels = vec![("db_client_connection_pool_name", pool.as_str())];
        labels.extend_from_slice(extra);
        sample(&metrics, name, &labels)
    };
    assert_eq!(
        on_pool("db_client_connection_max", &[]),
        Some(bottles::pool_options().size as f64)
    );
    assert_eq!(
        on_pool(
            "db_client_connections_usage",
            &[("db_client_connection_state", "used")]
        ),
        Some(0.0)
    );
    assert!(
        on_pool(
            "db_client_connections_usage",
            &[("db_client_connection_state", "idle")]
        )
        .unwrap()
            >= 1.0
    );
    assert_eq!(
        on_pool("db_client_connection_pending_requests", &[]),
        Some(0.0)
    );
    assert!(on_pool("db_client_connection_wait_time_seconds_count", &[]).unwrap() >= 1.0);
    assert_eq!(
        on_pool("bottles_db_client_statement_mode", &[("mode", "prepared")]),
        Some(1.0)
    );
    assert_eq!(
        on_pool(
            "bottles_db_client_statement_mode",
            &[("mode", "unprepared")]
        ),
        Some(0.0)
    );

    // promtool reads it and has nothing to say.
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is not installed (apt-get install prometheus)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(metrics.as_bytes())
        .unwrap();
    let checked = promtool.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(
        checked.status.success() && said.trim().is_empty(),
        "promtool: {said}"
    );
}

/// A real Prometheus, on a free port with its own configuration and data, killed when dropped.
struct Prometheus {
    child: std::process::Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(target: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        let scrape = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: bottles-web\n    static_configs:\n      - targets: ['{target}']\n"
        );
        std::fs::write(&config, scrape).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={address}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("prometheus is not installed (apt-get install prometheus)");
        Prometheus {
            child,
            address,
            _dir: dir,
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_it_and_answers_a_query() {
    telemetry();
    let app = spawn_app().await;
    for _ in 0..3 {
        assert_eq!(
            app.get("/messages?user_name=Eli&limit=1").await.status(),
            200
        );
    }
    let prometheus = Prometheus::start(app.address.trim_start_matches("http://"));
    let query = format!(
        "http://{}/api/v1/query?query=http_server_request_duration_seconds_count{{http_route=\"/messages\"}}",
        prometheus.address
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let value = loop {
        let answer: Option<Value> = match reqwest::get(&query).await {
            Ok(response) => response.json().await.ok(),
            Err(_) => None,
        };
        let result = answer
            .as_ref()
            .and_then(|a| a["data"]["result"].as_array().cloned());
        if let Some(first) = result.as_ref().and_then(|r| r.first()) {
            assert_eq!(first["metric"]["job"], "bottles-web");
            assert_eq!(first["metric"]["http_request_method"], "GET");
            break first["value"][1].as_str().unwrap().parse::<f64>().unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never had the series: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(value, 3.0);
    drop(prometheus);
}
