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

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn value(s: &str) -> Option<f64> {
    match s {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

/// `k="v",…}` after the `{`: the labels and the rest of the line.
fn labels(mut s: &str) -> Result<(Labels, &str), String> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix('}') {
            return Ok((out, rest));
        }
        let eq = s.find('=').ok_or("label without =")?;
        let name = s[..eq].trim();
        if !is_name(name) || name.contains(':') {
            return Err(format!("bad label name {name:?}"));
        }
        let mut rest = s[eq + 1..]
            .strip_prefix('"')
            .ok_or("label value not quoted")?;
        let mut val = String::new();
        loop {
            let mut chars = rest.chars();
            match chars.next().ok_or("unterminated label value")? {
                '"' => break,
                '\\' => match chars.next() {
                    Some('\\') => val.push('\\'),
                    Some('"') => val.push('"'),
                    Some('n') => val.push('\n'),
                    other => return Err(format!("bad escape \\{other:?}")),
                },
                '\n' => return Err("newline in label value".into()),
                c => val.push(c),
            }
            rest = chars.as_str();
        }
        rest = &rest[1..];
        if out.iter().any(|(n, _)| n == name) {
            return Err(format!("label {name} twice"));
        }
        out.push((name.to_owned(), val));
        s = rest.trim_start();
        if let Some(r) = s.strip_prefix(',') {
            s = r;
        } else if !s.starts_with('}') {
            return Err("labels not separated by ,".into());
        }
    }
}

/// The family a sample belongs to: `x_bucket`, `x_sum` and `x_count` of histogram `x` are `x`.
fn family<'a>(name: &'a str, types: &HashMap<String, String>) -> &'a str {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix)
            && types
                .get(base)
                .is_some_and(|t| t == "histogram" || t == "summary")
        {
            return base;
        }
    }
    name
}

impl Exposition {
    /// Parses and checks `text`; the error names the first bad line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut samples = Vec::new();
        let mut types = HashMap::new();
        let mut helped = Vec::new();
        let mut seen_families: Vec<String> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let bad = |why: &str| format!("line {}: {why}: {line:?}", n + 1);
            if line.trim().is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                let words: Vec<&str> = comment.trim_start().splitn(3, ' ').collect();
                match words.as_slice() {
                    ["TYPE", name, kind] => {
                        if !is_name(name) {
                            return Err(bad("bad metric name"));
                        }
                        if !["counter", "gauge", "histogram", "summary", "untyped"].contains(kind) {
                            return Err(bad("unknown type"));
                        }
                        if seen_families.iter().any(|f| f == name) {
                            return Err(bad("# TYPE after the family's samples"));
                        }
                        if types
                            .insert((*name).to_owned(), (*kind).to_owned())
                            .is_some()
                        {
                            return Err(bad("second # TYPE"));
                        }
                    }
                    ["HELP", name, ..] => {
                        if !is_name(name) {
                            return Err(bad("bad metric name"));
                        }
                        helped.push((*name).to_owned());
                    }
                    ["TYPE" | "HELP", ..] => return Err(bad("incomplete")),
                    _ => {}
                }
                continue;
            }
            let name_end = line.find(['{', ' ']).ok_or_else(|| bad("no value"))?;
            let name = &line[..name_end];
            if !is_name(name) {
                return Err(bad("bad metric name"));
            }
            let (labels, rest) = match line[name_end..].strip_prefix('{') {
                Some(after) => labels(after).map_err(|e| bad(&e))?,
                None => (Vec::new(), &line[name_end..]),
            };
            let mut fields = rest.split_whitespace();
            let v = fields
                .next()
                .and_then(value)
                .ok_or_else(|| bad("bad value"))?;
            if let Some(ts) = fields.next()
                && ts.parse::<i64>().is_err()
            {
                return Err(bad("bad timestamp"));
            }
            if fields.next().is_some() {
                return Err(bad("trailing text"));
            }
            let fam = family(name, &types).to_owned();
            if !seen_families.contains(&fam) {
                seen_families.push(fam);
            }
            samples.push(Sample {
                name: name.to_owned(),
                labels,
                value: v,
            });
        }
        let parsed = Self {
            samples,
            types,
            helped,
        };
        parsed.check_histograms()?;
        Ok(parsed)
    }

    /// Buckets rise with `le`, end at `+Inf`, and `+Inf` equals `_count`.
    fn check_histograms(&self) -> Result<(), String> {
        for (name, _) in self.types.iter().filter(|(_, t)| *t == "histogram") {
            let bucket = format!("{name}_bucket");
            let mut series: HashMap<Labels, Vec<(f64, f64)>> = HashMap::new();
            for s in self.samples.iter().filter(|s| s.name == bucket) {
                let le = s
                    .labels
                    .iter()
                    .find(|(k, _)| k == "le")
                    .and_then(|(_, v)| value(v))
                    .ok_or_else(|| format!("{bucket} without a numeric le"))?;
                let rest: Vec<_> = s
                    .labels
                    .iter()
                    .filter(|(k, _)| k != "le")
                    .cloned()
                    .collect();
                series.entry(rest).or_default().push((le, s.value));
            }
            for (labels, buckets) in series {
                let what = format!("{name}{labels:?}");
                if !buckets
                    .windows(2)
                    .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1)
                {
                    return Err(format!("{what}: buckets do not rise"));
                }
                let inf = buckets.last().filter(|(le, _)| le.is_infinite());
                let inf = inf.ok_or_else(|| format!("{what}: no +Inf bucket"))?.1;
                let count = self
                    .samples
                    .iter()
                    .find(|s| s.name == format!("{name}_count") && s.labels == labels)
                    .ok_or_else(|| format!("{what}: no _count"))?;
                if (count.value - inf).abs() > f64::EPSILON {
                    return Err(format!(
                        "{what}: +Inf bucket {inf} but count {}",
                        count.value
                    ));
                }
            }
        }
        Ok(())
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"# HELP req_total Requests
# TYPE req_total counter
req_total{method="GET",route="/a/{id}"} 3
req_total{method="POST",route="/a"} 1 1700000000000
# TYPE dur_seconds histogram
dur_seconds_bucket{le="0.1"} 1
dur_seconds_bucket{le="1"} 2
dur_seconds_bucket{le="+Inf"} 2
dur_seconds_sum 0.5
dur_seconds_count 2
up 1
esc{v="a\"b\\c\nd"} 1
"#;

    #[test]
    fn the_text_format_is_read() {
        let e = Exposition::parse(GOOD).unwrap();
        assert_eq!(e.value("req_total", &[]), 4.0);
        assert_eq!(e.value("req_total", &[("route", "/a/{id}")]), 3.0);
        assert_eq!(e.value("req_total", &[("route", "/b")]), 0.0);
        assert_eq!(e.value("dur_seconds_count", &[]), 2.0);
        assert_eq!(e.label_values("esc", "v"), ["a\"b\\c\nd"]);
        assert_eq!(e.types["dur_seconds"], "histogram");
        assert_eq!(e.helped, ["req_total"]);
    }

    #[test]
    fn malformed_text_is_refused() {
        for bad in [
            "1bad 1",
            "m{a=\"x\"",
            "m{a=x} 1",
            "m{a=\"x\",a=\"y\"} 1",
            "m one",
            "m 1 2 3",
            "m 1\n# TYPE m counter",
            "# TYPE m countr",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1",
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 1",
        ] {
            assert!(Exposition::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
