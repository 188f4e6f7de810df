"""`python -m service.bake`: bake a model directory for the image, or verify one (see bootstrap)."""

from service.bake.bootstrap import main

if __name__ == "__main__":
    raise SystemExit(main())
