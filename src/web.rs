//! The core's entry points for a WebAssembly host, with no bindings generator: a C ABI
//! over linear memory. The host copies a JSON request into memory it got from
//! [`oversim_alloc`], calls [`oversim_run`], [`oversim_merge`] or [`oversim_levers`],
//! reads the JSON response from the returned pointer (a little-endian `u32` length, then
//! the bytes) and frees both with [`oversim_free`]. The module imports one function,
//! `oversim.progress(n)`, called as replications complete.
//!
//! `oversim_run` request: `{"label": "...", "text": "...", "overrides": [["path", "value"],
//! ...], "replications": 20, "seed": 7, "shard": [k, n], "timeseries": 24}` (all but
//! `text` optional; `timeseries` is `--timeseries` in hours; `"explore": {"design":
//! "sobol", "points": 16, "metric": "net_value", "bootstrap": 1000}` makes it `oversim
//! explore`, whose files and report come back instead). Response: `{"ok": true,
//! "files": {"replications.csv": "...", ...}, "sentences": [...], "report": "<h2>..."}`
//! (with a shard, only the files `oversim run --shard` writes) or `{"ok": false, "error":
//! "..."}` with the command line's message. `oversim_merge` takes `{"shards": [{"origin":
//! "worker 0", "files": {...}}, ...]}` and answers as a whole run does, with the files
//! `oversim merge` writes. `oversim_levers` takes `{"label", "text"}` and returns
//! `{"ok": true, "policies": [...], "sliders": [...]}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::{self, Request};
use crate::experiment::Shard;
use crate::merge::ShardFiles;
use crate::montecarlo::{Sequential, Workers};
use crate::report::manifest::RunContext;
use crate::scenario::Override;

#[link(wasm_import_module = "oversim")]
extern "C" {
    /// The host's progress bar: `done` more replications of a policy have completed.
    fn progress(done: u32);
}

/// Tells the host of completed replications.
fn tell(done: u64) {
    // SAFETY: an imported host function taking a number; it touches no memory of ours.
    unsafe { progress(done as u32) }
}

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
    /// As `--timeseries`: the interval, hours, of replication 0's time series.
    #[serde(default)]
    timeseries: Option<f64>,
    /// An exploration instead of a run (`oversim explore`): its design, points, metric,
    /// bootstrap and map.
    #[serde(default)]
    explore: Option<crate::explore::Spec>,
}

#[derive(Serialize, Default)]
struct WebResponse {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    files: BTreeMap<String, String>,
    /// The scenario's policies and sliders (`oversim_levers`).
    #[serde(flatten)]
    levers: Option<api::Levers>,
    /// The report's summary sentences of a whole run (not of a shard).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sentences: Vec<String>,
    /// The report's findings of a whole run as HTML: sentences, table and charts
    /// ([`crate::report::html::sections`]), as `oversim report` draws them.
    #[serde(skip_serializing_if = "String::is_empty")]
    report: String,
}

fn fail(error: String) -> WebResponse {
    WebResponse {
        ok: false,
        error: Some(error),
        ..WebResponse::default()
    }
}

/// A whole run's files, with the report's summary sentences (the first sweep point's) and
/// its findings as HTML.
fn whole(files: &crate::report::ResultFiles, manifest: &crate::report::manifest::Manifest) -> WebResponse {
    use crate::report::html;
    let mut r = answer(files.named());
    r.files.insert("manifest.json".into(), manifest.to_json());
    let read = html::Results::from_files(
        &manifest.to_json(),
        &files.summary,
        Some(&files.comparison),
        files.timeseries.as_deref(),
    )
    .and_then(|r| r.with_decision(&files.decision))
    .and_then(|r| r.with_details(&files.replications, &files.classes));
    match read {
        Ok(results) => {
            r.sentences = html::summary_sentences(&results, 0);
            r.report = html::sections(&results);
        }
        Err(e) => return fail(format!("internal error: the run's files do not read back: {e}")),
    }
    r
}

