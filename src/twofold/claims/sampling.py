"""Family 6 — search by sampling: rejection, importance, Metropolis–Hastings, Gibbs, CGMH (claims M1–M5).

Every statistical decision is made at ``twofold.numerics.sampling.ALPHA`` = 1e-7 per
test (chi-square, total variation, Clopper–Pearson, Kolmogorov–Smirnov) or at
5 standard errors (false-failure rate 5.7e-7); a claim combines at most three
such tests, so a correct claim fails with probability below 2e-6 per run.
Chain claims (MH, Gibbs, CGMH) compare the average of per-chain time averages
by its between-chain standard error, and test the final states' law.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy

from twofold.numerics import sampling as numeric
from twofold.contract import Estimate
from twofold.theorems import sampling as exact
from twofold import crosscheck
from twofold.model import Claim, Comparison, Derivation, Drawing, FalseVariant, Family, Hypothesis, Mistake, Parameter, Probe

SOURCE = "Su Jianlin, kexue.fm posts 8062 and 8084 (Dec 2020): search by sampling; Miao et al. 2019 (CGMH)"
ALPHA = numeric.ALPHA
ALPHA_TEX = "10^{-7}"


def _rational(value: float) -> sympy.Rational:
    return sympy.Rational(str(value))


def law_comparison(law: Any, counts: Any, draws: int) -> Comparison:
    r"""Empirical counts of ``draws`` i.i.d. draws against an exact law, four checks in the order they are reported.

    * the exact law adds up to 1: its float sum is within :math:`4 n u` of 1 (each entry rounded
      once, :math:`n - 1` additions; :math:`u = 2^{-53}`); a wrong normaliser fails here;
    * every draw is counted once: the counts add up to ``draws`` exactly;
    * Pearson's chi-square at :data:`ALPHA` (its p-value goes to ``pvalues`` for calibration);
    * the total variation distance below its distribution-free bound at :data:`ALPHA`.

    :func:`~twofold.crosscheck.all_of` reports the first check that fails: a failing TV test
    reports TV, not the passing chi-square.
    """
    probabilities = np.array([crosscheck.exact_float(p) for p in law], dtype=float)
    observed = np.asarray(counts, dtype=float)
    fit = numeric.law_fit(observed, probabilities)
    mass = abs(float(probabilities.sum()) - 1.0)
    return crosscheck.all_of(
        crosscheck.at_most(
            mass, 4 * probabilities.size * UNIT, f"the exact law adds up to 1 (within $4nu$, $n = {probabilities.size}$)",
            exact=1.0, estimate=float(probabilities.sum()),
        ),
        crosscheck.at_most(
            abs(float(observed.sum()) - draws), 0.0, f"every one of the ${draws}$ draws is counted once",
            exact=float(draws), estimate=float(observed.sum()),
        ),
        crosscheck.at_most(
            fit.chi2, fit.critical, f"chi-square of the law on {fit.dof} dof at $\\alpha = {ALPHA_TEX}$",
            detail=f"p = {fit.p_value:.3g}, N = {fit.samples}", pvalues=(fit.p_value,),
        ),
        crosscheck.at_most(
            fit.tv, fit.tv_bound, f"total variation distance below its bound at $\\alpha = {ALPHA_TEX}$",
            detail=f"TV {fit.tv:.3g} vs bound {fit.tv_bound:.3g}",
        ),
    )


def ks_comparison(estimate: Estimate) -> Comparison:
    """The estimator's Kolmogorov–Smirnov test of its samples against the target CDF, at ALPHA (p-value for calibration)."""
    fit = estimate.details["ks"]
    return crosscheck.at_most(
        fit["statistic"], fit["critical"], f"Kolmogorov-Smirnov test at $\\alpha = {ALPHA_TEX}$",
        detail=f"p = {fit['p_value']:.3g}, m = {fit['samples']}", pvalues=(fit["p_value"],),
    )


def _from_details(estimate: Estimate, value: str, error: str, replicate: str) -> Estimate:
    details = estimate.details
    return Estimate(
        value=details[value], stderr=details[error], method=estimate.method, n=estimate.n, seed=estimate.seed,
        replicate_stderr=details[replicate], replicates=estimate.replicates,
    )


