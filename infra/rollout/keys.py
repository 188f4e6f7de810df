"""Names the rollout shares with the stack: config keys it writes, outputs it reads.

Config keys and tags are a contract (outside checks use them); the program exports the outputs.
"""

ROLLOUT = "rollout"
SERVING_REVISION = "servingRevision"
CANDIDATE_PERCENT = "candidatePercent"
PREVIOUS_REVISION = "previousRevision"
# Several regions: how many, from the first in `regions`, take the phase (0: all of them).
ROLLOUT_REGIONS = "rolloutRegions"
PHASE_KEYS = (SERVING_REVISION, CANDIDATE_PERCENT, PREVIOUS_REVISION, ROLLOUT_REGIONS)

# Stack outputs.
URL = "url"
NEW_REVISION = "newRevision"  # the revision the template makes now
SERVING_OUTPUT = "servingRevision"  # the revision with the largest share
PREVIOUS_OUTPUT = "previousRevision"
CANDIDATE_REVISION = "candidateRevision"  # "" outside the candidate phase
CANDIDATE_URL = "candidateUrl"  # its tag URL (the first region's, with several)
CANDIDATE_URLS = "candidateUrls"  # with several regions: region → the candidate's tag URL there
CANDIDATE_SHARE = "candidatePercent"
MODEL_REVISION = "modelRevision"  # what the new revision's /ready must report