/// A whole exploration's files, sentences and report findings.
fn explored(out: &api::explore::Explored) -> WebResponse {
    use crate::report::html::explore::{sections, ExploreResults};
    let f = &out.files;
    let mut r = answer(f.named());
    r.files.insert("manifest.json".into(), out.manifest.to_json());
    r.sentences = out.sentences.clone();
    let read = ExploreResults::from_files(
        out.manifest.clone(),
        f.robustness.as_deref(),
        f.pairwise.as_deref(),
        f.sensitivity.as_deref(),
        f.map.as_deref(),
        None,
    );
    match read {
        Ok(results) => r.report = sections(&results),
        Err(e) => {
            return fail(format!(
                "internal error: the exploration's files do not read back: {e}"
            ))
        }
    }
    r
}

fn answer<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> WebResponse {
    WebResponse {
        ok: true,
        files: (files.into_iter())
            .map(|(n, b)| (n.to_string(), String::from_utf8_lossy(b).into_owned()))
            .collect(),
        ..WebResponse::default()
    }
}

/// The request and the scenario's label (the embedded default's if none is given).
fn parse(request: &[u8]) -> Result<(WebRequest, String), WebResponse> {
    let mut r: WebRequest =
        serde_json::from_slice(request).map_err(|e| fail(format!("error: bad request: {e}")))?;
    let label = (r.label.take()).unwrap_or_else(|| crate::scenario::DEFAULT_LABEL.to_string());
    Ok((r, label))
}

fn levers(request: &[u8]) -> WebResponse {
    let (r, label) = match parse(request) {
        Ok(x) => x,
        Err(e) => return e,
    };
    match api::levers(&label, &r.text) {
        Err(e) => fail(e),
        Ok(levers) => WebResponse {
            ok: true,
            levers: Some(levers),
            ..WebResponse::default()
        },
    }
}

fn run(request: &[u8]) -> WebResponse {
    let (r, label) = match parse(request) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let mut req = Request::new(&label, &r.text);
    req.memory = Some(crate::estimate::BROWSER_MEMORY);
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
    if let Some(hours) = r.timeseries {
        if !(hours.is_finite() && hours > 0.0) {
            return fail(format!(
                "error: timeseries: the interval must be a positive number of hours, not {hours}"
            ));
        }
        req.series = Some(hours);
    }
    let ctx = RunContext::default();
    if let Some(spec) = &r.explore {
        if let Err(e) = spec.check_sizes() {
            return fail(format!("error: explore: {e}"));
        }
        return match api::explore::run(&req, spec, Workers::new(&Sequential), &ctx, &tell) {
            Err(e) => fail(e),
            Ok(api::explore::Outcome::Shard(shard)) => match shard.named() {
                Ok(named) => answer(named.iter().map(|(n, b)| (*n, &b[..]))),
                Err(e) => fail(e),
            },
            Ok(api::explore::Outcome::Whole(out)) => explored(&out),
        };
    }
    if req.shard.is_some() {
        return match api::run_shard(&req, Workers::new(&Sequential), &ctx, &tell) {
            Err(e) => fail(e),
            Ok(shard) => match shard.named() {
                Ok(named) => answer(named.iter().map(|(n, b)| (*n, &b[..]))),
                Err(e) => fail(e),
            },
        };
    }
    match api::run(&req, Workers::new(&Sequential), &ctx, &tell) {
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
    let shards = match shards {
        Ok(s) => s,
        Err(e) => return fail(format!("error: {e}")),
    };
    if shards.first().is_some_and(|s| s.manifest.exploration.is_some()) {
        return match api::explore::merge(&shards) {
            Err(e) => fail(format!("error: {e}")),
            Ok(out) => explored(&out),
        };
    }
    match api::merge(&shards) {
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

/// The lab's levers for the scenario in the request at `ptr..ptr+len` (`{"text": ...}`):
/// `{"ok": true, "policies": [...], "sliders": [{"path", "label", "min", "max", "step",
/// "unit", "value"}]}`.
///
/// # Safety
/// `ptr..ptr+len` must be readable memory the host wrote the request into.
#[no_mangle]
pub unsafe extern "C" fn oversim_levers(ptr: *const u8, len: usize) -> *mut u8 {
    // SAFETY: as this function's.
    unsafe { call(ptr, len, levers) }
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