def _count(estimate: Estimate, key: str) -> Estimate:
    return Estimate(value=float(estimate.details[key]), method=estimate.method, n=estimate.n, seed=estimate.seed)


def _acceptance_and_law(d: Derivation, e: Estimate, p: Any) -> Comparison:
    acceptance, law = d.result
    return crosscheck.all_of(crosscheck.z_score(acceptance, e), law_comparison(law, e.details["counts"], e.details["accepted"]))


def _trials(d: Derivation, e: Estimate, p: Any) -> Comparison:
    mean, acceptance = d.result
    histogram = e.details["histogram"]
    cells = len(histogram) + 1
    observed = [*histogram, 0]
    return crosscheck.all_of(crosscheck.z_score(mean, e), law_comparison(exact.geometric_law(acceptance, cells), observed, e.n))


def _chain_average_and_law(d: Derivation, e: Estimate, p: Any) -> Comparison:
    """Chain claims: z-score of the chain average (between-chain s.e.) and final-state counts against the exact law."""
    mean, law = d.result
    return crosscheck.all_of(crosscheck.z_score(mean, e), law_comparison(law, e.details["counts"], e.n))


def _gibbs(d: Derivation, e: Estimate, p: Any) -> Comparison:
    mean, acceptance, law = d.result
    return crosscheck.all_of(
        crosscheck.z_score(mean, e),
        crosscheck.relative_error(acceptance, e.part("acceptance_rate"), GIBBS_RATE_RTOL),
        law_comparison(law, e.details["counts"], e.n),
    )


def limit_comparison(law: Any, estimate: Estimate) -> Comparison:
    r"""The exact :math:`\pi` against the certified powers :math:`\hat A \approx P^t` of the estimator, for every start.

    * the exact law adds up to 1 (float sum within :math:`4nu`, as in :func:`law_comparison`);
    * :math:`\max_x \mathrm{TV}(P^t(x,\cdot), \pi) \le \mathrm{TV}(\hat A(0,\cdot), \pi) + \mathrm{spread} + e_K/2`
      (triangle inequality: :math:`\hat A(0,\cdot)` is ``limit``, ``spread`` bounds every other row's distance to it,
      :math:`e_K` = ``row_error`` bounds :math:`\|\hat A(x,\cdot) - P^t(x,\cdot)\|_1` rigorously); the two float TV
      sums are within :math:`\gamma_{n+1}` relatively, the exact :math:`\pi` rounded to floats moves TV by at most
      :math:`u`.  The certified bound must be at most :data:`~twofold.numerics.sampling.MIXED_TV`; by
      submultiplicativity it then decays geometrically in :math:`t` — convergence from every start.
    """
    probabilities = np.array([crosscheck.exact_float(q) for q in law], dtype=float)
    details = estimate.details
    n = probabilities.size
    total = float(probabilities.sum())
    distance = (float(numeric.tv_rows(np.asarray(details["limit"], dtype=float), probabilities)) + details["spread"]) * (
        1 + numeric.gamma(n + 1)
    ) + details["row_error"] / 2 + UNIT
    return crosscheck.all_of(
        crosscheck.at_most(
            abs(total - 1.0), 4 * n * UNIT, f"the exact stationary law adds up to 1 (within $4nu$, $n = {n}$)",
            exact=1.0, estimate=total,
        ),
        crosscheck.at_most(
            distance, numeric.MIXED_TV,
            f"certified $\\max_x \\mathrm{{TV}}(P^t(x,\\cdot), \\pi)$ at $t = 2^{{{details['steps'].bit_length() - 1}}}$ "
            f"(float error bound included) below $10^{{-5}}$",
            detail=f"TV of row 0 + spread {details['spread']:.3g} + row error/2 {details['row_error'] / 2:.3g}",
        ),
    )


def _convergence(d: Derivation, e: Estimate, p: Any) -> Comparison:
    """Classes and period (counts), the certified limit from every start against pi, chain counts against delta_0 P^steps."""
    classes, period, law, sampled = d.result
    structure = crosscheck.all_of(crosscheck.same_count(classes, e), crosscheck.same_count(period, _count(e, "period")))
    return crosscheck.all_of(structure, limit_comparison(law, e), law_comparison(sampled, e.details["counts"], p["chains"]))


