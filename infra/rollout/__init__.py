"""Gated rollouts: content-named revisions, traffic phases, the gate, and the command that drives them.

Pure parts (`revisions`, `traffic`) feed the Pulumi program; `gate`, `metrics`, `orchestrate` and
`driver` run outside it, from `python -m infra rollout|rollback STACK`.
"""
