//! Orchestration outcomes as metrics: the Prometheus counter, and inside Lambda a CloudWatch
//! embedded-metric-format (EMF) log line, since nothing scrapes the `/metrics` of a short-lived
//! Lambda execution environment; CloudWatch turns the line into the metric itself.

use anyhow::bail;
use b2b_platform::config::names;
use b2b_platform::metrics::ORCHESTRATIONS;
use serde_json::json;

/// The CloudWatch namespace of the EMF metrics.
pub const NAMESPACE: &str = "B2BOrders";

/// `METRICS_EMF`: `1`/`true` or `0`/`false`; unset, on only inside Lambda
/// (`AWS_LAMBDA_RUNTIME_API` set).
pub fn enabled() -> anyhow::Result<bool> {
    match std::env::var(names::METRICS_EMF)
        .ok()
        .filter(|v| !v.is_empty())
    {
        None => Ok(std::env::var_os(names::AWS_LAMBDA_RUNTIME_API).is_some()),
        Some(v) => match v.as_str() {
            "1" | "true" => Ok(true),
            "0" | "false" => Ok(false),
            _ => bail!("METRICS_EMF must be 1 or 0, not {v:?}"),
        },
    }
}

/// Counts one orchestration by `outcome` (`success` or the envelope's code); with `emf`, also
/// prints its EMF line on standard output, where Lambda's log lines go.
pub fn orchestrated(emf: bool, outcome: &'static str, correlation_id: &str) {
    metrics::counter!(ORCHESTRATIONS, "outcome" => outcome).increment(1);
    if emf {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        println!("{}", line(outcome, correlation_id, now));
    }
}

/// One orchestration as an EMF line: the metric `orchestrations` (a count of 1) with the
/// dimensions `service` and `outcome`; the correlation id is a searchable property, not a
/// dimension (one series per request would be a cost, not a metric).
pub fn line(outcome: &str, correlation_id: &str, timestamp_ms: i64) -> String {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["service", "outcome"]],
                "Metrics": [{ "Name": "orchestrations", "Unit": "Count" }],
            }],
        },
        "service": "lambda-orchestrator",
        "outcome": outcome,
        "orchestrations": 1,
        "correlation_id": correlation_id,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    const CODE: b2b_domain::ErrorCode = b2b_domain::ErrorCode::InsufficientStock;

    /// The shape CloudWatch requires: every dimension and metric named under `_aws` is a
    /// top-level member of the line, the metric a number, the dimensions strings.
    #[test]
    fn an_emf_line_is_what_cloudwatch_reads() {
        let text = line(CODE.as_str(), "req-789", 1_700_000_000_000);
        assert!(!text.contains('\n'), "one line");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000_i64);
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        for dimension in directive["Dimensions"][0].as_array().unwrap() {
            assert!(v[dimension.as_str().unwrap()].is_string(), "{dimension}");
        }
        for metric in directive["Metrics"].as_array().unwrap() {
            assert!(v[metric["Name"].as_str().unwrap()].is_number(), "{metric}");
            assert_eq!(metric["Unit"], "Count");
        }
        assert_eq!(v["outcome"], CODE.as_str());
        assert_eq!(v["service"], "lambda-orchestrator");
        assert_eq!(v["correlation_id"], "req-789");
    }
}
