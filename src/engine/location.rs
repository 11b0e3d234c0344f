//! Where a backend or repository lives: a local directory (hostPath, NFS or PVC as mounted),
//! an S3 bucket, a GCS bucket or an Azure container, plus blocking raw-file access for the
//! KubeStash layout files (through [`Store`]).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use rustic_backend::LocalBackend;
use rustic_core::RepositoryBackends;

use crate::api::storage::BackupStorageSpec;
use crate::engine::remote::RemoteBackend;
use crate::engine::store::{store_runtime, StoreKind};
use crate::engine::{EngineError, Store};

/// A place in a backend. Credentials are held but never printed.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A directory on a mounted volume.
    Local {
        /// The directory.
        root: PathBuf,
    },
    /// An S3 or S3-compatible bucket.
    S3 {
        /// Endpoint URL.
        endpoint: String,
        /// Bucket.
        bucket: String,
        /// Path inside the bucket, without leading or trailing slashes.
        prefix: String,
        /// Region.
        region: String,
        /// `AWS_ACCESS_KEY_ID`, when the storage has a Secret.
        access_key_id: Option<String>,
        /// `AWS_SECRET_ACCESS_KEY`.
        secret_access_key: Option<String>,
        /// `AWS_SESSION_TOKEN`.
        session_token: Option<String>,
        /// `spec.storage.s3.insecureTLS`: accept any server certificate.
        insecure_tls: bool,
        /// `CA_CERT_DATA` of the storage Secret: PEM certificates trusted besides the
        /// system's (a MinIO with its own CA).
        ca_certificate: Option<String>,
    },
    /// A Google Cloud Storage bucket.
    Gcs {
        /// Bucket.
        bucket: String,
        /// Path inside the bucket.
        prefix: String,
        /// `GOOGLE_SERVICE_ACCOUNT_JSON_KEY`.
        service_account_key: Option<String>,
    },
    /// An Azure Blob Storage container.
    Azure {
        /// Storage account.
        account: String,
        /// Container.
        container: String,
        /// Path inside the container.
        prefix: String,
        /// `AZURE_ACCOUNT_KEY`.
        account_key: Option<String>,
    },
}

impl fmt::Debug for Location {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.describe())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.describe())
    }
}

