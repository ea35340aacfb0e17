//! Findings kept on disk while a run goes on, for the formats written one
//! finding at a time (JSON and CSV): a snapshot of a million items makes
//! millions of findings, which would otherwise all be held in memory until
//! the report is written. Each rule's findings go to their own anonymous
//! temporary file, already rendered, and are copied out in rule order, so
//! that the report is byte for byte what [`render`](crate::output::render)
//! writes from memory.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};

use atrest_common::report::Counts;

use crate::error::CliError;
use crate::inventory::Inventory;
use crate::output::{csv_record, json_pretty, Format, CSV_HEADER};
use crate::report::Finding;

/// Findings rendered to temporary files, one per rule.
pub struct Spill {
    format: Format,
    rules: Vec<RuleSpill>,
}

struct RuleSpill {
    file: BufWriter<File>,
    counts: Counts,
}

impl Spill {
    /// A spill for `rules` rules' findings in `format` (JSON or CSV); `None`
    /// for a format that needs every finding at hand.
    pub fn new(format: Format, rules: usize) -> Result<Option<Self>, CliError> {
        if !matches!(format, Format::Json | Format::Csv) {
            return Ok(None);
        }
        let rules = (0..rules)
            .map(|_| {
                Ok(RuleSpill {
                    file: BufWriter::new(tempfile::tempfile().map_err(CliError::Write)?),
                    counts: Counts::default(),
                })
            })
            .collect::<Result<_, CliError>>()?;
        Ok(Some(Spill { format, rules }))
    }

    /// The format findings are rendered in, for [`Rendered::new`].
    pub fn format(&self) -> Format {
        self.format
    }

    /// Adds one finding of rule `rule` (its index among the selected rules):
    /// a batch of one, for the tests (runs append whole batches).
    #[cfg(test)]
    pub fn push(&mut self, rule: usize, finding: &Finding) -> Result<(), CliError> {
        let mut rendered = Rendered::new(self.format, self.rules.len());
        rendered.push(rule, finding)?;
        self.append(rendered)
    }

    /// Adds findings rendered elsewhere (e.g. on the thread that judged
    /// them), after those added before.
    pub fn append(&mut self, rendered: Rendered) -> Result<(), CliError> {
        if rendered.format != self.format || rendered.rules.len() != self.rules.len() {
            return Err(CliError::Write(std::io::Error::other(
                "findings rendered for another report",
            )));
        }
        for (spill, chunk) in self.rules.iter_mut().zip(rendered.rules) {
            if chunk.counts.total() == 0 {
                continue;
            }
            if self.format == Format::Json && spill.counts.total() > 0 {
                spill.file.write_all(b",\n").map_err(CliError::Write)?;
            }
            spill.file.write_all(&chunk.text).map_err(CliError::Write)?;
            let (into, from) = (&mut spill.counts, chunk.counts);
            into.compliant += from.compliant;
            into.non_compliant += from.non_compliant;
            into.not_applicable += from.not_applicable;
        }
        Ok(())
    }

    /// Whether any finding is NON_COMPLIANT.
    pub fn any_non_compliant(&self) -> bool {
        self.rules.iter().any(|r| r.counts.non_compliant > 0)
    }

    /// Writes the whole report: the findings in rule order, then (JSON)
    /// the key inventory.
    pub fn write(self, inventory: Option<&Inventory>, out: &mut dyn Write) -> Result<(), CliError> {
        let io = CliError::Write;
        let mut files = Vec::with_capacity(self.rules.len());
        for rule in self.rules {
            let mut file = rule.file.into_inner().map_err(|e| io(e.into_error()))?;
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            files.push((file, rule.counts.total()));
        }
        if self.format == Format::Csv {
            {
                let mut w = csv::Writer::from_writer(&mut *out);
                w.write_record(CSV_HEADER).map_err(csv_error)?;
                w.flush().map_err(io)?;
            }
            for (mut file, _) in files {
                std::io::copy(&mut file, out).map_err(io)?;
            }
            return out.flush().map_err(io);
        }
        out.write_all(b"{\n  \"findings\": [").map_err(io)?;
        let mut first = true;
        for (mut file, n) in files {
            if n == 0 {
                continue;
            }
            out.write_all(if first { b"\n" } else { b",\n" }).map_err(io)?;
            first = false;
            std::io::copy(&mut file, out).map_err(io)?;
        }
        out.write_all(if first { b"]" } else { b"\n  ]" }).map_err(io)?;
        if let Some(inventory) = inventory {
            let text = json_pretty(inventory)?;
            write!(out, ",\n  \"keyInventory\": {}", text.replace('\n', "\n  ")).map_err(io)?;
        }
        out.write_all(b"\n}\n").map_err(io)
    }
}

