"""Observability: health checks, Prometheus metrics and alerts for the IT staff who run the bridge.

``health`` answers "is it working?" (``piis-bridge health``, ``/healthz``, ``/readyz``), ``metrics``
"how is it doing?" (``piis-bridge monitor serve``, Prometheus), ``alerts`` "tell me when it is not"
(e-mail and webhook, capped, with a daily digest).  All three read the application database, the one
source of truth shared by every process; none carries personal data.  docs/operations.md explains them.
"""
