//! Locking. rustic_core takes no locks, so this module provides both halves restic users
//! expect: a per-repository lock inside this process (no two writers at once, backup vs prune
//! above all), and restic-format lock files in `locks/` so a stock `restic` run at the same
//! time sees us and we see it. Stale locks (older than restic's 30 minutes, or held by a dead
//! process on this host) are removed; a live lock is never broken.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use aes256ctr_poly1305aes::aead::Aead;
use aes256ctr_poly1305aes::Aes256CtrPoly1305Aes;
use chrono::{DateTime, Utc};
use rand::Rng;
use rustic_core::repofile::MasterKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::{EngineError, Location, Store};

/// restic treats a lock as stale after this long without a refresh.
pub const STALE_AFTER: Duration = Duration::from_secs(30 * 60);
/// How often a held lock is refreshed (restic refreshes every 5 minutes).
pub const REFRESH_EVERY: Duration = Duration::from_secs(5 * 60);
/// A held lock not refreshed for this long counts as lost: others take it for stale at
/// [`STALE_AFTER`], and the margin of one and a half refresh intervals is restic's.
pub const LOST_AFTER: Duration = Duration::from_secs(30 * 60 - 5 * 60 * 3 / 2);

/// The contents of a restic lock file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockFile {
    /// When the lock was taken or last refreshed.
    pub time: DateTime<Utc>,
    /// Whether it excludes every other lock.
    pub exclusive: bool,
    /// Host of the holder.
    pub hostname: String,
    /// User of the holder.
    pub username: String,
    /// Process id of the holder.
    pub pid: u32,
    /// User id of the holder.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub uid: u32,
    /// Group id of the holder.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub gid: u32,
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

impl LockFile {
    fn describe(&self) -> String {
        let kind = if self.exclusive { "an exclusive" } else { "a" };
        format!(
            "{kind} lock of pid {} on `{}` since {}",
            self.pid,
            self.hostname,
            self.time.to_rfc3339()
        )
    }

    /// Whether the lock can be removed: too old, or its process is gone from this host.
    pub fn is_stale(&self, now: DateTime<Utc>, this_host: &str) -> bool {
        let age = now.signed_duration_since(self.time);
        if age.to_std().is_ok_and(|age| age > STALE_AFTER) {
            return true;
        }
        self.hostname == this_host && !process_alive(self.pid)
    }
}

/// The names of the lock files this process wrote and has not removed yet.
fn own_locks() -> std::sync::MutexGuard<'static, std::collections::HashSet<String>> {
    static OWN: OnceLock<Mutex<std::collections::HashSet<String>>> = OnceLock::new();
    OWN.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether a lock that names this host and this process's pid is really ours. A container
/// restarted in its pod has the same hostname and, as pid 1, the same pid as the
/// incarnation that died holding the lock; such a lock is not one this process wrote.
fn foreign_with_our_pid(name: &str, lock: &LockFile, this_host: &str) -> bool {
    lock.hostname == this_host && lock.pid == std::process::id() && !own_locks().contains(name)
}

/// The lock files this process holds through a [`RepositoryLock`], for
/// [`release_held_locks`].
fn held_files() -> std::sync::MutexGuard<'static, Vec<std::sync::Weak<Mutex<HeldFile>>>> {
    static HELD: OnceLock<Mutex<Vec<std::sync::Weak<Mutex<HeldFile>>>>> = OnceLock::new();
    let mut held = HELD
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    held.retain(|state| state.strong_count() > 0);
    held
}

/// Removes the lock files of every lock this process holds, for a process about to exit
/// without unwinding (SIGTERM when its Job is deleted): left behind, a lock blocks other
/// hosts' exclusive operations until it is stale, half an hour later. Returns how many
/// were removed. The operations that held them must not go on afterwards.
pub fn release_held_locks() -> usize {
    let states: Vec<_> = held_files()
        .iter()
        .filter_map(std::sync::Weak::upgrade)
        .collect();
    states
        .iter()
        .filter(|state| {
            state
                .lock()
                .is_ok_and(|held| remove_own(&held.store, &held.name).is_ok())
        })
        .count()
}

