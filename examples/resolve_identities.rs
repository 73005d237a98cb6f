//! One customer across channels: merge the source ids of an identifier
//! table (`source_id,kind,value`) whose identifiers connect.
//!
//! ```text
//! cargo run --release --example resolve_identities -- PATH [--default-country CODE] [--max-shared N] [--json]
//! ```
//!
//! Phone numbers are normalised to international form (national numbers
//! get `--default-country`, a calling code such as 86), e-mail addresses
//! are trimmed and lower-cased, and an identifier carried by more than
//! `--max-shared` source ids (default 10) is reported and not used. With
//! `--json` it prints one object: `customers` (the count after merging),
//! `groups` (each merged customer's `canonical` id and its sorted
//! `members`) and `ignored` (each widely shared identifier's `kind`,
//! normalised `value` and `shared_by`).

use std::process::ExitCode;

use churnwise::records::{IdentifierCsv, IdentityResolver};
use serde_json::json;

struct Args {
    path: String,
    resolver: IdentityResolver,
    json: bool,
}

fn parse_args() -> Result<Args, String> {
    let usage = "usage: resolve_identities PATH [--default-country CODE] [--max-shared N] [--json]";
    let mut path = None;
    let mut resolver = IdentityResolver::new();
    let mut json = false;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--default-country" => {
                resolver =
                    resolver.default_country(it.next().ok_or("--default-country needs a code")?);
            }
            "--max-shared" => {
                let v = it.next().ok_or("--max-shared needs a number")?;
                resolver = resolver.max_shared(
                    v.parse()
                        .map_err(|_| format!("--max-shared: `{v}` is not a whole number"))?,
                );
            }
            "--json" => json = true,
            "--help" | "-h" => return Err(usage.into()),
            flag if flag.starts_with("--") => {
                return Err(format!("unknown flag `{flag}`\n{usage}"));
            }
            _ if path.is_none() => path = Some(arg),
            _ => return Err(format!("unexpected argument `{arg}`\n{usage}")),
        }
    }
    Ok(Args {
        path: path.ok_or(usage)?,
        resolver,
        json,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> churnwise::Result<()> {
    let identifiers = IdentifierCsv::new().read_path(&args.path)?;
    let map = args.resolver.resolve(&identifiers)?;
    if args.json {
        let groups: Vec<_> = map
            .merged()
            .map(|g| {
                json!({
                    "canonical": g.canonical().to_string(),
                    "members": g.members().iter().map(ToString::to_string).collect::<Vec<_>>(),
                })
            })
            .collect();
        let ignored: Vec<_> = map
            .ignored()
            .iter()
            .map(|i| json!({"kind": i.kind.name(), "value": i.value, "shared_by": i.shared_by}))
            .collect();
        let out = json!({"customers": map.customers(), "groups": groups, "ignored": ignored});
        println!("{out}");
        return Ok(());
    }
    print!("{map}");
    for group in map.merged().take(20) {
        let members: Vec<String> = group.members().iter().map(ToString::to_string).collect();
        let links: Vec<String> = group
            .links()
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        println!(
            "  {} ← {}  (via {})",
            group.canonical(),
            members.join(", "),
            links.join("; ")
        );
    }
    for ignored in map.ignored().iter().take(10) {
        println!(
            "  ignored {} {}: carried by {} source ids",
            ignored.kind, ignored.value, ignored.shared_by
        );
    }
    for invalid in map.invalid().iter().take(10) {
        println!(
            "  invalid {} `{}` of {}: {}",
            invalid.kind, invalid.value, invalid.source, invalid.reason
        );
    }
    Ok(())
}
