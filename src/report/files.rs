//! Result folders on disk, safe in a folder other people can write to.
//!
//! - **One whole run at every instant.** A run's (an exploration's, a merge's, a shard's)
//!   files are written into a new hidden folder beside the output folder and swapped in
//!   whole at the end ([`Output`]): a reader sees the complete old run or the complete new
//!   one, never a mix, and a run that fails leaves the old one as it was.
//! - **One writer.** A lock beside the folder refuses a second run into it while one is
//!   writing (an advisory lock the system releases if oversim dies).
//! - **Nothing followed.** Every file and folder oversim creates is created new (create-new
//!   semantics: never opened through an existing name or a symbolic link) under a random
//!   name, and an output folder that is itself a symbolic link is refused.
//! - **Checked when read.** The manifest lists each file's SHA-256 ([`Output::finish`]), and
//!   [`verify`] refuses a folder whose files are not the ones its manifest lists.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, RandomState};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::report::manifest::{sha256_hex, Manifest};

/// Every name a run, an exploration or a shard writes into its folder. Entries of an old
/// folder with other names (the user's notes, shard folders) move with the folder's swap.
fn is_result_file(name: &str) -> bool {
    name == "shard.json"
        || [
            crate::report::FILES,
            crate::report::explore::FILES,
            crate::merge::REP_FILES,
        ]
        .iter()
        .any(|files| files.contains(&name))
}

/// A random suffix for temporary names (the standard library's per-process random keys).
fn random_suffix() -> String {
    format!("{:016x}", RandomState::new().hash_one(std::process::id()))
}

/// The folder's parent and its own name.
fn split(dir: &Path) -> Result<(PathBuf, String), String> {
    let name = (dir.file_name().and_then(|n| n.to_str()))
        .ok_or_else(|| format!("{} is not a folder name oversim can write to", dir.display()))?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name.to_string()))
}

/// Opens a new file for writing: fails if the name exists, even as a symbolic link.
fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Writes `bytes` to the new file `path` and flushes it to disk.
fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = create_new(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Flushes a folder's entries (a rename) to disk where the system allows it.
fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

/// The lock that makes one oversim the only writer of a folder: `.NAME.oversim-lock` beside
/// it, held with the system's advisory lock and removed when the writer is done.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    file: File,
}

