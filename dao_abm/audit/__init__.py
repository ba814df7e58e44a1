"""Truthfulness audit: search every member's misreports for a profitable one.

Incentive compatibility (Section 2 of the paper) asks u_i(v_i, v_-i) >= u_i(b_i, v_-i) for
every misreport b_i. For each instance, with bids equal to values, the audit

1. checks budget balance (|group payment - Σ member payments| <= tol for every group) and
   individual rationality (utility >= -tol for every member) under truthful bids;
2. for every member and item, evaluates candidate misreports of that item's bid (the other
   items keep their true bids): a grid (0, the value times a linear and a geometric grid up
   to 3x, absolute points up to twice the largest bid of the instance) plus every breakpoint
   where the member's outcome can change (``candidates.item_candidates``), each also nudged by
   ±(1e-9 relative + 1e-12 absolute). All candidates of a member go through the mechanism
   in one batched call, several members per call while the batch stays small.

A gain above ``tol`` is a violation. A candidate is *tied* when the two highest group bids
of some lot are exactly equal in its profile or in the truthful one, so its gain may come
from the upper mechanism's tie rule (lowest group index wins). Tied candidates are run again
with the group indices reversed, so every tie breaks the other way; a member whose gains all
vanish there counts under ``tie_violations``, not ``violations`` (ties have measure zero,
footnote 1 of the paper). Appendix A's instance, for one, has a tie on item s that VCG's
assignment never consults: its violation survives the re-run.

``matrix.audit_matrix`` runs the audit for every preset × valuation class and
``properties`` holds the generated table (``property_holds(preset, valuation, prop)``), the
one place that says which preset is truthful, IR and budget-balanced where.

This is a search, not a proof; the breakpoints make misses unlikely for mechanisms whose
outcome is piecewise constant in a member's bid, as all the paper's are.
"""

from dao_abm.audit.report import AuditReport, Witness
from dao_abm.audit.search import audit

__all__ = ["AuditReport", "Witness", "audit"]
