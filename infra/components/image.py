"""The model image: built locally with Docker, built remotely with Cloud Build, or given.

Whichever way, the service deploys the image by **digest**: a new revision rolls out exactly
when the image changed, and a re-pushed tag can never change what runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_command as command
import pulumi_docker as docker
import pulumi_gcp as gcp

from infra.components import child_options, type_token
from infra.limits import BUILDERS
from infra.regions import artifact_registry_host

PLATFORM = "linux/amd64"  # Cloud Run and GKE nodes run amd64; an Arm laptop must cross-build
CLOUDBUILD_CONFIG = "infra/cloudbuild.yaml"  # relative to the project directory
_SKIP_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".venv"}


@dataclass(frozen=True)
class ModelImageArgs:
    project: pulumi.Input[str]
    region: pulumi.Input[str]
    repository_url: pulumi.Input[str]  # REGION-docker.pkg.dev/PROJECT/REPO
    image_name: str
    root: Path  # the project directory, which Pulumi runs the program in
    context: str  # build context, relative to root (relative keeps renders machine-independent)
    dockerfile: str
    build_args: Mapping[str, str] = field(default_factory=dict)
    builder: str = "docker"
    prebuilt: str = ""  # deploy this reference instead of building


def source_fingerprint(context: Path, build_args: Mapping[str, str]) -> str:
    """A short hash of the build context and build args: the image tag, and the Cloud Build
    trigger, so unchanged sources and model pins never rebuild."""
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        relative = path.relative_to(context)
        if _SKIP_PARTS.intersection(relative.parts) or path.suffix == ".pyc":
            continue
        digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for key, value in sorted(build_args.items()):
        digest.update(f"{key}={value}\0".encode())
    return digest.hexdigest()[:16]


def registry_host(reference: str) -> str:
    return reference.split("/", 1)[0]


def token_registry(reference: str) -> str:
    """The host that may receive the deployer's Google access token for `reference`: its
    Artifact Registry host (LOCATION-docker.pkg.dev), never any other registry."""
    host = artifact_registry_host(reference)
    if host is None:
        raise ValueError(f"{registry_host(reference)} is not Artifact Registry: no Google token for it")
    return host


def is_digest_reference(reference: str) -> bool:
    return "@sha256:" in reference


def cloudbuild_script(
    image: str, context: str, build_args: Mapping[str, str], project: str, region: str
) -> str:
    """Shell for `command.local.Command`: submit the build, print the pushed image's digest."""
    substitutions = ",".join(
        [f"_IMAGE={image}"] + [f"_{key}={value}" for key, value in sorted(build_args.items())]
    )
    return (
        "set -euo pipefail\n"
        f"gcloud builds submit {context} --project={project} --region={region} "
        f"--config={CLOUDBUILD_CONFIG} --substitutions='{substitutions}' --quiet 1>&2\n"
        f"gcloud artifacts docker images describe '{image}' --project={project} "
        "--format='value(image_summary.digest)'\n"
    )


class ModelImage(pulumi.ComponentResource):
    """`ref` is the image to deploy, always `…@sha256:…`."""

    ref: pulumi.Output[str]

    def __init__(self, name: str, args: ModelImageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token("ModelImage"), name, None, opts)
        child = child_options(self, opts)
        if args.prebuilt:
            self.ref = self._prebuilt(name, args.prebuilt, child)
        elif args.builder == "cloudbuild":
            self.ref = self._cloud_build(name, args, child)
        elif args.builder == "docker":
            self.ref = self._docker_build(name, args, child)
        else:
            raise ValueError(f"builder {args.builder!r}: use one of {', '.join(BUILDERS)}")
        self.register_outputs({"ref": self.ref})

    @staticmethod
    def _tagged_name(args: ModelImageArgs) -> pulumi.Output[str]:
        tag = source_fingerprint(args.root / args.context, args.build_args)
        return pulumi.Output.concat(args.repository_url, "/", args.image_name, ":", tag)

    def _docker_build(
        self, name: str, args: ModelImageArgs, opts: pulumi.ResourceOptions
    ) -> pulumi.Output[str]:
        # A short-lived OAuth token of whoever runs `pulumi up`; secret so it never lands in
        # state or logs in clear text.
        token = gcp.organizations.get_client_config_output().access_token
        image = docker.Image(
            f"{name}-build",
            image_name=self._tagged_name(args),
            build=docker.DockerBuildArgs(
                context=args.context,
                dockerfile=args.dockerfile,
                platform=PLATFORM,
                args=dict(args.build_args),
            ),
            registry=docker.RegistryArgs(
                server=pulumi.Output.from_input(args.repository_url).apply(token_registry),
                username="oauth2accesstoken",
                password=pulumi.Output.secret(token),
            ),
            opts=opts,
        )
        return image.repo_digest

    def _cloud_build(
        self, name: str, args: ModelImageArgs, opts: pulumi.ResourceOptions
    ) -> pulumi.Output[str]:
        image = self._tagged_name(args)
        build = command.local.Command(
            f"{name}-cloudbuild",
            create=pulumi.Output.all(image, args.project, args.region).apply(
                lambda v: cloudbuild_script(v[0], args.context, args.build_args, v[1], v[2])
            ),
            interpreter=["/bin/bash", "-c"],
            triggers=[source_fingerprint(args.root / args.context, args.build_args)],
            opts=opts,
        )
        return pulumi.Output.all(image, build.stdout).apply(
            lambda v: f"{v[0].rsplit(':', 1)[0]}@{v[1].strip()}"
        )

    def _prebuilt(self, name: str, reference: str, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
        if is_digest_reference(reference):
            return pulumi.Output.from_input(reference)
        # A tag: resolve it to the digest it points at now, so the service pins that image. Only
        # Artifact Registry gets the deployer's Google token; any other registry is asked
        # anonymously (the settings refuse such images; this holds even when they are bypassed).
        provider = None
        if artifact_registry_host(reference):
            provider = docker.Provider(
                f"{name}-registry",
                registry_auth=[
                    docker.ProviderRegistryAuthArgs(
                        address=token_registry(reference),
                        username="oauth2accesstoken",
                        password=pulumi.Output.secret(
                            gcp.organizations.get_client_config_output().access_token
                        ),
                    )
                ],
                opts=opts,
            )
        found = docker.get_registry_image_output(
            name=reference, opts=pulumi.InvokeOutputOptions(provider=provider, parent=self)
        )
        repository = (
            reference.rsplit(":", 1)[0] if ":" in reference.rsplit("/", maxsplit=1)[-1] else reference
        )
        return found.sha256_digest.apply(lambda digest: f"{repository}@{digest}")