/// Normalizes a path inside a bucket: no leading, trailing or doubled slashes.
pub fn clean_prefix(prefix: &str) -> String {
    prefix
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

fn join_prefix(prefix: &str, relative: &str) -> String {
    clean_prefix(&format!("{prefix}/{relative}"))
}

fn secret_text(secret: Option<&BTreeMap<String, Vec<u8>>>, key: &str) -> Option<String> {
    secret
        .and_then(|secret| secret.get(key))
        .map(|value| {
            String::from_utf8_lossy(value)
                .trim_end_matches(['\n', '\r'])
                .to_string()
        })
        .filter(|value| !value.is_empty())
}

impl Location {
    /// The backend root of a BackupStorage. `secret` is the storage Secret's data (if it has
    /// one); `local_root` is where a local backend's volume is reachable from this process
    /// (the volume's mount path in a Job, or the directory behind it in the sandbox).
    pub fn from_storage(
        storage_name: &str,
        spec: &BackupStorageSpec,
        secret: Option<&BTreeMap<String, Vec<u8>>>,
        local_root: Option<&Path>,
    ) -> Result<Self, EngineError> {
        let backend = &spec.storage;
        let invalid = |reason: String| EngineError::InvalidStorage {
            storage: storage_name.to_string(),
            reason,
        };
        match backend.provider.as_deref() {
            Some("s3") => {
                let s3 = backend
                    .s3
                    .as_ref()
                    .ok_or_else(|| invalid("spec.storage.s3 is missing".into()))?;
                let access_key_id = secret_text(secret, "AWS_ACCESS_KEY_ID");
                let secret_access_key = secret_text(secret, "AWS_SECRET_ACCESS_KEY");
                if secret.is_some() && (access_key_id.is_none() || secret_access_key.is_none()) {
                    return Err(invalid(
                        "the storage Secret needs both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                            .into(),
                    ));
                }
                let endpoint = s3.endpoint.trim_end_matches('/');
                let endpoint = if endpoint.contains("://") {
                    endpoint.to_string()
                } else {
                    format!("https://{endpoint}")
                };
                Ok(Self::S3 {
                    endpoint,
                    bucket: clean_prefix(&s3.bucket),
                    prefix: clean_prefix(s3.prefix.as_deref().unwrap_or_default()),
                    region: s3
                        .region
                        .clone()
                        .filter(|region| !region.is_empty())
                        .unwrap_or_else(|| "us-east-1".into()),
                    access_key_id,
                    secret_access_key,
                    session_token: secret_text(secret, "AWS_SESSION_TOKEN"),
                    insecure_tls: s3.insecure_tls.unwrap_or(false),
                    ca_certificate: secret_text(secret, "CA_CERT_DATA")
                        .filter(|pem| !pem.trim().is_empty()),
                })
            }
            Some("gcs") => {
                let gcs = backend
                    .gcs
                    .as_ref()
                    .ok_or_else(|| invalid("spec.storage.gcs is missing".into()))?;
                Ok(Self::Gcs {
                    bucket: clean_prefix(&gcs.bucket),
                    prefix: clean_prefix(gcs.prefix.as_deref().unwrap_or_default()),
                    service_account_key: secret_text(secret, "GOOGLE_SERVICE_ACCOUNT_JSON_KEY"),
                })
            }
            Some("azure") => {
                let azure = backend
                    .azure
                    .as_ref()
                    .ok_or_else(|| invalid("spec.storage.azure is missing".into()))?;
                Ok(Self::Azure {
                    account: azure.storage_account.clone(),
                    container: azure.container.clone(),
                    prefix: clean_prefix(azure.prefix.as_deref().unwrap_or_default()),
                    account_key: secret_text(secret, "AZURE_ACCOUNT_KEY"),
                })
            }
            Some("local") => {
                let local = backend
                    .local
                    .as_ref()
                    .ok_or_else(|| invalid("spec.storage.local is missing".into()))?;
                let mount = local_root
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| PathBuf::from(&local.mount_path));
                let sub_path = clean_prefix(local.sub_path.as_deref().unwrap_or_default());
                Ok(Self::Local {
                    root: if sub_path.is_empty() {
                        mount
                    } else {
                        mount.join(sub_path)
                    },
                })
            }
            Some(other) => Err(invalid(format!("unknown provider `{other}`"))),
            None => Err(invalid("spec.storage.provider is missing".into())),
        }
    }

    /// A location below this one.
    pub fn join(&self, relative: &str) -> Self {
        let relative = clean_prefix(relative);
        let mut joined = self.clone();
        match &mut joined {
            Self::Local { root } => {
                if !relative.is_empty() {
                    *root = root.join(relative);
                }
            }
            Self::S3 { prefix, .. } | Self::Gcs { prefix, .. } | Self::Azure { prefix, .. } => {
                *prefix = join_prefix(prefix, &relative);
            }
        }
        joined
    }

    /// A description without credentials, e.g. `s3:http://127.0.0.1:8333/bucket/prefix`.
    pub fn describe(&self) -> String {
        self.restic_repository()
    }

    /// The repository argument the stock `restic` CLI takes for this location
    /// (`restic -r <this>`); credentials go in restic's environment variables.
    pub fn restic_repository(&self) -> String {
        match self {
            Self::Local { root } => root.display().to_string(),
            Self::S3 {
                endpoint,
                bucket,
                prefix,
                ..
            } => format!("s3:{endpoint}/{}", join_prefix(bucket, prefix)),
            Self::Gcs { bucket, prefix, .. } => format!("gs:{bucket}:/{prefix}"),
            Self::Azure {
                container, prefix, ..
            } => format!("azure:{container}:/{prefix}"),
        }
    }

    fn opendal_options(&self) -> (&'static str, BTreeMap<String, String>) {
        let mut options = BTreeMap::new();
        let mut set = |key: &str, value: &str| {
            options.insert(key.to_string(), value.to_string());
        };
        let scheme = match self {
            Self::Local { root } => {
                set("root", &root.display().to_string());
                "fs"
            }
            Self::S3 {
                endpoint,
                bucket,
                prefix,
                region,
                access_key_id,
                secret_access_key,
                session_token,
                ..
            } => {
                set("bucket", bucket);
                set("root", &format!("/{prefix}"));
                set("endpoint", endpoint);
                set("region", region);
                // Path-style requests work with every S3-compatible server, virtual-host
                // style only with some.
                set("enable_virtual_host_style", "false");
                match (access_key_id, secret_access_key) {
                    (Some(access_key_id), Some(secret_access_key)) => {
                        set("access_key_id", access_key_id);
                        set("secret_access_key", secret_access_key);
                        if let Some(token) = session_token {
                            set("session_token", token);
                        }
                        set("disable_config_load", "true");
                        set("disable_ec2_metadata", "true");
                    }
                    // Credential-less: whatever the environment provides (IRSA, instance
                    // roles), else unsigned requests.
                    _ => set("allow_anonymous", "true"),
                }
                "s3"
            }
            Self::Gcs {
                bucket,
                prefix,
                service_account_key,
            } => {
                set("bucket", bucket);
                set("root", &format!("/{prefix}"));
                if let Some(key) = service_account_key {
                    set(
                        "credential",
                        &base64::engine::general_purpose::STANDARD.encode(key),
                    );
                }
                "gcs"
            }
            Self::Azure {
                account,
                container,
                prefix,
                account_key,
            } => {
                set("container", container);
                set("root", &format!("/{prefix}"));
                set("account_name", account);
                set(
                    "endpoint",
                    &format!("https://{account}.blob.core.windows.net"),
                );
                if let Some(key) = account_key {
                    set("account_key", key);
                }
                "azblob"
            }
        };
        (scheme, options)
    }

    /// The rustic backends for a restic repository at this location.
    pub(crate) fn backends(&self) -> Result<RepositoryBackends, EngineError> {
        let backend: Arc<dyn rustic_core::WriteBackend> = match self {
            Self::Local { root } => Arc::new(
                LocalBackend::new(root.display().to_string(), [])
                    .map_err(|error| EngineError::backend(self, &error))?,
            ),
            _ => Arc::new(RemoteBackend::new(self.operator(true)?, self.describe())),
        };
        Ok(RepositoryBackends::new(backend, None))
    }

    /// A blocking OpenDAL operator rooted at this (remote) location, each call bounded in
    /// time. With `retry`, transient
    /// failures are retried (5 times, with jitter), as rustic does for repository files; the
    /// layout files and checks go without, so that an unreachable endpoint fails fast.
    fn operator(&self, retry: bool) -> Result<opendal::blocking::Operator, EngineError> {
        let failed = |error: opendal::Error| EngineError::Backend {
            location: self.describe(),
            cause: error.to_string(),
        };
        // The services built in, and the HTTP client, are registered once per process (no
        // link-time constructor).
        static REGISTER: std::sync::Once = std::sync::Once::new();
        REGISTER.call_once(opendal::install_default);
        let (scheme, options) = self.opendal_options();
        let mut operator = opendal::Operator::via_iter(scheme, options).map_err(failed)?;
        if let Some(transport) = self.tls_transport()? {
            let context = operator.context().with_http_transport(transport);
            operator = operator.with_context(context);
        }
        // A silent endpoint (a firewall dropping packets, a server that accepts and never
        // answers) fails the call instead of hanging it; each retry gets its own budget. A
        // body operation is one whole upload or download (a pack goes up in one PUT, and
        // repositories restic made grow packs past 64 MiB): 15 minutes still lets 64 MiB
        // through at ~75 KB/s.
        operator = operator.layer(
            opendal::layers::TimeoutLayer::new()
                .with_timeout(std::time::Duration::from_secs(60))
                .with_io_timeout(std::time::Duration::from_secs(15 * 60)),
        );
        if retry {
            operator = operator.layer(
                opendal::layers::RetryLayer::new()
                    .with_max_times(5)
                    .with_jitter(),
            );
        }
        let _guard = store_runtime().enter();
        opendal::blocking::Operator::new(operator).map_err(failed)
    }

    /// An HTTP transport for an S3 endpoint with its own TLS settings (`insecureTLS`, a CA
    /// from the Secret); `None` for the process-wide default.
    fn tls_transport(&self) -> Result<Option<opendal::HttpTransporter>, EngineError> {
        let Self::S3 {
            insecure_tls,
            ca_certificate,
            ..
        } = self
        else {
            return Ok(None);
        };
        if !insecure_tls && ca_certificate.is_none() {
            return Ok(None);
        }
        // One client per TLS setting for the process (its roots loaded and its connections
        // pooled once), as OpenDAL keeps one default client.
        type Transports = HashMap<(bool, Option<String>), opendal::HttpTransporter>;
        static TRANSPORTS: std::sync::OnceLock<std::sync::Mutex<Transports>> =
            std::sync::OnceLock::new();
        let cache_key = (*insecure_tls, ca_certificate.clone());
        let transports = TRANSPORTS.get_or_init(Default::default);
        if let Some(found) = transports
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&cache_key)
        {
            return Ok(Some(found.clone()));
        }
        let invalid = |reason: String| EngineError::Backend {
            location: self.describe(),
            cause: reason,
        };
        let mut builder = reqwest::Client::builder().tls_danger_accept_invalid_certs(*insecure_tls);
        if let Some(pem) = ca_certificate {
            let certificates =
                reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|error| {
                    invalid(format!(
                        "CA_CERT_DATA of the storage Secret is not PEM certificates: {error}"
                    ))
                })?;
            if certificates.is_empty() {
                return Err(invalid(
                    "CA_CERT_DATA of the storage Secret holds no PEM certificate".into(),
                ));
            }
            builder = builder.tls_certs_merge(certificates);
        }
        let client = builder
            .build()
            .map_err(|error| invalid(format!("unable to set up TLS: {error}")))?;
        let transport = opendal::HttpTransporter::new(
            opendal_http_transport_reqwest::ReqwestTransport::new(client),
        );
        transports
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(cache_key, transport.clone());
        Ok(Some(transport))
    }

    /// Raw file access to this location.
    pub fn store(&self) -> Result<Store, EngineError> {
        self.store_with(false)
    }

    /// The store with the repository backend's retries, for files every open reads (keys).
    pub(crate) fn retrying_store(&self) -> Result<Store, EngineError> {
        self.store_with(true)
    }

    fn store_with(&self, retry: bool) -> Result<Store, EngineError> {
        let kind = match self {
            Self::Local { root } => StoreKind::Local(root.clone()),
            _ => StoreKind::Remote(self.operator(retry)?),
        };
        Ok(Store {
            kind,
            location: self.describe(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::storage::{Backend, LocalSpec, S3Spec};

    fn s3_spec(prefix: &str) -> BackupStorageSpec {
        BackupStorageSpec {
            storage: Backend {
                provider: Some("s3".into()),
                s3: Some(S3Spec {
                    endpoint: "http://127.0.0.1:8333/".into(),
                    bucket: "backups/".into(),
                    prefix: Some(prefix.into()),
                    ..S3Spec::default()
                }),
                ..Backend::default()
            },
            ..BackupStorageSpec::default()
        }
    }

    #[test]
    fn prefixes_lose_leading_and_trailing_slashes() {
        for prefix in ["/clusters/prod", "clusters/prod/", "//clusters//prod/"] {
            let location = Location::from_storage("s3", &s3_spec(prefix), None, None).unwrap();
            assert_eq!(
                location.restic_repository(),
                "s3:http://127.0.0.1:8333/backups/clusters/prod"
            );
        }
        let location = Location::from_storage("s3", &s3_spec(""), None, None).unwrap();
        assert_eq!(
            location.join("/shop/orders/").restic_repository(),
            "s3:http://127.0.0.1:8333/backups/shop/orders"
        );
    }

    #[test]
    fn local_backends_resolve_under_the_mount() {
        let spec = BackupStorageSpec {
            storage: Backend {
                provider: Some("local".into()),
                local: Some(LocalSpec {
                    mount_path: "/kubestash-storage".into(),
                    sub_path: Some("team/".into()),
                    ..LocalSpec::default()
                }),
                ..Backend::default()
            },
            ..BackupStorageSpec::default()
        };
        let location = Location::from_storage("local", &spec, None, None).unwrap();
        assert_eq!(location.restic_repository(), "/kubestash-storage/team");
        let location =
            Location::from_storage("local", &spec, None, Some(Path::new("/tmp/volume"))).unwrap();
        assert_eq!(
            location.join("/shop/orders").restic_repository(),
            "/tmp/volume/team/shop/orders"
        );
    }

    #[test]
    fn credentials_never_appear_in_descriptions() {
        let secret = BTreeMap::from([
            ("AWS_ACCESS_KEY_ID".to_string(), b"AKIDEXAMPLE".to_vec()),
            (
                "AWS_SECRET_ACCESS_KEY".to_string(),
                b"very-secret-key\n".to_vec(),
            ),
        ]);
        let location = Location::from_storage("s3", &s3_spec("p"), Some(&secret), None).unwrap();
        let shown = format!("{location} {location:?}");
        assert!(
            !shown.contains("very-secret-key") && !shown.contains("AKIDEXAMPLE"),
            "{shown}"
        );
    }

    #[test]
    fn a_secret_with_half_the_keys_is_rejected() {
        let secret = BTreeMap::from([("AWS_ACCESS_KEY_ID".to_string(), b"AKID".to_vec())]);
        let error =
            Location::from_storage("s3-bucket", &s3_spec("p"), Some(&secret), None).unwrap_err();
        assert!(error.to_string().contains("s3-bucket"), "{error}");
        assert!(
            error.to_string().contains("AWS_SECRET_ACCESS_KEY"),
            "{error}"
        );
    }

    #[test]
    fn local_store_round_trips_files() {
        let directory = tempfile::tempdir().unwrap();
        let store = Location::Local {
            root: directory.path().to_path_buf(),
        }
        .store()
        .unwrap();
        assert_eq!(store.read("a/b.yaml").unwrap(), None);
        store.write("a/b.yaml", b"hello").unwrap();
        assert_eq!(store.read("/a/b.yaml").unwrap(), Some(b"hello".to_vec()));
        assert_eq!(store.list("a").unwrap(), ["b.yaml"]);
        assert_eq!(store.size("").unwrap(), 5);
        store.delete("a/b.yaml").unwrap();
        store.delete("a/b.yaml").unwrap();
        assert!(store.list("a").unwrap().is_empty());
    }
}
