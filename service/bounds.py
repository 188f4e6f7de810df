"""What the service accepts in each environment variable the deployment renders.

Dependency-free on purpose: the image holds only service/, so the service cannot import the
infra side; infra/limits.py imports these instead, so a stack setting the service would refuse
fails the stack check, not the revision's start-up. Ranges are inclusive (low, high).
"""

CONCURRENCY = (1, 256)  # model slots: gunicorn gets this many threads plus queue and spares
NUM_THREADS = (1, 1024)
MAX_CONTEXT_CHARS = (1, 10_000_000)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LABEL_MAX_CHARS = 200  # MODEL_ID and MODEL_REVISION: printable text, reported in /ready and logs
MAX_BATCH_WINDOWS = (1, 1024)  # rows of one forward pass (one request's windows, or a batch's)
BATCH_MAX_WAIT_MS = (0, 1000)  # BATCHING: longest wait for a request still tokenizing
# Windows (max_seq_len-token slices of the context) one request may run: bounds its work.
# The default fits a 50,000-character English context (54 windows with the DistilBERT
# tokenizer) and refuses the same length of CJK text (202): service/README.md, "Bounds on work".
MAX_WINDOWS = (1, 1024)
DEFAULT_MAX_WINDOWS = 64
