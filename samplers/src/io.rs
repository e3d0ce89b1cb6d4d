//! Saving and loading draws: Stan's CSV layout (one file per chain) and a JSON document.
//!
//! # CSV
//!
//! [`Posterior::to_csv`] writes `{prefix}_{chain + 1}.csv` per chain in CmdStan's layout,
//! which ArviZ's `from_cmdstan`, CmdStanPy and R's `posterior` read:
//!
//! ```text
//! # tilde_version = 0.1.0
//! # id = 1
//! lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,mu,theta.1,theta.2
//! # Adaptation terminated
//! # Step size = 0.7071
//! # Diagonal elements of inverse mass matrix:
//! # 1.5, 0.25, 0.3
//! -4.2,0.93,0.7071,2,3,0,5.1,0.12,1.5,-0.4
//! ```
//!
//! Column names follow Stan: tilde's 0-based `theta[2]` is Stan's 1-based `theta.3`, and
//! `z[0,1]` is `z.1.2`. A dense metric is written as CmdStan writes it, after
//! `# Elements of inverse mass matrix:`, one `# ` line per row. Numbers are written in
//! Rust's shortest round-trip form (`{:?}`), so they read back bit for bit; non-finite
//! values are `NaN`, `inf` and `-inf`, which NumPy and R parse.
//!
//! [`CsvWriter`] writes the same file a draw at a time and flushes each row, so a run
//! that stops early keeps every draw already written. Records are written and parsed
//! with the `csv` crate; the `#` comment lines around them are read line by line.
//!
//! # JSON
//!
//! [`Posterior::to_json`] writes one object (with `serde_json`, on one line; spaced out
//! here):
//!
//! ```text
//! {"format": "tilde-posterior", "version": 1, "names": ["mu", "theta[0]"],
//!  "chains": [{"step_size": 0.7, "inverse_mass_matrix": {"diagonal": [1.5, 0.25]},
//!              "values": [[0.12, 1.5], ...],
//!              "stats": {"log_density": [...], "acceptance_rate": [...], "step_size": [...],
//!                        "tree_depth": [...], "num_integration_steps": [...],
//!                        "is_divergent": [...], "energy": [...]}}]}
//! ```
//!
//! A dense metric is `{"dense": [row-major entries], "dim": n}`. JSON has no NaN or
//! infinity, so those are written as the strings `"NaN"`, `"inf"` and `"-inf"`.
//!
//! # What is stored
//!
//! Both formats store the names, every draw, every per-draw statistic, each chain's
//! final step size and inverse mass matrix, and its warm-up gradient count (a
//! `# warmup_gradients = N` comment in CSV): a posterior reads back identical.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tilde_core::{Error, Result};

use crate::hmc::HmcParams;
use crate::metric::Metric;
use crate::posterior::{ChainDraws, Posterior, SampleStats, WarmupDraws};

/// The sampler-statistic columns of Stan's CSV, in Stan's order.
const STAT_COLUMNS: [&str; 7] = [
    "lp__",
    "accept_stat__",
    "stepsize__",
    "treedepth__",
    "n_leapfrog__",
    "divergent__",
    "energy__",
];

const DIAGONAL_METRIC_LINE: &str = "Diagonal elements of inverse mass matrix:";
const DENSE_METRIC_LINE: &str = "Elements of inverse mass matrix:";
const STEP_SIZE_KEY: &str = "Step size =";
const ADAPTATION_LINE: &str = "Adaptation terminated";
const WARMUP_GRADIENTS_KEY: &str = "warmup_gradients =";
/// CmdStan's name of NUTS's maximum tree depth in its configuration comments.
const MAX_DEPTH_KEY: &str = "max_depth =";

/// Writes one chain's draws to a CSV file in Stan's layout, a draw at a time.
///
/// Each [`write_draw`](CsvWriter::write_draw) flushes its row to the file, so when a run
/// stops with an error the draws written so far are on disk and
/// [`Posterior::from_csv`] reads them.
///
/// # Example
/// ```
/// use tilde_samplers::{CsvWriter, HmcParams, Metric, Posterior, SampleStats};
/// let dir = std::env::temp_dir().join(format!("tilde-csv-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("run_1.csv");
/// let params = HmcParams { step_size: 0.5, inverse_mass_matrix: Metric::unit(1) };
/// let mut writer = CsvWriter::create(&path, &["theta[0]".to_string()], 0, &params).unwrap();
/// let stats = SampleStats {
///     log_density: -1.0, acceptance_rate: 0.9, step_size: 0.5, tree_depth: 2,
///     num_integration_steps: 3, is_divergent: false, energy: 1.5, kernel_stat: f64::NAN,
/// };
/// writer.write_draw(&[0.25], &stats).unwrap();
/// let posterior = Posterior::from_csv(&[&path]).unwrap();
/// assert_eq!(posterior.draws("theta[0]").unwrap(), vec![0.25]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug)]
pub struct CsvWriter {
    out: BufWriter<File>,
    path: PathBuf,
    num_columns: usize,
    /// The file has a column for [`SampleStats::kernel_stat`] after `energy__`.
    kernel_stat: bool,
    row: Vec<String>,
}

