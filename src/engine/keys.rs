//! Key management of a component repository: list, add, remove, and password rotation.

use rustic_core::repofile::{KeyFile, KeyId};
use rustic_core::KeyOptions;

use crate::engine::repository::to_utc;
use crate::engine::{ComponentRepository, EngineError};

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
        let repository = self.open()?;
        let current = *repository.key_id();
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
                current: current == Some(id),
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
        let mut options = KeyOptions::default().with_created(true);
        if let Some(host) = host {
            options = options.hostname(host.to_string());
        }
        if let Some(user) = user {
            options = options.username(user.to_string());
        }
        let id = repository
            .add_key(password, &options)
            .map_err(|error| EngineError::operation("add a key", self.location(), &error))?;
        Ok(id.to_hex().to_string())
    }

    /// Removes a key by id (or unique id prefix); the key in use cannot be removed.
    pub fn remove_key(&self, id: &str) -> Result<(), EngineError> {
        let repository = self.open()?;
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
        repository
            .delete_key(key)
            .map_err(|error| EngineError::operation("remove a key", self.location(), &error))
    }

    /// Replaces the password: adds a key for `new_password`, then removes the current key.
    /// Returns the repository opened with the new password.
    pub fn change_password(&self, new_password: &str) -> Result<Self, EngineError> {
        let old_key = {
            let repository = self.open()?;
            *repository.key_id()
        };
        self.add_key(new_password, None, None)?;
        let updated = self.with_password(new_password);
        if let Some(old_key) = old_key {
            let repository = updated.open()?;
            let _lock = updated.lock(&repository, true)?;
            repository.delete_key(&old_key).map_err(|error| {
                EngineError::operation("remove the old key", self.location(), &error)
            })?;
        }
        Ok(updated)
    }
}
