//! Policy documents: checked, evaluated and explained under the step
//! budget, with any document and a fixed request; a valid policy's normal
//! form is itself valid and normal.
#![no_main]

use captoken_core::json::{self, Map, Value};
use captoken_fuzz::{call_checked, doc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(policy) = json::parse(data, 32) else {
        return;
    };
    let mut check = Map::new();
    check.insert("policy".into(), policy.clone());
    if let Ok(checked) = call_checked("policy_check", &check.into()) {
        let normal = checked["policy"].clone();
        let mut again = Map::new();
        again.insert("policy".into(), normal.clone());
        let rechecked =
            call_checked("policy_check", &again.into()).expect("a policy's normal form is valid");
        assert_eq!(
            rechecked["policy"], normal,
            "the normal form is a fixed point"
        );
    }
    let request = doc(
        r#"{"subject": {"id": "agent-7", "attributes": {"team": "ops"}},
            "capabilities": [{"actions": ["read"], "resources": ["doc:1"]}], "ttl": 600}"#,
    );
    for op in ["policy_evaluate", "policy_explain"] {
        let mut evaluate = Map::new();
        evaluate.insert("policy".into(), policy.clone());
        evaluate.insert("request".into(), request.clone());
        evaluate.insert("budget".into(), Value::from(10_000u64));
        let _ = call_checked(op, &evaluate.into());
    }
});
