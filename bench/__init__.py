"""Load, cold-start and cost harness for the QA service (`python -m bench --help`)."""
