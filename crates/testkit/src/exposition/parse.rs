//! The text exposition format, line by line: names, labels, values, `# TYPE` before its
//! samples, and histogram buckets that rise to `+Inf` = `_count`.

use std::collections::HashMap;

use super::{Exposition, Labels, Sample};

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
}
