//! `oversim merge DIR...`: the shards of a sharded run into the one-machine result.

use super::{MergeArgs, EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK};
use crate::merge::{check_set, read_shard};
use crate::report;
use crate::report::files::{prepare_output, write_atomic};

pub(super) fn merge(args: MergeArgs) -> i32 {
    let bad = |e: String| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    };
    let shards = match args
        .dirs
        .iter()
        .map(|d| read_shard(d))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    let count = match check_set(&shards) {
        Ok(c) => c,
        Err(e) => return bad(e),
    };
    if shards[0].manifest.exploration.is_some() {
        return super::explore::merge(&args, &shards);
    }
    // The merge itself is the core's, as in the browser.
    let (run, files, manifest) = match crate::api::merge(&shards) {
        Ok(x) => x,
        Err(e) => return bad(e),
    };
    let base = &run.points[0].scenario;
    let dir = report::output_dir(args.out.as_deref(), base, false);
    if let Err(e) = prepare_output(&dir, report::FILES, args.force) {
        return bad(e);
    }
    let manifest = manifest.to_json();
    let named = files
        .named()
        .into_iter()
        .chain([("manifest.json", manifest.as_bytes())]);
    for (name, bytes) in named {
        if let Err(e) = write_atomic(&dir, name, bytes) {
            eprintln!("error: cannot write {}: {e}", dir.join(name).display());
            return EXIT_FAILURE;
        }
    }
    if !args.quiet {
        println!("merged {count} shards of `{}` → {}", base.name, dir.display());
        let (sums, comps) = (run.summaries(), report::comparisons(&run));
        print!("{}", report::table::tables(&run, &sums, &comps));
    }
    EXIT_OK
}
