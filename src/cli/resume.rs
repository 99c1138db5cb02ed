//! `--resume`: an interrupted run or exploration keeps its finished replications in its
//! output folder (the files a shard writes, beside the partial results); the same command
//! with `--resume` takes them back and runs only the rest, so the final files are the ones
//! an uninterrupted run writes, byte for byte.

use std::path::Path;

use crate::experiment::{Kept, Plan};
use crate::merge::{read_kept, RepFiles};
use crate::report::files::{verify, Output};
use crate::report::manifest::plan_hash;

/// What `--resume` found in the output folder.
pub(super) enum Resume {
    /// No results there: the run starts from nothing.
    Fresh,
    /// The folder holds this plan's run, complete: nothing to do.
    Complete,
    /// What an interrupted run of this plan kept.
    Kept(Kept),
}

/// Whether `--resume` may replace what `dir` holds: a results folder is checked (under its
/// lock) by [`read`] before anything is replaced.
pub(super) fn holds_results(dir: &Path) -> bool {
    dir.join("manifest.json").is_file()
}

/// Reads what the folder `out` is replacing kept of an interrupted run of `plan`. The
/// folder is locked (`out` holds its lock), so nothing changes it meanwhile.
pub(super) fn read(out: &Output, plan: &Plan) -> Result<Resume, String> {
    let dir = out.dir();
    if !holds_results(dir) {
        return Ok(Resume::Fresh);
    }
    let m = verify(dir, "manifest.json")?;
    if m.plan_sha256 != plan_hash(plan) {
        return Err(format!(
            "{}: holds the results of another run (its scenario, overrides, seed, replications, sweep or exploration differ); --resume continues the same command only: give --out another folder, or run without --resume and with --force to replace them",
            dir.display()
        ));
    }
    if !m.interrupted {
        return Ok(Resume::Complete);
    }
    let origin = dir.display().to_string();
    let files = RepFiles::from_named(&origin, &|name| {
        std::fs::read(dir.join(name)).map_err(|e| e.to_string())
    })?;
    read_kept(&origin, &files, plan).map(Resume::Kept)
}
