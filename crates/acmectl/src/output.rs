//! Writing the output folder all at once: a run either replaces it whole or leaves it alone.
//! `synth` replaces the output folder; `diagram` replaces only its `diagrams/` folder.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Marks a folder as acmectl output, so replacing it can never delete a user's own files.
pub const MARKER: &str = "plan.json";

/// Marks a diagrams folder (`<out>/diagrams`) as written by acmectl.
pub const DIAGRAMS_MARKER: &str = "architecture.svg";

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path} exists and does not look like acmectl output (no {marker}); refusing to replace it")]
    NotOurs { path: PathBuf, marker: &'static str },
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError::Io { path: path.to_owned(), source }
}

/// Writes `files` (relative path → content) into a sibling temporary folder, then swaps it
/// into place with renames. A failure at any point leaves the previous output untouched.
/// The folder is ours when it holds `plan.json`, is empty, or holds nothing but what
/// `acmectl diagram` wrote into it.
pub fn replace_dir(out: &Path, files: &BTreeMap<String, String>) -> Result<(), WriteError> {
    let only_diagrams = || {
        fs::read_dir(out).is_ok_and(|entries| {
            entries.flatten().all(|e| e.file_name() == acme_diagram::DIR && is_diagrams(&e.path()))
        })
    };
    if out.exists() && !out.join(MARKER).is_file() && !only_diagrams() {
        return Err(WriteError::NotOurs { path: out.to_owned(), marker: MARKER });
    }
    swap(out, files)
}

/// Replaces `<out>/diagrams` with `files` (paths relative to `out`, all under `diagrams/`),
/// all at once, and leaves the rest of `out` alone.
pub fn replace_diagrams(out: &Path, files: &BTreeMap<String, String>) -> Result<(), WriteError> {
    let dir = out.join(acme_diagram::DIR);
    if dir.exists() && !is_diagrams(&dir) {
        return Err(WriteError::NotOurs { path: dir, marker: DIAGRAMS_MARKER });
    }
    let prefix = format!("{}/", acme_diagram::DIR);
    let inside: BTreeMap<String, String> = files
        .iter()
        .filter_map(|(path, text)| path.strip_prefix(&prefix).map(|p| (p.to_owned(), text.clone())))
        .collect();
    swap(&dir, &inside)
}

fn is_diagrams(dir: &Path) -> bool {
    dir.join(DIAGRAMS_MARKER).is_file() || is_empty_dir(dir)
}

fn swap(out: &Path, files: &BTreeMap<String, String>) -> Result<(), WriteError> {
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
