//! Prometheus metrics at `/metrics`, named after OpenTelemetry's semantic conventions as
//! Prometheus spells them (dots to underscores, the unit as a suffix):
//!
//! | metric | labels | from |
//! |---|---|---|
//! | `http_server_request_duration_seconds` (histogram) | `http_request_method`, `http_route`, `http_response_status_code` | each request ([`crate::access`]) |
//! | `db_client_operation_duration_seconds` (histogram) | `db_system_name`, `db_namespace`, `db_operation_name`, `db_collection_name`, `db_query_summary`, `db_response_status_code`, `error_type`, `server_address`, `server_port` | each statement span ([`bottles::SPAN_TARGET`]) |
//! | `db_client_connections_usage` | `db_client_connection_pool_name`, `db_client_connection_state` (`idle`, `used`) | the pool, when scraped |
//! | `db_client_connection_max`, `db_client_connection_pending_requests` | `db_client_connection_pool_name` | the pool |
//! | `db_client_connection_wait_time_seconds` (histogram) | `db_client_connection_pool_name` | every wait for a pooled connection |
//! | `bottles_db_client_statement_mode` (1 for the mode in use) | pool, `mode` (`prepared`, `unprepared`) | the pool |
//! | `bottles_db_replica_state` (1 for the state it is in) | pool, `state` (`unknown`, `up`, `down`, `probing`) | each replica |
//! | `bottles_db_replica_replay_lag_bytes` | pool | each replica not down, asked when scraped |
//!
//! A pool's name is `host:port/dbname`. The connection count is `db_client_connections_usage`,
//! the name OpenTelemetry gave it before 1.26: its current `db.client.connection.count`
//! becomes a gauge ending in `_count`, which Prometheus keeps for histograms and promtool
//! rejects. Nothing holds a token, a parameter value or a password.

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use bottles_core::{DatabaseStats, NodeStats, WAIT_BUCKETS};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The content type of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// OpenTelemetry's advice for `http.server.request.duration`, in seconds.
const HTTP_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];
/// OpenTelemetry's advice for `db.client.operation.duration`, with a step under a millisecond.
const DB_BUCKETS: [f64; 10] = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0];

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    http_request_method: &'static str,
    http_route: String,
    http_response_status_code: u16,
}

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DbLabels {
    db_system_name: String,
    db_namespace: String,
    db_operation_name: String,
    db_collection_name: String,
    db_query_summary: String,
    db_response_status_code: String,
    error_type: String,
    server_address: String,
    server_port: String,
}

/// Statements of the whole process: the spans come through the process's one subscriber.
static DB_OPERATIONS: LazyLock<Histograms<DbLabels>> =
    LazyLock::new(|| Family::new_with_constructor(|| Histogram::new(DB_BUCKETS)));

/// One service's metrics; cheap to clone (the histograms are shared).
#[derive(Clone, Debug)]
pub struct Metrics {
    http: Histograms<HttpLabels>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            http: Family::new_with_constructor(|| Histogram::new(HTTP_BUCKETS)),
        }
    }
}

impl Metrics {
    /// Records one request: `route` is the matched route's template (`/users/{id}`), empty
    /// for no route.
    pub fn request(&self, method: &axum::http::Method, route: &str, status: u16, seconds: f64) {
        let labels = HttpLabels {
            http_request_method: known_method(method),
            http_route: route.to_string(),
            http_response_status_code: status,
        };
        self.http.get_or_create(&labels).observe(seconds);
    }

    /// The exposition, with the pool and replicas as `stats` has them.
    pub fn render(&self, stats: DatabaseStats) -> String {
        let mut registry = Registry::default();
        registry.register_with_unit(
            "http_server_request_duration",
            "Duration of HTTP server requests (of a streamed body, until its first byte)",
            Unit::Seconds,
            self.http.clone(),
        );
        registry.register_with_unit(
            "db_client_operation_duration",
            "Duration of database client operations, by statement",
            Unit::Seconds,
            DB_OPERATIONS.clone(),
        );
        registry.register_collector(Box::new(Pools(Arc::new(stats))));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry)
            .expect("writing to a String");
        out
    }
}

/// OpenTelemetry's `http.request.method`: the known methods, `_OTHER` for the rest, so a
/// client cannot make up label values.
fn known_method(method: &axum::http::Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    let known = KNOWN.iter().find(|known| **known == method.as_str());
    known.copied().unwrap_or("_OTHER")
}

/// The pools and replicas of one scrape.
#[derive(Debug)]
struct Pools(Arc<DatabaseStats>);

fn pool_name(node: &NodeStats) -> String {
    format!(
        "{}:{}/{}",
        node.server_address, node.server_port, node.database
    )
}

