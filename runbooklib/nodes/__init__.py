"""Node prep over SSH: facts (one round trip) -> plan (commands or no-op reasons) -> atomic apply -> recap.

Public entry points: `plan_nodes(params)`, `prep_nodes(params, plan_only=False)`; the building
blocks are `facts` (script + parser), `desired` (reference state), `plan` (operations) and
`apply` (execution and verification on one host).
"""

from runbooklib.nodes.prep import PrepResult, plan_nodes, prep_nodes, print_progress

__all__ = ["PrepResult", "plan_nodes", "prep_nodes", "print_progress"]