/// Removes one of our own lock files.
fn remove_own(store: &Store, name: &str) -> Result<(), EngineError> {
    store.delete(&format!("locks/{name}"))?;
    own_locks().remove(name);
    Ok(())
}

fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    // /proc/<pid> exists exactly while the process (or its zombie) does.
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        || !std::path::Path::new("/proc/self").exists()
}

pub(crate) fn hostname() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

fn cipher(key: &MasterKey) -> Aes256CtrPoly1305Aes {
    let mut material = [0u8; 64];
    material[..32].copy_from_slice(&key.encrypt[..32]);
    material[32..48].copy_from_slice(&key.mac.k[..16]);
    material[48..64].copy_from_slice(&key.mac.r[..16]);
    Aes256CtrPoly1305Aes::new(&material.into())
}

/// Encrypts a file the way restic stores every repository file: nonce, ciphertext, MAC.
pub(crate) fn encrypt(key: &MasterKey, plain: &[u8]) -> Vec<u8> {
    seal(&cipher(key), plain)
}

/// Encrypts with key material laid out as restic's: AES-256 key, Poly1305 `k`, Poly1305 `r`
/// (what scrypt derives from a password for a key file).
pub(crate) fn encrypt_with(material: &[u8; 64], plain: &[u8]) -> Vec<u8> {
    seal(&Aes256CtrPoly1305Aes::new(material.into()), plain)
}

fn seal(cipher: &Aes256CtrPoly1305Aes, plain: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; 16];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = cipher.encrypt((&nonce).into(), plain).unwrap_or_default();
    let mut data = nonce.to_vec();
    data.extend_from_slice(&sealed);
    data
}

/// Decrypts a restic repository file; `None` when the MAC does not match this key.
pub(crate) fn decrypt(key: &MasterKey, data: &[u8]) -> Option<Vec<u8>> {
    unseal(&cipher(key), data)
}

/// Decrypts with key material laid out as in `encrypt_with` (a key file's data).
pub(crate) fn decrypt_with(material: &[u8; 64], data: &[u8]) -> Option<Vec<u8>> {
    unseal(&Aes256CtrPoly1305Aes::new(material.into()), data)
}

fn unseal(cipher: &Aes256CtrPoly1305Aes, data: &[u8]) -> Option<Vec<u8>> {
    if data.len() < 32 {
        return None;
    }
    cipher.decrypt(data[..16].into(), &data[16..]).ok()
}

/// Parses a decrypted lock file. restic writes unpacked files of a version 2 repository
/// zstd-compressed behind a `2` byte (its own locks included); a plain JSON lock starts with `{`.
fn parse_lock(plain: &[u8]) -> Option<LockFile> {
    match plain.split_first() {
        Some((2, compressed)) => {
            let json = zstd::stream::decode_all(compressed).ok()?;
            serde_json::from_slice(&json).ok()
        }
        _ => serde_json::from_slice(plain).ok(),
    }
}

/// Reads every lock of the repository at `store`, removing the stale ones.
fn live_locks(
    store: &Store,
    key: &MasterKey,
    repository: &str,
) -> Result<Vec<(String, LockFile)>, EngineError> {
    let now = Utc::now();
    let this_host = hostname();
    let mut live = Vec::new();
    // Only finished lock files: restic writes `<id>-tmp-<random>` first and renames it.
    let is_lock_name = |name: &str| name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit());
    for name in store
        .list("locks")?
        .into_iter()
        .filter(|name| is_lock_name(name))
    {
        let Some(data) = store.read(&format!("locks/{name}"))? else {
            continue;
        };
        let parsed = decrypt(key, &data).and_then(|plain| parse_lock(&plain));
        match parsed {
            Some(lock)
                if lock.is_stale(now, &this_host)
                    || foreign_with_our_pid(&name, &lock, &this_host) =>
            {
                tracing::info!(repository, lock = %name, holder = %lock.describe(), "removing stale lock");
                store.delete(&format!("locks/{name}"))?;
            }
            Some(lock) => live.push((name, lock)),
            // A lock we cannot read (written with another key) is live until it ages out;
            // its file time is unknown here, so it counts as held by an unknown process.
            None => live.push((
                name,
                LockFile {
                    time: now,
                    exclusive: true,
                    hostname: "unknown host".into(),
                    username: String::new(),
                    pid: 0,
                    uid: 0,
                    gid: 0,
                },
            )),
        }
    }
    Ok(live)
}

