//! Progress of backups and restores: rustic's progress hooks turned into plain events
//! (bytes done/total, speed) that the CLI draws as a bar and the executor writes into
//! `Snapshot.status.components[*].resticStats[].progress`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustic_core::{Progress, ProgressBars, ProgressType, RusticProgress};

/// One progress report.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgressEvent {
    /// What is happening, e.g. `backing up...`.
    pub phase: String,
    /// Bytes processed so far.
    pub bytes_done: u64,
    /// Bytes to process (0 when unknown).
    pub bytes_total: u64,
    /// Time since the phase started.
    pub elapsed: Duration,
    /// Whether the phase is over.
    pub finished: bool,
}

impl ProgressEvent {
    /// Percentage done, when the total is known.
    pub fn percent(&self) -> Option<f64> {
        (self.bytes_total > 0)
            .then(|| (self.bytes_done as f64 * 100.0 / self.bytes_total as f64).min(100.0))
    }

    /// Bytes per second so far.
    pub fn bytes_per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.bytes_done as f64 / seconds
        } else {
            0.0
        }
    }
}

/// Receives progress events. Implementations must be cheap: events arrive from worker threads.
pub trait ProgressSink: Send + Sync + 'static {
    /// Called at most every `interval` while bytes move, and once when a phase finishes.
    fn update(&self, event: &ProgressEvent);
}

impl<F: Fn(&ProgressEvent) + Send + Sync + 'static> ProgressSink for F {
    fn update(&self, event: &ProgressEvent) {
        self(event);
    }
}

/// Adapts a [`ProgressSink`] to rustic's progress factory.
#[derive(Clone)]
pub(crate) struct SinkBars {
    sink: Arc<dyn ProgressSink>,
    interval: Duration,
}

impl fmt::Debug for SinkBars {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("SinkBars")
    }
}

impl SinkBars {
    pub(crate) fn new(sink: Arc<dyn ProgressSink>, interval: Duration) -> Self {
        Self { sink, interval }
    }
}

impl ProgressBars for SinkBars {
    fn progress(&self, progress_type: ProgressType, prefix: &str) -> Progress {
        match progress_type {
            ProgressType::Bytes => Progress::new(BytesProgress {
                sink: self.sink.clone(),
                phase: Mutex::new(prefix.to_string()),
                done: AtomicU64::new(0),
                total: AtomicU64::new(0),
                started: Instant::now(),
                last_report: Mutex::new(Instant::now()),
                interval: self.interval,
            }),
            ProgressType::Counter | ProgressType::Spinner => Progress::hidden(),
        }
    }
}

struct BytesProgress {
    sink: Arc<dyn ProgressSink>,
    phase: Mutex<String>,
    done: AtomicU64,
    total: AtomicU64,
    started: Instant,
    last_report: Mutex<Instant>,
    interval: Duration,
}

impl fmt::Debug for BytesProgress {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("BytesProgress")
    }
}

impl BytesProgress {
    fn report(&self, finished: bool) {
        let event = ProgressEvent {
            phase: self
                .phase
                .lock()
                .map(|phase| phase.clone())
                .unwrap_or_default(),
            bytes_done: self.done.load(Ordering::Relaxed),
            bytes_total: self.total.load(Ordering::Relaxed),
            elapsed: self.started.elapsed(),
            finished,
        };
        self.sink.update(&event);
    }
}

impl RusticProgress for BytesProgress {
    fn is_hidden(&self) -> bool {
        false
    }

    fn set_length(&self, length: u64) {
        self.total.store(length, Ordering::Relaxed);
    }

    fn set_title(&self, title: &str) {
        if let Ok(mut phase) = self.phase.lock() {
            *phase = title.to_string();
        }
    }

    fn inc(&self, increment: u64) {
        self.done.fetch_add(increment, Ordering::Relaxed);
        let due = match self.last_report.lock() {
            Ok(mut last) if last.elapsed() >= self.interval => {
                *last = Instant::now();
                true
            }
            _ => false,
        };
        if due {
            self.report(false);
        }
    }

    fn finish(&self) {
        self.report(true);
    }
}
