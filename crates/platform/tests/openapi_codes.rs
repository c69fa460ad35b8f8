//! The codes the committed OpenAPI documents list for each error response are real
//! [`ErrorCode`]s, and each example body is one of them, at the response's status. (The services'
//! snapshot tests keep the committed documents equal to the generated ones.)

use b2b_domain::ErrorCode;
use serde_json::Value;

const DOCUMENTS: [(&str, &str); 3] = [
    (
        "customers-api",
        include_str!("../../../openapi/customers-api.json"),
    ),
    (
        "orders-api",
        include_str!("../../../openapi/orders-api.json"),
    ),
    (
        "lambda-orchestrator",
        include_str!("../../../openapi/lambda-orchestrator.json"),
    ),
];

/// The `enum` of the code in a narrowed error schema (`allOf: [$ref, {properties: …}]`).
fn listed_codes(schema: &Value) -> Option<Vec<ErrorCode>> {
    let mut narrowed = &schema["allOf"][1];
    while narrowed.get("enum").is_none() {
        narrowed = narrowed["properties"].as_object()?.values().next()?;
    }
    Some(
        serde_json::from_value(narrowed["enum"].clone())
            .expect("every listed code is an ErrorCode"),
    )
}

#[test]
fn every_error_response_lists_real_codes_with_an_example_each() {
    for (service, text) in DOCUMENTS {
        let doc: Value = serde_json::from_str(text).unwrap();
        let mut responses = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (status, response) in op["responses"].as_object().unwrap() {
                    if status.as_str() < "400" {
                        continue;
                    }
                    let here = format!("{service} {method} {path} {status}");
                    let Some(content) = response["content"].as_object() else {
                        continue;
                    };
                    for body in content.values() {
                        if let Some(other) = body["schema"]["$ref"].as_str() {
                            // Not an error body (the health check's 503), or one left un-narrowed.
                            assert!(
                                !other.ends_with("/Problem") && !other.ends_with("/FailureBody"),
                                "{here}"
                            );
                            continue;
                        }
                        let codes = listed_codes(&body["schema"])
                            .unwrap_or_else(|| panic!("{here}: no codes"));
                        assert!(!codes.is_empty(), "{here}");
                        let examples = body["examples"].as_object().expect("examples");
                        assert_eq!(examples.len(), codes.len(), "{here}");
                        for code in &codes {
                            let example = &examples[code.as_str()]["value"];
                            let sent = example.get("error").unwrap_or(example);
                            assert_eq!(sent["code"], code.as_str(), "{here}");
                            if let Some(s) = example.get("status") {
                                assert_eq!(s.to_string(), *status, "{here}");
                            }
                        }
                        responses += 1;
                    }
                }
            }
        }
        assert!(
            responses > 10,
            "{service}: only {responses} error responses"
        );
    }
}
