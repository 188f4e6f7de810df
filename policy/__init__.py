"""CrossGuard policy pack for serverless ML on GCP (Cloud Run v2, IAM, Artifact Registry, GKE).

`pulumi preview --policy-pack policy` runs it as a pack; `python -m policy check STACK` runs the
same rules on the offline render. Importing this package (or any rule module) starts nothing.
"""
