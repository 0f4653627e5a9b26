//! `palisade syscalls`: the coverage table, optionally compared row by row with gVisor's.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context;
use sentry::syscalls::{coverage, Support};

#[derive(clap::Args)]
pub struct Args {
    /// gVisor's table (nr, name, level, kind, note as TSV) to compare with.
    #[arg(long)]
    compare: Option<PathBuf>,
}

fn level(s: Support) -> (&'static str, &'static str) {
    match s {
        Support::Full => ("full", ""),
        Support::Partial(n) => ("partial", n),
        Support::Missing => ("missing", ""),
    }
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let ours = coverage();
    let theirs: HashMap<u64, (String, String)> = match &args.compare {
        None => HashMap::new(),
        Some(p) => std::fs::read_to_string(p)
            .with_context(|| format!("reading {}", p.display()))?
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                Some((
                    f.first()?.parse().ok()?,
                    (f.get(1)?.to_string(), f.get(2)?.to_string()),
                ))
            })
            .collect(),
    };
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let (mut better, mut worse) = (0, 0);
    for e in &ours {
        let (lvl, note) = level(e.support);
        *counts.entry(lvl).or_default() += 1;
        if args.compare.is_some() {
            let g = theirs.get(&e.nr).map(|(_, l)| l.as_str()).unwrap_or("-");
            let rank = |l: &str| match l {
                "full" => 2,
                "partial" => 1,
                _ => 0,
            };
            let mark = match rank(lvl).cmp(&rank(g)) {
                std::cmp::Ordering::Greater => {
                    better += 1;
                    "+"
                }
                std::cmp::Ordering::Less => {
                    worse += 1;
                    "-"
                }
                _ => " ",
            };
            println!(
                "{:>3} {:<24} {:<8} gvisor:{:<12} {} {}",
                e.nr, e.name, lvl, g, mark, note
            );
        } else {
            println!("{:>3} {:<24} {:<8} {}", e.nr, e.name, lvl, note);
        }
    }
    println!(
        "# {} syscalls: {} full, {} partial, {} missing",
        ours.len(),
        counts.get("full").unwrap_or(&0),
        counts.get("partial").unwrap_or(&0),
        counts.get("missing").unwrap_or(&0)
    );
    if args.compare.is_some() {
        println!("# compared with gVisor: {better} rows ahead (+), {worse} rows behind (-)");
    }
    Ok(0)
}
