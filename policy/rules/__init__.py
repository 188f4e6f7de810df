"""The rules, one module per thing they check. `policy.catalog` lists them all."""
