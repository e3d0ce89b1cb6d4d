"""Read tilde's Stan-layout CSV files with ArviZ and print the summary.

Usage (ArviZ 0.23 installed):

    python3 read_csv_with_arviz.py <directory> [<prefix>]

reads every `<directory>/<prefix>_*.csv` (all `*.csv` files when no prefix is given),
one file per chain as `Posterior::to_csv` writes them, with `az.from_cmdstan`, prints
`az.summary` and the sampler statistics ArviZ found, and exits with status 1 when no
file matches or ArviZ reads no draws. `samplers/tests/io.rs` runs it when Python and
ArviZ are available.
"""

import glob
import os
import sys

import arviz as az


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    directory = argv[1]
    prefix = argv[2] if len(argv) == 3 else ""
    pattern = os.path.join(directory, f"{prefix}_*.csv" if prefix else "*.csv")
    files = sorted(glob.glob(pattern))
    if not files:
        print(f"no files match {pattern}", file=sys.stderr)
        return 1
    idata = az.from_cmdstan(files)
    posterior = idata.posterior
    if posterior.sizes.get("draw", 0) == 0 or not posterior.data_vars:
        print(f"ArviZ read no draws from {files}", file=sys.stderr)
        return 1
    print(az.summary(idata))
    print(
        f"{posterior.sizes['chain']} chains x {posterior.sizes['draw']} draws;",
        "sample_stats:",
        ", ".join(sorted(idata.sample_stats.data_vars)),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