impl CsvWriter {
    /// Creates (or truncates) `path` and writes the comments, the header, the step size
    /// and the inverse mass matrix of chain `chain` (0-based; the file says `id = chain + 1`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when a name has no Stan column name that reads back as
    /// itself (`x.1`, or `z[0, 1]` with a space); [`Error::Io`] when the file cannot be created or written.
    pub fn create(
        path: impl AsRef<Path>,
        names: &[String],
        chain: usize,
        params: &HmcParams,
    ) -> Result<Self> {
        let mut writer = CsvWriter::create_for_warmup(path, names, chain)?;
        writer.write_adaptation(params)?;
        Ok(writer)
    }

    /// Creates (or truncates) `path` and writes the comments and the header only, for
    /// CmdStan's `save_warmup` layout: the warm-up draws follow
    /// ([`write_draw`](Self::write_draw)), then
    /// [`write_adaptation`](Self::write_adaptation), then the draws.
    ///
    /// # Errors
    /// As [`create`](Self::create).
    pub fn create_for_warmup(
        path: impl AsRef<Path>,
        names: &[String],
        chain: usize,
    ) -> Result<Self> {
        CsvWriter::create_with_kernel_stat(path, names, chain, None)
    }

    /// As [`create_for_warmup`](Self::create_for_warmup), with a column `kernel_stat`
    /// (a name ending in `__`) after `energy__` for each draw's
    /// [`SampleStats::kernel_stat`] when it is given.
    pub(crate) fn create_with_kernel_stat(
        path: impl AsRef<Path>,
        names: &[String],
        chain: usize,
        kernel_stat: Option<&str>,
    ) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut header: Vec<String> = STAT_COLUMNS.iter().map(|s| s.to_string()).collect();
        header.extend(kernel_stat.map(String::from));
        for name in names {
            header.push(checked_stan_name(name)?);
        }
        let mut head = String::new();
        let _ = writeln!(head, "# tilde_version = {}", env!("CARGO_PKG_VERSION"));
        let _ = writeln!(head, "# id = {}", chain.saturating_add(1));
        let file = File::create(&path).map_err(|e| io_error("cannot create", &path, &e))?;
        let mut writer = CsvWriter {
            out: BufWriter::new(file),
            path,
            num_columns: names.len(),
            kernel_stat: kernel_stat.is_some(),
            row: Vec::with_capacity(STAT_COLUMNS.len() + 1 + names.len()),
        };
        writer.write_comment(&head)?;
        writer.write_record(&header)?;
        Ok(writer)
    }

    /// Writes `# Adaptation terminated`, the step size and the inverse mass matrix:
    /// the rows before are warm-up draws, the rows after the draws.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn write_adaptation(&mut self, params: &HmcParams) -> Result<()> {
        let mut tail = String::new();
        let _ = writeln!(tail, "# {ADAPTATION_LINE}");
        let _ = writeln!(tail, "# {STEP_SIZE_KEY} {:?}", params.step_size);
        match &params.inverse_mass_matrix {
            Metric::Diagonal(diagonal) => {
                let _ = writeln!(tail, "# {DIAGONAL_METRIC_LINE}");
                let _ = writeln!(tail, "# {}", join_numbers(diagonal, ", "));
            }
            // a block-diagonal metric is written whole, as CmdStan writes a dense one
            metric @ (Metric::Dense(_) | Metric::Block(_) | Metric::LowRank(_)) => {
                let _ = writeln!(tail, "# {DENSE_METRIC_LINE}");
                let dim = metric.dim();
                if dim == 0 {
                    let _ = writeln!(tail, "# ");
                }
                for row in metric.to_dense_matrix().chunks(dim.max(1)) {
                    let _ = writeln!(tail, "# {}", join_numbers(row, ", "));
                }
            }
        }
        self.write_comment(&tail)
    }

    /// Appends one draw and flushes it to the file.
    ///
    /// # Panics
    /// When `values` does not have one value per name given to [`CsvWriter::create`].
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn write_draw(&mut self, values: &[f64], stats: &SampleStats) -> Result<()> {
        assert_eq!(
            values.len(),
            self.num_columns,
            "a draw needs one value per column name"
        );
        let mut row = std::mem::take(&mut self.row);
        row.clear();
        row.extend([
            number(stats.log_density),
            number(stats.acceptance_rate),
            number(stats.step_size),
            stats.tree_depth.to_string(),
            stats.num_integration_steps.to_string(),
            u8::from(stats.is_divergent).to_string(),
            number(stats.energy),
        ]);
        if self.kernel_stat {
            row.push(number(stats.kernel_stat));
        }
        row.extend(values.iter().map(|v| number(*v)));
        let result = self.write_record(&row);
        self.row = row;
        result
    }

    /// Appends draws stored row-major (one row of `num_columns` values per entry of
    /// `stats`).
    pub(crate) fn write_rows(&mut self, values: &[f64], stats: &[SampleStats]) -> Result<()> {
        let width = self.num_columns;
        if width == 0 {
            return stats.iter().try_for_each(|s| self.write_draw(&[], s));
        }
        for (row, stats) in values.chunks(width).zip(stats) {
            self.write_draw(row, stats)?;
        }
        Ok(())
    }

    /// Writes one CSV record with the `csv` crate and flushes it to the file.
    fn write_record(&mut self, record: &[String]) -> Result<()> {
        let mut csv = csv::WriterBuilder::new()
            .buffer_capacity(1024)
            .from_writer(&mut self.out);
        let written = csv.write_record(record).and_then(|()| {
            csv.flush()?;
            Ok(())
        });
        drop(csv);
        written
            .map_err(|e| csv_error("cannot write", &self.path, &e))
            .and_then(|()| {
                self.out
                    .flush()
                    .map_err(|e| io_error("cannot write", &self.path, &e))
            })
    }

    /// Records the gradient evaluations the chain spent in warm-up (a comment line, so
    /// Stan readers ignore it); call it before the first draw.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn write_warmup_gradients(&mut self, count: usize) -> Result<()> {
        self.write_comment(&format!("# {WARMUP_GRADIENTS_KEY} {count}\n"))
    }

    /// Records the kernel's maximum tree depth (CmdStan's `max_depth = 10` comment), which
    /// [`Posterior::from_csv`] reads back for its tree-depth report.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn write_max_tree_depth(&mut self, depth: usize) -> Result<()> {
        self.write_comment(&format!("# {MAX_DEPTH_KEY} {depth}\n"))
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes comment lines, which CSV has no record for.
    fn write_comment(&mut self, text: &str) -> Result<()> {
        self.out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
            .map_err(|e| io_error("cannot write", &self.path, &e))
    }
}

