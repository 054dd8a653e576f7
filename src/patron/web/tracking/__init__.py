"""The Segment-compatible tracking API at /v1."""

from patron.web.tracking.guards import PlanCache, RateLimiter, TrackingCors, WriteKeys
from patron.web.tracking.routes import router

__all__ = ["PlanCache", "RateLimiter", "TrackingCors", "WriteKeys", "router"]
