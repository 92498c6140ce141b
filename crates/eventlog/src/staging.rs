//! Hidden staging directories: a directory that must appear whole (an
//! imported log, a newly created one) is built beside its target under a
//! hidden name, then renamed into place and its parent synced. A process
//! killed before the rename leaves only the staging directory, which the
//! next attempt on the same target removes.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub(crate) fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io { op, path, source }
}

pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The hidden staging directories of `what` (an import, a creation) into
/// `data_dir` start with this: `.<target name>.strand-<what>-`.
pub(crate) fn staging_prefix(data_dir: &Path, what: &str) -> String {
    let name = data_dir
        .file_name()
        .map_or_else(|| "data".into(), |n| n.to_string_lossy());
    format!(".{name}.strand-{what}-")
}

/// Remove what an earlier attempt on the same target left when it was
/// killed before its rename: a partial directory nobody can use. (Two
/// attempts on one target at once cannot both succeed anyway: the target
/// must be absent or empty.)
pub(crate) fn remove_stale_staging(parent: &Path, prefix: &str) -> Result<()> {
    let entries = fs::read_dir(parent).map_err(io("read directory", parent))?;
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(prefix) {
            let path = entry.path();
            tracing::warn!(path = %path.display(), "removing an interrupted attempt's staging directory");
            fs::remove_dir_all(&path).map_err(io("remove stale staging directory", &path))?;
        }
    }
    Ok(())
}

/// Make a rename or creation inside `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    // Durability: a rename is only durable once its directory is synced.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("sync directory", dir))
}

/// True when `dir` does not exist or holds nothing.
pub(crate) fn absent_or_empty(dir: &Path) -> bool {
    match fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}
