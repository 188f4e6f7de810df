"""One global external Application Load Balancer in front of a Cloud Run service per region."""

from infra.components.front_door.component import GlobalFrontDoor, GlobalFrontDoorArgs, RegionBackend

__all__ = ["GlobalFrontDoor", "GlobalFrontDoorArgs", "RegionBackend"]
