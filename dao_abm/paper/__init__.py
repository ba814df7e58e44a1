"""The paper's results reproduced as experiments: one module per experiment, each with a
pure ``run(*, seed, quick) -> DataFrame``, a ``plot(frame) -> Figure`` and a
``key_numbers(frame) -> DataFrame``; ``registry`` names them for ``dao-abm paper NAME``.

- ``hl_bound``: Theorem 3.2 (Mechanism 1 is an H_ℓ-approximation): random populations and
  an adversarial search for the worst instance;
- ``theorem_3_4``: both instances of Theorem 3.4's proof (ratio H_{n−1} − (n−1)δ), for
  Mechanism 1 and every truthful threshold pair;
- ``appendix_a``: Appendix A, learning under VCG + equal split vs the truthful foil, under
  every tie policy;
- ``unit_demand``: Section 4.2 (Lemma 4.8 / Theorem 4.2), the factor n for unit demand;
- ``constitution``: ConstitutionDAO's crowdfund against Mechanism 1, and the crowdfund's
  learning under each revision protocol (figure in ``constitution_plot``);
- ``emergence``: what emerges under Mechanism 1 on the demo scenario, tie policy by tie
  policy and protocol by protocol, with fixed and redrawn values (shading factors and bid
  functions);
- ``equilibria``: Bayes–Nash equilibria of first price (with and without a reserve) and
  all-pay learned by SODA against the closed forms (the field's benchmarks);
- ``dao_private_values``: members of DAOs under private values, the bid functions they learn
  by DAO size under Mechanism 1, crowdfund and split-the-bill.
"""

from dao_abm.paper.registry import EXPERIMENTS, Experiment, select

__all__ = ["EXPERIMENTS", "Experiment", "select"]
