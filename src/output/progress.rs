//! Progress of long waits (a reassignment): an indicatif bar when stderr is a terminal,
//! one log line per update otherwise (cron, log files).

use std::io::IsTerminal;

/// A progress display for `total` steps.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    label: String,
    total: u64,
    unit: &'static str,
}

impl Progress {
    /// A bar on a terminal, log lines elsewhere.
    pub fn new(label: &str, total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            let style = indicatif::ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} partitions, {msg} ({elapsed})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(label.to_string());
            bar
        });
        Progress {
            bar,
            label: label.to_string(),
            total,
            unit: "partitions",
        }
    }

    /// A bar counting records (a scan of a topic), log lines elsewhere.
    pub fn records(label: &str, total: u64) -> Progress {
        let mut progress = Progress::new(label, total);
        if let Some(bar) = &progress.bar {
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} records, {msg} ({elapsed})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
        }
        progress.unit = "records";
        progress
    }

    /// `done` of the total steps, with a short status such as the bytes left.
    pub fn update(&self, done: u64, status: &str) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(done);
                bar.set_message(status.to_string());
            }
            None => super::log_line(
                "info",
                &format!(
                    "{}: {done} of {} {} done, {status}",
                    self.label, self.total, self.unit
                ),
            ),
        }
    }

    /// Removes the bar (the caller reports the outcome).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Bytes for people: 1.5 GiB, 300 MiB, 12 KiB, 80 B.
pub fn human_bytes(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes.max(0) as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{} B", bytes.max(0))
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn bytes_read_like_people_write_them() {
        assert_eq!(human_bytes(80), "80 B");
        assert_eq!(human_bytes(12 * 1024), "12.0 KiB");
        assert_eq!(human_bytes(1536 * 1024 * 1024), "1.5 GiB");
        assert_eq!(human_bytes(-5), "0 B");
    }
}