impl Lock {
    pub fn acquire(dir: &Path) -> Result<Lock, String> {
        let (parent, name) = split(dir)?;
        let path = parent.join(format!(".{name}.oversim-lock"));
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
        let file = options.open(&path).map_err(|e| {
            format!(
                "cannot create the lock file {} beside the output folder: {e}",
                path.display()
            )
        })?;
        let busy = || {
            format!(
                "another oversim is writing to {} (it holds {}); wait for it to finish or write elsewhere with --out",
                dir.display(),
                path.display()
            )
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(busy()),
            Err(fs::TryLockError::Error(e)) => return Err(format!("cannot lock {}: {e}", path.display())),
        }
        // The writer before us may have removed the file between our open and our lock;
        // then we hold a lock on a file nobody else will see, and the folder is not ours.
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let held = file.metadata().map_err(|e| e.to_string())?;
            match fs::symlink_metadata(&path) {
                Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => {}
                _ => return Err(busy()),
            }
        }
        Ok(Lock { path, file })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still held, so a writer waiting on this file sees it gone (above).
        let _ = fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// An output folder being written: files go into a hidden folder beside it until
/// [`Output::commit`] swaps it in. Dropped without a commit, it leaves the folder as it was.
#[derive(Debug)]
pub struct Output {
    dir: PathBuf,
    staging: PathBuf,
    hashes: BTreeMap<String, String>,
    committed: bool,
    _lock: Lock,
}

impl Output {
    /// Checks, before any simulation, that a run can be written to `dir`, locks it and makes
    /// the hidden folder the run is written to. `dir` may be absent (it is created), empty,
    /// or hold other files; it may hold results only with `force`.
    pub fn begin(dir: &Path, force: bool) -> Result<Output, String> {
        if let (Ok(here), Ok(out)) = (std::env::current_dir(), fs::canonicalize(dir)) {
            if here.starts_with(&out) {
                return Err(format!(
                    "{} is the current folder or holds it; oversim replaces its output folder whole, so give --out a folder of its own",
                    dir.display()
                ));
            }
        }
        let (parent, name) = split(dir)?;
        let existing = match fs::symlink_metadata(dir) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!(
                    "{} is a symbolic link; oversim replaces its output folder whole, so give --out the folder it points to",
                    dir.display()
                ))
            }
            Ok(m) if !m.is_dir() => {
                return Err(format!("{} exists and is not a folder", dir.display()))
            }
            Ok(m) => Some(m),
            // A missing folder is made; one under a file fails where it is made.
            Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => None,
            Err(e) => return Err(format!("cannot use output folder {}: {e}", dir.display())),
        };
        if existing.is_some() && !force {
            let held = fs::read_dir(dir)
                .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| is_result_file(n))
                .min();
            if let Some(f) = held {
                return Err(format!(
                    "{} already holds results ({f}); pass --force to overwrite them or --out to write elsewhere",
                    dir.display()
                ));
            }
        }
        fs::create_dir_all(&parent)
            .map_err(|e| format!("cannot create output folder {}: {e}", parent.display()))?;
        let lock = Lock::acquire(dir)?;
        remove_leftovers(&parent, &name);
        let staging = parent.join(format!(".{name}.oversim-new-{}", random_suffix()));
        fs::create_dir(&staging).map_err(|e| {
            format!(
                "cannot write to output folder {} (oversim writes a run into a new folder beside it, {}): {e}",
                dir.display(),
                staging.display()
            )
        })?;
        if let Some(m) = existing {
            let _ = fs::set_permissions(&staging, m.permissions());
        }
        Ok(Output {
            dir: dir.to_path_buf(),
            staging,
            hashes: BTreeMap::new(),
            committed: false,
            _lock: lock,
        })
    }

    /// The output folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The hidden folder the run is being written to (to read back what was written).
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// Writes one file of the run.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<(), String> {
        write_new(&self.staging.join(name), bytes)
            .map_err(|e| format!("cannot write {}: {e}", self.dir.join(name).display()))?;
        self.hashes.insert(name.to_string(), sha256_hex(bytes));
        Ok(())
    }

    /// Starts a file of the run written piece by piece (a file too large to make in memory
    /// first); [`Output::close`] enters it.
    pub fn create(&self, name: &str) -> Result<Piece, String> {
        let path = self.staging.join(name);
        let file =
            create_new(&path).map_err(|e| format!("cannot write {}: {e}", self.dir.join(name).display()))?;
        Ok(Piece {
            name: name.to_string(),
            shown: self.dir.join(name),
            file: io::BufWriter::new(file),
            hash: Sha256::new(),
        })
    }

    /// Finishes a file written piece by piece, as [`Output::write`] finishes one.
    pub fn close(&mut self, piece: Piece) -> Result<(), String> {
        let Piece {
            name,
            shown,
            file,
            hash,
        } = piece;
        let fail = |e: io::Error| format!("cannot write {}: {e}", shown.display());
        file.into_inner()
            .map_err(|e| fail(e.into_error()))?
            .sync_all()
            .map_err(fail)?;
        self.hashes
            .insert(name, crate::report::manifest::hex(&hash.finalize()));
        Ok(())
    }

    /// Writes the manifest (`manifest.json`, or a shard's `shard.json`) with the SHA-256 of
    /// every file written before it.
    pub fn finish(&mut self, name: &str, manifest: &mut Manifest) -> Result<(), String> {
        manifest.files = Some(self.hashes.clone());
        self.write(name, manifest.to_json().as_bytes())
    }

    /// Swaps the new run in: the entries of the old folder that are not results move into
    /// the new one, then the two folders trade places in one step and the old one is removed.
    pub fn commit(mut self) -> Result<(), String> {
        sync_dir(&self.staging);
        let fail = |e: io::Error| format!("cannot put the results in place at {}: {e}", self.dir.display());
        if self.dir.is_dir() {
            for entry in fs::read_dir(&self.dir).map_err(fail)? {
                let entry = entry.map_err(fail)?;
                let name = entry.file_name();
                let keep = name.to_str().is_none_or(|n| !is_result_file(n));
                if keep && !self.staging.join(&name).exists() {
                    fs::rename(entry.path(), self.staging.join(&name)).map_err(fail)?;
                }
            }
            swap(&self.staging, &self.dir).map_err(fail)?;
            // The staging name now holds the old run.
            let _ = fs::remove_dir_all(&self.staging);
        } else {
            fs::rename(&self.staging, &self.dir).map_err(fail)?;
        }
        if let Ok((parent, _)) = split(&self.dir) {
            sync_dir(&parent);
        }
        self.committed = true;
        Ok(())
    }
}

