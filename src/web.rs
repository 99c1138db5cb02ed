//! The core's entry points for a WebAssembly host, with no bindings generator: a C ABI of
//! three functions over linear memory. The host copies a JSON request into memory it got
//! from [`oversim_alloc`], calls [`oversim_run`], reads the JSON response from the returned
//! pointer (a little-endian `u32` length, then the bytes) and frees both.
//!
//! `oversim_run` request: `{"label": "...", "text": "...", "overrides": [["path", "value"],
//! ...], "replications": 20, "seed": 7, "shard": [k, n]}` (all but `text` optional).
//! Response: `{"ok": true, "files": {"replications.csv": "...", ...}}` (with a shard, the
//! files `oversim run --shard` writes) or `{"ok": false, "error": "..."}` with the command
//! line's message. `oversim_merge` takes `{"shards": [{"origin": "worker 0", "files":
//! {...}}, ...]}` and returns the one-machine run's files, as `oversim merge` writes them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::{self, Request};
use crate::experiment::Shard;
use crate::merge::ShardFiles;
use crate::montecarlo::Sequential;
use crate::report::manifest::RunContext;
use crate::scenario::Override;

#[derive(Deserialize)]
struct WebRequest {
    #[serde(default)]
    label: Option<String>,
    text: String,
    #[serde(default)]
    overrides: Vec<(String, String)>,
    #[serde(default)]
    replications: Option<u64>,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    shard: Option<(u64, u64)>,
}

#[derive(Serialize)]
struct WebResponse {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    files: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sliders: Vec<api::Slider>,
    /// The report's summary sentences of a whole run (not of a shard).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sentences: Vec<String>,
}

fn fail(error: String) -> WebResponse {
    WebResponse {
        ok: false,
        error: Some(error),
        files: BTreeMap::new(),
        sliders: Vec::new(),
        sentences: Vec::new(),
    }
}

/// A whole run's files, with the report's summary sentences (the first sweep point's).
fn whole(files: &crate::report::ResultFiles, manifest: &crate::report::manifest::Manifest) -> WebResponse {
    let mut r = answer(files.named());
    let read = crate::report::html::Results::from_files(
        &manifest.to_json(),
        &files.summary,
        Some(&files.comparison),
        None,
    );
    if let Ok(results) = read {
        r.sentences = crate::report::html::summary_sentences(&results, 0);
    }
    r
}

fn answer<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> WebResponse {
    WebResponse {
        ok: true,
        error: None,
        files: (files.into_iter())
            .map(|(n, b)| (n.to_string(), String::from_utf8_lossy(b).into_owned()))
            .collect(),
        sliders: Vec::new(),
        sentences: Vec::new(),
    }
}

/// The request and the scenario's label (the embedded default's if none is given).
fn parse(request: &[u8]) -> Result<(WebRequest, String), WebResponse> {
    let mut r: WebRequest =
        serde_json::from_slice(request).map_err(|e| fail(format!("error: bad request: {e}")))?;
    let label = (r.label.take()).unwrap_or_else(|| crate::scenario::DEFAULT_LABEL.to_string());
    Ok((r, label))
}

fn sliders(request: &[u8]) -> WebResponse {
    let (r, label) = match parse(request) {
        Ok(x) => x,
        Err(e) => return e,
    };
    match api::sliders(&label, &r.text) {
        Err(e) => fail(e),
        Ok(sliders) => WebResponse {
            ok: true,
            error: None,
            files: BTreeMap::new(),
            sliders,
            sentences: Vec::new(),
        },
    }
}

fn run(request: &[u8]) -> WebResponse {
    let (r, label) = match parse(request) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let mut req = Request::new(&label, &r.text);
    req.overrides = r.overrides.iter().map(|(p, v)| Override::set(p, v)).collect();
    if let Some(n) = r.replications {
        req = req.replications(n);
    }
    if let Some(s) = r.seed {
        req = req.seed(s);
    }
    if let Some((index, count)) = r.shard {
        if count == 0 || index >= count {
            return fail(format!(
                "error: shard {index}/{count}: the index must be below the count"
            ));
        }
        req.shard = Some(Shard { index, count });
    }
    let ctx = RunContext::default();
    if req.shard.is_some() {
        return match api::run_shard(&req, &Sequential, &ctx, &|_| {}) {
            Err(e) => fail(e),
            Ok(shard) => {
                let named = shard.named();
                answer(named.iter().map(|(n, b)| (*n, &b[..])))
            }
        };
    }
    match api::run(&req, &Sequential, &ctx, &|_| {}) {
        Err(e) => fail(e),
        Ok(out) => whole(&out.files, &out.manifest),
    }
}

