//! One orchestration with a `traceparent`, through the three real parts, exported over OTLP
//! (HTTP/protobuf) to a real receiver inside this test: its spans arrive as one trace, the
//! caller's, from every part, and the parts' log lines carry its trace id. A test binary of its
//! own because the exporter and the log subscriber are process-global.

#[path = "../api/helpers.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;

use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::post;
use b2b_platform::telemetry::{self, Logging};
use b2b_testkit::Backend;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::Value;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

use helpers::{Answer, Apis, WIDGET, on_each_backend, operator_token, request};

/// The spans received so far.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Span>>>);

async fn receive(State(received): State<Received>, body: Bytes) -> impl IntoResponse {
    let export = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf export");
    let spans = export
        .resource_spans
        .into_iter()
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans);
    received.0.lock().expect("spans").extend(spans);
    (
        [(CONTENT_TYPE, "application/x-protobuf")],
        ExportTraceServiceResponse::default().encode_to_vec(),
    )
}

/// The log lines written so far.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lines").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct World {
    spans: Received,
    lines: Lines,
}

/// The receiver, on a runtime of its own (each test has its own and may end first), and the
/// subscriber exporting to it: once per process.
fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let spans = Received::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.set_nonblocking(true).expect("non-blocking");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        let state = spans.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = axum::Router::new()
                    .route("/v1/traces", post(receive))
                    .with_state(state);
                axum::serve(listener, app).await.expect("receiver");
            });
        });
        let lines = Lines::default();
        let sink = lines.clone();
        telemetry::init_with(Logging {
            service: "otlp-test",
            writer: BoxMakeWriter::new(move || sink.clone()),
            json: true,
            otlp_endpoint: Some(endpoint),
        });
        World { spans, lines }
    })
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attributes.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            AnyValue::StringValue(s) => Some(s.as_str()),
            _ => None,
        }
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

on_each_backend!(one_orchestration_is_one_trace_across_the_three_parts);

async fn one_orchestration_is_one_trace_across_the_three_parts(backend: Backend) {
    let world = world();
    let trace_id = format!("{:032x}", rand::random::<u128>() | 1);
    let caller_span = "00f067aa0ba902b7";
    let apis = Apis::start(backend).await;
    let orchestrator = apis.orchestrator().await;
    let req = orchestrator
        .post()
        .bearer_auth(operator_token())
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .header("tracestate", "vendor=opaque")
        .json(&request(1, &[(WIDGET, 1)], &format!("otlp-{trace_id}")));
    let answer = Answer::from(req).await;
    answer.order();

    // The batch exporter sends on its own; flush, then give the receiver a moment.
    let mut ours: Vec<Span> = Vec::new();
    for _ in 0..50 {
        tokio::task::spawn_blocking(telemetry::flush_spans)
            .await
            .expect("flush");
        ours = world.spans.0.lock().expect("spans").clone();
        ours.retain(|s| hex(&s.trace_id) == trace_id);
        let services: BTreeSet<_> = ours
            .iter()
            .filter_map(|s| attribute(&s.attributes, "service"))
            .collect();
        if services.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let requests: Vec<&Span> = ours.iter().filter(|s| s.name == "request").collect();
    let services: BTreeSet<_> = requests
        .iter()
        .filter_map(|s| attribute(&s.attributes, "service"))
        .collect();
    assert_eq!(
        services,
        BTreeSet::from(["customers-api", "lambda-orchestrator", "orders-api"]),
        "request spans of trace {trace_id}: {ours:#?}"
    );
    // One tree: the orchestrator's request is the caller's child; every other span's parent
    // is a span of the same trace.
    let ids: HashSet<String> = ours.iter().map(|s| hex(&s.span_id)).collect();
    for span in &ours {
        let parent = hex(&span.parent_span_id);
        let entry = attribute(&span.attributes, "service") == Some("lambda-orchestrator")
            && span.name == "request";
        if entry {
            assert_eq!(parent, caller_span, "{span:#?}");
        } else {
            assert!(ids.contains(&parent), "orphan span {span:#?}");
        }
    }
    assert!(
        ours.iter().any(|s| s.name == "upstream call"),
        "no upstream call span in {ours:#?}"
    );
    assert!(
        ours.iter().any(|s| s.name == "db transaction"),
        "no database transaction span in {ours:#?}"
    );

    // The log lines of each part's request carry the trace id and the exported span id.
    let text = String::from_utf8(world.lines.0.lock().expect("lines").clone()).expect("UTF-8");
    for request in &requests {
        let service = attribute(&request.attributes, "service").expect("service");
        let span_id = hex(&request.span_id);
        let served: Vec<Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["span"]["span_id"] == span_id.as_str())
            .collect();
        assert!(
            !served.is_empty(),
            "no log line of {service}'s span {span_id}"
        );
        for line in served {
            assert_eq!(line["span"]["trace_id"], trace_id.as_str(), "{line}");
            assert_eq!(line["span"]["service"], service, "{line}");
            assert!(line["span"]["correlation_id"].is_string(), "{line}");
        }
    }
}
