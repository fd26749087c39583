"""The ids of what the default seed (``state/seed_default.yaml``) publishes, named once.

Tests, tools and benchmarks refer to the seeded pipelines and endpoints through these names; a test
checks them against the seed file, so the two cannot drift apart.
"""

from __future__ import annotations

#: Training pipeline, version 0 (parameter ``avg_rate``).
TRAINING_V1 = "3f6c1d2e-8a4b-4c5d-9e7f-0a1b2c3d4e01"
#: Training pipeline, version 1 (adds ``epochs``).
TRAINING_V2 = "3f6c1d2e-8a4b-4c5d-9e7f-0a1b2c3d4e02"
#: Batch scoring pipeline (a prep step, then a ParallelRunStep).
SCORING = "3f6c1d2e-8a4b-4c5d-9e7f-0a1b2c3d4e03"
#: ``training-endpoint``: versions TRAINING_V1 and TRAINING_V2, the latter the default.
TRAINING_ENDPOINT = "9d4e2b7a-1c3f-4a5b-8c6d-7e8f9a0b1c01"
#: ``batch-scoring-endpoint``: SCORING.
SCORING_ENDPOINT = "9d4e2b7a-1c3f-4a5b-8c6d-7e8f9a0b1c02"