/// A file of the run being written piece by piece ([`Output::create`]), hashed as it goes.
pub struct Piece {
    name: String,
    /// Where it will be, for messages.
    shown: PathBuf,
    file: io::BufWriter<File>,
    hash: Sha256,
}

impl Piece {
    /// Appends `bytes`.
    pub fn add(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.hash.update(bytes);
        (self.file.write_all(bytes)).map_err(|e| format!("cannot write {}: {e}", self.shown.display()))
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// Exchanges two folders in one step (Linux's `renameat2` with `RENAME_EXCHANGE`).
#[cfg(target_os = "linux")]
fn swap(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other);
    let (ca, cb) = (c(a)?, c(b)?);
    // SAFETY: both are NUL-terminated paths that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Elsewhere: the old folder steps aside and the new one takes its name (for an instant
/// there is no folder, never a mixed one); the old folder then has `a`'s name.
#[cfg(not(target_os = "linux"))]
fn swap(a: &Path, b: &Path) -> io::Result<()> {
    let aside = a.with_extension("old");
    fs::rename(b, &aside)?;
    fs::rename(a, b)?;
    fs::rename(aside, a)
}

/// Removes the hidden folders of earlier runs into `name` that died before their swap (only
/// real folders; the caller holds the lock, so none is in use).
fn remove_leftovers(parent: &Path, name: &str) {
    let prefix = format!(".{name}.oversim-new-");
    let Ok(entries) = fs::read_dir(parent) else { return };
    for entry in entries.filter_map(Result::ok) {
        let stale = entry.file_name().to_str().is_some_and(|n| n.starts_with(&prefix));
        if stale && entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Replaces one file of a complete folder (the report of `oversim report`), under the
/// folder's lock, through a new file with a random name.
pub fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    let _lock = Lock::acquire(dir)?;
    let tmp = dir.join(format!(".{name}.oversim-{}", random_suffix()));
    let result = write_new(&tmp, bytes).and_then(|()| fs::rename(&tmp, dir.join(name)));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))
}

/// The SHA-256 of a file's content, read a piece at a time (a shard's replications need not
/// fit in memory).
fn sha256_of_file(path: &Path) -> io::Result<String> {
    let mut hash = Sha256::new();
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match io::Read::read(&mut f, &mut buf)? {
            0 => return Ok(crate::report::manifest::hex(&hash.finalize())),
            n => hash.update(&buf[..n]),
        }
    }
}

/// Reads the manifest `manifest` (`manifest.json` or `shard.json`) of `dir` and checks that
/// every file it lists is there with the content it was written with.
pub fn verify(dir: &Path, manifest: &str) -> Result<Manifest, String> {
    let text = fs::read_to_string(dir.join(manifest)).map_err(|e| {
        format!(
            "{}: not a complete oversim results folder (cannot read {manifest}: {e}); a run writes its {manifest} with its other files, so rerun the run into this folder",
            dir.display()
        )
    })?;
    let m = Manifest::from_json(&text).map_err(|e| format!("{}: {e}", dir.join(manifest).display()))?;
    // Folders written before oversim listed its files have no list to check.
    for (name, want) in m.files.iter().flatten() {
        if Path::new(name).file_name().and_then(|n| n.to_str()) != Some(name.as_str()) {
            return Err(format!(
                "{}: its {manifest} lists `{name}`, which is not a file name in the folder",
                dir.display()
            ));
        }
        let path = dir.join(name);
        let got = sha256_of_file(&path).map_err(|e| {
            format!(
                "{}: not a complete oversim results folder ({name}, listed in its {manifest}, cannot be read: {e}); rerun the run into a new folder",
                dir.display()
            )
        })?;
        if got != *want {
            return Err(format!(
                "{}: {name} is not the file its {manifest} lists (the SHA-256 differs): the folder mixes files of different runs; rerun the run into a new folder",
                dir.display()
            ));
        }
    }
    Ok(m)
}