#[derive(Deserialize)]
struct WebShard {
    origin: String,
    files: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct MergeRequest {
    shards: Vec<WebShard>,
}

fn merge(request: &[u8]) -> WebResponse {
    let r: MergeRequest = match serde_json::from_slice(request) {
        Ok(r) => r,
        Err(e) => return fail(format!("error: bad request: {e}")),
    };
    let shards: Result<Vec<ShardFiles>, String> = (r.shards.iter())
        .map(|s| {
            ShardFiles::from_named(&s.origin, |name| {
                s.files
                    .get(name)
                    .map(|t| t.clone().into_bytes())
                    .ok_or_else(|| "missing".to_string())
            })
        })
        .collect();
    match shards.and_then(|s| api::merge(&s)) {
        Err(e) => fail(format!("error: {e}")),
        Ok((_, files, manifest)) => whole(&files, &manifest),
    }
}

/// Answers the JSON request at `ptr..ptr+len` with `f`, as a block of 4 + n bytes: n
/// (u32, little endian), then the JSON response.
///
/// # Safety
/// `ptr..ptr+len` must be readable memory the host wrote the request into.
unsafe fn call(ptr: *const u8, len: usize, f: fn(&[u8]) -> WebResponse) -> *mut u8 {
    // SAFETY: the caller guarantees the request's bytes are readable.
    let request = unsafe { std::slice::from_raw_parts(ptr, len) };
    let body = serde_json::to_vec(&f(request)).expect("a response serialises");
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    let p = out.as_mut_ptr();
    std::mem::forget(out);
    p
}

/// `len` bytes of memory for the host to write a request into.
#[no_mangle]
pub extern "C" fn oversim_alloc(len: usize) -> *mut u8 {
    let mut v = Vec::<u8>::with_capacity(len);
    let p = v.as_mut_ptr();
    std::mem::forget(v);
    p
}

/// Frees memory from [`oversim_alloc`] or [`oversim_run`].
///
/// # Safety
/// `ptr` and `len` must be a block this module handed out, freed once.
#[no_mangle]
pub unsafe extern "C" fn oversim_free(ptr: *mut u8, len: usize) {
    // SAFETY: the caller passes back a block allocated here with this capacity.
    drop(unsafe { Vec::from_raw_parts(ptr, 0, len) });
}

/// Runs the request at `ptr..ptr+len` (see the module's documentation).
///
/// # Safety
/// `ptr..ptr+len` must be readable memory the host wrote the request into.
#[no_mangle]
pub unsafe extern "C" fn oversim_run(ptr: *const u8, len: usize) -> *mut u8 {
    // SAFETY: as this function's.
    unsafe { call(ptr, len, run) }
}

/// The lab's sliders for the scenario in the request at `ptr..ptr+len` (`{"text": ...}`):
/// `{"ok": true, "sliders": [{"path", "label", "min", "max", "step", "unit", "value"}]}`.
///
/// # Safety
/// `ptr..ptr+len` must be readable memory the host wrote the request into.
#[no_mangle]
pub unsafe extern "C" fn oversim_sliders(ptr: *const u8, len: usize) -> *mut u8 {
    // SAFETY: as this function's.
    unsafe { call(ptr, len, sliders) }
}

/// Merges the shards in the request at `ptr..ptr+len` (see the module's documentation).
///
/// # Safety
/// `ptr..ptr+len` must be readable memory the host wrote the request into.
#[no_mangle]
pub unsafe extern "C" fn oversim_merge(ptr: *const u8, len: usize) -> *mut u8 {
    // SAFETY: as this function's.
    unsafe { call(ptr, len, merge) }
}
