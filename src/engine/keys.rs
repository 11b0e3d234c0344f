//! Key management of a component repository: list, add, remove, and password rotation.

use rand::Rng as _;
use rustic_core::repofile::{KeyFile, KeyId, MasterKey};
use sha2::Digest as _;

use crate::engine::lock::{decrypt_with, encrypt_with};
use crate::engine::repository::to_utc;
use crate::engine::store::Store;
use crate::engine::{ComponentRepository, EngineError};

/// The scrypt cost of the keys this engine writes: N = 2^15 and r = 8, restic's own choice
/// (32 MiB, under restic's 60 MiB cap), with p = 4 so that deriving a key costs as much CPU
/// as rustic's default (N = 2^17, p = 1) does. rustic's default needs 128 MiB for every
/// open, which set the peak memory of every backup and restore Job; the guessing cost per
/// password stays the same. Keys with any parameters (restic's, rustic's) are read as
/// they are.
const KDF_LOG_N: u8 = 15;
const KDF_R: u32 = 8;
const KDF_P: u32 = 4;

/// How many scrypt lanes are derived at once: each needs its own table (32 MiB for our keys),
/// so the peak of an open stays at 64 MiB however many cores the node has.
const KDF_LANES_AT_ONCE: usize = 2;

/// scrypt on a pool of `KDF_LANES_AT_ONCE` threads (the crate's `parallel` feature derives
/// one lane per pool thread).
fn derive(
    password: &str,
    salt: &[u8],
    params: &scrypt::Params,
    output: &mut [u8],
) -> Result<(), scrypt::errors::InvalidOutputLen> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(KDF_LANES_AT_ONCE)
            .thread_name(|index| format!("scrypt-{index}"))
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(|| scrypt::scrypt(password.as_bytes(), salt, params, output)),
        // No threads to be had: the global pool, as the crate would use.
        None => scrypt::scrypt(password.as_bytes(), salt, params, output),
    }
}

/// A restic key file that unlocks `master` with `password`; `Err` says why not.
fn key_file(
    master: &MasterKey,
    password: &str,
    host: Option<&str>,
    user: Option<&str>,
) -> Result<KeyFile, String> {
    let params = scrypt::Params::new(KDF_LOG_N, KDF_R, KDF_P).map_err(|error| error.to_string())?;
    let mut salt = vec![0u8; 64];
    rand::rng().fill_bytes(&mut salt);
    let mut derived = [0u8; 64];
    derive(password, &salt, &params, &mut derived).map_err(|error| error.to_string())?;
    let plain = serde_json::to_vec(master).map_err(|error| error.to_string())?;
    Ok(KeyFile {
        hostname: host.map(str::to_string),
        username: user.map(str::to_string),
        created: Some(rustic_core::jiff::Zoned::now()),
        kdf: "scrypt".to_string(),
        n: 1 << KDF_LOG_N,
        r: KDF_R,
        p: KDF_P,
        data: encrypt_with(&derived, &plain),
        salt,
    })
}

/// The key among `keys/` that `password` unlocks, with the master key it holds; `None` when
/// no key matches. This is what rustic_core does when it opens a repository with a password,
/// except that the scrypt lanes (p = 4 in restic's keys and ours) are derived two at a time,
/// which halves the time of every open for one extra 32 MiB table (see `derive`).
/// Files that are not scrypt key files are passed over, as rustic does not try them either.
pub(crate) fn unlock(
    store: &Store,
    password: &str,
) -> Result<Option<(KeyId, MasterKey)>, EngineError> {
    for name in store.list("keys")? {
        let Ok(id) = name.parse::<rustic_core::Id>() else {
            continue;
        };
        let Some(bytes) = store.read(&format!("keys/{name}"))? else {
            continue;
        };
        if let Some(master) = open_key_file(&bytes, password) {
            return Ok(Some((KeyId::from(id), master)));
        }
    }
    Ok(None)
}

/// The master key in a key file's bytes, if `password` unlocks it.
fn open_key_file(bytes: &[u8], password: &str) -> Option<MasterKey> {
    let file: KeyFile = serde_json::from_slice(bytes).ok()?;
    if file.kdf != "scrypt" || !file.n.is_power_of_two() {
        return None;
    }
    let log_n = u8::try_from(file.n.trailing_zeros()).ok()?;
    let params = scrypt::Params::new(log_n, file.r, file.p).ok()?;
    let mut derived = [0u8; 64];
    derive(password, &file.salt, &params, &mut derived).ok()?;
    let plain = decrypt_with(&derived, &file.data)?;
    serde_json::from_slice(&plain).ok()
}

