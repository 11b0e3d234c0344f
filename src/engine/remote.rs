//! rustic's repository backend over an OpenDAL operator, for the object stores this crate
//! builds in (S3, GCS, Azure Blob).
//!
//! `rustic_backend` has its own OpenDAL backend, but its `opendal` feature compiles in every
//! service OpenDAL has (Google Drive, SFTP, FTP, Dropbox, OneDrive, ...): a fifth of the
//! engine's dependency build and megabytes of code in the one binary that is also the operator.
//! This adapter needs only the services the [`Location`](crate::engine::Location) kinds name.

use bytes::Bytes;
use opendal::blocking::Operator;
use opendal::options::{ListOptions, ReadOptions};
use rustic_core::{
    BytesList, ErrorKind, FileType, Id, ReadBackend, RusticError, RusticResult, WriteBackend,
};

/// A restic repository in an object store, addressed through `operator` (rooted at the
/// repository's prefix).
#[derive(Debug)]
pub(crate) struct RemoteBackend {
    operator: Operator,
    location: String,
}

impl RemoteBackend {
    pub(crate) fn new(operator: Operator, location: String) -> Self {
        Self { operator, location }
    }

    /// The object name of a repository file, as restic lays it out.
    fn path(tpe: FileType, id: &Id) -> String {
        let hex = id.to_hex();
        match tpe {
            FileType::Config => "config".to_string(),
            FileType::Pack => format!("data/{}/{}", &hex[..2], &*hex),
            _ => format!("{}/{}", tpe.dirname(), &*hex),
        }
    }

    fn failed(&self, what: &'static str, path: &str, error: opendal::Error) -> Box<RusticError> {
        // The whole chain: reqwest hides a refused certificate behind "error sending request".
        let message = crate::engine::store::full_message(&error);
        RusticError::with_source(ErrorKind::Backend, what, message)
            .attach_context("location", self.location.clone())
            .attach_context("path", path.to_string())
    }
}

impl ReadBackend for RemoteBackend {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn list_with_size(&self, tpe: FileType) -> RusticResult<Vec<(Id, u32)>> {
        if tpe == FileType::Config {
            return match self.operator.stat("config") {
                Ok(meta) => Ok(vec![(
                    Id::default(),
                    u32::try_from(meta.content_length()).unwrap_or(u32::MAX),
                )]),
                Err(error) if error.kind() == opendal::ErrorKind::NotFound => Ok(Vec::new()),
                Err(error) => {
                    Err(self.failed("Reading `{path}` in `{location}` failed.", "config", error))
                }
            };
        }
        let dir = format!("{}/", tpe.dirname());
        let options = ListOptions {
            recursive: true,
            ..ListOptions::default()
        };
        let entries = match self.operator.list_options(&dir, options) {
            Ok(entries) => entries,
            Err(error) if error.kind() == opendal::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => {
                return Err(self.failed("Listing `{path}` in `{location}` failed.", &dir, error))
            }
        };
        let mut files = Vec::with_capacity(entries.len());
        for entry in entries {
            let meta = entry.metadata();
            if !meta.is_file() {
                continue;
            }
            // Anything that is not a restic file name (a directory marker, a stray upload)
            // is not part of the repository.
            let Some(id) = Id::parse_some(entry.name(), tpe) else {
                continue;
            };
            let size = u32::try_from(meta.content_length()).map_err(|error| {
                RusticError::with_source(
                    ErrorKind::Backend,
                    "`{path}` in `{location}` is larger than a repository file can be.",
                    error,
                )
                .attach_context("location", self.location.clone())
                .attach_context("path", entry.path().to_string())
            })?;
            files.push((id, size));
        }
        Ok(files)
    }

    fn read_full(&self, tpe: FileType, id: &Id) -> RusticResult<Bytes> {
        let path = Self::path(tpe, id);
        self.operator
            .read(&path)
            .map(|buffer| buffer.to_bytes())
            .map_err(|error| self.failed("Reading `{path}` in `{location}` failed.", &path, error))
    }

    fn read_partial(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        offset: u32,
        length: u32,
    ) -> RusticResult<Bytes> {
        let path = Self::path(tpe, id);
        let start = u64::from(offset);
        let options = ReadOptions {
            range: (start..start + u64::from(length)).into(),
            ..ReadOptions::default()
        };
        self.operator
            .read_options(&path, options)
            .map(|buffer| buffer.to_bytes())
            .map_err(|error| self.failed("Reading `{path}` in `{location}` failed.", &path, error))
    }

    fn warmup_path(&self, tpe: FileType, id: &Id) -> String {
        let root = self.operator.info().root();
        let root = root.trim_matches('/');
        let path = Self::path(tpe, id);
        if root.is_empty() {
            path
        } else {
            format!("{root}/{path}")
        }
    }
}

impl WriteBackend for RemoteBackend {
    // `create` keeps the default (nothing to do): object stores have no directories, and
    // restic itself writes none to them. Listing an absent prefix is an empty list.

    fn write_bytes(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        content: BytesList,
    ) -> RusticResult<()> {
        let path = Self::path(tpe, id);
        self.operator
            .write(&path, content.into_vec())
            .map(drop)
            .map_err(|error| self.failed("Writing `{path}` in `{location}` failed.", &path, error))
    }

    fn remove(&self, tpe: FileType, id: &Id, _cacheable: bool) -> RusticResult<()> {
        let path = Self::path(tpe, id);
        self.operator
            .delete(&path)
            .map_err(|error| self.failed("Removing `{path}` in `{location}` failed.", &path, error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_follow_restic_layout() {
        let id: Id = "03dc1178e4e54f69beaf35dd9d4256a5a600e9fa3452b9db80bd649938923e67"
            .parse()
            .unwrap();
        assert_eq!(RemoteBackend::path(FileType::Config, &id), "config");
        assert_eq!(
            RemoteBackend::path(FileType::Pack, &id),
            "data/03/03dc1178e4e54f69beaf35dd9d4256a5a600e9fa3452b9db80bd649938923e67"
        );
        assert_eq!(
            RemoteBackend::path(FileType::Snapshot, &id),
            "snapshots/03dc1178e4e54f69beaf35dd9d4256a5a600e9fa3452b9db80bd649938923e67"
        );
        assert_eq!(
            RemoteBackend::path(FileType::Key, &id),
            "keys/03dc1178e4e54f69beaf35dd9d4256a5a600e9fa3452b9db80bd649938923e67"
        );
    }
}
