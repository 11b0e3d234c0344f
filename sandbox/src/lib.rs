//! In-memory Kubernetes API server and simulated cluster controllers for tests and the demo.