def _variant_law_lower_tail(d: Derivation, e: Estimate, p: Any) -> Comparison:
    """Known-false comparison: the chi-square critical value taken from the lower tail (``ppf(alpha)`` for ``isf(alpha)``)."""
    mean, law = d.result
    probabilities = np.array([crosscheck.exact_float(q) for q in law])
    fit = numeric.law_fit(e.details["counts"], probabilities)
    from scipy import stats

    return crosscheck.all_of(
        crosscheck.z_score(mean, e),
        crosscheck.at_most(fit.chi2, float(stats.chi2.ppf(ALPHA, fit.dof)), "chi-square against its lower-tail quantile"),
    )


UNIT = 2.0**-53
GIBBS_RATE_RTOL = 1e-12
"""Every Gibbs ratio is 1 up to a few roundings (relative error below 1e-15), so a uniform in [0, 1) falls below it
except with probability about 1e-15 per move: the acceptance rate is exactly 1; 1e-12 absorbs nothing else."""

def _sigma(index: int | None = None, **where: Any) -> Probe:
    """Moved by 9 s.e., ``|z0 +- 9| > 5`` for both signs whenever ``|z0| < 4``."""
    return Probe("sigma", 9.0, "5-sigma test; the seed-0 estimate may itself be up to 4 s.e. off", index=index, **where)


SIGMA = _sigma()


def _law_probe(index: int, key: str = "counts") -> Probe:
    return Probe(
        "relative", 1e-12,
        "a law adds up to 1: the exact side's float sum is within $4nu$ ($< 10^{-12}$ for $n \\le 1000$), the counts add up to $N$ exactly",
        key=key, index=index,
    )


def _chains(high: int = 200_000, full: int = 100_000) -> Parameter:
    return Parameter("chains", int, quick=20_000, full=full, low=1000, high=high, doc="independent chains")


def _steps(quick: int, full: int, high: int = 200) -> Parameter:
    return Parameter("steps", int, quick=quick, full=full, low=1, high=high, doc="MH steps per chain")


def _slack() -> Parameter:
    return Parameter("slack", float, quick=1.25, full=1.0, low=0.1, high=20.0, doc="M = slack * sup rho/q")


ENVELOPE = Hypothesis(
    "envelope M q >= rho",
    lambda p: p["slack"] >= 1,
    "the envelope M = slack * sup rho/q must dominate the target (slack ≥ 1)",
    witness={"slack": 0.5},
    latex=r"$M q \ge \rho$",
)

FINITE = (
    Parameter("n", int, quick=6, full=1000, low=2, high=2000, doc="states"),
    _slack(),
)

RHO_1, Q_1 = sympy.symbols("rho_1 q_1", positive=True)
Z = exact.normaliser_Z
M = exact.envelope_M


def _rejection_without_slack(p: Any, seed: int) -> Estimate:
    """Known-false: the sampler uses :math:`M = \\sup\\rho/q` although the claim's envelope is :math:`c\\sup\\rho/q`."""
    return numeric.rejection_finite(p["n"], 1.0, p["samples"], seed)


def _variant_mh(p: Any, seed: int, acceptance: Any) -> Estimate:
    return numeric.mh_stationary(p["n"], p["skew"], p["lean"], p["hastings"], p["chains"], p["steps"], seed, acceptance=acceptance)