/// Findings rendered as a [`Spill`] of the same format and rules writes
/// them, but in memory: what one batch of items found, rendered by the
/// worker that judged it, for the spill to append as it is.
pub struct Rendered {
    format: Format,
    rules: Vec<Chunk>,
    /// One finding's pretty JSON, before it is indented into its chunk.
    scratch: Vec<u8>,
}

#[derive(Default)]
struct Chunk {
    text: Vec<u8>,
    counts: Counts,
}

impl Rendered {
    pub fn new(format: Format, rules: usize) -> Self {
        Rendered {
            format,
            rules: (0..rules).map(|_| Chunk::default()).collect(),
            scratch: Vec::new(),
        }
    }

    /// Renders one finding of rule `rule` (its index among the selected rules).
    pub fn push(&mut self, rule: usize, finding: &Finding) -> Result<(), CliError> {
        let Some(chunk) = self.rules.get_mut(rule) else {
            return Err(CliError::Write(std::io::Error::other(format!(
                "no rule #{rule} in this run"
            ))));
        };
        if self.format == Format::Csv {
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(&mut chunk.text);
            w.write_record(csv_record(finding)).map_err(csv_error)?;
            w.flush().map_err(CliError::Write)?;
        } else {
            if chunk.counts.total() > 0 {
                chunk.text.extend_from_slice(b",\n");
            }
            self.scratch.clear();
            serde_json::to_writer_pretty(&mut self.scratch, finding).map_err(|e| CliError::Write(e.into()))?;
            // Indented two levels: inside the report's `findings` list.
            for (i, line) in self.scratch.split(|b| *b == b'\n').enumerate() {
                if i > 0 {
                    chunk.text.push(b'\n');
                }
                chunk.text.extend_from_slice(b"    ");
                chunk.text.extend_from_slice(line);
            }
        }
        chunk.counts.add(finding.compliance);
        Ok(())
    }
}

fn csv_error(e: csv::Error) -> CliError {
    CliError::Write(std::io::Error::other(e))
}

#[cfg(test)]
mod tests {
    use atrest_common::Compliance;

    use super::*;
    use crate::output::render;
    use crate::report::Report;

    fn finding(rule: &'static str, id: &str, compliance: Compliance, annotation: Option<&str>) -> Finding {
        Finding {
            rule,
            resource_type: "AWS::EC2::Volume".into(),
            resource_id: id.into(),
            compliance,
            annotation: annotation.map(str::to_owned),
            ordering_timestamp: "2026-12-01T00:00:00Z".into(),
            account_id: Some("111122223333".into()),
            region: (id != "vol-3").then(|| "eu-west-1".into()),
            recorded_at: None,
        }
    }

    /// The spilled report, and the one rendered from memory.
    fn both(per_rule: &[Vec<Finding>], format: Format, inventory: Option<&Inventory>) -> (String, String) {
        let mut spill = Spill::new(format, per_rule.len()).unwrap().unwrap();
        for (r, findings) in per_rule.iter().enumerate() {
            for f in findings {
                spill.push(r, f).unwrap();
            }
        }
        let mut spilled = Vec::new();
        spill.write(inventory, &mut spilled).unwrap();
        let all: Vec<Finding> = per_rule.iter().flatten().cloned().collect();
        let mut report = Report::new(&all, Vec::new(), "test".into());
        report.inventory = inventory;
        let mut held = Vec::new();
        render(&report, format, &mut held).unwrap();
        (String::from_utf8(spilled).unwrap(), String::from_utf8(held).unwrap())
    }