/// A key of a repository.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyInfo {
    /// Key id (hex).
    pub id: String,
    /// Whether this process opened the repository with it.
    pub current: bool,
    /// Host recorded in the key.
    pub host: Option<String>,
    /// User recorded in the key.
    pub user: Option<String>,
    /// When it was created.
    pub created: Option<String>,
}

impl ComponentRepository {
    /// The master key (for lock files and key management tools).
    pub fn master_key(&self) -> Result<rustic_core::repofile::MasterKey, EngineError> {
        Ok(self.open()?.key())
    }

    /// The keys of the repository.
    pub fn keys(&self) -> Result<Vec<KeyInfo>, EngineError> {
        let (repository, current) = self.open_with_key()?;
        let ids: Vec<KeyId> = repository
            .list::<KeyId>()
            .map_err(|error| EngineError::operation("list keys", self.location(), &error))?
            .collect();
        let mut keys = Vec::new();
        for id in ids {
            let file: KeyFile = repository
                .get_file(&id)
                .map_err(|error| EngineError::operation("read a key", self.location(), &error))?;
            keys.push(KeyInfo {
                id: id.to_hex().to_string(),
                current: current == id,
                host: file.hostname.clone(),
                user: file.username.clone(),
                created: file.created.as_ref().map(|time| to_utc(time).to_rfc3339()),
            });
        }
        keys.sort_by(|left, right| left.created.cmp(&right.created));
        Ok(keys)
    }

    /// Adds a key for `password`; returns its id.
    pub fn add_key(
        &self,
        password: &str,
        host: Option<&str>,
        user: Option<&str>,
    ) -> Result<String, EngineError> {
        let repository = self.open()?;
        let _lock = self.lock(&repository, false)?;
        self.write_key(&repository.key(), password, host, user)
    }

    /// Writes a key for `password` unlocking `master` (as `keys/<sha256 of the file>`, the
    /// way restic names them); returns its id.
    pub(crate) fn write_key(
        &self,
        master: &MasterKey,
        password: &str,
        host: Option<&str>,
        user: Option<&str>,
    ) -> Result<String, EngineError> {
        let failed = |cause: String| EngineError::Operation {
            operation: "write a key",
            repository: self.location().describe(),
            cause,
        };
        let file = key_file(master, password, host, user).map_err(failed)?;
        let bytes = serde_json::to_vec(&file).map_err(|error| failed(error.to_string()))?;
        let id = hex::encode(sha2::Sha256::digest(&bytes));
        self.location()
            .store()?
            .write(&format!("keys/{id}"), &bytes)?;
        Ok(id)
    }

    /// Removes a key by id (or unique id prefix); the key in use cannot be removed.
    pub fn remove_key(&self, id: &str) -> Result<(), EngineError> {
        let (repository, current) = self.open_with_key()?;
        let _lock = self.lock(&repository, true)?;
        let ids: Vec<KeyId> = repository
            .find_ids::<KeyId, _>(&[id])
            .map_err(|error| EngineError::operation("find the key", self.location(), &error))?
            .collect();
        let key = ids.first().ok_or_else(|| EngineError::Operation {
            operation: "remove a key",
            repository: self.location().describe(),
            cause: format!("no key `{id}`"),
        })?;
        if *key == current {
            return Err(EngineError::Operation {
                operation: "remove a key",
                repository: self.location().describe(),
                cause: format!("key `{id}` is the one `RESTIC_PASSWORD` opens; add another first"),
            });
        }
        repository
            .delete_key(key)
            .map_err(|error| EngineError::operation("remove a key", self.location(), &error))
    }

    /// Replaces the password: adds a key for `new_password`, then removes the current key.
    /// Returns the repository opened with the new password.
    pub fn change_password(&self, new_password: &str) -> Result<Self, EngineError> {
        let (_, old_key) = self.open_with_key()?;
        let added = self.add_key(new_password, None, None)?;
        let updated = self.with_password(new_password);
        if old_key.to_hex().as_str() != added {
            let repository = updated.open()?;
            let _lock = updated.lock(&repository, true)?;
            repository.delete_key(&old_key).map_err(|error| {
                EngineError::operation("remove the old key", self.location(), &error)
            })?;
        }
        Ok(updated)
    }
}