VARIANTS = (
    FalseVariant(
        "sampling.mh_stationary", "missing Hastings ratio",
        r"acceptance $\min(1, \rho_y/\rho_x)$ with an asymmetric proposal: the $q(x|y)/q(y|x)$ factor is dropped",
        estimate=lambda p, seed: _variant_mh(p, seed, numeric._variant_acceptance_missing_hastings),
    ),
    FalseVariant(
        "sampling.mh_stationary", "inverted acceptance ratio",
        r"acceptance $\min(1, \rho_x q(y|x)/(\rho_y q(x|y)))$: the ratio turned upside down",
        estimate=lambda p, seed: _variant_mh(p, seed, numeric._variant_acceptance_inverted),
    ),
    FalseVariant(
        "sampling.mh_stationary", "exact kernel without Hastings ratio",
        r"the exact MH kernel built with the Metropolis ratio $\rho_y/\rho_x$ for an asymmetric proposal",
        derive=lambda p: exact.mh_stationary(p["symbolic"], p["n"], p["skew"], _rational(p["lean"]), False),
    ),
    FalseVariant(
        "sampling.mh_convergence", "rejection not counted as a step",
        r"after a rejected proposal the chain proposes again instead of staying: the jump chain, whose limit is "
        r"$\propto \rho(x)(1 - P(x,x))$",
        estimate=lambda p, seed: numeric._variant_convergence_rejections_dropped(
            p["n"], p["skew"], p["bridge"], p["chains"], p["steps"], p["max_steps"], seed
        ),
    ),
    FalseVariant(
        "sampling.mh_convergence", "limit is the proposal's stationary law",
        r"the chain is said to converge to the proposal's invariant law (uniform on the ring) instead of $\rho/Z$",
        derive=lambda p: exact._variant_convergence_proposal_law(p["n"], p["skew"], _rational(p["bridge"]), p["steps"]),
    ),
    FalseVariant(
        "sampling.gibbs_acceptance", "stale conditional",
        r"every coordinate redrawn from $\pi(x_i \mid x_{-i})$ of the \emph{old} state in one synchronous sweep",
        estimate=lambda p, seed: numeric._variant_gibbs_stale(p["dims"], p["values"], 1, p["chains"], p["steps"], seed),
    ),
    FalseVariant(
        "sampling.importance", "self-normalised estimate without the normaliser",
        r"$\frac1N\sum_k w_k f(x_k)$ reported as $E_\pi f$: the division by $\sum_k w_k/N \approx Z$ is missing",
        estimate=lambda p, seed: numeric._variant_snis_unnormalised(p["n"], p["hole"], p["batch"], p["replications"], p["samples"], seed),
    ),
    FalseVariant(
        "sampling.rejection_trials", "mean trials Z/M",
        r"$E[T] = Z/M$ (the acceptance probability) instead of $M/Z$",
        derive=lambda p: exact._variant_trials_mean_inverted(p["n"], _rational(p["slack"])),
    ),
    FalseVariant(
        "sampling.rejection_trials", "standard error without the square root of n",
        r"the standard error of the mean trials reported as $s$ instead of $s/\sqrt{m}$",
        estimate=lambda p, seed: numeric._variant_trials_stderr_without_sqrt(p["n"], p["slack"], p["draws"], seed),
    ),
    FalseVariant(
        "sampling.rejection_law", "envelope without the slack",
        r"the sampler accepts with $\rho/(Mq)$ at $M = \sup\rho/q$ while the claim's envelope is $c\,\sup\rho/q$, $c = 1.25$",
        estimate=_rejection_without_slack,
    ),
    FalseVariant(
        "sampling.cgmh_balance", "chi-square critical value from the wrong tail",
        r"the law test compares chi-square with $F^{-1}_{\chi^2}(\alpha)$ instead of $F^{-1}_{\chi^2}(1 - \alpha)$",
        compare=_variant_law_lower_tail,
    ),
    FalseVariant(
        "sampling.cgmh_balance", "CGMH without the Hastings ratio",
        r"insert and delete accepted with $\min(1, \rho(y)/\rho(x))$: the proposal asymmetry of insert/delete ignored",
        estimate=lambda p, seed: numeric.cgmh(p["length"], p["vocab"], False, p["chains"], p["steps"], seed),
    ),
)

