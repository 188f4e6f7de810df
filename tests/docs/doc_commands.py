"""The shell commands the docs show, as a user would copy them: extraction and classification.

A fenced block marked `bash`, `sh`, `shell` or `console` holds commands: in `bash`/`sh`/`shell`
every line that is not blank or a comment (a line ending in `\\` continues on the next); in
`console` the lines after a `$ ` prompt, followed by the output the doc shows. Blocks in other
languages (YAML, JSON, a directory tree, sample output) hold no commands.

Each command either runs as written in a test (tests/docs/test_docs_fenced_commands.py) or is in
NOT_RUN with why: it needs a cloud project, a GPU, a container engine or the network, a file
only the user has, or another named test runs it. Nothing is left out silently: a command in
neither runs, and an entry in NOT_RUN that no doc shows any more fails a test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = (
    "README.md",
    *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").rglob("*.md")),
    "bench/README.md",
    "policy/README.md",
    "service/README.md",
)
SHELL = ("bash", "sh", "shell", "console")
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)


@dataclass(frozen=True)
class Command:
    doc: str
    line: int  # of the command's first line in the doc
    text: str  # as written, continuation lines included
    shown: str = ""  # console blocks: the output the doc shows under it

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"


def commands_in(doc: str, text: str) -> list[Command]:
    found: list[Command] = []
    for block in FENCE.finditer(text):
        language, body = block.group(1), block.group(2)
        if language not in SHELL:
            continue
        first = text.count("\n", 0, block.start(2)) + 1
        found += _console(doc, first, body) if language == "console" else _script(doc, first, body)
    return found


def _script(doc: str, first: int, body: str) -> list[Command]:
    found: list[Command] = []
    pending: tuple[int, str] | None = None
    for number, line in enumerate(body.splitlines(), first):
        if pending is not None:
            pending = (pending[0], pending[1] + "\n" + line)
        elif line.strip() and not line.lstrip().startswith("#"):
            pending = (number, line)
        if pending is not None and not line.rstrip().endswith("\\"):
            found.append(Command(doc, *pending))
            pending = None
    return found


def _console(doc: str, first: int, body: str) -> list[Command]:
    found: list[Command] = []
    for number, line in enumerate(body.splitlines(), first):
        last = found[-1] if found else None
        if line.startswith("$ "):
            found.append(Command(doc, number, line[2:]))
        elif last is not None and last.text.endswith("\\") and not last.shown:
            found[-1] = Command(doc, last.line, last.text + "\n" + line)
        elif last is not None:
            found[-1] = Command(doc, last.line, last.text, (last.shown + "\n" + line).strip("\n"))
    return found


def all_commands(root: Path = ROOT) -> list[Command]:
    return [c for doc in DOCS for c in commands_in(doc, (root / doc).read_text(encoding="utf-8"))]


def key(command: Command) -> str:
    """The command without its trailing comments: what NOT_RUN is keyed by (`DOC: ` first, if any)."""
    return "\n".join(re.sub(r"\s+#\s.*$", "", line) for line in command.text.splitlines()).strip()


# Why a command does not run in the suite. Each is a fact about the command, reviewed by hand.
CLOUD = "needs a Google Cloud project, the Pulumi CLI or a cluster"
GPU = "needs an NVIDIA GPU and a CUDA build of torch"
CONTAINER = "needs a container engine and a registry: make image-test runs the image path (tests/image)"
NETWORK = "downloads from the Hugging Face Hub or PyPI; the suite runs offline"
USER = "takes a file only the user has (their checkpoint, their payloads)"
SUITE = "is the suite itself, or the install CI runs before it"
QUICKSTART = "run as written by tests/docs/test_docs_quickstart.py, with the output it shows"
DEMO = "run as written by tests/docs/test_docs_make_demo.py"

NOT_RUN: dict[str, str] = {
    "make install": SUITE,
    "make test": SUITE,
    "make demo": DEMO,
    # README.md, "Run it locally, step by step"
    "README.md: .venv/bin/python -m bench.fake_model models/fake": QUICKSTART,
    "README.md: .venv/bin/python -m service.bake --source models/fake --out models/qa --runtime onnx": QUICKSTART,
    "README.md: make serve MODEL_DIR=models/qa": QUICKSTART,
    "README.md: curl -s localhost:8080/ready": QUICKSTART,
    "README.md: curl -s localhost:8080/predict -H 'Content-Type: application/json' \\\n    -d '{\"context\": \"Roses are red,"
    ' violets are blue, sugar is sweet, and so are you.", "question": "What am I?"}\'': QUICKSTART,
    "README.md: make bench URL=http://localhost:8080": QUICKSTART,
    # README.md, "Deploy"; docs/knative.md, observability.md, rollout.md
    "make stack STACK=dev": CLOUD,
    "make stack STACK=prod": CLOUD,
    "pulumi config set gcp:project YOUR_PROJECT": CLOUD,
    "pulumi config set cpu 4": CLOUD,
    "pulumi config set memory 8Gi": CLOUD,
    "pulumi config set --path 'invokers[0]' serviceAccount:caller@YOUR_PROJECT.iam.gserviceaccount.com": CLOUD,
    "make up STACK=dev": CLOUD,
    "make up STACK=prod": CLOUD,
    "make up STACK=gke": CLOUD,
    "make preview STACK=dev": CLOUD,
    "make destroy STACK=gke": CLOUD,
    "pulumi stack output curl | sh": CLOUD,
    "pulumi config set gcp:project YOUR_PROJECT --stack gke": CLOUD,
    "pulumi config set --path 'gkeMasterAuthorizedNetworks[0]' \"$(curl -s https://ifconfig.me)/32\" --stack gke": CLOUD,
    "$(pulumi stack output getCredentials --stack gke)": CLOUD,
    "kubectl get ksvc -n qa": CLOUD,
    "kubectl get pods -n qa": CLOUD,
    "curl -sS -X POST \"$(pulumi stack output url --stack gke)/predict\" \\\n  -H 'Content-Type: application/json' \\\n"
    '  -d \'{"context": "Roses are red, violets are blue.", "question": "What color are violets?"}\'': CLOUD,
    "pulumi stack output curl --stack gke": CLOUD,
    "pulumi config set monitoring true --stack dev": CLOUD,
    "pulumi config set --path 'alertEmails[0]' you@example.com --stack dev": CLOUD,
    "make rollout STACK=prod": CLOUD,
    "make rollout STACK=prod STEPS=10,50 SOAK=5m": CLOUD,
    "make rollback STACK=prod": CLOUD,
    # docs/multi-region.md, "Checking it after `make up`"
    "pulumi stack output frontDoorIp --stack prod": CLOUD,
    "gcloud compute ssl-certificates list": CLOUD,
    "curl -sS -o /dev/null -w '%{http_code}\\n' http://DOMAIN/ready": CLOUD,
    "curl -sS https://DOMAIN/ready": CLOUD,
    "curl -sS https://DOMAIN/_rollout/serving/europe-west4/ready": CLOUD,
    "pulumi stack output regionUrls --stack prod": CLOUD,
    "make bench URL=https://DOMAIN": CLOUD,
    # bench/README.md: a deployment, or the user's own payloads
    "make bench URL=https://qa-dev-xxxx.a.run.app": CLOUD,
    ".venv/bin/python -m bench load https://qa-dev-xxxx.a.run.app --rps 5 --duration 2m --out bench/out/dev": CLOUD,
    ".venv/bin/python -m bench load https://qa-dev-xxxx.a.run.app --concurrency 8 --duration 60 --max-requests 2000": CLOUD,
    ".venv/bin/python -m bench cost dev --rps 5 --from-report bench/out/dev/report.json": CLOUD,
    ".venv/bin/python -m bench load $URL --rps 20 --duration 60 --payload my-questions.jsonl --arrivals poisson": USER,
    # docs/gpu.md
    ".venv/bin/pip install --force-reinstall --no-deps --index-url https://download.pytorch.org/whl/cu126 torch==2.13.0": GPU,
    ".venv/bin/python -m bench gpu --out bench/out/gpu": GPU,
    # the image: docs/image.md, README.md, service/README.md
    "make image": CONTAINER,
    "make image RUNTIME=onnx PRECISION=int8": CONTAINER,
    "make image MODEL_SOURCE=path/to/checkpoint": CONTAINER,
    "make image MODEL_SOURCE=org/model MODEL_REVISION=<commit sha> IMAGE=qa:mine": CONTAINER,
    "make image BUILD_ARGS='PYTHON_IMAGE=... TORCH_INDEX=...'": CONTAINER,
    "make image-test": CONTAINER,
    "bench/image_bench.sh 5": CONTAINER,
    "docker build service/ -t qa \\\n  --build-arg MODEL_ID=distilbert/distilbert-base-cased-distilled-squad \\\n"
    "  --build-arg MODEL_REVISION=564e9b582944a57a3e586bbb98fd6f0a4118db7f \\\n"
    "  --build-arg RUNTIME=onnx --build-arg PRECISION=int8": CONTAINER,
    "docker run -p 8080:8080 -e PORT=8080 qa": CONTAINER,
    # service/README.md
    "python3 -m venv /tmp/tf4 && /tmp/tf4/bin/pip install torch==2.13.0 'transformers<5'": NETWORK,
    "/tmp/tf4/bin/python tests/service/qa/make_golden.py --project-python .venv/bin/python": NETWORK,
    ".venv/bin/python -m service.bake --source distilbert/distilbert-base-cased-distilled-squad \\\n"
    "    --revision 564e9b582944a57a3e586bbb98fd6f0a4118db7f --out models/qa": NETWORK,
    ".venv/bin/python -m service.bake --source ./my-checkpoint --out models/qa --precision int8": USER,
    ".venv/bin/python -m service.bake --source ./my-checkpoint --out models/qa --precision int8 --accuracy-data builtin": USER,
    ".venv/bin/python -m service.bake --source ./my-checkpoint --out models/qa-torch --runtime torch": USER,
}


def why_not_run(command: Command) -> str | None:
    """The NOT_RUN reason of `command`: an entry for this doc's command (`DOC: COMMAND`), else any doc's."""
    return NOT_RUN.get(f"{command.doc}: {key(command)}", NOT_RUN.get(key(command)))


def runnable(commands: list[Command]) -> list[Command]:
    return [c for c in commands if why_not_run(c) is None]
