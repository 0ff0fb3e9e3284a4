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

import sympy

from twofold.numerics import sampling as numeric
from twofold.contract import Estimate
from twofold.theorems import sampling as exact
from twofold import crosscheck
from twofold.model import Claim, Comparison, Derivation, Family, Hypothesis, Parameter

SOURCE = "Su Jianlin, kexue.fm posts 8062 and 8084 (Dec 2020): search by sampling; Miao et al. 2019 (CGMH)"
ALPHA = numeric.ALPHA


def _rational(value: float) -> sympy.Rational:
    return sympy.Rational(str(value))


def law_comparison(law: Sequence[Any], counts: Sequence[int]) -> Comparison:
    """Empirical counts against an exact law: chi-square and the TV bound at ALPHA each (:func:`twofold.numerics.sampling.law_fit`)."""
    fit = numeric.law_fit(counts, [crosscheck.exact_float(p) for p in law])
    return Comparison(
        method=f"law: chi2 and TV tests at alpha {ALPHA:g} (estimate = TV)",
        statistic=fit.chi2,
        threshold=fit.critical,
        exact=0.0,
        estimate=fit.tv,
        agree=fit.passed,
        detail=(
            f"TV {fit.tv:.3g} vs bound {fit.tv_bound:.3g}; chi2 {fit.chi2:.4g} on {fit.dof} df"
            f" (p = {fit.p_value:.3g}); N = {fit.samples}"
        ),
    )


def ks_comparison(estimate: Estimate) -> Comparison:
    """The estimator's Kolmogorov–Smirnov test of its samples against the target CDF, at ALPHA."""
    fit = estimate.details["ks"]
    return Comparison(
        method=f"KS test at alpha {ALPHA:g}",
        statistic=fit["statistic"],
        threshold=fit["critical"],
        exact=0.0,
        estimate=fit["statistic"],
        agree=fit["statistic"] <= fit["critical"],
        detail=f"p = {fit['p_value']:.3g}, m = {fit['samples']}",
    )


def _from_details(estimate: Estimate, value: str, error: str) -> Estimate:
    details = estimate.details
    return Estimate(value=details[value], stderr=details[error], method=estimate.method, n=estimate.n, seed=estimate.seed)


def _count(estimate: Estimate, key: str) -> Estimate:
    return Estimate(value=float(estimate.details[key]), method=estimate.method, n=estimate.n, seed=estimate.seed)


def _acceptance_and_law(d: Derivation, e: Estimate, p: Any) -> Comparison:
    acceptance, law = d.result
    return crosscheck.all_of(crosscheck.contains(acceptance, e), law_comparison(law, e.details["counts"]))


def _trials(d: Derivation, e: Estimate, p: Any) -> Comparison:
    mean, acceptance = d.result
    histogram = e.details["histogram"]
    cells = len(histogram) + 1
    observed = [*histogram, 0]
    return crosscheck.all_of(crosscheck.z_score(mean, e), law_comparison(exact.geometric_law(acceptance, cells), observed))


def _chain_average_and_law(d: Derivation, e: Estimate, p: Any) -> Comparison:
    """Chain claims: z-score of the chain average (between-chain s.e.) and final-state counts against the exact law."""
    mean, law = d.result
    return crosscheck.all_of(crosscheck.z_score(mean, e), law_comparison(law, e.details["counts"]))


def _convergence(d: Derivation, e: Estimate, p: Any) -> Comparison:
    classes, period, law = d.result
    structure = crosscheck.all_of(crosscheck.same_count(classes, e), crosscheck.same_count(period, _count(e, "period")))
    return crosscheck.all_of(structure, law_comparison(law, e.details["counts"]))


def _chains(high: int = 100_000) -> Parameter:
    return Parameter("chains", int, quick=20_000, full=high, low=1000, high=high, doc="independent chains")


def _steps(quick: int, full: int, high: int = 100) -> Parameter:
    return Parameter("steps", int, quick=quick, full=full, low=1, high=high, doc="MH steps per chain")


def _slack() -> Parameter:
    return Parameter("slack", float, quick=1.25, full=1.0, low=0.1, high=20.0, doc="M = slack * sup rho/q")


ENVELOPE = Hypothesis(
    "envelope M q >= rho",
    lambda p: p["slack"] >= 1,
    "the envelope M = slack * sup rho/q must dominate the target (slack >= 1)",
    witness={"slack": 0.5},
)

