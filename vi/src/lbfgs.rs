//! L-BFGS (Nocedal 1980) with a weak-Wolfe line search, keeping the whole path: what
//! Pathfinder builds its normal approximations from and what the Laplace initialiser
//! climbs to the mode with.

use tilde_core::{Error, LogDensity, Model, Result, Watched};

/// The iterates of one L-BFGS run on `log p`: positions, log-densities and gradients,
/// the starting point first.
#[derive(Clone, Debug, Default)]
pub(crate) struct Path {
    pub xs: Vec<Vec<f64>>,
    pub values: Vec<f64>,
    pub grads: Vec<Vec<f64>>,
    /// Gradient evaluations spent, line searches included.
    pub num_evals: usize,
}

/// Settings of an L-BFGS run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    /// The number of correction pairs kept.
    pub history: usize,
    /// The most iterations.
    pub max_iters: usize,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `log p` and its gradient, or `None` when either is not finite.
///
/// # Errors
/// The model's structural fault behind a non-finite log-density (a layout that changes
/// with the parameters), which a line search would otherwise take as a bad point and
/// silently step around.
fn evaluate<M: Model + ?Sized>(
    density: &Watched<'_, M>,
    x: &[f64],
    grad: &mut [f64],
) -> Result<Option<f64>> {
    let lp = density.logp_and_grad(x, grad);
    density.check()?;
    Ok((lp.is_finite() && grad.iter().all(|g| g.is_finite())).then_some(lp))
}

/// The two-loop recursion: `direction = H ∇log p` for the inverse-Hessian estimate `H`
/// of `−log p` from the pairs `(s, y)` (`y` the change of `−∇log p`), which ascends.
fn two_loop(grad: &[f64], pairs: &[(Vec<f64>, Vec<f64>)], direction: &mut [f64]) {
    direction.copy_from_slice(grad);
    let mut alphas = vec![0.0; pairs.len()];
    for (k, (s, y)) in pairs.iter().enumerate().rev() {
        let a = dot(s, direction) / dot(s, y);
        alphas[k] = a;
        direction.iter_mut().zip(y).for_each(|(d, y)| *d -= a * y);
    }
    if let Some((s, y)) = pairs.last() {
        let gamma = dot(s, y) / dot(y, y);
        direction.iter_mut().for_each(|d| *d *= gamma);
    }
    for ((s, y), a) in pairs.iter().zip(&alphas) {
        let b = dot(y, direction) / dot(s, y);
        direction
            .iter_mut()
            .zip(s)
            .for_each(|(d, s)| *d += (a - b) * s);
    }
}

/// Maximises `log p` from `x0`.
///
/// Stops when the log-density changes by less than `1e-12` (absolutely) or `1e4 · ε`
/// (relatively), when the largest gradient entry is below `1e-8`, when a line search
/// finds no better point, or after `max_iters` iterations.
///
/// # Errors
/// [`Error::InitFailed`] when the log-density or its gradient is not finite at `x0`,
/// and the model's structural fault (e.g. [`Error::LayoutChanged`]) at any point where
/// the log-density is not finite.
pub(crate) fn maximize<M: Model + ?Sized>(
    density: &Watched<'_, M>,
    x0: &[f64],
    settings: Settings,
) -> Result<Path> {
    let n = x0.len();
    let mut grad = vec![0.0; n];
    let Some(mut value) = evaluate(density, x0, &mut grad)? else {
        return Err(Error::InitFailed {
            tries: 1,
            reason: format!(
                "the log-density or its gradient is not finite at the start [{}]",
                tilde_core::short_list(x0)
            ),
        });
    };
    let mut path = Path {
        xs: vec![x0.to_vec()],
        values: vec![value],
        grads: vec![grad.clone()],
        num_evals: 1,
    };
    let mut x = x0.to_vec();
    let mut pairs: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    let mut direction = vec![0.0; n];
    let (mut x_new, mut grad_new) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..settings.max_iters {
        if grad.iter().all(|g| g.abs() < 1e-8) {
            break;
        }
        two_loop(&grad, &pairs, &mut direction);
        if pairs.is_empty() {
            // the first step: unit length along the gradient
            let norm = dot(&grad, &grad).sqrt();
            direction.iter_mut().for_each(|d| *d /= norm);
        }
        let mut slope = dot(&grad, &direction);
        if slope <= 0.0 {
            pairs.clear();
            direction.copy_from_slice(&grad);
            slope = dot(&grad, &grad);
        }
        // weak Wolfe conditions for maximisation, by bracketing (Lewis & Overton 2013)
        let (c1, c2) = (1e-4, 0.9);
        let (mut lo, mut hi, mut t) = (0.0, f64::INFINITY, 1.0);
        let mut found = None;
        for _ in 0..40 {
            x_new
                .iter_mut()
                .zip(&x)
                .zip(&direction)
                .for_each(|((xn, x), d)| *xn = x + t * d);
            path.num_evals += 1;
            match evaluate(density, &x_new, &mut grad_new)? {
                Some(v) if v >= value + c1 * t * slope => {
                    if dot(&grad_new, &direction) <= c2 * slope {
                        found = Some(v);
                        break;
                    }
                    lo = t;
                }
                _ => hi = t,
            }
            t = if hi.is_finite() {
                0.5 * (lo + hi)
            } else {
                2.0 * lo
            };
        }
        let Some(v) = found else { break };
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = grad.iter().zip(&grad_new).map(|(a, b)| a - b).collect();
        if dot(&s, &y) > 1e-12 * dot(&y, &y).sqrt() {
            if pairs.len() == settings.history {
                pairs.remove(0);
            }
            pairs.push((s, y));
        }
        let change = v - value;
        x.copy_from_slice(&x_new);
        grad.copy_from_slice(&grad_new);
        value = v;
        path.xs.push(x.clone());
        path.values.push(value);
        path.grads.push(grad.clone());
        if change.abs() < 1e-12 || change.abs() < 1e4 * f64::EPSILON * value.abs() {
            break;
        }
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Rosenbrock function, negated: maximum 0 at (1, 1).
    struct Rosenbrock;
    impl LogDensity for Rosenbrock {
        fn dim(&self) -> usize {
            2
        }
        fn logp(&self, x: &[f64]) -> f64 {
            -((1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2))
        }
        fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 {
            g[0] = 2.0 * (1.0 - x[0]) + 400.0 * x[0] * (x[1] - x[0] * x[0]);
            g[1] = -200.0 * (x[1] - x[0] * x[0]);
            self.logp(x)
        }
    }

    #[test]
    fn finds_the_rosenbrock_maximum() {
        let settings = Settings {
            history: 6,
            max_iters: 1000,
        };
        let model = tilde_samplers::Unconstrained::new(Rosenbrock);
        let path = maximize(&Watched::new(&model), &[-1.2, 1.0], settings).unwrap();
        let last = path.xs.last().unwrap();
        assert!(
            (last[0] - 1.0).abs() < 1e-5 && (last[1] - 1.0).abs() < 1e-5,
            "{last:?}"
        );
        assert!(path.values.windows(2).all(|w| w[1] >= w[0]), "ascent");
    }
}
