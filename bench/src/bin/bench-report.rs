//! `bench-report`: turns the JSON reports of a `bench/run` (`<scenario>-rust.json`,
//! `<scenario>-node.json`) into the comparison table of docs/BENCHMARKS.md and its chart (SVG,
//! drawn here: a few rectangles and labels need no plotting library), and the stress run's
//! (`stress-rust.json`, `stress-node.json`) into a table of its own.

use std::{fmt::Write as _, fs, path::PathBuf};

use anyhow::Context;
use bench::{report::Report, stress::StressReport};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    /// Folder with the runs' JSON reports.
    #[arg(long)]
    results: PathBuf,
    /// Where to write the Markdown table.
    #[arg(long)]
    markdown: PathBuf,
    /// Where to write the SVG chart.
    #[arg(long)]
    svg: PathBuf,
}

/// One scenario, both servers.
struct Pair {
    rust: Report,
    node: Report,
}

/// A figure of a report, with its name and unit.
struct Measure {
    name: &'static str,
    unit: &'static str,
    of: fn(&Report) -> Option<f64>,
}

const BROADCAST: &[Measure] = &[
    Measure {
        name: "delivered per second",
        unit: "/s",
        of: |r| Some(r.delivery.per_second),
    },
    Measure {
        name: "lost + duplicated + out of order",
        unit: "",
        of: |r| Some((r.delivery.lost + r.delivery.duplicates + r.delivery.out_of_order) as f64),
    },
    Measure {
        name: "latency p50",
        unit: "ms",
        of: |r| Some(r.latency.p50_ms),
    },
    Measure {
        name: "latency p99",
        unit: "ms",
        of: |r| Some(r.latency.p99_ms),
    },
    Measure {
        name: "server CPU per delivery",
        unit: "µs",
        of: |r| r.cost.server_cpu_micros_per_delivery,
    },
];

const IDLE: &[Measure] = &[
    Measure {
        name: "connected / failed / dropped",
        unit: "",
        of: |r| Some(r.connects.connected as f64),
    },
    Measure {
        name: "memory per connection",
        unit: "KiB",
        of: |r| r.cost.server_bytes_per_connection.map(|b| b / 1024.0),
    },
    Measure {
        name: "connect p99",
        unit: "ms",
        of: |r| Some(r.connects.p99_ms),
    },
];

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pairs = read(&args.results)?;
    let mut markdown = table(&pairs);
    if let Some(stress) = read_stress(&args.results)? {
        markdown.push('\n');
        markdown.push_str(&stress);
    }
    fs::write(&args.markdown, markdown)
        .with_context(|| format!("cannot write {}", args.markdown.display()))?;
    fs::write(&args.svg, chart(&pairs))
        .with_context(|| format!("cannot write {}", args.svg.display()))?;
    Ok(())
}

/// Every scenario's pair, in reading order.
fn read(folder: &PathBuf) -> anyhow::Result<Vec<(String, Pair)>> {
    let load = |path: PathBuf| -> anyhow::Result<Report> {
        let text = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(serde_json::from_slice(&text)?)
    };
    let mut pairs = Vec::new();
    for entry in fs::read_dir(folder)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let scenario = name
            .strip_suffix("-rust.json")
            .filter(|scenario| *scenario != STRESS);
        if let Some(scenario) = scenario {
            let node = load(folder.join(format!("{scenario}-node.json")))?;
            pairs.push((
                scenario.to_owned(),
                Pair {
                    rust: load(path)?,
                    node,
                },
            ));
        }
    }
    pairs.sort_by_cached_key(|(scenario, _)| reading_order(scenario));
    Ok(pairs)
}

/// The stress run's reports' name: `stress-rust.json`, `stress-node.json`.
const STRESS: &str = "stress";

/// The stress run's table, if the run has one: people's figures while the storm and the
/// flooders hit each server, and what the server looked like after.
fn read_stress(folder: &std::path::Path) -> anyhow::Result<Option<String>> {
    let load = |server: &str| -> anyhow::Result<Option<StressReport>> {
        let path = folder.join(format!("{STRESS}-{server}.json"));
        if !path.exists() {
            return Ok(None);
        }
        let text = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(Some(serde_json::from_slice(&text)?))
    };
    let (Some(rust), Some(node)) = (load("rust")?, load("node")?) else {
        return Ok(None);
    };
    Ok(Some(stress_table(&rust, &node)))
}