MISTAKES = (
    Mistake(
        "min does not absorb the weight",
        "a*Min(1, b/a) = Min(1, b)",
        r"you move $a$ into only one argument of the min: $a\min(1, b/a) = \min(a, b)$, not $\min(1, b)$",
        claims=("sampling.mh_stationary",),
    ),
    Mistake(
        "Metropolis ratio for an asymmetric proposal",
        "a_ins*g_w*Min(1, rho_y/rho_x) = a_del*Min(1, rho_x/rho_y)",
        r"you drop the Hastings factor $q(x|y)/q(y|x)$: insert and delete are not symmetric, so the flows no longer balance",
        claims=("sampling.cgmh_balance",),
    ),
    Mistake(
        "acceptance M/Z",
        "Z/M = M/Z",
        r"you invert the acceptance probability: a proposal is accepted with probability $Z/M$ and needs $M/Z$ trials on average",
        claims=("sampling.rejection_law",),
    ),
    Mistake(
        "Gibbs ratio keeps the weights",
        "(rho_y*(rho_x/S))/(rho_x*(rho_y/S)) = rho_y/rho_x",
        r"you forget that the conditional's normaliser and the weights cancel: the Gibbs ratio is exactly 1",
        claims=("sampling.gibbs_acceptance",),
    ),
)


SYMBOLS = (exact.a, exact.b, exact.rho_x, exact.rho_y, M, Z, RHO_1, Q_1, exact.S, exact.k, exact.v, exact.N,
           exact.a_ins, exact.a_del, exact.g_w, exact.ell)

