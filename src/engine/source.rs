//! In-memory backup sources for rustic's archiver: a single stream (a dump piped from a
//! child process) and a set of small files (a manifest dump), each consumed once.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Mutex;

use rustic_core::jiff;
use rustic_core::repofile::{Metadata, Node, NodeType};
use rustic_core::{ReadSource, ReadSourceEntry, RusticResult};

/// A single-file source reading from any reader, consumed once.
pub(crate) struct StreamSource {
    pub(crate) path: PathBuf,
    pub(crate) reader: Mutex<Option<Box<dyn Read + Send>>>,
}

impl ReadSource for StreamSource {
    type Open = Box<dyn Read + Send>;
    type Iter = std::iter::Once<RusticResult<ReadSourceEntry<Self::Open>>>;

    fn size(&self) -> RusticResult<Option<u64>> {
        Ok(None)
    }

    fn entries(&self) -> Self::Iter {
        let reader = self.reader.lock().ok().and_then(|mut reader| reader.take());
        let name = self
            .path
            .file_name()
            .map(|name| name.to_os_string())
            .unwrap_or_else(|| self.path.clone().into_os_string());
        let node = Node::new_node(&name, NodeType::File, Metadata::default());
        std::iter::once(Ok(ReadSourceEntry {
            path: self.path.clone(),
            node,
            open: reader,
        }))
    }
}

/// In-memory files as a backup source, consumed once.
pub(crate) struct MemorySource {
    pub(crate) files: Mutex<Vec<(PathBuf, Vec<u8>)>>,
}

impl ReadSource for MemorySource {
    type Open = std::io::Cursor<Vec<u8>>;
    type Iter = std::vec::IntoIter<RusticResult<ReadSourceEntry<Self::Open>>>;

    fn size(&self) -> RusticResult<Option<u64>> {
        let files = self
            .files
            .lock()
            .map(|files| files.iter().map(|(_, data)| data.len() as u64).sum());
        Ok(files.ok())
    }

    fn entries(&self) -> Self::Iter {
        let files = self
            .files
            .lock()
            .map(|mut files| std::mem::take(&mut *files))
            .unwrap_or_default();
        files
            .into_iter()
            .map(|(path, data)| {
                let name = path
                    .file_name()
                    .map(|name| name.to_os_string())
                    .unwrap_or_default();
                let metadata = Metadata {
                    size: data.len() as u64,
                    mtime: Some(jiff::Timestamp::now()),
                    ..Metadata::default()
                };
                let node = Node::new_node(&name, NodeType::File, metadata);
                Ok(ReadSourceEntry {
                    path,
                    node,
                    open: Some(std::io::Cursor::new(data)),
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
    }
}
