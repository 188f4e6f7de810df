"""The Pulumi side of the project.

settings/ (typed stack settings, the only reader of pulumi.Config) → plan.py (settings to every
component's args) → components/ (the ComponentResources); limits.py and spec.py hold the platform
facts and the platform-neutral service description; offline/ renders the program without the
Pulumi CLI; cost/ estimates what a stack costs.
"""

PROJECT = "serverless-qa"
