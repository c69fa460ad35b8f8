//! Reading a `/metrics` answer as Prometheus does: the text exposition format checked line by
//! line (names, labels, values, `# TYPE` before its samples, histogram buckets), then looked up
//! by name and labels.

use std::collections::HashMap;

/// A sample's labels, in the order written.
pub type Labels = Vec<(String, String)>;

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Labels,
    pub value: f64,
}

/// A parsed exposition.
#[derive(Debug, Clone)]
pub struct Exposition {
    pub samples: Vec<Sample>,
    /// `# TYPE` of each family.
    pub types: HashMap<String, String>,
    /// Families with a `# HELP` line.
    pub helped: Vec<String>,
}

mod parse;

impl Exposition {
    /// The samples named `name` that carry every label of `labels`.
    pub fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|(sk, sv)| sk == k && sv == v))
        })
    }

    /// The sum of the samples named `name` with `labels` (0 when there is none: a counter
    /// appears at its first increment).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels).map(|s| s.value).sum()
    }

    /// Every value label `label` takes on samples named `name`.
    pub fn label_values(&self, name: &str, label: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .samples
            .iter()
            .filter(|s| s.name == name)
            .filter_map(|s| s.labels.iter().find(|(k, _)| k == label))
            .map(|(_, v)| v.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// `GET {base}/metrics` with an optional bearer token: 200, the text format's content type,
/// and text that parses.
pub async fn scrape(client: &reqwest::Client, base: &str, token: Option<&str>) -> Exposition {
    let mut req = client.get(format!("{base}/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("GET /metrics");
    assert_eq!(resp.status(), 200, "GET {base}/metrics");
    let ct = resp.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .to_owned();
    assert!(
        ct.starts_with("text/plain; version=0.0.4"),
        "content type {ct}"
    );
    let text = resp.text().await.expect("metrics text");
    Exposition::parse(&text).unwrap_or_else(|e| panic!("not Prometheus text: {e}\n{text}"))
}