/// The in-process lock of a repository. Each is allocated once per repository and lives for
/// the rest of the process, so guards can be held without borrowing from a map.
fn in_process_lock(repository: &str) -> &'static RwLock<()> {
    static LOCKS: OnceLock<Mutex<HashMap<String, &'static RwLock<()>>>> = OnceLock::new();
    let locks = LOCKS.get_or_init(Default::default);
    let mut locks = locks
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    locks
        .entry(repository.to_string())
        .or_insert_with(|| Box::leak(Box::default()))
}

/// A held lock: the in-process guard plus our lock file, refreshed in the background and
/// removed on drop. [`RepositoryLock::ensure_held`] says whether it still protects the
/// operation.
pub struct RepositoryLock {
    repository: String,
    state: Arc<Mutex<HeldFile>>,
    health: Arc<Health>,
    lost_after: Duration,
    stop: Option<std::sync::mpsc::Sender<()>>,
    refresher: Option<std::thread::JoinHandle<()>>,
    _guard: InProcessGuard,
}

/// What the refresher learnt about the lock, readable while it waits on the backend.
struct Health {
    /// When our lock file was last written.
    refreshed: Mutex<std::time::Instant>,
    /// Why the lock is lost, once it is.
    lost: Mutex<Option<String>>,
}

/// How often a lock is refreshed and when it counts as lost; shorter in tests.
#[derive(Clone, Copy)]
struct Timing {
    refresh_every: Duration,
    lost_after: Duration,
}

const TIMING: Timing = Timing {
    refresh_every: REFRESH_EVERY,
    lost_after: LOST_AFTER,
};

impl RepositoryLock {
    /// Fails with [`EngineError::LockLost`] when the lock no longer protects the operation:
    /// another process removed our lock file (`restic unlock --remove-all`), or it could not
    /// be refreshed for [`LOST_AFTER`], so others may have taken it for stale. An operation
    /// calls this before it makes its work count (a backup before it reports its snapshot,
    /// a prune before it deletes); what it wrote meanwhile may refer to data a prune removed.
    pub fn ensure_held(&self) -> Result<(), EngineError> {
        let lost = |cause: String| EngineError::LockLost {
            repository: self.repository.clone(),
            cause,
        };
        // The file first, under the refresher's mutex: a refresh in flight ends before, and
        // what it concluded is read below.
        let held = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let removed_now = matches!(held.store.read(&format!("locks/{}", held.name)), Ok(None));
        if let Some(cause) = self
            .health
            .lost
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            return Err(lost(cause));
        }
        if removed_now {
            return Err(lost(removed(&held.name)));
        }
        let since = self
            .health
            .refreshed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed();
        if since >= self.lost_after {
            return Err(lost(format!(
                "it was not refreshed for {} s, so other processes may have taken it for stale",
                since.as_secs()
            )));
        }
        Ok(())
    }
}

fn removed(name: &str) -> String {
    format!("its lock file {name} was removed by another process (`restic unlock --remove-all`?)")
}

struct HeldFile {
    store: Store,
    name: String,
}

