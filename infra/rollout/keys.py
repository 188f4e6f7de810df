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
# Its tag URL (the first region's, with several); behind the front door, the gate's path to it.
CANDIDATE_URL = "candidateUrl"
CANDIDATE_URLS = "candidateUrls"  # with several regions: region → the candidate's URL there
# With several regions: region → the serving revision's URL there, the gate's reference in it.
SERVING_URLS = "servingUrls"
# Not a stack output: the rollout sets it, from SERVING_URLS, for a gate in one region (else `url`).
SERVING_URL = "servingUrl"
CANDIDATE_SHARE = "candidatePercent"
MODEL_REVISION = "modelRevision"  # what the new revision's /ready must report