impl Posterior {
    /// Writes one CSV file per chain, `{prefix}_{chain + 1}.csv` in `dir`, in Stan's
    /// layout (see [`CsvWriter`]); returns the paths in chain order. `dir` must exist.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when a name has no Stan form that reads back as itself;
    /// [`Error::Io`] when a file cannot be created or written.
    pub fn to_csv(&self, dir: impl AsRef<Path>, prefix: &str) -> Result<Vec<PathBuf>> {
        let params = self.adapted();
        let mut paths = Vec::with_capacity(self.chains.len());
        for (chain, (draws, params)) in self.chains.iter().zip(&params).enumerate() {
            let path = dir.as_ref().join(format!("{prefix}_{}.csv", chain + 1));
            let mut writer = CsvWriter::create_with_kernel_stat(
                &path,
                self.names(),
                chain,
                self.kernel_stat_name(),
            )?;
            if let Some(depth) = self.max_tree_depth {
                writer.write_max_tree_depth(depth)?;
            }
            writer.write_rows(&draws.warmup.values, &draws.warmup.stats)?;
            writer.write_adaptation(params)?;
            writer.write_warmup_gradients(draws.warmup_gradients)?;
            writer.write_rows(&draws.values, &draws.stats)?;
            paths.push(path);
        }
        Ok(paths)
    }

    /// Reads the CSV files [`Posterior::to_csv`] or [`CsvWriter`] wrote, one per chain in
    /// the order given, restoring tilde's names (`theta.3` becomes `theta[2]`).
    ///
    /// Files of a run that stopped are read as far as they are whole: a last line
    /// without its newline (torn while being written) is dropped, never read as a
    /// draw, and when the chains hold different numbers of draws every chain is cut to
    /// the shortest; both are reported on standard error. The rows before
    /// `# Adaptation terminated` (CmdStan's `save_warmup`, tilde's
    /// [`collect_warmup`](crate::Mcmc::collect_warmup)) are read as warm-up draws
    /// ([`Posterior::warmup_draws`]), apart from the draws.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file and line when a file cannot be read, lacks the step
    /// size or inverse mass matrix, has a malformed row, or names columns differently
    /// from the first file; [`Error::InvalidConfig`] when `paths` is empty.
    pub fn from_csv(paths: &[impl AsRef<Path>]) -> Result<Posterior> {
        if paths.is_empty() {
            return Err(Error::InvalidConfig(
                "from_csv needs at least one file, got none".into(),
            ));
        }
        let mut columns: Option<CsvColumns> = None;
        let mut max_tree_depth = None;
        let mut chains = Vec::with_capacity(paths.len());
        for path in paths {
            let path = path.as_ref();
            let (file_columns, chain, depth) = read_csv(path)?;
            max_tree_depth = max_tree_depth.or(depth);
            match &columns {
                None => columns = Some(file_columns),
                Some(first) if *first != file_columns => {
                    return Err(Error::Io(format!(
                        "`{}` has columns {:?} (kernel statistic {:?}), the first file has \
                         {:?} ({:?})",
                        path.display(),
                        file_columns.names,
                        file_columns.kernel_stat,
                        first.names,
                        first.kernel_stat
                    )));
                }
                Some(_) => {}
            }
            chains.push(chain);
        }
        let CsvColumns { names, kernel_stat } = columns.unwrap_or(CsvColumns {
            names: Vec::new(),
            kernel_stat: None,
        });
        truncate_to_common_length(&mut chains, names.len(), "from_csv");
        let mut posterior = Posterior::new(names, chains).with_kernel_stat(kernel_stat);
        posterior.max_tree_depth = max_tree_depth;
        Ok(posterior)
    }

