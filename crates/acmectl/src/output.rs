//! Writing the output folder all at once: a run either replaces it whole or leaves it alone.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Marks a folder as acmectl output, so replacing it can never delete a user's own files.
pub const MARKER: &str = "plan.json";

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0} exists and does not look like acmectl output (no {MARKER}); refusing to replace it")]
    NotOurs(PathBuf),
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError::Io { path: path.to_owned(), source }
}

/// Writes `files` (relative path → content) into a sibling temporary folder, then swaps it
/// into place with renames. A failure at any point leaves the previous output untouched.
pub fn replace_dir(out: &Path, files: &BTreeMap<String, String>) -> Result<(), WriteError> {
    if out.exists() && !out.join(MARKER).is_file() && !is_empty_dir(out) {
        return Err(WriteError::NotOurs(out.to_owned()));
    }
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io_at(parent))?;
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let staging = parent.join(format!(".{name}.acmectl-new-{}", std::process::id()));
    let previous = parent.join(format!(".{name}.acmectl-old-{}", std::process::id()));

    let staged = stage(&staging, files);
    if staged.is_err() {
        let _ = fs::remove_dir_all(&staging);
        return staged;
    }
    if out.exists() {
        fs::rename(out, &previous).map_err(io_at(out))?;
    }
    if let Err(source) = fs::rename(&staging, out) {
        // Put the old output back so the user is no worse off than before.
        if previous.exists() {
            let _ = fs::rename(&previous, out);
        }
        let _ = fs::remove_dir_all(&staging);
        return Err(WriteError::Io { path: out.to_owned(), source });
    }
    if previous.exists() {
        fs::remove_dir_all(&previous).map_err(io_at(&previous))?;
    }
    Ok(())
}

fn stage(staging: &Path, files: &BTreeMap<String, String>) -> Result<(), WriteError> {
    if staging.exists() {
        fs::remove_dir_all(staging).map_err(io_at(staging))?;
    }
    for (relative, content) in files {
        let path = staging.join(relative);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_at(dir))?;
        }
        fs::write(&path, content).map_err(io_at(&path))?;
    }
    Ok(())
}

fn is_empty_dir(path: &Path) -> bool {
    fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
}