    #[test]
    fn spilled_json_and_csv_are_byte_for_byte_the_reports_written_from_memory() {
        let per_rule = vec![
            vec![
                finding("a", "vol-1", Compliance::Compliant, Some("ok, \"quoted\"\nline")),
                finding("a", "vol-2", Compliance::NonCompliant, None),
            ],
            Vec::new(),
            vec![finding("c", "vol-3", Compliance::NotApplicable, Some("gone"))],
        ];
        let mut inventory = Inventory::default();
        inventory.resource_types.push("AWS::EC2::Volume".into());
        inventory.keys.push(crate::inventory::KeyEntry {
            key: "arn:aws:kms:eu-west-1:111122223333:key/k-1".into(),
            key_id: Some("k-1".into()),
            account_id: Some("111122223333".into()),
            region: Some("eu-west-1".into()),
            manager: Some("CUSTOMER"),
            state: "Enabled".into(),
            deletion_date: None,
            rotation: "ENABLED",
            rotation_period_days: Some(365),
            note: None,
            protects: [(
                "AWS::EC2::Volume".to_owned(),
                vec!["vol-1".to_owned(), "vol-2".to_owned()],
            )]
            .into(),
            protected_resources: 3,
            unlisted: 1,
            unused: false,
            finding: None,
        });
        for format in [Format::Json, Format::Csv] {
            for inv in [None, Some(&inventory)] {
                let (spilled, held) = both(&per_rule, format, inv);
                assert_eq!(spilled, held, "{format:?}, inventory {}", inv.is_some());
            }
            let (spilled, held) = both(&[Vec::new(), Vec::new()], format, Some(&inventory));
            assert_eq!(spilled, held, "{format:?}, no findings");
        }
    }

    #[test]
    fn a_spill_counts_non_compliance_and_is_only_for_formats_written_a_finding_at_a_time() {
        let mut spill = Spill::new(Format::Json, 1).unwrap().unwrap();
        spill
            .push(0, &finding("a", "vol-1", Compliance::Compliant, None))
            .unwrap();
        assert!(!spill.any_non_compliant());
        spill
            .push(0, &finding("a", "vol-2", Compliance::NonCompliant, None))
            .unwrap();
        assert!(spill.any_non_compliant());
        assert!(spill
            .push(1, &finding("a", "vol-3", Compliance::Compliant, None))
            .is_err());
        for format in [Format::Table, Format::Html, Format::Junit, Format::Sarif] {
            assert!(Spill::new(format, 1).unwrap().is_none(), "{format:?}");
        }
    }

    #[test]
    fn findings_rendered_in_batches_elsewhere_make_the_same_report() {
        let per_rule = vec![
            vec![
                finding("a", "vol-1", Compliance::Compliant, Some("ok, \"quoted\"\nline")),
                finding("a", "vol-2", Compliance::NonCompliant, None),
                finding("a", "vol-4", Compliance::NonCompliant, Some("x")),
            ],
            Vec::new(),
            vec![finding("c", "vol-3", Compliance::NotApplicable, Some("gone"))],
        ];
        for format in [Format::Json, Format::Csv] {
            let (_, held) = both(&per_rule, format, None);
            // Three batches: the first finding of each rule, an empty one, the rest.
            let mut spill = Spill::new(format, per_rule.len()).unwrap().unwrap();
            let mut batches = [
                Rendered::new(format, per_rule.len()),
                Rendered::new(format, per_rule.len()),
                Rendered::new(format, per_rule.len()),
            ];
            for (r, findings) in per_rule.iter().enumerate() {
                for (i, f) in findings.iter().enumerate() {
                    batches[if i == 0 { 0 } else { 2 }].push(r, f).unwrap();
                }
            }
            for batch in batches {
                spill.append(batch).unwrap();
            }
            assert!(spill.any_non_compliant());
            let mut spilled = Vec::new();
            spill.write(None, &mut spilled).unwrap();
            assert_eq!(String::from_utf8(spilled).unwrap(), held, "{format:?}");
            // A batch rendered for another report is refused.
            let mut spill = Spill::new(format, 1).unwrap().unwrap();
            assert!(spill.append(Rendered::new(format, 2)).is_err());
        }
    }
}