    /// The whole posterior as one JSON document, which [`Posterior::from_json`] reads back:
    ///
    /// ```text
    /// {"format": "tilde-posterior", "version": 1, "names": ["mu", "theta[0]"],
    ///  "chains": [{"step_size": 0.7, "inverse_mass_matrix": {"diagonal": [1.5, 0.25]},
    ///              "values": [[0.12, 1.5], ...],
    ///              "stats": {"log_density": [...], "acceptance_rate": [...],
    ///                        "step_size": [...], "tree_depth": [...],
    ///                        "num_integration_steps": [...], "is_divergent": [...],
    ///                        "energy": [...]}}]}
    /// ```
    ///
    /// A dense metric is `{"dense": [row-major entries], "dim": n}`. Numbers are in the
    /// shortest form that reads back bit for bit; JSON has no NaN or infinity, so those
    /// are the strings `"NaN"`, `"inf"` and `"-inf"`. Each chain also stores its
    /// warm-up gradient count. A kernel with its own statistic
    /// ([`Posterior::kernel_stat_name`]) adds `"kernel_stat": "swap_accept__"` to the
    /// document and a `"kernel_stat"` array to each chain's `stats`.
    pub fn to_json(&self) -> String {
        let width = self.names().len().max(1);
        let doc = JsonPosterior {
            format: FORMAT.to_string(),
            version: VERSION,
            names: self.names().to_vec(),
            kernel_stat: self.kernel_stat.clone(),
            chains: self
                .chains
                .iter()
                .map(|c| JsonChain {
                    step_size: Real(c.params.step_size),
                    warmup_gradients: c.warmup_gradients,
                    inverse_mass_matrix: match &c.params.inverse_mass_matrix {
                        Metric::Diagonal(d) => JsonMetric::Diagonal { diagonal: reals(d) },
                        metric @ (Metric::Dense(_) | Metric::Block(_) | Metric::LowRank(_)) => {
                            JsonMetric::Dense {
                                dense: reals(&metric.to_dense_matrix()),
                                dim: metric.dim(),
                            }
                        }
                    },
                    values: json_values(&c.values, c.stats.len(), width, self.names().is_empty()),
                    stats: JsonStats::new(&c.stats),
                    warmup: (!c.warmup.stats.is_empty()).then(|| JsonWarmup {
                        values: json_values(
                            &c.warmup.values,
                            c.warmup.stats.len(),
                            width,
                            self.names().is_empty(),
                        ),
                        stats: JsonStats::new(&c.warmup.stats),
                    }),
                })
                .collect(),
            max_tree_depth: self.max_tree_depth,
        };
        // plain data (strings, numbers, arrays) always serialises
        let mut out = serde_json::to_string(&doc).unwrap_or_default();
        out.push('\n');
        out
    }

    /// Reads a document written by [`Posterior::to_json`]. Chains of different lengths
    /// are cut to the shortest, with a warning on standard error.
    ///
    /// # Errors
    /// [`Error::Io`] when the text is not JSON or lacks a field `to_json` writes, or when
    /// the arrays have inconsistent lengths; [`Error::InvalidConfig`] when an inverse
    /// mass matrix is not usable (a dense one not positive-definite).
    pub fn from_json(text: &str) -> Result<Posterior> {
        let header: JsonHeader = serde_json::from_str(text).map_err(json_error)?;
        if header.format != FORMAT {
            return Err(Error::Io(format!(
                "posterior JSON: `format` is {:?}, not \"{FORMAT}\"",
                header.format
            )));
        }
        if header.version != VERSION {
            return Err(Error::Io(format!(
                "posterior JSON: unsupported `version` {} (this tilde reads {VERSION})",
                header.version
            )));
        }
        let doc: JsonPosterior = serde_json::from_str(text).map_err(json_error)?;
        let width = doc.names.len();
        let mut chains = doc
            .chains
            .into_iter()
            .enumerate()
            .map(|(index, chain)| chain.into_draws(index, width))
            .collect::<Result<Vec<_>>>()?;
        truncate_to_common_length(&mut chains, width, "from_json");
        let mut posterior = Posterior::new(doc.names, chains).with_kernel_stat(doc.kernel_stat);
        posterior.max_tree_depth = doc.max_tree_depth;
        Ok(posterior)
    }
}

/// Stan's CSV column name of a tilde name: `theta[2]` → `theta.3`, `z[0,1]` → `z.1.2`;
/// a name without a trailing index is unchanged.
pub(crate) fn stan_name(name: &str) -> String {
    if let Some(open) = name.find('[')
        && name.ends_with(']')
    {
        let indices: Option<Vec<usize>> = name[open + 1..name.len() - 1]
            .split(',')
            .map(|i| i.trim().parse::<usize>().ok()?.checked_add(1))
            .collect();
        if let Some(indices) = indices {
            let mut out = name[..open].to_string();
            for i in indices {
                let _ = write!(out, ".{i}");
            }
            return out;
        }
    }
    name.to_string()
}

