"""Profiles made ready: each profile's router (shipped or from ``router_artifact``) and threshold.

A router is built once per (router, artifact folder) and shared by the profiles that name
it. ``build_profiles`` runs at start-up and again on a reload (``POST
/admin/routers/reload`` or SIGHUP); errors are ``ConfigError`` naming the profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gateway.request.pipeline import ProfileRoute
from gateway.settings import ConfigError, Settings
from policies.types import ProfileView
from routers.base import Router
from routers.registry import RouterOptions, UnknownRouter, build_router


def build_routers(settings: Settings) -> dict[str, Router]:
    """Profile name → its router."""
    built: dict[tuple[str, str | None], Router] = {}
    routers: dict[str, Router] = {}
    for name, profile in settings.profiles.items():
        key = (profile.router, profile.router_artifact)
        if key not in built:
            options = RouterOptions(folder=Path(profile.router_artifact) if profile.router_artifact else None)
            field = "router_artifact" if profile.router_artifact else "router"
            try:
                built[key] = build_router(profile.router, options)
            except UnknownRouter as exc:
                raise ConfigError(f"profiles.{name}.router: {exc}") from None
            except (OSError, ValueError, KeyError) as exc:
                raise ConfigError(
                    f"profiles.{name}.{field}: cannot load router {profile.router!r}: {type(exc).__name__}: {exc}"
                ) from None
        routers[name] = built[key]
    return routers


def build_profiles(settings: Settings, routers: Mapping[str, Router]) -> dict[str, ProfileRoute]:
    """Each profile's view: its rungs and their thresholds, calibrated on its router's scores.

    A ``ladder`` cuts the router's score into one band per rung, each rung getting its share of
    the calibration prompts; ``cheap_tier``/``frontier_tier``/``frontier_share`` is the two-rung case.
    """
    profiles: dict[str, ProfileRoute] = {}
    for name, profile in settings.profiles.items():
        router = routers[name]
        ladder = profile.ladder or ()
        shares = tuple(rung.share for rung in ladder)
        bounds = router.calibration.band_thresholds(shares) if ladder else ()
        view = ProfileView(
            name,
            profile.cheap_tier,
            profile.frontier_tier,
            bounds[-1] if bounds else router.calibration.threshold_for_share(profile.frontier_share),
            frontier_share=profile.frontier_share,
            calibration=router.calibration,
            over_budget=profile.over_budget,
            ladder=tuple(rung.tier for rung in ladder),
            shares=shares,
            bounds=bounds,
        )
        profiles[name] = ProfileRoute(view, router)
    return profiles
