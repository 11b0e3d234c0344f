//! Prometheus metrics and health endpoints, served by a tiny HTTP/1.1 responder (no extra
//! dependency): `/metrics`, `/healthz`, `/readyz`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A monotonically increasing counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// The value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// When the last successful backup of an invoker ended, how long it took, how big it was.
type LastBackup = (f64, f64, f64);

/// A gauge family of [`LastBackup`]: its name and which value it shows.
type Family = (&'static str, fn(&LastBackup) -> f64);

/// Everything the operator measures.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Reconciles run.
    pub reconciles: Counter,
    /// Reconciles that failed.
    pub reconcile_errors: Counter,
    /// Jobs created.
    pub jobs_created: Counter,
    /// Whether the controllers run (leader).
    pub ready: AtomicBool,
    durations: Mutex<BTreeMap<&'static str, (u64, f64)>>,
    sessions: Mutex<BTreeMap<String, u64>>,
    /// By (namespace, invoker kind, invoker name).
    last_success: Mutex<BTreeMap<(String, String, String), LastBackup>>,
}

impl Metrics {
    /// Records one reconcile's duration for `kind`.
    pub fn observe_reconcile(&self, kind: &'static str, elapsed: Duration) {
        let mut durations = self.durations.lock().expect("not poisoned");
        let entry = durations.entry(kind).or_default();
        entry.0 += 1;
        entry.1 += elapsed.as_secs_f64();
    }

    /// Counts a BackupSession reaching a final phase.
    pub fn session_finished(&self, phase: &str) {
        *self
            .sessions
            .lock()
            .expect("not poisoned")
            .entry(phase.to_string())
            .or_default() += 1;
    }

    /// Records a successful backup of an invoker (`kind`, `name`): when, how long, how big.
    pub fn backup_succeeded(
        &self,
        namespace: &str,
        kind: &str,
        name: &str,
        at: f64,
        seconds: f64,
        bytes: f64,
    ) {
        self.last_success.lock().expect("not poisoned").insert(
            (namespace.to_string(), kind.to_string(), name.to_string()),
            (at, seconds, bytes),
        );
    }

    /// Drops the series of an invoker that is gone, so that a "last backup too old" alert
    /// does not fire for it forever.
    pub fn invoker_deleted(&self, namespace: &str, kind: &str, name: &str) {
        self.last_success.lock().expect("not poisoned").remove(&(
            namespace.to_string(),
            kind.to_string(),
            name.to_string(),
        ));
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# TYPE kubestash_reconciles_total counter");
        let _ = writeln!(out, "kubestash_reconciles_total {}", self.reconciles.get());
        let _ = writeln!(out, "# TYPE kubestash_reconcile_errors_total counter");
        let _ = writeln!(
            out,
            "kubestash_reconcile_errors_total {}",
            self.reconcile_errors.get()
        );
        let _ = writeln!(out, "# TYPE kubestash_jobs_created_total counter");
        let _ = writeln!(
            out,
            "kubestash_jobs_created_total {}",
            self.jobs_created.get()
        );
        let _ = writeln!(out, "# TYPE kubestash_reconcile_duration_seconds summary");
        for (kind, (count, sum)) in self.durations.lock().expect("not poisoned").iter() {
            let _ = writeln!(
                out,
                "kubestash_reconcile_duration_seconds_count{{kind=\"{kind}\"}} {count}"
            );
            let _ = writeln!(
                out,
                "kubestash_reconcile_duration_seconds_sum{{kind=\"{kind}\"}} {sum}"
            );
        }
        let _ = writeln!(out, "# TYPE kubestash_backup_sessions_total counter");
        for (phase, count) in self.sessions.lock().expect("not poisoned").iter() {
            let _ = writeln!(
                out,
                "kubestash_backup_sessions_total{{phase=\"{phase}\"}} {count}"
            );
        }
        // Each family in one group after its TYPE line, as the text format requires.
        let last_success = self.last_success.lock().expect("not poisoned");
        let families: [Family; 3] = [
            ("kubestash_last_successful_backup_timestamp_seconds", |b| {
                b.0
            }),
            ("kubestash_backup_duration_seconds", |b| b.1),
            ("kubestash_backup_size_bytes", |b| b.2),
        ];
        for (family, value) in families {
            let _ = writeln!(out, "# TYPE {family} gauge");
            for ((namespace, kind, name), backup) in last_success.iter() {
                let _ = writeln!(
                    out,
                    "{family}{{namespace=\"{namespace}\",invoker_kind=\"{kind}\",invoker=\"{name}\"}} {}",
                    value(backup)
                );
            }
        }
        out
    }
}

/// Serves the endpoints until the task is aborted.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut buffer = [0u8; 2048];
            let Ok(read) = stream.read(&mut buffer).await else {
                return;
            };
            let request = String::from_utf8_lossy(&buffer[..read]);
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let (status, body) = match path {
                "/metrics" => ("200 OK", metrics.render()),
                "/healthz" | "/livez" => ("200 OK", "ok\n".to_string()),
                "/readyz" if metrics.ready.load(Ordering::Relaxed) => {
                    ("200 OK", "ok\n".to_string())
                }
                "/readyz" => ("503 Service Unavailable", "not leading\n".to_string()),
                _ => ("404 Not Found", "not found\n".to_string()),
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_every_series() {
        let metrics = Metrics::default();
        metrics.reconciles.inc();
        metrics.observe_reconcile("BackupSession", Duration::from_millis(20));
        metrics.session_finished("Succeeded");
        metrics.backup_succeeded(
            "shop",
            "BackupConfiguration",
            "orders-backup",
            1.0,
            2.0,
            3.0,
        );
        metrics.backup_succeeded("shop", "BackupBatch", "orders-backup", 4.0, 5.0, 6.0);
        let text = metrics.render();
        assert!(text.contains("kubestash_reconciles_total 1"));
        assert!(
            text.contains("kubestash_reconcile_duration_seconds_count{kind=\"BackupSession\"} 1")
        );
        assert!(text.contains("kubestash_backup_sessions_total{phase=\"Succeeded\"} 1"));
        assert!(text.contains("kubestash_last_successful_backup_timestamp_seconds{namespace=\"shop\",invoker_kind=\"BackupConfiguration\",invoker=\"orders-backup\"} 1"));
        assert!(text.contains("kubestash_backup_size_bytes{namespace=\"shop\",invoker_kind=\"BackupBatch\",invoker=\"orders-backup\"} 6"));
        // Every family's samples follow its TYPE line, together.
        let families: Vec<&str> = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .map(|line| line.split(['{', ' ']).next().unwrap())
            .collect();
        let mut seen: Vec<&str> = Vec::new();
        for family in families {
            if seen.last() != Some(&family) {
                assert!(!seen.contains(&family), "{family} is split:\n{text}");
                seen.push(family);
            }
        }
        metrics.invoker_deleted("shop", "BackupBatch", "orders-backup");
        assert!(!metrics.render().contains("BackupBatch"));
    }
}