enum InProcessGuard {
    Shared(#[allow(dead_code)] std::sync::RwLockReadGuard<'static, ()>),
    Exclusive(#[allow(dead_code)] std::sync::RwLockWriteGuard<'static, ()>),
}

/// Takes a lock on the repository at `location`: shared for backups and restores, exclusive
/// for forget, prune and key removal. Fails with [`EngineError::Locked`] when a live
/// conflicting lock exists (after `wait` has passed).
pub fn acquire(
    location: &Location,
    key: &MasterKey,
    exclusive: bool,
    wait: Duration,
) -> Result<RepositoryLock, EngineError> {
    acquire_timed(location, key, exclusive, wait, TIMING)
}

fn acquire_timed(
    location: &Location,
    key: &MasterKey,
    exclusive: bool,
    wait: Duration,
    timing: Timing,
) -> Result<RepositoryLock, EngineError> {
    let repository = location.describe();
    let lock = in_process_lock(&repository);
    let guard = if exclusive {
        InProcessGuard::Exclusive(
            lock.write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    } else {
        InProcessGuard::Shared(lock.read().unwrap_or_else(|poisoned| poisoned.into_inner()))
    };
    let store = location.store()?;
    let deadline = std::time::Instant::now() + wait;
    let conflict = |own: Option<&str>| -> Result<Option<LockFile>, EngineError> {
        Ok(live_locks(&store, key, &repository)?
            .into_iter()
            .filter(|(name, lock)| Some(name.as_str()) != own && (exclusive || lock.exclusive))
            .map(|(_, lock)| lock)
            .next())
    };
    let name = loop {
        // Check, write ours, check again: another process that checked at the same moment
        // is seen by one of the two second checks (restic does the same), and the one that
        // sees it backs off. Without it, a prune and a backup could both go ahead.
        let found = match conflict(None)? {
            Some(found) => Some(found),
            None => {
                #[cfg(test)]
                tests::before_write(&store, key);
                let name = write_lock_file(&store, key, exclusive)?;
                match conflict(Some(&name)) {
                    Ok(None) => break name,
                    Ok(Some(found)) => {
                        remove_own(&store, &name)?;
                        Some(found)
                    }
                    Err(error) => {
                        // Not left behind to block others for half an hour.
                        let _ = remove_own(&store, &name);
                        return Err(error);
                    }
                }
            }
        };
        match found {
            Some(_) if std::time::Instant::now() < deadline => {
                // Jittered, so two processes that backed off together do not meet again.
                std::thread::sleep(Duration::from_millis(300 + rand::random::<u64>() % 400))
            }
            Some(conflict) => {
                return Err(EngineError::Locked {
                    repository,
                    holder: conflict.describe(),
                });
            }
            None => unreachable!("the loop breaks when no lock conflicts"),
        }
    };
    let state = Arc::new(Mutex::new(HeldFile { store, name }));
    held_files().push(Arc::downgrade(&state));
    let health = Arc::new(Health {
        refreshed: Mutex::new(std::time::Instant::now()),
        lost: Mutex::new(None),
    });
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let refresher = {
        let state = state.clone();
        let health = health.clone();
        let key = key.clone();
        std::thread::Builder::new()
            .name("kubestash-lock-refresh".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(timing.refresh_every)
                {
                    let Ok(mut held) = state.lock() else { break };
                    if let Some(cause) = refresh(&mut held, &key, exclusive, &health, timing) {
                        tracing::warn!(repository = %held.store.location, %cause, "lost the repository lock");
                        *health.lost.lock().unwrap_or_else(PoisonError::into_inner) = Some(cause);
                        break;
                    }
                }
            })
            .map_err(|error| EngineError::Io {
                path: "lock refresh thread".into(),
                cause: error.to_string(),
            })?
    };
    Ok(RepositoryLock {
        repository,
        state,
        health,
        lost_after: timing.lost_after,
        stop: Some(stop),
        refresher: Some(refresher),
        _guard: guard,
    })
}

/// Replaces our lock file with a fresh one. Returns why the lock is lost, if it is: our file
/// was removed by someone else, or writing has failed for longer than `timing.lost_after`
/// (a failed refresh is tried again at the next tick until then).
fn refresh(
    held: &mut HeldFile,
    key: &MasterKey,
    exclusive: bool,
    health: &Health,
    timing: Timing,
) -> Option<String> {
    // An unreadable backend shows in the write below; only a file that is certainly gone
    // means someone removed it.
    let gone =
        |held: &HeldFile| matches!(held.store.read(&format!("locks/{}", held.name)), Ok(None));
    if gone(held) {
        own_locks().remove(&held.name);
        return Some(removed(&held.name));
    }
    match write_lock_file(&held.store, key, exclusive) {
        Ok(name) => {
            // Removed between the look above and the write: the new file must not hide it.
            if gone(held) {
                let _ = remove_own(&held.store, &name);
                own_locks().remove(&held.name);
                return Some(removed(&held.name));
            }
            let _ = remove_own(&held.store, &held.name);
            held.name = name;
            *health
                .refreshed
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = std::time::Instant::now();
            None
        }
        Err(error) => {
            let since = health
                .refreshed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .elapsed();
            if since >= timing.lost_after {
                Some(format!(
                    "it could not be refreshed for {} s: {error}",
                    since.as_secs()
                ))
            } else {
                tracing::warn!(repository = %held.store.location, %error, "unable to refresh the repository lock; trying again");
                None
            }
        }
    }
}

fn write_lock_file(store: &Store, key: &MasterKey, exclusive: bool) -> Result<String, EngineError> {
    let lock = LockFile {
        time: Utc::now(),
        exclusive,
        hostname: hostname(),
        username: std::env::var("USER").unwrap_or_else(|_| "root".into()),
        pid: std::process::id(),
        uid: 0,
        gid: 0,
    };
    // Known as ours before it exists, so no other thread of this process takes it for a
    // dead incarnation's.
    let data = sealed_lock(key, &lock)?;
    let name = lock_name(&data);
    own_locks().insert(name.clone());
    store
        .write(&format!("locks/{name}"), &data)
        .inspect_err(|_| {
            own_locks().remove(&name);
        })?;
    Ok(name)
}

fn sealed_lock(key: &MasterKey, lock: &LockFile) -> Result<Vec<u8>, EngineError> {
    let plain = serde_json::to_vec(lock).map_err(|error| EngineError::Io {
        path: "lock".into(),
        cause: error.to_string(),
    })?;
    Ok(encrypt(key, &plain))
}

/// Like every restic file, a lock is named by the SHA-256 of its stored bytes.
fn lock_name(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn store_lock(store: &Store, key: &MasterKey, lock: &LockFile) -> Result<String, EngineError> {
    let data = sealed_lock(key, lock)?;
    let name = lock_name(&data);
    store.write(&format!("locks/{name}"), &data)?;
    Ok(name)
}

/// Writes a lock file as another holder would (a restic run elsewhere, a crashed executor);
/// returns its name. For tools and tests that need to reproduce lock situations.
pub fn write_lock(
    location: &Location,
    key: &MasterKey,
    lock: &LockFile,
) -> Result<String, EngineError> {
    store_lock(&location.store()?, key, lock)
}

/// The locks of a repository that are not stale (stale ones are removed on the way).
pub fn list_locks(location: &Location, key: &MasterKey) -> Result<Vec<LockFile>, EngineError> {
    let store = location.store()?;
    Ok(live_locks(&store, key, &location.describe())?
        .into_iter()
        .map(|(_, lock)| lock)
        .collect())
}

impl Drop for RepositoryLock {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(refresher) = self.refresher.take() {
            let _ = refresher.join();
        }
        if let Ok(held) = self.state.lock() {
            let _ = remove_own(&held.store, &held.name);
        }
    }
}

/// Removes every lock of the repository regardless of its age (`kubectl kubestash unlock`);
/// returns how many were removed.
pub fn remove_all_locks(location: &Location) -> Result<usize, EngineError> {
    let store = location.store()?;
    let names = store.list("locks")?;
    for name in &names {
        store.delete(&format!("locks/{name}"))?;
    }
    Ok(names.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Hook = Box<dyn Fn(&Store, &MasterKey) + Send>;

    thread_local! {
        /// Runs in `acquire` between its first check and writing its lock file.
        static BEFORE_WRITE: std::cell::RefCell<Option<Hook>> = const { std::cell::RefCell::new(None) };
    }

    pub(super) fn before_write(store: &Store, key: &MasterKey) {
        BEFORE_WRITE.with(|hook| {
            if let Some(hook) = hook.borrow_mut().take() {
                hook(store, key);
            }
        });
    }

    #[test]
    fn a_lock_written_between_the_check_and_ours_makes_us_back_off() {
        let directory = tempfile::tempdir().unwrap();
        let location = Location::Local {
            root: directory.path().to_path_buf(),
        };
        let key = MasterKey::new();
        BEFORE_WRITE.with(|hook| {
            *hook.borrow_mut() = Some(Box::new(|store: &Store, key: &MasterKey| {
                let mut other = lock(0, "other-host", 7);
                other.exclusive = true;
                store_lock(store, key, &other).unwrap();
            }))
        });
        let error = acquire(&location, &key, false, Duration::ZERO)
            .err()
            .expect("the lock that appeared wins");
        assert!(matches!(error, EngineError::Locked { .. }), "{error}");
        let locks = list_locks(&location, &key).unwrap();
        assert_eq!(locks.len(), 1, "ours was removed again: {locks:?}");
        assert_eq!(locks[0].hostname, "other-host");
    }

    fn local(directory: &tempfile::TempDir) -> Location {
        Location::Local {
            root: directory.path().to_path_buf(),
        }
    }

    #[test]
    fn a_lock_whose_file_another_process_removed_is_lost_at_once() {
        let directory = tempfile::tempdir().unwrap();
        let location = local(&directory);
        let key = MasterKey::new();
        // No refresh runs during the test: the removal is seen by `ensure_held` itself.
        let timing = Timing {
            refresh_every: Duration::from_secs(3600),
            lost_after: Duration::from_secs(3600),
        };
        let held = acquire_timed(&location, &key, false, Duration::ZERO, timing).unwrap();
        held.ensure_held().expect("just taken");
        assert_eq!(remove_all_locks(&location).unwrap(), 1);
        let error = held.ensure_held().expect_err("the removal is noticed");
        assert!(matches!(error, EngineError::LockLost { .. }), "{error}");
        assert!(
            error.to_string().contains("removed by another process"),
            "{error}"
        );
        drop(held);
        assert!(
            list_locks(&location, &key).unwrap().is_empty(),
            "not written back"
        );
    }

    #[test]
    fn a_refresh_replaces_the_file_and_notices_a_removal() {
        let directory = tempfile::tempdir().unwrap();
        let location = local(&directory);
        let key = MasterKey::new();
        let mut held = HeldFile {
            store: location.store().unwrap(),
            name: write_lock_file(&location.store().unwrap(), &key, false).unwrap(),
        };
        let health = Health {
            refreshed: Mutex::new(std::time::Instant::now()),
            lost: Mutex::new(None),
        };
        let first = held.name.clone();
        assert_eq!(refresh(&mut held, &key, false, &health, TIMING), None);
        assert_ne!(held.name, first, "a new file");
        let names = location.store().unwrap().list("locks").unwrap();
        assert_eq!(names, vec![held.name.clone()], "the old one is gone");
        remove_all_locks(&location).unwrap();
        let cause = refresh(&mut held, &key, false, &health, TIMING).expect("lost");
        assert!(cause.contains("removed by another process"), "{cause}");
        assert!(
            location.store().unwrap().list("locks").unwrap().is_empty(),
            "not written back"
        );
    }

    #[test]
    fn a_lock_not_refreshed_for_the_limit_is_lost() {
        let directory = tempfile::tempdir().unwrap();
        let key = MasterKey::new();
        let timing = Timing {
            refresh_every: Duration::from_secs(3600),
            lost_after: Duration::from_millis(50),
        };
        let held = acquire_timed(&local(&directory), &key, true, Duration::ZERO, timing).unwrap();
        held.ensure_held().expect("just taken");
        std::thread::sleep(Duration::from_millis(80));
        let error = held.ensure_held().expect_err("older than the limit");
        assert!(error.to_string().contains("not refreshed"), "{error}");
    }

    #[test]
    fn failed_refreshes_lose_the_lock_only_past_the_limit() {
        // A root that is a file: reading the lock fails (not "missing") and so does writing.
        let directory = tempfile::tempdir().unwrap();
        let root = directory.path().join("not-a-directory");
        std::fs::write(&root, b"").unwrap();
        let mut held = HeldFile {
            store: Location::Local { root }.store().unwrap(),
            name: "0".repeat(64),
        };
        let health = Health {
            refreshed: Mutex::new(std::time::Instant::now() - Duration::from_secs(2)),
            lost: Mutex::new(None),
        };
        let timing = |seconds| Timing {
            refresh_every: Duration::from_secs(1),
            lost_after: Duration::from_secs(seconds),
        };
        let key = MasterKey::new();
        assert_eq!(refresh(&mut held, &key, false, &health, timing(60)), None);
        let cause = refresh(&mut held, &key, false, &health, timing(1)).expect("past the limit");
        assert!(cause.contains("could not be refreshed"), "{cause}");
    }

    fn lock(age_seconds: i64, hostname: &str, pid: u32) -> LockFile {
        LockFile {
            time: Utc::now() - chrono::Duration::seconds(age_seconds),
            exclusive: false,
            hostname: hostname.into(),
            username: "root".into(),
            pid,
            uid: 0,
            gid: 0,
        }
    }

    #[test]
    fn old_locks_are_stale() {
        assert!(lock(31 * 60, "elsewhere", 1).is_stale(Utc::now(), "here"));
        assert!(!lock(60, "elsewhere", 1).is_stale(Utc::now(), "here"));
    }

    #[test]
    fn locks_of_dead_local_processes_are_stale() {
        let here = hostname();
        assert!(!lock(60, &here, std::process::id()).is_stale(Utc::now(), &here));
        // Pids wrap far below this on Linux.
        assert!(lock(60, &here, 4_000_000_000).is_stale(Utc::now(), &here));
    }

    #[test]
    fn a_lock_with_our_pid_that_we_did_not_write_is_a_dead_incarnations() {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::Local {
            root: dir.path().to_path_buf(),
        };
        let store = location.store().unwrap();
        let key = MasterKey::new();
        let here = hostname();
        // Same host, same pid: what a container restarted in its pod finds.
        let earlier = store_lock(&store, &key, &lock(60, &here, std::process::id())).unwrap();
        let ours = write_lock_file(&store, &key, false).unwrap();
        let live: Vec<String> = live_locks(&store, &key, "test")
            .unwrap()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(
            live,
            std::slice::from_ref(&ours),
            "only the lock this process holds is live"
        );
        assert!(store.read(&format!("locks/{earlier}")).unwrap().is_none());
        remove_own(&store, &ours).unwrap();
        assert!(!own_locks().contains(&ours));
    }

    #[test]
    fn held_locks_are_released_for_an_exit_without_unwinding() {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::Local {
            root: dir.path().to_path_buf(),
        };
        let key = MasterKey::new();
        let held = acquire(&location, &key, true, Duration::ZERO).unwrap();
        let files = || std::fs::read_dir(dir.path().join("locks")).unwrap().count();
        assert_eq!(files(), 1);
        assert!(release_held_locks() >= 1);
        assert_eq!(files(), 0, "the exclusive lock no longer blocks others");
        drop(held);
    }

    #[test]
    fn encryption_round_trips_and_rejects_other_keys() {
        let key = MasterKey::new();
        let data = encrypt(&key, b"{\"exclusive\":true}");
        assert_eq!(decrypt(&key, &data).unwrap(), b"{\"exclusive\":true}");
        assert!(decrypt(&MasterKey::new(), &data).is_none());
    }

    #[test]
    fn lock_json_matches_restic_field_names() {
        let text = serde_json::to_string(&lock(0, "host", 7)).unwrap();
        for field in [
            "\"time\"",
            "\"exclusive\"",
            "\"hostname\"",
            "\"username\"",
            "\"pid\"",
        ] {
            assert!(text.contains(field), "{text}");
        }
    }
}