FAMILY = Family(
    name="sampling",
    number=6,
    title="Search by sampling: rejection, importance, Metropolis-Hastings, Gibbs, CGMH",
    source=SOURCE,
    symbols=SYMBOLS,
    figures=(Drawing("twofold.drawings.sampling", "empirical_law"),),
    false_variants=VARIANTS,
    mistakes=MISTAKES,
    claims=(
        Claim(
            id="sampling.rejection_law",
            title=r"Rejection sampling: accepted law $\rho/Z$, acceptance $Z/M$ (M1)",
            statement=r"M q \ge \rho \;\Rightarrow\; X \mid \text{accept} \sim \rho/Z,\quad P(\text{accept}) = Z/M",
            parameters=(
                *FINITE,
                Parameter("samples", int, quick=40_000, full=1_000_000, low=1000, high=5_000_000, doc="proposals"),
            ),
            hypotheses=(ENVELOPE,),
            derive=lambda p: exact.rejection_law(p["n"], _rational(p["slack"])),
            estimate=lambda p, seed: numeric.rejection_finite(p["n"], p["slack"], p["samples"], seed),
            compare=_acceptance_and_law,
            resolution=(_sigma(0), _law_probe(1)),
        ),
        Claim(
            id="sampling.rejection_trials",
            title=r"Rejection sampling: trials are geometric with mean $M/Z$ (M1)",
            statement=r"P(T = k) = (1 - Z/M)^{k-1}\,Z/M,\quad E[T] = M/Z,\quad T \perp X",
            parameters=(
                *FINITE,
                Parameter("draws", int, quick=20_000, full=500_000, low=1000, high=2_000_000, doc="accepted samples"),
            ),
            hypotheses=(ENVELOPE,),
            derive=lambda p: exact.rejection_trials(p["n"], _rational(p["slack"])),
            estimate=lambda p, seed: numeric.rejection_trials(p["n"], p["slack"], p["draws"], seed),
            compare=_trials,
            resolution=(
                _sigma(0),
                Probe(
                    "relative", 0.1,
                    r"chi-square at $\alpha = 10^{-7}$ on about 10 cells detects a shift of the geometric parameter $a$ "
                    r"by about 9 s.e.; s.e.$(\hat a)/a = \sqrt{(1-a)/N} \le 0.0071$ at $N = 20000$, so 0.1 is 14 s.e.; "
                    r"moved counts no longer add up to $N$",
                    key="histogram", index=1,
                ),
            ),
        ),
        Claim(
            id="sampling.rejection_continuous",
            title=r"Rejection sampling of $\mathcal{N}(0,1)$ from a Laplace proposal (M1)",
            statement=(
                r"\rho = e^{-x^2/2},\ q = \tfrac{1}{2s}e^{-|x|/s},\ M = c\cdot 2s\,e^{1/(2s^2)}:\ "
                r"X \mid \text{accept} \sim \mathcal{N}(0,1),\ P(\text{accept}) = \sqrt{2\pi}/M"
            ),
            parameters=(
                Parameter("scale", float, quick=1.0, low=0.5, high=4.0, doc="Laplace scale s"),
                Parameter("slack", float, quick=1.0, low=0.1, high=10.0, doc="c: M = c sup rho/q"),
                Parameter("samples", int, quick=40_000, full=1_000_000, low=1000, high=5_000_000, doc="proposals"),
            ),
            hypotheses=(ENVELOPE,),
            derive=lambda p: exact.rejection_continuous(_rational(p["scale"]), _rational(p["slack"])),
            estimate=lambda p, seed: numeric.rejection_continuous(p["scale"], p["slack"], p["samples"], seed),
            compare=lambda d, e, p: crosscheck.all_of(crosscheck.z_score(d.result, e), ks_comparison(e)),
            symbols=(exact.x, exact.t, sympy.Symbol("s", positive=True)),
            resolution=(SIGMA,),
        ),
        Claim(
            id="sampling.importance",
            title=r"Importance sampling: $\hat Z$ unbiased, self-normalised estimate consistent (M2)",
            statement=(
                r"E\Bigl[\tfrac1N\textstyle\sum_k \rho(x_k)/q(x_k)\Bigr] = Z,\quad "
                r"\frac{\sum_k w_k f(x_k)}{\sum_k w_k} \xrightarrow{a.s.} E_\pi f"
            ),
            parameters=(
                Parameter("n", int, quick=6, full=12, low=2, high=50, doc="states"),
                Parameter("hole", int, quick=0, low=0, high=1, doc="target states the proposal misses (the last)"),
                Parameter("batch", int, quick=4, low=1, high=100, doc="N for the unbiasedness check"),
                Parameter("replications", int, quick=20_000, full=200_000, low=1000, high=200_000),
                Parameter("samples", int, quick=100_000, full=2_000_000, low=10_000, high=5_000_000, doc="N for SNIS"),
            ),
            hypotheses=(
                Hypothesis(
                    "proposal covers target",
                    lambda p: p["hole"] == 0,
                    "q must be positive wherever rho is (hole = 0)",
                    witness={"hole": 1},
                    latex=r"$q > 0$ wherever $\rho > 0$",
                ),
            ),
            derive=lambda p: exact.importance(p["n"], p["hole"]),
            estimate=lambda p, seed: numeric.importance(p["n"], p["hole"], p["batch"], p["replications"], p["samples"], seed),
            compare=lambda d, e, p: crosscheck.all_of(
                crosscheck.z_score(d.result[0], e),
                crosscheck.z_score(d.result[1], _from_details(e, "snis", "snis_stderr", "snis_replicate_stderr")),
            ),
            symbols=(RHO_1, Q_1, Z, exact.N),
            resolution=(
                _sigma(0),
                _sigma(1, key="snis", stderr_key="snis_stderr"),
            ),
        ),
        Claim(
            id="sampling.mh_stationary",
            title=r"Metropolis-Hastings: detailed balance, $\rho/Z$ stationary (M3)",
            statement=(
                r"P(x,y) = q(y|x)\min\Bigl(1, \frac{\rho(y)q(x|y)}{\rho(x)q(y|x)}\Bigr) \;\Rightarrow\; "
                r"\rho(x)P(x,y) = \rho(y)P(y,x),\ \pi P = \pi"
            ),
            parameters=(
                Parameter("symbolic", int, quick=3, full=4, low=2, high=5, doc="states of the symbolic chain"),
                Parameter("n", int, quick=6, full=1000, low=3, high=2000, doc="ring states"),
                Parameter("skew", int, quick=2, low=0, high=4, doc="rho_x = (x+1)^skew"),
                Parameter("lean", float, quick=0.7, low=0.05, high=0.95, doc="probability of proposing x+1"),
                Parameter("hastings", bool, quick=True, doc="true: Hastings ratio; false: Metropolis ratio rho_y/rho_x"),
                _chains(),
                _steps(20, 50),
            ),
            hypotheses=(
                Hypothesis(
                    "Hastings correction",
                    lambda p: p["hastings"] or p["lean"] == 0.5,
                    "an asymmetric proposal (lean other than 0.5) needs the q(x|y)/q(y|x) factor (hastings = true)",
                    witness={"hastings": False, "lean": 0.7},
                ),
            ),
            derive=lambda p: exact.mh_stationary(p["symbolic"], p["n"], p["skew"], _rational(p["lean"]), p["hastings"]),
            estimate=lambda p, seed: numeric.mh_stationary(
                p["n"], p["skew"], p["lean"], p["hastings"], p["chains"], p["steps"], seed
            ),
            compare=_chain_average_and_law,
            symbols=(exact.a, exact.b, exact.rho_x, exact.rho_y),
            resolution=(_sigma(0), _law_probe(1)),
        ),
        Claim(
            id="sampling.mh_convergence",
            title="Metropolis-Hastings: irreducible and aperiodic implies convergence (M3)",
            statement=r"\text{proposal graph strongly connected, period } 1 \;\Rightarrow\; P^t(x,\cdot) \to \rho/Z \ \forall x",
            parameters=(
                Parameter("n", int, quick=6, full=2000, low=3, high=3000, doc="ring states"),
                Parameter("skew", int, quick=2, low=0, high=4, doc="rho_x = (x+1)^skew"),
                Parameter("bridge", float, quick=0.5, low=0.0, high=1.0, doc="probability of crossing a bridge edge"),
                _chains(high=50_000, full=50_000),
                Parameter(
                    "steps", int, quick=100, full=50, low=1, high=100,
                    doc="MH steps sampled from state 0 (law computed exactly; its rationals' digits grow quadratically in steps)",
                ),
                Parameter(
                    "max_steps", int, quick=2**12, full=2**26, low=1, high=2**30,
                    doc="cap on t = 2^K for the certified powers P^t (repeated squaring)",
                ),
            ),
            hypotheses=(
                Hypothesis(
                    "proposal irreducible",
                    lambda p: p["bridge"] > 0,
                    "the proposal graph must be strongly connected (bridge > 0)",
                    witness={"bridge": 0.0},
                ),
                Hypothesis(
                    "aperiodic",
                    lambda p: not (p["skew"] == 0 and p["bridge"] == 1 and p["n"] % 2 == 0),
                    "a uniform target on an even ring without lazy moves has period 2",
                    witness={"skew": 0, "bridge": 1.0, "n": 6},
                ),
            ),
            derive=lambda p: exact.mh_convergence(p["n"], p["skew"], _rational(p["bridge"]), p["steps"]),
            estimate=lambda p, seed: numeric.mh_convergence(
                p["n"], p["skew"], p["bridge"], p["chains"], p["steps"], p["max_steps"], seed
            ),
            compare=_convergence,
            symbols=(exact.a, exact.b),
            resolution=(
                Probe("count", 1, "one communicating class more or less", index=0),
                Probe("count", 1, "a period one off", key="period", index=1),
                Probe(
                    "relative", 4 * numeric.MIXED_TV,
                    r"a law's mass moved by $4\cdot 10^{-5}$ moves its TV to the other law by at least $2\cdot 10^{-5}$ "
                    r"(less the float error, below $3\cdot 10^{-6}$), twice the tolerance $10^{-5}$; "
                    r"the exact law then no longer adds up to 1",
                    key="limit", index=2,
                ),
                Probe(
                    "relative", 2e-12,
                    r"a law adds up to 1: the exact side's float sum is within $4nu$ ($< 1.4\cdot 10^{-12}$ for $n \le 3000$), "
                    r"the counts add up to $N$ exactly",
                    key="counts", index=3,
                ),
            ),
        ),
        Claim(
            id="sampling.mh_continuous",
            title="Random-walk Metropolis on a continuous target (M3)",
            statement=(
                r"\rho = e^{-x^4/4},\ y = x + \sigma\xi:\ \rho(x)q(y-x)\min(1, \rho(y)/\rho(x)) \text{ symmetric},\ "
                r"E_\pi x^2 = 2\Gamma(3/4)/\Gamma(1/4)"
            ),
            parameters=(
                Parameter("step", float, quick=1.5, low=0.1, high=10.0, doc="proposal standard deviation"),
                Parameter("drift", float, quick=0.0, low=-2.0, high=2.0, doc="proposal mean shift"),
                _chains(),
                _steps(20, 100),
            ),
            hypotheses=(
                Hypothesis(
                    "symmetric proposal",
                    lambda p: p["drift"] == 0,
                    "the Metropolis ratio rho(y)/rho(x) needs q(y - x) = q(x - y) (drift = 0)",
                    witness={"drift": 0.5},
                ),
            ),
            derive=lambda p: exact.mh_continuous(_rational(p["drift"])),
            estimate=lambda p, seed: numeric.mh_continuous(p["step"], p["drift"], p["chains"], p["steps"], seed),
            compare=lambda d, e, p: crosscheck.all_of(crosscheck.z_score(d.result, e), ks_comparison(e)),
            symbols=(exact.x, exact.y, exact.sigma),
            resolution=(SIGMA,),
        ),
        Claim(
            id="sampling.gibbs_acceptance",
            title="Gibbs updates are MH moves with acceptance 1 (M4)",
            statement=(
                r"q(y|x) = \pi(y_i \mid x_{-i}),\ y_{-i} = x_{-i} \;\Rightarrow\; \frac{\pi(y)q(x|y)}{\pi(x)q(y|x)} = 1;\ "
                r"\rho(x) = \textstyle\prod_i (x_i+1)\,2^{A(x)},\ A(x) = \#\{i: x_i = x_{i+1}\},\ E_\pi A \text{ and the law of } (x_0, x_1) \text{ kept}"
            ),
            parameters=(
                Parameter("dims", int, quick=3, full=10, low=2, high=16, doc="coordinates d"),
                Parameter("values", int, quick=3, full=10, low=2, high=16, doc="values per coordinate k"),
                Parameter("power", int, quick=1, low=0, high=3, doc="proposal proportional to rho^power along the coordinate"),
                _chains(),
                _steps(5, 20),
            ),
            hypotheses=(
                Hypothesis(
                    "proposal is the full conditional",
                    lambda p: p["power"] == 1,
                    "the coordinate proposal must be pi(y_i | x_-i) (power = 1)",
                    witness={"power": 0},
                ),
            ),
            derive=lambda p: exact.gibbs(p["dims"], p["values"], p["power"]),
            estimate=lambda p, seed: numeric.gibbs(p["dims"], p["values"], p["power"], p["chains"], p["steps"], seed),
            compare=_gibbs,
            symbols=(exact.rho_x, exact.rho_y, exact.S),
            resolution=(
                _sigma(0),
                Probe("relative", 2 * GIBBS_RATE_RTOL, "the acceptance rate is compared at relative error $10^{-12}$", key="acceptance_rate", index=1),
                _law_probe(2),
            ),
        ),
        Claim(
            id="sampling.cgmh_balance",
            title="CGMH insert/delete/replace keeps detailed balance on sentences (M5)",
            statement=(
                r"\alpha(x \to y) = \min\Bigl(1, \frac{\rho(y)q(x|y)}{\rho(x)q(y|x)}\Bigr),\ "
                r"q \in \{\text{insert}, \text{delete}, \text{replace}\} \;\Rightarrow\; \rho(x)P(x,y) = \rho(y)P(y,x)"
            ),
            parameters=(
                Parameter("length", int, quick=3, full=5, low=1, high=8, doc="maximum sentence length"),
                Parameter("vocab", int, quick=2, full=50, low=2, high=500, doc="vocabulary size"),
                Parameter("hastings", bool, quick=True, doc="true: Hastings ratio; false: rho(y)/rho(x) only"),
                _chains(),
                _steps(20, 20),
            ),
            hypotheses=(
                Hypothesis(
                    "Hastings correction",
                    lambda p: p["hastings"],
                    "insert and delete are not symmetric: the ratio needs q(x|y)/q(y|x) (hastings = true)",
                    witness={"hastings": False},
                ),
            ),
            derive=lambda p: exact.cgmh(p["length"], p["vocab"], p["hastings"]),
            estimate=lambda p, seed: numeric.cgmh(p["length"], p["vocab"], p["hastings"], p["chains"], p["steps"], seed),
            compare=_chain_average_and_law,
            symbols=(exact.rho_x, exact.rho_y, exact.a_ins, exact.a_del, exact.g_w, exact.ell),
            resolution=(_sigma(0), _law_probe(1)),
        ),
    ),
)