/// tilde's name of a Stan CSV column: `theta.3` → `theta[2]`, `z.1.2` → `z[0,1]`.
fn tilde_name(column: &str) -> String {
    let parts: Vec<&str> = column.split('.').collect();
    let first_index = parts
        .iter()
        .rposition(|p| p.parse::<usize>().map_or(true, |i| i == 0))
        .map_or(0, |last_bad| last_bad + 1);
    if first_index == 0 || first_index == parts.len() {
        return column.to_string();
    }
    let indices: Vec<String> = parts[first_index..]
        .iter()
        .map(|p| {
            p.parse::<usize>()
                .map_or_else(|_| p.to_string(), |i| (i - 1).to_string())
        })
        .collect();
    format!("{}[{}]", parts[..first_index].join("."), indices.join(","))
}

fn checked_stan_name(name: &str) -> Result<String> {
    let stan = stan_name(name);
    if stan.ends_with("__") {
        return Err(Error::InvalidConfig(format!(
            "column name `{name}` ends in `__`, which Stan's CSV reserves for sampler \
             statistics; rename the site"
        )));
    }
    if tilde_name(&stan) != name || stan.contains([',', '\n', '\r', '"']) {
        return Err(Error::InvalidConfig(format!(
            "column name `{name}` has no Stan CSV name that reads back as itself \
             (Stan's form would be `{stan}`); rename the site"
        )));
    }
    Ok(stan)
}

/// Cuts every chain to the shortest one's number of draws, as a run that stopped leaves
/// chains of different lengths and every consumer of a [`Posterior`] expects equal ones;
/// says so on standard error.
fn truncate_to_common_length(chains: &mut [ChainDraws], width: usize, reader: &str) {
    let lengths: Vec<usize> = chains.iter().map(|c| c.stats.len()).collect();
    let Some(&common) = lengths.iter().min() else {
        return;
    };
    if lengths.iter().all(|&n| n == common) {
        return;
    }
    eprintln!(
        "warning: {reader}: the chains hold {lengths:?} draws (a run that stopped?); \
         every chain is cut to the common {common}"
    );
    for chain in chains {
        chain.stats.truncate(common);
        chain.values.truncate(common * width);
    }
}

fn io_error(what: &str, path: &Path, error: &std::io::Error) -> Error {
    Error::Io(format!("{what} `{}`: {error}", path.display()))
}

fn csv_error(what: &str, path: &Path, error: &csv::Error) -> Error {
    Error::Io(format!("{what} `{}`: {error}", path.display()))
}

/// Shortest round-trip form; `NaN`, `inf`, `-inf` for the non-finite.
fn number(v: f64) -> String {
    format!("{v:?}")
}

fn join_numbers(values: &[f64], separator: &str) -> String {
    values
        .iter()
        .map(|v| number(*v))
        .collect::<Vec<_>>()
        .join(separator)
}

/// What [`read_csv`] has read of a file so far.
struct CsvChain<'p> {
    path: &'p Path,
    names: Option<Vec<String>>,
    /// The kernel's statistic column after `energy__`, if the header has one.
    kernel_stat: Option<String>,
    values: Vec<f64>,
    stats: Vec<SampleStats>,
}

impl CsvChain<'_> {
    fn fail(&self, line: usize, what: impl std::fmt::Display) -> Error {
        Error::Io(format!("`{}` line {line}: {what}", self.path.display()))
    }

    /// Parses a run of consecutive data lines (the header or draws) that starts at
    /// line `first_line`, with the `csv` crate.
    fn rows(&mut self, block: &str, first_line: usize) -> Result<()> {
        if block.is_empty() {
            return Ok(());
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(block.as_bytes());
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line() as usize);
                self.fail(first_line + line.saturating_sub(1), e)
            })?;
            let line = first_line
                + record
                    .position()
                    .map_or(0, |p| p.line() as usize)
                    .saturating_sub(1);
            if record.len() == 1 && record[0].trim().is_empty() {
                continue;
            }
            self.row(&record, line)?;
        }
        Ok(())
    }

    fn row(&mut self, fields: &csv::StringRecord, line: usize) -> Result<()> {
        let Some(names) = &self.names else {
            let stats: Vec<&str> = fields.iter().take(STAT_COLUMNS.len()).collect();
            if stats != STAT_COLUMNS {
                return Err(self.fail(
                    line,
                    format!("the header must start with {}", STAT_COLUMNS.join(",")),
                ));
            }
            // sampler statistics end in `__`, which no draw's column does
            self.kernel_stat = fields
                .get(STAT_COLUMNS.len())
                .filter(|name| name.ends_with("__"))
                .map(String::from);
            let first = STAT_COLUMNS.len() + usize::from(self.kernel_stat.is_some());
            self.names = Some(fields.iter().skip(first).map(tilde_name).collect());
            return Ok(());
        };
        let first = STAT_COLUMNS.len() + usize::from(self.kernel_stat.is_some());
        let expected = first + names.len();
        if fields.len() != expected {
            return Err(self.fail(
                line,
                format!("expected {expected} fields, got {}", fields.len()),
            ));
        }
        let real = |i: usize| parse_f64(&fields[i]).map_err(|e| self.fail(line, e));
        let count = |i: usize| {
            fields[i]
                .trim()
                .parse::<usize>()
                .map_err(|_| self.fail(line, format!("`{}` is not a count", &fields[i])))
        };
        let stats = SampleStats {
            log_density: real(0)?,
            acceptance_rate: real(1)?,
            step_size: real(2)?,
            tree_depth: count(3)?,
            num_integration_steps: count(4)?,
            is_divergent: match fields[5].trim() {
                "0" => false,
                "1" => true,
                other => return Err(self.fail(line, format!("`{other}` is not 0 or 1"))),
            },
            energy: real(6)?,
            kernel_stat: if self.kernel_stat.is_some() {
                real(STAT_COLUMNS.len())?
            } else {
                f64::NAN
            },
        };
        let values = (first..fields.len())
            .map(real)
            .collect::<Result<Vec<_>>>()?;
        self.stats.push(stats);
        self.values.extend(values);
        Ok(())
    }
}