FINITE = (
    Parameter("n", int, quick=6, full=12, low=2, high=50, doc="states"),
    _slack(),
)

RHO_1, Q_1 = sympy.symbols("rho_1 q_1", positive=True)
Z = exact.normaliser_Z
M = exact.envelope_M

FAMILY = Family(
    name="sampling",
    number=6,
    title="Search by sampling: rejection, importance, Metropolis-Hastings, Gibbs, CGMH",
    source=SOURCE,
    claims=(
        Claim(
            id="sampling.rejection_law",
            title="Rejection sampling: accepted law rho/Z, acceptance Z/M (M1)",
            source=SOURCE,
            statement=r"M q \ge \rho \;\Rightarrow\; X \mid \text{accept} \sim \rho/Z,\quad P(\text{accept}) = Z/M",
            parameters=(
                *FINITE,
                Parameter("samples", int, quick=40_000, full=1_000_000, low=1000, high=5_000_000, doc="proposals"),
            ),
            hypotheses=(ENVELOPE,),
            derive=lambda p: exact.rejection_law(p["n"], _rational(p["slack"])),
            estimate=lambda p, seed: numeric.rejection_finite(p["n"], p["slack"], p["samples"], seed),
            compare=_acceptance_and_law,
            symbols=(RHO_1, Q_1, M, Z),
        ),
        Claim(
            id="sampling.rejection_trials",
            title="Rejection sampling: trials are geometric with mean M/Z (M1)",
            source=SOURCE,
            statement=r"P(T = k) = (1 - Z/M)^{k-1}\,Z/M,\quad E[T] = M/Z,\quad T \perp X",
            parameters=(
                *FINITE,
                Parameter("draws", int, quick=20_000, full=500_000, low=1000, high=2_000_000, doc="accepted samples"),
            ),
            hypotheses=(ENVELOPE,),
            derive=lambda p: exact.rejection_trials(p["n"], _rational(p["slack"])),
            estimate=lambda p, seed: numeric.rejection_trials(p["n"], p["slack"], p["draws"], seed),
            compare=_trials,
            symbols=(M, Z, exact.v, exact.k),
        ),
        Claim(
            id="sampling.rejection_continuous",
            title="Rejection sampling of N(0,1) from a Laplace proposal (M1)",
            source=SOURCE,
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
            compare=lambda d, e, p: crosscheck.all_of(crosscheck.contains(d.result, e), ks_comparison(e)),
            symbols=(exact.x, exact.t, sympy.Symbol("s", positive=True)),
        ),
        Claim(
            id="sampling.importance",
            title="Importance sampling: Z_hat unbiased, self-normalised estimate consistent (M2)",
            source=SOURCE,
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
                ),
            ),
            derive=lambda p: exact.importance(p["n"], p["hole"]),
            estimate=lambda p, seed: numeric.importance(p["n"], p["hole"], p["batch"], p["replications"], p["samples"], seed),
            compare=lambda d, e, p: crosscheck.all_of(
                crosscheck.z_score(d.result[0], e), crosscheck.z_score(d.result[1], _from_details(e, "snis", "snis_stderr"))
            ),
            symbols=(RHO_1, Q_1, Z, exact.N),
        ),
        Claim(
            id="sampling.mh_stationary",
            title="Metropolis-Hastings: detailed balance, rho/Z stationary (M3)",
            source=SOURCE,
            statement=(
                r"P(x,y) = q(y|x)\min\Bigl(1, \frac{\rho(y)q(x|y)}{\rho(x)q(y|x)}\Bigr) \;\Rightarrow\; "
                r"\rho(x)P(x,y) = \rho(y)P(y,x),\ \pi P = \pi"
            ),
            parameters=(
                Parameter("symbolic", int, quick=3, full=4, low=2, high=5, doc="states of the symbolic chain"),
                Parameter("n", int, quick=6, full=12, low=3, high=30, doc="ring states"),
                Parameter("skew", int, quick=2, low=0, high=4, doc="rho_x = (x+1)^skew"),
                Parameter("lean", float, quick=0.7, low=0.05, high=0.95, doc="probability of proposing x+1"),
                Parameter("hastings", int, quick=1, low=0, high=1, doc="1: Hastings ratio; 0: Metropolis ratio rho_y/rho_x"),
                _chains(),
                _steps(20, 100),
            ),
            hypotheses=(
                Hypothesis(
                    "Hastings correction",
                    lambda p: p["hastings"] == 1 or p["lean"] == 0.5,
                    "an asymmetric proposal (lean != 0.5) needs the q(x|y)/q(y|x) factor (hastings = 1)",
                    witness={"hastings": 0, "lean": 0.7},
                ),
            ),
            derive=lambda p: exact.mh_stationary(p["symbolic"], p["n"], p["skew"], _rational(p["lean"]), p["hastings"]),
            estimate=lambda p, seed: numeric.mh_stationary(
                p["n"], p["skew"], p["lean"], p["hastings"], p["chains"], p["steps"], seed
            ),
            compare=_chain_average_and_law,
            symbols=(exact.a, exact.b, exact.rho_x, exact.rho_y),
        ),
        Claim(
            id="sampling.mh_convergence",
            title="Metropolis-Hastings: irreducible and aperiodic implies convergence (M3)",
            source=SOURCE,
            statement=r"\text{proposal graph strongly connected, period } 1 \;\Rightarrow\; P^t(x,\cdot) \to \rho/Z \ \forall x",
            parameters=(
                Parameter("n", int, quick=6, full=12, low=3, high=30, doc="ring states"),
                Parameter("skew", int, quick=2, low=0, high=4, doc="rho_x = (x+1)^skew"),
                Parameter("bridge", float, quick=0.5, low=0.0, high=1.0, doc="probability of crossing a bridge edge"),
                _chains(high=50_000),
                Parameter("max_steps", int, quick=400, full=2000, low=1, high=2000, doc="cap on the steps run from state 0"),
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
            derive=lambda p: exact.mh_convergence(p["n"], p["skew"], _rational(p["bridge"])),
            estimate=lambda p, seed: numeric.mh_convergence(p["n"], p["skew"], p["bridge"], p["chains"], p["max_steps"], seed),
            compare=_convergence,
            symbols=(exact.a, exact.b),
        ),
        Claim(
            id="sampling.mh_continuous",
            title="Random-walk Metropolis on a continuous target (M3)",
            source=SOURCE,
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
        ),
        Claim(
            id="sampling.gibbs_acceptance",
            title="Gibbs updates are MH moves with acceptance 1 (M4)",
            source=SOURCE,
            statement=r"q(y|x) = \pi(y_i \mid x_{-i}),\ y_{-i} = x_{-i} \;\Rightarrow\; \frac{\pi(y)q(x|y)}{\pi(x)q(y|x)} = 1",
            parameters=(
                Parameter("dims", int, quick=3, full=4, low=2, high=4, doc="coordinates"),
                Parameter("values", int, quick=3, full=4, low=2, high=4, doc="values per coordinate"),
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
            compare=_chain_average_and_law,
            symbols=(exact.rho_x, exact.rho_y, exact.S),
        ),
        Claim(
            id="sampling.cgmh_balance",
            title="CGMH insert/delete/replace keeps detailed balance on sentences (M5)",
            source=SOURCE,
            statement=(
                r"\alpha(x \to y) = \min\Bigl(1, \frac{\rho(y)q(x|y)}{\rho(x)q(y|x)}\Bigr),\ "
                r"q \in \{\text{insert}, \text{delete}, \text{replace}\} \;\Rightarrow\; \rho(x)P(x,y) = \rho(y)P(y,x)"
            ),
            parameters=(
                Parameter("length", int, quick=3, low=1, high=3, doc="maximum sentence length"),
                Parameter("vocab", int, quick=2, full=3, low=2, high=4, doc="vocabulary size"),
                Parameter("hastings", int, quick=1, low=0, high=1, doc="1: Hastings ratio; 0: rho(y)/rho(x) only"),
                _chains(),
                _steps(20, 50),
            ),
            hypotheses=(
                Hypothesis(
                    "Hastings correction",
                    lambda p: p["hastings"] == 1,
                    "insert and delete are not symmetric: the ratio needs q(x|y)/q(y|x) (hastings = 1)",
                    witness={"hastings": 0},
                ),
            ),
            derive=lambda p: exact.cgmh(p["length"], p["vocab"], p["hastings"]),
            estimate=lambda p, seed: numeric.cgmh(p["length"], p["vocab"], p["hastings"], p["chains"], p["steps"], seed),
            compare=_chain_average_and_law,
            symbols=(exact.rho_x, exact.rho_y, exact.a_ins, exact.a_del, exact.g_w, exact.ell),
        ),
    ),
)
