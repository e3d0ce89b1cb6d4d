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
//! that stops early keeps every draw already written.
//!
//! # JSON
//!
//! [`Posterior::to_json`] writes one object:
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

use tilde_core::{Error, Result};

use crate::hmc::HmcParams;
use crate::metric::Metric;
use crate::posterior::{ChainDraws, Posterior, SampleStats};

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
///     num_integration_steps: 3, is_divergent: false, energy: 1.5,
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
    row: String,
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
        let path = path.as_ref().to_path_buf();
        let mut head = String::new();
        let _ = writeln!(head, "# tilde_version = {}", env!("CARGO_PKG_VERSION"));
        let _ = writeln!(head, "# id = {}", chain + 1);
        let mut header: Vec<String> = STAT_COLUMNS.iter().map(|s| s.to_string()).collect();
        for name in names {
            header.push(checked_stan_name(name)?);
        }
        let _ = writeln!(head, "{}", header.join(","));
        let _ = writeln!(head, "# {ADAPTATION_LINE}");
        let _ = writeln!(head, "# {STEP_SIZE_KEY} {:?}", params.step_size);
        match &params.inverse_mass_matrix {
            Metric::Diagonal(diagonal) => {
                let _ = writeln!(head, "# {DIAGONAL_METRIC_LINE}");
                let _ = writeln!(head, "# {}", join_numbers(diagonal, ", "));
            }
            Metric::Dense(dense) => {
                let _ = writeln!(head, "# {DENSE_METRIC_LINE}");
                let dim = params.inverse_mass_matrix.dim();
                if dim == 0 {
                    let _ = writeln!(head, "# ");
                }
                for row in dense.inverse_mass_matrix().chunks(dim.max(1)) {
                    let _ = writeln!(head, "# {}", join_numbers(row, ", "));
                }
            }
        }
        let file = File::create(&path).map_err(|e| io_error("cannot create", &path, &e))?;
        let mut writer = CsvWriter {
            out: BufWriter::new(file),
            path,
            num_columns: names.len(),
            row: String::new(),
        };
        writer.write_flushed(&head)?;
        Ok(writer)
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
        let _ = write!(
            row,
            "{},{},{},{},{},{},{}",
            number(stats.log_density),
            number(stats.acceptance_rate),
            number(stats.step_size),
            stats.tree_depth,
            stats.num_integration_steps,
            u8::from(stats.is_divergent),
            number(stats.energy)
        );
        for &v in values {
            row.push(',');
            row.push_str(&number(v));
        }
        row.push('\n');
        let result = self.write_flushed(&row);
        self.row = row;
        result
    }

    /// Records the gradient evaluations the chain spent in warm-up (a comment line, so
    /// Stan readers ignore it); call it before the first draw.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn write_warmup_gradients(&mut self, count: usize) -> Result<()> {
        self.write_flushed(&format!("# {WARMUP_GRADIENTS_KEY} {count}\n"))
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_flushed(&mut self, text: &str) -> Result<()> {
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
        let values = self.chain_values();
        let params = self.adapted();
        let mut paths = Vec::with_capacity(values.len());
        for (chain, (values, params)) in values.iter().zip(&params).enumerate() {
            let path = dir.as_ref().join(format!("{prefix}_{}.csv", chain + 1));
            let mut writer = CsvWriter::create(&path, self.names(), chain, params)?;
            writer.write_warmup_gradients(self.chains[chain].warmup_gradients)?;
            let width = self.names().len();
            for (draw, stats) in self.sample_stats(chain).iter().enumerate() {
                writer.write_draw(&values[draw * width..(draw + 1) * width], stats)?;
            }
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
    /// the shortest; both are reported on standard error. CmdStan files written with
    /// `save_warmup` give only their draws (the rows after `# Adaptation terminated`).
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
        let mut names: Option<Vec<String>> = None;
        let mut chains = Vec::with_capacity(paths.len());
        for path in paths {
            let path = path.as_ref();
            let (file_names, chain) = read_csv(path)?;
            match &names {
                None => names = Some(file_names),
                Some(first) if *first != file_names => {
                    return Err(Error::Io(format!(
                        "`{}` has columns {file_names:?}, the first file has {first:?}",
                        path.display()
                    )));
                }
                Some(_) => {}
            }
            chains.push(chain);
        }
        let names = names.unwrap_or_default();
        truncate_to_common_length(&mut chains, names.len(), "from_csv");
        Ok(Posterior::new(names, chains))
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
    /// warm-up gradient count.
    pub fn to_json(&self) -> String {
        let mut out =
            String::from("{\"format\": \"tilde-posterior\", \"version\": 1, \"names\": [");
        let names: Vec<String> = self.names().iter().map(|n| json_string(n)).collect();
        out.push_str(&names.join(", "));
        out.push_str("], \"chains\": [");
        let width = self.names().len();
        for (chain, (values, params)) in self.chain_values().iter().zip(self.adapted()).enumerate()
        {
            if chain > 0 {
                out.push_str(", ");
            }
            let _ = write!(
                out,
                "{{\"step_size\": {}, \"warmup_gradients\": {}, \"inverse_mass_matrix\": ",
                json_number(params.step_size),
                self.chains[chain].warmup_gradients
            );
            match &params.inverse_mass_matrix {
                Metric::Diagonal(d) => {
                    let _ = write!(out, "{{\"diagonal\": {}}}", json_array(d));
                }
                Metric::Dense(m) => {
                    let _ = write!(
                        out,
                        "{{\"dense\": {}, \"dim\": {}}}",
                        json_array(m.inverse_mass_matrix()),
                        params.inverse_mass_matrix.dim()
                    );
                }
            }
            out.push_str(", \"values\": [");
            let stats = self.sample_stats(chain);
            for draw in 0..stats.len() {
                if draw > 0 {
                    out.push_str(", ");
                }
                out.push_str(&json_array(&values[draw * width..(draw + 1) * width]));
            }
            let column = |f: fn(&SampleStats) -> f64| -> String {
                json_array(&stats.iter().map(f).collect::<Vec<_>>())
            };
            let count = |f: fn(&SampleStats) -> usize| -> String {
                let items: Vec<String> = stats.iter().map(|s| f(s).to_string()).collect();
                format!("[{}]", items.join(", "))
            };
            let divergent: Vec<&str> = stats
                .iter()
                .map(|s| if s.is_divergent { "true" } else { "false" })
                .collect();
            let _ = write!(
                out,
                "], \"stats\": {{\"log_density\": {}, \"acceptance_rate\": {}, \
                 \"step_size\": {}, \"tree_depth\": {}, \"num_integration_steps\": {}, \
                 \"is_divergent\": [{}], \"energy\": {}}}}}",
                column(|s| s.log_density),
                column(|s| s.acceptance_rate),
                column(|s| s.step_size),
                count(|s| s.tree_depth),
                count(|s| s.num_integration_steps),
                divergent.join(", "),
                column(|s| s.energy)
            );
        }
        out.push_str("]}\n");
        out
    }

    /// Reads a document written by [`Posterior::to_json`]. Chains of different lengths
    /// are cut to the shortest, with a warning on standard error.
    ///
    /// # Errors
    /// [`Error::Io`] when the text is not JSON or lacks a field `to_json` writes, or when
    /// the arrays have inconsistent lengths; [`Error::InvalidConfig`] when a dense inverse
    /// mass matrix is not positive-definite.
    pub fn from_json(text: &str) -> Result<Posterior> {
        let mut parser = JsonParser {
            bytes: text.as_bytes(),
            at: 0,
        };
        let doc = parser.document()?;
        if doc.field("format")?.as_str()? != "tilde-posterior" {
            return Err(json_error("`format` is not \"tilde-posterior\""));
        }
        if doc.field("version")?.as_usize()? != 1 {
            return Err(json_error("unsupported `version` (this tilde reads 1)"));
        }
        let names: Vec<String> = doc
            .field("names")?
            .as_array()?
            .iter()
            .map(|n| n.as_str().map(str::to_string))
            .collect::<Result<_>>()?;
        let chains = doc
            .field("chains")?
            .as_array()?
            .iter()
            .map(|chain| json_chain(chain, names.len()))
            .collect::<Result<Vec<_>>>()?;
        let mut chains = chains;
        truncate_to_common_length(&mut chains, names.len(), "from_json");
        Ok(Posterior::new(names, chains))
    }

    /// Each chain's draws, row-major (one row per draw, one column per name).
    fn chain_values(&self) -> Vec<Vec<f64>> {
        // The names are the posterior's own, so every lookup succeeds.
        let columns: Vec<Vec<Vec<f64>>> = self
            .names()
            .iter()
            .map(|name| self.draws_by_chain(name).unwrap_or_default())
            .collect();
        (0..self.num_chains())
            .map(|chain| {
                let num_draws = self.sample_stats(chain).len();
                (0..num_draws)
                    .flat_map(|draw| columns.iter().map(move |col| col[chain][draw]))
                    .collect()
            })
            .collect()
    }
}

/// Stan's CSV column name of a tilde name: `theta[2]` → `theta.3`, `z[0,1]` → `z.1.2`;
/// a name without a trailing index is unchanged.
fn stan_name(name: &str) -> String {
    if let Some(open) = name.find('[')
        && name.ends_with(']')
    {
        let indices: Option<Vec<usize>> = name[open + 1..name.len() - 1]
            .split(',')
            .map(|i| i.trim().parse().ok())
            .collect();
        if let Some(indices) = indices {
            let mut out = name[..open].to_string();
            for i in indices {
                let _ = write!(out, ".{}", i + 1);
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

/// Reads one chain's CSV file: its tilde names and draws.
///
/// A last line without its newline was torn by a writer that stopped: it is dropped
/// (with a warning on standard error), never read as a draw. Rows before a
/// `# Adaptation terminated` line are CmdStan's saved warm-up draws and are dropped.
fn read_csv(path: &Path) -> Result<(Vec<String>, ChainDraws)> {
    let bytes = std::fs::read(path).map_err(|e| io_error("cannot read", path, &e))?;
    let text = String::from_utf8_lossy(&bytes);
    let fail =
        |line: usize, what: String| Error::Io(format!("`{}` line {line}: {what}", path.display()));
    let mut names: Option<Vec<String>> = None;
    let mut step_size: Option<f64> = None;
    let mut warmup_gradients = 0;
    let mut metric: Option<Metric> = None;
    // Some(rows so far) while reading the rows of a dense metric.
    let mut dense_rows: Option<Vec<Vec<f64>>> = None;
    let mut expect_diagonal = false;
    let mut values = Vec::new();
    let mut stats = Vec::new();
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
        let line = line.trim_end();
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim();
            if comment == ADAPTATION_LINE {
                // CmdStan's `save_warmup` writes the warm-up draws before this line
                values.clear();
                stats.clear();
            } else if expect_diagonal {
                expect_diagonal = false;
                let diagonal = parse_list(comment).map_err(|e| fail(number, e))?;
                metric = Some(Metric::Diagonal(diagonal));
            } else if let Some(rows) = &mut dense_rows {
                rows.push(parse_list(comment).map_err(|e| fail(number, e))?);
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
                step_size = Some(parse_f64(value.trim()).map_err(|e| fail(number, e))?);
            } else if let Some(value) = comment.strip_prefix(WARMUP_GRADIENTS_KEY) {
                warmup_gradients = value
                    .trim()
                    .parse()
                    .map_err(|_| fail(number, format!("`{}` is not a count", value.trim())))?;
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        let Some(names) = &names else {
            if fields.len() < STAT_COLUMNS.len() || fields[..STAT_COLUMNS.len()] != STAT_COLUMNS {
                return Err(fail(
                    number,
                    format!("the header must start with {}", STAT_COLUMNS.join(",")),
                ));
            }
            names = Some(
                fields[STAT_COLUMNS.len()..]
                    .iter()
                    .map(|c| tilde_name(c))
                    .collect(),
            );
            continue;
        };
        if fields.len() != STAT_COLUMNS.len() + names.len() {
            return Err(fail(
                number,
                format!(
                    "expected {} fields, got {}",
                    STAT_COLUMNS.len() + names.len(),
                    fields.len()
                ),
            ));
        }
        let real = |i: usize| parse_f64(fields[i]).map_err(|e| fail(number, e));
        let count = |i: usize| {
            fields[i]
                .parse::<usize>()
                .map_err(|_| fail(number, format!("`{}` is not a count", fields[i])))
        };
        stats.push(SampleStats {
            log_density: real(0)?,
            acceptance_rate: real(1)?,
            step_size: real(2)?,
            tree_depth: count(3)?,
            num_integration_steps: count(4)?,
            is_divergent: match fields[5] {
                "0" => false,
                "1" => true,
                other => return Err(fail(number, format!("`{other}` is not 0 or 1"))),
            },
            energy: real(6)?,
        });
        for i in STAT_COLUMNS.len()..fields.len() {
            values.push(real(i)?);
        }
    }
    let missing = |what: &str| Error::Io(format!("`{}` has no {what}", path.display()));
    let names = names.ok_or_else(|| missing("header line"))?;
    let step_size = step_size.ok_or_else(|| missing("`# Step size = …` line"))?;
    let inverse_mass_matrix = metric.ok_or_else(|| missing("complete inverse mass matrix"))?;
    let chain = ChainDraws {
        values,
        stats,
        params: HmcParams {
            step_size,
            inverse_mass_matrix,
        },
        warmup_gradients,
    };
    Ok((names, chain))
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
// JSON

fn json_number(v: f64) -> String {
    if v.is_finite() {
        format!("{v:?}")
    } else {
        format!("\"{v:?}\"")
    }
}

fn json_array(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| json_number(*v)).collect();
    format!("[{}]", items.join(", "))
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_error(what: &str) -> Error {
    Error::Io(format!("posterior JSON: {what}"))
}

fn json_chain(chain: &Json, width: usize) -> Result<ChainDraws> {
    let metric = chain.field("inverse_mass_matrix")?;
    let inverse_mass_matrix = if let Ok(diagonal) = metric.field("diagonal") {
        Metric::Diagonal(diagonal.as_f64_vec()?)
    } else {
        Metric::dense(
            metric.field("dense")?.as_f64_vec()?,
            metric.field("dim")?.as_usize()?,
        )?
    };
    let rows = chain.field("values")?.as_array()?;
    let mut values = Vec::with_capacity(rows.len() * width);
    for row in rows {
        let row = row.as_f64_vec()?;
        if row.len() != width {
            return Err(json_error(&format!(
                "a draw has {} values for {width} names",
                row.len()
            )));
        }
        values.extend(row);
    }
    let stats = chain.field("stats")?;
    let reals = |key: &str| stats.field(key)?.as_f64_vec();
    let counts = |key: &str| -> Result<Vec<usize>> {
        stats
            .field(key)?
            .as_array()?
            .iter()
            .map(Json::as_usize)
            .collect()
    };
    let log_density = reals("log_density")?;
    let acceptance_rate = reals("acceptance_rate")?;
    let step_size = reals("step_size")?;
    let tree_depth = counts("tree_depth")?;
    let num_integration_steps = counts("num_integration_steps")?;
    let is_divergent: Vec<bool> = stats
        .field("is_divergent")?
        .as_array()?
        .iter()
        .map(Json::as_bool)
        .collect::<Result<_>>()?;
    let energy = reals("energy")?;
    let n = rows.len();
    if [
        log_density.len(),
        acceptance_rate.len(),
        step_size.len(),
        tree_depth.len(),
        num_integration_steps.len(),
        is_divergent.len(),
        energy.len(),
    ]
    .iter()
    .any(|&len| len != n)
    {
        return Err(json_error(&format!(
            "a chain's statistics do not all have its {n} draws"
        )));
    }
    let stats = (0..n)
        .map(|i| SampleStats {
            log_density: log_density[i],
            acceptance_rate: acceptance_rate[i],
            step_size: step_size[i],
            tree_depth: tree_depth[i],
            num_integration_steps: num_integration_steps[i],
            is_divergent: is_divergent[i],
            energy: energy[i],
        })
        .collect();
    Ok(ChainDraws {
        values,
        stats,
        params: HmcParams {
            step_size: chain.field("step_size")?.as_f64()?,
            inverse_mass_matrix,
        },
        warmup_gradients: chain.field("warmup_gradients")?.as_usize()?,
    })
}

/// A parsed JSON value; numbers keep their text so integers and floats parse exactly.
#[derive(Debug)]
enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn field(&self, key: &str) -> Result<&Json> {
        match self {
            Json::Object(fields) => fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .ok_or_else(|| json_error(&format!("missing field `{key}`"))),
            _ => Err(json_error(&format!("expected an object with `{key}`"))),
        }
    }

    fn as_array(&self) -> Result<&[Json]> {
        match self {
            Json::Array(items) => Ok(items),
            other => Err(json_error(&format!("expected an array, got {other:?}"))),
        }
    }

    fn as_str(&self) -> Result<&str> {
        match self {
            Json::String(s) => Ok(s),
            other => Err(json_error(&format!("expected a string, got {other:?}"))),
        }
    }

    fn as_bool(&self) -> Result<bool> {
        match self {
            Json::Bool(b) => Ok(*b),
            other => Err(json_error(&format!(
                "expected true or false, got {other:?}"
            ))),
        }
    }

    fn as_f64(&self) -> Result<f64> {
        match self {
            Json::Number(text) => parse_f64(text).map_err(|e| json_error(&e)),
            Json::String(text) if matches!(text.as_str(), "NaN" | "inf" | "-inf") => {
                parse_f64(text).map_err(|e| json_error(&e))
            }
            other => Err(json_error(&format!("expected a number, got {other:?}"))),
        }
    }

    fn as_usize(&self) -> Result<usize> {
        match self {
            Json::Number(text) => text
                .parse()
                .map_err(|_| json_error(&format!("`{text}` is not a count"))),
            other => Err(json_error(&format!("expected a count, got {other:?}"))),
        }
    }

    fn as_f64_vec(&self) -> Result<Vec<f64>> {
        self.as_array()?.iter().map(Json::as_f64).collect()
    }
}

/// A recursive-descent parser for the JSON that [`Posterior::to_json`] writes (and any
/// other well-formed JSON).
struct JsonParser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl JsonParser<'_> {
    fn document(&mut self) -> Result<Json> {
        let value = self.value(0)?;
        self.skip_whitespace();
        if self.at != self.bytes.len() {
            return Err(self.error("trailing characters after the document"));
        }
        Ok(value)
    }

    fn error(&self, what: &str) -> Error {
        json_error(&format!("{what} at byte {}", self.at))
    }

    fn skip_whitespace(&mut self) {
        while self
            .bytes
            .get(self.at)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        if self.bytes.get(self.at) == Some(&byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, byte: u8) -> Result<()> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(self.error(&format!("expected `{}`", byte as char)))
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.error("unexpected character"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json> {
        const MAX_DEPTH: usize = 64;
        if depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        self.skip_whitespace();
        match self.bytes.get(self.at) {
            None => Err(self.error("unexpected end of text")),
            Some(b'{') => {
                self.at += 1;
                let mut fields = Vec::new();
                if self.eat(b'}') {
                    return Ok(Json::Object(fields));
                }
                loop {
                    self.skip_whitespace();
                    let key = self.string()?;
                    self.expect(b':')?;
                    fields.push((key, self.value(depth + 1)?));
                    if self.eat(b'}') {
                        return Ok(Json::Object(fields));
                    }
                    self.expect(b',')?;
                }
            }
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                if self.eat(b']') {
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    if self.eat(b']') {
                        return Ok(Json::Array(items));
                    }
                    self.expect(b',')?;
                }
            }
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b) if *b == b'-' || b.is_ascii_digit() => {
                let start = self.at;
                while self
                    .bytes
                    .get(self.at)
                    .is_some_and(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                {
                    self.at += 1;
                }
                let text = String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned();
                Ok(Json::Number(text))
            }
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    fn string(&mut self) -> Result<String> {
        if self.bytes.get(self.at) != Some(&b'"') {
            return Err(self.error("expected a string"));
        }
        self.at += 1;
        let mut out = Vec::new();
        loop {
            let Some(&b) = self.bytes.get(self.at) else {
                return Err(self.error("unterminated string"));
            };
            self.at += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(&escape) = self.bytes.get(self.at) else {
                        return Err(self.error("unterminated escape"));
                    };
                    self.at += 1;
                    match escape {
                        b'"' | b'\\' | b'/' => out.push(escape),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'u' => {
                            let code = self.hex4()?;
                            let c = if (0xd800..0xdc00).contains(&code) {
                                if !self.bytes[self.at..].starts_with(b"\\u") {
                                    return Err(self.error("unpaired surrogate"));
                                }
                                self.at += 2;
                                let low = self.hex4()?;
                                char::from_u32(
                                    0x10000 + ((code - 0xd800) << 10) + (low.wrapping_sub(0xdc00)),
                                )
                            } else {
                                char::from_u32(code)
                            };
                            let c = c.ok_or_else(|| self.error("invalid \\u escape"))?;
                            let mut buf = [0; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err(self.error("invalid escape")),
                    }
                }
                _ => out.push(b),
            }
        }
        String::from_utf8(out).map_err(|_| self.error("invalid UTF-8 in a string"))
    }

    fn hex4(&mut self) -> Result<u32> {
        let digits = self
            .bytes
            .get(self.at..self.at + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u32::from_str_radix(d, 16).ok())
            .ok_or_else(|| self.error("expected four hex digits"))?;
        self.at += 4;
        Ok(digits)
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
        assert_eq!(checked_stan_name("z[0,0]").unwrap(), "z.1.1");
    }

    #[test]
    fn json_parser_reads_escapes_and_rejects_garbage() {
        let mut p = JsonParser {
            bytes: br#"{"a": ["x\"\u00e9\ud83d\ude00", -1.5e-3, true, null]}"#,
            at: 0,
        };
        let doc = p.document().unwrap();
        let items = doc.field("a").unwrap().as_array().unwrap();
        assert_eq!(items[0].as_str().unwrap(), "x\"é😀");
        assert_eq!(items[1].as_f64().unwrap(), -1.5e-3);
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "[1] 2", "\"abc"] {
            let mut p = JsonParser {
                bytes: bad.as_bytes(),
                at: 0,
            };
            assert!(p.document().is_err(), "{bad:?}");
        }
    }
}