/// Reads one chain's CSV file: its tilde names and draws.
///
/// Comment lines (`#`) carry the step size, the inverse mass matrix and the warm-up
/// gradient count; the runs of data lines between them are parsed with the `csv`
/// crate. A last line without its newline was torn by a writer that stopped: it is
/// dropped (with a warning on standard error), never read as a draw. Rows before a
/// `# Adaptation terminated` line are saved warm-up draws (CmdStan's `save_warmup`,
/// tilde's `collect_warmup`) and are read as warm-up draws.
/// One file's columns, draws and maximum tree depth (when it says one).
fn read_csv(path: &Path) -> Result<(CsvColumns, ChainDraws, Option<usize>)> {
    let bytes = std::fs::read(path).map_err(|e| io_error("cannot read", path, &e))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut chain = CsvChain {
        path,
        names: None,
        kernel_stat: None,
        values: Vec::new(),
        stats: Vec::new(),
    };
    let mut step_size: Option<f64> = None;
    let mut warmup_gradients = 0;
    let mut max_tree_depth = None;
    let mut warmup = WarmupDraws::default();
    let mut metric: Option<Metric> = None;
    // Some(rows so far) while reading the rows of a dense metric.
    let mut dense_rows: Option<Vec<Vec<f64>>> = None;
    let mut expect_diagonal = false;
    // the data lines since the last comment, and the line the run starts at
    let mut block = String::new();
    let mut block_start = 1;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let number = index + 1;
        if !line.ends_with('\n') {
            if !line.trim().is_empty() {
                eprintln!(
                    "warning: `{}` line {number} is torn (no newline at the end of the file) \
                     and was not read",
                    path.display()
                );
            }
            break;
        }
        let Some(comment) = line.trim_start().strip_prefix('#') else {
            if block.is_empty() {
                block_start = number;
            }
            block.push_str(line);
            continue;
        };
        chain.rows(&block, block_start)?;
        block.clear();
        let comment = comment.trim();
        if comment == ADAPTATION_LINE {
            // CmdStan's `save_warmup` writes the warm-up draws before this line
            warmup.values.append(&mut chain.values);
            warmup.stats.append(&mut chain.stats);
        } else if expect_diagonal {
            expect_diagonal = false;
            let diagonal = parse_list(comment).map_err(|e| chain.fail(number, e))?;
            metric = Some(Metric::Diagonal(diagonal));
        } else if let Some(rows) = &mut dense_rows {
            rows.push(parse_list(comment).map_err(|e| chain.fail(number, e))?);
            if rows[0].is_empty() || rows.len() == rows[0].len() {
                let dim = rows[0].len();
                metric = Some(Metric::dense(rows.concat(), dim)?);
                dense_rows = None;
            }
        } else if comment == DIAGONAL_METRIC_LINE {
            expect_diagonal = true;
        } else if comment == DENSE_METRIC_LINE {
            dense_rows = Some(Vec::new());
        } else if let Some(value) = comment.strip_prefix(STEP_SIZE_KEY) {
            step_size = Some(parse_f64(value).map_err(|e| chain.fail(number, e))?);
        } else if let Some(value) = comment.strip_prefix(MAX_DEPTH_KEY) {
            max_tree_depth = Some(value.trim().parse().map_err(|_| {
                chain.fail(number, format!("`{}` is not a tree depth", value.trim()))
            })?);
        } else if let Some(value) = comment.strip_prefix(WARMUP_GRADIENTS_KEY) {
            warmup_gradients = value
                .trim()
                .parse()
                .map_err(|_| chain.fail(number, format!("`{}` is not a count", value.trim())))?;
        }
    }
    chain.rows(&block, block_start)?;
    let missing = |what: &str| Error::Io(format!("`{}` has no {what}", path.display()));
    let names = chain.names.ok_or_else(|| missing("header line"))?;
    let step_size = step_size.ok_or_else(|| missing("`# Step size = …` line"))?;
    let inverse_mass_matrix = metric.ok_or_else(|| missing("complete inverse mass matrix"))?;
    let draws = ChainDraws {
        values: chain.values,
        stats: chain.stats,
        params: HmcParams {
            step_size,
            inverse_mass_matrix,
        },
        warmup_gradients,
        warmup,
    };
    let columns = CsvColumns {
        names,
        kernel_stat: chain.kernel_stat,
    };
    Ok((columns, draws, max_tree_depth))
}

