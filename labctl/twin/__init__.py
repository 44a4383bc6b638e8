"""The digital twin of one die: fit the chip model to stored runs, write it as a parameter file, check it.

Modules: :mod:`.estimators` (maximum-likelihood estimators), :mod:`.maps`
(per-cell maps), :mod:`.fit` (parameters from stored runs), :mod:`.file`
(the twin file), :mod:`.store` (the fit and check as stored runs),
:mod:`.check` (held-out comparisons).  docs/twin.md has the workflow.
"""
