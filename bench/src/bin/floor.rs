//! The floor of the cold-start figures: a bare `lambda_runtime` function
//! that answers every event with `{}`. It is built with the same profile,
//! target and runtime flavour as the rule packages (a current-thread tokio
//! runtime), so that what a rule spends above it is what atrest adds.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

fn main() -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(lambda_runtime::run(service_fn(|_: LambdaEvent<Value>| async {
        Ok::<Value, Error>(json!({}))
    })))
}
