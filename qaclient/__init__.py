"""A client of the QA service's HTTP API: the service's URLs, identity tokens for private
services, request bodies, and latency percentiles.

The rollout gate (infra/rollout) and the benchmarks (bench/) both call the running service; this
package is what they share, so neither imports the other. It depends only on the service's route
table (service/routes.py, which imports nothing) and `requests`; it is not part of the image
(service/ is the image's build context) nor of the Pulumi program.
"""