/// The columns of a CSV file: the draws' tilde names and the kernel's statistic.
#[derive(Debug, PartialEq)]
struct CsvColumns {
    names: Vec<String>,
    kernel_stat: Option<String>,
}

fn parse_f64(field: &str) -> std::result::Result<f64, String> {
    field
        .trim()
        .parse()
        .map_err(|_| format!("`{field}` is not a number"))
}

fn parse_list(text: &str) -> std::result::Result<Vec<f64>, String> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',').map(parse_f64).collect()
}

// ---------------------------------------------------------------------------------------
// JSON, with serde

const FORMAT: &str = "tilde-posterior";
const VERSION: u64 = 1;

fn json_error(error: serde_json::Error) -> Error {
    Error::Io(format!("posterior JSON: {error}"))
}

/// An `f64` in JSON: a number when finite, else the string `"NaN"`, `"inf"` or `"-inf"`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Real(f64);

fn reals(values: &[f64]) -> Vec<Real> {
    values.iter().map(|v| Real(*v)).collect()
}

impl Serialize for Real {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            serializer.serialize_f64(self.0)
        } else {
            serializer.serialize_str(&number(self.0))
        }
    }
}

impl<'de> Deserialize<'de> for Real {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(RealVisitor)
    }
}

struct RealVisitor;

