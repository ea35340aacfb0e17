//! The floor of the snapshot figure: read a file and parse it into a
//! `serde_json::Value`, nothing else. Prints the nanoseconds it took.

use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: parse-json FILE");
        return ExitCode::from(2);
    };
    let start = Instant::now();
    let parsed = std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|e| e.to_string()));
    match parsed {
        Ok(value) => {
            let nanos = start.elapsed().as_nanos();
            // Keep the parse observable.
            let items = value
                .get("configurationItems")
                .and_then(|v| v.as_array())
                .map_or(0, Vec::len);
            println!("{nanos} {items}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("parse-json: {path}: {e}");
            ExitCode::from(2)
        }
    }
}
