//! Result files on disk: checking the output folder before a run, and atomic writes.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `dir/name` atomically (temporary file, fsync, rename).
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, dir.join(name))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Checks, before any simulation, that results can be written to `dir`: it is created if
/// needed, must be writable, and must not already hold results unless `force`.
pub fn prepare_output(dir: &Path, files: &[&str], force: bool) -> Result<(), String> {
    if !force {
        if let Some(f) = files.iter().find(|f| dir.join(f).exists()) {
            return Err(format!(
                "{} already holds results ({f}); pass --force to overwrite them or --out to write elsewhere",
                dir.display()
            ));
        }
    }
    fs::create_dir_all(dir).map_err(|e| format!("cannot create output folder {}: {e}", dir.display()))?;
    let probe = dir.join(format!(".oversim-write-test-{}", std::process::id()));
    fs::write(&probe, b"").map_err(|e| format!("cannot write to output folder {}: {e}", dir.display()))?;
    let _ = fs::remove_file(probe);
    Ok(())
}