impl serde::de::Visitor<'_> for RealVisitor {
    type Value = Real;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a number, \"NaN\", \"inf\" or \"-inf\"")
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Real, E> {
        Ok(Real(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Real, E> {
        Ok(Real(v as f64))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Real, E> {
        Ok(Real(v as f64))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Real, E> {
        match v {
            "NaN" => Ok(Real(f64::NAN)),
            "inf" => Ok(Real(f64::INFINITY)),
            "-inf" => Ok(Real(f64::NEG_INFINITY)),
            other => Err(E::invalid_value(serde::de::Unexpected::Str(other), &self)),
        }
    }
}

/// The two fields read first, so that another format or version gets a clear error.
#[derive(Deserialize)]
struct JsonHeader {
    format: String,
    version: u64,
}

#[derive(Serialize, Deserialize)]
struct JsonPosterior {
    format: String,
    version: u64,
    names: Vec<String>,
    /// The name of the kernel's own statistic, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kernel_stat: Option<String>,
    chains: Vec<JsonChain>,
    /// The kernel's maximum tree depth (NUTS), for the saturation report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_tree_depth: Option<usize>,
}

#[derive(Serialize, Deserialize)]
struct JsonChain {
    step_size: Real,
    warmup_gradients: usize,
    inverse_mass_matrix: JsonMetric,
    values: Vec<Vec<Real>>,
    stats: JsonStats,
    /// Kept warm-up draws, when there are any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    warmup: Option<JsonWarmup>,
}

#[derive(Serialize, Deserialize)]
struct JsonWarmup {
    values: Vec<Vec<Real>>,
    stats: JsonStats,
}

/// Row-major draws as JSON rows (empty rows when there are no names).
fn json_values(values: &[f64], rows: usize, width: usize, no_names: bool) -> Vec<Vec<Real>> {
    if no_names {
        vec![Vec::new(); rows]
    } else {
        values.chunks(width).map(reals).collect()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum JsonMetric {
    Diagonal { diagonal: Vec<Real> },
    Dense { dense: Vec<Real>, dim: usize },
}

#[derive(Serialize, Deserialize)]
struct JsonStats {
    log_density: Vec<Real>,
    acceptance_rate: Vec<Real>,
    step_size: Vec<Real>,
    tree_depth: Vec<usize>,
    num_integration_steps: Vec<usize>,
    is_divergent: Vec<bool>,
    energy: Vec<Real>,
    /// The kernel's own statistic, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kernel_stat: Option<Vec<Real>>,
}

impl JsonStats {
    fn new(stats: &[SampleStats]) -> Self {
        JsonStats {
            log_density: stats.iter().map(|s| Real(s.log_density)).collect(),
            acceptance_rate: stats.iter().map(|s| Real(s.acceptance_rate)).collect(),
            step_size: stats.iter().map(|s| Real(s.step_size)).collect(),
            tree_depth: stats.iter().map(|s| s.tree_depth).collect(),
            num_integration_steps: stats.iter().map(|s| s.num_integration_steps).collect(),
            is_divergent: stats.iter().map(|s| s.is_divergent).collect(),
            energy: stats.iter().map(|s| Real(s.energy)).collect(),
            kernel_stat: stats
                .iter()
                .any(|s| !s.kernel_stat.is_nan())
                .then(|| stats.iter().map(|s| Real(s.kernel_stat)).collect()),
        }
    }

    /// The statistics of `n` draws, or `None` when an array has another length.
    fn into_stats(self, n: usize) -> Option<Vec<SampleStats>> {
        let s = self;
        if [
            s.log_density.len(),
            s.acceptance_rate.len(),
            s.step_size.len(),
            s.tree_depth.len(),
            s.num_integration_steps.len(),
            s.is_divergent.len(),
            s.energy.len(),
            s.kernel_stat.as_ref().map_or(n, Vec::len),
        ]
        .iter()
        .any(|&len| len != n)
        {
            return None;
        }
        Some(
            (0..n)
                .map(|i| SampleStats {
                    log_density: s.log_density[i].0,
                    acceptance_rate: s.acceptance_rate[i].0,
                    step_size: s.step_size[i].0,
                    tree_depth: s.tree_depth[i],
                    num_integration_steps: s.num_integration_steps[i],
                    is_divergent: s.is_divergent[i],
                    energy: s.energy[i].0,
                    kernel_stat: s.kernel_stat.as_ref().map_or(f64::NAN, |k| k[i].0),
                })
                .collect(),
        )
    }
}

/// Checks that JSON rows have `width` values each; `what` names them in the error.
fn check_rows(rows: &[Vec<Real>], width: usize, what: &str) -> std::result::Result<(), String> {
    match rows.iter().position(|row| row.len() != width) {
        Some(bad) => Err(format!(
            "{what} {bad} has {} values for {width} names",
            rows[bad].len()
        )),
        None => Ok(()),
    }
}

impl JsonChain {
    /// Chain `index` as draws of `width` names, once its lengths agree.
    fn into_draws(self, index: usize, width: usize) -> Result<ChainDraws> {
        let fail = |what: String| Error::Io(format!("posterior JSON: chain {index}: {what}"));
        let inverse_mass_matrix = match self.inverse_mass_matrix {
            JsonMetric::Diagonal { diagonal } => {
                Metric::Diagonal(diagonal.into_iter().map(|v| v.0).collect())
            }
            JsonMetric::Dense { dense, dim } => {
                Metric::dense(dense.into_iter().map(|v| v.0).collect(), dim)?
            }
        };
        let n = self.values.len();
        check_rows(&self.values, width, "draw").map_err(fail)?;
        let stats = self
            .stats
            .into_stats(n)
            .ok_or_else(|| fail(format!("the statistics do not all have its {n} draws")))?;
        let warmup = match self.warmup {
            Some(w) => {
                check_rows(&w.values, width, "warm-up draw").map_err(fail)?;
                let n = w.values.len();
                WarmupDraws {
                    stats: w.stats.into_stats(n).ok_or_else(|| {
                        fail(format!(
                            "the warm-up statistics do not all have its {n} warm-up draws"
                        ))
                    })?,
                    values: w.values.into_iter().flatten().map(|v| v.0).collect(),
                }
            }
            None => WarmupDraws::default(),
        };
        Ok(ChainDraws {
            values: self.values.into_iter().flatten().map(|v| v.0).collect(),
            stats,
            params: HmcParams {
                step_size: self.step_size.0,
                inverse_mass_matrix,
            },
            warmup_gradients: self.warmup_gradients,
            warmup,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stan_names_round_trip() {
        for (tilde, stan) in [
            ("mu", "mu"),
            ("theta[3]", "theta.4"),
            ("z[1,2]", "z.2.3"),
            ("z[0, 0]", "z.1.1"),
            ("a.b[0]", "a.b.1"),
        ] {
            assert_eq!(stan_name(tilde), stan);
        }
        for (stan, tilde) in [
            ("mu", "mu"),
            ("theta.4", "theta[3]"),
            ("z.2.3", "z[1,2]"),
            ("a.b.1", "a.b[0]"),
            ("x.0", "x.0"),
        ] {
            assert_eq!(tilde_name(stan), tilde);
        }
        assert!(checked_stan_name("x.1").is_err());
        assert!(checked_stan_name("z[0, 0]").is_err());
        assert!(checked_stan_name("z[a,b]").is_err());
        // an index with no 1-based form is kept as written (and does not overflow)
        let huge = format!("z[{}]", usize::MAX);
        assert_eq!(checked_stan_name(&huge).unwrap(), huge);
        assert_eq!(checked_stan_name("z[0,0]").unwrap(), "z.1.1");
    }

    #[test]
    fn json_reals_read_numbers_and_the_three_non_finite_strings() {
        let read: Vec<Real> =
            serde_json::from_str(r#"[-1.5e-3, "NaN", "inf", "-inf", 5e-324, -0.0]"#).unwrap();
        assert_eq!(read[0], Real(-1.5e-3));
        assert!(read[1].0.is_nan());
        assert_eq!(read[2..4], [Real(f64::INFINITY), Real(f64::NEG_INFINITY)]);
        assert_eq!(read[4], Real(5e-324));
        assert_eq!(read[5].0.to_bits(), (-0.0f64).to_bits());
        for bad in [r#"["nan"]"#, "[null]", "[true]", r#"["1.0"]"#] {
            assert!(serde_json::from_str::<Vec<Real>>(bad).is_err(), "{bad}");
        }
        assert_eq!(
            serde_json::to_string(&reals(&[0.1, f64::NAN, f64::NEG_INFINITY])).unwrap(),
            r#"[0.1,"NaN","-inf"]"#
        );
    }
}
