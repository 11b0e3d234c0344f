//! Container logs captured by the simulated kubelet and served through `pods/log`.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

/// Identifies one container of one pod.
pub(crate) type ContainerKey = (String, String, String);

/// The output of one container run.
#[derive(Debug, Clone, Default)]
pub(crate) struct ContainerLog {
    pub lines: Vec<String>,
    /// Set when the process exited; followers stop there.
    pub finished: bool,
    /// Output of the run before the last restart (`previous=true`).
    pub previous: Vec<String>,
}

/// Log lines of every container the kubelet ran.
#[derive(Debug)]
pub(crate) struct PodLogs {
    logs: Mutex<HashMap<ContainerKey, ContainerLog>>,
    changes: watch::Sender<u64>,
}

impl Default for PodLogs {
    fn default() -> Self {
        Self {
            logs: Mutex::new(HashMap::new()),
            changes: watch::channel(0).0,
        }
    }
}

impl PodLogs {
    fn update(&self, key: &ContainerKey, change: impl FnOnce(&mut ContainerLog)) {
        let mut logs = self
            .logs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(logs.entry(key.clone()).or_default());
        drop(logs);
        self.changes.send_modify(|count| *count += 1);
    }

    /// Starts a new run: the current lines become the previous run's.
    pub fn start(&self, key: &ContainerKey) {
        self.update(key, |log| {
            if !log.lines.is_empty() || log.finished {
                log.previous = std::mem::take(&mut log.lines);
            }
            log.finished = false;
        });
    }

    /// Appends one line.
    pub fn append(&self, key: &ContainerKey, line: String) {
        self.update(key, |log| log.lines.push(line));
    }

    /// Marks the current run finished.
    pub fn finish(&self, key: &ContainerKey) {
        self.update(key, |log| log.finished = true);
    }

    /// The log of one container, if it ever ran.
    pub fn get(&self, key: &ContainerKey) -> Option<ContainerLog> {
        let logs = self
            .logs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        logs.get(key).cloned()
    }

    /// Forgets the logs of a pod.
    pub fn remove_pod(&self, namespace: &str, pod: &str) {
        let mut logs = self
            .logs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        logs.retain(|(log_namespace, log_pod, _), _| log_namespace != namespace || log_pod != pod);
    }

    /// A receiver that wakes on every new line or finished run.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}