fn stress_table(rust: &StressReport, node: &StressReport) -> String {
    fn mib(bytes: u64) -> String {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    }
    type Row = (&'static str, fn(&StressReport) -> String);
    let rows: &[Row] = &[
        ("people: sent → deliveries", |r| {
            format!("{} → {}", r.people.delivery.sent, r.people.delivery.unique)
        }),
        ("people: lost / duplicated / out of order", |r| {
            let d = &r.people.delivery;
            format!("{} / {} / {}", d.lost, d.duplicates, d.out_of_order)
        }),
        ("people: latency p50 / p99 / max", |r| {
            let l = &r.people.latency;
            format!(
                "{} / {} / {} ms",
                figure(l.p50_ms),
                figure(l.p99_ms),
                figure(l.max_ms)
            )
        }),
        ("server CPU during the run", |r| {
            format!("{:.1} s", r.people.cost.server_cpu_seconds)
        }),
        ("storm: waves, admitted / refused / failed", |r| {
            let waves = &r.storm.waves;
            let sum =
                |of: fn(&bench::report::Connects) -> usize| waves.iter().map(of).sum::<usize>();
            format!(
                "{}, {} / {} / {}",
                waves.len(),
                sum(|w| w.connected),
                sum(|w| w.refused.values().sum()),
                sum(|w| w.failed)
            )
        }),
        ("storm: worst wave's connect p99", |r| {
            let worst = r.storm.waves.iter().map(|w| w.p99_ms).fold(0.0, f64::max);
            format!("{} ms", figure(worst))
        }),
        ("flooders: sent / accepted / refused / cut off", |r| {
            let f = &r.flood;
            format!(
                "{} / {} / {} / {}",
                f.sent, f.accepted, f.refused_too_fast, f.cut_off
            )
        }),
        ("memory before → peak → after", |r| {
            let s = &r.server;
            format!(
                "{} → {} → {}",
                mib(s.rss_before),
                mib(s.rss_peak),
                mib(s.rss_after)
            )
        }),
    ];
    let mut table = String::from(
        "| stress: people through a storm and a flood | ours (Rust) | Node (seed) |\n|---|---:|---:|\n",
    );
    for (name, of) in rows {
        writeln!(table, "| {name} | {} | {} |", of(rust), of(node)).ok();
    }
    table
}

/// A name as runs of text and numbers, numbers compared as such: `idle-5000` before
/// `idle-19900`.
fn reading_order(name: &str) -> Vec<Result<u64, String>> {
    let mut runs: Vec<Result<u64, String>> = Vec::new();
    for c in name.chars() {
        match (c.to_digit(10), runs.last_mut()) {
            (Some(digit), Some(Ok(number))) => {
                *number = number.saturating_mul(10) + u64::from(digit)
            }
            (Some(digit), _) => runs.push(Ok(u64::from(digit))),
            (None, Some(Err(text))) => text.push(c),
            (None, _) => runs.push(Err(c.to_string())),
        }
    }
    runs
}

fn measures(scenario: &str) -> &'static [Measure] {
    if scenario.starts_with("idle") {
        IDLE
    } else {
        BROADCAST
    }
}

fn table(pairs: &[(String, Pair)]) -> String {
    let mut table = String::from(
        "| scenario | measure | ours (Rust) | Node (seed) | ours ÷ Node |\n|---|---|---:|---:|---:|\n",
    );
    for (scenario, pair) in pairs {
        for measure in measures(scenario) {
            let (ours, node) = ((measure.of)(&pair.rust), (measure.of)(&pair.node));
            let shown = |value: Option<f64>, report: &Report| match value {
                Some(_) if measure.name.starts_with("connected") => {
                    format!(
                        "{} / {} / {}",
                        report.connects.connected, report.connects.failed, report.dropped
                    )
                }
                Some(value) => format!("{} {}", figure(value), measure.unit),
                None => "—".into(),
            };
            let ratio = match (ours, node) {
                (Some(ours), Some(node))
                    if node > 0.0 && !measure.name.starts_with("connected") =>
                {
                    format!("{:.2}", ours / node)
                }
                _ => "—".into(),
            };
            writeln!(
                table,
                "| {scenario} | {} | {} | {} | {ratio} |",
                measure.name,
                shown(ours, &pair.rust).trim(),
                shown(node, &pair.node).trim()
            )
            .ok();
        }
    }
    for (scenario, pair) in pairs {
        for report in [&pair.rust, &pair.node] {
            for warning in &report.warnings {
                writeln!(table, "\n> {scenario} ({}): {}", report.label, warning.0).ok();
            }
        }
    }
    table
}