impl Collector for Pools {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = &self.0;
        let nodes: Vec<&NodeStats> = std::iter::once(&stats.primary)
            .chain(stats.replicas.iter().map(|replica| &replica.node))
            .collect();
        let gauge = |encoder: &mut DescriptorEncoder,
                     name: &str,
                     help: &str,
                     unit: Option<&Unit>,
                     values: Vec<(Vec<(&str, String)>, i64)>|
         -> Result<(), std::fmt::Error> {
            let mut metric = encoder.encode_descriptor(name, help, unit, MetricType::Gauge)?;
            for (labels, value) in values {
                metric.encode_family(&labels)?.encode_gauge(&value)?;
            }
            Ok(())
        };
        let pool = |node: &NodeStats| ("db_client_connection_pool_name", pool_name(node));
        let mut counts = Vec::new();
        for node in &nodes {
            for (state, value) in [("idle", node.idle), ("used", node.in_use)] {
                let labels = vec![pool(node), ("db_client_connection_state", state.into())];
                counts.push((labels, value as i64));
            }
        }
        gauge(
            &mut encoder,
            "db_client_connections_usage",
            "Pooled connections open now, by state",
            None,
            counts,
        )?;
        let each = |value: fn(&NodeStats) -> usize| {
            let all = nodes
                .iter()
                .map(|node| (vec![pool(node)], value(node) as i64));
            all.collect::<Vec<_>>()
        };
        gauge(
            &mut encoder,
            "db_client_connection_max",
            "Most pooled connections",
            None,
            each(|node| node.max),
        )?;
        gauge(
            &mut encoder,
            "db_client_connection_pending_requests",
            "Callers waiting for a pooled connection now",
            None,
            each(|node| node.waiting),
        )?;
        let mut waits = encoder.encode_descriptor(
            "db_client_connection_wait_time",
            "Time callers waited for a pooled connection",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        for node in &nodes {
            let bounds = WAIT_BUCKETS.iter().copied().chain([f64::MAX]);
            let buckets: Vec<(f64, u64)> = bounds.zip(node.wait.counts.iter().copied()).collect();
            waits
                .encode_family(&vec![pool(node)])?
                .encode_histogram::<Vec<(String, String)>>(
                    node.wait.sum_seconds,
                    node.wait.count(),
                    &buckets,
                    None,
                )?;
        }
        let mut modes = Vec::new();
        for node in &nodes {
            for (mode, on) in [
                ("prepared", !node.unprepared),
                ("unprepared", node.unprepared),
            ] {
                modes.push((vec![pool(node), ("mode", mode.into())], i64::from(on)));
            }
        }
        gauge(
            &mut encoder,
            "bottles_db_client_statement_mode",
            "How statements run: prepared once per connection, or unprepared in a transaction each (behind a transaction pooler); 1 for the mode in use",
            None,
            modes,
        )?;
        if stats.replicas.is_empty() {
            return Ok(());
        }
        let mut states = Vec::new();
        let mut lags = Vec::new();
        for replica in &stats.replicas {
            for state in ["unknown", "up", "down", "probing"] {
                let on = i64::from(replica.state.as_str() == state);
                states.push((vec![pool(&replica.node), ("state", state.into())], on));
            }
            if let Some(lag) = replica.replay_lag_bytes {
                lags.push((vec![pool(&replica.node)], lag as i64));
            }
        }
        gauge(
            &mut encoder,
            "bottles_db_replica_state",
            "Whether reads go to the replica (up), it is left alone after failing (down), one read is trying it (probing), or none has yet (unknown); 1 for its state",
            None,
            states,
        )?;
        gauge(
            &mut encoder,
            "bottles_db_replica_replay_lag",
            "Write-ahead log the primary has written and the replica not yet replayed",
            Some(&Unit::Bytes),
            lags,
        )
    }
}

/// Feeds `db_client_operation_duration_seconds` from the statement spans: any span with a
/// `db.system.name` field, timed from its creation to its close.
pub struct StatementMetrics;

/// A statement span's labels so far, and when it opened.
struct Open {
    labels: DbLabels,
    opened: Instant,
}

impl Visit for DbLabels {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let slot = match field.name() {
            "db.system.name" => &mut self.db_system_name,
            "db.namespace" => &mut self.db_namespace,
            "db.operation.name" => &mut self.db_operation_name,
            "db.collection.name" => &mut self.db_collection_name,
            "db.query.summary" => &mut self.db_query_summary,
            "db.response.status_code" => &mut self.db_response_status_code,
            "error.type" => &mut self.error_type,
            "server.address" => &mut self.server_address,
            "server.port" => &mut self.server_port,
            _ => return,
        };
        *slot = value.to_string();
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.record_str(field, &value.to_string());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_str(field, &value.to_string());
    }
}

/// Whether a span is a statement span.
pub fn is_statement(metadata: &tracing::Metadata<'_>) -> bool {
    metadata.is_span() && metadata.fields().field("db.system.name").is_some()
}

impl<S> tracing_subscriber::Layer<S> for StatementMetrics
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !is_statement(attrs.metadata()) {
            return;
        }
        let mut labels = DbLabels::default();
        attrs.record(&mut labels);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Open {
                labels,
                opened: Instant::now(),
            });
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(open) = span.extensions_mut().get_mut::<Open>()
        {
            values.record(&mut open.labels);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(open) = span.extensions_mut().remove::<Open>()
        {
            let seconds = open.opened.elapsed().as_secs_f64();
            DB_OPERATIONS.get_or_create(&open.labels).observe(seconds);
        }
    }
}
