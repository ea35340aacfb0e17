//! Fuzzes the Config event decoder: any bytes, and any JSON document as the
//! `invokingEvent` string, must decode or be refused — never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = atrest_common::Invocation::from_slice(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let event = serde_json::json!({
            "invokingEvent": text,
            "ruleParameters": text,
            "resultToken": "TESTMODE",
            "eventLeftScope": false,
        });
        let _ = atrest_common::Invocation::from_value(event);
    }
});