fn figure(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// The chart's panels.
const PANELS: &[Measure] = &[
    Measure {
        name: "Server CPU per delivered message",
        unit: "µs",
        of: |r| r.cost.server_cpu_micros_per_delivery,
    },
    Measure {
        name: "Broadcast latency, p99",
        unit: "ms",
        of: |r| (r.delivery.unique > 0).then_some(r.latency.p99_ms),
    },
    Measure {
        name: "Memory per idle connection",
        unit: "KiB",
        of: |r| {
            (r.delivery.sent == 0)
                .then_some(r.cost.server_bytes_per_connection?)
                .map(|b| b / 1024.0)
        },
    },
];

/// Three panels of paired bars (ours, Node): CPU per delivery, p99 latency, memory per idle
/// connection. Shorter is better in all three.
fn chart(pairs: &[(String, Pair)]) -> String {
    let (width, label_width, bar, gap) = (760.0, 170.0, 16.0, 14.0);
    let mut body = String::new();
    let mut y = 40.0;
    for Measure {
        name: title,
        unit,
        of,
    } in PANELS
    {
        let rows: Vec<(&String, f64, f64)> = pairs
            .iter()
            .filter_map(|(scenario, pair)| Some((scenario, of(&pair.rust)?, of(&pair.node)?)))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let most = rows
            .iter()
            .map(|(_, ours, node)| ours.max(*node))
            .fold(f64::EPSILON, f64::max);
        let scale = (width - label_width - 110.0) / most;
        writeln!(
            body,
            r#"<text x="10" y="{y}" class="title">{title} ({unit}) — shorter is better</text>"#
        )
        .ok();
        y += 14.0;
        for (scenario, ours, node) in rows {
            writeln!(
                body,
                r#"<text x="10" y="{}" class="label">{scenario}</text>"#,
                y + bar + 4.0
            )
            .ok();
            for (value, class, who) in [(ours, "ours", "Rust"), (node, "node", "Node")] {
                let length = (value * scale).max(1.0);
                writeln!(
                    body,
                    r#"<rect x="{label_width}" y="{y}" width="{length:.1}" height="{bar}" class="{class}"/><text x="{:.1}" y="{:.1}" class="value">{who} {} {unit}</text>"#,
                    label_width + length + 6.0,
                    y + bar - 4.0,
                    figure(value)
                )
                .ok();
                y += bar + 2.0;
            }
            y += gap;
        }
        y += 18.0;
    }
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" viewBox="0 0 {width} {y}">
<style>
text {{ font-family: system-ui, sans-serif; font-size: 12px; fill: #222; }}
.title {{ font-size: 14px; font-weight: 600; }}
.value {{ font-size: 11px; }}
.ours {{ fill: #d9622b; }}
.node {{ fill: #5a9e4b; }}
</style>
<rect width="100%" height="100%" fill="white"/>
{body}</svg>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::reading_order;

    #[test]
    fn scenarios_sort_by_their_numbers() {
        let mut names = [
            "idle-19900",
            "broadcast-1000",
            "idle-5000",
            "broadcast-100-polling",
            "idle-1000",
            "broadcast-100",
        ];
        names.sort_by_key(|name| reading_order(name));
        assert_eq!(
            names,
            [
                "broadcast-100",
                "broadcast-100-polling",
                "broadcast-1000",
                "idle-1000",
                "idle-5000",
                "idle-19900",
            ]
        );
    }
}
