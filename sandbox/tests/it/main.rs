//! Integration tests: each test starts its own sandbox on a random port and drives it with
//! kube-rs or the real kubectl.

mod api;
mod controller;
mod crd;
mod kubectl;
mod pods;
mod support;
mod watch;
