//! `oversim merge DIR...`: the shards of a sharded run into the one-machine result.

use super::{MergeArgs, EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK};
use crate::merge::{check_set, load_run, merged_manifest, read_shard, sweep_plan, timeseries};
use crate::report::files::{prepare_output, write_atomic};
use crate::report::{self, ResultFiles};

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
    if let Some(info) = shards[0].manifest.exploration.clone() {
        return super::explore::merge(&args, &shards, count, &info);
    }
    let plan = match sweep_plan(&shards[0].manifest) {
        Ok(p) => p,
        Err(e) => return bad(e),
    };
    let (plan, run) = match load_run(&shards, plan) {
        Ok(x) => x,
        Err(e) => return bad(e),
    };
    let dir = report::output_dir(args.out.as_deref(), plan.base(), false);
    if let Err(e) = prepare_output(&dir, report::FILES, args.force) {
        return bad(e);
    }
    let sums = run.summaries();
    let comps = report::comparisons(&run);
    let mut files = ResultFiles::of(&run, &sums, &comps);
    files.timeseries = timeseries(&shards);
    let manifest = merged_manifest(&shards, &plan, count).to_json();
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
        println!(
            "merged {count} shards of `{}` → {}",
            plan.base().name,
            dir.display()
        );
        print!("{}", report::table::tables(&run, &sums, &comps));
    }
    EXIT_OK
}
